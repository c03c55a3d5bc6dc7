#pragma once
// The zip container of PyTorch checkpoints and of downloaded datasets: every offset and size is
// checked against the buffer, so a truncated or hostile file gives a yolo::Error. Checkpoints read
// stored entries in place; dataset archives stream stored or deflate entries out.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

/// One member of an archive, as its central directory describes it.
struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;  ///< where the member's bytes start in the archive
  uint64_t size = 0;         ///< uncompressed
  uint32_t crc32 = 0;
  uint16_t method = 0;           ///< 0 stored, 8 deflate
  uint64_t compressed_size = 0;  ///< bytes at data_offset
  uint16_t flags = 0;            ///< general purpose bits (bit 0: encrypted)
  uint32_t unix_mode = 0;        ///< st_mode when a Unix tool wrote the archive, else 0
};

/// Reads a zip archive held in memory. `source_name` (usually the file path) prefixes every error.
class ZipReader {
 public:
  ZipReader(std::shared_ptr<const std::string> bytes, std::string source_name);
  /// Reads `bytes`, which stay valid while `owner` lives (e.g. a memory-mapped file).
  ZipReader(std::shared_ptr<const void> owner, std::string_view bytes, std::string source_name);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  /// The entry called `name`, or nullptr.
  const ZipEntry* find(std::string_view name) const;
  /// The bytes of a stored entry, in place, after checking its CRC-32.
  std::string_view read(const ZipEntry& entry) const;
  /// Streams a stored or deflate entry to `write` in chunks; throws when the data decode to more or
  /// fewer bytes than the entry declares (so a declared size bounds what a hostile archive can
  /// produce) or fail the CRC-32 check.
  void extract(const ZipEntry& entry, const std::function<void(std::string_view)>& write) const;
  const std::string& source_name() const { return source_name_; }

 private:
  std::shared_ptr<const void> owner_;
  std::string_view bytes_;
  std::string source_name_;
  std::vector<ZipEntry> entries_;
};

/// Builds an archive in memory the way torch.save lays it out: stored entries whose data start on
/// a 64-byte boundary (padding goes in an extra field), so that readers may map tensors in place.
class ZipWriter {
 public:
  void add(const std::string& name, std::string_view data);
  /// Appends the central directory and returns the archive; the writer is empty afterwards.
  std::string finish();

 private:
  std::string out_;
  std::vector<ZipEntry> written_;
};

/// CRC-32 (ISO 3309, as zip uses it) of `data`; pass the CRC of the bytes before `data` to continue
/// a running checksum (crc32(b, crc32(a)) == crc32(a + b)).
uint32_t crc32(std::string_view data, uint32_t previous = 0);

/// True when `bytes` start with the zip local-header signature "PK\3\4".
bool looks_like_zip(std::string_view bytes);

}  // namespace io
YOLO_END_NAMESPACE
