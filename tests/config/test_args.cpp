#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "catch.h"
#include "yolo/config/args.h"
#include "yolo/config/parse.h"
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

TEST_CASE("Ultralytics keys for other tasks are accepted and ignored", "[config]") {
  const auto args = TrainArgs::from_map({{"overlap_mask", "True"}, {"tracker", "botsort.yaml"}});
  CHECK(args.to_yaml() == TrainArgs().to_yaml());
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
  std::vector<std::string> warnings;
  yolo::set_log_sink([&](yolo::LogLevel level, std::string_view line) {
    if (level == yolo::LogLevel::Warning) warnings.emplace_back(line);
  });
  auto args = yolo::TrainArgs::from_strings({"cutmix=0.0", "augment=False", "epochs=3"});  // defaults: quiet
  CHECK(warnings.empty());
  args.set("cutmix", "0.5");
  args.set("augment", "True");
  yolo::set_log_sink({});
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].find("'cutmix=0.5' has no effect") != std::string::npos);
  CHECK(warnings[1].find("test-time augmentation") != std::string::npos);
  CHECK(args.cutmix() == 0.5);  // kept, so that args.yaml and checkpoints carry what was asked
}
