#include "yolo/config/args.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "yolo/config/parse.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/utils/suggest.h"

namespace yolo {
namespace {

using config::format_float;
using config::format_string;

constexpr std::array<const char*, 5> kTasks = {"detect", "segment", "classify", "pose", "obb"};
constexpr std::array<const char*, 6> kModes = {"train", "val", "predict", "export", "track", "benchmark"};

// Ultralytics keys for segment/pose/obb training and tracking: accepted so that an Ultralytics
// args.yaml or checkpoint loads, and ignored, since nothing here uses them.
constexpr std::array<const char*, 3> kIgnoredKeys = {"overlap_mask", "mask_ratio", "tracker"};

// Keys Ultralytics 8.3.166 removed (cfg/__init__.py _handle_deprecation): a warning, and the key is dropped.
constexpr std::array<const char*, 3> kRemovedKeys = {"label_smoothing", "save_hybrid", "crop_fraction"};

// Keys yolocpp parses and keeps (so that Ultralytics' args.yaml and checkpoints round-trip) but does not act
// on yet: a value other than the default gets a warning, so nothing the user asked for is silently dropped.
struct NoEffect {
  const char* key;
  const char* why;
};
constexpr std::array<NoEffect, 15> kNoEffectKeys = {{
    {"profile", "export profiling is not implemented"},
    {"dnn", "yolocpp runs its own LibTorch model, not OpenCV DNN"},
    {"visualize", "feature-map visualisation is not implemented"},
    {"augment", "test-time augmentation is not implemented"},
    {"embed", "embedding extraction is not implemented"},
    {"show", "yolocpp opens no windows; use save=True"},
    {"save_frames", "saving video frames is not implemented"},
    {"show_boxes", "box drawing cannot be turned off yet"},
    {"stream_buffer", "streams are read frame by frame"},
    {"cutmix", "the CutMix augmentation is not implemented"},
    {"copy_paste", "copy-paste needs segmentation labels, which yolocpp does not train on"},
    {"copy_paste_mode", "copy-paste needs segmentation labels, which yolocpp does not train on"},
    {"retina_masks", "a segmentation key; yolocpp runs detection and classification"},
    {"pose", "a pose-training key; yolocpp trains detection and classification"},
    {"kobj", "a pose-training key; yolocpp trains detection and classification"},
}};

template <size_t N>
bool contains(const std::array<const char*, N>& words, const std::string& word) {
  return std::find_if(words.begin(), words.end(), [&](const char* w) { return word == w; }) != words.end();
}

[[noreturn]] void fail_type(const std::string& key, const std::string& text, const char* expected) {
  YOLO_FAIL("'{}={}' is invalid: {} must be {}", key, text, key, expected);
}

// ---- text -> value, one function per kind of key; `text` is never None here ----

bool to_bool(const std::string& key, const std::string& text) {
  if (auto value = config::parse_bool(text)) return *value;
  fail_type(key, text, fmt::format("a bool ({0}=True or {0}=False)", key).c_str());
}

int to_int(const std::string& key, const std::string& text) {
  if (auto value = config::parse_int(text)) return static_cast<int>(*value);
  fail_type(key, text, fmt::format("an int (e.g. {}=8)", key).c_str());
}

double to_float(const std::string& key, const std::string& text) {
  if (auto value = config::parse_float(text)) return *value;
  fail_type(key, text, fmt::format("a number (e.g. {}=0.5)", key).c_str());
}

double to_fraction(const std::string& key, const std::string& text) {
  const double value = to_float(key, text);
  YOLO_CHECK(value >= 0.0 && value <= 1.0, "'{}={}' is invalid: {} must be between 0.0 and 1.0", key, text, key);
  return value;
}

std::string to_string(const std::string&, const std::string& text) { return text; }

std::vector<int64_t> to_int_list(const std::string& key, const std::string& text) {
  if (auto values = config::parse_int_list(text)) return *values;
  fail_type(key, text, fmt::format("an int or a list of ints (e.g. {}=[0, 2])", key).c_str());
}

/// Train and val use square images: a list [h, w] keeps its larger side, as Ultralytics does.
int to_imgsz(const std::string& key, const std::string& text) {
  const auto sides = to_int_list(key, text);
  YOLO_CHECK(!sides.empty() && sides.size() <= 2, "'{}={}' is invalid: imgsz must be an int or [h, w]", key, text);
  const auto side = *std::max_element(sides.begin(), sides.end());
  if (sides.size() == 2 && sides[0] != sides[1]) log_warning("imgsz={} uses square images of {}", text, side);
  YOLO_CHECK(side > 0, "'{}={}' is invalid: imgsz must be positive", key, text);
  return static_cast<int>(side);
}

/// freeze=n means the first n layers; a list names the layers.
std::vector<int64_t> to_freeze(const std::string& key, const std::string& text) {
  if (auto n = config::parse_int(text)) {
    std::vector<int64_t> layers(static_cast<size_t>(std::max<int64_t>(*n, 0)));
    for (size_t i = 0; i < layers.size(); ++i) layers[i] = static_cast<int64_t>(i);
    return layers;
  }
  return to_int_list(key, text);
}

std::string to_cache(const std::string& key, const std::string& text) {
  if (auto flag = config::parse_bool(text)) return *flag ? "ram" : "false";  // True means RAM, as Ultralytics
  YOLO_CHECK(text == "ram" || text == "disk", "'{}={}' is invalid: cache must be True/ram, disk or False", key,
             text);
  return text;
}

/// resume and pretrained: a flag or a path; the flag is kept as "true"/"false".
std::string to_flag_or_path(const std::string&, const std::string& text) {
  if (auto flag = config::parse_bool(text)) return *flag ? "true" : "false";
  return text;
}

/// device=[0, 1] (a Python list) means device=0,1.
std::string to_device(const std::string&, const std::string& text) {
  std::string device;
  for (char c : text) {
    if (c != '[' && c != ']' && c != ' ') device += c;
  }
  return device;
}

std::string checked_word(const std::string& key, const std::string& text, const char* const* first,
                         const char* const* last) {
  const bool known = std::find_if(first, last, [&](const char* w) { return text == w; }) != last;
  YOLO_CHECK(known, "'{}={}' is invalid: {} must be one of {}", key, text, key, fmt::join(first, last, ", "));
  return text;
}
std::string to_task(const std::string& key, const std::string& text) {
  return checked_word(key, text, kTasks.data(), kTasks.data() + kTasks.size());
}
std::string to_mode(const std::string& key, const std::string& text) {
  return checked_word(key, text, kModes.data(), kModes.data() + kModes.size());
}
constexpr std::array<const char*, 2> kPatienceMetrics = {"fitness", "val_loss"};
constexpr std::array<const char*, 3> kLrSchedules = {"linear", "cosine", "poly"};
constexpr std::array<const char*, 4> kAutoAugments = {"randaugment", "autoaugment", "augmix", ""};
std::string to_patience_metric(const std::string& key, const std::string& text) {
  return checked_word(key, text, kPatienceMetrics.data(), kPatienceMetrics.data() + kPatienceMetrics.size());
}
std::string to_lr_schedule(const std::string& key, const std::string& text) {
  return checked_word(key, text, kLrSchedules.data(), kLrSchedules.data() + kLrSchedules.size());
}
/// auto_augment: a policy name, or None / False for none (then the hsv_* colour jitter applies).
std::string to_auto_augment(const std::string& key, const std::string& text) {
  if (auto flag = config::parse_bool(text); flag && !*flag) return "";
  return checked_word(key, text, kAutoAugments.data(), kAutoAugments.data() + kAutoAugments.size() - 1);
}
int to_non_negative_int(const std::string& key, const std::string& text) {
  const int value = to_int(key, text);
  YOLO_CHECK(value >= 0, "'{}={}' is invalid: {} must be 0 or more", key, text, key);
  return value;
}
double to_positive_float(const std::string& key, const std::string& text) {
  const double value = to_float(key, text);
  YOLO_CHECK(value > 0, "'{}={}' is invalid: {} must be positive", key, text, key);
  return value;
}

// ---- value -> YAML scalar ----

std::string from_bool(bool value) { return value ? "true" : "false"; }
std::string from_int(int value) { return std::to_string(value); }
/// `time`, `conf`, `line_width`: 0 is None.
std::string from_optional_float(double value) { return value == 0 ? "null" : format_float(value); }
std::string from_optional_int(int value) { return value == 0 ? "null" : std::to_string(value); }
std::string from_int_list(const std::vector<int64_t>& values) {
  return values.empty() ? "null" : fmt::format("[{}]", fmt::join(values, ", "));
}
/// batch is a count unless it is a fraction of GPU memory.
std::string from_batch(double value) {
  return value == static_cast<double>(static_cast<int64_t>(value)) ? std::to_string(static_cast<int64_t>(value))
                                                                    : format_float(value);
}
/// Flags stay bare booleans in YAML (resume: false, cache: false); the rest are strings.
std::string from_flag_or_path(const std::string& value) {
  return value == "true" || value == "false" ? value : format_string(value);
}

struct KeySpec {
  const char* name;
  bool is_bool;
  void (*set)(TrainArgs&, const std::string& text);  // text is never None
  void (*reset)(TrainArgs&);                          // back to the default
  std::string (*get)(const TrainArgs&);
};

// One line per key, in default.yaml order: how its text is read and how its value is written.
#define YOLO_KEY(key, read, write)                                                     \
  KeySpec {                                                                            \
    #key, std::is_same_v<std::decay_t<decltype(TrainArgs().key())>, bool>,             \
        [](TrainArgs& args, const std::string& text) { args.key(read(#key, text)); }, \
        [](TrainArgs& args) { args.key(TrainArgs().key()); },                         \
        [](const TrainArgs& args) { return write(args.key()); }                       \
  }

const std::vector<KeySpec>& key_specs() {
  static const std::vector<KeySpec> specs = {
      YOLO_KEY(task, to_task, format_string),
      YOLO_KEY(mode, to_mode, format_string),
      YOLO_KEY(model, to_string, format_string),
      YOLO_KEY(data, to_string, format_string),
      YOLO_KEY(epochs, to_int, from_int),
      YOLO_KEY(time, to_float, from_optional_float),
      YOLO_KEY(patience, to_int, from_int),
      YOLO_KEY(batch, to_float, from_batch),
      YOLO_KEY(imgsz, to_imgsz, from_int),
      YOLO_KEY(save, to_bool, from_bool),
      YOLO_KEY(save_period, to_int, from_int),
      YOLO_KEY(cache, to_cache, from_flag_or_path),
      YOLO_KEY(device, to_device, format_string),
      YOLO_KEY(workers, to_int, from_int),
      YOLO_KEY(project, to_string, format_string),
      YOLO_KEY(name, to_string, format_string),
      YOLO_KEY(exist_ok, to_bool, from_bool),
      YOLO_KEY(pretrained, to_flag_or_path, from_flag_or_path),
      YOLO_KEY(optimizer, to_string, format_string),
      YOLO_KEY(verbose, to_bool, from_bool),
      YOLO_KEY(seed, to_int, from_int),
      YOLO_KEY(deterministic, to_bool, from_bool),
      YOLO_KEY(single_cls, to_bool, from_bool),
      YOLO_KEY(rect, to_bool, from_bool),
      YOLO_KEY(cos_lr, to_bool, from_bool),
      YOLO_KEY(close_mosaic, to_int, from_int),
      YOLO_KEY(resume, to_flag_or_path, from_flag_or_path),
      YOLO_KEY(amp, to_bool, from_bool),
      YOLO_KEY(fraction, to_fraction, format_float),
      YOLO_KEY(profile, to_bool, from_bool),
      YOLO_KEY(freeze, to_freeze, from_int_list),
      YOLO_KEY(multi_scale, to_bool, from_bool),
      YOLO_KEY(dropout, to_fraction, format_float),
      YOLO_KEY(val, to_bool, from_bool),
      YOLO_KEY(split, to_string, format_string),
      YOLO_KEY(save_json, to_bool, from_bool),
      YOLO_KEY(conf, to_fraction, from_optional_float),
      YOLO_KEY(iou, to_fraction, format_float),
      YOLO_KEY(max_det, to_int, from_int),
      YOLO_KEY(half, to_bool, from_bool),
      YOLO_KEY(dnn, to_bool, from_bool),
      YOLO_KEY(plots, to_bool, from_bool),
      YOLO_KEY(source, to_string, format_string),
      YOLO_KEY(vid_stride, to_int, from_int),
      YOLO_KEY(stream_buffer, to_bool, from_bool),
      YOLO_KEY(visualize, to_bool, from_bool),
      YOLO_KEY(augment, to_bool, from_bool),
      YOLO_KEY(agnostic_nms, to_bool, from_bool),
      YOLO_KEY(classes, to_int_list, from_int_list),
      YOLO_KEY(retina_masks, to_bool, from_bool),
      YOLO_KEY(embed, to_int_list, from_int_list),
      YOLO_KEY(show, to_bool, from_bool),
      YOLO_KEY(save_frames, to_bool, from_bool),
      YOLO_KEY(save_txt, to_bool, from_bool),
      YOLO_KEY(save_conf, to_bool, from_bool),
      YOLO_KEY(save_crop, to_bool, from_bool),
      YOLO_KEY(show_labels, to_bool, from_bool),
      YOLO_KEY(show_conf, to_bool, from_bool),
      YOLO_KEY(show_boxes, to_bool, from_bool),
      YOLO_KEY(line_width, to_int, from_optional_int),
      YOLO_KEY(format, to_string, format_string),
      YOLO_KEY(keras, to_bool, from_bool),
      YOLO_KEY(optimize, to_bool, from_bool),
      YOLO_KEY(int8, to_bool, from_bool),
      YOLO_KEY(dynamic, to_bool, from_bool),
      YOLO_KEY(simplify, to_bool, from_bool),
      YOLO_KEY(opset, to_int, from_optional_int),
      YOLO_KEY(workspace, to_float, from_optional_float),
      YOLO_KEY(nms, to_bool, from_bool),
      YOLO_KEY(lr0, to_fraction, format_float),
      YOLO_KEY(lrf, to_fraction, format_float),
      YOLO_KEY(momentum, to_fraction, format_float),
      YOLO_KEY(weight_decay, to_fraction, format_float),
      YOLO_KEY(warmup_epochs, to_float, format_float),
      YOLO_KEY(warmup_momentum, to_fraction, format_float),
      YOLO_KEY(warmup_bias_lr, to_fraction, format_float),
      YOLO_KEY(box, to_float, format_float),
      YOLO_KEY(cls, to_float, format_float),
      YOLO_KEY(dfl, to_float, format_float),
      YOLO_KEY(pose, to_float, format_float),
      YOLO_KEY(kobj, to_float, format_float),
      YOLO_KEY(nbs, to_int, from_int),
      YOLO_KEY(hsv_h, to_fraction, format_float),
      YOLO_KEY(hsv_s, to_fraction, format_float),
      YOLO_KEY(hsv_v, to_fraction, format_float),
      YOLO_KEY(degrees, to_float, format_float),
      YOLO_KEY(translate, to_fraction, format_float),
      YOLO_KEY(scale, to_fraction, format_float),
      YOLO_KEY(shear, to_float, format_float),
      YOLO_KEY(perspective, to_fraction, format_float),
      YOLO_KEY(flipud, to_fraction, format_float),
      YOLO_KEY(fliplr, to_fraction, format_float),
      YOLO_KEY(bgr, to_fraction, format_float),
      YOLO_KEY(mosaic, to_fraction, format_float),
      YOLO_KEY(mixup, to_fraction, format_float),
      YOLO_KEY(cutmix, to_fraction, format_float),
      YOLO_KEY(copy_paste, to_fraction, format_float),
      YOLO_KEY(copy_paste_mode, to_string, format_string),
      YOLO_KEY(auto_augment, to_auto_augment, format_string),
      YOLO_KEY(erasing, to_fraction, format_float),
      YOLO_KEY(cfg, to_string, format_string),
      YOLO_KEY(datasets_dir, to_string, format_string),
      YOLO_KEY(scale_lr, to_bool, from_bool),
      YOLO_KEY(save_batches, to_int, from_int),
      YOLO_KEY(ddp_timeout, to_float, format_float),
      YOLO_KEY(save_dir, to_string, format_string),
      YOLO_KEY(patience_metric, to_patience_metric, format_string),
      YOLO_KEY(lr_schedule, to_lr_schedule, format_string),
      YOLO_KEY(lr_power, to_positive_float, format_float),
      YOLO_KEY(print_freq, to_non_negative_int, from_int),
  };
  return specs;
}
#undef YOLO_KEY

const KeySpec* find_spec(const std::string& key) {
  const auto& specs = key_specs();
  const auto it = std::find_if(specs.begin(), specs.end(), [&](const KeySpec& s) { return key == s.name; });
  return it == specs.end() ? nullptr : &*it;
}

const KeySpec& spec_or_fail(const std::string& key) {
  const KeySpec* spec = find_spec(key);
  if (spec == nullptr) {
    const auto similar = closest_matches(key, TrainArgs::keys());
    YOLO_FAIL("'{}' is not a valid YOLO argument.{}", key,
              similar.empty() ? std::string() : fmt::format(" Similar arguments: {}", fmt::join(similar, ", ")));
  }
  return *spec;
}

/// A value as typed: surrounding whitespace and one pair of matching quotes removed.
std::string unquote(std::string text) {
  const auto first = text.find_first_not_of(" \t");
  const auto last = text.find_last_not_of(" \t");
  text = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"') && text.back() == text.front()) {
    text = text.substr(1, text.size() - 2);
  }
  return text;
}

}  // namespace

TrainArgs& TrainArgs::set(const std::string& key, const std::string& value) {
  if (contains(kRemovedKeys, key)) {
    log_warning("'{}' is deprecated and will be removed in the future (Ultralytics 8.3 removed it); ignored", key);
    return *this;
  }
  if (find_spec(key) == nullptr && contains(kIgnoredKeys, key)) {
    log_debug("'{}' is an Ultralytics argument that yolocpp does not use; ignored", key);
    return *this;
  }
  const KeySpec& spec = spec_or_fail(key);
  const std::string text = unquote(value);
  if (config::is_none(text) && key == "auto_augment") {
    auto_augment("");  // the one key whose None is not its default: no policy, colour jitter instead
  } else if (config::is_none(text)) {
    spec.reset(*this);  // the key's default, which is None where Ultralytics' is
  } else {
    spec.set(*this, text);
  }
  for (const auto& no_effect : kNoEffectKeys) {
    if (key == no_effect.key && spec.get(*this) != spec.get(TrainArgs()))
      log_warning("'{}={}' has no effect in yolocpp ({}); going on without it", key, text, no_effect.why);
  }
  return *this;
}

std::string TrainArgs::get(const std::string& key) const { return spec_or_fail(key).get(*this); }

TrainArgs TrainArgs::from_pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  TrainArgs args;
  // As Ultralytics: the cfg file replaces the defaults, and the explicit keys override it.
  for (const auto& [key, value] : pairs) {
    if (key == "cfg" && !config::is_none(unquote(value))) args = from_yaml_file(unquote(value));
  }
  for (const auto& [key, value] : pairs) args.set(key, value);
  return args;
}

TrainArgs TrainArgs::from_strings(const std::vector<std::string>& tokens) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& token : tokens) {
    const auto equals = token.find('=');
    if (equals != std::string::npos) {
      const auto key = token.substr(0, equals);
      const auto value = token.substr(equals + 1);
      YOLO_CHECK(!key.empty() && !value.empty(), "'{}' is invalid: write key=value, e.g. epochs=3", token);
      pairs.emplace_back(key, value);
    } else if (contains(kModes, token)) {
      pairs.emplace_back("mode", token);
    } else if (contains(kTasks, token)) {
      pairs.emplace_back("task", token);
    } else if (is_bool_key(token)) {
      pairs.emplace_back(token, "True");  // a bare boolean key means True, as in Ultralytics
    } else {
      auto words = keys();
      words.insert(words.end(), kModes.begin(), kModes.end());
      words.insert(words.end(), kTasks.begin(), kTasks.end());
      YOLO_FAIL("'{}' is not a valid task, mode or key=value argument.{}", token, did_you_mean(token, words));
    }
  }
  return from_pairs(pairs);
}

TrainArgs TrainArgs::from_map(const std::map<std::string, std::string>& values) {
  return from_pairs({values.begin(), values.end()});
}

TrainArgs TrainArgs::from_yaml_file(const std::string& path) {
  TrainArgs args;
  for (const auto& [key, value] : config::read_yaml_mapping(path)) {
    try {
      args.set(key, value);
    } catch (const Error& e) {
      YOLO_FAIL("{} (in '{}')", e.what(), path);
    }
  }
  return args;
}

std::map<std::string, std::string> TrainArgs::to_map() const {
  std::map<std::string, std::string> values;
  for (const auto& spec : key_specs()) values.emplace(spec.name, spec.get(*this));
  return values;
}

std::string TrainArgs::to_yaml() const {
  std::string text;
  for (const auto& spec : key_specs()) text += fmt::format("{}: {}\n", spec.name, spec.get(*this));
  return text;
}

const std::vector<std::string>& TrainArgs::keys() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> result;
    for (const auto& spec : key_specs()) result.emplace_back(spec.name);
    return result;
  }();
  return names;
}

bool TrainArgs::is_bool_key(const std::string& key) {
  // Also the keys whose Ultralytics default is a bool though they take more: `yolo train resume`.
  const KeySpec* spec = find_spec(key);
  return spec != nullptr && (spec->is_bool || key == "resume" || key == "pretrained" || key == "cache");
}

}  // namespace yolo
