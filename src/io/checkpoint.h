#pragma once
// PyTorch checkpoints (.pt): Ultralytics' (a pickled DetectionModel) and our own (plain values and
// state dicts), read without running any of the pickle, and written so that Python's
// torch.load(path, weights_only=True) opens them.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "io/pickle.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

/// Tensors by their PyTorch state_dict() names ("model.0.conv.weight"), in state_dict() order.
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

/// A loaded checkpoint: the unpickled root value and typed views of what Ultralytics stores in it.
/// Accessors throw yolo::Error naming the file when an entry is missing or of the wrong type.
class Checkpoint {
 public:
  Checkpoint(PickleValue root, std::string source_name);

  const PickleValue& root() const { return root_; }
  const std::string& source_name() const { return source_; }
  /// A top-level entry of the checkpoint dict, or nullptr.
  const PickleValue* find(const std::string& key) const;

  /// Weights of ckpt["model"]: a pickled nn.Module walked as Module.state_dict() names it, or a dict
  /// of tensors. Also accepts a checkpoint that is itself a dict of tensors.
  StateDict model_state() const;
  /// True when ckpt["ema"] holds a model (Ultralytics' stripped checkpoints keep None).
  bool has_ema() const;
  StateDict ema_state() const;

  /// The architecture YAML: the model's `yaml` dict rendered as YAML text (or a top-level "yaml"
  /// entry, text or dict); empty when the checkpoint has none.
  std::string model_yaml_text() const;
  /// Class names by index: the model's `names`, else a top-level "names" (dict or list); empty if absent.
  std::vector<std::string> names() const;
  /// ckpt["train_args"] (a dict or a namespace) as key -> YAML scalar ("0.01", "true", "null", "[0, 1]").
  std::vector<std::pair<std::string, std::string>> train_args() const;
  /// ckpt["epoch"]: the last completed epoch, -1 in a final (stripped) checkpoint.
  int64_t epoch() const;
  /// ckpt["best_fitness"], or nullopt when it is None or missing.
  std::optional<double> best_fitness() const;

 private:
  const PickleValue& required(const std::string& key) const;
  const PickleValue* model_dict(const char* key) const;

  PickleValue root_;
  std::string source_;
};

/// Reads a checkpoint file: torch.save's zip format (PyTorch >= 1.6) or its legacy format (before 1.6,
/// little-endian). Throws yolo::Error for anything else (the tar format of the first releases, truncated
/// or corrupt files, hostile pickles).
Checkpoint load_checkpoint(const std::string& path);
/// The same from bytes in memory; `source_name` prefixes error messages.
Checkpoint load_checkpoint_from_bytes(std::string bytes, const std::string& source_name = "<memory>");

/// Writes `root` (plain values and tensors only) atomically: to `path.tmp-<pid>`, fsync, rename.
/// Tensors are stored contiguous on the CPU, in their own dtype.
void save_checkpoint(const std::string& path, const PickleValue& root);
/// Writes bytes to `path` so that a killed process leaves either the old file or the new one.
void write_file_atomically(const std::string& path, const std::string& bytes);
/// The bytes save_checkpoint would write.
std::string checkpoint_to_bytes(const PickleValue& root);

/// A dict of tensors by name, ready to be a checkpoint entry.
PickleValue state_dict_value(const StateDict& state);
/// The tensors of a pickled nn.Module (walked as Module.state_dict()) or of a dict of tensors.
StateDict state_dict_of(const PickleValue& module_or_dict, const std::string& source_name);

/// Renders a pickled value as YAML (block mapping at the top, flow style below).
std::string to_yaml(const PickleValue& value);
/// A pickled scalar or flow collection as one YAML scalar: "0.01", "true", "null", "[0, 1]".
std::string to_yaml_scalar(const PickleValue& value);

}  // namespace io
YOLO_END_NAMESPACE
