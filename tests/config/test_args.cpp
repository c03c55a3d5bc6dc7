#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "catch.h"
#include "config/resolve.h"
#include "yolo/config/args.h"
#include "config/parse.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"

using Catch::Matchers::ContainsSubstring;
using yolo::TrainArgs;
namespace fs = std::filesystem;

using yolo::test::error_of;

namespace {

/// A file in the temp folder that is removed at the end of the test.
struct TempFile {
  fs::path path;
  TempFile(const std::string& name, const std::string& text) : path(fs::temp_directory_path() / name) {
    std::ofstream(path) << text;
  }
  ~TempFile() { fs::remove(path); }
  std::string str() const { return path.string(); }
};

}  // namespace

TEST_CASE("defaults match Ultralytics' default.yaml", "[config]") {
  // Values from cfg/default.yaml of Ultralytics 8.3.166.
  const TrainArgs args;
  CHECK(args.task() == "detect");
  CHECK(args.mode() == "train");
  CHECK(args.model().empty());
  CHECK(args.data().empty());
  CHECK(args.epochs() == 100);
  CHECK(args.time() == 0);  // None
  CHECK(args.patience() == 100);
  CHECK(args.batch() == 16);
  CHECK(args.imgsz() == 640);
  CHECK(args.save());
  CHECK(args.save_period() == -1);
  CHECK(args.cache() == "false");
  CHECK(args.device().empty());
  CHECK(args.workers() == 8);
  CHECK(args.pretrained() == "true");
  CHECK(args.optimizer() == "auto");
  CHECK(args.seed() == 0);
  CHECK(args.deterministic());
  CHECK(args.close_mosaic() == 10);
  CHECK(args.resume() == "false");
  CHECK(args.amp());
  CHECK(args.fraction() == 1.0);
  CHECK(args.freeze().empty());
  CHECK(args.split() == "val");
  CHECK(args.conf() == 0);  // None
  CHECK(args.iou() == 0.7);
  CHECK(args.max_det() == 300);
  CHECK(args.vid_stride() == 1);
  CHECK(args.show_labels());
  CHECK(args.line_width() == 0);  // None
  CHECK(args.lr0() == 0.01);
  CHECK(args.lrf() == 0.01);
  CHECK(args.momentum() == 0.937);
  CHECK(args.weight_decay() == 0.0005);
  CHECK(args.warmup_epochs() == 3.0);
  CHECK(args.warmup_momentum() == 0.8);
  CHECK(args.warmup_bias_lr() == 0.1);
  CHECK(args.box() == 7.5);
  CHECK(args.cls() == 0.5);
  CHECK(args.dfl() == 1.5);
  CHECK(args.nbs() == 64);
  CHECK(args.hsv_h() == 0.015);
  CHECK(args.hsv_s() == 0.7);
  CHECK(args.hsv_v() == 0.4);
  CHECK(args.translate() == 0.1);
  CHECK(args.scale() == 0.5);
  CHECK(args.fliplr() == 0.5);
  CHECK(args.mosaic() == 1.0);
  CHECK(args.copy_paste_mode() == "flip");
  CHECK(args.auto_augment() == "randaugment");
  CHECK(args.erasing() == 0.4);
  // our own extras
  CHECK(args.datasets_dir().empty());
  CHECK_FALSE(args.scale_lr());
  CHECK(args.save_batches() == 0);
  CHECK(args.ddp_timeout() == 10800);  // Ultralytics' process-group timeout, 3 hours
  CHECK(TrainArgs::from_strings({"ddp_timeout=30"}).ddp_timeout() == 30);
  CHECK_THROWS_WITH(TrainArgs::from_strings({"ddp_timeout=soon"}), ContainsSubstring("ddp_timeout"));
}

TEST_CASE("chained setters set and return the same args", "[config]") {
  const auto args = TrainArgs().data("coco8.yaml").epochs(3).imgsz(320).device("0,1").lr0(0.02).cos_lr(true);
  CHECK(args.data() == "coco8.yaml");
  CHECK(args.epochs() == 3);
  CHECK(args.imgsz() == 320);
  CHECK(args.device() == "0,1");
  CHECK(args.lr0() == 0.02);
  CHECK(args.cos_lr());
}

TEST_CASE("key=value tokens of every type", "[config]") {
  const auto args = TrainArgs::from_strings(
      {"detect", "train", "epochs=3", "batch=0.7", "lr0=0.001", "rect=True", "cos_lr=true", "amp=False",
       "data=coco8.yaml", "name='my run'", "time=1.5", "conf=0.25", "classes=[0, 2]", "freeze=3", "cache=True",
       "resume=runs/detect/train/weights/last.pt", "pretrained=False", "device=[0, 1]", "imgsz=[320, 256]",
       "line_width=2", "model=None", "save_json"});
  CHECK(args.task() == "detect");
  CHECK(args.mode() == "train");
  CHECK(args.epochs() == 3);
  CHECK(args.batch() == 0.7);
  CHECK(args.lr0() == 0.001);
  CHECK(args.rect());
  CHECK(args.cos_lr());
  CHECK_FALSE(args.amp());
  CHECK(args.data() == "coco8.yaml");
  CHECK(args.name() == "my run");
  CHECK(args.time() == 1.5);
  CHECK(args.conf() == 0.25);
  CHECK(args.classes() == std::vector<int64_t>{0, 2});
  CHECK(args.freeze() == std::vector<int64_t>{0, 1, 2});
  CHECK(args.cache() == "ram");
  CHECK(args.resume() == "runs/detect/train/weights/last.pt");
  CHECK(args.pretrained() == "false");
  CHECK(args.device() == "0,1");
  CHECK(args.imgsz() == 320);
  CHECK(args.line_width() == 2);
  CHECK(args.model().empty());
  CHECK(args.save_json());

  CHECK(TrainArgs::from_strings({"freeze=[0, 5]"}).freeze() == std::vector<int64_t>{0, 5});
  CHECK(TrainArgs::from_strings({"classes=1"}).classes() == std::vector<int64_t>{1});
  CHECK(TrainArgs::from_strings({"batch=-1"}).batch() == -1);
  CHECK(TrainArgs::from_strings({"cache=disk"}).cache() == "disk");
  CHECK(TrainArgs::from_strings({"resume"}).resume() == "true");  // bare boolean-default keys mean True
  CHECK(TrainArgs::is_bool_key("rect"));
  CHECK_FALSE(TrainArgs::is_bool_key("epochs"));
}

TEST_CASE("from_map and set take the same text as the command line", "[config]") {
  const auto args = TrainArgs::from_map({{"epochs", "5"}, {"fliplr", "0.0"}, {"single_cls", "True"}});
  CHECK(args.epochs() == 5);
  CHECK(args.fliplr() == 0.0);
  CHECK(args.single_cls());

  TrainArgs changed;
  changed.set("imgsz", "416").set("optimizer", "AdamW").set("classes", "None");
  CHECK(changed.imgsz() == 416);
  CHECK(changed.optimizer() == "AdamW");
  CHECK(changed.classes().empty());
  CHECK(changed.get("imgsz") == "416");
  CHECK(changed.get("optimizer") == "AdamW");
}

TEST_CASE("None resets a key to its default", "[config]") {
  auto args = TrainArgs::from_strings({"epochs=3", "time=2", "device=cpu"});
  args.set("epochs", "None").set("time", "null").set("device", "none");
  CHECK(args.epochs() == 100);
  CHECK(args.time() == 0);
  CHECK(args.device().empty());
}

TEST_CASE("cfg= loads a YAML file that explicit keys override", "[config]") {
  const TempFile file("yolo_config_test_cfg.yaml", "epochs: 7\nimgsz: 320\nlr0: 0.02\nfreeze: [0, 1]\n");
  const auto args = TrainArgs::from_strings({"cfg=" + file.str(), "epochs=3"});
  CHECK(args.epochs() == 3);  // explicit beats the file, wherever it stands
  CHECK(args.imgsz() == 320);
  CHECK(args.lr0() == 0.02);
  CHECK(args.freeze() == std::vector<int64_t>{0, 1});
  CHECK(args.cfg() == file.str());

  const auto reversed = TrainArgs::from_strings({"epochs=3", "cfg=" + file.str()});
  CHECK(reversed.epochs() == 3);
  CHECK(TrainArgs::from_map({{"cfg", file.str()}, {"imgsz", "256"}}).imgsz() == 256);
}

TEST_CASE("unknown keys name the closest valid keys", "[config]") {
  CHECK_THROWS_WITH(TrainArgs::from_strings({"epoch=3"}),
                    "'epoch' is not a valid YOLO argument. Similar arguments: epochs");
  CHECK_THROWS_WITH(TrainArgs::from_strings({"imgsize=320"}), ContainsSubstring("Similar arguments: imgsz"));
  const auto lr = error_of([] { TrainArgs::from_strings({"lr=0.1"}); });
  CHECK_THAT(lr, ContainsSubstring("'lr' is not a valid YOLO argument"));
  CHECK_THAT(lr, ContainsSubstring("lr0"));
  CHECK_THAT(lr, ContainsSubstring("lrf"));
  CHECK_THROWS_WITH(TrainArgs().set("zzzzzzzz", "1"), "'zzzzzzzz' is not a valid YOLO argument.");
  CHECK_THROWS_WITH(TrainArgs().get("epoch"), ContainsSubstring("Similar arguments: epochs"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"predcit"}), ContainsSubstring("'predict'"));
  CHECK_THROWS_AS(TrainArgs::from_strings({"epochs="}), yolo::Error);
}

TEST_CASE("every key of Ultralytics' default.yaml is a key, export's included, with its default", "[config]") {
  const TrainArgs args;
  CHECK(args.format() == "torchscript");
  CHECK_FALSE(args.keras());
  CHECK_FALSE(args.optimize());
  CHECK_FALSE(args.int8());
  CHECK_FALSE(args.dynamic());
  CHECK(args.simplify());
  CHECK(args.opset() == 0);      // None
  CHECK(args.workspace() == 0);  // None
  CHECK_FALSE(args.nms());
  CHECK(args.overlap_mask());
  CHECK(args.mask_ratio() == 4);
  CHECK(args.tracker() == "botsort.yaml");
  const auto set = TrainArgs::from_map({{"format", "onnx"}, {"opset", "12"}, {"dynamic", "True"}, {"workspace", "4"}});
  CHECK(set.format() == "onnx");
  CHECK(set.opset() == 12);
  CHECK(set.dynamic());
  CHECK(set.workspace() == 4.0);
  CHECK_THAT(set.to_yaml(), ContainsSubstring("\nformat: onnx\nkeras: false\noptimize: false\nint8: false\n"
                                              "dynamic: true\nsimplify: true\nopset: 12\nworkspace: 4.0\nnms: false\n"));
  // The 8.3.166 default.yaml keys in its order, then yolocpp's own.
  const std::vector<std::string> ultralytics{
      "task", "mode", "model", "data", "epochs", "time", "patience", "batch", "imgsz", "save", "save_period", "cache",
      "device", "workers", "project", "name", "exist_ok", "pretrained", "optimizer", "verbose", "seed",
      "deterministic", "single_cls", "rect", "cos_lr", "close_mosaic", "resume", "amp", "fraction", "profile",
      "freeze", "multi_scale", "overlap_mask", "mask_ratio", "dropout", "val", "split", "save_json", "conf", "iou",
      "max_det", "half", "dnn", "plots", "source", "vid_stride", "stream_buffer", "visualize", "augment",
      "agnostic_nms", "classes", "retina_masks", "embed", "show", "save_frames", "save_txt", "save_conf",
      "save_crop", "show_labels", "show_conf", "show_boxes", "line_width", "format", "keras", "optimize", "int8",
      "dynamic", "simplify", "opset", "workspace", "nms", "lr0", "lrf", "momentum", "weight_decay",
      "warmup_epochs", "warmup_momentum", "warmup_bias_lr", "box", "cls", "dfl", "pose", "kobj", "nbs", "hsv_h",
      "hsv_s", "hsv_v", "degrees", "translate", "scale", "shear", "perspective", "flipud", "fliplr", "bgr",
      "mosaic", "mixup", "cutmix", "copy_paste", "copy_paste_mode", "auto_augment", "erasing", "cfg", "tracker"};
  const auto& keys = TrainArgs::keys();
  REQUIRE(keys.size() == ultralytics.size() + 9);
  CHECK(std::vector<std::string>(keys.begin(), keys.begin() + static_cast<long>(ultralytics.size())) == ultralytics);
  CHECK(std::vector<std::string>(keys.end() - 9, keys.end()) ==
        std::vector<std::string>{"datasets_dir", "scale_lr", "save_batches", "ddp_timeout", "save_dir",
                                 "patience_metric", "lr_schedule", "lr_power", "print_freq"});
}

TEST_CASE("export keys are real keys with Ultralytics' defaults", "[config]") {
  const auto args = TrainArgs::from_strings({"format=onnx", "dynamic", "opset=13", "half=True", "simplify=False"});
  CHECK(args.format() == "onnx");
  CHECK(args.dynamic());
  CHECK(args.opset() == 13);
  CHECK(args.half());
  CHECK_FALSE(args.simplify());
  const auto text = TrainArgs().to_yaml();
  CHECK_THAT(text, ContainsSubstring("\nformat: torchscript\nkeras: false\noptimize: false\nint8: false\n"
                                     "dynamic: false\nsimplify: true\nopset: null\nworkspace: null\nnms: false\n"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"opset=seventeen"}), ContainsSubstring("opset must be an int"));
}

TEST_CASE("ill-typed values name the key, the value and the type", "[config]") {
  CHECK_THROWS_WITH(TrainArgs::from_strings({"epochs=abc"}),
                    "'epochs=abc' is invalid: epochs must be an int (e.g. epochs=8)");
  CHECK_THROWS_WITH(TrainArgs::from_strings({"epochs=3.5"}), ContainsSubstring("epochs must be an int"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"lr0=fast"}), ContainsSubstring("'lr0=fast' is invalid: lr0 must be a number"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"save=maybe"}), ContainsSubstring("save must be a bool"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"classes=a,b"}), ContainsSubstring("classes must be an int or a list"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"cache=gpu"}), ContainsSubstring("cache must be True/ram, disk or False"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"task=detection"}), ContainsSubstring("task must be one of detect"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"mode=fit"}), ContainsSubstring("mode must be one of train"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"imgsz=[1, 2, 3]"}), ContainsSubstring("imgsz must be an int or [h, w]"));
}

TEST_CASE("fraction keys must lie in [0, 1]", "[config]") {
  CHECK_THROWS_WITH(TrainArgs::from_strings({"lr0=1.5"}), "'lr0=1.5' is invalid: lr0 must be between 0.0 and 1.0");
  CHECK_THROWS_WITH(TrainArgs::from_strings({"fliplr=-0.1"}), ContainsSubstring("between 0.0 and 1.0"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"conf=2"}), ContainsSubstring("between 0.0 and 1.0"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"fraction=1.01"}), ContainsSubstring("between 0.0 and 1.0"));
  CHECK(TrainArgs::from_strings({"mosaic=0", "mixup=1"}).mixup() == 1.0);
  CHECK(TrainArgs::from_strings({"degrees=45"}).degrees() == 45.0);  // a float key, not a fraction
}

TEST_CASE("malformed YAML names the file and the line", "[config]") {
  const TempFile file("yolo_config_test_bad.yaml", "epochs: 3\nimgsz: [320, 256\nlr0: 0.01\n");
  const auto message = error_of([&] { TrainArgs::from_yaml_file(file.str()); });
  CHECK_THAT(message, ContainsSubstring(file.str()));
  CHECK_THAT(message, ContainsSubstring("line 3"));
  CHECK_THROWS_WITH(TrainArgs::from_yaml_file("/nonexistent/args.yaml"), ContainsSubstring("/nonexistent/args.yaml"));

  const TempFile typo("yolo_config_test_typo.yaml", "epoch: 3\n");
  CHECK_THROWS_WITH(TrainArgs::from_yaml_file(typo.str()), ContainsSubstring(typo.str()));
  CHECK_THROWS_WITH(TrainArgs::from_yaml_file(typo.str()), ContainsSubstring("Similar arguments: epochs"));
}

TEST_CASE("to_yaml writes every key in default.yaml order, Python style", "[config]") {
  const auto text = TrainArgs().to_yaml();
  CHECK(text.rfind("task: detect\nmode: train\nmodel: null\ndata: null\nepochs: 100\ntime: null\n", 0) == 0);
  CHECK_THAT(text, ContainsSubstring("\nbatch: 16\nimgsz: 640\nsave: true\nsave_period: -1\ncache: false\n"));
  CHECK_THAT(text, ContainsSubstring("\nwarmup_epochs: 3.0\n"));
  CHECK_THAT(text, ContainsSubstring("\nweight_decay: 0.0005\n"));
  CHECK_THAT(text, ContainsSubstring("\nfreeze: null\n"));
  CHECK_THAT(text, ContainsSubstring("\nresume: false\namp: true\nfraction: 1.0\n"));
  CHECK(TrainArgs::keys().front() == "task");
  CHECK(TrainArgs::keys().size() == TrainArgs().to_map().size());
  CHECK(TrainArgs().to_map().at("lr0") == "0.01");
  // Strings YAML would misread are quoted.
  CHECK_THAT(TrainArgs().device("0").name("true").to_yaml(), ContainsSubstring("\ndevice: '0'\n"));
  CHECK_THAT(TrainArgs().device("0").name("true").to_yaml(), ContainsSubstring("\nname: 'true'\n"));
}

TEST_CASE("to_yaml -> from_yaml_file round trip", "[config]") {
  const auto args = TrainArgs::from_strings(
      {"data=coco8.yaml", "epochs=3", "batch=0.7", "time=0.5", "freeze=2", "classes=[1, 3]", "device=0",
       "name=it's: odd", "cache=disk", "resume=true", "lr0=0.00001", "cos_lr=True", "conf=0.3", "save_dir=runs/x"});
  const TempFile file("yolo_config_test_args.yaml", args.to_yaml());
  const auto back = TrainArgs::from_yaml_file(file.str());
  CHECK(back.to_yaml() == args.to_yaml());
  CHECK(back.to_map() == args.to_map());
  CHECK(back.name() == "it's: odd");
  CHECK(back.device() == "0");
  CHECK(back.lr0() == 0.00001);
  CHECK(back.freeze() == std::vector<int64_t>{0, 1});
}

TEST_CASE("scalar parsing helpers", "[config]") {
  using namespace yolo::config;
  CHECK(is_none("None"));
  CHECK(is_none("null"));
  CHECK_FALSE(is_none("0"));
  CHECK(parse_bool("True") == true);
  CHECK_FALSE(parse_bool("yes").has_value());
  CHECK(parse_int("-1") == -1);
  CHECK_FALSE(parse_int("8.0").has_value());
  CHECK(parse_float("1e-3") == 0.001);
  CHECK(parse_int_list("[]") == std::vector<int64_t>{});
  CHECK(parse_int_list("0,2") == std::vector<int64_t>{0, 2});
  CHECK_FALSE(parse_int_list("1,").has_value());
  CHECK(format_float(3.0) == "3.0");
  CHECK(format_float(0.015) == "0.015");
  CHECK(format_string("") == "null");
  CHECK(format_string("coco8.yaml") == "coco8.yaml");
  CHECK(format_string("null") == "'null'");
}

TEST_CASE("a key yolocpp keeps but does not act on warns when set away from its default", "[config]") {
  yolo::test::LogCapture capture(yolo::LogLevel::Warning);
  auto args = yolo::TrainArgs::from_strings({"cutmix=0.0", "augment=False", "epochs=3"});  // defaults: quiet
  CHECK(capture.lines().empty());
  args.set("cutmix", "0.5");
  args.augment(true);  // the C++ setter warns the same way
  const auto warnings = capture.lines();
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].find("'cutmix=0.5' has no effect") != std::string::npos);
  CHECK(warnings[1].find("test-time augmentation") != std::string::npos);
  CHECK(args.cutmix() == 0.5);  // kept, so that args.yaml and checkpoints carry what was asked
}

// ---- ranges -------------------------------------------------------------------------------------------

namespace {

/// Values just outside a key's range, from the range as the table describes it.
std::vector<std::string> outside(const yolo::ArgInfo& info) {
  const std::string& r = info.range;
  if (r == "between 0.0 and 1.0") return {"-0.1", "1.5"};
  if (r.rfind(">= ", 0) == 0) {
    const double lo = std::stod(r.substr(3));
    return {info.type.find("float") != std::string::npos && info.type.find("int") == std::string::npos
                ? fmt::format("{}", lo - 0.5)
                : std::to_string(static_cast<long>(lo) - 1)};
  }
  if (r.rfind("> ", 0) == 0) return {r.substr(2), "-1"};
  if (r.rfind("-1 (AutoBatch)", 0) == 0) return {"0", "-2", "2.5"};
  if (r.find("one of") != std::string::npos || r.find("True/ram") != std::string::npos) return {"not_a_choice"};
  FAIL("a range this test cannot invert: '" << r << "' of " << info.key);
  return {};
}

}  // namespace

TEST_CASE("every key's range is checked: a value outside it is an error naming the key and the range", "[config]") {
  size_t ranged = 0;
  for (const auto& info : TrainArgs::table()) {
    if (info.range.empty()) continue;
    ++ranged;
    for (const auto& bad : outside(info)) {
      INFO(info.key << "=" << bad);
      const auto message = error_of([&] { TrainArgs().set(info.key, bad); });
      CHECK_THAT(message, ContainsSubstring("'" + info.key + "="));
      CHECK_THAT(message, ContainsSubstring(info.key + " must be"));
    }
    // The default lies inside the range, and the written default reads back.
    INFO(info.key << " default " << info.default_value);
    CHECK(TrainArgs().set(info.key, info.default_value).get(info.key) == info.default_value);
  }
  CHECK(ranged >= 50);
  // The keys without a range take any value of their type: a conscious choice per key, listed here.
  std::vector<std::string> unranged;
  for (const auto& info : TrainArgs::table())
    if (info.range.empty() && info.type != "bool") unranged.push_back(info.key);
  CHECK(unranged == std::vector<std::string>{"model", "data", "save_period", "device", "project", "name",
                                             "pretrained", "resume", "source", "format", "degrees", "shear", "cfg",
                                             "tracker",
                                             "datasets_dir", "save_dir"});
}

TEST_CASE("the new user's mistakes: epochs=-1, batch=0, workers=-1, conf=2 are errors before training", "[config]") {
  CHECK_THROWS_WITH(TrainArgs::from_strings({"epochs=-1"}), "'epochs=-1' is invalid: epochs must be >= 1");
  CHECK_THROWS_WITH(TrainArgs().epochs(0), "'epochs=0' is invalid: epochs must be >= 1");  // the C++ setter too
  CHECK_THROWS_WITH(TrainArgs::from_strings({"batch=0"}), ContainsSubstring("batch must be -1 (AutoBatch)"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"workers=-1"}), ContainsSubstring("workers must be >= 0"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"ddp_timeout=0"}), ContainsSubstring("ddp_timeout must be > 0"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"freeze=-2"}), ContainsSubstring("freeze must be >= 0"));
  CHECK_THROWS_WITH(TrainArgs::from_strings({"classes=[0, -1]"}), ContainsSubstring("classes must be >= 0"));
  const TrainArgs args;  // a failed set leaves the key as it was
  auto changed = TrainArgs().epochs(5);
  CHECK_THROWS(changed.set("epochs", "-1"));
  CHECK(changed.epochs() == 5);
  CHECK(args.batch() == 16);
  CHECK(TrainArgs::from_strings({"batch=-1"}).batch() == -1);
  CHECK(TrainArgs::from_strings({"batch=0.7"}).batch() == 0.7);
}

TEST_CASE("words are matched without regard to case and kept as Ultralytics spells them", "[config]") {
  CHECK(TrainArgs::from_strings({"optimizer=adamw"}).optimizer() == "AdamW");
  CHECK(TrainArgs::from_strings({"optimizer=SGD"}).optimizer() == "SGD");
  CHECK(TrainArgs::from_strings({"split=VAL"}).split() == "val");  // format= is export's to read (it lowercases)
  CHECK_THROWS_WITH(TrainArgs::from_strings({"optimizer=Lion"}), ContainsSubstring("optimizer must be one of SGD"));
}

TEST_CASE("imgsz is rounded up to the stride with Ultralytics' warning, workers are capped at the CPUs", "[config]") {
  yolo::test::LogCapture capture(yolo::LogLevel::Warning);
  CHECK(yolo::config::check_imgsz(333, 32) == 352);
  CHECK(capture.lines() ==
        std::vector<std::string>{"imgsz=[333] must be multiple of max stride 32, updating to [352]"});
  CHECK(yolo::config::check_imgsz(640, 32) == 640);
  CHECK(yolo::config::check_imgsz(16, 32, 32) == 32);  // the trainer's floor: one stride
  CHECK(capture.lines().size() == 2);
  const auto cpus = static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  CHECK(yolo::config::cap_workers(1000, 1) == cpus);
  CHECK(yolo::config::cap_workers(1000, 2) == cpus / 2);
  CHECK(yolo::config::cap_workers(0, 1) == 0);
  CHECK(yolo::config::cap_workers(1, 1) == 1);
}

// ---- typed values (checkpoints) ------------------------------------------------------------------------

TEST_CASE("value() gives each key as Python holds it, set() takes typed values without guessing", "[config]") {
  const auto args = TrainArgs::from_strings({"epochs=3", "batch=0.5", "name=null", "classes=[1, 2]", "cache=True",
                                             "resume=runs/x/last.pt", "device=0"});
  CHECK(std::get<int64_t>(args.value("epochs")) == 3);
  CHECK(std::get<double>(args.value("batch")) == 0.5);
  CHECK(std::get<int64_t>(TrainArgs().value("batch")) == 16);
  CHECK(std::holds_alternative<std::monostate>(args.value("name")));  // name=null on the command line is None
  CHECK(std::get<std::vector<int64_t>>(args.value("classes")) == std::vector<int64_t>{1, 2});
  CHECK(std::get<std::string>(args.value("cache")) == "ram");
  CHECK(std::get<bool>(TrainArgs().value("cache")) == false);
  CHECK(std::get<bool>(TrainArgs().value("pretrained")) == true);
  CHECK(std::get<std::string>(args.value("resume")) == "runs/x/last.pt");
  CHECK(std::get<std::string>(args.value("device")) == "0");
  CHECK(std::holds_alternative<std::monostate>(TrainArgs().value("conf")));
  CHECK(std::get<double>(TrainArgs().value("lr0")) == 0.01);
  CHECK(std::get<bool>(TrainArgs().value("amp")) == true);

  // A string stays a string, even one that reads as None or a number: the name of a run called "null".
  TrainArgs typed;
  typed.set("name", yolo::ArgValue(std::string("null"))).set("project", yolo::ArgValue(std::string("123")));
  CHECK(typed.name() == "null");
  CHECK(typed.project() == "123");
  // What Ultralytics' checkpoints hold: ints for device, lists for imgsz, True for cache, None for defaults.
  typed.set("device", yolo::ArgValue(int64_t{1}))
      .set("imgsz", yolo::ArgValue(std::vector<int64_t>{320, 320}))
      .set("cache", yolo::ArgValue(true))
      .set("epochs", yolo::ArgValue(int64_t{7}))
      .set("lr0", yolo::ArgValue(int64_t{0}))
      .set("freeze", yolo::ArgValue(int64_t{2}))
      .set("time", yolo::ArgValue());
  CHECK(typed.device() == "1");
  CHECK(typed.imgsz() == 320);
  CHECK(typed.cache() == "ram");
  CHECK(typed.epochs() == 7);
  CHECK(typed.lr0() == 0.0);
  CHECK(typed.freeze() == std::vector<int64_t>{0, 1});
  CHECK(typed.time() == 0);
  CHECK_THROWS_WITH(typed.set("epochs", yolo::ArgValue(2.5)), ContainsSubstring("epochs must be an int"));
  CHECK_THROWS_WITH(typed.set("epochs", yolo::ArgValue(int64_t{-1})), ContainsSubstring("epochs must be >= 1"));
  // Every key's typed value reads back to the same args.
  const auto full = TrainArgs::from_strings({"epochs=3", "batch=0.5", "freeze=2", "classes=[1, 3]", "device=0,1",
                                             "name=it's: odd", "cache=disk", "resume=true", "conf=0.3", "opset=12"});
  TrainArgs back;
  for (const auto& key : TrainArgs::keys()) back.set(key, full.value(key));
  CHECK(back.to_yaml() == full.to_yaml());
}

// ---- docs ----------------------------------------------------------------------------------------------

namespace {

std::string arguments_markdown() {
  std::string text =
      "# Arguments\n\n"
      "Every key of `yolo train`, `val`, `predict` and `export`, on the command line (`key=value`), in a YAML file\n"
      "(`cfg=file.yaml`), as Python keyword arguments and as C++ setters (`yolo::TrainArgs().epochs(3)`). Names\n"
      "and defaults are Ultralytics 8.3.166's `cfg/default.yaml`; yolocpp's own keys come last. A value outside\n"
      "its range is an error. Keys marked *no effect* are kept (args.yaml and checkpoints round-trip) and warn\n"
      "when set.\n\n"
      "Generated from the key table, `include/yolo/config/arg_table.h`, by\n"
      "`YOLO_WRITE_DOCS=1 build/tests/yolo_tests \"docs/arguments.md is the key table\"`; a test fails when it\n"
      "is out of date. Adding a key is one row in that table.\n\n"
      "| key | type | default | range | meaning |\n"
      "| --- | --- | --- | --- | --- |\n";
  for (const auto& info : TrainArgs::table()) {
    std::string help = info.help;
    if (!info.unused.empty()) help += " (*no effect*: " + info.unused + ")";
    auto escape = [](std::string cell) {
      std::string out;
      for (char c : cell) out += c == '|' ? std::string("\\|") : std::string(1, c);
      return out;
    };
    text += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", info.key, escape(info.type), info.default_value,
                        escape(info.range), escape(help));
  }
  return text;
}

}  // namespace

TEST_CASE("docs/arguments.md is the key table", "[config][docs]") {
  const fs::path path = fs::path(yolo::test::data_dir()) / ".." / ".." / "docs" / "arguments.md";
  const auto expected = arguments_markdown();
  if (const char* write = std::getenv("YOLO_WRITE_DOCS"); write && std::string(write) == "1")
    std::ofstream(path) << expected;
  std::ifstream in(path);
  std::stringstream actual;
  actual << in.rdbuf();
  INFO("regenerate with: YOLO_WRITE_DOCS=1 build/tests/yolo_tests \"docs/arguments.md is the key table\"");
  CHECK(actual.str() == expected);
}
