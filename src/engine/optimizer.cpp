#include "yolo/engine/optimizer.h"

#include <cmath>

#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/utils/suggest.h"

namespace yolo::engine {
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
    built.optimizer = std::make_unique<Adam>(std::move(param_groups), AdamOptions(lr));
  } else if (name == "AdamW") {
    add_groups([&](double wd) {
      return std::make_unique<AdamWOptions>(AdamWOptions(lr).betas({momentum, 0.999}).weight_decay(wd));
    });
    built.optimizer = std::make_unique<AdamW>(std::move(param_groups), AdamWOptions(lr));
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
    built.optimizer = std::make_unique<SGD>(std::move(param_groups), SGDOptions(lr));
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

}  // namespace yolo::engine
