#include "loss/bbox_loss.h"

#include <cmath>

#include "catch.h"
#include "yolo/utils/error.h"

TEST_CASE("distribution_focal_loss on known distributions", "[loss][dfl]") {
  using yolo::loss::distribution_focal_loss;
  SECTION("uniform logits cost log(reg_max) whatever the target") {
    const auto logits = torch::zeros({1, 4, 16});
    const auto target = torch::tensor({{0.f, 2.3f, 7.5f, 14.99f}});
    const auto loss = distribution_focal_loss(logits, target);
    REQUIRE(loss.sizes() == torch::IntArrayRef({1, 1}));
    CHECK(loss.item<double>() == Approx(std::log(16.0)).epsilon(1e-6));
  }
  SECTION("a target between two bins weighs their cross-entropies by its distance to each") {
    // p(2) = 0.5, p(3) = 0.25, the other 14 bins share 0.25. Target 2.3: 0.7 * -ln 0.5 + 0.3 * -ln 0.25.
    auto probs = torch::full({16}, 0.25 / 14);
    probs[2] = 0.5, probs[3] = 0.25;
    const auto logits = probs.log().view({1, 1, 16}).expand({1, 4, 16});
    const auto loss = distribution_focal_loss(logits, torch::full({1, 4}, 2.3f));
    CHECK(loss.item<double>() == Approx(0.7 * std::log(2.0) + 0.3 * std::log(4.0)).epsilon(1e-5));
  }
  SECTION("targets beyond the last bin are clamped to reg_max - 1.01") {
    // Clamped to 14.99: 0.01 * -ln p(14) + 0.99 * -ln p(15), with p(14) = 0.2, p(15) = 0.6.
    auto probs = torch::full({16}, 0.2 / 14);
    probs[14] = 0.2, probs[15] = 0.6;
    const auto logits = probs.log().view({1, 1, 16}).expand({1, 4, 16});
    const auto loss = distribution_focal_loss(logits, torch::full({1, 4}, 40.f));
    CHECK(loss.item<double>() == Approx(-0.01 * std::log(0.2) - 0.99 * std::log(0.6)).epsilon(1e-4));
  }
}

TEST_CASE("BboxLoss weighs fg anchors by their target scores", "[loss][dfl]") {
  // Anchor 0 is fg with target score 0.5; anchor 1 is background and must not count.
  // Its prediction [0,0,2,4] against the target [0,0,4,2] has CIoU 0.2370817 (see iou_test.cpp).
  const auto pred_bboxes = torch::tensor({{{0.f, 0.f, 2.f, 4.f}, {9.f, 9.f, 9.5f, 9.5f}}});
  const auto target_bboxes = torch::tensor({{{0.f, 0.f, 4.f, 2.f}, {0.f, 0.f, 1.f, 1.f}}});
  const auto anchor_points = torch::tensor({{2.f, 1.f}, {5.f, 5.f}});
  const auto target_scores = torch::tensor({{{0.5f, 0.f}, {0.f, 0.f}}});
  const auto fg_mask = torch::tensor({{true, false}});
  const auto target_scores_sum = torch::tensor(2.f);
  auto pred_dist = torch::zeros({1, 2, 64}).requires_grad_(true);  // uniform over 16 bins: DFL = ln 16 per side

  const auto result = yolo::loss::BboxLoss(16)(pred_dist, pred_bboxes, anchor_points, target_bboxes, target_scores,
                                               target_scores_sum, fg_mask);
  CHECK(result.box.item<double>() == Approx((1 - 0.23708168) * 0.5 / 2).epsilon(1e-5));
  CHECK(result.dfl.item<double>() == Approx(std::log(16.0) * 0.5 / 2).epsilon(1e-5));
  result.dfl.backward();
  // Only the fg anchor's logits get a gradient.
  CHECK(pred_dist.grad()[0][0].abs().sum().item<double>() > 0);
  CHECK(pred_dist.grad()[0][1].abs().sum().item<double>() == 0);
}

TEST_CASE("BboxLoss rejects a distribution of the wrong width", "[loss][dfl]") {
  const auto none = torch::zeros({1, 1, 4});
  CHECK_THROWS_AS(
      yolo::loss::BboxLoss(16)(torch::zeros({1, 1, 60}), none, torch::zeros({1, 2}), none, torch::zeros({1, 1, 1}),
                               torch::tensor(1.f), torch::zeros({1, 1}, torch::kBool)),
      yolo::Error);
  CHECK_THROWS_AS(yolo::loss::BboxLoss(1), yolo::Error);
}
