#pragma once
// What the validation plots are drawn from, kept in the run folder (val_state.json) so that `yolo plot DIR`
// redraws every picture of a run without the model or the dataset.
#include <string>
#include <vector>

#include "plots/plots.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace plots {

struct ValidationState {
  std::string task = "detect";  ///< "detect" (curves and a confusion matrix with background) or "classify"
  Curves curves;                ///< detection only
  Confusion confusion;
};

/// Writes `state` as JSON: {"task", "names", "ap50", "x", "precision", "recall", "f1", "pr", "confusion",
/// "background"}; curve values with 5 significant digits (the plots need no more).
void save_validation_state(const std::string& path, const ValidationState& state);
/// Reads what save_validation_state wrote; a missing or malformed file is an error naming it and the key.
ValidationState load_validation_state(const std::string& path);

/// Draws the validation plots of `state` into `dir`: detect — confusion_matrix.png,
/// confusion_matrix_normalized.png, BoxPR_curve.png, BoxF1_curve.png, BoxP_curve.png, BoxR_curve.png;
/// classify — the two confusion matrices. Returns the files written.
std::vector<std::string> plot_validation(const ValidationState& state, const std::string& dir);

/// `yolo plot DIR`: results.png from DIR/results.csv and the validation plots from DIR/val_state.json (each when
/// its file exists; neither is an error). Returns the files written.
std::vector<std::string> redraw_run_plots(const std::string& dir);

}  // namespace plots
YOLO_END_NAMESPACE
