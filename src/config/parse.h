#pragma once
// The text forms every config input shares: YAML files read as key -> scalar text, and the
// scalars read and written the way Ultralytics' Python does (True/true, None/null, [0, 2]).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace config {

/// A YAML file whose top level is a mapping, as ordered (key, value text) pairs: scalars as
/// written, sequences as "[a, b]", null as "null". Throws yolo::Error naming the file (and the
/// line, for malformed YAML).
std::vector<std::pair<std::string, std::string>> read_yaml_mapping(const std::string& path);

/// None, none, null, ~ or empty: Python's None.
bool is_none(std::string_view text);
/// True/true/False/false; nothing else.
std::optional<bool> parse_bool(std::string_view text);
/// A whole integer literal ("8", "-1"); "8.0" is not one.
std::optional<int64_t> parse_int(std::string_view text);
/// A whole number literal ("0.5", "1e-3", "16").
std::optional<double> parse_float(std::string_view text);
/// "3", "[0, 2]", "0,2" or "[]": the integers in order.
std::optional<std::vector<int64_t>> parse_int_list(std::string_view text);

/// Python-style text of a float: 3.0 -> "3.0", 0.0005 -> "0.0005".
std::string format_float(double value);
/// A string as a YAML scalar: quoted where YAML would read it as something else ("0", "true",
/// "null", "a: b"); "" is None and becomes null.
std::string format_string(const std::string& value);

}  // namespace config
YOLO_END_NAMESPACE
