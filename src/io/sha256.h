#pragma once
// SHA-256 (FIPS 180-4), to check downloads against a published digest.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

/// Incremental SHA-256: update() with the data in any number of pieces, then hex_digest().
class Sha256 {
 public:
  Sha256();
  Sha256& update(std::string_view data);
  /// The digest as 64 lowercase hex digits; the object is spent afterwards.
  std::string hex_digest();

 private:
  void compress(const unsigned char* block);

  std::array<uint32_t, 8> state_;
  std::array<unsigned char, 64> block_{};
  size_t block_used_ = 0;
  uint64_t total_bytes_ = 0;
};

/// The SHA-256 of a file's contents, as 64 lowercase hex digits; throws when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace io
YOLO_END_NAMESPACE
