#include "nn/torchvision.h"

#include <algorithm>
#include <regex>
#include <unordered_map>
#include <unordered_set>

#include <fmt/ranges.h>

#include "utils/suggest.h"
#include "yolo/nn/model.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {
namespace {

std::string shape_text(const torch::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

// ---- architectures ---------------------------------------------------------------------------

struct ResNetConfig {
  bool bottleneck = false;  ///< Bottleneck (1x1, 3x3, 1x1; 4x expansion) or BasicBlock (3x3, 3x3)
  std::vector<int64_t> layers;
  int64_t groups = 1;
  int64_t width_per_group = 64;
};

struct DenseNetConfig {
  int64_t growth_rate = 32;
  std::vector<int64_t> block_config;
  int64_t num_init_features = 64;
  int64_t bn_size = 4;
  double drop_rate = 0;
};

struct Arch {
  std::string name;
  std::optional<ResNetConfig> resnet;
  std::optional<DenseNetConfig> densenet;
};

/// The configurations torchvision.models builds under each name.
const std::vector<Arch>& arch_table() {
  static const std::vector<Arch> table = [] {
    const auto resnet = [](const char* name, bool bottleneck, std::vector<int64_t> layers, int64_t groups = 1,
                           int64_t width_per_group = 64) {
      return Arch{name, ResNetConfig{bottleneck, std::move(layers), groups, width_per_group}, std::nullopt};
    };
    const auto densenet = [](const char* name, int64_t growth_rate, std::vector<int64_t> blocks, int64_t init) {
      return Arch{name, std::nullopt, DenseNetConfig{growth_rate, std::move(blocks), init}};
    };
    return std::vector<Arch>{
        resnet("resnet18", false, {2, 2, 2, 2}),
        resnet("resnet34", false, {3, 4, 6, 3}),
        resnet("resnet50", true, {3, 4, 6, 3}),
        resnet("resnet101", true, {3, 4, 23, 3}),
        resnet("resnet152", true, {3, 8, 36, 3}),
        resnet("resnext50_32x4d", true, {3, 4, 6, 3}, 32, 4),
        resnet("resnext101_32x8d", true, {3, 4, 23, 3}, 32, 8),
        resnet("resnext101_64x4d", true, {3, 4, 23, 3}, 64, 4),
        resnet("wide_resnet50_2", true, {3, 4, 6, 3}, 1, 128),
        resnet("wide_resnet101_2", true, {3, 4, 23, 3}, 1, 128),
        densenet("densenet121", 32, {6, 12, 24, 16}, 64),
        densenet("densenet161", 48, {6, 12, 36, 24}, 96),
        densenet("densenet169", 32, {6, 12, 32, 32}, 64),
        densenet("densenet201", 32, {6, 12, 48, 32}, 64),
    };
  }();
  return table;
}

const Arch& find_arch(const std::string& name) {
  for (const auto& arch : arch_table())
    if (arch.name == name) return arch;
  const auto names = torchvision_model_names();
  YOLO_FAIL("unknown torchvision model '{}': the known ones are {}.{}", name, fmt::join(names, ", "),
            did_you_mean(name, names));
}

/// The arch's ResNet configuration with the options' overrides, checked as torchvision checks them.
ResNetConfig resnet_config(const TorchvisionOptions& o, const Arch& arch) {
  const auto& name = arch.name;
  const std::pair<bool, const char*> densenet_options[] = {{o.growth_rate().has_value(), "growth_rate"},
                                                           {!o.block_config().empty(), "block_config"},
                                                           {o.num_init_features().has_value(), "num_init_features"},
                                                           {o.bn_size().has_value(), "bn_size"},
                                                           {o.drop_rate().has_value(), "drop_rate"}};
  for (const auto& [set, option] : densenet_options)
    YOLO_CHECK(!set, "{}: {} is a DenseNet option; {} is a ResNet (it takes layers, groups, width_per_group)", name,
               option, name);
  ResNetConfig c = *arch.resnet;
  if (!o.layers().empty()) c.layers = o.layers();
  c.groups = o.groups().value_or(c.groups);
  c.width_per_group = o.width_per_group().value_or(c.width_per_group);
  YOLO_CHECK(c.layers.size() == 4 && std::all_of(c.layers.begin(), c.layers.end(), [](int64_t n) { return n >= 1; }),
             "{}: layers must be 4 block counts of at least 1, got [{}]", name, fmt::join(c.layers, ", "));
  YOLO_CHECK(c.groups >= 1 && c.width_per_group >= 1, "{}: groups and width_per_group must be positive, got {} and {}",
             name, c.groups, c.width_per_group);
  YOLO_CHECK(c.bottleneck || (c.groups == 1 && c.width_per_group == 64),
             "{}: its BasicBlock takes only groups=1 and width_per_group=64 (got {} and {}); use a Bottleneck arch "
             "such as resnet50",
             name, c.groups, c.width_per_group);
  return c;
}

DenseNetConfig densenet_config(const TorchvisionOptions& o, const Arch& arch) {
  const auto& name = arch.name;
  const std::pair<bool, const char*> resnet_options[] = {
      {!o.layers().empty(), "layers"}, {o.groups().has_value(), "groups"},
      {o.width_per_group().has_value(), "width_per_group"}};
  for (const auto& [set, option] : resnet_options)
    YOLO_CHECK(!set,
               "{}: {} is a ResNet option; {} is a DenseNet (it takes growth_rate, block_config, num_init_features, "
               "bn_size, drop_rate)",
               name, option, name);
  DenseNetConfig c = *arch.densenet;
  c.growth_rate = o.growth_rate().value_or(c.growth_rate);
  if (!o.block_config().empty()) c.block_config = o.block_config();
  c.num_init_features = o.num_init_features().value_or(c.num_init_features);
  c.bn_size = o.bn_size().value_or(c.bn_size);
  c.drop_rate = o.drop_rate().value_or(c.drop_rate);
  YOLO_CHECK(c.growth_rate >= 1 && c.num_init_features >= 1 && c.bn_size >= 1,
             "{}: growth_rate, num_init_features and bn_size must be positive, got {}, {} and {}", name, c.growth_rate,
             c.num_init_features, c.bn_size);
  YOLO_CHECK(!c.block_config.empty() &&
                 std::all_of(c.block_config.begin(), c.block_config.end(), [](int64_t n) { return n >= 1; }),
             "{}: block_config must list at least one block of at least 1 layer, got [{}]", name,
             fmt::join(c.block_config, ", "));
  YOLO_CHECK(c.drop_rate >= 0 && c.drop_rate < 1, "{}: drop_rate must be in [0, 1), got {}", name, c.drop_rate);
  return c;
}

// ---- building blocks -------------------------------------------------------------------------

/// A bias-free convolution with "same" padding, as every convolution of these networks.
torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t groups = 1) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).groups(groups).bias(false));
}

/// ResNet's BasicBlock (3x3, 3x3) or Bottleneck (1x1, 3x3 grouped, 1x1 to 4x planes) with the stride on
/// the 3x3 convolution (ResNet v1.5), plus the input or its 1x1 `downsample` projection, then ReLU.
/// Children conv1, bn1, conv2, bn2[, conv3, bn3][, downsample], as torchvision names them.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(const ResNetConfig& config, int64_t in, int64_t planes, int64_t stride,
                    torch::nn::Sequential downsample)
      : downsample_(std::move(downsample)) {
    const int64_t width = config.bottleneck ? planes * config.width_per_group / 64 * config.groups : planes;
    const int64_t out = config.bottleneck ? planes * 4 : planes;
    if (config.bottleneck) {
      add_stage(conv(in, width, 1));
      add_stage(conv(width, width, 3, stride, config.groups));
      add_stage(conv(width, out, 1));
    } else {
      add_stage(conv(in, planes, 3, stride));
      add_stage(conv(planes, planes, 3));
    }
    if (downsample_) register_module("downsample", downsample_);
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out = x;
    for (size_t i = 0; i < stages_.size(); ++i) {
      out = stages_[i].second(stages_[i].first(out));
      if (i + 1 < stages_.size()) out.relu_();
    }
    return out.add_(downsample_ ? downsample_->forward(x) : x).relu_();
  }

 private:
  void add_stage(torch::nn::Conv2d c) {
    const auto index = std::to_string(stages_.size() + 1);
    register_module("conv" + index, c);  // conv before bn: the state_dict order
    stages_.emplace_back(c, register_module("bn" + index, torch::nn::BatchNorm2d(c->options.out_channels())));
  }

  std::vector<std::pair<torch::nn::Conv2d, torch::nn::BatchNorm2d>> stages_;
  torch::nn::Sequential downsample_;
};
TORCH_MODULE(ResidualBlock);

/// DenseNet's layer: BN-ReLU-1x1 conv to bn_size x growth channels, BN-ReLU-3x3 conv to `growth` new
/// channels, over the concatenation of every earlier output of its block.
class DenseLayerImpl : public torch::nn::Module {
 public:
  DenseLayerImpl(int64_t in, const DenseNetConfig& config) : drop_rate_(config.drop_rate) {
    const int64_t hidden = config.bn_size * config.growth_rate;
    norm1_ = register_module("norm1", torch::nn::BatchNorm2d(in));
    conv1_ = register_module("conv1", conv(in, hidden, 1));
    norm2_ = register_module("norm2", torch::nn::BatchNorm2d(hidden));
    conv2_ = register_module("conv2", conv(hidden, config.growth_rate, 3));
  }

  torch::Tensor forward(const std::vector<torch::Tensor>& earlier) {
    const auto bottleneck = conv1_(norm1_(torch::cat(earlier, 1)).relu_());
    auto out = conv2_(norm2_(bottleneck).relu_());
    if (drop_rate_ > 0) out = torch::dropout(out, drop_rate_, is_training());
    return out;
  }

 private:
  double drop_rate_;
  torch::nn::BatchNorm2d norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(DenseLayer);

/// `layers` dense layers (children denselayer1...); outputs its input and every layer's features, concatenated.
class DenseBlockImpl : public torch::nn::Module {
 public:
  DenseBlockImpl(int64_t layers, int64_t in, const DenseNetConfig& config) {
    for (int64_t i = 0; i < layers; ++i)
      layers_.push_back(
          register_module(fmt::format("denselayer{}", i + 1), DenseLayer(in + i * config.growth_rate, config)));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    std::vector<torch::Tensor> features{x};
    features.reserve(layers_.size() + 1);
    for (auto& layer : layers_) features.push_back(layer->forward(features));
    return torch::cat(features, 1);
  }

 private:
  std::vector<DenseLayer> layers_;
};
TORCH_MODULE(DenseBlock);

/// Between dense blocks: BN-ReLU-1x1 conv halving the channels, then a 2x2 average pool. Children norm, conv.
class TransitionImpl : public torch::nn::Module {
 public:
  explicit TransitionImpl(int64_t in) {
    norm_ = register_module("norm", torch::nn::BatchNorm2d(in));
    conv_ = register_module("conv", conv(in, in / 2, 1));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    return torch::avg_pool2d(conv_(norm_(x).relu_()), /*kernel_size=*/2, /*stride=*/2);
  }

 private:
  torch::nn::BatchNorm2d norm_{nullptr};
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(Transition);

}  // namespace

// ---- the classifier --------------------------------------------------------------------------

std::vector<std::string> torchvision_model_names() {
  std::vector<std::string> names;
  for (const auto& arch : arch_table()) names.push_back(arch.name);
  return names;
}

bool is_torchvision_model(const std::string& name) {
  const auto& table = arch_table();
  return std::any_of(table.begin(), table.end(), [&](const Arch& arch) { return arch.name == name; });
}

TorchvisionClassifierImpl::TorchvisionClassifierImpl(TorchvisionOptions options) : options_(std::move(options)) {
  const Arch& arch = find_arch(options_.arch());
  YOLO_CHECK(options_.num_classes() >= 1, "{}: num_classes must be at least 1, got {}", arch.name,
             options_.num_classes());
  densenet_ = arch.densenet.has_value();
  if (densenet_) build_densenet();
  else build_resnet();
}

void TorchvisionClassifierImpl::build_resnet() {
  const ResNetConfig config = resnet_config(options_, find_arch(options_.arch()));
  // Modules are made in torchvision's order, so that they draw the same random numbers.
  conv1_ = register_module("conv1", conv(3, 64, 7, 2));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(64));
  const int64_t expansion = config.bottleneck ? 4 : 1;
  int64_t in = 64;
  for (int64_t stage = 0; stage < 4; ++stage) {
    const int64_t planes = int64_t{64} << stage, stride = stage == 0 ? 1 : 2;
    torch::nn::Sequential blocks;
    for (int64_t i = 0; i < config.layers[stage]; ++i) {
      torch::nn::Sequential downsample{nullptr};
      if (i == 0 && (stride != 1 || in != planes * expansion))
        downsample = torch::nn::Sequential(conv(in, planes * expansion, 1, stride),
                                           torch::nn::BatchNorm2d(planes * expansion));
      blocks->push_back(ResidualBlock(config, in, planes, i == 0 ? stride : 1, downsample));
      in = planes * expansion;
    }
    stages_.push_back(register_module(fmt::format("layer{}", stage + 1), blocks));
  }
  classifier_ = register_module("fc", make_classifier(in, options_.num_classes()));

  // torchvision's init: convolutions kaiming-normal (fan_out, ReLU gain), batch norms 1 and 0; fc keeps
  // Linear's default.
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      bn->weight.fill_(1);
      bn->bias.zero_();
    }
  }
}

void TorchvisionClassifierImpl::build_densenet() {
  const DenseNetConfig config = densenet_config(options_, find_arch(options_.arch()));
  features_ = torch::nn::Sequential();
  features_->push_back("conv0", conv(3, config.num_init_features, 7, 2));
  features_->push_back("norm0", torch::nn::BatchNorm2d(config.num_init_features));
  features_->push_back("relu0", torch::nn::ReLU(torch::nn::ReLUOptions(/*inplace=*/true)));
  features_->push_back("pool0", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  int64_t channels = config.num_init_features;
  for (size_t i = 0; i < config.block_config.size(); ++i) {
    features_->push_back(fmt::format("denseblock{}", i + 1), DenseBlock(config.block_config[i], channels, config));
    channels += config.block_config[i] * config.growth_rate;
    if (i + 1 == config.block_config.size()) break;
    features_->push_back(fmt::format("transition{}", i + 1), Transition(channels));
    channels /= 2;
  }
  features_->push_back("norm5", torch::nn::BatchNorm2d(channels));
  features_ = register_module("features", features_);
  classifier_ = register_module("classifier", make_classifier(channels, options_.num_classes()));

  // torchvision's init: convolutions kaiming-normal (fan_in), batch norms 1 and 0, the classifier's bias 0.
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(c->weight);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      bn->weight.fill_(1);
      bn->bias.zero_();
    }
  }
}

torch::nn::Linear TorchvisionClassifierImpl::make_classifier(int64_t in_features, int64_t num_classes) const {
  YOLO_CHECK(num_classes >= 1, "{}: num_classes must be at least 1, got {}", options_.arch(), num_classes);
  torch::nn::Linear linear(in_features, num_classes);
  if (densenet_) {
    torch::NoGradGuard no_grad;
    linear->bias.zero_();
  }
  return linear;
}

torch::Tensor TorchvisionClassifierImpl::forward(torch::Tensor x) {
  YOLO_CHECK(x.dim() == 4 && x.size(1) == 3, "{}: expects images [batch, 3, height, width], got a tensor of shape {}",
             options_.arch(), shape_text(x));
  if (densenet_) {
    x = features_->forward(x).relu_();
  } else {
    x = bn1_(conv1_(x)).relu_();
    x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
    for (auto& stage : stages_) x = stage->forward(x);
  }
  return classifier_(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
}

void TorchvisionClassifierImpl::reset_classifier(int64_t num_classes) {
  const auto& old = classifier_->weight;
  auto fresh = make_classifier(classifier_->options.in_features(), num_classes);
  fresh->to(old.device(), old.scalar_type());
  fresh->train(is_training());
  classifier_ = replace_module(densenet_ ? "classifier" : "fc", fresh);
  options_.num_classes(num_classes);
}

// ---- torchvision state dicts -----------------------------------------------------------------

int64_t torchvision_num_classes(const std::vector<std::pair<std::string, torch::Tensor>>& state,
                                const std::string& source) {
  for (const auto& [name, tensor] : state)
    if ((name == "fc.weight" || name == "classifier.weight") && tensor.dim() == 2) return tensor.size(0);
  YOLO_FAIL("{}: no fc.weight or classifier.weight — not the state dict of a torchvision ResNet or DenseNet", source);
}

namespace {

/// torchvision's DenseNet weights of before 0.3 name `norm1` `norm.1` (dots are no longer allowed in
/// module names); torchvision renames them when loading, and so do we.
std::string current_name(const std::string& name) {
  static const std::regex legacy(R"(^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\.(?:weight|bias|running_mean|running_var))$)");
  std::smatch match;
  if (!std::regex_match(name, match, legacy)) return name;
  return match[1].str() + match[2].str();
}

/// "a, b, c and 4 more"
/// PyTorch < 0.4.1 saved batch norms without num_batches_tracked, and torchvision's ImageNet weights are that old.
bool is_batch_counter(const std::string& name) {
  constexpr std::string_view kCounter = ".num_batches_tracked";
  return name.size() > kCounter.size() && name.compare(name.size() - kCounter.size(), kCounter.size(), kCounter) == 0;
}

std::string some_of(const std::vector<std::string>& names) {
  constexpr size_t kShown = 4;
  std::vector<std::string> shown(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(std::min(kShown, names.size())));
  auto text = fmt::format("{}", fmt::join(shown, ", "));
  if (names.size() > kShown) text += fmt::format(" and {} more", names.size() - kShown);
  return text;
}

}  // namespace

void load_torchvision_state(TorchvisionClassifierImpl& model,
                            const std::vector<std::pair<std::string, torch::Tensor>>& state, const std::string& source) {
  std::vector<std::pair<std::string, torch::Tensor>> renamed;
  renamed.reserve(state.size());
  std::unordered_map<std::string, torch::Tensor> by_name;
  for (const auto& [name, tensor] : state) {
    renamed.emplace_back(current_name(name), tensor);
    by_name.emplace(renamed.back());
  }

  // Check everything before copying anything, so that a failed load leaves the model as it was.
  std::vector<std::string> missing, misshapen, unexpected;
  std::vector<torch::Tensor> absent_counters;
  std::unordered_set<std::string> expected;
  for (const auto& [name, target] : state_dict(model)) {
    expected.insert(name);
    const auto found = by_name.find(name);
    if (found == by_name.end() && is_batch_counter(name)) absent_counters.push_back(target);
    else if (found == by_name.end()) missing.push_back(name);
    else if (found->second.sizes() != target.sizes())
      misshapen.push_back(fmt::format("{} {} (the model's is {})", name, shape_text(found->second), shape_text(target)));
  }
  for (const auto& [name, tensor] : renamed)
    if (!expected.count(name)) unexpected.push_back(name);

  if (!missing.empty() || !misshapen.empty() || !unexpected.empty()) {
    std::string detail;
    if (!missing.empty()) detail += fmt::format("; {} missing: {}", missing.size(), some_of(missing));
    if (!unexpected.empty()) detail += fmt::format("; {} unexpected: {}", unexpected.size(), some_of(unexpected));
    if (!misshapen.empty()) detail += fmt::format("; {} of another shape: {}", misshapen.size(), some_of(misshapen));
    const auto& classifier = model.is_densenet() ? "classifier" : "fc";
    std::string hint = fmt::format("is it a state dict of {} (with these options)?", model.options().arch());
    if (missing.empty() && unexpected.empty() && misshapen.size() <= 2 &&
        std::all_of(misshapen.begin(), misshapen.end(), [&](const std::string& s) { return s.rfind(std::string(classifier) + ".", 0) == 0; }))
      hint = fmt::format(
          "it was saved with {} classes: build the model with num_classes={}, load it, then reset_classifier() to "
          "change the class count",
          torchvision_num_classes(renamed, source), torchvision_num_classes(renamed, source));
    YOLO_FAIL("{}: does not fit {} with {} classes{} — {}", source, model.options().arch(),
              model.options().num_classes(), detail, hint);
  }
  const auto report = transfer_weights(model, renamed);
  YOLO_CHECK(report.transferred + static_cast<int64_t>(absent_counters.size()) == report.total,
             "{}: copied {} of {} tensors", source, report.transferred, report.total);
  // As BatchNorm's loading hook does for files older than the counter: it starts from 0.
  torch::NoGradGuard no_grad;
  for (auto& counter : absent_counters) counter.zero_();
}

}  // namespace nn
YOLO_END_NAMESPACE
