#include "loss/assigner.h"

#include "catch.h"
#include "yolo/utils/error.h"

using yolo::loss::TaskAlignedAssigner;
using yolo::loss::TaskAlignedAssignerOptions;

namespace {

/// One image, two overlapping boxes on a row of anchors, two classes:
///   gt 0 = [0,0,8,4] class 0 holds anchors (2,2) and (6,2);
///   gt 1 = [4,0,16,4] class 1 holds anchors (6,2), (10,2) and (14,2); anchor (30,30) lies in neither.
/// Anchor (6,2) is a top-3 candidate of both; its prediction [2,0,8,4] overlaps gt 0 more (CIoU 0.737
/// against 0.167), so it goes to gt 0.
struct TwoBoxCase {
  torch::Tensor anchors = torch::tensor({{2.f, 2.f}, {6.f, 2.f}, {10.f, 2.f}, {14.f, 2.f}, {30.f, 30.f}});
  torch::Tensor pred_bboxes = torch::tensor({{{0.f, 0.f, 8.f, 4.f},
                                              {2.f, 0.f, 8.f, 4.f},
                                              {4.f, 0.f, 16.f, 4.f},
                                              {10.f, 0.f, 16.f, 4.f},
                                              {28.f, 28.f, 32.f, 32.f}}});
  torch::Tensor pred_scores = torch::tensor({{{0.9f, 0.1f}, {0.6f, 0.5f}, {0.2f, 0.8f}, {0.1f, 0.4f}, {0.5f, 0.5f}}});
  torch::Tensor gt_labels = torch::tensor({{{0.f}, {1.f}}});
  torch::Tensor gt_bboxes = torch::tensor({{{0.f, 0.f, 8.f, 4.f}, {4.f, 0.f, 16.f, 4.f}}});
  torch::Tensor gt_mask = torch::ones({1, 2, 1});
};

TaskAlignedAssigner make_assigner(int64_t topk) {
  TaskAlignedAssignerOptions options;
  options.num_classes = 2, options.topk = topk;
  return TaskAlignedAssigner(options);
}

}  // namespace

TEST_CASE("TaskAlignedAssigner resolves two overlapping boxes", "[loss][assigner]") {
  const TwoBoxCase c;
  const auto a = make_assigner(3)(c.pred_scores, c.pred_bboxes, c.anchors, c.gt_labels, c.gt_bboxes, c.gt_mask);

  CHECK(torch::equal(a.fg_mask, torch::tensor({{true, true, true, true, false}})));
  CHECK(torch::equal(a.gt_index.masked_select(a.fg_mask), torch::tensor({0, 0, 1, 1}, torch::kLong)));
  CHECK(torch::equal(a.labels.masked_select(a.fg_mask), torch::tensor({0, 0, 1, 1}, torch::kLong)));
  CHECK(torch::allclose(a.bboxes[0][1], c.gt_bboxes[0][0]));
  CHECK(torch::allclose(a.bboxes[0][3], c.gt_bboxes[0][1]));

  // Normalised scores: metric = score^0.5 * CIoU^6, divided by the box's best metric, times its best CIoU.
  // The predictions of anchors 0 and 2 equal their boxes (CIoU 1), so those get 1. Anchor 1:
  // sqrt(0.6) * 0.737347^6 / sqrt(0.9) = 0.131216; anchor 3: sqrt(0.4) * 0.442170^6 / sqrt(0.8) = 0.005286.
  // Ultralytics 8.3.166's TaskAlignedAssigner(topk=3, alpha=0.5, beta=6) gives 1, 0.131215, 1, 0.005286.
  const auto s = a.scores[0];
  CHECK(s[0][0].item<double>() == Approx(1.0).epsilon(1e-5));
  CHECK(s[1][0].item<double>() == Approx(0.131215423).epsilon(1e-4));
  CHECK(s[2][1].item<double>() == Approx(1.0).epsilon(1e-5));
  CHECK(s[3][1].item<double>() == Approx(0.005286052).epsilon(1e-4));
  // Only the assigned class is set, and background anchors get nothing.
  CHECK(s[0][1].item<double>() == 0.0);
  CHECK(s[1][1].item<double>() == 0.0);
  CHECK(s[3][0].item<double>() == 0.0);
  CHECK(s[4].abs().sum().item<double>() == 0.0);
}

TEST_CASE("TaskAlignedAssigner keeps only the top-k candidates of each box", "[loss][assigner]") {
  const TwoBoxCase c;
  // With k = 2, gt 1 keeps anchors 2 and 3 (metrics 0.894 and 0.0047) and drops anchor 1 (1.5e-5),
  // so anchor 1 is claimed by gt 0 alone.
  const auto a = make_assigner(2)(c.pred_scores, c.pred_bboxes, c.anchors, c.gt_labels, c.gt_bboxes, c.gt_mask);
  CHECK(torch::equal(a.fg_mask, torch::tensor({{true, true, true, true, false}})));
  CHECK(torch::equal(a.gt_index.masked_select(a.fg_mask), torch::tensor({0, 0, 1, 1}, torch::kLong)));
  // With k = 1 each box keeps its best anchor only.
  const auto b = make_assigner(1)(c.pred_scores, c.pred_bboxes, c.anchors, c.gt_labels, c.gt_bboxes, c.gt_mask);
  CHECK(torch::equal(b.fg_mask, torch::tensor({{true, false, true, false, false}})));
}

TEST_CASE("TaskAlignedAssigner handles images without boxes in a batch", "[loss][assigner]") {
  const TwoBoxCase c;
  // Image 1 repeats image 0's predictions but has no boxes: its rows are zero padding.
  const auto pred_scores = torch::cat({c.pred_scores, c.pred_scores});
  const auto pred_bboxes = torch::cat({c.pred_bboxes, c.pred_bboxes});
  const auto gt_labels = torch::cat({c.gt_labels, torch::zeros({1, 2, 1})});
  const auto gt_bboxes = torch::cat({c.gt_bboxes, torch::zeros({1, 2, 4})});
  const auto gt_mask = torch::cat({c.gt_mask, torch::zeros({1, 2, 1})});
  const auto a = make_assigner(3)(pred_scores, pred_bboxes, c.anchors, gt_labels, gt_bboxes, gt_mask);
  CHECK(torch::equal(a.fg_mask[0], torch::tensor({true, true, true, true, false})));
  CHECK(a.fg_mask[1].any().item<bool>() == false);
  CHECK(a.scores[1].abs().sum().item<double>() == 0.0);
  CHECK(a.scores[0][1][0].item<double>() == Approx(0.131215423).epsilon(1e-4));
}

TEST_CASE("TaskAlignedAssigner with no boxes in the whole batch", "[loss][assigner]") {
  const TwoBoxCase c;
  const auto a = make_assigner(10)(c.pred_scores, c.pred_bboxes, c.anchors, torch::zeros({1, 0, 1}),
                                   torch::zeros({1, 0, 4}), torch::zeros({1, 0, 1}));
  CHECK(a.fg_mask.sizes() == torch::IntArrayRef({1, 5}));
  CHECK(a.fg_mask.any().item<bool>() == false);
  CHECK(a.scores.sizes() == torch::IntArrayRef({1, 5, 2}));
  CHECK(a.scores.abs().sum().item<double>() == 0.0);
}

TEST_CASE("TaskAlignedAssigner validates its options", "[loss][assigner]") {
  TaskAlignedAssignerOptions options;
  options.topk = 0;
  CHECK_THROWS_AS(TaskAlignedAssigner(options), yolo::Error);
}
