#include "io/crc.h"

#include <array>
#include <cstddef>

#include "io/zip.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {
namespace {

/// Tables for slicing-by-8 of the reflected CRC with polynomial `Poly` (bit-reversed form):
/// table[k][b] is the CRC of byte b followed by k zero bytes.
template <uint32_t Poly>
const std::array<std::array<uint32_t, 256>, 8>& crc_tables() {
  static const auto tables = [] {
    std::array<std::array<uint32_t, 256>, 8> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? Poly ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
    return t;
  }();
  return tables;
}

/// `previous` continues a CRC over data that came before (0 to start).
template <uint32_t Poly>
uint32_t reflected_crc32(std::string_view data, uint32_t previous) {
  // Eight bytes per step (checkpoints are tens of MB; byte-wise CRC showed in training profiles).
  const auto& t = crc_tables<Poly>();
  uint32_t c = previous ^ 0xFFFFFFFFu;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    const uint32_t lo = c ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
        t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
  }
  for (; n > 0; ++p, --n) c = t[0][(c ^ *p) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

}  // namespace

uint32_t crc32(std::string_view data, uint32_t previous) { return reflected_crc32<0xEDB88320u>(data, previous); }

uint32_t crc32c(std::string_view data) { return reflected_crc32<0x82F63B78u>(data, 0); }

uint32_t masked_crc32c(std::string_view data) {
  const uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

}  // namespace io
YOLO_END_NAMESPACE
