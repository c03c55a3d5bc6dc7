#pragma once
// Console progress through the log sink (the library never prints): a bar with rate and ETA redrawn in place on
// a terminal, or kept plain lines every `plain_interval` seconds in a log file or notebook; and the closing
// summary of a training run.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "loggers/records.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loggers {

struct ProgressOptions {
  double redraw_interval = 0.1;       ///< seconds between redraws on a terminal
  double plain_interval = 30;         ///< seconds between kept lines where nothing is redrawn
  int bar_width = 10;                 ///< characters
  std::optional<bool> interactive;    ///< default: yolo::log_interactive()
};

/// "1:02:03" or "02:03", as tqdm shows elapsed and remaining time.
std::string format_duration(double seconds);

class ProgressBar {
 public:
  using Clock = std::function<double()>;  ///< seconds on a monotonic clock
  /// `total` steps (batches); `clock` is for tests.
  explicit ProgressBar(int64_t total, ProgressOptions options = {}, Clock clock = {});

  /// `done` of total steps finished; `prefix` is the status before the bar (epoch, memory, losses, ...).
  /// Sends a line to the log when one is due.
  void update(int64_t done, const std::string& prefix);
  /// Sends the final line, kept in every sink ("...: 100%|██████████| 20/20 [00:09<00:00, 2.1it/s]").
  void close();
  /// The line as it stands: "<prefix>: 45%|████▌     | 9/20 [00:04<00:05, 2.10it/s]".
  std::string line() const;

 private:
  int64_t total_, done_ = 0;
  ProgressOptions options_;
  Clock clock_;
  bool interactive_, closed_ = false;
  double start_, last_emit_;
  std::string prefix_;
};

/// What the closing summary of a training run reports.
struct RunSummary {
  std::string save_dir;
  int64_t epochs = 0;                                 ///< epochs completed
  double seconds = 0;                                 ///< wall time of the training
  std::optional<EpochRecord> best;                    ///< the best epoch's results row (by fitness)
  std::vector<std::pair<std::string, double>> speed;  ///< ms per image by stage: preprocess, inference, ...
};

/// The summary as lines: "30 epochs completed in 0.539 hours.", "Best epoch 29: metrics/mAP50(B) 0.4812, ...",
/// "Speed: 0.2ms preprocess, 3.1ms inference, ... per image", "Results saved to runs/detect/train".
std::vector<std::string> summary_lines(const RunSummary& summary);
/// summary_lines() through log_info.
void log_summary(const RunSummary& summary);

}  // namespace loggers
YOLO_END_NAMESPACE
