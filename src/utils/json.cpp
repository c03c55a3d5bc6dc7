#include "utils/json.h"

#include <cmath>

#include <fmt/format.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (const unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\', out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string json_number(double value) { return std::isfinite(value) ? fmt::format("{}", value) : "null"; }

YOLO_END_NAMESPACE
