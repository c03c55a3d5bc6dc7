#pragma once
// The zip container of PyTorch checkpoints: stored (uncompressed) entries only, every offset and
// size checked against the buffer, so a truncated or hostile file gives a yolo::Error.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace yolo::io {

/// One member of an archive, as its central directory describes it.
struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;  ///< where the member's bytes start in the archive
  uint64_t size = 0;
  uint32_t crc32 = 0;
};

/// Reads a zip archive held in memory. `source_name` (usually the file path) prefixes every error.
class ZipReader {
 public:
  ZipReader(std::shared_ptr<const std::string> bytes, std::string source_name);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  /// The entry called `name`, or nullptr.
  const ZipEntry* find(std::string_view name) const;
  /// The bytes of an entry, after checking its CRC-32.
  std::string_view read(const ZipEntry& entry) const;
  const std::string& source_name() const { return source_name_; }

 private:
  std::shared_ptr<const std::string> bytes_;
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

/// CRC-32 (ISO 3309, as zip uses it) of `data`.
uint32_t crc32(std::string_view data);

/// True when `bytes` start with the zip local-header signature "PK\3\4".
bool looks_like_zip(std::string_view bytes);

}  // namespace yolo::io
