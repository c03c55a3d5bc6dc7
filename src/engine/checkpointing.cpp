#include "engine/checkpointing.h"

#include <chrono>
#include <ctime>
#include <optional>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/optimizer.h"
#include "io/checkpoint.h"
#include "utils/torch_compat.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"
#include "yolo_build_config.h"

YOLO_BEGIN_NAMESPACE
namespace engine {
namespace fs = std::filesystem;
using io::PickleValue;

namespace {

// ---- writing -----------------------------------------------------------------------------------

/// The train args as Python holds them (bool, int, float, str, None, list of ints), typed by the key table.
PickleValue args_value(const TrainArgs& args) {
  struct ToPickle {
    PickleValue operator()(std::monostate) const { return PickleValue(); }
    PickleValue operator()(bool b) const { return PickleValue(b); }
    PickleValue operator()(int64_t i) const { return PickleValue(i); }
    PickleValue operator()(double d) const { return PickleValue(d); }
    PickleValue operator()(const std::string& s) const { return PickleValue(s); }
    PickleValue operator()(const std::vector<int64_t>& list) const {
      PickleValue::Items items(list.begin(), list.end());
      return PickleValue::list(std::move(items));
    }
  };
  auto dict = PickleValue::dict();
  for (const auto& key : TrainArgs::keys()) dict.set_item(key, std::visit(ToPickle{}, args.value(key)));
  return dict;
}

/// Copies of the module's state as Ultralytics names it, on the CPU, in `dtype`.
PickleValue state_value(torch::nn::Module& model, torch::ScalarType dtype) {
  io::StateDict state;
  for (const auto& p : model.named_parameters()) state.emplace_back(p.key(), p.value().detach());
  for (const auto& b : model.named_buffers()) state.emplace_back(b.key(), b.value().detach());
  for (auto& [name, tensor] : state) {
    const auto target = tensor.is_floating_point() ? dtype : tensor.scalar_type();
    tensor = tensor.to(torch::kCPU, target).contiguous().clone();
  }
  return io::state_dict_value(state);
}

/// Every parameter of the optimizer in group order: PyTorch's state_dict() numbers them so.
std::vector<torch::Tensor> optimizer_params(torch::optim::Optimizer& optimizer) {
  std::vector<torch::Tensor> params;
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) params.push_back(p);
  return params;
}

PickleValue cpu(const torch::Tensor& t) { return PickleValue(t.detach().to(torch::kCPU).contiguous().clone()); }

/// Adam's and AdamW's per-parameter state share their fields: written and read by one piece each.
template <typename State>
void set_adam_items(PickleValue& dict, State& state) {
  dict.set_item("step", PickleValue(static_cast<double>(state.step())));
  dict.set_item("exp_avg", cpu(state.exp_avg()));
  dict.set_item("exp_avg_sq", cpu(state.exp_avg_sq()));
  if (state.max_exp_avg_sq().defined()) dict.set_item("max_exp_avg_sq", cpu(state.max_exp_avg_sq()));
}

/// One parameter's optimizer state under PyTorch's key names.
PickleValue param_state_value(torch::optim::OptimizerParamState& state) {
  using namespace torch::optim;
  auto dict = PickleValue::dict();
  if (auto* sgd = dynamic_cast<SGDParamState*>(&state)) {
    if (sgd->momentum_buffer().defined()) dict.set_item("momentum_buffer", cpu(sgd->momentum_buffer()));
  } else if (auto* adam = dynamic_cast<AdamParamState*>(&state)) {
    set_adam_items(dict, *adam);
  } else if (auto* adamw = dynamic_cast<AdamWParamState*>(&state)) {
    set_adam_items(dict, *adamw);
  } else if (auto* rms = dynamic_cast<RMSpropParamState*>(&state)) {
    dict.set_item("step", PickleValue(static_cast<double>(rms->step())));
    dict.set_item("square_avg", cpu(rms->square_avg()));
    if (rms->momentum_buffer().defined()) dict.set_item("momentum_buffer", cpu(rms->momentum_buffer()));
    if (rms->grad_avg().defined()) dict.set_item("grad_avg", cpu(rms->grad_avg()));
  } else {
    YOLO_FAIL("cannot save the state of this optimizer type: use SGD, Adam, AdamW or RMSProp");
  }
  return dict;
}

double group_momentum(torch::optim::OptimizerOptions& options) {
  using namespace torch::optim;
  if (auto* o = dynamic_cast<SGDOptions*>(&options)) return o->momentum();
  if (auto* o = dynamic_cast<RMSpropOptions*>(&options)) return o->momentum();
  if (auto* o = dynamic_cast<AdamOptions*>(&options)) return std::get<0>(o->betas());
  if (auto* o = dynamic_cast<AdamWOptions*>(&options)) return std::get<0>(o->betas());
  return 0;
}

double group_weight_decay(torch::optim::OptimizerOptions& options) {
  using namespace torch::optim;
  if (auto* o = dynamic_cast<SGDOptions*>(&options)) return o->weight_decay();
  if (auto* o = dynamic_cast<RMSpropOptions*>(&options)) return o->weight_decay();
  if (auto* o = dynamic_cast<AdamOptions*>(&options)) return o->weight_decay();
  if (auto* o = dynamic_cast<AdamWOptions*>(&options)) return o->weight_decay();
  return 0;
}

/// The optimizer as PyTorch's Optimizer.state_dict(): {"state": {index: {...}}, "param_groups": [...]}.
PickleValue optimizer_value(torch::optim::Optimizer& optimizer) {
  auto states = PickleValue::dict();
  const auto params = optimizer_params(optimizer);
  for (size_t i = 0; i < params.size(); ++i) {
    auto found = optimizer.state().find(compat::optimizer_state_key(optimizer, params[i]));
    if (found != optimizer.state().end())
      states.set_item(PickleValue(static_cast<int64_t>(i)), param_state_value(*found->second));
  }
  auto groups = PickleValue::list();
  int64_t index = 0;
  for (auto& group : optimizer.param_groups()) {
    auto indices = PickleValue::list();
    for (size_t k = 0; k < group.params().size(); ++k) indices.append(PickleValue(index++));
    auto entry = PickleValue::dict();
    entry.set_item("lr", PickleValue(group_lr(group)));
    entry.set_item("momentum", PickleValue(group_momentum(group.options())));
    entry.set_item("weight_decay", PickleValue(group_weight_decay(group.options())));
    entry.set_item("params", indices);
    groups.append(entry);
  }
  auto dict = PickleValue::dict();
  dict.set_item("state", states);
  dict.set_item("param_groups", groups);
  return dict;
}

PickleValue names_value(const std::vector<std::string>& names) {
  auto dict = PickleValue::dict();
  for (size_t i = 0; i < names.size(); ++i) dict.set_item(PickleValue(static_cast<int64_t>(i)), PickleValue(names[i]));
  return dict;
}

std::string now_iso() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return text;
}

/// What every checkpoint of ours carries besides weights: the architecture and the class names.
void set_model_description(PickleValue& root, nn::NetworkImpl& model, const std::vector<std::string>& names) {
  root.set_item("date", PickleValue(now_iso()));
  root.set_item("version", PickleValue(std::string("yolocpp ") + YOLO_VERSION_STRING));
  root.set_item("license", PickleValue("Apache-2.0"));
  const auto architecture = model.architecture();
  if (architecture.family == "yaml") {  // Ultralytics' own keys, so that its tools read the YAML too
    root.set_item("yaml", PickleValue(architecture.yaml_text));
    root.set_item("yaml_file", PickleValue(architecture.name));
  } else {
    auto options = PickleValue::dict();
    for (const auto& [key, value] : architecture.options) options.set_item(key, PickleValue(value));
    auto entry = PickleValue::dict();
    entry.set_item("family", PickleValue(architecture.family));
    entry.set_item("name", PickleValue(architecture.name));
    entry.set_item("options", options);
    root.set_item("architecture", entry);
  }
  root.set_item("nc", PickleValue(model.nc()));
  root.set_item("task", PickleValue(model.task()));
  root.set_item("names", names_value(names));
}

// ---- reading -----------------------------------------------------------------------------------

torch::Tensor tensor_entry(const PickleValue& dict, const char* key, const torch::Tensor& like) {
  const PickleValue* value = dict.find(key);
  if (!value || value->is_none()) return {};
  return value->as_tensor().to(like.device(), like.scalar_type());
}

/// The reading side of set_adam_items().
template <typename State>
std::unique_ptr<State> adam_state(const PickleValue& saved, const torch::Tensor& p) {
  auto s = std::make_unique<State>();
  s->step(static_cast<int64_t>(saved.at("step").as_float()));
  s->exp_avg(tensor_entry(saved, "exp_avg", p));
  s->exp_avg_sq(tensor_entry(saved, "exp_avg_sq", p));
  if (auto t = tensor_entry(saved, "max_exp_avg_sq", p); t.defined()) s->max_exp_avg_sq(t);
  return s;
}

/// Fills the optimizer state saved by optimizer_value() into a freshly built optimizer.
void restore_optimizer(const PickleValue& saved, torch::optim::Optimizer& optimizer, const std::string& source) {
  using namespace torch::optim;
  const auto params = optimizer_params(optimizer);
  const auto& groups = saved.at("param_groups").items();
  YOLO_CHECK(groups.size() == optimizer.param_groups().size(),
             "{}: the optimizer has {} parameter groups, this run builds {}: was it saved by another architecture?",
             source, groups.size(), optimizer.param_groups().size());
  for (size_t g = 0; g < groups.size(); ++g) {
    auto& group = optimizer.param_groups()[g];
    YOLO_CHECK(groups[g].at("params").items().size() == group.params().size(),
               "{}: optimizer group {} holds {} parameters, this model {}", source, g,
               groups[g].at("params").items().size(), group.params().size());
    set_group_lr(group, groups[g].at("lr").as_float());
    set_group_momentum(group, groups[g].at("momentum").as_float());
  }
  const auto& defaults = optimizer.defaults();
  for (const auto& [key, state] : saved.at("state").dict_items()) {
    const int64_t index = key.as_int();
    YOLO_CHECK(index >= 0 && index < static_cast<int64_t>(params.size()), "{}: optimizer state for parameter {} of {}",
               source, index, params.size());
    const auto& p = params[index];
    std::unique_ptr<OptimizerParamState> restored;
    if (dynamic_cast<const SGDOptions*>(&defaults)) {
      auto s = std::make_unique<SGDParamState>();
      s->momentum_buffer(tensor_entry(state, "momentum_buffer", p));
      restored = std::move(s);
    } else if (dynamic_cast<const AdamWOptions*>(&defaults)) {
      restored = adam_state<AdamWParamState>(state, p);
    } else if (dynamic_cast<const AdamOptions*>(&defaults)) {
      restored = adam_state<AdamParamState>(state, p);
    } else if (dynamic_cast<const RMSpropOptions*>(&defaults)) {
      auto s = std::make_unique<RMSpropParamState>();
      s->step(static_cast<int64_t>(state.at("step").as_float()));
      s->square_avg(tensor_entry(state, "square_avg", p));
      if (auto t = tensor_entry(state, "momentum_buffer", p); t.defined()) s->momentum_buffer(t);
      if (auto t = tensor_entry(state, "grad_avg", p); t.defined()) s->grad_avg(t);
      restored = std::move(s);
    } else {
      YOLO_FAIL("{}: cannot restore the state of this optimizer type", source);
    }
    optimizer.state()[compat::optimizer_state_key(optimizer, p)] = std::move(restored);
  }
}

/// Copies a saved state into a module, requiring every tensor to be there with its shape.
void load_state_exactly(torch::nn::Module& model, const io::StateDict& state, const std::string& what,
                        const std::string& source) {
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& name, torch::Tensor& target) {
    auto found = by_name.find(name);
    YOLO_CHECK(found != by_name.end(), "{}: {} has no tensor '{}': not a checkpoint of this architecture", source,
               what, name);
    YOLO_CHECK(found->second.sizes() == target.sizes(), "{}: {} tensor '{}' has shape [{}], the model needs [{}]", source,
               what, name, fmt::join(found->second.sizes(), ", "), fmt::join(target.sizes(), ", "));
    target.copy_(found->second.to(target.device(), target.scalar_type()));
  };
  for (auto& p : model.named_parameters()) copy(p.key(), p.value());
  for (auto& b : model.named_buffers()) copy(b.key(), b.value());
}

/// A stored argument as a typed value: Python's None, bool, int, float, str and lists of ints as they are;
/// anything else (a list of floats, a dict) as its YAML text, for TrainArgs::set to read or reject.
ArgValue arg_value_of(const PickleValue& value) {
  using Kind = PickleValue::Kind;
  switch (value.kind()) {
    case Kind::None: return std::monostate{};
    case Kind::Bool: return value.as_bool();
    case Kind::Int: return value.as_int();
    case Kind::Float: return value.as_float();
    case Kind::String: return value.as_string();
    case Kind::List:
    case Kind::Tuple: {
      std::vector<int64_t> ints;
      for (const auto& item : value.items()) {
        if (!item.is(Kind::Int)) return io::to_yaml_scalar(value);
        ints.push_back(item.as_int());
      }
      return ints;
    }
    default: return io::to_yaml_scalar(value);
  }
}

/// ckpt["train_args"] (a dict, or the namespace object of older Ultralytics checkpoints) as typed values.
std::vector<std::pair<std::string, ArgValue>> train_args_of(const io::Checkpoint& checkpoint) {
  std::vector<std::pair<std::string, ArgValue>> out;
  const PickleValue* args = checkpoint.find("train_args");
  if (args && args->is(PickleValue::Kind::Object) && args->as_object().state) args = args->as_object().state.get();
  if (!args || !args->is(PickleValue::Kind::Dict)) return out;
  for (const auto& [key, value] : args->dict_items()) {
    if (key.is(PickleValue::Kind::String)) out.emplace_back(key.as_string(), arg_value_of(value));
  }
  return out;
}

}  // namespace

void save_train_checkpoint(const CheckpointFiles& files, nn::NetworkImpl& model, ModelEma& ema,
                           torch::optim::Optimizer& optimizer, const TrainState& state, const TrainArgs& args) {
  auto root = PickleValue::dict();
  root.set_item("epoch", PickleValue(state.epoch));
  root.set_item("best_fitness", state.has_best_fitness ? PickleValue(state.best_fitness) : PickleValue());
  root.set_item("model", state_value(model, torch::kFloat32));
  root.set_item("ema", state_value(ema.module(), torch::kFloat32));
  root.set_item("updates", PickleValue(ema.updates()));
  root.set_item("optimizer", optimizer_value(optimizer));
  root.set_item("train_args", args_value(args));
  auto metrics = PickleValue::dict();
  for (const auto& [key, value] : state.metrics) metrics.set_item(key, PickleValue(value));
  root.set_item("train_metrics", metrics);
  root.set_item("last_opt_step", PickleValue(state.last_opt_step));
  root.set_item("train_seconds", PickleValue(state.train_seconds));
  root.set_item("rng_cpu", PickleValue(at::detail::getDefaultCPUGenerator().get_state()));
  set_model_description(root, model, state.names);

  // Serialise once, then write each destination atomically.
  const std::string bytes = io::checkpoint_to_bytes(root);
  for (const auto& path : {files.last, files.best, files.period})
    if (!path.empty()) io::write_file_atomically(path.string(), bytes);
}

TrainState load_train_checkpoint(const std::string& path, nn::NetworkImpl& model, ModelEma& ema,
                                 torch::optim::Optimizer& optimizer) {
  const auto checkpoint = io::load_checkpoint(path);
  YOLO_CHECK(checkpoint.find("optimizer") && !checkpoint.find("optimizer")->is_none() && checkpoint.has_ema(),
             "{} is a final (stripped) checkpoint without optimizer state and cannot be resumed; start a new "
             "training with model={}",
             path, path);
  load_state_exactly(model, checkpoint.model_state(), "model", path);
  load_state_exactly(ema.module(), checkpoint.ema_state(), "ema", path);
  if (const auto* updates = checkpoint.find("updates")) ema.set_updates(updates->as_int());
  restore_optimizer(*checkpoint.find("optimizer"), optimizer, path);
  if (const auto* rng = checkpoint.find("rng_cpu"); rng && rng->is(PickleValue::Kind::Tensor))
  {
    auto generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(rng->as_tensor());
  }

  TrainState state;
  state.epoch = checkpoint.epoch();
  if (auto best = checkpoint.best_fitness()) state.best_fitness = *best, state.has_best_fitness = true;
  if (const auto* step = checkpoint.find("last_opt_step")) state.last_opt_step = step->as_int();
  if (const auto* seconds = checkpoint.find("train_seconds")) state.train_seconds = seconds->as_float();
  state.names = checkpoint.names();
  return state;
}

void strip_checkpoint(const std::string& path) {
  const auto checkpoint = io::load_checkpoint(path);
  auto root = PickleValue::dict();
  // Keep every description entry; replace the weights by the EMA in fp16 and drop training state.
  for (const auto& [key, value] : checkpoint.root().dict_items()) {
    const std::string name = key.is(PickleValue::Kind::String) ? key.as_string() : "";
    if (name == "model" || name == "ema" || name == "optimizer" || name == "updates" || name == "rng_cpu") continue;
    root.set_item(key, value);
  }
  io::StateDict weights = checkpoint.has_ema() ? checkpoint.ema_state() : checkpoint.model_state();
  for (auto& [name, tensor] : weights)
    if (tensor.is_floating_point()) tensor = tensor.to(torch::kHalf);
  root.set_item("model", io::state_dict_value(weights));
  root.set_item("ema", PickleValue());
  root.set_item("optimizer", PickleValue());
  root.set_item("updates", PickleValue());
  root.set_item("epoch", PickleValue(static_cast<int64_t>(-1)));
  io::save_checkpoint(path, root);
}

LoadedModel load_model_from_checkpoint(const std::string& path) {
  const auto checkpoint = io::load_checkpoint(path);
  std::optional<int64_t> nc;
  if (const auto* n = checkpoint.find("nc"); n && n->is(PickleValue::Kind::Int)) nc = n->as_int();
  nn::Architecture architecture;
  if (const auto* entry = checkpoint.find("architecture"); entry && entry->is(PickleValue::Kind::Dict)) {
    architecture.family = entry->at("family").as_string();
    architecture.name = entry->at("name").as_string();
    if (const auto* options = entry->find("options"); options && options->is(PickleValue::Kind::Dict))
      for (const auto& [key, value] : options->dict_items())
        architecture.options.emplace_back(key.as_string(), value.as_string());
  } else {
    architecture.family = "yaml";
    architecture.yaml_text = checkpoint.model_yaml_text();
    YOLO_CHECK(!architecture.yaml_text.empty(),
               "{} holds weights but no architecture: build the model by name and load the weights, e.g. "
               "model=yolov8n.yaml pretrained={} (or model=resnet18 pretrained={} for a torchvision state dict)",
               path, path, path);
    // Our checkpoints name the YAML they were built from (the scale comes from that name); an
    // Ultralytics model YAML carries its `scale` key.
    architecture.name = path + ":model.yaml";
    if (const auto* file = checkpoint.find("yaml_file"); file && file->is(PickleValue::Kind::String))
      architecture.name = file->as_string();
  }
  architecture.nc = nc.value_or(0);

  LoadedModel loaded;
  loaded.model = nn::build_network(architecture);
  const auto state = checkpoint.has_ema() ? checkpoint.ema_state() : checkpoint.model_state();
  load_state_exactly(*loaded.model, state, "model", path);
  loaded.names = checkpoint.names();
  if (loaded.names.empty())
    for (int64_t i = 0; i < loaded.model->nc(); ++i) loaded.names.push_back(std::to_string(i));
  YOLO_CHECK(static_cast<int64_t>(loaded.names.size()) == loaded.model->nc(),
             "{}: {} class names for a model with nc={}", path, loaded.names.size(), loaded.model->nc());
  loaded.train_args = train_args_of(checkpoint);
  return loaded;
}

}  // namespace engine
YOLO_END_NAMESPACE
