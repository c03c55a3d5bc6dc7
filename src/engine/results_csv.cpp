#include "engine/results_csv.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "yolo/utils/error.h"

namespace yolo::engine {

void append_results_row(const std::string& path, const EpochRecord& record) {
  const bool fresh = !std::filesystem::exists(path);
  std::ofstream out(path, std::ios::app);
  YOLO_CHECK(out, "cannot write {}", path);
  const auto columns = record.columns();
  if (fresh) {
    std::vector<std::string> names{"epoch", "time"};
    for (const auto& [name, value] : columns) names.push_back(name);
    out << fmt::format("{}\n", fmt::join(names, ","));
  }
  std::vector<std::string> values{std::to_string(record.epoch), fmt::format("{:.6g}", record.time)};
  for (const auto& [name, value] : columns) values.push_back(fmt::format("{:.6g}", value));
  out << fmt::format("{}\n", fmt::join(values, ","));
}

}  // namespace yolo::engine
