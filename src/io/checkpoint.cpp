#include "io/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string_view>
#include <unordered_map>

#include "io/legacy_format.h"
#include "io/weights.h"
#include "io/zip.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

// Defined here, next to the other LibTorch code, so that the pickle layer compiles without it.
PickleValue::PickleValue(const at::Tensor& tensor) : node_(tensor_node(std::make_shared<const at::Tensor>(tensor))) {}

namespace {

using Kind = PickleValue::Kind;

torch::Dtype to_torch(DType dtype) {
  switch (dtype) {
    case DType::Float16: return torch::kFloat16;
    case DType::BFloat16: return torch::kBFloat16;
    case DType::Float32: return torch::kFloat32;
    case DType::Float64: return torch::kFloat64;
    case DType::Int64: return torch::kInt64;
    case DType::Int32: return torch::kInt32;
    case DType::Int16: return torch::kInt16;
    case DType::Int8: return torch::kInt8;
    case DType::UInt8: return torch::kUInt8;
    case DType::Bool: return torch::kBool;
  }
  return torch::kFloat32;
}

DType from_torch(torch::Dtype dtype) {
  for (const DType d : {DType::Float16, DType::BFloat16, DType::Float32, DType::Float64, DType::Int64, DType::Int32,
                        DType::Int16, DType::Int8, DType::UInt8, DType::Bool})
    if (to_torch(d) == dtype) return d;
  YOLO_FAIL("cannot save a tensor of dtype {} in a checkpoint", c10::toString(dtype));
}

/// Runs `read` and prefixes any yolo::Error it throws with the file and the entry being read.
template <typename F>
auto in_context(const std::string& source, const std::string& what, F&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const Error& e) {
    YOLO_FAIL("{}: {}: {}", source, what, e.what());
  }
}

// ---- reading ---------------------------------------------------------------------------------

/// The raw bytes of a storage: a zip entry or a slice of a legacy file; throws when there are none.
using StorageBytes = std::function<std::string_view(const StorageRef&)>;

/// Maps the tensors of a pickle onto the storages of the file, checking every view. Each storage is
/// copied out once; tensors over it are views of that copy, made contiguous.
class StorageTensors {
 public:
  StorageTensors(std::string source, StorageBytes bytes_of) : source_(std::move(source)), bytes_of_(std::move(bytes_of)) {}

  PickleValue operator()(const TensorSpec& spec) {
    const auto& ref = spec.storage;
    const torch::Tensor storage = load(ref);
    // A legacy storage view is a slice of its storage: the tensor's offset and reach count within it.
    const bool slice = ref.view_numel >= 0;
    const int64_t base = slice ? ref.view_offset : 0, storage_numel = slice ? ref.view_numel : ref.numel;
    int64_t numel = 1, last = spec.storage_offset;
    YOLO_CHECK(spec.storage_offset >= 0, "{}: tensor with negative storage offset {}", source_, spec.storage_offset);
    for (size_t i = 0; i < spec.sizes.size(); ++i) {
      const int64_t size = spec.sizes[i], stride = spec.strides[i];
      YOLO_CHECK(size >= 0 && stride >= 0, "{}: tensor with negative size or stride in storage '{}'", source_, ref.key);
      int64_t reach = 0;
      YOLO_CHECK(!__builtin_mul_overflow(numel, size, &numel) &&
                     (size == 0 || (!__builtin_mul_overflow(size - 1, stride, &reach) &&
                                    !__builtin_add_overflow(last, reach, &last))),
                 "{}: tensor shape overflows in storage '{}'", source_, ref.key);
    }
    YOLO_CHECK(numel == 0 || last < storage_numel,
               "{}: corrupt checkpoint: a tensor view reaches element {} of storage '{}'{}, which holds {}", source_, last,
               ref.key, slice ? fmt::format(" (a view from element {})", base) : "", storage_numel);
    // Stride-0 views can describe huge tensors over tiny storages: refuse what no checkpoint holds.
    constexpr int64_t kMaxExpansion = int64_t{1} << 20;
    YOLO_CHECK(numel <= std::max(storage_numel, kMaxExpansion),
               "{}: corrupt checkpoint: a {}-element tensor over a {}-element storage", source_, numel, storage_numel);
    if (numel == 0) return PickleValue(torch::empty(spec.sizes, storage.options()));
    return PickleValue(storage.as_strided(spec.sizes, spec.strides, base + spec.storage_offset).contiguous());
  }

 private:
  torch::Tensor load(const StorageRef& ref) {
    const auto cached = storages_.find(ref.key);
    if (cached != storages_.end()) {
      YOLO_CHECK(cached->second.scalar_type() == to_torch(ref.dtype) && cached->second.numel() == ref.numel,
                 "{}: storage '{}' is used with two different types or sizes", source_, ref.key);
      return cached->second;
    }
    const std::string_view data = bytes_of_(ref);
    uint64_t bytes = 0;
    YOLO_CHECK(!__builtin_mul_overflow(static_cast<uint64_t>(ref.numel), element_size(ref.dtype), &bytes) &&
                   bytes <= data.size(),
               "{}: corrupt checkpoint: storage '{}' should hold {} {} elements but its data has only {} bytes", source_,
               ref.key, ref.numel, dtype_name(ref.dtype), data.size());
    torch::Tensor storage = torch::empty({ref.numel}, torch::TensorOptions().dtype(to_torch(ref.dtype)));
    if (bytes > 0) std::memcpy(storage.data_ptr(), data.data(), bytes);
    storages_.emplace(ref.key, storage);
    return storage;
  }

  std::string source_;
  StorageBytes bytes_of_;
  std::unordered_map<std::string, torch::Tensor> storages_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  YOLO_CHECK(in, "{}: cannot open the checkpoint: {}", path, std::strerror(errno));
  const std::streamoff size = in.tellg();
  YOLO_CHECK(size >= 0, "{}: cannot read the checkpoint (not a regular file?)", path);
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(bytes.data(), size);
  YOLO_CHECK(in.gcount() == size, "{}: cannot read the checkpoint: {}", path, std::strerror(errno));
  return bytes;
}

[[noreturn]] void reject_unknown_format(std::string_view bytes, const std::string& source) {
  YOLO_CHECK(!bytes.empty(), "{}: the file is empty — not a PyTorch checkpoint", source);
  YOLO_CHECK(!(bytes.size() > 262 && bytes.substr(257, 5) == "ustar"),
             "{}: a tar archive: PyTorch's first checkpoint format (torch.save before 0.1.10), which cannot be read "
             "here; re-save it with a newer torch: torch.save(torch.load(path), path)",
             source);
  YOLO_FAIL("{}: not a PyTorch checkpoint (neither a zip archive nor torch.save's legacy format) — was it written "
            "by torch.save?",
            source);
}

Checkpoint load_zip_checkpoint(std::string bytes, const std::string& source_name) {
  const ZipReader zip(std::make_shared<const std::string>(std::move(bytes)), source_name);
  // torch.save names the archive's top folder after the file ("archive", "last"...): find its data.pkl.
  const ZipEntry* pickle_entry = nullptr;
  bool torchscript = false;
  for (const auto& entry : zip.entries()) {
    const auto slash = entry.name.find('/');
    if (slash == std::string::npos) continue;
    const auto rest = std::string_view(entry.name).substr(slash + 1);
    if (rest == "data.pkl" && !pickle_entry) pickle_entry = &entry;
    if (rest == "constants.pkl") torchscript = true;
  }
  YOLO_CHECK(pickle_entry || !torchscript,
             "{}: a TorchScript archive (torch.jit.save), not a checkpoint — give the .pt that training wrote",
             source_name);
  YOLO_CHECK(pickle_entry,
             "{}: not a PyTorch checkpoint (no data.pkl in the zip archive) — was it written by torch.save?",
             source_name);
  const std::string prefix = pickle_entry->name.substr(0, pickle_entry->name.find('/') + 1);
  if (const ZipEntry* order = zip.find(prefix + "byteorder"))
    YOLO_CHECK(zip.read(*order) == "little", "{}: big-endian checkpoints are not supported", source_name);
  StorageTensors tensors(source_name, [&](const StorageRef& ref) {
    const std::string name = prefix + "data/" + ref.key;
    const ZipEntry* entry = zip.find(name);
    YOLO_CHECK(entry, "{}: corrupt checkpoint: the pickle refers to storage '{}' but the archive has no '{}'",
               source_name, ref.key, name);
    return zip.read(*entry);
  });
  PickleValue root = unpickle(zip.read(*pickle_entry), source_name + ": " + pickle_entry->name,
                              [&](const TensorSpec& spec) { return tensors(spec); });
  return Checkpoint(std::move(root), source_name);
}

/// torch.save's format before PyTorch 1.6 (io/legacy_format.h): the layout is checked first, then the
/// object's pickle is read with its tensors over the storages' bytes.
Checkpoint load_legacy_checkpoint(std::string_view bytes, const std::string& source_name) {
  const LegacyLayout layout = read_legacy_layout(bytes, source_name);
  StorageTensors tensors(source_name, [&](const StorageRef& ref) {
    const auto storage = layout.storages.find(ref.key);
    YOLO_CHECK(storage != layout.storages.end(), "{}: corrupt checkpoint: no data for storage '{}'", source_name,
               ref.key);
    return storage->second;
  });
  size_t offset = layout.object_offset;
  PickleValue root =
      unpickle_next(bytes, offset, source_name, [&](const TensorSpec& spec) { return tensors(spec); });
  return Checkpoint(std::move(root), source_name);
}

// ---- state dicts -----------------------------------------------------------------------------

/// Module.state_dict() over the pickled module tree: each module's parameters, then its persistent
/// buffers, then its children in registration order, names joined by '.'.
class StateDictWalker {
 public:
  explicit StateDictWalker(const std::string& source) : source_(source) {}

  StateDict walk(const PickleValue& module) {
    visit(module, "", 0);
    return std::move(out_);
  }

 private:
  static const PickleValue* module_dict(const PickleValue& module) {
    if (!module.is(Kind::Object)) return nullptr;
    const auto& state = module.as_object().state;
    if (!state) return nullptr;
    if (state->is(Kind::Dict)) return state.get();
    // (dict, slots) state of objects with __slots__
    if (state->is(Kind::Tuple) && !state->items().empty() && state->items()[0].is(Kind::Dict)) return &state->items()[0];
    return nullptr;
  }

  void collect(const PickleValue* tensors, const std::string& prefix, const PickleValue* skip) {
    if (!tensors || tensors->is_none()) return;
    YOLO_CHECK(tensors->is(Kind::Dict), "{}: a module's parameters are a {}, not a dict", source_, tensors->type_name());
    for (const auto& [key, value] : tensors->dict_items()) {
      YOLO_CHECK(key.is(Kind::String), "{}: a parameter name is a {}", source_, key.type_name());
      if (value.is_none()) continue;
      const std::string& name = key.as_string();
      if (skip && skip->kind() == Kind::Set) {
        const auto& names = skip->items();
        if (std::any_of(names.begin(), names.end(),
                        [&](const PickleValue& n) { return n.is(Kind::String) && n.as_string() == name; }))
          continue;
      }
      YOLO_CHECK(value.is(Kind::Tensor), "{}: '{}{}' is a {}, not a tensor", source_, prefix, key.as_string(),
                 value.type_name());
      out_.emplace_back(prefix + key.as_string(), value.as_tensor());
    }
  }

  void visit(const PickleValue& module, const std::string& prefix, size_t depth) {
    constexpr size_t kMaxDepth = 100, kMaxModules = 1'000'000;  // shared sub-modules must not explode the walk
    YOLO_CHECK(depth < kMaxDepth && ++modules_ < kMaxModules, "{}: the module tree is too deep or too large",
               source_);
    const PickleValue* dict = module_dict(module);
    YOLO_CHECK(dict, "{}: '{}' is a {}, not a torch.nn.Module", source_, prefix.empty() ? "model" : prefix,
               module.type_name());
    collect(dict->find("_parameters"), prefix, nullptr);
    collect(dict->find("_buffers"), prefix, dict->find("_non_persistent_buffers_set"));
    const PickleValue* children = dict->find("_modules");
    if (!children || !children->is(Kind::Dict)) return;
    for (const auto& [name, child] : children->dict_items()) {
      if (child.is_none()) continue;
      YOLO_CHECK(name.is(Kind::String), "{}: a module name is a {}", source_, name.type_name());
      visit(child, prefix + name.as_string() + ".", depth + 1);
    }
  }

  const std::string& source_;
  StateDict out_;
  size_t modules_ = 0;
};

// ---- YAML ------------------------------------------------------------------------------------

bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  static const char* const kReserved[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"};
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word : kReserved)
    if (lower == word) return true;
  const auto plain_start = [](unsigned char c) { return std::isalpha(c) || c == '_' || c == '/'; };
  const auto plain = [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '.' || c == '/' || c == '-'; };
  return !plain_start(static_cast<unsigned char>(s[0])) ||
         !std::all_of(s.begin(), s.end(), [&](char c) { return plain(static_cast<unsigned char>(c)); });
}

std::string quote(const std::string& s) {
  const bool control = std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
  if (!control) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += {'\\', c};
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\x{:02x}", c);
    else out += c;
  }
  return out + "\"";
}

std::string float_text(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  std::string s = fmt::format("{}", v);  // shortest text that reads back exactly, as Python's repr
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

class YamlWriter {
 public:
  std::string scalar(const PickleValue& v, size_t depth = 0) {
    constexpr size_t kMaxDepth = 100, kMaxSize = 16 << 20;
    YOLO_CHECK(depth < kMaxDepth && (size_ += 1) < kMaxSize, "value too deep or too large to render as YAML");
    switch (v.kind()) {
      case Kind::None: return "null";
      case Kind::Bool: return v.as_bool() ? "true" : "false";
      case Kind::Int: return std::to_string(v.as_int());
      case Kind::Float: return float_text(v.as_float());
      case Kind::String: return grow(needs_quotes(v.as_string()) ? quote(v.as_string()) : v.as_string());
      case Kind::List:
      case Kind::Tuple:
      case Kind::Set: {
        std::string out = "[";
        for (const auto& item : v.items()) out += (out.size() > 1 ? ", " : "") + scalar(item, depth + 1);
        return grow(out + "]");
      }
      case Kind::Dict: {
        std::string out = "{";
        for (const auto& [key, value] : v.dict_items())
          out += (out.size() > 1 ? ", " : "") + scalar(key, depth + 1) + ": " + scalar(value, depth + 1);
        return grow(out + "}");
      }
      default: return quote(v.type_name());
    }
  }

 private:
  std::string grow(std::string text) {
    size_ += text.size();
    return text;
  }
  size_t size_ = 0;
};

}  // namespace

// ---- Checkpoint ------------------------------------------------------------------------------

Checkpoint::Checkpoint(PickleValue root, std::string source_name) : root_(std::move(root)), source_(std::move(source_name)) {}

const PickleValue* Checkpoint::find(const std::string& key) const { return root_.find(key); }

const PickleValue& Checkpoint::required(const std::string& key) const {
  YOLO_CHECK(root_.is(Kind::Dict), "{}: the checkpoint is a pickled {}, not a dict", source_, root_.type_name());
  const PickleValue* value = root_.find(key);
  YOLO_CHECK(value, "{}: the checkpoint has no '{}' entry", source_, key);
  return *value;
}

const PickleValue* Checkpoint::model_dict(const char* key) const {
  const PickleValue* model = find(key);
  if (!model || !model->is(Kind::Object) || !model->as_object().state) return nullptr;
  const auto& state = *model->as_object().state;
  return state.is(Kind::Dict) ? &state : nullptr;
}

StateDict Checkpoint::model_state() const {
  // A bare state dict saved as the whole checkpoint: every value a tensor.
  if (root_.is(Kind::Dict) && !root_.find("model") && !root_.dict_items().empty() &&
      std::all_of(root_.dict_items().begin(), root_.dict_items().end(),
                  [](const auto& item) { return item.second.is(Kind::Tensor); }))
    return state_dict_of(root_, source_);
  return state_dict_of(required("model"), source_ + " (model)");
}

bool Checkpoint::has_ema() const {
  const PickleValue* ema = find("ema");
  return ema && !ema->is_none();
}

StateDict Checkpoint::ema_state() const {
  YOLO_CHECK(has_ema(), "{}: the checkpoint has no EMA weights (ema is None or missing) — use model_state()", source_);
  return state_dict_of(*find("ema"), source_ + " (ema)");
}

std::string Checkpoint::model_yaml_text() const {
  const PickleValue* yaml = nullptr;
  if (const PickleValue* dict = model_dict("model")) yaml = dict->find("yaml");
  if (!yaml) yaml = find("yaml");
  if (!yaml || yaml->is_none()) return "";
  if (yaml->is(Kind::String)) return yaml->as_string();
  YOLO_CHECK(yaml->is(Kind::Dict), "{}: the model's yaml is a {}, not a dict", source_, yaml->type_name());
  return in_context(source_, "yaml", [&] { return to_yaml(*yaml); });
}

std::vector<std::string> Checkpoint::names() const {
  const PickleValue* names = nullptr;
  if (const PickleValue* dict = model_dict("model")) names = dict->find("names");
  if (!names) names = find("names");
  std::vector<std::string> out;
  if (!names || names->is_none()) return out;
  return in_context(source_, "names", [&] {
    if (names->is(Kind::List) || names->is(Kind::Tuple)) {
      for (const auto& n : names->items()) out.push_back(n.as_string());
      return out;
    }
    std::map<int64_t, std::string> by_index;
    for (const auto& [index, name] : names->dict_items()) by_index[index.as_int()] = name.as_string();
    int64_t expected = 0;
    for (const auto& [index, name] : by_index) {
      YOLO_CHECK(index == expected++, "class indices are not 0..{}", by_index.size() - 1);
      out.push_back(name);
    }
    return out;
  });
}

std::vector<std::pair<std::string, std::string>> Checkpoint::train_args() const {
  const PickleValue* args = find("train_args");
  std::vector<std::pair<std::string, std::string>> out;
  if (!args || args->is_none()) return out;
  // Older checkpoints keep a namespace object (argparse.Namespace, IterableSimpleNamespace): its state is the dict.
  if (args->is(Kind::Object) && args->as_object().state) args = args->as_object().state.get();
  return in_context(source_, "train_args", [&] {
    for (const auto& [key, value] : args->dict_items()) out.emplace_back(key.as_string(), to_yaml_scalar(value));
    return out;
  });
}

int64_t Checkpoint::epoch() const {
  return in_context(source_, "epoch", [&] { return required("epoch").as_int(); });
}

std::optional<double> Checkpoint::best_fitness() const {
  const PickleValue* value = find("best_fitness");
  if (!value || value->is_none()) return std::nullopt;
  return in_context(source_, "best_fitness", [&] { return value->as_float(); });
}

// ---- loading ---------------------------------------------------------------------------------

Checkpoint load_checkpoint_from_bytes(std::string bytes, const std::string& source_name) {
  if (looks_like_zip(bytes)) return load_zip_checkpoint(std::move(bytes), source_name);
  if (looks_like_legacy_checkpoint(bytes)) return load_legacy_checkpoint(bytes, source_name);
  reject_unknown_format(bytes, source_name);
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string file = resolve_weights(path);  // a release name such as yolov8n.pt: the cache, or a download
  return load_checkpoint_from_bytes(read_file(file), file);
}

// ---- writing ---------------------------------------------------------------------------------

std::string checkpoint_to_bytes(const PickleValue& root) {
  std::vector<std::pair<std::string, torch::Tensor>> storages;
  const std::string data = pickle(root, [&](const at::Tensor& tensor) {
    const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    TensorSpec spec;
    spec.storage = {std::to_string(storages.size()), from_torch(t.scalar_type()), "cpu", t.numel()};
    spec.sizes = t.sizes().vec();
    spec.strides = t.strides().vec();
    storages.emplace_back(spec.storage.key, t);
    return spec;
  });
  ZipWriter zip;
  zip.add("archive/data.pkl", data);
  zip.add("archive/byteorder", "little");
  for (const auto& [key, t] : storages)
    zip.add("archive/data/" + key,
            std::string_view(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()) * t.element_size()));
  zip.add("archive/version", "3\n");
  return zip.finish();
}

void save_checkpoint(const std::string& path, const PickleValue& root) {
  write_file_atomically(path, checkpoint_to_bytes(root));
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  // A killed process must never leave a truncated file at `path`: write aside, flush, then rename.
  const std::string temporary = fmt::format("{}.tmp-{}", path, ::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  YOLO_CHECK(fd >= 0, "{}: cannot write the checkpoint: {}", temporary, std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      YOLO_FAIL("{}: cannot write the checkpoint: {}", temporary, std::strerror(error));
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int sync_error = errno;
  ::close(fd);
  if (!synced || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = synced ? errno : sync_error;
    ::unlink(temporary.c_str());
    YOLO_FAIL("{}: cannot write the checkpoint: {}", path, std::strerror(error));
  }
  // Make the rename itself durable.
  const auto folder = std::filesystem::path(path).parent_path();
  const int dir = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

// ---- values ----------------------------------------------------------------------------------

PickleValue state_dict_value(const StateDict& state) {
  PickleValue dict = PickleValue::dict();
  for (const auto& [name, tensor] : state) dict.set_item(name, tensor);
  return dict;
}

StateDict state_dict_of(const PickleValue& module_or_dict, const std::string& source_name) {
  if (module_or_dict.is(Kind::Dict)) {
    StateDict out;
    for (const auto& [key, value] : module_or_dict.dict_items()) {
      YOLO_CHECK(key.is(Kind::String), "{}: a state dict key is a {}", source_name, key.type_name());
      if (value.is_none()) continue;
      YOLO_CHECK(value.is(Kind::Tensor), "{}: state dict entry '{}' is a {}, not a tensor", source_name,
                 key.as_string(), value.type_name());
      out.emplace_back(key.as_string(), value.as_tensor());
    }
    return out;
  }
  return StateDictWalker(source_name).walk(module_or_dict);
}

std::string to_yaml_scalar(const PickleValue& value) { return YamlWriter().scalar(value); }

std::string to_yaml(const PickleValue& value) {
  if (!value.is(Kind::Dict)) return to_yaml_scalar(value) + "\n";
  YamlWriter writer;
  std::string out;
  for (const auto& [key, item] : value.dict_items()) out += writer.scalar(key) + ": " + writer.scalar(item) + "\n";
  return out;
}

}  // namespace io
YOLO_END_NAMESPACE
