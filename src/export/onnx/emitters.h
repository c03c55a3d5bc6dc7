#pragma once
// Module -> ONNX nodes, one emitter function per module class. An emitter reads the module's public
// members and weights (never its forward) and writes the same computation as ONNX operators;
// exporting a new module means writing one emitter and adding it to the table in emitters.cpp.
#include <functional>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "export/onnx/graph.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {

using Inputs = std::vector<std::string>;
/// Writes `module` applied to the values `inputs`; returns the name of its output value.
using Emitter = std::function<std::string(Graph&, const torch::nn::Module&, const Inputs&)>;

/// The emitter table, keyed by the module's class (ConvImpl, torch::nn::Conv2dImpl, ...).
const std::unordered_map<std::type_index, Emitter>& emitters();

/// Writes `module` with the emitter of its class; a module without one is an error naming it.
std::string emit(Graph& graph, const torch::nn::Module& module, const Inputs& inputs);
/// The same inside the scope `name` (the child's name in its parent: "cv1", "m.0").
std::string emit_child(Graph& graph, const std::string& name, const torch::nn::Module& module, const Inputs& inputs);

/// Class names of the modules that can be exported, for error messages.
std::vector<std::string> exportable_modules();

}  // namespace exporter
YOLO_END_NAMESPACE
