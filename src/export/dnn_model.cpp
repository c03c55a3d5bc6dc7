#include "export/dnn_model.h"

#include "yolo/utils/error.h"
#include "yolo/version.h"
#include "yolo_build_config.h"
#if YOLO_HAVE_OPENCV_DNN
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#endif

YOLO_BEGIN_NAMESPACE
namespace exporter {

#if YOLO_HAVE_OPENCV_DNN

struct OpenCvDnnModel::Net {
  cv::dnn::Net net;
};

OpenCvDnnModel::OpenCvDnnModel(const std::string& path)
    : net_(std::make_unique<Net>()), metadata_(read_onnx_metadata(path)) {
  // OpenCV logs import errors to stderr before throwing them; the library reports through its exception.
  const auto log_level = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  try {
    net_->net = cv::dnn::readNetFromONNX(path);
    cv::utils::logging::setLogLevel(log_level);
  } catch (const cv::Exception& e) {
    cv::utils::logging::setLogLevel(log_level);
    // What OpenCV 4.6 lacks for our own exports; newer versions may load them.
    const std::string hint = metadata_.half      ? " It is a half=True export: export with half=False (OpenCV computes in fp32)."
                             : metadata_.dynamic ? " It is a dynamic=True export: export with dynamic=False."
                                                 : "";
    YOLO_FAIL("{}: OpenCV {} DNN cannot load this ONNX model.{} OpenCV says: {}", path, CV_VERSION, hint, e.what());
  }
  net_->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net_->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
}

torch::Tensor OpenCvDnnModel::forward(const torch::Tensor& images) {
  YOLO_CHECK(images.dim() == 4, "OpenCV DNN model: expected images [B, C, H, W], got {} dimensions", images.dim());
  const int64_t batch = images.size(0);
  const auto& m = metadata_;
  if (!m.dynamic) {
    YOLO_CHECK(images.size(2) == m.imgsz[0] && images.size(3) == m.imgsz[1],
               "OpenCV DNN model: exported for {}x{} images, got {}x{}; export with imgsz={} or dynamic=True",
               m.imgsz[0], m.imgsz[1], images.size(2), images.size(3), images.size(2));
  }
  // OpenCV computes in fp32 whatever the stored weights; a fixed-batch model takes its batch at a time.
  const int64_t chunk = m.dynamic ? batch : m.batch;
  const auto input = images.detach().to(torch::kCPU, torch::kFloat).contiguous();
  std::vector<torch::Tensor> outputs;
  for (int64_t start = 0; start < batch; start += chunk) {
    const int64_t n = std::min(chunk, batch - start);
    auto part = input.narrow(0, start, n);
    if (n < chunk) part = torch::cat({part, torch::zeros({chunk - n, input.size(1), input.size(2), input.size(3)})});
    part = part.contiguous();
    const std::vector<int> sizes(part.sizes().begin(), part.sizes().end());
    cv::Mat blob(static_cast<int>(sizes.size()), sizes.data(), CV_32F, part.data_ptr<float>());
    cv::Mat out;
    try {
      net_->net.setInput(blob);
      out = net_->net.forward();
    } catch (const cv::Exception& e) {
      YOLO_FAIL("OpenCV DNN model: inference failed: {}", e.what());
    }
    YOLO_CHECK(out.type() == CV_32F && out.isContinuous(), "OpenCV DNN model: unexpected output type");
    std::vector<int64_t> shape(out.size.p, out.size.p + out.dims);
    outputs.push_back(torch::from_blob(out.data, shape, torch::kFloat).clone().narrow(0, 0, n));
  }
  return torch::cat(outputs);
}

OpenCvDnnModel::GraphSize OpenCvDnnModel::graph_size() const {
  GraphSize size;
  for (const auto& name : net_->net.getLayerNames()) {
    ++size.layers;
    for (const auto& blob : net_->net.getLayer(net_->net.getLayerId(name))->blobs)
      size.parameters += static_cast<int64_t>(blob.total());
  }
  return size;
}

#else

struct OpenCvDnnModel::Net {};

OpenCvDnnModel::OpenCvDnnModel(const std::string& path) : metadata_(read_onnx_metadata(path)) {
  YOLO_FAIL("{}: this build of yolocpp has no OpenCV DNN module to run ONNX models (Debian: apt install "
            "libopencv-dnn-dev, then rebuild)",
            path);
}

torch::Tensor OpenCvDnnModel::forward(const torch::Tensor&) { YOLO_FAIL("OpenCV DNN is not available"); }

OpenCvDnnModel::GraphSize OpenCvDnnModel::graph_size() const { return {}; }

#endif

OpenCvDnnModel::~OpenCvDnnModel() = default;
OpenCvDnnModel::OpenCvDnnModel(OpenCvDnnModel&&) noexcept = default;
OpenCvDnnModel& OpenCvDnnModel::operator=(OpenCvDnnModel&&) noexcept = default;

}  // namespace exporter
YOLO_END_NAMESPACE
