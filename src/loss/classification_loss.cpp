#include "loss/classification_loss.h"

#include <fmt/ranges.h>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loss {

torch::Tensor classification_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  YOLO_CHECK(logits.dim() == 2 && labels.dim() == 1 && logits.size(0) == labels.size(0),
             "classification loss: logits [B, nc] and labels [B] expected, got [{}] and [{}]",
             fmt::join(logits.sizes(), ", "), fmt::join(labels.sizes(), ", "));
  return torch::nn::functional::cross_entropy(logits.to(torch::kFloat32), labels.to(logits.device(), torch::kLong));
}

}  // namespace loss
YOLO_END_NAMESPACE
