#include "loss/iou.h"

#include <cmath>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loss {

torch::Tensor bbox_iou(const torch::Tensor& a, const torch::Tensor& b, IouType type, double eps) {
  YOLO_CHECK(a.size(-1) == 4 && b.size(-1) == 4, "bbox_iou: boxes must end in 4 xyxy coordinates, got {} and {}",
             a.size(-1), b.size(-1));
  const auto ac = a.chunk(4, -1), bc = b.chunk(4, -1);
  const auto &ax1 = ac[0], &ay1 = ac[1], &ax2 = ac[2], &ay2 = ac[3];
  const auto &bx1 = bc[0], &by1 = bc[1], &bx2 = bc[2], &by2 = bc[3];
  // eps on the heights keeps the aspect ratio w / h finite for degenerate boxes.
  const auto aw = ax2 - ax1, ah = ay2 - ay1 + eps;
  const auto bw = bx2 - bx1, bh = by2 - by1 + eps;

  const auto inter = (torch::min(ax2, bx2) - torch::max(ax1, bx1)).clamp_min(0) *
                     (torch::min(ay2, by2) - torch::max(ay1, by1)).clamp_min(0);
  const auto union_area = aw * ah + bw * bh - inter + eps;
  const auto iou = inter / union_area;
  if (type == IouType::IoU) return iou;

  // The smallest box enclosing both.
  const auto enclosing_w = torch::max(ax2, bx2) - torch::min(ax1, bx1);
  const auto enclosing_h = torch::max(ay2, by2) - torch::min(ay1, by1);
  if (type == IouType::GIoU) {
    const auto enclosing_area = enclosing_w * enclosing_h + eps;
    return iou - (enclosing_area - union_area) / enclosing_area;
  }

  const auto diagonal_sq = enclosing_w.pow(2) + enclosing_h.pow(2) + eps;
  // Squared distance between the centres: each sum of two edges is twice a centre coordinate.
  const auto centre_dist_sq = ((bx1 + bx2 - ax1 - ax2).pow(2) + (by1 + by2 - ay1 - ay2).pow(2)) / 4;
  if (type == IouType::DIoU) return iou - centre_dist_sq / diagonal_sq;

  const auto aspect_term = (4 / (M_PI * M_PI)) * (torch::atan(bw / bh) - torch::atan(aw / ah)).pow(2);
  torch::Tensor trade_off;
  {
    // The CIoU paper's trade-off weight is not differentiated through.
    torch::NoGradGuard no_grad;
    trade_off = aspect_term / (aspect_term - iou + (1 + eps));
  }
  return iou - (centre_dist_sq / diagonal_sq + aspect_term * trade_off);
}

}  // namespace loss
YOLO_END_NAMESPACE
