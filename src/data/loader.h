#pragma once
// Batches of a Dataset (detection or classification), decoded and augmented ahead of the training loop by worker
// threads. Every random draw derives from (seed, epoch, position in the epoch), so the batches are
// bitwise identical whatever the number of workers.
#include <torch/torch.h>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "data/options.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

class Dataset;

struct Batch {
  torch::Tensor images;   // uint8 [B, 3, H, W], RGB (BGR where the `bgr` augmentation fired), contiguous
  torch::Tensor targets;  // float32 [N, 6]: batch index, class, cx, cy, w, h normalised by (W, H); [0, 6] when none
  torch::Tensor labels;   // int64 [B]: each image's class (classification datasets); undefined otherwise
  std::vector<std::string> paths;
  std::vector<std::array<int64_t, 2>> orig_shapes;  // (h, w) of the files
  std::vector<std::array<double, 4>> ratio_pad;     // gain h, gain w, pad w (left), pad h (top)

  /// Objects in the batch: boxes for detection, images for classification (the progress line's Instances).
  int64_t instances() const { return labels.defined() ? labels.size(0) : targets.size(0); }
};

/// Iterate with `while (auto batch = loader.next()) { ... }`; next() returns nullopt at the end of the
/// epoch, and the call after that starts the same epoch again. set_epoch() reshuffles.
///
/// Sharding: with world_size > 1, the epoch's order is padded by wrapping to a multiple of
/// world_size and rank r takes positions r, r + world_size, ... (torch's DistributedSampler), so
/// every rank has the same number of batches. With shard_batches (validation) whole batches are dealt
/// instead, without padding: ranks may then have different numbers of batches.
///
/// Mosaic's extra images: Ultralytics draws them from a buffer of the images its worker process
/// loaded last, whose content depends on worker timing. Here they are drawn from the last
/// `mosaic_buffer_length()` images of this rank's order up to the sample (continuing into the end of
/// the previous epoch): the recent images a single-worker Ultralytics loader would hold, which the
/// decoded-image cache still has, but a pure function of (seed, epoch). The buffer's own loads of
/// mosaic partners are not part of it, a small difference in which images get mixed.
class DataLoader {
 public:
  DataLoader(std::shared_ptr<Dataset> dataset, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// Reshuffles deterministically from (seed, epoch); stops batches being prepared for the old one.
  void set_epoch(int64_t epoch);
  /// The next batch, or nullopt at the end of the epoch. A worker's failure is rethrown here as
  /// yolo::Error naming the image file.
  std::optional<Batch> next();

  size_t num_batches() const;
  /// Samples this rank sees per epoch (dataset size / world size, rounded up).
  size_t samples_per_rank() const { return order_.size(); }
  /// This rank's dataset indices of the current epoch, in batch order.
  const std::vector<size_t>& epoch_indices() const { return order_; }
  Dataset& dataset() { return *dataset_; }
  const LoaderOptions& options() const { return options_; }

 private:
  struct Slot {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  std::vector<size_t> rank_order(int64_t epoch) const;
  void build_order();
  Batch make_batch(size_t batch_index) const;
  void start_workers();
  void stop_workers();
  void worker_loop();

  std::shared_ptr<Dataset> dataset_;
  LoaderOptions options_;
  int64_t epoch_ = 0;
  std::vector<size_t> order_;          // this rank's dataset indices
  std::vector<size_t> previous_tail_;  // the end of the previous epoch's order: mosaic partners at the start
  size_t next_batch_ = 0;              // the consumer's position
  bool running_ = false;

  std::mutex mutex_;
  std::condition_variable produced_, consumed_;
  size_t claimed_ = 0;  // batches handed to workers
  bool stop_ = false;
  std::map<size_t, Slot> ready_;
  std::vector<std::thread> workers_;
};

/// A batch whose images are on the training device.
struct DeviceBatch {
  Batch batch;           ///< as the loader made it (images still on the host, for plots)
  torch::Tensor images;  ///< uint8 [B, 3, H, W] on the device: a quarter of float's bytes to copy
};

/// One epoch of a loader's batches with their images copied to `device` one batch ahead: when batch i is
/// handed out, batch i+1 is taken from the loader and its copy queued, from page-locked memory and without
/// waiting. On CUDA the copy runs on a stream of its own, beside the training of batch i; elsewhere in
/// order. Make one per epoch, after the loader's set_epoch().
class DevicePrefetcher {
 public:
  DevicePrefetcher(DataLoader& loader, const torch::Device& device);
  ~DevicePrefetcher();
  DevicePrefetcher(const DevicePrefetcher&) = delete;
  DevicePrefetcher& operator=(const DevicePrefetcher&) = delete;

  /// The next batch, or nullopt at the end of the epoch.
  std::optional<DeviceBatch> next();

 private:
  struct InFlight;
  std::unique_ptr<InFlight> fetch();

  DataLoader& loader_;
  torch::Device device_;
  std::optional<c10::Stream> copy_stream_;  // CUDA: a pool stream for the copies, joined by events
  bool started_ = false;
  std::unique_ptr<InFlight> ahead_;
};

}  // namespace data
YOLO_END_NAMESPACE
