// Runs a trained detector on images and prints the boxes.
//   example_predict_images best.pt image-or-folder
#include <cstdio>

#include <yolo/yolo.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s model.pt source\n", argv[0]);
    return 1;
  }
  try {
    yolo::Model detector(argv[1]);
    for (const auto& prediction : detector.predict(argv[2])) {
      std::printf("%s: %zu boxes\n", prediction.path.c_str(), prediction.boxes.size());
      for (const auto& b : prediction.boxes)
        std::printf("  %-10s %.2f  [%.1f %.1f %.1f %.1f]\n", b.name.c_str(), b.conf, b.x1, b.y1, b.x2, b.y2);
    }
  } catch (const yolo::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
