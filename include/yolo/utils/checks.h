#pragma once
// `yolo checks`: what this build of yolocpp runs on, as Ultralytics' `yolo checks` reports it. Needs no
// model and no GPU; every field says "none" rather than failing when something is absent.
#include <cstdint>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

/// One CUDA GPU as the CUDA runtime sees it (CUDA_VISIBLE_DEVICES applies).
struct GpuInfo {
  int64_t index = 0;
  std::string name;
  double memory_gib = 0;
  int compute_major = 0, compute_minor = 0;
};

struct SystemChecks {
  std::string yolocpp_version;
  std::string libtorch_version;  ///< of the LibTorch this build runs with, e.g. "2.11.0"
  bool cuda_compiled = false;    ///< LibTorch and yolocpp built with CUDA (whether or not a GPU is present)
  std::string cuda_runtime;      ///< e.g. "13.0"; "" when not compiled with CUDA
  std::string cuda_driver;       ///< the highest CUDA version the driver supports; "" when no driver is loaded
  std::string cuda_error;        ///< why no GPU is visible, from the CUDA runtime ("" when GPUs are visible)
  std::vector<GpuInfo> gpus;
  std::string cudnn;  ///< the cuDNN version LibTorch loads; "" when none
  std::string nccl;   ///< the NCCL version distributed training uses; "" when this build has no NCCL
  bool gloo = false;  ///< distributed training over Gloo (CPU, or GPUs that share a device) is built in
  bool mps = false;
  std::string opencv_version;
  std::vector<std::string> video_backends;  ///< OpenCV's video I/O backends (empty without videoio)
  std::string blas;                         ///< the BLAS LibTorch was built with, and the library loaded
  int64_t intra_op_threads = 0, inter_op_threads = 0, hardware_threads = 0;
  std::string python_module;  ///< where the `yolo` Python module is ("" when not built)
  std::string os, cpu, compiler;
  double ram_gib = 0;

  /// One "key: value" line per fact, for the `yolo checks` command and logs.
  std::string to_string() const;
};

/// Collects the facts above; cheap (no model, no tensors) and never throws for a missing component.
SystemChecks checks();

YOLO_END_NAMESPACE
