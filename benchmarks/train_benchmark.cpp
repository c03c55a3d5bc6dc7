// End-to-end training throughput: images/s of the training epochs (validation excluded), and peak memory,
// of a model trained from scratch (yolov8n.yaml by default; a classifier such as yolov8n-cls.yaml or resnet18
// takes a classification folder as DATA).
//   train_benchmark DATA [imgsz=320] [batch=16] [epochs=1] [workers=2] [device=cpu] [model=yolov8n.yaml]
// Make a dataset with: python3 benchmarks/peers/make_fashion_det.py --imgsz 320 ... (or make_fashion_cls.py)
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
    std::fprintf(stderr,
                 "usage: %s DATA [imgsz=320] [batch=16] [epochs=1] [workers=2] [device=cpu] [model=yolov8n.yaml]\n",
                 argv[0]);
    return 1;
  }
  const int imgsz = argc > 2 ? std::stoi(argv[2]) : 320;
  const int batch = argc > 3 ? std::stoi(argv[3]) : 16;
  const int epochs = argc > 4 ? std::stoi(argv[4]) : 1;
  const int workers = argc > 5 ? std::stoi(argv[5]) : 2;
  const std::string device = argc > 6 ? argv[6] : "cpu";
  const std::string model_name = argc > 7 ? argv[7] : "yolov8n.yaml";
  const auto project = std::filesystem::temp_directory_path() / "yolo_train_benchmark";
  std::filesystem::remove_all(project);

  using Clock = std::chrono::steady_clock;
  Clock::time_point epoch_start;
  double train_seconds = 0, epoch_cpu_start = 0, train_cpu_seconds = 0;
  long batches = 0;
  yolo::set_log_level(yolo::LogLevel::Warning);
  yolo::Model model(model_name);
  // CPU time of all threads (the loader's included): images per CPU-second compare while the machine is shared.
  const auto cpu_seconds = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  model.add_callback("on_train_epoch_start", [&](yolo::TrainEvent&) {
    epoch_start = Clock::now();
    epoch_cpu_start = cpu_seconds();
  });
  model.add_callback("on_train_batch_end", [&](yolo::TrainEvent&) { ++batches; });
  model.add_callback("on_train_epoch_end", [&](yolo::TrainEvent&) {
    train_seconds += std::chrono::duration<double>(Clock::now() - epoch_start).count();
    train_cpu_seconds += cpu_seconds() - epoch_cpu_start;
  });
  try {
    model.train(yolo::TrainArgs().data(argv[1]).imgsz(imgsz).batch(batch).epochs(epochs).workers(workers)
                    .device(device).project(project.string()).name("bench").val(false).plots(false)
                    .pretrained("false"));
  } catch (const yolo::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double images = static_cast<double>(batches) * batch;
  std::printf("| model | imgsz | batch | workers | device | images | train s | images/s | peak RSS MiB | train CPU s | "
              "images per CPU-s |\n");
  std::printf("|-------|-------|-------|---------|--------|--------|---------|----------|--------------|-------------|"
              "------------------|\n");
  std::printf("| %s | %5d | %5d | %7d | %6s | %6.0f | %7.1f | %8.2f | %12.0f | %11.1f | %16.2f |\n", model_name.c_str(),
              imgsz, batch, workers, device.c_str(), images, train_seconds, images / train_seconds,
              usage.ru_maxrss / 1024.0, train_cpu_seconds, images / train_cpu_seconds);
  std::filesystem::remove_all(project);
  return 0;
}
