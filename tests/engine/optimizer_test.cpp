#include <filesystem>
#include <cmath>

#include "catch.h"
#include "yolo/engine/device.h"
#include "yolo/engine/ema.h"
#include "yolo/engine/optimizer.h"
#include "yolo/engine/run_dir.h"
#include "yolo/utils/error.h"

namespace {

struct TinyNet : torch::nn::Module {
  TinyNet() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).bias(false)));
    bn = register_module("bn", torch::nn::BatchNorm2d(4));
    head = register_module("head", torch::nn::Conv2d(4, 2, 1));
  }
  torch::nn::Conv2d conv{nullptr}, head{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};

}  // namespace

TEST_CASE("optimizer groups follow Ultralytics: biases, decayed weights, norm weights", "[engine]") {
  TinyNet net;
  yolo::engine::OptimizerOptions o;
  o.name = "SGD", o.lr0 = 0.01, o.momentum = 0.937, o.weight_decay = 5e-4;
  auto built = yolo::engine::build_optimizer(net, o);
  auto& groups = built.optimizer->param_groups();
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].params().size() == 2);  // bn.bias, head.bias
  CHECK(groups[1].params().size() == 2);  // conv.weight, head.weight
  CHECK(groups[2].params().size() == 1);  // bn.weight
  auto& decayed = static_cast<torch::optim::SGDOptions&>(groups[1].options());
  CHECK(decayed.weight_decay() == Approx(5e-4));
  CHECK(decayed.nesterov());
  CHECK(static_cast<torch::optim::SGDOptions&>(groups[0].options()).weight_decay() == 0.0);
}

TEST_CASE("optimizer=auto picks AdamW with lr from nc for short runs, SGD for long ones", "[engine]") {
  TinyNet net;
  yolo::engine::OptimizerOptions o;
  o.iterations = 1000, o.nc = 10;
  auto short_run = yolo::engine::build_optimizer(net, o);
  CHECK(short_run.name == "AdamW");
  CHECK(short_run.lr == Approx(0.000714));  // round(0.002 * 5 / (4 + 10), 6)
  CHECK(short_run.momentum == Approx(0.9));
  o.iterations = 20000;
  auto long_run = yolo::engine::build_optimizer(net, o);
  CHECK(long_run.name == "SGD");
  CHECK(long_run.lr == Approx(0.01));
}

TEST_CASE("unknown optimizer names are errors with a suggestion", "[engine]") {
  TinyNet net;
  yolo::engine::OptimizerOptions o;
  o.name = "AdamX";
  CHECK_THROWS_WITH(yolo::engine::build_optimizer(net, o), Catch::Matchers::ContainsSubstring("Adam"));
}

TEST_CASE("learning-rate factor: linear and cosine as Ultralytics", "[engine]") {
  using yolo::engine::lr_factor;
  CHECK(lr_factor(0, 100, 0.01, false) == Approx(1.0));
  CHECK(lr_factor(50, 100, 0.01, false) == Approx(0.505));
  CHECK(lr_factor(100, 100, 0.01, false) == Approx(0.01));
  CHECK(lr_factor(0, 100, 0.01, true) == Approx(1.0));
  CHECK(lr_factor(50, 100, 0.01, true) == Approx(0.505));
  CHECK(lr_factor(100, 100, 0.01, true) == Approx(0.01));
}

TEST_CASE("EMA ramps its decay and follows the model", "[engine]") {
  auto model = std::make_shared<TinyNet>();
  auto copy = std::make_shared<TinyNet>();
  yolo::engine::ModelEma ema(copy, *model, 0.9999, 2000);
  CHECK(torch::equal(copy->conv->weight, model->conv->weight));
  torch::NoGradGuard no_grad;
  auto before = copy->conv->weight.clone();
  model->conv->weight.add_(1.0);
  ema.update(*model);
  const double d = 0.9999 * (1 - std::exp(-1.0 / 2000));
  CHECK(torch::allclose(copy->conv->weight, before * d + (before + 1.0) * (1 - d)));
  CHECK(ema.updates() == 1);
}

TEST_CASE("run folders increment like Ultralytics", "[engine]") {
  const auto base = std::filesystem::temp_directory_path() / "yolo_run_dir_test";
  std::filesystem::remove_all(base);
  const auto first = yolo::engine::increment_path((base / "train").string(), false);
  const auto second = yolo::engine::increment_path((base / "train").string(), false);
  const auto third = yolo::engine::increment_path((base / "train").string(), false);
  CHECK(first == (base / "train").string());
  CHECK(second == (base / "train2").string());
  CHECK(third == (base / "train3").string());
  CHECK(yolo::engine::increment_path((base / "train").string(), true) == (base / "train").string());
  std::filesystem::remove_all(base);
}

TEST_CASE("device selection rejects devices that do not exist", "[engine]") {
  CHECK(yolo::engine::select_device("cpu").primary.is_cpu());
  if (!torch::cuda::is_available()) {
    CHECK(yolo::engine::select_device("").primary.is_cpu());
    CHECK_THROWS_WITH(yolo::engine::select_device("0"), Catch::Matchers::ContainsSubstring("device=cpu"));
  } else {
    const auto n = torch::cuda::device_count();
    CHECK_THROWS_WITH(yolo::engine::select_device(std::to_string(n)),
                      Catch::Matchers::ContainsSubstring("does not exist"));
  }
  CHECK_THROWS_AS(yolo::engine::select_device("gpu"), yolo::Error);
}
