#pragma once
// torchvision's image classifiers (ResNet, ResNeXt, Wide ResNet, DenseNet) as LibTorch modules with
// torchvision's state_dict names (`layer1.0.conv1.weight`, `features.denseblock1.denselayer1.norm1.weight`),
// forward maths and weight initialisation, so that torchvision's .pth state dicts load by name.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {

/// resnet18/34/50/101/152, resnext50_32x4d, resnext101_32x8d, resnext101_64x4d, wide_resnet50_2,
/// wide_resnet101_2, densenet121/161/169/201: the names torchvision.models gives them.
std::vector<std::string> torchvision_model_names();
bool is_torchvision_model(const std::string& name);

/// What to build: an arch by name, then torchvision's constructor arguments, each overriding the
/// arch's default when set (DenseNet(growth_rate=12, ...) is `TorchvisionOptions("densenet121").growth_rate(12)`);
/// an empty list keeps the arch's.
struct TorchvisionOptions {
  TorchvisionOptions(std::string arch = "resnet18") : arch_(std::move(arch)) {}  // NOLINT: implicit by design
  TORCH_ARG(std::string, arch);
  TORCH_ARG(int64_t, num_classes) = 1000;
  // ResNet(block, layers, groups=, width_per_group=); the block (BasicBlock or Bottleneck) is the arch's.
  TORCH_ARG(std::vector<int64_t>, layers);  ///< blocks per stage, 4 values
  TORCH_ARG(std::optional<int64_t>, groups) = std::nullopt;
  TORCH_ARG(std::optional<int64_t>, width_per_group) = std::nullopt;
  // DenseNet(growth_rate=, block_config=, num_init_features=, bn_size=, drop_rate=).
  TORCH_ARG(std::optional<int64_t>, growth_rate) = std::nullopt;
  TORCH_ARG(std::vector<int64_t>, block_config);  ///< layers per dense block
  TORCH_ARG(std::optional<int64_t>, num_init_features) = std::nullopt;
  TORCH_ARG(std::optional<int64_t>, bn_size) = std::nullopt;
  TORCH_ARG(std::optional<double>, drop_rate) = std::nullopt;
};

/// A torchvision classifier. Children as torchvision names them: ResNet `conv1 bn1 layer1..layer4 fc`,
/// DenseNet `features classifier`. Built as torchvision builds it, random draws included: after the
/// same torch::manual_seed the weights equal torchvision's (LibTorch and PyTorch share the generator).
class TorchvisionClassifierImpl : public torch::nn::Module {
 public:
  /// Throws yolo::Error for an unknown arch (with a suggestion) or options the arch does not take.
  explicit TorchvisionClassifierImpl(TorchvisionOptions options);

  /// Logits [B, num_classes] of images [B, 3, H, W].
  torch::Tensor forward(torch::Tensor x);
  /// Replaces only the last layer (fc / classifier) with a freshly initialised one of `num_classes`
  /// outputs, on the old layer's device and dtype: fine-tuning a pretrained backbone on other classes.
  void reset_classifier(int64_t num_classes);

  const TorchvisionOptions& options() const { return options_; }
  bool is_densenet() const { return densenet_; }

 private:
  void build_resnet();
  void build_densenet();
  torch::nn::Linear make_classifier(int64_t in_features, int64_t num_classes) const;

  TorchvisionOptions options_;
  bool densenet_ = false;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<torch::nn::Sequential> stages_;  // layer1..layer4
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear classifier_{nullptr};  // "fc" in a ResNet, "classifier" in a DenseNet
};
TORCH_MODULE(TorchvisionClassifier);

/// Classes of a torchvision state dict: the rows of `fc.weight` or `classifier.weight`.
int64_t torchvision_num_classes(const std::vector<std::pair<std::string, torch::Tensor>>& state,
                                const std::string& source);

/// Copies a torchvision state dict (torch.save(model.state_dict()), read with io::load_checkpoint(path).model_state())
/// into `model` by name and shape, converting each tensor to the model's dtype (fp16 files load into fp32).
/// Also takes the files torchvision's ImageNet weights are: without batch-norm counters (`num_batches_tracked`,
/// then set to 0, as PyTorch does) and, for DenseNet, with legacy names (`denselayer1.norm.1.weight`). Every
/// other tensor must match both ways; otherwise throws yolo::Error naming `source` and a few of the missing,
/// unexpected and misshapen names (a file of another arch or class count), leaving the model unchanged.
void load_torchvision_state(TorchvisionClassifierImpl& model,
                            const std::vector<std::pair<std::string, torch::Tensor>>& state, const std::string& source);

}  // namespace nn
YOLO_END_NAMESPACE
