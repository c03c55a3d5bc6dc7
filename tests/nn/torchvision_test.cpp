// torchvision classifiers against torchvision 0.14's own figures. Fixtures in tests/data/torchvision
// (remade by its make_fixtures.py with Debian's python3-torchvision):
// - model_summaries.json: the "torchvision" section of ../shared/reference/model_summaries.json;
//   extra_counts.json: the same figures for archs that file does not list; *_state_names.txt: state_dict names and shapes.
// - densenet_g12_nc10.pth + _logits.npy, tv_input.npy: copies of ../shared/reference's (fp32 DenseNet-g12);
//   densenet_tiny_fp16.pth + _logits.npy: a tiny DenseNet stored in fp16 as torchvision wrote it.
// - resnet18_nc10 / resnext50_32x4d_nc10 / wide_resnet50_2_nc10 / densenet_g12_nc10 _logits.npy: torchvision's
//   logits of models made after torch.manual_seed(0) (tv_forward.json's recipe), which the tests remake from the
//   same seed, since LibTorch draws the same numbers (rng_canary.npy checks that).
// - ../shared/reference/resnet18_nc10.pth (22 MB, not committed): loaded when ../shared exists, skipped otherwise.
#include <filesystem>
#include <map>
#include <regex>

#include <yaml-cpp/yaml.h>

#include "catch.h"
#include "io/checkpoint.h"
#include "nn/torchvision.h"
#include "parity/reference_input.h"
#include "yolo/nn/model.h"

using yolo::nn::TorchvisionClassifier;
using yolo::nn::TorchvisionOptions;
using yolo::test::error_of;
using Catch::Matchers::ContainsSubstring;

namespace {

constexpr double kLogitTolerance = 1e-4;

std::string fixture(const std::string& name) { return yolo::test::data_path("torchvision/" + name); }

std::string shared_reference(const std::string& name) { return std::string(YOLO_SHARED_DIR) + "/reference/" + name; }

/// torchvision's DenseNet(growth_rate=12, block_config=(6, 12, 24, 16), num_init_features=24).
TorchvisionOptions densenet_g12(int64_t num_classes = 10) {
  return TorchvisionOptions("densenet121").growth_rate(12).num_init_features(24).block_config({6, 12, 24, 16}).num_classes(
      num_classes);
}

/// The options a model_summaries.json key names: "resnet18 num_classes=10", "DenseNet(growth_rate=12, ...) num_classes=10".
TorchvisionOptions options_of(const std::string& key) {
  static const std::regex pattern(R"((\S+|DenseNet\(.*\)) num_classes=(\d+))");
  std::smatch match;
  REQUIRE(std::regex_match(key, match, pattern));
  const int64_t num_classes = std::stoll(match[2].str());
  if (match[1].str().rfind("DenseNet(", 0) == 0) {
    REQUIRE(match[1].str() == "DenseNet(growth_rate=12, block_config=(6, 12, 24, 16), num_init_features=24)");
    return densenet_g12(num_classes);
  }
  return TorchvisionOptions(match[1].str()).num_classes(num_classes);
}

void check_counts(const std::string& key, const YAML::Node& expected) {
  TorchvisionClassifier model(options_of(key));
  int64_t parameters = 0, buffers = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  for (const auto& b : model->buffers()) buffers += b.numel();
  CHECK(parameters == expected["parameters"].as<int64_t>());
  if (expected["buffers"]) CHECK(buffers == expected["buffers"].as<int64_t>());
  if (expected["state_dict_tensors"])
    CHECK(static_cast<int64_t>(yolo::nn::state_dict(*model).size()) == expected["state_dict_tensors"].as<int64_t>());
}

torch::Tensor eval_logits(TorchvisionClassifier& model) {
  model->eval();
  torch::NoGradGuard no_grad;
  return model->forward(yolo::test::read_npy_float32(fixture("tv_input.npy")));
}

/// Max abs difference of the model's eval logits on tv_input.npy from torchvision's.
double logit_error(TorchvisionClassifier& model, const std::string& logits_file) {
  const auto expected = yolo::test::read_npy_float32(logits_file);
  const auto actual = eval_logits(model);
  REQUIRE(actual.sizes() == expected.sizes());
  return (actual - expected).abs().max().item<double>();
}

void load(TorchvisionClassifier& model, const std::string& path) {
  yolo::nn::load_torchvision_state(*model, yolo::io::load_checkpoint(path).model_state(), path);
}

/// tv_forward.json's recipe after construction: every batch norm perturbed in module order so that eval mode
/// is not an identity, then (for the ResNets) every floating tensor rounded through fp16.
void perturb_as_reference(TorchvisionClassifier& model, bool fp16) {
  torch::NoGradGuard no_grad;
  for (const auto& module : model->modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      const int64_t c = bn->options.num_features();
      bn->running_mean.copy_(torch::randn({c}) * 0.1);
      bn->running_var.copy_(1 + torch::rand({c}) * 0.5);
      bn->weight.copy_(1 + 0.1 * torch::randn({c}));
      bn->bias.copy_(0.1 * torch::randn({c}));
    }
  }
  if (!fp16) return;
  for (auto& [name, tensor] : yolo::nn::state_dict(*model))
    if (tensor.is_floating_point()) tensor.copy_(tensor.to(torch::kHalf).to(torch::kFloat));
}

/// Whether LibTorch draws the random numbers torch 1.13 drew for rng_canary.npy (make_fixtures.py).
bool draws_as_torch_1_13() {
  torch::manual_seed(0);
  const std::vector<torch::Tensor> draws{torch::randn({100}), torch::rand({37}), torch::empty({50}).uniform_(-1, 1),
                                         torch::empty({3, 3}).normal_(0, 2), torch::empty({16, 3, 3, 3}).normal_(0, 0.1)};
  std::vector<torch::Tensor> flat;
  for (const auto& d : draws) flat.push_back(d.flatten());
  return torch::equal(torch::cat(flat), yolo::test::read_npy_float32(fixture("rng_canary.npy")));
}

/// fp16 files load into fp32 tensors; the batch counters stay int64.
void check_loaded_as_fp32(TorchvisionClassifier& model) {
  for (const auto& [name, tensor] : yolo::nn::state_dict(*model)) {
    INFO(name);
    CHECK(tensor.scalar_type() == (name.find("num_batches_tracked") == std::string::npos ? torch::kFloat : torch::kLong));
  }
}

std::vector<std::pair<std::string, std::string>> read_state_names(const std::string& file) {
  std::ifstream in(file);
  REQUIRE(in.good());
  std::vector<std::pair<std::string, std::string>> entries;
  for (std::string line; std::getline(in, line);) {
    const auto space = line.find(' ');
    if (space != std::string::npos) entries.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return entries;
}

std::string shape_text(const torch::Tensor& t) {
  std::string out;
  for (int64_t i = 0; i < t.dim(); ++i) out += (i ? "x" : "") + std::to_string(t.size(i));
  return out;
}

}  // namespace

TEST_CASE("torchvision parameter, buffer and state_dict counts equal torchvision's", "[nn][torchvision]") {
  // Each model is built, counted and freed in turn (wide_resnet101_2 holds 127 M parameters).
  size_t checked = 0;
  for (const auto* file : {"model_summaries.json", "extra_counts.json"}) {
    const auto summaries = YAML::LoadFile(fixture(file));
    const auto entries = file == std::string("model_summaries.json") ? summaries["torchvision"] : summaries;
    for (const auto& entry : entries) {
      const auto key = entry.first.as<std::string>();
      if (!entry.second.IsMap()) continue;  // extra_counts.json's "torchvision" version
      DYNAMIC_SECTION(key) { check_counts(key, entry.second); }
      ++checked;
    }
  }
  CHECK(checked == 23 + 3);
}

TEST_CASE("torchvision state_dict names, order and shapes equal torchvision's", "[nn][torchvision]") {
  const auto arch = GENERATE(as<std::string>{}, "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2",
                             "densenet161");
  INFO(arch);
  TorchvisionClassifier model{TorchvisionOptions(arch)};
  const auto expected = read_state_names(fixture(arch + "_state_names.txt"));
  const auto actual = yolo::nn::state_dict(*model);
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("entry " << i);
    REQUIRE(actual[i].first == expected[i].first);
    CHECK(shape_text(actual[i].second) == expected[i].second);
  }
  CHECK(actual.back().first == (arch == "densenet161" ? "classifier.bias" : "fc.bias"));
}

TEST_CASE("torchvision DenseNet .pth files load through the checkpoint reader with logit parity",
          "[nn][torchvision][parity]") {
  SECTION("DenseNet-g12, fp32 (../shared/reference/densenet_g12_nc10.pth)") {
    TorchvisionClassifier model(densenet_g12());
    const auto state = yolo::io::load_checkpoint(fixture("densenet_g12_nc10.pth")).model_state();
    CHECK(state.size() == 727);
    CHECK(yolo::nn::torchvision_num_classes(state, "densenet_g12_nc10.pth") == 10);
    yolo::nn::load_torchvision_state(*model, state, "densenet_g12_nc10.pth");
    const double error = logit_error(model, fixture("densenet_g12_nc10_logits.npy"));
    WARN("DenseNet-g12 max |logit error| " << error);
    CHECK(error <= kLogitTolerance);
  }
  SECTION("a tiny DenseNet stored in fp16 (two blocks, bn_size 2, 3 classes)") {
    TorchvisionClassifier model(
        TorchvisionOptions("densenet121").growth_rate(4).block_config({2, 3}).num_init_features(8).bn_size(2).num_classes(3));
    load(model, fixture("densenet_tiny_fp16.pth"));
    check_loaded_as_fp32(model);
    const double error = logit_error(model, fixture("densenet_tiny_fp16_logits.npy"));
    WARN("tiny fp16 DenseNet max |logit error| " << error);
    CHECK(error <= kLogitTolerance);
  }
  SECTION("files as old as torchvision's ImageNet weights: legacy DenseNet names, no batch-norm counters") {
    // densenet121-a639ec97.pth names denselayer1.norm1.weight `denselayer1.norm.1.weight` and, saved by
    // PyTorch < 0.4.1, has no num_batches_tracked; torchvision renames the one and PyTorch zeroes the other.
    const std::regex modern(R"((denselayer\d+\.(?:norm|conv))([12])\.)");
    std::vector<std::pair<std::string, torch::Tensor>> legacy;
    for (const auto& [name, tensor] : yolo::io::load_checkpoint(fixture("densenet_g12_nc10.pth")).model_state())
      if (name.find("num_batches_tracked") == std::string::npos)
        legacy.emplace_back(std::regex_replace(name, modern, "$1.$2."), tensor);
    REQUIRE(legacy.size() == 727 - 121);
    CHECK(legacy[5].first == "features.denseblock1.denselayer1.norm.1.weight");
    TorchvisionClassifier model(densenet_g12());
    yolo::nn::load_torchvision_state(*model, legacy, "legacy names");
    CHECK(logit_error(model, fixture("densenet_g12_nc10_logits.npy")) <= kLogitTolerance);
    for (const auto& buffer : model->named_buffers())
      if (buffer.key().find("num_batches_tracked") != std::string::npos) CHECK(buffer->item<int64_t>() == 0);
  }
}

TEST_CASE("torchvision ResNet-18 fp16 .pth from ../shared loads with logit parity", "[nn][torchvision][parity]") {
  const auto path = shared_reference("resnet18_nc10.pth");
  if (!std::filesystem::exists(path)) YOLO_SKIP("../shared/reference/resnet18_nc10.pth is absent (22 MB, not committed)");
  TorchvisionClassifier model(TorchvisionOptions("resnet18").num_classes(10));
  const auto state = yolo::io::load_checkpoint(path).model_state();
  REQUIRE(state.size() == 122);
  CHECK(state.front().second.scalar_type() == torch::kHalf);
  yolo::nn::load_torchvision_state(*model, state, path);
  check_loaded_as_fp32(model);
  const double error = logit_error(model, shared_reference("resnet18_nc10_logits.npy"));
  WARN("ResNet-18 (shared fp16 file) max |logit error| " << error);
  CHECK(error <= kLogitTolerance);
}

TEST_CASE("torchvision models built after the same seed equal torchvision's: init and forward",
          "[nn][torchvision][parity]") {
  if (!draws_as_torch_1_13())
    YOLO_SKIP("this LibTorch draws other random numbers than torch 1.13 did for rng_canary.npy: seeded init not comparable");
  struct Case {
    const char* logits;
    TorchvisionOptions options;
    bool fp16;
    const char* shared_pth;  // the same model, stored in ../shared/reference
  };
  const auto c = GENERATE(values<Case>({
      {"resnet18_nc10_logits.npy", TorchvisionOptions("resnet18").num_classes(10), true, "resnet18_nc10.pth"},
      {"resnext50_32x4d_nc10_logits.npy", TorchvisionOptions("resnext50_32x4d").num_classes(10), true, ""},
      {"wide_resnet50_2_nc10_logits.npy", TorchvisionOptions("wide_resnet50_2").num_classes(10), true, ""},
      {"densenet_g12_nc10_logits.npy", densenet_g12(), false, "densenet_g12_nc10.pth"},
  }));
  INFO(c.logits);
  torch::manual_seed(0);
  TorchvisionClassifier model(c.options);
  perturb_as_reference(model, c.fp16);
  const double error = logit_error(model, fixture(c.logits));
  WARN(c.logits << ": seeded model's max |logit error| " << error);
  CHECK(error <= kLogitTolerance);

  // Every weight equals the stored one: the same initialisation, draw for draw.
  const auto shared = shared_reference(c.shared_pth);
  if (*c.shared_pth && std::filesystem::exists(shared)) {
    const auto stored = yolo::io::load_checkpoint(shared).model_state();
    const auto ours = yolo::nn::state_dict(*model);
    REQUIRE(stored.size() == ours.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      INFO(ours[i].first);
      REQUIRE(stored[i].first == ours[i].first);
      CHECK(torch::equal(stored[i].second.to(ours[i].second.scalar_type()), ours[i].second));
    }
  }
}

TEST_CASE("torchvision initialisation: kaiming-normal convolutions, unit batch norms, torchvision's classifiers",
          "[nn][torchvision]") {
  // Statistics that hold for any random stream (the seeded test above checks the draws themselves).
  const auto check_convs = [](TorchvisionClassifier& model, bool fan_out) {
    for (const auto& item : model->named_parameters()) {
      const auto& w = item.value();
      if (w.dim() != 4 || w.numel() < 4096) continue;
      INFO(item.key());
      const double fan = static_cast<double>(w.numel() / (fan_out ? w.size(1) : w.size(0)));
      const double expected = std::sqrt(2.0 / fan);
      CHECK(w.std().item<double>() == Approx(expected).epsilon(0.05));
      CHECK(std::abs(w.mean().item<double>()) < 0.1 * expected);
    }
  };
  const auto check_batch_norms = [](TorchvisionClassifier& model) {
    for (const auto& module : model->modules(false)) {
      if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
        CHECK(torch::all(bn->weight == 1).item<bool>());
        CHECK(torch::all(bn->bias == 0).item<bool>());
      }
    }
  };
  SECTION("resnet50: fan_out, fc as nn.Linear's default") {
    TorchvisionClassifier model(TorchvisionOptions("resnet50"));
    check_convs(model, /*fan_out=*/true);
    check_batch_norms(model);
    auto params = model->named_parameters();
    const double bound = 1 / std::sqrt(2048.0);
    CHECK(params["fc.weight"].abs().max().item<double>() <= bound);
    CHECK(params["fc.weight"].abs().max().item<double>() > 0.9 * bound);
    CHECK(params["fc.bias"].abs().max().item<double>() <= bound);
    CHECK(params["fc.bias"].abs().max().item<double>() > 0);
  }
  SECTION("densenet121: fan_in, classifier bias 0") {
    TorchvisionClassifier model(TorchvisionOptions("densenet121"));
    check_convs(model, /*fan_out=*/false);
    check_batch_norms(model);
    auto params = model->named_parameters();
    CHECK(params["classifier.weight"].abs().max().item<double>() <= 1 / std::sqrt(1024.0));
    CHECK(torch::all(params["classifier.bias"] == 0).item<bool>());
  }
}

TEST_CASE("torchvision reset_classifier replaces only the last layer", "[nn][torchvision]") {
  TorchvisionClassifier model(densenet_g12());
  load(model, fixture("densenet_g12_nc10.pth"));
  model->eval();
  const auto before = yolo::nn::state_dict(*model);
  std::map<std::string, torch::Tensor> kept;
  for (const auto& [name, tensor] : before) kept.emplace(name, tensor.clone());

  model->reset_classifier(4);
  CHECK(model->options().num_classes() == 4);
  const auto after = yolo::nn::state_dict(*model);
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    INFO(after[i].first);
    REQUIRE(after[i].first == before[i].first);
    if (after[i].first.rfind("classifier.", 0) == 0) continue;
    CHECK(torch::equal(after[i].second, kept.at(after[i].first)));
  }
  auto params = model->named_parameters();
  CHECK(params["classifier.weight"].sizes() == torch::IntArrayRef{4, 384});
  CHECK(torch::all(params["classifier.bias"] == 0).item<bool>());
  CHECK_FALSE(model->children().back()->is_training());  // follows the model's eval mode
  CHECK(eval_logits(model).sizes() == torch::IntArrayRef{2, 4});

  SECTION("a ResNet's fc, on the model's dtype") {
    TorchvisionClassifier resnet(TorchvisionOptions("resnet18").layers({1, 1, 1, 1}));
    resnet->to(torch::kDouble);
    resnet->reset_classifier(3);
    auto fc = resnet->named_parameters()["fc.weight"];
    CHECK(fc.scalar_type() == torch::kDouble);
    CHECK(fc.sizes() == torch::IntArrayRef{3, 512});
    CHECK(resnet->forward(torch::rand({2, 3, 32, 32}, torch::kDouble)).sizes() == torch::IntArrayRef{2, 3});
  }
}

TEST_CASE("torchvision models train: gradients reach every parameter, batch norms and dropout as torchvision",
          "[nn][torchvision]") {
  SECTION("DenseNet with drop_rate") {
    TorchvisionClassifier model(TorchvisionOptions("densenet121").growth_rate(4).block_config({2, 2}).num_init_features(8).drop_rate(0.5).num_classes(3));
    const auto x = torch::rand({2, 3, 32, 32});
    torch::manual_seed(3);
    const auto a = model->forward(x);
    const auto b = model->forward(x);
    CHECK_FALSE(torch::allclose(a, b));  // dropout is on in train mode
    a.sum().backward();
    for (const auto& p : model->named_parameters()) {
      INFO(p.key());
      REQUIRE(p->grad().defined());
      CHECK(p->grad().abs().sum().item<double>() > 0);
    }
    model->eval();
    torch::NoGradGuard no_grad;
    CHECK(torch::equal(model->forward(x), model->forward(x)));
  }
  SECTION("ResNeXt-style bottlenecks with one block per stage") {
    TorchvisionClassifier model(TorchvisionOptions("resnext50_32x4d").layers({1, 1, 1, 1}).num_classes(5));
    model->forward(torch::rand({2, 3, 32, 32})).logsumexp(1).sum().backward();
    for (const auto& p : model->named_parameters()) {
      INFO(p.key());
      REQUIRE(p->grad().defined());
    }
    auto buffers = model->named_buffers();
    CHECK(buffers["layer4.0.bn3.num_batches_tracked"].item<int64_t>() == 1);
    CHECK(buffers["layer1.0.downsample.1.running_mean"].abs().sum().item<double>() > 0);
  }
}

TEST_CASE("torchvision errors name what is wrong", "[nn][torchvision]") {
  SECTION("an unknown arch lists the known ones with a suggestion") {
    const auto message = error_of([] { TorchvisionClassifier(TorchvisionOptions("resnet19")); });
    CHECK_THAT(message, ContainsSubstring("unknown torchvision model 'resnet19'"));
    CHECK_THAT(message, ContainsSubstring("densenet201"));
    CHECK_THAT(message, ContainsSubstring("Did you mean 'resnet18'"));
    CHECK(yolo::nn::torchvision_model_names().size() == 14);
    CHECK(yolo::nn::is_torchvision_model("wide_resnet50_2"));
    CHECK_FALSE(yolo::nn::is_torchvision_model("yolov8n-cls.yaml"));
  }
  SECTION("options the arch does not take") {
    CHECK_THAT(error_of([] { TorchvisionClassifier(TorchvisionOptions("resnet50").growth_rate(12)); }),
               ContainsSubstring("growth_rate is a DenseNet option"));
    CHECK_THAT(error_of([] { TorchvisionClassifier(TorchvisionOptions("densenet121").groups(2)); }),
               ContainsSubstring("groups is a ResNet option"));
    CHECK_THAT(error_of([] { TorchvisionClassifier(TorchvisionOptions("resnet18").groups(32)); }),
               ContainsSubstring("BasicBlock takes only groups=1"));
    CHECK_THAT(error_of([] { TorchvisionClassifier(TorchvisionOptions("resnet18").layers({2, 2, 2})); }),
               ContainsSubstring("layers must be 4 block counts"));
    CHECK_THAT(error_of([] { TorchvisionClassifier(TorchvisionOptions("densenet121").drop_rate(1.0)); }),
               ContainsSubstring("drop_rate must be in [0, 1)"));
    CHECK_THAT(error_of([] { TorchvisionClassifier(TorchvisionOptions("resnet18").num_classes(0)); }),
               ContainsSubstring("num_classes must be at least 1"));
  }
  SECTION("images of the wrong shape") {
    TorchvisionClassifier model(TorchvisionOptions("resnet18").layers({1, 1, 1, 1}));
    CHECK_THAT(error_of([&] { model->forward(torch::rand({2, 1, 32, 32})); }),
               ContainsSubstring("expects images [batch, 3, height, width], got a tensor of shape [2, 1, 32, 32]"));
  }
  SECTION("a state dict of another architecture is refused, and the model is left as it was") {
    const auto state = yolo::io::load_checkpoint(fixture("densenet_g12_nc10.pth")).model_state();
    TorchvisionClassifier densenet(TorchvisionOptions("densenet121").num_classes(10));
    const auto conv0 = densenet->named_parameters()["features.conv0.weight"].clone();
    auto message = error_of([&] { yolo::nn::load_torchvision_state(*densenet, state, "g12.pth"); });
    CHECK_THAT(message, ContainsSubstring("g12.pth: does not fit densenet121 with 10 classes"));
    CHECK_THAT(message, ContainsSubstring("of another shape: features.conv0.weight [24, 3, 7, 7] (the model's is [64, 3, 7, 7])"));
    CHECK(torch::equal(densenet->named_parameters()["features.conv0.weight"], conv0));

    TorchvisionClassifier resnet(TorchvisionOptions("resnet18").num_classes(10));
    message = error_of([&] { yolo::nn::load_torchvision_state(*resnet, state, "g12.pth"); });
    CHECK_THAT(message, ContainsSubstring("102 missing: conv1.weight, bn1.weight, bn1.bias, bn1.running_mean and 98 more"));
    CHECK_THAT(message, ContainsSubstring("727 unexpected: features.conv0.weight"));
  }
  SECTION("another class count says how to fine-tune") {
    const auto state = yolo::io::load_checkpoint(fixture("densenet_g12_nc10.pth")).model_state();
    TorchvisionClassifier model(densenet_g12(5));
    const auto message = error_of([&] { yolo::nn::load_torchvision_state(*model, state, "g12.pth"); });
    CHECK_THAT(message, ContainsSubstring("classifier.weight [10, 384] (the model's is [5, 384])"));
    CHECK_THAT(message, ContainsSubstring("saved with 10 classes: build the model with num_classes=10"));
  }
  SECTION("a state dict without a classifier") {
    CHECK_THAT(error_of([] { yolo::nn::torchvision_num_classes({{"conv1.weight", torch::zeros({1})}}, "x.pth"); }),
               ContainsSubstring("x.pth: no fc.weight or classifier.weight"));
  }
}
