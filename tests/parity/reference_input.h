#pragma once
// The inputs the reference figures were made from (../shared/reference/README.md): an image plainly resized
// to 640x640 (INTER_LINEAR), BGR -> RGB, /255, CHW; and NumPy arrays (.npy).
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "catch.h"

namespace yolo::test {

constexpr int64_t kReferenceImageSize = 640;

inline torch::Tensor load_reference_image(const std::string& path) {
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  REQUIRE_FALSE(bgr.empty());
  cv::Mat resized, rgb;
  cv::resize(bgr, resized, cv::Size(kReferenceImageSize, kReferenceImageSize), 0, 0, cv::INTER_LINEAR);
  cv::cvtColor(resized, rgb, cv::COLOR_BGR2RGB);
  return torch::from_blob(rgb.data, {kReferenceImageSize, kReferenceImageSize, 3}, torch::kUInt8)
      .permute({2, 0, 1})
      .to(torch::kFloat32)
      .div(255);
}

// Minimal .npy reader: little-endian float32, C order.
inline torch::Tensor read_npy_float32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  char magic[6];
  in.read(magic, 6);
  REQUIRE(std::string(magic, 6) == "\x93NUMPY");
  const int major = in.get();
  in.get();  // minor
  uint32_t header_length = 0;
  if (major == 1) {
    uint16_t n = 0;
    in.read(reinterpret_cast<char*>(&n), 2);
    header_length = n;
  } else {
    in.read(reinterpret_cast<char*>(&header_length), 4);
  }
  std::string header(header_length, '\0');
  in.read(header.data(), header_length);
  REQUIRE(header.find("'descr': '<f4'") != std::string::npos);
  REQUIRE(header.find("'fortran_order': False") != std::string::npos);
  const auto open = header.find('(', header.find("'shape'")), close = header.find(')', open);
  std::vector<int64_t> shape;
  std::stringstream dims(header.substr(open + 1, close - open - 1));
  for (std::string dim; std::getline(dims, dim, ',');) {
    if (dim.find_first_not_of(' ') != std::string::npos) shape.push_back(std::stoll(dim));
  }
  auto tensor = torch::empty(shape, torch::kFloat);
  in.read(reinterpret_cast<char*>(tensor.data_ptr<float>()), tensor.numel() * sizeof(float));
  REQUIRE(in.gcount() == static_cast<std::streamsize>(tensor.numel() * sizeof(float)));
  return tensor;
}

}  // namespace yolo::test
