#pragma once
// A small writer of ONNX graphs: nodes named after the module that emits them, weights as initializers
// in the graph's float type, and integer constants. The emitters (emitters.h) write through it.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "export/onnx/libonnx.h"
#include "export/onnx_export.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {

/// One node attribute, written as ONNX stores it (INT, FLOAT, INTS or STRING).
class Attribute {
 public:
  Attribute(const std::string& name, int64_t value);
  Attribute(const std::string& name, int value) : Attribute(name, static_cast<int64_t>(value)) {}
  Attribute(const std::string& name, double value);
  Attribute(const std::string& name, std::initializer_list<int64_t> values);
  Attribute(const std::string& name, const std::vector<int64_t>& values);
  Attribute(const std::string& name, const char* value);

  const onnx::AttributeProto& proto() const { return proto_; }

 private:
  onnx::AttributeProto proto_;
};

class Graph {
 public:
  Graph(onnx::GraphProto& proto, OnnxOptions options);

  const OnnxOptions& options() const { return options_; }
  int64_t opset() const { return options_.opset; }
  /// kFloat, or kHalf for half=True.
  torch::ScalarType float_type() const { return options_.half ? torch::kHalf : torch::kFloat; }

  /// Adds a node of `op_type`; returns the names of its `outputs` outputs.
  std::vector<std::string> add(const std::string& op_type, const std::vector<std::string>& inputs,
                               const std::vector<Attribute>& attributes, int outputs);
  /// Adds a node with one output and returns its name.
  std::string op(const std::string& op_type, const std::vector<std::string>& inputs,
                 const std::vector<Attribute>& attributes = {});

  /// A module's parameter as an initializer named after the current scope ("model.2.cv1.conv.weight");
  /// floating tensors are stored in the graph's float type.
  std::string weight(const std::string& name, const torch::Tensor& tensor);
  /// A constant tensor (anchor points, strides, DFL bins) in the graph's float type.
  std::string float_constant(const std::string& name, const torch::Tensor& tensor);
  /// A constant tensor in fp32 whatever the graph's type, for inputs ONNX defines as float (Resize scales).
  std::string fp32_constant(const std::string& name, const torch::Tensor& tensor);
  /// A 1-D int64 constant (shapes, split sizes, axes, indices); equal values share one initializer.
  std::string ints(const std::vector<int64_t>& values);
  /// A 0-D int64 constant.
  std::string scalar_int(int64_t value);

  /// Scopes name nodes and weights after the module being written; push/pop in pairs (ScopedName does).
  void push_scope(const std::string& name);
  void pop_scope();
  /// "model.2.cv1"
  std::string scope_path() const;

 private:
  std::string initializer(const std::string& name, const torch::Tensor& tensor);
  std::string unique(const std::string& base);

  onnx::GraphProto& proto_;
  OnnxOptions options_;
  std::vector<std::string> scope_;
  std::unordered_map<std::string, int> used_names_;
  std::map<std::vector<int64_t>, std::string> int_constants_;
};

/// Pushes a scope for the lifetime of the object.
class ScopedName {
 public:
  ScopedName(Graph& graph, const std::string& name) : graph_(graph) { graph_.push_scope(name); }
  ~ScopedName() { graph_.pop_scope(); }
  ScopedName(const ScopedName&) = delete;
  ScopedName& operator=(const ScopedName&) = delete;

 private:
  Graph& graph_;
};

/// The ONNX element type of a LibTorch dtype (FLOAT, FLOAT16, INT64).
int32_t onnx_element_type(torch::ScalarType type);

}  // namespace exporter
YOLO_END_NAMESPACE
