#include "yolo/utils/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace yolo {
namespace {

std::mutex sink_mutex;
LogSink& sink() {
  static LogSink s;
  return s;
}
std::atomic<LogLevel> min_level{LogLevel::Info};

void default_sink(LogLevel level, std::string_view message) {
  const char* prefix = level == LogLevel::Warning ? "WARNING ⚠️ " : level == LogLevel::Error ? "ERROR: " : "";
  std::fprintf(stderr, "%s%.*s\n", prefix, static_cast<int>(message.size()), message.data());
}

}  // namespace

void set_log_sink(LogSink s) {
  std::lock_guard<std::mutex> lock(sink_mutex);
  sink() = std::move(s);
}

void set_log_level(LogLevel level) { min_level = level; }
LogLevel log_level() { return min_level; }

void log_message(LogLevel level, std::string_view message) {
  if (level < min_level) return;
  std::lock_guard<std::mutex> lock(sink_mutex);
  if (sink())
    sink()(level, message);
  else
    default_sink(level, message);
}

}  // namespace yolo
