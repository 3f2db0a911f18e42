/** @file
 * Losses of TF.js 4.22 (`tfjs-layers/src/losses.ts`, plus tfjs-core's `tf.losses.huberLoss`),
 * forward and backward, exactly as TF.js computes them.
 *
 * A loss maps `yTrue`, `yPred` of shape `[..., C]` to one value per row (the last axis
 * reduced): `[N, C] -> [N]`, `[N, T, C] -> [N, T]` (`outputShape`). `compute` is TF.js's
 * `lossFn(yTrue, yPred)`; `backward` is `∂(Σ dOut ⊙ lossFn(yTrue, yPred)) / ∂yPred` as TF.js's
 * autodiff computes it (tfjs-core `src/gradients/<Op>_grad.ts`), kinks included.
 *
 * With ε = 1e-7 (`epsilon()`), `clip(x, a, b)` = `clipByValue`, `mean`/`Σ` over the last axis
 * (n = C):
 *
 * - `meanSquaredError`: mean((p − y)²)
 * - `meanAbsoluteError`: mean(abs(p − y))
 * - `meanAbsolutePercentageError`: 100 · mean(abs((y − p) / clip(abs(y), ε, MAX)))
 * - `meanSquaredLogarithmicError`: mean((log(1 + clip(p, ε, MAX)) − log(1 + clip(y, ε, MAX)))²)
 * - `binaryCrossentropy`: q = clip(p, ε, 1 − ε), z = log(q / (1 − q));
 *   mean(relu(z) − z·y + log1p(exp(−abs(z))))
 * - `categoricalCrossentropy`: q = clip(p / Σp, ε, 1 − ε); −Σ y · log(q)
 * - `sparseCategoricalCrossentropy`: categoricalCrossentropy(oneHot(floor(y)), clip(p, ε, 1 − ε))
 * - `hinge`: mean(maximum(0, 1 − y·p))
 * - `squaredHinge`: mean(maximum(0, 1 − y·p)²)
 * - `categoricalHinge`: maximum(0, 1 + max((1 − y)·p) − Σ y·p)
 * - `logcosh`: mean(d + softplus(−2d) − log 2), d = p − y
 * - `kullbackLeiblerDivergence`: Σ y · log(clip(y, ε, 1) / clip(p, ε, 1))
 * - `poisson`: mean(p − y · log(ε + p))
 * - `cosineProximity`: −Σ l2Normalize(y) · l2Normalize(p),
 *   l2Normalize(x) = x / sqrt(maximum(Σx², ε))
 * - `huberLoss` (tfjs-core `tf.losses`, see below): (Σ over all elements of h) / element count,
 *   h = ½·min(e, δ)² + δ·(e − min(e, δ)), e = abs(p − y), δ = 1
 *
 * Derivatives at the kinks are TF.js's (`docs/training.md`): `clipByValue` passes the gradient
 * where `a ≤ x ≤ b` (bounds included); `abs'(0) = −1`; `relu'(0) = 0`; `maximum(0, x)` sends
 * nothing to x at x = 0; `minimum(e, δ)` sends the gradient to e at e = δ; `max` over a row
 * sends it to every tied maximum; `floor` has none (labels get no gradient). The gradient of
 * `categoricalCrossentropy` flows through the `p / Σp` normalisation.
 *
 * Names (`fromName`): exactly the keys of tfjs-layers' `lossesMap`, the only strings
 * `model.compile({loss})` accepts. TF.js 4.22 exports `mse`, `MAE`, `kld`, ... from `losses.ts`
 * but does not put them in that map: `compile({loss: 'mse'})` throws `Unknown loss mse`, and so
 * does `fromName("mse")`. The error texts are TF.js's.
 *
 * `HuberLoss` is not a tfjs-layers loss: `compile({loss: 'huberLoss'})` throws. A TF.js model
 * compiled with the function `(y, p) => tf.losses.huberLoss(y, p)` (delta 1, reduction
 * `SUM_BY_NONZERO_WEIGHTS`, no weights) gets that function's **scalar** (the mean over every
 * element of the batch) as its "per-sample" loss: this kind reproduces that, so its
 * `outputShape` is `[]` (rank 0), whatever the prediction's shape, and `fromName("huberLoss")`
 * refuses the name as TF.js does (construct it with `Loss(LossKind::HuberLoss)` or
 * `Loss::huber(delta)`).
 *
 * `check` is ours (TF.js checks only a few target shapes in `fit`): targets must have the
 * prediction's shape, sparse labels `[..., 1]` or `[...]`, and sparse labels must be integers in
 * `[0, C)` (TF.js floors fractional labels and silently one-hots out-of-range ones to all zeros,
 * i.e. a zero loss and no gradient for that row; we refuse both). `compute` and `backward`
 * themselves follow TF.js for any input, floor and zero rows included.
 *
 * Float32 (`Scalar = float`) follows TF.js's operation order: every elementary operation is
 * rounded to float, transcendental functions (log, exp, log1p, softplus, sigmoid) are evaluated
 * in double and rounded once (as TF.js's JavaScript kernels do), and reductions accumulate in
 * double and round once (TF.js's `Sum` kernel); `mean` divides each element by n before summing
 * (TF.js's `Mean` kernel). `compute`/`backward` allocate only when `out`/`dPred` lack capacity.
 */
#ifndef RECURRENT_TRAIN_LOSSES_HPP
#define RECURRENT_TRAIN_LOSSES_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/errors.hpp>
#include <recurrent/types.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace recurrent::train {

/// The losses: the 14 of tfjs-layers' `lossesMap`, plus tfjs-core's `huberLoss`.
enum class LossKind {
  MeanSquaredError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  BinaryCrossentropy,
  CategoricalCrossentropy,
  SparseCategoricalCrossentropy,
  Hinge,
  SquaredHinge,
  CategoricalHinge,
  LogCosh,
  KullbackLeiblerDivergence,
  Poisson,
  CosineProximity,
  HuberLoss
};

/// TF.js's name of a loss kind (`"meanSquaredError"`, ..., `"huberLoss"`).
inline const char* lossName(LossKind kind) {
  switch (kind) {
    case LossKind::MeanSquaredError:
      return "meanSquaredError";
    case LossKind::MeanAbsoluteError:
      return "meanAbsoluteError";
    case LossKind::MeanAbsolutePercentageError:
      return "meanAbsolutePercentageError";
    case LossKind::MeanSquaredLogarithmicError:
      return "meanSquaredLogarithmicError";
    case LossKind::BinaryCrossentropy:
      return "binaryCrossentropy";
    case LossKind::CategoricalCrossentropy:
      return "categoricalCrossentropy";
    case LossKind::SparseCategoricalCrossentropy:
      return "sparseCategoricalCrossentropy";
    case LossKind::Hinge:
      return "hinge";
    case LossKind::SquaredHinge:
      return "squaredHinge";
    case LossKind::CategoricalHinge:
      return "categoricalHinge";
    case LossKind::LogCosh:
      return "logcosh";
    case LossKind::KullbackLeiblerDivergence:
      return "kullbackLeiblerDivergence";
    case LossKind::Poisson:
      return "poisson";
    case LossKind::CosineProximity:
      return "cosineProximity";
    case LossKind::HuberLoss:
      return "huberLoss";
  }
  return "?";
}

/// TF.js's loss (see the file comment for the formulas and conventions).
template <class Scalar>
class Loss {
  static_assert(std::is_floating_point_v<Scalar>, "Loss<Scalar>: Scalar must be float or double");

 public:
  explicit Loss(LossKind kind) : kind_(kind) {}

  /// Huber loss with threshold `delta` (TF.js `tf.losses.huberLoss(y, p, undefined, delta)`).
  static Loss huber(double delta = 1.0) {
    Loss l(LossKind::HuberLoss);
    l.delta_ = delta;
    return l;
  }

  /// A `model.compile({loss})` name: one of the 14 keys of tfjs-layers' `lossesMap`
  /// (`"meanSquaredError"`, ..., `"cosineProximity"`). Anything else throws `ValueError` with
  /// TF.js's message: `Unknown loss <name>` (plus TF.js's hint for `*softmaxCrossEntropy*`).
  static Loss fromName(const std::string& name);

  LossKind kind() const { return kind_; }
  /// TF.js's name (`lossName(kind())`).
  const char* name() const { return lossName(kind_); }
  /// Huber's δ (1 unless made by `huber(delta)`).
  double delta() const { return delta_; }
  /// True for `sparseCategoricalCrossentropy` (labels are class indices).
  bool sparseLabels() const { return kind_ == LossKind::SparseCategoricalCrossentropy; }

  /// Shape of `lossFn(yTrue, yPred)` for predictions of shape `predShape`: `predShape` without
  /// its last axis; `[]` for `HuberLoss`.
  std::vector<Index> outputShape(const std::vector<Index>& predShape) const {
    if (kind_ == LossKind::HuberLoss || predShape.empty()) return {};
    return {predShape.begin(), predShape.end() - 1};
  }

  /// Checks `yTrue` against `yPred` (before anything is computed). `ShapeError`: data size vs
  /// shape, prediction rank 0 or last axis 0, target shape (the prediction's; sparse labels
  /// `[..., 1]` or `[...]`). `ValueError`: a sparse label that is not an integer in `[0, C)`
  /// (named by flat position and value), and TF.js's own refusal of `categoricalCrossentropy`
  /// targets whose last axis is 1.
  void check(const std::string& who, const FlatTensor<Scalar>& yTrue,
             const FlatTensor<Scalar>& yPred) const;

  /// `out ← lossFn(yTrue, yPred)`, shape `outputShape(yPred.shape)`. Inputs as `check` accepts.
  void compute(const FlatTensor<Scalar>& yTrue, const FlatTensor<Scalar>& yPred,
               FlatTensor<Scalar>& out) const;

  /// `dPred ← ∂(Σ dOut ⊙ lossFn(yTrue, yPred)) / ∂yPred` (shape of `yPred`); `dOut` has
  /// `outputShape(yPred.shape)`.
  void backward(const FlatTensor<Scalar>& yTrue, const FlatTensor<Scalar>& yPred,
                const FlatTensor<Scalar>& dOut, FlatTensor<Scalar>& dPred) const;

 private:
  LossKind kind_;
  double delta_ = 1.0;
};

// =============================================================================================
// Implementation
// =============================================================================================

namespace detail {

using recurrent::detail::raise;
using recurrent::detail::shapeString;

/// TF.js's elementary float32 operations, for Scalar = float (exact float ops, transcendental
/// functions in double rounded once, as TF.js's JavaScript kernels) and the same maths in double.
template <class S>
struct TfOps {
  using Acc = double;  // TF.js's Sum kernel accumulates in a JavaScript number
  static S cast(double x) { return static_cast<S>(x); }
  static S log(S x) { return cast(std::log(static_cast<double>(x))); }
  static S exp(S x) { return cast(std::exp(static_cast<double>(x))); }
  static S log1p(S x) { return cast(std::log1p(static_cast<double>(x))); }
  static S sqrt(S x) { return cast(std::sqrt(static_cast<double>(x))); }
  static S sigmoid(S x) { return cast(1.0 / (1.0 + std::exp(-static_cast<double>(x)))); }
  /// tfjs-backend-cpu `Softplus` kernel.
  static S softplus(S xs) {
    const double x = static_cast<double>(xs);
    const double threshold = std::log(1.1920928955078125e-7) + 2.0;
    const double e = std::exp(x);
    if (x < threshold) return cast(e);
    if (x > -threshold) return xs;
    return cast(std::log(1.0 + e));
  }
  /// `clipByValue` forward (tfjs-backend-cpu `ClipByValue`).
  static S clip(S x, S lo, S hi) { return x > hi ? hi : (x < lo ? lo : x); }
  /// `clipByValue`'s gradient mask: the bounds pass.
  static bool clipPasses(S x, S lo, S hi) { return x >= lo && x <= hi; }
  /// `step(x, -1)` (abs'): 1 for x > 0, −1 otherwise, NaN for NaN.
  static S absGrad(S x) {
    if (std::isnan(x)) return x;
    return x > S(0) ? S(1) : S(-1);
  }
  /// `step(x)` (relu'): 1 for x > 0, 0 otherwise, NaN for NaN.
  static S reluGrad(S x) {
    if (std::isnan(x)) return x;
    return x > S(0) ? S(1) : S(0);
  }
  static S relu(S x) { return x < S(0) ? S(0) : x; }
  /// TF.js's clip bounds are float32 values (ε = 1e-7 and 1 − ε rounded to float32); the double
  /// path uses the same values, so both clip the same inputs.
  static S eps() { return static_cast<S>(static_cast<float>(1e-7)); }
  static S oneMinusEps() { return static_cast<S>(static_cast<float>(1.0 - 1e-7)); }
  /// `Number.MAX_VALUE` as a clip bound: +∞ once TF.js stores it in a float32 tensor.
  static S maxValue() { return std::numeric_limits<S>::infinity(); }
};

/// ToInt32(floor(x)) as TF.js's `cast(floor(labels), 'int32')` (NaN and ±∞ give 0).
inline long long tfjsLabelIndex(double x) {
  const double f = std::floor(x);
  if (!std::isfinite(f)) return 0;
  double m = std::fmod(f, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  if (m >= 2147483648.0) m -= 4294967296.0;
  return static_cast<long long>(m);
}

inline bool sameShape(const std::vector<Index>& a, const std::vector<Index>& b) { return a == b; }
/// Sparse labels fit predictions `pred` (rank ≥ 1) when shaped `pred[:-1]` or `[...pred[:-1], 1]`;
/// compared in place, as this is checked on every batch.
inline bool sparseLabelsFit(const std::vector<Index>& labels, const std::vector<Index>& pred) {
  if (pred.empty()) return false;
  const std::size_t lead = pred.size() - 1;
  if (labels.size() != lead && labels.size() != lead + 1) return false;
  if (!std::equal(pred.begin(), pred.begin() + static_cast<std::ptrdiff_t>(lead), labels.begin()))
    return false;
  return labels.size() == lead || labels[lead] == 1;
}

template <class Scalar>
Index flatSize(const FlatTensor<Scalar>& t) {
  Index n = 1;
  for (Index d : t.shape) n *= d;
  return n;
}

template <class Scalar>
void checkDataSize(const std::string& who, const char* argument, const FlatTensor<Scalar>& t) {
  for (Index d : t.shape) {
    if (d < 0) {
      raise<ShapeError>(
          who, std::string(argument) + ": negative dimension in shape " + shapeString(t.shape));
    }
  }
  const Index n = flatSize(t);
  if (static_cast<Index>(t.data.size()) != n) {
    raise<ShapeError>(who, std::string(argument) + ": shape " + shapeString(t.shape) + " has " +
                               std::to_string(n) + " values, the data has " +
                               std::to_string(t.data.size()));
  }
}

/// Sets `t` to `shape` and `size` values without reallocating when the capacity suffices.
template <class Scalar>
void resizeFlat(FlatTensor<Scalar>& t, const Index* shapeBegin, const Index* shapeEnd, Index size) {
  t.shape.assign(shapeBegin, shapeEnd);
  t.data.resize(static_cast<std::size_t>(size));
}

/// The per-row kernels. `t`, `p`: one row of n values (targets, predictions); `label`: the
/// sparse label's class index (TF.js's one-hot target: 1 at `label`, 0 elsewhere, all zeros when
/// out of range). Forward returns the row's loss; backward writes dp (n values) from the row's
/// upstream gradient d. Each mirrors TF.js's operations in order (see the file comment).
template <class S>
struct LossKernels {
  using O = TfOps<S>;
  using Acc = typename O::Acc;

  // ---- mean(v_j) as TF.js's Mean kernel: Σ_j (v_j / n), accumulated in double ----
  template <class F>
  static S mean(Index n, F&& v) {
    const S ns = static_cast<S>(n);
    Acc s = 0;
    for (Index j = 0; j < n; ++j) s += static_cast<Acc>(static_cast<S>(v(j) / ns));
    return static_cast<S>(s);
  }
  template <class F>
  static S sum(Index n, F&& v) {
    Acc s = 0;
    for (Index j = 0; j < n; ++j) s += static_cast<Acc>(v(j));
    return static_cast<S>(s);
  }

  // ---- meanSquaredError ----
  static S mseForward(const S* t, const S* p, Index n) {
    return mean(n, [&](Index j) {
      const S x = p[j] - t[j];
      return x * x;
    });
  }
  static void mseBackward(const S* t, const S* p, Index n, S d, S* dp) {
    const S g = d / static_cast<S>(n);
    for (Index j = 0; j < n; ++j) {
      const S x = p[j] - t[j];
      dp[j] = g * x + g * x;  // square = mul(x, x): both factors' gradients, added
    }
  }

  // ---- meanAbsoluteError ----
  static S maeForward(const S* t, const S* p, Index n) {
    return mean(n, [&](Index j) { return std::abs(p[j] - t[j]); });
  }
  static void maeBackward(const S* t, const S* p, Index n, S d, S* dp) {
    const S g = d / static_cast<S>(n);
    for (Index j = 0; j < n; ++j) dp[j] = g * O::absGrad(p[j] - t[j]);
  }

  // ---- meanAbsolutePercentageError ----
  static S clippedAbsTrue(S t) { return O::clip(std::abs(t), O::eps(), O::maxValue()); }
  static S mapeForward(const S* t, const S* p, Index n) {
    const S m = mean(n, [&](Index j) { return std::abs((t[j] - p[j]) / clippedAbsTrue(t[j])); });
    return S(100) * m;
  }
  static void mapeBackward(const S* t, const S* p, Index n, S d, S* dp) {
    const S g = (d * S(100)) / static_cast<S>(n);
    for (Index j = 0; j < n; ++j) {
      const S ct = clippedAbsTrue(t[j]);
      const S r = (t[j] - p[j]) / ct;
      const S ddiff = (g * O::absGrad(r)) / ct;
      dp[j] = -ddiff;
    }
  }

  // ---- meanSquaredLogarithmicError ----
  static S msleDiff(S t, S p) {
    const S l1 = O::log(S(1) + O::clip(p, O::eps(), O::maxValue()));
    const S l2 = O::log(S(1) + O::clip(t, O::eps(), O::maxValue()));
    return l1 - l2;
  }
  static S msleForward(const S* t, const S* p, Index n) {
    return mean(n, [&](Index j) {
      const S x = msleDiff(t[j], p[j]);
      return x * x;
    });
  }
  static void msleBackward(const S* t, const S* p, Index n, S d, S* dp) {
    const S g = d / static_cast<S>(n);
    for (Index j = 0; j < n; ++j) {
      const S x = msleDiff(t[j], p[j]);
      const S dx = g * x + g * x;
      const S onePlus = S(1) + O::clip(p[j], O::eps(), O::maxValue());
      const S dcp = dx / onePlus;
      dp[j] = O::clipPasses(p[j], O::eps(), O::maxValue()) ? dcp : S(0);
    }
  }

  // ---- binaryCrossentropy ----
  struct BceParts {
    S y, om, q, z, e;
  };
  static BceParts bceParts(S p) {
    BceParts b;
    b.y = O::clip(p, O::eps(), O::oneMinusEps());
    b.om = S(1) - b.y;
    b.q = b.y / b.om;
    b.z = O::log(b.q);
    b.e = O::exp(-std::abs(b.z));
    return b;
  }
  static S bceForward(const S* t, const S* p, Index n) {
    return mean(n, [&](Index j) {
      const BceParts b = bceParts(p[j]);
      return (O::relu(b.z) - b.z * t[j]) + O::log1p(b.e);
    });
  }
  static void bceBackward(const S* t, const S* p, Index n, S d, S* dp) {
    const S g = d / static_cast<S>(n);
    for (Index j = 0; j < n; ++j) {
      const BceParts b = bceParts(p[j]);
      const S de = g / (b.e + S(1));                // log1p
      const S dna = de * b.e;                       // exp
      const S dzAbs = (-dna) * O::absGrad(b.z);     // neg, abs
      const S dzMul = (-g) * t[j];                  // sub (b side), mul(z, labels)
      const S dzRelu = g * O::reluGrad(b.z);        // relu
      const S dz = (dzMul + dzAbs) + dzRelu;        // accumulated in reverse tape order
      const S dq = dz / b.q;                        // log
      const S dyA = dq / b.om;                      // div: numerator
      const S dom = -((dq * b.y) / (b.om * b.om));  // div: denominator
      const S dy = dyA + (-dom);                    // sub(1, y)
      dp[j] = O::clipPasses(p[j], O::eps(), O::oneMinusEps()) ? dy : S(0);
    }
  }

  // ---- categoricalCrossentropy (t given as a functor: dense row or one-hot) ----
  template <class T>
  static S cceForward(T&& t, const S* p, Index n) {
    const S s = sum(n, [&](Index j) { return p[j]; });
    const S total = sum(n, [&](Index j) {
      const S q = O::clip(p[j] / s, O::eps(), O::oneMinusEps());
      return t(j) * O::log(q);
    });
    return -total;
  }
  template <class T>
  static void cceBackward(T&& t, const S* p, Index n, S d, S* dp) {
    const S s = sum(n, [&](Index j) { return p[j]; });
    const S dS = -d;
    Acc r = 0;
    for (Index j = 0; j < n; ++j) {
      const S q = p[j] / s;
      const S c = O::clip(q, O::eps(), O::oneMinusEps());
      const S dc = (dS * t(j)) / c;
      const S dq = O::clipPasses(q, O::eps(), O::oneMinusEps()) ? dc : S(0);
      dp[j] = dq;
      r += static_cast<Acc>(dq * p[j]);
    }
    const S ds = -(static_cast<S>(r) / (s * s));
    for (Index j = 0; j < n; ++j) dp[j] = dp[j] / s + ds;
  }

  // ---- hinge / squaredHinge ----
  static S hingeMargin(S t, S p) { return S(1) - t * p; }
  static S hingeForward(const S* t, const S* p, Index n, bool squared) {
    return mean(n, [&](Index j) {
      const S m = std::max(S(0), hingeMargin(t[j], p[j]));
      return squared ? m * m : m;
    });
  }
  static void hingeBackward(const S* t, const S* p, Index n, S d, S* dp, bool squared) {
    const S g = d / static_cast<S>(n);
    for (Index j = 0; j < n; ++j) {
      const S x = hingeMargin(t[j], p[j]);
      S dm = g;
      if (squared) {
        const S m = std::max(S(0), x);
        dm = g * m + g * m;
      }
      const S dx = dm * (S(0) < x ? S(1) : S(0));  // maximum(0, x): x gets it where 0 < x
      dp[j] = (-dx) * t[j];
    }
  }

  // ---- categoricalHinge ----
  struct CatHinge {
    S pos, neg, v;
  };
  static CatHinge catHinge(const S* t, const S* p, Index n) {
    CatHinge c;
    c.pos = sum(n, [&](Index j) { return t[j] * p[j]; });
    c.neg = (S(1) - t[0]) * p[0];
    for (Index j = 1; j < n; ++j) {
      const S v = (S(1) - t[j]) * p[j];
      if (v > c.neg || std::isnan(v)) c.neg = v;
    }
    c.v = S(1) + (c.neg - c.pos);
    return c;
  }
  static S catHingeForward(const S* t, const S* p, Index n) {
    return std::max(S(0), catHinge(t, p, n).v);
  }
  static void catHingeBackward(const S* t, const S* p, Index n, S d, S* dp) {
    const CatHinge c = catHinge(t, p, n);
    const S dv = d * (S(0) < c.v ? S(1) : S(0));
    const S dpos = -dv;
    for (Index j = 0; j < n; ++j) {
      const S om = S(1) - t[j];
      const S dnp = dv * (om * p[j] == c.neg ? S(1) : S(0));  // every tied maximum
      dp[j] = dnp * om + dpos * t[j];
    }
  }

  // ---- logcosh ----
  static S log2() { return O::cast(0.69314718055994530942); }
  static S logcoshForward(const S* t, const S* p, Index n) {
    return mean(n, [&](Index j) {
      const S x = p[j] - t[j];
      return (x + O::softplus(S(-2) * x)) - log2();
    });
  }
  static void logcoshBackward(const S* t, const S* p, Index n, S d, S* dp) {
    const S g = d / static_cast<S>(n);
    for (Index j = 0; j < n; ++j) {
      const S x = p[j] - t[j];
      const S dm2 = g * O::sigmoid(S(-2) * x);
      dp[j] = g + dm2 * S(-2);
    }
  }

  // ---- kullbackLeiblerDivergence ----
  static S kldForward(const S* t, const S* p, Index n) {
    return sum(n, [&](Index j) {
      const S ct = O::clip(t[j], O::eps(), S(1));
      const S cp = O::clip(p[j], O::eps(), S(1));
      return t[j] * O::log(ct / cp);
    });
  }
  static void kldBackward(const S* t, const S* p, Index n, S d, S* dp) {
    for (Index j = 0; j < n; ++j) {
      const S ct = O::clip(t[j], O::eps(), S(1));
      const S cp = O::clip(p[j], O::eps(), S(1));
      const S q = ct / cp;
      const S dq = (d * t[j]) / q;
      const S dcp = -((dq * ct) / (cp * cp));
      dp[j] = O::clipPasses(p[j], O::eps(), S(1)) ? dcp : S(0);
    }
  }

  // ---- poisson ----
  static S poissonForward(const S* t, const S* p, Index n) {
    return mean(n, [&](Index j) { return p[j] - t[j] * O::log(O::eps() + p[j]); });
  }
  static void poissonBackward(const S* t, const S* p, Index n, S d, S* dp) {
    const S g = d / static_cast<S>(n);
    for (Index j = 0; j < n; ++j) {
      const S dlp = (-g) * t[j];
      dp[j] = g + dlp / (O::eps() + p[j]);
    }
  }

  // ---- cosineProximity ----
  static S l2Norm(const S* x, Index n) {  // sqrt(maximum(Σx², ε))
    const S ss = sum(n, [&](Index j) { return x[j] * x[j]; });
    return O::sqrt(std::max(ss, O::eps()));
  }
  static S cosineForward(const S* t, const S* p, Index n) {
    const S tn = l2Norm(t, n), pn = l2Norm(p, n);
    return -sum(n, [&](Index j) { return (t[j] / tn) * (p[j] / pn); });
  }
  static void cosineBackward(const S* t, const S* p, Index n, S d, S* dp) {
    const S tn = l2Norm(t, n);
    const S ss = sum(n, [&](Index j) { return p[j] * p[j]; });
    const S mx = std::max(ss, O::eps());  // TF.js's maximum: x where x >= ε
    const S pn = O::sqrt(mx);
    const S dS = -d;
    Acc r = 0;
    for (Index j = 0; j < n; ++j) r += static_cast<Acc>((dS * (t[j] / tn)) * p[j]);
    const S dnrm = -(static_cast<S>(r) / (pn * pn));
    const S dmx = dnrm / (pn * S(2));
    const S dss = dmx * (ss >= O::eps() ? S(1) : S(0));
    for (Index j = 0; j < n; ++j) {
      const S dpn = dS * (t[j] / tn);
      const S sq = dss * p[j];
      dp[j] = (dpn / pn + sq) + sq;
    }
  }

  // ---- huberLoss (over the whole tensor) ----
  static S huberForward(const S* t, const S* p, Index size, S delta) {
    const S total = sum(size, [&](Index j) {
      const S e = std::abs(p[j] - t[j]);
      const S q = std::min(e, delta);
      return S(0.5) * (q * q) + delta * (e - q);
    });
    return total / static_cast<S>(size);
  }
  static void huberBackward(const S* t, const S* p, Index size, S d, S delta, S* dp) {
    const S dh = d / static_cast<S>(size);
    const S dsq = dh * S(0.5);
    const S dlin = dh * delta;
    for (Index j = 0; j < size; ++j) {
      const S x = p[j] - t[j];
      const S e = std::abs(x);
      const S q = std::min(e, delta);
      const S dq = dsq * (q * S(2)) + (-dlin);
      const S de = dlin + dq * (e <= delta ? S(1) : S(0));  // minimum: e gets it at e = δ
      dp[j] = de * O::absGrad(x);
    }
  }
};

inline std::string formatLabel(double v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}

}  // namespace detail

template <class Scalar>
Loss<Scalar> Loss<Scalar>::fromName(const std::string& name) {
  static constexpr LossKind kNamed[] = {LossKind::MeanSquaredError,
                                        LossKind::MeanAbsoluteError,
                                        LossKind::MeanAbsolutePercentageError,
                                        LossKind::MeanSquaredLogarithmicError,
                                        LossKind::SquaredHinge,
                                        LossKind::Hinge,
                                        LossKind::CategoricalHinge,
                                        LossKind::LogCosh,
                                        LossKind::CategoricalCrossentropy,
                                        LossKind::SparseCategoricalCrossentropy,
                                        LossKind::BinaryCrossentropy,
                                        LossKind::KullbackLeiblerDivergence,
                                        LossKind::Poisson,
                                        LossKind::CosineProximity};
  for (LossKind k : kNamed) {
    if (name == lossName(k)) return Loss(k);
  }
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string message = "Unknown loss " + name;
  if (lower.find("softmaxcrossentropy") != std::string::npos) {
    message +=
        ". Use \"categoricalCrossentropy\" as the string name for "
        "tf.losses.softmaxCrossEntropy";
  }
  RECURRENT_THROW(ValueError(message));
#if RECURRENT_NO_EXCEPTIONS
  std::abort();
#endif
}

template <class Scalar>
void Loss<Scalar>::check(const std::string& who, const FlatTensor<Scalar>& yTrue,
                         const FlatTensor<Scalar>& yPred) const {
  using detail::raise;
  using detail::shapeString;
  detail::checkDataSize(who, "yTrue", yTrue);
  detail::checkDataSize(who, "yPred", yPred);
  if (yPred.shape.empty()) {
    raise<ShapeError>(who, std::string("yPred: a ") + name() +
                               " prediction needs at least one axis, got shape []");
  }
  const Index classes = yPred.shape.back();
  if (classes < 1) {
    raise<ShapeError>(who, std::string("yPred: the last axis of a ") + name() +
                               " prediction must not be empty, got shape " +
                               shapeString(yPred.shape));
  }
  if (!sparseLabels()) {
    if (!detail::sameShape(yTrue.shape, yPred.shape)) {
      raise<ShapeError>(who, std::string("yTrue: ") + name() + " expects targets of shape " +
                                 shapeString(yPred.shape) + " (the prediction's), got " +
                                 shapeString(yTrue.shape));
    }
    if (kind_ == LossKind::CategoricalCrossentropy && classes == 1) {
      // tfjs-layers training.ts checkLossAndTargetCompatibility, verbatim.
      std::string dims;
      for (std::size_t i = 0; i < yTrue.shape.size(); ++i) {
        dims += (i ? "," : "") + std::to_string(yTrue.shape[i]);
      }
      raise<ValueError>(who, "You are passing a target array of shape " + dims +
                                 " while using a loss 'categorical_crossentropy'. "
                                 "'categorical_crossentropy'expects targets to be binary matrices "
                                 "(1s and 0s) of shape [samples, classes].");
    }
    return;
  }
  // Sparse labels: [..., 1] or [...].
  if (!detail::sparseLabelsFit(yTrue.shape, yPred.shape)) {
    const std::vector<Index> lead(yPred.shape.begin(), yPred.shape.end() - 1);
    std::vector<Index> withOne = lead;
    withOne.push_back(1);
    raise<ShapeError>(who, std::string("yTrue: sparseCategoricalCrossentropy expects labels of "
                                       "shape ") +
                               shapeString(withOne) + " or " + shapeString(lead) +
                               " for predictions of shape " + shapeString(yPred.shape) + ", got " +
                               shapeString(yTrue.shape));
  }
  // TF.js floors fractional labels and one-hots out-of-range ones to all zeros (a silent zero
  // loss, no gradient): a data bug we refuse to hide.
  for (std::size_t i = 0; i < yTrue.data.size(); ++i) {
    const double v = static_cast<double>(yTrue.data[i]);
    if (!(v >= 0.0 && v < static_cast<double>(classes) && std::floor(v) == v)) {
      raise<ValueError>(who, "yTrue: sparse label at flat position " + std::to_string(i) + " is " +
                                 detail::formatLabel(v) + ": expected an integer in [0, " +
                                 std::to_string(classes) +
                                 ") (TF.js would floor it or turn it into an all-zero target)");
    }
  }
}

template <class Scalar>
void Loss<Scalar>::compute(const FlatTensor<Scalar>& yTrue, const FlatTensor<Scalar>& yPred,
                           FlatTensor<Scalar>& out) const {
  using K = detail::LossKernels<Scalar>;
  const Index size = static_cast<Index>(yPred.data.size());
  const Scalar* p = yPred.data.data();
  const Scalar* t = yTrue.data.data();
  if (kind_ == LossKind::HuberLoss) {
    RECURRENT_ASSERT(yTrue.data.size() == yPred.data.size());
    detail::resizeFlat(out, nullptr, nullptr, 1);
    out.data[0] = K::huberForward(t, p, size, static_cast<Scalar>(delta_));
    return;
  }
  RECURRENT_ASSERT(!yPred.shape.empty() && yPred.shape.back() > 0);
  const Index n = yPred.shape.back();
  const Index rows = size / n;
  detail::resizeFlat(out, yPred.shape.data(), yPred.shape.data() + yPred.shape.size() - 1, rows);
  Scalar* o = out.data.data();
  if (kind_ == LossKind::SparseCategoricalCrossentropy) {
    RECURRENT_ASSERT(static_cast<Index>(yTrue.data.size()) == rows);
    // clip(p), then categoricalCrossentropy against the one-hot label (which normalises again).
    using O = detail::TfOps<Scalar>;
    for (Index r = 0; r < rows; ++r) {
      const Scalar* pr = p + r * n;
      const long long label = detail::tfjsLabelIndex(static_cast<double>(t[r]));
      const Scalar s =
          K::sum(n, [&](Index j) { return O::clip(pr[j], O::eps(), O::oneMinusEps()); });
      const Scalar total = K::sum(n, [&](Index j) {
        const Scalar c0 = O::clip(pr[j], O::eps(), O::oneMinusEps());
        const Scalar q = O::clip(c0 / s, O::eps(), O::oneMinusEps());
        return (j == label ? Scalar(1) : Scalar(0)) * O::log(q);
      });
      o[r] = -total;
    }
    return;
  }
  RECURRENT_ASSERT(yTrue.data.size() == yPred.data.size());
  for (Index r = 0; r < rows; ++r) {
    const Scalar* tr = t + r * n;
    const Scalar* pr = p + r * n;
    Scalar v = Scalar(0);
    switch (kind_) {
      case LossKind::MeanSquaredError:
        v = K::mseForward(tr, pr, n);
        break;
      case LossKind::MeanAbsoluteError:
        v = K::maeForward(tr, pr, n);
        break;
      case LossKind::MeanAbsolutePercentageError:
        v = K::mapeForward(tr, pr, n);
        break;
      case LossKind::MeanSquaredLogarithmicError:
        v = K::msleForward(tr, pr, n);
        break;
      case LossKind::BinaryCrossentropy:
        v = K::bceForward(tr, pr, n);
        break;
      case LossKind::CategoricalCrossentropy:
        v = K::cceForward([&](Index j) { return tr[j]; }, pr, n);
        break;
      case LossKind::Hinge:
        v = K::hingeForward(tr, pr, n, false);
        break;
      case LossKind::SquaredHinge:
        v = K::hingeForward(tr, pr, n, true);
        break;
      case LossKind::CategoricalHinge:
        v = K::catHingeForward(tr, pr, n);
        break;
      case LossKind::LogCosh:
        v = K::logcoshForward(tr, pr, n);
        break;
      case LossKind::KullbackLeiblerDivergence:
        v = K::kldForward(tr, pr, n);
        break;
      case LossKind::Poisson:
        v = K::poissonForward(tr, pr, n);
        break;
      case LossKind::CosineProximity:
        v = K::cosineForward(tr, pr, n);
        break;
      case LossKind::SparseCategoricalCrossentropy:
      case LossKind::HuberLoss:
        break;  // handled above
    }
    o[r] = v;
  }
}

template <class Scalar>
void Loss<Scalar>::backward(const FlatTensor<Scalar>& yTrue, const FlatTensor<Scalar>& yPred,
                            const FlatTensor<Scalar>& dOut, FlatTensor<Scalar>& dPred) const {
  using K = detail::LossKernels<Scalar>;
  using O = detail::TfOps<Scalar>;
  const Index size = static_cast<Index>(yPred.data.size());
  detail::resizeFlat(dPred, yPred.shape.data(), yPred.shape.data() + yPred.shape.size(), size);
  const Scalar* p = yPred.data.data();
  const Scalar* t = yTrue.data.data();
  const Scalar* d = dOut.data.data();
  Scalar* dp = dPred.data.data();
  if (kind_ == LossKind::HuberLoss) {
    RECURRENT_ASSERT(dOut.data.size() == 1 && yTrue.data.size() == yPred.data.size());
    K::huberBackward(t, p, size, d[0], static_cast<Scalar>(delta_), dp);
    return;
  }
  RECURRENT_ASSERT(!yPred.shape.empty() && yPred.shape.back() > 0);
  const Index n = yPred.shape.back();
  const Index rows = size / n;
  RECURRENT_ASSERT(static_cast<Index>(dOut.data.size()) == rows);
  if (kind_ == LossKind::SparseCategoricalCrossentropy) {
    RECURRENT_ASSERT(static_cast<Index>(yTrue.data.size()) == rows);
    for (Index r = 0; r < rows; ++r) {
      const Scalar* pr = p + r * n;
      Scalar* dr = dp + r * n;
      const long long label = detail::tfjsLabelIndex(static_cast<double>(t[r]));
      // clip(p) into dPred's row, categoricalCrossentropy's backward on it (in place: each
      // element is read before it is written), then the first clip's mask.
      for (Index j = 0; j < n; ++j) dr[j] = O::clip(pr[j], O::eps(), O::oneMinusEps());
      const Scalar s = K::sum(n, [&](Index j) { return dr[j]; });
      const Scalar dS = -d[r];
      typename O::Acc acc = 0;
      for (Index j = 0; j < n; ++j) {
        const Scalar c0 = dr[j];
        const Scalar q = c0 / s;
        const Scalar c = O::clip(q, O::eps(), O::oneMinusEps());
        const Scalar dc = (dS * (j == label ? Scalar(1) : Scalar(0))) / c;
        const Scalar dq = O::clipPasses(q, O::eps(), O::oneMinusEps()) ? dc : Scalar(0);
        acc += static_cast<typename O::Acc>(dq * c0);
        dr[j] = dq;
      }
      const Scalar ds = -(static_cast<Scalar>(acc) / (s * s));
      for (Index j = 0; j < n; ++j) {
        const Scalar dc0 = dr[j] / s + ds;
        dr[j] = O::clipPasses(pr[j], O::eps(), O::oneMinusEps()) ? dc0 : Scalar(0);
      }
    }
    return;
  }
  RECURRENT_ASSERT(yTrue.data.size() == yPred.data.size());
  for (Index r = 0; r < rows; ++r) {
    const Scalar* tr = t + r * n;
    const Scalar* pr = p + r * n;
    Scalar* dr = dp + r * n;
    const Scalar g = d[r];
    switch (kind_) {
      case LossKind::MeanSquaredError:
        K::mseBackward(tr, pr, n, g, dr);
        break;
      case LossKind::MeanAbsoluteError:
        K::maeBackward(tr, pr, n, g, dr);
        break;
      case LossKind::MeanAbsolutePercentageError:
        K::mapeBackward(tr, pr, n, g, dr);
        break;
      case LossKind::MeanSquaredLogarithmicError:
        K::msleBackward(tr, pr, n, g, dr);
        break;
      case LossKind::BinaryCrossentropy:
        K::bceBackward(tr, pr, n, g, dr);
        break;
      case LossKind::CategoricalCrossentropy:
        K::cceBackward([&](Index j) { return tr[j]; }, pr, n, g, dr);
        break;
      case LossKind::Hinge:
        K::hingeBackward(tr, pr, n, g, dr, false);
        break;
      case LossKind::SquaredHinge:
        K::hingeBackward(tr, pr, n, g, dr, true);
        break;
      case LossKind::CategoricalHinge:
        K::catHingeBackward(tr, pr, n, g, dr);
        break;
      case LossKind::LogCosh:
        K::logcoshBackward(tr, pr, n, g, dr);
        break;
      case LossKind::KullbackLeiblerDivergence:
        K::kldBackward(tr, pr, n, g, dr);
        break;
      case LossKind::Poisson:
        K::poissonBackward(tr, pr, n, g, dr);
        break;
      case LossKind::CosineProximity:
        K::cosineBackward(tr, pr, n, g, dr);
        break;
      case LossKind::SparseCategoricalCrossentropy:
      case LossKind::HuberLoss:
        break;  // handled above
    }
  }
}

}  // namespace recurrent::train

#endif  // RECURRENT_TRAIN_LOSSES_HPP
