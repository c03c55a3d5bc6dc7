#include "yolo/nn/network.h"

#include <unordered_map>
#include <unordered_set>

#include "nn/torchvision_network.h"
#include "yolo/nn/model.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {
namespace {

void collect_state(const torch::nn::Module& module, const std::string& prefix, StateDict& out) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) out.emplace_back(prefix + p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/false)) out.emplace_back(prefix + b.key(), b.value());
  for (const auto& child : module.named_children()) collect_state(*child.value(), prefix + child.key() + ".", out);
}

std::string with_thousands(int64_t value) {
  std::string digits = std::to_string(value), out;
  const size_t first = digits.front() == '-' ? 1 : 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > first && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

ModelInfo NetworkImpl::info(int64_t /*imgsz*/) {
  ModelInfo info;
  std::unordered_set<const torch::nn::Module*> distinct{this};  // shared modules count once, as in PyTorch
  for (const auto& module : modules(/*include_self=*/false)) {
    if (distinct.insert(module.get()).second && module->children().empty()) ++info.leaf_layers;
  }
  info.layers = static_cast<int64_t>(distinct.size());
  for (const auto& p : parameters()) {
    info.parameters += p.numel();
    if (p.requires_grad()) info.gradients += p.numel();
  }
  return info;
}

bool is_torchvision_name(const std::string& name) { return is_torchvision_model(name); }

Network build_network(const Architecture& architecture) {
  if (architecture.family == "yaml") {
    YOLO_CHECK(!architecture.yaml_text.empty(), "{}: the architecture has no model YAML", architecture.name);
    std::optional<int64_t> nc;
    if (architecture.nc > 0) nc = architecture.nc;
    return YoloModel(parse_model_spec(architecture.yaml_text, architecture.name, nc));
  }
  if (architecture.family == "torchvision") return torchvision_network(torchvision_options(architecture));
  YOLO_FAIL("architecture family '{}' ({}) is not one this build provides: yaml (model YAMLs) or torchvision",
            architecture.family, architecture.name);
}

Network create_network(const std::string& name, std::optional<int64_t> nc) {
  if (is_torchvision_model(name)) return torchvision_network(TorchvisionOptions(name).num_classes(nc.value_or(1000)));
  return YoloModel(load_model_spec(name, nc));
}

std::string format_info(NetworkImpl& model, int64_t imgsz) {
  const auto info = model.info(imgsz);
  // As Ultralytics: no GFLOPs part when they are not counted.
  return fmt::format("{} summary{}: {} layers, {} parameters, {} gradients{}", model.display_name(),
                     model.is_fused() ? " (fused)" : "", with_thousands(info.leaf_layers),
                     with_thousands(info.parameters), with_thousands(info.gradients),
                     info.gflops > 0 ? fmt::format(", {:.1f} GFLOPs", info.gflops) : "");
}

StateDict state_dict(const torch::nn::Module& module) {
  StateDict out;
  collect_state(module, "", out);
  return out;
}

TransferReport transfer_weights(torch::nn::Module& module, const StateDict& state) {
  std::unordered_map<std::string, const torch::Tensor*> by_name;
  for (const auto& entry : state) by_name.emplace(entry.first, &entry.second);

  TransferReport report;
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : state_dict(module)) {
    ++report.total;
    auto found = by_name.find(name);
    if (found == by_name.end()) {
      report.missing.push_back(name);
    } else if (found->second->sizes() != target.sizes()) {
      report.mismatched.push_back(name);
    } else {
      target.copy_(found->second->to(target.device(), target.scalar_type()));
      ++report.transferred;
    }
  }
  return report;
}

void use_channels_last(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
}

Network fused_copy(NetworkImpl& model) {
  Network copy(model.rebuild());
  const auto report = transfer_weights(*copy, state_dict(model));
  YOLO_CHECK(report.transferred == report.total, "fused_copy: {} of {} tensors copied", report.transferred,
             report.total);
  copy->eval();
  copy->fuse();
  return copy;
}

}  // namespace nn
YOLO_END_NAMESPACE
