#include "yolo/model.h"

#include <algorithm>
#include <filesystem>

#include <opencv2/core.hpp>

#include "data/dataset_yaml.h"
#include "engine/checkpointing.h"
#include "engine/predictor.h"
#include "engine/run_options.h"
#include "engine/task.h"
#include "engine/trainer.h"
#include "engine/validator.h"
#include "export/exporter.h"
#include "export/onnx_metadata.h"
#include "export/onnx_network.h"
#include "io/checkpoint.h"
#include "io/weights.h"
#include "nn/torchvision_network.h"
#include "yolo/nn/network.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace {

namespace fs = std::filesystem;

bool is_checkpoint(const std::string& path) {
  auto ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".pt" || ext == ".pth";
}

std::vector<std::string> numbered_names(int64_t nc) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < nc; ++i) names.push_back(std::to_string(i));
  return names;
}

/// Ultralytics' get_latest_run: the most recently written last*.pt under runs/.
std::string latest_last_checkpoint() {
  fs::path newest;
  fs::file_time_type newest_time{};
  if (fs::exists("runs")) {
    for (const auto& entry : fs::recursive_directory_iterator("runs")) {
      const auto name = entry.path().filename().string();
      if (!entry.is_regular_file() || name.rfind("last", 0) != 0 || entry.path().extension() != ".pt") continue;
      if (newest.empty() || entry.last_write_time() > newest_time) newest = entry.path(), newest_time = entry.last_write_time();
    }
  }
  YOLO_CHECK(!newest.empty(), "resume=True found no runs/**/last.pt to resume: pass resume=path/to/last.pt");
  return newest.string();
}

/// The tensors of a weights file for `model`: a checkpoint's model, or for a torchvision network a
/// torchvision state dict (.pth: fp16, legacy DenseNet names, another class count) read as torchvision reads it.
nn::StateDict pretrained_state(const nn::NetworkImpl& model, const std::string& path) {
  YOLO_CHECK(!exporter::is_onnx_file(path), "{}: an exported ONNX model has no weights to load; load the .pt checkpoint",
             path);
  auto state = io::load_checkpoint(path).model_state();
  if (!nn::is_torchvision_network(model)) return state;
  auto options = nn::torchvision_options(model.architecture());
  options.num_classes(nn::torchvision_num_classes(state, path));
  auto network = nn::torchvision_network(options);
  nn::load_torchvision_weights(*network, state, path);
  return nn::state_dict(*network);
}

}  // namespace

struct Model::State {
  nn::Network model{nullptr};
  std::string source;
  std::vector<std::string> names;
  std::vector<std::pair<std::string, ArgValue>> train_args;  // from a checkpoint
  bool has_weights = false;
  bool exported = false;  // an .onnx file: predict and val only
  Callbacks callbacks;
};

Model::Model(const std::string& model) : state_(std::make_shared<State>()) {
  state_->source = model;
  if (exporter::is_onnx_file(model)) {
    auto network = std::make_shared<exporter::OnnxNetworkImpl>(model);
    state_->names = network->metadata().names;
    state_->model = nn::Network(std::shared_ptr<nn::NetworkImpl>(network));
    state_->has_weights = state_->exported = true;
  } else if (is_checkpoint(model)) {
    auto loaded = engine::load_model_from_checkpoint(model);
    state_->model = loaded.model;
    state_->names = std::move(loaded.names);
    state_->train_args = std::move(loaded.train_args);
    state_->has_weights = true;
  } else {
    state_->model = nn::create_network(model);
    state_->names = numbered_names(state_->model->nc());
  }
}

Model& Model::load(const std::string& weights) {
  auto report = nn::transfer_weights(*state_->model, pretrained_state(*state_->model, weights));
  log_info("Transferred {}/{} items from pretrained weights {}", report.transferred, report.total, weights);
  YOLO_CHECK(report.transferred > 0,
             "{}: no tensor matches this model by name and shape — is it a checkpoint of the same architecture?",
             weights);
  state_->has_weights = true;
  return *this;
}

TrainResults Model::train(const TrainArgs& given) {
  TrainArgs args = given;
  auto& s = *state_;
  YOLO_CHECK(!s.exported, "{}: an exported ONNX model runs predict and val only; train from its .pt checkpoint",
             s.source);
  if (!args.resume().empty() && args.resume() != "false") {
    // Resume: the run's own arguments come back, except those Ultralytics lets a resume change.
    const std::string path = args.resume() == "true" ? latest_last_checkpoint() : args.resume();
    YOLO_CHECK(!exporter::is_onnx_file(path), "resume={}: an ONNX export cannot be resumed; resume=path/to/last.pt",
               path);
    auto loaded = engine::load_model_from_checkpoint(path);
    TrainArgs restored;
    for (const auto& [key, value] : loaded.train_args) {
      if (key == "save_dir") continue;
      restored.set(key, value);
    }
    restored.resume(path).exist_ok(true);
    const fs::path run_dir = fs::path(path).parent_path().parent_path();
    restored.project(run_dir.parent_path().string()).name(run_dir.filename().string());
    for (const auto& key : {"imgsz", "batch", "device", "workers", "close_mosaic"}) {
      if (given.to_map().count(key) && given.get(key) != TrainArgs().get(key)) restored.set(key, given.get(key));
    }
    args = restored;
    s.model = loaded.model;
    s.names = loaded.names;
  } else {
    YOLO_CHECK(!args.data().empty(), "train needs a dataset: data=path/to/data.yaml");
    args = with_task_defaults(args);
    const auto& task = engine::task_named(s.model->task());
    auto data = task.load_data(engine::make_run_options(args, task.name).data);
    const auto nc = static_cast<int64_t>(data.names.size());
    // As Ultralytics' trainer: the model is built anew after seeding, with the dataset's classes,
    // and any weights this Model holds are transferred into it (a head for another class count
    // does not match, so only the last layer starts afresh).
    torch::manual_seed(args.seed());
    auto fresh = nn::Network(s.model->rebuild(nc));
    if (s.has_weights) {
      auto report = nn::transfer_weights(*fresh, nn::state_dict(*s.model));
      log_info("Transferred {}/{} items from pretrained weights", report.transferred, report.total);
    }
    // pretrained=path loads into the model built for this dataset, so a head of the same nc transfers.
    if (const auto& path = args.pretrained(); path != "true" && path != "false" && !path.empty()) {
      auto report = nn::transfer_weights(*fresh, pretrained_state(*s.model, path));
      YOLO_CHECK(report.transferred > 0, "pretrained={}: no tensor matches this model by name and shape", path);
      log_info("Transferred {}/{} items from pretrained weights {}", report.transferred, report.total, path);
      s.has_weights = true;
    } else if (path == "true" && !s.has_weights && nn::is_torchvision_network(*s.model)) {
      // As Ultralytics: a torchvision architecture by name starts from torchvision's ImageNet weights.
      const auto& arch = s.model->architecture().name;
      try {
        const auto file = io::torchvision_weights(arch);
        auto report = nn::transfer_weights(*fresh, pretrained_state(*s.model, file));
        log_info("Transferred {}/{} items from {}'s ImageNet weights {}", report.transferred, report.total, arch, file);
        s.has_weights = true;
      } catch (const Error& e) {
        log_warning("pretrained=True: {}'s ImageNet weights are not available ({}); training from random weights. "
                    "Give pretrained=path/to/weights.pth, or pretrained=False",
                    arch, e.what());
      }
    }
    s.model = fresh;
    s.names = data.names;
  }
  auto results = engine::train(s.model, args, s.callbacks);
  if (fs::exists(results.best)) {
    auto best = engine::load_model_from_checkpoint(results.best);
    s.model = best.model;
    s.train_args = best.train_args;
    s.has_weights = true;
  }
  return results;
}

ValResults Model::val(const ValArgs& given) {
  ValArgs args = with_task_defaults(given);
  if (args.data().empty()) {
    for (const auto& [key, value] : state_->train_args)
      if (key == "data") args.set(key, value);
    YOLO_CHECK(!args.data().empty(), "val needs a dataset: data=path/to/data.yaml");
  }
  return engine::validate(state_->model, args);
}

PredictArgs Model::predict_defaults() {
  PredictArgs args;
  args.save(false).batch(1).conf(0.25).mode("predict");
  return args;
}

std::vector<Prediction> Model::predict(const std::string& source) { return predict(source, predict_defaults()); }

std::vector<Prediction> Model::predict(const std::string& source, const PredictArgs& args) {
  return engine::Predictor(state_->model, with_task_defaults(args), state_->names).run(source);
}

std::vector<Prediction> Model::predict(const std::vector<cv::Mat>& images, const PredictArgs& args) {
  return engine::Predictor(state_->model, with_task_defaults(args), state_->names).run(images);
}

TrainArgs Model::with_task_defaults(TrainArgs args) const {
  // TrainArgs cannot tell an imgsz left at its default from one given as 640: the default stands for unset.
  if (args.imgsz() != TrainArgs().imgsz()) return args;
  // As Ultralytics' predictor: a fixed-shape export runs at the size it was exported at.
  if (const int64_t fixed = state_->model->fixed_imgsz(); fixed > 0) return args.imgsz(fixed);
  if (task() != "classify") return args;
  // Ultralytics: a checkpoint's val, predict and fine-tuning run at the size it was trained at;
  // classification's own default is 224.
  args.imgsz(224);
  for (const auto& [key, value] : state_->train_args)
    if (key == "imgsz") args.set("imgsz", value);
  return args;
}

std::string Model::export_model(const ExportArgs& args) {
  YOLO_CHECK(!state_->exported, "{} is already an exported ONNX model; export from its .pt checkpoint", state_->source);
  auto options = exporter::export_options(args, state_->source);
  for (const auto& [key, value] : state_->train_args)
    if (key == "data") options.data = TrainArgs().set(key, value).data();  // unquoted, None -> ""
  return exporter::export_model(*state_->model, state_->names, options);
}

ExportArgs Model::export_defaults() const {
  ExportArgs args;
  args.mode("export").batch(1);
  for (const auto& [key, value] : state_->train_args)
    if (key == "imgsz") args.set("imgsz", value);
  return args;
}

std::string Model::info() const { return nn::format_info(*state_->model); }

const std::vector<std::string>& Model::names() const { return state_->names; }

const std::string& Model::task() const { return state_->model->task(); }

const std::string& Model::source() const { return state_->source; }

Model& Model::add_callback(const std::string& event, TrainCallback callback) {
  state_->callbacks.add(event, std::move(callback));
  return *this;
}

std::shared_ptr<nn::NetworkImpl> Model::module() const { return state_->model.ptr(); }

YOLO_END_NAMESPACE
