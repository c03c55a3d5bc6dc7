#pragma once
// What the export tests share: a folder to export into, and the skip of builds without ONNX export.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "catch.h"
#include "yolo_build_config.h"

namespace yolo::test {

/// A fresh folder, removed afterwards: exports go next to the weights, so each test copies its model here.
struct ExportDir {
  explicit ExportDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("yolo_export_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ExportDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  ExportDir(const ExportDir&) = delete;
  ExportDir& operator=(const ExportDir&) = delete;
  std::string copy(const std::string& fixture, const std::string& as) const {
    std::filesystem::copy_file(data_path(fixture), path / as);
    return (path / as).string();
  }
  std::filesystem::path path;
};

}  // namespace yolo::test

#define YOLO_NO_ONNX_REASON "built without ONNX export (no libonnx-dev, or a LibTorch that bundles its own protobuf)"

#define REQUIRE_ONNX_AND_DNN()                                                 \
  do {                                                                         \
    if (!YOLO_HAVE_ONNX) YOLO_SKIP(YOLO_NO_ONNX_REASON);                       \
    if (!YOLO_HAVE_OPENCV_DNN) YOLO_SKIP("built without OpenCV's DNN module"); \
  } while (false)
