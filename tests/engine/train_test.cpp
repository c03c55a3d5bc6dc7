// End-to-end training: run folder contents, fine-tuning accuracy, and exact resume after SIGKILL.
#include <sys/wait.h>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <set>

#include "catch.h"
#include "io/checkpoint.h"
#include "yolo/model.h"
#include "yolo/utils/log.h"

namespace fs = std::filesystem;

namespace {

std::string fixture_data() { return yolo::test::data_path("fdet/data.yaml"); }

fs::path fresh_dir(const std::string& name) { return yolo::test::fresh_dir("train_test_" + name); }

using yolo::test::read_lines;

}  // namespace

TEST_CASE("training from scratch writes Ultralytics' run folder", "[engine][train]") {
  const auto project = fresh_dir("scratch");
  auto results = yolo::Model("yolov8n.yaml")
                     .train(yolo::TrainArgs().data(fixture_data()).epochs(2).imgsz(128).batch(8).workers(2)
                                .project(project.string()).name("train").plots(false));
  const fs::path run = results.save_dir;
  CHECK(run == project / "train");
  CHECK(results.epochs_completed == 2);
  CHECK(fs::exists(run / "args.yaml"));
  const auto csv = read_lines(run / "results.csv");
  REQUIRE(csv.size() == 3);
  CHECK(csv[0] ==
        "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),"
        "metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2");
  CHECK(csv[1].rfind("1,", 0) == 0);
  CHECK(csv[2].rfind("2,", 0) == 0);
  for (const auto* name : {"last.pt", "best.pt"}) {
    const auto checkpoint = yolo::io::load_checkpoint((run / "weights" / name).string());
    CHECK(checkpoint.model_state().size() > 300);
    CHECK(checkpoint.epoch() == -1);  // the final, stripped form
  }
  // A second run with the same name goes to train2, as Ultralytics.
  auto again = yolo::Model("yolov8n.yaml")
                   .train(yolo::TrainArgs().data(fixture_data()).epochs(1).imgsz(64).batch(8).workers(1)
                              .project(project.string()).name("train").val(false));
  CHECK(fs::path(again.save_dir) == project / "train2");
  fs::remove_all(project);
}

TEST_CASE("fine-tuning the reference checkpoint keeps its accuracy", "[engine][train]") {
  const auto project = fresh_dir("finetune");
  yolo::Model model(yolo::test::data_path("yolov8n_fdet.pt"));
  auto results = model.train(yolo::TrainArgs().data(fixture_data()).epochs(1).imgsz(640).batch(8).workers(2)
                                 .project(project.string()).name("ft").plots(false));
  INFO("mAP50-95 after fine-tuning: " << results.metrics.map50_95);
  CHECK(results.metrics.map50_95 >= 0.6);
  fs::remove_all(project);
}

TEST_CASE("resume after SIGKILL ends with the same weights as an uninterrupted run", "[engine][train][resume]") {
  const auto project = fresh_dir("resume");
  const std::string data = fixture_data();
  const auto helper = std::string(YOLO_TRAIN_UNTIL_KILLED_PATH);
  // Straight: 4 epochs. Killed: SIGKILL right after epoch 2's checkpoint, then resume=last.pt.
  const auto straight = std::system((helper + " " + data + " " + project.string() + " straight 4 0").c_str());
  REQUIRE(WIFEXITED(straight));
  REQUIRE(WEXITSTATUS(straight) == 0);
  const auto killed = std::system((helper + " " + data + " " + project.string() + " killed 4 2").c_str());
  // std::system's shell reports a child killed by a signal as exit status 128 + signal.
  const bool died_of_sigkill = (WIFSIGNALED(killed) && WTERMSIG(killed) == SIGKILL) ||
                               (WIFEXITED(killed) && WEXITSTATUS(killed) == 128 + SIGKILL);
  REQUIRE(died_of_sigkill);
  const auto last = project / "killed" / "weights" / "last.pt";
  REQUIRE(fs::exists(last));
  CHECK(yolo::io::load_checkpoint(last.string()).epoch() == 1);  // 0-based: two epochs done
  for (const auto& entry : fs::directory_iterator(last.parent_path()))
    CHECK(entry.path().string().find(".tmp") == std::string::npos);  // no half-written file left behind

  yolo::Model("yolov8n.yaml").train(yolo::TrainArgs().resume(last.string()));

  // epoch3.pt holds the full-precision training weights after the 4th epoch of each run.
  const auto a = yolo::io::load_checkpoint((project / "straight" / "weights" / "epoch3.pt").string());
  const auto b = yolo::io::load_checkpoint((project / "killed" / "weights" / "epoch3.pt").string());
  const auto wa = a.model_state(), wb = b.model_state();
  REQUIRE(wa.size() == wb.size());
  REQUIRE(wa.size() > 300);
  size_t different = 0;
  for (size_t i = 0; i < wa.size(); ++i) {
    CHECK(wa[i].first == wb[i].first);
    if (!torch::equal(wa[i].second, wb[i].second)) ++different;
  }
  CHECK(different == 0);
  fs::remove_all(project);
}

// A box gain near float32's limit makes the loss overflow to inf, as a diverging run would.
TEST_CASE("a diverging run stops with a clear message instead of training on NaN", "[engine][train]") {
  const auto project = fresh_dir("diverge");
  yolo::Model model("yolov8n.yaml");
  CHECK_THROWS_WITH(model.train(yolo::TrainArgs::from_strings(
                        {"data=" + fixture_data(), "project=" + project.string(), "name=nan", "epochs=3",
                         "imgsz=64", "batch=8", "nbs=8", "workers=1", "box=1e38",
                         "warmup_epochs=0", "val=False", "plots=False"})),
                    Catch::Matchers::ContainsSubstring("non-finite training loss"));
  fs::remove_all(project);
}

TEST_CASE("pretrained=x.pt loads into the model built for the dataset's classes", "[engine][train]") {
  const auto project = fresh_dir("pretrained");
  yolo::test::LogCapture capture;
  yolo::Model("yolov8n.yaml")
      .train(yolo::TrainArgs::from_strings({"data=" + fixture_data(), "project=" + project.string(), "name=p",
                                            "pretrained=" + yolo::test::data_path("yolov8n_fdet.pt"), "epochs=1",
                                            "imgsz=64", "batch=8", "workers=1", "val=False", "plots=False"}));
  const auto lines = capture.lines();
  // All 355 tensors, the 10-class head included (the reference checkpoint has nc=10 like the fixture).
  CHECK(std::any_of(lines.begin(), lines.end(),
                    [](const std::string& l) { return l.find("Transferred 355/355 items") != std::string::npos; }));
  fs::remove_all(project);
}

TEST_CASE("a run stopped mid-epoch leaves last.pt that repeats that epoch on resume", "[engine][train][resume]") {
  // on_train_batch_end's stop is how Ctrl-C reaches the loop (the Python binding sets it): the second
  // epoch is cut after its first batch.
  const auto project = fresh_dir("interrupted");
  const auto args = yolo::TrainArgs().data(fixture_data()).epochs(3).imgsz(64).batch(4).workers(1)
                        .project(project.string()).name("run").val(false).plots(false);
  yolo::Model model("yolov8n.yaml");
  model.add_callback("on_train_batch_end", [](yolo::TrainEvent& event) {
    if (event.epoch == 1 && event.batch == 0) event.stop = true;
  });
  const auto results = model.train(args);
  const fs::path run = results.save_dir;
  CHECK(read_lines(run / "results.csv").size() == 2);  // header + epoch 1: the cut epoch has no row
  const auto last = yolo::io::load_checkpoint((run / "weights" / "last.pt").string());
  CHECK(last.epoch() == 0);  // the last completed epoch, so resume starts again at epoch 2 (index 1)
  CHECK_FALSE(fs::exists(run / "weights" / "epoch1.pt"));

  std::vector<int> resumed_epochs;
  yolo::Model resumed("yolov8n.yaml");
  resumed.add_callback("on_train_epoch_start", [&](yolo::TrainEvent& event) { resumed_epochs.push_back(event.epoch); });
  const auto finished = resumed.train(yolo::TrainArgs().resume((run / "weights" / "last.pt").string()));
  CHECK(resumed_epochs == std::vector<int>{1, 2});
  CHECK(read_lines(fs::path(finished.save_dir) / "results.csv").size() == 4);  // epochs 1, 2, 3 once each
  fs::remove_all(project);
}

TEST_CASE("plots=True writes the first training batches, multi_scale=True trains at drawn sizes", "[engine][train]") {
  const auto project = fresh_dir("plots");
  yolo::Model model("yolov8n.yaml");
  std::set<long> sizes;  // the sides the batches were trained at, as the progress bar's Size column shows them
  model.add_callback("on_train_batch_end", [&](yolo::TrainEvent& e) { sizes.insert(e.image_size); });
  auto results = model.train(yolo::TrainArgs().data(fixture_data()).epochs(1).imgsz(96).batch(4).workers(1)
                                 .project(project.string()).name("run").val(false).plots(true).multi_scale(true));
  const fs::path run = results.save_dir;
  for (const auto* name : {"train_batch0.jpg", "train_batch1.jpg", "train_batch2.jpg"})
    CHECK(fs::file_size(run / name) > 1000);
  CHECK_FALSE(fs::exists(run / "train_batch3.jpg"));
  CHECK(sizes.size() > 1);
  for (const long size : sizes) CHECK((size >= 32 && size <= 160 && size % 32 == 0));
  fs::remove_all(project);
}
