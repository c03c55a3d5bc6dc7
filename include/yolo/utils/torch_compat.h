#pragma once
// The one place where LibTorch 1.13 (Debian) and 2.x (the CUDA machine) differ for us.
#include <torch/torch.h>
#include <torch/version.h>

#include <sstream>
#include <string>
#include <type_traits>

#define YOLO_TORCH_VERSION_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace c10d {
class ProcessGroup;
class Backend;
}  // namespace c10d

namespace yolo::compat {

/// The c10d class that ProcessGroupGloo / ProcessGroupNCCL derive from and that carries the collectives:
/// c10d::ProcessGroup in 1.13, c10d::Backend from 2.0 (where ProcessGroup became a dispatcher over backends).
#if YOLO_TORCH_VERSION_AT_LEAST(2, 0)
using C10dBackend = c10d::Backend;
#else
using C10dBackend = c10d::ProcessGroup;
#endif

/// Number of elements in a storage-backed tensor's underlying storage, in elements.
inline int64_t storage_numel(const torch::Tensor& t) {
  return static_cast<int64_t>(t.storage().nbytes() / t.element_size());
}

/// The key under which an optimizer keeps a parameter's state: LibTorch 1.13 formats the
/// TensorImpl address as text, 2.x uses the address itself.
template <typename Optimizer>
auto optimizer_state_key(Optimizer& optimizer, const torch::Tensor& param) {
  using Key = typename std::decay_t<decltype(optimizer.state())>::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << param.unsafeGetTensorImpl();
    return text.str();
  } else {
    return static_cast<Key>(param.unsafeGetTensorImpl());
  }
}

}  // namespace yolo::compat
