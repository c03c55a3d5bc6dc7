#pragma once
// A task (detect, classify) as a small table of factories: its data, loss, validator, and how
// predict prepares images and reads outputs. The trainer, `val` and `predict` call these and know
// nothing else of detection or classification. A new task (segment, pose) is one more table.
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "data/dataset_yaml.h"
#include "data/options.h"
#include "engine/run_options.h"
#include "yolo/engine/results.h"
#include "yolo/nn/network.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {
class DataLoader;
struct Batch;
}  // namespace data

namespace engine {

class ProcessGroup;

/// One validation pass over a loader's split: the metrics, and the mean val losses when `loss` is
/// given. With `group`, the loader holds this rank's shard; every rank returns the whole split's
/// metrics and only rank 0 prints the table.
using ValidateFn = std::function<ValResults(nn::Network& model, const torch::Device& device, const LossFn* loss,
                                            ProcessGroup* group)>;

/// What a loader is for.
struct LoaderRequest {
  bool train = false;      ///< augmented and shuffled, else the val transform in file order
  int64_t batch_size = 16;  ///< this rank's
  int64_t stride = 32;     ///< the model's largest stride (detection letterboxes to multiples of it)
  int64_t rank = 0, world_size = 1;
  bool pin_memory = false;
  /// Validation letterboxes every image to an imgsz square instead of rect batches (an exported fixed-shape model).
  bool square = false;
};

/// One image as predict feeds it to the model, and how to map outputs back to the original.
struct PredictInput {
  torch::Tensor image;                     ///< uint8 [3, H, W], RGB
  double ratio = 1, pad_w = 0, pad_h = 0;  ///< the letterbox of detection
};

struct Task {
  std::string name;                     ///< "detect": also the run folder runs/detect/...
  std::vector<std::string> loss_names;  ///< Ultralytics' loss columns without prefix: "box_loss", ...

  /// The dataset `options.data` names, its splits resolved and its class names known.
  data::DataSpec (*load_data)(const DataOptions& options);
  /// The batches of a split's sources for one rank.
  std::shared_ptr<data::DataLoader> (*make_loader)(const std::vector<std::string>& sources,
                                                   const data::DataSpec& data, const DataOptions& options,
                                                   const LoaderRequest& request);
  /// The training loss of `model` (its class count, strides).
  LossFn (*make_loss)(const nn::NetworkImpl& model, const RunOptions& options);
  /// A validator over `loader` (which reads `sources`).
  ValidateFn (*make_validator)(std::shared_ptr<data::DataLoader> loader, const std::vector<std::string>& sources,
                               ValidatorOptions options);
  /// The batch's images (float, 0-1, on the device) as trained on: detection's multi_scale resizes them.
  torch::Tensor (*train_images)(torch::Tensor images, int64_t iteration, const TrainerOptions& options,
                                int64_t stride);
  /// predict: one BGR image made ready for the model; `auto_pad` when the whole batch has one shape and the
  /// model takes any size (detection then pads to the next stride multiple only, else to an imgsz square).
  PredictInput (*predict_input)(const cv::Mat& bgr, const PredictorOptions& options, int64_t stride, bool auto_pad);
  /// predict: the batch's inference output (forward()) into each image's boxes or probabilities.
  void (*predict_output)(const torch::Tensor& output, std::array<int64_t, 2> input_hw,
                         const std::vector<PredictInput>& inputs, const PredictorOptions& options,
                         const std::vector<std::string>& names, std::vector<Prediction>& predictions);
};

const Task& detect_task();
const Task& classify_task();

/// A loader request as loader options: this rank's batches, shuffled when `shuffle`; validation
/// (request.train false) deals whole batches to the ranks, so that every image is seen once.
data::LoaderOptions loader_options(const DataOptions& options, const LoaderRequest& request, bool shuffle);

/// A batch's images as the networks take them: float in [0, 1] on `device`, channels-last like the weights.
torch::Tensor model_input(const data::Batch& batch, const torch::Device& device);

/// An error unless `model` takes `imgsz` images: an exported fixed-shape model runs only at the size it was exported at.
void check_input_size(const nn::NetworkImpl& model, int64_t imgsz);

/// The task called `name`; any other name is an error listing the tasks there are.
const Task& task_named(const std::string& name);

}  // namespace engine
YOLO_END_NAMESPACE
