#pragma once
// The table from model-YAML module names to the functions that build them (Ultralytics resolves
// names with `globals()[m]`; we list them explicitly).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "yolo/nn/spec.h"

namespace yolo::nn::detail {

/// What a builder sees of one row: the spec, the row, and the channels of the layers it reads.
struct BuildContext {
  const ModelSpec& spec;
  const LayerRow& row;
  size_t index;                          ///< layer index
  std::vector<int64_t> input_channels;   ///< one per `from` entry
  int64_t repeats;                       ///< after depth scaling
  std::string where;                     ///< "yolov8.yaml: layer 3 (backbone row 3)", for errors
};

/// A built layer: the module to register, how to run it, and its output channels.
struct BuiltLayer {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const std::vector<torch::Tensor>&)> forward;  ///< null for the heads
  int64_t out_channels = 0;
};

using LayerBuilder = std::function<BuiltLayer(const BuildContext&)>;

struct ModuleEntry {
  LayerBuilder build;
  /// The module takes the repeat count as an argument (C2f, C3); other modules repeated n times
  /// are chained in a list of n copies, as Ultralytics' nn.Sequential.
  bool repeats_inside = false;
};

const std::map<std::string, ModuleEntry>& layer_registry();

/// Ultralytics' make_divisible: the smallest multiple of `divisor` not below x.
int64_t make_divisible(double x, int64_t divisor);

}  // namespace yolo::nn::detail
