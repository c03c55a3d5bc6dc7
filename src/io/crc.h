#pragma once
// Reflected table-driven CRC-32 checksums: one slicing-by-8 routine for every polynomial we need.
#include <cstdint>
#include <string_view>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41), the checksum of TFRecord files (TensorBoard events).
uint32_t crc32c(std::string_view data);

/// TFRecord's masked form of a CRC-32C: rotated and offset so that a CRC of data holding CRCs stays strong.
uint32_t masked_crc32c(std::string_view data);

}  // namespace io
YOLO_END_NAMESPACE
