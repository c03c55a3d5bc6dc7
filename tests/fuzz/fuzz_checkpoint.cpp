// libFuzzer entry: bytes as a checkpoint file (zip + pickle + tensors, or torch.save's legacy stream
// of pickles and storages), then every accessor. Inputs that are not zip archives also go straight
// to the unpickler, so that mutations of pickles need not keep a valid file around them to be explored.
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/checkpoint.h"
#include "io/zip.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"

namespace {

template <typename F>
void ignore_errors(F&& f) {
  try {
    f();
  } catch (const yolo::Error&) {
  }
}

void exercise(const yolo::io::Checkpoint& checkpoint) {
  ignore_errors([&] { checkpoint.model_state(); });
  ignore_errors([&] { checkpoint.ema_state(); });
  ignore_errors([&] { checkpoint.model_yaml_text(); });
  ignore_errors([&] { checkpoint.names(); });
  ignore_errors([&] { checkpoint.train_args(); });
  ignore_errors([&] { checkpoint.epoch(); });
  ignore_errors([&] { checkpoint.best_fitness(); });
  ignore_errors([&] { yolo::io::to_yaml(checkpoint.root()); });
  // What we read must be writable again when it is plain values and tensors.
  ignore_errors([&] { yolo::io::checkpoint_to_bytes(checkpoint.root()); });
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  yolo::set_log_sink([](yolo::LogLevel, std::string_view) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (!yolo::io::looks_like_zip(bytes))
    ignore_errors([&] { exercise(yolo::io::Checkpoint(yolo::io::unpickle(bytes, "fuzz.pkl"), "fuzz.pkl")); });
  ignore_errors([&] { exercise(yolo::io::load_checkpoint_from_bytes(std::move(bytes), "fuzz.pt")); });
  return 0;
}
