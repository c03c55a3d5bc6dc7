// Classification folders: the layout Ultralytics reads (ImageFolder), the named errors of Azure ML's
// "Train PyTorch Model" on bad folders, and unreadable images skipped with a warning.
#include <filesystem>
#include <fstream>

#include "catch.h"
#include "data/classify_dataset.h"
#include "data/loader.h"
#include "fixtures.h"

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using yolo::data::load_classify_data_spec;
using yolo::test::TempDir;

namespace {

void image(const fs::path& path, int side = 16, int value = 90) {
  fs::create_directories(path.parent_path());
  REQUIRE(cv::imwrite(path.string(), cv::Mat(side, side, CV_8UC3, cv::Scalar(value, value / 2, 255 - value))));
}

/// root/<split>/<class>/<n>.png for every class.
void classes(const fs::path& root, const std::string& split, const std::vector<std::string>& names, int per_class = 2) {
  for (const auto& name : names)
    for (int i = 0; i < per_class; ++i) image(root / split / name / (std::to_string(i) + ".png"), 16, 40 * i + 20);
}

}  // namespace

TEST_CASE("a class folder dataset: sorted names, splits, ImageFolder order", "[data][classify]") {
  TempDir tmp;
  classes(tmp.path(), "train", {"zebra", "ant", "bee"});
  classes(tmp.path(), "val", {"ant", "bee", "zebra"}, 1);
  image(tmp.path() / "train" / "ant" / "sub" / "0.png");  // nested files come after the folder's own
  const auto spec = load_classify_data_spec(tmp.str());
  CHECK(spec.names == std::vector<std::string>{"ant", "bee", "zebra"});
  CHECK(spec.nc == 3);
  CHECK(spec.val == spec.test);  // no test/: test falls back to val, as Ultralytics
  yolo::data::DatasetOptions options;
  options.imgsz = 8;
  options.augment = false;
  yolo::data::ClassificationDataset train(spec.train.front(), spec.names, options);
  REQUIRE(train.size() == 7);
  CHECK(fs::path(train.file(0)).filename() == "0.png");
  CHECK(fs::path(train.file(2)).parent_path().filename() == "sub");
  CHECK(train.images()[3].label == 1);
  CHECK(train.images()[6].label == 2);

  // A batch: uint8 RGB images of imgsz x imgsz and their labels.
  yolo::data::LoaderOptions lo;
  lo.batch_size = 4, lo.workers = 0, lo.shuffle = false;
  yolo::data::DataLoader loader(std::make_shared<yolo::data::ClassificationDataset>(spec.val.front(), spec.names, options), lo);
  auto batch = loader.next();
  REQUIRE(batch);
  CHECK(batch->images.sizes() == torch::IntArrayRef{3, 3, 8, 8});
  CHECK(batch->labels.equal(torch::tensor({0, 1, 2}, torch::kInt64)));
  CHECK(batch->instances() == 3);
  // BGR (20, 10, 235) on disk is RGB (235, 10, 20) in the batch.
  CHECK(batch->images[0][0][0][0].item<int>() == 235);
  CHECK(batch->images[0][2][0][0].item<int>() == 20);
}

TEST_CASE("a dataset YAML may name the folder, a missing val split falls back to test", "[data][classify]") {
  TempDir tmp;
  classes(tmp.path() / "folder", "train", {"a", "b"});
  classes(tmp.path() / "folder", "test", {"a", "b"}, 1);
  yolo::test::write_text(tmp.path() / "data.yaml", "path: folder\nnames: [a, b]\n");
  const auto spec = load_classify_data_spec(tmp.str("data.yaml"));
  CHECK(spec.names == std::vector<std::string>{"a", "b"});
  CHECK(fs::path(spec.val.front()).filename() == "test");
  yolo::test::write_text(tmp.path() / "wrong.yaml", "path: folder\nnames: [a, c]\n");
  CHECK_THAT(yolo::test::error_of([&] { load_classify_data_spec(tmp.str("wrong.yaml")); }),
             ContainsSubstring("InvalidDataset"));
}

TEST_CASE("bad folders give the named errors", "[data][classify]") {
  SECTION("no class sub-folders: NotLabeledDataset") {
    TempDir tmp;
    image(tmp.path() / "train" / "0.png");
    image(tmp.path() / "val" / "0.png");
    CHECK_THAT(yolo::test::error_of([&] { load_classify_data_spec(tmp.str()); }), ContainsSubstring("NotLabeledDataset"));
  }
  SECTION("train and val classes differ: InvalidDataset, listing the difference") {
    TempDir tmp;
    classes(tmp.path(), "train", {"cat", "dog", "owl"});
    classes(tmp.path(), "val", {"cat", "dog", "emu"});
    const auto message = yolo::test::error_of([&] { load_classify_data_spec(tmp.str()); });
    CHECK_THAT(message, ContainsSubstring("InvalidDataset"));
    CHECK_THAT(message, ContainsSubstring("missing owl"));
    CHECK_THAT(message, ContainsSubstring("not in training emu"));
  }
  SECTION("an empty class folder") {
    TempDir tmp;
    classes(tmp.path(), "train", {"cat", "dog"});
    classes(tmp.path(), "val", {"cat"});
    fs::create_directories(tmp.path() / "val" / "dog");
    const auto spec = load_classify_data_spec(tmp.str());
    yolo::data::DatasetOptions options;
    options.imgsz = 8;
    const auto message =
        yolo::test::error_of([&] { yolo::data::ClassificationDataset(spec.val.front(), spec.names, options); });
    CHECK_THAT(message, ContainsSubstring("empty class folder"));
    CHECK_THAT(message, ContainsSubstring("dog"));
  }
  SECTION("no train folder, or no folder at all") {
    TempDir tmp;
    classes(tmp.path(), "val", {"cat"});
    CHECK_THAT(yolo::test::error_of([&] { load_classify_data_spec(tmp.str()); }), ContainsSubstring("no train/"));
    CHECK_THAT(yolo::test::error_of([&] { load_classify_data_spec(tmp.str("nowhere"), tmp.str()); }),
               ContainsSubstring("nowhere"));
  }
}

TEST_CASE("unreadable and truncated images are skipped with a warning naming them", "[data][classify]") {
  TempDir tmp;
  classes(tmp.path(), "train", {"cat", "dog"});
  yolo::test::write_text(tmp.path() / "train" / "cat" / "broken.png", "not an image");
  {  // a JPEG cut short: no end-of-image marker
    cv::Mat im(32, 32, CV_8UC3, cv::Scalar(10, 200, 30));
    std::vector<uint8_t> bytes;
    cv::imencode(".jpg", im, bytes);
    std::ofstream(tmp.path() / "train" / "dog" / "cut.jpg", std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size() / 2));
  }
  image(tmp.path() / "train" / "loose.png");  // outside any class folder
  yolo::test::LogCapture warnings(yolo::LogLevel::Warning);
  std::vector<yolo::data::LabelledImage> images;
  images = yolo::data::scan_class_folders(tmp.str("train"), {"cat", "dog"});
  CHECK(images.size() == 4);
  CHECK(warnings.any_contains("broken.png"));
  CHECK(warnings.any_contains("cut.jpg", "truncated"));
  classes(tmp.path(), "val", {"cat", "dog"}, 1);
  load_classify_data_spec(tmp.str());
  CHECK(warnings.any_contains("outside any class folder"));
}

TEST_CASE("training transforms: imgsz squares, a pure function of the seed", "[data][classify]") {
  TempDir tmp;
  classes(tmp.path(), "train", {"a", "b"}, 3);
  classes(tmp.path(), "val", {"a", "b"}, 1);
  const auto spec = load_classify_data_spec(tmp.str());
  for (const std::string policy : {"randaugment", "autoaugment", "augmix", ""}) {
    INFO("auto_augment=" << policy);
    yolo::data::DatasetOptions options;
    options.imgsz = 12;
    options.augment = true;
    options.hyp.auto_augment = policy;
    options.hyp.erasing = 0.5;
    yolo::data::ClassificationDataset train(spec.train.front(), spec.names, options);
    yolo::data::Rng a(7, 1, 2), b(7, 1, 2);
    const auto first = train.get(3, a), second = train.get(3, b);
    CHECK(first.image.rows == 12);
    CHECK(first.image.cols == 12);
    CHECK(cv::norm(first.image, second.image, cv::NORM_INF) == 0);
    CHECK(first.label == 1);
  }
  yolo::data::DatasetOptions bad;
  bad.augment = true;
  bad.hyp.auto_augment = "trivialaugment";
  yolo::data::ClassificationDataset train(spec.train.front(), spec.names, bad);
  yolo::data::Rng rng(1);
  CHECK_THAT(yolo::test::error_of([&] { train.get(0, rng); }), ContainsSubstring("not a policy"));
}

TEST_CASE("cache=ram and cache=disk give the samples of the files", "[data][classify]") {
  TempDir tmp;
  classes(tmp.path(), "train", {"a", "b"}, 2);
  classes(tmp.path(), "val", {"a", "b"}, 1);
  const auto spec = load_classify_data_spec(tmp.str());
  yolo::data::DatasetOptions options;
  options.imgsz = 8;
  options.augment = true;
  const yolo::data::ClassificationDataset plain(spec.train.front(), spec.names, options);
  options.cache = "ram";
  const yolo::data::ClassificationDataset ram(spec.train.front(), spec.names, options);
  options.cache = "disk";
  const yolo::data::ClassificationDataset disk(spec.train.front(), spec.names, options);
  CHECK(fs::exists(tmp.path() / "train" / "a" / "0.npy"));
  for (size_t i = 0; i < plain.size(); ++i) {
    yolo::data::Rng r1(3, 0, i), r2(3, 0, i), r3(3, 0, i);
    const auto expected = plain.get(i, r1).image;
    CHECK(cv::norm(expected, ram.get(i, r2).image, cv::NORM_INF) == 0);
    CHECK(cv::norm(expected, disk.get(i, r3).image, cv::NORM_INF) == 0);
  }
}
