#include "yolo/nn/modules.h"

#include <cmath>
#include <numeric>

#include "nn/flops.h"
#include "utils/boxes.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {

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

Conv DWConv(int64_t c1, int64_t c2, int64_t k, int64_t s, int64_t d, bool act) {
  return Conv(ConvOptions(c1, c2, k).stride(s).groups(std::gcd(c1, c2)).dilation(d).act(act));
}

// ---- CSP blocks ----------------------------------------------------------------------------
namespace {
const std::pair<int64_t, int64_t> kThreeByThree{3, 3};  // bottleneck kernels
}  // namespace

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
    : C2fImpl(c1, c2, n, expansion, [&](int64_t hidden) {
        return torch::nn::AnyModule(Bottleneck(hidden, hidden, shortcut, groups, kThreeByThree, 1.0));
      }) {}

C2fImpl::C2fImpl(int64_t c1, int64_t c2, int64_t n, double expansion, const BlockFactory& make_block)
    : hidden(static_cast<int64_t>(static_cast<double>(c2) * expansion)) {
  cv1 = register_module("cv1", Conv(ConvOptions(c1, 2 * hidden, 1)));
  cv2 = register_module("cv2", Conv(ConvOptions((2 + n) * hidden, c2, 1)));
  m = register_module("m", torch::nn::ModuleList());
  for (int64_t i = 0; i < n; ++i) {
    blocks_.push_back(make_block(hidden));
    m->push_back(blocks_.back().ptr());
  }
}

torch::Tensor C2fImpl::forward(const torch::Tensor& x) {
  // Both halves of cv1 go to the output; each block adds one more chunk.
  auto chunks = cv1->forward(x).chunk(2, 1);
  std::vector<torch::Tensor> y(chunks.begin(), chunks.end());
  for (auto& block : blocks_) y.push_back(block.forward(y.back()));
  return cv2->forward(torch::cat(y, 1));
}

C3Impl::C3Impl(int64_t c1, int64_t c2, int64_t n, bool shortcut, int64_t groups, double expansion,
               std::pair<int64_t, int64_t> kernels) {
  const auto hidden = static_cast<int64_t>(static_cast<double>(c2) * expansion);
  cv1 = register_module("cv1", Conv(ConvOptions(c1, hidden, 1)));
  cv2 = register_module("cv2", Conv(ConvOptions(c1, hidden, 1)));
  cv3 = register_module("cv3", Conv(ConvOptions(2 * hidden, c2, 1)));
  m = register_module("m", torch::nn::Sequential());
  for (int64_t i = 0; i < n; ++i) m->push_back(Bottleneck(hidden, hidden, shortcut, groups, kernels, 1.0));
}

torch::Tensor C3Impl::forward(const torch::Tensor& x) {
  return cv3->forward(torch::cat({m->forward(cv1->forward(x)), cv2->forward(x)}, 1));
}

C3k2Impl::C3k2Impl(int64_t c1, int64_t c2, int64_t n, bool c3k, double expansion, int64_t groups, bool shortcut)
    : C2fImpl(c1, c2, n, expansion, [&](int64_t hidden) {
        // Unlike C2f's, the plain bottlenecks halve their channels inside (expansion 0.5).
        return c3k ? torch::nn::AnyModule(C3k(hidden, hidden, 2, shortcut, groups))
                   : torch::nn::AnyModule(Bottleneck(hidden, hidden, shortcut, groups, kThreeByThree, 0.5));
      }) {}

// ---- attention -----------------------------------------------------------------------------
AttentionImpl::AttentionImpl(int64_t dim, int64_t num_heads_, double attn_ratio) : num_heads(num_heads_) {
  YOLO_CHECK(num_heads > 0 && dim % num_heads == 0, "Attention needs dim ({}) divisible by num_heads ({}) > 0", dim,
             num_heads);
  head_dim = dim / num_heads;
  key_dim = static_cast<int64_t>(static_cast<double>(head_dim) * attn_ratio);
  YOLO_CHECK(key_dim > 0, "Attention: attn_ratio {} leaves no key channels per head", attn_ratio);
  scale = 1.0 / std::sqrt(static_cast<double>(key_dim));
  const int64_t qkv_channels = dim + 2 * key_dim * num_heads;
  qkv = register_module("qkv", Conv(ConvOptions(dim, qkv_channels, 1).act(false)));
  proj = register_module("proj", Conv(ConvOptions(dim, dim, 1).act(false)));
  pe = register_module("pe", Conv(ConvOptions(dim, dim, 3).groups(dim).act(false)));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
  const auto batch = x.size(0), channels = x.size(1), height = x.size(2), width = x.size(3);
  const auto positions = height * width;
  // Per head, the qkv channels hold key_dim queries, key_dim keys and head_dim values.
  auto parts = qkv->forward(x).view({batch, num_heads, 2 * key_dim + head_dim, positions})
                   .split_with_sizes({key_dim, key_dim, head_dim}, 2);
  const auto& q = parts[0];
  const auto& k = parts[1];
  const auto& v = parts[2];
  auto weights = (q.transpose(-2, -1).matmul(k) * scale).softmax(-1);  // [B, heads, N, N]
  auto attended = v.matmul(weights.transpose(-2, -1)).view({batch, channels, height, width});
  return proj->forward(attended + pe->forward(v.reshape({batch, channels, height, width})));
}

PSABlockImpl::PSABlockImpl(int64_t c, double attn_ratio, int64_t num_heads, bool shortcut) : add(shortcut) {
  attn = register_module("attn", Attention(c, num_heads, attn_ratio));
  ffn = register_module("ffn", torch::nn::Sequential(Conv(ConvOptions(c, 2 * c, 1)),
                                                     Conv(ConvOptions(2 * c, c, 1).act(false))));
}

torch::Tensor PSABlockImpl::forward(const torch::Tensor& x) {
  auto y = add ? x + attn->forward(x) : attn->forward(x);
  return add ? y + ffn->forward(y) : ffn->forward(y);
}

C2PSAImpl::C2PSAImpl(int64_t c1, int64_t c2, int64_t n, double expansion)
    : hidden(static_cast<int64_t>(static_cast<double>(c1) * expansion)) {
  YOLO_CHECK(c1 == c2, "C2PSA keeps its channels: input {} and output {} must be equal", c1, c2);
  YOLO_CHECK(hidden >= 64, "C2PSA needs at least 64 hidden channels (one attention head per 64), got {} of {}",
             hidden, c1);
  cv1 = register_module("cv1", Conv(ConvOptions(c1, 2 * hidden, 1)));
  cv2 = register_module("cv2", Conv(ConvOptions(2 * hidden, c1, 1)));
  m = register_module("m", torch::nn::Sequential());
  // One head per 64 channels, as Ultralytics.
  for (int64_t i = 0; i < n; ++i) m->push_back(PSABlock(hidden, 0.5, hidden / 64));
}

torch::Tensor C2PSAImpl::forward(const torch::Tensor& x) {
  auto halves = cv1->forward(x).split(hidden, 1);
  return cv2->forward(torch::cat({halves[0], m->forward(halves[1])}, 1));
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

namespace {

/// An nn::Sequential that can sit inside another: LibTorch stores children as AnyModule, which needs
/// a forward that is not a template (SequentialImpl's is). Ultralytics nests nn.Sequentials in
/// YOLO11's class branch (`cv3.0.0.1.conv.weight`).
class NestedSequentialImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(NestedSequential);

}  // namespace

DetectImpl::DetectImpl(int64_t nc_, const std::vector<int64_t>& channels, bool legacy_) : nc(nc_), legacy(legacy_) {
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
    auto logits = torch::nn::Conv2d(torch::nn::Conv2dOptions(cls_channels, nc, 1));
    if (legacy) {
      cv3->push_back(torch::nn::Sequential(Conv(ConvOptions(c, cls_channels, 3)),
                                           Conv(ConvOptions(cls_channels, cls_channels, 3)), logits));
    } else {
      cv3->push_back(torch::nn::Sequential(
          NestedSequential(DWConv(c, c, 3), Conv(ConvOptions(c, cls_channels, 1))),
          NestedSequential(DWConv(cls_channels, cls_channels, 3), Conv(ConvOptions(cls_channels, cls_channels, 1))),
          logits));
    }
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

}  // namespace nn
YOLO_END_NAMESPACE
