#pragma once
// What an exported .onnx file says about itself (Ultralytics' metadata_props), read without ONNX's
// libraries: a run of an exported model needs the class names, input size and task.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {

struct OnnxMetadata {
  std::map<std::string, std::string> props;  ///< every metadata_props entry, as written
  std::string task;                          ///< "detect", "classify"
  int64_t stride = 32;
  int64_t batch = 1;
  std::vector<int64_t> imgsz;                ///< [h, w]
  std::vector<std::string> names;
  bool dynamic = false;                      ///< args: batch, height and width symbolic
  bool half = false;                         ///< args: fp16 input and output
};

/// Reads the metadata_props of an .onnx file (the protobuf fields, without parsing the graph). A file
/// that is not ONNX, or an ONNX model without Ultralytics' keys (task, names, imgsz), is an error naming it.
OnnxMetadata read_onnx_metadata(const std::string& path);

}  // namespace exporter
YOLO_END_NAMESPACE
