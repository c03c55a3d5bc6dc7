#include "catch.h"
#include "utils/suggest.h"

TEST_CASE("did_you_mean finds near misses and stays quiet otherwise", "[utils]") {
  const std::vector<std::string> keys{"epochs", "imgsz", "lr0", "lrf", "batch", "data"};
  CHECK(yolo::closest_matches("epoch", keys).front() == "epochs");
  CHECK(yolo::closest_matches("imgsize", keys).front() == "imgsz");
  const auto lr = yolo::closest_matches("lr", keys);
  CHECK(std::find(lr.begin(), lr.end(), "lr0") != lr.end());
  CHECK(yolo::did_you_mean("zzzzzz", keys).empty());
  CHECK(yolo::did_you_mean("bach", keys) == " Did you mean 'batch'?");
}
