#pragma once
// The model's layer graph for TensorBoard's Graphs tab, from its YAML rows: one node per layer, joined as the
// rows' `from` indices join them.
#include <vector>

#include "loggers/tensorboard.h"
#include "yolo/nn/spec.h"

namespace yolo::loggers {

/// Nodes "images" (the input), then "model.0", "model.1", ... with the module name as op and the row's
/// `repeats` and `args` as attributes. Output shapes are left empty (a caller that ran a forward pass may fill
/// them).
std::vector<GraphNode> model_graph(const nn::ModelSpec& spec);

}  // namespace yolo::loggers
