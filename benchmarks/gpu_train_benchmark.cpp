// yolocpp's side of benchmarks/gpu_train.sh: one phase per call, one JSON line appended to json=FILE.
//   gpu_train_benchmark loader data=DATA.yaml [imgsz=640 batch=32 workers=8] json=FILE
//       the training loader alone (mosaic, default augmentation): a warm epoch, then two timed
//   gpu_train_benchmark step [imgsz=640 batch=32 device=0 iterations=50 warmup=20 amp=1 train_images=2048
//       epochs=10] json=FILE
//       forward, loss, backward, optimizer step (every nbs/batch iterations, as the trainer) and EMA on
//       synthetic batches already on the device, with the trainer's optimizer, precision and clipping
//   gpu_train_benchmark train data=DATA.yaml [imgsz=640 batch=32 workers=8 device=0 epochs=10 amp=1
//       deterministic=1 project=DIR] json=FILE
//       Model("yolov8n.yaml").train(...) with validation every epoch
// Times are wall-clock; each timed window starts and ends with the device's queue drained.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <yolo/yolo.h>

#include "data/dataset.h"
#include "data/dataset_yaml.h"
#include "data/loader.h"
#include "engine/amp.h"
#include "engine/device.h"
#include "engine/ema.h"
#include "engine/optimizer.h"
#include "loss/detection_loss.h"
#include "yolo/nn/model.h"
#include "yolo/nn/spec.h"

namespace {

using Options = std::map<std::string, std::string>;
constexpr int64_t kClasses = 10;  // the Fashion-MNIST benchmark dataset's

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string get(const Options& o, const std::string& key, const std::string& fallback) {
  const auto it = o.find(key);
  return it == o.end() ? fallback : it->second;
}
int64_t get_int(const Options& o, const std::string& key, int64_t fallback) {
  return std::stoll(get(o, key, std::to_string(fallback)));
}

void record(const Options& o, const std::string& fields) {
  const auto line = fmt::format("{{\"impl\": \"yolocpp\", {}}}", fields);
  std::fprintf(stderr, "%s\n", line.c_str());
  const auto path = get(o, "json", "");
  if (path.empty()) return;
  std::ofstream out(path, std::ios::app);
  YOLO_CHECK(out, "cannot append to {}", path);
  out << line << "\n";
}

void loader_phase(const Options& o) {
  const auto spec = yolo::data::load_data_spec(get(o, "data", ""));
  yolo::data::DatasetOptions options;
  options.imgsz = get_int(o, "imgsz", 640);
  options.batch_size = get_int(o, "batch", 32);
  options.augment = true;
  auto dataset = std::make_shared<yolo::data::DetectionDataset>(spec.train, spec.names, options);
  yolo::data::LoaderOptions lo;
  lo.batch_size = options.batch_size;
  lo.workers = get_int(o, "workers", 8);
  lo.shuffle = true;
  lo.pin_memory = torch::cuda::is_available();  // as the trainer and Ultralytics' loader on a GPU machine
  yolo::data::DataLoader loader(dataset, lo);
  loader.set_epoch(0);
  while (loader.next()) {
  }
  const double t0 = unix_seconds();
  int64_t images = 0;
  for (int64_t epoch = 1; epoch <= 2; ++epoch) {
    loader.set_epoch(epoch);
    while (auto batch = loader.next()) images += batch->images.size(0);
  }
  const double t1 = unix_seconds();
  record(o, fmt::format("\"phase\": \"loader\", \"t0\": {:.3f}, \"t1\": {:.3f}, \"images\": {}, \"images_per_s\": {:.2f}, "
                        "\"workers\": {}",
                        t0, t1, images, images / (t1 - t0), lo.workers));
}

/// `per_image` random boxes per image as loader targets [N, 6] (batch index, class, cx, cy, w, h), on the CPU.
torch::Tensor synthetic_targets(int64_t batch, int64_t per_image) {
  torch::manual_seed(0);
  const auto n = batch * per_image;
  const auto image = torch::arange(batch, torch::kFloat32).repeat_interleave(per_image).unsqueeze(1);
  const auto cls = torch::randint(0, kClasses, {n, 1}).to(torch::kFloat32);
  const auto centre = 0.2 + 0.6 * torch::rand({n, 2});
  const auto size = 0.05 + 0.25 * torch::rand({n, 2});
  return torch::cat({image, cls, centre, size}, 1);
}

void step_phase(const Options& o) {
  namespace engine = yolo::engine;
  const auto device = engine::select_device(get(o, "device", "0")).primary;
  const int64_t imgsz = get_int(o, "imgsz", 640), batch = get_int(o, "batch", 32);
  const int64_t iterations = get_int(o, "iterations", 50), warmup = get_int(o, "warmup", 20);
  torch::manual_seed(0);
  yolo::nn::YoloModel model(yolo::nn::load_model_spec("yolov8n.yaml", kClasses));
  model->to(device);
  yolo::nn::use_channels_last(*model);
  model->train();
  const auto precision = engine::amp_precision(device, get_int(o, "amp", 1) != 0);
  const yolo::loss::DetectionLoss loss(model->nc(), model->strides());

  // The trainer's optimizer for a run of train_images x epochs (Ultralytics' defaults: nbs 64, auto).
  const int64_t nbs = 64, accumulate = std::max<int64_t>(std::llround(nbs / static_cast<double>(batch)), 1);
  engine::OptimizerOptions oo;
  oo.weight_decay = 5e-4 * batch * accumulate / nbs;
  oo.iterations = static_cast<int64_t>(std::ceil(get_int(o, "train_images", 2048) / std::max<double>(batch, nbs))) *
                  get_int(o, "epochs", 10);
  oo.nc = kClasses;
  auto optimizer = engine::build_optimizer(*model, oo);
  yolo::nn::YoloModel ema_copy(model->spec());
  engine::ModelEma ema(ema_copy.ptr(), *model);
  ema.module().to(device);
  engine::GradScaler scaler(precision == engine::Precision::fp16);
  std::vector<torch::Tensor> params;
  for (auto& p : model->parameters())
    if (p.requires_grad()) params.push_back(p);

  const auto images = torch::randint(0, 256, {batch, 3, imgsz, imgsz}, torch::TensorOptions(torch::kUInt8).device(device));
  const auto targets = synthetic_targets(batch, 4);
  auto running = torch::zeros({3}, torch::TensorOptions(torch::kFloat32).device(device));
  int64_t last_opt_step = -1;
  double t0 = 0;
  for (int64_t i = 0; i < warmup + iterations; ++i) {
    if (i == warmup) {
      engine::synchronize(device);
      t0 = unix_seconds();
    }
    const auto x = images.to(torch::TensorOptions(torch::kFloat32).memory_format(torch::MemoryFormat::ChannelsLast))
                       .div_(255);
    std::vector<torch::Tensor> feats;
    {
      engine::AutocastGuard autocast(device, precision);
      feats = model->forward_raw(x);
    }
    const auto result = loss(feats, targets);
    scaler.scale(result.total).backward();
    running.mul_(static_cast<double>(i)).add_(result.items).div_(static_cast<double>(i + 1));
    if (i - last_opt_step >= accumulate) {
      const bool finite = scaler.unscale(params);
      engine::clip_grad_norm(params, 10.0);
      if (finite) optimizer.optimizer->step();
      scaler.update(!finite);
      optimizer.optimizer->zero_grad();
      ema.update(*model);
      last_opt_step = i;
    }
  }
  engine::synchronize(device);
  const double t1 = unix_seconds();
  const auto l = running.cpu();
  record(o, fmt::format("\"phase\": \"step\", \"t0\": {:.3f}, \"t1\": {:.3f}, \"images\": {}, \"images_per_s\": {:.2f}, "
                        "\"precision\": \"{}\", \"accumulate\": {}, \"optimizer\": \"{}\", \"loss\": [{}, {}, {}]",
                        t0, t1, iterations * batch, iterations * batch / (t1 - t0), engine::to_string(precision),
                        accumulate, optimizer.name, l[0].item<double>(), l[1].item<double>(), l[2].item<double>()));
}

void train_phase(const Options& o) {
  const auto device = get(o, "device", "0");
  const int64_t epochs = get_int(o, "epochs", 10);
  std::vector<double> epoch_seconds;
  double train_seconds = 0, epoch_start = 0, train_start = 0, images = 0;
  yolo::Model model("yolov8n.yaml");
  model.add_callback("on_train_batch_end", [&](yolo::TrainEvent& e) { images += static_cast<double>(e.batch_files.size()); });
  model.add_callback("on_train_epoch_start", [&](yolo::TrainEvent&) { epoch_start = train_start = unix_seconds(); });
  model.add_callback("on_train_epoch_end", [&](yolo::TrainEvent&) { train_seconds += unix_seconds() - train_start; });
  model.add_callback("on_fit_epoch_end", [&](yolo::TrainEvent&) { epoch_seconds.push_back(unix_seconds() - epoch_start); });
  const bool amp = get_int(o, "amp", 1) != 0;
  const double t0 = unix_seconds();
  const auto results = model.train(yolo::TrainArgs()
                                       .data(get(o, "data", ""))
                                       .imgsz(get_int(o, "imgsz", 640))
                                       .batch(static_cast<double>(get_int(o, "batch", 32)))
                                       .epochs(epochs)
                                       .workers(get_int(o, "workers", 8))
                                       .device(device)
                                       .amp(amp)
                                       .deterministic(get_int(o, "deterministic", 1) != 0)
                                       .val(true)
                                       .plots(false)
                                       .project(get(o, "project", "runs-gpu-train"))
                                       .name("yolocpp")
                                       .exist_ok(true));
  const double t1 = unix_seconds();
  const auto precision = yolo::engine::amp_precision(yolo::engine::select_device(device).primary, amp);
  record(o, fmt::format("\"phase\": \"train\", \"t0\": {:.3f}, \"t1\": {:.3f}, \"images\": {:.0f}, \"wall_seconds\": {:.3f}, "
                        "\"images_per_s\": {:.2f}, \"train_images_per_s\": {:.2f}, \"epoch_seconds\": [{:.3f}], "
                        "\"map50_95\": {:.6f}, \"precision\": \"{}\"",
                        t0, t1, images, t1 - t0, images / (t1 - t0), images / train_seconds,
                        fmt::join(epoch_seconds, ", "), results.metrics.map50_95, yolo::engine::to_string(precision)));
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s loader|step|train key=value... (see the head of gpu_train_benchmark.cpp)\n", argv[0]);
    return 1;
  }
  const std::string phase = argv[1];
  Options o;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    YOLO_CHECK(eq != std::string::npos, "argument '{}' is not key=value", arg);
    o[arg.substr(0, eq)] = arg.substr(eq + 1);
  }
  yolo::set_log_level(phase == "train" ? yolo::LogLevel::Info : yolo::LogLevel::Warning);
  if (phase == "loader")
    loader_phase(o);
  else if (phase == "step")
    step_phase(o);
  else if (phase == "train")
    train_phase(o);
  else
    YOLO_FAIL("unknown phase '{}': loader, step or train", phase);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 2;
}
