#include "engine/distributed_env.h"

#include <cstdlib>
#include <optional>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {
namespace {

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

int env_int(const char* name, const std::string& text, int lo, int hi) {
  size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  YOLO_CHECK(used == text.size() && !text.empty(), "environment variable {}='{}' is not an integer", name, text);
  YOLO_CHECK(value >= lo && value <= hi, "environment variable {}={} is out of range [{}, {}]", name, value, lo, hi);
  return static_cast<int>(value);
}

}  // namespace

DistributedEnv distributed_env_from_environment() {
  DistributedEnv e;
  const auto rank = env("RANK"), world = env("WORLD_SIZE");
  const auto slurm_rank = env("SLURM_PROCID"), slurm_world = env("SLURM_NTASKS");
  if (rank || world) {
    YOLO_CHECK(rank && world, "distributed training needs both RANK and WORLD_SIZE in the environment (got {}={})",
               rank ? "RANK" : "WORLD_SIZE", rank ? *rank : *world);
    e.world_size = env_int("WORLD_SIZE", *world, 1, 1 << 20);
    e.rank = env_int("RANK", *rank, 0, e.world_size - 1);
    e.local_rank = env("LOCAL_RANK") ? env_int("LOCAL_RANK", *env("LOCAL_RANK"), 0, e.world_size - 1) : e.rank;
    e.source = is_launched_worker() ? "launcher" : "env";
  } else if (slurm_rank && slurm_world && env_int("SLURM_NTASKS", *slurm_world, 1, 1 << 20) > 1) {
    e.world_size = env_int("SLURM_NTASKS", *slurm_world, 1, 1 << 20);
    e.rank = env_int("SLURM_PROCID", *slurm_rank, 0, e.world_size - 1);
    e.local_rank = env("SLURM_LOCALID") ? env_int("SLURM_LOCALID", *env("SLURM_LOCALID"), 0, e.world_size - 1) : 0;
    e.source = "slurm";
    if (!env("MASTER_ADDR")) {
      const auto nodes = env("SLURM_NNODES");
      if (auto launch_node = env("SLURM_LAUNCH_NODE_IPADDR")) {
        e.master_addr = *launch_node;
      } else {
        YOLO_CHECK(!nodes || *nodes == "1",
                   "a Slurm job over {} nodes needs MASTER_ADDR (the address of the node of task 0) in the "
                   "environment",
                   *nodes);
      }
    }
  } else {
    return e;
  }
  if (auto addr = env("MASTER_ADDR")) e.master_addr = *addr;
  if (auto port = env("MASTER_PORT")) e.master_port = env_int("MASTER_PORT", *port, 1, 65535);
  return e;
}

bool is_launched_worker() { return env(kLaunchedRankVar).value_or("") == "1"; }

}  // namespace engine
YOLO_END_NAMESPACE
