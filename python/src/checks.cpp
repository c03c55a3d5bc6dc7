// yolo.checks(): the report of `yolo checks`, with the Python module that this interpreter imported.
#include <pybind11/stl.h>

#include "bindings.h"
#include "yolo/utils/checks.h"
#include "yolo/version.h"

namespace py = pybind11;

YOLO_BEGIN_NAMESPACE
namespace python {

void bind_checks(py::module_& m) {
  py::class_<GpuInfo>(m, "GpuInfo")
      .def_readonly("index", &GpuInfo::index)
      .def_readonly("name", &GpuInfo::name)
      .def_readonly("memory_gib", &GpuInfo::memory_gib)
      .def_property_readonly("compute_capability",
                             [](const GpuInfo& g) { return py::make_tuple(g.compute_major, g.compute_minor); });
  py::class_<SystemChecks>(m, "SystemChecks")
      .def_readonly("yolocpp_version", &SystemChecks::yolocpp_version)
      .def_readonly("libtorch_version", &SystemChecks::libtorch_version)
      .def_readonly("cuda_compiled", &SystemChecks::cuda_compiled)
      .def_readonly("cuda_runtime", &SystemChecks::cuda_runtime)
      .def_readonly("cuda_driver", &SystemChecks::cuda_driver)
      .def_readonly("cuda_error", &SystemChecks::cuda_error)
      .def_readonly("gpus", &SystemChecks::gpus)
      .def_readonly("cudnn", &SystemChecks::cudnn)
      .def_readonly("nccl", &SystemChecks::nccl)
      .def_readonly("gloo", &SystemChecks::gloo)
      .def_readonly("mps", &SystemChecks::mps)
      .def_readonly("opencv_version", &SystemChecks::opencv_version)
      .def_readonly("video_backends", &SystemChecks::video_backends)
      .def_readonly("blas", &SystemChecks::blas)
      .def_readonly("intra_op_threads", &SystemChecks::intra_op_threads)
      .def_readonly("inter_op_threads", &SystemChecks::inter_op_threads)
      .def_readonly("hardware_threads", &SystemChecks::hardware_threads)
      .def_readonly("python_module", &SystemChecks::python_module)
      .def_readonly("os", &SystemChecks::os)
      .def_readonly("cpu", &SystemChecks::cpu)
      .def_readonly("compiler", &SystemChecks::compiler)
      .def_readonly("ram_gib", &SystemChecks::ram_gib)
      .def("__str__", &SystemChecks::to_string)
      .def("__repr__", &SystemChecks::to_string);
  const auto module_name = m.attr("__name__").cast<std::string>();
  m.def(
      "checks",
      [module_name] {
        auto report = yolo::checks();
        // The package this interpreter imported, which need not be the build tree's.
        const auto file = py::module_::import(module_name.c_str()).attr("__file__");
        report.python_module = py::module_::import("os.path").attr("dirname")(file).cast<std::string>();
        return report;
      },
      "What this build runs on (versions, CUDA, GPUs, cuDNN, NCCL, Gloo, OpenCV, BLAS, threads), as `yolo checks`.");
}

}  // namespace python
YOLO_END_NAMESPACE
