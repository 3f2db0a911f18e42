/** @file
 * `SimpleRNNCell`: the fully-connected recurrent cell.
 */
#ifndef RECURRENT_SIMPLE_RNN_CELL_HPP
#define RECURRENT_SIMPLE_RNN_CELL_HPP

#include <recurrent/rnn_cell.hpp>

namespace recurrent {

/// Arguments of `SimpleRNNCell` (TF.js `SimpleRNNCellLayerArgs`): see `CellArgs`.
struct SimpleRNNCellArgs : CellArgs {};

/**
 * @brief Fully-connected RNN cell (TF.js `tf.layers.simpleRNNCell`).
 *
 * Equations (one step, batch rows independent):
 *
 *     h' = activation( (x ⊙ m_x)·W + b + (h ⊙ m_h)·U )
 *
 * `m_x`, `m_h` are the dropout masks (training only, see dropout.hpp).
 *
 * | weight             | shape           |
 * |--------------------|-----------------|
 * | `kernel` W         | `[inputDim, units]` |
 * | `recurrent_kernel` U | `[units, units]` |
 * | `bias` b           | `[units]` (absent when `useBias` is false) |
 *
 * States: `[h]`, `h` is `[batch, units]`. Output: `h'`.
 *
 * @tparam Scalar float or double.
 * @tparam Units, InputDim optional compile-time sizes (`Eigen::Dynamic` = set at run time); when
 *         given, the constructor and `build` check the run-time values against them.
 */
template <class Scalar_ = float, int Units = Eigen::Dynamic, int InputDim = Eigen::Dynamic>
class SimpleRNNCell : public RNNCell<SimpleRNNCell<Scalar_, Units, InputDim>> {
  using Base = RNNCell<SimpleRNNCell>;

 public:
  using Scalar = Scalar_;
  using Args = SimpleRNNCellArgs;
  static constexpr int kGates = 1;
  static constexpr int kStateCount = 1;

  explicit SimpleRNNCell(const SimpleRNNCellArgs& args) : Base(args, "simple_rnn_cell") {}

  static const char* className() { return "SimpleRNNCell"; }

  /// One step: see the class comment.
  template <bool Dropout>
  void step(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    const Index u = this->units_;
    const Scalar* h = prev.data();
    Index ldh = prev.outerStride();
    if constexpr (Dropout) {
      if (this->recurrentMask_.active()) {
        this->maskedRecurrent(prev, 0, maskedH_);
        h = maskedH_.data();
        ldh = u;
      }
    }
    this->template gemm<Units, Units>(prev.rows(), h, ldh, this->packedRecurrent_, xProj.data(),
                                      xProj.outerStride(), next.data(), next.outerStride());
    this->forRows(next.rows(), [&](Index b) {
      this->template activateRow<Units>(this->activation_, next.data() + b * next.outerStride(), u);
    });
  }

 private:
  friend Base;
  static Index biasRows() { return 1; }
  static const char* biasHint(const std::vector<Index>&) { return nullptr; }
  void adjustInitialBias() {}
  void prepareScratch(Index batch) { maskedH_.resize(batch, this->units_); }

  Matrix<Scalar> maskedH_;
};

template <class S, int U, int I>
struct CellTraits<SimpleRNNCell<S, U, I>> {
  using Scalar = S;
  static constexpr int kUnits = U;
  static constexpr int kInputDim = I;
  static constexpr int kGates = 1;
};

}  // namespace recurrent

#endif  // RECURRENT_SIMPLE_RNN_CELL_HPP
