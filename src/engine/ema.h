#pragma once
// Exponential moving average of model weights, as Ultralytics' ModelEMA: the EMA copy is what is
// validated and saved.
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

class ModelEma {
 public:
  /// `copy` is a separate instance of the same architecture; it receives the model's weights now.
  ModelEma(std::shared_ptr<torch::nn::Module> copy, const torch::nn::Module& model, double decay = 0.9999,
           double tau = 2000, int64_t updates = 0);

  /// One step: ema = d * ema + (1 - d) * model for every floating-point parameter and buffer,
  /// with d = decay * (1 - exp(-updates / tau)) ramping up over the first updates. Two multi-tensor
  /// kernels; the tensors are collected on the first update from `model` (its parameters and buffers must
  /// stay the same tensors, as moving a module between devices keeps them).
  void update(const torch::nn::Module& model);

  torch::nn::Module& module() { return *ema_; }
  std::shared_ptr<torch::nn::Module> shared() { return ema_; }
  int64_t updates() const { return updates_; }
  void set_updates(int64_t updates) { updates_ = updates; }

 private:
  std::shared_ptr<torch::nn::Module> ema_;
  double decay_, tau_;
  int64_t updates_;
  const torch::nn::Module* source_ = nullptr;  // the model the lists below were collected from
  std::vector<torch::Tensor> ema_floats_, source_floats_;
};

/// Parameters then buffers of a module, in registration order: the tensors that EMA and checkpoints follow.
std::vector<torch::Tensor> state_tensors(const torch::nn::Module& module);

}  // namespace engine
YOLO_END_NAMESPACE
