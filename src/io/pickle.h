#pragma once
// Python pickles as inert values. Nothing in a pickle is ever executed: calls to a few known
// callables (tensor rebuilding, OrderedDict, torch.Size, set...) are interpreted, every other call
// becomes an Object record that names the callable and keeps its arguments and state.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "yolo/version.h"

namespace at {
class Tensor;  // LibTorch's tensor; only the .cpp files that make or read tensors need its definition
}

YOLO_BEGIN_NAMESPACE
namespace io {

/// Element types of PyTorch storages.
enum class DType { Float16, BFloat16, Float32, Float64, Int64, Int32, Int16, Int8, UInt8, Bool };
size_t element_size(DType dtype);
/// "float16", "int64"... as torch spells them after "torch.".
std::string_view dtype_name(DType dtype);

/// A storage that a pickle refers to by persistent id ('storage', torch.FloatStorage, key, location, numel),
/// which files written before PyTorch 1.6 follow with a view: None or (view key, offset, numel).
struct StorageRef {
  std::string key;  ///< the zip entry <archive>/data/<key>, or the legacy file's storage key
  DType dtype = DType::Float32;
  std::string location;  ///< "cpu", "cuda:0"...
  int64_t numel = 0;     ///< in elements of dtype
  /// A legacy storage view: elements [view_offset, view_offset + view_numel) of the storage;
  /// view_numel is -1 when the whole storage is meant.
  int64_t view_offset = 0;
  int64_t view_numel = -1;
};

/// What torch._utils._rebuild_tensor_v2 receives: a strided view of a storage.
struct TensorSpec {
  StorageRef storage;
  int64_t storage_offset = 0;
  std::vector<int64_t> sizes, strides;
  bool requires_grad = false;
};

/// A value from (or for) a pickle. Containers have reference semantics, as in Python: copies of a
/// PickleValue share the same list or dict, which is what the pickle memo needs.
class PickleValue {
 public:
  enum class Kind { None, Bool, Int, Float, String, Bytes, List, Tuple, Set, Dict, Tensor, Storage, Global, Object };
  using Items = std::vector<PickleValue>;
  using DictItems = std::vector<std::pair<PickleValue, PickleValue>>;  // insertion order kept

  /// A call the reader did not interpret (module.name(*args), then BUILD(state), then items added).
  struct Object {
    std::string module, name;
    Items args;
    std::shared_ptr<PickleValue> state;  ///< nullptr without BUILD; often a Dict (the object's __dict__)
    Items list_items;                    ///< APPEND(S) onto the object (list subclasses)
    DictItems dict_items;                ///< SETITEM(S) onto the object (dict subclasses)
  };

  PickleValue();  ///< None
  PickleValue(bool value);
  PickleValue(int value);
  PickleValue(int64_t value);
  PickleValue(double value);
  PickleValue(const char* text);
  PickleValue(std::string text);
  PickleValue(const at::Tensor& tensor);

  static PickleValue bytes(std::string data);
  static PickleValue list(Items items = {});
  static PickleValue tuple(Items items = {});
  static PickleValue set(Items items = {});
  static PickleValue dict(DictItems items = {});
  static PickleValue storage(StorageRef ref);
  /// A reference to module.name that was not called (torch.float16, a class...).
  static PickleValue global(std::string module, std::string name);
  static PickleValue object(Object object);

  Kind kind() const;
  bool is(Kind kind) const { return this->kind() == kind; }
  bool is_none() const { return is(Kind::None); }
  /// "dict", "list", "Object ultralytics.nn.tasks.DetectionModel"...: for error messages.
  std::string type_name() const;

  // Typed access: each throws yolo::Error naming the expected and actual types on a mismatch.
  bool as_bool() const;
  int64_t as_int() const;
  double as_float() const;  ///< also accepts an Int
  const std::string& as_string() const;
  const std::string& as_bytes() const;
  const Items& items() const;  ///< of a List, Tuple or Set
  const DictItems& dict_items() const;
  const at::Tensor& as_tensor() const;
  const StorageRef& as_storage() const;
  const Object& as_object() const;  ///< also for a Global: module and name, no args
  Object& as_object();

  /// The value under a string key of a Dict, or nullptr (also for non-dicts).
  const PickleValue* find(std::string_view key) const;
  /// The value under a string key of a Dict; throws yolo::Error when missing.
  const PickleValue& at(std::string_view key) const;

  // Building: for writers and for the reader itself.
  void append(PickleValue item);                 ///< List or Set
  void set_item(PickleValue key, PickleValue value);  ///< Dict: replaces an equal string/int key

  /// Identity of the shared node (for cycle checks).
  const void* identity() const { return node_.get(); }
  /// Drops the children of a container (breaks reference cycles before destruction).
  void clear_children();

 private:
  struct Node;
  static std::shared_ptr<Node> make_node(Kind kind);
  static std::shared_ptr<Node> tensor_node(std::shared_ptr<const at::Tensor> tensor);
  explicit PickleValue(std::shared_ptr<Node> node) : node_(std::move(node)) {}
  const Node& node() const;
  Node& mutable_node();
  std::shared_ptr<Node> node_;  // nullptr is None
};

/// Makes a tensor value from a spec (the checkpoint reader maps it onto the zip storages).
using TensorMaker = std::function<PickleValue(const TensorSpec&)>;

/// Limits that keep a hostile pickle from exhausting memory or the stack.
struct UnpickleLimits {
  size_t max_depth = 500;          ///< nesting of containers and objects
  size_t max_memo = 10'000'000;    ///< memo entries
};

/// Reads a pickle: every opcode of protocols 2-5 but out-of-band buffers and the extension registry,
/// and the text opcodes of protocols 0-1 that numbers, memo and globals use.
/// Tensors are built by `make_tensor`; without one they stay as Object records of the rebuild call.
/// Throws yolo::Error, prefixed with `source_name`, for anything malformed.
PickleValue unpickle(std::string_view data, const std::string& source_name, const TensorMaker& make_tensor = {},
                     const UnpickleLimits& limits = {});
/// Reads one pickle of several written back to back (torch.save's format before PyTorch 1.6): from
/// data[offset] to its STOP opcode, then moves `offset` past it. Errors give offsets within `data`.
PickleValue unpickle_next(std::string_view data, size_t& offset, const std::string& source_name,
                          const TensorMaker& make_tensor = {}, const UnpickleLimits& limits = {});

/// How the pickler stores a tensor: it returns the storage (key, dtype, numel) and view it wrote.
using TensorSaver = std::function<TensorSpec(const at::Tensor&)>;

/// Writes a protocol-2 pickle of plain values (None, bools, ints, floats, strings, bytes, lists,
/// tuples, dicts) and tensors, in the form torch.load(weights_only=True) accepts.
std::string pickle(const PickleValue& root, const TensorSaver& save_tensor);

}  // namespace io
YOLO_END_NAMESPACE
