// The TensorBoard writer read back by an independent decoder: TFRecord frames with valid masked CRC-32C,
// the file_version event first, scalars, PNG images and the graph as TensorBoard's protos lay them out.
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include <unistd.h>

#include "catch.h"
#include "loggers/proto_reader.h"
#include "loggers/model_graph.h"
#include "loggers/protobuf.h"
#include "loggers/tensorboard.h"
#include "yolo/nn/spec.h"

namespace fs = std::filesystem;
using namespace yolo::loggers;
using yolo::test::decode_message;
using yolo::test::fields_of;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("yolo_tb_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("protobuf wire encoding matches the specification's examples", "[loggers][tensorboard]") {
  // developers.google.com/protocol-buffers/docs/encoding: field 1 = 150 is 08 96 01; field 2 = "testing".
  CHECK(ProtoMessage().add_varint(1, 150).bytes() == std::string("\x08\x96\x01", 3));
  CHECK(ProtoMessage().add_bytes(2, "testing").bytes() == std::string("\x12\x07testing", 9));
  CHECK(ProtoMessage().add_varint(1, -1).bytes().size() == 11);  // negative int32/int64: ten-byte varint
  const auto f = decode_message(ProtoMessage().add_float(2, 0.5f).add_double(1, -2.25).bytes());
  REQUIRE(f.size() == 2);
  CHECK((f[0].number == 2 && f[0].wire_type == 5 && f[0].as_float() == 0.5f));
  CHECK((f[1].number == 1 && f[1].wire_type == 1 && f[1].as_double() == -2.25));
}

TEST_CASE("tfrecord frames a record as TensorFlow does", "[loggers][tensorboard]") {
  // Bytes from TensorBoard's Python stub: struct length, masked_crc32c(length), data, masked_crc32c(data).
  const std::string expected("\x05\0\0\0\0\0\0\0\xea\xb2\x04\x3ehello\xbb\x1f\x1c\x19", 21);
  CHECK(tfrecord("hello") == expected);
}

TEST_CASE("TensorBoardWriter writes events that read back", "[loggers][tensorboard]") {
  const auto dir = fresh_dir("roundtrip");
  std::string path;
  {
    TensorBoardWriter writer(dir.string());
    path = writer.path();
    CHECK(fs::path(path).filename().string().rfind("events.out.tfevents.", 0) == 0);
    writer.add_scalars({{"train/box_loss", 1.25}, {"metrics/mAP50(B)", 0.5}}, 1);
    writer.add_scalar("lr/pg0", 1e-3, 2);
    cv::Mat image(24, 40, CV_8UC3, cv::Scalar(255, 0, 0));  // blue in BGR
    cv::rectangle(image, {5, 5}, {20, 15}, cv::Scalar(0, 0, 255), cv::FILLED);
    writer.add_image("val_batch0_pred", image, 3);
    writer.add_graph({{"images", "Input", {}, {}, {1, 3, 64, 64}},
                      {"model.0", "Conv", {"images"}, {{"args", "[16, 3, 2]"}}, {1, 16, 32, 32}}});
    writer.flush();
    // Flushed events are on disk while the writer is still open (a live `tensorboard --logdir` sees them).
    CHECK(yolo::test::read_tfrecords(read_file(path)).size() == 5);
  }
  const auto records = yolo::test::read_tfrecords(read_file(path));
  REQUIRE(records.size() == 5);

  // The first event names the file format.
  const auto version = decode_message(records[0]);
  REQUIRE(fields_of(version, 3).size() == 1);
  CHECK(fields_of(version, 3)[0].bytes == "brain.Event:2");
  CHECK(fields_of(version, 1)[0].as_double() > 1.6e9);  // wall time in seconds since 1970

  // Scalars: Event.step, Event.summary.value[i].{tag, simple_value}.
  const auto scalars = decode_message(records[1]);
  CHECK(fields_of(scalars, 2)[0].varint == 1);
  const auto values = fields_of(decode_message(fields_of(scalars, 5)[0].bytes), 1);
  REQUIRE(values.size() == 2);
  const auto first = decode_message(values[0].bytes);
  CHECK(fields_of(first, 1)[0].bytes == "train/box_loss");
  CHECK(fields_of(first, 2)[0].as_float() == 1.25f);
  CHECK(fields_of(decode_message(values[1].bytes), 1)[0].bytes == "metrics/mAP50(B)");
  const auto lr = decode_message(fields_of(decode_message(fields_of(decode_message(records[2]), 5)[0].bytes), 1)[0].bytes);
  CHECK(fields_of(lr, 2)[0].as_float() == Approx(1e-3));

  // Image: height, width, colorspace 3 (RGB), PNG bytes that decode to the picture.
  const auto image_event = decode_message(records[3]);
  CHECK(fields_of(image_event, 2)[0].varint == 3);
  const auto image_value = decode_message(fields_of(decode_message(fields_of(image_event, 5)[0].bytes), 1)[0].bytes);
  CHECK(fields_of(image_value, 1)[0].bytes == "val_batch0_pred");
  const auto picture = decode_message(fields_of(image_value, 4)[0].bytes);
  CHECK(fields_of(picture, 1)[0].varint == 24);
  CHECK(fields_of(picture, 2)[0].varint == 40);
  CHECK(fields_of(picture, 3)[0].varint == 3);
  const std::string png = fields_of(picture, 4)[0].bytes;
  const cv::Mat decoded = cv::imdecode(std::vector<uchar>(png.begin(), png.end()), cv::IMREAD_COLOR);
  REQUIRE(decoded.rows == 24);
  CHECK(decoded.at<cv::Vec3b>(0, 0) == cv::Vec3b(255, 0, 0));
  CHECK(decoded.at<cv::Vec3b>(10, 10) == cv::Vec3b(0, 0, 255));

  // Graph: GraphDef.node[i].{name, op, input, attr}.
  const auto graph = decode_message(fields_of(decode_message(records[4]), 4)[0].bytes);
  const auto nodes = fields_of(graph, 1);
  REQUIRE(nodes.size() == 2);
  const auto conv = decode_message(nodes[1].bytes);
  CHECK(fields_of(conv, 1)[0].bytes == "model.0");
  CHECK(fields_of(conv, 2)[0].bytes == "Conv");
  CHECK(fields_of(conv, 3)[0].bytes == "images");
  const auto attrs = fields_of(conv, 5);
  REQUIRE(attrs.size() == 2);
  CHECK(fields_of(decode_message(attrs[0].bytes), 1)[0].bytes == "args");
  CHECK(fields_of(decode_message(fields_of(decode_message(attrs[0].bytes), 2)[0].bytes), 2)[0].bytes == "[16, 3, 2]");
  CHECK(fields_of(decode_message(attrs[1].bytes), 1)[0].bytes == "_output_shapes");
  fs::remove_all(dir);
}

TEST_CASE("TensorBoardWriter reports an unwriteable folder and a bad image", "[loggers][tensorboard]") {
  const auto dir = fresh_dir("errors");
  fs::create_directories(dir);
  std::ofstream(dir / "file") << "x";
  CHECK_THAT(yolo::test::error_of([&] { TensorBoardWriter((dir / "file" / "sub").string()); }),
             Catch::Matchers::ContainsSubstring("cannot create the TensorBoard event file"));
  TensorBoardWriter writer(dir.string());
  CHECK_THAT(yolo::test::error_of([&] { writer.add_image("x", cv::Mat(4, 4, CV_32FC1), 0); }),
             Catch::Matchers::ContainsSubstring("must be 8-bit"));
  fs::remove_all(dir);
}

TEST_CASE("model_graph joins yolov8n's layers as its YAML does", "[loggers][tensorboard]") {
  const auto nodes = model_graph(yolo::nn::load_model_spec("yolov8n.yaml"));
  REQUIRE(nodes.size() == 1 + 23);  // the input and 23 layers
  CHECK(nodes[1].name == "model.0");
  CHECK(nodes[1].op == "Conv");
  CHECK(nodes[1].inputs == std::vector<std::string>{"images"});
  CHECK(nodes[1].attrs.at("args") == "[64, 3, 2]");
  CHECK(nodes[12].op == "Concat");  // layer 11: [[-1, 6], 1, Concat, [1]]
  CHECK(nodes[12].inputs == std::vector<std::string>{"model.10", "model.6"});
  CHECK(nodes[23].op == "Detect");  // layer 22: [[15, 18, 21], 1, Detect, [nc]]
  CHECK(nodes[23].inputs == std::vector<std::string>{"model.15", "model.18", "model.21"});
  CHECK(nodes[23].attrs.at("args") == "[80]");
}
