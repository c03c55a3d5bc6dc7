#include "engine/running_losses.h"

#include "engine/device.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

RunningLosses::RunningLosses(int64_t count, const torch::Device& device, std::chrono::milliseconds refresh)
    : count_(count),
      values_(torch::zeros({count + 1}, torch::TensorOptions(torch::kFloat32).device(device))),
      refresh_(refresh) {
  values_[count].fill_(-1);
}

void RunningLosses::add(int64_t index, const torch::Tensor& items, const torch::Tensor& total) {
  torch::NoGradGuard no_grad;
  const auto i = static_cast<double>(index);
  auto means = values_.narrow(0, 0, count_);
  means.mul_(i).add_(items.detach().to(torch::kFloat32)).div_(i + 1);
  auto first_non_finite = values_.narrow(0, count_, 1);
  first_non_finite.masked_fill_(first_non_finite.lt(0).logical_and(torch::isfinite(total.detach()).logical_not()), i);
  ++unread_;
}

bool RunningLosses::due(bool now) const {
  return unread_ > 0 && (now || Clock::now() - last_read_ >= refresh_);
}

RunningLosses::Reading RunningLosses::read() {
  const auto host = read_to_host(values_);
  const auto v = host.accessor<float, 1>();
  Reading reading;
  for (int64_t k = 0; k < count_; ++k) reading.means.push_back(v[k]);
  reading.first_non_finite = static_cast<int64_t>(v[count_]);
  unread_ = 0;
  last_read_ = Clock::now();
  return reading;
}

}  // namespace engine
YOLO_END_NAMESPACE
