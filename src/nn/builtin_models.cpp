// Model YAMLs compiled into the library, written for yolocpp in Ultralytics' format and with the
// same architecture, so that `yolov8n.yaml` works with no file on disk.
#include <map>

#include <yaml-cpp/yaml.h>

#include "yolo/nn/spec.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {
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

// YOLO11 detection: C3k2 blocks (C3k inside from scale m up), an attention block (C2PSA) after
// SPPF, the same PAN neck and strides as YOLOv8, and Detect with a depthwise class branch.
constexpr const char* kYolo11 = R"yaml(# YOLO11 object detection (yolocpp built-in)
nc: 80  # number of classes
scales:  # depth multiple, width multiple, max channels
  n: [0.50, 0.25, 1024]
  s: [0.50, 0.50, 1024]
  m: [0.50, 1.00, 512]
  l: [1.00, 1.00, 512]
  x: [1.00, 1.50, 512]

backbone:  # [from, repeats, module, args]
  - [-1, 1, Conv, [64, 3, 2]]           # 0  stride 2
  - [-1, 1, Conv, [128, 3, 2]]          # 1  stride 4
  - [-1, 2, C3k2, [256, False, 0.25]]   # 2
  - [-1, 1, Conv, [256, 3, 2]]          # 3  stride 8
  - [-1, 2, C3k2, [512, False, 0.25]]   # 4
  - [-1, 1, Conv, [512, 3, 2]]          # 5  stride 16
  - [-1, 2, C3k2, [512, True]]          # 6
  - [-1, 1, Conv, [1024, 3, 2]]         # 7  stride 32
  - [-1, 2, C3k2, [1024, True]]         # 8
  - [-1, 1, SPPF, [1024, 5]]            # 9
  - [-1, 2, C2PSA, [1024]]              # 10 self-attention over the stride-32 map

head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]  # 11
  - [[-1, 6], 1, Concat, [1]]                   # 12 with the stride-16 backbone map
  - [-1, 2, C3k2, [512, False]]                 # 13
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]  # 14
  - [[-1, 4], 1, Concat, [1]]                   # 15 with the stride-8 backbone map
  - [-1, 2, C3k2, [256, False]]                 # 16 small objects (P3)
  - [-1, 1, Conv, [256, 3, 2]]                  # 17
  - [[-1, 13], 1, Concat, [1]]                  # 18
  - [-1, 2, C3k2, [512, False]]                 # 19 medium objects (P4)
  - [-1, 1, Conv, [512, 3, 2]]                  # 20
  - [[-1, 10], 1, Concat, [1]]                  # 21
  - [-1, 2, C3k2, [1024, True]]                 # 22 large objects (P5)
  - [[16, 19, 22], 1, Detect, [nc]]             # 23
)yaml";

// YOLO11 classification: the detection backbone with C2PSA in place of SPPF, then a pooled linear head.
constexpr const char* kYolo11Cls = R"yaml(# YOLO11 image classification (yolocpp built-in)
nc: 1000  # number of classes
scales:  # depth multiple, width multiple, max channels
  n: [0.50, 0.25, 1024]
  s: [0.50, 0.50, 1024]
  m: [0.50, 1.00, 512]
  l: [1.00, 1.00, 512]
  x: [1.00, 1.50, 512]

backbone:  # [from, repeats, module, args]
  - [-1, 1, Conv, [64, 3, 2]]           # 0  stride 2
  - [-1, 1, Conv, [128, 3, 2]]          # 1  stride 4
  - [-1, 2, C3k2, [256, False, 0.25]]   # 2
  - [-1, 1, Conv, [256, 3, 2]]          # 3  stride 8
  - [-1, 2, C3k2, [512, False, 0.25]]   # 4
  - [-1, 1, Conv, [512, 3, 2]]          # 5  stride 16
  - [-1, 2, C3k2, [512, True]]          # 6
  - [-1, 1, Conv, [1024, 3, 2]]         # 7  stride 32
  - [-1, 2, C3k2, [1024, True]]         # 8
  - [-1, 2, C2PSA, [1024]]              # 9

head:
  - [-1, 1, Classify, [nc]]             # 10
)yaml";

const std::map<std::string, const char*>& builtin_models() {
  static const std::map<std::string, const char*> models{{"yolov8.yaml", kYolov8},
                                                         {"yolov8-cls.yaml", kYolov8Cls},
                                                         {"yolo11.yaml", kYolo11},
                                                         {"yolo11-cls.yaml", kYolo11Cls}};
  return models;
}

}  // namespace

std::vector<std::string> builtin_model_names() {
  std::vector<std::string> names;
  for (const auto& entry : builtin_models()) names.push_back(entry.first);
  return names;
}

std::vector<std::string> builtin_model_variants() {
  std::vector<std::string> names;
  for (const auto& [file_name, text] : builtin_models()) {
    // The scale letter goes after the version digits: yolo11-cls.yaml -> yolo11n-cls.yaml.
    const auto cut = file_name.find_first_of("-.");
    for (const auto& scale : YAML::Load(text)["scales"])
      names.push_back(file_name.substr(0, cut) + scale.first.as<std::string>() + file_name.substr(cut));
  }
  return names;
}

std::optional<std::string> builtin_model_yaml(const std::string& file_name) {
  auto it = builtin_models().find(file_name);
  if (it == builtin_models().end()) return std::nullopt;
  return std::string(it->second);
}

}  // namespace nn
YOLO_END_NAMESPACE
