#pragma once
// Validation of each task: detection (letterboxed rect batches, NMS, matching at IoU 0.50:0.95, the
// Ultralytics table) and classification (top-1 / top-5 accuracy, the `classes top1_acc top5_acc`
// table). Used by training every epoch (on the EMA weights) and by `val` mode.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "yolo/config/args.h"
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

/// A task's training loss of one batch.
struct LossValue {
  torch::Tensor total;  ///< what backward() takes, scaled as Ultralytics scales it
  torch::Tensor items;  ///< [number of loss columns] detached float32: the logged values
};
/// The loss of a batch from the network's raw outputs (forward_raw), computed in float32.
using LossFn = std::function<LossValue(const std::vector<torch::Tensor>& raw, const data::Batch& batch)>;

struct ValidatorOptions {
  double conf = 0.001, iou = 0.7;
  int64_t max_det = 300;
  bool agnostic_nms = false;
  bool single_cls = false;
  bool half = false;
  bool verbose = true;  ///< print one row per class after the `all` row (detection)
  std::vector<std::string> names;
  /// save_json: where the predictions go as COCO JSON (Ultralytics' predictions.json); empty: nowhere.
  std::string json_path;
  bool coco_category_ids = false;  ///< COCO val2017: classes map to COCO's 91 ids; otherwise class + 1
  bool print_speed = true;  ///< log the "Speed: ..." line when verbose (training's closing summary has its own)
  /// Return what the plots draw in ValResults::plots: the per-class curves, the confusion matrix, and the first
  /// three batches with their labels and predictions (val_batchN_labels / _pred).
  bool plots = false;
};

/// Whether a val split is COCO's val2017 (Ultralytics' rule: a .txt list under a path naming coco), whose
/// JSON category ids follow COCO's 91-id numbering.
bool is_coco_val(const std::vector<std::string>& val_sources);

class DetectionValidator {
 public:
  DetectionValidator(std::shared_ptr<data::DataLoader> loader, ValidatorOptions options);
  /// Runs the whole split through `model` (in eval mode) on `device`; with `loss`, also the val losses.
  /// With `group`, the loader holds this rank's shard (make_val_loader's rank/world_size): every rank
  /// computes its images, their statistics are gathered, and every rank returns the metrics of the
  /// whole split. Only rank 0 prints the table.
  ValResults run(nn::Network& model, const torch::Device& device, const LossFn* loss = nullptr,
                 ProcessGroup* group = nullptr);

 private:
  std::shared_ptr<data::DataLoader> loader_;
  ValidatorOptions options_;
};

class ClassificationValidator {
 public:
  ClassificationValidator(std::shared_ptr<data::DataLoader> loader, ValidatorOptions options);
  /// Top-1 / top-5 accuracy of `model` over the split (ties ranked as torch.argsort), as Ultralytics'
  /// ClassifyMetrics; with `loss`, the val loss (the mean over batches of each batch's mean
  /// cross-entropy, as Ultralytics' validator sums it). `group` as for DetectionValidator.
  ValResults run(nn::Network& model, const torch::Device& device, const LossFn* loss = nullptr,
                 ProcessGroup* group = nullptr);

 private:
  std::shared_ptr<data::DataLoader> loader_;
  ValidatorOptions options_;
};

/// `val` mode: the split `args.split()` of `args.data()` through `model` for the model's task,
/// printing the table.
ValResults validate(nn::Network model, const ValArgs& args);

/// The detection validation loader for a split, as training and `val` build it (rect batches,
/// letterbox, pad 0.5); with world_size > 1, rank `rank`'s share of whole batches.
std::shared_ptr<data::DataLoader> make_val_loader(const std::vector<std::string>& sources,
                                                  const std::vector<std::string>& names, const TrainArgs& args,
                                                  int64_t batch_size, int64_t stride, bool pin_memory,
                                                  int64_t rank = 0, int64_t world_size = 1);

}  // namespace engine
YOLO_END_NAMESPACE
