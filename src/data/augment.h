#pragma once
// The augmentations of Ultralytics' detection pipeline, as functions on an image and its boxes.
// Every random draw comes from the Rng passed in, so a sample is a pure function of its seed.
#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "data/options.h"
#include "data/rng.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// multi_scale=True: the (h, w) a training batch of shape `batch_hw` is resized to, as Ultralytics: a size
/// drawn in [imgsz / 2, imgsz * 1.5] in steps of `stride` for the long side, the short side scaled alike
/// and rounded up to a multiple of `stride`. Boxes are normalised, so they follow unchanged.
std::array<int64_t, 2> multi_scale_shape(int64_t imgsz, int64_t stride, std::array<int64_t, 2> batch_hw, Rng& rng);

/// An image (HWC uint8 BGR) with its boxes in pixels (x1, y1, x2, y2) and their classes.
struct Instances {
  cv::Mat image;
  std::vector<int64_t> cls;
  std::vector<std::array<float, 4>> boxes;

  void clip_boxes(float width, float height);
  /// Drops boxes whose width or height is not positive (cut away by a crop).
  void remove_empty_boxes();
};

/// An image letterboxed into a shape: resized by `ratio`, then padded left by pad_w, top by pad_h.
struct Letterbox {
  cv::Mat image;
  double ratio = 1.0;
  double pad_w = 0, pad_h = 0;
};

/// Resizes `image` to fit `shape` (h, w) keeping its aspect ratio, and pads it (value 114) to that
/// shape, centred. `auto_pad` pads only up to the next multiple of `stride` (inference on equal-size
/// batches); `scaleup` = false never enlarges (validation).
Letterbox letterbox(const cv::Mat& image, std::array<int64_t, 2> shape, bool auto_pad = false, int64_t stride = 32,
                    bool scaleup = true);
/// The same on an image with boxes; the boxes follow.
Letterbox letterbox(Instances& x, std::array<int64_t, 2> shape, bool scaleup = true);

/// Four images (the first one being the sample) tiled around a random centre in
/// [imgsz/2, 1.5 imgsz) of a 2*imgsz square canvas filled with 114. Boxes are clipped to the canvas.
Instances mosaic4(const std::array<const Instances*, 4>& tiles, int64_t imgsz, Rng& rng);
/// The same, drawing into `canvas` (reallocated only when its size differs): the result's image
/// shares its pixels.
Instances mosaic4(const std::array<const Instances*, 4>& tiles, int64_t imgsz, Rng& rng, cv::Mat& canvas);

/// Rotation, scale, shear, perspective and translation around the image centre, then a crop to an
/// output of (width + 2*border, height + 2*border); border = -imgsz/2 shrinks a mosaic canvas back to
/// imgsz. Boxes become the bounds of their transformed corners, clipped, and are dropped when they
/// became too small, too thin or lost most of their area (Ultralytics' box candidates).
void random_perspective(Instances& x, const AugmentOptions& hyp, int64_t border, Rng& rng);

/// Blends `other` into `x` with a Beta(32, 32) ratio and keeps the boxes of both.
void mixup(Instances& x, const Instances& other, Rng& rng);

/// Random gains of hue, saturation and value applied through one look-up table.
void random_hsv(cv::Mat& image, double hgain, double sgain, double vgain, Rng& rng);

/// Flips left-right (`horizontal`) or up-down with probability p.
void random_flip(Instances& x, bool horizontal, double p, Rng& rng);

/// Ultralytics' box candidate test between a box before (scaled by the transform's scale) and after.
bool box_candidate(const std::array<float, 4>& before, const std::array<float, 4>& after, float wh_thr = 2,
                   float ar_thr = 100, float area_thr = 0.1f);

}  // namespace data
YOLO_END_NAMESPACE
