#pragma once
// The plots' plain inputs from the validator's tensors, loaded batches and datasets: the one place where
// plotting meets LibTorch.
#include <string>
#include <vector>

#include "plots/mosaic.h"
#include "plots/plots.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {
struct Batch;
class Dataset;
}  // namespace data

namespace metrics {
struct ApPerClass;
class ConfusionMatrix;
}  // namespace metrics

namespace plots {

/// Curves of ap_per_class's result; `names` are all class names by id (those with labels are picked).
Curves curves_from(const metrics::ApPerClass& ap, const std::vector<std::string>& names);
/// Counts of a confusion matrix: detection's [nc+1, nc+1] (background last) or classification's [nc, nc].
Confusion confusion_from(const metrics::ConfusionMatrix& matrix, const std::vector<std::string>& names);

/// A loaded batch as mosaic tiles, at most `max_tiles`: each image (RGB uint8 CHW to BGR) with its label boxes in
/// the batch's pixels (detection) or its class (classification), captioned with its file name.
std::vector<MosaicTile> batch_tiles(const data::Batch& batch, size_t max_tiles = 16);
/// labels.jpg's input: every box of a detection dataset; empty for any other dataset.
std::vector<LabelBox> dataset_labels(const data::Dataset& dataset);

}  // namespace plots
YOLO_END_NAMESPACE
