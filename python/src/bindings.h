#pragma once
// The pieces of the `yolo` Python module, one file per area.
#include <pybind11/pybind11.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace python {

void bind_results(pybind11::module_& m);
void bind_model(pybind11::module_& m);
void bind_checks(pybind11::module_& m);

}  // namespace python
YOLO_END_NAMESPACE
