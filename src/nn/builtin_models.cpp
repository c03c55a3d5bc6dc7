// Model YAMLs compiled into the library, written for yolocpp in Ultralytics' format and with the
// same architecture, so that `yolov8n.yaml` works with no file on disk.
#include <map>

#include "yolo/nn/spec.h"

namespace yolo::nn {
namespace {

// YOLOv8 detection: CSP-Darknet backbone with C2f blocks, PAN neck, decoupled anchor-free head.
constexpr const char* kYolov8 = R"yaml(# YOLOv8 object detection (yolocpp built-in)
nc: 80  # number of classes
scales:  # depth multiple, width multiple, max channels
  n: [0.33, 0.25, 1024]
  s: [0.33, 0.50, 1024]
  m: [0.67, 0.75, 768]
  l: [1.00, 1.00, 512]
  x: [1.00, 1.25, 512]

backbone:  # [from, repeats, module, args]
  - [-1, 1, Conv, [64, 3, 2]]     # 0  stride 2
  - [-1, 1, Conv, [128, 3, 2]]    # 1  stride 4
  - [-1, 3, C2f, [128, True]]     # 2
  - [-1, 1, Conv, [256, 3, 2]]    # 3  stride 8
  - [-1, 6, C2f, [256, True]]     # 4
  - [-1, 1, Conv, [512, 3, 2]]    # 5  stride 16
  - [-1, 6, C2f, [512, True]]     # 6
  - [-1, 1, Conv, [1024, 3, 2]]   # 7  stride 32
  - [-1, 3, C2f, [1024, True]]    # 8
  - [-1, 1, SPPF, [1024, 5]]      # 9

head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]  # 10
  - [[-1, 6], 1, Concat, [1]]                   # 11 with the stride-16 backbone map
  - [-1, 3, C2f, [512]]                         # 12
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]  # 13
  - [[-1, 4], 1, Concat, [1]]                   # 14 with the stride-8 backbone map
  - [-1, 3, C2f, [256]]                         # 15 small objects (P3)
  - [-1, 1, Conv, [256, 3, 2]]                  # 16
  - [[-1, 12], 1, Concat, [1]]                  # 17
  - [-1, 3, C2f, [512]]                         # 18 medium objects (P4)
  - [-1, 1, Conv, [512, 3, 2]]                  # 19
  - [[-1, 9], 1, Concat, [1]]                   # 20
  - [-1, 3, C2f, [1024]]                        # 21 large objects (P5)
  - [[15, 18, 21], 1, Detect, [nc]]             # 22
)yaml";

// YOLOv8 classification: the detection backbone up to stride 32, then a pooled linear head.
constexpr const char* kYolov8Cls = R"yaml(# YOLOv8 image classification (yolocpp built-in)
nc: 1000  # number of classes
scales:  # depth multiple, width multiple, max channels
  n: [0.33, 0.25, 1024]
  s: [0.33, 0.50, 1024]
  m: [0.67, 0.75, 1024]
  l: [1.00, 1.00, 1024]
  x: [1.00, 1.25, 1024]

backbone:  # [from, repeats, module, args]
  - [-1, 1, Conv, [64, 3, 2]]     # 0  stride 2
  - [-1, 1, Conv, [128, 3, 2]]    # 1  stride 4
  - [-1, 3, C2f, [128, True]]     # 2
  - [-1, 1, Conv, [256, 3, 2]]    # 3  stride 8
  - [-1, 6, C2f, [256, True]]     # 4
  - [-1, 1, Conv, [512, 3, 2]]    # 5  stride 16
  - [-1, 6, C2f, [512, True]]     # 6
  - [-1, 1, Conv, [1024, 3, 2]]   # 7  stride 32
  - [-1, 3, C2f, [1024, True]]    # 8

head:
  - [-1, 1, Classify, [nc]]       # 9
)yaml";

const std::map<std::string, const char*>& builtin_models() {
  static const std::map<std::string, const char*> models{{"yolov8.yaml", kYolov8}, {"yolov8-cls.yaml", kYolov8Cls}};
  return models;
}

}  // namespace

std::vector<std::string> builtin_model_names() {
  std::vector<std::string> names;
  for (const auto& entry : builtin_models()) names.push_back(entry.first);
  return names;
}

std::optional<std::string> builtin_model_yaml(const std::string& file_name) {
  auto it = builtin_models().find(file_name);
  if (it == builtin_models().end()) return std::nullopt;
  return std::string(it->second);
}

}  // namespace yolo::nn
