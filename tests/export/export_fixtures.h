#pragma once
// What the export tests share: a scratch folder for the models they export, and their skip for builds
// without ONNX export or OpenCV DNN.
#include <filesystem>
#include <string>

#include "catch.h"
#include "yolo_build_config.h"

namespace yolo::test {

/// A fresh folder, removed afterwards: exports go next to the weights, so each test copies its model here.
/// Names are unique per test case (ctest runs test cases in parallel).
struct ExportDir {
  explicit ExportDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("yolo_export_test_" + name)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ExportDir() { std::filesystem::remove_all(path); }
  ExportDir(const ExportDir&) = delete;
  ExportDir& operator=(const ExportDir&) = delete;
  std::string copy(const std::string& fixture, const std::string& as) const {
    std::filesystem::copy_file(data_path(fixture), path / as);
    return (path / as).string();
  }
  std::filesystem::path path;
};

}  // namespace yolo::test

#define REQUIRE_ONNX_AND_DNN()                                                         \
  do {                                                                                 \
    if (!YOLO_HAVE_ONNX) YOLO_SKIP("built without ONNX export (no libonnx-dev, or a LibTorch that bundles its own protobuf)"); \
    if (!YOLO_HAVE_OPENCV_DNN) YOLO_SKIP("built without OpenCV's DNN module");         \
  } while (false)
