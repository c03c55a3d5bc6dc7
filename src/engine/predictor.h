#pragma once
// `predict` mode: sources (files, folders, globs, .txt lists, videos, in-memory images) through the
// model, prepared and read as its task does (detect: letterbox and NMS; classify: resize, centre
// crop and class probabilities), with optional annotated images, label files and crops.
#include <memory>
#include <string>
#include <vector>

#include "yolo/config/args.h"
#include "yolo/engine/results.h"
#include "yolo/nn/network.h"
#include "yolo/version.h"

namespace cv {
class Mat;
}

YOLO_BEGIN_NAMESPACE
namespace engine {

/// Expands a source string into files: an image or video file, a folder (sorted), a glob, or a .txt
/// list of paths. A missing source is an error naming it.
std::vector<std::string> expand_source(const std::string& source);

struct PredictorOptions;
struct Task;

class Predictor {
 public:
  Predictor(nn::Network model, const PredictArgs& args, std::vector<std::string> names);
  ~Predictor();

  /// Every image (and every vid_stride-th video frame) of `source`. An unreadable file yields a
  /// Prediction with `error` set, and the others still run.
  std::vector<Prediction> run(const std::string& source);
  /// In-memory BGR images, as OpenCV decodes them.
  std::vector<Prediction> run(const std::vector<cv::Mat>& images);

  const std::string& save_dir() const { return save_dir_; }

 private:
  std::vector<Prediction> infer(const std::vector<cv::Mat>& images, const std::vector<std::string>& paths);
  void save_outputs(const cv::Mat& image, const Prediction& prediction, const std::string& stem);

  nn::Network model_;
  const Task& task_;
  std::unique_ptr<PredictorOptions> options_;
  std::vector<std::string> names_;
  torch::Device device_{torch::kCPU};
  std::string save_dir_;
};

}  // namespace engine
YOLO_END_NAMESPACE
