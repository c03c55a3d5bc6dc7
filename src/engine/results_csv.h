#pragma once
// results.csv as Ultralytics writes it: a header of column names, then one row per completed epoch.
#include <string>

#include "yolo/engine/callbacks.h"

namespace yolo::engine {

/// Appends `record` to the CSV file at `path`, writing the header first when the file is new.
/// Values as Python's "%.6g", which Ultralytics uses. A file that cannot be written is an error.
void append_results_row(const std::string& path, const EpochRecord& record);

}  // namespace yolo::engine
