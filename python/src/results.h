#pragma once
// Python-side result types and their conversion from the C++ results.
#include <array>
#include <map>
#include <string>
#include <vector>

#include <pybind11/numpy.h>

#include "yolo/engine/results.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace python {

struct PyBoxes {
  pybind11::array_t<float> xyxy, conf, cls;
};

/// Class probabilities of one image, as Ultralytics' Results.probs.
struct PyProbs {
  pybind11::array_t<float> data, top5conf;
  int top1 = 0;
  std::vector<int> top5;
  float top1conf = 0;
};

struct PyResults {
  std::string path;
  std::map<int, std::string> names;
  pybind11::object boxes;  ///< Boxes for detection, None for classification
  pybind11::object probs;  ///< Probs for classification, None for detection
  std::array<int, 2> orig_shape{0, 0};
  std::string error;
};

struct PyMetrics {
  std::string task;
  std::map<std::string, double> results_dict;
  double top1 = 0, top5 = 0;  ///< classification accuracy
  std::string save_dir;
  double fitness = 0;
  std::map<std::string, double> speed;
  std::map<std::string, std::map<std::string, double>> per_class;
};

PyMetrics to_python(const ValResults& results);
PyResults to_python(const Prediction& prediction, const std::vector<std::string>& names);

}  // namespace python
YOLO_END_NAMESPACE
