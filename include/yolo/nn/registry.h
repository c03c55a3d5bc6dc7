#pragma once
// Advanced tier: the table from model-YAML module names (`[from, repeats, module, args]`) to the
// functions that build them. Every built-in module (Conv, C2f, C3k2, C2PSA, Detect, ...) is
// registered here, and an application can add its own block under a new name:
//
//   yolo::nn::register_module("MyBlock", [](const yolo::nn::BuildContext& ctx) {
//     const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));  // width rule, as for Conv
//     return yolo::nn::make_layer(MyBlock(ctx.single_input(), c2), c2);
//   });
//
// after which `- [-1, 1, MyBlock, [256]]` builds, trains, saves and loads like any built-in row.
// Register before building a model; names are global to the process and cannot be re-registered.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "yolo/nn/spec.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {

/// What a builder sees of one row: the model's spec, the row, the channels of the layers it reads.
/// The argument readers throw yolo::Error naming the YAML, the row and the argument when an
/// argument is missing or of the wrong type.
struct BuildContext {
  const ModelSpec& spec;
  const LayerRow& row;
  size_t index;                         ///< layer index
  std::vector<int64_t> input_channels;  ///< one per `from` entry
  int64_t repeats;                      ///< after depth scaling (Ultralytics' round(n * depth))
  std::string where;                    ///< "yolo11n.yaml: layer 3", for error messages
  /// No earlier row used a module registered with ModuleTraits::non_legacy (C3k2): Ultralytics'
  /// parse_model `legacy`, which picks the YOLOv8 (true) or YOLO11 (false) Detect head.
  bool legacy = true;

  bool has_arg(size_t i) const;  ///< present and not None
  int64_t int_arg(size_t i) const;
  int64_t int_arg(size_t i, int64_t fallback) const;
  std::optional<int64_t> optional_int_arg(size_t i) const;
  double real_arg(size_t i, double fallback) const;  ///< an int or a float
  bool bool_arg(size_t i, bool fallback) const;      ///< True/False, or an int (Python truthiness)
  std::string string_arg(size_t i, const std::string& fallback) const;
  std::vector<int64_t> int_list_arg(size_t i, const std::vector<int64_t>& fallback) const;  ///< a scalar is a list of one

  /// The channels of the one layer this row reads; an error when `from` lists several.
  int64_t single_input() const;
  /// Ultralytics' width rule for a module's output channels: min(c, max_channels) * width,
  /// rounded up to a multiple of 8 — except c == nc (a classifier's output), which is kept.
  int64_t scaled_channels(int64_t c) const;
};

/// A built layer: the module (registered under the layer index, so its parameters are named
/// `model.<i>.<child>...`), how to run it on the tensors of its `from` layers, and its output channels.
struct BuiltLayer {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const std::vector<torch::Tensor>&)> forward;  ///< null only for the Detect/Classify heads
  int64_t out_channels = 0;
};

/// A layer of one input: runs `module->forward(x[0])`. `module` is a ModuleHolder (Conv, MyBlock, ...).
template <typename Holder>
BuiltLayer make_layer(Holder module, int64_t out_channels) {
  return {module.ptr(), [module](const std::vector<torch::Tensor>& x) mutable { return module->forward(x[0]); },
          out_channels};
}

using LayerBuilder = std::function<BuiltLayer(const BuildContext&)>;

/// How the model builder treats a module's rows, as Ultralytics' parse_model treats its classes.
struct ModuleTraits {
  /// The builder builds the row's `repeats` itself (C2f, C3k2, C2PSA take n as an argument);
  /// otherwise a row repeated n > 1 times chains n built copies, as Ultralytics' nn.Sequential.
  TORCH_ARG(bool, repeats_inside) = false;
  /// A model using this module is not "legacy" (as C3k2): its Detect head gets YOLO11's class branch.
  TORCH_ARG(bool, non_legacy) = false;
};

/// Adds `name` to the registry. Throws yolo::Error when the name is taken (built-in or registered
/// before), is not an identifier (letters, digits, '_', not starting with a digit), or `builder` is empty.
void register_module(const std::string& name, LayerBuilder builder, ModuleTraits traits = {});
/// Whether a model YAML may use `name` (`nn.Upsample` is looked up as `Upsample`).
bool is_registered(const std::string& name);

/// Ultralytics' make_divisible: the smallest multiple of `divisor` not below x.
int64_t make_divisible(double x, int64_t divisor);

}  // namespace nn
YOLO_END_NAMESPACE
