// Safe extraction of dataset archives: good archives come out whole; zip-slip names, links, bombs
// and damaged data are refused with nothing written outside the target (nor inside it).
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "catch.h"
#include "helpers/download_fixtures.h"
#include "io/archive.h"

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using yolo::io::extract_zip;
using yolo::test::build_zip;
using yolo::test::read_bytes;
using yolo::test::ZipMember;

namespace {

/// outer/ holds the archive and the target folder; refusals must leave outer/ exactly so.
struct Sandbox {
  fs::path outer = fs::temp_directory_path() / ("yolo_archive_test_" + std::to_string(::getpid()));
  fs::path target = outer / "target";
  fs::path archive = outer / "a.zip";
  Sandbox() {
    fs::remove_all(outer);
    fs::create_directories(target);
  }
  ~Sandbox() { fs::remove_all(outer); }
  void write(const std::string& bytes) const { std::ofstream(archive, std::ios::binary) << bytes; }
  /// Every path under outer/, for "nothing was written" checks.
  std::vector<std::string> listing() const {
    std::vector<std::string> paths;
    for (const auto& entry : fs::recursive_directory_iterator(outer)) paths.push_back(entry.path().string());
    std::sort(paths.begin(), paths.end());
    return paths;
  }
};

}  // namespace

TEST_CASE("a zip of stored and deflate members is extracted whole", "[io][archive]") {
  Sandbox box;
  const std::string text(5000, 'x');
  box.write(build_zip({{"ds/", "", false, 040755},
                       {"ds/labels/a.txt", "0 0.5 0.5 0.1 0.1\n", true},
                       {"ds/images/a.bin", text, false},
                       {"./ds/images/b.bin", text + "y", true},
                       {"top.txt", "hello", true}}));
  const auto placed = extract_zip(box.archive, box.target);
  CHECK(placed == std::vector<std::string>{"ds", "top.txt"});
  CHECK(read_bytes(box.target / "ds/labels/a.txt") == "0 0.5 0.5 0.1 0.1\n");
  CHECK(read_bytes(box.target / "ds/images/a.bin") == text);
  CHECK(read_bytes(box.target / "ds/images/b.bin") == text + "y");
  CHECK(read_bytes(box.target / "top.txt") == "hello");
  // No staging folder is left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(box.target)) ++entries;
  CHECK(entries == 2);

  // A staging folder left by a killed process of this host goes; one of a live process stays.
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  const auto stale = box.target / (std::string(".yolo-extract-") + host + "-999999999-0");
  const auto live = box.target / (std::string(".yolo-extract-") + host + "-" + std::to_string(::getpid()) + "-999");
  fs::create_directories(stale / "half");
  fs::create_directories(live);

  // Extracting into a folder that exists merges: new files join, same-named files are replaced.
  box.write(build_zip({{"ds/images/c.bin", "c"}, {"top.txt", "again"}}));
  extract_zip(box.archive, box.target);
  CHECK(read_bytes(box.target / "ds/images/a.bin") == text);
  CHECK(read_bytes(box.target / "ds/images/c.bin") == "c");
  CHECK(read_bytes(box.target / "top.txt") == "again");
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
}

TEST_CASE("zip-slip names, links and special files are refused, nothing is written", "[io][archive]") {
  Sandbox box;
  const auto absolute = fs::temp_directory_path() / ("yolo_archive_abs_" + std::to_string(::getpid()));
  fs::remove(absolute);
  struct Case {
    const char* what;
    std::vector<ZipMember> members;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"parent folder", {{"ok.txt", "fine"}, {"../evil.txt", "pwned"}}, "points outside the target folder"},
      {"parent inside a path", {{"ds/ok.txt", "fine"}, {"ds/../../evil.txt", "pwned"}}, "points outside"},
      {"backslashes", {{"ok.txt", "fine"}, {"..\\evil.txt", "pwned"}}, "points outside"},
      {"absolute path", {{"ok.txt", "fine"}, {absolute.string(), "pwned"}}, "has an absolute path"},
      {"drive letter", {{"C:evil.txt", "pwned"}}, "has a drive letter"},
      {"symbolic link", {{"ok.txt", "fine"}, {"link", "/etc", false, 0120777}, {"link/evil.txt", "pwned"}},
       "is a symbolic link"},
      {"device file", {{"dev", "", false, 020644}}, "is a special file"},
      {"duplicate member", {{"a.txt", "one"}, {"a.txt", "two"}}, "appears twice"},
      {"file and folder", {{"a", "file"}, {"a/b.txt", "x"}}, "both a file and a folder"},
  };
  const auto before = box.listing();
  for (const auto& c : cases) {
    INFO(c.what);
    box.write(build_zip(c.members));
    const auto listing = box.listing();
    CHECK_THAT(yolo::test::error_of([&] { extract_zip(box.archive, box.target); }),
               ContainsSubstring(c.error) && ContainsSubstring("nothing was extracted"));
    CHECK(box.listing() == listing);  // target still empty, nothing beside it
    CHECK_FALSE(fs::exists(box.outer / "evil.txt"));
    CHECK_FALSE(fs::exists(absolute));
  }
  CHECK(fs::is_empty(box.target));
}

TEST_CASE("zip bombs are refused before or while writing, nothing is left", "[io][archive]") {
  Sandbox box;
  const std::string zeros(4 << 20, '\0');  // deflates about 1000:1
  const auto refused = [&](const std::vector<ZipMember>& members, const yolo::io::ExtractLimits& limits) {
    box.write(build_zip(members));
    const auto listing = box.listing();
    const auto error = yolo::test::error_of([&] { extract_zip(box.archive, box.target, limits); });
    CHECK(box.listing() == listing);
    CHECK(fs::is_empty(box.target));
    return error;
  };
  yolo::io::ExtractLimits limits;

  SECTION("sizes that add up past the limit") {
    limits.max_total_bytes = 6 << 20;
    CHECK_THAT(refused({{"a", zeros}, {"b", zeros}}, limits), ContainsSubstring("more than the limit of 6291456 bytes"));
  }
  SECTION("a declared expansion beyond the ratio limit") {
    // 3 GB declared in a few kB: refused from the headers, before any byte is inflated.
    CHECK_THAT(refused({{"huge", "tiny", true, 0100644, 3000000000u}}, limits), ContainsSubstring("zip bomb"));
  }
  SECTION("data that inflate past their declared size") {
    CHECK_THAT(refused({{"ok.txt", "fine"}, {"liar", zeros, true, 0100644, 1000u}}, limits),
               ContainsSubstring("decodes to more than the 1000 bytes it declares"));
  }
  SECTION("members sharing their compressed data") {
    ZipMember shared{"b", zeros};
    shared.same_data_as = 0;
    CHECK_THAT(refused({{"a", zeros}, shared}, limits), ContainsSubstring("overlap"));
  }
  SECTION("more members than the limit") {
    limits.max_entries = 3;
    CHECK_THAT(refused({{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}, limits),
               ContainsSubstring("4 members, more than the limit of 3"));
  }
}

TEST_CASE("damaged archives are errors that leave the target empty", "[io][archive]") {
  Sandbox box;
  auto good = build_zip({{"a.txt", std::string(10000, 'a') + "end"}});
  SECTION("not a zip") {
    box.write("<html>an error page</html>");
    CHECK_THAT(yolo::test::error_of([&] { extract_zip(box.archive, box.target); }),
               ContainsSubstring("not a zip archive"));
  }
  SECTION("corrupt deflate data") {
    good[40] = static_cast<char>(good[40] ^ 0x55);  // inside the deflate stream
    box.write(good);
    CHECK_THAT(yolo::test::error_of([&] { extract_zip(box.archive, box.target); }),
               ContainsSubstring("corrupt zip archive"));
  }
  CHECK(fs::is_empty(box.target));
}
