#pragma once
// Test-side decoders for what the TensorBoard writer produces: TFRecord frames (checking both CRCs) and
// protobuf wire-format messages, written independently of the encoder they check.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "io/crc.h"
#include "yolo/utils/error.h"

namespace yolo::test {

struct ProtoField {
  int number = 0;
  int wire_type = 0;
  uint64_t varint = 0;  ///< wire types 0, 1 (fixed64 bits), 5 (fixed32 bits)
  std::string bytes;    ///< wire type 2

  double as_double() const {
    double d;
    std::memcpy(&d, &varint, sizeof d);
    return d;
  }
  float as_float() const {
    const auto bits = static_cast<uint32_t>(varint);
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
};

inline uint64_t read_varint(std::string_view data, size_t& at) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    YOLO_CHECK(at < data.size(), "truncated varint");
    const auto byte = static_cast<unsigned char>(data[at++]);
    value |= uint64_t{byte & 0x7Fu} << shift;
    if (!(byte & 0x80)) return value;
  }
  YOLO_FAIL("varint longer than 10 bytes");
}

inline uint64_t read_little_endian(std::string_view data, size_t& at, int bytes) {
  YOLO_CHECK(at + bytes <= data.size(), "truncated fixed-width field");
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= uint64_t{static_cast<unsigned char>(data[at++])} << (8 * i);
  return value;
}

inline std::vector<ProtoField> decode_message(std::string_view data) {
  std::vector<ProtoField> fields;
  for (size_t at = 0; at < data.size();) {
    const uint64_t key = read_varint(data, at);
    ProtoField f;
    f.number = static_cast<int>(key >> 3);
    f.wire_type = static_cast<int>(key & 7);
    if (f.wire_type == 0) {
      f.varint = read_varint(data, at);
    } else if (f.wire_type == 1) {
      f.varint = read_little_endian(data, at, 8);
    } else if (f.wire_type == 5) {
      f.varint = read_little_endian(data, at, 4);
    } else if (f.wire_type == 2) {
      const uint64_t n = read_varint(data, at);
      YOLO_CHECK(at + n <= data.size(), "length-delimited field runs past the message");
      f.bytes = std::string(data.substr(at, n));
      at += n;
    } else {
      YOLO_FAIL("unexpected wire type {}", f.wire_type);
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

/// The fields numbered `number`, in order.
inline std::vector<ProtoField> fields_of(const std::vector<ProtoField>& message, int number) {
  std::vector<ProtoField> out;
  for (const auto& f : message)
    if (f.number == number) out.push_back(f);
  return out;
}

/// The records of a TFRecord file, each frame's two masked CRC-32C checked.
inline std::vector<std::string> read_tfrecords(std::string_view file) {
  std::vector<std::string> records;
  for (size_t at = 0; at < file.size();) {
    YOLO_CHECK(at + 12 <= file.size(), "truncated record header at {}", at);
    const uint64_t length = read_little_endian(file, at, 8);
    const auto length_crc = static_cast<uint32_t>(read_little_endian(file, at, 4));
    YOLO_CHECK(length_crc == io::masked_crc32c(file.substr(at - 12, 8)), "bad length CRC at {}", at - 12);
    YOLO_CHECK(at + length + 4 <= file.size(), "truncated record at {}", at);
    records.emplace_back(file.substr(at, length));
    at += length;
    const auto data_crc = static_cast<uint32_t>(read_little_endian(file, at, 4));
    YOLO_CHECK(data_crc == io::masked_crc32c(records.back()), "bad data CRC in record {}", records.size() - 1);
  }
  return records;
}

}  // namespace yolo::test
