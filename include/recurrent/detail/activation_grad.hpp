/** @file
 * Derivatives of the activations, as TF.js's autodiff computes them (tfjs-core
 * `src/gradients/<Op>_grad.ts` applied to the ops tfjs-layers builds each activation from).
 *
 * `activationGrad(kind, x, y, d, n)` turns the upstream gradient `d = ∂L/∂y` of one row of one
 * gate (`n` contiguous values) into `∂L/∂x` in place; `x` is the pre-activation, `y` the
 * activation's output (either may be null when `needsPreActivation` / `needsOutput` say the kind
 * does not read it). At the points where an activation has no derivative, the value is TF.js's:
 *
 * | kind        | derivative                           | at the kinks (TF.js)                     |
 * |-------------|--------------------------------------|------------------------------------------|
 * | tanh        | 1 − y²                               |                                          |
 * | sigmoid     | y·(1 − y)                            |                                          |
 * | hardSigmoid | 0.2 where 0 ≤ 0.2x + 0.5 ≤ 1, else 0 | 0.2 at x = ±2.5 (clip passes inclusive)  |
 * | relu        | x > 0 ? 1 : 0                        | 0 at 0                                   |
 * | relu6       | 0 < x < 6 ? 1 : 0                    | 0 at 0 and at 6 (min(6, relu(x)))        |
 * | linear      | 1                                    |                                          |
 * | elu         | y ≥ 0 ? 1 : y + 1                    | 1 at 0 (EluGrad reads y)                 |
 * | selu        | x > 0 ? s : s·a·exp(x)               | s·a at 0 (the left branch)               |
 * | softplus    | sigmoid(x)                           |                                          |
 * | softsign    | 1 / (1 + |x|)²                       |                                          |
 * | swish       | σ + x·σ·(1 − σ), σ = sigmoid(x)      |                                          |
 * | mish        | t + x·(1 − t²)·sigmoid(x), t = tanh(softplus(x)) |                              |
 * | gelu        | Φ(x) + x·φ(x)                        |                                          |
 * | gelu_new    | ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²) |                                |
 * | softmax     | y ⊙ d − y·Σ(y ⊙ d) over the row      |                                          |
 * | logSoftmax  | d − exp(y)·Σd over the row           |                                          |
 *
 * (`hardSigmoidKeras3`, an extension: 1/6 where 0 ≤ x/6 + 0.5 ≤ 1, inclusive like hardSigmoid.)
 * Nothing here allocates or throws.
 */
#ifndef RECURRENT_DETAIL_ACTIVATION_GRAD_HPP
#define RECURRENT_DETAIL_ACTIVATION_GRAD_HPP

#include <recurrent/activations.hpp>

#include <Eigen/Core>

#include <cmath>

namespace recurrent::detail {

using Eigen::Index;

/// True when the derivative of `kind` reads the pre-activation x (else only the output y).
constexpr bool needsPreActivation(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::Tanh:
    case ActivationKind::Sigmoid:
    case ActivationKind::Linear:
    case ActivationKind::Elu:
    case ActivationKind::Softmax:
    case ActivationKind::LogSoftmax:
      return false;
    default:
      return true;
  }
}

/// `d ← ∂L/∂x` from `d = ∂L/∂y` for one row of `n` values (see the file comment).
template <class Scalar>
void activationGrad(ActivationKind kind, const Scalar* xPtr, const Scalar* yPtr, Scalar* dPtr,
                    Index n) {
  using Array = Eigen::Array<Scalar, 1, Eigen::Dynamic>;
  using In = Eigen::Map<const Array>;
  Eigen::Map<Array> d(dPtr, n);
  const Scalar one(1), zero(0);
  switch (kind) {
    case ActivationKind::Affine:
    case ActivationKind::LeakyRelu:
    case ActivationKind::ThresholdedRelu:
    case ActivationKind::ScaledTanh:
    case ActivationKind::ParametricHardSigmoid:
    case ActivationKind::ParametricElu:
      return;  // never reached: a recording call refuses parametric activations
    case ActivationKind::Linear:
      return;
    case ActivationKind::Tanh: {
      const In y(yPtr, n);
      d *= one - y * y;
      return;
    }
    case ActivationKind::Sigmoid: {
      const In y(yPtr, n);
      d *= y * (one - y);
      return;
    }
    case ActivationKind::HardSigmoid: {
      // The forward's own arithmetic for the clipped value, so the boundary test sees its z.
      const In x(xPtr, n);
      const auto z = Scalar(0.2) * x + Scalar(0.5);
      d = (z >= zero && z <= one).select(d * Scalar(0.2), zero);
      return;
    }
    case ActivationKind::HardSigmoidKeras3: {
      const In x(xPtr, n);
      const auto z = x / Scalar(6) + Scalar(0.5);
      d = (z >= zero && z <= one).select(d / Scalar(6), zero);
      return;
    }
    case ActivationKind::Relu: {
      const In x(xPtr, n);
      d = (x > zero).select(d, zero);
      return;
    }
    case ActivationKind::Relu6: {
      const In x(xPtr, n);
      d = (x > zero && x < Scalar(6)).select(d, zero);
      return;
    }
    case ActivationKind::Elu: {
      const In y(yPtr, n);
      d = (y >= zero).select(d, d * (y + one));
      return;
    }
    case ActivationKind::Selu: {
      const In x(xPtr, n);
      const auto scale = static_cast<Scalar>(1.0507009873554804934193349852946);
      const auto alpha = static_cast<Scalar>(1.6732632423543772848170429916717);
      d = (x > zero).select(d * scale, d * (scale * alpha) * x.exp());
      return;
    }
    case ActivationKind::Softplus: {
      const In x(xPtr, n);
      d *= one / (one + (-x).exp());
      return;
    }
    case ActivationKind::Softsign: {
      const In x(xPtr, n);
      d /= (one + x.abs()).square();
      return;
    }
    case ActivationKind::Swish: {
      for (Index k = 0; k < n; ++k) {
        const Scalar x = xPtr[k];
        const Scalar sg = one / (one + std::exp(-x));
        dPtr[k] *= sg + x * sg * (one - sg);
      }
      return;
    }
    case ActivationKind::Mish: {
      for (Index k = 0; k < n; ++k) {
        const Scalar x = xPtr[k];
        const Scalar t = std::tanh(activations::Softplus::scalar(x));
        const Scalar s = one / (one + std::exp(-x));
        dPtr[k] *= t + x * (one - t * t) * s;
      }
      return;
    }
    case ActivationKind::Gelu: {
      const auto invSqrt2 = static_cast<Scalar>(0.70710678118654752440084436210485);
      const auto invSqrt2Pi = static_cast<Scalar>(0.39894228040143267793994605993438);
      for (Index k = 0; k < n; ++k) {
        const Scalar x = xPtr[k];
        const Scalar cdf = Scalar(0.5) * (one + std::erf(x * invSqrt2));
        dPtr[k] *= cdf + x * invSqrt2Pi * std::exp(Scalar(-0.5) * x * x);
      }
      return;
    }
    case ActivationKind::GeluNew: {
      const auto c = static_cast<Scalar>(std::sqrt(2.0 / 3.14159265358979323846));
      const auto k3 = static_cast<Scalar>(0.044715);
      for (Index k = 0; k < n; ++k) {
        const Scalar x = xPtr[k];
        const Scalar t = std::tanh(c * (x + k3 * x * x * x));
        dPtr[k] *= Scalar(0.5) * (one + t) +
                   Scalar(0.5) * x * (one - t * t) * c * (one + Scalar(3) * k3 * x * x);
      }
      return;
    }
    case ActivationKind::Softmax: {
      const In y(yPtr, n);
      const Scalar dot = (y * d).sum();
      d = y * d - y * dot;
      return;
    }
    case ActivationKind::LogSoftmax: {
      const In y(yPtr, n);
      const Scalar sum = d.sum();
      d -= y.exp() * sum;
      return;
    }
  }
}

}  // namespace recurrent::detail

#endif  // RECURRENT_DETAIL_ACTIVATION_GRAD_HPP
