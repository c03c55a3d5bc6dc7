#pragma once
// The model's layer graph for TensorBoard's Graphs tab, from its YAML rows: one node per layer, joined as the
// rows' `from` indices join them.
#include <vector>

#include "loggers/tensorboard.h"
#include "yolo/nn/spec.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {
class NetworkImpl;
}  // namespace nn

namespace loggers {

/// Nodes "images" (the input), then "model.0", "model.1", ... with the module name as op and the row's
/// `repeats` and `args` as attributes. Output shapes are left empty (a caller that ran a forward pass may fill
/// them).
std::vector<GraphNode> model_graph(const nn::ModelSpec& spec);

/// A network's graph: model_graph() of the YAML it was built from, or, for other architectures (torchvision),
/// the chain of its top-level modules.
std::vector<GraphNode> network_graph(const nn::NetworkImpl& network);

}  // namespace loggers
YOLO_END_NAMESPACE
