#include "engine/device.h"

#include <ATen/record_function.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <fmt/ranges.h>

#include "yolo_build_config.h"
#if YOLO_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

#include "utils/cpus.h"
#include "utils/torch_compat.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {
namespace {

std::string lowercase_without_spaces(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); }), s.end());
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* prefix : {"cuda:", "cuda"}) {
    const std::string p(prefix);
    size_t pos;
    while ((pos = s.find(p)) != std::string::npos) s.erase(pos, p.size());
  }
  return s;
}

std::string available_devices() {
  const auto n = torch::cuda::device_count();
  if (n == 0) return "this build sees no CUDA GPU: use device=cpu";
  return fmt::format("available: device=cpu or CUDA devices 0..{}", n - 1);
}

std::string cpu_description() {
  return fmt::format("CPU ({} cores)", std::max(1u, std::thread::hardware_concurrency()));
}

// nvidia-smi's view of the GPUs (LibTorch has no utilisation or memory query without CUDA headers); "" when
// nvidia-smi is not there.
std::string query_nvidia_smi() {
  FILE* pipe = ::popen(
      "nvidia-smi --query-gpu=index,memory.used,memory.total,utilization.gpu --format=csv,noheader,nounits "
      "2>/dev/null",
      "r");
  if (!pipe) return "";
  std::string out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  ::pclose(pipe);
  return out;
}

void use_cpu_threads(int64_t ranks) {
  const auto threads = cpu_threads(ranks);
  if (at::get_num_threads() != threads) at::set_num_threads(static_cast<int>(threads));
}

int64_t idlest_or_last_gpu(int64_t count) {
  if (auto id = idlest_gpu(query_nvidia_smi()); id && *id < count) return *id;
  log_warning("device=-1: no GPU with 20% free memory found through nvidia-smi, taking CUDA device {}", count - 1);
  return count - 1;
}

}  // namespace

int64_t cpu_threads(int64_t ranks) {
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env && *env) return at::get_num_threads();
  return std::max<int64_t>(1, usable_cores() / std::max<int64_t>(1, ranks));
}

std::optional<int64_t> idlest_gpu(const std::string& nvidia_smi_csv) {
  std::istringstream lines(nvidia_smi_csv);
  std::string line;
  std::optional<int64_t> best;
  double best_utilization = 0, best_free = 0;
  while (std::getline(lines, line)) {
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream fields(line);
    int64_t index;
    double used, total, utilization;
    if (!(fields >> index >> used >> total >> utilization) || total <= 0) continue;  // "[N/A]" and the like
    const double free = total - used;
    if (free < 0.2 * total) continue;  // as Ultralytics: a GPU needs 20% of its memory free
    if (!best || utilization < best_utilization || (utilization == best_utilization && free > best_free))
      best = index, best_utilization = utilization, best_free = free;
  }
  return best;
}

DeviceChoice select_device(const std::string& device) {
  const std::string spec = lowercase_without_spaces(device);
  DeviceChoice choice;
  if (spec.empty()) {
    if (torch::cuda::is_available()) return select_device("0");
    if (mps_available()) return select_device("mps");
    return select_device("cpu");
  }
  if (spec == "cpu") {
    use_cpu_threads(1);
    choice.primary = torch::kCPU;
    choice.all = {choice.primary};
    choice.description = cpu_description();
    return choice;
  }
  if (spec == "mps") {
    YOLO_CHECK(mps_available(), "device=mps requested but MPS is not available in this build; use device=cpu");
    use_cpu_threads(1);
    choice.primary = torch::Device(torch::kMPS);
    choice.all = {choice.primary};
    choice.description = "MPS";
    return choice;
  }
  if (spec.find("cpu") != std::string::npos || spec.find("mps") != std::string::npos) {
    // A list of CPUs ("cpu,cpu") is a distributed run of that many CPU processes (Gloo).
    size_t count = 0, start = 0;
    bool only_cpu = true;
    while (start <= spec.size()) {
      const size_t comma = std::min(spec.find(',', start), spec.size());
      const std::string token = spec.substr(start, comma - start);
      start = comma + 1;
      if (token.empty()) continue;
      only_cpu = only_cpu && token == "cpu";
      ++count;
    }
    YOLO_CHECK(only_cpu && count > 1,
               "device='{}' is not understood: use cpu, a list of CPUs like cpu,cpu (a distributed run on CPU), mps, "
               "a CUDA index like 0, a list like 0,1, or -1; CPU and GPU cannot be mixed ({})",
               device, available_devices());
    use_cpu_threads(static_cast<int64_t>(count));
    choice.all.assign(count, torch::Device(torch::kCPU));
    choice.primary = choice.all.front();
    choice.description = fmt::format("{} x {}", count, cpu_description());
    return choice;
  }
  const auto n = static_cast<int64_t>(torch::cuda::device_count());
  std::vector<int64_t> ids;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string token = spec.substr(start, comma - start);
    start = comma + 1;
    if (token.empty()) continue;
    YOLO_CHECK(token == "-1" || (token.size() <= 6 && std::all_of(token.begin(), token.end(),
                                                                     [](unsigned char c) { return std::isdigit(c); })),
               "device='{}' is not understood: use cpu, mps, a CUDA index like 0, a list like 0,1, or -1", device);
    const int64_t id = std::stoll(token);
    YOLO_CHECK(n > 0, "device='{}' asks for CUDA but {}", device, available_devices());
    // -1: the least busy GPU with memory to spare, as Ultralytics' select_idle_gpu.
    const int64_t resolved = id == -1 ? idlest_or_last_gpu(n) : id;
    YOLO_CHECK(resolved >= 0 && resolved < n, "device='{}': CUDA device {} does not exist ({})", device, id,
               available_devices());
    if (std::find(ids.begin(), ids.end(), resolved) != ids.end())
      log_warning("device='{}' puts several ranks on CUDA device {}: they share its memory, and communicate through "
                  "Gloo (NCCL needs one GPU per rank)",
                  device, resolved);
    ids.push_back(resolved);
  }
  YOLO_CHECK(!ids.empty(), "device='{}' names no device", device);
  for (auto id : ids) choice.all.emplace_back(torch::kCUDA, static_cast<c10::DeviceIndex>(id));
  choice.primary = choice.all.front();
  choice.description = fmt::format("CUDA:{}", fmt::join(ids, ","));
  return choice;
}

double memory_reserved_gb(const torch::Device& device) {
  (void)device;
  return 0.0;  // LibTorch's C++ API exposes no allocator statistics without the CUDA headers.
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

torch::Tensor read_to_host(const torch::Tensor& tensor) {
  RECORD_USER_SCOPE("yolo::host_read");
  return tensor.to(torch::kCPU);
}

bool mps_available() {
#if YOLO_TORCH_VERSION_AT_LEAST(2, 0)
  return torch::mps::is_available();
#else
  return false;
#endif
}

CudaReport query_cuda() {
  CudaReport report;
#if YOLO_HAVE_CUDA
  // CUDA encodes versions as 1000 * major + 10 * minor; the driver's is 0 when no driver is loaded.
  const auto version_text = [](int v) { return v > 0 ? fmt::format("{}.{}", v / 1000, v % 1000 / 10) : std::string(); };
  int version = 0;
  if (cudaRuntimeGetVersion(&version) == cudaSuccess) report.runtime = version_text(version);
  version = 0;
  if (cudaDriverGetVersion(&version) == cudaSuccess) report.driver = version_text(version);
  int count = 0;
  if (const auto status = cudaGetDeviceCount(&count); status != cudaSuccess) {
    report.error = cudaGetErrorString(status);
    (void)cudaGetLastError();  // clear it, so that later CUDA calls do not report it again
    return report;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp properties{};
    if (cudaGetDeviceProperties(&properties, i) != cudaSuccess) continue;
    report.gpus.push_back({i, properties.name, static_cast<double>(properties.totalGlobalMem) / (1 << 30),
                           properties.major, properties.minor});
  }
#endif
  return report;
}

}  // namespace engine
YOLO_END_NAMESPACE
