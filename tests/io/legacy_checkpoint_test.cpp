// Files torch.save wrote before PyTorch 1.6 (the legacy format): tests/data/legacy_pth holds objects
// that torch 1.13 saved in both formats (make_fixtures.py there); both must read to the values torch
// saved. Broken and hostile legacy files are in hostile_input_test.cpp.
#include <string>
#include <vector>

#include "catch.h"
#include "io/checkpoint.h"
#include "nn/torchvision.h"
#include "yolo/utils/error.h"

using yolo::io::PickleValue;

namespace {

std::string fixture(const std::string& name) { return yolo::test::data_path("legacy_pth/" + name); }

/// Same names, dtypes, shapes and values, in the same order.
void check_same_state(const yolo::io::StateDict& a, const yolo::io::StateDict& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second.scalar_type() == b[i].second.scalar_type());
    CHECK(a[i].second.sizes() == b[i].second.sizes());
    CHECK(torch::equal(a[i].second, b[i].second));
  }
}

const torch::Tensor& tensor_named(const yolo::io::StateDict& state, const std::string& name) {
  for (const auto& [n, t] : state)
    if (n == name) return t;
  FAIL("no tensor " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("legacy .pth: a list of tensors of every common dtype", "[io][legacy]") {
  const auto legacy = yolo::io::load_checkpoint(fixture("tensors_legacy.pth")).root();
  const auto zip = yolo::io::load_checkpoint(fixture("tensors_zip.pth")).root();
  REQUIRE(legacy.items().size() == 7);
  REQUIRE(zip.items().size() == 7);
  for (size_t i = 0; i < 7; ++i) {
    INFO("tensor " << i);
    const auto& a = legacy.items()[i].as_tensor();
    const auto& b = zip.items()[i].as_tensor();
    CHECK(a.scalar_type() == b.scalar_type());
    CHECK(a.sizes() == b.sizes());
    CHECK(torch::equal(a, b));
  }
  // The values make_fixtures.py saved.
  const auto& t = legacy.items();
  CHECK(torch::equal(t[0].as_tensor(), torch::arange(6, torch::kFloat32).reshape({2, 3})));
  CHECK(torch::equal(t[1].as_tensor(), torch::tensor({0.5, -2.0, 65504.0}).to(torch::kFloat16)));
  CHECK(torch::equal(t[2].as_tensor(), torch::tensor({int64_t{1}, int64_t{-1}, int64_t{1} << 40})));
  CHECK(t[3].as_tensor().dim() == 0);
  CHECK(t[3].as_tensor().scalar_type() == torch::kFloat64);
  CHECK(t[3].as_tensor().item<double>() == 2.25);
  CHECK(torch::equal(t[4].as_tensor(), torch::tensor({0, 255}).to(torch::kUInt8)));
  CHECK(torch::equal(t[5].as_tensor(), torch::tensor({true, false})));
  CHECK(t[6].as_tensor().sizes() == torch::IntArrayRef({0, 3}));
}

TEST_CASE("legacy .pth: an fp16 state dict with int64 counters and views of one shared storage", "[io][legacy]") {
  const auto legacy = yolo::io::load_checkpoint(fixture("state_dict_legacy.pth")).model_state();
  const auto zip = yolo::io::load_checkpoint(fixture("state_dict_zip.pth")).model_state();
  check_same_state(legacy, zip);
  REQUIRE(legacy.size() == 11);
  CHECK(legacy[0].first == "0.weight");
  CHECK(legacy[0].second.scalar_type() == torch::kFloat16);
  CHECK(legacy[0].second.sizes() == torch::IntArrayRef({3, 2, 3, 3}));
  const auto& counter = tensor_named(legacy, "1.num_batches_tracked");
  CHECK(counter.scalar_type() == torch::kInt64);
  CHECK(counter.item<int64_t>() == 7);

  // base = arange(12).reshape(3, 4) and three views of its storage: a row (offset 4), a column
  // (offset 2, stride 4) and the transpose (strides 1, 4).
  const auto base = torch::arange(12, torch::kFloat32).reshape({3, 4});
  const auto& stored = tensor_named(legacy, "shared.base");
  CHECK(torch::equal(stored, base));
  const auto& row = tensor_named(legacy, "shared.row");
  CHECK(torch::equal(row, base[1]));
  CHECK(torch::equal(tensor_named(legacy, "shared.col"), base.select(1, 2)));
  CHECK(torch::equal(tensor_named(legacy, "shared.t"), base.t()));
  // The storage is read once: a contiguous view shares it.
  CHECK(row.data_ptr<float>() == stored.data_ptr<float>() + 4);
}

TEST_CASE("legacy .pth: a checkpoint laid out as Ultralytics', with a pickled module tree", "[io][legacy]") {
  const auto legacy = yolo::io::load_checkpoint(fixture("ultralytics_legacy.pth"));
  const auto zip = yolo::io::load_checkpoint(fixture("ultralytics_zip.pth"));
  // Module classes were stored as ('module', class, source file, source) persistent ids.
  const auto& model = legacy.find("model")->as_object();
  CHECK(model.module == "ultralytics.nn.tasks");
  CHECK(model.name == "DetectionModel");
  check_same_state(legacy.model_state(), zip.model_state());
  const auto state = legacy.model_state();
  REQUIRE(state.size() == 7);
  CHECK(state[0].first == "stride");
  CHECK(torch::equal(state[0].second, torch::tensor({8.0f, 16.0f, 32.0f}).to(torch::kFloat16)));
  CHECK(state[1].first == "model.0.weight");
  CHECK(state[1].second.scalar_type() == torch::kFloat16);
  CHECK(state[6].first == "model.1.num_batches_tracked");
  CHECK(legacy.epoch() == -1);
  CHECK(legacy.best_fitness() == 0.75);
  CHECK(legacy.names() == std::vector<std::string>{"cat", "dog"});
  CHECK(legacy.names() == zip.names());
  CHECK(legacy.train_args() == std::vector<std::pair<std::string, std::string>>{
                                   {"model", "yolov8n.yaml"}, {"lr0", "0.01"}, {"imgsz", "64"}, {"amp", "true"}});
  CHECK(legacy.model_yaml_text() == zip.model_yaml_text());
  CHECK(legacy.model_yaml_text() == "nc: 2\nbackbone: [[-1, 1, Conv, [4, 3, 2]]]\nhead: []\n");
  CHECK_FALSE(legacy.has_ema());
}

TEST_CASE("legacy .pth: what we read is written back in the zip format", "[io][legacy]") {
  const auto legacy = yolo::io::load_checkpoint(fixture("state_dict_legacy.pth"));
  const auto again = yolo::io::load_checkpoint_from_bytes(yolo::io::checkpoint_to_bytes(legacy.root()), "again.pt");
  check_same_state(again.model_state(), legacy.model_state());
}

TEST_CASE("legacy .pth: a torchvision DenseNet state dict as old as torchvision's ImageNet files", "[io][legacy][torchvision]") {
  // fp32, legacy layer names (denselayer1.norm.1.weight), no num_batches_tracked: densenet121-a639ec97.pth's form.
  const auto legacy = yolo::io::load_checkpoint(fixture("densenet_tiny_legacy.pth")).model_state();
  const auto zip = yolo::io::load_checkpoint(fixture("densenet_tiny_zip.pth")).model_state();
  check_same_state(legacy, zip);
  CHECK(tensor_named(legacy, "features.denseblock1.denselayer1.norm.1.weight").scalar_type() == torch::kFloat32);
  const auto io = yolo::io::load_checkpoint(fixture("densenet_tiny_io.pth"));
  const auto& input = io.find("input")->as_tensor();
  const auto& expected = io.find("logits")->as_tensor();  // torchvision's, in eval mode

  const auto logits_of = [&](const yolo::io::StateDict& state, const std::string& source) {
    yolo::nn::TorchvisionClassifier model(
        yolo::nn::TorchvisionOptions("densenet121").growth_rate(4).block_config({2, 3}).num_init_features(8).bn_size(2).num_classes(3));
    yolo::nn::load_torchvision_state(*model, state, source);
    model->eval();
    torch::NoGradGuard no_grad;
    return model->forward(input);
  };
  const auto from_legacy = logits_of(legacy, "densenet_tiny_legacy.pth");
  const auto from_zip = logits_of(zip, "densenet_tiny_zip.pth");
  REQUIRE(from_legacy.sizes() == torch::IntArrayRef({2, 3}));
  CHECK(torch::equal(from_legacy, from_zip));
  const double error = (from_legacy - expected).abs().max().item<double>();
  WARN("tiny legacy DenseNet max |logit error| vs torchvision " << error);
  CHECK(error <= 1e-4);
}
