#include "engine/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include <fmt/ranges.h>

#include "config/resolve.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "engine/amp.h"
#include "engine/checkpointing.h"
#include "engine/device.h"
#include "engine/ema.h"
#include "engine/optimizer.h"
#include "engine/process_group.h"
#include "engine/run_dir.h"
#include "engine/run_options.h"
#include "engine/running_losses.h"
#include "engine/task.h"
#include "engine/training_ranks.h"
#include "loggers/model_graph.h"
#include "loggers/run_loggers.h"
#include "plots/from_metrics.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {
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

/// Ultralytics' EarlyStopping: stop after `patience` epochs without a better score (higher is better:
/// the fitness, or the negated validation loss for patience_metric=val_loss).
class EarlyStopping {
 public:
  EarlyStopping(int64_t patience, std::string metric)
      : patience_(patience > 0 ? patience : INT64_MAX), metric_(std::move(metric)) {}
  bool operator()(int64_t epoch, double score) {
    if (score > best_score_ || best_score_ == 0) best_epoch_ = epoch, best_score_ = score;
    const int64_t delta = epoch - best_epoch_;
    possible_stop = delta >= patience_ - 1;
    if (delta >= patience_) {
      log_info("EarlyStopping: Training stopped early as no improvement observed in last {} epochs{}. Best results "
               "observed at epoch {}, best model saved as best.pt.",
               patience_, metric_ == "val_loss" ? " (validation loss did not decrease)" : "", best_epoch_);
      return true;
    }
    return false;
  }
  bool possible_stop = false;

 private:
  int64_t patience_, best_epoch_ = 0;
  double best_score_ = 0;
  std::string metric_;
};

bool matches_any(const std::string& name, const std::vector<std::string>& parts) {
  for (const auto& p : parts)
    if (name.find(p) != std::string::npos) return true;
  return false;
}

NamedValues prefixed(const std::string& prefix, const std::vector<std::string>& names, const std::vector<double>& values) {
  NamedValues out;
  for (size_t k = 0; k < names.size(); ++k) out.emplace_back(prefix + names[k], k < values.size() ? values[k] : 0.0);
  return out;
}

class Trainer {
 public:
  /// `record` is only written (args.yaml, checkpoints' train_args); the loop reads `options`. The run's
  /// loggers join a copy of `callbacks` on rank 0.
  Trainer(nn::Network model, const Task& task, RunOptions options, TrainArgs record, const Callbacks& callbacks)
      : model_(std::move(model)), task_(task), options_(std::move(options)), opt_(options_.trainer),
        record_(std::move(record)), callbacks_(callbacks) {}
  TrainResults run();

 private:
  void setup();
  void setup_data(int64_t world);
  void setup_optimizer();
  void train_epoch(int64_t epoch, TrainEvent& event);
  void optimizer_step();
  double lr_factor_at(int64_t epoch) const;
  void setup_precision();
  void set_train_mode();
  void attach_loggers();
  std::array<double, 3> learning_rates();
  ValResults validate(TrainEvent& event);
  EpochRecord epoch_record(int64_t epoch, const std::array<double, 3>& lr) const;
  ValResults final_validation(const std::string& best, TrainEvent& event);
  bool main_rank() const { return ranks_->main(); }

  nn::Network model_;
  const Task& task_;
  RunOptions options_;
  TrainerOptions& opt_;
  TrainArgs record_;
  Callbacks callbacks_;

  DeviceChoice device_;
  data::DataSpec data_;
  std::shared_ptr<data::DataLoader> train_loader_;
  ValidateFn validator_;
  LossFn loss_;
  BuiltOptimizer optimizer_;
  nn::Network ema_model_{nullptr};
  std::unique_ptr<ModelEma> ema_;
  std::vector<torch::Tensor> trained_;  // the parameters the optimizer steps, collected at the first step
  std::vector<std::string> frozen_;
  Precision precision_ = Precision::fp32;
  GradScaler scaler_{false};

  std::unique_ptr<TrainingRanks> ranks_ = std::make_unique<TrainingRanks>();  // one process until setup() joins

  fs::path save_dir_, weights_dir_;
  int64_t stride_ = 32;  // the largest model stride: multiple of every detection image side
  int64_t batch_size_ = 16, rank_batch_ = 16, accumulate_ = 1, epochs_ = 0, start_epoch_ = 0, nb_ = 0, nw_ = 0;
  int64_t last_opt_step_ = -1;
  double best_fitness_ = 0, fitness_ = 0, initial_lr_ = 0;
  bool has_best_ = false, stop_ = false;
  bool interrupted_ = false;  // stopped mid-epoch: save last.pt, skip validation
  std::vector<double> epoch_loss_;
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
  device_ = select_device(opt_.device);
  ranks_ = TrainingRanks::join(device_, opt_.device, opt_.ddp_timeout);
  torch::manual_seed(opt_.seed);
  if (opt_.deterministic) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);

  data_ = task_.load_data(options_.data);
  YOLO_CHECK(model_->nc() == static_cast<int64_t>(data_.names.size()) || options_.data.dataset.single_cls,
             "model has nc={} but {} has {} classes: build the model with nc={} (Model(yaml, nc) or load weights into "
             "a model made for this dataset)",
             model_->nc(), options_.data.data, data_.names.size(), data_.names.size());

  model_->set_dropout(opt_.dropout);
  const auto fixed = model_->fixed_parameters();  // never trained, never announced
  frozen_ = fixed;
  for (auto layer : opt_.freeze) frozen_.push_back(fmt::format("model.{}.", layer));
  for (auto& p : model_->named_parameters()) {
    if (matches_any(p.key(), frozen_)) {
      if (!matches_any(p.key(), fixed)) log_info("Freezing layer '{}'", p.key());
      p.value().set_requires_grad(false);
    } else if (p.value().is_floating_point()) {
      p.value().set_requires_grad(true);
    }
  }
  model_->to(device_.primary);
  if (ranks_->distributed()) {  // every rank starts from rank 0's weights
    std::vector<torch::Tensor> state;
    for (auto& p : model_->parameters()) state.push_back(p);
    for (auto& b : model_->buffers()) state.push_back(b);
    ranks_->broadcast(state);
  }
  nn::use_channels_last(*model_);
  setup_precision();

  // Run folder: rank 0 makes it, the others learn its name
  if (main_rank()) {
    save_dir_ = run_folder(opt_.project, task_.name, opt_.name, "train", opt_.exist_ok);
    weights_dir_ = save_dir_ / "weights";
    fs::create_directories(weights_dir_);
    std::ofstream out(save_dir_ / "args.yaml");
    record_.save_dir(save_dir_.string());
    out << record_.to_yaml();
  }
  if (ranks_->distributed()) {
    save_dir_ = ranks_->share("save_dir", save_dir_.string());
    weights_dir_ = save_dir_ / "weights";
    record_.save_dir(save_dir_.string());
  }

  // Data: `batch` is the global batch, split across the ranks as Ultralytics does
  batch_size_ = static_cast<int64_t>(opt_.batch);
  YOLO_CHECK(batch_size_ >= 1, "batch={} is not supported yet: give a positive batch size", opt_.batch);
  const int64_t world = ranks_->world_size();
  rank_batch_ = batch_size_ / world;
  YOLO_CHECK(rank_batch_ >= 1, "batch={} is smaller than the {} ranks of this distributed run: give each rank at "
             "least one image (batch >= {})", batch_size_, world, world);
  if (batch_size_ % world != 0)
    log_warning("batch={} is not a multiple of the {} ranks: each rank trains on {} images per batch", batch_size_,
                world, rank_batch_);
  setup_data(world);
  loss_ = task_.make_loss(*model_, options_);
  epoch_loss_.assign(task_.loss_names.size(), 0.0);
  setup_optimizer();

  ema_model_ = nn::Network(model_->rebuild());
  ema_ = std::make_unique<ModelEma>(ema_model_.ptr(), *model_);
  ema_->module().to(device_.primary);
  nn::use_channels_last(ema_->module());

  nw_ = opt_.warmup_epochs > 0 ? std::max<int64_t>(std::llround(opt_.warmup_epochs * nb_), 100) : -1;

  if (!opt_.resume.empty() && opt_.resume != "false") {
    const auto state = load_train_checkpoint(opt_.resume, *model_, *ema_, *optimizer_.optimizer);
    start_epoch_ = state.epoch + 1;
    best_fitness_ = state.best_fitness;
    has_best_ = state.has_best_fitness;
    last_opt_step_ = state.last_opt_step;
    time_offset_ = state.train_seconds;
    YOLO_CHECK(start_epoch_ < epochs_ || epochs_ == 0,
               "{} training to {} epochs is finished, nothing to resume. Start a new run with model={}", opt_.resume,
               epochs_, opt_.resume);
    log_info("Resuming training {} from epoch {} to {} total epochs", opt_.resume, start_epoch_ + 1, epochs_);
    if (ranks_->distributed()) {  // every rank read the same file; make sure they hold the same state
      std::vector<torch::Tensor> state_tensors;
      for (auto& p : model_->parameters()) state_tensors.push_back(p);
      for (auto& b : model_->buffers()) state_tensors.push_back(b);
      for (auto& p : ema_->module().parameters()) state_tensors.push_back(p);
      for (auto& b : ema_->module().buffers()) state_tensors.push_back(b);
      ranks_->broadcast(state_tensors);
    }
  }
  if (main_rank()) attach_loggers();
}

void Trainer::attach_loggers() {
  loggers::RunLoggerOptions o;
  o.save_dir = save_dir_.string();
  o.names = data_.names;
  o.loss_names = task_.loss_names;
  o.plots = opt_.plots, o.tensorboard = opt_.tensorboard;
  o.print_freq = opt_.print_freq;
  if (opt_.tensorboard) o.graph = loggers::network_graph(*model_);
  if (opt_.plots) o.labels = plots::dataset_labels(train_loader_->dataset());
  loggers::attach_run_loggers(callbacks_, std::move(o));
}

std::array<double, 3> Trainer::learning_rates() {
  auto& groups = optimizer_.optimizer->param_groups();
  std::array<double, 3> lr{};
  for (size_t j = 0; j < 3 && j < groups.size(); ++j) lr[j] = group_lr(groups[j]);
  return lr;
}

void Trainer::setup_data(int64_t world) {
  stride_ = std::max<int64_t>(32, static_cast<int64_t>(model_->strides().back()));
  // As Ultralytics' trainer, for every task: imgsz a multiple of the largest stride, at least 32.
  opt_.imgsz = options_.data.dataset.imgsz = config::check_imgsz(opt_.imgsz, stride_, stride_);
  LoaderRequest train;
  train.train = true;
  train.batch_size = rank_batch_;
  train.stride = stride_;
  train.rank = ranks_->rank();
  train.world_size = world;
  train.pin_memory = device_.primary.is_cuda();
  train_loader_ = task_.make_loader(data_.train, data_, options_.data, train);
  nb_ = static_cast<int64_t>(train_loader_->num_batches());
  YOLO_CHECK(nb_ > 0, "{}: the training split has no batches", options_.data.data);

  // The final epoch validates even with val=False.
  const auto& sources = data_.split(options_.data.split == "test" && !data_.test.empty() ? "test" : "val");
  LoaderRequest val = train;
  val.train = false;
  val.batch_size = rank_batch_ * 2;
  auto vo = options_.validator;
  vo.conf = 0.001;  // training's validation, whatever conf says
  vo.agnostic_nms = false, vo.half = false;
  vo.names = data_.names;
  vo.verbose = false;
  vo.plots = opt_.plots || opt_.tensorboard;  // every rank alike: the confusion matrix is summed over them
  validator_ = task_.make_validator(task_.make_loader(sources, data_, options_.data, val), sources, vo);
}

void Trainer::setup_optimizer() {
  // Ultralytics' scaling of weight decay to the effective batch.
  accumulate_ = std::max<int64_t>(std::llround(opt_.nbs / static_cast<double>(batch_size_)), 1);
  epochs_ = opt_.epochs;
  OptimizerOptions oo;
  oo.name = opt_.optimizer;
  oo.lr0 = opt_.lr0;
  oo.momentum = opt_.momentum;
  oo.weight_decay = opt_.weight_decay * batch_size_ * accumulate_ / opt_.nbs;
  oo.iterations = static_cast<int64_t>(std::ceil(static_cast<double>(train_loader_->dataset().size()) /
                                                 std::max<double>(batch_size_, opt_.nbs))) *
                  epochs_;
  oo.nc = static_cast<int64_t>(data_.names.size());
  optimizer_ = build_optimizer(*model_, oo);
  if (opt_.optimizer == "auto") opt_.warmup_bias_lr = 0.0;  // as Ultralytics: no higher than lr for Adam
  initial_lr_ = optimizer_.lr;
  if (opt_.scale_lr && ranks_->distributed()) {  // "effective lr = lr x world size"; off by default, as Ultralytics
    initial_lr_ *= ranks_->world_size();
    for (auto& g : optimizer_.optimizer->param_groups()) set_group_lr(g, initial_lr_);
    log_info("scale_lr=True: lr {} x {} ranks = {}", optimizer_.lr, ranks_->world_size(), initial_lr_);
  }
  if (ranks_->distributed()) {
    std::vector<torch::Tensor> trained;
    for (auto& p : model_->parameters())
      if (p.requires_grad()) trained.push_back(p);
    const auto buckets = ranks_->reduce_gradients(trained);
    log_info("DDP: {} ranks ({} backend), {} images per rank and batch, gradients in {} buckets",
             ranks_->world_size(), ranks_->group()->backend_name(), rank_batch_, buckets);
  }
}

double Trainer::lr_factor_at(int64_t epoch) const {
  const auto e = static_cast<double>(epoch);
  if (opt_.lr_schedule == "poly") return poly_lr_factor(e, epochs_, opt_.lrf, opt_.lr_power);
  return lr_factor(e, epochs_, opt_.lrf, opt_.lr_schedule == "cosine");
}

void Trainer::setup_precision() {
  precision_ = amp_precision(device_.primary, opt_.amp);
  if (device_.primary.is_cuda() && !options_.data.dataset.rect && !opt_.deterministic)
    at::globalContext().setBenchmarkCuDNN(true);  // training shapes are fixed: let cuDNN pick its kernels once
  if (precision_ == Precision::fp32) return;
  // Ultralytics' check_amp: rank 0 compares fp32 and autocast outputs once; every rank follows its verdict.
  bool agree = true;
  std::string detail;
  if (main_rank()) {
    try {
      agree = amp_outputs_agree(model_, device_.primary, precision_, opt_.imgsz, &detail);
    } catch (const std::exception& e) {
      agree = false, detail = e.what();
    }
  }
  if (ranks_->any(!agree)) {
    log_warning("AMP checks failed ({}): training in fp32 instead. Pass amp=False to skip this check.", detail);
    precision_ = Precision::fp32;
  } else {
    log_info("AMP: checks passed, training with {} autocast{}", to_string(precision_),
             precision_ == Precision::fp16 ? " and a dynamic loss scale" : "");
  }
  scaler_ = GradScaler(precision_ == Precision::fp16);
}

void Trainer::optimizer_step() {
  if (trained_.empty()) {
    for (auto& p : model_->parameters())
      if (p.requires_grad()) trained_.push_back(p);
  }
  // fp16: the gradients carry the loss scale; a step whose gradients overflowed is skipped (the EMA still
  // updates, as Ultralytics'), and the scale adapts.
  const bool finite = scaler_.unscale(trained_);
  clip_grad_norm(trained_, 10.0);
  if (finite) optimizer_.optimizer->step();
  scaler_.update(!finite);
  optimizer_.optimizer->zero_grad();
  ema_->update(*model_);
}

void Trainer::train_epoch(int64_t epoch, TrainEvent& event) {
  auto& groups = optimizer_.optimizer->param_groups();
  const double lf = lr_factor_at(epoch);
  for (auto& g : groups) set_group_lr(g, initial_lr_ * lf);

  set_train_mode();
  train_loader_->set_epoch(epoch);
  if (epoch == epochs_ - opt_.close_mosaic && train_loader_->dataset().mosaic_enabled()) {
    log_info("Closing dataloader mosaic");
    train_loader_->dataset().close_mosaic();
  }
  if (ranks_->distributed()) log_debug("rank {}: {} batches of {} images", ranks_->rank(), nb_, rank_batch_);
  std::fill(epoch_loss_.begin(), epoch_loss_.end(), 0.0);
  // Nothing in a step waits for the device: the losses accumulate there, read for the progress line at most
  // twice a second and after the last batch; images are copied one batch ahead.
  RunningLosses running(static_cast<int64_t>(task_.loss_names.size()), device_.primary);
  std::vector<std::string> first_files;  // of each batch, to name the one whose loss turned out non-finite
  auto read_losses = [&] {
    const auto reading = running.read();
    YOLO_CHECK(reading.first_non_finite < 0,
               "non-finite training loss at epoch {} batch {}: lower lr0 (now {}) or check the labels of this batch "
               "({}...); the last good weights are in {}",
               epoch + 1, reading.first_non_finite, opt_.lr0,
               first_files.at(static_cast<size_t>(reading.first_non_finite)), (weights_dir_ / "last.pt").string());
    std::copy(reading.means.begin(), reading.means.end(), epoch_loss_.begin());
  };
  data::DevicePrefetcher batches(*train_loader_, device_.primary);
  int64_t i = 0;
  while (auto batch = batches.next()) {
    const int64_t ni = i + nb_ * epoch;
    if (ni <= nw_) {  // warmup: bias lr falls from warmup_bias_lr, the others rise from 0; momentum ramps up
      accumulate_ = std::max<int64_t>(1, std::llround(interp(ni, 0, nw_, 1, opt_.nbs / static_cast<double>(batch_size_))));
      for (size_t j = 0; j < groups.size(); ++j) {
        set_group_lr(groups[j], interp(ni, 0, nw_, j == 0 ? opt_.warmup_bias_lr : 0.0, initial_lr_ * lf));
        if (optimizer_.uses_momentum_key)
          set_group_momentum(groups[j], interp(ni, 0, nw_, opt_.warmup_momentum, optimizer_.momentum));
      }
    }
    // As DDP's broadcast_buffers: batch-norm statistics follow rank 0 before every forward.
    if (ranks_->distributed()) ranks_->broadcast(model_->buffers());
    const auto& host = batch->batch;
    first_files.push_back(host.paths.empty() ? "" : host.paths.front());
    event.batch = i, event.lr = learning_rates(), event.batch_data = &host;
    event.batch_files = host.paths;
    callbacks_.run("on_train_batch_start", event);
    // Normalised on the device (one conversion to channels-last float, one division), then the task's resize.
    auto images = task_.train_images(
        batch->images.to(torch::kFloat32, false, false, torch::MemoryFormat::ChannelsLast).div_(255), ni, opt_, stride_);
    std::vector<torch::Tensor> raw;
    {
      AutocastGuard autocast(device_.primary, precision_);
      raw = model_->forward_raw(images);
    }
    auto result = loss_(raw, host);  // in fp32 whatever the forward's precision; host targets
    running.add(i, result.items, result.total);
    // Ultralytics scales a rank's loss by world_size; with the reducer's average over ranks, the step is
    // the sum of every rank's loss gradient, as one process accumulating the ranks' batches would take.
    scaler_.scale(ranks_->distributed() ? result.total * static_cast<double>(ranks_->world_size()) : result.total)
        .backward();
    ranks_->finish_backward();

    if (ni - last_opt_step_ >= accumulate_) {
      optimizer_step();
      last_opt_step_ = ni;
      if (opt_.time > 0 && seconds_since(train_start_) + time_offset_ > opt_.time * 3600) stop_ = true;
    }
    ++i;
    const bool print_line = opt_.print_freq > 0 && (i % opt_.print_freq == 0 || i == nb_);
    event.losses_read = running.due(i == nb_ || print_line);  // a print_freq line shows this batch's figures
    if (event.losses_read) read_losses();
    event.train_loss = prefixed("train/", task_.loss_names, epoch_loss_);
    event.instances = host.instances(), event.image_size = images.size(-1);
    event.memory_gb = memory_reserved_gb(device_.primary);
    callbacks_.run("on_train_batch_end", event);
    event.batch_data = nullptr;
    if (event.stop) stop_ = interrupted_ = true;  // e.g. Ctrl-C seen by the Python binding
    if (ranks_->distributed()) {  // every rank leaves the epoch after the same batch
      interrupted_ = ranks_->any(interrupted_);
      stop_ = ranks_->any(stop_ || interrupted_);
    }
    if (stop_) break;
  }
  if (running.due(true)) read_losses();  // stopped before the last batch
}

ValResults Trainer::validate(TrainEvent& event) {
  callbacks_.run("on_val_start", event);
  event.metrics = validator_(ema_model_, device_.primary, &loss_, ranks_->group());
  callbacks_.run("on_val_end", event);
  return event.metrics;
}

EpochRecord Trainer::epoch_record(int64_t epoch, const std::array<double, 3>& lr) const {
  EpochRecord r;
  r.epoch = static_cast<int>(epoch + 1);
  r.time = seconds_since(train_start_) + time_offset_;
  r.train_loss = prefixed("train/", task_.loss_names, epoch_loss_);
  for (const auto& [key, value] : metrics_.results_dict())
    if (key != "fitness") r.metrics.emplace_back(key, value);
  std::vector<double> val_loss;
  for (const auto& [name, value] : metrics_.loss) val_loss.push_back(value);
  r.val_loss = prefixed("val/", task_.loss_names, val_loss);
  r.lr = {{"lr/pg0", lr[0]}, {"lr/pg1", lr[1]}, {"lr/pg2", lr[2]}};
  return r;
}

ValResults Trainer::final_validation(const std::string& best, TrainEvent& event) {
  log_info("\nValidating {}...", best);
  auto model = load_model_from_checkpoint(best).model;
  model->to(device_.primary);
  const auto& sources = data_.split(options_.data.split == "test" && !data_.test.empty() ? "test" : "val");
  LoaderRequest request;
  request.batch_size = rank_batch_ * 2;
  request.stride = std::max<int64_t>(32, static_cast<int64_t>(model->strides().back()));
  request.pin_memory = device_.primary.is_cuda();
  auto vo = options_.validator;
  vo.conf = 0.001, vo.agnostic_nms = false, vo.half = false, vo.single_cls = false;
  vo.names = data_.names;
  vo.verbose = opt_.verbose;  // the per-class table
  vo.print_speed = false;     // the closing summary shows the speeds
  vo.plots = opt_.plots || opt_.tensorboard;
  if (opt_.save_json) vo.json_path = (save_dir_ / "predictions.json").string();
  auto validator = task_.make_validator(task_.make_loader(sources, data_, options_.data, request), sources, vo);
  callbacks_.run("on_val_start", event);
  event.metrics = validator(model, device_.primary, nullptr, nullptr);
  callbacks_.run("on_val_end", event);
  return event.metrics;
}

TrainResults Trainer::run() {
  TrainEvent event;
  callbacks_.run("on_pretrain_routine_start", event);
  setup();
  callbacks_.run("on_pretrain_routine_end", event);
  EarlyStopping stopper(opt_.patience, opt_.patience_metric);
  train_start_ = Clock::now();
  log_info("Image sizes {} train, {} val\nUsing {} dataloader workers\nLogging results to {}\nStarting training for {}",
           opt_.imgsz, opt_.imgsz, train_loader_->options().workers, save_dir_.string(),
           opt_.time > 0 ? fmt::format("{} hours...", opt_.time) : fmt::format("{} epochs...", epochs_));
  event.save_dir = save_dir_.string();
  event.rank = ranks_->rank(), event.world_size = ranks_->world_size();
  event.batches = nb_;
  callbacks_.run("on_train_start", event);
  optimizer_.optimizer->zero_grad();

  int64_t epoch = start_epoch_;
  int completed = 0;
  for (; epoch < epochs_; ++epoch) {
    event.epoch = static_cast<int>(epoch), event.epochs = static_cast<int>(epochs_);
    event.record.reset();
    callbacks_.run("on_train_epoch_start", event);
    train_epoch(epoch, event);
    ranks_->average(epoch_loss_);
    ++completed;
    const auto lr = learning_rates();
    event.train_loss = prefixed("train/", task_.loss_names, epoch_loss_), event.lr = lr;
    callbacks_.run("on_train_epoch_end", event);

    const bool final_epoch = epoch + 1 >= epochs_;
    double train_loss = 0;
    for (double v : epoch_loss_) train_loss += v;
    bool validated = false;
    if (!interrupted_ && (opt_.val || final_epoch || stopper.possible_stop || stop_)) {
      metrics_ = validate(event);
      fitness_ = metrics_.fitness;
      validated = true;
    } else {
      metrics_ = ValResults{};
      metrics_.task = task_.name;
      fitness_ = -train_loss;  // Ultralytics: the loss stands in for fitness
    }
    // patience_metric=val_loss watches the validation loss (the training loss when an epoch was not validated).
    const double stop_score =
        opt_.patience_metric == "val_loss" ? -(validated ? metrics_.total_loss() : train_loss) : fitness_;
    // An interrupted epoch is not a completed one: no results row, no best.pt, and last.pt says the epoch
    // before, so that resume=True trains this epoch again (from the weights reached so far).
    const bool is_best = !interrupted_ && (!has_best_ || best_fitness_ < fitness_);
    if (is_best) best_fitness_ = fitness_, has_best_ = true;
    if (!interrupted_) event.record = epoch_record(epoch, lr);
    stop_ = stopper(epoch + 1, stop_score) || final_epoch || stop_;
    if (opt_.time > 0 && seconds_since(train_start_) + time_offset_ > opt_.time * 3600) stop_ = true;

    if (opt_.time > 0) stop_ = ranks_->any(stop_);  // clocks differ between ranks
    if ((opt_.save || final_epoch) && main_rank()) {
      TrainState state;
      state.epoch = interrupted_ ? epoch - 1 : epoch;
      state.best_fitness = best_fitness_, state.has_best_fitness = has_best_;
      state.last_opt_step = last_opt_step_;
      state.train_seconds = seconds_since(train_start_) + time_offset_;
      state.metrics = metrics_.results_dict();
      state.names = data_.names;
      CheckpointFiles files{weights_dir_ / "last.pt", is_best ? weights_dir_ / "best.pt" : fs::path{},
                            !interrupted_ && opt_.save_period > 0 && epoch % opt_.save_period == 0
                                ? weights_dir_ / fmt::format("epoch{}.pt", epoch)
                                : fs::path{}};
      save_train_checkpoint(files, *model_, *ema_, *optimizer_.optimizer, state, record_);
      callbacks_.run("on_model_save", event);
    }
    event.metrics = metrics_, event.fitness = fitness_, event.best_fitness = best_fitness_;
    callbacks_.run("on_fit_epoch_end", event);
    if (event.stop) stop_ = true;
    stop_ = ranks_->any(stop_);
    if (stop_) break;
  }

  // Final checkpoints are stripped to the EMA weights in fp16, then best.pt is validated with the table.
  TrainResults results;
  results.save_dir = save_dir_.string();
  results.last = (weights_dir_ / "last.pt").string();
  results.best = (weights_dir_ / "best.pt").string();
  results.epochs_completed = completed;
  if (ranks_->distributed()) {
    // Training is over for every rank; rank 0 alone strips the checkpoints and validates best.pt, as
    // Ultralytics does (main's RankLauncher then sees the ranks it started end).
    ranks_->barrier();
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
  results.metrics = fs::exists(results.best) ? final_validation(results.best, event) : metrics_;
  results.metrics.save_dir = results.save_dir;
  event.metrics = results.metrics;  // the closing summary (loggers) names the run folder
  callbacks_.run("on_train_end", event);
  return results;
}

}  // namespace

TrainResults train(nn::Network model, const TrainArgs& args, const Callbacks& callbacks) {
  const Task& task = task_named(model->task());
  auto options = make_run_options(args, task.name);
  return Trainer(std::move(model), task, std::move(options), args, callbacks).run();
}

}  // namespace engine
YOLO_END_NAMESPACE
