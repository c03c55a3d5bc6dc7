#pragma once
// The input the reference figures were made from (../shared/reference/README.md): an image plainly resized
// to 640x640 (INTER_LINEAR), BGR -> RGB, /255, CHW.
#include <cstdint>
#include <string>

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

}  // namespace yolo::test
