#pragma once
// Every argument of train, val, predict and export as one typed value, with Ultralytics' key names and
// defaults (cfg/default.yaml of Ultralytics 8.3.166), so that CLI tokens, YAML files, Python kwargs and C++
// setters are one vocabulary. The keys, their types, defaults, ranges and help are the rows of
// yolo/config/arg_table.h; this class is generated from it.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "yolo/config/arg_table.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

/// A key's value as Python holds it: None, bool, int, float, str or a list of ints. Checkpoints store
/// arguments in this form.
using ArgValue = std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<int64_t>>;

/// What the table says about one key (docs/arguments.md is generated from it).
struct ArgInfo {
  std::string key;
  std::string type;           ///< "int", "float | None", "bool | str", ...
  std::string default_value;  ///< as args.yaml writes it
  std::string range;          ///< ">= 1", "0.0 to 1.0", "one of ...", or "" for any value of the type
  std::string help;
  std::string unused;  ///< why yolocpp keeps the key without acting on it; "" when it does act on it
};

namespace detail {
struct ArgTableAccess;
}

/// Where Ultralytics allows None, the C++ type's empty value stands for it: "" for strings, an
/// empty list, and 0 for `time`, `conf`, `line_width`, `opset` and `workspace` (Ultralytics treats
/// 0 and None alike there).
///
///   auto args = yolo::TrainArgs().data("coco8.yaml").epochs(3).imgsz(640);
///
/// A value outside a key's range is a yolo::Error from the setter, whichever way it is given.
class TrainArgs {
 public:
  TrainArgs();
  TrainArgs(const TrainArgs& other);
  TrainArgs& operator=(const TrainArgs& other);
  ~TrainArgs();

  // ---- the three inputs: each converges on set(key, value) ----
  /// CLI tokens: `key=value`, or a bare mode/task word (`train`, `detect`). `cfg=file.yaml` loads
  /// that file first; the other tokens override it.
  static TrainArgs from_strings(const std::vector<std::string>& tokens);
  /// key -> value as strings (Python kwargs); `cfg` as in from_strings.
  static TrainArgs from_map(const std::map<std::string, std::string>& values);
  /// A YAML mapping of keys (a custom cfg, or a run's args.yaml).
  static TrainArgs from_yaml_file(const std::string& path);
  /// `key, value` pairs applied in order, after the `cfg` file among them if any.
  static TrainArgs from_pairs(const std::vector<std::pair<std::string, std::string>>& pairs);

  /// Sets one key from its text form ("3", "0.01", "True", "[0, 2]", "null"). Throws yolo::Error
  /// for an unknown key (naming close matches) or an ill-typed or out-of-range value. None resets
  /// the key to its default.
  TrainArgs& set(const std::string& key, const std::string& value);
  TrainArgs& set(const std::string& key, const char* value) { return set(key, std::string(value)); }
  /// Sets one key from a typed value (a checkpoint's, a Python object's): a value of the key's own type
  /// is taken as it is (a string stays a string, even "null"); others are read as their text would be.
  TrainArgs& set(const std::string& key, const ArgValue& value);
  /// The value of one key as a YAML scalar ("100", "0.01", "true", "null", "[0, 1]").
  std::string get(const std::string& key) const;
  /// The value of one key as Python would hold it.
  ArgValue value(const std::string& key) const;

  // ---- outputs ----
  /// Every key -> its YAML scalar.
  std::map<std::string, std::string> to_map() const;
  /// The text of a run's args.yaml: one `key: value` line per key, in default.yaml order.
  std::string to_yaml() const;

  /// Every key, in default.yaml order (our own extras last).
  static const std::vector<std::string>& keys();
  /// Keys whose Ultralytics default is a bool (save, rect, resume, cache...): a bare `key` on the
  /// command line means key=True.
  static bool is_bool_key(const std::string& key);
  /// Type, default, range and help of every key, in keys() order.
  static const std::vector<ArgInfo>& table();

  // ---- one setter and one getter per key of the table ----
#define YOLO_DECLARE_TRAIN_ARG(kind, key, default_value, range, effect, help) \
  TrainArgs& key(const YOLO_ARG_TYPE_##kind& value);                       \
  const YOLO_ARG_TYPE_##kind& key() const;
  YOLO_TRAIN_ARGS(YOLO_DECLARE_TRAIN_ARG)
#undef YOLO_DECLARE_TRAIN_ARG

 private:
  struct Values;  // one field per row of the table, defined in args.cpp
  friend struct detail::ArgTableAccess;
  std::unique_ptr<Values> values_;
};

/// One vocabulary for every mode, as Ultralytics' one cfg.
using ValArgs = TrainArgs;
using PredictArgs = TrainArgs;
/// Export reads format, imgsz, batch, dynamic, half, opset (and refuses int8, nms, ...); Model::export_defaults()
/// holds export's own defaults (batch 1, the training imgsz), as Ultralytics' Model.export.
using ExportArgs = TrainArgs;

YOLO_END_NAMESPACE
