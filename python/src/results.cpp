// Result objects in the shape Ultralytics users know: metrics.results_dict, r.boxes.xyxy, ...
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "results.h"
#include "yolo/version.h"

namespace py = pybind11;

YOLO_BEGIN_NAMESPACE
namespace python {

PyMetrics to_python(const ValResults& r) {
  PyMetrics m;
  m.task = r.task;
  for (const auto& [key, value] : r.results_dict()) m.results_dict[key] = value;
  m.top1 = r.top1, m.top5 = r.top5;
  m.save_dir = r.save_dir;
  m.fitness = r.fitness;
  m.speed = {{"preprocess", r.speed.preprocess}, {"inference", r.speed.inference}, {"loss", r.speed.loss},
             {"postprocess", r.speed.postprocess}};
  for (const auto& c : r.per_class)
    m.per_class[c.name] = {{"images", static_cast<double>(c.images)}, {"instances", static_cast<double>(c.instances)},
                           {"precision", c.precision}, {"recall", c.recall}, {"mAP50", c.map50},
                           {"mAP50-95", c.map50_95}};
  return m;
}

PyResults to_python(const Prediction& p, const std::vector<std::string>& names) {
  PyResults r;
  r.path = p.path;
  r.orig_shape = {p.orig_height, p.orig_width};
  for (size_t i = 0; i < names.size(); ++i) r.names[static_cast<int>(i)] = names[i];
  r.error = p.error;
  r.boxes = r.probs = py::none();
  if (!p.probs.data.empty()) {  // classification
    PyProbs probs;
    probs.data = py::array_t<float>(static_cast<py::ssize_t>(p.probs.data.size()), p.probs.data.data());
    probs.top5conf = py::array_t<float>(static_cast<py::ssize_t>(p.probs.top5conf.size()), p.probs.top5conf.data());
    probs.top1 = p.probs.top1, probs.top1conf = p.probs.top1conf, probs.top5 = p.probs.top5;
    r.probs = py::cast(std::move(probs));
    return r;
  }
  if (!p.error.empty()) return r;
  const auto n = static_cast<py::ssize_t>(p.boxes.size());
  py::array_t<float> xyxy({n, static_cast<py::ssize_t>(4)}), conf(n), cls(n);
  auto x = xyxy.mutable_unchecked<2>();
  auto c = conf.mutable_unchecked<1>();
  auto k = cls.mutable_unchecked<1>();
  for (py::ssize_t i = 0; i < n; ++i) {
    const auto& b = p.boxes[static_cast<size_t>(i)];
    x(i, 0) = b.x1, x(i, 1) = b.y1, x(i, 2) = b.x2, x(i, 3) = b.y2;
    c(i) = b.conf, k(i) = static_cast<float>(b.cls);
  }
  r.boxes = py::cast(PyBoxes{xyxy, conf, cls});
  return r;
}

void bind_results(py::module_& m) {
  py::class_<PyBoxes>(m, "Boxes", "Detected boxes of one image, in original image pixels.")
      .def_readonly("xyxy", &PyBoxes::xyxy, "float32 array [n, 4]: x1, y1, x2, y2")
      .def_readonly("conf", &PyBoxes::conf, "float32 array [n]")
      .def_readonly("cls", &PyBoxes::cls, "float32 array [n] of class indices")
      .def("__len__", [](const PyBoxes& b) { return b.conf.size(); });
  py::class_<PyProbs>(m, "Probs", "Class probabilities of one image (classification).")
      .def_readonly("data", &PyProbs::data, "float32 array [nc]: the softmax over the classes")
      .def_readonly("top1", &PyProbs::top1, "the most probable class")
      .def_readonly("top5", &PyProbs::top5, "the five most probable classes, most probable first")
      .def_readonly("top1conf", &PyProbs::top1conf)
      .def_readonly("top5conf", &PyProbs::top5conf, "float32 array [5]: their probabilities")
      .def("__repr__", [](const PyProbs& p) {
        return "<yolo.Probs top1=" + std::to_string(p.top1) + " " + std::to_string(p.top1conf) + ">";
      });
  py::class_<PyResults>(m, "Results", "What the model saw in one image: boxes (detect) or probs (classify).")
      .def_readonly("path", &PyResults::path)
      .def_readonly("names", &PyResults::names)
      .def_readonly("boxes", &PyResults::boxes, "Boxes (detection) or None")
      .def_readonly("probs", &PyResults::probs, "Probs (classification) or None")
      .def_readonly("orig_shape", &PyResults::orig_shape)
      .def_readonly("error", &PyResults::error, "non-empty when this source could not be read")
      .def("__repr__", [](const PyResults& r) {
        if (!r.probs.is_none()) return "<yolo.Results " + r.path + ": top1 " + std::to_string(r.probs.cast<PyProbs>().top1) + ">";
        if (r.boxes.is_none()) return "<yolo.Results " + r.path + ": " + r.error + ">";
        return "<yolo.Results " + r.path + ": " + std::to_string(r.boxes.cast<PyBoxes>().conf.size()) + " boxes>";
      });
  py::class_<PyMetrics>(m, "Metrics", "Validation metrics: results_dict has Ultralytics' keys.")
      .def_readonly("task", &PyMetrics::task)
      .def_readonly("results_dict", &PyMetrics::results_dict)
      .def_readonly("top1", &PyMetrics::top1, "classification: top-1 accuracy")
      .def_readonly("top5", &PyMetrics::top5, "classification: top-5 accuracy")
      .def_readonly("save_dir", &PyMetrics::save_dir)
      .def_readonly("fitness", &PyMetrics::fitness)
      .def_readonly("speed", &PyMetrics::speed)
      .def_readonly("per_class", &PyMetrics::per_class)
      .def("__repr__", [](const PyMetrics& m) {
        std::string s = "<yolo.Metrics";
        for (const auto& [k, v] : m.results_dict) s += " " + k + "=" + std::to_string(v);
        return s + ">";
      });
}

}  // namespace python
YOLO_END_NAMESPACE
