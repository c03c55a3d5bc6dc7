#pragma once
// A YOLO network built from a ModelSpec, with Ultralytics' parameter names (`model.0.conv.weight`).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "yolo/nn/modules.h"
#include "yolo/nn/spec.h"

namespace yolo::nn {

/// Size figures as Ultralytics' model summary prints them.
struct ModelInfo {
  int64_t layers = 0;      ///< distinct modules, root included (PyTorch's len(list(model.modules())))
  int64_t leaf_layers = 0;  ///< distinct modules without children: the "layers" Ultralytics' summary prints
  int64_t parameters = 0;  ///< elements of all parameters
  int64_t gradients = 0;   ///< elements of the parameters that require grad (all but the DFL conv)
  double gflops = 0;       ///< 2 x multiply-adds of one image at imgsz, in 1e9 (thop's rules)
};

class YoloModelImpl : public torch::nn::Module {
 public:
  /// Builds every layer of `spec`, initialises weights as Ultralytics does and, for detection,
  /// measures the strides with a forward pass and sets the head's bias prior. Starts in train mode.
  explicit YoloModelImpl(ModelSpec spec);

  /// Head outputs: the per-level raw maps for detect, {logits} for classify.
  std::vector<torch::Tensor> forward_raw(torch::Tensor x);
  /// Inference output: decoded [B, 4 + nc, A] for detect, class probabilities [B, nc] for classify.
  torch::Tensor forward(torch::Tensor x);

  const ModelSpec& spec() const { return spec_; }
  const std::string& task() const { return spec_.task; }
  int64_t nc() const { return spec_.nc; }
  /// Detection strides per level ({8, 16, 32} for YOLOv8 and YOLO11); {1} for classify, as Ultralytics.
  std::vector<double> strides() const;
  /// The detection head; throws yolo::Error for a classification model.
  Detect detect_head();
  /// Layers, parameters, gradients and GFLOPs at `imgsz` (Ultralytics' model_info).
  ModelInfo info(int64_t imgsz = 640);
  /// Folds every Conv's batch norm into its convolution for inference, as Ultralytics' fuse();
  /// parameter names then follow Ultralytics' fused models (`conv.bias`, no `bn`). Not for training.
  void fuse();
  bool is_fused() const { return fused_; }

 private:
  struct Layer {
    std::vector<int64_t> from;  ///< absolute layer indices; -1 is the previous layer's output
    std::function<torch::Tensor(const std::vector<torch::Tensor>&)> forward;
  };
  std::vector<torch::Tensor> gather_inputs(const Layer& layer, const torch::Tensor& previous,
                                           const std::vector<torch::Tensor>& saved) const;

  ModelSpec spec_;
  torch::nn::ModuleList model{nullptr};  // named "model", children "0", "1", ... as Ultralytics
  std::vector<Layer> layers_;            // all but the head, which is the last child
  std::vector<bool> keep_output_;        // outputs later rows read
  Detect detect_{nullptr};
  Classify classify_{nullptr};
  bool fused_ = false;
};
TORCH_MODULE(YoloModel);

/// "YOLOv8n summary: 129 layers, 3,157,200 parameters, 3,157,184 gradients, 8.9 GFLOPs", as
/// Ultralytics 8.3.166 prints it (layers: ModelInfo::leaf_layers).
std::string format_info(YoloModelImpl& model, int64_t imgsz = 640);

/// Outcome of transfer_weights: how many of the model's tensors were filled, and which were not.
struct TransferReport {
  int64_t transferred = 0;
  int64_t total = 0;                    ///< the model's parameters and buffers
  std::vector<std::string> missing;     ///< model tensors absent from the state
  std::vector<std::string> mismatched;  ///< present, but with another shape
};

/// Copies every state tensor whose name and shape match into the model (converted to the model
/// tensor's dtype and device), as Ultralytics' intersect_dicts + load_state_dict(strict=False).
TransferReport transfer_weights(YoloModel& model, const std::vector<std::pair<std::string, torch::Tensor>>& state);
/// The same for any module (torchvision classifiers...), with its state_dict() names.
TransferReport transfer_weights(torch::nn::Module& model,
                                const std::vector<std::pair<std::string, torch::Tensor>>& state);

/// Stores the 4-D weights channels-last (NHWC). With NHWC inputs, oneDNN and cuDNN convolve
/// without reordering every activation: +25% training images/s on a 2-core CPU here.
void use_channels_last(torch::nn::Module& model);

/// An inference copy: same weights, eval mode, batch norms folded into the convolutions (as
/// Ultralytics' predict and standalone val run). The original model is left as it is.
YoloModel fused_copy(YoloModel& model);

/// Parameters and buffers with Ultralytics' names, in PyTorch's state_dict order.
std::vector<std::pair<std::string, torch::Tensor>> state_dict(YoloModel& model);
/// Parameters and buffers of any module, named and ordered as PyTorch's Module.state_dict().
std::vector<std::pair<std::string, torch::Tensor>> state_dict(const torch::nn::Module& module);

}  // namespace yolo::nn
