// results.csv and metrics.jsonl written and read back; an Ultralytics results.csv reads too.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <unistd.h>

#include "catch.h"
#include "loggers/records.h"

namespace fs = std::filesystem;
using namespace yolo::loggers;

namespace {

fs::path fresh_dir(const std::string& name) { return yolo::test::fresh_dir("records_" + name); }

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

EpochRecord record(int64_t epoch, double loss, double map) {
  return {epoch, {{"time", 12.5 * epoch}, {"train/box_loss", loss}, {"metrics/mAP50(B)", map}, {"lr/pg0", 0.000714}}};
}

}  // namespace

TEST_CASE("results.csv rows are written with Ultralytics' header and number format", "[loggers][records]") {
  const auto dir = fresh_dir("csv");
  const auto path = (dir / "results.csv").string();
  append_results_csv(path, record(1, 1.2345678, 0.1));
  append_results_csv(path, record(2, 1.0, 0.25));
  CHECK(read_text(path) ==
        "epoch,time,train/box_loss,metrics/mAP50(B),lr/pg0\n"
        "1,12.5,1.23457,0.1,0.000714\n"
        "2,25,1,0.25,0.000714\n");
  const auto rows = read_results_csv(path);
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].epoch == 2);
  CHECK(rows[0].get("train/box_loss") == Approx(1.23457));
  CHECK(rows[1].values.size() == 4);
  CHECK_FALSE(rows[0].get("missing").has_value());

  // Another set of columns in the same file is refused with both headers named.
  EpochRecord other{3, {{"time", 1}, {"train/loss", 0.5}}};
  CHECK_THAT(yolo::test::error_of([&] { append_results_csv(path, other); }),
             Catch::Matchers::ContainsSubstring("train/loss"));
  fs::remove_all(dir);
}

TEST_CASE("read_results_csv reads Ultralytics' results.csv and reports bad rows", "[loggers][records]") {
  const auto rows = read_results_csv(yolo::test::data_path("plots/results.csv"));  // yolo11n, 30 epochs
  REQUIRE(rows.size() == 30);
  CHECK(rows.front().epoch == 1);
  CHECK(rows.back().epoch == 30);
  CHECK(rows.front().values.size() == 14);
  CHECK(rows.front().values[1].first == "train/box_loss");
  CHECK(rows.front().get("train/box_loss") == Approx(4.6251));

  const auto dir = fresh_dir("bad");
  std::ofstream(dir / "short.csv") << "epoch,time,x\n1,2\n";
  CHECK_THAT(yolo::test::error_of([&] { read_results_csv((dir / "short.csv").string()); }),
             Catch::Matchers::ContainsSubstring("short.csv:2: 2 values for 3 columns"));
  std::ofstream(dir / "text.csv") << "epoch,time\n1,abc\n";
  CHECK_THAT(yolo::test::error_of([&] { read_results_csv((dir / "text.csv").string()); }),
             Catch::Matchers::ContainsSubstring("column 'time' holds 'abc'"));
  CHECK_THAT(yolo::test::error_of([&] { read_results_csv((dir / "none.csv").string()); }),
             Catch::Matchers::ContainsSubstring("no such file"));
  fs::remove_all(dir);
}

TEST_CASE("metrics.jsonl holds one JSON object per epoch that reads back", "[loggers][records]") {
  const auto dir = fresh_dir("jsonl");
  const auto path = (dir / "metrics.jsonl").string();
  append_metrics_jsonl(path, record(1, 1.2345678, 0.1));
  auto second = record(2, std::numeric_limits<double>::quiet_NaN(), 0.25);
  second.values.emplace_back("note \"quoted\"", 3);
  append_metrics_jsonl(path, second);
  std::istringstream lines(read_text(path));
  std::string first_line;
  std::getline(lines, first_line);
  CHECK(first_line ==
        R"x({"epoch": 1, "time": 12.5, "train/box_loss": 1.2345678, "metrics/mAP50(B)": 0.1, "lr/pg0": 0.000714})x");

  const auto rows = read_metrics_jsonl(path);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].epoch == 1);
  CHECK(rows[0].values == record(1, 1.2345678, 0.1).values);  // full precision, same order
  CHECK(std::isnan(*rows[1].get("train/box_loss")));          // NaN was written as null
  CHECK(rows[1].get("note \"quoted\"") == 3.0);

  std::ofstream(path, std::ios::app) << "{\"time\": 1}\n";
  CHECK_THAT(yolo::test::error_of([&] { read_metrics_jsonl(path); }),
             Catch::Matchers::ContainsSubstring("metrics.jsonl:3: expected a JSON object with an \"epoch\" key"));
  fs::remove_all(dir);
}
