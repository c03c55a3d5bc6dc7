#pragma once
// Counting multiply-adds during one forward pass, for the model summary's GFLOPs. Modules report
// their work here; outside YoloModelImpl::info() no tally is active and reporting costs nothing.
#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn::detail {

/// Operation counts by thop's rules, which Ultralytics uses.
struct FlopTally {
  double ops = 0;
};

/// The tally of the forward pass running on this thread, or null.
FlopTally*& active_flop_tally();

/// Convolution: output elements x input channels per group x kernel area (bias not counted).
inline void tally_conv(const torch::nn::Conv2dImpl& conv, const torch::Tensor& output) {
  if (auto* tally = active_flop_tally()) {
    const auto& w = conv.weight;
    tally->ops += static_cast<double>(output.numel()) * static_cast<double>(w.size(1) * w.size(2) * w.size(3));
  }
}
/// Batch norm with affine weights: 4 operations per element.
inline void tally_batch_norm(const torch::Tensor& input) {
  if (auto* tally = active_flop_tally()) tally->ops += 4.0 * static_cast<double>(input.numel());
}
/// Linear: output elements x input features.
inline void tally_linear(const torch::nn::LinearImpl& linear, const torch::Tensor& output) {
  if (auto* tally = active_flop_tally()) tally->ops += static_cast<double>(output.numel()) * linear.weight.size(1);
}
/// Adaptive average pool: per output element, the kernel's additions and one division.
inline void tally_adaptive_pool(const torch::Tensor& input, const torch::Tensor& output) {
  if (auto* tally = active_flop_tally()) {
    const double kernel = static_cast<double>(input.size(-1) / output.size(-1) * (input.size(-2) / output.size(-2)));
    tally->ops += (kernel + 1) * static_cast<double>(output.numel());
  }
}

/// Runs the children of a Sequential in turn, tallying plain Conv2d children.
torch::Tensor forward_counted(torch::nn::SequentialImpl& sequential, torch::Tensor x);

}  // namespace nn::detail
YOLO_END_NAMESPACE
