#include "engine/ema.h"

#include <cmath>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

std::vector<torch::Tensor> state_tensors(const torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors;
  for (const auto& p : module.named_parameters()) tensors.push_back(p.value());
  for (const auto& b : module.named_buffers()) tensors.push_back(b.value());
  return tensors;
}

ModelEma::ModelEma(std::shared_ptr<torch::nn::Module> copy, const torch::nn::Module& model, double decay,
                   double tau, int64_t updates)
    : ema_(std::move(copy)), decay_(decay), tau_(tau), updates_(updates) {
  torch::NoGradGuard no_grad;
  auto dst = state_tensors(*ema_), src = state_tensors(model);
  YOLO_CHECK(dst.size() == src.size(), "EMA copy has {} tensors, the model {}: not the same architecture",
             dst.size(), src.size());
  for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
  for (auto& p : ema_->parameters()) p.set_requires_grad(false);
  ema_->eval();
}

void ModelEma::update(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  ++updates_;
  const double d = decay_ * (1 - std::exp(-static_cast<double>(updates_) / tau_));
  if (&model != source_) {  // collected once: walking the module tree by name costs host time every step
    ema_floats_.clear(), source_floats_.clear();
    auto dst = state_tensors(*ema_), src = state_tensors(model);
    YOLO_CHECK(dst.size() == src.size(), "EMA copy has {} tensors, the model {}: not the same architecture",
               dst.size(), src.size());
    for (size_t i = 0; i < dst.size(); ++i) {
      if (!dst[i].is_floating_point()) continue;  // e.g. batch norm's num_batches_tracked
      ema_floats_.push_back(dst[i]);
      source_floats_.push_back(src[i]);
    }
    source_ = &model;
  }
  // ema = d * ema + (1 - d) * model, as two multi-tensor kernels rather than two per tensor.
  at::_foreach_mul_(ema_floats_, d);
  at::_foreach_add_(ema_floats_, source_floats_, 1 - d);
}

}  // namespace engine
YOLO_END_NAMESPACE
