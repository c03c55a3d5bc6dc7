#pragma once
// Ultralytics' classification transforms (data/augment.py classify_transforms and
// classify_augmentations) with the semantics torchvision gives them on PIL images, on 8-bit RGB
// cv::Mats: PIL's antialiased bilinear resize, RandomResizedCrop, flips, ColorJitter, the
// RandAugment / AutoAugment (ImageNet policy) / AugMix policies and RandomErasing. Every random
// draw comes from the Rng passed in.
#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

#include "data/options.h"
#include "data/rng.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// PIL's Image.resize((width, height), BILINEAR) of an 8-bit image (1 to 4 channels): a triangle
/// filter whose support widens by the scale when shrinking (so it antialiases, unlike OpenCV's
/// INTER_LINEAR), in PIL's fixed point, horizontal pass then vertical.
cv::Mat pil_resize_bilinear(const cv::Mat& image, int width, int height);

/// The eval transform (torchvision Resize(size) then CenterCrop(size)): the shorter side resized to
/// `size` with the aspect kept, then the centre size x size.
cv::Mat classify_eval_transform(const cv::Mat& rgb, int64_t size);

/// The training transform: RandomResizedCrop(size, scale = (1 - hyp.scale, 1), ratio = (3/4, 4/3)),
/// horizontal and vertical flips (fliplr, flipud), then the auto_augment policy, or, without one,
/// ColorJitter(brightness = contrast = hsv_v, saturation = hsv_s, hue = hsv_h), then RandomErasing
/// with probability `erasing` (value 0).
cv::Mat classify_train_transform(const cv::Mat& rgb, int64_t size, const AugmentOptions& hyp, Rng& rng);

/// One operation of the auto-augment policies by torchvision's name (Identity, ShearX, ShearY,
/// TranslateX, TranslateY, Rotate, Brightness, Color, Contrast, Sharpness, Posterize, Solarize,
/// AutoContrast, Equalize, Invert) at a signed magnitude, as torchvision's _apply_op (bilinear, fill 0).
cv::Mat apply_augment_op(const cv::Mat& rgb, const std::string& op, double magnitude);

// The single operations, as torchvision's functional ops on PIL images (factor 1 = unchanged).
cv::Mat adjust_brightness(const cv::Mat& rgb, double factor);
cv::Mat adjust_contrast(const cv::Mat& rgb, double factor);
cv::Mat adjust_saturation(const cv::Mat& rgb, double factor);
cv::Mat adjust_sharpness(const cv::Mat& rgb, double factor);
/// Hue shift by `factor` in [-0.5, 0.5] of the colour circle, through PIL's 8-bit HSV.
cv::Mat adjust_hue(const cv::Mat& rgb, double factor);
cv::Mat posterize(const cv::Mat& rgb, int bits);
cv::Mat solarize(const cv::Mat& rgb, double threshold);
cv::Mat autocontrast(const cv::Mat& rgb);
cv::Mat equalize(const cv::Mat& rgb);
cv::Mat invert(const cv::Mat& rgb);

}  // namespace data
YOLO_END_NAMESPACE
