#include "export/onnx/emitters.h"

#include <algorithm>
#include <type_traits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nn/torchvision.h"
#include "utils/boxes.h"
#include "utils/torch_compat.h"
#include "yolo/nn/model.h"
#include "yolo/nn/modules.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {
namespace {

const std::string& single_input(const Inputs& x, const torch::nn::Module& module) {
  YOLO_CHECK(x.size() == 1, "ONNX export: {} takes one input, got {}", module.name(), x.size());
  return x.front();
}

std::vector<int64_t> pair_of(const torch::ExpandingArray<2>& values) { return {(*values)[0], (*values)[1]}; }

/// Split along `axis` into pieces of `sizes`. Equal pieces are one Split (its sizes an attribute up to
/// opset 12, an input from 13); unequal ones are Slices, which OpenCV 4.6's DNN reads where it does not
/// read a Split's sizes input.
std::vector<std::string> split(Graph& g, const std::string& x, int64_t axis, const std::vector<int64_t>& sizes) {
  const bool equal = std::all_of(sizes.begin(), sizes.end(), [&](int64_t size) { return size == sizes.front(); });
  if (!equal) {
    std::vector<std::string> pieces;
    int64_t start = 0;
    for (auto size : sizes) {
      pieces.push_back(g.op("Slice", {x, g.ints({start}), g.ints({start + size}), g.ints({axis})}));
      start += size;
    }
    return pieces;
  }
  const int outputs = static_cast<int>(sizes.size());
  if (g.opset() < 13) return g.add("Split", {x}, {{"axis", axis}, {"split", sizes}}, outputs);
  return g.add("Split", {x, g.ints(sizes)}, {{"axis", axis}}, outputs);
}

/// A 2-D convolution, with a following batch norm (eval statistics) folded into its weights.
std::string conv_bn(Graph& g, const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl* bn,
                    const std::string& x) {
  const auto& o = conv.options;
  YOLO_CHECK(!o.transposed(), "ONNX export: transposed convolutions are not supported");
  YOLO_CHECK(torch::enumtype::get_enum_name(o.padding_mode()) == "kZeros",
             "ONNX export: convolution padding_mode={} is not supported (zeros only)",
             torch::enumtype::get_enum_name(o.padding_mode()));
  const auto padding = compat::explicit_conv_padding(o);
  YOLO_CHECK(padding.has_value(), "ONNX export: padding=\"valid\"/\"same\" convolutions are not supported");

  torch::NoGradGuard no_grad;
  auto weight = conv.weight.to(torch::kDouble);
  auto bias = conv.bias.defined() ? conv.bias.to(torch::kDouble) : torch::zeros({o.out_channels()}, torch::kDouble);
  if (bn != nullptr) {
    // bn(conv(x)) = scale * (conv(x) - mean) + beta with scale = gamma / sqrt(var + eps), folded in
    // double precision so that the fp32 weights are the closest to the unfused computation.
    const auto scale = bn->weight.to(torch::kDouble) / torch::sqrt(bn->running_var.to(torch::kDouble) + bn->options.eps());
    weight = weight * scale.view({-1, 1, 1, 1});
    bias = (bias - bn->running_mean.to(torch::kDouble)) * scale + bn->bias.to(torch::kDouble);
  }
  const auto& pad = *padding;
  return g.op("Conv", {x, g.weight("weight", weight.to(torch::kFloat)), g.weight("bias", bias.to(torch::kFloat))},
              {{"kernel_shape", pair_of(o.kernel_size())},
               {"strides", pair_of(o.stride())},
               {"pads", {pad[0], pad[1], pad[0], pad[1]}},
               {"dilations", pair_of(o.dilation())},
               {"group", o.groups()}});
}

// ---- LibTorch modules ----------------------------------------------------------------------

std::string emit_conv2d(Graph& g, const torch::nn::Conv2dImpl& m, const Inputs& x) {
  return conv_bn(g, m, nullptr, single_input(x, m));
}

std::string emit_batch_norm(Graph& g, const torch::nn::BatchNorm2dImpl& m, const Inputs& x) {
  return g.op("BatchNormalization",
              {single_input(x, m), g.weight("weight", m.weight), g.weight("bias", m.bias),
               g.weight("running_mean", m.running_mean), g.weight("running_var", m.running_var)},
              {{"epsilon", m.options.eps()}});
}

std::string emit_silu(Graph& g, const torch::nn::SiLUImpl& m, const Inputs& x) {
  const auto& input = single_input(x, m);
  return g.op("Mul", {input, g.op("Sigmoid", {input})});
}

std::string emit_relu(Graph& g, const torch::nn::ReLUImpl& m, const Inputs& x) {
  return g.op("Relu", {single_input(x, m)});
}

std::string emit_identity(Graph&, const torch::nn::IdentityImpl& m, const Inputs& x) { return single_input(x, m); }

/// Dropout is the identity at inference.
std::string emit_dropout(Graph&, const torch::nn::DropoutImpl& m, const Inputs& x) { return single_input(x, m); }

std::string emit_max_pool(Graph& g, const torch::nn::MaxPool2dImpl& m, const Inputs& x) {
  const auto& o = m.options;
  const auto pad = pair_of(o.padding());
  return g.op("MaxPool", {single_input(x, m)},
              {{"kernel_shape", pair_of(o.kernel_size())},
               {"strides", pair_of(o.stride())},
               {"pads", {pad[0], pad[1], pad[0], pad[1]}},
               {"dilations", pair_of(o.dilation())},
               {"ceil_mode", o.ceil_mode() ? 1 : 0}});
}

std::string emit_adaptive_avg_pool(Graph& g, const torch::nn::AdaptiveAvgPool2dImpl& m, const Inputs& x) {
  const auto& size = *m.options.output_size();
  YOLO_CHECK(size[0] == 1 && size[1] == 1, "ONNX export: AdaptiveAvgPool2d is exported for an output size of 1 only");
  return g.op("GlobalAveragePool", {single_input(x, m)});
}

/// Linear on [B, in] -> [B, out] as Gemm with the weight transposed.
std::string emit_linear(Graph& g, const torch::nn::LinearImpl& m, const Inputs& x) {
  std::vector<std::string> inputs{single_input(x, m), g.weight("weight", m.weight)};
  if (m.bias.defined()) inputs.push_back(g.weight("bias", m.bias));
  return g.op("Gemm", inputs, {{"transB", 1}});
}

std::string emit_upsample(Graph& g, const torch::nn::UpsampleImpl& m, const Inputs& x) {
  const auto& o = m.options;
  YOLO_CHECK(o.scale_factor().has_value() && !o.size().has_value(),
             "ONNX export: Upsample is exported with a scale factor only, not a fixed size");
  const auto& factor = *o.scale_factor();
  const double fy = factor[0], fx = factor.size() > 1 ? factor[1] : factor[0];
  const std::string mode = torch::enumtype::get_enum_name(o.mode());
  std::vector<Attribute> attributes;
  if (mode == "kNearest") {
    // PyTorch's nearest: source index floor(dst * in / out).
    attributes = {{"mode", "nearest"}, {"coordinate_transformation_mode", "asymmetric"}, {"nearest_mode", "floor"}};
  } else if (mode == "kBilinear") {
    const bool align = o.align_corners().value_or(false);
    attributes = {{"mode", "linear"},
                  {"coordinate_transformation_mode", align ? "align_corners" : "pytorch_half_pixel"}};
  } else {
    YOLO_FAIL("ONNX export: Upsample mode {} is not supported (nearest, bilinear)", mode);
  }
  // roi is a required input up to opset 12 and ignored by these modes: an empty one works in every opset.
  const auto roi = g.fp32_constant("roi", torch::empty({0}));
  const auto scales = g.fp32_constant("scales", torch::tensor({1.0, 1.0, fy, fx}));
  return g.op("Resize", {single_input(x, m), roi, scales}, attributes);
}

/// Sequential, and the ModuleList in which a repeated YAML row keeps its copies: children in a chain.
template <typename Container>
std::string emit_chain(Graph& g, const Container& m, const Inputs& x) {
  auto y = single_input(x, m);
  for (const auto& child : m.named_children()) y = emit_child(g, child.key(), *child.value(), {y});
  return y;
}

// ---- YOLO modules --------------------------------------------------------------------------

std::string emit_conv(Graph& g, const nn::ConvImpl& m, const Inputs& x) {
  std::string y;
  {
    ScopedName scope(g, "conv");  // folded weights keep the fused model's names: model.0.conv.weight/bias
    y = conv_bn(g, *m.conv, m.is_fused() ? nullptr : m.bn.get(), single_input(x, m));
  }
  return emit_child(g, "act", *m.act.ptr(), {y});
}

std::string emit_bottleneck(Graph& g, const nn::BottleneckImpl& m, const Inputs& x) {
  const auto& input = single_input(x, m);
  auto y = emit_child(g, "cv2", *m.cv2, {emit_child(g, "cv1", *m.cv1, {input})});
  return m.add ? g.op("Add", {input, y}) : y;
}

std::string emit_c2f(Graph& g, const nn::C2fImpl& m, const Inputs& x) {
  auto halves = split(g, emit_child(g, "cv1", *m.cv1, x), 1, {m.hidden, m.hidden});
  std::vector<std::string> y(halves.begin(), halves.end());
  for (size_t i = 0; i < m.m->size(); ++i) y.push_back(emit_child(g, fmt::format("m.{}", i), *m.m->ptr(i), {y.back()}));
  return emit_child(g, "cv2", *m.cv2, {g.op("Concat", y, {{"axis", 1}})});
}

std::string emit_c3(Graph& g, const nn::C3Impl& m, const Inputs& x) {
  const auto& input = single_input(x, m);
  std::string a;
  {
    ScopedName scope(g, "m");
    a = emit_chain(g, *m.m, {emit_child(g, "cv1", *m.cv1, {input})});
  }
  const auto b = emit_child(g, "cv2", *m.cv2, {input});
  return emit_child(g, "cv3", *m.cv3, {g.op("Concat", {a, b}, {{"axis", 1}})});
}

/// Multi-head self-attention over the H*W positions, as AttentionImpl::forward: the sizes that depend on
/// the input come from its shape at run time (constant-folded by runtimes for a fixed input size).
std::string emit_attention(Graph& g, const nn::AttentionImpl& m, const Inputs& x) {
  const auto& input = single_input(x, m);
  const auto shape = g.op("Shape", {input});  // [B, C, H, W]
  const auto heads = g.op("Reshape", {emit_child(g, "qkv", *m.qkv, {input}),
                                      g.ints({0, m.num_heads, 2 * m.key_dim + m.head_dim, -1})});
  const auto qkv = split(g, heads, 2, {m.key_dim, m.key_dim, m.head_dim});
  const auto& q = qkv[0];
  const auto& k = qkv[1];
  const auto& v = qkv[2];
  // (q^T * scale) k rather than (q^T k) * scale: OpenCV 4.6's DNN fuses a Mul that follows a MatMul
  // into it and loses the factor. The two differ by rounding only.
  const auto scaled = g.op("Mul", {g.op("Transpose", {q}, {{"perm", {0, 1, 3, 2}}}),
                                   g.float_constant("scale", torch::tensor({m.scale}))});
  const auto scores = g.op("MatMul", {scaled, k});
  const auto weights = g.op("Softmax", {scores}, {{"axis", -1}});  // the last axis: the same in every opset
  const auto attended =
      g.op("Reshape", {g.op("MatMul", {v, g.op("Transpose", {weights}, {{"perm", {0, 1, 3, 2}}})}), shape});
  const auto position = emit_child(g, "pe", *m.pe, {g.op("Reshape", {v, shape})});
  return emit_child(g, "proj", *m.proj, {g.op("Add", {attended, position})});
}

std::string emit_psa_block(Graph& g, const nn::PSABlockImpl& m, const Inputs& x) {
  const auto& input = single_input(x, m);
  auto y = emit_child(g, "attn", *m.attn, {input});
  if (m.add) y = g.op("Add", {input, y});
  const auto z = emit_child(g, "ffn", *m.ffn, {y});
  return m.add ? g.op("Add", {y, z}) : z;
}

std::string emit_c2psa(Graph& g, const nn::C2PSAImpl& m, const Inputs& x) {
  const auto halves = split(g, emit_child(g, "cv1", *m.cv1, x), 1, {m.hidden, m.hidden});
  const auto refined = emit_child(g, "m", *m.m, {halves[1]});
  return emit_child(g, "cv2", *m.cv2, {g.op("Concat", {halves[0], refined}, {{"axis", 1}})});
}

std::string emit_sppf(Graph& g, const nn::SPPFImpl& m, const Inputs& x) {
  std::vector<std::string> y{emit_child(g, "cv1", *m.cv1, x)};
  for (int i = 0; i < 3; ++i) y.push_back(emit_child(g, "m", *m.m, {y.back()}));
  return emit_child(g, "cv2", *m.cv2, {g.op("Concat", y, {{"axis", 1}})});
}

std::string emit_spp(Graph& g, const nn::SPPImpl& m, const Inputs& x) {
  const auto y = emit_child(g, "cv1", *m.cv1, x);
  std::vector<std::string> pooled{y};
  for (size_t i = 0; i < m.m->size(); ++i) pooled.push_back(emit_child(g, fmt::format("m.{}", i), *m.m->ptr(i), {y}));
  return emit_child(g, "cv2", *m.cv2, {g.op("Concat", pooled, {{"axis", 1}})});
}

std::string emit_concat(Graph& g, const nn::ConcatImpl& m, const Inputs& x) {
  return g.op("Concat", x, {{"axis", m.dimension}});
}

/// [B, 4*c1, A] -> [B, 4, A]: softmax over the c1 bins, then their expectation. The bins go last so
/// that Softmax means the same in every opset (before 13 it normalised over all axes from `axis` on).
std::string emit_dfl(Graph& g, const nn::DFLImpl& m, const Inputs& x) {
  const auto bins = g.op("Reshape", {single_input(x, m), g.ints({0, 4, m.c1, -1})});
  const auto probabilities = g.op("Softmax", {g.op("Transpose", {bins}, {{"perm", {0, 1, 3, 2}}})}, {{"axis", -1}});
  std::string expectation;
  {
    ScopedName scope(g, "conv");
    expectation = g.op("MatMul", {probabilities, g.weight("weight", m.conv->weight.view({m.c1, 1}))});
  }
  return g.op("Reshape", {expectation, g.ints({0, 4, -1})});
}

/// Anchor points [1, 2, h*w] (cell centres in grid units) and strides [1, 1, h*w] of one level whose
/// size is only known at run time (dynamic=True): computed from the feature map's shape.
std::pair<std::string, std::string> anchors_of_shape(Graph& g, const std::string& feature, double stride) {
  const auto type = onnx_element_type(g.float_type());
  const auto shape = g.op("Shape", {feature});
  const auto zero = g.scalar_int(0), one = g.scalar_int(1);
  auto centres = [&](int64_t axis) {
    const auto count = g.op("Gather", {shape, g.scalar_int(axis)}, {{"axis", 0}});
    const auto index = g.op("Cast", {g.op("Range", {zero, count, one})}, {{"to", static_cast<int64_t>(type)}});
    return g.op("Add", {index, g.float_constant("half", torch::tensor({0.5}))});
  };
  const auto grid = g.op("Gather", {shape, g.ints({2, 3})}, {{"axis", 0}});  // [h, w]
  const auto x = g.op("Expand", {g.op("Reshape", {centres(3), g.ints({1, -1})}), grid});
  const auto y = g.op("Expand", {g.op("Reshape", {centres(2), g.ints({-1, 1})}), grid});
  const auto px = g.op("Reshape", {x, g.ints({1, 1, -1})});
  const auto py = g.op("Reshape", {y, g.ints({1, 1, -1})});
  const auto points = g.op("Concat", {px, py}, {{"axis", 1}});
  const auto strides =
      g.op("Expand", {g.float_constant("stride", torch::full({1, 1, 1}, stride)), g.op("Shape", {px})});
  return {points, strides};
}

/// Per level: box branch (cv2) and class branch (cv3); then, as Detect::decode, the DFL distances turned
/// into (cx, cy, w, h) in input pixels and sigmoid class scores: [B, 4 + nc, A].
std::string emit_detect(Graph& g, const nn::DetectImpl& m, const Inputs& x) {
  YOLO_CHECK(x.size() == m.stride.size(), "ONNX export: Detect expects {} feature maps, got {}", m.stride.size(),
             x.size());
  std::vector<std::string> boxes, scores, points, strides;
  std::vector<torch::Tensor> level_shapes;
  for (size_t i = 0; i < x.size(); ++i) {
    const auto box = emit_child(g, fmt::format("cv2.{}", i), *m.cv2->ptr(i), {x[i]});
    const auto cls = emit_child(g, fmt::format("cv3.{}", i), *m.cv3->ptr(i), {x[i]});
    boxes.push_back(g.op("Reshape", {box, g.ints({0, 4 * m.reg_max, -1})}));
    scores.push_back(g.op("Reshape", {cls, g.ints({0, m.nc, -1})}));
    if (g.options().dynamic) {
      auto [p, s] = anchors_of_shape(g, x[i], m.stride[i]);
      points.push_back(p);
      strides.push_back(s);
    } else {
      const auto stride = static_cast<int64_t>(m.stride[i]);
      YOLO_CHECK(g.options().height % stride == 0 && g.options().width % stride == 0,
                 "ONNX export: imgsz {}x{} is not a multiple of the stride {}", g.options().height, g.options().width,
                 stride);
      level_shapes.push_back(torch::empty({1, 1, g.options().height / stride, g.options().width / stride}));
    }
  }
  const auto box = g.op("Concat", boxes, {{"axis", 2}});
  const auto cls = g.op("Concat", scores, {{"axis", 2}});
  std::string anchor_points, anchor_strides;
  if (g.options().dynamic) {
    anchor_points = g.op("Concat", points, {{"axis", 2}});
    anchor_strides = g.op("Concat", strides, {{"axis", 2}});
  } else {
    // A fixed input size fixes the anchors: constants, as Ultralytics' export stores them. Their shapes
    // are those OpenCV 4.6's DNN can combine: it adds and subtracts only tensors of equal shape (the
    // anchors repeat over the batch), and multiplies by a [1, C, A] constant only (the strides repeat over
    // the 4 coordinates).
    auto [p, s] = boxes::make_anchors(level_shapes, m.stride, 0.5);
    anchor_points = g.float_constant("anchors", p.transpose(0, 1).unsqueeze(0).expand({g.options().batch, 2, -1}));
    anchor_strides = g.float_constant("strides", s.transpose(0, 1).unsqueeze(0).expand({1, 4, -1}));
  }
  const auto distances = emit_child(g, "dfl", *m.dfl, {box});
  // boxes::dist2bbox with xywh=true, operation for operation.
  const auto lt_rb = split(g, distances, 1, {2, 2});
  const auto x1y1 = g.op("Sub", {anchor_points, lt_rb[0]});
  const auto x2y2 = g.op("Add", {anchor_points, lt_rb[1]});
  const auto centre = g.op("Div", {g.op("Add", {x1y1, x2y2}), g.float_constant("two", torch::tensor({2.0}))});
  const auto size = g.op("Sub", {x2y2, x1y1});
  const auto xywh = g.op("Mul", {g.op("Concat", {centre, size}, {{"axis", 1}}), anchor_strides});
  return g.op("Concat", {xywh, g.op("Sigmoid", {cls})}, {{"axis", 1}});
}

/// The classification head up to its logits (the model applies the softmax, as YoloModel::forward).
std::string emit_classify(Graph& g, const nn::ClassifyImpl& m, const Inputs& x) {
  const auto input = x.size() == 1 ? x.front() : g.op("Concat", x, {{"axis", 1}});
  const auto pooled = emit_child(g, "pool", *m.pool, {emit_child(g, "conv", *m.conv, {input})});
  const auto flat = emit_child(g, "drop", *m.drop, {g.op("Flatten", {pooled}, {{"axis", 1}})});
  return emit_child(g, "linear", *m.linear, {flat});
}

// ---- whole networks ------------------------------------------------------------------------

/// The child `name` of `module` as class M; a missing or other child is an error naming both.
template <typename M = torch::nn::Module>
const M& child(const torch::nn::Module& module, const std::string& name) {
  for (const auto& item : module.named_children()) {
    if (item.key() != name) continue;
    const auto* typed = dynamic_cast<const M*>(item.value().get());
    YOLO_CHECK(typed != nullptr, "ONNX export: {}'s child '{}' is a {}, not the expected {}", module.name(),
               name, item.value()->name(), c10::demangle(typeid(M).name()));
    return *typed;
  }
  YOLO_FAIL("ONNX export: {} has no child '{}'", module.name(), name);
}

bool has_child(const torch::nn::Module& module, const std::string& name) {
  const auto children = module.named_children();
  return children.find(name) != nullptr;
}

/// A YOLO model: every layer through its emitter, in the order and with the inputs of
/// YoloModelImpl::forward; the head's output is the model's (the writer adds classify's softmax).
std::string emit_yolo_model(Graph& g, const nn::YoloModelImpl& m, const Inputs& x) {
  const auto& layers = child<torch::nn::ModuleListImpl>(m, "model");  // children "0", "1", ... as Ultralytics'
  const auto& rows = m.spec().layers;
  YOLO_CHECK(layers.size() == rows.size(), "ONNX export: {} has {} layers for {} YAML rows", m.spec().source,
             layers.size(), rows.size());
  std::vector<std::string> outputs(rows.size());
  std::string previous = single_input(x, m);
  for (size_t i = 0; i < rows.size(); ++i) {
    Inputs inputs;
    for (auto f : rows[i].from) {
      // As the model builds them: -1 is the previous layer, other negatives count back from this row.
      const int64_t row = static_cast<int64_t>(i);
      inputs.push_back(f == -1 ? previous : outputs[static_cast<size_t>(f < 0 ? row + f : f)]);
    }
    previous = outputs[i] = emit_child(g, fmt::format("model.{}", i), *layers.ptr(i), inputs);
  }
  return previous;
}

/// torchvision's conv -> batch norm pair, folded into one Conv, in the scope of the convolution.
std::string conv_bn_child(Graph& g, const torch::nn::Module& parent, const std::string& conv, const std::string& bn,
                          const std::string& x) {
  ScopedName scope(g, conv);
  return conv_bn(g, child<torch::nn::Conv2dImpl>(parent, conv), &child<torch::nn::BatchNorm2dImpl>(parent, bn), x);
}

/// ResNet's BasicBlock or Bottleneck (children conv1, bn1, conv2, bn2[, conv3, bn3][, downsample]): the
/// convolutions with ReLU between them, plus the input or its projection, then ReLU.
std::string emit_residual_block(Graph& g, const torch::nn::Module& block, const std::string& x) {
  std::string out = x;
  for (int i = 1; has_child(block, fmt::format("conv{}", i)); ++i) {
    if (i > 1) out = g.op("Relu", {out});
    out = conv_bn_child(g, block, fmt::format("conv{}", i), fmt::format("bn{}", i), out);
  }
  std::string identity = x;
  if (has_child(block, "downsample")) {
    ScopedName scope(g, "downsample");
    identity = conv_bn_child(g, child(block, "downsample"), "0", "1", x);
  }
  return g.op("Relu", {g.op("Add", {out, identity})});
}

/// DenseNet's layer over the concatenation of its block's earlier outputs: BN-ReLU-1x1 conv (with norm2
/// folded in)-ReLU-3x3 conv. Dropout only trains.
std::string emit_dense_layer(Graph& g, const torch::nn::Module& layer, const std::vector<std::string>& earlier) {
  const auto input = earlier.size() == 1 ? earlier.front() : g.op("Concat", earlier, {{"axis", 1}});
  const auto normed = g.op("Relu", {emit_child(g, "norm1", child(layer, "norm1"), {input})});
  const auto bottleneck = g.op("Relu", {conv_bn_child(g, layer, "conv1", "norm2", normed)});
  return emit_child(g, "conv2", child(layer, "conv2"), {bottleneck});
}

/// A torchvision ResNet/ResNeXt/Wide ResNet or DenseNet as torchvision's forward computes it, read through
/// the children its state_dict names: up to the logits (the writer adds the softmax).
std::string emit_torchvision(Graph& g, const nn::TorchvisionClassifierImpl& m, const Inputs& x) {
  std::string y = single_input(x, m);
  if (!m.is_densenet()) {
    y = g.op("Relu", {conv_bn_child(g, m, "conv1", "bn1", y)});
    y = g.op("MaxPool", {y}, {{"kernel_shape", {3, 3}}, {"strides", {2, 2}}, {"pads", {1, 1, 1, 1}}});
    for (int stage = 1; stage <= 4; ++stage) {
      const auto name = fmt::format("layer{}", stage);
      for (const auto& block : child(m, name).named_children()) {
        ScopedName scope(g, name + "." + block.key());
        y = emit_residual_block(g, *block.value(), y);
      }
    }
  } else {
    ScopedName features_scope(g, "features");
    const auto& features = child(m, "features");
    for (const auto& item : features.named_children()) {
      const auto& name = item.key();
      const auto& part = *item.value();
      if (name == "norm0") continue;  // folded into conv0
      ScopedName scope(g, name);
      if (name == "conv0") {
        y = conv_bn(g, child<torch::nn::Conv2dImpl>(features, "conv0"), &child<torch::nn::BatchNorm2dImpl>(features, "norm0"),
                    y);
      } else if (name.rfind("denseblock", 0) == 0) {
        std::vector<std::string> outputs{y};
        for (const auto& layer : part.named_children()) {
          ScopedName layer_scope(g, layer.key());
          outputs.push_back(emit_dense_layer(g, *layer.value(), outputs));
        }
        y = g.op("Concat", outputs, {{"axis", 1}});
      } else if (name.rfind("transition", 0) == 0) {
        const auto normed = g.op("Relu", {emit_child(g, "norm", child(part, "norm"), {y})});
        y = g.op("AveragePool", {emit_child(g, "conv", child(part, "conv"), {normed})},
                 {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}});
      } else {
        y = emit(g, part, {y});  // relu0, pool0, norm5
      }
    }
    y = g.op("Relu", {y});
  }
  const auto pooled = g.op("Flatten", {g.op("GlobalAveragePool", {y})}, {{"axis", 1}});
  return emit_child(g, m.is_densenet() ? "classifier" : "fc", child(m, m.is_densenet() ? "classifier" : "fc"), {pooled});
}

/// A table entry: emitter `fn` for module class M, or for a subclass `Derived` whose forward is its base's
/// (C3k2 is a C2f with other blocks, C3k a C3 with other kernels).
template <typename Derived = void, typename M>
std::pair<const std::type_index, Emitter> entry(std::string (*fn)(Graph&, const M&, const Inputs&)) {
  using Class = std::conditional_t<std::is_void_v<Derived>, M, Derived>;
  static_assert(std::is_base_of_v<M, Class>, "an emitter takes the module's class or a base of it");
  return {std::type_index(typeid(Class)), [fn](Graph& g, const torch::nn::Module& m, const Inputs& x) {
            return fn(g, dynamic_cast<const Class&>(m), x);
          }};
}

}  // namespace

const std::unordered_map<std::type_index, Emitter>& emitters() {
  static const std::unordered_map<std::type_index, Emitter> table{
      // LibTorch modules
      entry(emit_conv2d),
      entry(emit_batch_norm),
      entry(emit_silu),
      entry(emit_relu),
      entry(emit_identity),
      entry(emit_dropout),
      entry(emit_max_pool),
      entry(emit_adaptive_avg_pool),
      entry(emit_linear),
      entry(emit_upsample),
      entry(emit_chain<torch::nn::SequentialImpl>),
      entry(emit_chain<torch::nn::ModuleListImpl>),
      // YOLO modules
      entry(emit_conv),
      entry(emit_bottleneck),
      entry(emit_c2f),
      entry<nn::C3k2Impl>(emit_c2f),
      entry(emit_c3),
      entry<nn::C3kImpl>(emit_c3),
      entry(emit_attention),
      entry(emit_psa_block),
      entry(emit_c2psa),
      entry(emit_sppf),
      entry(emit_spp),
      entry(emit_concat),
      entry(emit_dfl),
      entry(emit_detect),
      entry(emit_classify),
      // whole networks
      entry(emit_yolo_model),
      entry(emit_torchvision),
  };
  return table;
}

std::string emit(Graph& graph, const torch::nn::Module& module, const Inputs& inputs) {
  const auto found = emitters().find(std::type_index(typeid(module)));
  if (found != emitters().end()) return found->second(graph, module, inputs);
  // A Sequential subclass (YOLO11's nested class branch) still chains its children: SequentialImpl's
  // forward is a template that subclasses wrap, not replace.
  if (const auto* chain = dynamic_cast<const torch::nn::SequentialImpl*>(&module)) return emit_chain(graph, *chain, inputs);
  YOLO_FAIL("ONNX export: no emitter for module {} (at '{}'); exportable modules: {}", module.name(),
            graph.scope_path(), fmt::join(exportable_modules(), ", "));
}

std::string emit_child(Graph& graph, const std::string& name, const torch::nn::Module& module, const Inputs& inputs) {
  ScopedName scope(graph, name);
  return emit(graph, module, inputs);
}

std::vector<std::string> exportable_modules() {
  std::vector<std::string> names;
  for (const auto& entry : emitters()) {
    // "yolo::nn::ConvImpl" -> "Conv", "torch::nn::Conv2dImpl" -> "Conv2d"
    auto name = c10::demangle(entry.first.name());
    name = name.substr(name.rfind("::") == std::string::npos ? 0 : name.rfind("::") + 2);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, "Impl") == 0) name.resize(name.size() - 4);
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace exporter
YOLO_END_NAMESPACE
