#include "loggers/progress.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loggers {
namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// A bar of `width` cells with eighth-cell resolution, as tqdm draws it.
std::string bar(double fraction, int width) {
  static const char* const eighths[] = {" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  const int total_eighths = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width * 8);
  const int full = total_eighths / 8;
  std::string out;
  for (int i = 0; i < full; ++i) out += "█";
  if (full < width) out += eighths[total_eighths % 8];
  return out + std::string(static_cast<size_t>(std::max(0, width - full - 1)), ' ');
}

}  // namespace

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds));
  if (s >= 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{:02d}:{:02d}", s / 60, s % 60);
}

ProgressBar::ProgressBar(int64_t total, ProgressOptions options, Clock clock)
    : total_(std::max<int64_t>(total, 0)),
      options_(options),
      clock_(clock ? std::move(clock) : Clock(steady_seconds)),
      interactive_(options.interactive.value_or(log_interactive())) {
  start_ = last_emit_ = clock_();
}

std::string ProgressBar::line() const {
  const double elapsed = clock_() - start_;
  const double rate = elapsed > 0 ? done_ / elapsed : 0;
  const std::string speed = rate >= 1 || rate == 0 ? fmt::format("{:.2f}it/s", rate) : fmt::format("{:.2f}s/it", 1 / rate);
  const std::string eta = rate > 0 ? format_duration((total_ - done_) / rate) : "?";
  const double fraction = total_ > 0 ? static_cast<double>(done_) / total_ : 1.0;
  return fmt::format("{}: {:3d}%|{}| {}/{} [{}<{}, {}]", prefix_, static_cast<int>(fraction * 100),
                     bar(fraction, options_.bar_width), done_, total_, format_duration(elapsed), eta, speed);
}

void ProgressBar::update(int64_t done, const std::string& prefix) {
  done_ = std::clamp<int64_t>(done, 0, total_), prefix_ = prefix;
  const double now = clock_();
  if (interactive_) {
    if (now - last_emit_ >= options_.redraw_interval || done_ == total_) {
      log_progress(line(), false);
      last_emit_ = now;
    }
  } else if (now - last_emit_ >= options_.plain_interval && done_ < total_) {
    log_progress(line(), true);  // a kept line: nothing is redrawn in a log file
    last_emit_ = now;
  }
}

void ProgressBar::close() {
  if (closed_) return;
  closed_ = true;
  log_progress(line(), true);
}

std::vector<std::string> summary_lines(const RunSummary& s) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format("{} epochs completed in {:.3f} hours.", s.epochs, s.seconds / 3600));
  if (s.best) {
    std::vector<std::string> metrics;
    for (const auto& [name, value] : s.best->values)
      if (name.rfind("metrics/", 0) == 0) metrics.push_back(fmt::format("{} {:.4f}", name.substr(8), value));
    lines.push_back(fmt::format("Best epoch {}: {}", s.best->epoch, fmt::join(metrics, ", ")));
  }
  if (!s.speed.empty()) {
    std::vector<std::string> stages;
    for (const auto& [stage, ms] : s.speed) stages.push_back(fmt::format("{:.1f}ms {}", ms, stage));
    lines.push_back(fmt::format("Speed: {} per image", fmt::join(stages, ", ")));
  }
  lines.push_back(fmt::format("Results saved to {}", s.save_dir));
  return lines;
}

void log_summary(const RunSummary& summary) {
  for (const auto& line : summary_lines(summary)) log_info("{}", line);
}

}  // namespace loggers
YOLO_END_NAMESPACE
