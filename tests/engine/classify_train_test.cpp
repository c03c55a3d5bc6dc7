// Classification end to end through the task seam: training yolov8n-cls on the Fashion-MNIST folders
// of tests/data/fcls, early stopping on the validation loss, resume, fine-tuning to another class
// count, and proof that a classifier never runs detection code.
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <ATen/record_function.h>

#include "catch.h"
#include "engine/checkpointing.h"
#include "io/checkpoint.h"
#include "nn/torchvision_network.h"
#include "parity/reference_input.h"
#include "yolo/model.h"
#include "yolo/nn/network.h"
#include "yolo/utils/log.h"

namespace fs = std::filesystem;

namespace {

std::string dataset() { return yolo::test::data_path("fcls"); }

fs::path fresh_dir(const std::string& name) { return yolo::test::fresh_dir("classify_test_" + name); }

using yolo::test::read_lines;

/// One column of results.csv by name.
std::vector<double> csv_column(const fs::path& csv, const std::string& name) {
  const auto lines = read_lines(csv);
  REQUIRE(!lines.empty());
  std::vector<std::string> header;
  std::stringstream first(lines[0]);
  for (std::string cell; std::getline(first, cell, ',');) header.push_back(cell);
  const auto at = std::find(header.begin(), header.end(), name) - header.begin();
  REQUIRE(at < static_cast<long>(header.size()));
  std::vector<double> values;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::stringstream row(lines[i]);
    std::string cell;
    for (long k = 0; k <= at; ++k) std::getline(row, cell, ',');
    values.push_back(std::stod(cell));
  }
  return values;
}

/// The small training run the tests share: 32-pixel images, 200 per split, a few seconds an epoch.
yolo::TrainArgs tiny_run(const fs::path& project, const std::string& name) {
  return yolo::TrainArgs()
      .data(dataset())
      .imgsz(32)
      .batch(32)
      .workers(2)
      .seed(1)
      .project(project.string())
      .name(name)
      .plots(false);
}

/// Records the profiler regions (RECORD_USER_SCOPE) entered on any thread while it lives.
class RegionRecorder {
 public:
  RegionRecorder() {
    handle_ = at::addGlobalCallback(
        at::RecordFunctionCallback(
            [](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
              std::lock_guard<std::mutex> lock(mutex());
              names().insert(fn.name());
              return nullptr;
            })
            .scopes({at::RecordScope::USER_SCOPE}));
  }
  ~RegionRecorder() { at::removeCallback(handle_); }
  std::set<std::string> seen() const {
    std::lock_guard<std::mutex> lock(mutex());
    return names();
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex());
    names().clear();
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& names() {
    static std::set<std::string> n;
    return n;
  }
  at::CallbackHandle handle_;
};

}  // namespace

TEST_CASE("yolov8n-cls trains one epoch on class folders into Ultralytics' classify run folder", "[engine][train][classify]") {
  const auto project = fresh_dir("one_epoch");
  yolo::Model model("yolov8n-cls.yaml");
  CHECK(model.task() == "classify");
  std::vector<yolo::EpochRecord> records;
  model.add_callback("on_fit_epoch_end", [&](yolo::TrainEvent& e) {
    if (e.record) records.push_back(*e.record);
  });
  const auto results = model.train(tiny_run(project, "run").epochs(1).lr0(0.01).warmup_epochs(0).optimizer("SGD"));
  const fs::path run = results.save_dir;
  CHECK(run == project / "run");
  CHECK(results.epochs_completed == 1);
  const auto csv = read_lines(run / "results.csv");
  REQUIRE(csv.size() == 2);
  CHECK(csv[0] ==
        "epoch,time,train/loss,metrics/accuracy_top1,metrics/accuracy_top5,val/loss,lr/pg0,lr/pg1,lr/pg2");
  // The epoch-end event carries the same row, with named columns, for loggers.
  REQUIRE(records.size() == 1);
  CHECK(records[0].epoch == 1);
  REQUIRE(records[0].train_loss.size() == 1);
  CHECK(records[0].train_loss[0].first == "train/loss");
  CHECK(records[0].val_loss[0].first == "val/loss");
  CHECK(records[0].train_loss[0].second > 0.5);  // cross-entropy of 10 classes starts near ln 10
  CHECK(records[0].val_loss[0].second > 0);

  CHECK(results.metrics.task == "classify");
  CHECK(results.metrics.images == 200);
  CHECK(results.metrics.top5 >= results.metrics.top1);
  CHECK(results.metrics.fitness == Approx((results.metrics.top1 + results.metrics.top5) / 2));
  // best.pt rebuilds as the classifier it is, with the folders' class names.
  yolo::Model best(results.best);
  CHECK(best.task() == "classify");
  REQUIRE(best.names().size() == 10);
  CHECK(best.names()[0] == "ankle_boot");
  CHECK(best.names()[9] == "trouser");
  const auto checkpoint_args = yolo::engine::load_model_from_checkpoint(results.best).train_args;
  CHECK(std::find(checkpoint_args.begin(), checkpoint_args.end(), std::make_pair(std::string("imgsz"), yolo::ArgValue(int64_t{32}))) !=
        checkpoint_args.end());
  // Predict on the model the training left behind: probabilities over the 10 classes, no boxes.
  const auto predictions = model.predict(dataset() + "/val/bag/*.png");
  REQUIRE(predictions.size() == 20);
  CHECK(predictions[0].boxes.empty());
  CHECK(predictions[0].probs.data.size() == 10);
  CHECK(predictions[0].probs.top5.size() == 5);
  fs::remove_all(project);
}

TEST_CASE("patience_metric=val_loss stops when the validation loss stops falling", "[engine][train][classify]") {
  // Azure ML's "Train PyTorch Model" rule: stop after `patience` epochs without a lower val loss. With
  // lr0 = 0 the weights stay put and only the batch-norm statistics move, so the loss stalls at once.
  const auto project = fresh_dir("patience");
  const int epochs = 8;
  yolo::Model model("yolov8n-cls.yaml");
  const auto results = model.train(tiny_run(project, "run")
                                       .epochs(epochs)
                                       .optimizer("SGD")
                                       .lr0(0.0)
                                       .warmup_epochs(0)
                                       .patience(2)
                                       .patience_metric("val_loss"));
  const auto val_loss = csv_column(fs::path(results.save_dir) / "results.csv", "val/loss");
  REQUIRE(static_cast<int>(val_loss.size()) == results.epochs_completed);
  CHECK(results.epochs_completed < epochs);
  // The rule, epoch by epoch: the run ends at the first epoch two epochs after the lowest loss so far.
  size_t best = 0;
  for (size_t e = 1; e < val_loss.size(); ++e) {
    const bool stops_here = e == val_loss.size() - 1;
    if (val_loss[e] < val_loss[best]) best = e;
    CHECK((e - best >= 2) == stops_here);
  }
  fs::remove_all(project);
}

TEST_CASE("Azure's options: polynomial lr decay, a log line every print_freq iterations", "[engine][train][classify]") {
  const auto project = fresh_dir("poly");
  std::vector<std::string> lines;
  yolo::set_log_sink([&](yolo::LogLevel, std::string_view line) { lines.emplace_back(line); });
  const auto results = yolo::Model("yolov8n-cls.yaml")
                           .train(tiny_run(project, "run")
                                      .epochs(3)
                                      .val(false)
                                      .optimizer("SGD")
                                      .lr0(0.1)
                                      .lrf(0.01)
                                      .warmup_epochs(0)
                                      .lr_schedule("poly")
                                      .lr_power(0.9)
                                      .print_freq(3));
  yolo::set_log_sink({});
  const auto lr = csv_column(fs::path(results.save_dir) / "results.csv", "lr/pg0");
  REQUIRE(lr.size() == 3);
  for (size_t e = 0; e < lr.size(); ++e)
    CHECK(lr[e] == Approx(0.1 * (std::pow(1 - e / 3.0, 0.9) * 0.99 + 0.01)).epsilon(1e-5));
  // 7 batches of 32 an epoch: iterations 3, 6 and the last, 7.
  size_t logged = 0;
  for (const auto& line : lines)
    if (line.find(" iteration ") != std::string::npos && line.find(" loss ") != std::string::npos) ++logged;
  CHECK(logged == 9);
  fs::remove_all(project);
}

TEST_CASE("dropout= sets the Classify head's dropout", "[nn][classify]") {
  auto model = yolo::nn::create_network("yolov8n-cls.yaml", 10);
  model->set_dropout(0.3);
  size_t found = 0;
  for (const auto& m : model->modules())
    if (auto* drop = m->as<torch::nn::Dropout>()) found += drop->options.p() == 0.3;
  CHECK(found == 1);
}

TEST_CASE("a classification run cut mid-epoch resumes and ends like Ultralytics' resume", "[engine][train][resume][classify]") {
  const auto project = fresh_dir("resume");
  yolo::Model model("yolov8n-cls.yaml");
  model.add_callback("on_train_batch_end", [](yolo::TrainEvent& event) {
    if (event.epoch == 1 && event.batch == 0) event.stop = true;
  });
  const auto cut = model.train(tiny_run(project, "run").epochs(3).val(false));
  CHECK(read_lines(fs::path(cut.save_dir) / "results.csv").size() == 2);
  std::vector<int> resumed_epochs;
  yolo::Model resumed("yolov8n-cls.yaml");
  resumed.add_callback("on_train_epoch_start", [&](yolo::TrainEvent& e) { resumed_epochs.push_back(e.epoch); });
  const auto done = resumed.train(yolo::TrainArgs().resume((fs::path(cut.save_dir) / "weights" / "last.pt").string()));
  CHECK(resumed_epochs == std::vector<int>{1, 2});
  CHECK(read_lines(fs::path(done.save_dir) / "results.csv").size() == 4);
  CHECK(done.metrics.task == "classify");
  fs::remove_all(project);
}

TEST_CASE("fine-tuning a classifier on another class count replaces only the last layer", "[engine][classify][nn]") {
  auto pretrained = yolo::engine::load_model_from_checkpoint(yolo::test::data_path("yolov8n_cls_fmnist.pt")).model;
  yolo::nn::Network fresh(pretrained->rebuild(3));
  CHECK(fresh->nc() == 3);
  const auto report = yolo::nn::transfer_weights(*fresh, yolo::nn::state_dict(*pretrained));
  CHECK(report.missing.empty());
  CHECK(report.mismatched == std::vector<std::string>{"model.9.linear.weight", "model.9.linear.bias"});
  CHECK(report.transferred == report.total - 2);
}

TEST_CASE("a classifier never runs detection code, a detector does", "[engine][classify]") {
  const auto project = fresh_dir("regions");
  RegionRecorder recorder;
  yolo::Model classifier("yolov8n-cls.yaml");
  classifier.train(tiny_run(project, "run").epochs(1));
  classifier.val(yolo::ValArgs().data(dataset()).imgsz(32).batch(64).workers(2));
  classifier.predict(dataset() + "/val/coat/*.png");
  const auto seen = recorder.seen();
  CHECK(seen.count("yolo::Classify") == 1);
  CHECK(seen.count("yolo::Detect") == 0);
  CHECK(seen.count("yolo::DetectionLoss") == 0);
  CHECK(seen.count("yolo::non_max_suppression") == 0);

  // The control: the same recorder sees a detector's head and NMS.
  recorder.clear();
  yolo::Model(yolo::test::data_path("yolov8n_fdet.pt"))
      .predict(yolo::test::data_path("fdet/images/val/000000.jpg"), yolo::Model::predict_defaults().imgsz(320));
  const auto detector = recorder.seen();
  CHECK(detector.count("yolo::Detect") == 1);
  CHECK(detector.count("yolo::non_max_suppression") == 1);
  CHECK(detector.count("yolo::Classify") == 0);
  fs::remove_all(project);
}

TEST_CASE("classify from the command line, the task word must be the model's", "[engine][classify]") {
#ifndef YOLO_CLI_PATH
  YOLO_SKIP("the yolo command line tool is not built");
#else
  const auto project = fresh_dir("cli");
  const auto out = project / "out.txt";
  auto run = [&](const std::string& arguments) {
    const int status = std::system((std::string(YOLO_CLI_PATH) + " " + arguments + " > " + out.string() + " 2>&1").c_str());
    std::ifstream in(out);
    return std::make_pair(WEXITSTATUS(status), std::string(std::istreambuf_iterator<char>(in), {}));
  };
  const std::string model = "model=" + yolo::test::data_path("yolov8n_cls_fmnist.pt");
  // The task comes from the model when the command omits it.
  const auto [val_status, val_out] = run("val " + model + " data=" + dataset() + " batch=64 workers=1");
  INFO(val_out);
  CHECK(val_status == 0);
  CHECK_THAT(val_out, Catch::Matchers::ContainsSubstring("top1 0.7500  top5 0.9950"));
  CHECK_THAT(val_out, Catch::Matchers::ContainsSubstring("classes   top1_acc   top5_acc"));
  const auto [wrong_status, wrong_out] = run("detect val " + model + " data=" + dataset());
  CHECK(wrong_status != 0);
  CHECK_THAT(wrong_out, Catch::Matchers::ContainsSubstring("is a classify model"));
  // A detection dataset is not a class folder.
  const auto [det_status, det_out] = run("classify val " + model + " data=" + yolo::test::data_path("fdet/data.yaml"));
  CHECK(det_status != 0);
  CHECK_THAT(det_out, Catch::Matchers::ContainsSubstring("NotLabeledDataset"));
  fs::remove_all(project);
#endif
}

// ---- torchvision architectures by name -------------------------------------------------------------

TEST_CASE("resnet18 and densenet121 train by name on class folders, their checkpoints rebuild them", "[engine][train][classify][torchvision]") {
  const auto project = fresh_dir("torchvision");
  for (const std::string arch : {"resnet18", "densenet121"}) {
    INFO(arch);
    yolo::Model model(arch);
    CHECK(model.task() == "classify");
    CHECK(model.names().size() == 1000);  // torchvision's default class count until a dataset says otherwise
    const auto results = model.train(tiny_run(project, arch).epochs(1).pretrained("false"));
    CHECK(results.metrics.task == "classify");
    CHECK(results.metrics.images == 200);
    // The checkpoint records the architecture, not a YAML; it rebuilds with torchvision's names and 10 classes.
    const auto checkpoint = yolo::io::load_checkpoint(results.best);
    REQUIRE(checkpoint.find("architecture"));
    CHECK(checkpoint.find("architecture")->at("name").as_string() == arch);
    const auto reloaded = yolo::engine::load_model_from_checkpoint(results.best);
    CHECK(reloaded.model->architecture().family == "torchvision");
    CHECK(reloaded.model->nc() == 10);
    CHECK(reloaded.names.front() == "ankle_boot");
    const auto state = yolo::nn::state_dict(*reloaded.model);
    const std::string head = arch == "resnet18" ? "fc.weight" : "classifier.weight";
    const auto found = std::find_if(state.begin(), state.end(), [&](const auto& e) { return e.first == head; });
    REQUIRE(found != state.end());
    CHECK(found->second.size(0) == 10);
    CHECK(state.front().first == (arch == "resnet18" ? "conv1.weight" : "features.conv0.weight"));
    // The model the training left behind predicts as the reloaded checkpoint does.
    const auto ours = model.predict(dataset() + "/val/shirt/*.png");
    const auto theirs = yolo::Model(results.best).predict(dataset() + "/val/shirt/*.png");
    REQUIRE(ours.size() == theirs.size());
    for (size_t i = 0; i < ours.size(); ++i) CHECK(ours[i].probs.top5 == theirs[i].probs.top5);
  }
  fs::remove_all(project);
}

TEST_CASE("a torchvision state dict loads into the engine's network with torchvision's logits", "[engine][classify][torchvision][parity]") {
  // DenseNet(growth_rate=12, block_config=(6, 12, 24, 16), num_init_features=24, num_classes=10): the
  // reference .pth and logits of ../shared/reference, copied to tests/data/torchvision by the torchvision tests.
  const auto options = yolo::nn::TorchvisionOptions("densenet121").growth_rate(12).block_config({6, 12, 24, 16})
                           .num_init_features(24).num_classes(10);
  auto network = yolo::nn::torchvision_network(options);
  const auto path = yolo::test::data_path("torchvision/densenet_g12_nc10.pth");
  yolo::nn::load_torchvision_weights(*network, yolo::io::load_checkpoint(path).model_state(), path);
  network->eval();
  torch::NoGradGuard no_grad;
  const auto input = yolo::test::read_npy_float32(yolo::test::data_path("torchvision/tv_input.npy"));
  const auto expected = yolo::test::read_npy_float32(yolo::test::data_path("torchvision/densenet_g12_nc10_logits.npy"));
  const double error = (network->forward_raw(input)[0] - expected).abs().max().item<double>();
  INFO("max |logit error| " << error);
  CHECK(error <= 1e-4);
  CHECK(network->forward(input).sum(1).sub(1).abs().max().item<double>() < 1e-5);  // probabilities
  // The architecture a checkpoint records rebuilds the same network, options included.
  auto rebuilt = yolo::nn::build_network(network->architecture());
  const auto a = yolo::nn::state_dict(*network), b = yolo::nn::state_dict(*rebuilt);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second.sizes() == b[i].second.sizes());
  }
  // Another class count replaces only the last layer.
  yolo::nn::Network three(network->rebuild(3));
  const auto report = yolo::nn::transfer_weights(*three, a);
  CHECK(report.mismatched == std::vector<std::string>{"classifier.weight", "classifier.bias"});
  CHECK(report.transferred == report.total - 2);
}
