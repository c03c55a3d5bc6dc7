// The classify task: class folders (Ultralytics' ImageFolder layout), its classify augmentations,
// cross-entropy, top-1 / top-5 validation, and predict's class probabilities.
#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "data/classify_augment.h"
#include "data/classify_dataset.h"
#include "data/loader.h"
#include "engine/task.h"
#include "engine/validator.h"
#include "loss/classification_loss.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {
namespace {

data::DataSpec load_data(const DataOptions& options) {
  return data::load_classify_data_spec(options.data, options.datasets_dir);
}

std::shared_ptr<data::DataLoader> make_loader(const std::vector<std::string>& sources, const data::DataSpec& data,
                                              const DataOptions& options, const LoaderRequest& request) {
  YOLO_CHECK(sources.size() == 1, "a classification split is one folder, got {}", sources.size());
  data::DatasetOptions o = options.dataset;
  o.augment = request.train;
  if (!request.train) o.fraction = 1.0;
  auto dataset = std::make_shared<data::ClassificationDataset>(sources.front(), data.names, o);
  return std::make_shared<data::DataLoader>(dataset, loader_options(options, request, request.train));
}

LossFn make_loss(const nn::NetworkImpl& /*model*/, const RunOptions& /*options*/) {
  return [](const std::vector<torch::Tensor>& raw, const data::Batch& batch) {
    YOLO_CHECK(batch.labels.defined(), "classification loss needs labelled batches (a classification dataset)");
    auto loss = loss::classification_loss(raw.front(), batch.labels.to(raw.front().device(), /*non_blocking=*/true));
    return LossValue{loss, loss.detach().reshape({1})};
  };
}

ValidateFn make_validator(std::shared_ptr<data::DataLoader> loader, const std::vector<std::string>& /*sources*/,
                          ValidatorOptions options) {
  auto validator = std::make_shared<ClassificationValidator>(std::move(loader), std::move(options));
  return [validator](nn::Network& model, const torch::Device& device, const LossFn* loss, ProcessGroup* group) {
    return validator->run(model, device, loss, group);
  };
}

torch::Tensor train_images(torch::Tensor images, int64_t /*iteration*/, const TrainerOptions& /*options*/,
                           int64_t /*stride*/) {
  return images;
}

PredictInput predict_input(const cv::Mat& bgr, const PredictorOptions& options, int64_t /*stride*/,
                           bool /*auto_pad*/) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  const cv::Mat image = data::classify_eval_transform(rgb, options.imgsz);
  PredictInput input;
  input.image = torch::from_blob(const_cast<uint8_t*>(image.ptr<uint8_t>()), {image.rows, image.cols, 3}, torch::kUInt8)
                    .permute({2, 0, 1})
                    .clone();
  return input;
}

void predict_output(const torch::Tensor& output, std::array<int64_t, 2> /*input_hw*/,
                    const std::vector<PredictInput>& /*inputs*/, const PredictorOptions& /*options*/,
                    const std::vector<std::string>& names, std::vector<Prediction>& predictions) {
  const auto probs = output.to(torch::kCPU, torch::kFloat32).contiguous();
  const auto order = (-probs).argsort(/*dim=*/1, /*descending=*/false);  // Probs.top5: (-data).argsort(0)
  const int64_t nc = probs.size(1), top = std::min<int64_t>(5, nc);
  for (size_t i = 0; i < predictions.size(); ++i) {
    auto& p = predictions[i].probs;
    const auto row = probs[static_cast<int64_t>(i)];
    p.data.assign(row.data_ptr<float>(), row.data_ptr<float>() + nc);
    const auto* ranked = order[static_cast<int64_t>(i)].data_ptr<int64_t>();
    for (int64_t k = 0; k < top; ++k) {
      const int cls = static_cast<int>(ranked[k]);
      p.top5.push_back(cls);
      p.top5conf.push_back(p.data[static_cast<size_t>(cls)]);
      p.top5_names.push_back(cls < static_cast<int>(names.size()) ? names[static_cast<size_t>(cls)] : std::to_string(cls));
    }
    p.top1 = static_cast<int>(row.argmax().item<int64_t>());
    p.top1conf = p.data[static_cast<size_t>(p.top1)];
  }
}

}  // namespace

const Task& classify_task() {
  static const Task task{"classify",   {"loss"},          &load_data,     &make_loader,   &make_loss,
                         &make_validator, &train_images, &predict_input, &predict_output};
  return task;
}

}  // namespace engine
YOLO_END_NAMESPACE
