#include "io/pickle.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <unordered_map>

#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

// ---- PickleValue -----------------------------------------------------------------------------

struct PickleValue::Node {
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;  // String, Bytes
  Items items;       // List, Tuple, Set
  DictItems dict;
  // Position of each str/int key, kept once a dict grows: SETITEMS stays linear on huge dicts.
  std::unordered_map<std::string, size_t> key_index;
  std::shared_ptr<const at::Tensor> tensor;
  StorageRef storage;
  Object object;  // Object, Global
};

std::shared_ptr<PickleValue::Node> PickleValue::make_node(Kind kind) {
  auto node = std::make_shared<Node>();
  node->kind = kind;
  return node;
}

PickleValue::PickleValue() = default;
PickleValue::PickleValue(bool value) : node_(make_node(Kind::Bool)) { node_->boolean = value; }
PickleValue::PickleValue(int value) : PickleValue(static_cast<int64_t>(value)) {}
PickleValue::PickleValue(int64_t value) : node_(make_node(Kind::Int)) { node_->integer = value; }
PickleValue::PickleValue(double value) : node_(make_node(Kind::Float)) { node_->real = value; }
PickleValue::PickleValue(const char* text) : PickleValue(std::string(text)) {}
PickleValue::PickleValue(std::string text) : node_(make_node(Kind::String)) { node_->text = std::move(text); }

PickleValue PickleValue::bytes(std::string data) {
  auto node = make_node(Kind::Bytes);
  node->text = std::move(data);
  return PickleValue(std::move(node));
}
PickleValue PickleValue::list(Items items) {
  auto node = make_node(Kind::List);
  node->items = std::move(items);
  return PickleValue(std::move(node));
}
PickleValue PickleValue::tuple(Items items) {
  auto node = make_node(Kind::Tuple);
  node->items = std::move(items);
  return PickleValue(std::move(node));
}
PickleValue PickleValue::set(Items items) {
  auto node = make_node(Kind::Set);
  node->items = std::move(items);
  return PickleValue(std::move(node));
}
PickleValue PickleValue::dict(DictItems items) {
  auto node = make_node(Kind::Dict);
  node->dict = std::move(items);
  return PickleValue(std::move(node));
}
PickleValue PickleValue::storage(StorageRef ref) {
  auto node = make_node(Kind::Storage);
  node->storage = std::move(ref);
  return PickleValue(std::move(node));
}
PickleValue PickleValue::global(std::string module, std::string name) {
  auto node = make_node(Kind::Global);
  node->object.module = std::move(module);
  node->object.name = std::move(name);
  return PickleValue(std::move(node));
}
PickleValue PickleValue::object(Object object) {
  auto node = make_node(Kind::Object);
  node->object = std::move(object);
  return PickleValue(std::move(node));
}

PickleValue::Kind PickleValue::kind() const { return node_ ? node_->kind : Kind::None; }

std::string PickleValue::type_name() const {
  switch (kind()) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Set: return "set";
    case Kind::Dict: return "dict";
    case Kind::Tensor: return "tensor";
    case Kind::Storage: return "storage";
    case Kind::Global: return "global " + node_->object.module + "." + node_->object.name;
    case Kind::Object: return "object " + node_->object.module + "." + node_->object.name;
  }
  return "?";
}

const PickleValue::Node& PickleValue::node() const { return *node_; }
PickleValue::Node& PickleValue::mutable_node() { return *node_; }

#define YOLO_EXPECT_KIND(condition, expected) \
  YOLO_CHECK(condition, "expected a pickled {}, found a {}", expected, type_name())

bool PickleValue::as_bool() const {
  YOLO_EXPECT_KIND(is(Kind::Bool), "bool");
  return node_->boolean;
}
int64_t PickleValue::as_int() const {
  YOLO_EXPECT_KIND(is(Kind::Int) || is(Kind::Bool), "int");
  return is(Kind::Bool) ? node_->boolean : node_->integer;
}
double PickleValue::as_float() const {
  YOLO_EXPECT_KIND(is(Kind::Float) || is(Kind::Int), "float");
  return is(Kind::Float) ? node_->real : static_cast<double>(node_->integer);
}
const std::string& PickleValue::as_string() const {
  YOLO_EXPECT_KIND(is(Kind::String), "str");
  return node_->text;
}
const std::string& PickleValue::as_bytes() const {
  YOLO_EXPECT_KIND(is(Kind::Bytes), "bytes");
  return node_->text;
}
const PickleValue::Items& PickleValue::items() const {
  YOLO_EXPECT_KIND(is(Kind::List) || is(Kind::Tuple) || is(Kind::Set), "list or tuple");
  return node_->items;
}
const PickleValue::DictItems& PickleValue::dict_items() const {
  YOLO_EXPECT_KIND(is(Kind::Dict), "dict");
  return node_->dict;
}
const StorageRef& PickleValue::as_storage() const {
  YOLO_EXPECT_KIND(is(Kind::Storage), "storage");
  return node_->storage;
}
const PickleValue::Object& PickleValue::as_object() const {
  YOLO_EXPECT_KIND(is(Kind::Object) || is(Kind::Global), "object");
  return node_->object;
}
PickleValue::Object& PickleValue::as_object() {
  YOLO_EXPECT_KIND(is(Kind::Object) || is(Kind::Global), "object");
  return node_->object;
}

const PickleValue* PickleValue::find(std::string_view key) const {
  if (!is(Kind::Dict)) return nullptr;
  for (const auto& [k, v] : node_->dict)
    if (k.is(Kind::String) && k.node_->text == key) return &v;
  return nullptr;
}

const PickleValue& PickleValue::at(std::string_view key) const {
  YOLO_EXPECT_KIND(is(Kind::Dict), "dict");
  const PickleValue* value = find(key);
  YOLO_CHECK(value, "key '{}' is missing from the pickled dict", key);
  return *value;
}

namespace {
bool same_key(const PickleValue& a, const PickleValue& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case PickleValue::Kind::String: return a.as_string() == b.as_string();
    case PickleValue::Kind::Int: return a.as_int() == b.as_int();
    case PickleValue::Kind::Bool: return a.as_bool() == b.as_bool();
    case PickleValue::Kind::None: return true;
    default: return a.identity() == b.identity();
  }
}
}  // namespace

void PickleValue::append(PickleValue item) {
  YOLO_EXPECT_KIND(is(Kind::List) || is(Kind::Set), "list");
  node_->items.push_back(std::move(item));
}

void PickleValue::set_item(PickleValue key, PickleValue value) {
  YOLO_EXPECT_KIND(is(Kind::Dict), "dict");
  constexpr size_t kIndexFrom = 32;
  auto& dict = node_->dict;
  auto& index = node_->key_index;
  const bool indexable = key.is(Kind::String) || key.is(Kind::Int);
  const auto index_key = [](const PickleValue& k) {
    return k.is(Kind::String) ? "s" + k.as_string() : "i" + std::to_string(k.as_int());
  };
  if (dict.size() >= kIndexFrom && indexable) {
    if (index.empty())
      for (size_t i = 0; i < dict.size(); ++i)
        if (dict[i].first.is(Kind::String) || dict[i].first.is(Kind::Int)) index.emplace(index_key(dict[i].first), i);
    const auto [it, inserted] = index.emplace(index_key(key), dict.size());
    if (!inserted) {
      dict[it->second].second = std::move(value);
      return;
    }
  } else if (dict.size() < kIndexFrom) {
    for (auto& [k, v] : dict) {
      if (same_key(k, key)) {
        v = std::move(value);
        return;
      }
    }
  }
  dict.emplace_back(std::move(key), std::move(value));
}

std::shared_ptr<PickleValue::Node> PickleValue::tensor_node(std::shared_ptr<const at::Tensor> tensor) {
  auto node = make_node(Kind::Tensor);
  node->tensor = std::move(tensor);
  return node;
}

const at::Tensor& PickleValue::as_tensor() const {
  YOLO_EXPECT_KIND(is(Kind::Tensor), "tensor");
  return *node_->tensor.get();
}

void PickleValue::clear_children() {
  if (!node_) return;
  node_->items.clear();
  node_->dict.clear();
  node_->key_index.clear();
  node_->object.args.clear();
  node_->object.state.reset();
  node_->object.list_items.clear();
  node_->object.dict_items.clear();
}

size_t element_size(DType dtype) {
  switch (dtype) {
    case DType::Float64:
    case DType::Int64: return 8;
    case DType::Float32:
    case DType::Int32: return 4;
    case DType::Float16:
    case DType::BFloat16:
    case DType::Int16: return 2;
    case DType::Int8:
    case DType::UInt8:
    case DType::Bool: return 1;
  }
  return 1;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Int32: return "int32";
    case DType::Int16: return "int16";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
    case DType::Bool: return "bool";
  }
  return "?";
}

namespace {

/// torch.<Name>Storage <-> element type, as the storage_type of persistent ids names it.
struct StorageName {
  const char* name;
  DType dtype;
};
constexpr StorageName kStorageNames[] = {
    {"HalfStorage", DType::Float16},   {"BFloat16Storage", DType::BFloat16}, {"FloatStorage", DType::Float32},
    {"DoubleStorage", DType::Float64}, {"LongStorage", DType::Int64},        {"IntStorage", DType::Int32},
    {"ShortStorage", DType::Int16},    {"CharStorage", DType::Int8},         {"ByteStorage", DType::UInt8},
    {"BoolStorage", DType::Bool},      {"UntypedStorage", DType::UInt8},
};

// ---- the unpickler ---------------------------------------------------------------------------

/// A stack machine over the opcodes: it builds values and never imports or calls anything.
class Unpickler {
 public:
  Unpickler(std::string_view data, size_t start, const std::string& source, const TensorMaker& make_tensor,
            const UnpickleLimits& limits)
      : data_(data), pos_(start), source_(source), make_tensor_(make_tensor), limits_(limits) {}

  ~Unpickler() {
    // Reference cycles (a list appended to itself) would leak, and very deep chains would overflow
    // the stack in recursive destructors: every container not in the checked result lets go of its
    // children first.
    for (auto& value : containers_)
      if (!reachable_.count(value.identity())) value.clear_children();
  }

  PickleValue run() {
    while (true) {
      YOLO_CHECK(pos_ < data_.size(), "{}: truncated pickle: no STOP opcode before the end of the data", source_);
      const auto opcode = static_cast<unsigned char>(data_[pos_++]);
      if (opcode == '.') break;
      step(opcode);
    }
    YOLO_CHECK(stack_.size() == 1 && marks_.empty(), "{}: malformed pickle: {} values left on the stack at STOP",
               source_, stack_.size());
    PickleValue root = stack_.back();
    stack_.clear();
    memo_.clear();
    check_acyclic(root);
    return root;
  }
  /// Just past the STOP opcode once run() returned.
  size_t position() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    YOLO_FAIL("{}: malformed pickle at byte {}: {}", source_, pos_, what);
  }

  // -- input --
  std::string_view take(uint64_t n) {
    if (n > data_.size() - pos_) fail(fmt::format("needs {} more bytes than the data holds", n - (data_.size() - pos_)));
    const auto out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  uint64_t le(int width) {
    const auto bytes = take(width);
    uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
    return value;
  }
  std::string_view line() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) fail("a text argument has no terminating newline");
    const auto out = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }

  // -- stack --
  PickleValue pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("pops from an empty stack");
    PickleValue value = std::move(stack_.back());
    stack_.pop_back();
    return value;
  }
  PickleValue& top() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("reads an empty stack");
    return stack_.back();
  }
  /// The values pushed since the last MARK, which is removed.
  PickleValue::Items pop_mark() {
    if (marks_.empty()) fail("has no MARK to pop to");
    const size_t mark = marks_.back();
    marks_.pop_back();
    PickleValue::Items items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
                             std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  void push(PickleValue value) {
    const auto kind = value.kind();
    using K = PickleValue::Kind;
    if (kind == K::List || kind == K::Tuple || kind == K::Set || kind == K::Dict || kind == K::Object)
      containers_.push_back(value);
    stack_.push_back(std::move(value));
  }

  // -- memo --
  void memo_put(uint64_t index) {
    if (memo_.size() >= limits_.max_memo && !memo_.count(index)) fail("memo grows past its limit");
    memo_[index] = top();
  }
  void memo_get(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail(fmt::format("refers to memo entry {}, which was never stored", index));
    push(it->second);
  }

  void step(unsigned char op);
  void push_long(std::string_view bytes);
  void reduce(PickleValue callable, PickleValue::Items args);
  PickleValue interpret(const std::string& module, const std::string& name, PickleValue::Items& args);
  PickleValue rebuild_tensor(const PickleValue::Items& args, const std::string& callee);
  PickleValue persistent_load(const PickleValue& pid);
  void add_items(PickleValue& target, PickleValue::Items values);
  void set_items(PickleValue& target, PickleValue::Items values);
  void build(PickleValue& target, PickleValue state);
  void check_acyclic(const PickleValue& root);

  std::string_view data_;
  size_t pos_ = 0;
  const std::string& source_;
  const TensorMaker& make_tensor_;
  UnpickleLimits limits_;
  std::vector<PickleValue> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleValue> memo_;
  std::vector<PickleValue> containers_;
  std::unordered_map<const void*, bool> reachable_;  // container -> fully visited, filled by check_acyclic
};

int64_t parse_text_int(std::string_view text, const std::string& source) {
  if (!text.empty() && text.back() == 'L') text.remove_suffix(1);  // Python 2 long suffix
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(s.c_str(), &end, 10);
  YOLO_CHECK(!s.empty() && end == s.c_str() + s.size() && errno == 0, "{}: malformed pickle: bad integer '{}'", source,
             s);
  return value;
}

void Unpickler::step(unsigned char op) {
  using V = PickleValue;
  switch (op) {
    case 0x80: take(1); return;                   // PROTO
    case 0x95: take(8); return;                   // FRAME: framing is only a hint for buffered readers
    case 0x98: return;                            // READONLY_BUFFER
    case '(': marks_.push_back(stack_.size()); return;  // MARK
    case '0': pop(); return;                      // POP
    case '1': pop_mark(); return;                 // POP_MARK
    case '2': push(top()); return;                // DUP
    case 'N': push(V()); return;
    case 0x88: push(V(true)); return;
    case 0x89: push(V(false)); return;
    case 'J': push(V(static_cast<int64_t>(static_cast<int32_t>(le(4))))); return;  // BININT
    case 'K': push(V(static_cast<int64_t>(le(1)))); return;                         // BININT1
    case 'M': push(V(static_cast<int64_t>(le(2)))); return;                         // BININT2
    case 0x8a: push_long(take(le(1))); return;                                     // LONG1
    case 0x8b: push_long(take(le(4))); return;                                     // LONG4
    case 'I': {                                                                    // INT (text)
      const auto text = line();
      if (text == "01" || text == "00") push(V(text == "01"));
      else push(V(parse_text_int(text, source_)));
      return;
    }
    case 'L': push(V(parse_text_int(line(), source_))); return;  // LONG (text)
    case 'F': {                                                  // FLOAT (text)
      const std::string text(line());
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size()) fail("bad float '" + text + "'");
      push(V(value));
      return;
    }
    case 'G': {  // BINFLOAT: big-endian IEEE double
      const auto bytes = take(8);
      uint64_t bits = 0;
      for (const char c : bytes) bits = (bits << 8) | static_cast<unsigned char>(c);
      double value;
      std::memcpy(&value, &bits, sizeof value);
      push(V(value));
      return;
    }
    case 'X': push(V(std::string(take(le(4))))); return;     // BINUNICODE
    case 0x8c: push(V(std::string(take(le(1))))); return;    // SHORT_BINUNICODE
    case 0x8d: push(V(std::string(take(le(8))))); return;    // BINUNICODE8
    case 'U': push(V(std::string(take(le(1))))); return;     // SHORT_BINSTRING (Python 2 str)
    case 'T': push(V(std::string(take(le(4))))); return;     // BINSTRING
    case 'C': push(V::bytes(std::string(take(le(1))))); return;   // SHORT_BINBYTES
    case 'B': push(V::bytes(std::string(take(le(4))))); return;   // BINBYTES
    case 0x8e:                                                     // BINBYTES8
    case 0x96: push(V::bytes(std::string(take(le(8))))); return;  // BYTEARRAY8
    case ')': push(V::tuple()); return;
    case ']': push(V::list()); return;
    case '}': push(V::dict()); return;
    case 0x8f: push(V::set()); return;  // EMPTY_SET
    case 0x85: {                        // TUPLE1
      auto a = pop();
      push(V::tuple({std::move(a)}));
      return;
    }
    case 0x86: {  // TUPLE2
      auto b = pop(), a = pop();
      push(V::tuple({std::move(a), std::move(b)}));
      return;
    }
    case 0x87: {  // TUPLE3
      auto c = pop(), b = pop(), a = pop();
      push(V::tuple({std::move(a), std::move(b), std::move(c)}));
      return;
    }
    case 't': push(V::tuple(pop_mark())); return;
    case 'l': push(V::list(pop_mark())); return;
    case 0x91: push(V::set(pop_mark())); return;  // FROZENSET
    case 'd': {                                   // DICT
      auto dict = V::dict();
      set_items(dict, pop_mark());
      push(std::move(dict));
      return;
    }
    case 'a': {  // APPEND
      auto item = pop();
      add_items(top(), {std::move(item)});
      return;
    }
    case 'e':      // APPENDS
    case 0x90: {   // ADDITEMS
      auto items = pop_mark();
      add_items(top(), std::move(items));
      return;
    }
    case 's': {  // SETITEM
      auto value = pop(), key = pop();
      set_items(top(), {std::move(key), std::move(value)});
      return;
    }
    case 'u': {  // SETITEMS
      auto items = pop_mark();
      set_items(top(), std::move(items));
      return;
    }
    case 'q': memo_put(le(1)); return;  // BINPUT
    case 'r': memo_put(le(4)); return;  // LONG_BINPUT
    case 0x94: memo_put(memo_.size()); return;  // MEMOIZE
    case 'p': memo_put(static_cast<uint64_t>(parse_text_int(line(), source_))); return;  // PUT
    case 'h': memo_get(le(1)); return;                                                    // BINGET
    case 'j': memo_get(le(4)); return;                                                    // LONG_BINGET
    case 'g': memo_get(static_cast<uint64_t>(parse_text_int(line(), source_))); return;  // GET
    case 'c': {                                                                           // GLOBAL
      std::string module(line());
      std::string name(line());
      push(V::global(std::move(module), std::move(name)));
      return;
    }
    case 0x93: {  // STACK_GLOBAL
      auto name = pop(), module = pop();
      if (!module.is(V::Kind::String) || !name.is(V::Kind::String)) fail("STACK_GLOBAL needs two strings");
      push(V::global(module.as_string(), name.as_string()));
      return;
    }
    case 'R': {  // REDUCE
      auto args = pop();
      auto callable = pop();
      if (!args.is(V::Kind::Tuple)) fail("REDUCE arguments are a " + args.type_name() + ", not a tuple");
      reduce(std::move(callable), args.items());
      return;
    }
    case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
      auto args = pop();
      auto cls = pop();
      if (!args.is(V::Kind::Tuple)) fail("NEWOBJ arguments are a " + args.type_name() + ", not a tuple");
      reduce(std::move(cls), args.items());
      return;
    }
    case 0x92: {  // NEWOBJ_EX: keyword arguments are kept as a trailing dict
      auto kwargs = pop(), args = pop(), cls = pop();
      if (!args.is(V::Kind::Tuple)) fail("NEWOBJ_EX arguments are a " + args.type_name() + ", not a tuple");
      auto all = args.items();
      all.push_back(std::move(kwargs));
      reduce(std::move(cls), std::move(all));
      return;
    }
    case 'o': {  // OBJ: MARK cls args... OBJ
      auto items = pop_mark();
      if (items.empty()) fail("OBJ without a class");
      auto cls = items.front();
      reduce(std::move(cls), PickleValue::Items(items.begin() + 1, items.end()));
      return;
    }
    case 'b': {  // BUILD
      auto state = pop();
      build(top(), std::move(state));
      return;
    }
    case 'Q': {  // BINPERSID
      auto pid = pop();
      push(persistent_load(pid));
      return;
    }
    default:
      fail(fmt::format("unsupported opcode 0x{:02x}{}", op,
                       op >= 0x20 && op < 0x7f ? fmt::format(" ('{}')", static_cast<char>(op)) : std::string()));
  }
}

void Unpickler::push_long(std::string_view bytes) {
  // Little-endian two's complement of any width; wider than 64 bits stays an inert record.
  if (bytes.size() > 8) {
    push(PickleValue::object({"builtins", "int", {PickleValue::bytes(std::string(bytes))}, nullptr, {}, {}}));
    return;
  }
  uint64_t value = 0;
  for (size_t i = bytes.size(); i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  if (!bytes.empty() && bytes.size() < 8 && (static_cast<unsigned char>(bytes.back()) & 0x80))
    value |= ~uint64_t{0} << (8 * bytes.size());  // sign-extend
  push(PickleValue(static_cast<int64_t>(value)));
}

void Unpickler::reduce(PickleValue callable, PickleValue::Items args) {
  if (!callable.is(PickleValue::Kind::Global))
    fail("calls a " + callable.type_name() + "; only module-level callables can be recorded");
  const auto& global = callable.as_object();
  push(interpret(global.module, global.name, args));
}

PickleValue Unpickler::interpret(const std::string& module, const std::string& name, PickleValue::Items& args) {
  using V = PickleValue;
  using K = V::Kind;
  const auto callee = module + "." + name;
  const auto arg_is = [&](size_t i, K kind) { return args.size() > i && args[i].is(kind); };
  if (module == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_tensor"))
    return rebuild_tensor(args, callee);
  if (module == "torch._utils" && (name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state")) {
    if (args.empty()) fail(callee + " without arguments");
    return args[0];  // a Parameter is its data for our purposes; requires_grad and hooks do not matter
  }
  if ((module == "collections" && name == "OrderedDict") ||
      ((module == "builtins" || module == "__builtin__") && name == "dict")) {
    auto dict = V::dict();
    if (arg_is(0, K::List) || arg_is(0, K::Tuple)) {
      for (const auto& pair : args[0].items()) {
        if (!pair.is(K::Tuple) || pair.items().size() != 2) fail(callee + " with an item that is not a pair");
        dict.set_item(pair.items()[0], pair.items()[1]);
      }
    }
    return dict;
  }
  if (module == "torch" && name == "Size") {
    if (!arg_is(0, K::Tuple)) fail("torch.Size needs a tuple");
    return V::tuple(args[0].items());
  }
  if ((module == "builtins" || module == "__builtin__") && (name == "set" || name == "frozenset")) {
    if (args.empty()) return V::set();
    if (!arg_is(0, K::List) && !arg_is(0, K::Tuple) && !arg_is(0, K::Set)) fail(callee + " needs a list");
    return V::set(args[0].items());
  }
  if (module == "torch" && name == "device" && arg_is(0, K::String)) {
    return arg_is(1, K::Int) ? V(fmt::format("{}:{}", args[0].as_string(), args[1].as_int())) : args[0];
  }
  if (module == "_codecs" && name == "encode" && arg_is(0, K::String)) {
    // How protocol 2 spells bytes: _codecs.encode(text, 'latin1'), each code point < 256 one byte.
    const auto& text = args[0].as_string();
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x80) out.push_back(static_cast<char>(c));
      else if ((c & 0xE0) == 0xC0 && i + 1 < text.size())
        out.push_back(static_cast<char>(((c & 0x1F) << 6) | (static_cast<unsigned char>(text[++i]) & 0x3F)));
      else fail("_codecs.encode of text outside latin-1");
    }
    return V::bytes(std::move(out));
  }
  if ((module == "numpy.core.multiarray" || module == "numpy._core.multiarray") && name == "scalar" &&
      arg_is(0, K::Object) && arg_is(1, K::Bytes)) {
    // numpy.float64(x) and friends: numpy.dtype('<code>') and the raw little-endian bytes.
    const auto& dtype = args[0].as_object();
    const auto& raw = args[1].as_bytes();
    if (dtype.name == "dtype" && !dtype.args.empty() && dtype.args[0].is(K::String)) {
      const auto& code = dtype.args[0].as_string();
      if (code == "f8" && raw.size() == 8) {
        double v;
        std::memcpy(&v, raw.data(), 8);
        return V(v);
      }
      if (code == "f4" && raw.size() == 4) {
        float v;
        std::memcpy(&v, raw.data(), 4);
        return V(static_cast<double>(v));
      }
      if (code == "i8" && raw.size() == 8) {
        int64_t v;
        std::memcpy(&v, raw.data(), 8);
        return V(v);
      }
    }
  }
  // Everything else (nn.Module classes, namespaces, datetime, os.system...) is only recorded.
  return V::object({module, name, std::move(args), nullptr, {}, {}});
}

PickleValue Unpickler::rebuild_tensor(const PickleValue::Items& args, const std::string& callee) {
  using K = PickleValue::Kind;
  if (args.size() < 4 || !args[0].is(K::Storage) || !args[1].is(K::Int) || !args[2].is(K::Tuple) ||
      !args[3].is(K::Tuple))
    fail(callee + " with arguments that are not (storage, offset, size, stride, ...)");
  TensorSpec spec;
  spec.storage = args[0].as_storage();
  spec.storage_offset = args[1].as_int();
  for (const auto& s : args[2].items()) {
    if (!s.is(K::Int)) fail(callee + ": a size is not an int");
    spec.sizes.push_back(s.as_int());
  }
  for (const auto& s : args[3].items()) {
    if (!s.is(K::Int)) fail(callee + ": a stride is not an int");
    spec.strides.push_back(s.as_int());
  }
  if (spec.sizes.size() != spec.strides.size()) fail(callee + ": sizes and strides differ in length");
  spec.requires_grad = args.size() > 4 && args[4].is(K::Bool) && args[4].as_bool();
  if (!make_tensor_) return PickleValue::object({"torch._utils", "_rebuild_tensor_v2", args, nullptr, {}, {}});
  return make_tensor_(spec);
}

PickleValue Unpickler::persistent_load(const PickleValue& pid) {
  using K = PickleValue::Kind;
  const auto item_is = [&](size_t i, K kind) { return pid.items().size() > i && pid.items()[i].is(kind); };
  if (!pid.is(K::Tuple) || !item_is(0, K::String)) fail("a persistent id is not a ('storage', ...) tuple");
  const auto& items = pid.items();
  // Files written before PyTorch 1.6 name the class of each pickled nn.Module as ('module', class,
  // source file, source); the class stands for itself, as a recorded global.
  if (items[0].as_string() == "module" && items.size() == 4 && items[1].is(K::Global)) return items[1];
  const bool view = items.size() == 6;  // legacy files add a view: None or (view key, offset, numel)
  const bool well_formed = items[0].as_string() == "storage" && (items.size() == 5 || view) && item_is(1, K::Global) &&
                           (item_is(2, K::String) || item_is(2, K::Int)) && item_is(3, K::String) &&
                           item_is(4, K::Int) && (!view || items[5].is_none() || items[5].is(K::Tuple));
  if (!well_formed) fail("a persistent id is not ('storage', type, key, location, numel[, view])");
  const auto& type = items[1].as_object();
  StorageRef ref;
  bool known = false;
  for (const auto& s : kStorageNames) {
    if (type.name == s.name && (type.module == "torch" || type.module == "torch.storage" || type.module == "torch.cuda")) {
      ref.dtype = s.dtype;
      known = true;
    }
  }
  if (!known) fail("unknown storage type " + type.module + "." + type.name);
  ref.key = items[2].is(K::Int) ? std::to_string(items[2].as_int()) : items[2].as_string();
  ref.location = items[3].as_string();
  ref.numel = items[4].as_int();
  if (ref.numel < 0) fail("negative storage size");
  if (view && !items[5].is_none()) {
    const auto& v = items[5].items();
    if (v.size() != 3 || !v[1].is(K::Int) || !v[2].is(K::Int)) fail("a storage view is not (key, offset, numel)");
    ref.view_offset = v[1].as_int();
    ref.view_numel = v[2].as_int();
    if (ref.view_offset < 0 || ref.view_numel < 0 || ref.view_offset > ref.numel ||
        ref.view_numel > ref.numel - ref.view_offset)
      fail(fmt::format("a view of elements [{}, +{}) of storage '{}', which holds {}", ref.view_offset, ref.view_numel,
                       ref.key, ref.numel));
  }
  return PickleValue::storage(std::move(ref));
}

void Unpickler::add_items(PickleValue& target, PickleValue::Items values) {
  using K = PickleValue::Kind;
  if (target.is(K::List) || target.is(K::Set)) {
    for (auto& v : values) target.append(std::move(v));
  } else if (target.is(K::Object)) {
    auto& items = target.as_object().list_items;
    for (auto& v : values) items.push_back(std::move(v));
  } else {
    fail("APPEND to a " + target.type_name());
  }
}

void Unpickler::set_items(PickleValue& target, PickleValue::Items values) {
  using K = PickleValue::Kind;
  if (values.size() % 2 != 0) fail("SETITEMS with an odd number of values");
  for (size_t i = 0; i < values.size(); i += 2) {
    if (target.is(K::Dict)) target.set_item(std::move(values[i]), std::move(values[i + 1]));
    else if (target.is(K::Object)) target.as_object().dict_items.emplace_back(std::move(values[i]), std::move(values[i + 1]));
    else fail("SETITEM on a " + target.type_name());
  }
}

void Unpickler::build(PickleValue& target, PickleValue state) {
  if (target.is(PickleValue::Kind::Object)) {
    target.as_object().state = std::make_shared<PickleValue>(std::move(state));
    return;
  }
  // State on interpreted values (a state dict's _metadata, a Parameter's hooks) is not needed.
  if (target.is(PickleValue::Kind::Global) || target.is_none()) fail("BUILD on a " + target.type_name());
  log_debug("{}: ignoring pickled state of a {}", source_, target.type_name());
}

/// Rejects reference cycles and nesting past the depth limit, in one pass that visits each
/// container once (shared sub-trees are not walked twice).
void Unpickler::check_acyclic(const PickleValue& root) {
  // On failure the marks are dropped, so that the destructor clears every container.
  struct DropOnFailure {
    std::unordered_map<const void*, bool>& marks;
    bool done = false;
    ~DropOnFailure() {
      if (!done) marks.clear();
    }
  } guard{reachable_};
  auto& marks = reachable_;
  const std::function<void(const PickleValue&, size_t)> visit = [&](const PickleValue& v, size_t depth) {
    using K = PickleValue::Kind;
    const auto kind = v.kind();
    if (kind != K::List && kind != K::Tuple && kind != K::Set && kind != K::Dict && kind != K::Object) return;
    YOLO_CHECK(depth < limits_.max_depth, "{}: pickle nests deeper than {} levels — not a checkpoint we can read",
               source_, limits_.max_depth);
    const auto [it, inserted] = marks.emplace(v.identity(), false);
    if (!inserted) {
      YOLO_CHECK(it->second, "{}: pickle contains a reference cycle — not a checkpoint we can read",
                 source_);
      return;
    }
    if (kind == K::Dict) {
      for (const auto& [key, value] : v.dict_items()) {
        visit(key, depth + 1);
        visit(value, depth + 1);
      }
    } else if (kind == K::Object) {
      const auto& o = v.as_object();
      for (const auto& a : o.args) visit(a, depth + 1);
      if (o.state) visit(*o.state, depth + 1);
      for (const auto& a : o.list_items) visit(a, depth + 1);
      for (const auto& [key, value] : o.dict_items) {
        visit(key, depth + 1);
        visit(value, depth + 1);
      }
    } else {
      for (const auto& item : v.items()) visit(item, depth + 1);
    }
    marks[v.identity()] = true;
  };
  visit(root, 0);
  guard.done = true;
}

// ---- the pickler -----------------------------------------------------------------------------

class Pickler {
 public:
  explicit Pickler(const TensorSaver& save_tensor) : save_tensor_(save_tensor) {}

  std::string run(const PickleValue& root) {
    out_ += "\x80\x02";  // PROTO 2, as torch.save
    write(root, 0);
    out_ += '.';
    return std::move(out_);
  }

 private:
  static constexpr size_t kBatch = 1000;  // items per APPENDS/SETITEMS, as CPython batches them
  static constexpr size_t kMaxDepth = 500;

  void le(uint64_t value, int width) {
    for (int i = 0; i < width; ++i) out_.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  }
  void text(const std::string& s) {
    out_ += 'X';  // BINUNICODE
    le(s.size(), 4);
    out_ += s;
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      out_ += 'K';
      le(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v < 65536) {
      out_ += 'M';
      le(static_cast<uint64_t>(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      out_ += 'J';
      le(static_cast<uint32_t>(static_cast<int32_t>(v)), 4);
    } else {
      out_ += '\x8a';  // LONG1 with 8 bytes of two's complement
      out_ += '\x08';
      le(static_cast<uint64_t>(v), 8);
    }
  }
  void global(const char* module, const char* name) {
    out_ += 'c';
    out_ += module;
    out_ += '\n';
    out_ += name;
    out_ += '\n';
  }
  void int_tuple(const std::vector<int64_t>& values) {
    out_ += '(';
    for (const auto v : values) integer(v);
    out_ += 't';
  }

  void tensor(const at::Tensor& t) {
    const TensorSpec spec = save_tensor_(t);
    const char* storage_type = nullptr;
    for (const auto& s : kStorageNames)
      if (s.dtype == spec.storage.dtype && !storage_type) storage_type = s.name;
    global("torch._utils", "_rebuild_tensor_v2");
    out_ += '(';
    // Persistent id ('storage', torch.<T>Storage, key, location, numel): the storage lives in the zip.
    out_ += '(';
    text("storage");
    global("torch", storage_type);
    text(spec.storage.key);
    text(spec.storage.location);
    integer(spec.storage.numel);
    out_ += "tQ";  // TUPLE, BINPERSID
    integer(spec.storage_offset);
    int_tuple(spec.sizes);
    int_tuple(spec.strides);
    out_ += spec.requires_grad ? '\x88' : '\x89';
    global("collections", "OrderedDict");  // backward hooks: always empty
    out_ += ")R";
    out_ += "tR";
  }

  void write(const PickleValue& v, size_t depth) {
    using K = PickleValue::Kind;
    YOLO_CHECK(depth < kMaxDepth, "cannot pickle values nested deeper than {} levels (a reference cycle?)", kMaxDepth);
    switch (v.kind()) {
      case K::None: out_ += 'N'; return;
      case K::Bool: out_ += v.as_bool() ? '\x88' : '\x89'; return;
      case K::Int: integer(v.as_int()); return;
      case K::Float: {
        out_ += 'G';
        const double d = v.as_float();
        uint64_t bits;
        std::memcpy(&bits, &d, sizeof bits);
        for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
        return;
      }
      case K::String: text(v.as_string()); return;
      case K::Bytes: {
        const auto& b = v.as_bytes();
        out_ += 'B';  // BINBYTES
        le(b.size(), 4);
        out_ += b;
        return;
      }
      case K::Tuple: {
        const auto& items = v.items();
        if (items.empty()) {
          out_ += ')';
          return;
        }
        out_ += '(';
        for (const auto& item : items) write(item, depth + 1);
        out_ += 't';
        return;
      }
      case K::List: {
        out_ += ']';
        const auto& items = v.items();
        for (size_t i = 0; i < items.size(); i += kBatch) {
          out_ += '(';
          for (size_t j = i; j < std::min(items.size(), i + kBatch); ++j) write(items[j], depth + 1);
          out_ += 'e';
        }
        return;
      }
      case K::Dict: {
        out_ += '}';
        const auto& items = v.dict_items();
        for (size_t i = 0; i < items.size(); i += kBatch) {
          out_ += '(';
          for (size_t j = i; j < std::min(items.size(), i + kBatch); ++j) {
            write(items[j].first, depth + 1);
            write(items[j].second, depth + 1);
          }
          out_ += 'u';
        }
        return;
      }
      case K::Tensor: tensor(v.as_tensor()); return;
      default:
        YOLO_FAIL("cannot write a pickled {}: checkpoints hold only plain values and tensors", v.type_name());
    }
  }

  const TensorSaver& save_tensor_;
  std::string out_;
};

}  // namespace

PickleValue unpickle(std::string_view data, const std::string& source_name, const TensorMaker& make_tensor,
                     const UnpickleLimits& limits) {
  return Unpickler(data, 0, source_name, make_tensor, limits).run();
}

PickleValue unpickle_next(std::string_view data, size_t& offset, const std::string& source_name,
                          const TensorMaker& make_tensor, const UnpickleLimits& limits) {
  YOLO_CHECK(offset <= data.size(), "{}: a pickle starts at byte {}, past the end of the data", source_name, offset);
  Unpickler unpickler(data, offset, source_name, make_tensor, limits);
  PickleValue value = unpickler.run();
  offset = unpickler.position();
  return value;
}

std::string pickle(const PickleValue& root, const TensorSaver& save_tensor) { return Pickler(save_tensor).run(root); }

}  // namespace io
YOLO_END_NAMESPACE
