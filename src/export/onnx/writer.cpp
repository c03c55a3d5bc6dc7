// A network's graph (its emitter writes it; a YoloModel's walks its layers), its input, output and
// metadata, ONNX's checks, and the file.
#include <filesystem>
#include <fstream>
#include <variant>

#include "export/onnx/emitters.h"
#include "export/onnx/graph.h"
#include "export/onnx/libonnx.h"
#include "export/onnx_export.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {
namespace {

namespace fs = std::filesystem;

using Dimension = std::variant<int64_t, std::string>;  // a size, or a symbolic name ("batch")

/// The lowest IR version that may declare `opset` (ONNX's versioning table), for the widest reach.
int64_t ir_version_for(int64_t opset) { return opset <= 14 ? 7 : opset <= 18 ? 8 : 9; }

void describe_value(onnx::ValueInfoProto& value, const std::string& name, int32_t element_type,
                    const std::vector<Dimension>& dims) {
  value.set_name(name);
  auto* tensor = value.mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(element_type);
  auto* shape = tensor->mutable_shape();
  for (const auto& d : dims) {
    auto* dim = shape->add_dim();
    if (const auto* size = std::get_if<int64_t>(&d))
      dim->set_dim_value(*size);
    else
      dim->set_dim_param(std::get<std::string>(d));
  }
}

/// Renames the value `from` (the head's output) to `to` wherever it appears.
void rename_value(onnx::GraphProto& graph, const std::string& from, const std::string& to) {
  for (auto& node : *graph.mutable_node()) {
    for (auto& input : *node.mutable_input())
      if (input == from) input = to;
    for (auto& output : *node.mutable_output())
      if (output == from) output = to;
  }
}

void check_model(onnx::ModelProto& model, const std::string& what) {
  try {
    // Checked on a copy, so that the file keeps only what the exporter wrote. An ONNX library older than
    // the opset (Debian 12's 1.12 knows IR 8 and opset 17) checks against the newest rules it has; the
    // tests check every opset again with the current ONNX release.
    onnx::ModelProto inferred = model;
    if (inferred.ir_version() > onnx::IR_VERSION) inferred.set_ir_version(onnx::IR_VERSION);
    onnx::checker::check_model(inferred);
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*strict_mode=*/1,
                                                                   /*data_prop=*/true));
    // The declared output shape must be what inference derives from the graph.
    const auto& declared = model.graph().output(0).type().tensor_type().shape();
    for (const auto& value : inferred.graph().output()) {
      const auto& shape = value.type().tensor_type().shape();
      YOLO_CHECK(shape.dim_size() == declared.dim_size(), "{}: inferred output rank {} differs from the declared {}",
                 what, shape.dim_size(), declared.dim_size());
      for (int i = 0; i < shape.dim_size(); ++i) {
        const auto& got = shape.dim(i);
        const auto& want = declared.dim(i);
        if (want.has_dim_value())
          YOLO_CHECK(got.has_dim_value() && got.dim_value() == want.dim_value(),
                     "{}: inferred output dimension {} is {}, declared {}", what, i,
                     got.has_dim_value() ? std::to_string(got.dim_value()) : got.dim_param(), want.dim_value());
      }
    }
  } catch (const yolo::Error&) {
    throw;
  } catch (const std::exception& e) {
    YOLO_FAIL("{} fails ONNX {}'s checks: {}", what, onnx_library_version(), e.what());
  }
}

}  // namespace

std::string onnx_library_version() { return onnx::LAST_RELEASE_VERSION; }

void write_onnx(const torch::nn::Module& network, const NetworkInfo& info, const OnnxOptions& options,
                const Metadata& metadata, const std::string& path) {
  onnx::ModelProto proto;
  proto.set_ir_version(ir_version_for(options.opset));
  proto.set_producer_name("yolocpp");
  proto.set_producer_version(YOLO_VERSION_STRING);
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  for (const auto& [key, value] : metadata) {
    auto* prop = proto.add_metadata_props();
    prop->set_key(key);
    prop->set_value(value);
  }

  auto& graph_proto = *proto.mutable_graph();
  graph_proto.set_name("main_graph");
  Graph graph(graph_proto, options);
  const auto element_type = onnx_element_type(graph.float_type());
  auto dim = [&](int64_t size, const char* symbol) -> Dimension {
    return options.dynamic ? Dimension(std::string(symbol)) : Dimension(size);
  };
  describe_value(*graph_proto.add_input(), "images", element_type,
                 {dim(options.batch, "batch"), info.in_channels, dim(options.height, "height"),
                  dim(options.width, "width")});

  auto output = emit(graph, network, {"images"});
  std::vector<Dimension> output_dims;
  if (info.task == "classify") {
    output = graph.op("Softmax", {output}, {{"axis", 1}});  // probabilities, as the models' inference forward
    output_dims = {dim(options.batch, "batch"), info.nc};
  } else {
    int64_t anchors = 0;
    for (auto stride : info.strides) {
      const auto s = static_cast<int64_t>(stride);
      anchors += (options.height / s) * (options.width / s);
    }
    output_dims = {dim(options.batch, "batch"), 4 + info.nc, dim(anchors, "anchors")};
  }
  rename_value(graph_proto, output, "output0");
  describe_value(*graph_proto.add_output(), "output0", element_type, output_dims);

  check_model(proto, fmt::format("the ONNX graph of {}", info.source));

  // Written to a temporary file and renamed, so that a failed write never leaves half a model.
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    YOLO_CHECK(out, "cannot write {}: check that the folder exists and is writable", temporary);
    YOLO_CHECK(proto.SerializeToOstream(&out) && out.flush(), "writing {} failed (disk full?)", temporary);
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  YOLO_CHECK(!error, "cannot rename {} to {}: {}", temporary, path, error.message());
}

void check_onnx_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  YOLO_CHECK(in, "{}: cannot open the file", path);
  onnx::ModelProto proto;
  YOLO_CHECK(proto.ParseFromIstream(&in), "{}: not an ONNX model (the protobuf does not parse)", path);
  YOLO_CHECK(proto.graph().output_size() > 0, "{}: the graph has no output", path);
  check_model(proto, path);
}

}  // namespace exporter
YOLO_END_NAMESPACE
