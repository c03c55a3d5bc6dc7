#include "loggers/run_loggers.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "loggers/progress.h"
#include "loggers/records.h"
#include "plots/chart.h"
#include "plots/from_metrics.h"
#include "plots/mosaic.h"
#include "plots/val_state.h"
#include "plots/validation_plots.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace loggers {
namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// As Ultralytics: the first three iterations of the run are drawn as train_batch{0,1,2}.jpg.
constexpr long kPlottedTrainBatches = 3;

/// A picture a user looks at must not end a training run: a failure to draw one is a warning.
template <typename Draw>
void draw_or_warn(const char* what, Draw&& draw) {
  try {
    draw();
  } catch (const std::exception& e) {
    log_warning("could not plot {}: {}", what, e.what());
  }
}

class RunLoggers {
 public:
  explicit RunLoggers(RunLoggerOptions options) : o_(std::move(options)), dir_(o_.save_dir) {}

  void train_start(const TrainEvent&) {
    start_ = steady_seconds();
    if (o_.tensorboard) {
      try {
        tensorboard_ = std::make_unique<TensorBoardWriter>(dir_.string());
        log_info("TensorBoard: Start with 'tensorboard --logdir {}', view at http://localhost:6006/",
                 dir_.parent_path().string());
        if (!o_.graph.empty()) tensorboard_->add_graph(o_.graph);
        tensorboard_->flush();
      } catch (const std::exception& e) {
        log_warning("TensorBoard: not logging this run: {}", e.what());
        tensorboard_.reset();
      }
    }
    if (o_.plots && !o_.labels.empty())
      draw_or_warn("labels.jpg", [&] { plots::plot_labels(o_.labels, o_.names, (dir_ / "labels.jpg").string()); });
  }

  void epoch_start(const TrainEvent& e) {
    log_info("{}", progress_header(o_.loss_names));
    bar_ = std::make_unique<ProgressBar>(e.batches);
  }

  void batch_end(const TrainEvent& e) {
    const long done = e.batch + 1;
    if (bar_) bar_->update(done, progress_status(e));
    if (o_.print_freq > 0 && (done % o_.print_freq == 0 || done == e.batches)) {
      std::string losses;
      for (const auto& [name, value] : e.train_loss)
        losses += fmt::format(" {} {:.4g}", name.substr(name.find('/') + 1), value);
      log_info("epoch {}/{} iteration {}/{}:{} lr {:.6g}", e.epoch + 1, e.epochs, done, e.batches, losses, e.lr[0]);
    }
    const long iteration = e.batch + e.batches * e.epoch;
    if (tensorboard_ && e.losses_read) {
      NamedValues running;  // the epoch's mean loss up to this iteration, as the progress bar shows it
      for (const auto& [name, value] : e.train_loss) running.emplace_back("batch/" + name.substr(name.find('/') + 1), value);
      tensorboard_->add_scalars(running, iteration);
    }
    if (iteration < kPlottedTrainBatches && e.batch_data && (o_.plots || tensorboard_)) {
      const auto name = fmt::format("train_batch{}", iteration);
      draw_or_warn(name.c_str(), [&] {
        const auto picture = plots::draw_mosaic(plots::batch_tiles(*e.batch_data), o_.names);
        if (o_.plots) plots::write_image((dir_ / (name + ".jpg")).string(), picture);
        if (tensorboard_) tensorboard_->add_image(name, picture, e.epoch + 1);
      });
    }
  }

  void epoch_end(const TrainEvent&) {
    if (bar_) bar_->close();
    bar_.reset();
    ++epochs_;
  }

  void val_end(const TrainEvent& e) {
    if (!e.metrics.plots) return;
    validation_ = e.metrics.plots;
    for (const auto& [name, picture] : validation_->batches) {
      if (o_.plots) draw_or_warn(name.c_str(), [&] { plots::write_image((dir_ / (name + ".jpg")).string(), picture); });
      if (tensorboard_) tensorboard_->add_image(name, picture, e.epoch + 1);
    }
    if (o_.plots) plots::save_validation_state((dir_ / "val_state.json").string(), validation_->state);
  }

  /// At on_model_save, before the checkpoint that says the epoch is done (a crash between them cannot lose the
  /// row, as Ultralytics writes it first), else at on_fit_epoch_end.
  void write_row(const TrainEvent& e) {
    if (!e.record || e.record->epoch == written_epoch_) return;  // an epoch cut short has no row
    const auto record = record_of(*e.record);
    append_results_csv((dir_ / "results.csv").string(), record);
    append_metrics_jsonl((dir_ / "metrics.jsonl").string(), record);
    written_epoch_ = e.record->epoch;
  }

  void fit_epoch_end(const TrainEvent& e) {
    write_row(e);
    if (!e.record) return;
    const auto record = record_of(*e.record);
    if (!best_ || e.fitness >= e.best_fitness) best_ = record;  // the trainer's best.pt rule
    if (tensorboard_) {
      tensorboard_->add_scalars(record.values, record.epoch);
      tensorboard_->flush();  // a running `tensorboard --logdir` shows the epoch now
    }
  }

  void train_end(const TrainEvent& e) {
    if (o_.plots) {
      draw_or_warn("results.png", [&] {
        const auto csv = dir_ / "results.csv";
        if (fs::exists(csv)) plots::plot_results(read_results_csv(csv.string()), (dir_ / "results.png").string());
      });
      if (validation_) draw_or_warn("the validation plots", [&] { plots::plot_validation(validation_->state, dir_.string()); });
    }
    if (tensorboard_) tensorboard_->flush();
    RunSummary summary;
    summary.save_dir = dir_.string();
    summary.epochs = epochs_;
    summary.seconds = steady_seconds() - start_;
    summary.best = best_;
    const auto& s = e.metrics.speed;
    summary.speed = {{"preprocess", s.preprocess}, {"inference", s.inference}, {"loss", s.loss},
                     {"postprocess", s.postprocess}};
    log_summary(summary);
  }

 private:
  RunLoggerOptions o_;
  fs::path dir_;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
  std::unique_ptr<ProgressBar> bar_;
  std::shared_ptr<const plots::ValidationPlots> validation_;  // the last validation's
  std::optional<EpochRecord> best_;
  int64_t epochs_ = 0;
  int written_epoch_ = 0;  // the last results.csv row's epoch (1-based)
  double start_ = steady_seconds();
};

}  // namespace

std::string progress_header(const std::vector<std::string>& loss_names) {
  std::string header = fmt::format("\n{:>11}{:>11}", "Epoch", "GPU_mem");
  for (const auto& name : loss_names) header += fmt::format("{:>11}", name);
  return header + fmt::format("{:>11}{:>11}", "Instances", "Size");
}

std::string progress_status(const TrainEvent& e) {
  std::string status = fmt::format("{:>11}{:>11}", fmt::format("{}/{}", e.epoch + 1, e.epochs),
                                   fmt::format("{:.3g}G", e.memory_gb));
  for (const auto& [name, value] : e.train_loss) status += fmt::format("{:>11.4g}", value);
  return status + fmt::format("{:>11}{:>11}", e.instances, e.image_size);
}

void attach_run_loggers(Callbacks& callbacks, RunLoggerOptions options) {
  auto loggers = std::make_shared<RunLoggers>(std::move(options));
  using Method = void (RunLoggers::*)(const TrainEvent&);
  const std::pair<const char*, Method> events[] = {
      {"on_train_start", &RunLoggers::train_start},     {"on_train_epoch_start", &RunLoggers::epoch_start},
      {"on_train_batch_end", &RunLoggers::batch_end},   {"on_train_epoch_end", &RunLoggers::epoch_end},
      {"on_val_end", &RunLoggers::val_end},             {"on_model_save", &RunLoggers::write_row},
      {"on_fit_epoch_end", &RunLoggers::fit_epoch_end},
      {"on_train_end", &RunLoggers::train_end}};
  for (const auto& [event, method] : events)
    callbacks.add(event, [loggers, method = method](TrainEvent& e) { ((*loggers).*method)(e); });
}

}  // namespace loggers
YOLO_END_NAMESPACE
