// YOLO11's modules and models against Ultralytics 8.3.166: the state dict of the real checkpoint
// tests/data/yolo11n_fdet.pt (names, shapes, order), the `legacy` rule that picks the Detect head,
// the `c3k` rule for scales m/l/x, and the modules' argument checks. Counts are checked with all
// models in model_test.cpp, forward parity in tests/parity.
#include <map>
#include <string>

#include "catch.h"
#include "io/checkpoint.h"
#include "yolo/nn/model.h"
#include "yolo/utils/error.h"

using yolo::nn::YoloModel;
using yolo::test::error_of;

namespace {

std::map<std::string, torch::Tensor> state_by_name(YoloModel& model) {
  auto state = yolo::nn::state_dict(model);
  return {state.begin(), state.end()};
}

/// A small YOLO11-style detector under a name whose scale letter is `scale`.
YoloModel small_yolo11(const std::string& scale) {
  const std::string yaml = R"(
nc: 3
scales:
  n: [0.50, 0.25, 1024]
  m: [0.50, 0.25, 1024]
backbone:
  - [-1, 1, Conv, [64, 3, 2]]
  - [-1, 2, C3k2, [128, False, 0.25]]
  - [-1, 1, Conv, [256, 3, 2]]
  - [-1, 2, C3k2, [512, True]]
  - [-1, 1, DWConv, [512, 3, 1]]
head:
  - [[1, 4], 1, Detect, [nc]]
)";
  return YoloModel(yolo::nn::parse_model_spec(yaml, "yolo99" + scale + ".yaml"));
}

}  // namespace

TEST_CASE("yolo11n's state_dict equals the Ultralytics checkpoint's: names, shapes and order", "[nn][yolo11]") {
  const auto checkpoint = yolo::io::load_checkpoint(yolo::test::data_path("yolo11n_fdet.pt"));
  const auto expected = checkpoint.model_state();
  YoloModel model(yolo::nn::load_model_spec("yolo11n.yaml", 10));
  const auto actual = yolo::nn::state_dict(model);
  REQUIRE(actual.size() == expected.size());
  CHECK(actual.size() == 499);
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("entry " << i << ": " << expected[i].first);
    CHECK(actual[i].first == expected[i].first);
    CHECK(actual[i].second.sizes() == expected[i].second.sizes());
  }
}

TEST_CASE("a checkpoint's model is named and scaled by the YAML it stores, as Ultralytics'", "[nn][yolo11]") {
  const auto checkpoint = yolo::io::load_checkpoint(yolo::test::data_path("yolo11n_fdet.pt"));
  const auto spec = yolo::nn::parse_model_spec(checkpoint.model_yaml_text(), "runs/train/weights/best.pt:model.yaml");
  CHECK(spec.yaml_file == "yolo11n.yaml");
  CHECK(spec.scale == "n");
  CHECK(spec.nc == 10);
  YoloModel model(spec);
  CHECK_THAT(yolo::nn::format_info(*model),
             Catch::Matchers::ContainsSubstring("YOLO11n summary: 181 layers, 2,591,790 parameters, 2,591,774 gradients"));
}

TEST_CASE("Detect is legacy (YOLOv8) until a C3k2 row, then YOLO11's depthwise class branch", "[nn][yolo11]") {
  YoloModel v8(yolo::nn::load_model_spec("yolov8n.yaml", 10));
  CHECK(v8->detect_head()->legacy);
  auto v8_state = state_by_name(v8);
  CHECK(v8_state.at("model.22.cv3.0.0.conv.weight").sizes() == torch::IntArrayRef{64, 64, 3, 3});

  YoloModel v11(yolo::nn::load_model_spec("yolo11n.yaml", 10));
  CHECK_FALSE(v11->detect_head()->legacy);
  auto state = state_by_name(v11);
  // cv3.<level>: [DWConv 3x3 (groups = channels), Conv 1x1], the same pair again, then the logits.
  CHECK(state.at("model.23.cv3.0.0.0.conv.weight").sizes() == torch::IntArrayRef{64, 1, 3, 3});
  CHECK(state.at("model.23.cv3.0.0.1.conv.weight").sizes() == torch::IntArrayRef{64, 64, 1, 1});
  CHECK(state.at("model.23.cv3.0.1.0.conv.weight").sizes() == torch::IntArrayRef{64, 1, 3, 3});
  CHECK(state.at("model.23.cv3.2.1.1.conv.weight").sizes() == torch::IntArrayRef{64, 64, 1, 1});
  CHECK(state.at("model.23.cv3.2.0.0.conv.weight").sizes() == torch::IntArrayRef{256, 1, 3, 3});  // P5: 256 channels
  CHECK(state.at("model.23.cv3.2.2.weight").sizes() == torch::IntArrayRef{10, 64, 1, 1});
  CHECK(v11->strides() == std::vector<double>{8, 16, 32});

  SECTION("bias_init reaches the logits conv of the nested class branch") {
    // log(5 / nc / (640 / 8)^2) for the stride-8 level, as for YOLOv8.
    const auto bias = state.at("model.23.cv3.0.2.bias");
    CHECK(bias.min().item<double>() == Approx(-9.457200050354004).margin(1e-5));
    CHECK(state.at("model.23.cv2.0.2.bias").eq(1.0).all().item<bool>());
  }
}

TEST_CASE("C3k2 takes C3k blocks at scales m, l and x, as Ultralytics' parse_model", "[nn][yolo11]") {
  auto n = small_yolo11("n");
  auto m = small_yolo11("m");
  auto n_state = state_by_name(n), m_state = state_by_name(m);
  // Row 1 (32 channels, 8 hidden) says c3k=False: scale n keeps plain bottlenecks that halve
  // their channels (8 -> 4 -> 8).
  CHECK(n_state.at("model.1.m.0.cv1.conv.weight").sizes() == torch::IntArrayRef{4, 8, 3, 3});
  CHECK(n_state.count("model.1.m.0.m.0.cv1.conv.weight") == 0);
  // Scale m: every C3k2 holds C3k blocks of two 3x3 bottlenecks.
  CHECK(m_state.at("model.1.m.0.m.1.cv1.conv.weight").sizes() == torch::IntArrayRef{4, 4, 3, 3});
  CHECK(m_state.count("model.1.m.0.m.2.cv1.conv.weight") == 0);
  // Row 3 says c3k=True at every scale.
  CHECK(n_state.at("model.3.m.0.m.0.cv2.conv.weight").sizes() == torch::IntArrayRef{32, 32, 3, 3});
  // DWConv row: groups = gcd(128, 128).
  CHECK(n_state.at("model.4.conv.weight").sizes() == torch::IntArrayRef{128, 1, 3, 3});
  // A C3k2 row before Detect: not legacy.
  CHECK_FALSE(n->detect_head()->legacy);

  auto x = torch::rand({2, 3, 64, 64});
  auto raw = m->forward_raw(x);
  REQUIRE(raw.size() == 2);
  CHECK(raw[0].sizes() == torch::IntArrayRef{2, 64 + 3, 32, 32});  // stride 2
  CHECK(raw[1].sizes() == torch::IntArrayRef{2, 64 + 3, 16, 16});  // stride 4
}

TEST_CASE("YOLO11 modules: shapes and argument checks", "[nn][yolo11]") {
  torch::NoGradGuard no_grad;
  SECTION("C2PSA keeps its shape; attention needs one head per 64 channels") {
    yolo::nn::C2PSA block(256, 256, 2);
    CHECK(block->m->size() == 2);
    auto attention = block->m[0]->as<yolo::nn::PSABlock>()->attn;
    CHECK(attention->num_heads == 2);
    CHECK(attention->key_dim == 32);
    CHECK(attention->qkv->conv->weight.size(0) == 128 + 2 * 32 * 2);
    CHECK(block->forward(torch::rand({1, 256, 5, 7})).sizes() == torch::IntArrayRef{1, 256, 5, 7});
    CHECK_THAT(error_of([] { yolo::nn::C2PSA(256, 128); }), Catch::Matchers::ContainsSubstring("must be equal"));
    CHECK_THAT(error_of([] { yolo::nn::C2PSA(64, 64); }), Catch::Matchers::ContainsSubstring("64 hidden channels"));
  }
  SECTION("C3k2 and C3k") {
    yolo::nn::C3k2 plain(32, 64, 2, false, 0.25);
    CHECK(plain->hidden == 16);
    CHECK(plain->cv2->conv->weight.size(1) == (2 + 2) * 16);
    CHECK(plain->forward(torch::rand({1, 32, 8, 8})).sizes() == torch::IntArrayRef{1, 64, 8, 8});
    yolo::nn::C3k2 nested(32, 32, 1, true);
    CHECK(nested->m[0]->as<yolo::nn::C3k>() != nullptr);
    CHECK(nested->forward(torch::rand({1, 32, 8, 8})).sizes() == torch::IntArrayRef{1, 32, 8, 8});
  }
  SECTION("DWConv: groups = gcd(c1, c2)") {
    CHECK(yolo::nn::DWConv(64, 96, 3)->conv->options.groups() == 32);
    CHECK(yolo::nn::DWConv(48, 48, 3, 2)->forward(torch::rand({1, 48, 8, 8})).sizes() ==
          torch::IntArrayRef{1, 48, 4, 4});
  }
}

TEST_CASE("YOLO11 GFLOPs as Ultralytics' summaries print them", "[nn][yolo11]") {
  // Ultralytics 8.3.166: "YOLO11n summary: 181 layers, 2,624,080 parameters, 2,624,064 gradients, 6.6 GFLOPs".
  YoloModel model(yolo::nn::load_model_spec("yolo11n.yaml"));
  CHECK(model->info().gflops == Approx(6.6).margin(0.05));
}
