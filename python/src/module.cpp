// The `yolo._yolo` extension: error mapping, output routing and the version.
#include <string>

#include "bindings.h"
#include "yolo/config/args.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace py = pybind11;

namespace {

/// Library output goes to Python's sys.stdout/sys.stderr so that it shows in notebooks.
void route_log_to_python() {
  // A terminal redraws the progress bar in place; a notebook or a redirected stdout gets periodic kept lines.
  try {
    yolo::set_log_interactive(py::module_::import("sys").attr("stdout").attr("isatty")().cast<bool>());
  } catch (const py::error_already_set&) {
    yolo::set_log_interactive(false);  // a stdout replacement without isatty()
  }
  yolo::set_log_sink([](yolo::LogLevel level, std::string_view message) {
    py::gil_scoped_acquire gil;
    const bool warning = level >= yolo::LogLevel::Warning;
    std::string text = level == yolo::LogLevel::Warning ? "WARNING " + std::string(message)
                       : level == yolo::LogLevel::Error ? "ERROR " + std::string(message)
                                                         : std::string(message);
    if (level == yolo::LogLevel::Progress) {
      // A notebook or terminal redraws the line; the final update is kept.
      if (text.empty() || text.back() != '\n') text = "\r" + text;
    } else {
      text += "\n";
    }
    try {
      auto stream = py::module_::import("sys").attr(warning ? "stderr" : "stdout");
      stream.attr("write")(text);
      if (level == yolo::LogLevel::Progress) stream.attr("flush")();
    } catch (const py::error_already_set&) {
      // Interpreter shutting down: nothing sensible to print to.
    }
  });
}

}  // namespace

PYBIND11_MODULE(_yolo, m) {
  m.doc() = "yolocpp: train, validate and run YOLO detectors natively";
  m.attr("__version__") = YOLO_VERSION_STRING;

  static py::exception<yolo::Error> error(m, "Error", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const yolo::Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });

  m.def("train_keys", &yolo::TrainArgs::keys, "Every argument name train/val/predict accept.");

  yolo::python::bind_results(m);
  yolo::python::bind_model(m);
  yolo::python::bind_checks(m);

  route_log_to_python();
  py::module_::import("atexit").attr("register")(py::cpp_function([] { yolo::set_log_sink({}); }));
}
