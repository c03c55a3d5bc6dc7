#pragma once
// Every argument of train, val and predict as one typed value, with Ultralytics' key names and
// defaults (cfg/default.yaml of Ultralytics 8.3.166), so that CLI tokens, YAML files, Python
// kwargs and C++ setters are one vocabulary.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "yolo/config/arg.h"

namespace yolo {

/// Where Ultralytics allows None, the C++ type's empty value stands for it: "" for strings, an
/// empty list, and 0 for `time`, `conf` and `line_width` (Ultralytics treats 0 and None alike
/// there: "no time limit", "the mode's default threshold", "scaled to the image").
class TrainArgs {
 public:
  // ---- the three inputs: each converges on set(key, value) ----
  /// CLI tokens: `key=value`, or a bare mode/task word (`train`, `detect`). `cfg=file.yaml` loads
  /// that file first; the other tokens override it.
  static TrainArgs from_strings(const std::vector<std::string>& tokens);
  /// key -> value as strings (Python kwargs); `cfg` as in from_strings.
  static TrainArgs from_map(const std::map<std::string, std::string>& values);
  /// A YAML mapping of keys (a custom cfg, or a run's args.yaml).
  static TrainArgs from_yaml_file(const std::string& path);
  /// `key, value` pairs applied in order, after the `cfg` file among them if any.
  static TrainArgs from_pairs(const std::vector<std::pair<std::string, std::string>>& pairs);

  /// Sets one key from its text form ("3", "0.01", "True", "[0, 2]", "null"). Throws yolo::Error
  /// for an unknown key (naming close matches) or an ill-typed or out-of-range value. None resets
  /// the key to its default.
  TrainArgs& set(const std::string& key, const std::string& value);
  /// The value of one key as a YAML scalar ("100", "0.01", "true", "null", "[0, 1]").
  std::string get(const std::string& key) const;

  // ---- outputs ----
  /// Every key -> its YAML scalar (what checkpoints store as train_args).
  std::map<std::string, std::string> to_map() const;
  /// The text of a run's args.yaml: one `key: value` line per key, in default.yaml order.
  std::string to_yaml() const;

  /// Every key, in default.yaml order (our own extras last).
  static const std::vector<std::string>& keys();
  /// Keys whose Ultralytics default is a bool (save, rect, resume, cache...): a bare `key` on the
  /// command line means key=True.
  static bool is_bool_key(const std::string& key);

  // ---- the keys: same names and defaults as Ultralytics' default.yaml ----
  YOLO_ARG(std::string, task) = "detect";
  YOLO_ARG(std::string, mode) = "train";

  // train
  YOLO_ARG(std::string, model);
  YOLO_ARG(std::string, data);
  YOLO_ARG(int, epochs) = 100;
  /// Hours of training; overrides epochs when positive.
  YOLO_ARG(double, time) = 0;
  YOLO_ARG(int, patience) = 100;
  /// Images per batch (16), a fraction of GPU memory (0.7) or -1 for AutoBatch.
  YOLO_ARG(double, batch) = 16;
  /// A list [h, w] is accepted and its larger side kept (train and val use square images).
  YOLO_ARG(int, imgsz) = 640;
  YOLO_ARG(bool, save) = true;
  YOLO_ARG(int, save_period) = -1;
  /// "false", "ram" (also spelt True) or "disk".
  YOLO_ARG(std::string, cache) = "false";
  /// "" (auto), "cpu", "0", "0,1", "mps".
  YOLO_ARG(std::string, device);
  YOLO_ARG(int, workers) = 8;
  YOLO_ARG(std::string, project);
  YOLO_ARG(std::string, name);
  YOLO_ARG(bool, exist_ok) = false;
  /// "true", "false" or a weights file to start from.
  YOLO_ARG(std::string, pretrained) = "true";
  YOLO_ARG(std::string, optimizer) = "auto";
  YOLO_ARG(bool, verbose) = true;
  YOLO_ARG(int, seed) = 0;
  YOLO_ARG(bool, deterministic) = true;
  YOLO_ARG(bool, single_cls) = false;
  YOLO_ARG(bool, rect) = false;
  YOLO_ARG(bool, cos_lr) = false;
  YOLO_ARG(int, close_mosaic) = 10;
  /// "false", "true" (the latest last.pt) or a checkpoint path.
  YOLO_ARG(std::string, resume) = "false";
  YOLO_ARG(bool, amp) = true;
  YOLO_ARG(double, fraction) = 1.0;
  YOLO_ARG(bool, profile) = false;
  /// Layer indices to freeze; `freeze=n` means the first n layers.
  YOLO_ARG(std::vector<int64_t>, freeze);
  YOLO_ARG(bool, multi_scale) = false;
  YOLO_ARG(double, dropout) = 0.0;

  // val
  YOLO_ARG(bool, val) = true;
  YOLO_ARG(std::string, split) = "val";
  YOLO_ARG(bool, save_json) = false;
  /// Confidence threshold; 0 means the mode's default (0.25 predict, 0.001 val).
  YOLO_ARG(double, conf) = 0;
  YOLO_ARG(double, iou) = 0.7;
  YOLO_ARG(int, max_det) = 300;
  YOLO_ARG(bool, half) = false;
  YOLO_ARG(bool, dnn) = false;
  YOLO_ARG(bool, plots) = true;

  // predict
  YOLO_ARG(std::string, source);
  YOLO_ARG(int, vid_stride) = 1;
  YOLO_ARG(bool, stream_buffer) = false;
  YOLO_ARG(bool, visualize) = false;
  YOLO_ARG(bool, augment) = false;
  YOLO_ARG(bool, agnostic_nms) = false;
  /// Class indices to keep; empty keeps all.
  YOLO_ARG(std::vector<int64_t>, classes);
  YOLO_ARG(bool, retina_masks) = false;
  YOLO_ARG(std::vector<int64_t>, embed);

  // visualize
  YOLO_ARG(bool, show) = false;
  YOLO_ARG(bool, save_frames) = false;
  YOLO_ARG(bool, save_txt) = false;
  YOLO_ARG(bool, save_conf) = false;
  YOLO_ARG(bool, save_crop) = false;
  YOLO_ARG(bool, show_labels) = true;
  YOLO_ARG(bool, show_conf) = true;
  YOLO_ARG(bool, show_boxes) = true;
  /// Box line width in pixels; 0 scales it to the image.
  YOLO_ARG(int, line_width) = 0;

  // export
  /// "onnx" is written; Ultralytics' other formats are refused with the list of supported ones.
  YOLO_ARG(std::string, format) = "torchscript";
  YOLO_ARG(bool, keras) = false;
  YOLO_ARG(bool, optimize) = false;
  YOLO_ARG(bool, int8) = false;
  /// Dynamic batch, height and width.
  YOLO_ARG(bool, dynamic) = false;
  YOLO_ARG(bool, simplify) = true;
  /// ONNX opset; 0 means the exporter's default.
  YOLO_ARG(int, opset) = 0;
  /// TensorRT workspace in GiB; 0 lets TensorRT decide.
  YOLO_ARG(double, workspace) = 0;
  YOLO_ARG(bool, nms) = false;

  // hyper-parameters
  YOLO_ARG(double, lr0) = 0.01;
  YOLO_ARG(double, lrf) = 0.01;
  YOLO_ARG(double, momentum) = 0.937;
  YOLO_ARG(double, weight_decay) = 0.0005;
  YOLO_ARG(double, warmup_epochs) = 3.0;
  YOLO_ARG(double, warmup_momentum) = 0.8;
  YOLO_ARG(double, warmup_bias_lr) = 0.1;
  YOLO_ARG(double, box) = 7.5;
  YOLO_ARG(double, cls) = 0.5;
  YOLO_ARG(double, dfl) = 1.5;
  YOLO_ARG(double, pose) = 12.0;
  YOLO_ARG(double, kobj) = 1.0;
  YOLO_ARG(int, nbs) = 64;
  YOLO_ARG(double, hsv_h) = 0.015;
  YOLO_ARG(double, hsv_s) = 0.7;
  YOLO_ARG(double, hsv_v) = 0.4;
  YOLO_ARG(double, degrees) = 0.0;
  YOLO_ARG(double, translate) = 0.1;
  YOLO_ARG(double, scale) = 0.5;
  YOLO_ARG(double, shear) = 0.0;
  YOLO_ARG(double, perspective) = 0.0;
  YOLO_ARG(double, flipud) = 0.0;
  YOLO_ARG(double, fliplr) = 0.5;
  YOLO_ARG(double, bgr) = 0.0;
  YOLO_ARG(double, mosaic) = 1.0;
  YOLO_ARG(double, mixup) = 0.0;
  YOLO_ARG(double, cutmix) = 0.0;
  YOLO_ARG(double, copy_paste) = 0.0;
  YOLO_ARG(std::string, copy_paste_mode) = "flip";
  YOLO_ARG(std::string, auto_augment) = "randaugment";
  YOLO_ARG(double, erasing) = 0.4;

  /// A YAML file of overrides (applied by from_strings / from_map before the other keys).
  YOLO_ARG(std::string, cfg);

  // ---- our own extras ----
  /// A second folder where relative dataset paths are looked up.
  YOLO_ARG(std::string, datasets_dir);
  /// Scale lr0 with batch / nbs.
  YOLO_ARG(bool, scale_lr) = false;
  /// Save this many augmented training batches as images (to check labels and augmentation).
  YOLO_ARG(int, save_batches) = 0;
  /// Seconds a distributed (DDP) run waits for a peer rank (rendezvous, collectives) before failing;
  /// Ultralytics' process-group timeout is 3 hours.
  YOLO_ARG(double, ddp_timeout) = 10800;
  /// The run folder, filled in by the trainer (Ultralytics writes it last in args.yaml).
  YOLO_ARG(std::string, save_dir);

  // ---- our own extras: Azure ML "Train PyTorch Model" semantics (README: mapping) ----
  /// What `patience` watches: "fitness" (Ultralytics) or "val_loss" (stop when it no longer falls).
  YOLO_ARG(std::string, patience_metric) = "fitness";
  /// Learning-rate decay over the epochs: "linear" (Ultralytics), "cosine" (as cos_lr=True) or "poly".
  YOLO_ARG(std::string, lr_schedule) = "linear";
  /// The exponent of lr_schedule=poly: lr0 x ((1 - epoch / epochs)^lr_power x (1 - lrf) + lrf).
  YOLO_ARG(double, lr_power) = 0.9;
  /// A log line (losses, lr) every print_freq training iterations; 0: the progress bar only.
  YOLO_ARG(int, print_freq) = 0;
};

/// One vocabulary for every mode, as Ultralytics' one cfg.
using ValArgs = TrainArgs;
using PredictArgs = TrainArgs;
/// Export reads format, imgsz, batch, dynamic, half, opset (and refuses int8, nms, ...); Model::export_defaults()
/// holds export's own defaults (batch 1, the training imgsz), as Ultralytics' Model.export.
using ExportArgs = TrainArgs;

}  // namespace yolo
