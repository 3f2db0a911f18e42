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
  /// Extension (ONNX's third activation `h`): the activation of c' in h' = o ⊙ act(c');
  /// default `activation`. Inference only when it differs.
  std::optional<Activation> outputActivation;
  /// Extension (ONNX `input_forget`): couple the gates, f = 1 − i. Inference only.
  bool inputForget = false;
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
 *
 * Extensions for ONNX `LSTM` (inference only; a recording call refuses them):
 *
 *     a_i += P_i ⊙ c,  a_f += P_f ⊙ c          (peepholes, `setPeepholes`, before the clip)
 *     a_o += P_o ⊙ c'                          (after c' is known)
 *     every a clamped to [−clip, clip]         (`clip`)
 *     f = 1 − i                                (`inputForget`)
 *     h' = o ⊙ outputActivation(c')            (`outputActivation`)
 *
 * ONNX's gate blocks are i, o, f, c: import permutes them once into i, f, c, o.
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
        outputActivation_(args.outputActivation.value_or(args.activation)),
        inputForget_(args.inputForget),
        unitForgetBias_(args.unitForgetBias),
        implementation_(args.implementation) {}

  static const char* className() { return "LSTMCell"; }
  using Base::weightShapes;
  /// The weight shapes of a cell of these sizes (the table of the class comment).
  static std::vector<std::vector<Index>> weightShapes(Index inputDim, Index units, bool useBias) {
    return Base::shapesOf(inputDim, units, useBias, 1);
  }
  Activation recurrentActivation() const { return recurrentActivation_; }
  Activation outputActivation() const { return outputActivation_; }
  bool inputForget() const { return inputForget_; }
  bool unitForgetBias() const { return unitForgetBias_; }
  /// Peephole weights `[3, units]`, rows P_i, P_f, P_o (our gate order; ONNX's `P` is
  /// [P_i | P_o | P_f]); an empty tensor removes them. Not part of `getWeights`.
  /// @throws ShapeError for another shape.
  void setPeepholes(const FlatTensor<Scalar>& p) {
    if (p.data.empty() && (p.shape.empty() || p.size() == 0)) {
      peepholes_.resize(0, 0);
      return;
    }
    const std::vector<Index> expected{3, this->units_};
    if (p.shape != expected || p.size() != 3 * this->units_)
      detail::raise<ShapeError>(this->where("setPeepholes"),
                                "peepholes: expected shape " + detail::shapeString(expected) +
                                    ", got " + detail::shapeString(p.shape));
    peepholes_ = Eigen::Map<const Matrix<Scalar>>(p.data.data(), 3, this->units_);
  }
  /// The peephole weights (`[3, units]`; empty without peepholes).
  const Matrix<Scalar>& peepholes() const { return peepholes_; }
  int implementation() const { return implementation_; }

  /// One step: see the class comment.
  template <bool Dropout>
  void step(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    run<Dropout, false>(xProj, prev, next, gates_.data(), 4 * this->units_);
  }

  // --- training (the protocol of rnn_cell.hpp) ------------------------------------------------
  /// Per row: `[i f c̃ o | act(c')]`, then `[a_i a_f a_c a_o | c']` when an activation's
  /// derivative reads its pre-activation.
  Index recordWidth() const { return (recordsPre() ? 10 : 5) * this->units_; }
  Index recurrentGradWidth() const { return 0; }
  /// `step`, bitwise, with the gates computed in (and kept by) `record`.
  template <bool Dropout>
  void stepRecord(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next,
                  Rows<Scalar> record) {
    run<Dropout, true>(xProj, prev, next, record.data(), record.outerStride());
  }
  /// Backward through one step (TF.js's derivatives, see detail/activation_grad.hpp):
  ///
  ///     dc = dc' + act'(c')·(dh'·o)        do = dh'·act(c')
  ///     di = dc·c̃   df = dc·c₋   dc̃ = dc·i   dc₋ = dc·f
  ///     da = gate derivatives · [di df dc̃ do]   dh₋ = (da·Uᵀ) ⊙ m_h
  template <bool Dropout>
  void stepBackward(const ConstRows<Scalar>& record, const ConstRows<Scalar>& prev,
                    const ConstRows<Scalar>& dNext, Rows<Scalar> dPrev, Rows<Scalar> dProj,
                    Rows<Scalar>) {
    using Array = Eigen::Array<Scalar, 1, Units>;
    using In = Eigen::Map<const Array>;
    using Out = Eigen::Map<Array>;
    const Index u = this->units_;
    const bool pre = recordsPre();
    const ActivationKind act = this->activation_.kind(), ract = recurrentActivation_.kind();
    this->forRows(prev.rows(), [&](Index b) {
      const Scalar* r = record.data() + b * record.outerStride();
      const Scalar* p = pre ? r + 5 * u : nullptr;  // a_i a_f a_c a_o c'
      const Scalar* dn = dNext.data() + b * dNext.outerStride();
      Scalar* dp = dPrev.data() + b * dPrev.outerStride();
      Scalar* da = dProj.data() + b * dProj.outerStride();
      const In i(r, u), f(r + u, u), g(r + 2 * u, u), o(r + 3 * u, u), tc(r + 4 * u, u);
      const In dh(dn, u), dcNext(dn + u, u), cPrev(prev.data() + b * prev.outerStride() + u, u);
      Out dc(dp + u, u);  // becomes dc₋
      Out(da + 3 * u, u) = dh * tc;
      dc = dh * o;
      detail::activationGrad(act, pre ? p + 4 * u : nullptr, tc.data(), dc.data(), u);
      dc += dcNext;
      Out(da, u) = dc * g;
      Out(da + u, u) = dc * cPrev;
      Out(da + 2 * u, u) = dc * i;
      dc *= f;
      detail::activationGrad(ract, p, i.data(), da, u);
      detail::activationGrad(ract, pre ? p + u : nullptr, f.data(), da + u, u);
      detail::activationGrad(act, pre ? p + 2 * u : nullptr, g.data(), da + 2 * u, u);
      detail::activationGrad(ract, pre ? p + 3 * u : nullptr, o.data(), da + 3 * u, u);
    });
    this->template gemm<Base::times(4, Units), Units>(
        prev.rows(), dProj.data(), dProj.outerStride(), this->packedRecurrentT_, nullptr, 0,
        dPrev.data(), dPrev.outerStride());
    if constexpr (Dropout) this->applyRecurrentMask(dPrev.leftCols(u));
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
  void prepareBackwardScratch(Index) {}
  bool recordsPre() const {
    return this->recordsPreActivations(this->activation_, recurrentActivation_);
  }
  bool extended() const {
    return this->clipped_ || inputForget_ || peepholes_.size() > 0 ||
           outputActivation_ != this->activation_;
  }
  const char* inferenceOnlyFeature() const {
    if (peepholes_.size() > 0) return "peepholes";
    if (inputForget_) return "inputForget";
    if (outputActivation_ != this->activation_) return "an outputActivation other than activation";
    if (recurrentActivation_.isParametric()) return "a parametric recurrentActivation";
    return Base::inferenceOnlyFeature();
  }
  // ∂L/∂U = ĥᵀ·da over every row (da = the projection's gradient).
  void recurrentWeightGradients(const ConstRows<Scalar>& hHat, const ConstRows<Scalar>&,
                                const ConstRows<Scalar>&, const ConstRows<Scalar>&,
                                FlatTensor<Scalar>& dU, FlatTensor<Scalar>*) {
    this->gemmTransposed(hHat, this->packedGrad_, dU.data.data(), 4 * this->units_);
  }

  // a = x·W + b + ĥ·U into `gates` (row stride ldg), then the new [h | c] (and the record).
  template <bool Dropout, bool Record>
  void run(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next,
           Scalar* gates, Index ldg) {
    const Index u = this->units_, batch = prev.rows();
    const Scalar* h = prev.data();
    Index ldh = prev.outerStride();
    if constexpr (Dropout) {
      const auto& m = this->recurrentMask_;
      if constexpr (!Record) {
        if (m.active() && m.count() != 1) {  // Keras per-gate masks: one product per gate
          const auto& U = this->recurrentKernel_;
          for (Index g = 0; g < 4; ++g) {
            this->maskedRecurrent(prev.leftCols(u), g, hMasked_);
            gates_.middleCols(g * u, u).noalias() = hMasked_ * U.middleCols(g * u, u);
          }
          gates_ += xProj;
          return finish<false>(prev, next, gates_.data(), 4 * u);
        }
      }
      if (m.active()) {
        this->maskedRecurrent(prev.leftCols(u), 0, hMasked_);
        h = hMasked_.data();
        ldh = u;
      }
    }
    this->template gemm<Units, Base::times(4, Units)>(
        batch, h, ldh, this->packedRecurrent_, xProj.data(), xProj.outerStride(), gates, ldg);
    finish<Record>(prev, next, gates, ldg);
  }

  // `gates` holds a = x·W + h·U + b; computes the new [h | c] row by row (with compile-time
  // widths when the cell has compile-time units). Record: keeps act(c') (and the
  // pre-activations) beside the gates.
  template <bool Record>
  void finish(const ConstRows<Scalar>& prev, Rows<Scalar> next, Scalar* gates, Index ldg) {
    if constexpr (!Record) {
      if (extended()) return finishExtended(prev, next, gates, ldg);
    }
    using Array = Eigen::Array<Scalar, 1, Units>;
    constexpr int kU = Units, k2U = Base::times(2, Units);
    const Index u = this->units_;
    const bool together = this->isElementwise(recurrentActivation_);
    const bool pre = Record && recordsPre();
    this->forRows(prev.rows(), [&](Index b) {
      Scalar* a = gates + b * ldg;
      if (pre)
        Eigen::Map<Eigen::Array<Scalar, 1, Base::times(4, Units)>>(a + 5 * u, 4 * u) =
            Eigen::Map<const Eigen::Array<Scalar, 1, Base::times(4, Units)>>(a, 4 * u);
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
      if constexpr (Record) {
        Eigen::Map<Array>(a + 4 * u, u) = h;
        if (pre) Eigen::Map<Array>(a + 9 * u, u) = c;
      }
      h *= o;
    });
  }

  // The ONNX extensions of the class comment, in onnxruntime's order of operations.
  void finishExtended(const ConstRows<Scalar>& prev, Rows<Scalar> next, Scalar* gates, Index ldg) {
    using Array = Eigen::Array<Scalar, 1, Eigen::Dynamic>;
    using In = Eigen::Map<const Array>;
    const Index u = this->units_;
    const bool peep = peepholes_.size() > 0;
    this->forRows(prev.rows(), [&](Index b) {
      Scalar* a = gates + b * ldg;
      Eigen::Map<Array> ai(a, u), af(a + u, u), ag(a + 2 * u, u), ao(a + 3 * u, u);
      const In cPrev(prev.data() + b * prev.outerStride() + u, u);
      Eigen::Map<Array> h(next.data() + b * next.outerStride(), u), c(h.data() + u, u);
      if (peep) ai += peepholes_.row(0).array() * cPrev;
      this->clipRow(a, u);
      this->activateRow(recurrentActivation_, a, u);
      if (inputForget_) {
        af = Scalar(1) - ai;
      } else {
        if (peep) af += peepholes_.row(1).array() * cPrev;
        this->clipRow(a + u, u);
        this->activateRow(recurrentActivation_, a + u, u);
      }
      this->clipRow(a + 2 * u, u);
      this->activateRow(this->activation_, a + 2 * u, u);
      c = af * cPrev + ai * ag;
      if (peep) ao += peepholes_.row(2).array() * c;
      this->clipRow(a + 3 * u, u);
      this->activateRow(recurrentActivation_, a + 3 * u, u);
      h = c;
      this->activateRow(outputActivation_, h.data(), u);
      h *= ao;
    });
  }

  Activation recurrentActivation_;
  Activation outputActivation_;
  bool inputForget_ = false;
  Matrix<Scalar> peepholes_;  // [3, units]: P_i, P_f, P_o; empty without peepholes
  bool unitForgetBias_ = false;
  int implementation_ = 1;
  // Batch-sized: workspaces keep their storage when a smaller (last) batch comes and goes.
  detail::Workspace<Scalar> gates_, hMasked_;
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
