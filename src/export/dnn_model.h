#pragma once
// An exported .onnx model run by OpenCV's DNN module (Debian: libopencv-dnn-dev): the computation needs
// no LibTorch, and the output is what YoloModel::forward returns, so that the predictor's and the
// validator's pre- and post-processing apply unchanged.
#include <memory>
#include <string>

#include <torch/torch.h>

#include "export/onnx_metadata.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {

class OpenCvDnnModel {
 public:
  /// Loads `path` (an .onnx file with Ultralytics' metadata) into OpenCV DNN, on the CPU.
  explicit OpenCvDnnModel(const std::string& path);
  ~OpenCvDnnModel();
  OpenCvDnnModel(OpenCvDnnModel&&) noexcept;
  OpenCvDnnModel& operator=(OpenCvDnnModel&&) noexcept;

  /// images [B, C, H, W] in [0, 1], as the predictor and validator make them -> fp32 on the CPU:
  /// [B, 4 + nc, A] for detect, class probabilities [B, nc] for classify. A model exported with a
  /// fixed batch runs any B in chunks of that batch; H and W must be its imgsz unless it is dynamic.
  torch::Tensor forward(const torch::Tensor& images);

  const OnnxMetadata& metadata() const { return metadata_; }

  /// OpenCV's layers and the elements of their weights (the exporter has folded the batch norms).
  struct GraphSize {
    int64_t layers = 0, parameters = 0;
  };
  GraphSize graph_size() const;

 private:
  struct Net;
  std::unique_ptr<Net> net_;
  OnnxMetadata metadata_;
};

}  // namespace exporter
YOLO_END_NAMESPACE
