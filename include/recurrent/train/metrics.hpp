/** @file
 * The metrics of TF.js 4.22 (tfjs-layers `src/metrics.ts`) and `model.compile({metrics})`'s
 * resolution of their names (`src/engine/training.ts`).
 *
 * A metric maps `yTrue`, `yPred` to one value per row like a loss (`outputShape`; `precision`
 * gives one scalar for the batch); TF.js logs the mean of it as the batch value.
 *
 * - `binaryAccuracy`: mean(y == (p > 0.5 ? 1 : 0)), exact equality (soft labels never match)
 * - `categoricalAccuracy`: argMax(y) == argMax(p), argMax = the FIRST maximum
 * - `sparseCategoricalAccuracy`: y == argMax(p) (labels `[..., 1]` or `[...]`, NOT floored)
 * - `precision`: tp / (tp + fp) over the whole batch (0 if tp + fp = 0), tp = #(y == 1 ∧ p == 1),
 *   fp = #(y == 0 ∧ p == 1): predictions compared exactly, not thresholded
 * - a loss: that loss's `lossFn` (`losses.hpp`)
 *
 * `resolve(name, outputLoss, outputLastDim)` follows `compile`:
 * - `"accuracy"`/`"acc"` → `binaryAccuracy` if the output's last dimension is 1 or its loss is
 *   `binaryCrossentropy`, else `sparseCategoricalAccuracy` if the loss is
 *   `sparseCategoricalCrossentropy`, else `categoricalAccuracy`; logged as `"acc"`.
 * - `"crossentropy"`/`"ce"` → `binaryCrossentropy` / `sparseCategoricalCrossentropy` /
 *   `categoricalCrossentropy` by the same rule; logged as `"ce"`.
 * - otherwise only the keys of tfjs-layers' `metricsMap`, logged under the name given:
 *   `binaryAccuracy`, `categoricalAccuracy`, `precision`, `categoricalCrossentropy`,
 *   `sparseCategoricalCrossentropy`, `mse`/`MSE` (meanSquaredError), `mae`/`MAE`
 *   (meanAbsoluteError), `mape`/`MAPE` (meanAbsolutePercentageError), `cosine`
 *   (cosineProximity). Anything else, including `"sparseCategoricalAccuracy"`, `"recall"`,
 *   `"meanSquaredError"` and `"binaryCrossentropy"`, throws `ValueError` with TF.js's message
 *   `Unknown metric <name>`.
 *
 * With several outputs TF.js prefixes the logged name with `<outputName>_`; that belongs to the
 * model, not to the metric. `Metric::fromLoss` makes any loss a metric (as passing the function
 * to TF.js's compile would), logged under the loss's name.
 */
#ifndef RECURRENT_TRAIN_METRICS_HPP
#define RECURRENT_TRAIN_METRICS_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/errors.hpp>
#include <recurrent/train/losses.hpp>
#include <recurrent/types.hpp>

#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::train {

enum class MetricKind {
  BinaryAccuracy,
  CategoricalAccuracy,
  SparseCategoricalAccuracy,
  Precision,
  Loss
};

/// TF.js's metric (see the file comment).
template <class Scalar>
class Metric {
 public:
  /// One of the non-loss kinds (`MetricKind::Loss` needs `fromLoss`), logged under its TF.js
  /// function name ("binaryAccuracy", ...).
  explicit Metric(MetricKind kind);
  /// A loss used as a metric, logged under the loss's TF.js name.
  static Metric fromLoss(LossKind loss) { return Metric(MetricKind::Loss, loss, lossName(loss)); }
  /// `model.compile({metrics: [name]})` for an output with loss `outputLoss` whose last
  /// dimension is `outputLastDim` (see the file comment). Unknown → `ValueError`
  /// (`Unknown metric <name>`).
  static Metric resolve(const std::string& name, LossKind outputLoss, Index outputLastDim);

  MetricKind kind() const { return kind_; }
  /// The loss behind a `MetricKind::Loss` metric.
  LossKind lossKind() const { return loss_.kind(); }
  /// The key TF.js logs: "acc", "ce", "mse", "MSE", "categoricalCrossentropy", ...
  const std::string& suffix() const { return suffix_; }
  /// Name of the function TF.js runs ("binaryAccuracy", "meanSquaredError", ...).
  const char* functionName() const;

  /// `predShape` without its last axis; `[]` for `precision` (and `huberLoss`).
  std::vector<Index> outputShape(const std::vector<Index>& predShape) const;
  /// Shapes (as `Loss::check`: targets of the prediction's shape; sparse labels `[..., 1]` or
  /// `[...]`; a loss metric checks as its loss). `ShapeError` naming `who`.
  void check(const std::string& who, const FlatTensor<Scalar>& yTrue,
             const FlatTensor<Scalar>& yPred) const;
  /// `out ←` TF.js's metric function of (yTrue, yPred), shape `outputShape(yPred.shape)`.
  void compute(const FlatTensor<Scalar>& yTrue, const FlatTensor<Scalar>& yPred,
               FlatTensor<Scalar>& out) const;

 private:
  Metric(MetricKind kind, LossKind loss, std::string suffix)
      : kind_(kind), loss_(loss), suffix_(std::move(suffix)) {}

  MetricKind kind_;
  Loss<Scalar> loss_;
  std::string suffix_;
};

// =============================================================================================
// Implementation
// =============================================================================================

namespace detail {

inline const char* metricFunctionName(MetricKind kind) {
  switch (kind) {
    case MetricKind::BinaryAccuracy:
      return "binaryAccuracy";
    case MetricKind::CategoricalAccuracy:
      return "categoricalAccuracy";
    case MetricKind::SparseCategoricalAccuracy:
      return "sparseCategoricalAccuracy";
    case MetricKind::Precision:
      return "precision";
    case MetricKind::Loss:
      break;
  }
  return "?";
}

/// First index of the maximum of n values (tfjs-backend-cpu ArgMax: strict `>`).
template <class Scalar>
Index argMax(const Scalar* v, Index n) {
  Index best = 0;
  Scalar max = v[0];
  for (Index j = 1; j < n; ++j) {
    if (v[j] > max) {
      max = v[j];
      best = j;
    }
  }
  return best;
}

}  // namespace detail

template <class Scalar>
Metric<Scalar>::Metric(MetricKind kind)
    : kind_(kind), loss_(LossKind::MeanSquaredError), suffix_(detail::metricFunctionName(kind)) {
  if (kind == MetricKind::Loss) {
    recurrent::detail::raise<ValueError>("Metric", "MetricKind::Loss needs Metric::fromLoss");
  }
}

template <class Scalar>
Metric<Scalar> Metric<Scalar>::resolve(const std::string& name, LossKind outputLoss,
                                       Index outputLastDim) {
  const bool accuracy = name == "accuracy" || name == "acc";
  const bool crossentropy = name == "crossentropy" || name == "ce";
  if (accuracy || crossentropy) {
    const std::string suffix = accuracy ? "acc" : "ce";
    if (outputLastDim == 1 || outputLoss == LossKind::BinaryCrossentropy) {
      return accuracy ? Metric(MetricKind::BinaryAccuracy, LossKind::MeanSquaredError, suffix)
                      : Metric(MetricKind::Loss, LossKind::BinaryCrossentropy, suffix);
    }
    if (outputLoss == LossKind::SparseCategoricalCrossentropy) {
      return accuracy
                 ? Metric(MetricKind::SparseCategoricalAccuracy, LossKind::MeanSquaredError, suffix)
                 : Metric(MetricKind::Loss, LossKind::SparseCategoricalCrossentropy, suffix);
    }
    return accuracy ? Metric(MetricKind::CategoricalAccuracy, LossKind::MeanSquaredError, suffix)
                    : Metric(MetricKind::Loss, LossKind::CategoricalCrossentropy, suffix);
  }
  // tfjs-layers metrics.ts metricsMap, logged under the name given.
  if (name == "binaryAccuracy") return Metric(MetricKind::BinaryAccuracy);
  if (name == "categoricalAccuracy") return Metric(MetricKind::CategoricalAccuracy);
  if (name == "precision") return Metric(MetricKind::Precision);
  const struct {
    const char* name;
    LossKind loss;
  } kLossMetrics[] = {
      {"categoricalCrossentropy", LossKind::CategoricalCrossentropy},
      {"sparseCategoricalCrossentropy", LossKind::SparseCategoricalCrossentropy},
      {"mse", LossKind::MeanSquaredError},
      {"MSE", LossKind::MeanSquaredError},
      {"mae", LossKind::MeanAbsoluteError},
      {"MAE", LossKind::MeanAbsoluteError},
      {"mape", LossKind::MeanAbsolutePercentageError},
      {"MAPE", LossKind::MeanAbsolutePercentageError},
      {"cosine", LossKind::CosineProximity},
  };
  for (const auto& m : kLossMetrics) {
    if (name == m.name) return Metric(MetricKind::Loss, m.loss, name);
  }
  RECURRENT_THROW(ValueError("Unknown metric " + name));
#if RECURRENT_NO_EXCEPTIONS
  std::abort();
#endif
}

template <class Scalar>
const char* Metric<Scalar>::functionName() const {
  return kind_ == MetricKind::Loss ? loss_.name() : detail::metricFunctionName(kind_);
}

template <class Scalar>
std::vector<Index> Metric<Scalar>::outputShape(const std::vector<Index>& predShape) const {
  if (kind_ == MetricKind::Loss) return loss_.outputShape(predShape);
  if (kind_ == MetricKind::Precision || predShape.empty()) return {};
  return {predShape.begin(), predShape.end() - 1};
}

template <class Scalar>
void Metric<Scalar>::check(const std::string& who, const FlatTensor<Scalar>& yTrue,
                           const FlatTensor<Scalar>& yPred) const {
  using recurrent::detail::raise;
  using recurrent::detail::shapeString;
  if (kind_ == MetricKind::Loss) {
    loss_.check(who, yTrue, yPred);
    return;
  }
  detail::checkDataSize(who, "yTrue", yTrue);
  detail::checkDataSize(who, "yPred", yPred);
  if (yPred.shape.empty() || yPred.shape.back() < 1) {
    raise<ShapeError>(who, std::string("yPred: ") + functionName() +
                               " needs a non-empty last axis, got shape " +
                               shapeString(yPred.shape));
  }
  if (kind_ == MetricKind::SparseCategoricalAccuracy) {
    if (!detail::sparseLabelsFit(yTrue.shape, yPred.shape)) {
      const std::vector<Index> lead(yPred.shape.begin(), yPred.shape.end() - 1);
      std::vector<Index> withOne = lead;
      withOne.push_back(1);
      raise<ShapeError>(who, "yTrue: sparseCategoricalAccuracy expects labels of shape " +
                                 shapeString(withOne) + " or " + shapeString(lead) +
                                 " for predictions of shape " + shapeString(yPred.shape) +
                                 ", got " + shapeString(yTrue.shape));
    }
    return;
  }
  if (yTrue.shape != yPred.shape) {
    raise<ShapeError>(who, std::string("yTrue: ") + functionName() + " expects targets of shape " +
                               shapeString(yPred.shape) + " (the prediction's), got " +
                               shapeString(yTrue.shape));
  }
}

template <class Scalar>
void Metric<Scalar>::compute(const FlatTensor<Scalar>& yTrue, const FlatTensor<Scalar>& yPred,
                             FlatTensor<Scalar>& out) const {
  if (kind_ == MetricKind::Loss) {
    loss_.compute(yTrue, yPred, out);
    return;
  }
  const Scalar* t = yTrue.data.data();
  const Scalar* p = yPred.data.data();
  const Index size = static_cast<Index>(yPred.data.size());
  if (kind_ == MetricKind::Precision) {
    RECURRENT_ASSERT(yTrue.data.size() == yPred.data.size());
    Index tp = 0, fp = 0;
    for (Index i = 0; i < size; ++i) {
      if (p[i] == Scalar(1)) {
        if (t[i] == Scalar(1)) ++tp;
        if (t[i] == Scalar(0)) ++fp;
      }
    }
    detail::resizeFlat(out, nullptr, nullptr, 1);
    const Scalar den = static_cast<Scalar>(tp) + static_cast<Scalar>(fp);
    out.data[0] = den > Scalar(0) ? static_cast<Scalar>(tp) / den : Scalar(0);
    return;
  }
  RECURRENT_ASSERT(!yPred.shape.empty() && yPred.shape.back() > 0);
  const Index n = yPred.shape.back();
  const Index rows = size / n;
  detail::resizeFlat(out, yPred.shape.data(), yPred.shape.data() + yPred.shape.size() - 1, rows);
  Scalar* o = out.data.data();
  for (Index r = 0; r < rows; ++r) {
    const Scalar* pr = p + r * n;
    switch (kind_) {
      case MetricKind::BinaryAccuracy: {
        const Scalar* tr = t + r * n;
        o[r] = detail::LossKernels<Scalar>::mean(n, [&](Index j) {
          const Scalar thresholded = pr[j] > Scalar(0.5) ? Scalar(1) : Scalar(0);
          return tr[j] == thresholded ? Scalar(1) : Scalar(0);
        });
        break;
      }
      case MetricKind::CategoricalAccuracy:
        o[r] = detail::argMax(t + r * n, n) == detail::argMax(pr, n) ? Scalar(1) : Scalar(0);
        break;
      case MetricKind::SparseCategoricalAccuracy:
        o[r] = t[r] == static_cast<Scalar>(detail::argMax(pr, n)) ? Scalar(1) : Scalar(0);
        break;
      case MetricKind::Precision:
      case MetricKind::Loss:
        break;  // handled above
    }
  }
}

}  // namespace recurrent::train

#endif  // RECURRENT_TRAIN_METRICS_HPP
