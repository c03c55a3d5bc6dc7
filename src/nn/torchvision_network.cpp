#include "nn/torchvision_network.h"

#include <ATen/record_function.h>

#include <fmt/ranges.h>

#include "config/parse.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {
namespace {

class TorchvisionNetworkImpl : public NetworkImpl {
 public:
  explicit TorchvisionNetworkImpl(const TorchvisionOptions& options) : net_(options) {
    // The classifier's children, registered here under their own names: torchvision's state dict names.
    for (const auto& child : net_->named_children()) register_module(child.key(), child.value());
  }

  const std::string& task() const override {
    static const std::string classify = "classify";
    return classify;
  }
  int64_t nc() const override { return net_->options().num_classes(); }
  std::vector<double> strides() const override { return {1.0}; }
  std::vector<torch::Tensor> forward_raw(torch::Tensor x) override {
    RECORD_USER_SCOPE("yolo::Classify");
    return {net_->forward(std::move(x))};
  }
  torch::Tensor forward(torch::Tensor x) override { return decode(forward_raw(std::move(x))); }
  const torch::nn::Module& export_module() const override { return *net_; }
  torch::Tensor decode(const std::vector<torch::Tensor>& raw) override { return raw.front().softmax(1); }
  void train(bool on = true) override {
    NetworkImpl::train(on);
    net_->train(on);
  }

  /// "ResNet18", "ResNeXt50_32x4d", "Wide_ResNet50_2", "DenseNet121".
  std::string display_name() const override {
    std::string name = net_->options().arch();
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"resnext", "ResNeXt"}, {"resnet", "ResNet"}, {"densenet", "DenseNet"}, {"wide_", "Wide_"}}) {
      if (auto at = name.find(from); at != std::string::npos) name.replace(at, from.size(), to);
    }
    return name;
  }

  Architecture architecture() const override {
    const auto& o = net_->options();
    Architecture a;
    a.family = "torchvision";
    a.name = o.arch();
    a.nc = o.num_classes();
    auto list = [](const std::vector<int64_t>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); };
    if (!o.layers().empty()) a.options.emplace_back("layers", list(o.layers()));
    if (o.groups()) a.options.emplace_back("groups", std::to_string(*o.groups()));
    if (o.width_per_group()) a.options.emplace_back("width_per_group", std::to_string(*o.width_per_group()));
    if (o.growth_rate()) a.options.emplace_back("growth_rate", std::to_string(*o.growth_rate()));
    if (!o.block_config().empty()) a.options.emplace_back("block_config", list(o.block_config()));
    if (o.num_init_features()) a.options.emplace_back("num_init_features", std::to_string(*o.num_init_features()));
    if (o.bn_size()) a.options.emplace_back("bn_size", std::to_string(*o.bn_size()));
    if (o.drop_rate()) a.options.emplace_back("drop_rate", config::format_float(*o.drop_rate()));
    return a;
  }

  std::shared_ptr<NetworkImpl> rebuild(std::optional<int64_t> nc) const override {
    auto options = net_->options();
    if (nc) options.num_classes(*nc);
    return std::make_shared<TorchvisionNetworkImpl>(options);
  }

  void set_dropout(double p) override {
    // As in Ultralytics, `dropout` sets nn.Dropout layers, and torchvision's ResNets and DenseNets have none.
    if (p > 0) log_warning("dropout={} has no effect on {}: it has no dropout layer", p, net_->options().arch());
  }

  TorchvisionClassifierImpl& classifier() { return *net_; }

 private:
  TorchvisionClassifier net_;
};

int64_t to_count(const std::string& key, const std::string& text) {
  const auto value = config::parse_int(text);
  YOLO_CHECK(value, "torchvision architecture option {}={} is not an integer", key, text);
  return *value;
}

std::vector<int64_t> to_counts(const std::string& key, const std::string& text) {
  const auto values = config::parse_int_list(text);
  YOLO_CHECK(values, "torchvision architecture option {}={} is not a list of integers", key, text);
  return *values;
}

}  // namespace

Network torchvision_network(const TorchvisionOptions& options) {
  return Network(std::shared_ptr<NetworkImpl>(std::make_shared<TorchvisionNetworkImpl>(options)));
}

TorchvisionOptions torchvision_options(const Architecture& architecture) {
  YOLO_CHECK(architecture.family == "torchvision", "{} is not a torchvision architecture", architecture.name);
  TorchvisionOptions o(architecture.name);
  if (architecture.nc > 0) o.num_classes(architecture.nc);
  for (const auto& [key, text] : architecture.options) {
    if (key == "layers") o.layers(to_counts(key, text));
    else if (key == "groups") o.groups(to_count(key, text));
    else if (key == "width_per_group") o.width_per_group(to_count(key, text));
    else if (key == "growth_rate") o.growth_rate(to_count(key, text));
    else if (key == "block_config") o.block_config(to_counts(key, text));
    else if (key == "num_init_features") o.num_init_features(to_count(key, text));
    else if (key == "bn_size") o.bn_size(to_count(key, text));
    else if (key == "drop_rate") o.drop_rate(std::stod(text));
    else YOLO_FAIL("{}: unknown torchvision architecture option '{}'", architecture.name, key);
  }
  return o;
}

bool is_torchvision_network(const NetworkImpl& network) {
  return dynamic_cast<const TorchvisionNetworkImpl*>(&network) != nullptr;
}

void load_torchvision_weights(NetworkImpl& network, const StateDict& state, const std::string& source) {
  auto* torchvision = dynamic_cast<TorchvisionNetworkImpl*>(&network);
  YOLO_CHECK(torchvision, "{}: a torchvision state dict needs a torchvision model (model=resnet18, densenet121, ...)",
             source);
  load_torchvision_state(torchvision->classifier(), state, source);
}

}  // namespace nn
YOLO_END_NAMESPACE
