/** @file
 * Weight initializers with the TF.js names and defaults, seedable.
 *
 * fanIn = rows, fanOut = columns of a 2-D weight.
 *
 * | kind                           | values                                                     |
 * |--------------------------------|------------------------------------------------------------|
 * | `zeros`, `ones`, `constant`    | 0, 1, `value`                                              |
 * | `randomUniform`                | U(minval, maxval), default U(−0.05, 0.05)                  |
 * | `randomNormal`                 | N(mean, stddev), default N(0, 0.05)                        |
 * | `truncatedNormal`              | N(mean, stddev) redrawn beyond 2·stddev                    |
 * | `glorotUniform`/`glorotNormal` | U(±√(6/(fanIn+fanOut))) / trunc. N(0, √(2/(fanIn+fanOut))) |
 * | `heUniform` / `heNormal`       | U(±√(6/fanIn)) / truncated N(0, √(2/fanIn))                |
 * | `lecunUniform`/`lecunNormal`   | U(±√(3/fanIn)) / truncated N(0, √(1/fanIn))                |
 * | `orthogonal`                   | `gain` · Q of the QR of a normal matrix (sign-corrected)   |
 * | `identity`                     | `gain` · I (2-D square only)                               |
 *
 * As in TF.js, the "normal" variance-scaling initializers draw from a truncated normal with the
 * stated standard deviation. Random streams differ from TF.js's (another generator); the
 * distributions are the same.
 */
#ifndef RECURRENT_INITIALIZERS_HPP
#define RECURRENT_INITIALIZERS_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/random.hpp>
#include <recurrent/types.hpp>

#include <Eigen/QR>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace recurrent {

enum class InitializerKind {
  Zeros,
  Ones,
  Constant,
  RandomUniform,
  RandomNormal,
  TruncatedNormal,
  GlorotUniform,
  GlorotNormal,
  HeUniform,
  HeNormal,
  LecunUniform,
  LecunNormal,
  Orthogonal,
  Identity,
};

/// An initializer: kind, parameters and an optional seed (unseeded ones draw a default seed).
struct Initializer {
  InitializerKind kind = InitializerKind::Zeros;
  double value = 0.0;                    ///< constant
  double minval = -0.05, maxval = 0.05;  ///< randomUniform
  double mean = 0.0, stddev = 0.05;      ///< randomNormal, truncatedNormal
  double gain = 1.0;                     ///< orthogonal, identity
  std::optional<std::uint64_t> seed;     ///< fixed seed for reproducible weights

  Initializer() = default;
  Initializer(InitializerKind k) : kind(k) {}  // NOLINT: implicit from kind

  static Initializer zeros() { return {InitializerKind::Zeros}; }
  static Initializer ones() { return {InitializerKind::Ones}; }
  static Initializer constant(double v) {
    Initializer i{InitializerKind::Constant};
    i.value = v;
    return i;
  }
  static Initializer glorotUniform(std::optional<std::uint64_t> s = {}) {
    return seeded(InitializerKind::GlorotUniform, s);
  }
  static Initializer glorotNormal(std::optional<std::uint64_t> s = {}) {
    return seeded(InitializerKind::GlorotNormal, s);
  }
  static Initializer orthogonal(double g = 1.0, std::optional<std::uint64_t> s = {}) {
    Initializer i = seeded(InitializerKind::Orthogonal, s);
    i.gain = g;
    return i;
  }

  /// Parses a TF.js initializer identifier (`"glorotNormal"`, `"orthogonal"`, `"zeros"`, ...).
  /// Keras snake_case names (`"glorot_uniform"`) are accepted too.
  static Initializer fromName(std::string_view name);

  /// Fills `w`. `oneDimensional`: `w` (`[1, n]`) stands for a TF.js 1-D weight `[n]` (a bias),
  /// whose fans are both √n as in TF.js `computeFans`; otherwise fanIn = rows, fanOut = cols.
  template <class MatrixType>
  void fill(MatrixType& w, bool oneDimensional = false) const;

 private:
  static Initializer seeded(InitializerKind k, std::optional<std::uint64_t> s) {
    Initializer i{k};
    i.seed = s;
    return i;
  }
};

// ---------------------------------------------------------------------------------------------
// implementation
// ---------------------------------------------------------------------------------------------

inline Initializer Initializer::fromName(std::string_view name) {
  struct Entry {
    const char* camel;
    const char* snake;
    InitializerKind kind;
  };
  static const Entry kTable[] = {
      {"zeros", "zeros", InitializerKind::Zeros},
      {"ones", "ones", InitializerKind::Ones},
      {"constant", "constant", InitializerKind::Constant},
      {"randomUniform", "random_uniform", InitializerKind::RandomUniform},
      {"randomNormal", "random_normal", InitializerKind::RandomNormal},
      {"truncatedNormal", "truncated_normal", InitializerKind::TruncatedNormal},
      {"glorotUniform", "glorot_uniform", InitializerKind::GlorotUniform},
      {"glorotNormal", "glorot_normal", InitializerKind::GlorotNormal},
      {"heUniform", "he_uniform", InitializerKind::HeUniform},
      {"heNormal", "he_normal", InitializerKind::HeNormal},
      {"lecunUniform", "lecun_uniform", InitializerKind::LecunUniform},
      {"lecunNormal", "lecun_normal", InitializerKind::LecunNormal},
      {"orthogonal", "orthogonal", InitializerKind::Orthogonal},
      {"identity", "identity", InitializerKind::Identity},
  };
  for (const Entry& e : kTable) {
    if (name == e.camel || name == e.snake) return Initializer(e.kind);
  }
  detail::raise<ConfigError>("Initializer.fromName", "Unknown initializer: " + std::string(name));
}

template <class MatrixType>
void Initializer::fill(MatrixType& w, bool oneDimensional) const {
  using Scalar = typename MatrixType::Scalar;
  RandomEngine rng(seed ? *seed : RandomEngine::nextDefaultSeed());
  const double fanIn =
      oneDimensional ? std::sqrt(static_cast<double>(w.size())) : static_cast<double>(w.rows());
  const double fanOut = oneDimensional ? fanIn : static_cast<double>(w.cols());
  auto uniformFill = [&](double lo, double hi) {
    for (Index i = 0; i < w.size(); ++i) w.data()[i] = static_cast<Scalar>(rng.uniform(lo, hi));
  };
  auto truncatedFill = [&](double m, double sd) {
    for (Index i = 0; i < w.size(); ++i) {
      double v = 0.0;
      do v = rng.normal();
      while (std::abs(v) > 2.0);
      w.data()[i] = static_cast<Scalar>(m + sd * v);
    }
  };
  switch (kind) {
    case InitializerKind::Zeros:
      w.setZero();
      return;
    case InitializerKind::Ones:
      w.setOnes();
      return;
    case InitializerKind::Constant:
      w.setConstant(static_cast<Scalar>(value));
      return;
    case InitializerKind::RandomUniform:
      uniformFill(minval, maxval);
      return;
    case InitializerKind::RandomNormal:
      for (Index i = 0; i < w.size(); ++i)
        w.data()[i] = static_cast<Scalar>(rng.normal(mean, stddev));
      return;
    case InitializerKind::TruncatedNormal:
      truncatedFill(mean, stddev);
      return;
    case InitializerKind::GlorotUniform: {
      const double limit = std::sqrt(6.0 / (fanIn + fanOut));
      uniformFill(-limit, limit);
      return;
    }
    case InitializerKind::GlorotNormal:
      truncatedFill(0.0, std::sqrt(2.0 / (fanIn + fanOut)));
      return;
    case InitializerKind::HeUniform: {
      const double limit = std::sqrt(6.0 / fanIn);
      uniformFill(-limit, limit);
      return;
    }
    case InitializerKind::HeNormal:
      truncatedFill(0.0, std::sqrt(2.0 / fanIn));
      return;
    case InitializerKind::LecunUniform: {
      const double limit = std::sqrt(3.0 / fanIn);
      uniformFill(-limit, limit);
      return;
    }
    case InitializerKind::LecunNormal:
      truncatedFill(0.0, std::sqrt(1.0 / fanIn));
      return;
    case InitializerKind::Orthogonal: {
      // QR of a normal matrix with at least as many rows as columns, as TF.js/Keras do.
      const Index rows = w.rows(), cols = w.cols();
      const bool transpose = rows < cols;
      const Index r = transpose ? cols : rows, c = transpose ? rows : cols;
      Eigen::MatrixXd a(r, c);
      for (Index i = 0; i < a.size(); ++i) a.data()[i] = rng.normal();
      Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
      Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(r, c);
      const Eigen::MatrixXd rr = qr.matrixQR();
      for (Index j = 0; j < c; ++j)
        if (rr(j, j) < 0) q.col(j) = -q.col(j);
      if (transpose) q.transposeInPlace();
      w = (gain * q).cast<Scalar>();
      return;
    }
    case InitializerKind::Identity:
      if (w.rows() != w.cols())
        detail::raise<ConfigError>(
            "Initializer.identity",
            "identity needs a square weight, got " + detail::shapeString({w.rows(), w.cols()}));
      w.setIdentity();
      w *= static_cast<Scalar>(gain);
      return;
  }
}

}  // namespace recurrent

#endif  // RECURRENT_INITIALIZERS_HPP
