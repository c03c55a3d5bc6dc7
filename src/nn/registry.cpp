#include "nn/registry.h"

#include <algorithm>
#include <cmath>

#include "yolo/nn/modules.h"
#include "yolo/utils/error.h"

namespace yolo::nn {
namespace detail {
namespace {

// ---- reading a row's arguments -------------------------------------------------------------
template <typename T>
const T* arg_as(const BuildContext& ctx, size_t i) {
  return i < ctx.row.args.size() ? std::get_if<T>(&ctx.row.args[i]) : nullptr;
}
bool has_arg(const BuildContext& ctx, size_t i) {
  return i < ctx.row.args.size() && !std::holds_alternative<std::monostate>(ctx.row.args[i]);
}

int64_t int_arg(const BuildContext& ctx, size_t i, std::optional<int64_t> fallback = std::nullopt) {
  if (!has_arg(ctx, i)) {
    YOLO_CHECK(fallback.has_value(), "{}: {} needs argument {} (an integer)", ctx.where, ctx.row.module, i);
    return *fallback;
  }
  const auto* value = arg_as<int64_t>(ctx, i);
  YOLO_CHECK(value, "{}: argument {} of {} must be an integer", ctx.where, i, ctx.row.module);
  return *value;
}
std::optional<int64_t> optional_int_arg(const BuildContext& ctx, size_t i) {
  if (!has_arg(ctx, i)) return std::nullopt;
  return int_arg(ctx, i);
}
double real_arg(const BuildContext& ctx, size_t i, double fallback) {
  if (!has_arg(ctx, i)) return fallback;
  if (const auto* integer = arg_as<int64_t>(ctx, i)) return static_cast<double>(*integer);
  const auto* value = arg_as<double>(ctx, i);
  YOLO_CHECK(value, "{}: argument {} of {} must be a number", ctx.where, i, ctx.row.module);
  return *value;
}
bool bool_arg(const BuildContext& ctx, size_t i, bool fallback) {
  if (!has_arg(ctx, i)) return fallback;
  if (const auto* integer = arg_as<int64_t>(ctx, i)) return *integer != 0;  // Python truthiness
  const auto* value = arg_as<bool>(ctx, i);
  YOLO_CHECK(value, "{}: argument {} of {} must be True or False", ctx.where, i, ctx.row.module);
  return *value;
}
std::vector<int64_t> int_list_arg(const BuildContext& ctx, size_t i, std::vector<int64_t> fallback) {
  if (!has_arg(ctx, i)) return fallback;
  if (const auto* integer = arg_as<int64_t>(ctx, i)) return {*integer};
  const auto* value = arg_as<std::vector<int64_t>>(ctx, i);
  YOLO_CHECK(value, "{}: argument {} of {} must be a list of integers", ctx.where, i, ctx.row.module);
  return *value;
}

int64_t single_input(const BuildContext& ctx) {
  YOLO_CHECK(ctx.input_channels.size() == 1, "{}: {} reads one layer, but 'from' lists {}", ctx.where,
             ctx.row.module, ctx.input_channels.size());
  return ctx.input_channels[0];
}

/// Output channels of the "base" modules: the first argument, scaled by the width multiple and
/// capped by max_channels — unless it is the class count (Classify's output).
int64_t scaled_out_channels(const BuildContext& ctx) {
  const int64_t c2 = int_arg(ctx, 0);
  if (c2 == ctx.spec.nc) return c2;
  return make_divisible(static_cast<double>(std::min(c2, ctx.spec.max_channels)) * ctx.spec.width_multiple, 8);
}

template <typename Holder>
BuiltLayer single_tensor_layer(Holder module, int64_t out_channels) {
  return {module.ptr(), [module](const std::vector<torch::Tensor>& x) mutable { return module->forward(x[0]); },
          out_channels};
}

// ---- one builder per module ----------------------------------------------------------------
BuiltLayer build_conv(const BuildContext& ctx) {
  const int64_t c2 = scaled_out_channels(ctx);
  auto options = ConvOptions(single_input(ctx), c2, int_arg(ctx, 1, 1))
                     .stride(int_arg(ctx, 2, 1))
                     .padding(optional_int_arg(ctx, 3))
                     .groups(int_arg(ctx, 4, 1))
                     .dilation(int_arg(ctx, 5, 1))
                     .act(bool_arg(ctx, 6, true));
  return single_tensor_layer(Conv(options), c2);
}

BuiltLayer build_bottleneck(const BuildContext& ctx) {
  const int64_t c2 = scaled_out_channels(ctx);
  auto kernels = int_list_arg(ctx, 3, {3, 3});
  YOLO_CHECK(kernels.size() == 2, "{}: Bottleneck kernels must be [k1, k2]", ctx.where);
  return single_tensor_layer(Bottleneck(single_input(ctx), c2, bool_arg(ctx, 1, true), int_arg(ctx, 2, 1),
                                        std::make_pair(kernels[0], kernels[1]), real_arg(ctx, 4, 0.5)),
                             c2);
}

BuiltLayer build_c2f(const BuildContext& ctx) {
  const int64_t c2 = scaled_out_channels(ctx);
  return single_tensor_layer(C2f(single_input(ctx), c2, ctx.repeats, bool_arg(ctx, 1, false), int_arg(ctx, 2, 1),
                                 real_arg(ctx, 3, 0.5)),
                             c2);
}

BuiltLayer build_c3(const BuildContext& ctx) {
  const int64_t c2 = scaled_out_channels(ctx);
  return single_tensor_layer(C3(single_input(ctx), c2, ctx.repeats, bool_arg(ctx, 1, true), int_arg(ctx, 2, 1),
                                real_arg(ctx, 3, 0.5)),
                             c2);
}

BuiltLayer build_sppf(const BuildContext& ctx) {
  const int64_t c2 = scaled_out_channels(ctx);
  return single_tensor_layer(SPPF(single_input(ctx), c2, int_arg(ctx, 1, 5)), c2);
}

BuiltLayer build_spp(const BuildContext& ctx) {
  const int64_t c2 = scaled_out_channels(ctx);
  return single_tensor_layer(SPP(single_input(ctx), c2, int_list_arg(ctx, 1, {5, 9, 13})), c2);
}

BuiltLayer build_upsample(const BuildContext& ctx) {
  auto options = torch::nn::UpsampleOptions();
  if (auto size = optional_int_arg(ctx, 0)) options.size(std::vector<int64_t>{*size, *size});
  if (has_arg(ctx, 1)) {
    const double factor = real_arg(ctx, 1, 2.0);
    options.scale_factor(std::vector<double>{factor, factor});
  }
  const auto* mode = arg_as<std::string>(ctx, 2);
  const std::string mode_name = mode ? *mode : "nearest";
  if (mode_name == "nearest")
    options.mode(torch::kNearest);
  else if (mode_name == "bilinear")
    options.mode(torch::kBilinear);
  else
    YOLO_FAIL("{}: Upsample mode '{}' is not supported; use \"nearest\" or \"bilinear\"", ctx.where, mode_name);
  return single_tensor_layer(torch::nn::Upsample(options), single_input(ctx));
}

BuiltLayer build_concat(const BuildContext& ctx) {
  Concat concat(int_arg(ctx, 0, 1));
  int64_t channels = 0;
  for (auto c : ctx.input_channels) channels += c;
  return {concat.ptr(), [concat](const std::vector<torch::Tensor>& x) mutable { return concat->forward(x); }, channels};
}

BuiltLayer build_detect(const BuildContext& ctx) {
  Detect detect(int_arg(ctx, 0), ctx.input_channels);
  return {detect.ptr(), nullptr, 0};
}

BuiltLayer build_classify(const BuildContext& ctx) {
  const int64_t c2 = scaled_out_channels(ctx);
  Classify classify(single_input(ctx), c2, int_arg(ctx, 1, 1), int_arg(ctx, 2, 1), optional_int_arg(ctx, 3),
                    int_arg(ctx, 4, 1));
  return {classify.ptr(), nullptr, c2};
}

}  // namespace

int64_t make_divisible(double x, int64_t divisor) {
  return static_cast<int64_t>(std::ceil(x / static_cast<double>(divisor))) * divisor;
}

const std::map<std::string, ModuleEntry>& layer_registry() {
  static const std::map<std::string, ModuleEntry> registry{
      {"Conv", {build_conv}},
      {"Bottleneck", {build_bottleneck}},
      {"C2f", {build_c2f, /*repeats_inside=*/true}},
      {"C3", {build_c3, /*repeats_inside=*/true}},
      {"SPPF", {build_sppf}},
      {"SPP", {build_spp}},
      {"Upsample", {build_upsample}},
      {"Concat", {build_concat}},
      {"Detect", {build_detect}},
      {"Classify", {build_classify}},
  };
  return registry;
}

}  // namespace detail

std::vector<std::string> registered_modules() {
  std::vector<std::string> names;
  for (const auto& entry : detail::layer_registry()) names.push_back(entry.first);
  return names;
}

}  // namespace yolo::nn
