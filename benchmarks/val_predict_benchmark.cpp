// Validation throughput and predict latency of a checkpoint, with Ultralytics' per-image speed split.
//   val_predict_benchmark MODEL.pt DATA.yaml [imgsz=640] [batch=16] [device=cpu]
// e.g. build/benchmarks/val_predict_benchmark tests/data/yolov8n_fdet.pt tests/data/fdet/data.yaml
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <yolo/process.h>
#include <yolo/yolo.h>

namespace fs = std::filesystem;

int main(int argc, char** argv) try {
  yolo::keep_freed_memory_in_heap();  // as the yolo CLI runs, so the figures compare
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s model.pt data.yaml [imgsz=640] [batch=16] [device=cpu]\n", argv[0]);
    return 1;
  }
  const std::string weights = argv[1], data = argv[2];
  const int imgsz = argc > 3 ? std::stoi(argv[3]) : 640;
  const int batch = argc > 4 ? std::stoi(argv[4]) : 16;
  const std::string device = argc > 5 ? argv[5] : "cpu";
  yolo::set_log_level(yolo::LogLevel::Warning);
  yolo::Model model(weights);
  using Clock = std::chrono::steady_clock;

  // Validation: one warm-up pass, then the timed one.
  auto val_args = yolo::ValArgs().data(data).imgsz(imgsz).batch(batch).device(device).workers(2).plots(false);
  model.val(val_args);
  const auto v0 = Clock::now();
  const auto metrics = model.val(val_args);
  const double val_s = std::chrono::duration<double>(Clock::now() - v0).count();

  // Predict: one image at a time, as a camera loop would; the val images are the source.
  const auto spec_dir = fs::path(data).parent_path() / "images" / "val";
  auto predict_args = yolo::Model::predict_defaults().imgsz(imgsz).device(device);
  model.predict(spec_dir.string(), predict_args);  // warm-up
  const auto p0 = Clock::now();
  const auto predictions = model.predict(spec_dir.string(), predict_args);
  const double predict_s = std::chrono::duration<double>(Clock::now() - p0).count();
  yolo::Speed mean;
  for (const auto& p : predictions) {
    mean.preprocess += p.speed.preprocess / predictions.size();
    mean.inference += p.speed.inference / predictions.size();
    mean.postprocess += p.speed.postprocess / predictions.size();
  }

  // ms/image is the wall time over the images; the split is the per-image means each stage measured.
  std::printf("| mode    | imgsz | batch | device | images | images/s | ms/image | preprocess ms | inference ms | "
              "postprocess ms |\n");
  std::printf("|---------|------:|------:|--------|-------:|---------:|---------:|--------------:|-------------:|"
              "---------------:|\n");
  std::printf("| val     | %5d | %5d | %-6s | %6ld | %8.2f | %8.1f | %13.1f | %12.1f | %14.1f |\n", imgsz, batch,
              device.c_str(), metrics.images, metrics.images / val_s, 1000 * val_s / metrics.images,
              metrics.speed.preprocess, metrics.speed.inference, metrics.speed.postprocess);
  std::printf("| predict | %5d | %5d | %-6s | %6zu | %8.2f | %8.1f | %13.1f | %12.1f | %14.1f |\n", imgsz, 1,
              device.c_str(), predictions.size(), predictions.size() / predict_s, 1000 * predict_s / predictions.size(),
              mean.preprocess, mean.inference, mean.postprocess);
  std::printf("val mAP50-95 %.4f\n", metrics.map50_95);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
