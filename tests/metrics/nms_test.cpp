#include "metrics/nms.h"

#include <torch/torch.h>

#include <string>
#include <vector>

#include "catch.h"
#include "yolo/utils/log.h"

using namespace yolo::metrics;

namespace {

// One image's raw head output [1, 4 + nc, n] from rows of (cx, cy, w, h, score per class...).
torch::Tensor head_output(const std::vector<std::vector<float>>& rows) {
  const auto width = static_cast<int64_t>(rows.front().size());
  auto t = torch::zeros({static_cast<int64_t>(rows.size()), width});
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t j = 0; j < width; ++j) t[static_cast<int64_t>(i)][j] = rows[i][static_cast<size_t>(j)];
  return t.t().unsqueeze(0).contiguous();
}

// The textbook O(n^2) greedy NMS, to check the blocked implementation against.
std::vector<int64_t> naive_nms(const torch::Tensor& boxes, const torch::Tensor& scores, double threshold) {
  auto order = std::get<1>(scores.sort(/*stable=*/true, 0, /*descending=*/true));
  auto b = boxes.accessor<float, 2>();
  auto o = order.accessor<int64_t, 1>();
  const auto n = boxes.size(0);
  std::vector<bool> removed(static_cast<size_t>(n), false);
  std::vector<int64_t> kept;
  for (int64_t a = 0; a < n; ++a) {
    const auto i = o[a];
    if (removed[a]) continue;
    kept.push_back(i);
    const float area_i = (b[i][2] - b[i][0]) * (b[i][3] - b[i][1]);
    for (int64_t c = a + 1; c < n; ++c) {
      const auto j = o[c];
      const float w = std::max(0.0f, std::min(b[i][2], b[j][2]) - std::max(b[i][0], b[j][0]));
      const float h = std::max(0.0f, std::min(b[i][3], b[j][3]) - std::max(b[i][1], b[j][1]));
      const float inter = w * h, area_j = (b[j][2] - b[j][0]) * (b[j][3] - b[j][1]);
      if (inter / (area_i + area_j - inter) > threshold) removed[c] = true;
    }
  }
  return kept;
}

}  // namespace

TEST_CASE("non_max_suppression: no anchors and nothing above conf give empty [0, 6]", "[metrics]") {
  auto none = non_max_suppression(torch::zeros({2, 4 + 3, 0}));
  REQUIRE(none.size() == 2);
  CHECK(none[0].sizes() == torch::IntArrayRef({0, 6}));
  CHECK(none[1].sizes() == torch::IntArrayRef({0, 6}));

  auto low = head_output({{50, 50, 20, 20, 0.1f, 0.2f}, {80, 80, 20, 20, 0.25f, 0.0f}});
  auto out = non_max_suppression(low);  // conf 0.25 is exclusive
  REQUIRE(out.size() == 1);
  CHECK(out[0].sizes() == torch::IntArrayRef({0, 6}));
}

TEST_CASE("non_max_suppression: overlapping boxes of one class leave the best one", "[metrics]") {
  auto pred = head_output(
      {{100, 100, 50, 50, 0.6f}, {101, 100, 50, 50, 0.9f}, {100, 102, 50, 52, 0.7f}, {99, 99, 48, 50, 0.8f}});
  auto out = non_max_suppression(pred)[0];
  REQUIRE(out.size(0) == 1);
  CHECK(out[0][4].item<float>() == Approx(0.9f));
  CHECK(out[0][0].item<float>() == Approx(76.0f));  // xywh -> xyxy
  CHECK(out[0][3].item<float>() == Approx(125.0f));
  CHECK(out[0][5].item<float>() == 0.0f);
}

TEST_CASE("non_max_suppression: results are ordered by score and capped at max_det", "[metrics]") {
  std::vector<std::vector<float>> rows;
  const std::vector<float> scores{0.3f, 0.9f, 0.5f, 0.7f, 0.4f, 0.8f};
  for (size_t i = 0; i < scores.size(); ++i) rows.push_back({50.0f + 100.0f * i, 50, 40, 40, scores[i]});
  auto all = non_max_suppression(head_output(rows))[0];
  REQUIRE(all.size(0) == 6);
  auto conf = all.select(1, 4);
  CHECK(torch::equal(conf, std::get<0>(conf.sort(0, /*descending=*/true))));

  NmsOptions capped;
  capped.max_det = 3;
  auto top = non_max_suppression(head_output(rows), capped)[0];
  REQUIRE(top.size(0) == 3);
  CHECK(top[0][4].item<float>() == Approx(0.9f));
  CHECK(top[1][4].item<float>() == Approx(0.8f));
  CHECK(top[2][4].item<float>() == Approx(0.7f));
  CHECK(top[1][0].item<float>() == Approx(530.0f));  // the box at cx 550
}

TEST_CASE("non_max_suppression: per-class keeps overlapping boxes of different classes, agnostic does not",
          "[metrics]") {
  auto pred = head_output({{100, 100, 50, 50, 0.9f, 0.1f}, {102, 100, 50, 50, 0.1f, 0.8f}});
  auto per_class = non_max_suppression(pred)[0];
  REQUIRE(per_class.size(0) == 2);
  CHECK(per_class[0][5].item<float>() == 0.0f);
  CHECK(per_class[1][5].item<float>() == 1.0f);

  NmsOptions agnostic;
  agnostic.agnostic = true;
  auto one = non_max_suppression(pred, agnostic)[0];
  REQUIRE(one.size(0) == 1);
  CHECK(one[0][5].item<float>() == 0.0f);
}

TEST_CASE("non_max_suppression: classes filter and multi_label", "[metrics]") {
  auto pred = head_output({{100, 100, 50, 50, 0.9f, 0.6f, 0.0f}, {300, 300, 50, 50, 0.0f, 0.1f, 0.7f}});
  NmsOptions only;
  only.classes = {2};
  auto filtered = non_max_suppression(pred, only)[0];
  REQUIRE(filtered.size(0) == 1);
  CHECK(filtered[0][5].item<float>() == 2.0f);

  NmsOptions multi;
  multi.multi_label = true;
  auto labels = non_max_suppression(pred, multi)[0];  // the first box once per class above conf
  REQUIRE(labels.size(0) == 3);
  CHECK(labels[0][4].item<float>() == Approx(0.9f));
  CHECK(labels[0][5].item<float>() == 0.0f);
  CHECK(labels[1][4].item<float>() == Approx(0.7f));
  CHECK(labels[1][5].item<float>() == 2.0f);
  CHECK(labels[2][4].item<float>() == Approx(0.6f));
  CHECK(labels[2][5].item<float>() == 1.0f);
  CHECK(non_max_suppression(pred)[0].size(0) == 2);  // best class only
}

TEST_CASE("nms: blocked greedy equals the textbook greedy on thousands of boxes", "[metrics]") {
  torch::manual_seed(0);
  const int64_t n = 2500;  // several blocks
  auto xy = torch::rand({n, 2}) * 800;
  auto boxes = torch::cat({xy, xy + torch::rand({n, 2}) * 150 + 5}, 1);
  auto scores = (torch::rand({n}) * 50).round() / 50;  // ties included
  for (double threshold : {0.3, 0.7}) {
    auto kept = nms(boxes, scores, threshold);
    auto expected = naive_nms(boxes, scores, threshold);
    REQUIRE(kept.size(0) == static_cast<int64_t>(expected.size()));
    CHECK(torch::equal(kept, torch::tensor(expected, torch::kLong)));
    auto first = nms(boxes, scores, threshold, 40);
    REQUIRE(first.size(0) == 40);
    CHECK(torch::equal(first, kept.narrow(0, 0, 40)));
  }
}

TEST_CASE("nms: CUDA gives the CPU result", "[metrics][cuda]") {
  if (!torch::cuda::is_available()) YOLO_SKIP("no CUDA device");
  torch::manual_seed(1);
  auto prediction = torch::cat(
      {torch::rand({2, 2, 3000}) * 640, torch::rand({2, 2, 3000}) * 100 + 10, torch::rand({2, 5, 3000}).pow(2)}, 1);
  NmsOptions o;
  o.conf = 0.01, o.multi_label = true;
  auto cpu = non_max_suppression(prediction, o);
  auto gpu = non_max_suppression(prediction.cuda(), o);
  for (size_t i = 0; i < cpu.size(); ++i) {
    CHECK(gpu[i].device().is_cuda());
    REQUIRE(gpu[i].sizes() == cpu[i].sizes());
    CHECK(torch::allclose(gpu[i].cpu(), cpu[i], 1e-5, 1e-4));
  }
}

TEST_CASE("scale_boxes undoes the letterbox and clips", "[metrics]") {
  // 480x640 (h, w) letterboxed into 640x640: gain 1, 80 px of padding on top.
  auto boxes = torch::tensor({{100.0f, 180.0f, 200.0f, 280.0f}, {-5.0f, 70.0f, 700.0f, 600.0f}});
  auto out = scale_boxes({640, 640}, boxes, {480, 640});
  CHECK(torch::allclose(out, torch::tensor({{100.0f, 100.0f, 200.0f, 200.0f}, {0.0f, 0.0f, 640.0f, 480.0f}})));
  CHECK(boxes[0][1].item<float>() == 180.0f);  // input untouched

  // 1280x960 into 640x480 (gain 0.5, no padding), recorded ratio_pad with padding 16 px left.
  auto recorded =
      scale_boxes({640, 512}, torch::tensor({{26.0f, 10.0f, 66.0f, 50.0f}}), {1280, 960}, RatioPad{0.5, 0.5, 16, 0});
  CHECK(torch::allclose(recorded, torch::tensor({{20.0f, 20.0f, 100.0f, 100.0f}})));
  CHECK(torch::allclose(clip_boxes(torch::tensor({{-1.0f, 2.0f, 30.0f, 40.0f}}), {20, 25}),
                        torch::tensor({{0.0f, 2.0f, 25.0f, 20.0f}})));
}

TEST_CASE("non_max_suppression: the time guard warns and leaves later images empty", "[metrics]") {
  yolo::test::LogCapture capture(yolo::LogLevel::Warning);
  auto one = head_output({{100, 100, 50, 50, 0.9f}});
  NmsOptions hurried;
  hurried.time_limit_s = 1e-12;
  auto out = non_max_suppression(torch::cat({one, one}), hurried);
  const auto warnings = capture.lines();
  CHECK(out[0].size(0) == 1);
  CHECK(out[1].size(0) == 0);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Matchers::ContainsSubstring("NMS time limit"));
}
