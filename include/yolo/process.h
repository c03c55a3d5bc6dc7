#pragma once
// What a program may choose to do to its own process; the library never does these on its own.
//
// ---- RankLauncher ----
// Training on several devices with the built-in launcher: one process (rank) per device, as
// `device=0,1` (two GPUs) or `device=cpu,cpu` (two CPU processes) ask for.
//
// The library never starts processes on its own. A program that accepts such a device list creates a
// RankLauncher in main, before training. In the process the user started it becomes rank 0: it holds a
// rendezvous port and starts ranks 1..n-1 as copies of this program (the same executable and arguments,
// with RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT in their environment). In those copies it says that
// they are workers. Every rank then makes the same training call; the workers return from main after it.
//
//   int main(int argc, char** argv) {
//     const auto args = yolo::TrainArgs::from_strings({argv + 1, argv + argc});
//     yolo::RankLauncher ranks(args);  // device=0,1: starts rank 1
//     auto results = yolo::Model("yolov8n.yaml").train(args);
//     if (ranks.is_worker()) return 0;  // ranks 1..n-1 end here
//     ranks.join();                     // rank 0: throws if a rank failed
//     ...                               // what only rank 0 does
//   }
//
// Ranks started by another launcher (torchrun, Slurm: RANK and WORLD_SIZE in the environment) need no
// RankLauncher, and one device needs none; it starts nothing then. Training on several devices without
// either is an error that says so. docs/distributed.md describes the rest (ports, failures, backends).
#include <memory>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

class TrainArgs;

/// Tunes glibc's allocator for training and inference loops: large freed blocks stay in the heap instead
/// of going back to the kernel. A training step allocates the same large activation tensors every
/// iteration; with glibc's defaults each is a fresh mmap whose pages the kernel zeroes on first touch,
/// which cost ~40% of a CPU training step here (system time). Affects the whole process (mallopt), so it
/// is the program's call: the yolo CLI makes it, unless YOLO_KEEP_MALLOC_DEFAULTS=1. Calls after the first
/// do nothing; without glibc it does nothing.
void keep_freed_memory_in_heap();

class RankLauncher {
 public:
  /// Starts ranks 1..n-1 when `args` trains (mode train) on n > 1 devices in a process that is not a rank
  /// yet; throws yolo::Error if they cannot be started (Linux only: it executes /proc/self/exe with this
  /// process's arguments, /proc/self/cmdline).
  explicit RankLauncher(const TrainArgs& args);
  /// Rank 0: waits up to a minute for the ranks it started to exit, then ends those still running.
  ~RankLauncher();
  RankLauncher(const RankLauncher&) = delete;
  RankLauncher& operator=(const RankLauncher&) = delete;

  /// True in a rank that a RankLauncher started: it exists for the training only.
  bool is_worker() const;
  /// This process's rank (0 when nothing was launched) and the number of ranks (1).
  int rank() const;
  int world_size() const;
  /// Rank 0: waits at most `timeout_seconds` for the ranks it started to exit; throws yolo::Error naming
  /// those that failed or are still running. Does nothing in other processes.
  void join(double timeout_seconds = 60);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

YOLO_END_NAMESPACE
