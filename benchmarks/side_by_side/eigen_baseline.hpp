// The plain-Eigen baseline: what a user would write with Eigen alone, without this library.
//
//   XW = X·W + b                  one GEMM for every (sample, step) row, [B·T, G·H]
//   for t in 0..T-1:
//     R = h·U                     Eigen GEMM, [B, G·H]
//     gates with Eigen array expressions (sigmoid = 1 / (1 + exp(−x)), tanh)
//     out[:, t, :] = h
//
// Row-major matrices throughout, like the [B, T, I] data, so X and the output are mapped without
// copies. Threads: Eigen's own GEMM parallelisation (OpenMP, Eigen::setNbThreads), nothing else.
//
// EigenBaselineTraining: the same forward keeping what the backward needs (the activated gates of
// every step, h_{t−1}, LSTM's c_t, GRU's r ⊙ h_{t−1} or its recurrent h part), then BPTT:
//
//   for t in T−1..0:
//     dh = dY[:, t, :] + dh_next
//     dA_t = ∂L/∂(gate pre-activations), element-wise from the kept values
//     dh_next = dA_t·Uᵀ (+ the element-wise terms of the GRU), Eigen GEMM, [B, H]
//   dX = dA·Wᵀ, dW = Xᵀ·dA, dU = H_prevᵀ·dA, db = Σ_rows dA   one GEMM each over all B·T rows
#ifndef RECURRENT_BENCHMARKS_EIGEN_BASELINE_HPP
#define RECURRENT_BENCHMARKS_EIGEN_BASELINE_HPP

#include "bench_common.hpp"

#include <Eigen/Core>

namespace bench {

/// 1 / (1 + exp(−x)), an Eigen array expression.
template <class E>
auto eigenSigmoid(const E& x) {
  return (1.0f + (-x).exp()).inverse();
}

class EigenBaseline {
 public:
  using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic>;
  using Strided = Eigen::Map<Matrix, 0, Eigen::OuterStride<>>;
  using ConstStrided = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>;

  explicit EigenBaseline(const CaseData& d)
      : cell_(d.cell),
        batch_(d.workload.batch),
        time_(d.workload.time),
        input_(d.workload.input),
        units_(d.workload.units) {
    const Index g = gateCount(cell_), h = units_;
    W_ = Eigen::Map<const Matrix>(d.kernel.data(), input_, g * h);
    U_ = Eigen::Map<const Matrix>(d.recurrentKernel.data(), h, g * h);
    b_ = Eigen::Map<const RowVector>(d.bias.data(), g * h);
    if (cell_ == CellKind::GRUResetAfter)
      bRecurrent_ = Eigen::Map<const RowVector>(d.bias.data() + g * h, g * h);
    xw_.resize(batch_ * time_, g * h);
    rec_.resize(batch_, g * h);
    h_.resize(batch_, h);
    c_.resize(batch_, h);
    tmp_.resize(batch_, h);
  }

  /// x: [B, T, I]; out: [B, T, H].
  void run(const float* x, float* out) {
    const Index g = gateCount(cell_), h = units_, width = g * h;
    Eigen::Map<const Matrix> X(x, batch_ * time_, input_);
    xw_.noalias() = X * W_;
    xw_.rowwise() += b_;
    h_.setZero();
    c_.setZero();
    for (Index t = 0; t < time_; ++t) {
      ConstStrided xt(xw_.data() + t * width, batch_, width, Eigen::OuterStride<>(time_ * width));
      switch (cell_) {
        case CellKind::LSTM: {
          rec_.noalias() = h_ * U_;
          rec_ += xt;
          auto i = eigenSigmoid(rec_.leftCols(h).array());
          auto f = eigenSigmoid(rec_.middleCols(h, h).array());
          auto o = eigenSigmoid(rec_.rightCols(h).array());
          c_.array() = f * c_.array() + i * rec_.middleCols(2 * h, h).array().tanh();
          h_.array() = o * c_.array().tanh();
          break;
        }
        case CellKind::GRU: {  // reset gate before the recurrent product (TF.js)
          rec_.leftCols(2 * h).noalias() = h_ * U_.leftCols(2 * h);
          rec_.leftCols(2 * h) += xt.leftCols(2 * h);
          rec_.leftCols(2 * h).array() = eigenSigmoid(rec_.leftCols(2 * h).array());
          tmp_.array() = rec_.middleCols(h, h).array() * h_.array();  // r ⊙ h
          rec_.rightCols(h).noalias() = tmp_ * U_.rightCols(h);
          rec_.rightCols(h) += xt.rightCols(h);
          auto z = rec_.leftCols(h).array();
          h_.array() = z * h_.array() + (1.0f - z) * rec_.rightCols(h).array().tanh();
          break;
        }
        case CellKind::GRUResetAfter: {  // Keras reset_after / cuDNN / PyTorch
          rec_.noalias() = h_ * U_;
          rec_.rowwise() += bRecurrent_;
          rec_.leftCols(2 * h).array() =
              eigenSigmoid(xt.leftCols(2 * h).array() + rec_.leftCols(2 * h).array());
          auto z = rec_.leftCols(h).array();
          auto r = rec_.middleCols(h, h).array();
          tmp_.array() = (xt.rightCols(h).array() + r * rec_.rightCols(h).array()).tanh();
          h_.array() = z * h_.array() + (1.0f - z) * tmp_.array();
          break;
        }
        case CellKind::SimpleRNN: {
          rec_.noalias() = h_ * U_;
          h_.array() = (rec_.array() + xt.array()).tanh();
          break;
        }
      }
      Strided(out + t * h, batch_, h, Eigen::OuterStride<>(time_ * h)) = h_;
    }
  }

 private:
  CellKind cell_;
  Index batch_, time_, input_, units_;
  Matrix W_, U_;
  RowVector b_, bRecurrent_;
  Matrix xw_, rec_, h_, c_, tmp_;
};

/// The baseline's training step: forward keeping the gates, then BPTT (see the file comment).
/// Everything is sized in the constructor; `run` allocates nothing.
class EigenBaselineTraining {
 public:
  using Matrix = EigenBaseline::Matrix;
  using RowVector = EigenBaseline::RowVector;
  using Strided = EigenBaseline::Strided;
  using ConstStrided = EigenBaseline::ConstStrided;

  explicit EigenBaselineTraining(const CaseData& d)
      : cell_(d.cell),
        batch_(d.workload.batch),
        time_(d.workload.time),
        input_(d.workload.input),
        units_(d.workload.units) {
    const Index g = gateCount(cell_), h = units_, rows = batch_ * time_;
    W_ = Eigen::Map<const Matrix>(d.kernel.data(), input_, g * h);
    U_ = Eigen::Map<const Matrix>(d.recurrentKernel.data(), h, g * h);
    b_ = Eigen::Map<const RowVector>(d.bias.data(), g * h);
    if (cell_ == CellKind::GRUResetAfter) {
      bRecurrent_ = Eigen::Map<const RowVector>(d.bias.data() + g * h, g * h);
      dR_.resize(rows, g * h);
    }
    xw_.resize(rows, g * h);
    act_.resize(rows, g * h);
    dA_.resize(rows, g * h);
    hPrev_.resize(rows, h);
    if (cell_ != CellKind::SimpleRNN) kept_.resize(rows, h);  // LSTM c_t, GRU r ⊙ h / U_h·h
    rec_.resize(batch_, g * h);
    h_.resize(batch_, h);
    c_.resize(batch_, h);
    dh_.resize(batch_, h);
    dhNext_.resize(batch_, h);
    dcNext_.resize(batch_, h);
    tmp_.resize(batch_, h);
  }

  /// x: [B, T, I], dy: [B, T, H] in; y: [B, T, H], dx: [B, T, I], kernel gradient [I, G·H],
  /// recurrent kernel gradient [H, G·H], bias gradient [G·H] (reset-after GRU: [2, 3H]) out.
  void run(const float* x, const float* dy, float* y, float* dx, float* dKernel,
           float* dRecurrentKernel, float* dBias) {
    forward(x, y);
    backward(x, dy, dx, dKernel, dRecurrentKernel, dBias);
  }

 private:
  Strided step(Matrix& m, Index t) {  // the rows of step t of a [B·T, C] matrix
    return Strided(m.data() + t * m.cols(), batch_, m.cols(),
                   Eigen::OuterStride<>(time_ * m.cols()));
  }

  void forward(const float* x, float* out) {
    const Index g = gateCount(cell_), h = units_, width = g * h;
    Eigen::Map<const Matrix> X(x, batch_ * time_, input_);
    xw_.noalias() = X * W_;
    xw_.rowwise() += b_;
    h_.setZero();
    c_.setZero();
    for (Index t = 0; t < time_; ++t) {
      ConstStrided xt(xw_.data() + t * width, batch_, width, Eigen::OuterStride<>(time_ * width));
      Strided a = step(act_, t);
      step(hPrev_, t) = h_;
      switch (cell_) {
        case CellKind::LSTM: {  // act = i, f, c̃, o; kept = c_t
          rec_.noalias() = h_ * U_;
          rec_ += xt;
          a.leftCols(2 * h).array() = eigenSigmoid(rec_.leftCols(2 * h).array());
          a.middleCols(2 * h, h).array() = rec_.middleCols(2 * h, h).array().tanh();
          a.rightCols(h).array() = eigenSigmoid(rec_.rightCols(h).array());
          c_.array() = a.middleCols(h, h).array() * c_.array() +
                       a.leftCols(h).array() * a.middleCols(2 * h, h).array();
          step(kept_, t) = c_;
          h_.array() = a.rightCols(h).array() * c_.array().tanh();
          break;
        }
        case CellKind::GRU: {  // act = z, r, h̃; kept = r ⊙ h_{t−1}
          rec_.leftCols(2 * h).noalias() = h_ * U_.leftCols(2 * h);
          rec_.leftCols(2 * h) += xt.leftCols(2 * h);
          a.leftCols(2 * h).array() = eigenSigmoid(rec_.leftCols(2 * h).array());
          tmp_.array() = a.middleCols(h, h).array() * h_.array();
          step(kept_, t) = tmp_;
          rec_.rightCols(h).noalias() = tmp_ * U_.rightCols(h);
          rec_.rightCols(h) += xt.rightCols(h);
          a.rightCols(h).array() = rec_.rightCols(h).array().tanh();
          auto z = a.leftCols(h).array();
          h_.array() = z * h_.array() + (1.0f - z) * a.rightCols(h).array();
          break;
        }
        case CellKind::GRUResetAfter: {  // act = z, r, h̃; kept = U_h·h_{t−1} + b_rh
          rec_.noalias() = h_ * U_;
          rec_.rowwise() += bRecurrent_;
          a.leftCols(2 * h).array() =
              eigenSigmoid(xt.leftCols(2 * h).array() + rec_.leftCols(2 * h).array());
          step(kept_, t) = rec_.rightCols(h);
          a.rightCols(h).array() =
              (xt.rightCols(h).array() + a.middleCols(h, h).array() * rec_.rightCols(h).array())
                  .tanh();
          auto z = a.leftCols(h).array();
          h_.array() = z * h_.array() + (1.0f - z) * a.rightCols(h).array();
          break;
        }
        case CellKind::SimpleRNN: {  // act = h_t
          rec_.noalias() = h_ * U_;
          h_.array() = (rec_.array() + xt.array()).tanh();
          a = h_;
          break;
        }
      }
      Strided(out + t * h, batch_, h, Eigen::OuterStride<>(time_ * h)) = h_;
    }
  }

  void backward(const float* x, const float* dy, float* dx, float* dKernel, float* dRecurrentKernel,
                float* dBias) {
    const Index g = gateCount(cell_), h = units_, width = g * h;
    dhNext_.setZero();
    dcNext_.setZero();
    for (Index t = time_ - 1; t >= 0; --t) {
      dh_ = ConstStrided(dy + t * h, batch_, h, Eigen::OuterStride<>(time_ * h));
      dh_ += dhNext_;
      Strided a = step(act_, t), dA = step(dA_, t), hp = step(hPrev_, t);
      auto dh = dh_.array();
      switch (cell_) {
        case CellKind::LSTM: {
          auto i = a.leftCols(h).array(), f = a.middleCols(h, h).array();
          auto c = a.middleCols(2 * h, h).array(), o = a.rightCols(h).array();
          tmp_.array() = step(kept_, t).array().tanh();  // tanh(c_t)
          auto tc = tmp_.array();
          dcNext_.array() += dh * o * (1.0f - tc.square());  // dc_t
          auto dc = dcNext_.array();
          dA.rightCols(h).array() = dh * tc * o * (1.0f - o);
          dA.leftCols(h).array() = dc * c * i * (1.0f - i);
          if (t > 0)
            dA.middleCols(h, h).array() = dc * step(kept_, t - 1).array() * f * (1.0f - f);
          else
            dA.middleCols(h, h).setZero();  // c_{−1} = 0
          dA.middleCols(2 * h, h).array() = dc * i * (1.0f - c.square());
          dcNext_.array() *= f;
          dhNext_.noalias() = dA * U_.transpose();
          break;
        }
        case CellKind::GRU: {
          auto z = a.leftCols(h).array(), r = a.middleCols(h, h).array();
          auto hh = a.rightCols(h).array();
          dA.rightCols(h).array() = dh * (1.0f - z) * (1.0f - hh.square());
          tmp_.noalias() = dA.rightCols(h) * U_.rightCols(h).transpose();  // ∂L/∂(r ⊙ h)
          dA.leftCols(h).array() = dh * (hp.array() - hh) * z * (1.0f - z);
          dA.middleCols(h, h).array() = tmp_.array() * hp.array() * r * (1.0f - r);
          dhNext_.array() = dh * z + tmp_.array() * r;
          dhNext_.noalias() += dA.leftCols(2 * h) * U_.leftCols(2 * h).transpose();
          break;
        }
        case CellKind::GRUResetAfter: {
          Strided dR = step(dR_, t);
          auto z = a.leftCols(h).array(), r = a.middleCols(h, h).array();
          auto hh = a.rightCols(h).array();
          dA.rightCols(h).array() = dh * (1.0f - z) * (1.0f - hh.square());
          dR.rightCols(h).array() = dA.rightCols(h).array() * r;
          dA.middleCols(h, h).array() =
              dA.rightCols(h).array() * step(kept_, t).array() * r * (1.0f - r);
          dA.leftCols(h).array() = dh * (hp.array() - hh) * z * (1.0f - z);
          dR.leftCols(2 * h) = dA.leftCols(2 * h);
          dhNext_.array() = dh * z;
          dhNext_.noalias() += dR * U_.transpose();
          break;
        }
        case CellKind::SimpleRNN: {
          dA.array() = dh * (1.0f - a.array().square());
          dhNext_.noalias() = dA * U_.transpose();
          break;
        }
      }
    }
    Eigen::Map<const Matrix> X(x, batch_ * time_, input_);
    Eigen::Map<Matrix>(dx, batch_ * time_, input_).noalias() = dA_ * W_.transpose();
    Eigen::Map<Matrix>(dKernel, input_, width).noalias() = X.transpose() * dA_;
    Eigen::Map<Matrix> dU(dRecurrentKernel, h, width);
    Eigen::Map<RowVector>(dBias, width) = dA_.colwise().sum();
    switch (cell_) {
      case CellKind::GRU:  // the h̃ columns multiply r ⊙ h_{t−1}
        dU.leftCols(2 * h).noalias() = hPrev_.transpose() * dA_.leftCols(2 * h);
        dU.rightCols(h).noalias() = kept_.transpose() * dA_.rightCols(h);
        break;
      case CellKind::GRUResetAfter:
        dU.noalias() = hPrev_.transpose() * dR_;
        Eigen::Map<RowVector>(dBias + width, width) = dR_.colwise().sum();
        break;
      default:
        dU.noalias() = hPrev_.transpose() * dA_;
        break;
    }
  }

  CellKind cell_;
  Index batch_, time_, input_, units_;
  Matrix W_, U_;
  RowVector b_, bRecurrent_;
  Matrix xw_, act_, dA_, dR_, hPrev_, kept_;         // [B·T, ·], row b·T + t
  Matrix rec_, h_, c_, dh_, dhNext_, dcNext_, tmp_;  // [B, ·]
};

}  // namespace bench

#endif  // RECURRENT_BENCHMARKS_EIGEN_BASELINE_HPP
