#pragma once
// Training checkpoints in PyTorch's zip format with plain values only (torch.load(weights_only=True)
// opens them), written atomically, and the resume path that reads them back.
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "engine/ema.h"
#include "yolo/config/args.h"
#include "yolo/nn/network.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

/// Progress that a resumed run must continue from exactly.
struct TrainState {
  int64_t epoch = -1;  ///< last completed epoch (0-based), -1 in a stripped checkpoint
  double best_fitness = 0;
  bool has_best_fitness = false;
  int64_t last_opt_step = -1;
  double train_seconds = 0;
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<std::string> names;  ///< the dataset's class names, by index
};

/// Where one save goes: last.pt always; best.pt and epochN.pt when set.
struct CheckpointFiles {
  std::filesystem::path last, best, period;
};

/// Writes model (fp32 training weights), EMA, optimizer state, RNG state, train args and progress.
void save_train_checkpoint(const CheckpointFiles& files, nn::NetworkImpl& model, ModelEma& ema,
                           torch::optim::Optimizer& optimizer, const TrainState& state, const TrainArgs& args);

/// Restores what save_train_checkpoint wrote into freshly built model, EMA and optimizer.
TrainState load_train_checkpoint(const std::string& path, nn::NetworkImpl& model, ModelEma& ema,
                                 torch::optim::Optimizer& optimizer);

/// Rewrites a training checkpoint as the final release form: EMA weights in fp16 as `model`, no EMA,
/// no optimizer, epoch -1 — as Ultralytics' strip_optimizer.
void strip_checkpoint(const std::string& path);

/// A model rebuilt from a checkpoint, with what the checkpoint says about how it was trained.
struct LoadedModel {
  nn::Network model{nullptr};
  std::vector<std::string> names;                            ///< class names, "0".."nc-1" when absent
  std::vector<std::pair<std::string, ArgValue>> train_args;     ///< as stored, typed as Python held them
};

/// Builds the architecture stored in a checkpoint (ours or Ultralytics') and loads its weights
/// (the EMA when present, else the model), in fp32. Ours record the model YAML (`yaml`, `yaml_file`)
/// or, for torchvision networks, `architecture`: {family, name, options}.
LoadedModel load_model_from_checkpoint(const std::string& path);

}  // namespace engine
YOLO_END_NAMESPACE
