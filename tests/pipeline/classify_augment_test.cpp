// Ultralytics' classification transforms against torchvision 0.14 / Pillow 9.4 applying them to PIL
// images (tests/data/classify/make_fixtures.py wrote the reference PNGs).
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "catch.h"
#include "data/classify_augment.h"

namespace {

cv::Mat rgb_fixture(const std::string& name) {
  cv::Mat bgr = cv::imread(yolo::test::data_path("classify/" + name + ".png"), cv::IMREAD_COLOR);
  REQUIRE_FALSE(bgr.empty());
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

/// Largest and mean absolute difference of two 8-bit images of one size.
std::pair<double, double> difference(const cv::Mat& a, const cv::Mat& b) {
  REQUIRE(a.size() == b.size());
  REQUIRE(a.type() == b.type());
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  double largest = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &largest);
  const auto mean = cv::mean(diff);
  return {largest, (mean[0] + mean[1] + mean[2]) / 3};
}

}  // namespace

TEST_CASE("PIL's bilinear resize and the eval transform are reproduced exactly", "[data][classify]") {
  const auto input = rgb_fixture("input"), portrait = rgb_fixture("portrait");
  // Shrinking antialiases (support widened by the scale), enlarging interpolates: both in PIL's fixed point.
  CHECK(difference(yolo::data::pil_resize_bilinear(input, 13, 9), rgb_fixture("resize_13x9")).first == 0);
  CHECK(difference(yolo::data::pil_resize_bilinear(input, 90, 50), rgb_fixture("resize_90x50")).first == 0);
  // Resize(size) on the shorter side, then CenterCrop(size).
  CHECK(difference(yolo::data::classify_eval_transform(input, 16), rgb_fixture("eval_16")).first == 0);
  CHECK(difference(yolo::data::classify_eval_transform(input, 64), rgb_fixture("eval_64")).first == 0);
  CHECK(difference(yolo::data::classify_eval_transform(portrait, 20), rgb_fixture("eval_20_portrait")).first == 0);
  // An image already at the size is left as it is (PIL returns a copy).
  CHECK(difference(yolo::data::classify_eval_transform(yolo::data::classify_eval_transform(input, 16), 16),
                   rgb_fixture("eval_16")).first == 0);
}

TEST_CASE("colour operations equal torchvision's on PIL images", "[data][classify]") {
  using namespace yolo::data;
  const auto input = rgb_fixture("input");
  const std::vector<std::pair<std::string, cv::Mat>> cases{
      {"brightness_1.3", adjust_brightness(input, 1.3)}, {"brightness_0.4", adjust_brightness(input, 0.4)},
      {"contrast_0.6", adjust_contrast(input, 0.6)},     {"contrast_1.7", adjust_contrast(input, 1.7)},
      {"saturation_1.5", adjust_saturation(input, 1.5)}, {"sharpness_1.8", adjust_sharpness(input, 1.8)},
      {"hue_0.2", adjust_hue(input, 0.2)},               {"hue_-0.3", adjust_hue(input, -0.3)},
      {"posterize_5", posterize(input, 5)},              {"solarize_178.5", solarize(input, 178.5)},
      {"autocontrast", autocontrast(input)},             {"equalize", equalize(input)},
      {"invert", invert(input)}};
  for (const auto& [name, ours] : cases) {
    INFO(name);
    const auto [largest, mean] = difference(ours, rgb_fixture(name));
    CHECK(largest <= 1);  // float rounding of a blend may land one level apart
    CHECK(mean < 0.02);
  }
}

TEST_CASE("geometric operations follow torchvision's affine on PIL images", "[data][classify]") {
  const auto input = rgb_fixture("input");
  const std::vector<std::tuple<std::string, std::string, double>> cases{
      {"rotate_9", "Rotate", 9.0},           {"shearx_0.09", "ShearX", 0.09},         {"sheary_-0.2", "ShearY", -0.2},
      {"translatex_5", "TranslateX", 5.0}, {"translatey_-7", "TranslateY", -7.0}};
  for (const auto& [name, op, magnitude] : cases) {
    INFO(name);
    const auto [largest, mean] = difference(yolo::data::apply_augment_op(input, op, magnitude), rgb_fixture(name));
    CHECK(largest <= 1);  // the sample positions' last bits
    CHECK(mean < 0.02);
  }
}
