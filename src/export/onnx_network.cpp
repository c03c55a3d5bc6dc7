#include "export/onnx_network.h"

#include <algorithm>
#include <filesystem>

#include "export/dnn_model.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {

bool is_onnx_file(const std::string& path) {
  auto ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".onnx";
}

OnnxNetworkImpl::OnnxNetworkImpl(const std::string& path)
    : OnnxNetworkImpl(std::make_shared<OpenCvDnnModel>(path), path) {
  const auto& m = metadata();
  YOLO_CHECK(m.task == "detect" || m.task == "classify",
             "{}: an exported {} model; yolocpp runs exported detect and classify models", path, m.task);
  YOLO_CHECK(m.dynamic || m.imgsz[0] == m.imgsz[1],
             "{}: exported for {}x{} inputs; yolocpp's predict and val letterbox to squares: export with one imgsz",
             path, m.imgsz[0], m.imgsz[1]);
}

OnnxNetworkImpl::OnnxNetworkImpl(std::shared_ptr<OpenCvDnnModel> model, std::string path)
    : model_(std::move(model)), path_(std::move(path)) {}

const OnnxMetadata& OnnxNetworkImpl::metadata() const { return model_->metadata(); }

const std::string& OnnxNetworkImpl::task() const { return metadata().task; }

int64_t OnnxNetworkImpl::nc() const { return static_cast<int64_t>(metadata().names.size()); }

std::vector<double> OnnxNetworkImpl::strides() const { return {static_cast<double>(metadata().stride)}; }

std::vector<torch::Tensor> OnnxNetworkImpl::forward_raw(torch::Tensor x) { return {forward(std::move(x))}; }

torch::Tensor OnnxNetworkImpl::forward(torch::Tensor x) {
  // OpenCV computes on the CPU; the output goes back to the input's device, where the engine continues.
  return model_->forward(x).to(x.device());
}

torch::Tensor OnnxNetworkImpl::decode(const std::vector<torch::Tensor>& raw) { return raw.front(); }

nn::ModelInfo OnnxNetworkImpl::info(int64_t /*imgsz*/) {
  const auto size = model_->graph_size();
  nn::ModelInfo info;
  info.layers = info.leaf_layers = size.layers;
  info.parameters = size.parameters;
  return info;
}

std::string OnnxNetworkImpl::display_name() const { return std::filesystem::path(path_).filename().string(); }

nn::Architecture OnnxNetworkImpl::architecture() const {
  nn::Architecture architecture;
  architecture.family = "onnx";
  architecture.name = path_;
  architecture.nc = nc();
  return architecture;
}

std::shared_ptr<nn::NetworkImpl> OnnxNetworkImpl::rebuild(std::optional<int64_t> nc) const {
  YOLO_CHECK(!nc || *nc == this->nc(),
             "{}: an exported ONNX model cannot be trained or given {} classes; train from its .pt checkpoint", path_,
             nc.value_or(0));
  return std::shared_ptr<OnnxNetworkImpl>(new OnnxNetworkImpl(model_, path_));
}

int64_t OnnxNetworkImpl::fixed_imgsz() const { return metadata().dynamic ? 0 : metadata().imgsz[0]; }

}  // namespace exporter
YOLO_END_NAMESPACE
