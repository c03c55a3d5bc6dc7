// The detect task: dataset YAMLs with YOLO label files, mosaic augmentation, the v8 detection loss,
// mAP validation, letterboxed predict with NMS.
#include <opencv2/imgproc.hpp>

#include "data/augment.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "engine/task.h"
#include "engine/validator.h"
#include "loss/detection_loss.h"
#include "metrics/nms.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {
namespace {

data::DataSpec load_data(const DataOptions& options) {
  return data::load_data_spec(options.data, options.datasets_dir);
}

std::shared_ptr<data::DataLoader> make_loader(const std::vector<std::string>& sources, const data::DataSpec& data,
                                              const DataOptions& options, const LoaderRequest& request) {
  data::DatasetOptions o = options.dataset;
  o.batch_size = request.batch_size;
  o.stride = request.stride;
  if (!request.train) {  // Ultralytics validates letterboxed rect batches (squares for fixed-shape exports), in file order
    o.augment = false, o.rect = !request.square, o.pad = 0.5, o.fraction = 1.0;
  }
  auto dataset = std::make_shared<data::DetectionDataset>(sources, data.names, o);
  // Validation batches keep the rect shapes they have in one process, whatever the rank.
  return std::make_shared<data::DataLoader>(dataset, loader_options(options, request, request.train && !o.rect));
}

LossFn make_loss(const nn::NetworkImpl& model, const RunOptions& options) {
  auto loss = std::make_shared<loss::DetectionLoss>(model.nc(), model.strides(), options.detection_loss);
  return [loss](const std::vector<torch::Tensor>& raw, const data::Batch& batch) {
    auto result = (*loss)(raw, batch.targets);  // host targets: the loss copies them without a blocking wait
    return LossValue{result.total, result.items};
  };
}

ValidateFn make_validator(std::shared_ptr<data::DataLoader> loader, const std::vector<std::string>& sources,
                          ValidatorOptions options) {
  options.coco_category_ids = !options.json_path.empty() && is_coco_val(sources);
  auto validator = std::make_shared<DetectionValidator>(std::move(loader), std::move(options));
  return [validator](nn::Network& model, const torch::Device& device, const LossFn* loss, ProcessGroup* group) {
    return validator->run(model, device, loss, group);
  };
}

torch::Tensor train_images(torch::Tensor images, int64_t iteration, const TrainerOptions& options, int64_t stride) {
  if (!options.multi_scale) return images;
  // The draw depends on (seed, iteration) only: every rank of a distributed run takes the same size.
  constexpr uint64_t kMultiScaleStream = 0x6D756C7469ull;
  data::Rng rng(static_cast<uint64_t>(options.seed), static_cast<uint64_t>(iteration), kMultiScaleStream);
  const auto shape = data::multi_scale_shape(options.imgsz, stride, {images.size(2), images.size(3)}, rng);
  if (shape[0] == images.size(2) && shape[1] == images.size(3)) return images;
  namespace F = torch::nn::functional;
  return F::interpolate(images, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{shape[0], shape[1]})
                                    .mode(torch::kBilinear)
                                    .align_corners(false))
      .contiguous(torch::MemoryFormat::ChannelsLast);
}

PredictInput predict_input(const cv::Mat& bgr, const PredictorOptions& options, int64_t stride, bool auto_pad) {
  auto lb = data::letterbox(bgr, {options.imgsz, options.imgsz}, auto_pad, stride);
  cv::Mat rgb;
  cv::cvtColor(lb.image, rgb, cv::COLOR_BGR2RGB);
  PredictInput input;
  input.image = torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8).permute({2, 0, 1}).clone();
  input.ratio = lb.ratio, input.pad_w = lb.pad_w, input.pad_h = lb.pad_h;
  return input;
}

void predict_output(const torch::Tensor& output, std::array<int64_t, 2> input_hw,
                    const std::vector<PredictInput>& inputs, const PredictorOptions& options,
                    const std::vector<std::string>& names, std::vector<Prediction>& predictions) {
  metrics::NmsOptions nms;
  nms.conf = options.conf;
  nms.iou = options.iou;
  nms.max_det = options.max_det;
  nms.agnostic = options.agnostic_nms;
  nms.classes = options.classes;
  auto detections = metrics::non_max_suppression(output, nms);
  for (size_t i = 0; i < predictions.size(); ++i) {
    auto det = detections[i].to(torch::kCPU);
    auto& p = predictions[i];
    if (det.size(0) == 0) continue;
    auto scaled = metrics::scale_boxes({input_hw[0], input_hw[1]}, det.narrow(1, 0, 4).clone(),
                                       {p.orig_height, p.orig_width},
                                       {inputs[i].ratio, inputs[i].ratio, inputs[i].pad_w, inputs[i].pad_h});
    auto acc = scaled.accessor<float, 2>();
    auto d = det.accessor<float, 2>();
    for (int64_t k = 0; k < det.size(0); ++k) {
      Box b{acc[k][0], acc[k][1], acc[k][2], acc[k][3], d[k][4], static_cast<int>(d[k][5]), ""};
      b.name = b.cls < static_cast<int>(names.size()) ? names[b.cls] : std::to_string(b.cls);
      p.boxes.push_back(b);
    }
  }
}

}  // namespace

const Task& detect_task() {
  static const Task task{"detect",          {"box_loss", "cls_loss", "dfl_loss"},
                         &load_data,        &make_loader,
                         &make_loss,        &make_validator,
                         &train_images,     &predict_input,
                         &predict_output};
  return task;
}

}  // namespace engine
YOLO_END_NAMESPACE
