#include "loggers/model_graph.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "yolo/nn/network.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loggers {
namespace {

std::string arg_text(const nn::ModuleArg& arg) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "None"; }
    std::string operator()(bool b) const { return b ? "True" : "False"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return fmt::format("{}", d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const std::vector<int64_t>& v) const { return fmt::format("[{}]", fmt::join(v, ", ")); }
  };
  return std::visit(Visitor{}, arg);
}

}  // namespace

std::vector<GraphNode> model_graph(const nn::ModelSpec& spec) {
  std::vector<GraphNode> nodes{{"images", "Input", {}, {}, {}}};
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const auto& row = spec.layers[i];
    GraphNode node{fmt::format("model.{}", i), row.module, {}, {}, {}};
    for (const int64_t from : row.from) {
      const int64_t source = from < 0 ? static_cast<int64_t>(i) + from : from;
      node.inputs.push_back(source < 0 ? "images" : fmt::format("model.{}", source));
    }
    std::vector<std::string> args;
    for (const auto& a : row.args) args.push_back(arg_text(a));
    node.attrs = {{"args", fmt::format("[{}]", fmt::join(args, ", "))}, {"repeats", std::to_string(row.repeats)}};
    nodes.push_back(std::move(node));
  }
  return nodes;
}

std::vector<GraphNode> network_graph(const nn::NetworkImpl& network) {
  const auto architecture = network.architecture();
  if (architecture.family == "yaml")
    return model_graph(nn::parse_model_spec(architecture.yaml_text, architecture.name,
                                             architecture.nc > 0 ? std::optional<int64_t>(architecture.nc) : std::nullopt));
  std::vector<GraphNode> nodes{{"images", "Input", {}, {}, {}}};
  for (const auto& child : network.named_children())
    nodes.push_back({child.key(), child.value()->name(), {nodes.back().name}, {}, {}});
  return nodes;
}

}  // namespace loggers
YOLO_END_NAMESPACE
