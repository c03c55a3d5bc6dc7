// Training-loader throughput: images/s of augmented batches (imgsz 640, mosaic on, batch 16), for a
// few thread counts.
//   loader_benchmark DATASET_DIR_OR_YAML [threads...] [cache=ram]     (default threads: 1 2)
// Make a dataset with: python3 ../shared/tools/make_fashion_det.py /tmp/fdet640 --train 256 --imgsz 640
#include <yolo/utils/error.h>
#include <yolo/utils/log.h>

#include "data/dataset.h"
#include "data/dataset_yaml.h"
#include "data/loader.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATASET_DIR|data.yaml [threads ...]\n", argv[0]);
    return 1;
  }
  fs::path yaml = argv[1];
  if (fs::is_directory(yaml)) yaml /= "data.yaml";
  std::vector<int64_t> threads;
  std::string cache;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("cache=", 0) == 0)
      cache = arg.substr(6);
    else
      threads.push_back(std::stoll(arg));
  }
  if (threads.empty()) threads = {1, 2};
  constexpr int64_t kImgsz = 640, kBatch = 16, kEpochs = 2;

  yolo::set_log_level(yolo::LogLevel::Warning);
  const auto spec = yolo::data::load_data_spec(yaml.string());
  yolo::data::DatasetOptions options;
  options.imgsz = kImgsz;
  options.batch_size = kBatch;
  options.cache = cache;
  auto dataset = std::make_shared<yolo::data::DetectionDataset>(spec.train, spec.names, options);

  std::printf("training loader, %zu images, imgsz %lld, batch %lld, default augmentation (mosaic %.1f), cache=%s\n",
              dataset->size(), static_cast<long long>(kImgsz), static_cast<long long>(kBatch), options.hyp.mosaic,
              cache.empty() ? "false" : cache.c_str());
  // CPU time shows the cost per core even while other work shares the machine.
  std::printf("| threads | images/s | ms/batch | images per CPU-second |\n|--------:|---------:|---------:|------:|\n");
  for (auto t : threads) {
    yolo::data::LoaderOptions lo;
    lo.batch_size = kBatch;
    lo.workers = t;
    yolo::data::DataLoader loader(dataset, lo);
    // A first epoch warms the decoded-image cache as a long training run has it warm.
    loader.set_epoch(0);
    while (loader.next()) {
    }
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    const std::clock_t c0 = std::clock();
    int64_t images = 0, batches = 0;
    for (int64_t e = 1; e <= kEpochs; ++e) {
      loader.set_epoch(e);
      while (auto b = loader.next()) images += b->images.size(0), ++batches;
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    std::printf("| %7lld | %8.1f | %8.1f | %5.1f |\n", static_cast<long long>(t), images / s, 1000 * s / batches,
                images / cpu);
  }
  return 0;
} catch (const yolo::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
