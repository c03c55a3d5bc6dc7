#pragma once
// Where this process sits in a distributed data-parallel (DDP) run: one process (rank) per device.
//
// Ranks come from the environment, as torchrun and Slurm set it (RANK / LOCAL_RANK / WORLD_SIZE /
// MASTER_ADDR / MASTER_PORT, or SLURM_PROCID / SLURM_LOCALID / SLURM_NTASKS), or from yolo::RankLauncher
// (yolo/process.h), which starts ranks 1..n-1 with those variables set. docs/distributed.md has the whole
// picture; the other units are process_group.h (store, collectives), gradient_reducer.h and launcher.h.
#include <string>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

struct DistributedEnv {
  int rank = 0, local_rank = 0, world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source = "none";  ///< "env" (torchrun-style), "slurm", "launcher" or "none"
  bool active() const { return world_size > 1; }
};

/// Reads the rank variables of the environment; a single process (world_size 1) when none are set.
/// Inconsistent or malformed values are an error naming the variable.
DistributedEnv distributed_env_from_environment();

/// The variable (=1) that marks a rank started by yolo::RankLauncher.
inline constexpr const char* kLaunchedRankVar = "YOLO_DDP_LAUNCHED";

/// True in a rank started by yolo::RankLauncher.
bool is_launched_worker();

}  // namespace engine
YOLO_END_NAMESPACE
