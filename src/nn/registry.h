#pragma once
// The registry's lookup side, for the model builder (the registering side is yolo/nn/registry.h).
#include <optional>
#include <string>

#include "yolo/nn/registry.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn::detail {

struct ModuleEntry {
  LayerBuilder build;
  ModuleTraits traits;
};

/// The entry registered under `name`, or nullopt.
std::optional<ModuleEntry> find_module(const std::string& name);

}  // namespace nn::detail
YOLO_END_NAMESPACE
