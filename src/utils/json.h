#pragma once
// Writing JSON text by hand (the files we write are flat and small); reading goes through yaml-cpp, whose
// parser accepts JSON.
#include <string>
#include <string_view>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

/// `text` as a JSON string literal, quotes included, with control characters escaped.
std::string json_quote(std::string_view text);

/// A number as JSON text: the shortest form that reads back to the same double; null for NaN and infinities
/// (JSON has no literal for them).
std::string json_number(double value);

YOLO_END_NAMESPACE
