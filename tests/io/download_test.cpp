// Downloads against a local HTTP server: fetch once, resume after a cut and from an old .part,
// retries, 404, size and checksum checks, offline mode, mirrors, one fetch for concurrent callers,
// weights by name.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "catch.h"
#include "helpers/download_fixtures.h"
#include "io/checkpoint.h"
#include "io/download.h"
#include "io/sha256.h"
#include "io/weights.h"

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using yolo::io::download_file;
using yolo::io::DownloadOptions;
using yolo::io::DownloadRequest;
using yolo::test::read_bytes;
using yolo::test::ScopedEnv;
using yolo::test::TestHttpServer;

namespace {

fs::path fresh_dir(const std::string& name) { return yolo::test::fresh_dir("download_test_" + name); }

/// Bytes that differ everywhere, so a misplaced resume shows.
std::string payload(size_t n) {
  std::string bytes(n, '\0');
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>((i * 131 + i / 251) & 0xFF);
  return bytes;
}

DownloadOptions quick() {
  DownloadOptions options;
  options.backoff = std::chrono::milliseconds(5);
  return options;
}

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-4 examples", "[io][download]") {
  CHECK(yolo::io::Sha256().hex_digest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(yolo::io::Sha256().update("abc").hex_digest() ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(yolo::io::Sha256().update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex_digest() ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // A million 'a's, fed in uneven pieces.
  yolo::io::Sha256 sha;
  const std::string piece(999, 'a');
  for (int i = 0; i < 1001; ++i) sha.update(piece);
  sha.update(std::string(1000000 - 999 * 1001, 'a'));
  CHECK(sha.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("a file is downloaded once, checked, and found the second time", "[io][download]") {
  TestHttpServer server;
  const auto body = payload(300000);
  server.serve("/f.bin", body);
  const auto dir = fresh_dir("once");
  const DownloadRequest request{server.url() + "/f.bin", dir / "sub" / "f.bin", body.size(),
                                yolo::io::Sha256().update(body).hex_digest()};
  download_file(request, quick());
  CHECK(read_bytes(dir / "sub" / "f.bin") == body);
  download_file(request, quick());
  CHECK(server.requests("/f.bin") == 1);
  CHECK_FALSE(fs::exists(dir / "sub" / "f.bin.part"));
  CHECK_FALSE(fs::exists(dir / "sub" / "f.bin.lock"));
  fs::remove_all(dir);
}

TEST_CASE("an interrupted transfer resumes where it stopped", "[io][download]") {
  TestHttpServer server;
  const auto body = payload(200000);
  const auto dir = fresh_dir("resume");

  SECTION("cut mid-transfer: the retry asks for the rest") {
    TestHttpServer::Route route{body};
    route.cut_first_after = 70000;
    server.serve("/f.bin", route);
    download_file({server.url() + "/f.bin", dir / "f.bin", body.size()}, quick());
    CHECK(read_bytes(dir / "f.bin") == body);
    CHECK(server.ranges("/f.bin") == std::vector<std::string>{"", "bytes=70000-"});
  }
  SECTION("a .part left by an earlier run") {
    server.serve("/f.bin", body);
    std::ofstream(dir / "f.bin.part", std::ios::binary) << body.substr(0, 12345);
    download_file({server.url() + "/f.bin", dir / "f.bin"}, quick());
    CHECK(read_bytes(dir / "f.bin") == body);
    CHECK(server.ranges("/f.bin") == std::vector<std::string>{"bytes=12345-"});
  }
  SECTION("a server without ranges: the file is fetched again from the start") {
    TestHttpServer::Route route{body};
    route.ranges = false;
    server.serve("/f.bin", route);
    std::ofstream(dir / "f.bin.part", std::ios::binary) << body.substr(0, 5000);
    download_file({server.url() + "/f.bin", dir / "f.bin"}, quick());
    CHECK(read_bytes(dir / "f.bin") == body);
    CHECK(server.requests("/f.bin") == 2);
  }
  SECTION("a resumed file that fails its checksum is fetched whole once") {
    server.serve("/f.bin", body);
    std::ofstream(dir / "f.bin.part", std::ios::binary) << std::string(1000, 'z');  // another file's start
    download_file({server.url() + "/f.bin", dir / "f.bin", std::nullopt, yolo::io::Sha256().update(body).hex_digest()},
                  quick());
    CHECK(read_bytes(dir / "f.bin") == body);
    CHECK(server.ranges("/f.bin") == std::vector<std::string>{"bytes=1000-", ""});
  }
  fs::remove_all(dir);
}

TEST_CASE("server errors are retried with back-off, a 404 is not", "[io][download]") {
  TestHttpServer server;
  const auto dir = fresh_dir("errors");
  TestHttpServer::Route flaky{"fine"};
  flaky.fail_first = 2;
  server.serve("/flaky.txt", flaky);
  download_file({server.url() + "/flaky.txt", dir / "flaky.txt"}, quick());
  CHECK(read_bytes(dir / "flaky.txt") == "fine");
  CHECK(server.requests("/flaky.txt") == 3);

  TestHttpServer::Route down{"never"};
  down.fail_first = 100;
  server.serve("/down.txt", down);
  CHECK_THAT(yolo::test::error_of([&] { download_file({server.url() + "/down.txt", dir / "down.txt"}, quick()); }),
             ContainsSubstring("HTTP 503") && ContainsSubstring("gave up after 4 tries"));
  CHECK(server.requests("/down.txt") == 4);

  const auto missing = server.url() + "/missing.pt";
  CHECK_THAT(yolo::test::error_of([&] { download_file({missing, dir / "missing.pt"}, quick()); }),
             ContainsSubstring("cannot download " + missing) && ContainsSubstring("HTTP 404"));
  CHECK(server.requests("/missing.pt") == 1);
  CHECK_FALSE(fs::exists(dir / "missing.pt"));
  CHECK_FALSE(fs::exists(dir / "missing.pt.part"));
  fs::remove_all(dir);
}

TEST_CASE("a wrong size or checksum removes the download", "[io][download]") {
  TestHttpServer server;
  const auto body = payload(50000);
  server.serve("/f.bin", body);
  const auto dir = fresh_dir("checks");
  const auto url = server.url() + "/f.bin";
  CHECK_THAT(yolo::test::error_of([&] { download_file({url, dir / "f.bin", std::nullopt, "0123abcd"}, quick()); }),
             ContainsSubstring("SHA-256 is " + yolo::io::Sha256().update(body).hex_digest()) &&
                 ContainsSubstring("0123abcd was expected"));
  CHECK_THAT(yolo::test::error_of([&] { download_file({url, dir / "f.bin", body.size() + 10}, quick()); }),
             ContainsSubstring("it has 50000 bytes, 50010 were expected"));
  CHECK_THAT(yolo::test::error_of([&] { download_file({url, dir / "f.bin", uint64_t{1000}}, quick()); }),
             ContainsSubstring("more than the expected 1000 bytes"));
  CHECK(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST_CASE("offline mode never touches the network", "[io][download]") {
  TestHttpServer server;
  server.serve("/f.bin", "data");
  const auto dir = fresh_dir("offline");
  ScopedEnv offline("YOLO_OFFLINE", "1");
  CHECK(yolo::io::offline());
  const auto url = server.url() + "/f.bin";
  CHECK_THAT(yolo::test::error_of([&] { download_file({url, dir / "f.bin"}); }),
             ContainsSubstring("YOLO_OFFLINE") && ContainsSubstring("fetch " + url) &&
                 ContainsSubstring("put it in " + dir.string()));
  CHECK(server.total_requests() == 0);
  CHECK(fs::is_empty(dir));
  // A file already there is fine offline.
  std::ofstream(dir / "f.bin") << "here";
  download_file({url, dir / "f.bin"});
  fs::remove_all(dir);
}

TEST_CASE("mirror variables replace the canonical URL prefixes", "[io][download]") {
  const std::string asset = "https://github.com/ultralytics/assets/releases/download/v8.3.0/yolov8n.pt";
  const std::string torchvision = "https://download.pytorch.org/models/resnet18-f37072fd.pth";
  {
    ScopedEnv a("YOLO_ASSETS_URL", nullptr), t("YOLO_TORCHVISION_URL", nullptr);
    CHECK(yolo::io::mirrored_url(asset) == asset);
  }
  ScopedEnv a("YOLO_ASSETS_URL", "http://mirror.local/gh/"), t("YOLO_TORCHVISION_URL", "http://mirror.local/tv");
  CHECK(yolo::io::mirrored_url(asset) == "http://mirror.local/gh/v8.3.0/yolov8n.pt");
  CHECK(yolo::io::mirrored_url(torchvision) == "http://mirror.local/tv/resnet18-f37072fd.pth");
  CHECK(yolo::io::mirrored_url("https://example.com/x.zip") == "https://example.com/x.zip");
  CHECK(yolo::io::url_file_name("https://example.com/a/b/coco8.zip?dl=1#x") == "coco8.zip");
}

TEST_CASE("callers asking for the same file at once fetch it once", "[io][download]") {
  TestHttpServer server;
  TestHttpServer::Route slow{payload(100000)};
  slow.throttle_chunk = 10000;
  slow.throttle_ms = 20;
  server.serve("/f.bin", slow);
  const auto dir = fresh_dir("together");
  std::vector<std::string> errors(3);
  std::vector<std::thread> callers;
  for (size_t i = 0; i < errors.size(); ++i)
    callers.emplace_back([&, i] {
      errors[i] = yolo::test::error_of([&] { download_file({server.url() + "/f.bin", dir / "f.bin"}, quick()); });
    });
  for (auto& t : callers) t.join();
  for (const auto& e : errors) CHECK(e == "(no error)");
  CHECK(server.requests("/f.bin") == 1);
  CHECK(read_bytes(dir / "f.bin") == slow.body);
  fs::remove_all(dir);
}

TEST_CASE("weights by name resolve to the cache, then to the release URL", "[io][download][weights]") {
  TestHttpServer server;
  const std::string checkpoint = read_bytes(yolo::test::data_path("yolov8n_fdet.pt"));
  server.serve("/v8.3.0/yolov8n.pt", checkpoint);
  server.serve("/resnet18-f37072fd.pth", "not the real file");
  const auto dir = fresh_dir("weights");
  ScopedEnv assets("YOLO_ASSETS_URL", server.url()), cache("YOLO_WEIGHTS_DIR", (dir / "cache").string());
  ScopedEnv tv("YOLO_TORCHVISION_URL", server.url()), hub("TORCH_HOME", (dir / "torch").string());
  ScopedEnv online("YOLO_OFFLINE", nullptr);

  // The checkpoint reader resolves the name: Model("yolov8n.pt"), load() and pretrained= all go through it.
  const auto loaded = yolo::io::load_checkpoint("yolov8n.pt");
  CHECK(loaded.model_state().size() > 300);
  CHECK(read_bytes(dir / "cache" / "yolov8n.pt") == checkpoint);
  CHECK(yolo::io::resolve_weights("yolov8n.pt") == (dir / "cache" / "yolov8n.pt").string());
  CHECK(server.requests("/v8.3.0/yolov8n.pt") == 1);
  // A folder in the name is where the file goes, as Ultralytics does.
  CHECK(yolo::io::resolve_weights((dir / "here" / "yolov8n.pt").string()) == (dir / "here" / "yolov8n.pt").string());
  CHECK(fs::exists(dir / "here" / "yolov8n.pt"));
  // Names that are not published stay as they are, for the caller's "no such file" error.
  CHECK(yolo::io::resolve_weights("mine.pt") == "mine.pt");
  CHECK_THAT(yolo::test::error_of([] { yolo::io::load_checkpoint("mine.pt"); }), ContainsSubstring("mine.pt"));
  CHECK(server.requests("/v8.3.0/yolov8n.pt") == 2);
  // torchvision's file names carry the start of their SHA-256, which a wrong file fails.
  CHECK_THAT(yolo::test::error_of([] { yolo::io::torchvision_weights("resnet18"); }),
             ContainsSubstring("f37072fd was expected"));
  CHECK_FALSE(fs::exists(dir / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"));
  CHECK_THAT(yolo::test::error_of([] { yolo::io::torchvision_weights("resnet19"); }),
             ContainsSubstring("Did you mean 'resnet18'"));
  fs::remove_all(dir);
}

TEST_CASE("weights by name offline: the error names the URL and the folder", "[io][download][weights]") {
  TestHttpServer server;
  const auto dir = fresh_dir("weights_offline");
  ScopedEnv assets("YOLO_ASSETS_URL", server.url()), cache("YOLO_WEIGHTS_DIR", dir.string());
  ScopedEnv offline("YOLO_OFFLINE", "true");
  CHECK_THAT(yolo::test::error_of([] { yolo::io::load_checkpoint("yolo11n-cls.pt"); }),
             ContainsSubstring(server.url() + "/v8.3.0/yolo11n-cls.pt") && ContainsSubstring("put it in " + dir.string()));
  CHECK(server.total_requests() == 0);
  fs::remove_all(dir);
}
