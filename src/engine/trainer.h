#pragma once
// The training loop. It owns the order of things (epochs, warmup, AMP, EMA, DDP, checkpoints,
// callbacks); what is trained on and how it is scored comes from the model's task (detect,
// classify), optimizer construction from optimizer.h, averaging from ema.h, persistence from
// checkpointing.h.
#include "yolo/config/args.h"
#include "yolo/engine/callbacks.h"
#include "yolo/engine/results.h"
#include "yolo/nn/network.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

/// Trains `model` (already holding any pretrained weights) as `args` say, for the model's task,
/// writing the run folder. With args.resume() set, the model, EMA, optimizer and epoch come from
/// the checkpoint instead.
TrainResults train(nn::Network model, const TrainArgs& args, const Callbacks& callbacks);

}  // namespace engine
YOLO_END_NAMESPACE
