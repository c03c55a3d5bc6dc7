#pragma once
// The argument table: every key of train, val, predict and export, defined once.
//
// Each row generates the chained setter and getter of yolo::TrainArgs, the key in every parser (CLI
// tokens, YAML files, Python kwargs), its default, its valid range, its help text (docs/arguments.md is
// checked against it), its args.yaml line and its typed value in checkpoints. Rows are in the order of
// Ultralytics 8.3.166's cfg/default.yaml, whose names and defaults they keep; yolocpp's own keys come last.
//
//   X(kind, key, default, range, effect, help)
//
// kind     how the value is typed, read, written and stored; the C++ type is in parentheses:
//            Bool (bool)                 Int (int)              OptInt (int; 0 is None)
//            Float (double)              OptFloat (double; 0 is None)
//            Number (double; written as an int when whole: `batch`)
//            Str (std::string; "" is None)
//            IntList (std::vector<int64_t>; empty is None; `classes=1` is [1])
//            Layers (IntList where a single n means the first n layers: `freeze`)
//            ImgSz (int; a list [h, w] keeps its larger side)
//            FlagOrPath (std::string "true", "false" or a path)
//            Cache (std::string "false", "ram" or "disk"; True means ram)
//            Device (std::string: "", "cpu", "0", "0,1", "mps"; a list [0, 1] means "0,1")
// default  a value of that C++ type
// range    Any; AtLeast(lo); Above(lo); Between(lo, hi); Fraction (0.0 to 1.0); Batch (-1, a fraction of
//          GPU memory in (0, 1), or a whole number >= 1); OneOf("a|b|c") or OneOf("a|b|c", "how to say it"),
//          matched without regard to case and stored as spelt here. Numeric ranges apply to each element of
//          a list. A value outside is an error naming the key, the value and the range.
// effect   Used, or Unused("why"): yolocpp keeps the key (Ultralytics' args.yaml and checkpoints round-trip)
//          but does not act on it yet, and warns when it is set away from its default.
// help     one line for docs/arguments.md
//
// Adding a key is one row here (then regenerate docs/arguments.md, see tests/config/test_args.cpp):
//   X(Int, print_freq, 0, AtLeast(0), Used, "log every n batches (0: once per epoch)")
// and the code that acts on it reads `args.print_freq()`.
#include <cstdint>
#include <string>
#include <vector>

/// The C++ type of each kind (see the table's header comment).
#define YOLO_ARG_TYPE_Bool bool
#define YOLO_ARG_TYPE_Int int
#define YOLO_ARG_TYPE_OptInt int
#define YOLO_ARG_TYPE_Float double
#define YOLO_ARG_TYPE_OptFloat double
#define YOLO_ARG_TYPE_Number double
#define YOLO_ARG_TYPE_Str std::string
#define YOLO_ARG_TYPE_IntList std::vector<int64_t>
#define YOLO_ARG_TYPE_Layers std::vector<int64_t>
#define YOLO_ARG_TYPE_ImgSz int
#define YOLO_ARG_TYPE_FlagOrPath std::string
#define YOLO_ARG_TYPE_Cache std::string
#define YOLO_ARG_TYPE_Device std::string

// clang-format off
#define YOLO_TRAIN_ARGS(X) \
  X(Str,        task,            "detect",      OneOf("detect|segment|classify|pose|obb"), Used, "YOLO task: detect, segment, classify, pose or obb") \
  X(Str,        mode,            "train",       OneOf("train|val|predict|export|track|benchmark"), Used, "YOLO mode: train, val, predict, export, track or benchmark") \
  /* train */ \
  X(Str,        model,           "",            Any,           Used, "model file: yolov8n.pt, yolov8n.yaml") \
  X(Str,        data,            "",            Any,           Used, "dataset file: coco8.yaml") \
  X(Int,        epochs,          100,           AtLeast(1),    Used, "number of epochs to train for") \
  X(OptFloat,   time,            0,             AtLeast(0),    Used, "hours to train for; overrides epochs when set") \
  X(Int,        patience,        100,           AtLeast(0),    Used, "epochs without improvement before training stops early (0: never)") \
  X(Number,     batch,           16,            Batch,         Used, "images per batch (-1 for AutoBatch, 0.7 for a fraction of GPU memory)") \
  X(ImgSz,      imgsz,           640,           AtLeast(1),    Used, "image size; rounded up to a multiple of the model's stride") \
  X(Bool,       save,            true,          Any,           Used, "save train checkpoints and predict results") \
  X(Int,        save_period,     -1,            Any,           Used, "save a checkpoint every n epochs (< 1: off)") \
  X(Cache,      cache,           "false",       OneOf("false|ram|disk", "True/ram, disk or False"), Used, "cache images: True/ram, disk or False") \
  X(Device,     device,          "",            Any,           Used, "device: cpu, 0, 0,1, cpu,cpu, mps, -1 (idlest GPU); empty: the first GPU, else CPU") \
  X(Int,        workers,         8,             AtLeast(0),    Used, "data loader threads per rank, capped at the CPUs per device") \
  X(Str,        project,         "",            Any,           Used, "project folder") \
  X(Str,        name,            "",            Any,           Used, "run name: results go to project/name") \
  X(Bool,       exist_ok,        false,         Any,           Used, "overwrite an existing run folder") \
  X(FlagOrPath, pretrained,      "true",        Any,           Used, "start from pretrained weights (True/False) or from this weights file") \
  X(Str,        optimizer,       "auto",        OneOf("SGD|Adam|Adamax|AdamW|NAdam|RAdam|RMSProp|auto"), Used, "optimizer: SGD, Adam, Adamax, AdamW, NAdam, RAdam, RMSProp or auto") \
  X(Bool,       verbose,         true,          Any,           Used, "verbose output (the per-class table)") \
  X(Int,        seed,            0,             AtLeast(0),    Used, "random seed") \
  X(Bool,       deterministic,   true,          Any,           Used, "deterministic algorithms") \
  X(Bool,       single_cls,      false,         Any,           Used, "train a multi-class dataset as one class") \
  X(Bool,       rect,            false,         Any,           Used, "rectangular batches (train: no shuffle, no mosaic)") \
  X(Bool,       cos_lr,          false,         Any,           Used, "cosine learning-rate schedule") \
  X(Int,        close_mosaic,    10,            AtLeast(0),    Used, "turn mosaic off for the last n epochs") \
  X(FlagOrPath, resume,          "false",       Any,           Used, "resume the latest run (True) or this last.pt") \
  X(Bool,       amp,             true,          Any,           Used, "automatic mixed precision, after a check") \
  X(Float,      fraction,        1.0,           Fraction,      Used, "fraction of the training images to use") \
  X(Bool,       profile,         false,         Any,           Unused("export profiling is not implemented"), "profile ONNX and TensorRT speeds during training") \
  X(Layers,     freeze,          {},            AtLeast(0),    Used, "freeze the first n layers, or the layers listed") \
  X(Bool,       multi_scale,     false,         Any,           Used, "train at image sizes drawn in [0.5, 1.5] x imgsz") \
  X(Bool,       overlap_mask,    true,          Any,           Unused("a segmentation key; yolocpp trains detection and classification"), "merge object masks into one image mask (segment)") \
  X(Int,        mask_ratio,      4,             AtLeast(1),    Unused("a segmentation key; yolocpp trains detection and classification"), "mask downsample ratio (segment)") \
  X(Float,      dropout,         0.0,           Fraction,      Used, "dropout before the classifier's last layer (classify)") \
  /* val */ \
  X(Bool,       val,             true,          Any,           Used, "validate during training") \
  X(Str,        split,           "val",         OneOf("val|test|train"), Used, "dataset split to validate on: val, test or train") \
  X(Bool,       save_json,       false,         Any,           Used, "save predictions as COCO JSON") \
  X(OptFloat,   conf,            0,             Fraction,      Used, "confidence threshold (None: 0.25 predict, 0.001 val)") \
  X(Float,      iou,             0.7,           Fraction,      Used, "IoU threshold of NMS") \
  X(Int,        max_det,         300,           AtLeast(1),    Used, "most detections per image") \
  X(Bool,       half,            false,         Any,           Used, "half-precision (FP16) inference") \
  X(Bool,       dnn,             false,         Any,           Unused("yolocpp runs its own LibTorch model, not OpenCV DNN"), "OpenCV DNN for ONNX inference") \
  X(Bool,       plots,           true,          Any,           Used, "save plots and images") \
  /* predict */ \
  X(Str,        source,          "",            Any,           Used, "images, folder, glob, .txt list or video to predict on") \
  X(Int,        vid_stride,      1,             AtLeast(1),    Used, "video frame-rate stride") \
  X(Bool,       stream_buffer,   false,         Any,           Unused("streams are read frame by frame"), "buffer all stream frames") \
  X(Bool,       visualize,       false,         Any,           Unused("feature-map visualisation is not implemented"), "visualise model features") \
  X(Bool,       augment,         false,         Any,           Unused("test-time augmentation is not implemented"), "test-time augmentation") \
  X(Bool,       agnostic_nms,    false,         Any,           Used, "class-agnostic NMS") \
  X(IntList,    classes,         {},            AtLeast(0),    Used, "keep these classes only, e.g. classes=[0, 2]") \
  X(Bool,       retina_masks,    false,         Any,           Unused("a segmentation key; yolocpp runs detection and classification"), "high-resolution masks (segment)") \
  X(IntList,    embed,           {},            AtLeast(0),    Unused("embedding extraction is not implemented"), "return feature vectors of these layers") \
  /* visualize */ \
  X(Bool,       show,            false,         Any,           Unused("yolocpp opens no windows; use save=True"), "show results in a window") \
  X(Bool,       save_frames,     false,         Any,           Unused("saving video frames is not implemented"), "save predicted video frames") \
  X(Bool,       save_txt,        false,         Any,           Used, "save results as .txt files") \
  X(Bool,       save_conf,       false,         Any,           Used, "save confidences in the .txt files") \
  X(Bool,       save_crop,       false,         Any,           Used, "save cropped detections") \
  X(Bool,       show_labels,     true,          Any,           Used, "draw labels") \
  X(Bool,       show_conf,       true,          Any,           Used, "draw confidences") \
  X(Bool,       show_boxes,      true,          Any,           Unused("box drawing cannot be turned off yet"), "draw boxes") \
  X(OptInt,     line_width,      0,             AtLeast(0),    Used, "box line width in pixels (None: scaled to the image)") \
  /* export */ \
  X(Str,        format,          "torchscript", Any,           Used, "export format: onnx (Ultralytics' other formats and aliases are recognised by export, which says what it writes)") \
  X(Bool,       keras,           false,         Any,           Used, "export: Keras (saved_model)") \
  X(Bool,       optimize,        false,         Any,           Used, "export: optimise TorchScript for mobile") \
  X(Bool,       int8,            false,         Any,           Used, "export: INT8 quantisation") \
  X(Bool,       dynamic,         false,         Any,           Used, "export: dynamic axes (ONNX, TensorRT)") \
  X(Bool,       simplify,        true,          Any,           Used, "export: simplify the ONNX graph") \
  X(OptInt,     opset,           0,             AtLeast(0),    Used, "export: ONNX opset (None: the latest supported)") \
  X(OptFloat,   workspace,       0,             AtLeast(0),    Used, "export: TensorRT workspace in GiB (None: automatic)") \
  X(Bool,       nms,             false,         Any,           Used, "export: add NMS to the exported model") \
  /* hyper-parameters */ \
  X(Float,      lr0,             0.01,          Fraction,      Used, "initial learning rate (SGD 1e-2, Adam 1e-3)") \
  X(Float,      lrf,             0.01,          Fraction,      Used, "final learning rate as a fraction of lr0") \
  X(Float,      momentum,        0.937,         Fraction,      Used, "SGD momentum / Adam beta1") \
  X(Float,      weight_decay,    0.0005,        Fraction,      Used, "optimizer weight decay") \
  X(Float,      warmup_epochs,   3.0,           AtLeast(0),    Used, "warmup epochs (fractions allowed)") \
  X(Float,      warmup_momentum, 0.8,           Fraction,      Used, "initial momentum of the warmup") \
  X(Float,      warmup_bias_lr,  0.1,           Fraction,      Used, "initial bias learning rate of the warmup") \
  X(Float,      box,             7.5,           AtLeast(0),    Used, "box loss gain") \
  X(Float,      cls,             0.5,           AtLeast(0),    Used, "classification loss gain") \
  X(Float,      dfl,             1.5,           AtLeast(0),    Used, "distribution focal loss gain") \
  X(Float,      pose,            12.0,          AtLeast(0),    Unused("a pose-training key; yolocpp trains detection and classification"), "pose loss gain (pose)") \
  X(Float,      kobj,            1.0,           AtLeast(0),    Unused("a pose-training key; yolocpp trains detection and classification"), "keypoint objectness loss gain (pose)") \
  X(Int,        nbs,             64,            AtLeast(1),    Used, "nominal batch size (gradient accumulation)") \
  X(Float,      hsv_h,           0.015,         Fraction,      Used, "hue augmentation (fraction)") \
  X(Float,      hsv_s,           0.7,           Fraction,      Used, "saturation augmentation (fraction)") \
  X(Float,      hsv_v,           0.4,           Fraction,      Used, "value augmentation (fraction)") \
  X(Float,      degrees,         0.0,           Any,           Used, "rotation (+/- degrees)") \
  X(Float,      translate,       0.1,           Fraction,      Used, "translation (+/- fraction)") \
  X(Float,      scale,           0.5,           Fraction,      Used, "scale (+/- gain)") \
  X(Float,      shear,           0.0,           Any,           Used, "shear (+/- degrees)") \
  X(Float,      perspective,     0.0,           Fraction,      Used, "perspective (+/- fraction; 0 to 0.001)") \
  X(Float,      flipud,          0.0,           Fraction,      Used, "up-down flip (probability)") \
  X(Float,      fliplr,          0.5,           Fraction,      Used, "left-right flip (probability)") \
  X(Float,      bgr,             0.0,           Fraction,      Used, "RGB to BGR channel swap (probability)") \
  X(Float,      mosaic,          1.0,           Fraction,      Used, "mosaic (probability)") \
  X(Float,      mixup,           0.0,           Fraction,      Used, "mixup (probability)") \
  X(Float,      cutmix,          0.0,           Fraction,      Unused("the CutMix augmentation is not implemented"), "cutmix (probability)") \
  X(Float,      copy_paste,      0.0,           Fraction,      Unused("copy-paste needs segmentation labels, which yolocpp does not train on"), "segment copy-paste (probability)") \
  X(Str,        copy_paste_mode, "flip",        OneOf("flip|mixup"), Unused("copy-paste needs segmentation labels, which yolocpp does not train on"), "copy-paste method: flip or mixup") \
  X(Str,        auto_augment,    "randaugment", OneOf("randaugment|autoaugment|augmix"), Used, "classification auto-augment policy: randaugment, autoaugment or augmix (None or False: hsv_* colour jitter instead)") \
  X(Float,      erasing,         0.4,           Fraction,      Used, "random erasing (probability; classify)") \
  X(Str,        cfg,             "",            Any,           Used, "a YAML file of arguments that the other keys override") \
  X(Str,        tracker,         "botsort.yaml", Any,          Unused("tracking is not implemented"), "tracker: botsort.yaml or bytetrack.yaml") \
  /* yolocpp's own */ \
  X(Str,        datasets_dir,    "",            Any,           Used, "a second folder where relative dataset paths are looked up") \
  X(Bool,       scale_lr,        false,         Any,           Used, "multiply lr0 by the number of ranks of a distributed run") \
  X(Int,        save_batches,    0,             AtLeast(0),    Used, "save this many augmented training batches as images") \
  X(Float,      ddp_timeout,     10800,         Above(0),      Used, "seconds a distributed run waits for a rank (rendezvous, collectives)") \
  X(Str,        save_dir,        "",            Any,           Used, "the run folder, filled in by the trainer") \
  /* yolocpp's own: Azure ML "Train PyTorch Model" semantics (docs/classification.md) */ \
  X(Str,        patience_metric, "fitness",     OneOf("fitness|val_loss"), Used, "what patience watches: fitness (Ultralytics) or val_loss (stop when it no longer falls)") \
  X(Str,        lr_schedule,     "linear",      OneOf("linear|cosine|poly"), Used, "learning-rate decay over the epochs: linear (Ultralytics), cosine (as cos_lr=True) or poly") \
  X(Float,      lr_power,        0.9,           Above(0),      Used, "exponent of lr_schedule=poly: lr0 x ((1 - epoch/epochs)^lr_power x (1 - lrf) + lrf)") \
  X(Int,        print_freq,      0,             AtLeast(0),    Used, "a log line (losses, lr) every n training iterations (0: the progress bar only)")
// clang-format on
