// Test helper: starts a training run and SIGKILLs itself right after the checkpoint of a given
// epoch is written, as a crash or an OOM killer would.
//   train_until_killed DATA PROJECT NAME EPOCHS KILL_AFTER_EPOCH(1-based)
#include <csignal>
#include <cstdio>
#include <string>

#include <yolo/yolo.h>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s data project name epochs kill_after_epoch\n", argv[0]);
    return 1;
  }
  const int kill_after = std::stoi(argv[5]);
  yolo::Model model("yolov8n.yaml");
  model.add_callback("on_model_save", [kill_after](yolo::TrainEvent& e) {
    if (e.epoch + 1 == kill_after) std::raise(SIGKILL);
  });
  model.train(yolo::TrainArgs::from_strings({std::string("data=") + argv[1], std::string("project=") + argv[2],
                                             std::string("name=") + argv[3], std::string("epochs=") + argv[4],
                                             "imgsz=64", "batch=8", "nbs=8", "workers=2", "seed=3",
                                             "deterministic=True", "val=False", "save_period=1", "plots=False"}));
  return 0;
}
