// Registers an application's own block under a model-YAML name, then trains and reloads a detector
// whose YAML uses it — no change to yolocpp needed.
//   custom_module data.yaml [epochs=1] [imgsz=128] [project=runs/custom_module]
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <yolo/nn/modules.h>
#include <yolo/nn/registry.h>
#include <yolo/yolo.h>

// Squeeze-and-excitation: scales each channel by a gate computed from the global average of all
// channels. Its children's names ("squeeze", "excite") become its parameter names in checkpoints.
class SqueezeExciteImpl : public torch::nn::Module {
 public:
  SqueezeExciteImpl(int64_t channels, int64_t reduction) {
    const int64_t hidden = std::max<int64_t>(channels / reduction, 8);
    squeeze = register_module("squeeze", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, hidden, 1)));
    excite = register_module("excite", torch::nn::Conv2d(torch::nn::Conv2dOptions(hidden, channels, 1)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto gate = torch::silu(squeeze->forward(x.mean({2, 3}, /*keepdim=*/true)));
    return x * torch::sigmoid(excite->forward(gate));
  }

  torch::nn::Conv2d squeeze{nullptr}, excite{nullptr};
};
TORCH_MODULE(SqueezeExcite);

// A YOLOv8n-like detector with a SqueezeExcite row after the stride-8 and stride-16 stages. The
// scale letter comes from the file name (yolov8n-se.yaml -> n), as for Ultralytics' YAMLs.
constexpr const char* kModelYaml = R"yaml(nc: 80
scales:
  n: [0.33, 0.25, 1024]
backbone:
  - [-1, 1, Conv, [64, 3, 2]]      # 0  stride 2
  - [-1, 1, Conv, [128, 3, 2]]     # 1  stride 4
  - [-1, 3, C2f, [128, True]]      # 2
  - [-1, 1, Conv, [256, 3, 2]]     # 3  stride 8
  - [-1, 6, C2f, [256, True]]      # 4
  - [-1, 1, SqueezeExcite, [16]]   # 5  the application's block: reduction 16
  - [-1, 1, Conv, [512, 3, 2]]     # 6  stride 16
  - [-1, 6, C2f, [512, True]]      # 7
  - [-1, 1, SqueezeExcite, [16]]   # 8
  - [-1, 1, Conv, [1024, 3, 2]]    # 9  stride 32
  - [-1, 3, C2f, [1024, True]]     # 10
  - [-1, 1, SPPF, [1024, 5]]       # 11
head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 8], 1, Concat, [1]]
  - [-1, 3, C2f, [512]]            # 14
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 5], 1, Concat, [1]]
  - [-1, 3, C2f, [256]]            # 17 stride 8
  - [-1, 1, Conv, [256, 3, 2]]
  - [[-1, 14], 1, Concat, [1]]
  - [-1, 3, C2f, [512]]            # 20 stride 16
  - [-1, 1, Conv, [512, 3, 2]]
  - [[-1, 11], 1, Concat, [1]]
  - [-1, 3, C2f, [1024]]           # 23 stride 32
  - [[17, 20, 23], 1, Detect, [nc]]
)yaml";

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s data.yaml [epochs=1] [imgsz=128] [project=runs/custom_module]\n", argv[0]);
    return 1;
  }
  const int epochs = argc > 2 ? std::stoi(argv[2]) : 1;
  const int imgsz = argc > 3 ? std::stoi(argv[3]) : 128;
  const std::filesystem::path project = argc > 4 ? argv[4] : "runs/custom_module";
  try {
    // The builder sees the row: its arguments, the channels of the layer it reads, the scale.
    // SqueezeExcite keeps its input channels, so the width rule does not apply to it.
    yolo::nn::register_module("SqueezeExcite", [](const yolo::nn::BuildContext& ctx) {
      const int64_t channels = ctx.single_input();
      return yolo::nn::make_layer(SqueezeExcite(channels, ctx.int_arg(0, 16)), channels);
    });

    std::filesystem::create_directories(project);
    const auto yaml_path = project / "yolov8n-se.yaml";
    std::ofstream(yaml_path) << kModelYaml;

    yolo::Model detector(yaml_path.string());
    std::printf("%s\n", detector.info().c_str());
    auto results = detector.train(yolo::TrainArgs()
                                      .data(argv[1])
                                      .epochs(epochs)
                                      .imgsz(imgsz)
                                      .batch(8)
                                      .workers(2)
                                      .plots(false)
                                      .project(project.string())
                                      .name("train")
                                      .exist_ok(true));
    std::printf("trained %d epoch(s): mAP50 %.4f, mAP50-95 %.4f\n", results.epochs_completed, results.metrics.map50,
                results.metrics.map50_95);

    // The checkpoint stores the YAML; with the block registered, it rebuilds and loads as any other.
    const auto best = std::filesystem::path(results.save_dir) / "weights" / "best.pt";
    yolo::Model reloaded(best.string());
    std::printf("reloaded %s: %s\n", best.string().c_str(), reloaded.info().c_str());
  } catch (const yolo::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
