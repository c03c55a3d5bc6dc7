#include "config/parse.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>

#include <yaml-cpp/yaml.h>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace config {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

/// A node as the text a command line would give for it.
std::string node_text(const YAML::Node& node, const std::string& key, const std::string& path) {
  if (node.IsNull()) return "null";
  if (node.IsScalar()) return node.Scalar();
  YOLO_CHECK(node.IsSequence(), "'{}' in '{}' must be a value or a list, not a mapping", key, path);
  std::string text = "[";
  for (size_t i = 0; i < node.size(); ++i) {
    YOLO_CHECK(node[i].IsScalar(), "'{}' in '{}' must be a list of values", key, path);
    text += (i ? ", " : "") + node[i].Scalar();
  }
  return text + "]";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> read_yaml_mapping(const std::string& path) {
  std::ifstream file(path);
  YOLO_CHECK(file.good(), "cannot open YAML file '{}'", path);
  YAML::Node root;
  try {
    root = YAML::Load(file);
  } catch (const YAML::ParserException& e) {
    // yaml-cpp counts lines from 0; editors count from 1.
    YOLO_FAIL("malformed YAML in '{}' at line {}: {}", path, e.mark.line + 1, e.msg);
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  if (root.IsNull()) return pairs;  // an empty file sets nothing
  YOLO_CHECK(root.IsMap(), "'{}' must be a YAML mapping of key: value lines", path);
  for (const auto& item : root) {
    const auto key = item.first.as<std::string>();
    pairs.emplace_back(key, node_text(item.second, key, path));
  }
  return pairs;
}

bool is_none(std::string_view text) {
  text = trim(text);
  return text.empty() || text == "None" || text == "none" || text == "null" || text == "Null" || text == "NULL" ||
         text == "~";
}

std::optional<bool> parse_bool(std::string_view text) {
  text = trim(text);
  if (text == "True" || text == "true") return true;
  if (text == "False" || text == "false") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view text) {
  const std::string s(trim(text));
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_float(std::string_view text) {
  const std::string s(trim(text));
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size()) return std::nullopt;
  return value;
}

std::optional<std::vector<int64_t>> parse_int_list(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = trim(text.substr(1, text.size() - 2));
  std::vector<int64_t> values;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const auto value = parse_int(text.substr(0, comma));
    if (!value) return std::nullopt;
    values.push_back(*value);
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
    if (trim(text).empty()) return std::nullopt;  // "1," is a typo, not a list
  }
  return values;
}

std::string format_float(double value) {
  std::string text = fmt::format("{}", value);
  // Python writes floats with a point (3.0), so that YAML reads them back as floats.
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

std::string format_string(const std::string& value) {
  if (value.empty()) return "null";
  const bool misread = is_none(value) || parse_bool(value) || parse_float(value) ||
                       std::string_view("-?:,[]{}#&*!|>'\"%@`").find(value.front()) != std::string_view::npos ||
                       value.find(": ") != std::string::npos || value.find(" #") != std::string::npos ||
                       value.find('\n') != std::string::npos || trim(value).size() != value.size();
  if (!misread) return value;
  std::string quoted = "'";
  for (char c : value) quoted += c == '\'' ? std::string("''") : std::string(1, c);  // YAML's escape for '
  return quoted + "'";
}

}  // namespace config
YOLO_END_NAMESPACE
