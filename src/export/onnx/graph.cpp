#include "export/onnx/graph.h"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {

Attribute::Attribute(const std::string& name, int64_t value) {
  proto_.set_name(name);
  proto_.set_type(onnx::AttributeProto::INT);
  proto_.set_i(value);
}

Attribute::Attribute(const std::string& name, double value) {
  proto_.set_name(name);
  proto_.set_type(onnx::AttributeProto::FLOAT);
  proto_.set_f(static_cast<float>(value));
}

Attribute::Attribute(const std::string& name, std::initializer_list<int64_t> values)
    : Attribute(name, std::vector<int64_t>(values)) {}

Attribute::Attribute(const std::string& name, const std::vector<int64_t>& values) {
  proto_.set_name(name);
  proto_.set_type(onnx::AttributeProto::INTS);
  for (auto v : values) proto_.add_ints(v);
}

Attribute::Attribute(const std::string& name, const char* value) {
  proto_.set_name(name);
  proto_.set_type(onnx::AttributeProto::STRING);
  proto_.set_s(value);
}

int32_t onnx_element_type(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat:
      return onnx::TensorProto::FLOAT;
    case torch::kHalf:
      return onnx::TensorProto::FLOAT16;
    case torch::kLong:
      return onnx::TensorProto::INT64;
    default:
      YOLO_FAIL("ONNX export: no ONNX element type for the tensor type {}", c10::toString(type));
  }
}

Graph::Graph(onnx::GraphProto& proto, OnnxOptions options) : proto_(proto), options_(options) {}

std::string Graph::unique(const std::string& base) {
  const int count = used_names_[base]++;
  return count == 0 ? base : fmt::format("{}_{}", base, count);
}

std::string Graph::scope_path() const { return fmt::format("{}", fmt::join(scope_, ".")); }

void Graph::push_scope(const std::string& name) { scope_.push_back(name); }

void Graph::pop_scope() { scope_.pop_back(); }

std::vector<std::string> Graph::add(const std::string& op_type, const std::vector<std::string>& inputs,
                                    const std::vector<Attribute>& attributes, int outputs) {
  auto* node = proto_.add_node();
  // Node names as PyTorch's exporter writes them ("/model.2/cv1/conv/Conv"), so that a graph viewer
  // shows which module a node belongs to.
  const std::string name = unique(fmt::format("/{}/{}", fmt::join(scope_, "/"), op_type));
  node->set_name(name);
  node->set_op_type(op_type);
  for (const auto& input : inputs) node->add_input(input);
  for (const auto& attribute : attributes) *node->add_attribute() = attribute.proto();
  std::vector<std::string> names;
  for (int i = 0; i < outputs; ++i) {
    names.push_back(fmt::format("{}_output_{}", name, i));
    node->add_output(names.back());
  }
  return names;
}

std::string Graph::op(const std::string& op_type, const std::vector<std::string>& inputs,
                      const std::vector<Attribute>& attributes) {
  return add(op_type, inputs, attributes, 1).front();
}

std::string Graph::initializer(const std::string& name, const torch::Tensor& tensor) {
  const auto data = tensor.detach().to(torch::kCPU).contiguous();
  auto* proto = proto_.add_initializer();
  proto->set_name(name);
  proto->set_data_type(onnx_element_type(data.scalar_type()));
  for (auto d : data.sizes()) proto->add_dims(d);
  proto->set_raw_data(std::string(static_cast<const char*>(data.data_ptr()), data.nbytes()));  // little-endian, as ONNX
  return name;
}

std::string Graph::weight(const std::string& name, const torch::Tensor& tensor) {
  const std::string full = unique(scope_.empty() ? name : scope_path() + "." + name);
  return initializer(full, tensor.is_floating_point() ? tensor.to(float_type()) : tensor);
}

std::string Graph::float_constant(const std::string& name, const torch::Tensor& tensor) {
  return weight(name, tensor.to(float_type()));
}

std::string Graph::fp32_constant(const std::string& name, const torch::Tensor& tensor) {
  return initializer(unique(scope_.empty() ? name : scope_path() + "." + name), tensor.to(torch::kFloat));
}

std::string Graph::ints(const std::vector<int64_t>& values) {
  auto found = int_constants_.find(values);
  if (found != int_constants_.end()) return found->second;
  const auto name = initializer(unique(fmt::format("const_ints_{}", int_constants_.size())),
                                torch::tensor(values, torch::kLong));
  int_constants_.emplace(values, name);
  return name;
}

std::string Graph::scalar_int(int64_t value) {
  return initializer(unique(fmt::format("const_int_{}", value)), torch::tensor(value, torch::kLong));
}

}  // namespace exporter
YOLO_END_NAMESPACE
