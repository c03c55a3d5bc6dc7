// Eval forward of the real checkpoints against Ultralytics 8.3.166's own output for one image
// (../shared/reference/forward_val0.npy and forward_yolo11n_val0.npy, copied to tests/data/reference/).
#include <string>
#include <utility>
#include <vector>

#include "catch.h"
#include "io/checkpoint.h"
#include "reference_input.h"
#include "yolo/nn/model.h"

namespace {

/// Max abs errors of the box rows and of the score rows of a [1, 4 + nc, A] output.
std::pair<float, float> output_errors(const torch::Tensor& output, const torch::Tensor& expected) {
  REQUIRE(output.sizes() == expected.sizes());
  const auto error = (output - expected).abs();
  const int64_t classes = output.size(1) - 4;
  return {error.narrow(1, 0, 4).max().item<float>(), error.narrow(1, 4, classes).max().item<float>()};
}

/// Loads `checkpoint_file` into the model built from `yaml_name` (or from the YAML the checkpoint
/// embeds) and checks its eval output for the reference image against Ultralytics' `reference_npy`,
/// unfused and fused, within the README's tolerances (1e-2 px on boxes, 1e-4 on scores).
void check_forward_parity(const std::string& checkpoint_file, const std::string& yaml_name,
                          const std::string& reference_npy) {
  auto checkpoint = yolo::io::load_checkpoint(yolo::test::data_path(checkpoint_file));
  // The architecture both ways: the built-in YAML by name, and the YAML the checkpoint embeds.
  const bool embedded = GENERATE(false, true);
  INFO((embedded ? "embedded YAML of " + checkpoint_file : yaml_name));
  auto spec = embedded ? yolo::nn::parse_model_spec(checkpoint.model_yaml_text(), checkpoint_file)
                       : yolo::nn::load_model_spec(yaml_name, 10);
  CHECK(spec.nc == 10);
  CHECK(spec.scale == "n");
  yolo::nn::YoloModel model(spec);
  const auto report = yolo::nn::transfer_weights(model, checkpoint.model_state());
  CHECK(report.missing.empty());
  CHECK(report.mismatched.empty());
  REQUIRE(report.transferred == report.total);

  model->eval();
  torch::NoGradGuard no_grad;
  const auto image = yolo::test::load_reference_image(yolo::test::data_path("fdet/images/val/000000.jpg")).unsqueeze(0);
  const auto expected = yolo::test::read_npy_float32(yolo::test::data_path(reference_npy));
  const auto [box_error, score_error] = output_errors(model->forward(image), expected);  // [1, 4 + 10, 8400]
  INFO("max abs error: boxes " << box_error << " px, scores " << score_error);
  CHECK(box_error <= 1e-2f);
  CHECK(score_error <= 1e-4f);

  // Ultralytics fuses Conv+BN for inference; the fused model must stay within the same tolerance.
  model->fuse();
  const auto [fused_box_error, fused_score_error] = output_errors(model->forward(image), expected);
  INFO("fused max abs error: boxes " << fused_box_error << " px, scores " << fused_score_error);
  CHECK(fused_box_error <= 1e-2f);
  CHECK(fused_score_error <= 1e-4f);
}

}  // namespace

TEST_CASE("eval forward of yolov8n_fdet.pt equals Ultralytics' output", "[parity]") {
  check_forward_parity("yolov8n_fdet.pt", "yolov8n.yaml", "reference/forward_val0.npy");
}

TEST_CASE("eval forward of yolo11n_fdet.pt equals Ultralytics' output", "[parity][yolo11]") {
  check_forward_parity("yolo11n_fdet.pt", "yolo11n.yaml", "reference/forward_yolo11n_val0.npy");
}
