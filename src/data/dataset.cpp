#include "data/dataset.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "data/image_cache.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace data {

DetectionDataset::DetectionDataset(const std::vector<std::string>& sources, const std::vector<std::string>& names,
                                   DatasetOptions opts)
    : opts_(std::move(opts)), names_(names) {
  YOLO_CHECK(!names_.empty(), "a dataset needs at least one class name");
  YOLO_CHECK(opts_.imgsz > 0 && opts_.stride > 0 && opts_.batch_size > 0,
             "imgsz, stride and batch must be positive (got {}, {}, {})", opts_.imgsz, opts_.stride, opts_.batch_size);
  YOLO_CHECK(opts_.cache.empty() || opts_.cache == "ram" || opts_.cache == "disk" || opts_.cache == "false" ||
                 opts_.cache == "False",
             "cache={} is not one of ram, disk or false", opts_.cache);
  if (opts_.cache == "false" || opts_.cache == "False") opts_.cache.clear();
  YOLO_CHECK(opts_.fraction > 0 && opts_.fraction <= 1, "fraction={} must be in (0, 1]", opts_.fraction);

  auto files = find_image_files(sources);
  if (opts_.fraction < 1)
    files.resize(
        std::max<size_t>(1, static_cast<size_t>(std::nearbyint(files.size() * opts_.fraction))));  // Python round()
  auto scan = scan_labels(files, static_cast<int64_t>(names_.size()), opts_.scan_workers);
  labels_ = std::move(scan.labels);
  summary_ = std::move(scan.summary);
  YOLO_CHECK(!labels_.empty(), "no usable image in {}: {} (see the warnings above)", fmt::join(sources, ", "),
             summary_.describe());

  if (!opts_.classes.empty()) {  // keep the boxes of these classes; other images become backgrounds
    for (auto& l : labels_) {
      size_t kept = 0;
      for (size_t i = 0; i < l.cls.size(); ++i) {
        if (std::find(opts_.classes.begin(), opts_.classes.end(), l.cls[i]) == opts_.classes.end()) continue;
        l.cls[kept] = l.cls[i], l.boxes[kept] = l.boxes[i];
        ++kept;
      }
      l.cls.resize(kept), l.boxes.resize(kept);
    }
  }
  if (opts_.single_cls)
    for (auto& l : labels_) std::fill(l.cls.begin(), l.cls.end(), 0);

  if (opts_.rect) set_rectangle();
  max_cached_images_ =
      opts_.cache == "ram"
          ? labels_.size()
          : std::min(labels_.size(), mosaic_buffer_length() + 4 * static_cast<size_t>(opts_.batch_size));
  if (!opts_.cache.empty()) cache_images();
}

size_t DetectionDataset::mosaic_buffer_length() const {
  if (!opts_.augment) return 0;
  return std::min<size_t>({labels_.size(), static_cast<size_t>(opts_.batch_size) * 8, 1000});
}

void DetectionDataset::set_rectangle() {
  // Sorting by aspect ratio lets each batch share a shape with little padding.
  std::vector<size_t> order(labels_.size());
  std::iota(order.begin(), order.end(), 0);
  auto aspect = [this](size_t i) { return static_cast<double>(labels_[i].height) / labels_[i].width; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return aspect(a) < aspect(b); });
  std::vector<ImageLabels> sorted;
  for (auto i : order) sorted.push_back(std::move(labels_[i]));
  labels_ = std::move(sorted);
  const size_t bs = static_cast<size_t>(opts_.batch_size);
  const size_t nb = (labels_.size() + bs - 1) / bs;
  batch_shapes_.clear();
  for (size_t b = 0; b < nb; ++b) {
    double lo = 1e30, hi = 0;
    for (size_t i = b * bs; i < std::min(labels_.size(), (b + 1) * bs); ++i) {
      const double ar = static_cast<double>(labels_[i].height) / labels_[i].width;
      lo = std::min(lo, ar), hi = std::max(hi, ar);
    }
    double sh = 1, sw = 1;  // relative (h, w)
    if (hi < 1)
      sh = hi;
    else if (lo > 1)
      sw = 1 / lo;
    auto side = [this](double rel) {
      return static_cast<int64_t>(std::ceil(rel * opts_.imgsz / opts_.stride + opts_.pad)) * opts_.stride;
    };
    batch_shapes_.push_back({side(sh), side(sw)});
  }
}

std::array<int64_t, 2> DetectionDataset::batch_shape(size_t batch) const {
  if (batch_shapes_.empty()) return {opts_.imgsz, opts_.imgsz};
  YOLO_CHECK(batch < batch_shapes_.size(), "rect batch {} out of range ({} batches)", batch, batch_shapes_.size());
  return batch_shapes_[batch];
}

void DetectionDataset::cache_images() {
  if (opts_.cache == "disk") {
    std::vector<std::string> files;
    for (const auto& l : labels_) files.push_back(l.im_file);
    cache_to_disk(files);
  } else {
    parallel_for(labels_.size(), [this](size_t i) { load_image(i); });
    size_t bytes = 0;
    for (const auto& [i, im] : images_) bytes += im->total() * im->elemSize();
    log_info("Cached {} images in RAM ({:.1f} GB)", images_.size(), bytes / 1e9);
  }
}

cv::Mat DetectionDataset::decode(size_t index) const { return read_image(labels_[index].im_file, opts_.cache == "disk"); }

std::pair<std::shared_ptr<const cv::Mat>, std::array<int64_t, 2>> DetectionDataset::load_image(size_t index) const {
  YOLO_CHECK(index < labels_.size(), "image index {} out of range ({} images)", index, labels_.size());
  const std::array<int64_t, 2> orig{labels_[index].height, labels_[index].width};
  {
    std::lock_guard<std::mutex> lock(images_mutex_);
    auto it = images_.find(index);
    if (it != images_.end()) return {it->second, orig};
  }
  cv::Mat im = decode(index);
  const int h0 = im.rows, w0 = im.cols;
  const double r = static_cast<double>(opts_.imgsz) / std::max(h0, w0);
  if (r != 1) {
    const int w = std::min(static_cast<int>(std::ceil(w0 * r)), static_cast<int>(opts_.imgsz));
    const int h = std::min(static_cast<int>(std::ceil(h0 * r)), static_cast<int>(opts_.imgsz));
    // Area averaging keeps thin details when shrinking for validation; training uses the faster linear.
    const int interp = opts_.augment || r > 1 ? cv::INTER_LINEAR : cv::INTER_AREA;
    cv::Mat resized;
    cv::resize(im, resized, cv::Size(w, h), 0, 0, interp);
    im = resized;
  }
  auto shared = std::make_shared<const cv::Mat>(std::move(im));
  if (max_cached_images_ > 0) {
    std::lock_guard<std::mutex> lock(images_mutex_);
    if (images_.emplace(index, shared).second) {
      image_order_.push_back(index);
      while (image_order_.size() > max_cached_images_) {
        images_.erase(image_order_.front());
        image_order_.pop_front();
      }
    }
  }
  return {shared, orig};
}

Instances DetectionDataset::load_instances(size_t index) const {
  auto [image, orig] = load_image(index);
  Instances x;
  x.image = *image;  // shares pixels with the cache: transforms write into new buffers
  const auto w = static_cast<float>(x.image.cols), h = static_cast<float>(x.image.rows);
  const auto& l = labels_[index];
  x.cls = l.cls;
  x.boxes.reserve(l.boxes.size());
  for (const auto& b : l.boxes)
    x.boxes.push_back({(b[0] - b[2] / 2) * w, (b[1] - b[3] / 2) * h, (b[0] + b[2] / 2) * w, (b[1] + b[3] / 2) * h});
  return x;
}

Instances DetectionDataset::mosaic_or_letterbox(size_t index, Rng& rng, const std::vector<size_t>& pool) const {
  const auto& hyp = opts_.hyp;
  const bool use_mosaic = rng.uniform() < hyp.mosaic && !opts_.rect;
  auto pick = [&] {
    return pool.empty() ? static_cast<size_t>(rng.randint(0, static_cast<int64_t>(size()) - 1))
                        : pool[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(pool.size()) - 1))];
  };
  Instances x;
  if (use_mosaic) {
    std::array<Instances, 4> tiles;
    tiles[0] = load_instances(index);
    for (int i = 1; i < 4; ++i) tiles[i] = load_instances(pick());
    thread_local cv::Mat canvas;  // 4 imgsz^2 pixels: reused rather than faulted in per sample
    x = mosaic4({&tiles[0], &tiles[1], &tiles[2], &tiles[3]}, opts_.imgsz, rng, canvas);
    random_perspective(x, hyp, -opts_.imgsz / 2, rng);  // always warps into a new image (border != 0)
  } else {
    x = load_instances(index);
    letterbox(x, batch_shape(opts_.rect ? index / static_cast<size_t>(opts_.batch_size) : 0), /*scaleup=*/true);
    random_perspective(x, hyp, 0, rng);
  }
  return x;
}

Sample DetectionDataset::get(size_t index, Rng& rng, const std::vector<size_t>& mosaic_pool) const {
  YOLO_CHECK(index < labels_.size(), "sample index {} out of range ({} images)", index, labels_.size());
  const auto& hyp = opts_.hyp;
  Sample s;
  s.path = labels_[index].im_file;
  s.orig_shape = {labels_[index].height, labels_[index].width};
  Instances x;
  if (opts_.augment) {
    x = mosaic_or_letterbox(index, rng, mosaic_pool);
    if (rng.uniform() < hyp.mixup) {
      const size_t other = mosaic_pool.empty()
                               ? static_cast<size_t>(rng.randint(0, static_cast<int64_t>(size()) - 1))
                               : mosaic_pool[static_cast<size_t>(rng.randint(0, mosaic_pool.size() - 1))];
      mixup(x, mosaic_or_letterbox(other, rng, mosaic_pool), rng);
    }
    random_hsv(x.image, hyp.hsv_h, hyp.hsv_s, hyp.hsv_v, rng);
    random_flip(x, /*horizontal=*/false, hyp.flipud, rng);
    random_flip(x, /*horizontal=*/true, hyp.fliplr, rng);
    s.to_rgb = !(rng.uniform() < hyp.bgr);
  } else {
    x = load_instances(index);
    const int rh = x.image.rows, rw = x.image.cols;
    const auto lb =
        letterbox(x, batch_shape(opts_.rect ? index / static_cast<size_t>(opts_.batch_size) : 0), /*scaleup=*/false);
    const double new_h = std::nearbyint(rh * lb.ratio), new_w = std::nearbyint(rw * lb.ratio);
    s.ratio_pad = {new_h / static_cast<double>(s.orig_shape[0]), new_w / static_cast<double>(s.orig_shape[1]), lb.pad_w,
                   lb.pad_h};
  }
  s.image = x.image;
  s.cls = std::move(x.cls);
  s.boxes = std::move(x.boxes);
  return s;
}

void DetectionDataset::close_mosaic() {
  opts_.hyp.mosaic = 0;
  opts_.hyp.mixup = 0;
}

}  // namespace data
YOLO_END_NAMESPACE
