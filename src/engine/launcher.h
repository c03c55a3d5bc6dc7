#pragma once
// The built-in launcher's internals: the child processes of rank 0, and what the trainer learns from the
// yolo::RankLauncher that main created (yolo/process.h).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/distributed_env.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

class HostedStore;

/// Ranks 1..n-1 of a run: child processes running `argv` with RANK / LOCAL_RANK / WORLD_SIZE /
/// MASTER_ADDR / MASTER_PORT set. The destructor ends (SIGTERM, then SIGKILL) and reaps the children still
/// running, so that no rank outlives a failed run.
class WorkerProcesses {
 public:
  /// Starts the children for `env` (whose rank is 0): `executable` with `argv` (argv[0] included). Their
  /// stdout/stderr are this process's.
  WorkerProcesses(const DistributedEnv& env, const std::string& executable, const std::vector<std::string>& argv);
  ~WorkerProcesses();
  WorkerProcesses(const WorkerProcesses&) = delete;
  WorkerProcesses& operator=(const WorkerProcesses&) = delete;

  /// Waits (up to `timeout`) for every child to exit; an error naming the first that failed.
  void join(std::chrono::milliseconds timeout);
  /// "rank 2 (pid 1234) was killed by signal 9 (Killed)" for each child that has failed so far; empty if none.
  std::string failures();
  /// Ends the children still running (SIGTERM, then SIGKILL after 5 s) and reaps them.
  void end_all();

 private:
  void reap(bool block);
  struct Child {
    int rank = 0;
    int pid = -1;
    bool done = false;
    int status = 0;
  };
  std::vector<Child> children_;
};

/// Rank 0's side of a run that a yolo::RankLauncher started, while that launcher lives.
struct LaunchedRun {
  DistributedEnv env;                 ///< rank 0 of world_size, at the port the store holds
  std::shared_ptr<HostedStore> store;  ///< the rendezvous, hosted before the children started
  WorkerProcesses* workers = nullptr;
};

/// The run of the RankLauncher alive in this process (rank 0 only), or nullptr.
LaunchedRun* launched_run();

}  // namespace engine
YOLO_END_NAMESPACE
