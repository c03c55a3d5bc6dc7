#pragma once
// The building blocks of YOLOv8 and YOLO11 models, as LibTorch modules whose submodule names are
// Ultralytics' own, so that parameter names match Ultralytics checkpoints
// (`conv.weight`, `bn.running_mean`, `m.0.cv1.conv.weight`, `cv2.0.2.bias`, `dfl.conv.weight`).
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {

/// "Same" padding for a kernel `k` with dilation `d`, as Ultralytics' autopad.
int64_t autopad(int64_t k, std::optional<int64_t> padding = std::nullopt, int64_t dilation = 1);

/// The SiLU every Conv applies. One instance is shared by all Conv modules, as Ultralytics'
/// `Conv.default_act` class attribute, so that module counts agree with PyTorch's deduplicating
/// `model.modules()`. It holds no state.
torch::nn::SiLU default_activation();

// ---- Conv ----------------------------------------------------------------------------------
struct ConvOptions {
  ConvOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size = 1)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel_size);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(std::optional<int64_t>, padding) = std::nullopt;  ///< none: autopad
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(int64_t, dilation) = 1;
  TORCH_ARG(bool, act) = true;  ///< SiLU when true, identity otherwise
};

/// Conv2d (no bias) -> BatchNorm2d -> SiLU. Children: conv, bn, act.
class ConvImpl : public torch::nn::Module {
 public:
  explicit ConvImpl(const ConvOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  /// Folds the batch norm's running statistics into the convolution (which gains a bias) and
  /// removes `bn`, as Ultralytics' fuse_conv_and_bn: faster inference, not for training.
  void fuse();
  bool is_fused() const { return bn.is_empty(); }

  ConvOptions options;
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::AnyModule act;
};
TORCH_MODULE(Conv);

/// Ultralytics' DWConv: a Conv with groups = gcd(c1, c2), depthwise when c1 == c2. It is a Conv in
/// every other respect (children conv, bn, act), so it needs no class of its own.
Conv DWConv(int64_t c1, int64_t c2, int64_t k = 1, int64_t s = 1, int64_t d = 1, bool act = true);

// ---- CSP blocks ----------------------------------------------------------------------------
/// cv1 (k1) -> cv2 (k2), plus the input when `shortcut` and the channels agree.
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(int64_t c1, int64_t c2, bool shortcut = true, int64_t groups = 1,
                 std::pair<int64_t, int64_t> kernels = {3, 3}, double expansion = 0.5);
  torch::Tensor forward(const torch::Tensor& x);

  Conv cv1{nullptr}, cv2{nullptr};
  bool add;
};
TORCH_MODULE(Bottleneck);

/// CSP bottleneck with 2 convolutions, YOLOv8's main block: cv1 splits into two halves, each of
/// the n blocks refines the last chunk, cv2 merges all chunks. Children: cv1, cv2, m (a list).
class C2fImpl : public torch::nn::Module {
 public:
  C2fImpl(int64_t c1, int64_t c2, int64_t n = 1, bool shortcut = false, int64_t groups = 1, double expansion = 0.5);
  torch::Tensor forward(const torch::Tensor& x);

  int64_t hidden;
  Conv cv1{nullptr}, cv2{nullptr};
  torch::nn::ModuleList m{nullptr};

 protected:
  /// Builds one block of `hidden` channels in and out.
  using BlockFactory = std::function<torch::nn::AnyModule(int64_t hidden)>;
  /// For subclasses with other blocks than C2f's bottlenecks (C3k2).
  C2fImpl(int64_t c1, int64_t c2, int64_t n, double expansion, const BlockFactory& make_block);

 private:
  std::vector<torch::nn::AnyModule> blocks_;  // the children of `m`, callable
};
TORCH_MODULE(C2f);

/// CSP bottleneck with 3 convolutions (YOLOv5's). Children: cv1, cv2, cv3, m (a sequential).
class C3Impl : public torch::nn::Module {
 public:
  /// `kernels`: the bottlenecks' two kernel sizes.
  C3Impl(int64_t c1, int64_t c2, int64_t n = 1, bool shortcut = true, int64_t groups = 1, double expansion = 0.5,
         std::pair<int64_t, int64_t> kernels = {1, 3});
  torch::Tensor forward(const torch::Tensor& x);

  Conv cv1{nullptr}, cv2{nullptr}, cv3{nullptr};
  torch::nn::Sequential m{nullptr};
};
TORCH_MODULE(C3);

/// YOLO11's C3 variant: its bottlenecks use k x k kernels in both convolutions.
class C3kImpl : public C3Impl {
 public:
  C3kImpl(int64_t c1, int64_t c2, int64_t n = 1, bool shortcut = true, int64_t groups = 1, double expansion = 0.5,
          int64_t k = 3)
      : C3Impl(c1, c2, n, shortcut, groups, expansion, {k, k}) {}
};
TORCH_MODULE(C3k);

/// YOLO11's main block: a C2f whose blocks are plain bottlenecks (expansion 0.5) or, with `c3k`,
/// C3k blocks of two bottlenecks each. Children: cv1, cv2, m (a list).
class C3k2Impl : public C2fImpl {
 public:
  C3k2Impl(int64_t c1, int64_t c2, int64_t n = 1, bool c3k = false, double expansion = 0.5, int64_t groups = 1,
           bool shortcut = true);
};
TORCH_MODULE(C3k2);

// ---- attention -----------------------------------------------------------------------------
/// Multi-head self-attention over the H*W positions, with a depthwise 3x3 convolution of the values
/// as positional encoding. Children: qkv, proj, pe.
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t num_heads = 8, double attn_ratio = 0.5);
  torch::Tensor forward(const torch::Tensor& x);

  int64_t num_heads, head_dim, key_dim;
  double scale;  ///< key_dim^-1/2
  Conv qkv{nullptr}, proj{nullptr}, pe{nullptr};
};
TORCH_MODULE(Attention);

/// Attention then a two-layer 1x1 feed-forward, each with a residual when `shortcut`.
/// Children: attn, ffn (a sequential).
class PSABlockImpl : public torch::nn::Module {
 public:
  PSABlockImpl(int64_t c, double attn_ratio = 0.5, int64_t num_heads = 4, bool shortcut = true);
  torch::Tensor forward(const torch::Tensor& x);

  Attention attn{nullptr};
  torch::nn::Sequential ffn{nullptr};
  bool add;
};
TORCH_MODULE(PSABlock);

/// YOLO11's attention block: cv1 splits into two halves, n PSABlocks refine the second, cv2
/// merges them. Needs c1 == c2. Children: cv1, cv2, m (a sequential).
class C2PSAImpl : public torch::nn::Module {
 public:
  C2PSAImpl(int64_t c1, int64_t c2, int64_t n = 1, double expansion = 0.5);
  torch::Tensor forward(const torch::Tensor& x);

  int64_t hidden;
  Conv cv1{nullptr}, cv2{nullptr};
  torch::nn::Sequential m{nullptr};
};
TORCH_MODULE(C2PSA);

// ---- spatial pyramid pooling ---------------------------------------------------------------
/// Fast SPP: one max-pool applied three times in a row. Children: cv1, cv2, m.
class SPPFImpl : public torch::nn::Module {
 public:
  SPPFImpl(int64_t c1, int64_t c2, int64_t k = 5);
  torch::Tensor forward(const torch::Tensor& x);

  Conv cv1{nullptr}, cv2{nullptr};
  torch::nn::MaxPool2d m{nullptr};
};
TORCH_MODULE(SPPF);

/// SPP with parallel max-pools of kernels `ks`. Children: cv1, cv2, m (a list).
class SPPImpl : public torch::nn::Module {
 public:
  SPPImpl(int64_t c1, int64_t c2, std::vector<int64_t> ks = {5, 9, 13});
  torch::Tensor forward(const torch::Tensor& x);

  Conv cv1{nullptr}, cv2{nullptr};
  torch::nn::ModuleList m{nullptr};
};
TORCH_MODULE(SPP);

// ---- plumbing ------------------------------------------------------------------------------
/// Concatenates its inputs along `dimension`.
class ConcatImpl : public torch::nn::Module {
 public:
  explicit ConcatImpl(int64_t dimension = 1) : dimension(dimension) {}
  torch::Tensor forward(const std::vector<torch::Tensor>& xs);

  int64_t dimension;
};
TORCH_MODULE(Concat);

// ---- heads ---------------------------------------------------------------------------------
/// Distribution Focal Loss integral: the expectation of a softmax over `c1` bins. Its 1x1 conv
/// holds the fixed weights 0..c1-1 and is not trained.
class DFLImpl : public torch::nn::Module {
 public:
  explicit DFLImpl(int64_t c1 = 16);
  /// [B, 4*c1, A] -> [B, 4, A]
  torch::Tensor forward(const torch::Tensor& x);

  int64_t c1;
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(DFL);

/// Detection head: per level a box branch (cv2, 4*reg_max distance bins) and a class branch
/// (cv3, nc logits). Children: cv2, cv3, dfl. The `legacy` head (YOLOv3/5/8/9) has two 3x3 Convs
/// in its class branch; YOLO11's has two depthwise-3x3-then-1x1 pairs (cv3.i.0.0 ... cv3.i.1.1).
class DetectImpl : public torch::nn::Module {
 public:
  DetectImpl(int64_t nc, const std::vector<int64_t>& channels, bool legacy = true);

  /// Raw per-level outputs [B, 4*reg_max + nc, H, W], as Ultralytics returns in training.
  std::vector<torch::Tensor> forward(std::vector<torch::Tensor> x);
  /// Raw outputs -> [B, 4 + nc, A]: boxes as (cx, cy, w, h) in input pixels, then sigmoid scores.
  torch::Tensor decode(const std::vector<torch::Tensor>& raw) const;
  /// Ultralytics' prior: box bias 1, class bias log(5 / nc / (640 / stride)^2). Needs `stride`.
  void bias_init();

  int64_t nc;
  bool legacy;
  int64_t reg_max = 16;
  std::vector<double> stride;  ///< per level, set by the model from a forward pass
  torch::nn::ModuleList cv2{nullptr}, cv3{nullptr};
  DFL dfl{nullptr};
};
TORCH_MODULE(Detect);

/// Classification head: Conv -> global average pool -> dropout -> linear. Returns logits;
/// the model applies softmax for inference. Children: conv, pool, drop, linear.
class ClassifyImpl : public torch::nn::Module {
 public:
  ClassifyImpl(int64_t c1, int64_t c2, int64_t k = 1, int64_t s = 1, std::optional<int64_t> p = std::nullopt,
               int64_t g = 1);
  torch::Tensor forward(const std::vector<torch::Tensor>& xs);

  Conv conv{nullptr};
  torch::nn::AdaptiveAvgPool2d pool{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(Classify);

}  // namespace nn
YOLO_END_NAMESPACE
