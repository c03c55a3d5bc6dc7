// Distributed data-parallel training on CPU (Gloo): the collectives and the gradient reducer in one
// process (threads as ranks), then whole training runs of the ddp_train helper as separate processes:
// the built-in launcher (device=cpu,cpu), torchrun-style environment variables, and a rank that dies.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "catch.h"
#include "yolo/data/dataset_yaml.h"
#include "yolo/engine/checkpointing.h"
#include "yolo/engine/device.h"
#include "yolo/engine/validator.h"
#include "yolo/engine/distributed.h"
#include "yolo/utils/error.h"

extern char** environ;

namespace fs = std::filesystem;
using yolo::engine::DistributedEnv;
using yolo::engine::GradientReducer;
using yolo::engine::ProcessGroup;

namespace {

using Clock = std::chrono::steady_clock;

fs::path fresh_dir(const std::string& name) {
  // The process id keeps concurrent test processes (ctest -j) out of each other's folders; the folders
  // (tens of MB of runs each) go when the test process ends.
  struct RemovedAtExit {
    std::vector<fs::path> dirs;
    ~RemovedAtExit() {
      std::error_code ignored;
      for (const auto& d : dirs) fs::remove_all(d, ignored);
    }
  };
  static RemovedAtExit made;
  auto dir = fs::temp_directory_path() / ("yolo_ddp_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  made.dirs.push_back(dir);
  return dir;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Sets environment variables for one scope and restores them after.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::initializer_list<std::pair<std::string, std::string>> values = {}) {
    for (const auto& name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "SLURM_PROCID",
                             "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NNODES", "SLURM_LAUNCH_NODE_IPADDR"}) {
      const char* old = std::getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
      ::unsetenv(name);
    }
    for (const auto& [k, v] : values) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    for (const auto& [k, v] : saved_) {
      if (v)
        ::setenv(k.c_str(), v->c_str(), 1);
      else
        ::unsetenv(k.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

/// Starts `argv` with this environment minus the rank variables plus `extra`, output to `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra, const fs::path& log) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto name = entry.substr(0, entry.find('='));
    if (name == "RANK" || name == "WORLD_SIZE" || name == "LOCAL_RANK" || name == "MASTER_ADDR" ||
        name == "MASTER_PORT" || name == "YOLO_DDP_LAUNCHED" || name == "OMP_NUM_THREADS" || name == "MKL_NUM_THREADS")
      continue;
    env.push_back(entry);
  }
  // One thread per process: the same kernels (and sums) in every run, whatever runs beside it.
  env.push_back("OMP_NUM_THREADS=1");
  env.push_back("MKL_NUM_THREADS=1");
  env.insert(env.end(), extra.begin(), extra.end());
  std::vector<char*> a, e;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
  e.push_back(nullptr);
  const std::string log_path = log.string();
  std::fflush(nullptr);  // or the child's freopen writes this process's buffered output again
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    FILE* out = std::freopen(log_path.c_str(), "w", stdout);
    if (out) ::dup2(::fileno(stdout), 2);
    ::execve(a[0], a.data(), e.data());
    ::_exit(127);
  }
  return pid;
}

/// Waits for `pid` at most `seconds`; SIGKILLs it and returns -1 past that.
int wait_for(pid_t pid, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool exited_ok(int status) { return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

const std::vector<std::string> kNames{"tshirt", "trouser", "pullover", "dress", "coat",
                                      "sandal", "shirt",   "sneaker",  "bag",   "boot"};

std::string write_yaml(const fs::path& dir, const fs::path& train, const fs::path& val) {
  const auto path = dir / "data.yaml";
  std::ofstream out(path);
  out << "train: " << train.string() << "\nval: " << val.string() << "\nnames:\n";
  for (size_t i = 0; i < kNames.size(); ++i) out << "  " << i << ": " << kNames[i] << "\n";
  return path.string();
}

/// Arguments that make a short run whose batches are the same whatever the process layout: rect batches
/// (no shuffle, no mosaic), no random augmentation, no warmup, SGD, one thread.
std::vector<std::string> run_args(const std::string& data, const fs::path& project, const std::string& name,
                                  const std::string& device, int batch) {
  return {"data=" + data, "project=" + project.string(), "name=" + name, "exist_ok=True", "device=" + device,
          "epochs=2", "imgsz=64", "batch=" + std::to_string(batch), "nbs=8", "workers=0", "seed=1",
          "deterministic=True", "val=False", "rect=True", "optimizer=SGD", "lr0=0.02", "warmup_epochs=0",
          "mosaic=0", "fliplr=0", "hsv_h=0", "hsv_s=0", "hsv_v=0", "translate=0", "scale=0", "close_mosaic=0",
          "plots=False", "ddp_timeout=60"};
}

std::vector<std::string> helper_command(const fs::path& out, int kill_rank, int kill_batch,
                                        const std::vector<std::string>& args) {
  std::vector<std::string> argv{YOLO_DDP_TRAIN_PATH, out.string(), std::to_string(kill_rank),
                                std::to_string(kill_batch)};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

torch::Tensor load_params(const fs::path& path) {
  REQUIRE(fs::exists(path));
  torch::Tensor t;
  torch::load(t, path.string());
  return t;
}

/// epoch -> images a rank trained on, from the helper's .files list.
std::map<int, std::multiset<std::string>> seen_files(const fs::path& path) {
  std::map<int, std::multiset<std::string>> seen;
  std::ifstream in(path);
  int epoch;
  std::string file;
  while (in >> epoch >> file) seen[epoch].insert(fs::path(file).filename().string());
  return seen;
}

struct LauncherRun {
  fs::path out;
  double seconds = 0;
};

/// The 2-rank run through the built-in launcher (device=cpu,cpu), shared by the tests that compare with it.
const LauncherRun& launcher_run() {
  static const LauncherRun run = [] {
    LauncherRun r;
    const auto dir = fresh_dir("launcher");
    r.out = dir / "out";
    const auto data = yolo::test::data_path("fdet/data.yaml");
    const auto start = Clock::now();
    const pid_t pid = spawn(helper_command(r.out, -1, -1, run_args(data, dir, "run", "cpu,cpu", 8)), {}, dir / "log");
    const int status = wait_for(pid, 300);
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    INFO(slurp(dir / "log"));
    REQUIRE(exited_ok(status));
    return r;
  }();
  return run;
}

}  // namespace

// ---- environment and devices --------------------------------------------------------------------

TEST_CASE("rank variables: torchrun, Slurm, none, and bad values", "[distributed]") {
  {
    ScopedEnv env;
    const auto e = yolo::engine::distributed_env_from_environment();
    CHECK_FALSE(e.active());
    CHECK(e.world_size == 1);
  }
  {
    ScopedEnv env({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "10.0.0.2"},
                   {"MASTER_PORT", "29600"}});
    const auto e = yolo::engine::distributed_env_from_environment();
    CHECK(e.active());
    CHECK(e.rank == 1);
    CHECK(e.world_size == 4);
    CHECK(e.local_rank == 1);
    CHECK(e.master_addr == "10.0.0.2");
    CHECK(e.master_port == 29600);
    CHECK(e.source == "env");
  }
  {
    ScopedEnv env({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"}, {"SLURM_NNODES", "1"}});
    const auto e = yolo::engine::distributed_env_from_environment();
    CHECK(e.rank == 3);
    CHECK(e.world_size == 4);
    CHECK(e.local_rank == 1);
    CHECK(e.source == "slurm");
  }
  {
    ScopedEnv env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "8"}, {"SLURM_NNODES", "2"}});
    CHECK_THROWS_WITH(yolo::engine::distributed_env_from_environment(), Catch::Matchers::ContainsSubstring("MASTER_ADDR"));
  }
  {
    ScopedEnv env({{"RANK", "0"}});
    CHECK_THROWS_WITH(yolo::engine::distributed_env_from_environment(), Catch::Matchers::ContainsSubstring("WORLD_SIZE"));
  }
  {
    ScopedEnv env({{"RANK", "2"}, {"WORLD_SIZE", "2"}});
    CHECK_THROWS_WITH(yolo::engine::distributed_env_from_environment(),
                      Catch::Matchers::ContainsSubstring("RANK=2 is out of range"));
  }
  {
    ScopedEnv env({{"RANK", "zero"}, {"WORLD_SIZE", "2"}});
    CHECK_THROWS_WITH(yolo::engine::distributed_env_from_environment(),
                      Catch::Matchers::ContainsSubstring("RANK='zero' is not an integer"));
  }
  {
    ScopedEnv env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}});
    CHECK_THROWS_WITH(yolo::engine::distributed_env_from_environment(), Catch::Matchers::ContainsSubstring("MASTER_PORT"));
  }
}

TEST_CASE("device lists: cpu,cpu is a distributed CPU run, bad lists are errors naming what exists", "[distributed]") {
  using yolo::engine::select_device;
  const auto two = select_device("cpu,cpu");
  REQUIRE(two.all.size() == 2);
  CHECK(two.all[0].is_cpu());
  CHECK(two.all[1].is_cpu());
  CHECK(select_device("CPU").all.size() == 1);
  CHECK_THROWS_WITH(select_device("cpu,0"), Catch::Matchers::ContainsSubstring("cannot be mixed"));
  CHECK_THROWS_WITH(select_device("gpu"), Catch::Matchers::ContainsSubstring("not understood"));
  CHECK_THROWS_WITH(select_device("0-1"), Catch::Matchers::ContainsSubstring("not understood"));
  if (torch::cuda::device_count() == 0) {
    for (const auto& spec : {"0", "cuda:1", "0,1", "-1"})
      CHECK_THROWS_WITH(select_device(spec), Catch::Matchers::ContainsSubstring("device=cpu"));
  } else {
    const auto n = static_cast<int>(torch::cuda::device_count());
    CHECK_THROWS_WITH(select_device(std::to_string(n)), Catch::Matchers::ContainsSubstring("does not exist"));
    const auto idlest = select_device("-1").primary;
    CHECK((idlest.is_cuda() && idlest.index() >= 0 && idlest.index() < n));
    const auto shared = select_device("0,0");  // two ranks on one GPU (Gloo between them)
    REQUIRE(shared.all.size() == 2);
    CHECK(shared.all[0] == shared.all[1]);
  }
}

TEST_CASE("the launcher's master port is 29500 when free, else another free one", "[distributed]") {
  const int port = yolo::engine::pick_master_port(0);
  CHECK(port > 0);
  // Hold a port, then ask for it: another one comes back.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int busy = ntohs(addr.sin_port);
  const int other = yolo::engine::pick_master_port(busy);
  ::close(fd);
  CHECK(other != busy);
  CHECK(other > 0);
}

TEST_CASE("rank 0 hosts the store before the other ranks start, on a free port if the preferred is busy",
          "[distributed]") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int busy = ntohs(addr.sin_port);
  auto hosted = std::make_shared<yolo::engine::HostedStore>("127.0.0.1", busy, std::chrono::seconds(30), 2);
  const int port = hosted->port();
  CHECK(port > 0);
  CHECK(port != busy);
  auto rank = [&](int r) {
    DistributedEnv env;
    env.rank = r, env.local_rank = r, env.world_size = 2, env.master_addr = "127.0.0.1", env.master_port = port;
    auto group = ProcessGroup::create(env, torch::kCPU, std::chrono::seconds(30), r == 0 ? hosted : nullptr);
    auto t = torch::ones({2});
    group->allreduce_sum(t);
    group->barrier();
    return t;
  };
  auto other = std::async(std::launch::async, rank, 1);
  CHECK(torch::equal(rank(0), torch::full({2}, 2.0f)));
  CHECK(torch::equal(other.get(), torch::full({2}, 2.0f)));
  ::close(fd);
}

// ---- collectives and the reducer, two ranks as threads ------------------------------------------

namespace {

template <typename F>
void with_two_ranks(F body) {
  const int port = yolo::engine::pick_master_port(0);
  auto rank = [&](int r) {
    DistributedEnv env;
    env.rank = r, env.local_rank = r, env.world_size = 2, env.master_addr = "127.0.0.1", env.master_port = port;
    auto group = ProcessGroup::create(env, torch::kCPU, std::chrono::seconds(30));
    body(*group);
    group->barrier();
  };
  auto other = std::async(std::launch::async, rank, 1);
  rank(0);
  other.get();
}

}  // namespace

TEST_CASE("Gloo collectives: sum, broadcast, gather of uneven lengths, shared strings", "[distributed]") {
  std::vector<std::vector<torch::Tensor>> gathered(2);
  std::vector<std::string> shared(2);
  std::vector<torch::Tensor> sums(2), broadcasts(2);
  with_two_ranks([&](ProcessGroup& g) {
    const int r = g.rank();
    CHECK(g.backend_name() == "gloo");
    auto t = torch::full({3}, static_cast<float>(r + 1));
    g.allreduce_sum(t);
    sums[r] = t;
    std::vector<torch::Tensor> b{torch::full({2, 2}, static_cast<double>(10 * (r + 1)))};
    g.broadcast(b, 0);
    broadcasts[r] = b[0];
    gathered[r] = g.allgather_variable(torch::arange(r == 0 ? 2 : 5, torch::kInt64) + 100 * r);
    shared[r] = g.share("word", r == 0 ? "from-rank-0" : "ignored");
  });
  for (int r = 0; r < 2; ++r) {
    CHECK(torch::equal(sums[r], torch::full({3}, 3.0f)));
    CHECK(torch::equal(broadcasts[r], torch::full({2, 2}, 10.0, torch::kFloat64)));
    REQUIRE(gathered[r].size() == 2);
    CHECK(torch::equal(gathered[r][0], torch::arange(2, torch::kInt64)));
    CHECK(torch::equal(gathered[r][1], torch::arange(5, torch::kInt64) + 100));
    CHECK(shared[r] == "from-rank-0");
  }
}

TEST_CASE("the gradient reducer averages every backward across ranks, in several buckets", "[distributed]") {
  // Each rank: a small net on its own input; the reduced .grad must be the mean of the two ranks' gradients,
  // also when two backward passes accumulate before a step, and for a layer that only rank 0 uses.
  struct Net {
    torch::nn::Sequential body{nullptr};
    torch::nn::Linear extra{nullptr};
    std::vector<torch::Tensor> parameters() const {
      auto p = body->parameters();
      for (auto& q : extra->parameters()) p.push_back(q);
      return p;
    }
    torch::Tensor loss(const torch::Tensor& x, int rank) {
      auto l = body->forward(x).pow(2).sum();
      return rank == 0 ? l + extra->forward(x).sum() : l;
    }
  };
  auto make_net = [] {
    torch::manual_seed(0);
    Net n;  // NOLINT
    n.body = torch::nn::Sequential(torch::nn::Linear(8, 64), torch::nn::ReLU(), torch::nn::Linear(64, 64),
                                   torch::nn::ReLU(), torch::nn::Linear(64, 4));
    n.extra = torch::nn::Linear(8, 4);
    return n;
  };
  auto input = [](int r, int step) {
    torch::manual_seed(100 + 10 * r + step);
    return torch::randn({5, 8});
  };
  // Expected: both ranks' gradients computed here, accumulated, halved.
  std::vector<torch::Tensor> expected;
  {
    auto net = make_net();
    for (int r = 0; r < 2; ++r)
      for (int step = 0; step < 2; ++step) net.loss(input(r, step), r).backward();
    for (auto& p : net.parameters()) expected.push_back(p.grad() / 2);
  }
  std::vector<std::vector<torch::Tensor>> got(2);
  std::vector<size_t> buckets(2), overlapped(2);
  with_two_ranks([&](ProcessGroup& g) {
    auto net = make_net();
    // 4 KB buckets after a first of 1 KB: the 64x64 weight (16 KB) gets one of its own, the rest share.
    GradientReducer reducer(g, net.parameters(), 4096, 1024);
    buckets[static_cast<size_t>(g.rank())] = reducer.num_buckets();
    for (int step = 0; step < 2; ++step) {
      net.loss(input(g.rank(), step), g.rank()).backward();
      reducer.finish();
    }
    overlapped[static_cast<size_t>(g.rank())] = reducer.overlapped_buckets();
    for (auto& p : net.parameters()) got[static_cast<size_t>(g.rank())].push_back(p.grad().clone());
  });
  CHECK(buckets[0] >= 3);
  CHECK(buckets[0] == buckets[1]);
  // Rank 0 uses every parameter: each bucket's all-reduce starts during backward. On rank 1 the first
  // bucket (the extra layer, last in the parameter list) never fills, and buckets start in order: all wait
  // for finish().
  CHECK(overlapped[0] == buckets[0]);
  CHECK(overlapped[1] == 0);
  for (int r = 0; r < 2; ++r) {
    REQUIRE(got[r].size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) CHECK(torch::allclose(got[r][i], expected[i], 1e-5, 1e-6));
  }
  for (size_t i = 0; i < expected.size(); ++i) CHECK(torch::equal(got[0][i], got[1][i]));
  CHECK(expected.back().abs().sum().item<double>() > 0);  // the extra layer did get rank 0's gradient
}

TEST_CASE("sharded validation merged across ranks gives one process's metrics", "[distributed]") {
  // Each rank runs whole val batches r, r+2, ... of the trained fixture; the gathered statistics must give
  // the metrics of the whole split, on every rank.
  const auto spec = yolo::data::load_data_spec(yolo::test::data_path("fdet/data.yaml"), "");
  yolo::TrainArgs args;
  args.imgsz(320).workers(0);
  auto validate = [&](ProcessGroup* group, int rank, int world) {
    auto model = yolo::engine::load_model_from_checkpoint(yolo::test::data_path("yolov8n_fdet.pt")).model;
    auto loader = yolo::engine::make_val_loader(spec.split("val"), spec.names, args, 4, 32, false, rank, world);
    yolo::engine::ValidatorOptions o;
    o.names = spec.names;
    o.verbose = false;
    return yolo::engine::DetectionValidator(loader, o).run(model, torch::kCPU, nullptr, group);
  };
  const auto single = validate(nullptr, 0, 1);
  std::vector<yolo::ValResults> sharded(2);
  with_two_ranks([&](ProcessGroup& g) { sharded[static_cast<size_t>(g.rank())] = validate(&g, g.rank(), 2); });
  REQUIRE(single.map50_95 > 0.1);
  for (const auto& r : sharded) {
    CHECK(r.images == single.images);
    CHECK(r.instances == single.instances);
    CHECK(r.per_class.size() == single.per_class.size());
    CHECK(r.map50_95 == Approx(single.map50_95).margin(1e-9));
    CHECK(r.map50 == Approx(single.map50).margin(1e-9));
    CHECK(r.precision == Approx(single.precision).margin(1e-9));
    CHECK(r.recall == Approx(single.recall).margin(1e-9));
  }
}

TEST_CASE("an unreachable rendezvous is an error within the timeout, naming the address", "[distributed]") {
  DistributedEnv env;
  env.rank = 1, env.world_size = 2, env.master_addr = "127.0.0.1";
  env.master_port = yolo::engine::pick_master_port(0);  // nobody listens there
  const auto start = Clock::now();
  CHECK_THROWS_WITH(ProcessGroup::create(env, torch::kCPU, std::chrono::seconds(3)),
                    Catch::Matchers::ContainsSubstring("127.0.0.1:" + std::to_string(env.master_port)));
  CHECK(std::chrono::duration<double>(Clock::now() - start).count() < 30);
}

// ---- whole runs ---------------------------------------------------------------------------------

TEST_CASE("2-rank DDP training on CPU ends with the weights of one process accumulating the ranks' batches",
          "[distributed][ddp]") {
  // DDP with global batch 8 gives each rank 4 images; its step is the sum over ranks of the gradient of
  // (rank loss x batch size x world size) / world size, the same as one process with batch 4 and
  // accumulate=2 (nbs=8) stepping after rank 0's batch and rank 1's batch. (A single batch of 8 is a
  // different computation under Ultralytics' loss: batch-norm statistics and the loss normaliser are
  // per batch.) The single process gets rank 0's images then rank 1's through file names that sort so.
  const auto& ddp = launcher_run();
  const auto dir = fresh_dir("reference");
  const fs::path fdet = yolo::test::data_path("fdet");
  std::vector<fs::path> images;
  for (const auto& e : fs::directory_iterator(fdet / "images/train")) images.push_back(e.path());
  std::sort(images.begin(), images.end());
  REQUIRE(images.size() == 16);
  // Rank r takes sorted positions r, r+2, ...: its first batch is {r, r+2, r+4, r+6}.
  const std::vector<int> order{0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15};
  fs::create_directories(dir / "images/train");
  fs::create_directories(dir / "labels/train");
  for (size_t k = 0; k < order.size(); ++k) {
    const auto& image = images[static_cast<size_t>(order[k])];
    const auto stem = fmt::format("{:02d}", k);
    fs::create_symlink(image, dir / "images/train" / (stem + image.extension().string()));
    fs::create_symlink(fdet / "labels/train" / (image.stem().string() + ".txt"), dir / "labels/train" / (stem + ".txt"));
  }
  const auto data = write_yaml(dir, dir / "images/train", fdet / "images/val");
  const auto start = Clock::now();
  const pid_t pid = spawn(helper_command(dir / "out", -1, -1, run_args(data, dir, "run", "cpu", 4)), {}, dir / "log");
  const int status = wait_for(pid, 300);
  const double single_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  INFO(slurp(dir / "log"));
  REQUIRE(exited_ok(status));

  const auto reference = load_params(dir / "out.rank0.pt");
  const auto rank0 = load_params(ddp.out.string() + ".rank0.pt");
  const auto rank1 = load_params(ddp.out.string() + ".rank1.pt");
  REQUIRE(reference.sizes() == rank0.sizes());
  const double error = (rank0 - reference).abs().max().item<double>();
  WARN(fmt::format("DDP 2 ranks: {:.1f}s, one process: {:.1f}s; max |w_ddp - w_single| = {:.3g} over {} weights "
                   "(training moved them by up to {:.3g})",
                   ddp.seconds, single_seconds, error, reference.numel(),
                   (reference - load_params(dir / "out.rank0.initial.pt")).abs().max().item<double>()));
  CHECK(error < 1e-5);
  const double moved = (reference - load_params(dir / "out.rank0.initial.pt")).abs().max().item<double>();
  CHECK(moved > 1e-3);  // training did change the weights
  CHECK(torch::equal(rank0, rank1));  // the ranks hold the same model

  // The ranks saw disjoint halves of the training set in each epoch.
  const auto seen0 = seen_files(ddp.out.string() + ".rank0.files");
  const auto seen1 = seen_files(ddp.out.string() + ".rank1.files");
  REQUIRE(seen0.size() == 2);
  for (int epoch = 0; epoch < 2; ++epoch) {
    const auto& a = seen0.at(epoch);
    const auto& b = seen1.at(epoch);
    CHECK(a.size() == 8);
    CHECK(b.size() == 8);
    std::set<std::string> both(a.begin(), a.end());
    both.insert(b.begin(), b.end());
    CHECK(both.size() == 16);
  }
  // Only rank 0 wrote the run folder.
  CHECK(fs::exists(ddp.out.parent_path() / "run/weights/last.pt"));
  CHECK(fs::exists(ddp.out.parent_path() / "run/results.csv"));
}

TEST_CASE("2 ranks started torchrun-style from environment variables train as the launcher's do",
          "[distributed][ddp]") {
  const auto& launcher = launcher_run();
  const auto dir = fresh_dir("torchrun");
  const auto data = yolo::test::data_path("fdet/data.yaml");
  const int port = yolo::engine::pick_master_port(0);
  std::vector<pid_t> pids;
  for (int r = 0; r < 2; ++r) {
    pids.push_back(spawn(helper_command(dir / "out", -1, -1, run_args(data, dir, "run", "cpu", 8)),
                         {"RANK=" + std::to_string(r), "LOCAL_RANK=" + std::to_string(r), "WORLD_SIZE=2",
                          "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port)},
                         dir / ("log" + std::to_string(r))));
  }
  for (int r = 0; r < 2; ++r) {
    const int status = wait_for(pids[static_cast<size_t>(r)], 300);
    INFO(slurp(dir / ("log" + std::to_string(r))));
    REQUIRE(exited_ok(status));
  }
  const auto w0 = load_params(dir / "out.rank0.pt");
  const auto w1 = load_params(dir / "out.rank1.pt");
  CHECK(torch::equal(w0, w1));
  CHECK((w0 - load_params(launcher.out.string() + ".rank0.pt")).abs().max().item<double>() < 1e-6);
  // Rank 1 printed nothing but its result line: only rank 0 logs.
  CHECK(slurp(dir / "log1").find("Epoch") == std::string::npos);
  CHECK(slurp(dir / "log0").find("Epoch") != std::string::npos);
}

TEST_CASE("a rank that dies makes the others fail promptly with an error naming it", "[distributed][ddp]") {
  const auto data = yolo::test::data_path("fdet/data.yaml");
  SECTION("rank 1 of the built-in launcher is killed: rank 0 names it") {
    const auto dir = fresh_dir("kill_child");
    auto args = run_args(data, dir, "run", "cpu,cpu", 8);
    args.back() = "ddp_timeout=20";
    const auto start = Clock::now();
    const pid_t pid = spawn(helper_command(dir / "out", 1, 0, args), {}, dir / "log");
    const int status = wait_for(pid, 120);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const auto log = slurp(dir / "log");
    INFO(log);
    REQUIRE(status != -1);  // it ended by itself
    CHECK_FALSE(exited_ok(status));
    CHECK(log.find("rank 1 (pid") != std::string::npos);
    CHECK(log.find("signal 9") != std::string::npos);
    CHECK(seconds < 60);
  }
  SECTION("rank 0 of a torchrun-style run is killed: rank 1 names it") {
    const auto dir = fresh_dir("kill_root");
    const int port = yolo::engine::pick_master_port(0);
    auto args = run_args(data, dir, "run", "cpu", 8);
    args.back() = "ddp_timeout=20";
    std::vector<pid_t> pids;
    const auto start = Clock::now();
    for (int r = 0; r < 2; ++r)
      pids.push_back(spawn(helper_command(dir / "out", 0, 0, args),
                           {"RANK=" + std::to_string(r), "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1",
                            "MASTER_PORT=" + std::to_string(port)},
                           dir / ("log" + std::to_string(r))));
    const int status0 = wait_for(pids[0], 120);
    const int status1 = wait_for(pids[1], 120);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const auto log = slurp(dir / "log1");
    INFO(log);
    CHECK((status0 != -1 && WIFSIGNALED(status0) && WTERMSIG(status0) == SIGKILL));
    REQUIRE(status1 != -1);
    CHECK_FALSE(exited_ok(status1));
    CHECK(log.find("rank 0") != std::string::npos);
    CHECK(seconds < 60);
  }
}

#ifdef YOLO_CLI_PATH
TEST_CASE("yolo train device=cpu,cpu: the CLI launches rank 1, which exits after training", "[distributed][ddp]") {
  const auto dir = fresh_dir("cli");
  const auto data = yolo::test::data_path("fdet/data.yaml");
  // YOLO11, as the multi-GPU tutorial trains it (the helper-started runs above train YOLOv8).
  std::vector<std::string> argv{YOLO_CLI_PATH, "detect", "train", "model=yolo11n.yaml"};
  for (const auto& a : run_args(data, dir, "run", "cpu,cpu", 8))
    if (a.rfind("epochs=", 0) != 0) argv.push_back(a);
  argv.push_back("epochs=1");
  argv.push_back("scale_lr=True");  // lr0=0.02 x 2 ranks
  const pid_t pid = spawn(argv, {}, dir / "log");
  const int status = wait_for(pid, 300);
  const auto log = slurp(dir / "log");
  INFO(log);
  REQUIRE(exited_ok(status));
  CHECK(log.find("DDP: 2 ranks (gloo backend), 4 images per rank and batch") != std::string::npos);
  // The summary line is the CLI's, after Model::train: rank 1 never gets there.
  size_t summaries = 0;
  for (size_t at = log.find("mAP50-95 "); at != std::string::npos; at = log.find("mAP50-95 ", at + 1)) ++summaries;
  CHECK(summaries == 1);
  CHECK(fs::exists(dir / "run/weights/best.pt"));
  CHECK(!fs::exists(dir / "run2"));  // one run folder: rank 1 made none
  // scale_lr: the epoch ran at lr0 x world size (no warmup, first epoch: lf = 1) in every group.
  std::ifstream csv(dir / "run/results.csv");
  std::string header, row;
  std::getline(csv, header), std::getline(csv, row);
  std::vector<std::string> cells;
  for (std::stringstream cut(row); cells.emplace_back(), std::getline(cut, cells.back(), ',');) {}
  cells.pop_back();
  REQUIRE(cells.size() == 15);
  for (size_t group = 12; group < 15; ++group) CHECK(std::stod(cells[group]) == Approx(0.04));
}
#endif
