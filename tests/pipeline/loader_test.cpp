#include "data/loader.h"

#include <filesystem>
#include <set>

#include "catch.h"
#include "data/dataset.h"
#include "data/preview.h"
#include "fixtures.h"
#include "yolo/utils/error.h"

using Catch::Matchers::ContainsSubstring;
using namespace yolo::data;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kNames{"a", "b", "c"};

std::shared_ptr<DetectionDataset> train_set(const yolo::test::TempDir& tmp, int n, double mixup = 0.5) {
  yolo::test::make_dataset(tmp.path(), n);
  DatasetOptions o;
  o.imgsz = 96;
  o.batch_size = 4;
  o.hyp.mixup = mixup;  // exercise every random draw
  o.hyp.degrees = 5, o.hyp.flipud = 0.5, o.hyp.bgr = 0.3;
  return std::make_shared<DetectionDataset>(std::vector<std::string>{tmp.str("images/train")}, kNames, o);
}

std::vector<Batch> epoch(DataLoader& loader, int64_t e) {
  loader.set_epoch(e);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

std::multiset<std::string> paths_of(const std::vector<Batch>& batches) {
  std::multiset<std::string> paths;
  for (const auto& b : batches) paths.insert(b.paths.begin(), b.paths.end());
  return paths;
}

}  // namespace

TEST_CASE("loader: batches are uint8 NCHW RGB with normalised targets", "[data]") {
  yolo::test::TempDir tmp;
  auto ds = train_set(tmp, 10, 0);
  LoaderOptions lo;
  lo.batch_size = 4;
  lo.workers = 2;
  DataLoader loader(ds, lo);
  CHECK(loader.num_batches() == 3);
  const auto batches = epoch(loader, 0);
  REQUIRE(batches.size() == 3);
  CHECK(batches[2].images.size(0) == 2);  // the last, partial batch
  for (const auto& b : batches) {
    CHECK(b.images.dtype() == torch::kUInt8);
    CHECK(b.images.is_contiguous());
    CHECK(b.images.sizes().slice(1) == torch::IntArrayRef({3, 96, 96}));
    CHECK(b.targets.dtype() == torch::kFloat32);
    CHECK(b.targets.size(1) == 6);
    if (b.targets.size(0) > 0) {
      CHECK(b.targets.select(1, 0).max().item<float>() < b.images.size(0));
      CHECK(b.targets.narrow(1, 2, 4).min().item<float>() >= 0);
      CHECK(b.targets.narrow(1, 2, 4).max().item<float>() <= 1);
    }
    CHECK(b.paths.size() == static_cast<size_t>(b.images.size(0)));
  }
  LoaderOptions dl = lo;
  dl.drop_last = true;
  CHECK(DataLoader(ds, dl).num_batches() == 2);
  // The call after the end starts the epoch again.
  CHECK(loader.next().has_value());
}

TEST_CASE("loader: validation batches letterbox to rect shapes and map boxes back through ratio_pad", "[data]") {
  yolo::test::TempDir tmp;
  yolo::test::make_dataset(tmp.path(), 6, 3, {{160, 120}, {120, 160}});
  DatasetOptions o;
  o.imgsz = 64, o.augment = false, o.rect = true, o.batch_size = 3, o.pad = 0.5;
  auto ds = std::make_shared<DetectionDataset>(std::vector<std::string>{tmp.str("images/train")}, kNames, o);
  // Sorted by h/w: wide images first. The long side: ceil(64/32 + 0.5) * 32 = 96.
  CHECK(ds->batch_shape(0) == std::array<int64_t, 2>{64, 96});
  CHECK(ds->batch_shape(1) == std::array<int64_t, 2>{96, 64});
  LoaderOptions lo;
  lo.batch_size = 3, lo.workers = 1, lo.shuffle = false;
  DataLoader loader(ds, lo);
  const auto batches = epoch(loader, 0);
  REQUIRE(batches.size() == 2);
  CHECK(batches[0].images.sizes() == torch::IntArrayRef({3, 3, 64, 96}));
  CHECK(batches[1].images.sizes() == torch::IntArrayRef({3, 3, 96, 64}));
  for (const auto& b : batches) {
    auto t = b.targets.accessor<float, 2>();
    const double H = b.images.size(2), W = b.images.size(3);
    for (int64_t k = 0; k < t.size(0); ++k) {
      const auto i = static_cast<size_t>(t[k][0]);
      const auto& rp = b.ratio_pad[i];
      // Back to the original pixels, then compare with the label file's box.
      const double x1 = ((t[k][2] - t[k][4] / 2) * W - rp[2]) / rp[1];
      const double y1 = ((t[k][3] - t[k][5] / 2) * H - rp[3]) / rp[0];
      const auto& labels = ds->labels();
      const auto it =
          std::find_if(labels.begin(), labels.end(), [&](const auto& l) { return l.im_file == b.paths[i]; });
      REQUIRE(it != labels.end());
      CHECK(x1 == Approx((it->boxes[0][0] - it->boxes[0][2] / 2) * b.orig_shapes[i][1]).margin(0.5));
      CHECK(y1 == Approx((it->boxes[0][1] - it->boxes[0][3] / 2) * b.orig_shapes[i][0]).margin(0.5));
    }
  }
}

TEST_CASE("loader: channel order is RGB unless bgr fires", "[data]") {
  yolo::test::TempDir tmp;
  fs::create_directories(tmp.path() / "images");
  cv::Mat blue(64, 64, CV_8UC3, cv::Scalar(255, 0, 0));  // BGR blue
  cv::imwrite(tmp.str("images/a.png"), blue);
  DatasetOptions o;
  o.imgsz = 64, o.augment = false;
  auto ds = std::make_shared<DetectionDataset>(std::vector<std::string>{tmp.str("images")}, kNames, o);
  LoaderOptions lo;
  lo.workers = 0;
  DataLoader loader(ds, lo);
  const auto b = loader.next();
  REQUIRE(b);
  CHECK(b->images[0][2].min().item<int>() == 255);  // blue is the third channel in RGB
  CHECK(b->images[0][0].max().item<int>() == 0);
}

TEST_CASE("loader: same seed gives bitwise identical batches with 1 and 4 threads", "[data]") {
  yolo::test::TempDir tmp;
  auto ds = train_set(tmp, 13);
  LoaderOptions lo;
  lo.batch_size = 4, lo.seed = 7, lo.prefetch_batches = 2;
  lo.workers = 1;
  DataLoader one(ds, lo);
  lo.workers = 4;
  DataLoader four(ds, lo);
  lo.workers = 0;
  DataLoader inline_loader(ds, lo);
  for (int64_t e : {0, 3}) {
    const auto a = epoch(one, e), b = epoch(four, e), c = epoch(inline_loader, e);
    REQUIRE(a.size() == b.size());
    REQUIRE(a.size() == c.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CHECK(torch::equal(a[i].images, b[i].images));
      CHECK(torch::equal(a[i].targets, b[i].targets));
      CHECK(torch::equal(a[i].images, c[i].images));
      CHECK(a[i].paths == b[i].paths);
    }
  }
  // Another epoch or seed is another order and other augmentations.
  const auto e0 = epoch(one, 0), e1 = epoch(one, 1);
  CHECK_FALSE(torch::equal(e0[0].images, e1[0].images));
  lo.seed = 8;
  DataLoader other(ds, lo);
  CHECK_FALSE(torch::equal(epoch(other, 0)[0].images, e0[0].images));
}

TEST_CASE("loader: ranks get disjoint shards of equal length covering the dataset", "[data]") {
  yolo::test::TempDir tmp;
  auto ds = train_set(tmp, 11, 0);
  for (int64_t world : {2, 3}) {
    std::multiset<std::string> all;
    std::set<size_t> lengths, counts;
    for (int64_t rank = 0; rank < world; ++rank) {
      LoaderOptions lo;
      lo.batch_size = 2, lo.workers = 2, lo.rank = rank, lo.world_size = world, lo.seed = 1;
      DataLoader loader(ds, lo);
      const auto batches = epoch(loader, 2);
      lengths.insert(loader.samples_per_rank());
      counts.insert(batches.size());
      const auto paths = paths_of(batches);
      all.insert(paths.begin(), paths.end());
    }
    CHECK(lengths.size() == 1);
    CHECK(counts.size() == 1);
    CHECK(*lengths.begin() == static_cast<size_t>((11 + world - 1) / world));
    const std::set<std::string> distinct(all.begin(), all.end());
    CHECK(distinct.size() == 11);                                                // union = all
    CHECK(all.size() == static_cast<size_t>((11 + world - 1) / world * world));  // only the wrap repeats
  }
  // Without padding the shards are exactly disjoint.
  yolo::test::TempDir even_tmp;
  auto even = train_set(even_tmp, 10, 0);
  std::multiset<std::string> all;
  for (int64_t rank : {0, 1}) {
    LoaderOptions lo;
    lo.batch_size = 2, lo.workers = 1, lo.rank = rank, lo.world_size = 2;
    DataLoader loader(even, lo);
    const auto paths = paths_of(epoch(loader, 0));
    CHECK(paths.size() == 5);
    all.insert(paths.begin(), paths.end());
  }
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 10);
  LoaderOptions bad;
  bad.rank = 2, bad.world_size = 2;
  CHECK_THROWS_AS(DataLoader(even, bad), yolo::Error);
}

TEST_CASE("loader: shard_batches deals whole batches of the unsharded order, without padding", "[data]") {
  yolo::test::TempDir tmp;
  auto ds = train_set(tmp, 11, 0);
  LoaderOptions one;
  one.batch_size = 3, one.workers = 1, one.shuffle = false;
  DataLoader single(ds, one);
  const auto reference = epoch(single, 0);  // batches of 3, 3, 3, 2
  REQUIRE(reference.size() == 4);
  std::multiset<std::string> all;
  for (int64_t rank : {0, 1}) {
    LoaderOptions lo = one;
    lo.rank = rank, lo.world_size = 2, lo.shard_batches = true;
    DataLoader loader(ds, lo);
    const auto batches = epoch(loader, 0);
    REQUIRE(batches.size() == 2);  // rank 0: batches 0 and 2; rank 1: batches 1 and 3
    for (size_t k = 0; k < batches.size(); ++k) {
      CHECK(batches[k].paths == reference[static_cast<size_t>(rank) + 2 * k].paths);
      all.insert(batches[k].paths.begin(), batches[k].paths.end());
    }
  }
  CHECK(all.size() == 11);  // every image once
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 11);
}

TEST_CASE("loader: a worker's failure reaches the caller naming the file, also when stopped early", "[data]") {
  yolo::test::TempDir tmp;
  auto ds = train_set(tmp, 8, 0);
  const std::string victim = ds->labels()[5].im_file;
  fs::remove(victim);
  for (int64_t workers : {0, 2}) {
    LoaderOptions lo;
    lo.batch_size = 2, lo.workers = workers, lo.shuffle = false;
    DataLoader loader(ds, lo);
    loader.set_epoch(0);
    bool thrown = false;
    try {
      while (loader.next()) {
      }
    } catch (const yolo::Error& e) {
      thrown = true;
      CHECK_THAT(e.what(), ContainsSubstring(victim));
    }
    CHECK(thrown);
  }
  // Destroyed mid-epoch with batches in flight: no hang.
  {
    LoaderOptions lo;
    lo.batch_size = 1, lo.workers = 3, lo.shuffle = false;
    DataLoader loader(ds, lo);
    CHECK(loader.next().has_value());
  }
}

TEST_CASE("loader: close_mosaic switches to letterboxed single images", "[data]") {
  yolo::test::TempDir tmp;
  auto ds = train_set(tmp, 4, 0);
  CHECK(ds->mosaic_enabled());
  ds->close_mosaic();
  CHECK_FALSE(ds->mosaic_enabled());
  CHECK(ds->options().hyp.mixup == 0);
  Rng rng(0);
  const auto s = ds->get(0, rng);
  CHECK(s.boxes.size() <= 1);  // one image, one box: no tiles from others
  CHECK(s.image.size() == cv::Size(96, 96));
}

TEST_CASE("cache=ram and cache=disk give the same samples as decoding", "[data]") {
  yolo::test::TempDir tmp;
  yolo::test::make_dataset(tmp.path(), 5);
  DatasetOptions o;
  o.imgsz = 64;
  DetectionDataset plain({tmp.str("images/train")}, kNames, o);
  o.cache = "ram";
  DetectionDataset ram({tmp.str("images/train")}, kNames, o);
  o.cache = "disk";
  DetectionDataset disk({tmp.str("images/train")}, kNames, o);
  CHECK(fs::exists(tmp.path() / "images" / "train" / "000.npy"));
  for (size_t i = 0; i < 5; ++i) {
    Rng r1(i), r2(i), r3(i);
    const auto a = plain.get(i, r1), b = ram.get(i, r2), c = disk.get(i, r3);
    CHECK(cv::norm(a.image, b.image, cv::NORM_L1) == 0);
    CHECK(cv::norm(a.image, c.image, cv::NORM_L1) == 0);
    CHECK((a.boxes == c.boxes));
  }
}

TEST_CASE("preview: batches are written as JPEG grids", "[data]") {
  yolo::test::TempDir tmp;
  auto ds = train_set(tmp, 6, 0);
  LoaderOptions lo;
  lo.batch_size = 4, lo.workers = 1;
  DataLoader loader(ds, lo);
  const auto written = save_batch_previews(loader, 5, tmp.str("preview"), kNames);
  REQUIRE(written.size() == 2);  // only two batches exist
  for (const auto& path : written) {
    const auto im = cv::imread(path);
    REQUIRE_FALSE(im.empty());
    CHECK(im.cols == 2 * 160);  // 96-pixel images are scaled up to 160 so that their labels stay readable
  }
}

TEST_CASE("device prefetcher: the loader's batches in order, images on the device, one epoch per prefetcher",
          "[data]") {
  yolo::test::TempDir tmp;
  auto ds = train_set(tmp, 10, 0);
  LoaderOptions lo;
  lo.batch_size = 4;
  lo.workers = 2;
  DataLoader loader(ds, lo);
  const auto expected = epoch(loader, 1);
  // The GPU when this machine has one: the copy stream path; the CPU otherwise.
  const auto device = torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  for (int run = 0; run < 2; ++run) {  // a second epoch through a fresh prefetcher gives the same batches
    loader.set_epoch(1);
    DevicePrefetcher prefetcher(loader, device);
    std::vector<DeviceBatch> got;
    while (auto b = prefetcher.next()) got.push_back(std::move(*b));
    CHECK_FALSE(prefetcher.next());  // stays at the end: the loader is not restarted behind the caller's back
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].images.device() == device);
      CHECK(got[i].images.dtype() == torch::kUInt8);
      CHECK(torch::equal(got[i].images.cpu(), expected[i].images));
      CHECK(torch::equal(got[i].batch.targets, expected[i].targets));
      CHECK(got[i].batch.paths == expected[i].paths);
    }
  }
}
