#include "loggers/tensorboard.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/crc.h"
#include "loggers/protobuf.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace loggers {
namespace {

// Field numbers of tensorflow's event.proto, summary.proto, graph.proto, node_def.proto, attr_value.proto
// and tensor_shape.proto (the subset we write).
namespace event {
constexpr int kWallTime = 1, kStep = 2, kFileVersion = 3, kGraphDef = 4, kSummary = 5;
}
namespace summary {
constexpr int kValue = 1;                                      // Summary
constexpr int kTag = 1, kSimpleValue = 2, kImage = 4;          // Summary.Value
constexpr int kHeight = 1, kWidth = 2, kColorspace = 3, kPng = 4;  // Summary.Image
}  // namespace summary
namespace graph {
constexpr int kNode = 1, kVersions = 4;                          // GraphDef
constexpr int kName = 1, kOp = 2, kInput = 3, kAttr = 5;         // NodeDef
constexpr int kKey = 1, kValue = 2;                              // map<string, AttrValue> entry
constexpr int kList = 1, kString = 2;                            // AttrValue
constexpr int kShapes = 7;                                       // AttrValue.ListValue
constexpr int kDim = 2, kDimSize = 1;                            // TensorShapeProto, .Dim
constexpr int kProducer = 1;                                     // VersionDef
}  // namespace graph

double wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

ProtoMessage new_event(int64_t step) {
  ProtoMessage e;
  e.add_double(event::kWallTime, wall_time());
  if (step != 0) e.add_varint(event::kStep, step);
  return e;
}

std::string event_file_name() {
  // PyTorch's SummaryWriter naming; the counter keeps two writers of one process in one second apart.
  static std::atomic<int> counter{0};
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  const auto seconds = static_cast<int64_t>(wall_time());
  return fmt::format("events.out.tfevents.{:010d}.{}.{}.{}", seconds, host, getpid(), counter++);
}

}  // namespace

std::string tfrecord(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  auto put = [&out](uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  };
  put(data.size(), 8);
  put(io::masked_crc32c(out), 4);
  out.append(data.data(), data.size());
  put(io::masked_crc32c(data), 4);
  return out;
}

TensorBoardWriter::TensorBoardWriter(const std::string& log_dir) {
  std::error_code ec;
  fs::create_directories(log_dir, ec);
  path_ = (fs::path(log_dir) / event_file_name()).string();
  out_.open(path_, std::ios::binary);
  YOLO_CHECK(out_, "cannot create the TensorBoard event file {}: is {} writeable?", path_, log_dir);
  write_event(new_event(0).add_bytes(event::kFileVersion, "brain.Event:2").bytes());
  flush();
}

TensorBoardWriter::~TensorBoardWriter() { out_.flush(); }

void TensorBoardWriter::write_event(const std::string& event) {
  out_ << tfrecord(event);
  YOLO_CHECK(out_, "cannot write the TensorBoard event file {} (disk full?)", path_);
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  add_scalars({{tag, value}}, step);
}

void TensorBoardWriter::add_scalars(const std::vector<std::pair<std::string, double>>& values, int64_t step) {
  ProtoMessage summary;
  for (const auto& [tag, value] : values) {
    ProtoMessage v;
    v.add_bytes(summary::kTag, tag).add_float(summary::kSimpleValue, static_cast<float>(value));
    summary.add_message(summary::kValue, v);
  }
  write_event(new_event(step).add_message(event::kSummary, summary).bytes());
}

void TensorBoardWriter::add_image(const std::string& tag, const cv::Mat& image, int64_t step) {
  YOLO_CHECK(image.depth() == CV_8U && (image.channels() == 1 || image.channels() == 3 || image.channels() == 4),
             "TensorBoard image '{}' must be 8-bit grey, BGR or BGRA, got {} channels of depth {}", tag,
             image.channels(), image.depth());
  std::vector<uchar> png;
  YOLO_CHECK(cv::imencode(".png", image, png), "could not encode the TensorBoard image '{}' as PNG", tag);
  const int colorspace = image.channels() == 1 ? 1 : image.channels() == 3 ? 3 : 4;  // grey, RGB, RGBA
  ProtoMessage picture;
  picture.add_varint(summary::kHeight, image.rows)
      .add_varint(summary::kWidth, image.cols)
      .add_varint(summary::kColorspace, colorspace)
      .add_bytes(summary::kPng, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
  ProtoMessage value;
  value.add_bytes(summary::kTag, tag).add_message(summary::kImage, picture);
  write_event(new_event(step).add_message(event::kSummary, ProtoMessage().add_message(summary::kValue, value)).bytes());
}

void TensorBoardWriter::add_graph(const std::vector<GraphNode>& nodes) {
  ProtoMessage graph_def;
  for (const auto& node : nodes) {
    ProtoMessage n;
    n.add_bytes(graph::kName, node.name).add_bytes(graph::kOp, node.op);
    for (const auto& input : node.inputs) n.add_bytes(graph::kInput, input);
    for (const auto& [key, text] : node.attrs) {
      n.add_message(graph::kAttr,
                    ProtoMessage().add_bytes(graph::kKey, key).add_message(
                        graph::kValue, ProtoMessage().add_bytes(graph::kString, text)));
    }
    if (!node.output_shape.empty()) {
      ProtoMessage shape;
      for (int64_t d : node.output_shape) shape.add_message(graph::kDim, ProtoMessage().add_varint(graph::kDimSize, d));
      const ProtoMessage list = ProtoMessage().add_message(graph::kShapes, shape);
      n.add_message(graph::kAttr, ProtoMessage().add_bytes(graph::kKey, "_output_shapes")
                                      .add_message(graph::kValue, ProtoMessage().add_message(graph::kList, list)));
    }
    graph_def.add_message(graph::kNode, n);
  }
  graph_def.add_message(graph::kVersions, ProtoMessage().add_varint(graph::kProducer, 22));
  write_event(new_event(0).add_bytes(event::kGraphDef, graph_def.bytes()).bytes());
}

void TensorBoardWriter::flush() {
  out_.flush();
  YOLO_CHECK(out_, "cannot write the TensorBoard event file {} (disk full?)", path_);
}

}  // namespace loggers
YOLO_END_NAMESPACE
