#pragma once
// Counts, on a CPU-only machine, the calls that would make the host wait for an accelerator.
//
// A CUDA host blocks when it needs a value the device computes: a scalar read (`item()`, which LibTorch
// implements as aten::_local_scalar_dense), an output whose size depends on the data (nonzero, and the
// boolean-mask indexing built on it, masked_select, unique, bincount, ...), a comparison answered on the host
// (equal, is_nonzero), or a blocking copy to or from a pageable host buffer (`.cpu()`, `.to(device)` without
// non_blocking). These are all dispatcher calls, so a RecordFunction observer on the calling thread sees
// them on any device, CPU included. LibTorch runs a CPU graph's backward on the calling thread and hands
// its thread-local observers to the autograd engine's device threads, so backward is observed too. Works
// with LibTorch 1.13 and 2.x (RecordFunction and its thread-local callbacks exist in both).
//
// A host read that the code means to make (the running losses read for the progress line) happens inside a
// RECORD_USER_SCOPE("yolo::host_read") region (engine::read_to_host): its syncs are counted apart.
#include <ATen/record_function.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace yolo::test {

class HostSyncCounter {
 public:
  HostSyncCounter() {
    active() = this;
    handle_ = at::addThreadLocalCallback(
        at::RecordFunctionCallback(&on_start, &on_end)
            .needsInputs(true)
            .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION, at::RecordScope::USER_SCOPE}));
  }
  ~HostSyncCounter() {
    at::removeCallback(handle_);
    active() = nullptr;
  }
  HostSyncCounter(const HostSyncCounter&) = delete;
  HostSyncCounter& operator=(const HostSyncCounter&) = delete;

  /// Syncing calls outside the sanctioned host reads, by operator name.
  const std::map<std::string, int64_t>& unexpected() const { return unexpected_; }
  int64_t unexpected_total() const {
    int64_t n = 0;
    for (const auto& [name, count] : unexpected_) n += count;
    return n;
  }
  /// Sanctioned host reads entered, and the syncing calls made inside them.
  int64_t reads() const { return reads_; }
  int64_t syncs_in_reads() const { return syncs_in_reads_; }
  /// Every syncing call, wherever made.
  int64_t total() const { return unexpected_total() + syncs_in_reads_; }
  /// "name x count, ..." of the unexpected calls, for failure messages.
  std::string describe() const {
    std::string text;
    for (const auto& [name, count] : unexpected_) text += (text.empty() ? "" : ", ") + name + " x" + std::to_string(count);
    return text.empty() ? "none" : text;
  }

 private:
  // The callback is registered for this thread (and the autograd threads it hands work to): one counter
  // at a time, reached from the callbacks, which are plain function pointers.
  static HostSyncCounter*& active() {
    static HostSyncCounter* counter = nullptr;
    return counter;
  }

  /// Whether an aten::to call copies between devices, or to the host, without non_blocking: by overload,
  /// where its Device argument and its non_blocking flag sit.
  static bool blocking_device_copy(const at::RecordFunction& fn) {
    const auto op = fn.operator_name();
    if (!op) return false;
    const auto inputs = fn.inputs();
    size_t device_at = 0, non_blocking_at = 0;
    if (op->overload_name == "dtype_layout") {
      device_at = 3, non_blocking_at = 5;
    } else if (op->overload_name == "device") {
      device_at = 1, non_blocking_at = 3;
    } else {
      return false;  // to(dtype) stays on the device; to(other) is not used for transfers here
    }
    if (inputs.size() <= non_blocking_at || !inputs[device_at].isDevice()) return false;
    return inputs[non_blocking_at].isBool() && !inputs[non_blocking_at].toBool();
  }

  static bool syncs(const at::RecordFunction& fn) {
    static const char* const kSyncing[] = {
        "aten::_local_scalar_dense", "aten::is_nonzero", "aten::nonzero",   "aten::nonzero_numpy",
        "aten::argwhere",            "aten::masked_select", "aten::_unique",  "aten::_unique2",
        "aten::unique_dim",          "aten::unique_consecutive", "aten::unique_dim_consecutive",
        "aten::bincount",            "aten::equal",         "aten::allclose"};
    const char* name = fn.name();
    for (const char* s : kSyncing)
      if (std::strcmp(name, s) == 0) return true;
    return std::strcmp(name, "aten::to") == 0 && blocking_device_copy(fn);
  }

  static std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
    auto* self = active();
    if (!self) return nullptr;
    if (fn.scope() == at::RecordScope::USER_SCOPE) {
      std::lock_guard<std::mutex> lock(self->mutex_);
      if (std::strcmp(fn.name(), "yolo::host_read") == 0) ++self->read_depth_, ++self->reads_;
      return nullptr;
    }
    if (!syncs(fn)) return nullptr;
    std::lock_guard<std::mutex> lock(self->mutex_);
    if (self->read_depth_ > 0)
      ++self->syncs_in_reads_;
    else
      ++self->unexpected_[fn.name()];
    return nullptr;
  }

  static void on_end(const at::RecordFunction& fn, at::ObserverContext*) {
    auto* self = active();
    if (self && fn.scope() == at::RecordScope::USER_SCOPE && std::strcmp(fn.name(), "yolo::host_read") == 0) {
      std::lock_guard<std::mutex> lock(self->mutex_);
      --self->read_depth_;
    }
  }

  std::mutex mutex_;
  at::CallbackHandle handle_;
  std::map<std::string, int64_t> unexpected_;
  int64_t reads_ = 0, syncs_in_reads_ = 0, read_depth_ = 0;
};

}  // namespace yolo::test
