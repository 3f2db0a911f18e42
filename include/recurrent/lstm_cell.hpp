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
    const Index u = this->units_;
    const auto& U = this->recurrentKernel_;
    if constexpr (Dropout) {
      const auto& m = this->recurrentMask_;
      if (m.active()) {
        for (Index g = 0; g < (m.count() == 1 ? 1 : 4); ++g) {
          this->maskedRecurrent(prev.leftCols(u), g, hMasked_);
          if (m.count() == 1) {
            gates_.noalias() = hMasked_ * U;
          } else {
            gates_.middleCols(g * u, u).noalias() = hMasked_ * U.middleCols(g * u, u);
          }
        }
        return finish(xProj, prev, next);
      }
    }
    gates_.noalias() = prev.leftCols(u) * U;
    finish(xProj, prev, next);
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

  void finish(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    const Index u = this->units_;
    gates_ += xProj;
    auto i = gates_.leftCols(u);
    auto f = gates_.middleCols(u, u);
    auto g = gates_.middleCols(2 * u, u);
    auto o = gates_.rightCols(u);
    recurrentActivation_.apply(i);
    recurrentActivation_.apply(f);
    this->activation_.apply(g);
    recurrentActivation_.apply(o);
    auto c = next.rightCols(u);
    c.array() = f.array() * prev.rightCols(u).array() + i.array() * g.array();
    hMasked_ = c;  // reuse as scratch: activation(c')
    this->activation_.apply(hMasked_);
    next.leftCols(u).array() = o.array() * hMasked_.array();
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
