#pragma once
// One row of a training run's history (what results.csv holds) and the files that keep it: results.csv
// for Ultralytics' tools and spreadsheets, metrics.jsonl for scripts.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "yolo/engine/callbacks.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loggers {

/// An epoch's named values in column order, e.g. time, train/box_loss, ..., metrics/mAP50-95(B), ..., lr/pg2.
struct EpochRecord {
  int64_t epoch = 0;  ///< 1-based, as results.csv's first column
  std::vector<std::pair<std::string, double>> values;

  /// The value of column `name`, or nothing.
  std::optional<double> get(const std::string& name) const;
};

/// A training epoch's row as the files keep it: "time", then the epoch's columns in results.csv's order.
EpochRecord record_of(const yolo::EpochRecord& epoch);

/// Appends `record` to results.csv at `path` ("epoch" then the value names as header when the file is new;
/// values as "%.6g"). A file whose header names other columns is an error (a resume with another task).
void append_results_csv(const std::string& path, const EpochRecord& record);
/// Every row of a results.csv (ours or Ultralytics'); blanks around names and values are ignored.
std::vector<EpochRecord> read_results_csv(const std::string& path);

/// Appends `record` to metrics.jsonl at `path`: one JSON object per line, {"epoch": 1, "time": ..., ...},
/// the keys of results.csv in its order; NaN and infinities become null.
void append_metrics_jsonl(const std::string& path, const EpochRecord& record);
/// Every record of a metrics.jsonl; null values read back as NaN.
std::vector<EpochRecord> read_metrics_jsonl(const std::string& path);

}  // namespace loggers
YOLO_END_NAMESPACE
