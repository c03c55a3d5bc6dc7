#include "yolo/config/args.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/parse.h"
#include "utils/suggest.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

struct TrainArgs::Values {
#define YOLO_TRAIN_ARG_FIELD(kind, key, default_value, range, effect, help) YOLO_ARG_TYPE_##kind key = default_value;
  YOLO_TRAIN_ARGS(YOLO_TRAIN_ARG_FIELD)
#undef YOLO_TRAIN_ARG_FIELD
};

namespace {

using config::format_float;
using config::format_string;

[[noreturn]] void fail_type(const std::string& key, const std::string& text, const std::string& expected) {
  YOLO_FAIL("'{}={}' is invalid: {} must be {}", key, text, key, expected);
}

// ---- ranges: the table's `range` column ---------------------------------------------------------

struct Range {
  enum class Kind { Any, Interval, Batch, Words } kind = Kind::Any;
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  const char* words = "";  // "a|b|c"
  const char* spoken = nullptr;  // how an error message names the words, when not "one of a, b, c"

  std::vector<std::string> word_list() const {
    std::vector<std::string> list;
    std::string_view rest = words;
    while (!rest.empty()) {
      const auto bar = rest.find('|');
      list.emplace_back(rest.substr(0, bar));
      rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
    }
    return list;
  }

  /// "between 0.0 and 1.0", ">= 1", "one of a, b"; "" for Any.
  std::string describe() const {
    switch (kind) {
      case Kind::Any:
        return "";
      case Kind::Batch:
        return "-1 (AutoBatch), a fraction of GPU memory in (0, 1), or a whole number >= 1";
      case Kind::Words:
        return spoken ? spoken : fmt::format("one of {}", fmt::join(word_list(), ", "));
      case Kind::Interval:
        if (std::isfinite(lo) && std::isfinite(hi)) return fmt::format("between {} and {}", format_float(lo), format_float(hi));
        return fmt::format("{} {}", lo_open ? ">" : ">=", fmt::format("{}", lo));
    }
    return "";
  }

  bool admits(double v) const {
    switch (kind) {
      case Kind::Interval:
        return (lo_open ? v > lo : v >= lo) && v <= hi;
      case Kind::Batch:
        return v == -1 || (v > 0 && v < 1) || (v >= 1 && v == std::floor(v));
      default:
        return true;
    }
  }
};

namespace ranges {
const Range Any{};
constexpr double kInf = std::numeric_limits<double>::infinity();
Range AtLeast(double lo) { return {Range::Kind::Interval, lo, kInf, false}; }
Range Above(double lo) { return {Range::Kind::Interval, lo, kInf, true}; }
Range Between(double lo, double hi) { return {Range::Kind::Interval, lo, hi, false}; }
const Range Fraction = Between(0.0, 1.0);
const Range Batch{Range::Kind::Batch};
Range OneOf(const char* words, const char* spoken = nullptr) {
  Range r{Range::Kind::Words};
  r.words = words, r.spoken = spoken;
  return r;
}
}  // namespace ranges

// ---- effects: the table's `effect` column --------------------------------------------------------

namespace effects {
constexpr const char* Used = nullptr;
constexpr const char* Unused(const char* why) { return why; }
}  // namespace effects

std::string text_of(const ArgValue& value);

// ---- kinds: the table's `kind` column -----------------------------------------------------------
// Each reads a value from its text (never None here), writes it as a YAML scalar, gives its typed
// (checkpoint) form, and takes a typed value of its own type as it is (nullopt: read its text instead).
// The string kinds take a typed string or bool through their own read (take_text below).

namespace kinds {

struct Bool {
  using Type = bool;
  static constexpr const char* name = "bool";
  static Type read(const std::string& key, const std::string& text) {
    if (auto value = config::parse_bool(text)) return *value;
    fail_type(key, text, fmt::format("a bool ({0}=True or {0}=False)", key));
  }
  static std::string write(const Type& v) { return v ? "true" : "false"; }
  static ArgValue typed(const Type& v) { return v; }
  static std::optional<Type> take(const std::string&, const ArgValue& v) {
    if (auto b = std::get_if<bool>(&v)) return *b;
    return std::nullopt;
  }
};

struct Int {
  using Type = int;
  static constexpr const char* name = "int";
  static Type narrow(const std::string& key, const std::string& text, int64_t v) {
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
      fail_type(key, text, "an int that fits 32 bits");
    return static_cast<int>(v);
  }
  static Type read(const std::string& key, const std::string& text) {
    if (auto value = config::parse_int(text)) return narrow(key, text, *value);
    fail_type(key, text, fmt::format("an int (e.g. {}=8)", key));
  }
  static std::string write(const Type& v) { return std::to_string(v); }
  static ArgValue typed(const Type& v) { return static_cast<int64_t>(v); }
  static std::optional<Type> take(const std::string& key, const ArgValue& v) {
    if (auto i = std::get_if<int64_t>(&v)) return narrow(key, std::to_string(*i), *i);
    return std::nullopt;
  }
};

/// An int where 0 stands for None (line_width, opset).
struct OptInt : Int {
  static constexpr const char* name = "int | None";
  static std::string write(const Type& v) { return v == 0 ? "null" : std::to_string(v); }
  static ArgValue typed(const Type& v) { return v == 0 ? ArgValue() : ArgValue(static_cast<int64_t>(v)); }
};

struct Float {
  using Type = double;
  static constexpr const char* name = "float";
  static Type read(const std::string& key, const std::string& text) {
    if (auto value = config::parse_float(text)) return *value;
    fail_type(key, text, fmt::format("a number (e.g. {}=0.5)", key));
  }
  static std::string write(const Type& v) { return format_float(v); }
  static ArgValue typed(const Type& v) { return v; }
  static std::optional<Type> take(const std::string&, const ArgValue& v) {
    if (auto d = std::get_if<double>(&v)) return *d;
    if (auto i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
    return std::nullopt;
  }
};

/// A float where 0 stands for None (time, conf, workspace).
struct OptFloat : Float {
  static constexpr const char* name = "float | None";
  static std::string write(const Type& v) { return v == 0 ? "null" : format_float(v); }
  static ArgValue typed(const Type& v) { return v == 0 ? ArgValue() : ArgValue(v); }
};

/// A count or a fraction (batch): written as an int when whole, as Ultralytics holds it.
struct Number : Float {
  static constexpr const char* name = "int | float";
  static bool whole(double v) { return v == std::floor(v) && std::abs(v) < 9e15; }
  static std::string write(const Type& v) {
    return whole(v) ? std::to_string(static_cast<int64_t>(v)) : format_float(v);
  }
  static ArgValue typed(const Type& v) { return whole(v) ? ArgValue(static_cast<int64_t>(v)) : ArgValue(v); }
};

struct Str {
  using Type = std::string;
  static constexpr const char* name = "str";
  static Type read(const std::string&, const std::string& text) { return text; }
  static std::string write(const Type& v) { return format_string(v); }
  static ArgValue typed(const Type& v) { return v.empty() ? ArgValue() : ArgValue(v); }
};

/// device=[0, 1] (a Python list) means device=0,1.
struct Device : Str {
  static constexpr const char* name = "str";
  static Type read(const std::string&, const std::string& text) {
    std::string device;
    for (char c : text)
      if (c != '[' && c != ']' && c != ' ') device += c;
    return device;
  }
};

/// resume and pretrained: a flag, kept as "true"/"false", or a path.
struct FlagOrPath : Str {
  static constexpr const char* name = "bool | str";
  static Type read(const std::string&, const std::string& text) {
    if (auto flag = config::parse_bool(text)) return *flag ? "true" : "false";
    return text;
  }
  /// Flags stay bare booleans in YAML (resume: false); paths are strings.
  static std::string write(const Type& v) { return v == "true" || v == "false" ? v : format_string(v); }
  static ArgValue typed(const Type& v) { return v == "true" || v == "false" ? ArgValue(v == "true") : ArgValue(v); }
};

/// cache: True means RAM, as in Ultralytics.
struct Cache : FlagOrPath {
  static constexpr const char* name = "bool | str";
  static Type read(const std::string&, const std::string& text) {
    if (auto flag = config::parse_bool(text)) return *flag ? "ram" : "false";
    return text;
  }
};

struct IntList {
  using Type = std::vector<int64_t>;
  static constexpr const char* name = "int | list[int] | None";
  static Type read(const std::string& key, const std::string& text) {
    if (auto values = config::parse_int_list(text)) return *values;
    fail_type(key, text, fmt::format("an int or a list of ints (e.g. {}=[0, 2])", key));
  }
  static std::string write(const Type& v) { return v.empty() ? "null" : fmt::format("[{}]", fmt::join(v, ", ")); }
  static ArgValue typed(const Type& v) { return v.empty() ? ArgValue() : ArgValue(v); }
  static std::optional<Type> take(const std::string&, const ArgValue& v) {
    if (auto list = std::get_if<std::vector<int64_t>>(&v)) return *list;
    if (auto i = std::get_if<int64_t>(&v)) return Type{*i};
    return std::nullopt;
  }
};

/// freeze=n means the first n layers; a list names the layers.
struct Layers : IntList {
  static Type read(const std::string& key, const std::string& text) {
    if (auto n = config::parse_int(text)) {
      YOLO_CHECK(*n >= 0, "'{}={}' is invalid: {} must be >= 0", key, text, key);
      Type layers(static_cast<size_t>(*n));
      for (size_t i = 0; i < layers.size(); ++i) layers[i] = static_cast<int64_t>(i);
      return layers;
    }
    return IntList::read(key, text);
  }
  static std::optional<Type> take(const std::string&, const ArgValue& v) {
    if (auto list = std::get_if<std::vector<int64_t>>(&v)) return *list;
    return std::nullopt;  // an int n goes through read()
  }
};

/// Train and val use square images: a list [h, w] keeps its larger side, as Ultralytics does.
struct ImgSz : Int {
  static constexpr const char* name = "int | [h, w]";
  static Type read(const std::string& key, const std::string& text) {
    const auto sides = IntList::read(key, text);
    if (sides.empty() || sides.size() > 2) fail_type(key, text, "an int or [h, w]");
    const auto side = *std::max_element(sides.begin(), sides.end());
    if (sides.size() == 2 && sides[0] != sides[1]) log_warning("imgsz={} uses square images of {}", text, side);
    return narrow(key, text, side);
  }
};

}  // namespace kinds

/// A typed string, or bool, for a string kind: read as the kind reads its text (brackets, flags), with no
/// None-guessing, so a run named "null" keeps its name.
template <typename K>
std::optional<std::string> take_text(const std::string& key, const ArgValue& v) {
  if (auto s = std::get_if<std::string>(&v)) return K::read(key, *s);
  if (auto b = std::get_if<bool>(&v)) return K::read(key, *b ? "True" : "False");
  return std::nullopt;
}

// ---- checking a value against its row ----------------------------------------------------------

struct Row {
  const char* key;
  Range range;
  const char* unused;
  const char* help;
};

[[noreturn]] void fail_range(const Row& row, const std::string& text) {
  YOLO_FAIL("'{}={}' is invalid: {} must be {}", row.key, text, row.key, row.range.describe());
}

bool same_word(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

void check_number(const Row& row, double v, const std::string& text) {
  if (!row.range.admits(v)) fail_range(row, text);
}

/// The value, checked against the row's range; a word is stored as the table spells it.
template <typename K>
typename K::Type checked(const Row& row, typename K::Type value, const std::string& text) {
  using T = typename K::Type;
  if constexpr (std::is_same_v<T, std::string>) {
    if (row.range.kind == Range::Kind::Words) {
      const auto words = row.range.word_list();
      const auto it = std::find_if(words.begin(), words.end(), [&](const std::string& w) { return same_word(w, value); });
      if (it == words.end()) fail_range(row, text);
      value = *it;
    }
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    for (auto v : value) check_number(row, static_cast<double>(v), text);
  } else if constexpr (!std::is_same_v<T, bool>) {
    check_number(row, static_cast<double>(value), text);
  }
  return value;
}

}  // namespace

namespace detail {

/// What the generated code and the string-keyed entry points share: every write of a field goes through
/// assign(), which checks the range and warns about keys without effect.
struct ArgTableAccess {
  using Values = TrainArgs::Values;

  static const Values& defaults() {
    static const Values values;
    return values;
  }

  /// `text`: the value as the user typed it, for error messages (the written form when set in C++).
  template <typename K>
  static void assign(TrainArgs& args, typename K::Type Values::*field, const Row& row, typename K::Type value,
                     const std::string* text = nullptr) {
    const std::string shown = text ? *text : K::write(value);
    value = checked<K>(row, std::move(value), shown);
    if (row.unused && K::write(value) != K::write(defaults().*field))
      log_warning("'{}={}' has no effect in yolocpp ({}); going on without it", row.key, shown, row.unused);
    (*args.values_).*field = std::move(value);
  }

  template <typename K>
  static void assign_text(TrainArgs& args, typename K::Type Values::*field, const Row& row, const std::string& text) {
    assign<K>(args, field, row, K::read(row.key, text), &text);
  }

  template <typename K>
  static void assign_typed(TrainArgs& args, typename K::Type Values::*field, const Row& row, const ArgValue& value) {
    if (std::holds_alternative<std::monostate>(value)) return assign<K>(args, field, row, defaults().*field);
    std::optional<typename K::Type> taken;
    if constexpr (std::is_same_v<typename K::Type, std::string>)
      taken = take_text<K>(row.key, value);
    else
      taken = K::take(row.key, value);
    if (taken) return assign<K>(args, field, row, std::move(*taken));
    args.set(row.key, text_of(value));  // e.g. device=0 (an int), imgsz=[640, 640]: read as the CLI would
  }

  template <typename K>
  static const typename K::Type& get(const TrainArgs& args, typename K::Type Values::*field) {
    return (*args.values_).*field;
  }
};

}  // namespace detail

namespace {

using detail::ArgTableAccess;

/// One key of the table, for the string-keyed entry points.
struct KeySpec {
  Row row;
  const char* type;
  bool flag;                                                   // a bare `key` on the command line means True
  void (*set_text)(TrainArgs&, const std::string& text);       // text is never None
  void (*set_typed)(TrainArgs&, const ArgValue&);
  std::string (*get)(const TrainArgs&);
  ArgValue (*typed)(const TrainArgs&);
};

const Row& key_specs_row(const char* key);

template <typename K>
constexpr bool kIsFlag = std::is_same_v<K, kinds::Bool> || std::is_same_v<K, kinds::FlagOrPath> ||
                         std::is_same_v<K, kinds::Cache>;

const std::vector<KeySpec>& key_specs() {
  using namespace ranges;
  using namespace effects;
  using Values = ArgTableAccess::Values;
#define YOLO_TRAIN_ARG_SPEC(kind, key, default_value, range, effect, help)                                         \
  KeySpec{Row{#key, range, effect, help},                                                                          \
          kinds::kind::name,                                                                                       \
          kIsFlag<kinds::kind>,                                                                                    \
          [](TrainArgs& a, const std::string& text) {                                                              \
            ArgTableAccess::assign_text<kinds::kind>(a, &Values::key, key_specs_row(#key), text);                  \
          },                                                                                                       \
          [](TrainArgs& a, const ArgValue& v) {                                                                    \
            ArgTableAccess::assign_typed<kinds::kind>(a, &Values::key, key_specs_row(#key), v);                    \
          },                                                                                                       \
          [](const TrainArgs& a) { return kinds::kind::write(ArgTableAccess::get<kinds::kind>(a, &Values::key)); }, \
          [](const TrainArgs& a) { return kinds::kind::typed(ArgTableAccess::get<kinds::kind>(a, &Values::key)); }},
  static const std::vector<KeySpec> specs = {YOLO_TRAIN_ARGS(YOLO_TRAIN_ARG_SPEC)};
#undef YOLO_TRAIN_ARG_SPEC
  return specs;
}

const KeySpec* find_spec(const std::string& key) {
  const auto& specs = key_specs();
  const auto it = std::find_if(specs.begin(), specs.end(), [&](const KeySpec& s) { return key == s.row.key; });
  return it == specs.end() ? nullptr : &*it;
}

/// The row of a key, for the setters (they run only once the table exists).
const Row& key_specs_row(const char* key) { return find_spec(key)->row; }

const KeySpec& spec_or_fail(const std::string& key) {
  const KeySpec* spec = find_spec(key);
  if (spec == nullptr) {
    const auto similar = closest_matches(key, TrainArgs::keys());
    YOLO_FAIL("'{}' is not a valid YOLO argument.{}", key,
              similar.empty() ? std::string() : fmt::format(" Similar arguments: {}", fmt::join(similar, ", ")));
  }
  return *spec;
}

/// A value as typed: surrounding whitespace and one pair of matching quotes removed.
std::string unquote(std::string text) {
  const auto first = text.find_first_not_of(" \t");
  const auto last = text.find_last_not_of(" \t");
  text = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"') && text.back() == text.front()) {
    text = text.substr(1, text.size() - 2);
  }
  return text;
}

/// A typed value as the command line would spell it.
std::string text_of(const ArgValue& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "null"; }
    std::string operator()(bool b) const { return b ? "True" : "False"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return format_float(d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const std::vector<int64_t>& list) const { return fmt::format("[{}]", fmt::join(list, ", ")); }
  };
  return std::visit(Visitor{}, value);
}

constexpr std::array<const char*, 6> kModes = {"train", "val", "predict", "export", "track", "benchmark"};
constexpr std::array<const char*, 5> kTasks = {"detect", "segment", "classify", "pose", "obb"};

template <size_t N>
bool contains(const std::array<const char*, N>& words, const std::string& word) {
  return std::find_if(words.begin(), words.end(), [&](const char* w) { return word == w; }) != words.end();
}

}  // namespace

// ---- the generated setters and getters ------------------------------------------------------------

#define YOLO_TRAIN_ARG_ACCESSORS(kind, key, default_value, range, effect, help)                    \
  TrainArgs& TrainArgs::key(const YOLO_ARG_TYPE_##kind& value) {                                   \
    ArgTableAccess::assign<kinds::kind>(*this, &Values::key, key_specs_row(#key), value);          \
    return *this;                                                                                  \
  }                                                                                                \
  const YOLO_ARG_TYPE_##kind& TrainArgs::key() const { return values_->key; }
YOLO_TRAIN_ARGS(YOLO_TRAIN_ARG_ACCESSORS)
#undef YOLO_TRAIN_ARG_ACCESSORS

TrainArgs::TrainArgs() : values_(std::make_unique<Values>()) {}
TrainArgs::TrainArgs(const TrainArgs& other) : values_(std::make_unique<Values>(*other.values_)) {}
TrainArgs& TrainArgs::operator=(const TrainArgs& other) {
  if (this != &other) *values_ = *other.values_;
  return *this;
}
TrainArgs::~TrainArgs() = default;

// ---- string-keyed access ------------------------------------------------------------------------------

namespace {

// Keys Ultralytics 8.3.166 removed (cfg/__init__.py _handle_deprecation): a warning, and the key is dropped.
constexpr std::array<const char*, 3> kRemovedKeys = {"label_smoothing", "save_hybrid", "crop_fraction"};

bool removed_key(const std::string& key) {
  if (!contains(kRemovedKeys, key)) return false;
  log_warning("'{}' is deprecated and will be removed in the future (Ultralytics 8.3 removed it); ignored", key);
  return true;
}

}  // namespace

TrainArgs& TrainArgs::set(const std::string& key, const std::string& value) {
  if (removed_key(key)) return *this;
  const KeySpec& spec = spec_or_fail(key);
  const std::string text = unquote(value);
  if (key == "auto_augment" && (config::is_none(text) || config::parse_bool(text) == std::optional<bool>(false))) {
    values_->auto_augment.clear();  // the one key whose None is not its default: no policy, colour jitter instead
  } else if (config::is_none(text)) {
    spec.set_typed(*this, ArgValue());  // the key's default, which is None where Ultralytics' is
  } else {
    spec.set_text(*this, text);
  }
  return *this;
}

TrainArgs& TrainArgs::set(const std::string& key, const ArgValue& value) {
  if (removed_key(key)) return *this;
  if (key == "auto_augment" && (std::holds_alternative<std::monostate>(value) ||
                                value == ArgValue(false))) {
    values_->auto_augment.clear();  // as set() from text: None or False is no policy
    return *this;
  }
  spec_or_fail(key).set_typed(*this, value);
  return *this;
}

std::string TrainArgs::get(const std::string& key) const { return spec_or_fail(key).get(*this); }

ArgValue TrainArgs::value(const std::string& key) const { return spec_or_fail(key).typed(*this); }

TrainArgs TrainArgs::from_pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  TrainArgs args;
  // As Ultralytics: the cfg file replaces the defaults, and the explicit keys override it.
  for (const auto& [key, value] : pairs) {
    if (key == "cfg" && !config::is_none(unquote(value))) args = from_yaml_file(unquote(value));
  }
  for (const auto& [key, value] : pairs) args.set(key, value);
  return args;
}

TrainArgs TrainArgs::from_strings(const std::vector<std::string>& tokens) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& token : tokens) {
    const auto equals = token.find('=');
    if (equals != std::string::npos) {
      const auto key = token.substr(0, equals);
      const auto value = token.substr(equals + 1);
      YOLO_CHECK(!key.empty() && !value.empty(), "'{}' is invalid: write key=value, e.g. epochs=3", token);
      pairs.emplace_back(key, value);
    } else if (contains(kModes, token)) {
      pairs.emplace_back("mode", token);
    } else if (contains(kTasks, token)) {
      pairs.emplace_back("task", token);
    } else if (is_bool_key(token)) {
      pairs.emplace_back(token, "True");  // a bare boolean key means True, as in Ultralytics
    } else {
      auto words = keys();
      words.insert(words.end(), kModes.begin(), kModes.end());
      words.insert(words.end(), kTasks.begin(), kTasks.end());
      YOLO_FAIL("'{}' is not a valid task, mode or key=value argument.{}", token, did_you_mean(token, words));
    }
  }
  return from_pairs(pairs);
}

TrainArgs TrainArgs::from_map(const std::map<std::string, std::string>& values) {
  return from_pairs({values.begin(), values.end()});
}

TrainArgs TrainArgs::from_yaml_file(const std::string& path) {
  TrainArgs args;
  for (const auto& [key, value] : config::read_yaml_mapping(path)) {
    try {
      args.set(key, value);
    } catch (const Error& e) {
      YOLO_FAIL("{} (in '{}')", e.what(), path);
    }
  }
  return args;
}

std::map<std::string, std::string> TrainArgs::to_map() const {
  std::map<std::string, std::string> values;
  for (const auto& spec : key_specs()) values.emplace(spec.row.key, spec.get(*this));
  return values;
}

std::string TrainArgs::to_yaml() const {
  std::string text;
  for (const auto& spec : key_specs()) text += fmt::format("{}: {}\n", spec.row.key, spec.get(*this));
  return text;
}

const std::vector<std::string>& TrainArgs::keys() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> result;
    for (const auto& spec : key_specs()) result.emplace_back(spec.row.key);
    return result;
  }();
  return names;
}

bool TrainArgs::is_bool_key(const std::string& key) {
  const KeySpec* spec = find_spec(key);
  return spec != nullptr && spec->flag;
}

const std::vector<ArgInfo>& TrainArgs::table() {
  static const std::vector<ArgInfo> infos = [] {
    std::vector<ArgInfo> result;
    const TrainArgs defaults;
    for (const auto& spec : key_specs())
      result.push_back(ArgInfo{spec.row.key, spec.type, spec.get(defaults), spec.row.range.describe(), spec.row.help,
                               spec.row.unused ? spec.row.unused : ""});
    return result;
  }();
  return infos;
}

YOLO_END_NAMESPACE
