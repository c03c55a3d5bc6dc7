#include "engine/gradient_reducer.h"

#include <algorithm>
#include <mutex>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

struct GradientReducer::Impl {
  struct Slot {
    torch::Tensor param;
    size_t bucket = 0;
    int64_t offset = 0;
    bool ready = false;
    unsigned hook = 0;
  };
  struct Bucket {
    torch::Tensor flat;
    std::vector<size_t> slots;
    size_t pending = 0;
    bool ready = false, launched = false;
    std::unique_ptr<ProcessGroup::Pending> work;
  };

  ProcessGroup& group;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  size_t next_launch = 0;
  size_t launched_in_backward = 0, overlapped = 0;
  bool in_backward = false;
  std::mutex mutex;

  explicit Impl(ProcessGroup& g) : group(g) {}

  void begin_round() {
    for (auto& s : slots) s.ready = false;
    for (auto& b : buckets) b.pending = b.slots.size(), b.ready = b.launched = false, b.work.reset();
    next_launch = 0;
    launched_in_backward = 0;
    in_backward = true;
  }

  /// Buckets start in index order on every rank, whatever order their gradients complete in.
  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].ready) {
      auto& b = buckets[next_launch++];
      b.work = group.allreduce_sum_async(b.flat);
      b.launched = true;
    }
  }

  void on_grad(size_t index, const torch::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!in_backward) begin_round();
    auto& slot = slots[index];
    YOLO_CHECK(!grad.is_sparse(), "distributed training supports dense gradients only");
    auto& bucket = buckets[slot.bucket];
    YOLO_CHECK(!slot.ready && !bucket.launched,
               "a parameter got two gradients in one backward pass (reentrant backward is not supported with DDP)");
    bucket.flat.narrow(0, slot.offset, slot.param.numel()).copy_(grad.reshape({-1}));
    slot.ready = true;
    if (--bucket.pending == 0) {
      bucket.ready = true;
      launch_ready();
      launched_in_backward = next_launch;
    }
  }
};

GradientReducer::GradientReducer(ProcessGroup& group, std::vector<torch::Tensor> parameters, size_t bucket_bytes,
                                 size_t first_bucket_bytes)
    : impl_(std::make_unique<Impl>(group)) {
  YOLO_CHECK(!parameters.empty(), "GradientReducer needs parameters");
  // Gradients arrive roughly from the last layer to the first: buckets follow the reverse order.
  std::reverse(parameters.begin(), parameters.end());
  size_t cap = first_bucket_bytes, used = 0;
  for (auto& p : parameters) {
    YOLO_CHECK(p.requires_grad(), "GradientReducer: a parameter without requires_grad");
    auto& buckets = impl_->buckets;
    const size_t bytes = static_cast<size_t>(p.numel()) * p.element_size();
    const bool fits = !buckets.empty() && used + bytes <= cap &&
                      buckets.back().flat.scalar_type() == p.scalar_type() &&
                      buckets.back().flat.device() == p.device();
    if (!fits) {
      if (!buckets.empty()) cap = bucket_bytes;
      buckets.emplace_back();
      buckets.back().flat = torch::empty({0}, p.options().requires_grad(false));
      used = 0;
    }
    Impl::Slot slot;
    slot.param = p;
    slot.bucket = buckets.size() - 1;
    slot.offset = static_cast<int64_t>(used / p.element_size());
    used += bytes;
    buckets.back().slots.push_back(impl_->slots.size());
    impl_->slots.push_back(slot);
  }
  for (auto& b : impl_->buckets) {
    int64_t n = 0;
    for (auto s : b.slots) n += impl_->slots[s].param.numel();
    b.flat = torch::zeros({n}, b.flat.options());
  }
  Impl* impl = impl_.get();
  for (size_t i = 0; i < impl_->slots.size(); ++i) {
    impl_->slots[i].hook = impl_->slots[i].param.register_hook([impl, i](torch::Tensor grad) -> torch::Tensor {
      impl->on_grad(i, grad);
      // .grad receives zeros now and the average in finish(): it never holds an unreduced gradient.
      return torch::zeros_like(grad);
    });
  }
}

GradientReducer::~GradientReducer() {
  for (auto& s : impl_->slots) s.param.remove_hook(s.hook);
}

size_t GradientReducer::num_buckets() const { return impl_->buckets.size(); }
size_t GradientReducer::overlapped_buckets() const { return impl_->overlapped; }

void GradientReducer::finish() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mutex);
  if (!d.in_backward) return;
  d.in_backward = false;
  d.overlapped = d.launched_in_backward;
  for (auto& b : d.buckets) {
    if (b.ready) continue;
    for (auto s : b.slots) {  // parameters that took no part in this backward count as zero
      auto& slot = d.slots[s];
      if (!slot.ready) b.flat.narrow(0, slot.offset, slot.param.numel()).zero_(), slot.ready = true;
    }
    b.ready = true;
  }
  d.launch_ready();
  const double world = d.group.world_size();
  for (auto& b : d.buckets) {
    b.work->wait();
    b.work.reset();
    b.flat.div_(world);
    for (auto s : b.slots) {
      auto& slot = d.slots[s];
      auto average = b.flat.narrow(0, slot.offset, slot.param.numel()).view(slot.param.sizes());
      auto& grad = slot.param.mutable_grad();
      if (grad.defined()) {
        grad.add_(average);
      } else {
        grad = average.clone();
      }
    }
  }
}

}  // namespace engine
YOLO_END_NAMESPACE
