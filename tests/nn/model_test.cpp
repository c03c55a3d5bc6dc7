// YOLO models built from YAML, checked against figures Ultralytics 8.3.166 produced:
// tests/data/reference/model_summaries.json (a copy of shared/reference) and state_dict dumps of
// DetectionModel('yolov8n.yaml', nc=10) and ClassificationModel('yolov8n-cls.yaml') saved as
// "name shape" lines in tests/data/*_state_names.txt.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "catch.h"
#include "yolo/nn/model.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"

using yolo::nn::YoloModel;

using yolo::test::error_of;

namespace {

YoloModel build(const std::string& name, std::optional<int64_t> nc = std::nullopt) {
  return YoloModel(yolo::nn::load_model_spec(name, nc));
}

std::string shape_text(const torch::Tensor& t) {
  std::string out;
  for (int64_t i = 0; i < t.dim(); ++i) out += (i ? "x" : "") + std::to_string(t.size(i));
  return out;
}

/// "name shape" lines, as dumped from Ultralytics' state_dict().
std::vector<std::pair<std::string, std::string>> read_state_names(const std::string& file) {
  std::ifstream in(yolo::test::data_path(file));
  REQUIRE(in.good());
  std::vector<std::pair<std::string, std::string>> entries;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto space = line.find(' ');
    entries.emplace_back(line.substr(0, space), space == std::string::npos ? "" : line.substr(space + 1));
  }
  return entries;
}

void check_state_names(YoloModel& model, const std::string& fixture) {
  const auto expected = read_state_names(fixture);
  const auto actual = yolo::nn::state_dict(model);
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("entry " << i);
    CHECK(actual[i].first == expected[i].first);
    CHECK(shape_text(actual[i].second) == expected[i].second);
  }
}

}  // namespace

TEST_CASE("parameter and layer counts equal Ultralytics' model_summaries.json", "[nn]") {
  const auto summaries = YAML::LoadFile(yolo::test::data_path("reference/model_summaries.json"));
  const std::regex key_pattern(R"((\S+) nc=(\d+))");
  size_t checked = 0;
  for (const auto& entry : summaries) {
    const auto key = entry.first.as<std::string>();
    if (key == "torchvision") continue;  // torchvision's models, checked in tests/nn/torchvision*
    std::smatch match;
    REQUIRE(std::regex_match(key, match, key_pattern));
    DYNAMIC_SECTION(key) {
      auto model = build(match[1].str(), std::stoll(match[2].str()));
      const auto info = model->info();
      CHECK(info.parameters == entry.second["parameters"].as<int64_t>());
      CHECK(info.gradients == entry.second["gradients"].as<int64_t>());
      CHECK(info.layers == entry.second["layers"].as<int64_t>());
      CHECK(info.leaf_layers == entry.second["info_layers"].as<int64_t>());
    }
    ++checked;
  }
  CHECK(checked == 40);  // yolov8 and yolo11, detect and classify, 5 scales, 2 class counts
}

TEST_CASE("yolov8n state_dict names and shapes equal Ultralytics'", "[nn]") {
  auto detector = build("yolov8n.yaml", 10);
  check_state_names(detector, "yolov8n_nc10_state_names.txt");
  auto classifier = build("yolov8n-cls.yaml");
  check_state_names(classifier, "yolov8n_cls_state_names.txt");
}

TEST_CASE("detector strides, bias prior and output shapes", "[nn]") {
  auto model = build("yolov8n.yaml", 10);
  CHECK(model->strides() == std::vector<double>{8, 16, 32});
  CHECK(model->is_training());

  SECTION("bias_init as Ultralytics: box 1, class log(5 / nc / (640 / s)^2)") {
    auto head = model->detect_head();
    // Values dumped from Ultralytics' DetectionModel('yolov8n.yaml', nc=10).
    const std::vector<double> expected_cls{-9.457200050354004, -8.070905685424805, -6.684611797332764};
    auto state = yolo::nn::state_dict(model);
    std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
    for (int level = 0; level < 3; ++level) {
      auto box = by_name.at("model.22.cv2." + std::to_string(level) + ".2.bias");
      auto cls = by_name.at("model.22.cv3." + std::to_string(level) + ".2.bias");
      CHECK(box.eq(1.0).all().item<bool>());
      CHECK(cls.size(0) == 10);
      CHECK(cls.min().item<double>() == Approx(expected_cls[level]).margin(1e-5));
      CHECK(cls.max().item<double>() == Approx(expected_cls[level]).margin(1e-5));
    }
    auto dfl = by_name.at("model.22.dfl.conv.weight").flatten();
    CHECK(torch::equal(dfl, torch::arange(16, torch::kFloat)));
    CHECK_FALSE(head->dfl->conv->weight.requires_grad());
  }

  SECTION("Ultralytics' batch-norm settings: eps 1e-3, momentum 0.03") {
    auto bn = model->named_modules()["model.0.bn"]->as<torch::nn::BatchNorm2d>();
    REQUIRE(bn != nullptr);
    CHECK(bn->options.eps() == 1e-3);
    CHECK(bn->options.momentum().value() == 0.03);
  }

  SECTION("train: raw levels; eval: decoded [B, 4 + nc, A]") {
    auto x = torch::rand({2, 3, 64, 96});
    auto raw = model->forward_raw(x);
    REQUIRE(raw.size() == 3);
    CHECK(raw[0].sizes() == torch::IntArrayRef{2, 74, 8, 12});
    CHECK(raw[1].sizes() == torch::IntArrayRef{2, 74, 4, 6});
    CHECK(raw[2].sizes() == torch::IntArrayRef{2, 74, 2, 3});
    model->eval();
    torch::NoGradGuard no_grad;
    auto y = model->forward(x);
    CHECK(y.sizes() == torch::IntArrayRef{2, 14, 96 + 24 + 6});
    auto scores = y.narrow(1, 4, 10);
    CHECK(scores.min().item<float>() >= 0);
    CHECK(scores.max().item<float>() <= 1);
    // Box centres lie near their anchors, inside the (padded) image.
    CHECK(y.narrow(1, 0, 2).min().item<float>() > -64);
    CHECK(y.select(1, 0).max().item<float>() < 96 + 64);
  }
}

TEST_CASE("classifier: scale from the name, logits in train, probabilities in eval", "[nn]") {
  auto spec = yolo::nn::load_model_spec("yolov8s-cls.yaml");
  CHECK(spec.scale == "s");
  CHECK(spec.task == "classify");
  CHECK(spec.nc == 1000);
  CHECK(spec.width_multiple == 0.5);
  YoloModel model(spec);
  // Ultralytics 8.3.166: "YOLOv8s-cls summary: ..., 6,361,736 parameters".
  CHECK(model->info().parameters == 6361736);
  CHECK_THROWS_AS(model->detect_head(), yolo::Error);

  auto tiny = build("yolov8n-cls.yaml", 3);
  auto x = torch::rand({2, 3, 64, 64});
  CHECK(tiny->forward_raw(x)[0].sizes() == torch::IntArrayRef{2, 3});
  tiny->eval();
  auto p = tiny->forward(x);
  CHECK(torch::allclose(p.sum(1), torch::ones({2}), 1e-5, 1e-5));
}

TEST_CASE("model names resolve as Ultralytics does", "[nn]") {
  CHECK(yolo::nn::guess_model_scale("yolov8n.yaml") == "n");
  CHECK(yolo::nn::guess_model_scale("path/to/yolov8x-cls.yaml") == "x");
  CHECK(yolo::nn::guess_model_scale("yolov8.yaml").empty());
  CHECK(yolo::nn::load_model_spec("yolov8m.yaml").scale == "m");
  CHECK(yolo::nn::load_model_spec("yolov8l.yaml").max_channels == 512);

  SECTION("a checkpoint's embedded YAML names its scale with a `scale` key") {
    auto text = *yolo::nn::builtin_model_yaml("yolov8.yaml") + "scale: s\n";
    CHECK(yolo::nn::parse_model_spec(text, "embedded").scale == "s");
    CHECK(yolo::nn::parse_model_spec(text, "yolov8m.yaml").scale == "m");  // the name comes first
  }

  SECTION("nc override is logged as Ultralytics logs it") {
    std::vector<std::string> lines;
    yolo::set_log_sink([&](yolo::LogLevel, std::string_view line) { lines.emplace_back(line); });
    auto spec = yolo::nn::load_model_spec("yolov8n.yaml", 10);
    yolo::set_log_sink({});
    CHECK(spec.nc == 10);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "Overriding model.yaml nc=80 with nc=10");
  }

  SECTION("a file on disk comes before the built-ins") {
    const std::string path = (std::filesystem::temp_directory_path() / "yolov8n.yaml").string();
    {
      std::ofstream out(path);
      out << *yolo::nn::builtin_model_yaml("yolov8.yaml");
      out << "\n# from disk\n";
    }
    auto spec = yolo::nn::load_model_spec(path);
    CHECK(spec.yaml_text.find("# from disk") != std::string::npos);
    CHECK(spec.scale == "n");
    std::filesystem::remove(path);
  }

  SECTION("an unknown name lists every built-in model, with a suggestion") {
    const auto message = error_of([] { yolo::nn::load_model_spec("yolo11q.yaml"); });
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("'yolo11q.yaml' is neither a file nor a built-in model"));
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("Did you mean 'yolo11"));
    for (const auto* family : {"yolov8", "yolo11"}) {
      for (const auto* scale : {"n", "s", "m", "l", "x"}) {
        CHECK_THAT(message, Catch::Matchers::ContainsSubstring(std::string(family) + scale + ".yaml"));
        CHECK_THAT(message, Catch::Matchers::ContainsSubstring(std::string(family) + scale + "-cls.yaml"));
      }
    }
    CHECK(yolo::nn::builtin_model_variants().size() == 20);
  }
}

TEST_CASE("model YAML errors name the file, the row and the fix", "[nn]") {
  const std::string header = "nc: 4\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n";
  SECTION("unknown module, with a suggestion") {
    const auto message = error_of([&] {
      yolo::nn::parse_model_spec(header + "head:\n  - [-1, 1, C2F, [16]]\n  - [-1, 1, Classify, [nc]]\n", "bad.yaml");
    });
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("bad.yaml"));
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("layer 1 (head row 0)"));
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("unknown module 'C2F'"));
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("Did you mean 'C2f'?"));
  }
  SECTION("'from' naming a later layer") {
    const auto message = error_of([&] {
      yolo::nn::parse_model_spec(header + "head:\n  - [[-1, 5], 1, Concat, [1]]\n  - [-1, 1, Classify, [nc]]\n",
                                 "bad.yaml");
    });
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("bad.yaml: layer 1 (head row 0)"));
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("'from' index 5"));
  }
  SECTION("'from' reaching before the first layer") {
    const auto message = error_of([&] {
      yolo::nn::parse_model_spec(header + "head:\n  - [-3, 1, Conv, [8]]\n  - [-1, 1, Classify, [nc]]\n",
                                 "bad.yaml");
    });
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("'from' index -3"));
  }
  SECTION("a row that is not [from, repeats, module, args]") {
    const auto message = error_of([&] {
      yolo::nn::parse_model_spec(header + "head:\n  - [-1, Classify, [nc]]\n", "bad.yaml");
    });
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("bad.yaml: layer 1 (head row 0)"));
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("[from, repeats, module, [args...]]"));
  }
  SECTION("a head that is neither Detect nor Classify") {
    const auto message =
        error_of([&] { yolo::nn::parse_model_spec(header + "head:\n  - [-1, 1, Conv, [8]]\n", "bad.yaml"); });
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("Detect"));
  }
}

TEST_CASE("a custom YAML: legacy multiples, C3, SPP, repeated Conv, nn.Upsample", "[nn]") {
  const std::string yaml = R"(
nc: 3
depth_multiple: 0.5
width_multiple: 0.5
backbone:
  - [-1, 1, Conv, [32, 3, 2]]
  - [-1, 4, C3, [64]]
  - [-1, 2, Conv, [64, 3, 1]]
  - [-1, 1, SPP, [64, [5, 9, 13]]]
  - [-1, 1, Conv, [128, 3, 2]]
head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 3], 1, Concat, [1]]
  - [-1, 1, Bottleneck, [64, False]]
  - [[7, 4], 1, Detect, [nc]]
)";
  auto spec = yolo::nn::parse_model_spec(yaml, "custom.yaml");
  CHECK(spec.task == "detect");
  YoloModel model(spec);
  auto state = yolo::nn::state_dict(model);
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  CHECK(by_name.at("model.0.conv.weight").size(0) == 16);           // 32 * 0.5
  CHECK(by_name.count("model.1.m.1.cv1.conv.weight") == 1);         // 4 repeats * 0.5 = 2 bottlenecks
  CHECK(by_name.count("model.1.m.2.cv1.conv.weight") == 0);
  CHECK(by_name.count("model.2.conv.weight") == 1);                 // Conv x round(2 * 0.5) = 1: no list
  CHECK(by_name.at("model.3.cv2.conv.weight").size(1) == 16 * 4);   // SPP concatenates 4 maps of c1/2
  CHECK(by_name.at("model.7.cv1.conv.weight").size(1) == 96);       // 64 upsampled + 32 from layer 3
  CHECK(model->strides() == std::vector<double>{2, 4});
}

TEST_CASE("transfer_weights copies by name and shape", "[nn]") {
  auto source = build("yolov8n.yaml", 10);
  auto target = build("yolov8n.yaml", 10);
  auto state = yolo::nn::state_dict(source);
  std::vector<std::pair<std::string, torch::Tensor>> half;
  for (auto& [name, tensor] : state)
    half.emplace_back(name, tensor.is_floating_point() ? tensor.to(torch::kHalf) : tensor);

  auto report = yolo::nn::transfer_weights(target, half);
  CHECK(report.transferred == 355);
  CHECK(report.total == 355);
  CHECK(report.missing.empty());
  auto w = yolo::nn::state_dict(target)[0].second;
  CHECK(w.scalar_type() == torch::kFloat);
  CHECK(torch::allclose(w, state[0].second, 1e-3, 1e-3));

  auto other_classes = build("yolov8n.yaml", 3);
  report = yolo::nn::transfer_weights(other_classes, state);
  CHECK(report.mismatched.size() == 6);  // the class convs' weights and biases, 3 levels
  CHECK(report.transferred == 355 - 6);
}

TEST_CASE("model summary line", "[nn]") {
  auto model = build("yolov8n.yaml");
  const auto line = yolo::nn::format_info(*model);
  // Ultralytics 8.3.166 counts the modules without children as layers.
  CHECK_THAT(line, Catch::Matchers::ContainsSubstring("YOLOv8n summary: 129 layers, 3,157,200 parameters, "
                                                      "3,157,184 gradients"));
  auto yolo11 = build("yolo11n.yaml");
  CHECK_THAT(yolo::nn::format_info(*yolo11),
             Catch::Matchers::ContainsSubstring("YOLO11n summary: 181 layers, 2,624,080 parameters, "
                                                "2,624,064 gradients"));
}

TEST_CASE("GFLOPs as Ultralytics' summaries print them (thop rules, imgsz 640)", "[nn]") {
  // Ultralytics' unfused model summaries: "YOLOv8n summary: 129 layers, 3157200 parameters,
  // 3157184 gradients, 8.9 GFLOPs", and likewise for the other scales (nc=80, 1000 for -cls).
  const std::vector<std::pair<std::string, double>> published{
      {"yolov8n.yaml", 8.9}, {"yolov8s.yaml", 28.8}, {"yolov8m.yaml", 79.3}, {"yolov8n-cls.yaml", 4.4}};
  for (const auto& [name, gflops] : published) {
    auto model = build(name);
    INFO(name);
    CHECK(model->info().gflops == Approx(gflops).margin(0.05));
  }
}

TEST_CASE("info() leaves the model as it found it", "[nn]") {
  auto model = build("yolov8n.yaml");
  auto bn = model->named_modules()["model.0.bn"]->as<torch::nn::BatchNorm2d>();
  const auto mean_before = bn->running_mean.clone();
  model->info();
  CHECK(model->is_training());
  CHECK(torch::equal(bn->running_mean, mean_before));
  CHECK(bn->num_batches_tracked.item<int64_t>() == 0);
  model->eval();
  model->info();
  CHECK_FALSE(model->is_training());
}

TEST_CASE("fuse() folds batch norms into convolutions", "[nn]") {
  auto model = build("yolov8n.yaml");
  {
    // Non-trivial statistics, so that folding them is tested.
    torch::NoGradGuard no_grad;
    for (const auto& module : model->modules(/*include_self=*/false)) {
      if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
        bn->running_mean.uniform_(-0.5, 0.5);
        bn->running_var.uniform_(0.5, 2.0);
        bn->weight.uniform_(0.5, 1.5);
        bn->bias.uniform_(-0.5, 0.5);
      }
    }
  }
  model->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::rand({1, 3, 128, 128});
  auto unfused = model->forward(x);
  model->fuse();
  auto fused = model->forward(x);
  CHECK(model->is_fused());
  CHECK((fused.narrow(1, 0, 4) - unfused.narrow(1, 0, 4)).abs().max().item<float>() < 1e-2f);
  CHECK((fused.narrow(1, 4, 80) - unfused.narrow(1, 4, 80)).abs().max().item<float>() < 1e-4f);

  // Ultralytics' fused summary: "YOLOv8n summary (fused): 72 layers, 3,151,904 parameters, 0 gradients, 8.7 GFLOPs"
  // (72 modules without children; 168 modules in all).
  const auto info = model->info();
  CHECK(info.layers == 168);
  CHECK(info.leaf_layers == 72);
  CHECK(info.parameters == 3151904);
  CHECK(info.gflops == Approx(8.7).margin(0.05));
  const auto names = yolo::nn::state_dict(model);
  CHECK(names[0].first == "model.0.conv.weight");
  CHECK(names[1].first == "model.0.conv.bias");
  CHECK_THAT(yolo::nn::format_info(*model), Catch::Matchers::ContainsSubstring("YOLOv8n summary (fused): 72 layers"));
}
