#include "loggers/protobuf.h"

#include <cstring>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loggers {
namespace {
enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

template <typename T>
void put_little_endian(std::string& out, T bits) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}
template <typename Bits, typename Float>
Bits bits_of(Float value) {
  static_assert(sizeof(Bits) == sizeof(Float), "a float's bits in an integer of its size");
  Bits bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}
}  // namespace

void ProtoMessage::put_varint(uint64_t value) {
  for (; value >= 0x80; value >>= 7) bytes_.push_back(static_cast<char>((value & 0x7F) | 0x80));
  bytes_.push_back(static_cast<char>(value));
}

void ProtoMessage::put_key(int field, int wire_type) { put_varint((static_cast<uint64_t>(field) << 3) | wire_type); }

ProtoMessage& ProtoMessage::add_varint(int field, int64_t value) {
  put_key(field, kVarint);
  put_varint(static_cast<uint64_t>(value));
  return *this;
}

ProtoMessage& ProtoMessage::add_double(int field, double value) {
  put_key(field, kFixed64);
  put_little_endian(bytes_, bits_of<uint64_t>(value));
  return *this;
}

ProtoMessage& ProtoMessage::add_float(int field, float value) {
  put_key(field, kFixed32);
  put_little_endian(bytes_, bits_of<uint32_t>(value));
  return *this;
}

ProtoMessage& ProtoMessage::add_bytes(int field, std::string_view value) {
  put_key(field, kLengthDelimited);
  put_varint(value.size());
  bytes_.append(value.data(), value.size());
  return *this;
}

}  // namespace loggers
YOLO_END_NAMESPACE
