#include "engine/amp.h"

#include <cmath>

#include <fmt/format.h>

#include "utils/torch_compat.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

std::string to_string(Precision precision) {
  switch (precision) {
    case Precision::bf16: return "bf16";
    case Precision::fp16: return "fp16";
    default: return "fp32";
  }
}

Precision amp_precision(const torch::Device& device, bool requested) {
  if (!requested || !device.is_cuda()) return Precision::fp32;
  return compat::cuda_supports_bf16() ? Precision::bf16 : Precision::fp16;
}

AutocastGuard::AutocastGuard(const torch::Device& device, Precision precision) : type_(device.type()) {
  if (precision == Precision::fp32) return;
  YOLO_CHECK(type_ == c10::DeviceType::CUDA || type_ == c10::DeviceType::CPU,
             "autocast to {} is supported on CUDA and CPU, not on {}", to_string(precision), device.str());
  active_ = true;
  was_enabled_ = compat::autocast_enabled(type_);
  previous_dtype_ = compat::autocast_dtype(type_);
  compat::set_autocast(type_, true, precision == Precision::bf16 ? at::kBFloat16 : at::kHalf);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // As torch.autocast's __exit__: the outermost scope drops the cached low-precision weight copies.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  compat::set_autocast(type_, was_enabled_, previous_dtype_);
}

GradScaler::GradScaler(bool enabled, double init_scale, double growth_factor, double backoff_factor,
                       int64_t growth_interval)
    : enabled_(enabled),
      scale_(init_scale),
      growth_factor_(growth_factor),
      backoff_factor_(backoff_factor),
      growth_interval_(growth_interval) {
  YOLO_CHECK(init_scale > 0 && growth_factor > 1 && backoff_factor > 0 && backoff_factor < 1 && growth_interval > 0,
             "GradScaler needs init_scale > 0, growth_factor > 1, 0 < backoff_factor < 1, growth_interval > 0");
}

torch::Tensor GradScaler::scale(const torch::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

bool GradScaler::unscale(const std::vector<torch::Tensor>& params) const {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  const double inverse = 1.0 / scale_;
  std::vector<torch::Tensor> finite;  // one flag per gradient, read back once
  for (const auto& p : params) {
    auto grad = p.grad();
    if (!grad.defined()) continue;
    grad.mul_(inverse);
    finite.push_back(torch::isfinite(grad).all());
  }
  return finite.empty() || torch::stack(finite).all().item<bool>();
}

void GradScaler::update(bool found_inf) {
  if (!enabled_) return;
  if (found_inf) {
    scale_ *= backoff_factor_;
    clean_steps_ = 0;
  } else if (++clean_steps_ == growth_interval_) {
    scale_ *= growth_factor_;
    clean_steps_ = 0;
  }
}

bool amp_outputs_agree(nn::Network& model, const torch::Device& device, Precision precision, int64_t imgsz,
                       std::string* detail) {
  if (precision == Precision::fp32) return true;
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  // A fixed image with structure at every scale: smooth gradients plus a checkerboard, in [0, 1].
  const int64_t size = std::max<int64_t>(64, imgsz / 32 * 32);
  auto ramp = torch::linspace(0, 1, size, torch::kFloat32);
  auto yy = ramp.view({-1, 1}).expand({size, size}), xx = ramp.view({1, -1}).expand({size, size});
  auto cells = torch::div(torch::arange(size), 16, "floor");
  auto checker = torch::remainder(cells.view({-1, 1}) + cells.view({1, -1}), 2).to(torch::kFloat32);
  auto image = torch::stack({xx, yy, 0.5 * checker + 0.25 * (xx + yy)}).unsqueeze(0).to(device);
  torch::Tensor reference, mixed;
  try {
    reference = model->forward(image).to(torch::kFloat32);
    {
      AutocastGuard autocast(device, precision);
      mixed = model->forward(image).to(torch::kFloat32);
    }
  } catch (...) {
    model->train(was_training);
    throw;
  }
  model->train(was_training);
  bool agree;
  double box_diff, score_diff;
  if (model->task() == "classify") {
    box_diff = 0;
    score_diff = (mixed - reference).abs().max().item<double>();
    agree = score_diff <= 0.05;
  } else {
    auto boxes = reference.narrow(1, 0, 4), mixed_boxes = mixed.narrow(1, 0, 4);
    auto scores = reference.narrow(1, 4, reference.size(1) - 4), mixed_scores = mixed.narrow(1, 4, mixed.size(1) - 4);
    box_diff = (mixed_boxes - boxes).abs().max().item<double>();
    score_diff = (mixed_scores - scores).abs().max().item<double>();
    // Ultralytics' 0.5 px is for fp16; bf16 keeps 3 fewer mantissa bits, so its rounding is 8x coarser.
    const double coarser = precision == Precision::bf16 ? 8.0 : 1.0;
    agree = ((mixed_boxes - boxes).abs() <= coarser * (0.5 + 0.01 * boxes.abs())).all().item<bool>() &&
            score_diff <= 0.05 && torch::isfinite(mixed).all().item<bool>();
  }
  if (detail) *detail = fmt::format("largest differences: boxes {:.3g} px, scores {:.3g}", box_diff, score_diff);
  return agree;
}

}  // namespace engine
YOLO_END_NAMESPACE
