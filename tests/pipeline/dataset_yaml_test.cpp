#include "data/dataset_yaml.h"

#include <filesystem>

#include "catch.h"
#include "fixtures.h"
#include "yolo/utils/error.h"

using Catch::Matchers::ContainsSubstring;
using yolo::data::load_data_spec;
namespace fs = std::filesystem;

namespace {
// A dataset folder with images/train and images/val.
void make_layout(const fs::path& root) {
  fs::create_directories(root / "images" / "train");
  fs::create_directories(root / "images" / "val");
}
}  // namespace

TEST_CASE("data yaml: a relative path is resolved against the YAML's folder", "[data]") {
  yolo::test::TempDir tmp;
  make_layout(tmp.path() / "sets" / "ds");
  yolo::test::write_text(tmp.path() / "cfg" / "data.yaml",
                         "path: ../sets/ds\ntrain: images/train\nval: images/val\nnames: [cat, dog]\n");
  const auto spec = load_data_spec(tmp.str("cfg/data.yaml"));
  CHECK(spec.root == fs::weakly_canonical(tmp.path() / "sets" / "ds").string());
  REQUIRE(spec.train.size() == 1);
  CHECK(spec.train[0] == fs::weakly_canonical(tmp.path() / "sets/ds/images/train").string());
  CHECK(spec.val[0] == fs::weakly_canonical(tmp.path() / "sets/ds/images/val").string());
  CHECK(spec.test.empty());
  CHECK(spec.names == std::vector<std::string>{"cat", "dog"});
  CHECK(spec.nc == 2);
  CHECK(spec.split("val") == spec.val);
  CHECK_THROWS_WITH(spec.split("test"), ContainsSubstring("no `test` split"));
  CHECK_THROWS_WITH(spec.split("training"), ContainsSubstring("unknown split"));
}

TEST_CASE("data yaml: no path means the YAML's folder, names as a map, nc alone", "[data]") {
  yolo::test::TempDir tmp;
  make_layout(tmp.path());
  yolo::test::write_text(tmp.path() / "a.yaml", "train: images/train\nval: images/val\nnames:\n  1: dog\n  0: cat\n");
  auto spec = load_data_spec(tmp.str("a.yaml"));
  CHECK(spec.root == fs::weakly_canonical(tmp.path()).string());
  CHECK(spec.names == std::vector<std::string>{"cat", "dog"});

  yolo::test::write_text(tmp.path() / "b.yaml", "train: images/train\nval: images/val\nnc: 3\n");
  spec = load_data_spec(tmp.str("b.yaml"));
  CHECK(spec.names == std::vector<std::string>{"class0", "class1", "class2"});
}

TEST_CASE("data yaml: a path missing beside the YAML is looked up in datasets_dir", "[data]") {
  yolo::test::TempDir tmp;
  make_layout(tmp.path() / "datasets" / "coco8");
  yolo::test::write_text(tmp.path() / "cfg" / "coco8.yaml",
                         "path: coco8\ntrain: images/train\nval: images/val\nnames: [a]\n");
  const auto spec = load_data_spec(tmp.str("cfg/coco8.yaml"), tmp.str("datasets"));
  CHECK(spec.root == fs::weakly_canonical(tmp.path() / "datasets" / "coco8").string());
  CHECK_THROWS_WITH(load_data_spec(tmp.str("cfg/coco8.yaml")), ContainsSubstring("path: coco8 does not exist"));
}

TEST_CASE("data yaml: splits as .txt lists and lists of folders", "[data]") {
  yolo::test::TempDir tmp;
  make_layout(tmp.path());
  fs::create_directories(tmp.path() / "images" / "extra");
  yolo::test::write_text(tmp.path() / "train.txt", "./images/train/a.jpg\n");
  yolo::test::write_text(tmp.path() / "d.yaml", "train: train.txt\nval: [images/val, images/extra]\nnames: [a]\n");
  const auto spec = load_data_spec(tmp.str("d.yaml"));
  REQUIRE(spec.train.size() == 1);
  CHECK(fs::path(spec.train[0]).filename() == "train.txt");
  REQUIRE(spec.val.size() == 2);
  CHECK(fs::path(spec.val[1]).filename() == "extra");
}

TEST_CASE("data yaml: errors name the file and the key at fault", "[data]") {
  yolo::test::TempDir tmp;
  make_layout(tmp.path());
  yolo::test::write_text(tmp.path() / "nc.yaml", "train: images/train\nval: images/val\nnc: 3\nnames: [a, b]\n");
  CHECK_THROWS_WITH(load_data_spec(tmp.str("nc.yaml")),
                    ContainsSubstring("nc.yaml") && ContainsSubstring("nc: 3 does not match the 2 entries"));
  yolo::test::write_text(tmp.path() / "folder.yaml", "train: images/train\nval: images/nowhere\nnames: [a]\n");
  CHECK_THROWS_WITH(load_data_spec(tmp.str("folder.yaml")),
                    ContainsSubstring("val") && ContainsSubstring("images/nowhere does not exist"));
  yolo::test::write_text(tmp.path() / "noval.yaml", "train: images/train\nnames: [a]\n");
  CHECK_THROWS_WITH(load_data_spec(tmp.str("noval.yaml")), ContainsSubstring("`val:` key is missing"));
  yolo::test::write_text(tmp.path() / "nonames.yaml", "train: images/train\nval: images/val\n");
  CHECK_THROWS_WITH(load_data_spec(tmp.str("nonames.yaml")), ContainsSubstring("names"));
  CHECK_THROWS_WITH(load_data_spec(tmp.str("absent.yaml")), ContainsSubstring("absent.yaml does not exist"));
}
