// Each augmentation's geometry: a filled rectangle of a unique colour is followed through the
// transform, and the pixels' bounds must match the transformed label box.
#include "data/augment.h"

#include <filesystem>

#include "catch.h"
#include "data/dataset.h"
#include "fixtures.h"

using namespace yolo::data;
using yolo::test::colour_bounds;

namespace {

const cv::Scalar kRed(0, 0, 255), kGreen(0, 255, 0), kBlue(255, 0, 0), kYellow(0, 255, 255);

Instances image_with_box(int w, int h, cv::Rect r, cv::Scalar colour, int64_t cls = 0) {
  Instances x;
  x.image = yolo::test::grey_image(w, h);
  cv::rectangle(x.image, r, colour, cv::FILLED);
  x.cls = {cls};
  x.boxes = {{static_cast<float>(r.x), static_cast<float>(r.y), static_cast<float>(r.x + r.width),
              static_cast<float>(r.y + r.height)}};
  return x;
}

void check_box_follows_pixels(const Instances& x, size_t k, cv::Scalar colour, float tol = 2.5f) {
  const auto found = colour_bounds(x.image, colour);
  REQUIRE(found);
  INFO("label " << x.boxes[k][0] << "," << x.boxes[k][1] << "," << x.boxes[k][2] << "," << x.boxes[k][3] << " pixels "
                << (*found)[0] << "," << (*found)[1] << "," << (*found)[2] << "," << (*found)[3]);
  for (int c = 0; c < 4; ++c) CHECK(std::abs(x.boxes[k][c] - (*found)[c]) <= tol);
}

}  // namespace

TEST_CASE("augment: flips move boxes with the pixels", "[data]") {
  Rng rng(1);
  auto x = image_with_box(200, 100, {20, 10, 50, 30}, kRed);
  random_flip(x, /*horizontal=*/true, 1.0, rng);
  CHECK(x.boxes[0] == std::array<float, 4>{130, 10, 180, 40});
  check_box_follows_pixels(x, 0, kRed, 0.0f);
  random_flip(x, /*horizontal=*/false, 1.0, rng);
  CHECK(x.boxes[0] == std::array<float, 4>{130, 60, 180, 90});
  check_box_follows_pixels(x, 0, kRed, 0.0f);
  const auto before = x.boxes;
  random_flip(x, true, 0.0, rng);  // p = 0 never flips
  CHECK((x.boxes == before));
}

TEST_CASE("augment: letterbox scales and centres boxes with the pixels", "[data]") {
  auto x = image_with_box(300, 200, {30, 40, 90, 60}, kGreen);
  const auto lb = letterbox(x, {640, 640});
  CHECK(x.image.rows == 640);
  CHECK(x.image.cols == 640);
  CHECK(lb.ratio == Approx(640.0 / 300));
  CHECK(lb.pad_w == 0);
  CHECK(lb.pad_h == Approx((640 - std::nearbyint(200 * 640.0 / 300)) / 2).margin(0.5));
  check_box_follows_pixels(x, 0, kGreen);
  CHECK(x.image.at<cv::Vec3b>(0, 0) == cv::Vec3b(114, 114, 114));  // padding colour

  // No upscaling for validation; auto padding only to a stride multiple.
  auto y = image_with_box(300, 200, {30, 40, 90, 60}, kGreen);
  const auto v = letterbox(y, {640, 640}, /*scaleup=*/false);
  CHECK(v.ratio == 1.0);
  CHECK(v.pad_w == 170);
  CHECK(v.pad_h == 220);
  check_box_follows_pixels(y, 0, kGreen, 0.0f);
  const auto a = letterbox(y.image, {640, 640}, /*auto_pad=*/true, 32);
  CHECK(a.image.cols % 32 == 0);
  CHECK(a.image.rows % 32 == 0);
}

TEST_CASE("augment: perspective (degrees, scale, shear, translate, perspective) keeps boxes on the pixels", "[data]") {
  AugmentOptions hyp;
  hyp.degrees = 20, hyp.scale = 0.4, hyp.shear = 5, hyp.translate = 0.1;
  int kept = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    for (double perspective : {0.0, 0.0005}) {
      hyp.perspective = perspective;
      Rng rng(seed);
      auto x = image_with_box(320, 320, {120, 100, 60, 90}, kBlue, 3);
      random_perspective(x, hyp, 0, rng);
      CHECK(x.image.size() == cv::Size(320, 320));
      if (x.boxes.empty()) continue;  // dropped by the candidate filter: checked below
      ++kept;
      CHECK(x.cls[0] == 3);
      check_box_follows_pixels(x, 0, kBlue, 3.0f);
    }
  }
  CHECK(kept >= 30);

  // The mosaic border crops a 2s canvas to s.
  Rng rng(5);
  auto x = image_with_box(640, 640, {300, 300, 60, 40}, kBlue);
  random_perspective(x, AugmentOptions{}, -160, rng);
  CHECK(x.image.size() == cv::Size(320, 320));
}

TEST_CASE("augment: box candidates drop boxes that became tiny, thin or lost their area", "[data]") {
  CHECK(box_candidate({0, 0, 10, 10}, {0, 0, 10, 10}));
  CHECK_FALSE(box_candidate({0, 0, 10, 10}, {0, 0, 2, 10}));       // 2 px wide
  CHECK_FALSE(box_candidate({0, 0, 100, 100}, {0, 0, 20, 20}));    // 4% of the area left
  CHECK_FALSE(box_candidate({0, 0, 1100, 11}, {0, 0, 1100, 10}));  // aspect 110
}

TEST_CASE("augment: mosaic places four images around the centre with their boxes", "[data]") {
  const cv::Scalar colours[4] = {kRed, kGreen, kBlue, kYellow};
  std::array<Instances, 4> tiles;
  for (int i = 0; i < 4; ++i)
    tiles[i] = image_with_box(320 - 40 * i, 240 + 20 * i, {30 + 10 * i, 40, 80, 60 + 10 * i}, colours[i], i);
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Rng rng(seed);
    const auto m = mosaic4({&tiles[0], &tiles[1], &tiles[2], &tiles[3]}, 320, rng);
    CHECK(m.image.size() == cv::Size(640, 640));
    for (int i = 0; i < 4; ++i) {
      size_t k = 0;
      while (k < m.cls.size() && m.cls[k] != i) ++k;
      if (k == m.cls.size()) {  // cut away entirely: no such pixels either
        CHECK_FALSE(colour_bounds(m.image, colours[i], 0));
        continue;
      }
      check_box_follows_pixels(m, k, colours[i], 0.0f);
    }
  }
}

TEST_CASE("augment: HSV changes colours but not geometry, mixup blends and keeps both boxes", "[data]") {
  Rng rng(3);
  auto x = image_with_box(64, 64, {10, 10, 20, 20}, kRed);
  const cv::Mat before = x.image.clone();
  random_hsv(x.image, 0.5, 0.5, 0.5, rng);
  CHECK(x.image.size() == before.size());
  CHECK(cv::norm(x.image, before, cv::NORM_L1) > 0);
  cv::Mat same = before.clone();
  random_hsv(same, 0, 0, 0, rng);
  CHECK(cv::norm(same, before, cv::NORM_L1) == 0);

  auto a = image_with_box(64, 64, {10, 10, 20, 20}, kRed, 0);
  const auto b = image_with_box(64, 64, {30, 30, 20, 20}, kBlue, 1);
  mixup(a, b, rng);
  CHECK(a.boxes.size() == 2);
  CHECK(a.cls == std::vector<int64_t>{0, 1});
  const auto px = a.image.at<cv::Vec3b>(15, 15);
  CHECK(px[2] > 114);  // part red, part grey
  CHECK(px[2] < 255);
}

TEST_CASE("dataset: augmented samples keep boxes on the pixels through mosaic, perspective and flips", "[data]") {
  yolo::test::TempDir tmp;
  yolo::test::make_dataset(tmp.path(), 4, 4, {{200, 150}});  // image i: one box of class i, colour i
  DatasetOptions o;
  o.imgsz = 160;
  o.hyp.hsv_h = o.hyp.hsv_s = o.hyp.hsv_v = 0;  // keep the colours findable
  o.hyp.degrees = 10, o.hyp.flipud = 0.5;
  DetectionDataset ds({tmp.str("images/train")}, {"a", "b", "c", "d"}, o);
  const cv::Rect frame(0, 0, 160, 160);
  int checked = 0;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    Rng rng(seed);
    const auto s = ds.get(seed % 4, rng);
    CHECK(s.image.size() == frame.size());
    for (size_t k = 0; k < s.boxes.size(); ++k) {
      // A class seen twice came from one picture used for two tiles: its pixels are ambiguous.
      if (std::count(s.cls.begin(), s.cls.end(), s.cls[k]) != 1) continue;
      const auto& b = s.boxes[k];
      const auto c = static_cast<double>(s.cls[k]);
      const cv::Rect near = cv::Rect(cv::Point(static_cast<int>(b[0]) - 4, static_cast<int>(b[1]) - 4),
                                     cv::Point(static_cast<int>(b[2]) + 5, static_cast<int>(b[3]) + 5)) &
                            frame;
      const auto found = colour_bounds(s.image(near), cv::Scalar(40 * c, 255, 255 - 30 * c), 12);
      REQUIRE(found);
      CHECK(std::abs((*found)[0] + near.x - b[0]) <= 3);
      CHECK(std::abs((*found)[1] + near.y - b[1]) <= 3);
      CHECK(std::abs((*found)[2] + near.x - b[2]) <= 3);
      CHECK(std::abs((*found)[3] + near.y - b[3]) <= 3);
      ++checked;
    }
  }
  CHECK(checked > 10);
}

TEST_CASE("multi_scale sizes span imgsz/2 .. 1.5 imgsz in stride steps, the short side scaled alike", "[augment]") {
  int64_t smallest = 1 << 30, largest = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    yolo::data::Rng rng(7, i, 1);
    const auto hw = yolo::data::multi_scale_shape(640, 32, {640, 640}, rng);
    REQUIRE(hw[0] == hw[1]);
    REQUIRE(hw[0] % 32 == 0);
    smallest = std::min(smallest, hw[0]), largest = std::max(largest, hw[0]);
  }
  CHECK(smallest == 320);  // randrange(320, 992) // 32 * 32
  CHECK(largest == 960);
  // A rect batch: the long side takes the drawn size, the short side follows, rounded up to the stride.
  yolo::data::Rng a(1, 2, 3), b(1, 2, 3);
  const auto rect = yolo::data::multi_scale_shape(640, 32, {384, 640}, a);
  const auto square = yolo::data::multi_scale_shape(640, 32, {640, 640}, b);
  CHECK(rect[1] == square[1]);
  CHECK(rect[0] == (rect[1] * 384 / 640 + 31) / 32 * 32);
  yolo::data::Rng tiny(0, 0, 0);
  CHECK(yolo::data::multi_scale_shape(32, 32, {32, 32}, tiny)[0] >= 32);  // never a zero size
}
