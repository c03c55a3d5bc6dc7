#include "io/legacy_format.h"

#include <cstdint>
#include <unordered_set>

#include "io/pickle.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

namespace {

using Kind = PickleValue::Kind;

/// torch.save's magic number 0x1950a86a20f9469cfc6c as pickle stores it (LONG1: little-endian bytes);
/// wider than 64 bits, the unpickler keeps it as a builtins.int record of those bytes.
constexpr std::string_view kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
constexpr int64_t kProtocolVersion = 1001;

bool is_magic_number(const PickleValue& value) {
  if (!value.is(Kind::Object)) return false;
  const auto& number = value.as_object();
  return number.module == "builtins" && number.name == "int" && number.args.size() == 1 &&
         number.args[0].is(Kind::Bytes) && number.args[0].as_bytes() == kMagic;
}

/// Every storage the saved object names, by key: in its tensor records and as bare storages.
class StorageCollector {
 public:
  explicit StorageCollector(const std::string& source) : source_(source) {}

  std::unordered_map<std::string, StorageRef> collect(const PickleValue& root) {
    visit(root);
    return std::move(storages_);
  }

 private:
  // The unpickler has already refused cycles and nesting past its depth limit; shared sub-trees are
  // visited once.
  void visit(const PickleValue& value) {
    const auto kind = value.kind();
    if (kind == Kind::Storage) return add(value.as_storage());
    if (kind != Kind::List && kind != Kind::Tuple && kind != Kind::Set && kind != Kind::Dict && kind != Kind::Object)
      return;
    if (!visited_.insert(value.identity()).second) return;
    if (kind == Kind::Dict) {
      for (const auto& [key, item] : value.dict_items()) visit(key), visit(item);
    } else if (kind == Kind::Object) {
      const auto& object = value.as_object();
      for (const auto& arg : object.args) visit(arg);
      if (object.state) visit(*object.state);
      for (const auto& item : object.list_items) visit(item);
      for (const auto& [key, item] : object.dict_items) visit(key), visit(item);
    } else {
      for (const auto& item : value.items()) visit(item);
    }
  }

  void add(const StorageRef& ref) {
    const auto [it, inserted] = storages_.emplace(ref.key, ref);
    YOLO_CHECK(inserted || (it->second.dtype == ref.dtype && it->second.numel == ref.numel),
               "{}: corrupt checkpoint: storage '{}' is named as {} {} and as {} {} elements", source_, ref.key,
               it->second.numel, dtype_name(it->second.dtype), ref.numel, dtype_name(ref.dtype));
  }

  const std::string& source_;
  std::unordered_map<std::string, StorageRef> storages_;
  std::unordered_set<const void*> visited_;
};

int64_t read_int64_le(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 8; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return static_cast<int64_t>(value);
}

}  // namespace

bool looks_like_legacy_checkpoint(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
}

LegacyLayout read_legacy_layout(std::string_view bytes, const std::string& source) {
  const std::string format = "PyTorch's legacy checkpoint format (torch.save before 1.6)";
  size_t offset = 0;
  const PickleValue magic = unpickle_next(bytes, offset, source + ": the magic number");
  YOLO_CHECK(is_magic_number(magic),
             "{}: not a PyTorch checkpoint: it starts with a pickle ({}) but not with the magic number of {}", source,
             magic.type_name(), format);
  const PickleValue protocol = unpickle_next(bytes, offset, source + ": the protocol version");
  YOLO_CHECK(protocol.is(Kind::Int) && protocol.as_int() == kProtocolVersion,
             "{}: corrupt checkpoint: {} has protocol version {}, where {} was expected", source, format,
             protocol.is(Kind::Int) ? std::to_string(protocol.as_int()) : "a " + protocol.type_name(),
             kProtocolVersion);
  const PickleValue sys_info = unpickle_next(bytes, offset, source + ": the system info");
  const PickleValue* little_endian = sys_info.find("little_endian");
  YOLO_CHECK(little_endian && little_endian->is(Kind::Bool),
             "{}: corrupt checkpoint: its system info (a {}) does not say little_endian=True or False", source,
             sys_info.type_name());
  YOLO_CHECK(little_endian->as_bool(),
             "{}: written on a big-endian machine (little_endian=False), whose byte order cannot be read here; "
             "re-save it on a little-endian machine",
             source);

  LegacyLayout layout;
  layout.object_offset = offset;
  // The storages' bytes follow the object: read it once without tensors to learn each storage's
  // element type and size; the caller reads it again to make the tensors.
  const auto named = StorageCollector(source).collect(unpickle_next(bytes, offset, source));

  const PickleValue keys = unpickle_next(bytes, offset, source + ": the storage key list");
  YOLO_CHECK(keys.is(Kind::List), "{}: corrupt checkpoint: the storage key list is a {}, not a list", source,
             keys.type_name());
  for (const auto& key_value : keys.items()) {
    YOLO_CHECK(key_value.is(Kind::String) || key_value.is(Kind::Int),
               "{}: corrupt checkpoint: a storage key is a {}, not a str", source, key_value.type_name());
    const std::string key = key_value.is(Kind::Int) ? std::to_string(key_value.as_int()) : key_value.as_string();
    const auto ref = named.find(key);
    YOLO_CHECK(ref != named.end(), "{}: corrupt checkpoint: the storage key list names '{}', which the object never uses",
               source, key);
    YOLO_CHECK(!layout.storages.count(key), "{}: corrupt checkpoint: storage '{}' is listed twice", source, key);
    YOLO_CHECK(bytes.size() - offset >= 8,
               "{}: truncated checkpoint: storage '{}' should start at byte {}, but the file ends at byte {}", source,
               key, offset, bytes.size());
    const int64_t count = read_int64_le(bytes.substr(offset, 8));
    YOLO_CHECK(count == ref->second.numel,
               "{}: corrupt checkpoint: storage '{}' at byte {} says it holds {} elements, but the object declares {}",
               source, key, offset, count, ref->second.numel);
    offset += 8;
    uint64_t size = 0;
    YOLO_CHECK(!__builtin_mul_overflow(static_cast<uint64_t>(count), element_size(ref->second.dtype), &size) &&
                   size <= bytes.size() - offset,
               "{}: truncated checkpoint: storage '{}' needs {} {} elements from byte {}, but the file ends at byte {}",
               source, key, count, dtype_name(ref->second.dtype), offset, bytes.size());
    layout.storages.emplace(key, bytes.substr(offset, size));
    offset += size;
  }
  for (const auto& [key, ref] : named)
    YOLO_CHECK(layout.storages.count(key),
               "{}: corrupt checkpoint: the object uses storage '{}', which the storage key list does not name", source,
               key);
  if (offset < bytes.size())
    log_warning("{}: ignoring {} bytes after the last storage (torch.load ignores them too)", source,
                bytes.size() - offset);
  return layout;
}

}  // namespace io
YOLO_END_NAMESPACE
