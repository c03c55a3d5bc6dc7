#pragma once
// The few protobuf wire-format primitives our TensorBoard writer needs (varints, fixed 32/64-bit values,
// length-delimited fields). The messages are tiny and fixed, so a generated-code dependency would buy nothing.
#include <cstdint>
#include <string>
#include <string_view>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loggers {

/// One protobuf message being built: fields are appended in the order called.
class ProtoMessage {
 public:
  /// int32, int64, uint32, uint64, bool and enum fields (negative values take ten bytes, as protobuf's int32).
  ProtoMessage& add_varint(int field, int64_t value);
  ProtoMessage& add_double(int field, double value);
  ProtoMessage& add_float(int field, float value);
  /// string and bytes fields.
  ProtoMessage& add_bytes(int field, std::string_view value);
  ProtoMessage& add_message(int field, const ProtoMessage& message) { return add_bytes(field, message.bytes()); }

  const std::string& bytes() const { return bytes_; }

 private:
  void put_key(int field, int wire_type);
  void put_varint(uint64_t value);
  std::string bytes_;
};

}  // namespace loggers
YOLO_END_NAMESPACE
