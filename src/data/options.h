#pragma once
// Plain option structs of the data pipeline. Field names are Ultralytics' cfg/default.yaml keys, so
// the trainer copies TrainArgs into them one to one.
#include <cstdint>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// Augmentation hyperparameters (probabilities, gains and ranges), Ultralytics' defaults.
struct AugmentOptions {
  double hsv_h = 0.015, hsv_s = 0.7, hsv_v = 0.4;  // HSV gains (fractions)
  double degrees = 0, translate = 0.1, scale = 0.5, shear = 0, perspective = 0;
  double flipud = 0, fliplr = 0.5;  // flip probabilities
  double bgr = 0;                   // probability of keeping BGR channel order
  double mosaic = 1.0, mixup = 0;   // probabilities
  // classification only: RandomResizedCrop takes (1 - scale, 1) of the area
  double erasing = 0.4;                      // probability of random erasing
  std::string auto_augment = "randaugment";  // randaugment, autoaugment, augmix or "" (then colour jitter by hsv_*)
};

struct DatasetOptions {
  int64_t imgsz = 640;
  bool augment = true;
  bool rect = false;        // batches of similar aspect ratio, letterboxed to a per-batch shape
  int64_t batch_size = 16;  // only used to group rect batches
  int64_t stride = 32;
  double pad = 0.0;              // rect batch shape padding in strides: 0.5 for validation
  std::string cache;             // "", "ram" or "disk": keep decoded images
  bool single_cls = false;       // every class becomes class 0
  double fraction = 1.0;         // use the first fraction of the images
  std::vector<int64_t> classes;  // keep only these classes (empty: all)
  int64_t scan_workers = 0;      // threads verifying labels; 0: hardware concurrency
  AugmentOptions hyp;
};

struct LoaderOptions {
  int64_t batch_size = 16;
  int64_t workers = 8;  // threads decoding and augmenting; 0: in the calling thread
  bool shuffle = true;
  uint64_t seed = 0;
  int64_t rank = 0, world_size = 1;
  /// Sharding unit: false (training) deals samples round-robin and pads by wrapping, as torch's
  /// DistributedSampler; true (validation) deals whole batches of the unsharded order round-robin without
  /// padding, so that every image is seen once and in the same batch (same rect shape) as in one process.
  bool shard_batches = false;
  bool pin_memory = false;      // page-locked batches for asynchronous copies to CUDA
  size_t prefetch_batches = 4;  // batches ready ahead of the consumer, at most
  bool drop_last = false;
};

}  // namespace data
YOLO_END_NAMESPACE
