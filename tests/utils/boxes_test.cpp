#include "catch.h"
#include "utils/boxes.h"

TEST_CASE("xywh and xyxy convert into each other", "[utils][boxes]") {
  auto xywh = torch::tensor({{10.f, 20.f, 4.f, 6.f}});
  auto xyxy = yolo::boxes::xywh2xyxy(xywh);
  CHECK(torch::allclose(xyxy, torch::tensor({{8.f, 17.f, 12.f, 23.f}})));
  CHECK(torch::allclose(yolo::boxes::xyxy2xywh(xyxy), xywh));
}

TEST_CASE("box_iou on hand-computed pairs", "[utils][boxes]") {
  auto a = torch::tensor({{0.f, 0.f, 2.f, 2.f}});
  auto b = torch::tensor({{1.f, 1.f, 3.f, 3.f}, {0.f, 0.f, 2.f, 2.f}, {5.f, 5.f, 6.f, 6.f}});
  auto iou = yolo::boxes::box_iou(a, b);
  REQUIRE(iou.sizes() == torch::IntArrayRef({1, 3}));
  CHECK(iou[0][0].item<float>() == Approx(1.0 / 7.0).epsilon(1e-5));
  CHECK(iou[0][1].item<float>() == Approx(1.0).epsilon(1e-5));
  CHECK(iou[0][2].item<float>() == Approx(0.0).margin(1e-7));
}

TEST_CASE("make_anchors puts points at cell centres with their stride", "[utils][boxes]") {
  std::vector<torch::Tensor> feats{torch::zeros({1, 1, 2, 3}), torch::zeros({1, 1, 1, 1})};
  auto [points, strides] = yolo::boxes::make_anchors(feats, {8.0, 16.0});
  REQUIRE(points.size(0) == 7);
  CHECK(torch::allclose(points[0], torch::tensor({0.5f, 0.5f})));
  CHECK(torch::allclose(points[2], torch::tensor({2.5f, 0.5f})));
  CHECK(torch::allclose(points[3], torch::tensor({0.5f, 1.5f})));
  CHECK(strides[6].item<float>() == 16.f);
}

TEST_CASE("dist2bbox inverts bbox2dist", "[utils][boxes]") {
  auto anchors = torch::tensor({{5.f, 5.f}});
  auto box = torch::tensor({{3.f, 2.f, 7.f, 9.f}});
  auto dist = yolo::boxes::bbox2dist(anchors, box, 16);
  CHECK(torch::allclose(dist, torch::tensor({{2.f, 3.f, 2.f, 4.f}})));
  CHECK(torch::allclose(yolo::boxes::dist2bbox(dist, anchors, false), box));
}
