#pragma once
// The one place where LibTorch 1.13 (Debian) and 2.x (the CUDA machine) differ for us.
#include <torch/torch.h>
#include <torch/version.h>

#include <sstream>
#include <string>
#include <type_traits>

#define YOLO_TORCH_VERSION_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace yolo::compat {

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
