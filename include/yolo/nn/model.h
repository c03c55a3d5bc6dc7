#pragma once
// A YOLO network built from a ModelSpec, with Ultralytics' parameter names (`model.0.conv.weight`).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "yolo/nn/modules.h"
#include "yolo/nn/network.h"
#include "yolo/nn/spec.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {

class YoloModelImpl : public NetworkImpl {
 public:
  /// Builds every layer of `spec`, initialises weights as Ultralytics does and, for detection,
  /// measures the strides with a forward pass and sets the head's bias prior. Starts in train mode.
  explicit YoloModelImpl(ModelSpec spec);

  /// Head outputs: the per-level raw maps for detect, {logits} for classify.
  std::vector<torch::Tensor> forward_raw(torch::Tensor x) override;
  /// Inference output: decoded [B, 4 + nc, A] for detect, class probabilities [B, nc] for classify.
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor decode(const std::vector<torch::Tensor>& raw) override;

  const ModelSpec& spec() const { return spec_; }
  const std::string& task() const override { return spec_.task; }
  int64_t nc() const override { return spec_.nc; }
  /// Detection strides per level ({8, 16, 32} for YOLOv8 and YOLO11); {1} for classify, as Ultralytics.
  std::vector<double> strides() const override;
  /// The detection head; throws yolo::Error for a classification model.
  Detect detect_head();
  /// Layers, parameters, gradients and GFLOPs at `imgsz` (Ultralytics' model_info).
  ModelInfo info(int64_t imgsz = 640) override;
  /// "YOLOv8n" from the YAML's name.
  std::string display_name() const override;
  Architecture architecture() const override;
  std::shared_ptr<NetworkImpl> rebuild(std::optional<int64_t> nc = std::nullopt) const override;
  /// Folds every Conv's batch norm into its convolution for inference, as Ultralytics' fuse();
  /// parameter names then follow Ultralytics' fused models (`conv.bias`, no `bn`). Not for training.
  void fuse() override;
  bool is_fused() const override { return fused_; }
  /// The Classify head's dropout probability (no effect on detection models).
  void set_dropout(double p) override;
  /// The DFL projection of a detection head is fixed, as Ultralytics' always-frozen `.dfl`.
  std::vector<std::string> fixed_parameters() const override;

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

}  // namespace nn
YOLO_END_NAMESPACE
