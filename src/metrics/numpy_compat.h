#pragma once
// NumPy's arithmetic for the few routines Ultralytics' metrics use (linspace, interp, sum), so that our
// results agree with theirs to the last bits wherever the order of operations is ours to choose.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics::numpy {

inline std::vector<double> linspace01(int64_t num) {
  std::vector<double> x(static_cast<size_t>(num));
  const double step = 1.0 / static_cast<double>(num - 1);
  for (int64_t i = 0; i < num; ++i) x[i] = static_cast<double>(i) * step;
  x.back() = 1.0;
  return x;
}

// np.interp for one point: xp ascending (repeats allowed), the last xp <= x decides.
inline double interp(double x, const std::vector<double>& xp, const std::vector<double>& fp, double left,
                     double right) {
  const auto n = static_cast<int64_t>(xp.size());
  if (x < xp.front()) return left;
  if (x > xp.back()) return right;
  const auto j = static_cast<int64_t>(std::upper_bound(xp.begin(), xp.end(), x) - xp.begin()) - 1;
  if (j == n - 1 || xp[j] == x) return fp[j];
  const double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
  return slope * (x - xp[j]) + fp[j];
}

// NumPy's pairwise summation (eight accumulators in blocks of up to 128), used by sum() and mean().
inline double pairwise_sum(const double* a, int64_t n) {
  if (n < 8) {
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) s += a[i];
    return s;
  }
  if (n <= 128) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = a[k];
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int k = 0; k < 8; ++k) r[k] += a[i + k];
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) s += a[i];
    return s;
  }
  int64_t half = n / 2;
  half -= half % 8;
  return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
}

// np.add.reduce over a contiguous run: the first element starts the sum.
inline double sum(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  return v[0] + pairwise_sum(v.data() + 1, static_cast<int64_t>(v.size()) - 1);
}

inline double mean(const std::vector<double>& v) { return v.empty() ? 0.0 : sum(v) / static_cast<double>(v.size()); }

}  // namespace metrics::numpy
YOLO_END_NAMESPACE
