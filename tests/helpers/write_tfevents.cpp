// Writes a small TensorBoard event file for python/tests/test_tensorboard.py, which reads it back with the
// real `tensorboard` package:   write_tfevents LOG_DIR
//   steps 1..3: train/box_loss = 1/step, metrics/mAP50(B) = step/10, lr/pg0 = step/100
//   step 3: image "val_batch0_pred" 48x64 (red left half, green right half)
//   graph: images -> model.0 (Conv) -> model.1 (Detect)
#include <cstdio>
#include <exception>
#include <opencv2/core.hpp>

#include "loggers/tensorboard.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_tfevents LOG_DIR\n");
    return 1;
  }
  try {
    yolo::loggers::TensorBoardWriter writer(argv[1]);
    writer.add_graph({{"images", "Input", {}, {}, {1, 3, 64, 64}},
                      {"model.0", "Conv", {"images"}, {{"args", "[16, 3, 2]"}}, {1, 16, 32, 32}},
                      {"model.1", "Detect", {"model.0"}, {{"args", "[10]"}}, {}}});
    for (int step = 1; step <= 3; ++step) {
      writer.add_scalars({{"train/box_loss", 1.0 / step}, {"metrics/mAP50(B)", step / 10.0}}, step);
      writer.add_scalar("lr/pg0", step / 100.0, step);
      writer.flush();
    }
    cv::Mat image(48, 64, CV_8UC3, cv::Scalar(0, 0, 255));
    image.colRange(32, 64).setTo(cv::Scalar(0, 255, 0));
    writer.add_image("val_batch0_pred", image, 3);
    std::printf("%s\n", writer.path().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
