#include "data/labels.h"

#include <filesystem>
#include <fstream>

#include "catch.h"
#include "data/dataset.h"
#include "fixtures.h"
#include "yolo/utils/error.h"

using Catch::Matchers::ContainsSubstring;
namespace fs = std::filesystem;
using namespace yolo::data;

namespace {

// Copies the fixture labels of tests/data/pipeline/bad and writes an image beside each, plus the
// broken images: a truncated JPEG, an empty file, a text file named .png, and an image without labels.
void make_bad_dataset(const fs::path& root) {
  fs::create_directories(root / "images");
  fs::copy(yolo::test::data_path("pipeline/bad/labels"), root / "labels");
  const cv::Mat im = yolo::test::grey_image(64, 48);
  for (const auto& e : fs::directory_iterator(root / "labels"))
    cv::imwrite((root / "images" / e.path().stem()).string() + ".jpg", im);
  cv::imwrite((root / "images" / "missing_label.jpg").string(), im);

  std::vector<uchar> jpeg;
  cv::Mat noisy(48, 64, CV_8UC3);
  cv::randu(noisy, 0, 255);
  cv::imencode(".jpg", noisy, jpeg);
  std::ofstream(root / "images" / "truncated.jpg", std::ios::binary)
      .write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size() / 2));
  std::ofstream(root / "images" / "zero.jpg", std::ios::binary);
  std::ofstream(root / "images" / "text.png") << "not an image\n";
  cv::imwrite((root / "images" / "tiny.png").string(), yolo::test::grey_image(6, 6));
  for (const char* stem : {"truncated", "zero", "text", "tiny"})
    yolo::test::write_text(root / "labels" / (std::string(stem) + ".txt"), "0 0.5 0.5 0.2 0.2\n");
}

const ImageLabels* find(const std::vector<ImageLabels>& labels, const std::string& stem) {
  for (const auto& l : labels)
    if (fs::path(l.im_file).stem() == stem) return &l;
  return nullptr;
}

}  // namespace

TEST_CASE("labels: image paths map to label paths", "[data]") {
  CHECK(label_path_for("/d/images/train/a.b.jpg") == "/d/labels/train/a.b.txt");
  CHECK(label_path_for("/images/x/images/train/a.png") == "/images/x/labels/train/a.txt");
  CHECK(label_path_for("/d/pics/a.jpg") == "/d/pics/a.txt");
}

TEST_CASE("labels: each kind of bad file is counted and named in a warning", "[data]") {
  yolo::test::TempDir tmp;
  make_bad_dataset(tmp.path());
  yolo::test::LogCapture capture(yolo::LogLevel::Warning);
  const auto files = find_image_files({tmp.str("images")});
  CHECK(files.size() == 12);
  const auto r = scan_labels(files, /*nc=*/3);
  const auto& s = r.summary;
  CHECK(s.found == 3);    // good, duplicates, polygon
  CHECK(s.empty == 1);    // empty.txt
  CHECK(s.missing == 1);  // missing_label.jpg
  CHECK(s.corrupt == 7);  // class, bounds, columns, truncated, zero, text, tiny
  CHECK(s.duplicates == 1);
  CHECK(s.backgrounds() == 2);
  CHECK(s.describe() == "5 images, 2 backgrounds, 7 corrupt");
  CHECK_FALSE(s.from_cache);
  CHECK(r.labels.size() == 5);

  CHECK(capture.any_contains("class_out_of_range.txt:2", "class 5 is outside"));
  CHECK(capture.any_contains("out_of_bounds.txt:1", "outside [0, 1]"));
  CHECK(capture.any_contains("bad_columns.txt:1", "expected 5 values"));
  CHECK(capture.any_contains("duplicates.txt", "1 duplicate labels removed"));
  CHECK(capture.any_contains("truncated.jpg", "truncated JPEG"));
  CHECK(capture.any_contains("zero.jpg", "empty"));
  CHECK(capture.any_contains("text.png", "does not decode"));
  CHECK(capture.any_contains("tiny.png", "smaller than"));

  const auto* polygon = find(r.labels, "polygon");
  REQUIRE(polygon);
  REQUIRE(polygon->boxes.size() == 1);
  CHECK(polygon->cls[0] == 2);
  CHECK(polygon->boxes[0][0] == Approx(0.3f));
  CHECK(polygon->boxes[0][1] == Approx(0.25f));
  CHECK(polygon->boxes[0][2] == Approx(0.4f));
  CHECK(polygon->boxes[0][3] == Approx(0.3f));
  const auto* dup = find(r.labels, "duplicates");
  REQUIRE(dup);
  CHECK(dup->boxes.size() == 2);
  const auto* good = find(r.labels, "good");
  REQUIRE(good);
  CHECK(good->height == 48);
  CHECK(good->width == 64);
  CHECK(find(r.labels, "empty")->boxes.empty());
  CHECK(find(r.labels, "missing_label")->boxes.empty());
}

TEST_CASE("labels: the cache is reused while files are unchanged and invalidated by an edit", "[data]") {
  yolo::test::TempDir tmp;
  yolo::test::make_dataset(tmp.path(), 6);
  const auto files = find_image_files({tmp.str("images/train")});
  const auto first = scan_labels(files, 3);
  CHECK_FALSE(first.summary.from_cache);
  CHECK(fs::exists(tmp.path() / "labels" / "train.yolocpp.cache"));
  CHECK(first.summary.cache_file == (tmp.path() / "labels" / "train.yolocpp.cache").string());

  const auto second = scan_labels(files, 3);
  CHECK(second.summary.from_cache);
  REQUIRE(second.labels.size() == first.labels.size());
  for (size_t i = 0; i < first.labels.size(); ++i) {
    CHECK(second.labels[i].im_file == first.labels[i].im_file);
    CHECK((second.labels[i].boxes == first.labels[i].boxes));
    CHECK(second.labels[i].cls == first.labels[i].cls);
    CHECK(second.labels[i].height == first.labels[i].height);
  }
  // Another class count is another verification.
  CHECK_FALSE(scan_labels(files, 4).summary.from_cache);
  CHECK(scan_labels(files, 4).summary.from_cache);

  // Touching a label file (same content, newer time) invalidates; so does an edit.
  const auto label = tmp.path() / "labels" / "train" / "002.txt";
  fs::last_write_time(label, fs::last_write_time(label) + std::chrono::seconds(5));
  CHECK_FALSE(scan_labels(files, 4).summary.from_cache);
  yolo::test::write_text(label, "1 0.5 0.5 0.5 0.5\n1 0.2 0.2 0.1 0.1\n");
  const auto edited = scan_labels(files, 4);
  CHECK_FALSE(edited.summary.from_cache);
  CHECK(edited.labels[2].boxes.size() == 2);
  // A label file that appears (background -> labelled) invalidates too.
  fs::remove(tmp.path() / "labels" / "train" / "003.txt");
  CHECK_FALSE(scan_labels(files, 4).summary.from_cache);
  CHECK(scan_labels(files, 4).summary.missing == 1);
}

TEST_CASE("labels: a corrupt cache file is ignored and rewritten", "[data]") {
  yolo::test::TempDir tmp;
  yolo::test::make_dataset(tmp.path(), 3);
  const auto files = find_image_files({tmp.str("images/train")});
  yolo::test::write_text(tmp.path() / "labels" / "train.yolocpp.cache", "garbage");
  CHECK_FALSE(scan_labels(files, 3).summary.from_cache);
  CHECK(scan_labels(files, 3).summary.from_cache);
}

TEST_CASE("labels: an unwritable cache folder costs only a warning", "[data]") {
  yolo::test::TempDir tmp;
  yolo::test::make_dataset(tmp.path(), 3);
  const auto files = find_image_files({tmp.str("images/train")});
  // A directory where the cache file should be makes the write fail even for root.
  fs::create_directories(tmp.path() / "labels" / "train.yolocpp.cache");
  yolo::test::LogCapture capture(yolo::LogLevel::Warning);
  const auto r = scan_labels(files, 3);
  CHECK(r.labels.size() == 3);
  CHECK(capture.any_contains("cache"));
}

TEST_CASE("dataset: single_cls, classes, fraction, .txt lists, and no usable image", "[data]") {
  yolo::test::TempDir tmp;
  yolo::test::make_dataset(tmp.path(), 9, /*nc=*/3);
  const std::vector<std::string> names{"a", "b", "c"};
  DatasetOptions o;
  o.imgsz = 128;
  o.single_cls = true;
  DetectionDataset single({tmp.str("images/train")}, names, o);
  CHECK(single.size() == 9);
  for (const auto& l : single.labels())
    for (auto c : l.cls) CHECK(c == 0);

  o.single_cls = false;
  o.classes = {1};
  DetectionDataset only_b({tmp.str("images/train")}, names, o);
  CHECK(only_b.size() == 9);  // images stay, as backgrounds
  int64_t boxes = 0;
  for (const auto& l : only_b.labels()) {
    for (auto c : l.cls) CHECK(c == 1);
    boxes += static_cast<int64_t>(l.cls.size());
  }
  CHECK(boxes == 3);

  o.classes.clear();
  o.fraction = 0.5;
  CHECK(DetectionDataset({tmp.str("images/train")}, names, o).size() == 4);  // round(4.5) = 4, as Python rounds

  o.fraction = 1;
  yolo::test::write_text(tmp.path() / "list.txt", "./images/train/000.png\nimages/train/004.png\n");
  DetectionDataset listed({tmp.str("list.txt")}, names, o);
  CHECK(listed.size() == 2);

  yolo::test::TempDir bad;
  fs::create_directories(bad.path() / "images");
  std::ofstream(bad.path() / "images" / "x.png") << "text";
  yolo::test::LogCapture capture(yolo::LogLevel::Warning);
  CHECK_THROWS_WITH(DetectionDataset({bad.str("images")}, names, o),
                    ContainsSubstring("no usable image") && ContainsSubstring("1 corrupt"));
  CHECK_THROWS_WITH(DetectionDataset({bad.str("nowhere")}, names, o), ContainsSubstring("nowhere does not exist"));
}
