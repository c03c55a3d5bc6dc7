#include "yolo/engine/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <thread>

#include "yolo/data/augment.h"
#include "yolo/data/dataset.h"
#include "yolo/data/dataset_yaml.h"
#include "yolo/data/loader.h"
#include "yolo/data/preview.h"
#include "yolo/engine/amp.h"
#include "yolo/engine/checkpointing.h"
#include "yolo/engine/device.h"
#include "config/resolve.h"
#include "engine/gradient_reducer.h"
#include "engine/launcher.h"
#include "yolo/engine/ema.h"
#include "yolo/engine/optimizer.h"
#include "yolo/engine/run_dir.h"
#include "yolo/engine/validator.h"
#include "yolo/loss/detection_loss.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"

namespace yolo::engine {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double interp(double x, double x0, double x1, double y0, double y1) {
  if (x <= x0) return y0;
  if (x >= x1) return y1;
  return y0 + (x - x0) * (y1 - y0) / (x1 - x0);
}

/// Ultralytics' EarlyStopping: stop after `patience` epochs without a better fitness.
class EarlyStopping {
 public:
  explicit EarlyStopping(int64_t patience) : patience_(patience > 0 ? patience : INT64_MAX) {}
  bool operator()(int64_t epoch, double fitness) {
    if (fitness > best_fitness_ || best_fitness_ == 0) best_epoch_ = epoch, best_fitness_ = fitness;
    const int64_t delta = epoch - best_epoch_;
    possible_stop = delta >= patience_ - 1;
    if (delta >= patience_) {
      log_info("EarlyStopping: Training stopped early as no improvement observed in last {} epochs. Best results "
               "observed at epoch {}, best model saved as best.pt.",
               patience_, best_epoch_);
      return true;
    }
    return false;
  }
  bool possible_stop = false;

 private:
  int64_t patience_, best_epoch_ = 0;
  double best_fitness_ = 0;
};

const char* kCsvColumns =
    "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),"
    "metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2";

/// Python's "%.6g", which Ultralytics uses for every results.csv value.
std::string g6(double v) { return fmt::format("{:.6g}", v); }

void append_results_row(const fs::path& csv, int64_t epoch, double elapsed, const std::array<double, 3>& train_loss,
                        const ValResults& m, const std::array<double, 3>& lr) {
  const bool fresh = !fs::exists(csv);
  std::ofstream out(csv, std::ios::app);
  YOLO_CHECK(out, "cannot write {}", csv.string());
  if (fresh) out << kCsvColumns << "\n";
  std::vector<std::string> values{std::to_string(epoch + 1), g6(elapsed)};
  for (double v : train_loss) values.push_back(g6(v));
  for (double v : {m.precision, m.recall, m.map50, m.map50_95}) values.push_back(g6(v));
  for (double v : m.loss) values.push_back(g6(v));
  for (double v : lr) values.push_back(g6(v));
  out << fmt::format("{}\n", fmt::join(values, ","));
}

std::string progress_header() {
  return fmt::format("\n{:>11}{:>11}{:>11}{:>11}{:>11}{:>11}{:>11}", "Epoch", "GPU_mem", "box_loss", "cls_loss",
                     "dfl_loss", "Instances", "Size");
}

std::string progress_line(int64_t epoch, int64_t epochs, double mem_gb, const std::array<double, 3>& loss,
                          int64_t instances, int64_t size, int64_t done, int64_t total, double elapsed) {
  const double rate = elapsed > 0 ? done / elapsed : 0;
  const int width = 10, filled = total > 0 ? static_cast<int>(width * done / total) : 0;
  std::string bar;
  for (int i = 0; i < width; ++i) bar += i < filled ? "█" : " ";
  return fmt::format("{:>11}{:>11}{:>11.4g}{:>11.4g}{:>11.4g}{:>11}{:>11}: {:3d}% |{}| {}/{} [{:.1f}s, {:.2f}it/s]",
                     fmt::format("{}/{}", epoch + 1, epochs), fmt::format("{:.3g}G", mem_gb), loss[0], loss[1],
                     loss[2], instances, size, total ? 100 * done / total : 100, bar, done, total, elapsed, rate);
}

std::vector<std::string> freeze_prefixes(const std::vector<int64_t>& freeze) {
  std::vector<std::string> names{".dfl"};  // the DFL projection is fixed, never trained
  for (auto layer : freeze) names.push_back(fmt::format("model.{}.", layer));
  return names;
}

data::AugmentOptions augment_options(const TrainArgs& a) {
  data::AugmentOptions h;
  h.hsv_h = a.hsv_h(), h.hsv_s = a.hsv_s(), h.hsv_v = a.hsv_v();
  h.degrees = a.degrees(), h.translate = a.translate(), h.scale = a.scale(), h.shear = a.shear();
  h.perspective = a.perspective(), h.flipud = a.flipud(), h.fliplr = a.fliplr(), h.bgr = a.bgr();
  h.mosaic = a.mosaic(), h.mixup = a.mixup();
  return h;
}

bool matches_any(const std::string& name, const std::vector<std::string>& parts) {
  for (const auto& p : parts)
    if (name.find(p) != std::string::npos) return true;
  return false;
}

class Trainer {
 public:
  Trainer(nn::YoloModel model, TrainArgs args, const Callbacks& callbacks)
      : model_(std::move(model)), args_(std::move(args)), callbacks_(callbacks) {}
  ~Trainer() {
    if (saved_log_level_) set_log_level(*saved_log_level_);
  }

  TrainResults run();

 private:
  void setup();
  void train_epoch(int64_t epoch);
  void optimizer_step();
  torch::Tensor rescale_for_multi_scale(const torch::Tensor& images, int64_t iteration) const;
  void setup_precision();
  void set_train_mode();
  ValResults validate();
  // Distributed hooks: no-ops in a single process.
  void setup_distributed();
  bool main_rank() const { return !group_ || group_->rank() == 0; }
  void broadcast_state(std::vector<torch::Tensor> tensors);
  void sync_buffers();
  bool any_rank(bool flag);
  void average_epoch_loss();

  nn::YoloModel model_;
  TrainArgs args_;
  const Callbacks& callbacks_;

  DeviceChoice device_;
  data::DataSpec data_;
  std::shared_ptr<data::DetectionDataset> train_set_;
  std::shared_ptr<data::DataLoader> train_loader_;
  std::unique_ptr<DetectionValidator> validator_;
  std::unique_ptr<loss::DetectionLoss> loss_;
  BuiltOptimizer optimizer_;
  std::unique_ptr<ModelEma> ema_;
  std::vector<std::string> frozen_;
  Precision precision_ = Precision::fp32;
  GradScaler scaler_{false};

  DistributedEnv dist_;
  LaunchedRun* launch_ = nullptr;  // rank 0 of a run that a yolo::RankLauncher started
  std::unique_ptr<ProcessGroup> group_;
  std::unique_ptr<GradientReducer> reducer_;
  std::optional<LogLevel> saved_log_level_;  // ranks other than 0 print warnings and errors only

  fs::path save_dir_, weights_dir_;
  int64_t stride_ = 32;  // the largest detection stride: multiple of every image side
  int64_t batch_size_ = 16, rank_batch_ = 16, accumulate_ = 1, epochs_ = 0, start_epoch_ = 0, nb_ = 0, nw_ = 0;
  int64_t last_opt_step_ = -1;
  double best_fitness_ = 0, fitness_ = 0, initial_lr_ = 0;
  bool has_best_ = false, stop_ = false;
  bool interrupted_ = false;  // stopped mid-epoch: save last.pt, skip validation
  std::array<double, 3> epoch_loss_{0, 0, 0};
  ValResults metrics_;
  Clock::time_point train_start_;
  double time_offset_ = 0;  // seconds trained before a resume, so results.csv time keeps counting
};

void Trainer::set_train_mode() {
  model_->train();
  // Frozen layers keep their batch-norm statistics, as Ultralytics does.
  for (const auto& item : model_->named_modules()) {
    if (matches_any(item.key(), frozen_) && item.value()->name().find("BatchNorm") != std::string::npos)
      item.value()->eval();
  }
}

void Trainer::setup() {
  device_ = select_device(args_.device());
  setup_distributed();
  torch::manual_seed(args_.seed());
  if (args_.deterministic()) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);

  data_ = data::load_data_spec(args_.data(), args_.datasets_dir());
  YOLO_CHECK(model_->nc() == static_cast<int64_t>(data_.names.size()) || args_.single_cls(),
             "model has nc={} but {} has {} classes: build the model with nc={} (Model(yaml, nc) or load weights into "
             "a model made for this dataset)",
             model_->nc(), args_.data(), data_.names.size(), data_.names.size());

  frozen_ = freeze_prefixes(args_.freeze());
  for (auto& p : model_->named_parameters()) {
    if (matches_any(p.key(), frozen_)) {
      if (p.key().find(".dfl") == std::string::npos) log_info("Freezing layer '{}'", p.key());
      p.value().set_requires_grad(false);
    } else if (p.value().is_floating_point()) {
      p.value().set_requires_grad(true);
    }
  }
  model_->to(device_.primary);
  if (group_) {  // every rank starts from rank 0's weights
    std::vector<torch::Tensor> state;
    for (auto& p : model_->parameters()) state.push_back(p);
    for (auto& b : model_->buffers()) state.push_back(b);
    broadcast_state(state);
  }
  nn::use_channels_last(*model_);
  setup_precision();

  // Run folder: rank 0 makes it, the others learn its name
  if (main_rank()) {
    save_dir_ = run_folder(args_.project(), "detect", args_.name(), "train", args_.exist_ok());
    weights_dir_ = save_dir_ / "weights";
    fs::create_directories(weights_dir_);
    std::ofstream out(save_dir_ / "args.yaml");
    TrainArgs saved = args_;
    saved.save_dir(save_dir_.string());
    out << saved.to_yaml();
  }
  if (group_) {
    save_dir_ = group_->share("save_dir", save_dir_.string());
    weights_dir_ = save_dir_ / "weights";
  }

  // Data: `batch` is the global batch, split across the ranks as Ultralytics does
  batch_size_ = static_cast<int64_t>(args_.batch());
  YOLO_CHECK(batch_size_ >= 1, "batch={} is not supported yet: give a positive batch size", args_.batch());
  const int64_t world = group_ ? group_->world_size() : 1;
  rank_batch_ = batch_size_ / world;
  YOLO_CHECK(rank_batch_ >= 1, "batch={} is smaller than the {} ranks of this distributed run: give each rank at "
             "least one image (batch >= {})", batch_size_, world, world);
  if (batch_size_ % world != 0)
    log_warning("batch={} is not a multiple of the {} ranks: each rank trains on {} images per batch", batch_size_,
                world, rank_batch_);
  const int64_t stride = stride_ = std::max<int64_t>(32, static_cast<int64_t>(model_->strides().back()));
  args_.imgsz(static_cast<int>(config::check_imgsz(args_.imgsz(), stride, stride)));
  data::DatasetOptions train_options;
  train_options.imgsz = args_.imgsz();
  train_options.augment = true;
  train_options.rect = args_.rect();
  train_options.batch_size = rank_batch_;
  train_options.stride = stride;
  train_options.cache = args_.cache();
  train_options.single_cls = args_.single_cls();
  train_options.fraction = args_.fraction();
  train_options.classes = args_.classes();
  train_options.hyp = augment_options(args_);
  train_set_ = std::make_shared<data::DetectionDataset>(data_.train, data_.names, train_options);
  data::LoaderOptions loader_options;
  loader_options.batch_size = rank_batch_;
  loader_options.rank = group_ ? group_->rank() : 0;
  loader_options.world_size = world;
  loader_options.workers = config::cap_workers(args_.workers(), static_cast<int64_t>(device_.all.size()));
  loader_options.shuffle = !args_.rect();
  loader_options.seed = args_.seed();
  loader_options.pin_memory = device_.primary.is_cuda();
  train_loader_ = std::make_shared<data::DataLoader>(train_set_, loader_options);
  nb_ = static_cast<int64_t>(train_loader_->num_batches());
  YOLO_CHECK(nb_ > 0, "{}: the training split has no batches", args_.data());

  {  // the final epoch validates even with val=False
    auto val_sources = data_.split(args_.split() == "test" && !data_.test.empty() ? "test" : "val");
    auto val_loader = make_val_loader(val_sources, data_.names, args_, rank_batch_ * 2, stride,
                                      device_.primary.is_cuda(), loader_options.rank, world);
    ValidatorOptions vo;
    vo.conf = 0.001;
    vo.iou = args_.iou();
    vo.max_det = args_.max_det();
    vo.single_cls = args_.single_cls();
    vo.names = data_.names;
    vo.verbose = false;
    validator_ = std::make_unique<DetectionValidator>(val_loader, vo);
  }

  loss::DetectionLossOptions loss_options;
  loss_options.box = args_.box(), loss_options.cls = args_.cls(), loss_options.dfl = args_.dfl();
  loss_ = std::make_unique<loss::DetectionLoss>(model_->nc(), model_->strides(), loss_options);

  // Optimisation, with Ultralytics' scaling of weight decay to the effective batch.
  accumulate_ = std::max<int64_t>(std::llround(args_.nbs() / static_cast<double>(batch_size_)), 1);
  epochs_ = args_.epochs();
  OptimizerOptions oo;
  oo.name = args_.optimizer();
  oo.lr0 = args_.lr0();
  oo.momentum = args_.momentum();
  oo.weight_decay = args_.weight_decay() * batch_size_ * accumulate_ / args_.nbs();
  oo.iterations = static_cast<int64_t>(std::ceil(static_cast<double>(train_set_->size()) /
                                                 std::max<double>(batch_size_, args_.nbs()))) *
                  epochs_;
  oo.nc = static_cast<int64_t>(data_.names.size());
  optimizer_ = build_optimizer(*model_, oo);
  if (args_.optimizer() == "auto") args_.warmup_bias_lr(0.0);  // as Ultralytics: no higher than lr for Adam
  initial_lr_ = optimizer_.lr;
  if (args_.scale_lr() && group_) {  // the "effective lr = lr x world size" rule; off by default, as Ultralytics
    initial_lr_ *= group_->world_size();
    for (auto& g : optimizer_.optimizer->param_groups()) set_group_lr(g, initial_lr_);
    log_info("scale_lr=True: lr {} x {} ranks = {}", optimizer_.lr, group_->world_size(), initial_lr_);
  }
  if (group_) {
    std::vector<torch::Tensor> trained;
    for (auto& p : model_->parameters())
      if (p.requires_grad()) trained.push_back(p);
    reducer_ = std::make_unique<GradientReducer>(*group_, trained);
    log_info("DDP: {} ranks ({} backend), {} images per rank and batch, gradients in {} buckets",
             group_->world_size(), group_->backend_name(), rank_batch_, reducer_->num_buckets());
  }

  nn::YoloModel ema_copy(model_->spec());
  ema_ = std::make_unique<ModelEma>(ema_copy.ptr(), *model_);
  ema_->module().to(device_.primary);
  nn::use_channels_last(ema_->module());

  nw_ = args_.warmup_epochs() > 0 ? std::max<int64_t>(std::llround(args_.warmup_epochs() * nb_), 100) : -1;

  if (!args_.resume().empty() && args_.resume() != "false") {
    const auto state = load_train_checkpoint(args_.resume(), *model_, *ema_, *optimizer_.optimizer);
    start_epoch_ = state.epoch + 1;
    best_fitness_ = state.best_fitness;
    has_best_ = state.has_best_fitness;
    last_opt_step_ = state.last_opt_step;
    time_offset_ = state.train_seconds;
    YOLO_CHECK(start_epoch_ < epochs_ || epochs_ == 0,
               "{} training to {} epochs is finished, nothing to resume. Start a new run with model={}",
               args_.resume(), epochs_, args_.resume());
    log_info("Resuming training {} from epoch {} to {} total epochs", args_.resume(), start_epoch_ + 1, epochs_);
    if (group_) {  // every rank read the same file; make sure they hold the same state
      std::vector<torch::Tensor> state;
      for (auto& p : model_->parameters()) state.push_back(p);
      for (auto& b : model_->buffers()) state.push_back(b);
      for (auto& p : ema_->module().parameters()) state.push_back(p);
      for (auto& b : ema_->module().buffers()) state.push_back(b);
      broadcast_state(state);
    }
  }
}

void Trainer::setup_distributed() {
  dist_ = distributed_env_from_environment();
  const auto devices = static_cast<int>(device_.all.size());
  if (!dist_.active() && devices <= 1) return;  // one process
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(args_.ddp_timeout() * 1000));
  if (!dist_.active()) {  // rank 0 of the ranks that main's yolo::RankLauncher started
    launch_ = launched_run();
    YOLO_CHECK(launch_ && launch_->env.world_size == devices,
               "device={} trains one process per device: create a yolo::RankLauncher in main before training "
               "(yolo/process.h; the yolo CLI does), or start the {} ranks with torchrun or Slurm",
               args_.device(), devices);
    dist_ = launch_->env;
  }
  if (devices > 1) {
    YOLO_CHECK(dist_.local_rank < devices,
               "rank {} has LOCAL_RANK={} but device={} names {} devices: give one device per process on this node",
               dist_.rank, dist_.local_rank, args_.device(), devices);
    device_.primary = device_.all[static_cast<size_t>(dist_.local_rank)];
  } else if (device_.primary.is_cuda()) {
    const auto n = static_cast<int>(torch::cuda::device_count());
    YOLO_CHECK(dist_.local_rank < n, "rank {} has LOCAL_RANK={} but this node has {} CUDA devices", dist_.rank,
               dist_.local_rank, n);
    device_.primary = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist_.local_rank));
  }
  if (dist_.rank != 0) {  // Ultralytics: only rank 0 talks
    saved_log_level_ = log_level();
    set_log_level(LogLevel::Warning);
  }
  if (!launch_) {
    group_ = ProcessGroup::create(dist_, device_.primary, timeout);
  } else {
    // The rendezvous waits for every rank up to the timeout; a rank that this process started and that
    // failed on its way there (bad arguments, a missing file) ends the wait at once. The rendezvous runs
    // in a thread of its own, left behind (it ends at the timeout) if a rank failed.
    std::packaged_task<std::unique_ptr<ProcessGroup>()> task(
        [env = dist_, device = device_.primary, timeout, hosted = launch_->store] {
          return ProcessGroup::create(env, device, timeout, hosted);
        });
    auto joined = task.get_future();
    std::thread(std::move(task)).detach();
    while (joined.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      const auto failed = launch_->workers->failures();
      YOLO_CHECK(failed.empty(), "distributed training failed before every rank joined: {}", failed);
    }
    group_ = joined.get();
    group_->on_failure_describe([workers = launch_->workers] { return workers->failures(); });
  }
  log_info("DDP: rank {} of {} ({}), rendezvous {}:{}, timeout {}s", dist_.rank, dist_.world_size, dist_.source,
           dist_.master_addr, dist_.master_port, args_.ddp_timeout());
}

void Trainer::broadcast_state(std::vector<torch::Tensor> tensors) {
  if (!group_) return;
  torch::NoGradGuard no_grad;
  // One flat tensor per dtype: a few collectives instead of hundreds.
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_type;
  for (auto& t : tensors) by_type[t.scalar_type()].push_back(t);
  for (auto& [type, list] : by_type) {
    std::vector<torch::Tensor> flat_parts;
    for (auto& t : list) flat_parts.push_back(t.reshape({-1}));
    std::vector<torch::Tensor> flat{torch::cat(flat_parts)};
    group_->broadcast(flat, 0);
    int64_t offset = 0;
    for (auto& t : list) {
      t.copy_(flat[0].narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

void Trainer::sync_buffers() {
  // As DDP's broadcast_buffers: batch-norm statistics follow rank 0 before every forward.
  if (group_) broadcast_state(model_->buffers());
}

bool Trainer::any_rank(bool flag) {
  if (!group_) return flag;
  auto t = torch::tensor({flag ? 1.0 : 0.0}, torch::kFloat64);
  group_->allreduce_sum(t);
  return t.item<double>() > 0;
}

void Trainer::average_epoch_loss() {
  if (!group_) return;
  auto t = torch::tensor({epoch_loss_[0], epoch_loss_[1], epoch_loss_[2]}, torch::kFloat64);
  group_->allreduce_sum(t);
  for (int k = 0; k < 3; ++k) epoch_loss_[k] = t[k].item<double>() / group_->world_size();
}

void Trainer::setup_precision() {
  precision_ = amp_precision(device_.primary, args_.amp());
  if (device_.primary.is_cuda() && !args_.rect() && !args_.deterministic())
    at::globalContext().setBenchmarkCuDNN(true);  // training shapes are fixed: let cuDNN pick its kernels once
  if (precision_ == Precision::fp32) return;
  // Ultralytics' check_amp: rank 0 compares fp32 and autocast outputs once; every rank follows its verdict.
  bool agree = true;
  std::string detail;
  if (main_rank()) {
    try {
      agree = amp_outputs_agree(model_, device_.primary, precision_, args_.imgsz(), &detail);
    } catch (const std::exception& e) {
      agree = false, detail = e.what();
    }
  }
  if (any_rank(!agree)) {
    log_warning("AMP checks failed ({}): training in fp32 instead. Pass amp=False to skip this check.", detail);
    precision_ = Precision::fp32;
  } else {
    log_info("AMP: checks passed, training with {} autocast{}", to_string(precision_),
             precision_ == Precision::fp16 ? " and a dynamic loss scale" : "");
  }
  scaler_ = GradScaler(precision_ == Precision::fp16);
}

torch::Tensor Trainer::rescale_for_multi_scale(const torch::Tensor& images, int64_t iteration) const {
  // The draw depends on (seed, iteration) only: every rank of a distributed run takes the same size.
  constexpr uint64_t kMultiScaleStream = 0x6D756C7469ull;
  data::Rng rng(static_cast<uint64_t>(args_.seed()), static_cast<uint64_t>(iteration), kMultiScaleStream);
  const auto shape = data::multi_scale_shape(args_.imgsz(), stride_, {images.size(2), images.size(3)}, rng);
  if (shape[0] == images.size(2) && shape[1] == images.size(3)) return images;
  namespace F = torch::nn::functional;
  return F::interpolate(images, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{shape[0], shape[1]})
                                    .mode(torch::kBilinear)
                                    .align_corners(false))
      .contiguous(torch::MemoryFormat::ChannelsLast);
}

void Trainer::optimizer_step() {
  std::vector<torch::Tensor> params;
  for (auto& p : model_->parameters())
    if (p.requires_grad()) params.push_back(p);
  // fp16: the gradients carry the loss scale; a step whose gradients overflowed is skipped (the EMA still
  // updates, as Ultralytics'), and the scale adapts.
  const bool finite = scaler_.unscale(params);
  torch::nn::utils::clip_grad_norm_(params, 10.0);
  if (finite) optimizer_.optimizer->step();
  scaler_.update(!finite);
  optimizer_.optimizer->zero_grad();
  ema_->update(*model_);
}

void Trainer::train_epoch(int64_t epoch) {
  auto& groups = optimizer_.optimizer->param_groups();
  const double lf = lr_factor(static_cast<double>(epoch), epochs_, args_.lrf(), args_.cos_lr());
  for (auto& g : groups) set_group_lr(g, initial_lr_ * lf);

  set_train_mode();
  train_loader_->set_epoch(epoch);
  if (epoch == epochs_ - args_.close_mosaic()) {
    log_info("Closing dataloader mosaic");
    train_set_->close_mosaic();
  }
  log_info("{}", progress_header());
  if (group_) log_debug("rank {}: {} batches of {} images", group_->rank(), nb_, rank_batch_);
  epoch_loss_ = {0, 0, 0};
  const auto epoch_start = Clock::now();
  int64_t i = 0;
  while (auto batch = train_loader_->next()) {
    const int64_t ni = i + nb_ * epoch;
    if (ni <= nw_) {  // warmup: bias lr falls from warmup_bias_lr, the others rise from 0; momentum ramps up
      accumulate_ = std::max<int64_t>(
          1, std::llround(interp(ni, 0, nw_, 1, args_.nbs() / static_cast<double>(batch_size_))));
      for (size_t j = 0; j < groups.size(); ++j) {
        set_group_lr(groups[j], interp(ni, 0, nw_, j == 0 ? args_.warmup_bias_lr() : 0.0, initial_lr_ * lf));
        if (optimizer_.uses_momentum_key)
          set_group_momentum(groups[j], interp(ni, 0, nw_, args_.warmup_momentum(), optimizer_.momentum));
      }
    }
    sync_buffers();
    auto images = batch->images.to(device_.primary, /*non_blocking=*/true)
                      .to(torch::kFloat32)
                      .div_(255)
                      .contiguous(torch::MemoryFormat::ChannelsLast);
    if (args_.multi_scale()) images = rescale_for_multi_scale(images, ni);
    if (args_.plots() && main_rank() && ni < 3)  // as Ultralytics: the first three batches, as trained on
      data::save_batch_image(*batch, data_.names, (save_dir_ / fmt::format("train_batch{}.jpg", ni)).string());
    auto targets = batch->targets.to(device_.primary);
    std::vector<torch::Tensor> feats;
    {
      AutocastGuard autocast(device_.primary, precision_);
      feats = model_->forward_raw(images);
    }
    auto result = (*loss_)(feats, targets);  // in fp32 whatever the forward's precision
    YOLO_CHECK(torch::isfinite(result.total).item<bool>(),
               "non-finite training loss at epoch {} batch {}: lower lr0 (now {}) or check the labels of this batch "
               "({}...); the last good weights are in {}",
               epoch + 1, i, args_.lr0(), batch->paths.empty() ? "" : batch->paths.front(),
               (weights_dir_ / "last.pt").string());
    // Ultralytics scales a rank's loss by world_size; with the reducer's average over ranks, the step is
    // the sum of every rank's (batch-size-scaled) loss gradient, as one process accumulating the ranks'
    // batches would take.
    scaler_.scale(group_ ? result.total * static_cast<double>(group_->world_size()) : result.total).backward();
    if (reducer_) reducer_->finish();
    auto items = result.items.to(torch::kCPU);
    for (int k = 0; k < 3; ++k) epoch_loss_[k] = (epoch_loss_[k] * i + items[k].item<double>()) / (i + 1);

    if (ni - last_opt_step_ >= accumulate_) {
      optimizer_step();
      last_opt_step_ = ni;
      if (args_.time() > 0 && seconds_since(train_start_) + time_offset_ > args_.time() * 3600) stop_ = true;
    }
    ++i;
    log_progress(progress_line(epoch, epochs_, memory_reserved_gb(device_.primary), epoch_loss_,
                               batch->targets.size(0), images.size(-1), i, nb_, seconds_since(epoch_start)),
                 i == nb_);
    TrainEvent event;
    event.epoch = static_cast<int>(epoch), event.epochs = static_cast<int>(epochs_), event.batch = i - 1;
    event.train_loss = epoch_loss_;
    event.rank = group_ ? group_->rank() : 0, event.world_size = group_ ? group_->world_size() : 1;
    event.batch_files = batch->paths;
    event.save_dir = save_dir_.string();
    callbacks_.run("on_train_batch_end", event);
    if (event.stop) stop_ = interrupted_ = true;  // e.g. Ctrl-C seen by the Python binding
    if (group_) {  // every rank leaves the epoch after the same batch
      interrupted_ = any_rank(interrupted_);
      stop_ = any_rank(stop_ || interrupted_);
    }
    if (stop_) break;
  }
}

ValResults Trainer::validate() {
  auto ema_model = nn::YoloModel(std::dynamic_pointer_cast<nn::YoloModelImpl>(ema_->shared()));
  return validator_->run(ema_model, device_.primary, loss_.get(), group_.get());
}

TrainResults Trainer::run() {
  TrainEvent event;
  callbacks_.run("on_pretrain_routine_start", event);
  setup();
  callbacks_.run("on_pretrain_routine_end", event);
  EarlyStopping stopper(args_.patience());
  train_start_ = Clock::now();
  log_info("Image sizes {} train, {} val\nUsing {} dataloader workers\nLogging results to {}\nStarting training for {}",
           args_.imgsz(), args_.imgsz(), train_loader_->options().workers, save_dir_.string(),
           args_.time() > 0 ? fmt::format("{} hours...", args_.time()) : fmt::format("{} epochs...", epochs_));
  event.save_dir = save_dir_.string();
  event.rank = group_ ? group_->rank() : 0, event.world_size = group_ ? group_->world_size() : 1;
  callbacks_.run("on_train_start", event);
  optimizer_.optimizer->zero_grad();

  int64_t epoch = start_epoch_;
  int completed = 0;
  for (; epoch < epochs_; ++epoch) {
    event.epoch = static_cast<int>(epoch), event.epochs = static_cast<int>(epochs_);
    callbacks_.run("on_train_epoch_start", event);
    train_epoch(epoch);
    average_epoch_loss();
    ++completed;
    auto& groups = optimizer_.optimizer->param_groups();
    std::array<double, 3> lr{};
    for (size_t j = 0; j < 3 && j < groups.size(); ++j) lr[j] = group_lr(groups[j]);
    event.train_loss = epoch_loss_, event.lr = lr;
    callbacks_.run("on_train_epoch_end", event);

    const bool final_epoch = epoch + 1 >= epochs_;
    if (interrupted_) {
      metrics_ = ValResults{};
      fitness_ = -(epoch_loss_[0] + epoch_loss_[1] + epoch_loss_[2]);
    } else if (args_.val() || final_epoch || stopper.possible_stop || stop_) {
      metrics_ = validate();
      fitness_ = metrics_.fitness;
    } else {
      metrics_ = ValResults{};
      fitness_ = -(epoch_loss_[0] + epoch_loss_[1] + epoch_loss_[2]);  // Ultralytics: the loss stands in for fitness
    }
    // An interrupted epoch is not a completed one: no results row, no best.pt, and last.pt says the epoch
    // before, so that resume=True trains this epoch again (from the weights reached so far).
    const bool is_best = !interrupted_ && (!has_best_ || best_fitness_ < fitness_);
    if (is_best) best_fitness_ = fitness_, has_best_ = true;
    if (main_rank() && !interrupted_)
      append_results_row(save_dir_ / "results.csv", epoch, seconds_since(train_start_) + time_offset_, epoch_loss_,
                         metrics_, lr);
    stop_ = stopper(epoch + 1, fitness_) || final_epoch || stop_;
    if (args_.time() > 0 && seconds_since(train_start_) + time_offset_ > args_.time() * 3600) stop_ = true;

    if (args_.time() > 0) stop_ = any_rank(stop_);  // clocks differ between ranks
    if ((args_.save() || final_epoch) && main_rank()) {
      TrainState state;
      state.epoch = interrupted_ ? epoch - 1 : epoch;
      state.best_fitness = best_fitness_, state.has_best_fitness = has_best_;
      state.last_opt_step = last_opt_step_;
      state.train_seconds = seconds_since(train_start_) + time_offset_;
      state.metrics = metrics_.results_dict();
      state.names = data_.names;
      CheckpointFiles files{weights_dir_ / "last.pt", is_best ? weights_dir_ / "best.pt" : fs::path{},
                            !interrupted_ && args_.save_period() > 0 && epoch % args_.save_period() == 0
                                ? weights_dir_ / fmt::format("epoch{}.pt", epoch)
                                : fs::path{}};
      save_train_checkpoint(files, *model_, *ema_, *optimizer_.optimizer, state, args_);
      callbacks_.run("on_model_save", event);
    }
    event.metrics = metrics_, event.fitness = fitness_, event.best_fitness = best_fitness_;
    callbacks_.run("on_fit_epoch_end", event);
    if (event.stop) stop_ = true;
    stop_ = any_rank(stop_);
    if (stop_) break;
  }
  log_info("\n{} epochs completed in {:.3f} hours.", completed, seconds_since(train_start_) / 3600);

  // Final checkpoints are stripped to the EMA weights in fp16, then best.pt is validated with the table.
  TrainResults results;
  results.save_dir = save_dir_.string();
  results.last = (weights_dir_ / "last.pt").string();
  results.best = (weights_dir_ / "best.pt").string();
  results.epochs_completed = completed;
  if (group_) {
    // Training is over for every rank; rank 0 alone strips the checkpoints and validates best.pt, as
    // Ultralytics does (main's RankLauncher then sees the ranks it started end).
    group_->barrier();
    if (!main_rank()) {
      results.metrics = metrics_;
      return results;
    }
  }
  if (interrupted_) {  // keep last.pt resumable and skip the final validation
    log_warning("Training interrupted; resume with resume={}", results.last);
    results.metrics = metrics_;
    return results;
  }
  for (const auto& path : {results.last, results.best}) {
    if (fs::exists(path)) strip_checkpoint(path);
  }
  if (fs::exists(results.best)) {
    log_info("\nValidating {}...", results.best);
    auto best = load_model_from_checkpoint(results.best).model;
    best->to(device_.primary);
    ValidatorOptions vo;
    vo.iou = args_.iou();
    vo.max_det = args_.max_det();
    vo.names = data_.names;
    vo.verbose = args_.verbose();  // the per-class table
    if (args_.save_json()) {
      vo.json_path = (save_dir_ / "predictions.json").string();
      vo.coco_category_ids = is_coco_val(data_.split("val"));
    }
    auto val_loader = make_val_loader(data_.split(args_.split() == "test" && !data_.test.empty() ? "test" : "val"),
                                      data_.names, args_, rank_batch_ * 2,
                                      std::max<int64_t>(32, static_cast<int64_t>(best->strides().back())),
                                      device_.primary.is_cuda());
    results.metrics = DetectionValidator(val_loader, vo).run(best, device_.primary);
  } else {
    results.metrics = metrics_;
  }
  results.metrics.save_dir = results.save_dir;
  log_info("Results saved to {}", results.save_dir);
  event.metrics = results.metrics;
  callbacks_.run("on_train_end", event);
  return results;
}

}  // namespace

TrainResults train_detector(nn::YoloModel model, const TrainArgs& args, const Callbacks& callbacks) {
  return Trainer(std::move(model), args, callbacks).run();
}

}  // namespace yolo::engine
