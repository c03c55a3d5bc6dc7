#include "engine/run_options.h"

#include <fmt/ranges.h>

#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {
namespace {

data::AugmentOptions augment_options(const TrainArgs& a) {
  data::AugmentOptions h;
  h.hsv_h = a.hsv_h(), h.hsv_s = a.hsv_s(), h.hsv_v = a.hsv_v();
  h.degrees = a.degrees(), h.translate = a.translate(), h.scale = a.scale(), h.shear = a.shear();
  h.perspective = a.perspective(), h.flipud = a.flipud(), h.fliplr = a.fliplr(), h.bgr = a.bgr();
  h.mosaic = a.mosaic(), h.mixup = a.mixup();
  h.erasing = a.erasing(), h.auto_augment = a.auto_augment();
  return h;
}

/// Keys that only one task acts on: set to something else for the other task, they are named, not dropped.
void warn_about_other_task_keys(const TrainArgs& args, const std::string& task) {
  const TrainArgs defaults;
  std::vector<std::string> unused;
  const std::vector<std::string> classify_only{"dropout", "erasing", "auto_augment"};
  const std::vector<std::string> detect_only{"box", "cls", "dfl", "mosaic", "mixup", "close_mosaic", "degrees",
                                             "translate", "shear", "perspective", "bgr", "rect", "multi_scale",
                                             "single_cls", "iou", "max_det", "agnostic_nms", "save_json"};
  for (const auto& key : task == "detect" ? classify_only : detect_only)
    if (args.get(key) != defaults.get(key)) unused.push_back(fmt::format("{}={}", key, args.get(key)));
  if (!unused.empty())
    log_warning("{} has no effect on a {} model; going on without it", fmt::join(unused, ", "), task);
}

}  // namespace

data::DatasetOptions detection_dataset_options(const TrainArgs& args, bool train) {
  data::DatasetOptions o;
  o.imgsz = args.imgsz();
  o.augment = train;
  o.rect = train ? args.rect() : true;  // Ultralytics validates on rect batches
  o.pad = train ? 0.0 : 0.5;
  o.cache = args.cache();
  o.single_cls = args.single_cls();
  o.fraction = train ? args.fraction() : 1.0;
  o.classes = args.classes();
  o.hyp = augment_options(args);
  return o;
}

RunOptions make_run_options(const TrainArgs& a, const std::string& task) {
  YOLO_CHECK(task == "detect" || task == "classify", "task={} is not one yolocpp runs: detect or classify", task);
  warn_about_other_task_keys(a, task);
  RunOptions o;
  o.task = task;

  auto& t = o.trainer;
  t.epochs = a.epochs(), t.time = a.time(), t.patience = a.patience(), t.patience_metric = a.patience_metric();
  t.batch = a.batch(), t.imgsz = a.imgsz();
  t.save = a.save(), t.save_period = a.save_period();
  t.device = a.device(), t.project = a.project(), t.name = a.name(), t.exist_ok = a.exist_ok();
  t.resume = a.resume();
  t.val = a.val(), t.plots = a.plots(), t.verbose = a.verbose(), t.save_json = a.save_json();
  t.amp = a.amp(), t.deterministic = a.deterministic(), t.seed = a.seed();
  t.optimizer = a.optimizer();
  t.lr0 = a.lr0(), t.lrf = a.lrf(), t.momentum = a.momentum(), t.weight_decay = a.weight_decay();
  t.lr_schedule = a.cos_lr() ? "cosine" : a.lr_schedule();
  YOLO_CHECK(!a.cos_lr() || a.lr_schedule() == "linear" || a.lr_schedule() == "cosine",
             "cos_lr=True and lr_schedule={} ask for two schedules: give one", a.lr_schedule());
  t.lr_power = a.lr_power();
  t.warmup_epochs = a.warmup_epochs(), t.warmup_momentum = a.warmup_momentum(), t.warmup_bias_lr = a.warmup_bias_lr();
  t.nbs = a.nbs(), t.scale_lr = a.scale_lr(), t.freeze = a.freeze(), t.dropout = a.dropout();
  t.close_mosaic = a.close_mosaic(), t.multi_scale = a.multi_scale();
  t.ddp_timeout = a.ddp_timeout(), t.print_freq = a.print_freq(), t.tensorboard = a.tensorboard();

  auto& d = o.data;
  d.data = a.data(), d.datasets_dir = a.datasets_dir(), d.split = a.split();
  d.dataset = detection_dataset_options(a, /*train=*/true);
  d.workers = a.workers(), d.seed = static_cast<uint64_t>(a.seed());

  o.detection_loss.box = a.box(), o.detection_loss.cls = a.cls(), o.detection_loss.dfl = a.dfl();

  auto& v = o.validator;
  v.conf = a.conf() > 0 ? a.conf() : 0.001;
  v.iou = a.iou(), v.max_det = a.max_det();
  v.agnostic_nms = a.agnostic_nms(), v.single_cls = a.single_cls(), v.half = a.half();
  v.verbose = a.verbose();

  auto& p = o.predictor;
  p.imgsz = a.imgsz(), p.device = a.device(), p.batch = std::max<int64_t>(1, static_cast<int64_t>(a.batch()));
  p.conf = a.conf() > 0 ? a.conf() : 0.25;
  p.iou = a.iou(), p.max_det = a.max_det(), p.agnostic_nms = a.agnostic_nms(), p.half = a.half();
  p.classes = a.classes(), p.vid_stride = a.vid_stride();
  p.save = a.save(), p.save_txt = a.save_txt(), p.save_conf = a.save_conf(), p.save_crop = a.save_crop();
  p.show_labels = a.show_labels(), p.show_conf = a.show_conf(), p.line_width = a.line_width();
  p.project = a.project(), p.name = a.name(), p.exist_ok = a.exist_ok();
  return o;
}

}  // namespace engine
YOLO_END_NAMESPACE
