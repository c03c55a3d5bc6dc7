// Broken and hostile files: each must give a yolo::Error that says what is wrong, never a crash,
// a hang, a huge allocation or a call to anything the pickle names.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "catch.h"
#include "io/checkpoint.h"
#include "io/zip.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using yolo::io::PickleValue;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A zip archive laid out as torch.save does, with the given data.pkl and storages.
std::string archive_with(const std::string& pickle, const std::vector<std::pair<std::string, std::string>>& storages = {}) {
  yolo::io::ZipWriter zip;
  zip.add("archive/data.pkl", pickle);
  for (const auto& [key, bytes] : storages) zip.add("archive/data/" + key, bytes);
  zip.add("archive/version", "3\n");
  return zip.finish();
}

std::string error_of(const std::string& bytes, const std::string& name = "hostile.pt") {
  try {
    yolo::io::load_checkpoint_from_bytes(bytes, name);
  } catch (const yolo::Error& e) {
    return e.what();
  }
  return "<no error>";
}

void put32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
uint32_t get32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

/// A pickle of {"w": <tensor>} whose tensor record says what `spec` says, whatever the storage holds.
std::string pickle_with_tensor_spec(const yolo::io::TensorSpec& spec) {
  auto root = PickleValue::dict();
  root.set_item("w", torch::zeros({1}));
  return yolo::io::pickle(root, [&](const at::Tensor&) { return spec; });
}

yolo::io::TensorSpec float_spec(int64_t storage_numel, std::vector<int64_t> sizes, std::vector<int64_t> strides,
                                int64_t offset = 0) {
  yolo::io::TensorSpec spec;
  spec.storage = {"0", yolo::io::DType::Float32, "cpu", storage_numel};
  spec.sizes = std::move(sizes);
  spec.strides = std::move(strides);
  spec.storage_offset = offset;
  return spec;
}

/// BINUNICODE: opcode 'X', 4-byte length, UTF-8 bytes.
std::string text_op(const std::string& s) {
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out += static_cast<char>((s.size() >> (8 * i)) & 0xFF);
  return out + s;
}

}  // namespace

TEST_CASE("files that are not checkpoints are named and explained", "[io]") {
  CHECK_THAT(error_of(""), ContainsSubstring("hostile.pt: the file is empty"));
  std::mt19937 rng(1);
  std::string noise(4096, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  noise[0] = 'x';
  CHECK_THAT(error_of(noise),
             ContainsSubstring("not a PyTorch checkpoint (neither a zip archive nor torch.save's legacy format)"));
  CHECK_THAT(error_of(std::string("\x80\x02\x8a\x0a", 4) + "legacy magic"),
             ContainsSubstring("hostile.pt: the magic number: malformed pickle"));
  CHECK_THAT(error_of(std::string("\x80\x02K\x05.", 5)),
             ContainsSubstring("hostile.pt: not a PyTorch checkpoint: it starts with a pickle (int) but not with the magic"));
  std::string tar(1024, '\0');
  tar.replace(0, 8, "storages");
  tar.replace(257, 6, std::string("ustar\0", 6));
  CHECK_THAT(error_of(tar), ContainsSubstring("hostile.pt: a tar archive: PyTorch's first checkpoint format"));

  yolo::io::ZipWriter zip;
  zip.add("archive/something.txt", "hello");
  CHECK_THAT(error_of(zip.finish()), ContainsSubstring("not a PyTorch checkpoint (no data.pkl in the zip archive)"));

  CHECK_THAT(error_of(archive_with("not a pickle")), ContainsSubstring("malformed pickle"));
  CHECK_THROWS_WITH(yolo::io::load_checkpoint("/nonexistent/x.pt"), ContainsSubstring("/nonexistent/x.pt: cannot open"));
}

TEST_CASE("truncated copies of the reference checkpoint fail cleanly", "[io]") {
  const std::string whole = read_bytes(yolo::test::data_path("yolov8n_fdet.pt"));
  REQUIRE(whole.size() > 1'000'000);
  const auto dir = fs::temp_directory_path() / ("yolo_io_truncated_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const size_t keep : {size_t{3}, size_t{30}, size_t{1000}, whole.size() / 2, whole.size() - 23, whole.size() - 1}) {
    const auto path = (dir / ("cut_" + std::to_string(keep) + ".pt")).string();
    std::ofstream(path, std::ios::binary).write(whole.data(), static_cast<std::streamsize>(keep));
    INFO("kept " << keep << " bytes");
    CHECK_THROWS_WITH(yolo::io::load_checkpoint(path), ContainsSubstring(path));
  }
  fs::remove_all(dir);
}

TEST_CASE("damaged zip structures are caught", "[io]") {
  const std::string good = archive_with(std::string("\x80\x02}q\x00.", 6), {{"0", "abcd"}});
  REQUIRE(yolo::io::load_checkpoint_from_bytes(good).root().dict_items().empty());
  const size_t end_record = good.size() - 22;
  const size_t directory = get32(good, end_record + 16);

  SECTION("central directory past the end") {
    auto bad = good;
    put32(bad, end_record + 16, 0x7FFFFFF0);
    CHECK_THAT(error_of(bad), ContainsSubstring("past the end"));
  }
  SECTION("an entry pointing outside the file") {
    auto bad = good;
    put32(bad, directory + 42, 0x7FFFFFF0);
    CHECK_THAT(error_of(bad), ContainsSubstring("past the end"));
  }
  SECTION("an entry pointing at something that is not a local header") {
    auto bad = good;
    put32(bad, directory + 42, 7);
    CHECK_THAT(error_of(bad), ContainsSubstring("holds no local header"));
  }
  SECTION("an entry larger than the file") {
    auto bad = good;
    put32(bad, directory + 20, 0x10000000);
    put32(bad, directory + 24, 0x10000000);
    CHECK_THAT(error_of(bad), ContainsSubstring("past the end"));
  }
  SECTION("an entry count the directory cannot hold") {
    auto bad = good;
    bad[end_record + 10] = '\xff';
    bad[end_record + 11] = '\xff';
    CHECK_THAT(error_of(bad), ContainsSubstring("cannot fit"));
  }
  SECTION("a compressed entry") {
    auto bad = good;
    bad[directory + 10] = 8;  // deflate
    CHECK_THAT(error_of(bad), ContainsSubstring("is compressed (zip method 8)"));
  }
  SECTION("a flipped byte in the pickle") {
    auto bad = good;
    bad[bad.find("\x80\x02}") + 2] = ']';
    CHECK_THAT(error_of(bad), ContainsSubstring("fails its CRC-32 check"));
  }
}

TEST_CASE("ZIP64 extra fields give the real sizes", "[io]") {
  // One stored entry whose central record says 0xFFFFFFFF and keeps its sizes in a ZIP64 extra field.
  const std::string pickle("\x80\x02K\x05.", 5);  // the int 5
  const std::string name = "archive/data.pkl";
  std::string zip;
  const auto u16 = [&](uint32_t v) { zip += {static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)}; };
  const auto u32 = [&](uint32_t v) { u16(v & 0xFFFF), u16(v >> 16); };
  const auto u64 = [&](uint64_t v) { u32(static_cast<uint32_t>(v)), u32(static_cast<uint32_t>(v >> 32)); };
  u32(0x04034b50), u16(45), u16(0), u16(0), u16(0), u16(0), u32(yolo::io::crc32(pickle)), u32(pickle.size()),
      u32(pickle.size()), u16(name.size()), u16(0);
  zip += name + pickle;
  const auto directory = static_cast<uint32_t>(zip.size());
  u32(0x02014b50), u16(45), u16(45), u16(0), u16(0), u16(0), u16(0), u32(yolo::io::crc32(pickle)), u32(0xFFFFFFFF),
      u32(0xFFFFFFFF), u16(name.size()), u16(20), u16(0), u16(0), u16(0), u32(0), u32(0);
  zip += name;
  u16(1), u16(16), u64(pickle.size()), u64(pickle.size());
  const auto directory_size = static_cast<uint32_t>(zip.size() - directory);
  u32(0x06054b50), u16(0), u16(0), u16(1), u16(1), u32(directory_size), u32(directory), u16(0);
  CHECK(yolo::io::load_checkpoint_from_bytes(zip).root().as_int() == 5);
}

TEST_CASE("pickled calls are recorded, never executed", "[io]") {
  const auto marker = fs::temp_directory_path() / ("yolo_io_pwned_" + std::to_string(::getpid()));
  fs::remove(marker);
  const std::string command = "touch " + marker.string();
  // {'model': os.system('touch ...'), 'x': posix.system(...) via STACK_GLOBAL, 'e': builtins.eval(...)}
  const auto binunicode = text_op;
  std::string pkl = "\x80\x02}(" + binunicode("model") + "cos\nsystem\n";
  pkl += binunicode(command) + "\x85R";
  pkl += binunicode("x") + binunicode("posix") + binunicode("system") + "\x93" + binunicode(command) + "\x85R";
  pkl += binunicode("e") + "c__builtin__\neval\n" + binunicode("__import__('os').system('" + command + "')") + "\x85R";
  pkl += "u.";
  const auto checkpoint = yolo::io::load_checkpoint_from_bytes(archive_with(pkl));
  CHECK_FALSE(fs::exists(marker));
  const auto& call = checkpoint.find("model")->as_object();
  CHECK(call.module == "os");
  CHECK(call.name == "system");
  REQUIRE(call.args.size() == 1);
  CHECK(call.args[0].as_string() == command);
  CHECK(checkpoint.find("x")->as_object().module == "posix");
  CHECK(checkpoint.find("e")->type_name() == "object __builtin__.eval");
  CHECK_THAT(error_of(archive_with(pkl)), ContainsSubstring("<no error>"));
  CHECK_THROWS_WITH(checkpoint.model_state(), ContainsSubstring("object os.system, not a torch.nn.Module"));
}

TEST_CASE("hostile pickles give errors, not crashes", "[io]") {
  const auto fails_with = [](const std::string& body, const std::string& message) {
    INFO(message);
    CHECK_THAT(error_of(archive_with(std::string("\x80\x02", 2) + body)), ContainsSubstring(message));
  };
  fails_with(std::string(200'000, '(') + std::string(200'000, 'l') + ".", "nests deeper than");
  // Deep garbage that is dropped before STOP must also be freed without deep recursion.
  CHECK(yolo::io::load_checkpoint_from_bytes(
            archive_with("\x80\x02" + std::string(200'000, ']') + std::string(199'999, 'a') + "0N."))
            .root()
            .is_none());
  fails_with(std::string("]q\x00h\x00" "a.", 7), "reference cycle");
  fails_with(std::string("}q\x00h\x00h\x00s.", 9), "reference cycle");
  fails_with("h\x05.", "never stored");
  fails_with("j\xff\xff\xff\x7f.", "never stored");
  fails_with("X\xff\xff\xff\xff", "more bytes than the data holds");
  fails_with(std::string("\x8d\xff\xff\xff\xff\xff\xff\xff\xff", 9), "more bytes than the data holds");
  fails_with("]", "no STOP opcode");
  fails_with("\xff", "unsupported opcode 0xff");
  fails_with("0.", "pops from an empty stack");
  fails_with("]e.", "no MARK");
  fails_with("(N.", "left on the stack");
  fails_with("NN.", "left on the stack");
  fails_with("K\x01)R.", "only module-level callables");
  fails_with("ctorch._utils\n_rebuild_tensor_v2\n)R.", "not (storage, offset, size, stride");
  fails_with("(" + text_op("storage") + "cos\nsystem\n" + text_op("0") + text_op("cpu") + "K\x01tQ.",
             "unknown storage type os.system");
  // A dict with many keys stays linear (it would take minutes if each SETITEM searched the dict).
  std::string many = "}(";
  for (int i = 0; i < 200'000; ++i) many += "J" + std::string(reinterpret_cast<const char*>(&i), 4) + "N";
  const auto dict = yolo::io::unpickle(std::string("\x80\x02", 2) + many + "u.", "many");
  CHECK(dict.dict_items().size() == 200'000);
}

TEST_CASE("tensor records are checked against their storage", "[io]") {
  const std::string four_floats(16, '\0');
  const auto load = [&](const yolo::io::TensorSpec& spec, const std::string& storage) {
    return yolo::io::load_checkpoint_from_bytes(archive_with(pickle_with_tensor_spec(spec), {{"0", storage}}), "t.pt");
  };
  CHECK(load(float_spec(4, {2, 2}, {1, 2}), four_floats).model_state()[0].second.sizes() ==
        torch::IntArrayRef({2, 2}));
  CHECK_THROWS_WITH(load(float_spec(4, {10}, {1}), four_floats), ContainsSubstring("reaches element 9"));
  CHECK_THROWS_WITH(load(float_spec(4, {2}, {1}, 3), four_floats), ContainsSubstring("reaches element 4"));
  CHECK_THROWS_WITH(load(float_spec(4, {2}, {-1}), four_floats), ContainsSubstring("negative"));
  CHECK_THROWS_WITH(load(float_spec(100, {4}, {1}), four_floats), ContainsSubstring("has only 16 bytes"));
  CHECK_THROWS_WITH(load(float_spec(4, {1 << 20, 1 << 20}, {0, 0}), four_floats),
                    ContainsSubstring("over a 4-element storage"));
  CHECK_THROWS_WITH(load(float_spec(4, {int64_t{1} << 62, 8}, {1, 1}), four_floats), ContainsSubstring("overflows"));
  CHECK_THROWS_WITH(yolo::io::load_checkpoint_from_bytes(archive_with(pickle_with_tensor_spec(float_spec(4, {4}, {1}))),
                                                         "t.pt"),
                    ContainsSubstring("has no 'archive/data/0'"));
}

TEST_CASE("CRC-32 matches zlib's on short and long inputs", "[io]") {
  CHECK(yolo::io::crc32("") == 0u);
  CHECK(yolo::io::crc32("123456789") == 0xCBF43926u);  // the standard check value
  std::string bytes;
  for (int i = 0; i < 1001; ++i) bytes.push_back(static_cast<char>((i * 7 + 3) % 256));
  CHECK(yolo::io::crc32(bytes) == 0xB1133F7Eu);  // Python: zlib.crc32(bytes((i*7+3)%256 for i in range(1001)))
}

// ---- the format torch.save wrote before PyTorch 1.6 ----------------------------------------------

namespace {

std::string int64_le(int64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xFF);
  return out;
}

/// BININT (int32) or LONG1 with 8 bytes.
std::string int_op(int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX) return std::string("\x8a\x08", 2) + int64_le(v);
  return "J" + int64_le(v).substr(0, 4);
}

/// Magic number, protocol version and system info, as torch.save writes them before the object.
std::string legacy_header(const std::string& little_endian_op = "\x88") {
  std::string out("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  out += std::string("\x80\x02M\xe9\x03.", 6);
  out += "\x80\x02}(" + text_op("protocol_version") + "M\xe9\x03" + text_op("little_endian") + little_endian_op + "u.";
  return out;
}

/// _rebuild_tensor_v2 over a legacy persistent id ('storage', <storage type>, key, 'cpu', numel, view).
std::string legacy_tensor(const std::string& key, int64_t numel, int64_t offset, const std::vector<int64_t>& sizes,
                          const std::vector<int64_t>& strides, const std::string& view = "N",
                          const std::string& storage_type = "ctorch\nFloatStorage\n") {
  std::string out = "ctorch._utils\n_rebuild_tensor_v2\n((" + text_op("storage") + storage_type + text_op(key) +
                    text_op("cpu") + int_op(numel) + view + "tQ" + int_op(offset) + "(";
  for (const auto s : sizes) out += int_op(s);
  out += "t(";
  for (const auto s : strides) out += int_op(s);
  return out + "t\x89" + "ccollections\nOrderedDict\n)RtR";
}

/// A storage's record after the key list: element count (int64, little-endian) and raw bytes.
std::string storage_record(int64_t count, const std::vector<float>& values) {
  return int64_le(count) + std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

/// A whole legacy file: header, the object's pickle body (PROTO and STOP added), the key list, the storages.
std::string legacy_file(const std::string& object, const std::vector<std::string>& keys, const std::string& storages,
                        const std::string& header = legacy_header()) {
  std::string out = header + "\x80\x02" + object + ".\x80\x02(";
  for (const auto& key : keys) out += text_op(key);
  return out + "l." + storages;
}

/// {'w': tensor} as a pickle body.
std::string dict_w(const std::string& tensor) { return "}" + text_op("w") + tensor + "s"; }

}  // namespace

TEST_CASE("legacy .pth: torch.save's format before 1.6 is checked against the file", "[io][legacy]") {
  const std::vector<float> four = {1, 2, 3, 4};
  const std::string w4 = dict_w(legacy_tensor("0", 4, 0, {4}, {1}));
  const auto w_of = [](const std::string& bytes) {
    return yolo::io::load_checkpoint_from_bytes(bytes, "legacy.pth").model_state().at(0).second;
  };
  REQUIRE(torch::equal(w_of(legacy_file(w4, {"0"}, storage_record(4, four))), torch::tensor({1.0f, 2.0f, 3.0f, 4.0f})));

  SECTION("bytes after the last storage are ignored, as torch.load does, with a warning") {
    std::vector<std::string> warnings;
    yolo::set_log_sink([&](yolo::LogLevel level, std::string_view line) {
      if (level == yolo::LogLevel::Warning) warnings.emplace_back(line);
    });
    const auto w = w_of(legacy_file(w4, {"0"}, storage_record(4, four) + "extra"));
    yolo::set_log_sink({});
    CHECK(torch::equal(w, torch::tensor({1.0f, 2.0f, 3.0f, 4.0f})));
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], ContainsSubstring("legacy.pth: ignoring 5 bytes after the last storage"));
  }
  SECTION("storage views, which older torch versions wrote: a slice of the storage, tensors offset within it") {
    // View (key, offset 1, 2 elements) = elements 2, 3 of the storage; the tensor starts at its element 1.
    const std::string view = "(" + text_op("view") + int_op(1) + int_op(2) + "t";
    CHECK(torch::equal(w_of(legacy_file(dict_w(legacy_tensor("0", 4, 1, {1}, {1}, view)), {"0"}, storage_record(4, four))),
                       torch::tensor({3.0f})));
    CHECK_THAT(error_of(legacy_file(dict_w(legacy_tensor("0", 4, 0, {3}, {1}, view)), {"0"}, storage_record(4, four))),
               ContainsSubstring("reaches element 2 of storage '0' (a view from element 1), which holds 2"));
    const std::string past = "(" + text_op("view") + int_op(3) + int_op(2) + "t";
    CHECK_THAT(error_of(legacy_file(dict_w(legacy_tensor("0", 4, 0, {1}, {1}, past)), {"0"}, storage_record(4, four))),
               ContainsSubstring("a view of elements [3, +2) of storage '0', which holds 4"));
  }
  SECTION("header pickles") {
    CHECK_THAT(error_of(legacy_file(w4, {"0"}, storage_record(4, four), legacy_header("\x89"))),
               ContainsSubstring("hostile.pt: written on a big-endian machine (little_endian=False)"));
    CHECK_THAT(error_of(legacy_file(w4, {"0"}, storage_record(4, four), legacy_header("N"))),
               ContainsSubstring("does not say little_endian=True or False"));
    std::string wrong_protocol = legacy_file(w4, {"0"}, storage_record(4, four));
    wrong_protocol[15 + 3] = '\xea';  // 1002
    CHECK_THAT(error_of(wrong_protocol), ContainsSubstring("has protocol version 1002, where 1001 was expected"));
    std::string wrong_magic = legacy_file(w4, {"0"}, storage_record(4, four));
    wrong_magic[6] = 'x';
    CHECK_THAT(error_of(wrong_magic), ContainsSubstring("not with the magic number"));
  }
  SECTION("lying counts and sizes") {
    const std::string lying = legacy_file(w4, {"0"}, storage_record(5, four));
    CHECK_THAT(error_of(lying), ContainsSubstring("storage '0' at byte " + std::to_string(lying.size() - 24) +
                                                  " says it holds 5 elements, but the object declares 4"));
    // A size the file cannot hold, in the object and the record alike: refused before anything is allocated.
    for (const int64_t huge : {int64_t{1000}, int64_t{1} << 40, int64_t{1} << 62, INT64_MAX}) {
      INFO(huge);
      const std::string w = dict_w(legacy_tensor("0", huge, 0, {4}, {1}));
      CHECK_THAT(error_of(legacy_file(w, {"0"}, storage_record(huge, four))),
                 ContainsSubstring("truncated checkpoint: storage '0' needs " + std::to_string(huge) + " float32"));
    }
    CHECK_THAT(error_of(legacy_file(w4, {"0"}, "")), ContainsSubstring("storage '0' should start at byte"));
    CHECK_THAT(error_of(legacy_file(dict_w(legacy_tensor("0", 4, 0, {10}, {1})), {"0"}, storage_record(4, four))),
               ContainsSubstring("reaches element 9 of storage '0', which holds 4"));
    CHECK_THAT(error_of(legacy_file(dict_w(legacy_tensor("0", -1, 0, {1}, {1})), {"0"}, storage_record(4, four))),
               ContainsSubstring("negative storage size"));
  }
  SECTION("the key list and the storages the object names must agree") {
    CHECK_THAT(error_of(legacy_file(w4, {"0", "0"}, storage_record(4, four) + storage_record(4, four))),
               ContainsSubstring("storage '0' is listed twice"));
    CHECK_THAT(error_of(legacy_file(w4, {"0", "1"}, storage_record(4, four) + storage_record(4, four))),
               ContainsSubstring("the storage key list names '1', which the object never uses"));
    CHECK_THAT(error_of(legacy_file(w4, {}, storage_record(4, four))),
               ContainsSubstring("the object uses storage '0', which the storage key list does not name"));
    const std::string two_types = "(" + legacy_tensor("0", 4, 0, {4}, {1}) +
                                  legacy_tensor("0", 4, 0, {4}, {1}, "N", "ctorch\nHalfStorage\n") + "l";
    CHECK_THAT(error_of(legacy_file(two_types, {"0"}, storage_record(4, four))),
               ContainsSubstring("storage '0' is named as 4 float32 and as 4 float16 elements"));
  }
  SECTION("hostile globals are recorded, never called, and refused where torch.save writes plain values") {
    const auto marker = fs::temp_directory_path() / ("yolo_io_legacy_pwned_" + std::to_string(::getpid()));
    fs::remove(marker);
    const std::string system_call = "cos\nsystem\n" + text_op("touch " + marker.string()) + "\x85R";
    const auto checkpoint =
        yolo::io::load_checkpoint_from_bytes(legacy_file("}" + text_op("model") + system_call + "s", {}, ""));
    CHECK_FALSE(fs::exists(marker));
    CHECK(checkpoint.find("model")->type_name() == "object os.system");
    CHECK_THROWS_WITH(checkpoint.model_state(), ContainsSubstring("object os.system, not a torch.nn.Module"));
    // The key list as a call.
    std::string keys_call = legacy_header() + "\x80\x02" + w4 + ".\x80\x02" + system_call + "." + storage_record(4, four);
    CHECK_THAT(error_of(keys_call), ContainsSubstring("the storage key list is a object os.system, not a list"));
    CHECK_FALSE(fs::exists(marker));
    // A storage type that is not torch's.
    CHECK_THAT(error_of(legacy_file(dict_w(legacy_tensor("0", 4, 0, {4}, {1}, "N", "cos\nsystem\n")), {"0"},
                                    storage_record(4, four))),
               ContainsSubstring("unknown storage type os.system"));
  }
}

TEST_CASE("legacy .pth: every truncation of a torch.save file is refused with its name", "[io][legacy]") {
  const std::string whole = read_bytes(yolo::test::data_path("legacy_pth/state_dict_legacy.pth"));
  REQUIRE(whole.size() > 1000);
  REQUIRE_NOTHROW(yolo::io::load_checkpoint_from_bytes(whole, "cut.pth"));
  size_t refused = 0;
  for (size_t keep = 0; keep < whole.size(); ++keep) {
    const std::string error = error_of(whole.substr(0, keep), "cut.pth");
    if (error.rfind("cut.pth: ", 0) == 0) ++refused;
    else FAIL_CHECK("kept " << keep << " bytes: " << error);
  }
  CHECK(refused == whole.size());
  CHECK_THAT(error_of(whole.substr(0, whole.size() - 1), "cut.pth"),
             ContainsSubstring("truncated checkpoint: storage '"));
}
