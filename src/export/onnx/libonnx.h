#pragma once
// ONNX's headers (libonnx-dev): the generated protobuf classes, the checker and shape inference, with
// the macros ONNX's own CMake package would set, so that no compile definition reaches the other sources.
// Include ONNX only through this header.
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/checker.h>
#include <onnx/common/version.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
