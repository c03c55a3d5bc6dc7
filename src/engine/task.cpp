#include "engine/task.h"

#include "config/resolve.h"
#include "data/loader.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

data::LoaderOptions loader_options(const DataOptions& options, const LoaderRequest& request, bool shuffle) {
  data::LoaderOptions lo;
  lo.batch_size = request.batch_size;
  lo.workers = config::cap_workers(options.workers, request.world_size);  // at most the CPUs per rank
  lo.shuffle = shuffle;
  lo.seed = options.seed;
  lo.pin_memory = request.pin_memory;
  lo.rank = request.rank, lo.world_size = request.world_size;
  lo.shard_batches = !request.train;
  return lo;
}

torch::Tensor model_input(const data::Batch& batch, const torch::Device& device) {
  return batch.images.to(device, /*non_blocking=*/true)
      .to(torch::kFloat32)
      .div_(255)
      .contiguous(torch::MemoryFormat::ChannelsLast);
}

void check_input_size(const nn::NetworkImpl& model, int64_t imgsz) {
  const int64_t fixed = model.fixed_imgsz();
  YOLO_CHECK(fixed == 0 || imgsz == fixed,
             "imgsz={}: {} was exported with a fixed input of {}x{}; run it with imgsz={} (its default), or export "
             "the .pt model again with imgsz={}",
             imgsz, model.display_name(), fixed, fixed, fixed, imgsz);
}

const Task& task_named(const std::string& name) {
  for (const Task* task : {&detect_task(), &classify_task()})
    if (task->name == name) return *task;
  YOLO_FAIL("task={} is not one yolocpp runs: detect or classify", name);
}

}  // namespace engine
YOLO_END_NAMESPACE
