/** @file
 * `LSTMCell`: the long short-term memory cell.
 */
#ifndef RECURRENT_LSTM_CELL_HPP
#define RECURRENT_LSTM_CELL_HPP

#include <recurrent/rnn_cell.hpp>

namespace recurrent {

/// Arguments of `LSTMCell` (TF.js `LSTMCellLayerArgs`).
struct LSTMCellArgs : CellArgs {
  Activation recurrentActivation = ActivationKind::HardSigmoid;  ///< TF.js default
  bool unitForgetBias = false;  ///< initialise the forget-gate bias to 1 (initializer only)
  int implementation = 1;       ///< accepted for TF.js compatibility; has no effect
};

/**
 * @brief Long short-term memory cell (TF.js `tf.layers.lstmCell`).
 *
 * Gate order along the fused last axis: **i, f, c, o** (input, forget, cell candidate, output),
 * each `units` wide.
 *
 *     a  = (x ⊙ m_x)·W + (h ⊙ m_h)·U + b          [batch, 4·units]
 *     i  = recurrentActivation(a_i)
 *     f  = recurrentActivation(a_f)
 *     c' = f ⊙ c + i ⊙ activation(a_c)
 *     o  = recurrentActivation(a_o)
 *     h' = o ⊙ activation(c')
 *
 * | weight               | shape                  |
 * |----------------------|------------------------|
 * | `kernel` W           | `[inputDim, 4·units]`  |
 * | `recurrent_kernel` U | `[units, 4·units]`     |
 * | `bias` b             | `[4·units]`            |
 *
 * States (TF.js order): `[h, c]`, each `[batch, units]`. Output: `h'`.
 * `unitForgetBias` only changes the bias initializer (forget block = 1).
 */
template <class Scalar_ = float, int Units = Eigen::Dynamic, int InputDim = Eigen::Dynamic>
class LSTMCell : public RNNCell<LSTMCell<Scalar_, Units, InputDim>> {
  using Base = RNNCell<LSTMCell>;

 public:
  using Scalar = Scalar_;
  using Args = LSTMCellArgs;
  static constexpr int kGates = 4;
  static constexpr int kStateCount = 2;

  explicit LSTMCell(const LSTMCellArgs& args)
      : Base(args, "lstm_cell"),
        recurrentActivation_(args.recurrentActivation),
        unitForgetBias_(args.unitForgetBias),
        implementation_(args.implementation) {}

  static const char* className() { return "LSTMCell"; }
  Activation recurrentActivation() const { return recurrentActivation_; }
  bool unitForgetBias() const { return unitForgetBias_; }
  int implementation() const { return implementation_; }

  /// One step: see the class comment.
  template <bool Dropout>
  void step(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    const Index u = this->units_, batch = prev.rows();
    const Scalar* h = prev.data();
    Index ldh = prev.outerStride();
    if constexpr (Dropout) {
      const auto& m = this->recurrentMask_;
      if (m.active() && m.count() != 1) {  // Keras per-gate masks: one product per gate
        const auto& U = this->recurrentKernel_;
        for (Index g = 0; g < 4; ++g) {
          this->maskedRecurrent(prev.leftCols(u), g, hMasked_);
          gates_.middleCols(g * u, u).noalias() = hMasked_ * U.middleCols(g * u, u);
        }
        gates_ += xProj;
        return finish(prev, next);
      }
      if (m.active()) {
        this->maskedRecurrent(prev.leftCols(u), 0, hMasked_);
        h = hMasked_.data();
        ldh = u;
      }
    }
    this->template gemm<Units, Base::times(4, Units)>(batch, h, ldh, this->packedRecurrent_,
                                                      xProj.data(), xProj.outerStride(),
                                                      gates_.data(), 4 * u);
    finish(prev, next);
  }

 private:
  friend Base;
  static Index biasRows() { return 1; }
  static const char* biasHint(const std::vector<Index>&) { return nullptr; }
  void adjustInitialBias() {
    if (unitForgetBias_) this->bias_.middleCols(this->units_, this->units_).setOnes();
  }
  void prepareScratch(Index batch) {
    gates_.resize(batch, 4 * this->units_);
    hMasked_.resize(batch, this->units_);
  }

  // gates_ holds a = x·W + h·U + b; computes the new [h | c] row by row (with compile-time
  // widths when the cell has compile-time units).
  void finish(const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    using Array = Eigen::Array<Scalar, 1, Units>;
    constexpr int kU = Units, k2U = Base::times(2, Units);
    const Index u = this->units_;
    const bool together = this->isElementwise(recurrentActivation_);
    this->forRows(gates_.rows(), [&](Index b) {
      Scalar* a = gates_.data() + b * 4 * u;
      if (together) {  // i and f share one pass
        this->template activateRow<k2U>(recurrentActivation_, a, 2 * u);
      } else {
        this->template activateRow<kU>(recurrentActivation_, a, u);
        this->template activateRow<kU>(recurrentActivation_, a + u, u);
      }
      this->template activateRow<kU>(this->activation_, a + 2 * u, u);
      this->template activateRow<kU>(recurrentActivation_, a + 3 * u, u);
      const Eigen::Map<const Array> i(a, u), f(a + u, u), g(a + 2 * u, u), o(a + 3 * u, u);
      const Eigen::Map<const Array> cPrev(prev.data() + b * prev.outerStride() + u, u);
      Eigen::Map<Array> h(next.data() + b * next.outerStride(), u), c(h.data() + u, u);
      c = f * cPrev + i * g;
      h = c;
      this->template activateRow<kU>(this->activation_, h.data(), u);
      h *= o;
    });
  }

  Activation recurrentActivation_;
  bool unitForgetBias_ = false;
  int implementation_ = 1;
  Matrix<Scalar> gates_, hMasked_;
};

template <class S, int U, int I>
struct CellTraits<LSTMCell<S, U, I>> {
  using Scalar = S;
  static constexpr int kUnits = U;
  static constexpr int kInputDim = I;
  static constexpr int kGates = 4;
};

}  // namespace recurrent

#endif  // RECURRENT_LSTM_CELL_HPP
