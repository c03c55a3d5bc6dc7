// Eval forward of the real checkpoint against Ultralytics 8.3.166's own output for one image
// (../shared/reference/forward_val0.npy, copied to tests/data/reference/).
#include <fstream>
#include <sstream>
#include <string>
#include <vector>


#include "catch.h"
#include "reference_input.h"
#include "yolo/io/checkpoint.h"
#include "yolo/nn/model.h"

TEST_CASE("eval forward of yolov8n_fdet.pt equals Ultralytics' output", "[parity]") {
  auto checkpoint = yolo::io::load_checkpoint(yolo::test::data_path("yolov8n_fdet.pt"));
  // The architecture both ways: the built-in YAML by name, and the YAML the checkpoint embeds.
  auto spec = GENERATE(as<std::string>{}, "yolov8n.yaml", "embedded") == "yolov8n.yaml"
                  ? yolo::nn::load_model_spec("yolov8n.yaml", 10)
                  : yolo::nn::parse_model_spec(checkpoint.model_yaml_text(), "yolov8n_fdet.pt");
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
  const auto output = model->forward(image);
  const auto expected = yolo::test::read_npy_float32(yolo::test::data_path("reference/forward_val0.npy"));
  REQUIRE(output.sizes() == expected.sizes());  // [1, 4 + 10, 8400]

  const auto error = (output - expected).abs();
  const float box_error = error.narrow(1, 0, 4).max().item<float>();
  const float score_error = error.narrow(1, 4, 10).max().item<float>();
  INFO("max abs error: boxes " << box_error << " px, scores " << score_error);
  CHECK(box_error <= 1e-2f);
  CHECK(score_error <= 1e-4f);

  // Ultralytics fuses Conv+BN for inference; the fused model must stay within the same tolerance.
  model->fuse();
  const auto fused_error = (model->forward(image) - expected).abs();
  const float fused_box_error = fused_error.narrow(1, 0, 4).max().item<float>();
  const float fused_score_error = fused_error.narrow(1, 4, 10).max().item<float>();
  INFO("fused max abs error: boxes " << fused_box_error << " px, scores " << fused_score_error);
  CHECK(fused_box_error <= 1e-2f);
  CHECK(fused_score_error <= 1e-4f);
}
