#include "engine/validator.h"

#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "config/resolve.h"
#include "data/dataset.h"
#include "data/dataset_yaml.h"
#include "data/loader.h"
#include "engine/device.h"
#include "engine/process_group.h"
#include "engine/run_dir.h"
#include "engine/run_options.h"
#include "engine/task.h"
#include "io/checkpoint.h"
#include "metrics/classify_metrics.h"
#include "metrics/confusion_matrix.h"
#include "metrics/det_metrics.h"
#include "metrics/nms.h"
#include "plots/from_metrics.h"
#include "plots/mosaic.h"
#include "plots/val_state.h"
#include "plots/validation_plots.h"
#include "utils/boxes.h"
#include "utils/json.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {
namespace {

using Clock = std::chrono::steady_clock;

ValResults to_results(const metrics::DetectionMetrics& m, const std::vector<std::string>& names) {
  ValResults r;
  r.precision = m.precision, r.recall = m.recall, r.map50 = m.map50, r.map75 = m.map75;
  r.map50_95 = m.map50_95, r.fitness = m.fitness;
  for (const auto& c : m.per_class) {
    ClassResult row;
    row.class_id = static_cast<int>(c.class_id);
    row.name = c.class_id < static_cast<int64_t>(names.size()) ? names[c.class_id] : std::to_string(c.class_id);
    row.images = c.images, row.instances = c.instances;
    row.precision = c.precision, row.recall = c.recall, row.map50 = c.map50, row.map50_95 = c.map50_95;
    r.per_class.push_back(row);
  }
  return r;
}

// COCO's ids of its 80 detection classes, which skip 11 of 1..90.
constexpr std::array<int, 80> kCoco80To91 = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31,
    32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
    60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90};

/// COCO's detection result rows for one image: image_id (the file stem, a number when it is one),
/// category_id, bbox as top-left x, y, width, height in original pixels, score — rounded as Ultralytics.
void append_coco_rows(std::string& json, const std::string& file, const torch::Tensor& pred, bool coco_ids) {
  const std::string stem = std::filesystem::path(file).stem().string();
  const bool numeric = !stem.empty() && std::all_of(stem.begin(), stem.end(), [](unsigned char c) { return std::isdigit(c); });
  const std::string image_id = numeric ? std::to_string(std::stoll(stem)) : json_quote(stem);
  auto rows = pred.accessor<float, 2>();
  auto round_to = [](double v, double scale) { return std::round(v * scale) / scale; };
  for (int64_t k = 0; k < rows.size(0); ++k) {
    const auto cls = static_cast<int64_t>(rows[k][5]);
    const int category = coco_ids && cls >= 0 && cls < 80 ? kCoco80To91[static_cast<size_t>(cls)] : static_cast<int>(cls) + 1;
    const double x1 = rows[k][0], y1 = rows[k][1], w = rows[k][2] - x1, h = rows[k][3] - y1;
    json += fmt::format("{}{{\"image_id\": {}, \"category_id\": {}, \"bbox\": [{}, {}, {}, {}], \"score\": {}}}",
                        json.size() > 1 ? ", " : "", image_id, category, round_to(x1, 1e3), round_to(y1, 1e3),
                        round_to(w, 1e3), round_to(h, 1e3), round_to(rows[k][4], 1e5));
  }
}

/// Eval mode while alive; the mode the model had comes back after.
class EvalMode {
 public:
  explicit EvalMode(nn::NetworkImpl& model) : model_(model), was_training_(model.is_training()) { model_.eval(); }
  ~EvalMode() { model_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  nn::NetworkImpl& model_;
  bool was_training_;
};

/// A validation batch's input: model_input(), in half precision when asked on CUDA.
torch::Tensor validation_input(const data::Batch& batch, const torch::Device& device, bool half) {
  auto x = model_input(batch, device);
  return half && device.is_cuda() ? x.to(torch::kHalf) : x;
}

/// Milliseconds since the previous lap (or the start): the stages of a validation batch one after another.
class StageTimer {
 public:
  double lap() {
    const auto now = Clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
    return ms;
  }

 private:
  Clock::time_point last_ = Clock::now();
};

/// The class names the plots show: the validator's, or the class ids when it was given none.
std::vector<std::string> plot_names(const std::vector<std::string>& names, int64_t nc) {
  if (static_cast<int64_t>(names.size()) == nc) return names;
  std::vector<std::string> ids;
  for (int64_t i = 0; i < nc; ++i) ids.push_back(std::to_string(i));
  return ids;
}

/// As Ultralytics: the first three validation batches are drawn, with their labels and with the predictions.
constexpr int64_t kPlottedBatches = 3;

void add_batch_pictures(plots::ValidationPlots& out, int64_t batch_index, const std::vector<plots::MosaicTile>& labels,
                        const std::vector<plots::MosaicTile>& predictions, const std::vector<std::string>& names) {
  out.batches.emplace_back(fmt::format("val_batch{}_labels", batch_index), plots::draw_mosaic(labels, names));
  out.batches.emplace_back(fmt::format("val_batch{}_pred", batch_index), plots::draw_mosaic(predictions, names));
}

/// A confusion matrix summed over the ranks of a sharded validation.
void reduce_confusion(metrics::ConfusionMatrix& matrix, ProcessGroup* group) {
  if (group == nullptr || group->world_size() == 1) return;
  auto counts = matrix.matrix().to(torch::kFloat64);
  auto mine = counts.clone();
  group->allreduce_sum(counts);
  matrix.add_counts((counts - mine).round().to(torch::kLong));
}

/// Milliseconds per image of each stage, logged as Ultralytics' "Speed: ..." line when `verbose`.
Speed per_image(const Speed& total, int64_t images, bool verbose) {
  const auto n = static_cast<double>(images);
  const Speed s{total.preprocess / n, total.inference / n, total.loss / n, total.postprocess / n};
  if (verbose)
    log_info("Speed: {:.1f}ms preprocess, {:.1f}ms inference, {:.1f}ms loss, {:.1f}ms postprocess per image",
             s.preprocess, s.inference, s.loss, s.postprocess);
  return s;
}

}  // namespace

bool is_coco_val(const std::vector<std::string>& val_sources) {
  for (const auto& source : val_sources) {
    const auto at = source.size() >= 11 ? source.size() - 11 : 0;
    if (source.find("coco") != std::string::npos && source.compare(at, std::string::npos, "val2017.txt") == 0)
      return true;
  }
  return false;
}

DetectionValidator::DetectionValidator(std::shared_ptr<data::DataLoader> loader, ValidatorOptions options)
    : loader_(std::move(loader)), options_(std::move(options)) {}

ValResults DetectionValidator::run(nn::Network& model, const torch::Device& device, const LossFn* loss,
                                   ProcessGroup* group) {
  torch::NoGradGuard no_grad;
  EvalMode eval(*model);
  const auto nc = model->nc();
  metrics::DetectionStats stats(nc);
  metrics::NmsOptions nms;
  nms.conf = options_.conf, nms.iou = options_.iou, nms.max_det = options_.max_det;
  nms.agnostic = options_.single_cls || options_.agnostic_nms;
  nms.multi_label = true;  // as Ultralytics' detection validator

  torch::Tensor loss_sum = torch::zeros({static_cast<int64_t>(detect_task().loss_names.size())});
  const auto names = plot_names(options_.names, nc);
  auto pictures = options_.plots ? std::make_shared<plots::ValidationPlots>() : nullptr;
  metrics::ConfusionMatrix confusion(nc);
  std::string json = "[";
  Speed total;
  int64_t images = 0, batches = 0;
  loader_->set_epoch(0);
  while (auto batch = loader_->next()) {
    StageTimer timer;
    auto x = validation_input(*batch, device, options_.half);
    synchronize(device);
    total.preprocess += timer.lap();
    auto raw = model->forward_raw(x);
    auto prediction = model->decode(raw);
    synchronize(device);
    total.inference += timer.lap();
    if (loss) loss_sum += (*loss)(raw, *batch).items.to(torch::kCPU);
    total.loss += timer.lap();
    auto detections = metrics::non_max_suppression(prediction.to(torch::kFloat32), nms);
    total.postprocess += timer.lap();

    const auto input_h = x.size(2), input_w = x.size(3);
    auto targets = batch->targets.to(torch::kCPU);
    const bool draw = pictures && batches < kPlottedBatches;
    std::vector<plots::MosaicTile> label_tiles = draw ? plots::batch_tiles(*batch) : std::vector<plots::MosaicTile>{};
    auto prediction_tiles = label_tiles;
    for (auto& tile : prediction_tiles) tile.boxes.clear();
    for (size_t si = 0; si < detections.size(); ++si) {
      const auto& orig = batch->orig_shapes[si];
      const auto& letterbox = batch->ratio_pad[si];
      const metrics::RatioPad rp{letterbox[0], letterbox[1], letterbox[2], letterbox[3]};
      const metrics::ImageShape input{input_h, input_w};
      auto pred = detections[si].to(torch::kCPU).clone();
      if (options_.single_cls) pred.select(1, 5).zero_();
      if (si < prediction_tiles.size()) {  // in the batch's pixels, before the boxes go back to the original's
        auto p = pred.accessor<float, 2>();
        for (int64_t k = 0; k < p.size(0); ++k)
          prediction_tiles[si].boxes.push_back({p[k][0], p[k][1], p[k][2], p[k][3], static_cast<int>(p[k][5]), p[k][4]});
      }
      auto pred_boxes = pred.narrow(1, 0, 4);
      pred_boxes.copy_(metrics::scale_boxes(input, pred_boxes, orig, rp));
      auto mine = targets.select(1, 0) == static_cast<double>(si);
      auto t = targets.index({mine});
      torch::Tensor labels = torch::zeros({t.size(0), 5});
      if (t.size(0) > 0) {
        auto xyxy = boxes::xywh2xyxy(t.narrow(1, 2, 4)) *
                    torch::tensor({input_w, input_h, input_w, input_h}, torch::kFloat32);
        labels = torch::cat({t.narrow(1, 1, 1), metrics::scale_boxes(input, xyxy, orig, rp)}, 1);
      }
      stats.add_image(pred, labels);
      if (pictures) confusion.process_batch(pred, labels);
      if (!options_.json_path.empty()) append_coco_rows(json, batch->paths[si], pred, options_.coco_category_ids);
      ++images;
    }
    if (draw) add_batch_pictures(*pictures, batches, label_tiles, prediction_tiles, names);
    ++batches;
  }
  if (pictures) reduce_confusion(confusion, group);
  if (group != nullptr && group->world_size() > 1) {
    // Every rank's per-image statistics, concatenated in rank order: the metrics of the whole split.
    auto fields = stats.to_tensors();
    std::vector<torch::Tensor> merged;
    for (auto& field : fields) {
      const bool is_bool = field.scalar_type() == torch::kBool;
      auto flat = (is_bool ? field.to(torch::kUInt8) : field).reshape({-1}).contiguous();
      auto parts = group->allgather_variable(flat);
      auto joined = torch::cat(parts);
      if (field.dim() == 2) joined = joined.reshape({-1, field.size(1)});
      merged.push_back(is_bool ? joined.to(torch::kBool) : joined);
    }
    stats = metrics::DetectionStats::from_tensors(nc, merged);
    auto counts = torch::tensor({static_cast<double>(images), static_cast<double>(batches)}, torch::kFloat64);
    auto losses = loss_sum.to(torch::kFloat64);
    group->allreduce_sum(counts);
    group->allreduce_sum(losses);
    images = static_cast<int64_t>(counts[0].item<double>());
    batches = static_cast<int64_t>(counts[1].item<double>());
    loss_sum = losses.to(torch::kFloat32);
  }
  YOLO_CHECK(images > 0, "validation saw no images: check the val split of the dataset");
  if (!options_.json_path.empty()) {
    YOLO_CHECK(group == nullptr || group->world_size() == 1,
               "save_json is written by a single-process validation (the final one), not by sharded ones");
    log_info("Saving {}...", options_.json_path);
    io::write_file_atomically(options_.json_path, json + "]\n");
  }
  auto computed = stats.compute();
  auto results = to_results(computed, options_.names);
  results.task = "detect";
  results.images = images;
  results.instances = 0;
  for (const auto& c : results.per_class) results.instances += c.instances;
  if (loss && batches > 0) {
    auto mean = loss_sum / static_cast<double>(batches);
    const auto& names = detect_task().loss_names;
    for (size_t k = 0; k < names.size(); ++k) results.loss.emplace_back(names[k], mean[static_cast<int64_t>(k)].item<double>());
  }
  const bool main_rank = group == nullptr || group->rank() == 0;
  if (main_rank)
    log_info("{}", metrics::format_metrics_table(computed, options_.names, images, results.instances,
                                                   options_.verbose));
  results.speed = per_image(total, images, options_.verbose && options_.print_speed && main_rank);
  if (pictures) {
    pictures->state.task = "detect";
    pictures->state.curves = plots::curves_from(computed.curves, names);
    pictures->state.confusion = plots::confusion_from(confusion, names);
    results.plots = std::move(pictures);
  }
  return results;
}

ClassificationValidator::ClassificationValidator(std::shared_ptr<data::DataLoader> loader, ValidatorOptions options)
    : loader_(std::move(loader)), options_(std::move(options)) {}

ValResults ClassificationValidator::run(nn::Network& model, const torch::Device& device, const LossFn* loss,
                                        ProcessGroup* group) {
  torch::NoGradGuard no_grad;
  EvalMode eval(*model);
  const int64_t top = std::min<int64_t>(5, model->nc());
  std::vector<torch::Tensor> ranked, targets;
  const auto names = plot_names(options_.names, model->nc());
  auto pictures = options_.plots ? std::make_shared<plots::ValidationPlots>() : nullptr;
  double loss_sum = 0;
  int64_t images = 0, batches = 0;
  Speed total;
  loader_->set_epoch(0);
  while (auto batch = loader_->next()) {
    StageTimer timer;
    auto x = validation_input(*batch, device, options_.half);
    synchronize(device);
    total.preprocess += timer.lap();
    auto raw = model->forward_raw(x);
    auto probs = model->decode(raw);
    synchronize(device);
    total.inference += timer.lap();
    if (loss) loss_sum += (*loss)(raw, *batch).items[0].item<double>();
    total.loss += timer.lap();
    // As Ultralytics: the ranking of the softmax, ties as torch.argsort orders them.
    ranked.push_back(probs.argsort(1, /*descending=*/true).narrow(1, 0, top).to(torch::kCPU, torch::kInt32));
    targets.push_back(batch->labels.to(torch::kInt32));
    total.postprocess += timer.lap();
    if (pictures && batches < kPlottedBatches) {  // the label, then the top-1 class and its probability
      const auto label_tiles = plots::batch_tiles(*batch);
      auto prediction_tiles = label_tiles;
      const auto top1 = probs.narrow(0, 0, static_cast<int64_t>(label_tiles.size())).max(1);
      const auto conf = std::get<0>(top1).to(torch::kCPU, torch::kFloat32), cls = std::get<1>(top1).to(torch::kCPU);
      for (size_t i = 0; i < prediction_tiles.size(); ++i)
        prediction_tiles[i].classes = {{static_cast<int>(cls[static_cast<int64_t>(i)].item<int64_t>()),
                                        conf[static_cast<int64_t>(i)].item<float>()}};
      add_batch_pictures(*pictures, batches, label_tiles, prediction_tiles, names);
    }
    images += x.size(0);
    ++batches;
  }
  auto all_ranked = ranked.empty() ? torch::zeros({0, top}, torch::kInt32) : torch::cat(ranked);
  auto all_targets = targets.empty() ? torch::zeros({0}, torch::kInt32) : torch::cat(targets);
  if (group != nullptr && group->world_size() > 1) {  // every rank's images, in rank order
    all_ranked = torch::cat(group->allgather_variable(all_ranked.reshape({-1}).contiguous())).reshape({-1, top});
    all_targets = torch::cat(group->allgather_variable(all_targets.contiguous()));
    auto sums = torch::tensor({loss_sum, static_cast<double>(images), static_cast<double>(batches)}, torch::kFloat64);
    group->allreduce_sum(sums);
    loss_sum = sums[0].item<double>();
    images = static_cast<int64_t>(sums[1].item<double>());
    batches = static_cast<int64_t>(sums[2].item<double>());
  }
  YOLO_CHECK(images > 0, "validation saw no images: check the val split of the dataset");
  const auto accuracy = metrics::classify_accuracy(all_ranked, all_targets);
  ValResults results;
  results.task = "classify";
  results.top1 = accuracy.top1, results.top5 = accuracy.top5, results.fitness = accuracy.fitness();
  results.images = images;
  if (loss) results.loss = {{"loss", loss_sum / static_cast<double>(batches)}};  // the mean of the batch means
  const bool main_rank = group == nullptr || group->rank() == 0;
  if (main_rank) log_info("{}", metrics::format_classify_table(accuracy));
  results.speed = per_image(total, images, options_.verbose && options_.print_speed && main_rank);
  if (pictures) {
    auto confusion = metrics::ConfusionMatrix::for_classification(model->nc());
    if (all_ranked.size(0) > 0) confusion.process_classes(all_ranked.select(1, 0), all_targets);
    pictures->state.task = "classify";
    pictures->state.confusion = plots::confusion_from(confusion, names);
    results.plots = std::move(pictures);
  }
  return results;
}

std::shared_ptr<data::DataLoader> make_val_loader(const std::vector<std::string>& sources,
                                                  const std::vector<std::string>& names, const TrainArgs& args,
                                                  int64_t batch_size, int64_t stride, bool pin_memory,
                                                  int64_t rank, int64_t world_size) {
  DataOptions options;
  options.dataset = detection_dataset_options(args, /*train=*/false);
  options.workers = args.workers(), options.seed = static_cast<uint64_t>(args.seed());
  data::DataSpec spec;
  spec.names = names;
  LoaderRequest request;
  request.batch_size = batch_size, request.stride = stride, request.pin_memory = pin_memory;
  request.rank = rank, request.world_size = world_size;
  return detect_task().make_loader(sources, spec, options, request);
}

ValResults validate(nn::Network model, const ValArgs& args) {
  const Task& task = task_named(model->task());
  const auto options = make_run_options(args, task.name);
  const auto device = select_device(options.trainer.device).primary;
  const auto spec = task.load_data(options.data);
  YOLO_CHECK(model->nc() == static_cast<int64_t>(spec.names.size()), "model has nc={} but {} has {} classes",
             model->nc(), options.data.data, spec.names.size());
  LoaderRequest request;
  request.batch_size = std::max<int64_t>(1, static_cast<int64_t>(options.trainer.batch));
  request.stride = std::max<int64_t>(32, static_cast<int64_t>(model->strides().back()));
  request.pin_memory = device.is_cuda();
  request.square = model->fixed_imgsz() > 0;
  check_input_size(*model, options.data.dataset.imgsz);
  auto vo = options.validator;
  vo.names = spec.names;
  if (options.trainer.save_json) {
    namespace fs = std::filesystem;
    const fs::path dir = run_folder(options.trainer.project, task.name, options.trainer.name, "val",
                                    options.trainer.exist_ok);
    fs::create_directories(dir);
    vo.json_path = (dir / "predictions.json").string();
  }
  // As Ultralytics' standalone val: a fused copy; training validates the unfused EMA weights.
  auto fused = nn::fused_copy(*model);
  fused->to(device);
  nn::use_channels_last(*fused);
  const auto& sources = spec.split(options.data.split);
  auto validator = task.make_validator(task.make_loader(sources, spec, options.data, request), sources, vo);
  return validator(fused, device, nullptr, nullptr);
}

}  // namespace engine
YOLO_END_NAMESPACE
