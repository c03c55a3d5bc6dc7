// End-to-end training throughput: images/s of the training epochs (validation excluded), and peak memory.
//   train_benchmark DATA.yaml [imgsz=320] [batch=16] [epochs=1] [workers=2] [device=cpu]
// Make a dataset with: python3 ../shared/tools/make_fashion_det.py --imgsz 320 ...
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <yolo/process.h>
#include <yolo/yolo.h>

int main(int argc, char** argv) {
  yolo::keep_freed_memory_in_heap();  // as the yolo CLI runs, so the figures compare
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s data.yaml [imgsz=320] [batch=16] [epochs=1] [workers=2] [device=cpu]\n", argv[0]);
    return 1;
  }
  const int imgsz = argc > 2 ? std::stoi(argv[2]) : 320;
  const int batch = argc > 3 ? std::stoi(argv[3]) : 16;
  const int epochs = argc > 4 ? std::stoi(argv[4]) : 1;
  const int workers = argc > 5 ? std::stoi(argv[5]) : 2;
  const std::string device = argc > 6 ? argv[6] : "cpu";
  const auto project = std::filesystem::temp_directory_path() / "yolo_train_benchmark";
  std::filesystem::remove_all(project);

  using Clock = std::chrono::steady_clock;
  Clock::time_point epoch_start;
  double train_seconds = 0;
  long batches = 0;
  yolo::set_log_level(yolo::LogLevel::Warning);
  yolo::Model model("yolov8n.yaml");
  model.add_callback("on_train_epoch_start", [&](yolo::TrainEvent&) { epoch_start = Clock::now(); });
  model.add_callback("on_train_batch_end", [&](yolo::TrainEvent&) { ++batches; });
  model.add_callback("on_train_epoch_end", [&](yolo::TrainEvent&) {
    train_seconds += std::chrono::duration<double>(Clock::now() - epoch_start).count();
  });
  try {
    model.train(yolo::TrainArgs().data(argv[1]).imgsz(imgsz).batch(batch).epochs(epochs).workers(workers)
                    .device(device).project(project.string()).name("bench").val(false).plots(false));
  } catch (const yolo::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double images = static_cast<double>(batches) * batch;
  std::printf("| model   | imgsz | batch | workers | device | images | train s | images/s | peak RSS MiB |\n");
  std::printf("|---------|-------|-------|---------|--------|--------|---------|----------|--------------|\n");
  std::printf("| yolov8n | %5d | %5d | %7d | %6s | %6.0f | %7.1f | %8.2f | %12.0f |\n", imgsz, batch, workers,
              device.c_str(), images, train_seconds, images / train_seconds, usage.ru_maxrss / 1024.0);
  std::filesystem::remove_all(project);
  return 0;
}
