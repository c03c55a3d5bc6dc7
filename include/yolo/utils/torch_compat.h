#pragma once
// The one place where LibTorch 1.13 (Debian) and 2.x (the CUDA machine) differ for us.
#include <torch/torch.h>
#include <torch/version.h>

#define YOLO_TORCH_VERSION_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace yolo::compat {

/// Number of elements in a storage-backed tensor's underlying storage, in elements.
inline int64_t storage_numel(const torch::Tensor& t) {
  return static_cast<int64_t>(t.storage().nbytes() / t.element_size());
}

}  // namespace yolo::compat
