#include "export/onnx_metadata.h"

#include <fstream>
#include <sstream>

#include "export/python_literal.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {
namespace {

// Protobuf wire format: each field is a varint key (number << 3 | wire type), then its payload.
constexpr int kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;
constexpr uint64_t kModelMetadataProps = 14;   // ModelProto.metadata_props
constexpr uint64_t kEntryKey = 1, kEntryValue = 2;  // StringStringEntryProto

class WireReader {
 public:
  WireReader(std::istream& in, std::string path) : in_(in), path_(std::move(path)) {
    in_.seekg(0, std::ios::end);
    size_ = static_cast<uint64_t>(in_.tellg());
    in_.seekg(0, std::ios::beg);
  }

  bool at_end() { return in_.peek() == std::char_traits<char>::eof(); }

  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const int byte = in_.get();
      YOLO_CHECK(byte != std::char_traits<char>::eof(), "{}: truncated ONNX file", path_);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    YOLO_FAIL("{}: not an ONNX file (malformed protobuf varint)", path_);
  }

  std::string bytes(uint64_t size) {
    YOLO_CHECK(size < (uint64_t{1} << 31), "{}: not an ONNX file (a field of {} bytes)", path_, size);
    std::string data(size, '\0');
    YOLO_CHECK(in_.read(data.data(), static_cast<std::streamsize>(size)), "{}: truncated ONNX file", path_);
    return data;
  }

  void skip(int wire_type) {
    uint64_t size = 0;
    switch (wire_type) {
      case kVarint: varint(); return;
      case kFixed64: size = 8; break;
      case kFixed32: size = 4; break;
      case kLengthDelimited: size = varint(); break;
      default: YOLO_FAIL("{}: not an ONNX file (protobuf wire type {})", path_, wire_type);
    }
    const auto position = static_cast<uint64_t>(in_.tellg());
    YOLO_CHECK(in_ && size <= size_ - position, "{}: not an ONNX file, or a truncated one", path_);
    in_.seekg(static_cast<std::streamoff>(size), std::ios::cur);
  }

 private:
  std::istream& in_;
  std::string path_;
  uint64_t size_ = 0;
};

std::pair<std::string, std::string> read_entry(const std::string& data, const std::string& path) {
  std::istringstream in(data);
  WireReader reader(in, path);
  std::pair<std::string, std::string> entry;
  while (!reader.at_end()) {
    const auto key = reader.varint();
    if ((key & 7) != kLengthDelimited) {
      reader.skip(static_cast<int>(key & 7));
      continue;
    }
    const auto text = reader.bytes(reader.varint());
    if ((key >> 3) == kEntryKey) entry.first = text;
    if ((key >> 3) == kEntryValue) entry.second = text;
  }
  return entry;
}

const std::string& required(const OnnxMetadata& metadata, const std::string& key, const std::string& path) {
  const auto found = metadata.props.find(key);
  YOLO_CHECK(found != metadata.props.end(),
             "{}: the ONNX model has no '{}' metadata; export it with yolocpp or Ultralytics (yolo export "
             "format=onnx) so that it names its task, classes and input size",
             path, key);
  return found->second;
}

}  // namespace

OnnxMetadata read_onnx_metadata(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  YOLO_CHECK(in, "{}: cannot open the ONNX file", path);
  WireReader reader(in, path);
  OnnxMetadata metadata;
  while (!reader.at_end()) {
    const auto key = reader.varint();
    const int wire_type = static_cast<int>(key & 7);
    if ((key >> 3) == kModelMetadataProps && wire_type == kLengthDelimited) {
      metadata.props.insert(read_entry(reader.bytes(reader.varint()), path));
    } else {
      reader.skip(wire_type);  // the graph, opsets, producer...
    }
  }
  try {
    metadata.task = required(metadata, "task", path);
    metadata.names = parse_names_literal(required(metadata, "names", path));
    metadata.imgsz = parse_int_list_literal(required(metadata, "imgsz", path));
    if (metadata.imgsz.size() == 1) metadata.imgsz.push_back(metadata.imgsz.front());
    if (metadata.props.count("stride")) metadata.stride = parse_int_list_literal(metadata.props["stride"]).at(0);
    if (metadata.props.count("batch")) metadata.batch = parse_int_list_literal(metadata.props["batch"]).at(0);
    if (metadata.props.count("args")) {
      const auto args = parse_flat_dict_literal(metadata.props["args"]);
      metadata.dynamic = args.count("dynamic") && args.at("dynamic") == "True";
      metadata.half = args.count("half") && args.at("half") == "True";
    }
  } catch (const Error& e) {
    YOLO_FAIL("{}: unreadable metadata: {}", path, e.what());
  }
  YOLO_CHECK(metadata.imgsz.size() == 2, "{}: metadata imgsz must be [h, w]", path);
  return metadata;
}

}  // namespace exporter
YOLO_END_NAMESPACE
