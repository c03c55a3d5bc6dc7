#pragma once
// What the detection and classification datasets share about decoded images: cache=disk's .npy
// files next to the images, and a parallel loop over the images of a dataset.
#include <atomic>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// `a/b.jpg` -> `a/b.npy`, where cache=disk keeps the decoded image, as Ultralytics does.
std::string npy_path(const std::string& image_file);
/// Writes an 8-bit 3-channel image as a NumPy .npy file (atomically); warns and goes on when it cannot.
void write_npy(const std::string& path, const cv::Mat& image);
/// The image of a .npy file written by write_npy, or an empty Mat when the file is missing or not one.
cv::Mat read_npy(const std::string& path);

/// cache=disk: writes the .npy of every file that has none yet, decoding on up to 8 threads.
void cache_to_disk(const std::vector<std::string>& files);
/// The decoded image (BGR, 3 channels) of `file`: its .npy when `from_npy` and one is there, else the
/// file itself. A file that no longer decodes is an error naming it.
cv::Mat read_image(const std::string& file, bool from_npy);

/// Calls f(i) for i in [0, n) on up to 8 threads; rethrows the first exception once all are done.
template <typename F>
void parallel_for(size_t n, F&& f) {
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (size_t i; (i = next++) < n;) {
      try {
        f(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  const size_t threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  for (size_t t = 1; t < std::min(threads, n); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace data
YOLO_END_NAMESPACE
