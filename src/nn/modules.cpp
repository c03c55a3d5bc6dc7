#include "yolo/nn/modules.h"

#include <cmath>

#include "nn/flops.h"
#include "yolo/utils/boxes.h"
#include "yolo/utils/error.h"

namespace yolo::nn {

namespace detail {

FlopTally*& active_flop_tally() {
  thread_local FlopTally* tally = nullptr;
  return tally;
}

torch::Tensor forward_counted(torch::nn::SequentialImpl& sequential, torch::Tensor x) {
  for (auto& child : sequential) {
    x = child.forward(x);
    if (auto* conv = child.ptr()->as<torch::nn::Conv2d>()) tally_conv(*conv, x);
  }
  return x;
}

}  // namespace detail

int64_t autopad(int64_t k, std::optional<int64_t> padding, int64_t dilation) {
  if (padding) return *padding;
  const int64_t effective_kernel = dilation > 1 ? dilation * (k - 1) + 1 : k;
  return effective_kernel / 2;
}

torch::nn::SiLU default_activation() {
  static const torch::nn::SiLU shared;
  return shared;
}

// ---- Conv ----------------------------------------------------------------------------------
ConvImpl::ConvImpl(const ConvOptions& options_) : options(options_) {
  YOLO_CHECK(options.in_channels() > 0 && options.out_channels() > 0 && options.kernel_size() > 0,
             "Conv needs positive channels and kernel size, got in={} out={} k={}", options.in_channels(),
             options.out_channels(), options.kernel_size());
  YOLO_CHECK(options.in_channels() % options.groups() == 0 && options.out_channels() % options.groups() == 0,
             "Conv channels ({} -> {}) must be divisible by groups={}", options.in_channels(), options.out_channels(),
             options.groups());
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(options.in_channels(),
                                                                            options.out_channels(),
                                                                            options.kernel_size())
                                                       .stride(options.stride())
                                                       .padding(autopad(options.kernel_size(), options.padding(),
                                                                        options.dilation()))
                                                       .groups(options.groups())
                                                       .dilation(options.dilation())
                                                       .bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(options.out_channels()));
  if (options.act())
    act = torch::nn::AnyModule(default_activation());
  else
    act = torch::nn::AnyModule(torch::nn::Identity());
  register_module("act", act.ptr());
}

torch::Tensor ConvImpl::forward(const torch::Tensor& x) {
  auto y = conv->forward(x);
  detail::tally_conv(*conv, y);
  if (is_fused()) return act.forward(y);
  detail::tally_batch_norm(y);
  return act.forward(bn->forward(y));
}

void ConvImpl::fuse() {
  if (is_fused()) return;
  torch::NoGradGuard no_grad;
  // bn(conv(x)) = scale * (W x - mean) + beta, with scale = gamma / sqrt(var + eps).
  const auto scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
  const auto& o = conv->options;
  torch::nn::Conv2d fused(torch::nn::Conv2dOptions(o.in_channels(), o.out_channels(), o.kernel_size())
                              .stride(o.stride())
                              .padding(o.padding())
                              .dilation(o.dilation())
                              .groups(o.groups())
                              .bias(true));
  fused->to(conv->weight.device(), conv->weight.scalar_type());
  fused->weight.copy_(conv->weight * scale.view({-1, 1, 1, 1}));
  fused->bias.copy_(bn->bias - bn->running_mean * scale);
  fused->weight.set_requires_grad(false);
  fused->bias.set_requires_grad(false);
  conv = torch::nn::Conv2d(replace_module("conv", fused));
  unregister_module("bn");
  bn = nullptr;
}

// ---- CSP blocks ----------------------------------------------------------------------------
BottleneckImpl::BottleneckImpl(int64_t c1, int64_t c2, bool shortcut, int64_t groups,
                               std::pair<int64_t, int64_t> kernels, double expansion)
    : add(shortcut && c1 == c2) {
  const auto hidden = static_cast<int64_t>(static_cast<double>(c2) * expansion);
  cv1 = register_module("cv1", Conv(ConvOptions(c1, hidden, kernels.first)));
  cv2 = register_module("cv2", Conv(ConvOptions(hidden, c2, kernels.second).groups(groups)));
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto y = cv2->forward(cv1->forward(x));
  return add ? x + y : y;
}

C2fImpl::C2fImpl(int64_t c1, int64_t c2, int64_t n, bool shortcut, int64_t groups, double expansion)
    : hidden(static_cast<int64_t>(static_cast<double>(c2) * expansion)) {
  cv1 = register_module("cv1", Conv(ConvOptions(c1, 2 * hidden, 1)));
  cv2 = register_module("cv2", Conv(ConvOptions((2 + n) * hidden, c2, 1)));
  m = register_module("m", torch::nn::ModuleList());
  const auto kernels = std::make_pair(int64_t{3}, int64_t{3});
  for (int64_t i = 0; i < n; ++i) m->push_back(Bottleneck(hidden, hidden, shortcut, groups, kernels, 1.0));
}

torch::Tensor C2fImpl::forward(const torch::Tensor& x) {
  // Both halves of cv1 go to the output; each bottleneck adds one more chunk.
  auto chunks = cv1->forward(x).chunk(2, 1);
  std::vector<torch::Tensor> y(chunks.begin(), chunks.end());
  for (const auto& block : *m) y.push_back(block->as<Bottleneck>()->forward(y.back()));
  return cv2->forward(torch::cat(y, 1));
}

C3Impl::C3Impl(int64_t c1, int64_t c2, int64_t n, bool shortcut, int64_t groups, double expansion) {
  const auto hidden = static_cast<int64_t>(static_cast<double>(c2) * expansion);
  cv1 = register_module("cv1", Conv(ConvOptions(c1, hidden, 1)));
  cv2 = register_module("cv2", Conv(ConvOptions(c1, hidden, 1)));
  cv3 = register_module("cv3", Conv(ConvOptions(2 * hidden, c2, 1)));
  m = register_module("m", torch::nn::Sequential());
  const auto kernels = std::make_pair(int64_t{1}, int64_t{3});
  for (int64_t i = 0; i < n; ++i) m->push_back(Bottleneck(hidden, hidden, shortcut, groups, kernels, 1.0));
}

torch::Tensor C3Impl::forward(const torch::Tensor& x) {
  return cv3->forward(torch::cat({m->forward(cv1->forward(x)), cv2->forward(x)}, 1));
}

// ---- spatial pyramid pooling ---------------------------------------------------------------
SPPFImpl::SPPFImpl(int64_t c1, int64_t c2, int64_t k) {
  const int64_t hidden = c1 / 2;
  cv1 = register_module("cv1", Conv(ConvOptions(c1, hidden, 1)));
  cv2 = register_module("cv2", Conv(ConvOptions(hidden * 4, c2, 1)));
  m = register_module("m", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(k).stride(1).padding(k / 2)));
}

torch::Tensor SPPFImpl::forward(const torch::Tensor& x) {
  // Pooling the pooled map again equals pooling with a larger kernel, at a fraction of the cost.
  std::vector<torch::Tensor> y{cv1->forward(x)};
  for (int i = 0; i < 3; ++i) y.push_back(m->forward(y.back()));
  return cv2->forward(torch::cat(y, 1));
}

SPPImpl::SPPImpl(int64_t c1, int64_t c2, std::vector<int64_t> ks) {
  const int64_t hidden = c1 / 2;
  cv1 = register_module("cv1", Conv(ConvOptions(c1, hidden, 1)));
  cv2 = register_module("cv2", Conv(ConvOptions(hidden * static_cast<int64_t>(ks.size() + 1), c2, 1)));
  m = register_module("m", torch::nn::ModuleList());
  for (auto k : ks) m->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(k).stride(1).padding(k / 2)));
}

torch::Tensor SPPImpl::forward(const torch::Tensor& x) {
  auto y = cv1->forward(x);
  std::vector<torch::Tensor> pooled{y};
  for (const auto& pool : *m) pooled.push_back(pool->as<torch::nn::MaxPool2d>()->forward(y));
  return cv2->forward(torch::cat(pooled, 1));
}

// ---- plumbing ------------------------------------------------------------------------------
torch::Tensor ConcatImpl::forward(const std::vector<torch::Tensor>& xs) { return torch::cat(xs, dimension); }

// ---- heads ---------------------------------------------------------------------------------
DFLImpl::DFLImpl(int64_t c1_) : c1(c1_) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(c1, 1, 1).bias(false)));
  torch::NoGradGuard no_grad;
  conv->weight.copy_(torch::arange(c1, torch::kFloat).view({1, c1, 1, 1}));
  conv->weight.set_requires_grad(false);
}

torch::Tensor DFLImpl::forward(const torch::Tensor& x) {
  const auto batch = x.size(0), anchors = x.size(2);
  // [B, 4*c1, A] -> bins on the channel axis, one column per box side -> expected distance.
  auto probabilities = x.view({batch, 4, c1, anchors}).transpose(2, 1).softmax(1);
  auto y = conv->forward(probabilities);
  detail::tally_conv(*conv, y);
  return y.view({batch, 4, anchors});
}

DetectImpl::DetectImpl(int64_t nc_, const std::vector<int64_t>& channels) : nc(nc_) {
  YOLO_CHECK(nc > 0, "Detect needs nc > 0, got {}", nc);
  YOLO_CHECK(!channels.empty(), "Detect needs at least one input level");
  const int64_t box_channels = std::max({int64_t{16}, channels[0] / 4, reg_max * 4});
  const int64_t cls_channels = std::max(channels[0], std::min(nc, int64_t{100}));
  cv2 = register_module("cv2", torch::nn::ModuleList());
  cv3 = register_module("cv3", torch::nn::ModuleList());
  for (auto c : channels) {
    cv2->push_back(torch::nn::Sequential(Conv(ConvOptions(c, box_channels, 3)),
                                         Conv(ConvOptions(box_channels, box_channels, 3)),
                                         torch::nn::Conv2d(torch::nn::Conv2dOptions(box_channels, 4 * reg_max, 1))));
    cv3->push_back(torch::nn::Sequential(Conv(ConvOptions(c, cls_channels, 3)),
                                         Conv(ConvOptions(cls_channels, cls_channels, 3)),
                                         torch::nn::Conv2d(torch::nn::Conv2dOptions(cls_channels, nc, 1))));
  }
  dfl = register_module("dfl", DFL(reg_max));
  stride.assign(channels.size(), 0.0);
}

std::vector<torch::Tensor> DetectImpl::forward(std::vector<torch::Tensor> x) {
  YOLO_CHECK(x.size() == cv2->size(), "Detect expects {} feature maps, got {}", cv2->size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    auto box = detail::forward_counted(*cv2[i]->as<torch::nn::Sequential>(), x[i]);
    auto cls = detail::forward_counted(*cv3[i]->as<torch::nn::Sequential>(), x[i]);
    x[i] = torch::cat({box, cls}, 1);
  }
  return x;
}

torch::Tensor DetectImpl::decode(const std::vector<torch::Tensor>& raw) const {
  YOLO_CHECK(raw.size() == stride.size(), "Detect::decode expects {} levels, got {}", stride.size(), raw.size());
  const auto batch = raw[0].size(0);
  const int64_t outputs = nc + 4 * reg_max;
  std::vector<torch::Tensor> flat;
  for (const auto& level : raw) flat.push_back(level.view({batch, outputs, -1}));
  auto all = torch::cat(flat, 2);
  auto [points, strides] = boxes::make_anchors(raw, stride, 0.5);
  auto box = all.narrow(1, 0, 4 * reg_max), cls = all.narrow(1, 4 * reg_max, nc);
  auto integral = dfl;  // a non-const handle: Module::forward is not const
  auto distances = integral->forward(box);
  auto xywh = boxes::dist2bbox(distances, points.transpose(0, 1).unsqueeze(0), /*xywh=*/true, /*dim=*/1) *
              strides.transpose(0, 1);
  return torch::cat({xywh, cls.sigmoid()}, 1);
}

void DetectImpl::bias_init() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < stride.size(); ++i) {
    YOLO_CHECK(stride[i] > 0, "Detect::bias_init needs the strides; build the head inside a YoloModel");
    auto box_conv = cv2[i]->as<torch::nn::Sequential>()->ptr(2)->as<torch::nn::Conv2d>();
    auto cls_conv = cv3[i]->as<torch::nn::Sequential>()->ptr(2)->as<torch::nn::Conv2d>();
    box_conv->bias.fill_(1.0);
    // About 5 objects per 640x640 image spread over nc classes and (640/s)^2 cells.
    cls_conv->bias.fill_(std::log(5.0 / static_cast<double>(nc) / std::pow(640.0 / stride[i], 2)));
  }
}

ClassifyImpl::ClassifyImpl(int64_t c1, int64_t c2, int64_t k, int64_t s, std::optional<int64_t> p, int64_t g) {
  constexpr int64_t hidden = 1280;  // EfficientNet-B0's width, as Ultralytics
  conv = register_module("conv", Conv(ConvOptions(c1, hidden, k).stride(s).padding(p).groups(g)));
  pool = register_module("pool", torch::nn::AdaptiveAvgPool2d(1));
  drop = register_module("drop", torch::nn::Dropout(torch::nn::DropoutOptions(0.0)));
  linear = register_module("linear", torch::nn::Linear(hidden, c2));
}

torch::Tensor ClassifyImpl::forward(const std::vector<torch::Tensor>& xs) {
  auto x = xs.size() == 1 ? xs[0] : torch::cat(xs, 1);
  auto features = conv->forward(x);
  auto pooled = pool->forward(features);
  detail::tally_adaptive_pool(features, pooled);
  auto logits = linear->forward(drop->forward(pooled.flatten(1)));
  detail::tally_linear(*linear, logits);
  return logits;
}

}  // namespace yolo::nn
