// Builds yolov8n from the YAML that ships inside the library, prints its summary, and uses the public API
// a program needs: arguments, the launcher, errors, the log sink and the version.
#include <cstdio>
#include <string>
#include <type_traits>

#include <yolo/process.h>
#include <yolo/yolo.h>

// The public headers bring no third-party headers but LibTorch's (and yolo.h not even those).
#ifdef FMT_VERSION
#error "a public yolocpp header includes fmt"
#endif
#ifdef CV_VERSION_MAJOR
#error "a public yolocpp header includes OpenCV"
#endif
#ifdef TORCH_API
#error "yolo.h includes LibTorch"
#endif
static_assert(YOLO_VERSION_MAJOR >= 0 && YOLO_VERSION_MINOR >= 0 && YOLO_VERSION_PATCH >= 0, "version macros");
// The library's declarations live in an inline namespace named after MAJOR.MINOR (yolo::v0_1), which programs
// need not spell: two versions of the library in one process do not clash at link time.
static_assert(std::is_same_v<yolo::YOLO_ABI_NAMESPACE::Model, yolo::Model>, "yolo::Model is in the ABI namespace");
static_assert(std::is_same_v<yolo::YOLO_ABI_NAMESPACE::TrainArgs, yolo::TrainArgs>, "so is TrainArgs");

int main() {
  try {
    int lines = 0;
    yolo::set_log_sink([&](yolo::LogLevel, std::string_view) { ++lines; });
    const auto args = yolo::TrainArgs::from_strings({"epochs=3", "imgsz=320", "device=cpu"});
    yolo::RankLauncher ranks(args);  // one device: starts nothing
    std::printf("yolocpp %d.%d.%d (%s): %s\n", YOLO_VERSION_MAJOR, YOLO_VERSION_MINOR, YOLO_VERSION_PATCH,
                YOLO_VERSION_STRING, yolo::Model("yolov8n.yaml").info().c_str());
    std::printf("%zu argument keys, epochs=%d, ranks=%d\n", yolo::TrainArgs::keys().size(), args.epochs(),
                ranks.world_size());
    try {
      yolo::TrainArgs().epochs(-1);
      return 1;
    } catch (const yolo::Error& e) {
      std::printf("expected error: %s\n", e.what());
    }
    yolo::set_log_sink({});
  } catch (const yolo::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
