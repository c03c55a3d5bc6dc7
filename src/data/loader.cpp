#include "data/loader.h"

#include <algorithm>
#include <numeric>
#include <opencv2/core.hpp>

#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include "data/dataset.h"
#include "data/rng.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {
namespace {

// Mixes the epoch into a stream distinct from any sample's (whose index is a position < 2^62).
constexpr uint64_t kShuffleStream = ~0ull;

}  // namespace

DataLoader::DataLoader(std::shared_ptr<Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  YOLO_CHECK(dataset_, "DataLoader needs a dataset");
  YOLO_CHECK(options_.batch_size > 0, "batch size must be positive, got {}", options_.batch_size);
  YOLO_CHECK(options_.world_size >= 1 && options_.rank >= 0 && options_.rank < options_.world_size,
             "rank {} is not in [0, world_size={})", options_.rank, options_.world_size);
  YOLO_CHECK(options_.workers >= 0, "workers must be >= 0, got {}", options_.workers);
  options_.prefetch_batches = std::max<size_t>(1, options_.prefetch_batches);
  build_order();
}

DataLoader::~DataLoader() { stop_workers(); }

std::vector<size_t> DataLoader::rank_order(int64_t epoch) const {
  const size_t n = dataset_->size();
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  if (options_.shuffle) {
    Rng rng(options_.seed, static_cast<uint64_t>(epoch), kShuffleStream);
    for (size_t i = n; i > 1; --i) std::swap(all[i - 1], all[static_cast<size_t>(rng.randint(0, i - 1))]);
  }
  const auto world = static_cast<size_t>(options_.world_size), rank = static_cast<size_t>(options_.rank);
  if (options_.shard_batches) {
    const auto bs = static_cast<size_t>(options_.batch_size);
    std::vector<size_t> order;
    for (size_t b = rank; b * bs < n; b += world)
      order.insert(order.end(), all.begin() + static_cast<std::ptrdiff_t>(b * bs),
                   all.begin() + static_cast<std::ptrdiff_t>(std::min(n, (b + 1) * bs)));
    return order;
  }
  const size_t per_rank = (n + world - 1) / world;
  std::vector<size_t> order;
  for (size_t i = 0; i < per_rank; ++i) order.push_back(all[(rank + i * world) % n]);  // wraps to pad
  return order;
}

void DataLoader::build_order() {
  order_ = rank_order(epoch_);
  // The start of an epoch draws mosaic partners from the end of the previous one, as Ultralytics'
  // buffer carries over; the very first epoch starts with only the images seen so far.
  previous_tail_.clear();
  if (epoch_ > 0) {
    const auto previous = rank_order(epoch_ - 1);
    const size_t keep = std::min(previous.size(), dataset_->mosaic_buffer_length());
    previous_tail_.assign(previous.end() - static_cast<std::ptrdiff_t>(keep), previous.end());
  }
}

size_t DataLoader::num_batches() const {
  const auto bs = static_cast<size_t>(options_.batch_size);
  return options_.drop_last ? order_.size() / bs : (order_.size() + bs - 1) / bs;
}

void DataLoader::set_epoch(int64_t epoch) {
  stop_workers();
  epoch_ = epoch;
  build_order();
  next_batch_ = 0;
}

Batch DataLoader::make_batch(size_t batch_index) const {
  const auto bs = static_cast<size_t>(options_.batch_size);
  const size_t begin = batch_index * bs, end = std::min(order_.size(), begin + bs);
  const size_t buffer = dataset_->mosaic_buffer_length();
  const auto world = static_cast<uint64_t>(options_.world_size);
  std::vector<Sample> samples;
  samples.reserve(end - begin);
  std::vector<size_t> pool;
  for (size_t p = begin; p < end; ++p) {
    // The last `buffer` images up to and including this one, as Ultralytics' buffer holds them.
    pool.clear();
    if (buffer > 0) {
      const size_t from = p + 1 >= buffer ? p + 1 - buffer : 0;
      const size_t carried = std::min(previous_tail_.size(), buffer - (p + 1 - from));
      pool.insert(pool.end(), previous_tail_.end() - static_cast<std::ptrdiff_t>(carried), previous_tail_.end());
      pool.insert(pool.end(), order_.begin() + static_cast<std::ptrdiff_t>(from),
                  order_.begin() + static_cast<std::ptrdiff_t>(p + 1));
    }
    // The position in the whole epoch (all ranks) keys the sample's random stream.
    Rng rng(options_.seed, static_cast<uint64_t>(epoch_), p * world + static_cast<uint64_t>(options_.rank));
    try {
      samples.push_back(dataset_->get(order_[p], rng, pool));
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {  // e.g. cv::Exception: name the file the caller can look at
      YOLO_FAIL("{}: {}", dataset_->file(order_[p]), e.what());
    }
  }

  int h = 0, w = 0;
  size_t boxes = 0;
  for (const auto& s : samples) h = std::max(h, s.image.rows), w = std::max(w, s.image.cols), boxes += s.boxes.size();
  auto image_options = torch::TensorOptions().dtype(torch::kUInt8);
  if (options_.pin_memory && torch::cuda::is_available()) image_options = image_options.pinned_memory(true);
  Batch batch;
  const auto B = static_cast<int64_t>(samples.size());
  batch.images = torch::empty({B, 3, h, w}, image_options);
  batch.targets = torch::empty({static_cast<int64_t>(boxes), 6}, torch::kFloat32);
  const bool labelled = !samples.empty() && samples.front().label >= 0;
  if (labelled) batch.labels = torch::empty({B}, torch::kInt64);
  auto* pixels = batch.images.data_ptr<uint8_t>();
  auto* t = batch.targets.data_ptr<float>();
  const size_t plane = static_cast<size_t>(h) * w;
  for (int64_t i = 0; i < B; ++i) {
    const auto& s = samples[static_cast<size_t>(i)];
    // HWC BGR -> CHW planes written straight into the batch; a smaller image (rect batches of mixed
    // shapes across ranks) sits top-left on grey, so its boxes and padding stay valid.
    cv::Mat planes[3];
    for (int c = 0; c < 3; ++c) {
      planes[c] = cv::Mat(h, w, CV_8UC1, pixels + (static_cast<size_t>(i) * 3 + c) * plane);
      if (s.image.rows != h || s.image.cols != w) {
        planes[c].setTo(114);
        planes[c] = planes[c](cv::Rect(0, 0, s.image.cols, s.image.rows));
      }
    }
    const int rgb[] = {2, 0, 1, 1, 0, 2}, bgr[] = {0, 0, 1, 1, 2, 2};
    cv::mixChannels(&s.image, 1, planes, 3, s.to_rgb ? rgb : bgr, 3);
    for (size_t k = 0; k < s.boxes.size(); ++k) {
      const auto& b = s.boxes[k];
      *t++ = static_cast<float>(i);
      *t++ = static_cast<float>(s.cls[k]);
      *t++ = (b[0] + b[2]) / 2 / w;
      *t++ = (b[1] + b[3]) / 2 / h;
      *t++ = (b[2] - b[0]) / w;
      *t++ = (b[3] - b[1]) / h;
    }
    if (labelled) batch.labels.data_ptr<int64_t>()[i] = s.label;
    batch.paths.push_back(s.path);
    batch.orig_shapes.push_back(s.orig_shape);
    batch.ratio_pad.push_back(s.ratio_pad);
  }
  return batch;
}

void DataLoader::start_workers() {
  stop_workers();
  stop_ = false;
  claimed_ = next_batch_;
  ready_.clear();
  for (int64_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
  running_ = true;
}

void DataLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  consumed_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
  ready_.clear();
  running_ = false;
}

void DataLoader::worker_loop() {
  cv::setNumThreads(0);  // the workers are the parallelism: OpenCV's own threads would oversubscribe
  const size_t total = num_batches();
  while (true) {
    size_t k;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      consumed_.wait(lock,
                     [&] { return stop_ || claimed_ >= total || claimed_ < next_batch_ + options_.prefetch_batches; });
      if (stop_ || claimed_ >= total) return;
      k = claimed_++;
    }
    Slot slot;
    try {
      slot.batch = make_batch(k);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_[k] = std::move(slot);
    }
    produced_.notify_all();
  }
}

std::optional<Batch> DataLoader::next() {
  if (next_batch_ >= num_batches()) {
    stop_workers();
    next_batch_ = 0;  // the next call starts this epoch again
    return std::nullopt;
  }
  if (options_.workers == 0) return make_batch(next_batch_++);
  if (!running_) start_workers();
  Slot slot;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    produced_.wait(lock, [&] { return ready_.count(next_batch_) > 0; });
    slot = std::move(ready_[next_batch_]);
    ready_.erase(next_batch_);
    ++next_batch_;
  }
  consumed_.notify_all();
  if (slot.error) {
    stop_workers();
    std::rethrow_exception(slot.error);
  }
  return std::move(slot.batch);
}

struct DevicePrefetcher::InFlight {
  DeviceBatch batch;
  std::optional<c10::Event> copied;  // recorded on the copy stream after the copy
};

DevicePrefetcher::DevicePrefetcher(DataLoader& loader, const torch::Device& device) : loader_(loader), device_(device) {
  // Device-generic stream calls (c10): LibTorch's CPU build has no CUDA headers.
  if (device.is_cuda()) copy_stream_ = c10::impl::VirtualGuardImpl(device.type()).getStreamFromGlobalPool(device);
}

DevicePrefetcher::~DevicePrefetcher() = default;

std::unique_ptr<DevicePrefetcher::InFlight> DevicePrefetcher::fetch() {
  auto batch = loader_.next();
  if (!batch) return nullptr;
  auto in_flight = std::make_unique<InFlight>();
  if (copy_stream_) {
    const c10::StreamGuard on_copy_stream(*copy_stream_);
    in_flight->batch.images = batch->images.to(device_, /*non_blocking=*/true);
    in_flight->copied.emplace(device_.type());
    in_flight->copied->record(*copy_stream_);
  } else {
    in_flight->batch.images = batch->images.to(device_, /*non_blocking=*/true);
  }
  in_flight->batch.batch = std::move(*batch);
  return in_flight;
}

std::optional<DeviceBatch> DevicePrefetcher::next() {
  if (!started_) ahead_ = fetch(), started_ = true;
  auto current = std::move(ahead_);
  if (!current) return std::nullopt;  // the loader's epoch is over; it is not asked again
  if (current->copied) {
    // The training stream waits for the copy on the device, not the host; the caching allocator learns that
    // the images, allocated on the copy stream, are used on the training stream.
    const auto training_stream = c10::impl::VirtualGuardImpl(device_.type()).getStream(device_);
    current->copied->block(training_stream);
    current->batch.images.record_stream(training_stream);
  }
  ahead_ = fetch();
  return std::move(current->batch);
}

}  // namespace data
YOLO_END_NAMESPACE
