// Test support: deterministic pseudo-random test data (same values on every platform).
#ifndef RECURRENT_TESTS_SUPPORT_RANDOM_DATA_HPP
#define RECURRENT_TESTS_SUPPORT_RANDOM_DATA_HPP

#include <recurrent/types.hpp>

#include <cstdint>

namespace recurrent_test {

/// 64-bit linear congruential generator (Knuth's MMIX constants).
struct Lcg {
  std::uint64_t s;
  explicit Lcg(std::uint64_t seed) : s(seed) {}
  /// Uniform in [0, 1).
  double unit() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0;
  }
  /// Uniform in [-1, 1).
  double next() { return unit() * 2.0 - 1.0; }
};

/// `[b, t, f]` with values uniform in [lo, hi).
template <class S>
recurrent::Sequence<S> randomSequence(recurrent::Index b, recurrent::Index t, recurrent::Index f,
                                      Lcg& g, double lo = -1.0, double hi = 1.0) {
  recurrent::Sequence<S> x(b, t, f);
  for (recurrent::Index i = 0; i < x.size(); ++i)
    x.data()[i] = static_cast<S>(lo + (hi - lo) * g.unit());
  return x;
}
template <class S>
recurrent::Sequence<S> randomSequence(recurrent::Index b, recurrent::Index t, recurrent::Index f,
                                      std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Lcg g(seed);
  return randomSequence<S>(b, t, f, g, lo, hi);
}

/// `[r, c]` with values uniform in [-1, 1).
template <class S>
recurrent::Matrix<S> randomMatrix(recurrent::Index r, recurrent::Index c, Lcg& g) {
  recurrent::Matrix<S> m(r, c);
  for (recurrent::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<S>(g.next());
  return m;
}
template <class S>
recurrent::Matrix<S> randomMatrix(recurrent::Index r, recurrent::Index c, std::uint64_t seed) {
  Lcg g(seed);
  return randomMatrix<S>(r, c, g);
}

}  // namespace recurrent_test

#endif  // RECURRENT_TESTS_SUPPORT_RANDOM_DATA_HPP
