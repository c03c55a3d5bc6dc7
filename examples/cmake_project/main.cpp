// Builds yolov8n from the YAML that ships inside the library and prints its summary.
#include <cstdio>

#include <yolo/yolo.h>

int main() {
  try {
    std::printf("yolocpp %s: %s\n", YOLO_VERSION_STRING, yolo::Model("yolov8n.yaml").info().c_str());
  } catch (const yolo::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
