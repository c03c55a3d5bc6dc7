#include "yolo/utils/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include <unistd.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace {

std::mutex sink_mutex;
LogSink& sink() {
  static LogSink s;
  return s;
}
std::atomic<LogLevel> min_level{LogLevel::Info};
std::atomic<int> interactive_override{-1};  // -1: ask the default sink's terminal

bool stderr_is_terminal() {
  static const bool terminal = isatty(STDERR_FILENO) != 0;
  return terminal;
}

void default_sink(LogLevel level, std::string_view message) {
  if (level == LogLevel::Progress) {
    // A terminal redraws the line in place; a log file (CI) keeps only the final lines.
    const bool final = !message.empty() && message.back() == '\n';
    if (stderr_is_terminal())
      std::fprintf(stderr, "\r%.*s\x1b[K", static_cast<int>(message.size()), message.data());
    else if (final)
      std::fprintf(stderr, "%.*s", static_cast<int>(message.size()), message.data());
    std::fflush(stderr);
    return;
  }
  const char* prefix = level == LogLevel::Warning ? "WARNING ⚠️ " : level == LogLevel::Error ? "ERROR: " : "";
  std::fprintf(stderr, "%s%.*s\n", prefix, static_cast<int>(message.size()), message.data());
}

}  // namespace

void set_log_sink(LogSink s) {
  std::lock_guard<std::mutex> lock(sink_mutex);
  sink() = std::move(s);
}

void log_progress(std::string_view line, bool final) {
  if (min_level >= LogLevel::Warning) return;  // quiet runs (verbose=False) drop progress too
  if (final)
    log_message(LogLevel::Progress, std::string(line) + "\n");
  else
    log_message(LogLevel::Progress, line);
}

void set_log_level(LogLevel level) { min_level = level; }

void set_log_interactive(bool interactive) { interactive_override = interactive ? 1 : 0; }
bool log_interactive() {
  const int set = interactive_override;
  return set >= 0 ? set == 1 : stderr_is_terminal();
}
LogLevel log_level() { return min_level; }

void log_message(LogLevel level, std::string_view message) {
  if (level < min_level && level != LogLevel::Progress) return;
  std::lock_guard<std::mutex> lock(sink_mutex);
  if (sink())
    sink()(level, message);
  else
    default_sink(level, message);
}

YOLO_END_NAMESPACE
