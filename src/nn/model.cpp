#include "yolo/nn/model.h"

#include <cmath>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include <ATen/record_function.h>

#include "nn/flops.h"
#include "nn/registry.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {
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
  if (detect_) {
    RECORD_USER_SCOPE("yolo::Detect");  // a named region in profiles (and how tests see which head ran)
    return detect_->forward(std::move(inputs));
  }
  RECORD_USER_SCOPE("yolo::Classify");
  return {classify_->forward(inputs)};
}

torch::Tensor YoloModelImpl::forward(torch::Tensor x) { return decode(forward_raw(std::move(x))); }

torch::Tensor YoloModelImpl::decode(const std::vector<torch::Tensor>& raw) {
  if (detect_) return detect_->decode(raw);
  return raw[0].softmax(1);
}

std::vector<double> YoloModelImpl::strides() const { return detect_ ? detect_->stride : std::vector<double>{1.0}; }

Detect YoloModelImpl::detect_head() {
  YOLO_CHECK(detect_, "{} is a {} model: it has no detection head", spec_.source, spec_.task);
  return detect_;
}

ModelInfo YoloModelImpl::info(int64_t imgsz) {
  ModelInfo info = NetworkImpl::info(imgsz);
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

std::string YoloModelImpl::display_name() const {
  // Named as Ultralytics names it: after the YAML file the model was built from.
  std::string name = std::filesystem::path(spec_.yaml_file.empty() ? spec_.source : spec_.yaml_file).stem().string();
  if (auto at = name.find("yolo"); at != std::string::npos) name.replace(at, 4, "YOLO");
  return name.empty() ? "Model" : name;
}

Architecture YoloModelImpl::architecture() const {
  Architecture a;
  a.family = "yaml";
  a.name = spec_.source;
  a.yaml_text = spec_.yaml_text;
  a.nc = spec_.nc;
  return a;
}

std::shared_ptr<NetworkImpl> YoloModelImpl::rebuild(std::optional<int64_t> nc) const {
  if (!nc || *nc == spec_.nc) return std::make_shared<YoloModelImpl>(spec_);
  return std::make_shared<YoloModelImpl>(parse_model_spec(spec_.yaml_text, spec_.source, nc));
}

void YoloModelImpl::set_dropout(double p) {
  if (classify_) classify_->drop->options.p(p);
}

std::vector<std::string> YoloModelImpl::fixed_parameters() const {
  if (detect_) return {".dfl"};
  return {};
}

}  // namespace nn
YOLO_END_NAMESPACE
