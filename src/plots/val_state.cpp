#include "plots/val_state.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "utils/json.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace plots {
namespace {

std::string json_list(const std::vector<double>& values, const char* format) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    out += std::isfinite(values[i]) ? fmt::format(format, values[i]) : "null";
  }
  return out + "]";
}

std::string json_rows(const std::vector<std::vector<double>>& rows, const char* format) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) out += fmt::format("{}\n  {}", i ? "," : "", json_list(rows[i], format));
  return out + "]";
}

std::vector<double> read_list(const YAML::Node& node, const std::string& path, const std::string& key) {
  YOLO_CHECK(node.IsSequence(), "{}: \"{}\" must be a list of numbers", path, key);
  std::vector<double> values;
  for (const auto& v : node) values.push_back(v.IsNull() ? NAN : v.as<double>());
  return values;
}

std::vector<std::vector<double>> read_rows(const YAML::Node& node, const std::string& path, const std::string& key) {
  YOLO_CHECK(node.IsSequence(), "{}: \"{}\" must be a list of lists of numbers", path, key);
  std::vector<std::vector<double>> rows;
  for (const auto& row : node) rows.push_back(read_list(row, path, key));
  return rows;
}

}  // namespace

void save_validation_state(const std::string& path, const ValidationState& s) {
  std::string names = "[";
  for (size_t i = 0; i < s.confusion.names.size(); ++i) names += (i ? ", " : "") + json_quote(s.confusion.names[i]);
  names += "]";
  std::string curve_names = "[";
  for (size_t i = 0; i < s.curves.names.size(); ++i) curve_names += (i ? ", " : "") + json_quote(s.curves.names[i]);
  curve_names += "]";
  std::string text = fmt::format("{{\"task\": {},\n\"names\": {},\n\"background\": {},\n\"confusion\": {},\n",
                                 json_quote(s.task), names, s.confusion.background ? "true" : "false",
                                 json_rows(s.confusion.matrix, "{}"));
  text += fmt::format("\"curve_names\": {},\n\"ap50\": {},\n\"x\": {},\n", curve_names, json_list(s.curves.ap50, "{}"),
                      json_list(s.curves.x, "{:.5g}"));
  text += fmt::format("\"precision\": {},\n\"recall\": {},\n\"f1\": {},\n\"pr\": {}}}\n",
                      json_rows(s.curves.precision, "{:.5g}"), json_rows(s.curves.recall, "{:.5g}"),
                      json_rows(s.curves.f1, "{:.5g}"), json_rows(s.curves.pr, "{:.5g}"));
  if (const auto dir = fs::path(path).parent_path(); !dir.empty()) fs::create_directories(dir);
  std::ofstream out(path);
  out << text;
  YOLO_CHECK(out, "cannot write {}: is the folder writeable?", path);
}

ValidationState load_validation_state(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    YOLO_FAIL("cannot read {}: no such file (it is written by validation when plots=True)", path);
  } catch (const YAML::Exception& e) {
    YOLO_FAIL("{} is not valid JSON: {}", path, e.what());
  }
  YOLO_CHECK(root.IsMap(), "{}: expected a JSON object", path);
  for (const char* key : {"task", "names", "background", "confusion", "curve_names", "ap50", "x", "precision", "recall",
                          "f1", "pr"})
    YOLO_CHECK(root[key], "{}: the key \"{}\" is missing", path, key);
  ValidationState s;
  try {
    s.task = root["task"].as<std::string>();
    s.confusion.names = root["names"].as<std::vector<std::string>>();
    s.confusion.background = root["background"].as<bool>();
    s.curves.names = root["curve_names"].as<std::vector<std::string>>();
  } catch (const YAML::Exception& e) {
    YOLO_FAIL("{}: \"task\" must be a string, \"names\" and \"curve_names\" lists of strings, \"background\" true or "
              "false ({})", path, e.what());
  }
  try {
    s.confusion.matrix = read_rows(root["confusion"], path, "confusion");
    s.curves.ap50 = read_list(root["ap50"], path, "ap50");
    s.curves.x = read_list(root["x"], path, "x");
    s.curves.precision = read_rows(root["precision"], path, "precision");
    s.curves.recall = read_rows(root["recall"], path, "recall");
    s.curves.f1 = read_rows(root["f1"], path, "f1");
    s.curves.pr = read_rows(root["pr"], path, "pr");
  } catch (const YAML::Exception& e) {
    YOLO_FAIL("{}: a value that is not a number ({})", path, e.what());
  }
  return s;
}

std::vector<std::string> plot_validation(const ValidationState& state, const std::string& dir) {
  fs::create_directories(dir);
  std::vector<std::string> written;
  auto file = [&](const char* name) { return written.emplace_back((fs::path(dir) / name).string()); };
  plot_confusion_matrix(state.confusion, false, file("confusion_matrix.png"));
  plot_confusion_matrix(state.confusion, true, file("confusion_matrix_normalized.png"));
  if (state.task == "detect" && !state.curves.x.empty()) {
    plot_pr_curve(state.curves, file("BoxPR_curve.png"));
    plot_metric_curve(state.curves, CurveMetric::F1, file("BoxF1_curve.png"));
    plot_metric_curve(state.curves, CurveMetric::Precision, file("BoxP_curve.png"));
    plot_metric_curve(state.curves, CurveMetric::Recall, file("BoxR_curve.png"));
  }
  return written;
}

std::vector<std::string> redraw_run_plots(const std::string& dir) {
  YOLO_CHECK(fs::is_directory(dir), "{} is not a folder: give a run folder such as runs/detect/train", dir);
  std::vector<std::string> written;
  const auto csv = fs::path(dir) / "results.csv", state = fs::path(dir) / "val_state.json";
  if (fs::exists(csv)) {
    plot_results(loggers::read_results_csv(csv.string()), (fs::path(dir) / "results.png").string());
    written.push_back((fs::path(dir) / "results.png").string());
  }
  if (fs::exists(state)) {
    for (auto& f : plot_validation(load_validation_state(state.string()), dir)) written.push_back(std::move(f));
  }
  YOLO_CHECK(!written.empty(), "{} holds neither results.csv nor val_state.json: nothing to plot", dir);
  return written;
}

}  // namespace plots
YOLO_END_NAMESPACE
