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
 * `m_x`, `m_h` are the dropout masks (training only, see dropout.hpp). With `clip` (extension,
 * ONNX `RNN`) the pre-activation is clamped to [−clip, clip] first.
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
  using Base::weightShapes;
  /// The weight shapes of a cell of these sizes (the table of the class comment).
  static std::vector<std::vector<Index>> weightShapes(Index inputDim, Index units, bool useBias) {
    return Base::shapesOf(inputDim, units, useBias, 1);
  }

  /// One step: see the class comment.
  template <bool Dropout>
  void step(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    run<Dropout>(xProj, prev, next, nullptr, 0);
  }

  // --- training (the protocol of rnn_cell.hpp) ------------------------------------------------
  /// Per row: `[h' | a]` (`a`, the pre-activation, only when the derivative reads it).
  Index recordWidth() const {
    return (detail::needsPreActivation(this->activation_.kind()) ? 2 : 1) * this->units_;
  }
  Index recurrentGradWidth() const { return 0; }
  /// `step`, bitwise, also writing `record`.
  template <bool Dropout>
  void stepRecord(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next,
                  Rows<Scalar> record) {
    run<Dropout>(xProj, prev, next, record.data(), record.outerStride());
  }
  /// `da = act'(a)·dh'`, `dh₋ = (da·Uᵀ) ⊙ m_h`.
  template <bool Dropout>
  void stepBackward(const ConstRows<Scalar>& record, const ConstRows<Scalar>& prev,
                    const ConstRows<Scalar>& dNext, Rows<Scalar> dPrev, Rows<Scalar> dProj,
                    Rows<Scalar>) {
    using Array = Eigen::Array<Scalar, 1, Units>;
    const Index u = this->units_;
    const bool pre = detail::needsPreActivation(this->activation_.kind());
    this->forRows(prev.rows(), [&](Index b) {
      const Scalar* r = record.data() + b * record.outerStride();
      Scalar* da = dProj.data() + b * dProj.outerStride();
      Eigen::Map<Array>(da, u) = Eigen::Map<const Array>(dNext.data() + b * dNext.outerStride(), u);
      detail::activationGrad(this->activation_.kind(), pre ? r + u : nullptr, r, da, u);
    });
    this->template gemm<Units, Units>(prev.rows(), dProj.data(), dProj.outerStride(),
                                      this->packedRecurrentT_, nullptr, 0, dPrev.data(),
                                      dPrev.outerStride());
    if constexpr (Dropout) this->applyRecurrentMask(dPrev);
  }

 private:
  friend Base;
  static Index biasRows() { return 1; }
  static const char* biasHint(const std::vector<Index>&) { return nullptr; }
  void adjustInitialBias() {}
  void prepareScratch(Index batch) { maskedH_.resize(batch, this->units_); }
  void prepareBackwardScratch(Index) {}
  void recurrentWeightGradients(const ConstRows<Scalar>& hHat, const ConstRows<Scalar>&,
                                const ConstRows<Scalar>&, const ConstRows<Scalar>&,
                                FlatTensor<Scalar>& dU, FlatTensor<Scalar>*) {
    this->gemmTransposed(hHat, this->packedGrad_, dU.data.data(), this->units_);
  }

  // h' = act(x·W + b + ĥ·U); with a record, [h' | pre-activation] also into `record`.
  template <bool Dropout>
  void run(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next,
           Scalar* record, Index ldr) {
    using Array = Eigen::Array<Scalar, 1, Units>;
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
    const bool pre = record != nullptr && detail::needsPreActivation(this->activation_.kind());
    this->forRows(next.rows(), [&](Index b) {
      Scalar* y = next.data() + b * next.outerStride();
      this->clipRow(y, u);
      if (pre) Eigen::Map<Array>(record + b * ldr + u, u) = Eigen::Map<const Array>(y, u);
      this->template activateRow<Units>(this->activation_, y, u);
      if (record != nullptr) Eigen::Map<Array>(record + b * ldr, u) = Eigen::Map<const Array>(y, u);
    });
  }

  detail::Workspace<Scalar> maskedH_;  // keeps its storage across batch sizes
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
