#include "utils/boxes.h"

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace boxes {

using torch::indexing::Slice;

torch::Tensor xywh2xyxy(const torch::Tensor& xywh) {
  auto xy = xywh.narrow(-1, 0, 2);
  auto half = xywh.narrow(-1, 2, 2) / 2;
  return torch::cat({xy - half, xy + half}, -1);
}

torch::Tensor xyxy2xywh(const torch::Tensor& xyxy) {
  auto p1 = xyxy.narrow(-1, 0, 2);
  auto p2 = xyxy.narrow(-1, 2, 2);
  return torch::cat({(p1 + p2) / 2, p2 - p1}, -1);
}

torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b, double eps) {
  auto a1 = a.unsqueeze(1).narrow(-1, 0, 2), a2 = a.unsqueeze(1).narrow(-1, 2, 2);
  auto b1 = b.unsqueeze(0).narrow(-1, 0, 2), b2 = b.unsqueeze(0).narrow(-1, 2, 2);
  auto inter = (torch::min(a2, b2) - torch::max(a1, b1)).clamp_min(0).prod(-1);
  auto area_a = (a2 - a1).prod(-1), area_b = (b2 - b1).prod(-1);
  return inter / (area_a + area_b - inter + eps);
}

std::pair<torch::Tensor, torch::Tensor> make_anchors(const std::vector<torch::Tensor>& feats,
                                                     const std::vector<double>& strides, double offset) {
  TORCH_CHECK(feats.size() == strides.size(), "make_anchors: one stride per feature map");
  std::vector<torch::Tensor> points, stride_list;
  for (size_t i = 0; i < feats.size(); ++i) {
    const auto h = feats[i].size(2), w = feats[i].size(3);
    auto opts = torch::TensorOptions().dtype(feats[i].scalar_type()).device(feats[i].device());
    auto sx = torch::arange(w, opts) + offset;
    auto sy = torch::arange(h, opts) + offset;
    auto grid = torch::meshgrid({sy, sx}, "ij");
    points.push_back(torch::stack({grid[1], grid[0]}, -1).view({-1, 2}));
    stride_list.push_back(torch::full({h * w, 1}, strides[i], opts));
  }
  return {torch::cat(points), torch::cat(stride_list)};
}

torch::Tensor dist2bbox(const torch::Tensor& distance, const torch::Tensor& anchor_points, bool xywh, int64_t dim) {
  auto lt_rb = distance.chunk(2, dim);
  auto x1y1 = anchor_points - lt_rb[0];
  auto x2y2 = anchor_points + lt_rb[1];
  if (xywh) return torch::cat({(x1y1 + x2y2) / 2, x2y2 - x1y1}, dim);
  return torch::cat({x1y1, x2y2}, dim);
}

torch::Tensor bbox2dist(const torch::Tensor& anchor_points, const torch::Tensor& bbox, double reg_max) {
  auto x1y1 = bbox.narrow(-1, 0, 2), x2y2 = bbox.narrow(-1, 2, 2);
  return torch::cat({anchor_points - x1y1, x2y2 - anchor_points}, -1).clamp_(0, reg_max - 0.01);
}

}  // namespace boxes
YOLO_END_NAMESPACE
