// `yolo checks` and yolo::checks(): the report agrees with what LibTorch and OpenCV say of themselves, and
// works on a machine without a GPU.
#include "yolo/utils/checks.h"

#include <cstdio>
#include <string>
#include <thread>

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <opencv2/core/version.hpp>
#include <torch/torch.h>

#include "catch.h"
#include "engine/device.h"
#include "utils/torch_compat.h"
#include "yolo/version.h"

using Catch::Matchers::ContainsSubstring;

TEST_CASE("checks() reports the LibTorch, CUDA, OpenCV and threads this process runs with", "[utils][checks]") {
  const auto c = yolo::checks();
  CHECK(c.yolocpp_version == YOLO_VERSION_STRING);
  CHECK(c.libtorch_version == TORCH_VERSION);  // LibTorch's own header: runtime and build agree
  CHECK(c.opencv_version == CV_VERSION);
  CHECK(static_cast<int64_t>(c.gpus.size()) == static_cast<int64_t>(torch::cuda::device_count()));
  CHECK(c.intra_op_threads == yolo::engine::cpu_threads());
  CHECK(c.inter_op_threads == static_cast<int64_t>(at::get_num_interop_threads()));
  CHECK(c.hardware_threads == static_cast<int64_t>(std::thread::hardware_concurrency()));
  // MKL is linked into PyPI's LibTorch; Debian's calls a shared BLAS through its generic interface.
  if (at::show_config().find("BLAS_INFO=mkl") != std::string::npos) {
    CHECK(c.blas.rfind("MKL", 0) == 0);
  } else {
    CHECK_THAT(c.blas, ContainsSubstring("(LibTorch's BLAS_INFO)"));
  }
  if (c.cuda_compiled) {
    // The runtime's major version is the one LibTorch was built against (CUDART_VERSION = 1000 * major + ...).
    const long built = at::detail::getCUDAHooks().versionCUDART();
    CHECK(c.cuda_runtime.rfind(std::to_string(built / 1000) + ".", 0) == 0);
    CHECK(c.cudnn.empty() == (yolo::compat::cudnn_version() == 0));
  } else {
    CHECK(c.cuda_runtime.empty());
    CHECK(c.cudnn.empty());
    CHECK(c.nccl.empty());
    CHECK(c.gpus.empty());
  }
  for (const auto& gpu : c.gpus) {
    CHECK(!gpu.name.empty());
    CHECK(gpu.memory_gib > 0);
    CHECK(gpu.compute_major >= 3);
  }
  // No GPU is not an error: the runtime's reason is kept for the report.
  if (c.cuda_compiled && c.gpus.empty()) CHECK(!c.cuda_error.empty());

  const auto text = c.to_string();
  CHECK_THAT(text, ContainsSubstring("yolocpp: " YOLO_VERSION_STRING "\n"));
  CHECK_THAT(text, ContainsSubstring("LibTorch: " + c.libtorch_version + "\n"));
  CHECK_THAT(text, ContainsSubstring(c.cuda_compiled ? "CUDA: compiled" : "CUDA: not compiled"));
  for (const char* key : {"cuDNN: ", "NCCL: ", "Gloo: ", "MPS: ", "OpenCV: ", "BLAS: ", "Threads: ", "Python module: "})
    CHECK_THAT(text, ContainsSubstring(std::string("\n") + key));
}

#ifdef YOLO_CLI_PATH
TEST_CASE("yolo checks prints the report and exits 0", "[utils][checks][cli]") {
  FILE* pipe = ::popen(YOLO_CLI_PATH " checks 2>&1", "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  const int status = ::pclose(pipe);
  INFO(out);
  CHECK(status == 0);
  CHECK(out.rfind("yolocpp: " YOLO_VERSION_STRING "\n", 0) == 0);
  CHECK_THAT(out, ContainsSubstring("\nLibTorch: " + yolo::checks().libtorch_version + "\n"));
  CHECK_THAT(out, ContainsSubstring("\nCUDA: "));
}
#endif
