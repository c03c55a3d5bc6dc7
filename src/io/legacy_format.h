#pragma once
// The file format of torch.save before PyTorch 1.6 ("legacy"): five pickles back to back (the magic
// number, the protocol version 1001, system info, the saved object, the list of storage keys), then
// for each listed key in order the storage's element count as a little-endian int64 and its raw bytes.
// The object's persistent ids ('storage', type, key, location, numel, view) name those storages.
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

/// Where the parts of a legacy file are, every one checked against the file.
struct LegacyLayout {
  size_t object_offset = 0;  ///< where the saved object's pickle starts
  std::unordered_map<std::string, std::string_view> storages;  ///< key -> the storage's raw bytes, in the file
};

/// True when `bytes` start with a binary pickle (PROTO 2-5), as legacy files do.
bool looks_like_legacy_checkpoint(std::string_view bytes);

/// Reads the layout of a legacy file without making any tensor: the header pickles must be torch.save's
/// (magic number, protocol 1001, written on a little-endian machine), every storage the object names must
/// be listed once, with an element count equal to the size the object declares and all its bytes inside
/// the file. Throws yolo::Error naming `source_name` and what is wrong.
LegacyLayout read_legacy_layout(std::string_view bytes, const std::string& source_name);

}  // namespace io
YOLO_END_NAMESPACE
