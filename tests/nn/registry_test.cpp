// The open module registry (yolo/nn/registry.h): an application's block under a YAML name, the
// ModuleTraits rules (repeats, legacy head), and the errors for bad registrations and builders.
// Registrations are process-wide, so every test case uses names of its own.
#include <map>
#include <string>

#include "catch.h"
#include "yolo/nn/model.h"
#include "yolo/nn/registry.h"
#include "yolo/utils/error.h"

using yolo::nn::BuildContext;
using yolo::nn::BuiltLayer;
using yolo::test::error_of;

namespace {

/// A residual 3x3 block that keeps its channels: what an application might add.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int64_t c1, int64_t c2) {
    conv = register_module("conv", yolo::nn::Conv(yolo::nn::ConvOptions(c1, c2, 3)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return x + conv->forward(x); }
  yolo::nn::Conv conv{nullptr};
};
TORCH_MODULE(ResidualBlock);

BuiltLayer build_residual(const BuildContext& ctx) {
  const int64_t c1 = ctx.single_input();
  return yolo::nn::make_layer(ResidualBlock(c1, c1), c1);
}

std::string detector_yaml(const std::string& block_row) {
  return "nc: 2\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n" + block_row +
         "  - [-1, 1, Conv, [32, 3, 2]]\nhead:\n  - [[1, 2], 1, Detect, [nc]]\n";
}

std::map<std::string, torch::Tensor> state_by_name(yolo::nn::YoloModel& model) {
  auto state = yolo::nn::state_dict(model);
  return {state.begin(), state.end()};
}

}  // namespace

TEST_CASE("an application's block builds, runs and trains under its YAML name", "[nn][registry]") {
  yolo::nn::register_module("TestResidual", build_residual);
  CHECK(yolo::nn::is_registered("TestResidual"));
  const auto names = yolo::nn::registered_modules();
  CHECK(std::find(names.begin(), names.end(), "TestResidual") != names.end());
  CHECK(std::find(names.begin(), names.end(), "C3k2") != names.end());  // the built-ins share the table

  SECTION("one row, one block; n > 1 chains n copies, as Ultralytics' nn.Sequential") {
    yolo::nn::YoloModel single(yolo::nn::parse_model_spec(detector_yaml("  - [-1, 1, TestResidual, []]\n"), "a.yaml"));
    auto state = state_by_name(single);
    CHECK(state.at("model.1.conv.conv.weight").sizes() == torch::IntArrayRef{16, 16, 3, 3});

    yolo::nn::YoloModel chained(yolo::nn::parse_model_spec(detector_yaml("  - [-1, 3, TestResidual, []]\n"), "b.yaml"));
    auto chained_state = state_by_name(chained);
    CHECK(chained_state.count("model.1.2.conv.conv.weight") == 1);
    CHECK(chained_state.count("model.1.3.conv.conv.weight") == 0);

    auto raw = chained->forward_raw(torch::rand({2, 3, 32, 32}));
    REQUIRE(raw.size() == 2);
    CHECK(raw[0].sizes() == torch::IntArrayRef{2, 64 + 2, 16, 16});
    // Gradients reach the custom block's weights.
    (raw[0].sum() + raw[1].sum()).backward();
    auto weight = chained->named_parameters()["model.1.0.conv.conv.weight"];
    REQUIRE(weight.grad().defined());
    CHECK(weight.grad().abs().sum().item<double>() > 0);
  }
}

TEST_CASE("ModuleTraits: repeats inside, and the legacy Detect rule", "[nn][registry]") {
  int64_t repeats_seen = 0;
  yolo::nn::register_module(
      "TestRepeatsInside",
      [&](const BuildContext& ctx) {
        repeats_seen = ctx.repeats;
        const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
        return yolo::nn::make_layer(yolo::nn::C2f(ctx.single_input(), c2, ctx.repeats), c2);
      },
      yolo::nn::ModuleTraits().repeats_inside(true).non_legacy(true));
  const std::string yaml = "nc: 2\ndepth_multiple: 0.5\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n"
                           "  - [-1, 4, TestRepeatsInside, [16]]\nhead:\n  - [[1], 1, Detect, [nc]]\n";
  yolo::nn::YoloModel model(yolo::nn::parse_model_spec(yaml, "c.yaml"));
  CHECK(repeats_seen == 2);  // round(4 * 0.5), given to the builder once
  auto state = state_by_name(model);
  CHECK(state.count("model.1.m.1.cv1.conv.weight") == 1);
  CHECK(state.count("model.1.1.cv1.conv.weight") == 0);
  // non_legacy, like C3k2: the Detect head after it takes YOLO11's depthwise class branch.
  CHECK_FALSE(model->detect_head()->legacy);
  CHECK(state.count("model.2.cv3.0.0.0.conv.weight") == 1);
}

TEST_CASE("registration errors: taken names, bad names, empty builders", "[nn][registry]") {
  CHECK_THAT(error_of([] { yolo::nn::register_module("Conv", build_residual); }),
             Catch::Matchers::ContainsSubstring("'Conv' is already registered (a built-in module)"));
  yolo::nn::register_module("TestTwice", build_residual);
  const auto again = error_of([] { yolo::nn::register_module("TestTwice", build_residual); });
  CHECK_THAT(again, Catch::Matchers::ContainsSubstring("'TestTwice' is already registered; choose another name"));
  for (const std::string bad : {"", "1Block", "nn.Block", "My Block", "My-Block"}) {
    INFO("name '" << bad << "'");
    CHECK_THAT(error_of([&] { yolo::nn::register_module(bad, build_residual); }),
               Catch::Matchers::ContainsSubstring("is not a valid module name"));
  }
  CHECK_THAT(error_of([] { yolo::nn::register_module("TestEmpty", nullptr); }),
             Catch::Matchers::ContainsSubstring("register_module('TestEmpty'): the builder is empty"));
  CHECK_FALSE(yolo::nn::is_registered("TestEmpty"));
}

TEST_CASE("bad builders and unregistered names give errors naming the row", "[nn][registry]") {
  yolo::nn::register_module("TestNoModule", [](const BuildContext&) { return BuiltLayer{}; });
  yolo::nn::register_module("TestNoForward", [](const BuildContext& ctx) {
    return BuiltLayer{yolo::nn::Conv(yolo::nn::ConvOptions(ctx.single_input(), 8)).ptr(), nullptr, 8};
  });
  yolo::nn::register_module("TestNoChannels", [](const BuildContext& ctx) {
    return yolo::nn::make_layer(yolo::nn::Conv(yolo::nn::ConvOptions(ctx.single_input(), 8)), 0);
  });
  yolo::nn::register_module("TestNeedsArgument", [](const BuildContext& ctx) {
    const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
    return yolo::nn::make_layer(yolo::nn::Conv(yolo::nn::ConvOptions(ctx.single_input(), c2)), c2);
  });
  const auto build = [](const std::string& row) {
    return error_of([&] { yolo::nn::YoloModel(yolo::nn::parse_model_spec(detector_yaml(row), "bad.yaml")); });
  };
  CHECK_THAT(build("  - [-1, 1, TestNoModule, []]\n"),
             Catch::Matchers::ContainsSubstring("bad.yaml: layer 1: the builder of 'TestNoModule' returned no module"));
  CHECK_THAT(build("  - [-1, 1, TestNoForward, []]\n"),
             Catch::Matchers::ContainsSubstring("the builder of 'TestNoForward' returned no forward function"));
  CHECK_THAT(build("  - [-1, 1, TestNoChannels, []]\n"),
             Catch::Matchers::ContainsSubstring("the builder of 'TestNoChannels' returned 0 output channels"));
  CHECK_THAT(build("  - [-1, 1, TestNeedsArgument, [True]]\n"),
             Catch::Matchers::ContainsSubstring("bad.yaml: layer 1: argument 0 of TestNeedsArgument must be an integer"));

  const auto unknown = build("  - [-1, 1, TestNeverRegistered, []]\n");
  CHECK_THAT(unknown, Catch::Matchers::ContainsSubstring("bad.yaml: layer 1 (backbone row 1)"));
  CHECK_THAT(unknown, Catch::Matchers::ContainsSubstring("unknown module 'TestNeverRegistered'"));
  CHECK_THAT(unknown, Catch::Matchers::ContainsSubstring("yolo::nn::register_module"));
}
