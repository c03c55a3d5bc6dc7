#include "nn/registry.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <mutex>
#include <set>

#include "yolo/nn/modules.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {

// ---- reading a row's arguments -------------------------------------------------------------
namespace {

template <typename T>
const T* arg_as(const BuildContext& ctx, size_t i) {
  return i < ctx.row.args.size() ? std::get_if<T>(&ctx.row.args[i]) : nullptr;
}

}  // namespace

bool BuildContext::has_arg(size_t i) const {
  return i < row.args.size() && !std::holds_alternative<std::monostate>(row.args[i]);
}

int64_t BuildContext::int_arg(size_t i) const {
  YOLO_CHECK(has_arg(i), "{}: {} needs argument {} (an integer)", where, row.module, i);
  const auto* value = arg_as<int64_t>(*this, i);
  YOLO_CHECK(value, "{}: argument {} of {} must be an integer", where, i, row.module);
  return *value;
}
int64_t BuildContext::int_arg(size_t i, int64_t fallback) const { return has_arg(i) ? int_arg(i) : fallback; }
std::optional<int64_t> BuildContext::optional_int_arg(size_t i) const {
  if (!has_arg(i)) return std::nullopt;
  return int_arg(i);
}
double BuildContext::real_arg(size_t i, double fallback) const {
  if (!has_arg(i)) return fallback;
  if (const auto* integer = arg_as<int64_t>(*this, i)) return static_cast<double>(*integer);
  const auto* value = arg_as<double>(*this, i);
  YOLO_CHECK(value, "{}: argument {} of {} must be a number", where, i, row.module);
  return *value;
}
bool BuildContext::bool_arg(size_t i, bool fallback) const {
  if (!has_arg(i)) return fallback;
  if (const auto* integer = arg_as<int64_t>(*this, i)) return *integer != 0;  // Python truthiness
  const auto* value = arg_as<bool>(*this, i);
  YOLO_CHECK(value, "{}: argument {} of {} must be True or False", where, i, row.module);
  return *value;
}
std::string BuildContext::string_arg(size_t i, const std::string& fallback) const {
  if (!has_arg(i)) return fallback;
  const auto* value = arg_as<std::string>(*this, i);
  YOLO_CHECK(value, "{}: argument {} of {} must be a string", where, i, row.module);
  return *value;
}
std::vector<int64_t> BuildContext::int_list_arg(size_t i, const std::vector<int64_t>& fallback) const {
  if (!has_arg(i)) return fallback;
  if (const auto* integer = arg_as<int64_t>(*this, i)) return {*integer};
  const auto* value = arg_as<std::vector<int64_t>>(*this, i);
  YOLO_CHECK(value, "{}: argument {} of {} must be a list of integers", where, i, row.module);
  return *value;
}

int64_t BuildContext::single_input() const {
  YOLO_CHECK(input_channels.size() == 1, "{}: {} reads one layer, but 'from' lists {}", where, row.module,
             input_channels.size());
  return input_channels[0];
}

int64_t BuildContext::scaled_channels(int64_t c) const {
  if (c == spec.nc) return c;
  return make_divisible(static_cast<double>(std::min(c, spec.max_channels)) * spec.width_multiple, 8);
}

int64_t make_divisible(double x, int64_t divisor) {
  return static_cast<int64_t>(std::ceil(x / static_cast<double>(divisor))) * divisor;
}

namespace {

// ---- one builder per built-in module ---------------------------------------------------------
// Arguments as Ultralytics' parse_model passes them: for the "base" modules the first is the
// output channels (width-scaled), the input channels come from `from`, and the repeat-taking
// modules get the depth-scaled repeat count after the channels.

BuiltLayer build_conv(const BuildContext& ctx) {
  const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
  auto options = ConvOptions(ctx.single_input(), c2, ctx.int_arg(1, 1))
                     .stride(ctx.int_arg(2, 1))
                     .padding(ctx.optional_int_arg(3))
                     .groups(ctx.int_arg(4, 1))
                     .dilation(ctx.int_arg(5, 1))
                     .act(ctx.bool_arg(6, true));
  return make_layer(Conv(options), c2);
}

BuiltLayer build_dwconv(const BuildContext& ctx) {
  const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
  return make_layer(DWConv(ctx.single_input(), c2, ctx.int_arg(1, 1), ctx.int_arg(2, 1), ctx.int_arg(3, 1),
                           ctx.bool_arg(4, true)),
                    c2);
}

BuiltLayer build_bottleneck(const BuildContext& ctx) {
  const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
  auto kernels = ctx.int_list_arg(3, {3, 3});
  YOLO_CHECK(kernels.size() == 2, "{}: Bottleneck kernels must be [k1, k2]", ctx.where);
  return make_layer(Bottleneck(ctx.single_input(), c2, ctx.bool_arg(1, true), ctx.int_arg(2, 1),
                               std::make_pair(kernels[0], kernels[1]), ctx.real_arg(4, 0.5)),
                    c2);
}

BuiltLayer build_c2f(const BuildContext& ctx) {
  const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
  return make_layer(C2f(ctx.single_input(), c2, ctx.repeats, ctx.bool_arg(1, false), ctx.int_arg(2, 1),
                        ctx.real_arg(3, 0.5)),
                    c2);
}

BuiltLayer build_c3(const BuildContext& ctx) {
  const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
  return make_layer(C3(ctx.single_input(), c2, ctx.repeats, ctx.bool_arg(1, true), ctx.int_arg(2, 1),
                       ctx.real_arg(3, 0.5)),
                    c2);
}

BuiltLayer build_c3k2(const BuildContext& ctx) {
  const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
  // Ultralytics turns C3k blocks on for the m, l and x scales, whatever the row says.
  const auto& scale = ctx.spec.scale;
  const bool large_scale = !scale.empty() && std::string("mlx").find(scale) != std::string::npos;
  const bool c3k = ctx.bool_arg(1, false) || large_scale;
  return make_layer(C3k2(ctx.single_input(), c2, ctx.repeats, c3k, ctx.real_arg(2, 0.5), ctx.int_arg(3, 1),
                         ctx.bool_arg(4, true)),
                    c2);
}

BuiltLayer build_c2psa(const BuildContext& ctx) {
  const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
  return make_layer(C2PSA(ctx.single_input(), c2, ctx.repeats, ctx.real_arg(1, 0.5)), c2);
}

BuiltLayer build_sppf(const BuildContext& ctx) {
  const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
  return make_layer(SPPF(ctx.single_input(), c2, ctx.int_arg(1, 5)), c2);
}

BuiltLayer build_spp(const BuildContext& ctx) {
  const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
  return make_layer(SPP(ctx.single_input(), c2, ctx.int_list_arg(1, {5, 9, 13})), c2);
}

BuiltLayer build_upsample(const BuildContext& ctx) {
  auto options = torch::nn::UpsampleOptions();
  if (auto size = ctx.optional_int_arg(0)) options.size(std::vector<int64_t>{*size, *size});
  if (ctx.has_arg(1)) {
    const double factor = ctx.real_arg(1, 2.0);
    options.scale_factor(std::vector<double>{factor, factor});
  }
  const std::string mode = ctx.string_arg(2, "nearest");
  if (mode == "nearest")
    options.mode(torch::kNearest);
  else if (mode == "bilinear")
    options.mode(torch::kBilinear);
  else
    YOLO_FAIL("{}: Upsample mode '{}' is not supported; use \"nearest\" or \"bilinear\"", ctx.where, mode);
  return make_layer(torch::nn::Upsample(options), ctx.single_input());
}

BuiltLayer build_concat(const BuildContext& ctx) {
  Concat concat(ctx.int_arg(0, 1));
  int64_t channels = 0;
  for (auto c : ctx.input_channels) channels += c;
  return {concat.ptr(), [concat](const std::vector<torch::Tensor>& x) mutable { return concat->forward(x); }, channels};
}

BuiltLayer build_detect(const BuildContext& ctx) {
  Detect detect(ctx.int_arg(0), ctx.input_channels, ctx.legacy);
  return {detect.ptr(), nullptr, 0};
}

BuiltLayer build_classify(const BuildContext& ctx) {
  const int64_t c2 = ctx.scaled_channels(ctx.int_arg(0));
  Classify classify(ctx.single_input(), c2, ctx.int_arg(1, 1), ctx.int_arg(2, 1), ctx.optional_int_arg(3),
                    ctx.int_arg(4, 1));
  return {classify.ptr(), nullptr, c2};
}

// ---- the table -------------------------------------------------------------------------------
struct Registry {
  std::mutex mutex;
  std::map<std::string, detail::ModuleEntry> entries;
  std::set<std::string> builtins;  ///< the names registered here, before any application's
};

Registry& registry() {
  static Registry* table = [] {
    auto* r = new Registry;  // never destroyed: registration may happen from static initialisers
    const auto repeats_inside = ModuleTraits().repeats_inside(true);
    r->entries = {
        {"Conv", {build_conv, {}}},
        {"DWConv", {build_dwconv, {}}},
        {"Bottleneck", {build_bottleneck, {}}},
        {"C2f", {build_c2f, repeats_inside}},
        {"C3", {build_c3, repeats_inside}},
        {"C3k2", {build_c3k2, ModuleTraits().repeats_inside(true).non_legacy(true)}},
        {"C2PSA", {build_c2psa, repeats_inside}},
        {"SPPF", {build_sppf, {}}},
        {"SPP", {build_spp, {}}},
        {"Upsample", {build_upsample, {}}},
        {"Concat", {build_concat, {}}},
        {"Detect", {build_detect, {}}},
        {"Classify", {build_classify, {}}},
    };
    for (const auto& entry : r->entries) r->builtins.insert(entry.first);
    return r;
  }();
  return *table;
}

std::string without_nn_prefix(const std::string& name) { return name.rfind("nn.", 0) == 0 ? name.substr(3) : name; }

bool is_identifier(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

}  // namespace

void register_module(const std::string& name, LayerBuilder builder, ModuleTraits traits) {
  YOLO_CHECK(is_identifier(name),
             "register_module: '{}' is not a valid module name: use letters, digits and '_', not starting with a "
             "digit (as a Python class name)",
             name);
  YOLO_CHECK(builder, "register_module('{}'): the builder is empty; pass a function that builds the layer", name);
  auto& table = registry();
  std::lock_guard<std::mutex> lock(table.mutex);
  YOLO_CHECK(!table.entries.count(name),
             "register_module: '{}' is already registered{}; choose another name", name,
             table.builtins.count(name) ? " (a built-in module)" : "");
  table.entries.emplace(name, detail::ModuleEntry{std::move(builder), traits});
}

bool is_registered(const std::string& name) {
  auto& table = registry();
  std::lock_guard<std::mutex> lock(table.mutex);
  return table.entries.count(without_nn_prefix(name)) > 0;
}

std::vector<std::string> registered_modules() {
  auto& table = registry();
  std::lock_guard<std::mutex> lock(table.mutex);
  std::vector<std::string> names;
  for (const auto& entry : table.entries) names.push_back(entry.first);
  return names;
}

namespace detail {

std::optional<ModuleEntry> find_module(const std::string& name) {
  auto& table = registry();
  std::lock_guard<std::mutex> lock(table.mutex);
  auto found = table.entries.find(without_nn_prefix(name));
  if (found == table.entries.end()) return std::nullopt;
  return found->second;
}

}  // namespace detail
}  // namespace nn
YOLO_END_NAMESPACE
