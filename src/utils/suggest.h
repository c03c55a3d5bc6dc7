#pragma once
// "Did you mean ...?" for mistyped keys, module names and event names.
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

/// Candidates closest to `word` (edit distance, then shared prefix), best first; at most `max`.
std::vector<std::string> closest_matches(const std::string& word, const std::vector<std::string>& candidates,
                                         size_t max = 3);

/// " Did you mean 'x'?" (with a leading space) or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

YOLO_END_NAMESPACE
