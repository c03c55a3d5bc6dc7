#include "yolo/utils/checks.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <fmt/ranges.h>
#include <opencv2/core/utility.hpp>

#include "yolo_build_config.h"
#if YOLO_HAVE_VIDEOIO
#include <opencv2/videoio/registry.hpp>
#endif
#if YOLO_WITH_NCCL && defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/NCCLUtils.hpp>
#endif

#include "engine/device.h"
#include "utils/torch_compat.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace {

/// One `KEY=value` of the "Build settings: A=1, B=2, ..." line of at::show_config(); "" when absent.
std::string build_setting(const std::string& config, const std::string& key) {
  for (size_t at = config.find(key + "="); at != std::string::npos; at = config.find(key + "=", at + 1)) {
    if (at > 0 && config[at - 1] != ' ') continue;  // the tail of a longer key
    const size_t begin = at + key.size() + 1;
    return config.substr(begin, config.find_first_of(",\n", begin) - begin);
  }
  return "";
}

/// cuDNN encodes its version as major*1000 + minor*100 + patch up to 8.x, major*10000 + ... from 9.
std::string cudnn_version_text(long v) {
  if (v <= 0) return "";
  const long major_unit = v >= 90000 ? 10000 : 1000;
  return fmt::format("{}.{}.{}", v / major_unit, v % major_unit / 100, v % 100);
}

/// The BLAS LibTorch computes with: MKL linked into it (PyPI's wheels), or the shared BLAS that its generic
/// interface loads (Debian: the alternatives system picks one behind libblas.so.3).
std::string describe_blas(const std::string& config) {
  const std::string info = build_setting(config, "BLAS_INFO");
  if (info == "mkl") {
    const size_t at = config.find("Math Kernel Library Version ");
    return at == std::string::npos ? "MKL (linked into LibTorch)"
                                   : fmt::format("MKL {} (linked into LibTorch)",
                                                 config.substr(at + 28, config.find_first_of(" \n", at + 28) - at - 28));
  }
  std::vector<std::string> loaded;
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string name = std::filesystem::path(path).filename().string();
    const bool cpu_blas = name.rfind("libblas", 0) == 0 || name.rfind("libopenblas", 0) == 0 ||
                          name.rfind("libmkl_rt", 0) == 0 || name.rfind("libflexiblas", 0) == 0;
    if (cpu_blas && std::find(loaded.begin(), loaded.end(), path) == loaded.end()) loaded.push_back(path);
  }
  return fmt::format("{} (LibTorch's BLAS_INFO){}", info.empty() ? "unknown" : info,
                     loaded.empty() ? "" : fmt::format(", loaded: {}", fmt::join(loaded, ", ")));
}

std::string first_line_with(const char* file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t begin = line.find_first_not_of(" \t", colon + 1);
    return begin == std::string::npos ? "" : line.substr(begin);
  }
  return "";
}

std::string or_none(const std::string& s) { return s.empty() ? "none" : s; }

}  // namespace

SystemChecks checks() {
  SystemChecks c;
  c.yolocpp_version = YOLO_VERSION_STRING;
  const std::string config = at::show_config();
  c.libtorch_version = build_setting(config, "TORCH_VERSION");
  if (c.libtorch_version.empty()) c.libtorch_version = TORCH_VERSION;

  c.cuda_compiled = YOLO_HAVE_CUDA;
  const auto cuda = engine::query_cuda();
  c.cuda_runtime = cuda.runtime;
  c.cuda_driver = cuda.driver;
  c.cuda_error = cuda.error;
  c.gpus = cuda.gpus;
  try {
    c.cudnn = cudnn_version_text(compat::cudnn_version());
  } catch (const std::exception&) {
    // A CPU-only LibTorch answers cuDNN queries with an error: there is none.
  }
#if YOLO_WITH_NCCL && defined(USE_C10D_NCCL)
  c.nccl = c10d::getNcclVersion();
#endif
  c.gloo = YOLO_HAVE_GLOO_HEADERS;
  c.mps = engine::mps_available();

  c.opencv_version = cv::getVersionString();
#if YOLO_HAVE_VIDEOIO
  for (const auto api : cv::videoio_registry::getBackends())
    c.video_backends.push_back(cv::videoio_registry::getBackendName(api));
#endif
  c.blas = describe_blas(config);
  c.intra_op_threads = engine::cpu_threads();  // what training on the CPU uses
  c.inter_op_threads = at::get_num_interop_threads();
  c.hardware_threads = std::thread::hardware_concurrency();
  if (std::filesystem::exists(YOLO_PYTHON_BUILD_DIR)) c.python_module = YOLO_PYTHON_BUILD_DIR;

  if (utsname u{}; ::uname(&u) == 0) c.os = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  c.cpu = first_line_with("/proc/cpuinfo", "model name");
  c.ram_gib = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE)) /
              (1 << 30);
#if defined(__clang__)
  c.compiler = "Clang " __clang_version__;
#elif defined(__GNUC__)
  c.compiler = "GCC " __VERSION__;
#endif
  return c;
}

std::string SystemChecks::to_string() const {
  std::string out;
  const auto line = [&out](const char* key, const std::string& value) {
    out += fmt::format("{}: {}\n", key, value);
  };
  line("yolocpp", yolocpp_version);
  line("LibTorch", libtorch_version);
  if (cuda_compiled) {
    line("CUDA", fmt::format("compiled (runtime {}, driver {})", or_none(cuda_runtime),
                             cuda_driver.empty() ? "none" : "for CUDA " + cuda_driver));
  } else {
    line("CUDA", "not compiled (CPU-only LibTorch)");
  }
  if (gpus.empty()) {
    line("GPUs", cuda_error.empty() ? "none visible" : fmt::format("none visible ({})", cuda_error));
  }
  for (const auto& gpu : gpus) {
    line(fmt::format("GPU {}", gpu.index).c_str(),
         fmt::format("{}, {:.1f} GiB, compute capability {}.{}", gpu.name, gpu.memory_gib, gpu.compute_major,
                     gpu.compute_minor));
  }
  line("cuDNN", or_none(cudnn));
  line("NCCL", nccl.empty() ? "not in this build" : nccl);
  line("Gloo", gloo ? "available" : "not in this build (Gloo headers missing at build time)");
  line("MPS", mps ? "available" : "not available");
  line("OpenCV", video_backends.empty()
                     ? fmt::format("{} (no video I/O)", opencv_version)
                     : fmt::format("{} (video backends: {})", opencv_version, fmt::join(video_backends, ", ")));
  line("BLAS", blas);
  line("Threads", fmt::format("{} intra-op (CPU training), {} inter-op, {} hardware", intra_op_threads, inter_op_threads,
                              hardware_threads));
  line("Python module", python_module.empty() ? "not built" : python_module);
  line("OS", or_none(os));
  line("CPU", or_none(cpu));
  line("RAM", fmt::format("{:.1f} GiB", ram_gib));
  line("Compiler", or_none(compiler));
  return out;
}

YOLO_END_NAMESPACE
