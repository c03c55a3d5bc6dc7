// Fashion-MNIST's idx files converted into the classification folder layout: tiny idx files written here
// (gzip-compressed and plain, as Zalando and Debian ship them), converted, and read back pixel for pixel
// by the classification dataset; missing, damaged or inconsistent files are clear errors.
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "catch.h"
#include "data/classify_dataset.h"
#include "data/fashion_mnist.h"
#include "fixtures.h"

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using yolo::test::TempDir;

namespace {

constexpr int kHeight = 12, kWidth = 10;  // not square, so that rows and columns cannot be swapped unseen

/// An unsigned-byte idx file: magic 00 00 08 <dims>, big-endian dimensions, then the values.
std::string idx_bytes(const std::vector<uint32_t>& shape, const std::vector<uint8_t>& values) {
  std::string bytes{'\0', '\0', '\x08', static_cast<char>(shape.size())};
  for (const auto d : shape)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>((d >> shift) & 0xff));
  bytes.append(values.begin(), values.end());
  return bytes;
}

void write_file(const fs::path& path, const std::string& bytes, bool gzip) {
  if (gzip) {
    gzFile file = gzopen(path.string().c_str(), "wb");
    REQUIRE(file);
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(file) == Z_OK);
  } else {
    std::ofstream(path, std::ios::binary) << bytes;
  }
}

/// Item i's pixel (y, x) in a split: distinct per item and position.
uint8_t pixel(int split, int i, int y, int x) { return static_cast<uint8_t>(split * 100 + i * 7 + y * kWidth + x); }

/// `dir`/<split>-{images-idx3,labels-idx1}-ubyte[.gz] with one item per label.
void write_split(const fs::path& dir, const std::string& split, int split_index, const std::vector<uint8_t>& labels,
                 bool gzip) {
  std::vector<uint8_t> images;
  for (size_t i = 0; i < labels.size(); ++i)
    for (int y = 0; y < kHeight; ++y)
      for (int x = 0; x < kWidth; ++x) images.push_back(pixel(split_index, static_cast<int>(i), y, x));
  const auto n = static_cast<uint32_t>(labels.size());
  const std::string ext = gzip ? ".gz" : "";
  write_file(dir / (split + "-images-idx3-ubyte" + ext), idx_bytes({n, kHeight, kWidth}, images), gzip);
  write_file(dir / (split + "-labels-idx1-ubyte" + ext), idx_bytes({n}, labels), gzip);
}

const std::vector<uint8_t> kTrainLabels{9, 0, 3, 1, 2, 4, 5, 6, 7, 8, 0};
const std::vector<uint8_t> kTestLabels{5, 6, 7, 8, 9, 0, 1, 2, 3, 4};

/// A source folder: gzip-compressed train files (as Debian ships them), plain t10k files.
fs::path source(const TempDir& tmp) {
  const auto dir = tmp.path() / "idx";
  fs::create_directories(dir);
  write_split(dir, "train", 0, kTrainLabels, true);
  write_split(dir, "t10k", 1, kTestLabels, false);
  return dir;
}

}  // namespace

TEST_CASE("Fashion-MNIST idx files become train/<class> and val/<class> folders", "[data][classify]") {
  TempDir tmp;
  const auto out = tmp.path() / "fashion";
  const auto counts = yolo::data::convert_fashion_mnist(source(tmp).string(), out.string());
  CHECK(counts.train == 11);
  CHECK(counts.val == 10);
  // The item's idx split and index name the file, its label the folder; pixels are the idx values.
  const auto& names = yolo::data::fashion_mnist_class_folders();
  REQUIRE(names.size() == 10);
  CHECK(names.front() == "t-shirt_top");
  CHECK(names.back() == "ankle_boot");
  for (const auto& [split, folder, split_index, labels] :
       {std::make_tuple("train", "train", 0, kTrainLabels), std::make_tuple("t10k", "val", 1, kTestLabels)}) {
    for (size_t i = 0; i < labels.size(); ++i) {
      const auto file = out / folder / names[labels[i]] / fmt::format("{}_{:05d}.png", split, i);
      INFO(file.string());
      const cv::Mat image = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
      REQUIRE(image.type() == CV_8UC1);
      REQUIRE(image.rows == kHeight);
      REQUIRE(image.cols == kWidth);
      for (int y = 0; y < kHeight; ++y)
        for (int x = 0; x < kWidth; ++x)
          REQUIRE(image.at<uint8_t>(y, x) == pixel(split_index, static_cast<int>(i), y, x));
    }
  }

  // The folder is a classification dataset: sorted class names, the test split as val.
  const auto spec = yolo::data::load_classify_data_spec(out.string());
  auto sorted = names;
  std::sort(sorted.begin(), sorted.end());
  CHECK(spec.names == sorted);
  yolo::data::DatasetOptions options;
  options.imgsz = 32;
  options.augment = false;
  const yolo::data::ClassificationDataset train(spec.train.front(), spec.names, options);
  const yolo::data::ClassificationDataset val(spec.val.front(), spec.names, options);
  CHECK(train.size() == 11);
  CHECK(val.size() == 10);
  // train_00001 and train_00010 are both t-shirts (label 0), sorted last: class index of "t-shirt_top" is 8.
  CHECK(fs::path(train.file(8)).filename() == "train_00001.png");
  CHECK(train.images()[8].label == 8);
}

TEST_CASE("Fashion-MNIST conversion: missing, damaged and inconsistent idx files are errors", "[data][classify]") {
  TempDir tmp;
  const auto dir = source(tmp);
  const auto out = tmp.path() / "out";
  auto convert = [&] { yolo::data::convert_fashion_mnist(dir.string(), out.string()); };

  SECTION("a missing folder or file names the package to install") {
    CHECK_THROWS_WITH(yolo::data::convert_fashion_mnist((tmp.path() / "nope").string(), out.string()),
                      ContainsSubstring("nope does not exist") && ContainsSubstring("dataset-fashion-mnist"));
    fs::remove(dir / "t10k-labels-idx1-ubyte");
    CHECK_THROWS_WITH(convert(), ContainsSubstring("t10k-labels-idx1-ubyte") &&
                                     ContainsSubstring("apt install dataset-fashion-mnist"));
  }
  SECTION("a truncated gzip file") {
    const auto file = dir / "train-images-idx3-ubyte.gz";
    fs::resize_file(file, fs::file_size(file) / 2);
    CHECK_THROWS_WITH(convert(), ContainsSubstring("train-images-idx3-ubyte.gz") && ContainsSubstring("truncated"));
  }
  SECTION("a file that is not idx, or not of unsigned bytes") {
    write_file(dir / "t10k-labels-idx1-ubyte", "PK\x03\x04 not idx", false);
    CHECK_THROWS_WITH(convert(), ContainsSubstring("t10k-labels-idx1-ubyte: not an idx file"));
    write_file(dir / "t10k-labels-idx1-ubyte", std::string("\0\0\x0d\x01\0\0\0\x01", 8) + "abcd", false);
    CHECK_THROWS_WITH(convert(), ContainsSubstring("only unsigned bytes"));
  }
  SECTION("more values than the header declares") {
    write_file(dir / "t10k-labels-idx1-ubyte", idx_bytes({9}, kTestLabels), false);
    CHECK_THROWS_WITH(convert(), ContainsSubstring("more values than its header declares"));
  }
  SECTION("images and labels of different counts, images of the wrong rank") {
    write_file(dir / "t10k-labels-idx1-ubyte", idx_bytes({9}, {0, 1, 2, 3, 4, 5, 6, 7, 8}), false);
    CHECK_THROWS_WITH(convert(), ContainsSubstring("holds 10 images but") && ContainsSubstring("holds 9 labels"));
    write_file(dir / "t10k-images-idx3-ubyte", idx_bytes({10, 12}, std::vector<uint8_t>(120)), false);
    CHECK_THROWS_WITH(convert(), ContainsSubstring("found 2 dimensions"));
  }
  SECTION("a label outside Fashion-MNIST's ten classes") {
    auto labels = kTestLabels;
    labels[3] = 10;
    write_file(dir / "t10k-labels-idx1-ubyte", idx_bytes({10}, labels), false);
    CHECK_THROWS_WITH(convert(), ContainsSubstring("label 10 of item 3 is not a Fashion-MNIST class (0..9)"));
  }
  // Both splits are checked before anything is written.
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("Fashion-MNIST conversion writes only into a new or empty folder", "[data][classify]") {
  TempDir tmp;
  const auto dir = source(tmp);
  const auto out = tmp.path() / "out";
  fs::create_directories(out);  // empty: fine
  yolo::data::convert_fashion_mnist(dir.string(), out.string());
  CHECK_THROWS_WITH(yolo::data::convert_fashion_mnist(dir.string(), out.string()),
                    ContainsSubstring("exists and is not an empty folder"));
  const auto idx = yolo::data::read_idx((dir / "train-images-idx3-ubyte.gz").string());
  CHECK(idx.shape == std::vector<int64_t>{11, kHeight, kWidth});
  CHECK(idx.values.size() == size_t{11} * kHeight * kWidth);
}

TEST_CASE("yolo convert fashion-mnist on the command line", "[data][classify][cli]") {
#ifndef YOLO_CLI_PATH
  YOLO_SKIP("the yolo command line tool is not built");
#else
  TempDir tmp;
  const auto dir = source(tmp);
  const auto log = tmp.path() / "log.txt";
  auto run = [&](const std::string& arguments) {
    const int status = std::system((std::string(YOLO_CLI_PATH) + " convert " + arguments + " > " + log.string() +
                                    " 2>&1").c_str());
    std::ifstream in(log);
    return std::make_pair(WEXITSTATUS(status), std::string(std::istreambuf_iterator<char>(in), {}));
  };
  const auto out = tmp.path() / "fashion";
  const auto [status, text] = run("fashion-mnist " + out.string() + " " + dir.string());
  INFO(text);
  CHECK(status == 0);
  CHECK_THAT(text, ContainsSubstring("11 train and 10 val images in " + out.string()));
  CHECK(fs::is_regular_file(out / "val" / "sandal" / "t10k_00000.png"));
  const auto [bad_status, bad_text] = run("fashion-mnst " + (tmp.path() / "x").string());
  CHECK(bad_status == 2);
  CHECK_THAT(bad_text, ContainsSubstring("unknown dataset format 'fashion-mnst'") &&
                           ContainsSubstring("fashion-mnist"));
#endif
}
