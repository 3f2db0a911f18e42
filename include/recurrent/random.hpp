/** @file
 * `RandomEngine`: the seedable generator shared by initializers and dropout.
 *
 * Built on `std::mt19937_64`, whose output sequence the C++ standard fixes, with the uniform and
 * normal transforms written here (the standard distributions are implementation-defined), so a
 * seed gives the same weights and dropout masks with every compiler and standard library.
 */
#ifndef RECURRENT_RANDOM_HPP
#define RECURRENT_RANDOM_HPP

#include <recurrent/config.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <random>

namespace recurrent {

/// Deterministic pseudo-random engine (uniform [0, 1), standard normal).
class RandomEngine {
 public:
  explicit RandomEngine(std::uint64_t seed = nextDefaultSeed()) : engine_(seed) {}

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal (Box–Muller, both values used).
  double normal() {
    if (hasSpare_) {
      hasSpare_ = false;
      return spare_;
    }
    double u1 = 0.0;
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586476925286766559 * u2;
    spare_ = radius * std::sin(angle);
    hasSpare_ = true;
    return radius * std::cos(angle);
  }
  /// Normal with the given mean and standard deviation.
  double normal(double mean, double stddev) { return mean + stddev * normal(); }

  /// Seeds for objects built without an explicit seed: distinct, and the same sequence in every
  /// run of a program (so unseeded code is still reproducible).
  static std::uint64_t nextDefaultSeed() {
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t z = 0x9E3779B97F4A7C15ULL * (counter.fetch_add(1) + 1);  // splitmix64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool hasSpare_ = false;
};

}  // namespace recurrent

#endif  // RECURRENT_RANDOM_HPP
