// Datasets by name: built-in YAMLs, `download:` on first use (and not on the second), offline mode,
// scripts that are not run, classification datasets by name, and two processes asking at once —
// all against a local HTTP server standing in for Ultralytics' release assets (YOLO_ASSETS_URL).
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "catch.h"
#include "data/dataset_download.h"
#include "data/dataset_yaml.h"
#include "fixtures.h"
#include "helpers/download_fixtures.h"
#include "yolo/model.h"

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using yolo::data::load_data_spec;
using yolo::test::read_bytes;
using yolo::test::ScopedEnv;
using yolo::test::TestHttpServer;
using yolo::test::ZipMember;

namespace {

/// coco8.zip in Ultralytics' layout, made of a few images of the fdet fixture: coco8/images/{train,val}
/// and coco8/labels/{train,val}.
std::string tiny_coco8_zip(int per_split = 2) {
  std::vector<ZipMember> members{{"coco8/", "", false, 040755}};
  for (const std::string split : {"train", "val"}) {
    for (int i = 0; i < per_split; ++i) {
      const std::string stem = fmt::format("{:06d}", i);
      const auto image = yolo::test::data_path("fdet/images/" + split + "/" + stem + ".jpg");
      const auto label = yolo::test::data_path("fdet/labels/" + split + "/" + stem + ".txt");
      members.push_back({"coco8/images/" + split + "/" + stem + ".jpg", read_bytes(image), true});
      members.push_back({"coco8/labels/" + split + "/" + stem + ".txt", read_bytes(label), true});
    }
  }
  return yolo::test::build_zip(members);
}

/// The environment of one test: the local server as the assets host, caches in a temp folder.
struct Assets {
  TestHttpServer server;
  yolo::test::TempDir tmp;
  fs::path datasets = tmp.path() / "datasets";
  ScopedEnv assets{"YOLO_ASSETS_URL", server.url()};
  ScopedEnv weights{"YOLO_WEIGHTS_DIR", (tmp.path() / "weights").string()};
  ScopedEnv online{"YOLO_OFFLINE", nullptr};
  ScopedEnv no_default_datasets{"YOLO_DATASETS_DIR", nullptr};
};

/// Starts `argv` with stdout and stderr to `log`; returns the pid.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (std::freopen(log_path.c_str(), "w", stdout)) ::dup2(::fileno(stdout), 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

TEST_CASE("dataset by name: first use downloads and trains one epoch, second use downloads nothing",
          "[data][download]") {
  Assets env;
  env.server.serve("/v0.0.0/coco8.zip", tiny_coco8_zip());
  env.server.serve("/v8.3.0/yolov8n.pt", read_bytes(yolo::test::data_path("yolov8n_fdet.pt")));

  auto results = yolo::Model("yolov8n.pt")
                     .train(yolo::TrainArgs().data("coco8.yaml").datasets_dir(env.datasets.string()).epochs(1)
                                .imgsz(64).batch(4).workers(0).project(env.tmp.str("runs")).name("t").plots(false));
  CHECK(results.epochs_completed == 1);
  CHECK(env.server.requests("/v0.0.0/coco8.zip") == 1);
  CHECK(env.server.requests("/v8.3.0/yolov8n.pt") == 1);
  CHECK(fs::exists(env.datasets / "coco8" / "images" / "train" / "000001.jpg"));
  CHECK(fs::exists(env.datasets / "coco8" / "labels" / "val" / "000001.txt"));
  CHECK(fs::exists(env.tmp.path() / "weights" / "yolov8n.pt"));
  // The archive, its .part, the locks and the in-progress marker are all gone.
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(env.datasets)) left.push_back(entry.path().filename().string());
  CHECK(left == std::vector<std::string>{"coco8"});

  // Second use: the dataset and the weights are found on disk.
  const auto spec = load_data_spec("coco8.yaml", env.datasets.string());
  CHECK(spec.yaml_file == "coco8.yaml");
  CHECK(spec.names.size() == 80);
  CHECK(spec.names[79] == "toothbrush");
  CHECK(spec.root == fs::weakly_canonical(env.datasets / "coco8").string());
  yolo::Model again("yolov8n.pt");
  CHECK(env.server.requests("/v0.0.0/coco8.zip") == 1);
  CHECK(env.server.requests("/v8.3.0/yolov8n.pt") == 1);
}

TEST_CASE("dataset by name: YOLO_DATASETS_DIR, a refused archive, a 404", "[data][download]") {
  Assets env;
  ScopedEnv datasets_env("YOLO_DATASETS_DIR", env.datasets.string());
  SECTION("the environment variable names the datasets folder") {
    env.server.serve("/v0.0.0/coco8.zip", tiny_coco8_zip(1));
    const auto spec = load_data_spec("coco8.yaml");
    CHECK(spec.root == fs::weakly_canonical(env.datasets / "coco8").string());
    CHECK(spec.val.size() == 1);
  }
  SECTION("a zip-slip archive is refused and removed; nothing lands outside the datasets folder") {
    env.server.serve("/v0.0.0/coco8.zip", yolo::test::build_zip({{"coco8/images/val/a.jpg", "x"},
                                                                 {"coco8/../../escaped.txt", "pwned"}}));
    CHECK_THAT(yolo::test::error_of([] { load_data_spec("coco8.yaml"); }),
               ContainsSubstring("refused to extract") && ContainsSubstring("the archive was removed"));
    CHECK_FALSE(fs::exists(env.tmp.path() / "escaped.txt"));
    CHECK_FALSE(fs::exists(env.datasets / "coco8"));
    CHECK_FALSE(fs::exists(env.datasets / "coco8.zip"));
  }
  SECTION("a missing archive") {
    CHECK_THAT(yolo::test::error_of([] { load_data_spec("coco128.yaml"); }),
               ContainsSubstring(env.server.url() + "/v0.0.0/coco128.zip") && ContainsSubstring("HTTP 404"));
  }
}

TEST_CASE("dataset by name offline: the error names the URL and the folder", "[data][download]") {
  Assets env;
  ScopedEnv offline("YOLO_OFFLINE", "1");
  env.server.serve("/v0.0.0/coco8.zip", tiny_coco8_zip(1));
  CHECK_THAT(yolo::test::error_of([&] { load_data_spec("coco8.yaml", env.datasets.string()); }),
             ContainsSubstring("YOLO_OFFLINE") && ContainsSubstring(env.server.url() + "/v0.0.0/coco8.zip") &&
                 ContainsSubstring("extracted into " + env.datasets.string()));
  CHECK(env.server.total_requests() == 0);
  CHECK_FALSE(fs::exists(env.datasets / "coco8"));
  // A dataset already on disk needs no network.
  yolo::test::write_text(env.datasets / "coco8" / "images" / "val" / "x.txt", "");
  fs::create_directories(env.datasets / "coco8" / "images" / "train");
  CHECK(load_data_spec("coco8.yaml", env.datasets.string()).names.size() == 80);
}

TEST_CASE("built-in dataset YAMLs: names, typos, scripts that are not run", "[data][download]") {
  Assets env;
  CHECK_THAT(yolo::test::error_of([] { load_data_spec("coco8"); }),
             ContainsSubstring("nor is it a built-in one. Did you mean 'coco8.yaml'"));
  // coco8-grayscale declares one channel, which the loader does not honour yet: a warning says so.
  yolo::test::write_text(env.datasets / "coco8-grayscale" / "images" / "val" / "x.txt", "");
  fs::create_directories(env.datasets / "coco8-grayscale" / "images" / "train");
  {
    yolo::test::LogCapture warnings(yolo::LogLevel::Warning);
    load_data_spec("coco8-grayscale.yaml", env.datasets.string());
    CHECK(warnings.any_contains("channels: 1 is not supported yet"));
  }
  // VOC's labels are made by a script: the message names the archives (through the mirror).
  CHECK_THAT(yolo::test::error_of([&] { load_data_spec("VOC.yaml", env.datasets.string()); }),
             ContainsSubstring("yolocpp does not") &&
                 ContainsSubstring(env.server.url() + "/v0.0.0/VOCtrainval_11-May-2012.zip") &&
                 ContainsSubstring((env.datasets / "VOC").string()));
  // An Ultralytics-style Python download in a user's YAML.
  yolo::test::write_text(env.tmp.path() / "mine.yaml",
                         "path: mine\ntrain: images/train\nval: images/val\nnames: [a]\ndownload: |\n"
                         "  from ultralytics.utils.downloads import download\n"
                         "  download(['https://example.com/mine-images.zip'], dir=yaml['path'])\n");
  CHECK_THAT(yolo::test::error_of([&] { load_data_spec(env.tmp.str("mine.yaml"), env.datasets.string()); }),
             ContainsSubstring("is a script") && ContainsSubstring("https://example.com/mine-images.zip"));
  CHECK(env.server.total_requests() == 0);
}

TEST_CASE("download: lists place each archive, `dir:` inside the dataset folder", "[data][download]") {
  Assets env;
  env.server.serve("/labels.zip", yolo::test::build_zip({{"set/labels/val/a.txt", "0 0.5 0.5 0.2 0.2\n"},
                                                         {"set/val.txt", "./images/val/a.jpg\n"}}));
  env.server.serve("/images.zip", yolo::test::build_zip({{"val/a.jpg", "jpeg bytes"}}));
  yolo::test::write_text(env.tmp.path() / "set.yaml",
                         fmt::format("path: set\ntrain: val.txt\nval: val.txt\nnames: [a]\ndownload:\n"
                                     "  - {0}/labels.zip\n  - {{url: {0}/images.zip, dir: images}}\n",
                                     env.server.url()));
  const auto spec = load_data_spec(env.tmp.str("set.yaml"), env.datasets.string());
  CHECK(read_bytes(env.datasets / "set" / "images" / "val" / "a.jpg") == "jpeg bytes");
  CHECK(spec.val[0] == fs::weakly_canonical(env.datasets / "set" / "val.txt").string());
  CHECK(env.server.requests("/images.zip") == 1);
}

TEST_CASE("classification datasets by name download on first use", "[data][download]") {
  Assets env;
  env.server.serve("/v0.0.0/mnist160.zip",
                   yolo::test::build_zip({{"mnist160/train/3/a.png", "png"}, {"mnist160/test/3/b.png", "png"}}));
  const auto root = yolo::data::classification_dataset_root("mnist160", env.datasets.string());
  CHECK(root == (env.datasets / "mnist160").string());
  CHECK(fs::exists(env.datasets / "mnist160" / "train" / "3" / "a.png"));
  CHECK(yolo::data::classification_dataset_root("mnist160", env.datasets.string()) == root);
  CHECK(env.server.requests("/v0.0.0/mnist160.zip") == 1);
  // An existing folder is itself; unknown names get suggestions; ImageNet has its own message.
  CHECK(yolo::data::classification_dataset_root(root, "") == fs::weakly_canonical(root).string());
  CHECK_THAT(yolo::test::error_of([&] { yolo::data::classification_dataset_root("imagenet11", env.datasets.string()); }),
             ContainsSubstring("Did you mean 'imagenet10'"));
  CHECK_THAT(yolo::test::error_of([&] { yolo::data::classification_dataset_root("imagenet", env.datasets.string()); }),
             ContainsSubstring("image-net.org"));
}

TEST_CASE("two processes asking for the same dataset download it once", "[data][download][processes]") {
#ifndef YOLO_CLI_PATH
  YOLO_SKIP("the yolo command line tool is not built");
#else
  Assets env;
  TestHttpServer::Route slow{tiny_coco8_zip()};
  slow.throttle_chunk = 32 << 10;  // about a second in all: the second process arrives mid-download
  slow.throttle_ms = 40;
  env.server.serve("/v0.0.0/coco8.zip", slow);
  std::vector<pid_t> children;
  for (int i = 0; i < 2; ++i) {
    children.push_back(spawn({YOLO_CLI_PATH, "dataset", "data=coco8.yaml", "datasets_dir=" + env.datasets.string(),
                              "imgsz=64", "project=" + env.tmp.str("preview" + std::to_string(i))},
                             env.tmp.path() / ("log" + std::to_string(i) + ".txt")));
  }
  for (size_t i = 0; i < children.size(); ++i) {
    int status = 0;
    ::waitpid(children[i], &status, 0);
    INFO(read_bytes(env.tmp.path() / ("log" + std::to_string(i) + ".txt")));
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  CHECK(env.server.requests("/v0.0.0/coco8.zip") == 1);
  CHECK(fs::exists(env.datasets / "coco8" / "images" / "val" / "000001.jpg"));
#endif
}
