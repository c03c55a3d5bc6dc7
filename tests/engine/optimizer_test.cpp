#include <filesystem>
#include <cmath>
#include <cstdlib>

#include "catch.h"
#include "engine/device.h"
#include "engine/ema.h"
#include "engine/optimizer.h"
#include "engine/run_dir.h"
#include "utils/cpus.h"
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

TEST_CASE("choosing the CPU gives LibTorch the usable physical cores, shared by the ranks, unless OMP_NUM_THREADS is set",
          "[engine]") {
  const int before = at::get_num_threads();
  const char* env = std::getenv("OMP_NUM_THREADS");
  const std::string saved = env ? env : "";
  ::unsetenv("OMP_NUM_THREADS");
  const auto cores = yolo::usable_cores();
  CHECK(cores <= yolo::usable_cpus());
  at::set_num_threads(cores > 1 ? 1 : 2);  // a count select_device must change
  yolo::engine::select_device("cpu");
  CHECK(at::get_num_threads() == cores);
  yolo::engine::select_device("cpu,cpu");  // two ranks on this machine: half each
  CHECK(at::get_num_threads() == std::max<int64_t>(1, cores / 2));
  ::setenv("OMP_NUM_THREADS", "1", 1);  // the user's choice stays
  at::set_num_threads(3);
  yolo::engine::select_device("cpu");
  CHECK(at::get_num_threads() == 3);
  if (env) ::setenv("OMP_NUM_THREADS", saved.c_str(), 1); else ::unsetenv("OMP_NUM_THREADS");
  at::set_num_threads(before);
}

namespace {

/// Two nets with the same weights: one steps with build_optimizer's optimizer, the other with LibTorch's own
/// class over the same groups and options, on the same gradients; lr and momentum move between steps as
/// warmup moves them.
template <typename Reference, typename Options>
void check_same_steps_as_libtorch(const std::string& name) {
  torch::manual_seed(3);
  TinyNet ours_net, reference_net;
  {
    torch::NoGradGuard no_grad;
    auto a = ours_net.parameters(), b = reference_net.parameters();
    for (size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
  }
  yolo::engine::OptimizerOptions o;
  o.name = name, o.lr0 = 0.01, o.momentum = 0.9, o.weight_decay = 5e-2;
  auto ours = yolo::engine::build_optimizer(ours_net, o);
  auto twin = yolo::engine::build_optimizer(reference_net, o);  // the same groups, for the reference
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (auto& g : twin.optimizer->param_groups()) groups.emplace_back(g.params(), g.options().clone());
  Reference reference(groups, static_cast<const Options&>(groups.front().options()));
  auto ours_params = ours_net.parameters(), reference_params = reference_net.parameters();
  for (int step = 0; step < 5; ++step) {
    for (size_t i = 0; i < ours_params.size(); ++i) {
      const auto grad = torch::randn_like(ours_params[i]);
      ours_params[i].mutable_grad() = grad.clone();
      reference_params[i].mutable_grad() = grad.clone();
    }
    if (step == 2) {  // a parameter without a gradient this step is left alone
      ours_params[0].mutable_grad() = torch::Tensor();
      reference_params[0].mutable_grad() = torch::Tensor();
    }
    const double lr = 0.01 * (step + 1);
    for (auto* opt : {ours.optimizer.get(), static_cast<torch::optim::Optimizer*>(&reference)})
      for (auto& g : opt->param_groups()) {
        yolo::engine::set_group_lr(g, lr);
        yolo::engine::set_group_momentum(g, 0.8 + 0.02 * step);
      }
    ours.optimizer->step();
    reference.step();
    for (size_t i = 0; i < ours_params.size(); ++i) {
      INFO(name << " step " << step << " parameter " << i);
      // Operation for operation LibTorch's arithmetic: bitwise equal on the CPU.
      CHECK(torch::equal(ours_params[i], reference_params[i]));
    }
  }
}

}  // namespace

TEST_CASE("SGD, Adam and AdamW take LibTorch's steps with multi-tensor kernels", "[engine][optimizer]") {
  check_same_steps_as_libtorch<torch::optim::SGD, torch::optim::SGDOptions>("SGD");
  check_same_steps_as_libtorch<torch::optim::Adam, torch::optim::AdamOptions>("Adam");
  check_same_steps_as_libtorch<torch::optim::AdamW, torch::optim::AdamWOptions>("AdamW");
}

TEST_CASE("clip_grad_norm scales gradients as torch.nn.utils.clip_grad_norm_ and returns the norm on the device",
          "[engine][optimizer]") {
  torch::manual_seed(5);
  for (const double max_norm : {10.0, 0.5}) {  // not clipped, clipped
    TinyNet a, b;
    auto pa = a.parameters(), pb = b.parameters();
    for (size_t i = 0; i < pa.size(); ++i) {
      const auto grad = torch::randn_like(pa[i]);
      pa[i].mutable_grad() = grad.clone();
      pb[i].mutable_grad() = grad.clone();
    }
    const auto norm = yolo::engine::clip_grad_norm(pa, max_norm);
    const double reference_norm = torch::nn::utils::clip_grad_norm_(pb, max_norm);
    REQUIRE(norm.defined());
    CHECK(norm.dim() == 0);
    CHECK(norm.item<double>() == Approx(reference_norm).epsilon(1e-6));
    for (size_t i = 0; i < pa.size(); ++i) CHECK(torch::allclose(pa[i].grad(), pb[i].grad(), 1e-6, 0));
  }
  TinyNet none;
  CHECK_FALSE(yolo::engine::clip_grad_norm(none.parameters(), 1.0).defined());
}

TEST_CASE("EMA updates every floating-point tensor each step, buffers included, and skips integer ones",
          "[engine]") {
  auto model = std::make_shared<TinyNet>();
  auto copy = std::make_shared<TinyNet>();
  yolo::engine::ModelEma ema(copy, *model, 0.9999, 2000);
  torch::NoGradGuard no_grad;
  for (int step = 1; step <= 3; ++step) {
    const auto before_weight = copy->head->weight.clone(), before_mean = copy->bn->running_mean.clone();
    model->head->weight.add_(1.0);
    model->bn->running_mean.add_(2.0);
    model->bn->num_batches_tracked.add_(1);
    ema.update(*model);
    const double d = 0.9999 * (1 - std::exp(-step / 2000.0));
    CHECK(torch::allclose(copy->head->weight, before_weight * d + model->head->weight * (1 - d)));
    CHECK(torch::allclose(copy->bn->running_mean, before_mean * d + model->bn->running_mean * (1 - d)));
    CHECK(copy->bn->num_batches_tracked.item<int64_t>() == 0);
  }
}
