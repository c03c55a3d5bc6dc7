#include "yolo/process.h"
#include "engine/launcher.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <fstream>
#include <thread>

#include <fmt/ranges.h>

#include "engine/device.h"
#include "engine/process_group.h"
#include "yolo/config/args.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

extern char** environ;

YOLO_BEGIN_NAMESPACE
namespace engine {
namespace {

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return fmt::format("was killed by signal {} ({})", sig, strsignal(sig));
  }
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return fmt::format("ended with wait status {}", status);
}

bool status_failed(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  YOLO_CHECK(in, "cannot read /proc/self/cmdline to start the other ranks (the built-in launcher needs Linux)");
  std::vector<std::string> args;
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  YOLO_CHECK(!args.empty(), "/proc/self/cmdline is empty: cannot start the other ranks");
  return args;
}

std::string own_executable() {
  std::vector<char> buffer(4096);
  const auto n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  YOLO_CHECK(n > 0, "cannot resolve /proc/self/exe to start the other ranks: {}", std::strerror(errno));
  return std::string(buffer.data(), static_cast<size_t>(n));
}

}  // namespace

WorkerProcesses::WorkerProcesses(const DistributedEnv& env, const std::string& exe,
                                 const std::vector<std::string>& args) {
  YOLO_CHECK(env.rank == 0 && env.world_size > 1, "the launcher runs in rank 0 of a run of several ranks");
  YOLO_CHECK(!args.empty(), "the ranks need a command line (argv[0] at least)");
  const std::vector<std::string> ours{"RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                                      "LOCAL_WORLD_SIZE", kLaunchedRankVar};
  std::vector<std::string> base_env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto name = entry.substr(0, entry.find('='));
    if (std::find(ours.begin(), ours.end(), name) == ours.end()) base_env.push_back(entry);
  }
  long max_fd = ::sysconf(_SC_OPEN_MAX);
  if (max_fd <= 0 || max_fd > 65536) max_fd = 65536;
  const pid_t parent = ::getpid();
  for (int rank = 1; rank < env.world_size; ++rank) {
    // Everything the child needs is built before fork: between fork and exec only async-signal-safe calls.
    std::vector<std::string> child_env = base_env;
    child_env.push_back(fmt::format("RANK={}", rank));
    child_env.push_back(fmt::format("LOCAL_RANK={}", rank));
    child_env.push_back(fmt::format("WORLD_SIZE={}", env.world_size));
    child_env.push_back(fmt::format("LOCAL_WORLD_SIZE={}", env.world_size));
    child_env.push_back(fmt::format("MASTER_ADDR={}", env.master_addr));
    child_env.push_back(fmt::format("MASTER_PORT={}", env.master_port));
    child_env.push_back(fmt::format("{}=1", kLaunchedRankVar));
    std::vector<char*> argv, envp;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : child_env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string error_text = fmt::format("rank {}: cannot execute {}\n", rank, exe);

    const pid_t pid = ::fork();
    if (pid < 0) {
      const std::string reason = std::strerror(errno);
      end_all();  // the ranks already started
      YOLO_FAIL("cannot start rank {} of {}: fork failed: {}", rank, env.world_size, reason);
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive rank 0
      if (::getppid() != parent) ::_exit(1);
#ifdef SYS_close_range
      if (::syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
        for (long fd = 3; fd < max_fd; ++fd) ::close(static_cast<int>(fd));
      ::execve(exe.c_str(), argv.data(), envp.data());
      [[maybe_unused]] auto ignored = ::write(2, error_text.data(), error_text.size());
      ::_exit(127);
    }
    children_.push_back(Child{rank, pid, false, 0});
  }
  log_info("DDP: started ranks 1..{} of {} ({} {}), rendezvous at {}:{}", env.world_size - 1, env.world_size, exe,
           args.size() > 1 ? "with the same arguments" : "", env.master_addr, env.master_port);
}

void WorkerProcesses::reap(bool block) {
  for (auto& c : children_) {
    if (c.done) continue;
    int status = 0;
    const pid_t r = ::waitpid(c.pid, &status, block ? 0 : WNOHANG);
    if (r == c.pid || (r < 0 && errno == ECHILD)) c.done = true, c.status = r == c.pid ? status : 0;
  }
}

std::string WorkerProcesses::failures() {
  reap(false);
  std::vector<std::string> parts;
  for (const auto& c : children_)
    if (c.done && status_failed(c.status))
      parts.push_back(fmt::format("rank {} (pid {}) {}", c.rank, c.pid, describe_status(c.status)));
  return fmt::format("{}", fmt::join(parts, "; "));
}

void WorkerProcesses::join(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    reap(false);
    const bool all_done = std::all_of(children_.begin(), children_.end(), [](const Child& c) { return c.done; });
    if (all_done) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::vector<int> running;
      for (const auto& c : children_)
        if (!c.done) running.push_back(c.rank);
      YOLO_FAIL("rank {} did not exit within {:.0f}s (a rank started by yolo::RankLauncher returns from main "
                "after training)",
                fmt::join(running, ", rank "), timeout.count() / 1000.0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto failed = failures();
  YOLO_CHECK(failed.empty(), "distributed training failed: {}", failed);
}

WorkerProcesses::~WorkerProcesses() { end_all(); }

void WorkerProcesses::end_all() {
  reap(false);
  for (const auto& c : children_)
    if (!c.done) ::kill(c.pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline &&
         std::any_of(children_.begin(), children_.end(), [](const Child& c) { return !c.done; })) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    reap(false);
  }
  for (const auto& c : children_)
    if (!c.done) ::kill(c.pid, SIGKILL);
  reap(true);
}

namespace {
std::mutex launched_mutex;
LaunchedRun* launched = nullptr;
}  // namespace

LaunchedRun* launched_run() {
  std::lock_guard<std::mutex> lock(launched_mutex);
  return launched;
}

}  // namespace engine
YOLO_END_NAMESPACE

// ---- the public launcher ------------------------------------------------------------------------

YOLO_BEGIN_NAMESPACE

struct RankLauncher::Impl {
  engine::DistributedEnv env;  // this process's place
  bool worker = false;
  int uncaught_at_start = 0;
  std::unique_ptr<engine::WorkerProcesses> workers;  // rank 0 of a run this launcher started
  engine::LaunchedRun run;
};

RankLauncher::RankLauncher(const TrainArgs& args) : impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  d.uncaught_at_start = std::uncaught_exceptions();
  d.env = engine::distributed_env_from_environment();
  if (d.env.active()) {  // a rank already: started by a RankLauncher, torchrun or Slurm
    d.worker = engine::is_launched_worker();
    return;
  }
  if (args.mode() != "train") return;
  const auto devices = static_cast<int>(engine::select_device(args.device()).all.size());
  if (devices <= 1) return;
  YOLO_CHECK(engine::launched_run() == nullptr,
             "a RankLauncher of this process is running ranks already: one launcher at a time");
  engine::DistributedEnv env;
  env.world_size = devices;
  env.master_addr = "127.0.0.1";
  env.source = "launcher";
  if (const char* port = std::getenv("MASTER_PORT"); port && *port) {
    char* end = nullptr;
    const long value = std::strtol(port, &end, 10);
    YOLO_CHECK(*end == '\0' && value > 0 && value < 65536, "MASTER_PORT={} is not a TCP port", port);
    env.master_port = static_cast<int>(value);
  }
  // Rank 0 holds its port before the others are told about it: 29500 (or MASTER_PORT) when free, else any
  // free port, with no window for another program to take it.
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(args.ddp_timeout() * 1000));
  d.run.store = std::make_shared<engine::HostedStore>(env.master_addr, env.master_port, timeout, env.world_size);
  env.master_port = d.run.store->port();
  d.workers = std::make_unique<engine::WorkerProcesses>(env, engine::own_executable(), engine::own_command_line());
  d.env = d.run.env = env;
  d.run.workers = d.workers.get();
  std::lock_guard<std::mutex> lock(engine::launched_mutex);
  engine::launched = &d.run;
}

RankLauncher::~RankLauncher() {
  auto& d = *impl_;
  if (!d.workers) return;
  {
    std::lock_guard<std::mutex> lock(engine::launched_mutex);
    engine::launched = nullptr;
  }
  // Leaving normally, the ranks are about to end too; leaving by an exception (a failed run), they are ended
  // now (WorkerProcesses' destructor).
  if (std::uncaught_exceptions() > d.uncaught_at_start) return;
  try {
    d.workers->join(std::chrono::seconds(60));
  } catch (const std::exception& e) {
    log_error("{}", e.what());
  }
}

bool RankLauncher::is_worker() const { return impl_->worker; }
int RankLauncher::rank() const { return impl_->env.rank; }
int RankLauncher::world_size() const { return impl_->env.world_size; }

void RankLauncher::join(double timeout_seconds) {
  if (impl_->workers)
    impl_->workers->join(std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000)));
}

YOLO_END_NAMESPACE
