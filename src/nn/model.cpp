#include "yolo/nn/model.h"

#include <cmath>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "nn/flops.h"
#include "nn/registry.h"
#include "yolo/utils/error.h"

namespace yolo::nn {
namespace {

/// Ultralytics' depth gain: rows repeated more than once scale with the depth multiple
/// (Python's round, which rounds halves to even, as std::nearbyint does).
int64_t scaled_repeats(int64_t repeats, double depth) {
  if (repeats <= 1) return repeats;
  return std::max<int64_t>(static_cast<int64_t>(std::nearbyint(static_cast<double>(repeats) * depth)), 1);
}

/// A module that is not a repeat-taking block, built `n` times and chained (Ultralytics' nn.Sequential).
BuiltLayer build_repeated(const LayerBuilder& build, const BuildContext& ctx) {
  torch::nn::ModuleList copies;
  std::vector<std::function<torch::Tensor(const std::vector<torch::Tensor>&)>> steps;
  BuiltLayer last;
  for (int64_t i = 0; i < ctx.repeats; ++i) {
    last = build(ctx);
    YOLO_CHECK(last.forward, "{}: {} cannot be repeated", ctx.where, ctx.row.module);
    copies->push_back(last.module);
    steps.push_back(last.forward);
  }
  auto chained = [steps](const std::vector<torch::Tensor>& x) {
    auto y = steps.front()(x);
    for (size_t i = 1; i < steps.size(); ++i) y = steps[i]({y});
    return y;
  };
  return {copies.ptr(), chained, last.out_channels};
}

/// Ultralytics' initialize_weights: convolutions keep PyTorch's default init; batch norms get
/// eps 1e-3 and momentum 0.03.
void initialize_weights(torch::nn::Module& root) {
  for (const auto& module : root.modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) bn->options.eps(1e-3).momentum(0.03);
  }
}

void collect_state(const torch::nn::Module& module, const std::string& prefix,
                   std::vector<std::pair<std::string, torch::Tensor>>& out) {
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

YoloModelImpl::YoloModelImpl(ModelSpec spec) : spec_(std::move(spec)) {
  YOLO_CHECK(!spec_.layers.empty(), "{}: the model spec has no layers", spec_.source);
  model = register_module("model", torch::nn::ModuleList());
  const size_t count = spec_.layers.size();
  std::vector<int64_t> channels;  // output channels per layer
  keep_output_.assign(count, false);
  bool legacy = true;  // until a YOLO11-era module (C3k2) appears, as Ultralytics' parse_model

  for (size_t i = 0; i < count; ++i) {
    const auto& row = spec_.layers[i];
    const std::string where = fmt::format("{}: layer {}", spec_.source, i);
    const auto entry = detail::find_module(row.module);
    YOLO_CHECK(entry, "{}: unknown module '{}'; register it with yolo::nn::register_module before building",
               where, row.module);

    Layer layer;
    std::vector<int64_t> input_channels;
    for (auto f : row.from) {
      const int64_t absolute = f == -1 ? static_cast<int64_t>(i) - 1 : (f < 0 ? static_cast<int64_t>(i) + f : f);
      YOLO_CHECK(absolute < static_cast<int64_t>(i) && (absolute >= 0 || (f == -1 && i == 0)),
                 "{}: 'from' index {} does not name an earlier layer", where, f);
      input_channels.push_back(absolute < 0 ? spec_.in_channels : channels[absolute]);
      if (f != -1) keep_output_[absolute] = true;
      layer.from.push_back(f == -1 ? -1 : absolute);
    }

    const BuildContext ctx{spec_, row, i, input_channels, scaled_repeats(row.repeats, spec_.depth_multiple), where,
                           legacy};
    auto built = (entry->traits.repeats_inside() || ctx.repeats == 1) ? entry->build(ctx)
                                                                      : build_repeated(entry->build, ctx);
    if (entry->traits.non_legacy()) legacy = false;
    YOLO_CHECK(built.module, "{}: the builder of '{}' returned no module", where, row.module);
    const bool is_head = row.module == "Detect" || row.module == "Classify";
    YOLO_CHECK(is_head || built.forward, "{}: the builder of '{}' returned no forward function", where, row.module);
    YOLO_CHECK(is_head || built.out_channels > 0, "{}: the builder of '{}' returned {} output channels", where,
               row.module, built.out_channels);
    YOLO_CHECK(!is_head || i + 1 == count, "{}: {} must be the last row of the head", where, row.module);
    model->push_back(built.module);
    layer.forward = std::move(built.forward);
    layers_.push_back(std::move(layer));
    channels.push_back(built.out_channels);
  }

  auto head = model->ptr(count - 1);
  if (spec_.task == "detect") {
    detect_ = Detect(std::dynamic_pointer_cast<DetectImpl>(head));
    YOLO_CHECK(!detect_.is_empty(), "{}: a detect model must end with Detect", spec_.source);
    initialize_weights(*this);
    // Strides come from the feature map sizes of one 256x256 image, as Ultralytics measures them.
    torch::NoGradGuard no_grad;
    constexpr int64_t probe = 256;
    eval();
    auto raw = forward_raw(torch::zeros({1, spec_.in_channels, probe, probe}));
    for (size_t level = 0; level < raw.size(); ++level)
      detect_->stride[level] = static_cast<double>(probe) / static_cast<double>(raw[level].size(-2));
    train();
    detect_->bias_init();
  } else {
    classify_ = Classify(std::dynamic_pointer_cast<ClassifyImpl>(head));
    YOLO_CHECK(!classify_.is_empty(), "{}: a classify model must end with Classify", spec_.source);
    // Ultralytics' ClassificationModel keeps PyTorch's batch-norm defaults (no initialize_weights).
  }
}

std::vector<torch::Tensor> YoloModelImpl::gather_inputs(const Layer& layer, const torch::Tensor& previous,
                                                        const std::vector<torch::Tensor>& saved) const {
  std::vector<torch::Tensor> inputs;
  inputs.reserve(layer.from.size());
  for (auto f : layer.from) inputs.push_back(f == -1 ? previous : saved[f]);
  return inputs;
}

std::vector<torch::Tensor> YoloModelImpl::forward_raw(torch::Tensor x) {
  std::vector<torch::Tensor> saved(layers_.size());
  const size_t head = layers_.size() - 1;
  for (size_t i = 0; i < head; ++i) {
    x = layers_[i].forward(gather_inputs(layers_[i], x, saved));
    if (keep_output_[i]) saved[i] = x;
  }
  auto inputs = gather_inputs(layers_[head], x, saved);
  if (detect_) return detect_->forward(std::move(inputs));
  return {classify_->forward(inputs)};
}

torch::Tensor YoloModelImpl::forward(torch::Tensor x) {
  auto raw = forward_raw(std::move(x));
  if (detect_) return detect_->decode(raw);
  return raw[0].softmax(1);
}

std::vector<double> YoloModelImpl::strides() const { return detect_ ? detect_->stride : std::vector<double>{1.0}; }

Detect YoloModelImpl::detect_head() {
  YOLO_CHECK(detect_, "{} is a {} model: it has no detection head", spec_.source, spec_.task);
  return detect_;
}

ModelInfo YoloModelImpl::info(int64_t imgsz) {
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

  // As Ultralytics (thop): count one image of the largest stride (at least 32), then scale to imgsz.
  const auto all_strides = strides();
  const int64_t side = std::max<int64_t>(32, static_cast<int64_t>(*std::max_element(all_strides.begin(),
                                                                                    all_strides.end())));
  const auto reference = parameters().front();
  const bool was_training = is_training();
  detail::FlopTally tally;
  {
    torch::NoGradGuard no_grad;
    eval();  // no batch-norm statistics change
    detail::active_flop_tally() = &tally;
    try {
      forward_raw(torch::zeros({1, spec_.in_channels, side, side}, reference.options()));
    } catch (...) {
      detail::active_flop_tally() = nullptr;
      if (was_training) train();
      throw;
    }
    detail::active_flop_tally() = nullptr;
  }
  if (was_training) train();
  const double scale = static_cast<double>(imgsz) / static_cast<double>(side);
  info.gflops = tally.ops * 2 / 1e9 * scale * scale;
  return info;
}

void YoloModelImpl::fuse() {
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<Conv>()) conv->fuse();
  }
  fused_ = true;
}

std::string format_info(YoloModelImpl& model, int64_t imgsz) {
  const auto info = model.info(imgsz);
  // Named as Ultralytics names it: after the YAML file the model was built from.
  const auto& spec = model.spec();
  std::string name = std::filesystem::path(spec.yaml_file.empty() ? spec.source : spec.yaml_file).stem().string();
  if (auto at = name.find("yolo"); at != std::string::npos) name.replace(at, 4, "YOLO");
  if (name.empty()) name = "Model";
  return fmt::format("{} summary{}: {} layers, {} parameters, {} gradients, {:.1f} GFLOPs", name,
                     model.is_fused() ? " (fused)" : "",
                     with_thousands(info.leaf_layers), with_thousands(info.parameters), with_thousands(info.gradients),
                     info.gflops);
}

std::vector<std::pair<std::string, torch::Tensor>> state_dict(YoloModel& model) { return state_dict(*model); }

std::vector<std::pair<std::string, torch::Tensor>> state_dict(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  collect_state(module, "", out);
  return out;
}

void use_channels_last(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
}

YoloModel fused_copy(YoloModel& model) {
  YoloModel copy(model->spec());
  const auto report = transfer_weights(copy, state_dict(model));
  YOLO_CHECK(report.transferred == report.total, "fused_copy: {} of {} tensors copied", report.transferred,
             report.total);
  copy->eval();
  copy->fuse();
  return copy;
}

TransferReport transfer_weights(YoloModel& model, const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  return transfer_weights(*model, state);
}

TransferReport transfer_weights(torch::nn::Module& model,
                                const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  std::unordered_map<std::string, const torch::Tensor*> by_name;
  for (const auto& entry : state) by_name.emplace(entry.first, &entry.second);

  TransferReport report;
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : state_dict(model)) {
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

}  // namespace yolo::nn
