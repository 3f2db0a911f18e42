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
 * `clip` (extension, ONNX): the pre-activations of z, r and hh are clamped to [−clip, clip].
 * ONNX `GRU` maps here with gates z, r, h as they are: `linear_before_reset = 0` is
 * `resetAfter = false` (bias W_b + R_b), 1 is `resetAfter = true` (bias [W_b; R_b]).
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
  using Base::weightShapes;
  /// The weight shapes of a cell of these sizes (the table of the class comment).
  static std::vector<std::vector<Index>> weightShapes(Index inputDim, Index units, bool useBias,
                                                      bool resetAfter) {
    return Base::shapesOf(inputDim, units, useBias, resetAfter ? 2 : 1);
  }
  Activation recurrentActivation() const { return recurrentActivation_; }
  bool resetAfter() const { return resetAfter_; }
  int implementation() const { return implementation_; }

  /// One step: see the class comment.
  template <bool Dropout>
  void step(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    if constexpr (Dropout) {
      const auto& m = this->recurrentMask_;
      if (m.active() && m.count() != 1) return perGateStep(xProj, prev, next);
    }
    dispatch<Dropout, false>(xProj, prev, next, gates_.data(), 3 * this->units_);
  }

  // --- training (the protocol of rnn_cell.hpp) ------------------------------------------------
  /// Per row: `[z r hh | rĥ]` (resetAfter: `[z r hh | ĥ·U_h + b_h]`), then `[a_z a_r a_h]` when
  /// an activation's derivative reads its pre-activation.
  Index recordWidth() const { return (recordsPre() ? 7 : 4) * this->units_; }
  /// resetAfter: `[da_z da_r d(ĥ·U_h + b_h)]`, the gradient of the recurrent product.
  Index recurrentGradWidth() const { return resetAfter_ ? 3 * this->units_ : 0; }
  /// `step`, bitwise, with the gates computed in (and kept by) `record`.
  template <bool Dropout>
  void stepRecord(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next,
                  Rows<Scalar> record) {
    dispatch<Dropout, true>(xProj, prev, next, record.data(), record.outerStride());
  }
  /// Backward through one step. With ĥ₋ = h₋ ⊙ m_h:
  ///
  ///     dz = dh'·(hf − hh)   dhh = dh'·(1 − z)   dhf = dh'·z     (hf: ĥ₋, resetAfter h₋)
  ///     da_h = act'·dhh
  ///     reset before: d(r⊙ĥ) = da_h·U_hᵀ, dr = d(r⊙ĥ)·ĥ, dĥ += d(r⊙ĥ)·r + [da_z da_r]·U_zrᵀ
  ///     reset after:  dr = da_h·(ĥ·U_h + b_h), dq = [da_z da_r da_h·r], dĥ = dq·Uᵀ
  ///     dh₋ = dĥ ⊙ m_h (+ dhf when resetAfter)
  template <bool Dropout>
  void stepBackward(const ConstRows<Scalar>& record, const ConstRows<Scalar>& prev,
                    const ConstRows<Scalar>& dNext, Rows<Scalar> dPrev, Rows<Scalar> dProj,
                    Rows<Scalar> dRec) {
    using Array = Eigen::Array<Scalar, 1, Units>;
    using In = Eigen::Map<const Array>;
    using Out = Eigen::Map<Array>;
    const Index u = this->units_, batch = prev.rows();
    const bool pre = recordsPre();
    const bool masked = Dropout && this->recurrentMask_.active();
    const ActivationKind act = this->activation_.kind(), ract = recurrentActivation_.kind();
    // ĥ₋ of row b: h₋ ⊙ m_h (h₋ itself without recurrent dropout), into hHatRow_.
    auto hHat = [&](Index b) -> const Scalar* {
      const Scalar* h = prev.data() + b * prev.outerStride();
      if (!masked) return h;
      Scalar* dst = hHatRows_.data() + b * u;
      Out(dst, u) = In(h, u) * In(this->recurrentMask_[0].data() + b * u, u);
      return dst;
    };
    // Stage 1 (both forms): dz, da_h, and dhf into dPrev.
    this->forRows(batch, [&](Index b) {
      const Scalar* r = record.data() + b * record.outerStride();
      const Scalar* p = pre ? r + 4 * u : nullptr;
      const Scalar* hf = resetAfter_ ? prev.data() + b * prev.outerStride() : hHat(b);
      const In z(r, u), hh(r + 2 * u, u), dh(dNext.data() + b * dNext.outerStride(), u);
      Scalar* da = dProj.data() + b * dProj.outerStride();
      Out(da, u) = dh * (In(hf, u) - hh);
      Out(da + 2 * u, u) = dh * (Scalar(1) - z);
      Out(dPrev.data() + b * dPrev.outerStride(), u) = dh * z;
      detail::activationGrad(act, pre ? p + 2 * u : nullptr, hh.data(), da + 2 * u, u);
      if (resetAfter_) {
        const In rGate(r + u, u), inner(r + 3 * u, u), dah(da + 2 * u, u);
        Scalar* dq = dRec.data() + b * dRec.outerStride();
        Out(da + u, u) = dah * inner;
        Out(dq + 2 * u, u) = dah * rGate;
        detail::activationGrad(ract, p, z.data(), da, u);
        detail::activationGrad(ract, pre ? p + u : nullptr, rGate.data(), da + u, u);
        Out(dq, 2 * u) = Eigen::Map<const Eigen::Array<Scalar, 1, Eigen::Dynamic>>(da, 2 * u);
      }
    });
    if (resetAfter_) {
      // dĥ = dq·Uᵀ; dh₋ = dhf + dĥ ⊙ m_h.
      if (!masked) {
        this->template gemm<Base::times(3, Units), Units>(
            batch, dRec.data(), dRec.outerStride(), this->packedRecurrentT_, dPrev.data(),
            dPrev.outerStride(), dPrev.data(), dPrev.outerStride());
        return;
      }
      this->template gemm<Base::times(3, Units), Units>(batch, dRec.data(), dRec.outerStride(),
                                                        this->packedRecurrentT_, nullptr, 0,
                                                        dHat_.data(), u);
      dPrev.leftCols(u).array() += dHat_.array() * this->recurrentMask_[0].array();
      return;
    }
    // Reset before: d(r⊙ĥ) = da_h·U_hᵀ into dHat_, then dr and the direct dĥ terms.
    this->template gemm<Units, Units>(batch, dProj.data() + 2 * u, dProj.outerStride(),
                                      packedCandidateT_, nullptr, 0, dHat_.data(), u);
    this->forRows(batch, [&](Index b) {
      const Scalar* r = record.data() + b * record.outerStride();
      const Scalar* p = pre ? r + 4 * u : nullptr;
      const In z(r, u), rGate(r + u, u), drh(dHat_.data() + b * u, u);
      const In h(masked ? hHatRows_.data() + b * u : prev.data() + b * prev.outerStride(), u);
      Scalar* da = dProj.data() + b * dProj.outerStride();
      Out(da + u, u) = drh * h;
      Out(dPrev.data() + b * dPrev.outerStride(), u) += drh * rGate;
      detail::activationGrad(ract, p, z.data(), da, u);
      detail::activationGrad(ract, pre ? p + u : nullptr, rGate.data(), da + u, u);
    });
    this->template gemm<Base::times(2, Units), Units>(
        batch, dProj.data(), dProj.outerStride(), this->packedRecurrentT_, dPrev.data(),
        dPrev.outerStride(), dPrev.data(), dPrev.outerStride());
    if constexpr (Dropout) this->applyRecurrentMask(dPrev.leftCols(u));
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
  void packRecurrentTransposed() {
    const Index u = this->units_;
    const auto& U = this->recurrentKernel_;
    if (resetAfter_) {
      this->packedRecurrentT_.pack(U.transpose());
    } else {
      this->packedRecurrentT_.pack(U.leftCols(2 * u).transpose());
      packedCandidateT_.pack(U.rightCols(u).transpose());
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
  void prepareBackwardScratch(Index batch) {
    dHat_.resize(batch, this->units_);
    hHatRows_.resize(batch, this->units_);
  }
  bool recordsPre() const {
    return this->recordsPreActivations(this->activation_, recurrentActivation_);
  }
  // ∂L/∂U: reset before, [ĥᵀ·da_zr | (r⊙ĥ)ᵀ·da_h]; reset after, ĥᵀ·dq (and the recurrent bias).
  void recurrentWeightGradients(const ConstRows<Scalar>& hHat, const ConstRows<Scalar>& records,
                                const ConstRows<Scalar>& dProj, const ConstRows<Scalar>& dRec,
                                FlatTensor<Scalar>& dU, FlatTensor<Scalar>* dBias) {
    const Index u = this->units_, rows = dProj.rows();
    if (resetAfter_) {
      packedRecGrad_.pack(dRec);
      this->gemmTransposed(hHat, packedRecGrad_, dU.data.data(), 3 * u);
      if (dBias != nullptr) this->addColumnSums(dRec, dBias->data.data() + 3 * u);
      return;
    }
    packedRecGrad_.pack(dProj.leftCols(2 * u));
    this->gemmTransposed(hHat, packedRecGrad_, dU.data.data(), 3 * u);
    packedCandidateGrad_.pack(dProj.rightCols(u));
    this->gemmTransposed(ConstRows<Scalar>(records.data() + 3 * u, rows, u,
                                           Eigen::OuterStride<>(records.outerStride())),
                         packedCandidateGrad_, dU.data.data() + 2 * u, 3 * u);
  }

  // The TF.js mask semantics, then packedStep into `gates` (row stride ldg).
  template <bool Dropout, bool Record>
  void dispatch(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next,
                Scalar* gates, Index ldg) {
    if constexpr (Dropout) {
      const auto& m = this->recurrentMask_;
      if (m.active()) {  // TF.js: one mask for every gate
        this->maskedRecurrent(prev, 0, hz_);
        const Index u = this->units_;
        // TF.js blends with the dropped-out h; the reset-after formulation with h itself.
        if (resetAfter_)
          return packedStep<Record>(xProj, hz_.data(), u, prev.data(), prev.outerStride(), next,
                                    gates, ldg);
        return packedStep<Record>(xProj, hz_.data(), u, hz_.data(), u, next, gates, ldg);
      }
    }
    packedStep<Record>(xProj, prev.data(), prev.outerStride(), prev.data(), prev.outerStride(),
                       next, gates, ldg);
  }

  // One h (row stride ldh) for every gate; hf (stride ldf) is blended into the new state. After
  // each product, one pass over the rows (split across the team) does all the gate maths.
  // Record: r⊙h (or ĥ·U_h + b_h) at column 3u of the gate rows, the pre-activations at 4u.
  template <bool Record>
  void packedStep(const ConstRows<Scalar>& xProj, const Scalar* h, Index ldh, const Scalar* hf,
                  Index ldf, Rows<Scalar> next, Scalar* gates, Index ldg) {
    using In = Eigen::Map<const Eigen::Array<Scalar, 1, Units>>;
    using Out = Eigen::Map<Eigen::Array<Scalar, 1, Units>>;
    using In2 = Eigen::Map<const Eigen::Array<Scalar, 1, Base::times(2, Units)>>;
    using Out2 = Eigen::Map<Eigen::Array<Scalar, 1, Base::times(2, Units)>>;
    const Index u = this->units_, batch = next.rows(), ldx = xProj.outerStride();
    const bool pre = Record && recordsPre();
    if (resetAfter_) {
      // inner = h·U + b_recurrent; [z | r] = x_zr + inner_zr; hh = x_h + r ⊙ inner_h.
      this->template gemm<Units, Base::times(3, Units)>(batch, h, ldh, this->packedRecurrent_,
                                                        this->bias_.data() + 3 * u, 0,
                                                        inner_.data(), 3 * u);
      this->forRows(batch, [&](Index b) {
        Scalar* a = gates + b * ldg;
        const Scalar* x = xProj.data() + b * ldx;
        const Scalar* in = inner_.data() + b * 3 * u;
        Out2(a, 2 * u) = In2(x, 2 * u) + In2(in, 2 * u);
        if (pre) Out2(a + 4 * u, 2 * u) = In2(a, 2 * u);
        activateUpdateAndResetRow(a);
        Out(a + 2 * u, u) = In(x + 2 * u, u) + In(a + u, u) * In(in + 2 * u, u);
        if constexpr (Record) Out(a + 3 * u, u) = In(in + 2 * u, u);
        blendRow<Record>(b, hf, ldf, next, gates, ldg, pre);
      });
    } else {
      // [z | r] = x_zr + h·U_zr; then hh = x_h + (r ⊙ h)·U_h, r ⊙ h staged in inner_ (or the
      // record).
      this->template gemm<Units, Base::times(2, Units)>(batch, h, ldh, this->packedRecurrent_,
                                                        xProj.data(), ldx, gates, ldg);
      Scalar* rh = Record ? gates + 3 * u : inner_.data();
      const Index ldrh = Record ? ldg : 3 * u;
      this->forRows(batch, [&](Index b) {
        Scalar* a = gates + b * ldg;
        if (pre) Out2(a + 4 * u, 2 * u) = In2(a, 2 * u);
        activateUpdateAndResetRow(a);
        Out(rh + b * ldrh, u) = In(a + u, u) * In(h + b * ldh, u);
      });
      this->template gemm<Units, Units>(batch, rh, ldrh, packedCandidate_, xProj.data() + 2 * u,
                                        ldx, gates + 2 * u, ldg);
      this->forRows(batch, [&](Index b) { blendRow<Record>(b, hf, ldf, next, gates, ldg, pre); });
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
    this->forRows(batch(), [&](Index b) { activateUpdateAndResetRow(gates_.data() + b * 3 * u); });
    if (resetAfter_) {
      gates_.rightCols(u) =
          xProj.rightCols(u) + gates_.middleCols(u, u).cwiseProduct(inner_.rightCols(u));
    } else {
      inner_.leftCols(u) = gates_.middleCols(u, u).cwiseProduct(hh_);
      gates_.rightCols(u).noalias() = inner_.leftCols(u) * U.rightCols(u);
      gates_.rightCols(u) += xProj.rightCols(u);
    }
    this->forRows(next.rows(), [&](Index b) {
      blendRow<false>(b, prev.data(), prev.outerStride(), next, gates_.data(), 3 * u, false);
    });
  }
  Index batch() const { return gates_.rows(); }

  // z and r of one row of gates (one pass when the activation is elementwise).
  void activateUpdateAndResetRow(Scalar* a) const {
    const Index u = this->units_;
    this->clipRow(a, 2 * u);
    if (this->isElementwise(recurrentActivation_)) {
      this->template activateRow<Base::times(2, Units)>(recurrentActivation_, a, 2 * u);
    } else {
      this->template activateRow<Units>(recurrentActivation_, a, u);
      this->template activateRow<Units>(recurrentActivation_, a + u, u);
    }
  }

  // Row b of gates = [z | r | pre-activation hh]: h' = z ⊙ hf + (1 − z) ⊙ activation(hh).
  template <bool Record>
  void blendRow(Index b, const Scalar* hf, Index ldf, Rows<Scalar> next, Scalar* gates, Index ldg,
                bool pre) {
    using Array = Eigen::Array<Scalar, 1, Units>;
    const Index u = this->units_;
    Scalar* a = gates + b * ldg;
    if constexpr (Record) {
      if (pre) Eigen::Map<Array>(a + 6 * u, u) = Eigen::Map<const Array>(a + 2 * u, u);
    }
    this->clipRow(a + 2 * u, u);
    this->template activateRow<Units>(this->activation_, a + 2 * u, u);
    const Eigen::Map<const Array> z(a, u), cand(a + 2 * u, u), hb(hf + b * ldf, u);
    Eigen::Map<Array>(next.data() + b * next.outerStride(), u) = z * hb + (Scalar(1) - z) * cand;
  }

  const char* inferenceOnlyFeature() const {
    if (recurrentActivation_.isParametric()) return "a parametric recurrentActivation";
    return Base::inferenceOnlyFeature();
  }

  Activation recurrentActivation_;
  int implementation_ = 1;
  bool resetAfter_ = false;
  detail::PackedMatrix<Scalar> packedCandidate_;      // U_h (resetAfter = false)
  detail::PackedMatrix<Scalar> packedCandidateT_;     // U_hᵀ (backward, resetAfter = false)
  detail::PackedMatrix<Scalar> packedRecGrad_;        // backward: ∂L/∂[a_z a_r] (or dq)
  detail::PackedMatrix<Scalar> packedCandidateGrad_;  // backward: ∂L/∂a_h (reset before)
  // Batch-sized: workspaces keep their storage when a smaller (last) batch comes and goes.
  detail::Workspace<Scalar> inner_, gates_, hz_, hr_, hh_;
  detail::Workspace<Scalar> dHat_, hHatRows_;  // backward scratch [batch, units]
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
