#pragma once
// A counter-based random generator: every draw of the pipeline derives from (seed, epoch, sample),
// so batches do not depend on how many threads produced them or in which order.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// SplitMix64 stream keyed by up to three integers. Satisfies UniformRandomBitGenerator.
class Rng {
 public:
  using result_type = uint64_t;
  explicit Rng(uint64_t seed, uint64_t epoch = 0, uint64_t index = 0)
      : state_(mix(mix(mix(seed) ^ (epoch + 0x632BE59BD9B4E019ull)) ^ (index + 0x9E3779B97F4A7C15ull))) {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<uint64_t>::max(); }
  result_type operator()() { return mix(state_ += 0x9E3779B97F4A7C15ull); }

  /// Uniform in [lo, hi).
  double uniform(double lo = 0.0, double hi = 1.0) {
    return lo + (hi - lo) * static_cast<double>((*this)() >> 11) * (1.0 / 9007199254740992.0);
  }
  /// Uniform integer in [lo, hi], inclusive.
  int64_t randint(int64_t lo, int64_t hi) {
    const auto span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>((*this)() % span);
  }
  /// True with probability p.
  bool chance(double p) { return p > 0 && uniform() < p; }
  /// Beta(a, b) from two gamma draws (MixUp's blend ratio).
  double beta(double a, double b) {
    const double x = gamma(a), y = gamma(b);
    return x / (x + y);
  }

 private:
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Marsaglia-Tsang for a >= 1, spelled out so the result does not depend on the standard library.
  double gamma(double a) {
    const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    while (true) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const double u = uniform();
      if (u < 1 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
    }
  }
  double normal() {  // Box-Muller
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  uint64_t state_;
};

}  // namespace data
YOLO_END_NAMESPACE
