#pragma once
// Weights by name: `yolov8n.pt`, `yolo11s-cls.pt` (Ultralytics' release assets) and torchvision's
// ImageNet files (`resnet18-f37072fd.pth`) resolve to a local cache, downloaded on first use.
//   YOLO_WEIGHTS_DIR  the cache of Ultralytics assets (default $XDG_CACHE_HOME/yolocpp/weights,
//                     i.e. ~/.cache/yolocpp/weights)
//   TORCH_HOME        torchvision files live in $TORCH_HOME/hub/checkpoints, as torch.hub keeps them
//                     (default ~/.cache/torch/hub/checkpoints), so existing downloads are found
// The download itself follows io/download.h (YOLO_OFFLINE, YOLO_ASSETS_URL, YOLO_TORCHVISION_URL).
#include <filesystem>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

/// A local path for a weights file: `path` itself when it exists; for a published name (above) or
/// an http(s) URL, the cached copy, downloaded first when absent (into the folder `path` names, if
/// it names one, else the cache). Anything else comes back unchanged, for the caller's own
/// "no such file" error.
std::string resolve_weights(const std::string& path);

/// The local file of torchvision's ImageNet weights (IMAGENET1K_V1) for an architecture such as
/// "resnet18" or "densenet121", downloaded into the torch hub cache when absent.
std::string torchvision_weights(const std::string& architecture);

/// The published weights names, for messages and suggestions.
std::vector<std::string> published_weights_names();

/// The folder downloaded Ultralytics weights go to (see YOLO_WEIGHTS_DIR above).
std::filesystem::path weights_dir();

}  // namespace io
YOLO_END_NAMESPACE
