// Fine-tunes a detector and prints its validation metrics.
//   example_train_detector data.yaml [model] [epochs]
#include <cstdio>
#include <string>

#include <yolo/yolo.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s data.yaml [model=yolov8n.yaml] [epochs=3]\n", argv[0]);
    return 1;
  }
  const std::string model = argc > 2 ? argv[2] : "yolov8n.yaml";
  const int epochs = argc > 3 ? std::stoi(argv[3]) : 3;
  try {
    yolo::Model detector(model);
    detector.add_callback("on_fit_epoch_end", [](yolo::TrainEvent& e) {
      std::printf("epoch %d/%d: mAP50-95 %.4f\n", e.epoch + 1, e.epochs, e.metrics.map50_95);
    });
    auto results = detector.train(yolo::TrainArgs().data(argv[1]).epochs(epochs).imgsz(320).batch(8));
    std::printf("final mAP50 %.4f, mAP50-95 %.4f; run folder %s\n", results.metrics.map50,
                results.metrics.map50_95, results.save_dir.c_str());
  } catch (const yolo::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
