// yolo.Model: the C++ facade with Ultralytics' keyword arguments.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "results.h"
#include "utils/suggest.h"
#include "yolo/model.h"
#include "yolo/nn/model.h"
#include "yolo/process.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

namespace py = pybind11;

YOLO_BEGIN_NAMESPACE
namespace python {
namespace {

/// Python values as the strings the one argument parser reads ("True", "0.5", "[0, 1]", "None").
std::string to_arg_string(const py::handle& value) {
  if (value.is_none()) return "None";
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>() ? "True" : "False";
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    std::string s = "[";
    bool first = true;
    for (const auto& item : value) {
      s += (first ? "" : ", ") + to_arg_string(item);
      first = false;
    }
    return s + "]";
  }
  return py::str(value).cast<std::string>();
}

/// Applies keyword arguments to `args`; an unknown keyword is a TypeError with a suggestion.
TrainArgs with_kwargs(TrainArgs args, const py::kwargs& kwargs) {
  const auto keys = TrainArgs::keys();
  for (const auto& [key, value] : kwargs) {
    const auto name = key.cast<std::string>();
    if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
      // Not a current key: the parser still takes Ultralytics' removed and ignored ones (with a warning).
      try {
        args.set(name, to_arg_string(value));
      } catch (const Error&) {
        throw py::type_error("'" + name + "' is not a valid YOLO argument." + did_you_mean(name, keys));
      }
      continue;
    }
    args.set(name, to_arg_string(value));
  }
  return args;
}

/// The model plus what Python needs around it: Ctrl-C handling during training.
struct PyModel {
  explicit PyModel(const std::string& source) : model(source), interrupted(std::make_shared<std::atomic<bool>>()) {
    auto flag = interrupted;
    // Training runs with the GIL released; between batches we take it briefly to let Python see Ctrl-C.
    model.add_callback("on_train_batch_end", [flag](TrainEvent& event) {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        PyErr_Clear();
        flag->store(true);
        event.stop = true;
      }
    });
  }
  Model model;
  std::shared_ptr<std::atomic<bool>> interrupted;
};

py::dict event_to_dict(const TrainEvent& e) {
  py::dict d;
  d["event"] = e.name;
  d["epoch"] = e.epoch;
  d["epochs"] = e.epochs;
  d["batch"] = e.batch;
  d["batches"] = e.batches;
  py::dict train_loss;
  for (const auto& [k, v] : e.train_loss) train_loss[py::str(k)] = v;
  d["train_loss"] = train_loss;
  d["lr"] = py::make_tuple(e.lr[0], e.lr[1], e.lr[2]);
  py::dict metrics;
  for (const auto& [k, v] : e.metrics.results_dict()) metrics[py::str(k)] = v;
  d["metrics"] = metrics;
  d["fitness"] = e.fitness;
  d["best_fitness"] = e.best_fitness;
  d["save_dir"] = e.save_dir;
  d["rank"] = e.rank;
  d["world_size"] = e.world_size;
  d["batch_files"] = e.batch_files;
  return d;
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model",
                                                 "A YOLO model from a YAML (e.g. 'yolov8n.yaml') or a .pt checkpoint.")
      .def(py::init<const std::string&>(), py::arg("model") = "yolov8n.yaml")
      .def(
          "load",
          [](std::shared_ptr<PyModel> self, const std::string& weights) {
            self->model.load(weights);
            return self;
          },
          py::arg("weights"), "Transfers the tensors of a checkpoint whose names and shapes match.")
      .def(
          "train",
          [](PyModel& self, py::kwargs kwargs) {
            auto args = with_kwargs(TrainArgs(), kwargs);
            self.interrupted->store(false);
            TrainResults results;
            {
              py::gil_scoped_release release;
              results = self.model.train(args);
            }
            if (self.interrupted->load()) {
              PyErr_SetString(PyExc_KeyboardInterrupt, ("training interrupted; last checkpoint in " + results.last).c_str());
              throw py::error_already_set();
            }
            auto metrics = to_python(results.metrics);
            metrics.save_dir = results.save_dir;
            return metrics;
          },
          "Trains with Ultralytics' keyword arguments (data=..., epochs=..., imgsz=..., device=...).")
      .def(
          "val",
          [](PyModel& self, py::kwargs kwargs) {
            auto args = with_kwargs(ValArgs().mode("val"), kwargs);
            py::gil_scoped_release release;
            return to_python(self.model.val(args));
          },
          "Validates on data=... (default: the dataset the model was trained on).")
      .def(
          "predict",
          [](PyModel& self, const std::string& source, py::kwargs kwargs) {
            auto args = with_kwargs(Model::predict_defaults(), kwargs);
            std::vector<Prediction> predictions;
            {
              py::gil_scoped_release release;
              predictions = self.model.predict(source, args);
            }
            std::vector<PyResults> out;
            for (const auto& p : predictions) out.push_back(to_python(p, self.model.names()));
            return out;
          },
          py::arg("source"),
          "Runs the model on an image, folder, glob, .txt list or video: boxes (detect) or probs (classify).")
      .def(
          "export",
          [](PyModel& self, py::kwargs kwargs) {
            auto args = with_kwargs(self.model.export_defaults(), kwargs);
            py::gil_scoped_release release;
            return self.model.export_model(args);
          },
          "Writes the model for other runtimes (format='onnx', imgsz, batch, dynamic, half, opset) next to its "
          "weights; returns the path.")
      .def(
          "forward",
          [](PyModel& self, py::array_t<float, py::array::c_style | py::array::forcecast> images) {
            YOLO_CHECK(images.ndim() == 4, "forward: images must be [B, C, H, W], got {} dimensions", images.ndim());
            const std::vector<int64_t> shape(images.shape(), images.shape() + images.ndim());
            torch::Tensor output;
            {
              auto input = torch::from_blob(images.mutable_data(), shape, torch::kFloat).clone();
              py::gil_scoped_release release;
              auto net = self.model.module();
              const bool was_training = net->is_training();
              torch::NoGradGuard no_grad;
              net->eval();
              const auto parameters = net->parameters();  // none in an exported .onnx model, which runs on the CPU
              output = net->forward(parameters.empty() ? input : input.to(parameters.front().device()));
              if (was_training) net->train();
              output = output.to(torch::kCPU, torch::kFloat).contiguous();
            }
            py::array_t<float> result(std::vector<py::ssize_t>(output.sizes().begin(), output.sizes().end()));
            std::memcpy(result.mutable_data(), output.data_ptr<float>(), output.numel() * sizeof(float));
            return result;
          },
          py::arg("images"),
          "The raw inference output of a float32 batch [B, C, H, W] in [0, 1] (eval mode): [B, 4 + nc, anchors] "
          "(xywh in pixels, then class scores) for detect, class probabilities [B, nc] for classify.")
      .def(
          "add_callback",
          [](PyModel& self, const std::string& event, py::function fn) {
            self.model.add_callback(event, [fn](TrainEvent& e) {
              py::gil_scoped_acquire gil;
              auto result = fn(event_to_dict(e));
              if (py::isinstance<py::bool_>(result) && !result.cast<bool>()) e.stop = true;
            });
          },
          py::arg("event"), py::arg("fn"),
          "Calls fn(dict) at an Ultralytics event such as 'on_fit_epoch_end'; returning False stops training.")
      .def("info", [](const PyModel& self) { return self.model.info(); })
      .def_property_readonly("names",
                             [](const PyModel& self) {
                               std::map<int, std::string> names;
                               const auto& list = self.model.names();
                               for (size_t i = 0; i < list.size(); ++i) names[static_cast<int>(i)] = list[i];
                               return names;
                             })
      .def_property_readonly("task", [](const PyModel& self) { return self.model.task(); })
      .def("__repr__", [](const PyModel& self) { return "<yolo.Model " + self.model.source() + ">"; });

  // device="0,1" / "cpu,cpu": the script's ranks 1..n-1 are copies of this Python process (docs/distributed.md).
  py::class_<RankLauncher>(m, "RankLauncher",
                           "Starts ranks 1..n-1 of a multi-device training as copies of this program (same "
                           "interpreter, script and arguments); in those copies, is_worker is True and the script "
                           "should exit after training.")
      .def(py::init([](py::kwargs kwargs) { return std::make_unique<RankLauncher>(with_kwargs(TrainArgs(), kwargs)); }))
      .def_property_readonly("is_worker", &RankLauncher::is_worker)
      .def_property_readonly("rank", &RankLauncher::rank)
      .def_property_readonly("world_size", &RankLauncher::world_size)
      .def("join", &RankLauncher::join, py::arg("timeout") = 60.0, py::call_guard<py::gil_scoped_release>(),
           "Rank 0: waits for the ranks it started; raises yolo.Error if one failed.");
  m.def("keep_freed_memory_in_heap", &keep_freed_memory_in_heap,
        "Tunes glibc's allocator for training loops (process-wide; see yolo/process.h).");
}

}  // namespace python
YOLO_END_NAMESPACE
