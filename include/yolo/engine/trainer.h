#pragma once
// The detection training loop. It owns the order of things; the maths lives in nn/, loss/, metrics/,
// optimizer construction in optimizer.h, averaging in ema.h and persistence in checkpointing.h.
#include <string>

#include "yolo/config/args.h"
#include "yolo/engine/callbacks.h"
#include "yolo/engine/results.h"
#include "yolo/nn/model.h"

namespace yolo::engine {

/// Trains `model` (already holding any pretrained weights) as `args` says, writing the run folder.
/// With args.resume() set, the model, EMA, optimizer and epoch come from the checkpoint instead.
TrainResults train_detector(nn::YoloModel model, const TrainArgs& args, const Callbacks& callbacks);

}  // namespace yolo::engine
