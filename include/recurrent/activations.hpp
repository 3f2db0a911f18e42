/** @file
 * Activations with TF.js 4.22 semantics, applied to whole blocks (one gate of a batch at a time).
 *
 * Two faces of the same maths:
 * - compile-time policies in `recurrent::activations` (`Tanh`, `HardSigmoid`, ...), each with
 *   `static void apply(block)`, for code that fixes its activation at compile time;
 * - the run-time value `recurrent::Activation` (one of the 16 names TF.js accepts, plus the
 *   Keras-3 hard sigmoid), which dispatches once per block, never per element.
 *
 * x is one element; softmax and logSoftmax act over each row of a block.
 *
 * | TF.js name    | definition                                                              |
 * |---------------|-------------------------------------------------------------------------|
 * | `tanh`        | tanh(x)                                                                 |
 * | `sigmoid`     | 1 / (1 + exp(−x))                                                       |
 * | `hardSigmoid` | clip(0.2·x + 0.5, 0, 1) (Keras 2 form; `HardSigmoidKeras3`: x/6 + 0.5)  |
 * | `relu`        | max(x, 0)                                                               |
 * | `relu6`       | min(max(x, 0), 6)                                                       |
 * | `linear`      | x                                                                       |
 * | `elu`         | x > 0 ? x : exp(x) − 1                                                  |
 * | `selu`        | 1.0507009873554805 · (x > 0 ? x : 1.6732632423543772 · (exp(x) − 1))    |
 * | `softplus`    | exp(x) below log(ε)+2, x above −(log(ε)+2), else log(1+exp(x)) (TF.js)  |
 * | `softsign`    | x / (1 + abs(x))                                                        |
 * | `swish`       | x · sigmoid(x)                                                          |
 * | `mish`        | x · tanh(softplus(x))                                                   |
 * | `gelu`        | x · 0.5 · (1 + erf(x / √2))                                             |
 * | `gelu_new`    | 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))                      |
 * | `softmax`     | exp(x − max) / Σ exp(x − max) over the row                              |
 * | `logSoftmax`  | x − max − log Σ exp(x − max) over the row                               |
 *
 * Extensions (ONNX's recurrent-operator activations, `Activation::parametric(kind, α, β)`; no
 * TF.js name, not parsed by `fromName`, not differentiable: training refuses them):
 *
 * | kind                    | definition (α, β given)              | ONNX name         |
 * |-------------------------|--------------------------------------|-------------------|
 * | `Affine`                | α·x + β                              | `Affine`          |
 * | `LeakyRelu`             | x ≥ 0 ? x : α·x                      | `LeakyRelu`       |
 * | `ThresholdedRelu`       | x > α ? x : 0                        | `ThresholdedRelu` |
 * | `ScaledTanh`            | α·tanh(β·x)                          | `ScaledTanh`      |
 * | `ParametricHardSigmoid` | clip(α·x + β, 0, 1)                  | `HardSigmoid`     |
 * | `ParametricElu`         | x ≥ 0 ? x : α·(exp(x) − 1)           | `Elu`             |
 *
 * Names are TF.js class names, case-sensitive: `"hard_sigmoid"` is refused by `fromName` exactly
 * as TF.js constructors refuse it (Keras model.json files store that spelling; mapping it belongs
 * to model import, not to this parser).
 */
#ifndef RECURRENT_ACTIVATIONS_HPP
#define RECURRENT_ACTIVATIONS_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/errors.hpp>

#include <Eigen/Core>

#include <array>
#include <cmath>
#include <string>
#include <string_view>
#include <type_traits>

namespace recurrent {

namespace detail {
/// Eigen functor: vectorised tanh (double included). Defined in <recurrent/detail/activate.hpp>,
/// which this header includes at its end.
template <class Scalar>
struct TanhActivationOp;
}  // namespace detail

/// The activations, by TF.js name. `HardSigmoidKeras3` is an extension (Keras 3's x/6 + 0.5).
enum class ActivationKind {
  Tanh,
  Sigmoid,
  HardSigmoid,
  Relu,
  Relu6,
  Linear,
  Elu,
  Selu,
  Softplus,
  Softsign,
  Swish,
  Mish,
  Gelu,
  GeluNew,
  Softmax,
  LogSoftmax,
  HardSigmoidKeras3,
  // Parametric extensions (ONNX): Activation::parametric(kind, alpha, beta).
  Affine,
  LeakyRelu,
  ThresholdedRelu,
  ScaledTanh,
  ParametricHardSigmoid,
  ParametricElu,
};

namespace activations {

// Each policy transforms a block in place. `Block` is any writable Eigen matrix expression
// (typically a [batch, units] column block of a gate buffer). Element-wise policies work on
// `.array()`; Softmax/LogSoftmax work row by row.
#define RECURRENT_ELEMENTWISE_ACTIVATION(Name, expr)  \
  struct Name {                                       \
    template <class Block>                            \
    static void apply(Block&& block) {                \
      auto x = block.array();                         \
      using S = typename std::decay_t<Block>::Scalar; \
      (void)sizeof(S);                                \
      x = expr;                                       \
    }                                                 \
  }

RECURRENT_ELEMENTWISE_ACTIVATION(Sigmoid, S(1) / (S(1) + (-x).exp()));
RECURRENT_ELEMENTWISE_ACTIVATION(HardSigmoid, (S(0.2) * x + S(0.5)).max(S(0)).min(S(1)));
RECURRENT_ELEMENTWISE_ACTIVATION(HardSigmoidKeras3, (x / S(6) + S(0.5)).max(S(0)).min(S(1)));
RECURRENT_ELEMENTWISE_ACTIVATION(Relu, x.max(S(0)));
RECURRENT_ELEMENTWISE_ACTIVATION(Relu6, x.max(S(0)).min(S(6)));
RECURRENT_ELEMENTWISE_ACTIVATION(Elu, (x > S(0)).select(x, x.exp() - S(1)));
RECURRENT_ELEMENTWISE_ACTIVATION(Selu,
                                 S(1.0507009873554804934193349852946) *
                                     (x > S(0)).select(x, S(1.6732632423543772848170429916717) *
                                                              (x.exp() - S(1))));
RECURRENT_ELEMENTWISE_ACTIVATION(Softsign, x / (S(1) + x.abs()));
RECURRENT_ELEMENTWISE_ACTIVATION(Swish, x / (S(1) + (-x).exp()));
RECURRENT_ELEMENTWISE_ACTIVATION(
    GeluNew,
    S(0.5) * x *
        (S(1) +
         (S(std::sqrt(2.0 / 3.14159265358979323846)) * (x + S(0.044715) * x.cube())).tanh()));
#undef RECURRENT_ELEMENTWISE_ACTIVATION

/// Eigen's tanh for float; for double (which Eigen 3.4 leaves to std::tanh, one element at a time)
/// the vectorised `detail::ptanhActivation`, within a few ulp of std::tanh.
struct Tanh {
  template <class Block>
  static void apply(Block&& block) {
    using S = typename std::decay_t<Block>::Scalar;
    auto x = block.array();
    if constexpr (std::is_same<S, double>::value) {
      x = x.unaryExpr(detail::TanhActivationOp<S>());
    } else {
      x = x.tanh();
    }
  }
};

struct Linear {
  template <class Block>
  static void apply(Block&&) {}
};

/// TF.js softplus (tfjs-backend-cpu): thresholds at log(FLT_EPSILON) + 2 in every precision.
struct Softplus {
  template <class S>
  static S scalar(S x) {
    const S threshold = S(std::log(1.1920928955078125e-7) + 2.0);
    const S e = std::exp(x);
    if (x < threshold) return e;
    if (x > -threshold) return x;
    return std::log(S(1) + e);
  }
  template <class Block>
  static void apply(Block&& block) {
    using S = typename std::decay_t<Block>::Scalar;
    block = block.unaryExpr([](S v) { return scalar(v); });
  }
};

struct Mish {
  template <class Block>
  static void apply(Block&& block) {
    using S = typename std::decay_t<Block>::Scalar;
    block = block.unaryExpr([](S v) { return v * std::tanh(Softplus::scalar(v)); });
  }
};

struct Gelu {
  template <class Block>
  static void apply(Block&& block) {
    using S = typename std::decay_t<Block>::Scalar;
    block = block.unaryExpr([](S v) {
      return v * (S(0.5) * (S(1) + std::erf(v / S(1.4142135623730950488016887242097))));
    });
  }
};

/// Softmax over each row of the block (the units axis of one gate).
struct Softmax {
  template <class Block>
  static void apply(Block&& block) {
    for (Eigen::Index r = 0; r < block.rows(); ++r) {
      auto row = block.row(r).array();
      row = (row - row.maxCoeff()).exp();
      row /= row.sum();
    }
  }
};

/// log(softmax) over each row of the block.
struct LogSoftmax {
  template <class Block>
  static void apply(Block&& block) {
    for (Eigen::Index r = 0; r < block.rows(); ++r) {
      auto row = block.row(r).array();
      row -= row.maxCoeff();
      row -= std::log(row.exp().sum());
    }
  }
};

}  // namespace activations

/// A run-time activation: one of the TF.js names. Cheap to copy; `apply` dispatches once per block.
class Activation {
 public:
  constexpr Activation(ActivationKind kind = ActivationKind::Tanh)  // NOLINT: implicit from kind
      : kind_(kind) {}

  /// A parametric activation (the extension kinds `Affine` … `ParametricElu` of the file
  /// comment) with its α and β (unused ones ignored).
  /// @throws ConfigError when `kind` is not one of them.
  static Activation parametric(ActivationKind kind, double alpha, double beta = 0.0);

  /// Parses a TF.js activation name (`"tanh"`, `"hardSigmoid"`, `"gelu_new"`, ...).
  /// @throws ConfigError for an unknown name, as TF.js does.
  static Activation fromName(std::string_view name);

  /// The ConfigError text for an unknown name: TF.js's "Unknown activation: <name>. This may be
  /// due to one of the following reasons: ..." followed by ours (`argument`, then the names).
  static std::string unknownMessage(std::string_view name, std::string_view argument);

  /// The TF.js class name (`"hardSigmoid"`; `"hardSigmoidKeras3"` for the extension).
  const char* name() const { return names()[static_cast<std::size_t>(kind_)]; }
  constexpr ActivationKind kind() const { return kind_; }
  /// True for the parametric extension kinds (which take α, β and have no derivative here).
  constexpr bool isParametric() const { return kind_ >= ActivationKind::Affine; }
  constexpr double alpha() const { return alpha_; }
  constexpr double beta() const { return beta_; }
  friend constexpr bool operator==(Activation a, Activation b) {
    return a.kind_ == b.kind_ && a.alpha_ == b.alpha_ && a.beta_ == b.beta_;
  }
  friend constexpr bool operator!=(Activation a, Activation b) { return !(a == b); }

  /// Applies the activation in place to a writable block (Eigen matrix expression).
  template <class Block>
  void apply(Block&& block) const;

  /// Every kind; the first `kTfjsCount` are TF.js's names, then `hardSigmoidKeras3`
  /// (`kModelFileCount`: the names a model file may hold), then the parametric extensions.
  static constexpr std::size_t kCount = 23;
  static constexpr std::size_t kTfjsCount = 16;
  static constexpr std::size_t kModelFileCount = 17;
  static const std::array<const char*, kCount>& names() {
    static const std::array<const char*, kCount> kNames = {"tanh",
                                                           "sigmoid",
                                                           "hardSigmoid",
                                                           "relu",
                                                           "relu6",
                                                           "linear",
                                                           "elu",
                                                           "selu",
                                                           "softplus",
                                                           "softsign",
                                                           "swish",
                                                           "mish",
                                                           "gelu",
                                                           "gelu_new",
                                                           "softmax",
                                                           "logSoftmax",
                                                           "hardSigmoidKeras3",
                                                           "affine",
                                                           "leakyRelu",
                                                           "thresholdedRelu",
                                                           "scaledTanh",
                                                           "parametricHardSigmoid",
                                                           "parametricElu"};
    return kNames;
  }

 private:
  ActivationKind kind_;
  double alpha_ = 0.0, beta_ = 0.0;
};

// ---------------------------------------------------------------------------------------------
// implementation
// ---------------------------------------------------------------------------------------------

inline Activation Activation::parametric(ActivationKind kind, double alpha, double beta) {
  Activation a(kind);
  if (!a.isParametric())
    detail::raise<ConfigError>("Activation.parametric",
                               std::string("kind: expected one of the parametric kinds (affine, "
                                           "leakyRelu, thresholdedRelu, scaledTanh, "
                                           "parametricHardSigmoid, parametricElu), got ") +
                                   a.name());
  a.alpha_ = alpha;
  a.beta_ = beta;
  return a;
}

inline Activation Activation::fromName(std::string_view name) {
  // The Keras-3 hard sigmoid is not a TF.js name: only the 16 TF.js names parse.
  for (std::size_t i = 0; i < kTfjsCount; ++i) {
    if (name == names()[i]) return Activation(static_cast<ActivationKind>(i));
  }
  detail::raise<ConfigError>("Activation.fromName", unknownMessage(name, "the name"));
}

inline std::string Activation::unknownMessage(std::string_view name, std::string_view argument) {
  std::string list;
  for (std::size_t i = 0; i < kTfjsCount; ++i) {
    if (i > 0) list += ", ";
    list += names()[i];
  }
  return "Unknown activation: " + std::string(name) +
         ". This may be due to one of the following reasons: " + std::string(argument) +
         " is not one of the TF.js activation names, which are case-sensitive (" + list +
         "); custom activations are not supported.";
}

template <class Block>
void Activation::apply(Block&& block) const {
  namespace a = activations;
  switch (kind_) {
    case ActivationKind::Tanh:
      return a::Tanh::apply(block);
    case ActivationKind::Sigmoid:
      return a::Sigmoid::apply(block);
    case ActivationKind::HardSigmoid:
      return a::HardSigmoid::apply(block);
    case ActivationKind::Relu:
      return a::Relu::apply(block);
    case ActivationKind::Relu6:
      return a::Relu6::apply(block);
    case ActivationKind::Linear:
      return a::Linear::apply(block);
    case ActivationKind::Elu:
      return a::Elu::apply(block);
    case ActivationKind::Selu:
      return a::Selu::apply(block);
    case ActivationKind::Softplus:
      return a::Softplus::apply(block);
    case ActivationKind::Softsign:
      return a::Softsign::apply(block);
    case ActivationKind::Swish:
      return a::Swish::apply(block);
    case ActivationKind::Mish:
      return a::Mish::apply(block);
    case ActivationKind::Gelu:
      return a::Gelu::apply(block);
    case ActivationKind::GeluNew:
      return a::GeluNew::apply(block);
    case ActivationKind::Softmax:
      return a::Softmax::apply(block);
    case ActivationKind::LogSoftmax:
      return a::LogSoftmax::apply(block);
    case ActivationKind::HardSigmoidKeras3:
      return a::HardSigmoidKeras3::apply(block);
    default:
      break;
  }
  // The parametric extensions, in the scalar type of the block (onnxruntime computes in float).
  using S = typename std::decay_t<Block>::Scalar;
  auto x = block.array();
  const S alpha = S(alpha_), beta = S(beta_);
  switch (kind_) {
    case ActivationKind::Affine:
      x = alpha * x + beta;
      return;
    case ActivationKind::LeakyRelu:
      x = (x >= S(0)).select(x, alpha * x);
      return;
    case ActivationKind::ThresholdedRelu:
      x = (x > alpha).select(x, S(0));
      return;
    case ActivationKind::ScaledTanh:
      x = beta * x;
      a::Tanh::apply(block);
      x *= alpha;
      return;
    case ActivationKind::ParametricHardSigmoid:
      x = (alpha * x + beta).max(S(0)).min(S(1));
      return;
    case ActivationKind::ParametricElu:
      x = (x >= S(0)).select(x, alpha * (x.exp() - S(1)));
      return;
    default:
      return;
  }
}

}  // namespace recurrent

// Last: it builds on everything above (and defines detail::TanhActivationOp).
#include <recurrent/detail/activate.hpp>

#endif  // RECURRENT_ACTIVATIONS_HPP
