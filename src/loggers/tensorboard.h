#pragma once
// TensorBoard event files written natively: `events.out.tfevents.<time>.<host>.<pid>.<n>` in a log folder,
// TFRecord-framed tensorflow.Event messages holding scalars, PNG images and a model graph, readable by
// `tensorboard --logdir` while training runs (flush() after each epoch).
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "yolo/version.h"

namespace cv {
class Mat;
}

YOLO_BEGIN_NAMESPACE
namespace loggers {

/// TFRecord framing of one record: length (u64 LE), masked CRC-32C of the length, data, masked CRC-32C of data.
std::string tfrecord(std::string_view data);

/// One node of the graph shown in TensorBoard's Graphs tab. A '/' in the name nests the node in a group.
struct GraphNode {
  std::string name;                          ///< unique, e.g. "model.2"
  std::string op;                            ///< the box label, e.g. "C2f"
  std::vector<std::string> inputs;           ///< names of the nodes feeding this one
  std::map<std::string, std::string> attrs;  ///< shown in the node's info card, e.g. {"args", "[32, True]"}
  std::vector<int64_t> output_shape;         ///< labels the outgoing edges when given, e.g. {1, 32, 160, 160}
};

class TensorBoardWriter {
 public:
  /// Creates `log_dir` and a new event file in it (the first record is the file_version event).
  explicit TensorBoardWriter(const std::string& log_dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  /// A point of the curve `tag` (e.g. "train/box_loss") at `step` (Ultralytics logs epochs from 1).
  void add_scalar(const std::string& tag, double value, int64_t step);
  /// Every (tag, value) pair at one step.
  void add_scalars(const std::vector<std::pair<std::string, double>>& values, int64_t step);
  /// An 8-bit image (1 channel grey, 3 BGR or 4 BGRA, as OpenCV holds it), stored as PNG.
  void add_image(const std::string& tag, const cv::Mat& image, int64_t step);
  /// The model's layer graph (Graphs tab).
  void add_graph(const std::vector<GraphNode>& nodes);
  /// Pushes buffered events to the file so that a running TensorBoard sees them.
  void flush();

  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& event);
  std::string path_;
  std::ofstream out_;
};

}  // namespace loggers
YOLO_END_NAMESPACE
