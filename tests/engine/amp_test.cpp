// Mixed precision: the loss scaler's rule, the autocast guard, the AMP sanity check (on CPU bf16, the one
// autocast LibTorch runs without a GPU), and device=-1's choice of GPU.
#include <cmath>
#include <limits>

#include "catch.h"
#include "engine/amp.h"
#include "engine/checkpointing.h"
#include "engine/device.h"
#include "yolo/utils/error.h"

using yolo::engine::AutocastGuard;
using yolo::engine::GradScaler;
using yolo::engine::Precision;

namespace {
torch::Tensor param_with_grad(std::vector<float> grad) {
  auto p = torch::zeros({static_cast<int64_t>(grad.size())}, torch::requires_grad());
  p.mutable_grad() = torch::tensor(grad);
  return p;
}
}  // namespace

TEST_CASE("the loss scaler multiplies the loss and divides the gradients back", "[amp]") {
  GradScaler scaler(true, 1024.0);
  CHECK(scaler.scale(torch::tensor(0.5f)).item<float>() == 512.0f);
  auto p = param_with_grad({2048.0f, -1024.0f});
  CHECK(scaler.unscale({p}));
  CHECK(torch::equal(p.grad(), torch::tensor({2.0f, -1.0f})));
}

TEST_CASE("an overflowed gradient skips the step and halves the scale, clean steps grow it", "[amp]") {
  GradScaler scaler(true, 64.0, 2.0, 0.5, /*growth_interval=*/3);
  auto p = param_with_grad({1.0f, std::numeric_limits<float>::infinity()});
  CHECK_FALSE(scaler.unscale({p}));
  scaler.update(true);
  CHECK(scaler.scale() == 32.0);
  auto q = param_with_grad({1.0f, std::nanf("")});
  CHECK_FALSE(scaler.unscale({q}));
  scaler.update(true);
  CHECK(scaler.scale() == 16.0);
  for (int step = 0; step < 2; ++step) scaler.update(false);
  CHECK(scaler.scale() == 16.0);  // two clean steps: not yet
  scaler.update(false);
  CHECK(scaler.scale() == 32.0);  // the third: doubled
  scaler.update(true);
  scaler.update(false), scaler.update(false);
  CHECK(scaler.scale() == 16.0);  // an overflow restarts the count
}

TEST_CASE("a disabled scaler leaves loss and gradients alone and never skips", "[amp]") {
  GradScaler scaler(false);
  CHECK(scaler.scale() == 1.0);
  CHECK(scaler.scale(torch::tensor(3.0f)).item<float>() == 3.0f);
  auto p = param_with_grad({5.0f, std::numeric_limits<float>::infinity()});
  CHECK(scaler.unscale({p}));  // fp32 training keeps its own non-finite check on the loss
  CHECK(p.grad()[0].item<float>() == 5.0f);
  CHECK_THROWS_AS(GradScaler(true, 0.0), yolo::Error);
}

TEST_CASE("AMP is used on CUDA only, every other device trains in fp32", "[amp]") {
  CHECK(yolo::engine::amp_precision(torch::kCPU, true) == Precision::fp32);
  CHECK(yolo::engine::amp_precision(torch::kCPU, false) == Precision::fp32);
  CHECK(yolo::engine::to_string(Precision::bf16) == "bf16");
  if (torch::cuda::is_available()) {
    CHECK(yolo::engine::amp_precision(torch::kCUDA, true) != Precision::fp32);
    CHECK(yolo::engine::amp_precision(torch::kCUDA, false) == Precision::fp32);
  }
}

TEST_CASE("the autocast guard switches convolutions to the low precision and restores the state", "[amp]") {
  auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3));
  auto x = torch::rand({1, 3, 8, 8});
  {
    AutocastGuard outer(torch::kCPU, Precision::bf16);
    CHECK(conv(x).scalar_type() == torch::kBFloat16);
    {
      AutocastGuard inner(torch::kCPU, Precision::fp32);  // fp32: leaves the enclosing autocast on
      CHECK(conv(x).scalar_type() == torch::kBFloat16);
    }
    CHECK(conv(x).scalar_type() == torch::kBFloat16);
  }
  CHECK(conv(x).scalar_type() == torch::kFloat32);
  CHECK_THROWS_AS(AutocastGuard(torch::Device(torch::kMeta), Precision::fp16), yolo::Error);
}

TEST_CASE("the AMP check passes for a trained model under bf16 autocast and keeps the model's mode", "[amp]") {
  auto model = yolo::engine::load_model_from_checkpoint(yolo::test::data_path("yolov8n_fdet.pt")).model;
  model->train();
  std::string detail;
  const bool agree = yolo::engine::amp_outputs_agree(model, torch::kCPU, Precision::bf16, 128, &detail);
  INFO(detail);
  CHECK(agree);
  CHECK(detail.find("boxes") != std::string::npos);
  CHECK(model->is_training());
  CHECK(yolo::engine::amp_outputs_agree(model, torch::kCPU, Precision::fp32, 128));
}

TEST_CASE("device=-1 takes the least busy GPU with 20% of its memory free", "[amp][device]") {
  using yolo::engine::idlest_gpu;
  const std::string smi =
      "0, 70000, 81559, 95\n"
      "1, 1000, 81559, 30\n"
      "2, 500, 81559, 30\n"
      "3, 80000, 81559, 0\n"  // idle but full
      "4, [N/A], [N/A], [N/A]\n";
  CHECK(idlest_gpu(smi) == 2);
  CHECK(idlest_gpu("0, 80000, 81559, 0\n") == std::nullopt);
  CHECK(idlest_gpu("") == std::nullopt);
}
