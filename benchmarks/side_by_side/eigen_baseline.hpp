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

}  // namespace bench

#endif  // RECURRENT_BENCHMARKS_EIGEN_BASELINE_HPP
