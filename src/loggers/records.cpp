#include "loggers/records.h"

#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "utils/json.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace loggers {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(trim(cell));
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

double parse_number(const std::string& text, const std::string& path, size_t line, const std::string& column) {
  if (text == "nan" || text == "NaN" || text.empty()) return std::numeric_limits<double>::quiet_NaN();
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  YOLO_FAIL("{}:{}: column '{}' holds '{}', which is not a number", path, line, column, text);
}

std::ofstream open_for_append(const std::string& path) {
  if (const auto dir = fs::path(path).parent_path(); !dir.empty()) fs::create_directories(dir);
  std::ofstream out(path, std::ios::app);
  YOLO_CHECK(out, "cannot write {}: is the folder writeable?", path);
  return out;
}

}  // namespace

std::optional<double> EpochRecord::get(const std::string& name) const {
  for (const auto& [key, value] : values)
    if (key == name) return value;
  return std::nullopt;
}

EpochRecord record_of(const yolo::EpochRecord& epoch) {
  EpochRecord record{epoch.epoch, {{"time", epoch.time}}};
  for (auto& column : epoch.columns()) record.values.push_back(std::move(column));
  return record;
}

void append_results_csv(const std::string& path, const EpochRecord& record) {
  std::vector<std::string> header{"epoch"};
  for (const auto& [name, value] : record.values) header.push_back(name);
  const bool fresh = !fs::exists(path) || fs::file_size(path) == 0;
  if (!fresh) {
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    YOLO_CHECK(split_csv_line(first) == header,
               "{} has the columns '{}' but this run writes '{}': use another run folder (name=...)", path, trim(first),
               fmt::join(header, ","));
  }
  std::vector<std::string> cells{std::to_string(record.epoch)};
  for (const auto& [name, value] : record.values) cells.push_back(fmt::format("{:.6g}", value));  // Python's %.6g
  auto out = open_for_append(path);
  if (fresh) out << fmt::format("{}\n", fmt::join(header, ","));
  out << fmt::format("{}\n", fmt::join(cells, ","));
  YOLO_CHECK(out, "cannot write {} (disk full?)", path);
}

std::vector<EpochRecord> read_results_csv(const std::string& path) {
  std::ifstream in(path);
  YOLO_CHECK(in, "cannot read {}: no such file", path);
  std::string line;
  YOLO_CHECK(std::getline(in, line), "{} is empty: expected a header line starting with 'epoch'", path);
  const auto header = split_csv_line(line);
  YOLO_CHECK(!header.empty() && header[0] == "epoch", "{}: the header must start with 'epoch', got '{}'", path,
             trim(line));
  std::vector<EpochRecord> records;
  for (size_t number = 2; std::getline(in, line); ++number) {
    if (trim(line).empty()) continue;
    const auto cells = split_csv_line(line);
    YOLO_CHECK(cells.size() == header.size(), "{}:{}: {} values for {} columns", path, number, cells.size(),
               header.size());
    EpochRecord record;
    record.epoch = static_cast<int64_t>(parse_number(cells[0], path, number, "epoch"));
    for (size_t i = 1; i < cells.size(); ++i)
      record.values.emplace_back(header[i], parse_number(cells[i], path, number, header[i]));
    records.push_back(std::move(record));
  }
  return records;
}

void append_metrics_jsonl(const std::string& path, const EpochRecord& record) {
  std::string line = fmt::format("{{\"epoch\": {}", record.epoch);
  for (const auto& [name, value] : record.values) line += fmt::format(", {}: {}", json_quote(name), json_number(value));
  auto out = open_for_append(path);
  out << line << "}\n";
  YOLO_CHECK(out, "cannot write {} (disk full?)", path);
}

std::vector<EpochRecord> read_metrics_jsonl(const std::string& path) {
  std::ifstream in(path);
  YOLO_CHECK(in, "cannot read {}: no such file", path);
  std::vector<EpochRecord> records;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (trim(line).empty()) continue;
    YAML::Node object;
    try {
      object = YAML::Load(line);
    } catch (const YAML::Exception& e) {
      YOLO_FAIL("{}:{}: not a JSON object: {}", path, number, e.what());
    }
    YOLO_CHECK(object.IsMap() && object["epoch"], "{}:{}: expected a JSON object with an \"epoch\" key", path, number);
    EpochRecord record;
    for (const auto& item : object) {
      const auto key = item.first.as<std::string>();
      const double value = item.second.IsNull() ? std::numeric_limits<double>::quiet_NaN()
                                                : parse_number(item.second.as<std::string>(), path, number, key);
      if (key == "epoch")
        record.epoch = static_cast<int64_t>(value);
      else
        record.values.emplace_back(key, value);
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace loggers
YOLO_END_NAMESPACE
