#pragma once
// torchvision's classifiers (nn/torchvision.h) as engine Networks: the classifier's children sit
// directly on the network, so that checkpoints and state dicts keep torchvision's names
// (`conv1.weight`, `layer1.0.bn1.running_mean`, `fc.weight`, `features.denseblock1...`).
#include <string>

#include "nn/torchvision.h"
#include "yolo/nn/network.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {

/// The torchvision classifier `options` describes, as a Network (task "classify").
Network torchvision_network(const TorchvisionOptions& options);

/// The options a torchvision Architecture records (see NetworkImpl::architecture()).
TorchvisionOptions torchvision_options(const Architecture& architecture);

/// Loads a torchvision state dict (a .pth file's tensors) into a torchvision network, as
/// load_torchvision_state does (fp16 files, legacy DenseNet names, missing batch counters); a clear
/// error when `network` is not a torchvision network or the file does not fit it.
void load_torchvision_weights(NetworkImpl& network, const StateDict& state, const std::string& source);

/// Whether `network` is one of these.
bool is_torchvision_network(const NetworkImpl& network);

}  // namespace nn
YOLO_END_NAMESPACE
