#include "export/python_literal.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {
namespace {

/// A reader of the few literal forms above: strings, numbers, names (True, None), lists and dicts.
class LiteralReader {
 public:
  explicit LiteralReader(const std::string& text) : text_(text) {}

  void skip_space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  bool accept(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) return ++at_, true;
    return false;
  }
  void expect(char c) { YOLO_CHECK(accept(c), "{} at character {}", problem(fmt::format("expected '{}'", c)), at_); }
  bool at_end() {
    skip_space();
    return at_ == text_.size();
  }

  /// A quoted string with Python's escapes, or a bare token (number, True, None) as written.
  std::string scalar() {
    skip_space();
    YOLO_CHECK(at_ < text_.size(), "{}", problem("unexpected end"));
    const char quote = text_[at_];
    if (quote != '\'' && quote != '"') {
      const size_t start = at_;
      while (at_ < text_.size() && std::string_view(",:]})").find(text_[at_]) == std::string_view::npos) ++at_;
      std::string token = text_.substr(start, at_ - start);
      token.erase(token.find_last_not_of(" \t\n") + 1);
      YOLO_CHECK(!token.empty(), "{} at character {}", problem("expected a value"), start);
      return token;
    }
    ++at_;
    std::string value;
    while (true) {
      YOLO_CHECK(at_ < text_.size(), "{}", problem("unterminated string"));
      const char c = text_[at_++];
      if (c == quote) return value;
      if (c != '\\') {
        value += c;
        continue;
      }
      YOLO_CHECK(at_ < text_.size(), "{}", problem("unterminated escape"));
      const char e = text_[at_++];
      switch (e) {
        case 'n': value += '\n'; break;
        case 'r': value += '\r'; break;
        case 't': value += '\t'; break;
        case 'x':
          YOLO_CHECK(at_ + 2 <= text_.size(), "{}", problem("short \\x escape"));
          value += static_cast<char>(std::stoi(text_.substr(at_, 2), nullptr, 16));
          at_ += 2;
          break;
        default: value += e;  // \\, \', \"
      }
    }
  }

  std::string problem(const std::string& what) const {
    return fmt::format("cannot read the Python literal \"{}\": {}", text_, what);
  }

 private:
  const std::string& text_;
  size_t at_ = 0;
};

int64_t to_int(const std::string& token, const LiteralReader& reader) {
  try {
    size_t used = 0;
    const auto value = std::stoll(token, &used);
    if (used == token.size()) return value;
  } catch (const std::exception&) {
  }
  YOLO_FAIL("{}", reader.problem(fmt::format("'{}' is not an int", token)));
}

}  // namespace

std::string python_repr(const std::string& text) {
  const bool has_single = text.find('\'') != std::string::npos;
  const char quote = has_single && text.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : text) {
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);  // printable ASCII and UTF-8 bytes, as Python 3 prints them
    }
  }
  return out + quote;
}

std::string names_literal(const std::vector<std::string>& names) {
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) out += fmt::format("{}{}: {}", i ? ", " : "", i, python_repr(names[i]));
  return out + "}";
}

std::vector<std::string> parse_names_literal(const std::string& text) {
  LiteralReader reader(text);
  std::vector<std::string> names;
  if (reader.accept('[')) {
    if (!reader.accept(']')) {
      do names.push_back(reader.scalar());
      while (reader.accept(','));
      reader.expect(']');
    }
  } else {
    reader.expect('{');
    std::map<int64_t, std::string> by_index;
    if (!reader.accept('}')) {
      do {
        const auto key = to_int(reader.scalar(), reader);
        reader.expect(':');
        YOLO_CHECK(by_index.emplace(key, reader.scalar()).second, "{}", reader.problem("a class index repeats"));
      } while (reader.accept(','));
      reader.expect('}');
    }
    for (const auto& [index, name] : by_index) {
      YOLO_CHECK(index == static_cast<int64_t>(names.size()), "{}",
                 reader.problem(fmt::format("class indices must be 0..{} without gaps", by_index.size() - 1)));
      names.push_back(name);
    }
  }
  YOLO_CHECK(reader.at_end(), "{}", reader.problem("unexpected text after the literal"));
  return names;
}

std::map<std::string, std::string> parse_flat_dict_literal(const std::string& text) {
  LiteralReader reader(text);
  std::map<std::string, std::string> values;
  reader.expect('{');
  if (!reader.accept('}')) {
    do {
      auto key = reader.scalar();
      reader.expect(':');
      values[key] = reader.scalar();
    } while (reader.accept(','));
    reader.expect('}');
  }
  YOLO_CHECK(reader.at_end(), "{}", reader.problem("unexpected text after the literal"));
  return values;
}

std::vector<int64_t> parse_int_list_literal(const std::string& text) {
  LiteralReader reader(text);
  std::vector<int64_t> values;
  if (reader.accept('[') || reader.accept('(')) {
    do values.push_back(to_int(reader.scalar(), reader));
    while (reader.accept(','));
    YOLO_CHECK(reader.accept(']') || reader.accept(')'), "{}", reader.problem("expected ']'"));
  } else {
    values.push_back(to_int(reader.scalar(), reader));
  }
  YOLO_CHECK(reader.at_end(), "{}", reader.problem("unexpected text after the literal"));
  return values;
}

}  // namespace exporter
YOLO_END_NAMESPACE
