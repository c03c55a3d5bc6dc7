#include "engine/predictor.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include <glob.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "yolo_build_config.h"
#if YOLO_HAVE_VIDEOIO
#include <opencv2/videoio.hpp>
#endif

#include "config/resolve.h"
#include "engine/device.h"
#include "engine/run_dir.h"
#include "engine/run_options.h"
#include "engine/task.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::set<std::string> kImageSuffixes{".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png",
                                           ".tif", ".tiff", ".webp", ".pfm"};
const std::set<std::string> kVideoSuffixes{".asf", ".avi", ".gif", ".m4v", ".mkv", ".mov", ".mp4",
                                           ".mpeg", ".mpg", ".ts", ".wmv", ".webm"};

std::string lower_suffix(const fs::path& p) {
  auto s = p.extension().string();
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_media(const fs::path& p) {
  const auto s = lower_suffix(p);
  return kImageSuffixes.count(s) || kVideoSuffixes.count(s);
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

cv::Scalar class_colour(int cls) {
  static const int palette[][3] = {{56, 56, 255},  {151, 157, 255}, {31, 112, 255}, {29, 178, 255}, {49, 210, 207},
                                   {10, 249, 72},  {23, 204, 146},  {134, 219, 61}, {52, 147, 26},  {187, 212, 0},
                                   {168, 153, 44}, {255, 194, 0},   {147, 69, 52},  {255, 115, 100}, {236, 24, 0}};
  const auto& c = palette[cls % 15];
  return {static_cast<double>(c[0]), static_cast<double>(c[1]), static_cast<double>(c[2])};
}

/// "3 detections", or the top five classes "ankle_boot 0.92, sandal 0.03, ..." as Ultralytics logs them.
std::string describe(const Prediction& p) {
  if (p.probs.top5.empty()) return fmt::format("{} detections", p.boxes.size());
  std::string text;
  for (size_t k = 0; k < p.probs.top5.size(); ++k)
    text += fmt::format("{}{} {:.2f}", k ? ", " : "", p.probs.top5_names[k], p.probs.top5conf[k]);
  return text;
}

/// The Prediction of a source that could not be read: only its path and why.
Prediction unreadable(const std::string& file, std::string error) {
  Prediction p;
  p.path = file;
  p.error = std::move(error);
  return p;
}

}  // namespace

std::vector<std::string> expand_source(const std::string& source) {
  YOLO_CHECK(!source.empty(), "predict needs a source: source=image.jpg, a folder, a glob, a .txt list or a video");
  std::vector<std::string> files;
  const fs::path path(source);
  if (source.find_first_of("*?[") != std::string::npos) {
    glob_t g{};
    if (::glob(source.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i)
        if (is_media(g.gl_pathv[i])) files.emplace_back(g.gl_pathv[i]);
    }
    globfree(&g);
    YOLO_CHECK(!files.empty(), "source='{}': the glob matches no image or video", source);
  } else if (fs::is_directory(path)) {
    for (const auto& entry : fs::directory_iterator(path))
      if (entry.is_regular_file() && is_media(entry.path())) files.push_back(entry.path().string());
    YOLO_CHECK(!files.empty(), "source='{}': the folder holds no image or video", source);
  } else if (lower_suffix(path) == ".txt") {
    std::ifstream in(path);
    YOLO_CHECK(in, "source='{}' does not exist", source);
    std::string line;
    while (std::getline(in, line)) {
      line.erase(line.find_last_not_of(" \r\t") + 1);
      if (line.empty()) continue;
      fs::path entry(line);
      if (entry.is_relative()) entry = path.parent_path() / entry;
      files.push_back(entry.string());
    }
  } else {
    YOLO_CHECK(fs::exists(path), "source='{}' does not exist", source);
    YOLO_CHECK(is_media(path), "source='{}' is not an image or video this build reads ({}...)", source,
               ".jpg, .png, .bmp, .mp4, .avi");
    files.push_back(path.string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

Predictor::Predictor(nn::Network model, const PredictArgs& args, std::vector<std::string> names)
    : model_(nn::fused_copy(*model)),
      task_(task_named(model->task())),
      options_(std::make_unique<PredictorOptions>(make_run_options(args, model->task()).predictor)),
      names_(std::move(names)) {
  device_ = select_device(options_->device).primary;
  model_->to(device_);
  options_->imgsz = config::check_imgsz(options_->imgsz, std::max<int64_t>(32, model_->strides().back()));
  check_input_size(*model_, options_->imgsz);
  if (options_->save || options_->save_txt || options_->save_crop)
    save_dir_ = run_folder(options_->project, task_.name, options_->name, "predict", options_->exist_ok);
}

Predictor::~Predictor() = default;

std::vector<Prediction> Predictor::infer(const std::vector<cv::Mat>& images, const std::vector<std::string>& paths) {
  c10::InferenceMode inference;
  const auto t0 = Clock::now();
  const int64_t stride = std::max<int64_t>(32, static_cast<int64_t>(model_->strides().back()));
  // As Ultralytics: a batch of equal shapes gets the minimal stride-multiple padding, unless the model is an
  // export fixed to imgsz squares; other batches are padded to squares.
  bool auto_pad = model_->fixed_imgsz() == 0;
  for (const auto& im : images) auto_pad = auto_pad && im.size() == images.front().size();
  std::vector<PredictInput> inputs;
  std::vector<torch::Tensor> tensors;
  for (const auto& im : images) {
    inputs.push_back(task_.predict_input(im, *options_, stride, auto_pad));
    tensors.push_back(inputs.back().image);
  }
  auto x = torch::stack(tensors).to(device_).to(torch::kFloat32).div_(255);
  // Channels-last is not used here: single images take LibTorch's non-oneDNN convolution path on
  // CPU, which is slower in NHWC (413 vs 345 ms per 640 image measured here).
  if (options_->half && device_.is_cuda()) x = x.to(torch::kHalf);
  synchronize(device_);
  const auto t1 = Clock::now();
  auto output = model_->forward(x).to(torch::kFloat32);
  synchronize(device_);
  const auto t2 = Clock::now();
  std::vector<Prediction> out(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    out[i].path = paths[i];
    out[i].orig_height = images[i].rows, out[i].orig_width = images[i].cols;
  }
  task_.predict_output(output, {x.size(2), x.size(3)}, inputs, *options_, names_, out);
  const auto t3 = Clock::now();
  const double n = static_cast<double>(images.size());
  for (auto& p : out) p.speed = {ms_between(t0, t1) / n, ms_between(t1, t2) / n, 0, ms_between(t2, t3) / n};
  return out;
}

void Predictor::save_outputs(const cv::Mat& image, const Prediction& p, const std::string& stem) {
  if (save_dir_.empty()) return;
  const fs::path dir(save_dir_);
  if (options_->save_txt) {
    fs::create_directories(dir / "labels");
    std::ofstream out(dir / "labels" / (stem + ".txt"));
    // Classification: the top five as "probability name", as Ultralytics' Results.save_txt.
    for (size_t k = 0; k < p.probs.top5.size(); ++k)
      out << fmt::format("{:.2f} {}\n", p.probs.top5conf[k], p.probs.top5_names[k]);
    for (const auto& b : p.boxes) {
      const double w = p.orig_width, h = p.orig_height;
      out << fmt::format("{} {:g} {:g} {:g} {:g}", b.cls, (b.x1 + b.x2) / 2 / w, (b.y1 + b.y2) / 2 / h,
                         (b.x2 - b.x1) / w, (b.y2 - b.y1) / h);
      if (options_->save_conf) out << fmt::format(" {:g}", b.conf);
      out << "\n";
    }
  }
  if (options_->save_crop) {
    for (const auto& b : p.boxes) {
      const cv::Rect rect(cv::Point(static_cast<int>(b.x1), static_cast<int>(b.y1)),
                          cv::Point(static_cast<int>(b.x2), static_cast<int>(b.y2)));
      const auto clipped = rect & cv::Rect(0, 0, image.cols, image.rows);
      if (clipped.area() == 0) continue;
      const auto crop_dir = dir / "crops" / b.name;
      fs::create_directories(crop_dir);
      auto file = crop_dir / (stem + ".jpg");
      for (int n = 2; fs::exists(file); ++n) file = crop_dir / fmt::format("{}{}.jpg", stem, n);
      cv::imwrite(file.string(), image(clipped));
    }
  }
  if (options_->save) {
    cv::Mat annotated = image.clone();
    const int lw = options_->line_width > 0 ? static_cast<int>(options_->line_width)
                                          : std::max(static_cast<int>(std::round((image.rows + image.cols) / 2 * 0.003)), 2);
    for (const auto& b : p.boxes) {
      const auto colour = class_colour(b.cls);
      cv::rectangle(annotated, cv::Point(static_cast<int>(b.x1), static_cast<int>(b.y1)),
                    cv::Point(static_cast<int>(b.x2), static_cast<int>(b.y2)), colour, lw);
      if (options_->show_labels) {
        const auto label = options_->show_conf ? fmt::format("{} {:.2f}", b.name, b.conf) : b.name;
        int baseline = 0;
        const double scale = lw / 3.0;
        const auto size = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, scale, std::max(lw - 1, 1), &baseline);
        const cv::Point origin(static_cast<int>(b.x1), std::max(static_cast<int>(b.y1), size.height + 3));
        cv::rectangle(annotated, origin + cv::Point(0, -size.height - 3), origin + cv::Point(size.width, 0), colour,
                      cv::FILLED);
        cv::putText(annotated, label, origin + cv::Point(0, -2), cv::FONT_HERSHEY_SIMPLEX, scale,
                    cv::Scalar(255, 255, 255), std::max(lw - 1, 1), cv::LINE_AA);
      }
    }
    if (!p.probs.top5.empty() && options_->show_labels) {  // classification: the top five, top left
      const double scale = std::max(image.rows, image.cols) / 400.0 + 0.3;
      const int thickness = std::max(1, static_cast<int>(scale));
      int y = 0;
      for (size_t k = 0; k < p.probs.top5.size(); ++k) {
        const auto text = options_->show_conf ? fmt::format("{} {:.2f}", p.probs.top5_names[k], p.probs.top5conf[k])
                                              : p.probs.top5_names[k];
        int baseline = 0;
        const auto size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
        y += size.height + baseline + 2;
        cv::putText(annotated, text, cv::Point(2, y), cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(255, 255, 255),
                    thickness, cv::LINE_AA);
      }
    }
    cv::imwrite((dir / (stem + ".jpg")).string(), annotated);
  }
}

std::vector<Prediction> Predictor::run(const std::vector<cv::Mat>& images) {
  std::vector<std::string> paths;
  for (size_t i = 0; i < images.size(); ++i) paths.push_back(fmt::format("image{}", i));
  std::vector<Prediction> all;
  const size_t batch = static_cast<size_t>(options_->batch);
  for (size_t start = 0; start < images.size(); start += batch) {
    const size_t end = std::min(images.size(), start + batch);
    std::vector<cv::Mat> chunk(images.begin() + start, images.begin() + end);
    std::vector<std::string> names(paths.begin() + start, paths.begin() + end);
    for (auto& p : infer(chunk, names)) all.push_back(std::move(p));
  }
  for (size_t i = 0; i < all.size(); ++i) save_outputs(images[i], all[i], all[i].path);
  return all;
}

std::vector<Prediction> Predictor::run(const std::string& source) {
  std::vector<Prediction> all;
  auto emit = [&](const cv::Mat& image, const std::string& path, const std::string& stem) {
    auto p = std::move(infer({image}, {path}).front());
    save_outputs(image, p, stem);
    log_info("{}: {}x{} {}, {:.1f}ms", path, image.rows, image.cols, describe(p), p.speed.inference);
    all.push_back(std::move(p));
  };
  for (const auto& file : expand_source(source)) {
    const fs::path path(file);
    if (kVideoSuffixes.count(lower_suffix(path))) {
#if YOLO_HAVE_VIDEOIO
      cv::VideoCapture capture(file);
      if (!capture.isOpened()) {
        auto error = fmt::format("{}: cannot open the video (missing, corrupt or unsupported codec), skipped", file);
        log_warning("{}", error);
        all.push_back(unreadable(file, std::move(error)));
        continue;
      }
      cv::Mat frame;
      const int64_t step = std::max<int64_t>(1, options_->vid_stride);
      for (int64_t index = 0; capture.read(frame); ++index) {
        if (index % step) continue;
        emit(frame, fmt::format("{}#{}", file, index), fmt::format("{}_{}", path.stem().string(), index));
      }
#else
      YOLO_FAIL("{}: this build of OpenCV has no video support (videoio); extract the frames as images", file);
#endif
      continue;
    }
    cv::Mat image = cv::imread(file, cv::IMREAD_COLOR);
    if (image.empty()) {
      auto error = fmt::format("{}: cannot be read as an image (missing, corrupt or unsupported), skipped", file);
      log_warning("{}", error);
      all.push_back(unreadable(file, std::move(error)));
      continue;
    }
    emit(image, file, path.stem().string());
  }
  Speed mean;
  int64_t ran = 0;
  for (const auto& p : all) {
    if (!p.error.empty()) continue;
    ++ran;
    mean.preprocess += p.speed.preprocess, mean.inference += p.speed.inference, mean.postprocess += p.speed.postprocess;
  }
  if (ran > 0)
    log_info("Speed: {:.1f}ms preprocess, {:.1f}ms inference, {:.1f}ms postprocess per image at imgsz {}",
             mean.preprocess / ran, mean.inference / ran, mean.postprocess / ran, options_->imgsz);
  if (!save_dir_.empty()) log_info("Results saved to {}", save_dir_);
  return all;
}

}  // namespace engine
YOLO_END_NAMESPACE
