#pragma once
// Device selection as Ultralytics' select_device, and the few device-specific calls the loops need.
// Everything else in the engine is device-generic: tensors follow the model's device.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "yolo/utils/checks.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

/// The devices a `device=` string asks for.
struct DeviceChoice {
  torch::Device primary{torch::kCPU};
  std::vector<torch::Device> all;  ///< more than one: a distributed run (one process per device)
  std::string description;         ///< e.g. "CPU (2 cores)" or "CUDA:0 (NVIDIA H100, 80GB)"
};

/// "" → first CUDA GPU, else MPS, else CPU; "cpu"; "0" / "cuda:1" / "0,1"; "-1" → the idlest GPU;
/// "mps". A device that does not exist is an error that lists what is available. Choosing the CPU (or MPS)
/// sets LibTorch's intra-op threads to cpu_threads(ranks on this machine).
DeviceChoice select_device(const std::string& device);

/// Intra-op threads for work on the CPU: the usable physical cores shared by `ranks` processes of this machine,
/// or LibTorch's current count when OMP_NUM_THREADS is set (the user's choice wins). LibTorch's own default
/// depends on its build (Debian's 1.13 takes one thread on a 2-core VM, PyPI's every physical core); this
/// gives every build the same share. Ultralytics caps its count at cores - 1, leaving one to its loader
/// processes; measured here, kernels on both cores of a 2-core VM train 1.3-1.65x faster (benchmarks/RESULTS.md).
int64_t cpu_threads(int64_t ranks = 1);

/// The GPU that device=-1 takes, from nvidia-smi's `index, memory.used, memory.total, utilization.gpu`
/// CSV rows: the least utilised among those with 20% of their memory free (ties: the most free memory).
std::optional<int64_t> idlest_gpu(const std::string& nvidia_smi_csv);
/// Bytes of accelerator memory reserved by this process (0 on CPU), for the progress line.
double memory_reserved_gb(const torch::Device& device);
/// Waits for queued work on the device (no-op on CPU), so that timings are honest.
void synchronize(const torch::Device& device);
/// Copies `tensor` to the host, which waits for the device: the read the training loop means to make (its
/// running losses, once per progress refresh). Marked "yolo::host_read" for profilers and for the test
/// that counts the loop's synchronisations.
torch::Tensor read_to_host(const torch::Tensor& tensor);

/// What the CUDA runtime reports, for `yolo checks`: versions as "13.0", the visible GPUs, and why none
/// is visible. All empty in a build without CUDA.
struct CudaReport {
  std::string runtime, driver, error;
  std::vector<GpuInfo> gpus;
};
CudaReport query_cuda();
bool mps_available();

}  // namespace engine
YOLO_END_NAMESPACE
