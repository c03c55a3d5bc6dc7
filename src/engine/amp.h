#pragma once
// Mixed-precision training, as torch.autocast with torch.amp.GradScaler: autocast on CUDA, in bf16 where
// the GPU computes it natively (bf16 keeps fp32's range, so no loss scaling), else in fp16 with a dynamic
// loss scale. Other devices train in fp32, as Ultralytics does.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "yolo/nn/network.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

enum class Precision { fp32, bf16, fp16 };
std::string to_string(Precision precision);

/// The precision of a run on `device` when `amp=requested`: bf16 or fp16 on CUDA, fp32 elsewhere.
Precision amp_precision(const torch::Device& device, bool requested);

/// Autocast for the device type of `device` in `precision` while alive (nothing for fp32); restores the
/// previous state and drops autocast's weight-cast cache when it ends, as leaving torch.autocast does.
class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, Precision precision);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType type_;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_;
};

/// Dynamic loss scaling for fp16 gradients, with torch.amp.GradScaler's defaults and rule: multiply the loss
/// by the scale; before the step, divide the gradients back and skip the step if any is inf/NaN; halve the
/// scale after an overflow, double it after `growth_interval` clean steps. Disabled: scale 1, never skips.
class GradScaler {
 public:
  explicit GradScaler(bool enabled, double init_scale = 65536.0, double growth_factor = 2.0,
                      double backoff_factor = 0.5, int64_t growth_interval = 2000);

  bool enabled() const { return enabled_; }
  double scale() const { return enabled_ ? scale_ : 1.0; }
  torch::Tensor scale(const torch::Tensor& loss) const;
  /// Divides every defined gradient of `params` by the scale, in place. True when all are finite.
  bool unscale(const std::vector<torch::Tensor>& params) const;
  /// Adjusts the scale after a step that was taken (`found_inf` false) or skipped.
  void update(bool found_inf);

 private:
  bool enabled_;
  double scale_, growth_factor_, backoff_factor_;
  int64_t growth_interval_, clean_steps_ = 0;
};

/// Ultralytics' AMP sanity check for our model: its inference outputs on a fixed image in fp32 and under
/// autocast must agree (boxes within 0.5 px + 1% in fp16, 8x that in bf16, class scores within 0.05).
/// The model is left in the
/// train/eval mode it was in. `detail` receives the largest differences, for the warning.
bool amp_outputs_agree(nn::Network& model, const torch::Device& device, Precision precision, int64_t imgsz,
                       std::string* detail = nullptr);

}  // namespace engine
YOLO_END_NAMESPACE
