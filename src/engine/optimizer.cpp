#include "engine/optimizer.h"

#include <cmath>
#include <utility>
#include <vector>

#include "utils/suggest.h"
#include "utils/torch_compat.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {
namespace {

struct ParameterGroups {
  std::vector<torch::Tensor> biases, weights, norm_weights;
};

bool is_normalisation(const std::string& module_name) {
  return module_name.find("Norm") != std::string::npos;
}

ParameterGroups split_parameters(torch::nn::Module& model) {
  ParameterGroups groups;
  auto add = [&](const torch::nn::Module& module) {
    const bool norm = is_normalisation(module.name());
    for (const auto& p : module.named_parameters(/*recurse=*/false)) {
      if (p.key().find("bias") != std::string::npos)
        groups.biases.push_back(p.value());
      else if (norm)
        groups.norm_weights.push_back(p.value());
      else
        groups.weights.push_back(p.value());
    }
  };
  // The root separately: include_self would need the model to live in a shared_ptr.
  add(model);
  for (const auto& child : model.modules(/*include_self=*/false)) add(*child);
  return groups;
}

template <typename Options>
Options& options_as(torch::optim::OptimizerParamGroup& group) {
  return static_cast<Options&>(group.options());
}

/// The parameters of a group that have a gradient, and those gradients.
struct GradientList {
  std::vector<torch::Tensor> params, grads;
  explicit GradientList(torch::optim::OptimizerParamGroup& group) {
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      params.push_back(p);
      grads.push_back(p.grad());
    }
  }
};

torch::Tensor loss_of(const torch::optim::Optimizer::LossClosure& closure) {
  if (!closure) return {};
  at::AutoGradMode enable_grad(true);
  return closure();
}

// LibTorch's optimizers loop over the parameters, a few kernels each; these take the same steps with ATen's
// multi-tensor (_foreach_) kernels, a few launches per parameter group on a GPU. The state stays LibTorch's
// (SGDParamState, AdamParamState, ...), so checkpoints read and write it unchanged. The arithmetic is
// LibTorch's, operation for operation: on the CPU the _foreach_ ops run those same per-tensor operations.

/// SGD with momentum, dampening, Nesterov and L2 weight decay, as torch::optim::SGD.
class ForeachSGD : public torch::optim::SGD {
 public:
  using SGD::SGD;

  torch::Tensor step(LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    auto loss = loss_of(closure);
    for (auto& group : param_groups()) {
      const auto& o = options_as<torch::optim::SGDOptions>(group);
      GradientList list(group);
      if (list.params.empty()) continue;
      auto updates = o.weight_decay() != 0 ? at::_foreach_add(list.grads, list.params, o.weight_decay()) : list.grads;
      if (o.momentum() != 0) {
        std::vector<torch::Tensor> buffers, running, running_updates;
        for (size_t i = 0; i < list.params.size(); ++i) {
          const auto key = compat::optimizer_state_key(*this, list.params[i]);
          auto found = state().find(key);
          if (found == state().end()) {  // the first step starts the buffer at the update
            auto fresh = std::make_unique<torch::optim::SGDParamState>();
            fresh->momentum_buffer(torch::clone(updates[i]).detach());
            buffers.push_back(fresh->momentum_buffer());
            state()[key] = std::move(fresh);
          } else {
            buffers.push_back(static_cast<torch::optim::SGDParamState&>(*found->second).momentum_buffer());
            running.push_back(buffers.back());
            running_updates.push_back(updates[i]);
          }
        }
        if (!running.empty()) {
          at::_foreach_mul_(running, o.momentum());
          at::_foreach_add_(running, running_updates, 1 - o.dampening());
        }
        updates = o.nesterov() ? at::_foreach_add(updates, buffers, o.momentum()) : buffers;
      }
      at::_foreach_add_(list.params, updates, -o.lr());
    }
    return loss;
  }
};

/// Adam (L2 weight decay on the gradient) or AdamW (decoupled decay), as torch::optim::Adam / AdamW.
template <typename Base, typename Options, typename State, bool kDecoupledDecay>
class ForeachAdam : public Base {
 public:
  using Base::Base;
  using typename Base::LossClosure;

  torch::Tensor step(LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    auto loss = loss_of(closure);
    for (auto& group : this->param_groups()) {
      const auto& o = options_as<Options>(group);
      YOLO_CHECK(!o.amsgrad(), "amsgrad is not supported by yolocpp's optimizers");
      GradientList list(group);
      if (list.params.empty()) continue;
      const auto [beta1, beta2] = o.betas();
      std::vector<torch::Tensor> exp_avgs, exp_avg_sqs;
      std::vector<at::Scalar> step_sizes, bias_correction2_roots;
      for (const auto& p : list.params) {
        const auto key = compat::optimizer_state_key(*this, p);
        auto& slot = this->state()[key];
        if (!slot) {
          auto fresh = std::make_unique<State>();
          fresh->step(0);
          fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          slot = std::move(fresh);
        }
        auto& s = static_cast<State&>(*slot);
        s.step(s.step() + 1);
        const double bias_correction1 = 1 - std::pow(beta1, s.step());
        const double bias_correction2 = 1 - std::pow(beta2, s.step());
        exp_avgs.push_back(s.exp_avg());
        exp_avg_sqs.push_back(s.exp_avg_sq());
        step_sizes.emplace_back(-(o.lr() / bias_correction1));
        bias_correction2_roots.emplace_back(std::sqrt(bias_correction2));
      }
      auto grads = list.grads;
      if (o.weight_decay() != 0) {
        if (kDecoupledDecay)
          at::_foreach_mul_(list.params, 1 - o.lr() * o.weight_decay());
        else
          grads = at::_foreach_add(grads, list.params, o.weight_decay());
      }
      at::_foreach_mul_(exp_avgs, beta1);
      at::_foreach_add_(exp_avgs, grads, 1 - beta1);
      at::_foreach_mul_(exp_avg_sqs, beta2);
      at::_foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2);
      auto denominators = at::_foreach_sqrt(exp_avg_sqs);
      at::_foreach_div_(denominators, at::ArrayRef<at::Scalar>(bias_correction2_roots));
      at::_foreach_add_(denominators, o.eps());
      at::_foreach_addcdiv_(list.params, exp_avgs, denominators, at::ArrayRef<at::Scalar>(step_sizes));
    }
    return loss;
  }
};

using ForeachAdamL2 = ForeachAdam<torch::optim::Adam, torch::optim::AdamOptions, torch::optim::AdamParamState, false>;
using ForeachAdamW = ForeachAdam<torch::optim::AdamW, torch::optim::AdamWOptions, torch::optim::AdamWParamState, true>;

}  // namespace

BuiltOptimizer build_optimizer(torch::nn::Module& model, const OptimizerOptions& options) {
  BuiltOptimizer built;
  built.name = options.name;
  built.lr = options.lr0;
  built.momentum = options.momentum;
  if (options.name == "auto") {
    const double lr_fit = std::round(0.002 * 5 / (4 + options.nc) * 1e6) / 1e6;
    if (options.iterations > 10000) {
      built.name = "SGD", built.lr = 0.01, built.momentum = 0.9;
    } else {
      built.name = "AdamW", built.lr = lr_fit, built.momentum = 0.9;
    }
    log_info("optimizer: 'optimizer=auto' found, determining best 'optimizer', 'lr0' and 'momentum' "
             "automatically... {}(lr={}, momentum={})",
             built.name, built.lr, built.momentum);
  }
  auto groups = split_parameters(model);
  const double lr = built.lr, momentum = built.momentum, decay = options.weight_decay;
  using namespace torch::optim;
  auto group = [&](std::vector<torch::Tensor> params, std::unique_ptr<torch::optim::OptimizerOptions> o) {
    return OptimizerParamGroup(std::move(params), std::move(o));
  };
  std::vector<OptimizerParamGroup> param_groups;
  auto add_groups = [&](auto make_options) {
    param_groups.push_back(group(groups.biases, make_options(0.0)));
    param_groups.push_back(group(groups.weights, make_options(decay)));
    param_groups.push_back(group(groups.norm_weights, make_options(0.0)));
  };
  const std::string& name = built.name;
  if (name == "Adam" || name == "Adamax") {
    YOLO_CHECK(name == "Adam", "optimizer=Adamax is not available in LibTorch; use SGD, Adam, AdamW or RMSProp");
    add_groups([&](double wd) {
      return std::make_unique<AdamOptions>(AdamOptions(lr).betas({momentum, 0.999}).weight_decay(wd));
    });
    built.optimizer = std::make_unique<ForeachAdamL2>(std::move(param_groups), AdamOptions(lr));
  } else if (name == "AdamW") {
    add_groups([&](double wd) {
      return std::make_unique<AdamWOptions>(AdamWOptions(lr).betas({momentum, 0.999}).weight_decay(wd));
    });
    built.optimizer = std::make_unique<ForeachAdamW>(std::move(param_groups), AdamWOptions(lr));
  } else if (name == "RMSProp") {
    add_groups([&](double wd) {
      return std::make_unique<RMSpropOptions>(RMSpropOptions(lr).momentum(momentum).weight_decay(wd));
    });
    built.optimizer = std::make_unique<RMSprop>(std::move(param_groups), RMSpropOptions(lr));
    built.uses_momentum_key = true;
  } else if (name == "SGD") {
    add_groups([&](double wd) {
      return std::make_unique<SGDOptions>(SGDOptions(lr).momentum(momentum).nesterov(true).weight_decay(wd));
    });
    built.optimizer = std::make_unique<ForeachSGD>(std::move(param_groups), SGDOptions(lr));
    built.uses_momentum_key = true;
  } else {
    const std::vector<std::string> known{"auto", "SGD", "Adam", "AdamW", "RMSProp"};
    YOLO_FAIL("optimizer='{}' is not supported.{} Choose one of auto, SGD, Adam, AdamW, RMSProp "
              "(NAdam and RAdam have no LibTorch implementation)",
              name, did_you_mean(name, known));
  }
  log_info("optimizer: {}(lr={}, momentum={}) with parameter groups {} weight(decay=0.0), {} weight(decay={}), "
           "{} bias(decay=0.0)",
           built.name, lr, momentum, groups.norm_weights.size(), groups.weights.size(), decay, groups.biases.size());
  return built;
}

double lr_factor(double epoch, int64_t epochs, double lrf, bool cosine) {
  const double e = static_cast<double>(epochs);
  if (cosine) return ((1 - std::cos(epoch * M_PI / e)) / 2) * (lrf - 1) + 1;
  return std::max(1 - epoch / e, 0.0) * (1.0 - lrf) + lrf;
}

double poly_lr_factor(double epoch, int64_t epochs, double lrf, double power) {
  return std::pow(std::max(1 - epoch / static_cast<double>(epochs), 0.0), power) * (1.0 - lrf) + lrf;
}

double group_lr(torch::optim::OptimizerParamGroup& group) { return group.options().get_lr(); }

void set_group_lr(torch::optim::OptimizerParamGroup& group, double lr) { group.options().set_lr(lr); }

void set_group_momentum(torch::optim::OptimizerParamGroup& group, double momentum) {
  if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&group.options()))
    sgd->momentum(momentum);
  else if (auto* rms = dynamic_cast<torch::optim::RMSpropOptions*>(&group.options()))
    rms->momentum(momentum);
}

torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return {};
  const auto norms = at::_foreach_norm(grads, 2);
  const auto total = torch::stack(norms).norm(2);
  compat::foreach_mul_(grads, (max_norm / (total + 1e-6)).clamp_max(1.0));
  return total;
}

}  // namespace engine
YOLO_END_NAMESPACE
