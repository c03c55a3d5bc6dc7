#pragma once
// yolo::Model — the facade most users need: build or load a model, then train, val or predict,
// with Ultralytics' argument names.
//
//   auto results = yolo::Model("yolov8n.yaml").load("yolov8n.pt")
//                      .train(yolo::TrainArgs().data("coco8.yaml").epochs(100).imgsz(640));
#include <memory>
#include <string>
#include <vector>

#include "yolo/config/args.h"
#include "yolo/engine/callbacks.h"
#include "yolo/engine/results.h"
#include "yolo/version.h"

namespace cv {
class Mat;
}
YOLO_BEGIN_NAMESPACE
namespace nn {
class NetworkImpl;
}  // namespace nn


class Model {
 public:
  /// A model YAML (built-in names such as "yolov8n.yaml" need no file), a checkpoint (.pt, ours or
  /// Ultralytics'), whose stored architecture is rebuilt and weights loaded, or an exported .onnx file (ours
  /// or Ultralytics'), which predict and val run through OpenCV's DNN module; train and export need the .pt.
  explicit Model(const std::string& model = "yolov8n.yaml");

  /// Transfers every tensor of `weights` whose name and shape match; logs how many were transferred.
  Model& load(const std::string& weights);

  /// Trains on args.data(); afterwards this model holds the best weights.
  TrainResults train(const TrainArgs& args);
  /// Validates on args.data() (default: the dataset the checkpoint was trained on).
  ValResults val(const ValArgs& args = ValArgs());
  /// Detects objects in a source with Ultralytics' Python defaults (conf 0.25, batch 1, nothing saved).
  std::vector<Prediction> predict(const std::string& source);
  std::vector<Prediction> predict(const std::string& source, const PredictArgs& args);
  /// In-memory BGR images (as cv::imread returns them).
  std::vector<Prediction> predict(const std::vector<cv::Mat>& images, const PredictArgs& args);

  /// Writes the model for other runtimes (format=onnx) next to the file it came from ("best.pt" ->
  /// "best.onnx") and returns the path written. C++ reserves the word `export`, hence the name.
  std::string export_model(const ExportArgs& args);
  /// Export's defaults, as Ultralytics' Model.export: batch 1 and the imgsz the model was trained at.
  ExportArgs export_defaults() const;

  /// "YOLOv8n summary: 129 layers, 3,157,200 parameters, 3,157,184 gradients, 8.9 GFLOPs".
  std::string info() const;
  const std::vector<std::string>& names() const;
  /// "detect" or "classify".
  const std::string& task() const;
  /// The checkpoint or YAML this model came from.
  const std::string& source() const;

  /// Attaches a training callback to an Ultralytics event name ("on_fit_epoch_end", ...).
  Model& add_callback(const std::string& event, TrainCallback callback);

  /// The underlying LibTorch module, for advanced use (include "yolo/nn/network.h"; a YOLO model
  /// from a YAML is a yolo::nn::YoloModelImpl, "yolo/nn/model.h").
  std::shared_ptr<nn::NetworkImpl> module() const;

  /// Predict defaults of the Python API, which differ from the CLI's (save=False, batch=1, conf=0.25).
  static PredictArgs predict_defaults();

 private:
  /// The task's defaults for keys left at TrainArgs' default (imgsz 224 or the checkpoint's, for classify).
  TrainArgs with_task_defaults(TrainArgs args) const;

  struct State;
  std::shared_ptr<State> state_;
};

YOLO_END_NAMESPACE
