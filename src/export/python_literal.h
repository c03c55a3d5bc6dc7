#pragma once
// The Python literals Ultralytics writes into exported models' metadata ("{0: 'person', 1: 'car'}",
// "[640, 640]", "{'batch': 1, 'dynamic': False}"): written for export, read back to run an export.
#include <map>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {

/// Python's repr() of a str: 'text', or "it's" when the text holds a single quote and no double one.
std::string python_repr(const std::string& text);

/// The class names as a Python dict literal: {0: 'person', 1: 'bicycle'}.
std::string names_literal(const std::vector<std::string>& names);

/// Class names from a dict literal {0: 'a', 1: 'b'} (keys 0..n-1 in any order) or a list ['a', 'b'].
std::vector<std::string> parse_names_literal(const std::string& text);

/// A flat dict literal {'batch': 1, 'half': False} -> key -> the value's text ("1", "False", "'x'" -> "x").
std::map<std::string, std::string> parse_flat_dict_literal(const std::string& text);

/// A list of ints "[640, 640]", or one int "640".
std::vector<int64_t> parse_int_list_literal(const std::string& text);

}  // namespace exporter
YOLO_END_NAMESPACE
