#pragma once
// The ONNX writer (src/export/onnx/, built when libonnx-dev is found at configure time): our module
// graph written as ONNX operators, checked by ONNX's own checker and shape inference.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "export/exporter.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {

struct OnnxOptions {
  int64_t opset = 17;
  bool half = false;                             ///< fp16 weights, input and output
  bool dynamic = false;                          ///< batch, height and width symbolic
  int64_t batch = 1, height = 640, width = 640;  ///< the input's shape when not dynamic
};

using Metadata = std::vector<std::pair<std::string, std::string>>;

/// Writes `network` (unchanged; batch norms are folded into the exported convolutions) to `path` with
/// `metadata` as the model's metadata_props, after ONNX's checker and strict shape inference have
/// accepted it and the inferred output shape is the expected one.
void write_onnx(const torch::nn::Module& network, const NetworkInfo& info, const OnnxOptions& options,
                const Metadata& metadata, const std::string& path);

/// Runs ONNX's checker and strict shape inference on an .onnx file; throws yolo::Error with their message.
void check_onnx_file(const std::string& path);

/// The ONNX library version this build checks graphs with ("1.12.0").
std::string onnx_library_version();

}  // namespace exporter
YOLO_END_NAMESPACE
