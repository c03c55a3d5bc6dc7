#include "utils/suggest.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = diagonal + (std::tolower(a[i - 1]) != std::tolower(b[j - 1]));
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<std::string> closest_matches(const std::string& word, const std::vector<std::string>& candidates,
                                         size_t max) {
  // Close means: at most a third of the longer word differs (like difflib's 0.6 cutoff), or one
  // word is a prefix of the other ("lr" -> "lr0", "lrf").
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& candidate : candidates) {
    const size_t distance = edit_distance(word, candidate);
    const size_t longest = std::max(word.size(), candidate.size());
    const bool prefix = word.size() >= 2 && (candidate.rfind(word, 0) == 0 || word.rfind(candidate, 0) == 0);
    if (distance * 3 <= longest || prefix) scored.emplace_back(distance, candidate);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> best;
  for (size_t i = 0; i < scored.size() && i < max; ++i) best.push_back(scored[i].second);
  return best;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const auto best = closest_matches(word, candidates);
  if (best.empty()) return "";
  return fmt::format(" Did you mean '{}'?", fmt::join(best, "', '"));
}

YOLO_END_NAMESPACE
