// Classification val and predict of a real Ultralytics checkpoint (yolov8n-cls trained on Fashion-MNIST
// folders) against Ultralytics 8.3.166's figures (../shared/reference/cls_val_metrics.json and
// cls_predictions.json, copied to tests/data/reference/), on the 200 val images of tests/data/fcls.
#include <filesystem>
#include <map>

#include <opencv2/imgcodecs.hpp>
#include <yaml-cpp/yaml.h>

#include "catch.h"
#include "data/loader.h"
#include "engine/checkpointing.h"
#include "engine/run_options.h"
#include "engine/task.h"
#include "yolo/model.h"

namespace fs = std::filesystem;

namespace {

std::string checkpoint() { return yolo::test::data_path("yolov8n_cls_fmnist.pt"); }
std::string dataset() { return yolo::test::data_path("fcls"); }

}  // namespace

TEST_CASE("classify val reproduces Ultralytics' cls_val_metrics.json", "[parity][val][classify]") {
  const auto reference = YAML::LoadFile(yolo::test::data_path("reference/cls_val_metrics.json"));
  yolo::Model model(checkpoint());
  REQUIRE(model.task() == "classify");
  const auto metrics = model.val(yolo::ValArgs()
                                     .data(dataset())
                                     .split("val")
                                     .imgsz(reference["imgsz"].as<int>())
                                     .batch(reference["batch"].as<double>())
                                     .workers(2));
  CHECK(metrics.task == "classify");
  CHECK(metrics.images == reference["images"].as<long>());
  CHECK(metrics.top1 == Approx(reference["top1"].as<double>()).margin(0.005));
  CHECK(metrics.top5 == Approx(reference["top5"].as<double>()).margin(0.005));
  // Ultralytics 8.3.166's ClassifyMetrics.fitness: the mean of top-1 and top-5.
  CHECK(metrics.fitness == Approx((metrics.top1 + metrics.top5) / 2));
  const auto keys = metrics.results_dict();
  REQUIRE(keys.size() == 3);
  CHECK(keys[0].first == "metrics/accuracy_top1");
  CHECK(keys[1].first == "metrics/accuracy_top5");
  CHECK(keys[2].first == "fitness");
}

TEST_CASE("classify val loss equals Ultralytics' (mean of the per-batch cross-entropy)", "[parity][val][classify]") {
  // Training's validation: the unfused model, the task's loss on every batch of 32 in file order.
  const auto reference = YAML::LoadFile(yolo::test::data_path("reference/cls_val_metrics.json"));
  auto model = yolo::engine::load_model_from_checkpoint(checkpoint()).model;
  const auto& task = yolo::engine::classify_task();
  const auto options = yolo::engine::make_run_options(
      yolo::TrainArgs().data(dataset()).imgsz(reference["imgsz"].as<int>()).workers(2), "classify");
  const auto spec = task.load_data(options.data);
  yolo::engine::LoaderRequest request;
  request.batch_size = reference["batch"].as<int64_t>();
  auto loader = task.make_loader(spec.val, spec, options.data, request);
  CHECK(loader->num_batches() == 7);
  auto vo = options.validator;
  vo.names = spec.names;
  const auto loss = task.make_loss(*model, options);
  const auto metrics = task.make_validator(loader, spec.val, vo)(model, torch::kCPU, &loss, nullptr);
  REQUIRE(metrics.loss.size() == 1);
  CHECK(metrics.loss[0].first == "loss");
  CHECK(metrics.loss[0].second == Approx(reference["val_loss"].as<double>()).margin(1e-4));
  CHECK(metrics.top1 == Approx(reference["top1"].as<double>()).margin(0.005));
}

TEST_CASE("classify predict reproduces Ultralytics' cls_predictions.json", "[parity][predict][classify]") {
  const auto reference = YAML::LoadFile(yolo::test::data_path("reference/cls_predictions.json"));
  yolo::Model model(checkpoint());
  // The checkpoint's training imgsz (32) is predict's default, as Ultralytics.
  const auto predictions = model.predict(dataset() + "/val/*/*.png", yolo::Model::predict_defaults());
  std::map<std::string, const yolo::Prediction*> by_path;
  for (const auto& p : predictions) by_path[fs::relative(p.path, dataset()).string()] = &p;
  const auto rows = reference["predictions"];
  REQUIRE(rows.size() == 200);
  REQUIRE(by_path.size() == rows.size());

  // Logits: the unfused model's raw output on predict's input tensor.
  auto net = yolo::engine::load_model_from_checkpoint(checkpoint()).model;
  net->eval();
  const auto options = yolo::engine::make_run_options(yolo::TrainArgs().imgsz(32), "classify");
  double largest_prob_error = 0, largest_logit_error = 0;
  for (const auto& row : rows) {
    const auto path = row["path"].as<std::string>();
    INFO(path);
    REQUIRE(by_path.count(path));
    const auto& probs = by_path.at(path)->probs;
    CHECK(probs.top5 == row["top5"].as<std::vector<int>>());
    CHECK(probs.top1 == row["top5"][0].as<int>());
    const auto expected = row["probs"].as<std::vector<double>>();
    REQUIRE(probs.data.size() == expected.size());
    for (size_t c = 0; c < expected.size(); ++c)
      largest_prob_error = std::max(largest_prob_error, std::abs(probs.data[c] - expected[c]));
    for (size_t k = 0; k < probs.top5conf.size(); ++k)
      CHECK(probs.top5conf[k] == Approx(row["top5_probs"][k].as<double>()).margin(1e-4));

    const cv::Mat image = cv::imread((fs::path(dataset()) / path).string(), cv::IMREAD_COLOR);
    const auto input = yolo::engine::classify_task().predict_input(image, options.predictor, 32, true);
    torch::NoGradGuard no_grad;
    const auto logits = net->forward_raw(input.image.unsqueeze(0).to(torch::kFloat32).div(255))[0][0];
    const auto expected_logits = row["logits"].as<std::vector<double>>();
    for (size_t c = 0; c < expected_logits.size(); ++c)
      largest_logit_error =
          std::max(largest_logit_error, std::abs(logits[static_cast<int64_t>(c)].item<double>() - expected_logits[c]));
  }
  INFO("largest probability error " << largest_prob_error << ", logit error " << largest_logit_error);
  CHECK(largest_prob_error <= 1e-4);
  CHECK(largest_logit_error <= 1e-4);
}
