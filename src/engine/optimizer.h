#pragma once
// Optimizer construction and learning-rate schedule with Ultralytics' formulas.
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

struct OptimizerOptions {
  std::string name = "auto";  ///< auto, SGD, Adam, AdamW, RMSProp
  double lr0 = 0.01, momentum = 0.937, weight_decay = 5e-4;  ///< weight_decay already scaled by batch
  int64_t iterations = 0;     ///< total optimizer iterations, for `auto`
  int64_t nc = 80;            ///< for `auto`'s learning rate
};

/// What `auto` resolved to, and the optimizer with three parameter groups as Ultralytics orders them:
/// group 0 biases (no decay), group 1 weights (decay), group 2 normalisation weights (no decay).
/// SGD, Adam and AdamW step with multi-tensor (_foreach_) kernels, numerically as LibTorch's own; their
/// state is LibTorch's, so checkpoints are unchanged.
struct BuiltOptimizer {
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::string name;
  double lr = 0, momentum = 0;
  bool uses_momentum_key = false;  ///< SGD/RMSProp have a momentum that warmup ramps; Adam's betas do not
};

BuiltOptimizer build_optimizer(torch::nn::Module& model, const OptimizerOptions& options);

/// Learning-rate factor of an epoch: linear from 1 to lrf, or a cosine ramp (cos_lr).
double lr_factor(double epoch, int64_t epochs, double lrf, bool cosine);
/// lr_schedule=poly: (1 - epoch / epochs)^power, from 1 down to lrf (power 1 is the linear schedule).
double poly_lr_factor(double epoch, int64_t epochs, double lrf, double power);

/// Scales the gradients of `params` so that their joint 2-norm is at most `max_norm`, as
/// torch.nn.utils.clip_grad_norm_ (which Ultralytics calls with max_norm 10). Multi-tensor kernels, and
/// no host synchronisation: the norm is returned as a device tensor (undefined when no gradient is set).
torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

/// Reads and writes a group's learning rate and momentum whatever the optimizer type.
double group_lr(torch::optim::OptimizerParamGroup& group);
void set_group_lr(torch::optim::OptimizerParamGroup& group, double lr);
void set_group_momentum(torch::optim::OptimizerParamGroup& group, double momentum);

}  // namespace engine
YOLO_END_NAMESPACE
