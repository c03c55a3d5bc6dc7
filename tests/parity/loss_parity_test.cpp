// The detection loss of the real checkpoint against Ultralytics 8.3.166's own figure
// (../shared/reference/loss_batch.json, copied to tests/data/fdet_val4/).
#include <fstream>
#include <string>
#include <vector>

#include "catch.h"
#include "engine/amp.h"
#include "io/checkpoint.h"
#include "loss/detection_loss.h"
#include "reference_input.h"
#include "yolo/nn/model.h"
#include "yolo/nn/spec.h"

namespace {

// Ultralytics 8.3.166 (fp32, train mode) on the 4 fixture images: box, cls, dfl.
constexpr double kReferenceBox = 0.648308277130127, kReferenceCls = 1.1001750230789185,
                 kReferenceDfl = 1.0510317087173462;

/// YOLO label rows "cls cx cy w h" -> [n, 6] targets with the image's batch index in front.
torch::Tensor load_labels(const std::string& path, int64_t batch_index) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<float> values;
  for (float cls, cx, cy, w, h; in >> cls >> cx >> cy >> w >> h;)
    values.insert(values.end(), {static_cast<float>(batch_index), cls, cx, cy, w, h});
  const auto rows = static_cast<int64_t>(values.size() / 6);
  return torch::from_blob(values.data(), {rows, 6}, torch::kFloat32).clone();
}


/// The fixed batch of the reference: 4 fdet val images and their 17 boxes.
std::pair<torch::Tensor, torch::Tensor> reference_batch() {
  const std::string dir = yolo::test::data_path("fdet_val4");
  std::vector<torch::Tensor> images, targets;
  for (int64_t i = 0; i < 4; ++i) {
    const std::string stem = "00000" + std::to_string(i);
    images.push_back(yolo::test::load_reference_image(dir + "/images/" + stem + ".jpg"));
    targets.push_back(load_labels(dir + "/labels/" + stem + ".txt", i));
  }
  auto y = torch::cat(targets);
  REQUIRE(y.size(0) == 17);  // the four label files hold 17 boxes
  return {torch::stack(images), y};
}

yolo::nn::YoloModel reference_model() {
  yolo::nn::YoloModel model(yolo::nn::load_model_spec("yolov8n.yaml", 10));
  const auto report = yolo::nn::transfer_weights(
      model, yolo::io::load_checkpoint(yolo::test::data_path("yolov8n_fdet.pt")).model_state());
  REQUIRE(report.transferred == report.total);
  // Train mode, as the reference: batch norm normalises with the statistics of these 4 images.
  model->train();
  return model;
}

}  // namespace

TEST_CASE("DetectionLoss of yolov8n_fdet.pt on 4 val images matches Ultralytics", "[parity][loss]") {
  const auto [x, y] = reference_batch();
  auto model = reference_model();
  const yolo::loss::DetectionLoss loss(model->nc(), model->strides());
  const auto result = loss(model->forward_raw(x), y);

  // Sum x batch 4 = 11.19806 in the reference.
  CHECK(result.items[0].item<double>() == Approx(kReferenceBox).epsilon(1e-3));
  CHECK(result.items[1].item<double>() == Approx(kReferenceCls).epsilon(1e-3));
  CHECK(result.items[2].item<double>() == Approx(kReferenceDfl).epsilon(1e-3));
  CHECK(result.total.item<double>() == Approx(11.198060035705566).epsilon(1e-3));

  result.total.backward();
  for (const auto& p : model->parameters())
    if (p.grad().defined()) CHECK(torch::isfinite(p.grad()).all().item<bool>());
}

TEST_CASE("the loss of an autocast forward matches Ultralytics' fp32 loss within AMP tolerance", "[parity][loss][amp]") {
  // CPU bf16 always (the autocast LibTorch runs without a GPU); the precision training would use on CUDA too,
  // where this build and machine have one.
  std::vector<std::pair<torch::Device, yolo::engine::Precision>> runs{{torch::kCPU, yolo::engine::Precision::bf16}};
  if (torch::cuda::is_available()) runs.emplace_back(torch::kCUDA, yolo::engine::amp_precision(torch::kCUDA, true));
  const auto [x, y] = reference_batch();
  for (const auto& [device, precision] : runs) {
    INFO(device.str() << " " << yolo::engine::to_string(precision));
    auto model = reference_model();
    model->to(device);
    const yolo::loss::DetectionLoss loss(model->nc(), model->strides());
    std::vector<torch::Tensor> feats;
    {
      yolo::engine::AutocastGuard autocast(device, precision);
      feats = model->forward_raw(x.to(device));
    }
    CHECK(feats[0].scalar_type() == (precision == yolo::engine::Precision::bf16 ? torch::kBFloat16 : torch::kHalf));
    const auto result = loss(feats, y.to(device));
    const auto items = result.items.cpu();
    CHECK(items[0].item<double>() == Approx(kReferenceBox).epsilon(0.02));
    CHECK(items[1].item<double>() == Approx(kReferenceCls).epsilon(0.02));
    CHECK(items[2].item<double>() == Approx(kReferenceDfl).epsilon(0.02));
    result.total.backward();
    for (const auto& p : model->parameters())
      if (p.grad().defined()) CHECK(torch::isfinite(p.grad()).all().item<bool>());
  }
}
