/** @file
 * `GRUCell`: the gated recurrent unit, in TF.js's formulation (reset gate before the recurrent
 * product) and, as an extension TF.js refuses, Keras/cuDNN's `resetAfter` formulation.
 */
#ifndef RECURRENT_GRU_CELL_HPP
#define RECURRENT_GRU_CELL_HPP

#include <recurrent/rnn_cell.hpp>

namespace recurrent {

/// Arguments of `GRUCell` (TF.js `GRUCellLayerArgs` plus `resetAfter`).
struct GRUCellArgs : CellArgs {
  Activation recurrentActivation = ActivationKind::HardSigmoid;  ///< TF.js default
  int implementation = 1;   ///< accepted for TF.js compatibility; has no effect
  bool resetAfter = false;  ///< false: TF.js; true: Keras/cuDNN formulation (bias [2, 3·units])
};

/**
 * @brief Gated recurrent unit cell (TF.js `tf.layers.gruCell`).
 *
 * Gate order along the fused last axis: **z, r, h** (update, reset, candidate), each `units` wide.
 *
 * `resetAfter = false` (TF.js, default):
 *
 *     [xz | xr | xh] = (x ⊙ m_x)·W + b
 *     ĥ₋ = h ⊙ m_h                      (recurrent dropout; ĥ₋ = h without it)
 *     z  = recurrentActivation(xz + ĥ₋·U_z)
 *     r  = recurrentActivation(xr + ĥ₋·U_r)
 *     hh = activation(xh + (r ⊙ ĥ₋)·U_h)
 *     h' = z ⊙ ĥ₋ + (1 − z) ⊙ hh       (TF.js uses the dropped-out ĥ₋ here too)
 *
 * `resetAfter = true` (Keras 2 default, cuDNN/PyTorch-compatible; TF.js throws on it):
 *
 *     [xz | xr | xh] = (x ⊙ m_x)·W + b_input
 *     [rz | rr | rh] = ĥ₋·U + b_recurrent
 *     z = recurrentActivation(xz + rz),  r = recurrentActivation(xr + rr)
 *     hh = activation(xh + r ⊙ rh)
 *     h' = z ⊙ h + (1 − z) ⊙ hh
 *
 * With `DropoutMasks::PerGate` each gate uses its own input and recurrent mask and the final
 * blend uses the un-dropped h (Keras implementation 1).
 *
 * | weight               | shape                                                     |
 * |----------------------|-----------------------------------------------------------|
 * | `kernel` W           | `[inputDim, 3·units]`                                     |
 * | `recurrent_kernel` U | `[units, 3·units]`                                        |
 * | `bias`               | `[3·units]`; `[2, 3·units]` when `resetAfter` (input, recurrent) |
 *
 * States: `[h]`, `[batch, units]`. Output: `h'`.
 */
template <class Scalar_ = float, int Units = Eigen::Dynamic, int InputDim = Eigen::Dynamic>
class GRUCell : public RNNCell<GRUCell<Scalar_, Units, InputDim>> {
  using Base = RNNCell<GRUCell>;

 public:
  using Scalar = Scalar_;
  using Args = GRUCellArgs;
  static constexpr int kGates = 3;
  static constexpr int kStateCount = 1;

  explicit GRUCell(const GRUCellArgs& args)
      : Base(args, "gru_cell"),
        recurrentActivation_(args.recurrentActivation),
        implementation_(args.implementation),
        resetAfter_(args.resetAfter) {}

  static const char* className() { return "GRUCell"; }
  Activation recurrentActivation() const { return recurrentActivation_; }
  bool resetAfter() const { return resetAfter_; }
  int implementation() const { return implementation_; }

  /// One step: see the class comment.
  template <bool Dropout>
  void step(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    if constexpr (Dropout) {
      if (this->recurrentMask_.active()) {
        const auto& m = this->recurrentMask_;
        if (m.count() == 1) {  // TF.js: one mask for every gate
          this->maskedRecurrent(prev, 0, hz_);
          if (resetAfter_) return stepImpl<true>(xProj, hz_, hz_, hz_, prev, next);
          return stepImpl<true>(xProj, hz_, hz_, hz_, hz_, next);
        }
        this->maskedRecurrent(prev, 0, hz_);
        this->maskedRecurrent(prev, 1, hr_);
        this->maskedRecurrent(prev, 2, hh_);
        return stepImpl<false>(xProj, hz_, hr_, hh_, prev, next);
      }
    }
    stepImpl<true>(xProj, prev, prev, prev, prev, next);
  }

 private:
  friend Base;
  Index biasRows() const { return resetAfter_ ? 2 : 1; }
  static const char* biasHint(const std::vector<Index>& got) {
    return got.size() == 2
               ? " (a [2, 3·units] bias is the resetAfter=true layout)"
               : (got.size() == 1 ? " (a [3·units] bias is the resetAfter=false layout)" : nullptr);
  }
  void adjustInitialBias() {}
  void prepareScratch(Index batch) {
    const Index u = this->units_;
    inner_.resize(batch, 3 * u);
    gates_.resize(batch, 3 * u);
    hz_.resize(batch, u);
    hr_.resize(batch, u);
    hh_.resize(batch, u);
  }

  // HZ/HR/HH: the (possibly dropped-out) previous h used by each gate; HF: the h blended into
  // the new state. SharedH: HZ, HR, HH are the same matrix (one product for z and r).
  template <bool SharedH, class HZ, class HR, class HH, class HF>
  void stepImpl(const ConstRows<Scalar>& xProj, const HZ& hz, const HR& hr, const HH& hh,
                const HF& hf, Rows<Scalar> next) {
    const Index u = this->units_;
    const auto& U = this->recurrentKernel_;
    auto z = gates_.leftCols(u);
    auto r = gates_.middleCols(u, u);
    auto cand = gates_.rightCols(u);
    if constexpr (SharedH) {
      inner_.leftCols(2 * u).noalias() = hz * U.leftCols(2 * u);
    } else {
      inner_.leftCols(u).noalias() = hz * U.leftCols(u);
      inner_.middleCols(u, u).noalias() = hr * U.middleCols(u, u);
    }
    if (resetAfter_) {
      inner_.rightCols(u).noalias() = hh * U.rightCols(u);
      inner_.rowwise() += this->bias_.row(1);
      gates_.leftCols(2 * u) = xProj.leftCols(2 * u) + inner_.leftCols(2 * u);
      recurrentActivation_.apply(z);
      recurrentActivation_.apply(r);
      cand = xProj.rightCols(u) + r.cwiseProduct(inner_.rightCols(u));
    } else {
      gates_.leftCols(2 * u) = xProj.leftCols(2 * u) + inner_.leftCols(2 * u);
      recurrentActivation_.apply(z);
      recurrentActivation_.apply(r);
      inner_.rightCols(u) = r.cwiseProduct(hh);  // r ⊙ ĥ₋ (scratch)
      cand.noalias() = inner_.rightCols(u) * U.rightCols(u);
      cand += xProj.rightCols(u);
    }
    this->activation_.apply(cand);
    auto h = next.leftCols(u);
    h.array() = z.array() * hf.array() + (Scalar(1) - z.array()) * cand.array();
  }

  Activation recurrentActivation_;
  int implementation_ = 1;
  bool resetAfter_ = false;
  Matrix<Scalar> inner_, gates_, hz_, hr_, hh_;
};

template <class S, int U, int I>
struct CellTraits<GRUCell<S, U, I>> {
  using Scalar = S;
  static constexpr int kUnits = U;
  static constexpr int kInputDim = I;
  static constexpr int kGates = 3;
};

}  // namespace recurrent

#endif  // RECURRENT_GRU_CELL_HPP
