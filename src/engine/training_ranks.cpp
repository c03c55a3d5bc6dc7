#include "engine/training_ranks.h"

#include <chrono>
#include <future>
#include <map>
#include <thread>

#include "engine/gradient_reducer.h"
#include "engine/launcher.h"
#include "engine/process_group.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

TrainingRanks::TrainingRanks() = default;

TrainingRanks::~TrainingRanks() {
  reducer_.reset();  // before the group it talks through
  if (saved_log_level_) set_log_level(*saved_log_level_);
}

std::unique_ptr<TrainingRanks> TrainingRanks::join(DeviceChoice& device, const std::string& device_arg,
                                                   double timeout_s) {
  auto ranks = std::make_unique<TrainingRanks>();
  DistributedEnv env = distributed_env_from_environment();
  const auto devices = static_cast<int>(device.all.size());
  if (!env.active() && devices <= 1) return ranks;  // one process
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  LaunchedRun* launch = nullptr;
  if (!env.active()) {  // rank 0 of the ranks that main's yolo::RankLauncher started
    launch = launched_run();
    YOLO_CHECK(launch && launch->env.world_size == devices,
               "device={} trains one process per device: create a yolo::RankLauncher in main before training "
               "(yolo/process.h; the yolo CLI does), or start the {} ranks with torchrun or Slurm",
               device_arg, devices);
    env = launch->env;
  }
  if (devices > 1) {
    YOLO_CHECK(env.local_rank < devices,
               "rank {} has LOCAL_RANK={} but device={} names {} devices: give one device per process on this node",
               env.rank, env.local_rank, device_arg, devices);
    device.primary = device.all[static_cast<size_t>(env.local_rank)];
  } else if (device.primary.is_cuda()) {
    const auto n = static_cast<int>(torch::cuda::device_count());
    YOLO_CHECK(env.local_rank < n, "rank {} has LOCAL_RANK={} but this node has {} CUDA devices", env.rank,
               env.local_rank, n);
    device.primary = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
  }
  if (env.rank != 0) {  // Ultralytics: only rank 0 talks
    ranks->saved_log_level_ = log_level();
    set_log_level(LogLevel::Warning);
  }
  if (!launch) {
    ranks->group_ = ProcessGroup::create(env, device.primary, timeout);
  } else {
    // The rendezvous waits for every rank up to the timeout; a rank that this process started and that
    // failed on its way there (bad arguments, a missing file) ends the wait at once. The rendezvous runs
    // in a thread of its own, left behind (it ends at the timeout) if a rank failed.
    std::packaged_task<std::unique_ptr<ProcessGroup>()> task(
        [env, primary = device.primary, timeout, hosted = launch->store] {
          return ProcessGroup::create(env, primary, timeout, hosted);
        });
    auto joined = task.get_future();
    std::thread(std::move(task)).detach();
    while (joined.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      const auto failed = launch->workers->failures();
      YOLO_CHECK(failed.empty(), "distributed training failed before every rank joined: {}", failed);
    }
    ranks->group_ = joined.get();
    ranks->group_->on_failure_describe([workers = launch->workers] { return workers->failures(); });
  }
  log_info("DDP: rank {} of {} ({}), rendezvous {}:{}, timeout {}s", env.rank, env.world_size, env.source,
           env.master_addr, env.master_port, timeout_s);
  return ranks;
}

int TrainingRanks::rank() const { return group_ ? group_->rank() : 0; }

int TrainingRanks::world_size() const { return group_ ? group_->world_size() : 1; }

void TrainingRanks::broadcast(std::vector<torch::Tensor> tensors) {
  if (!group_) return;
  torch::NoGradGuard no_grad;
  // One flat tensor per dtype: a few collectives instead of hundreds.
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_type;
  for (auto& t : tensors) by_type[t.scalar_type()].push_back(t);
  for (auto& [type, list] : by_type) {
    std::vector<torch::Tensor> flat_parts;
    for (auto& t : list) flat_parts.push_back(t.reshape({-1}));
    std::vector<torch::Tensor> flat{torch::cat(flat_parts)};
    group_->broadcast(flat, 0);
    int64_t offset = 0;
    for (auto& t : list) {
      t.copy_(flat[0].narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

bool TrainingRanks::any(bool flag) {
  if (!group_) return flag;
  auto t = torch::tensor({flag ? 1.0 : 0.0}, torch::kFloat64);
  group_->allreduce_sum(t);
  return t.item<double>() > 0;
}

void TrainingRanks::average(std::vector<double>& values) {
  if (!group_) return;
  auto t = torch::tensor(values, torch::kFloat64);
  group_->allreduce_sum(t);
  for (size_t k = 0; k < values.size(); ++k) values[k] = t[static_cast<int64_t>(k)].item<double>() / world_size();
}

std::string TrainingRanks::share(const std::string& key, const std::string& value) {
  return group_ ? group_->share(key, value) : value;
}

void TrainingRanks::barrier() {
  if (group_) group_->barrier();
}

size_t TrainingRanks::reduce_gradients(std::vector<torch::Tensor> parameters) {
  if (!group_) return 0;
  reducer_ = std::make_unique<GradientReducer>(*group_, std::move(parameters));
  return reducer_->num_buckets();
}

void TrainingRanks::finish_backward() {
  if (reducer_) reducer_->finish();
}

}  // namespace engine
YOLO_END_NAMESPACE
