// CRC-32C against published check values (RFC 3720 B.4, the CRC catalogue's "123456789"), and its
// masked form against TensorBoard's own Python implementation.
#include <string>

#include "catch.h"
#include "io/crc.h"
#include "io/zip.h"

using yolo::io::crc32c;
using yolo::io::masked_crc32c;

namespace {
std::string bytes_from(int first, int step) {
  std::string s;
  for (int i = 0; i < 32; ++i) s.push_back(static_cast<char>(first + step * i));
  return s;
}
}  // namespace

TEST_CASE("CRC-32C matches the published check values", "[io][crc]") {
  CHECK(crc32c("") == 0u);
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);
  CHECK(crc32c(std::string(32, '\xFF')) == 0x62A8AB43u);
  CHECK(crc32c(bytes_from(0, 1)) == 0x46DD794Eu);
  CHECK(crc32c(bytes_from(31, -1)) == 0x113FDB5Cu);
  // Lengths that are not a multiple of the 8-byte step exercise the byte-wise tail.
  const std::string text = "The quick brown fox jumps over the lazy dog";
  CHECK(crc32c(text.substr(0, 9)) == crc32c("The quick"));
  CHECK(yolo::io::crc32("123456789") == 0xCBF43926u);  // the zip CRC shares the routine, not the polynomial
}

TEST_CASE("masked CRC-32C matches TensorBoard's", "[io][crc]") {
  // tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c
  CHECK(masked_crc32c("") == 0xA282EAD8u);
  CHECK(masked_crc32c("123456789") == 0xC78AB0E5u);
  CHECK(masked_crc32c(std::string(32, '\0')) == 0x0FD7FFFAu);
}
