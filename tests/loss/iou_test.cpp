#include "loss/iou.h"

#include <cmath>

#include "catch.h"
#include "yolo/utils/error.h"

using yolo::loss::bbox_iou;
using yolo::loss::IouType;

namespace {
// Pairs: overlapping squares, crossed 4x2/2x4 rectangles, identical boxes, disjoint boxes.
torch::Tensor first_boxes() {
  return torch::tensor({{0.f, 0.f, 2.f, 2.f}, {0.f, 0.f, 4.f, 2.f}, {0.f, 0.f, 2.f, 2.f}, {0.f, 0.f, 8.f, 4.f}});
}
torch::Tensor second_boxes() {
  return torch::tensor({{1.f, 1.f, 3.f, 3.f}, {0.f, 0.f, 2.f, 4.f}, {0.f, 0.f, 2.f, 2.f}, {10.f, 0.f, 16.f, 4.f}});
}

void check_values(const torch::Tensor& got, const std::vector<double>& expected) {
  REQUIRE(got.sizes() == torch::IntArrayRef({static_cast<int64_t>(expected.size()), 1}));
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("pair " << i);
    CHECK(got[i][0].item<double>() == Approx(expected[i]).epsilon(1e-5).margin(1e-6));
  }
}
}  // namespace

TEST_CASE("bbox_iou gives the hand-computed IoU family values", "[loss][iou]") {
  const auto a = first_boxes(), b = second_boxes();
  // IoU: 1/7; 4/12; 1; 0.
  check_values(bbox_iou(a, b, IouType::IoU), {1.0 / 7, 1.0 / 3, 1.0, 0.0});
  // GIoU = IoU - (enclosing - union) / enclosing: 1/7 - 2/9; 1/3 - 4/16; 1; -(64 - 56)/64.
  check_values(bbox_iou(a, b, IouType::GIoU), {1.0 / 7 - 2.0 / 9, 1.0 / 3 - 0.25, 1.0, -0.125});
  // DIoU = IoU - centre distance^2 / enclosing diagonal^2: 1/7 - 2/18; 1/3 - 2/32; 1; -81/272.
  check_values(bbox_iou(a, b, IouType::DIoU), {1.0 / 7 - 1.0 / 9, 1.0 / 3 - 1.0 / 16, 1.0, -81.0 / 272});
  // CIoU = DIoU - v * alpha, v = 4/pi^2 (atan(w2/h2) - atan(w1/h1))^2, alpha = v / (v - IoU + 1).
  const auto ciou = [](double iou, double diou, double w1, double h1, double w2, double h2) {
    const double v = 4 / (M_PI * M_PI) * std::pow(std::atan(w2 / h2) - std::atan(w1 / h1), 2);
    return diou - v * v / (v - iou + 1);
  };
  // The crossed rectangles give 0.2370817 and the disjoint pair -0.2978331; Ultralytics 8.3.166's
  // bbox_iou(xywh=False, CIoU=True) prints the same four values.
  check_values(bbox_iou(a, b, IouType::CIoU), {1.0 / 7 - 1.0 / 9, ciou(1.0 / 3, 1.0 / 3 - 1.0 / 16, 4, 2, 2, 4), 1.0,
                                               ciou(0, -81.0 / 272, 8, 4, 6, 4)});
  CHECK(bbox_iou(a, b, IouType::CIoU)[1][0].item<double>() == Approx(0.23708168).epsilon(1e-6));
  CHECK(bbox_iou(a, b, IouType::CIoU)[3][0].item<double>() == Approx(-0.29783314).epsilon(1e-6));
}

TEST_CASE("bbox_iou broadcasts one box against many", "[loss][iou]") {
  const auto one = torch::tensor({0.f, 0.f, 2.f, 2.f}).view({1, 4});
  const auto iou = bbox_iou(one, torch::tensor({{1.f, 1.f, 3.f, 3.f}, {0.f, 0.f, 2.f, 2.f}}), IouType::IoU);
  REQUIRE(iou.sizes() == torch::IntArrayRef({2, 1}));
  CHECK(iou[0][0].item<double>() == Approx(1.0 / 7).epsilon(1e-5));
}

TEST_CASE("CIoU has finite gradients, also for degenerate boxes", "[loss][iou]") {
  auto pred = torch::tensor({{0.5f, 0.5f, 2.5f, 1.5f}, {3.f, 3.f, 3.f, 3.f}}).requires_grad_(true);
  const auto target = torch::tensor({{0.f, 0.f, 2.f, 2.f}, {2.f, 2.f, 4.f, 4.f}});
  (1 - bbox_iou(pred, target, IouType::CIoU)).sum().backward();
  CHECK(torch::isfinite(pred.grad()).all().item<bool>());
  CHECK(pred.grad().abs().sum().item<double>() > 0);
}

TEST_CASE("bbox_iou rejects boxes that do not end in 4 coordinates", "[loss][iou]") {
  CHECK_THROWS_AS(bbox_iou(torch::zeros({2, 3}), torch::zeros({2, 4})), yolo::Error);
}
