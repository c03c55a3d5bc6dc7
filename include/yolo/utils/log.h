#pragma once
// The library never prints on its own: every message goes through one sink, stderr by default.
// The CLI and the Python module install their own (progress bars, notebook output).
#include <functional>
#include <string>
#include <string_view>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

/// Progress messages are live status lines (a training progress bar): a sink may redraw them in
/// place; one that ends with '\n' is final and should be kept, as in a non-terminal log.
enum class LogLevel { Debug, Progress, Info, Warning, Error };

using LogSink = std::function<void(LogLevel, std::string_view)>;

/// Replaces the sink; an empty function restores the default (stderr, Info and above).
void set_log_sink(LogSink sink);
/// Messages below this level are dropped before formatting reaches the sink.
void set_log_level(LogLevel level);
LogLevel log_level();
void log_message(LogLevel level, std::string_view message);
/// A live status line; `final` keeps it (the last update of a progress bar).
void log_progress(std::string_view line, bool final);
/// Whether the sink redraws progress lines in place (a terminal) or keeps every line it gets (a log file, a
/// notebook), so that progress bars can send fewer, periodic lines to the latter. The default sink answers
/// isatty(stderr); a program that installs its own sink says what it does.
void set_log_interactive(bool interactive);
bool log_interactive();

YOLO_END_NAMESPACE

// The library's own code (built with YOLOCPP_INTERNAL) also gets the fmt-formatting log functions here
// (log_info, log_warning...); an installed program sees only the sink. (Transitional, as in error.h.)
#ifdef YOLOCPP_INTERNAL
#include "utils/logging.h"
#endif
