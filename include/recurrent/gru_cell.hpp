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
      const auto& m = this->recurrentMask_;
      if (m.active() && m.count() == 1) {  // TF.js: one mask for every gate
        this->maskedRecurrent(prev, 0, hz_);
        const Index u = this->units_;
        // TF.js blends with the dropped-out h; the reset-after formulation with h itself.
        if (resetAfter_)
          return packedStep(xProj, hz_.data(), u, prev.data(), prev.outerStride(), next);
        return packedStep(xProj, hz_.data(), u, hz_.data(), u, next);
      }
      if (m.active()) return perGateStep(xProj, prev, next);
    }
    packedStep(xProj, prev.data(), prev.outerStride(), prev.data(), prev.outerStride(), next);
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
  // resetAfter: all of U in one product. Otherwise [U_z | U_r] first, U_h after the reset gate.
  void packRecurrent() {
    const Index u = this->units_;
    const auto& U = this->recurrentKernel_;
    if (resetAfter_) {
      this->packedRecurrent_.pack(U);
    } else {
      this->packedRecurrent_.pack(U.leftCols(2 * u));
      packedCandidate_.pack(U.rightCols(u));
    }
  }
  void prepareScratch(Index batch) {
    const Index u = this->units_;
    inner_.resize(batch, 3 * u);
    gates_.resize(batch, 3 * u);
    hz_.resize(batch, u);
    hr_.resize(batch, u);
    hh_.resize(batch, u);
  }

  // One h (row stride ldh) for every gate; hf (stride ldf) is blended into the new state. After
  // each product, one pass over the rows (split across the team) does all the gate maths.
  void packedStep(const ConstRows<Scalar>& xProj, const Scalar* h, Index ldh, const Scalar* hf,
                  Index ldf, Rows<Scalar> next) {
    using In = Eigen::Map<const Eigen::Array<Scalar, 1, Units>>;
    using Out = Eigen::Map<Eigen::Array<Scalar, 1, Units>>;
    using In2 = Eigen::Map<const Eigen::Array<Scalar, 1, Base::times(2, Units)>>;
    using Out2 = Eigen::Map<Eigen::Array<Scalar, 1, Base::times(2, Units)>>;
    const Index u = this->units_, batch = next.rows(), ldx = xProj.outerStride();
    if (resetAfter_) {
      // inner = h·U + b_recurrent; [z | r] = x_zr + inner_zr; hh = x_h + r ⊙ inner_h.
      this->template gemm<Units, Base::times(3, Units)>(batch, h, ldh, this->packedRecurrent_,
                                                        this->bias_.data() + 3 * u, 0,
                                                        inner_.data(), 3 * u);
      this->forRows(batch, [&](Index b) {
        Scalar* a = gates_.data() + b * 3 * u;
        const Scalar* x = xProj.data() + b * ldx;
        const Scalar* in = inner_.data() + b * 3 * u;
        Out2(a, 2 * u) = In2(x, 2 * u) + In2(in, 2 * u);
        activateUpdateAndResetRow(a);
        Out(a + 2 * u, u) = In(x + 2 * u, u) + In(a + u, u) * In(in + 2 * u, u);
        blendRow(b, hf, ldf, next);
      });
    } else {
      // [z | r] = x_zr + h·U_zr; then hh = x_h + (r ⊙ h)·U_h, r ⊙ h staged in inner_.
      this->template gemm<Units, Base::times(2, Units)>(batch, h, ldh, this->packedRecurrent_,
                                                        xProj.data(), ldx, gates_.data(), 3 * u);
      this->forRows(batch, [&](Index b) {
        Scalar* a = gates_.data() + b * 3 * u;
        activateUpdateAndResetRow(a);
        Out(inner_.data() + b * 3 * u, u) = In(a + u, u) * In(h + b * ldh, u);
      });
      this->template gemm<Units, Units>(batch, inner_.data(), 3 * u, packedCandidate_,
                                        xProj.data() + 2 * u, ldx, gates_.data() + 2 * u, 3 * u);
      this->forRows(batch, [&](Index b) { blendRow(b, hf, ldf, next); });
    }
  }

  // Keras per-gate recurrent masks (training only): hz_, hr_, hh_ hold the masked h of each gate.
  void perGateStep(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev,
                   Rows<Scalar> next) {
    const Index u = this->units_;
    const auto& U = this->recurrentKernel_;
    this->maskedRecurrent(prev, 0, hz_);
    this->maskedRecurrent(prev, 1, hr_);
    this->maskedRecurrent(prev, 2, hh_);
    inner_.leftCols(u).noalias() = hz_ * U.leftCols(u);
    inner_.middleCols(u, u).noalias() = hr_ * U.middleCols(u, u);
    gates_.leftCols(2 * u) = xProj.leftCols(2 * u) + inner_.leftCols(2 * u);
    if (resetAfter_) {
      inner_.rightCols(u).noalias() = hh_ * U.rightCols(u);
      inner_.rightCols(u).rowwise() += this->bias_.row(1).rightCols(u);
      gates_.leftCols(2 * u).rowwise() += this->bias_.row(1).leftCols(2 * u);
    }
    activateUpdateAndReset();
    if (resetAfter_) {
      gates_.rightCols(u) =
          xProj.rightCols(u) + gates_.middleCols(u, u).cwiseProduct(inner_.rightCols(u));
    } else {
      inner_.leftCols(u) = gates_.middleCols(u, u).cwiseProduct(hh_);
      gates_.rightCols(u).noalias() = inner_.leftCols(u) * U.rightCols(u);
      gates_.rightCols(u) += xProj.rightCols(u);
    }
    blend(prev.data(), prev.outerStride(), next);
  }

  // z and r of one row of gates_ (one pass when the activation is elementwise).
  void activateUpdateAndResetRow(Scalar* a) const {
    const Index u = this->units_;
    if (this->isElementwise(recurrentActivation_)) {
      this->template activateRow<Base::times(2, Units)>(recurrentActivation_, a, 2 * u);
    } else {
      this->template activateRow<Units>(recurrentActivation_, a, u);
      this->template activateRow<Units>(recurrentActivation_, a + u, u);
    }
  }
  void activateUpdateAndReset() {
    this->forRows(gates_.rows(), [&](Index b) {
      activateUpdateAndResetRow(gates_.data() + b * 3 * this->units_);
    });
  }

  // Row b of gates_ = [z | r | pre-activation hh]: h' = z ⊙ hf + (1 − z) ⊙ activation(hh).
  void blendRow(Index b, const Scalar* hf, Index ldf, Rows<Scalar> next) {
    using Array = Eigen::Array<Scalar, 1, Units>;
    const Index u = this->units_;
    Scalar* a = gates_.data() + b * 3 * u;
    this->template activateRow<Units>(this->activation_, a + 2 * u, u);
    const Eigen::Map<const Array> z(a, u), cand(a + 2 * u, u), hb(hf + b * ldf, u);
    Eigen::Map<Array>(next.data() + b * next.outerStride(), u) = z * hb + (Scalar(1) - z) * cand;
  }
  void blend(const Scalar* hf, Index ldf, Rows<Scalar> next) {
    this->forRows(next.rows(), [&](Index b) { blendRow(b, hf, ldf, next); });
  }

  Activation recurrentActivation_;
  int implementation_ = 1;
  bool resetAfter_ = false;
  detail::PackedMatrix<Scalar> packedCandidate_;  // U_h (resetAfter = false)
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
