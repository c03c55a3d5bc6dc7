#include "loss/detection_loss.h"

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "catch.h"
#include "helpers/sync_counter.h"
#include "yolo/utils/error.h"

using yolo::loss::DetectionLoss;

namespace {

/// The fixture of tests/data/loss (see make_fixture.py there): Ultralytics 8.3.166's v8DetectionLoss on
/// seeded random head outputs for a 3-image batch at 64x64, nc 3, strides 8/16/32; image 2 has no boxes.
struct UltralyticsCase {
  std::map<std::string, std::vector<double>> meta;
  std::vector<torch::Tensor> feats, grads;
  torch::Tensor targets;

  UltralyticsCase() {
    std::ifstream in(yolo::test::data_path("loss/meta.txt"));
    REQUIRE(in.good());
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      std::string key;
      fields >> key;
      for (double v; fields >> v;) meta[key].push_back(v);
    }
    for (int i = 0; i < 3; ++i) {
      feats.push_back(read_floats("loss/feats" + std::to_string(i) + ".f32", shape("feats" + std::to_string(i))));
      grads.push_back(read_floats("loss/grad" + std::to_string(i) + ".f32", shape("feats" + std::to_string(i))));
    }
    targets = read_floats("loss/targets.f32", shape("targets"));
  }

  std::vector<int64_t> shape(const std::string& key) const {
    const auto& dims = meta.at(key);
    return {dims.begin(), dims.end()};
  }

  static torch::Tensor read_floats(const std::string& rel, const std::vector<int64_t>& shape) {
    auto t = torch::empty(shape, torch::kFloat32);
    std::ifstream in(yolo::test::data_path(rel), std::ios::binary);
    REQUIRE(in.good());
    in.read(reinterpret_cast<char*>(t.data_ptr<float>()), static_cast<std::streamsize>(t.numel() * sizeof(float)));
    REQUIRE(in.gcount() == static_cast<std::streamsize>(t.numel() * sizeof(float)));
    return t;  // the fixture is little-endian, as every machine we build for
  }

  DetectionLoss make_loss() const { return DetectionLoss(static_cast<int64_t>(meta.at("nc")[0]), meta.at("strides")); }
};

std::vector<torch::Tensor> leaves(const std::vector<torch::Tensor>& feats, const torch::Device& device) {
  std::vector<torch::Tensor> out;
  for (const auto& f : feats) out.push_back(f.to(device).clone().requires_grad_(true));
  return out;
}

void check_items(const torch::Tensor& items, const std::vector<double>& expected) {
  REQUIRE(items.sizes() == torch::IntArrayRef({3}));
  const char* names[] = {"box", "cls", "dfl"};
  for (int k = 0; k < 3; ++k) {
    INFO(names[k] << " loss");
    CHECK(items[k].item<double>() == Approx(expected[k]).epsilon(1e-4).margin(1e-9));
  }
}

}  // namespace

TEST_CASE("DetectionLoss matches Ultralytics v8DetectionLoss on a seeded batch", "[loss][reference]") {
  const UltralyticsCase c;
  const auto loss = c.make_loss();
  auto feats = leaves(c.feats, torch::kCPU);
  const auto result = loss(feats, c.targets);
  check_items(result.items, c.meta.at("loss"));
  CHECK_FALSE(result.items.requires_grad());

  const auto& expected = c.meta.at("loss");
  CHECK(result.total.item<double>() == Approx((expected[0] + expected[1] + expected[2]) * 3).epsilon(1e-4));
  result.total.backward();
  for (size_t i = 0; i < feats.size(); ++i) {
    INFO("level " << i);
    const auto diff = (feats[i].grad() - c.grads[i]).abs().max().item<double>();
    const auto scale = c.grads[i].abs().max().item<double>();
    CHECK(diff <= 1e-4 * scale);
  }
}

TEST_CASE("DetectionLoss does not depend on how the images' targets interleave", "[loss][reference]") {
  const UltralyticsCase c;
  // Rows 0-2 belong to image 0 and 3-4 to image 1; interleave the images, keeping each image's own order.
  const auto interleaved = c.targets.index_select(0, torch::tensor({3, 0, 1, 4, 2}, torch::kLong));
  check_items(c.make_loss()(c.feats, interleaved).items, c.meta.at("loss"));
}

TEST_CASE("DetectionLoss applies its gains", "[loss][reference]") {
  const UltralyticsCase c;
  yolo::loss::DetectionLossOptions unit_gains;
  unit_gains.box = 1, unit_gains.cls = 1, unit_gains.dfl = 1;
  const DetectionLoss loss(static_cast<int64_t>(c.meta.at("nc")[0]), c.meta.at("strides"), unit_gains);
  const auto& gained = c.meta.at("loss");
  check_items(loss(c.feats, c.targets).items, {gained[0] / 7.5, gained[1] / 0.5, gained[2] / 1.5});
}

TEST_CASE("DetectionLoss with no targets in the batch", "[loss][reference]") {
  const UltralyticsCase c;
  const auto loss = c.make_loss();
  auto feats = leaves(c.feats, torch::kCPU);
  const auto result = loss(feats, torch::zeros({0, 6}));
  // Ultralytics: box and dfl are exactly zero, cls is the plain BCE sum against all-zero targets.
  CHECK(result.items[0].item<double>() == 0.0);
  CHECK(result.items[2].item<double>() == 0.0);
  check_items(result.items, c.meta.at("loss_no_targets"));
  result.total.backward();
  for (const auto& f : feats) CHECK(torch::isfinite(f.grad()).all().item<bool>());
}

TEST_CASE("DetectionLoss gradients flow to every level", "[loss]") {
  const UltralyticsCase c;
  const auto loss = c.make_loss();
  auto feats = leaves(c.feats, torch::kCPU);
  auto result = loss(feats, c.targets);
  REQUIRE(result.total.requires_grad());
  result.total.backward();
  for (const auto& f : feats) {
    REQUIRE(f.grad().defined());
    CHECK(torch::isfinite(f.grad()).all().item<bool>());
    // Box channels of the finest level get gradient only through assigned anchors, class channels always.
    CHECK(f.grad().abs().sum().item<double>() > 0);
  }
}

TEST_CASE("DetectionLoss takes half-precision head outputs", "[loss]") {
  const UltralyticsCase c;
  const auto loss = c.make_loss();
  std::vector<torch::Tensor> half;
  for (const auto& f : c.feats) half.push_back(f.to(torch::kHalf));
  const auto result = loss(half, c.targets);
  CHECK(result.items.scalar_type() == torch::kFloat32);
  // Rounding the inputs to half moves each term by far less than 1%.
  const auto& expected = c.meta.at("loss");
  for (int k = 0; k < 3; ++k) CHECK(result.items[k].item<double>() == Approx(expected[k]).epsilon(1e-2));
  CHECK(torch::isfinite(result.items).all().item<bool>());
}

TEST_CASE("DetectionLoss rejects malformed inputs with a message", "[loss]") {
  const UltralyticsCase c;
  const auto loss = c.make_loss();
  SECTION("a level missing") { CHECK_THROWS_AS(loss({c.feats[0], c.feats[1]}, c.targets), yolo::Error); }
  SECTION("a class outside [0, nc)") {
    auto bad = c.targets.clone();
    bad[0][1] = 3;
    CHECK_THROWS_WITH(loss(c.feats, bad), Catch::Matchers::ContainsSubstring("classes"));
  }
  SECTION("a batch index outside the batch") {
    auto bad = c.targets.clone();
    bad[0][0] = 5;
    CHECK_THROWS_WITH(loss(c.feats, bad), Catch::Matchers::ContainsSubstring("batch indices"));
  }
  SECTION("targets that are not [N, 6]") { CHECK_THROWS_AS(loss(c.feats, torch::zeros({2, 5})), yolo::Error); }
  SECTION("nc or strides that make no sense") {
    CHECK_THROWS_AS(DetectionLoss(0, {8, 16, 32}), yolo::Error);
    CHECK_THROWS_AS(DetectionLoss(3, {}), yolo::Error);
  }
}

TEST_CASE("DetectionLoss on CUDA agrees with the CPU", "[loss][cuda]") {
  if (!torch::cuda::is_available()) YOLO_SKIP("no CUDA device");
  const UltralyticsCase c;
  const auto loss = c.make_loss();
  auto feats = leaves(c.feats, torch::kCUDA);
  const auto result = loss(feats, c.targets.to(torch::kCUDA));
  check_items(result.items.cpu(), c.meta.at("loss"));
  result.total.backward();
  for (size_t i = 0; i < feats.size(); ++i) {
    const auto diff = (feats[i].grad().cpu() - c.grads[i]).abs().max().item<double>();
    CHECK(diff <= 1e-4 * c.grads[i].abs().max().item<double>());
  }
  // CPU targets with CUDA outputs are moved to the outputs' device.
  check_items(loss(feats, c.targets).items.cpu(), c.meta.at("loss"));
}

TEST_CASE("DetectionLoss and its assigner never make the host wait for the device", "[loss][sync]") {
  // On a GPU every counted call would stall the training loop until the device caught up (see
  // tests/helpers/sync_counter.h). Host targets, as the loader hands them: the loss groups them on the host.
  const UltralyticsCase c;
  const auto loss = c.make_loss();
  auto feats = leaves(c.feats, torch::kCPU);
  yolo::test::HostSyncCounter syncs;
  auto result = loss(feats, c.targets);
  result.total.backward();
  loss(feats, torch::zeros({0, 6}));  // a batch without boxes
  INFO("synchronising calls: " << syncs.describe());
  CHECK(syncs.total() == 0);
}
