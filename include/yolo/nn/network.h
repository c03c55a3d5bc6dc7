#pragma once
// What the engine needs of any network, whatever built it: a YOLO model from a model YAML, or a
// torchvision-style classifier (ResNet, DenseNet) whose state-dict names are torchvision's. The
// engine trains, validates, averages (EMA), fuses and checkpoints a Network without knowing which.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {

/// Size figures as Ultralytics' model summary prints them.
struct ModelInfo {
  int64_t layers = 0;       ///< distinct modules, root included (PyTorch's len(list(model.modules())))
  int64_t leaf_layers = 0;  ///< distinct modules without children: the "layers" Ultralytics' summary prints
  int64_t parameters = 0;  ///< elements of all parameters
  int64_t gradients = 0;   ///< elements of the parameters that require grad (all but the DFL conv)
  double gflops = 0;       ///< 2 x multiply-adds of one image at imgsz, in 1e9 (thop's rules); 0 when not counted
};

/// How to build a network again: what checkpoints record beside the weights.
struct Architecture {
  std::string family;     ///< "yaml" (a YOLO model YAML) or "torchvision"
  std::string name;       ///< the YAML's name or file ("yolov8n-cls.yaml"), or the torchvision name ("resnet50")
  std::string yaml_text;  ///< family "yaml": the whole model YAML
  /// family "torchvision": the constructor's options beyond the class count, as YAML scalars
  /// (growth_rate: "12", block_config: "[6, 12, 24, 16]").
  std::vector<std::pair<std::string, std::string>> options;
  int64_t nc = 0;
};

class NetworkImpl : public torch::nn::Module {
 public:
  /// "detect" or "classify".
  virtual const std::string& task() const = 0;
  virtual int64_t nc() const = 0;
  /// Detection strides per output level; {1} for classifiers, as Ultralytics.
  virtual std::vector<double> strides() const = 0;
  /// What the loss takes: the per-level raw maps for detection, {logits} for classification.
  virtual std::vector<torch::Tensor> forward_raw(torch::Tensor x) = 0;
  /// Inference output: decoded boxes [B, 4 + nc, A] for detection, probabilities [B, nc] for classification.
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  /// forward()'s output from forward_raw()'s, for loops that need both from one pass.
  virtual torch::Tensor decode(const std::vector<torch::Tensor>& raw) = 0;
  /// Layers, parameters, gradients and (where counted) GFLOPs at `imgsz`.
  virtual ModelInfo info(int64_t imgsz = 640);
  /// The summary's name: "YOLOv8n", "ResNet18".
  virtual std::string display_name() const = 0;
  virtual Architecture architecture() const = 0;
  /// A new network of the same architecture with fresh weights, with `nc` classes when given.
  virtual std::shared_ptr<NetworkImpl> rebuild(std::optional<int64_t> nc = std::nullopt) const = 0;
  /// Folds batch norms into convolutions for inference where the architecture supports it. Not for training.
  virtual void fuse() {}
  virtual bool is_fused() const { return false; }
  /// Ultralytics' `dropout` training key: the probability of the classification head's dropout.
  virtual void set_dropout(double /*p*/) {}
  /// The module an exporter walks (its ONNX emitters are keyed by module class): this network itself,
  /// or the classifier a wrapper holds.
  virtual const torch::nn::Module& export_module() const { return *this; }
  /// Parameters that are never trained, by name fragment (the DFL projection of YOLO detection heads).
  virtual std::vector<std::string> fixed_parameters() const { return {}; }
  /// The one square image size an exported fixed-shape model takes (predict and val then letterbox every
  /// image to it); 0 when any multiple of the stride works.
  virtual int64_t fixed_imgsz() const { return 0; }
};

/// A shared handle to any network; a YoloModel (or any other network holder) converts to it.
class Network : public torch::nn::ModuleHolder<NetworkImpl> {
 public:
  using torch::nn::ModuleHolder<NetworkImpl>::ModuleHolder;
  template <typename Derived, typename = std::enable_if_t<std::is_base_of_v<NetworkImpl, Derived>>>
  Network(const torch::nn::ModuleHolder<Derived>& derived)  // NOLINT: implicit, as shared_ptr's upcast
      : torch::nn::ModuleHolder<NetworkImpl>(std::shared_ptr<NetworkImpl>(derived.ptr())) {}
};

/// Builds the architecture a checkpoint recorded (fresh weights).
Network build_network(const Architecture& architecture);

/// A network by name: a model YAML (file or built-in name such as "yolov8n-cls.yaml") or a
/// torchvision architecture name ("resnet50"); `nc` overrides the class count.
Network create_network(const std::string& name, std::optional<int64_t> nc = std::nullopt);

/// Whether `name` names a torchvision architecture ("resnet18", "densenet121"; nn/torchvision.h lists them).
bool is_torchvision_name(const std::string& name);

/// "YOLOv8n summary: 129 layers, 3,157,200 parameters, 3,157,184 gradients, 8.9 GFLOPs", as
/// Ultralytics 8.3.166 prints it (layers: ModelInfo::leaf_layers).
std::string format_info(NetworkImpl& model, int64_t imgsz = 640);

using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

/// Parameters and buffers with their state-dict names, in PyTorch's state_dict order.
StateDict state_dict(const torch::nn::Module& module);
template <typename Impl>
StateDict state_dict(const torch::nn::ModuleHolder<Impl>& holder) {
  return state_dict(*holder);
}

/// Outcome of transfer_weights: how many of the model's tensors were filled, and which were not.
struct TransferReport {
  int64_t transferred = 0;
  int64_t total = 0;                    ///< the model's parameters and buffers
  std::vector<std::string> missing;     ///< model tensors absent from the state
  std::vector<std::string> mismatched;  ///< present, but with another shape
};

/// Copies every state tensor whose name and shape match into the module (converted to the module
/// tensor's dtype and device), as Ultralytics' intersect_dicts + load_state_dict(strict=False).
TransferReport transfer_weights(torch::nn::Module& module, const StateDict& state);
template <typename Impl>
TransferReport transfer_weights(torch::nn::ModuleHolder<Impl>& holder, const StateDict& state) {
  return transfer_weights(*holder, state);
}

/// Stores the 4-D weights channels-last (NHWC). With NHWC inputs, oneDNN and cuDNN convolve
/// without reordering every activation: +25% training images/s on a 2-core CPU here.
void use_channels_last(torch::nn::Module& model);

/// An inference copy: same weights, eval mode, batch norms folded where the architecture allows (as
/// Ultralytics' predict and standalone val run). The original is left as it is.
Network fused_copy(NetworkImpl& model);

}  // namespace nn
YOLO_END_NAMESPACE
