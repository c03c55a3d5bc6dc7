#pragma once
// An exported .onnx file as a network the engine runs: `predict` and `val` prepare images and read
// outputs through the task seam as for a .pt model, and only the forward is OpenCV DNN's
// (export/dnn_model.h). Task, classes, stride and input size come from the file's metadata. It holds
// no trainable weights: train, resume and export from it are errors that point to the .pt checkpoint.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "yolo/nn/network.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {

class OpenCvDnnModel;
struct OnnxMetadata;

/// Whether `path` names an ONNX file (by its extension, as Ultralytics' AutoBackend tells formats apart).
bool is_onnx_file(const std::string& path);

class OnnxNetworkImpl : public nn::NetworkImpl {
 public:
  /// Loads `path` into OpenCV DNN. A build without OpenCV DNN, a file OpenCV cannot load (OpenCV 4.6: fp16 and
  /// dynamic exports), a task yolocpp does not run and a non-square fixed input are errors naming the file.
  explicit OnnxNetworkImpl(const std::string& path);

  const std::string& task() const override;
  int64_t nc() const override;
  /// {the largest stride} for detection (the metadata gives no other), {1} for classification.
  std::vector<double> strides() const override;
  /// {forward(x)}: the exported graph ends in the inference output; only predict and val call it.
  std::vector<torch::Tensor> forward_raw(torch::Tensor x) override;
  /// The exported graph's output on x's device: [B, 4 + nc, A] decoded boxes and scores, or [B, nc] probabilities.
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor decode(const std::vector<torch::Tensor>& raw) override;
  /// OpenCV's layers and the elements of their weights; nothing has a gradient.
  nn::ModelInfo info(int64_t imgsz = 640) override;
  std::string display_name() const override;
  nn::Architecture architecture() const override;
  /// Another handle on the same loaded graph (its weights are part of it); another class count is an error.
  std::shared_ptr<nn::NetworkImpl> rebuild(std::optional<int64_t> nc = std::nullopt) const override;
  int64_t fixed_imgsz() const override;

  const OnnxMetadata& metadata() const;
  const std::string& path() const { return path_; }

 private:
  OnnxNetworkImpl(std::shared_ptr<OpenCvDnnModel> model, std::string path);

  std::shared_ptr<OpenCvDnnModel> model_;
  std::string path_;
};

}  // namespace exporter
YOLO_END_NAMESPACE
