#pragma once
// The one place where LibTorch 1.13 (Debian) and 2.x (the CUDA machine) differ for us.
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "yolo/version.h"

#define YOLO_TORCH_VERSION_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace c10d {
class ProcessGroup;
class Backend;
}  // namespace c10d

YOLO_BEGIN_NAMESPACE
namespace compat {
namespace detail {
template <typename Hooks, typename = void>
struct has_runtime_cudnn_version : std::false_type {};
template <typename Hooks>
struct has_runtime_cudnn_version<Hooks, std::void_t<decltype(std::declval<const Hooks&>().versionRuntimeCuDNN())>>
    : std::true_type {};
}  // namespace detail

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

/// Multiplies every tensor of `tensors` in place by the one-element tensor `factor`, without reading it
/// on the host: one multi-tensor kernel from 2.1, one kernel per tensor before.
inline void foreach_mul_(std::vector<torch::Tensor>& tensors, const torch::Tensor& factor) {
#if YOLO_TORCH_VERSION_AT_LEAST(2, 1)
  at::_foreach_mul_(tensors, factor);
#else
  for (auto& t : tensors) t.mul_(factor);
#endif
}

/// Autocast state of one device type (CUDA or CPU): 2.4 keyed these by device type, 1.13 had one
/// function per type.
inline bool autocast_enabled(c10::DeviceType type) {
#if YOLO_TORCH_VERSION_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

inline at::ScalarType autocast_dtype(c10::DeviceType type) {
#if YOLO_TORCH_VERSION_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

inline void set_autocast(c10::DeviceType type, bool enabled, at::ScalarType dtype) {
#if YOLO_TORCH_VERSION_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

/// The cuDNN version LibTorch uses, as CUDNN_VERSION encodes it; 0 without cuDNN. 2.x asks the loaded
/// library (versionRuntimeCuDNN); 1.13 knows only the version it was built against.
template <typename Hooks = at::CUDAHooksInterface>
long cudnn_version(const Hooks& hooks = at::detail::getCUDAHooks()) {
  if (!hooks.compiledWithCuDNN()) return 0;
  if constexpr (detail::has_runtime_cudnn_version<Hooks>::value) {
    return hooks.versionRuntimeCuDNN();
  } else {
    return hooks.versionCuDNN();
  }
}

/// Whether the current CUDA GPU runs bf16 convolutions natively (compute capability 8.0+, cuDNN 8), as
/// torch.cuda.is_bf16_supported; false in a CPU-only build.
inline bool cuda_supports_bf16() { return at::detail::getCUDAHooks().supportsBFloat16ConvolutionWithCuDNNv8(); }

/// A convolution's explicit padding (one value per spatial dimension), or nullopt for padding="valid" or
/// "same": the options hold it in a c10::variant in 1.13 and in a std::variant from 2.1.
template <size_t D>
std::optional<std::vector<int64_t>> explicit_conv_padding(const torch::nn::detail::ConvNdOptions<D>& options) {
#if YOLO_TORCH_VERSION_AT_LEAST(2, 1)
  using std::get_if;
#else
  using c10::get_if;
#endif
  const auto* padding = get_if<torch::ExpandingArray<D>>(&options.padding());
  if (padding == nullptr) return std::nullopt;
  return std::vector<int64_t>((*padding)->begin(), (*padding)->end());
}

}  // namespace compat
YOLO_END_NAMESPACE
