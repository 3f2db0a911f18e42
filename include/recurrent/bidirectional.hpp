/** @file
 * `Bidirectional<Layer>`: runs a recurrent layer forwards and a copy of it backwards and merges
 * the two (TF.js `tf.layers.bidirectional`).
 */
#ifndef RECURRENT_BIDIRECTIONAL_HPP
#define RECURRENT_BIDIRECTIONAL_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/rnn_layer.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace recurrent {

/// How the forward and backward outputs are combined.
enum class MergeMode {
  Concat,  ///< [fw, bw] along the last axis (TF.js default)
  Sum,     ///< fw + bw
  Mul,     ///< fw ⊙ bw
  Ave,     ///< 0.5·(fw + bw)
  None,    ///< no merge: two outputs (TF.js `mergeMode: null`)
};

/// Parses a TF.js merge mode: "concat", "sum", "mul", "ave"; `std::nullopt` (JSON null) = None.
/// @throws ConfigError with TF.js's message for anything else.
inline MergeMode mergeModeFromName(const std::optional<std::string>& name) {
  if (!name) return MergeMode::None;
  if (*name == "concat") return MergeMode::Concat;
  if (*name == "sum") return MergeMode::Sum;
  if (*name == "mul") return MergeMode::Mul;
  if (*name == "ave") return MergeMode::Ave;
  detail::raise<ConfigError>("Bidirectional.constructor",
                             *name +
                                 " is not a valid BidirectionalMergeMode.  Valid values are "
                                 "sum,mul,concat,ave or null/undefined.");
}

/// Arguments of `Bidirectional`.
struct BidirectionalArgs {
  MergeMode mergeMode = MergeMode::Concat;
  std::string name;  ///< default "bidirectional"
};

/// What `Bidirectional::call` returns. With `MergeMode::None`, `sequence`/`lastOutput` hold the
/// forward output and `backwardSequence`/`backwardLastOutput` the backward one.
template <class Scalar>
struct BidirectionalResult {
  Sequence<Scalar> sequence;           ///< merged `[batch, time, n]` (returnSequences)
  Matrix<Scalar> lastOutput;           ///< merged `[batch, n]`
  Sequence<Scalar> backwardSequence;   ///< MergeMode::None only
  Matrix<Scalar> backwardLastOutput;   ///< MergeMode::None only
  std::vector<Matrix<Scalar>> states;  ///< forward states, then backward states
};

/// The upstream gradients of `Bidirectional::backward`: ∂L/∂(each output of the recorded call),
/// in the shapes `call` returned them; any may be left empty (= zeros).
template <class Scalar>
struct BidirectionalOutputGradients {
  SequenceView<Scalar> sequence;           ///< merged sequence (returnSequences)
  MatrixView<Scalar> lastOutput;           ///< merged last output
  SequenceView<Scalar> backwardSequence;   ///< MergeMode::None only
  MatrixView<Scalar> backwardLastOutput;   ///< MergeMode::None only
  std::vector<MatrixView<Scalar>> states;  ///< forward states, then backward states
};

/**
 * @brief Bidirectional wrapper (TF.js `Bidirectional`) around `RNN<Cell>` or any layer type
 *        derived from it (`SimpleRNN`, `GRU`, `LSTM`).
 *
 * - The backward layer is a copy of the wrapped layer with `goBackwards` negated (an inner
 *   `goBackwards: true` therefore swaps the roles, as in TF.js); its weights start as a copy.
 * - With `returnSequences` the backward sequence is reversed back into input order before the
 *   merge; without it, the backward "last output" is its state after input step 0.
 * - States (returnState, initialState): forward states, then backward states; an
 *   `initialState` list is split in halves (an odd count throws).
 * - Weights: forward then backward (TF.js names `forward_<name>/…`, `backward_<name>/…`).
 * - Masks go to both directions; stateful layers carry both directions' states.
 */
template <class Layer>
class Bidirectional {
 public:
  using Scalar = typename Layer::Scalar;
  using Result = BidirectionalResult<Scalar>;

  explicit Bidirectional(Layer layer, const BidirectionalArgs& args = {})
      : forward_(layer),
        backward_(std::move(layer)),
        args_(args),
        name_(args.name.empty() ? "bidirectional" : args.name) {
    backward_.setGoBackwards(!forward_.goBackwards());
  }

  Result call(SequenceView<Scalar> inputs, const CallArgs<Scalar>& args = {}) {
    Result out;
    call(inputs, args, out);
    return out;
  }
  void call(SequenceView<Scalar> inputs, const CallArgs<Scalar>& args, Result& out);

  /// Backpropagation through both directions of the last (recorded) call: the merge's
  /// derivative (concat splits, sum/ave pass on (halved), mul multiplies by the other side),
  /// then each layer's `backward`. ∂L/∂x is the sum of both; initial states and weights are
  /// forward then backward. See `RNN::backward`.
  void backward(const BidirectionalOutputGradients<Scalar>& dOutputs, RNNGradients<Scalar>& out,
                const BackwardArgs& args = {});
  RNNGradients<Scalar> backward(const BidirectionalOutputGradients<Scalar>& dOutputs) {
    RNNGradients<Scalar> out;
    backward(dOutputs, out);
    return out;
  }
  bool recorded() const { return forward_.recorded() && backward_.recorded(); }
  std::size_t recordedBytes() const { return forward_.recordedBytes() + backward_.recordedBytes(); }
  /// Forward cells then backward cells (the numbering of `CallArgs::dropoutMasks`).
  Index cellCount() const { return forward_.cellCount() + backward_.cellCount(); }

  void build(Index inputDim) {
    forward_.build(inputDim);
    backward_.build(inputDim);
  }
  bool built() const { return forward_.built() && backward_.built(); }
  void resetStates() {
    forward_.resetStates();
    backward_.resetStates();
  }
  /// Forward states then backward states.
  void resetStates(const std::vector<MatrixView<Scalar>>& states) {
    auto [fw, bw] = split("resetStates", states);
    forward_.resetStates(fw);
    backward_.resetStates(bw);
  }
  std::vector<Matrix<Scalar>> getStates() const {
    auto out = forward_.getStates();
    for (auto& s : backward_.getStates()) out.push_back(std::move(s));
    return out;
  }

  std::vector<Weight<Scalar>> getWeights() const {
    std::vector<Weight<Scalar>> out;
    for (auto& w : forward_.getWeights())
      out.push_back({"forward_" + forward_.name() + "/" + w.name, std::move(w.value)});
    for (auto& w : backward_.getWeights())
      out.push_back({"backward_" + backward_.name() + "/" + w.name, std::move(w.value)});
    return out;
  }
  /// Forward weights then backward weights (each half in the wrapped layer's order).
  void setWeights(const std::vector<FlatTensor<Scalar>>& values) {
    if (values.size() % 2 != 0)
      detail::raise<ValueError>(where("setWeights"),
                                "expected an even number of weights "
                                "(forward then backward), got " +
                                    std::to_string(values.size()));
    // Each half through a member vector: copy-assignment reuses its tensors' storage, so that
    // setting the weights after every optimizer step allocates nothing.
    const std::size_t half = values.size() / 2;
    halves_[0].resize(half);
    halves_[1].resize(half);
    for (std::size_t i = 0; i < half; ++i) {
      halves_[0][i] = values[i];
      halves_[1][i] = values[half + i];
    }
    forward_.setWeights(halves_[0]);
    backward_.setWeights(halves_[1]);
  }

  /// `[output(s)..., states...]`, TF.js shapes.
  std::vector<std::vector<Index>> computeOutputShape(const std::vector<Index>& inputShape) const;

  Layer& forwardLayer() { return forward_; }
  Layer& backwardLayer() { return backward_; }
  const Layer& forwardLayer() const { return forward_; }
  const Layer& backwardLayer() const { return backward_; }
  MergeMode mergeMode() const { return args_.mergeMode; }
  const std::string& name() const { return name_; }
  bool returnSequences() const { return forward_.returnSequences(); }
  bool returnState() const { return forward_.returnState(); }
  bool stateful() const { return forward_.stateful(); }

 private:
  std::string where(const char* method) const {
    return detail::where("Bidirectional", name_, method);
  }
  std::pair<std::vector<MatrixView<Scalar>>, std::vector<MatrixView<Scalar>>> split(
      const char* method, const std::vector<MatrixView<Scalar>>& states) const {
    if (states.size() % 2 != 0)
      detail::raise<ValueError>(
          where(method),
          "When passing `initialState` to a Bidrectional RNN, the state should be "
          "an Array containing the states of the underlying RNNs. Expected an even "
          "count (forward then backward), got " +
              std::to_string(states.size()));
    const auto half = static_cast<std::ptrdiff_t>(states.size() / 2);
    return {{states.begin(), states.begin() + half}, {states.begin() + half, states.end()}};
  }
  template <class A, class B, class Out>
  void merge(const A& fw, const B& bw, Out& out) const;

  Layer forward_, backward_;
  BidirectionalArgs args_;
  std::string name_;
  // Each direction's results, and the backward workspace: each direction's upstream and
  // gradients. Eigen matrices reallocate on any change of size: one set per batch size, for the
  // two that fit's epochs alternate between (the full batches and a smaller last one).
  struct Work {
    Index batch = -1;
    RNNResult<Scalar> fw, bw;
    Sequence<Scalar> dFwSeq, dBwSeq;
    Matrix<Scalar> dFwLast, dBwLast;
    RNNGradients<Scalar> gFw, gBw;
  };
  Work work_[2];
  std::size_t current_ = 0;  // the set of the last call
  /// The set for a call of `batch` samples: the last one's, or the other (replaced unless it is
  /// that batch's).
  Work& workFor(Index batch) {
    if (work_[current_].batch != batch) {
      current_ = 1 - current_;
      work_[current_].batch = batch;
    }
    return work_[current_];
  }
  std::vector<FlatTensor<Scalar>> halves_[2];  // setWeights: the forward, backward weights
};

// ---------------------------------------------------------------------------------------------
// implementation
// ---------------------------------------------------------------------------------------------

template <class Layer>
template <class A, class B, class Out>
void Bidirectional<Layer>::merge(const A& fw, const B& bw, Out& out) const {
  // fw, bw: [rows, units] row-major maps; out: [rows, units or 2·units]
  switch (args_.mergeMode) {
    case MergeMode::Concat:
      out.leftCols(fw.cols()) = fw;
      out.rightCols(bw.cols()) = bw;
      return;
    case MergeMode::Sum:
      out = fw + bw;
      return;
    case MergeMode::Mul:
      out = fw.cwiseProduct(bw);
      return;
    case MergeMode::Ave:
      out = Scalar(0.5) * (fw + bw);
      return;
    case MergeMode::None:
      return;
  }
}

template <class Layer>
void Bidirectional<Layer>::call(SequenceView<Scalar> inputs, const CallArgs<Scalar>& args,
                                Result& out) {
  // sequenceLengths to both: the backward layer reads each sample from length−1 down to 0.
  CallArgs<Scalar> fwArgs{args.mask, {}, args.training, args.record, {}, args.sequenceLengths};
  CallArgs<Scalar> bwArgs{args.mask, {}, args.training, args.record, {}, args.sequenceLengths};
  const Index fwCells = forward_.cellCount();
  for (const auto& m : args.dropoutMasks) {
    if (m.cell < 0 || m.cell >= cellCount())
      detail::raise<ValueError>(where("call"), "dropoutMasks: cell index " +
                                                   std::to_string(m.cell) + " out of range [0, " +
                                                   std::to_string(cellCount()) + ")");
    if (m.cell < fwCells) {
      fwArgs.dropoutMasks.push_back(m);
    } else {
      bwArgs.dropoutMasks.push_back({m.cell - fwCells, m.input, m.recurrent});
    }
  }
  if (!args.initialState.empty())
    std::tie(fwArgs.initialState, bwArgs.initialState) = split("call", args.initialState);
  Work& w = workFor(inputs.batch());
  forward_.call(inputs, fwArgs, w.fw);
  backward_.call(inputs, bwArgs, w.bw);

  const Index batch = inputs.batch(), time = inputs.time();
  const Index u = w.fw.lastOutput.cols();
  const Index width = args_.mergeMode == MergeMode::Concat ? 2 * u : u;
  if (returnSequences()) {
    // Re-reverse the backward sequence into input order (in place, step by step).
    for (Index b = 0; b < batch; ++b)
      for (Index t = 0; t < time / 2; ++t)
        for (Index k = 0; k < u; ++k)
          std::swap(w.bw.sequence(b, t, k), w.bw.sequence(b, time - 1 - t, k));
    if (args_.mergeMode == MergeMode::None) {
      out.sequence = w.fw.sequence;
      out.backwardSequence = w.bw.sequence;
    } else {
      out.sequence.resize(batch, time, width);
      Eigen::Map<const Matrix<Scalar>> f(w.fw.sequence.data(), batch * time, u);
      Eigen::Map<const Matrix<Scalar>> g(w.bw.sequence.data(), batch * time, u);
      Eigen::Map<Matrix<Scalar>> o(out.sequence.data(), batch * time, width);
      merge(f, g, o);
    }
  }
  if (args_.mergeMode == MergeMode::None) {
    out.lastOutput = w.fw.lastOutput;
    out.backwardLastOutput = w.bw.lastOutput;
  } else {
    out.lastOutput.resize(batch, width);
    merge(w.fw.lastOutput, w.bw.lastOutput, out.lastOutput);
  }
  // Element by element: each state keeps its storage (a vector assignment then push_back
  // would make the backward states anew at every call).
  const std::size_t nf = w.fw.states.size();
  out.states.resize(nf + w.bw.states.size());
  for (std::size_t i = 0; i < nf; ++i) out.states[i] = w.fw.states[i];
  for (std::size_t i = 0; i < w.bw.states.size(); ++i) out.states[nf + i] = w.bw.states[i];
}

template <class Layer>
void Bidirectional<Layer>::backward(const BidirectionalOutputGradients<Scalar>& d,
                                    RNNGradients<Scalar>& out, const BackwardArgs& args) {
  if (!recorded())
    detail::raise<StateError>(where("backward"),
                              "no recorded call to differentiate: call with record = true first");
  Work& w = work_[current_];  // of the recorded call
  const Index batch = w.fw.lastOutput.rows(), u = w.fw.lastOutput.cols();
  const Index time = returnSequences() ? w.fw.sequence.dimension(1) : 0;
  const bool none = args_.mergeMode == MergeMode::None;
  const Index width = args_.mergeMode == MergeMode::Concat ? 2 * u : u;
  auto who = [&] { return where("backward"); };  // built only when raising
  auto checkSeq = [&](const SequenceView<Scalar>& v, const char* what) {
    if (v.empty()) return;
    if (!returnSequences())
      detail::raise<ShapeError>(who(), std::string(what) + ": the layer does not return sequences");
    if (v.batch() != batch || v.time() != time || v.features() != width)
      detail::raiseShape(who(), what, std::vector<Index>{batch, time, width},
                         std::vector<Index>{v.batch(), v.time(), v.features()});
  };
  auto checkLast = [&](const MatrixView<Scalar>& v, const char* what) {
    if (!v.empty() && (v.rows() != batch || v.cols() != width))
      detail::raiseShape(who(), what, std::vector<Index>{batch, width},
                         std::vector<Index>{v.rows(), v.cols()});
  };
  checkSeq(d.sequence, "dOutputs.sequence");
  checkLast(d.lastOutput, "dOutputs.lastOutput");
  if (!none && (!d.backwardSequence.empty() || !d.backwardLastOutput.empty()))
    detail::raise<ShapeError>(who(),
                              "dOutputs.backwardSequence/backwardLastOutput: only with "
                              "MergeMode::None (the merged output has one gradient)");
  checkSeq(d.backwardSequence, "dOutputs.backwardSequence");
  checkLast(d.backwardLastOutput, "dOutputs.backwardLastOutput");
  const auto [dsFw, dsBw] = split("backward", d.states);

  // The merge's derivative, for [rows, ·] row-major blocks (fw, bw: each direction's outputs).
  auto unmerge = [&](const Scalar* dm, const Scalar* fw, const Scalar* bw, Index rows, Scalar* dFw,
                     Scalar* dBw) {
    Eigen::Map<const Matrix<Scalar>> g(dm, rows, width), f(fw, rows, u), b(bw, rows, u);
    Eigen::Map<Matrix<Scalar>> df(dFw, rows, u), db(dBw, rows, u);
    switch (args_.mergeMode) {
      case MergeMode::Concat:
        df = g.leftCols(u);
        db = g.rightCols(u);
        return;
      case MergeMode::Sum:
        df = g;
        db = g;
        return;
      case MergeMode::Ave:
        df = Scalar(0.5) * g;
        db = df;
        return;
      case MergeMode::Mul:
        df = g.cwiseProduct(b);
        db = g.cwiseProduct(f);
        return;
      case MergeMode::None:
        return;
    }
  };
  RNNOutputGradients<Scalar> upFw, upBw;
  upFw.states = dsFw;
  upBw.states = dsBw;
  if (!d.sequence.empty() || !d.backwardSequence.empty()) {
    w.dFwSeq.resize(batch, time, u);
    w.dBwSeq.resize(batch, time, u);
    if (none) {
      if (d.sequence.empty()) {
        w.dFwSeq.setZero();
      } else {
        std::copy(d.sequence.data(), d.sequence.data() + w.dFwSeq.size(), w.dFwSeq.data());
      }
      if (d.backwardSequence.empty()) {
        w.dBwSeq.setZero();
      } else {
        std::copy(d.backwardSequence.data(), d.backwardSequence.data() + w.dBwSeq.size(),
                  w.dBwSeq.data());
      }
    } else {
      unmerge(d.sequence.data(), w.fw.sequence.data(), w.bw.sequence.data(), batch * time,
              w.dFwSeq.data(), w.dBwSeq.data());
    }
    // The backward layer's sequence was reversed into input order: reverse its gradient back.
    for (Index b = 0; b < batch; ++b)
      for (Index t = 0; t < time / 2; ++t)
        for (Index k = 0; k < u; ++k) std::swap(w.dBwSeq(b, t, k), w.dBwSeq(b, time - 1 - t, k));
    upFw.sequence = w.dFwSeq;
    upBw.sequence = w.dBwSeq;
  }
  if (none) {
    upFw.lastOutput = d.lastOutput;
    upBw.lastOutput = d.backwardLastOutput;
  } else if (!d.lastOutput.empty()) {
    w.dFwLast.resize(batch, u);
    w.dBwLast.resize(batch, u);
    unmerge(d.lastOutput.data(), w.fw.lastOutput.data(), w.bw.lastOutput.data(), batch,
            w.dFwLast.data(), w.dBwLast.data());
    upFw.lastOutput = MatrixView<Scalar>(w.dFwLast.data(), batch, u);
    upBw.lastOutput = MatrixView<Scalar>(w.dBwLast.data(), batch, u);
  }
  forward_.backward(upFw, w.gFw);
  backward_.backward(upBw, w.gBw);

  // out = forward's gradients then backward's. Without accumulate they are copied into `out`'s
  // storage; with it, every shape is checked before anything is added.
  const std::size_t nwFw = w.gFw.weights.size(), nsFw = w.gFw.initialState.size();
  const std::size_t nw = nwFw + w.gBw.weights.size(), ns = nsFw + w.gBw.initialState.size();
  auto weightGrad = [&](std::size_t i) -> FlatTensor<Scalar>& {
    return i < nwFw ? w.gFw.weights[i] : w.gBw.weights[i - nwFw];
  };
  auto stateGrad = [&](std::size_t i) -> Matrix<Scalar>& {
    return i < nsFw ? w.gFw.initialState[i] : w.gBw.initialState[i - nsFw];
  };
  if (args.accumulate) {
    bool ok = out.weights.size() == nw && out.initialState.size() == ns &&
              out.inputs.dimensions() == w.gFw.inputs.dimensions();
    for (std::size_t i = 0; ok && i < nw; ++i)
      ok = out.weights[i].shape == weightGrad(i).shape &&
           out.weights[i].data.size() == weightGrad(i).data.size();
    for (std::size_t i = 0; ok && i < ns; ++i)
      ok = out.initialState[i].rows() == stateGrad(i).rows() &&
           out.initialState[i].cols() == stateGrad(i).cols();
    if (!ok)
      detail::raise<ShapeError>(who(),
                                "accumulate: the given gradients do not have this call's "
                                "shapes");
    out.inputs += w.gFw.inputs + w.gBw.inputs;
    for (std::size_t i = 0; i < nw; ++i) {
      auto& dst = out.weights[i].data;
      const auto& src = weightGrad(i).data;
      for (std::size_t k = 0; k < src.size(); ++k) dst[k] += src[k];
    }
    for (std::size_t i = 0; i < ns; ++i) out.initialState[i] += stateGrad(i);
  } else {
    out.inputs = w.gFw.inputs + w.gBw.inputs;
    out.weights.resize(nw);
    out.initialState.resize(ns);
    // Copied, not swapped: each side keeps its buffers. (A swap hands each direction the
    // caller's previous buffers, empty at first: refilled at the next call of that batch size,
    // which for fit's last, smaller batch is one epoch later.)
    for (std::size_t i = 0; i < nw; ++i) out.weights[i] = weightGrad(i);
    for (std::size_t i = 0; i < ns; ++i) out.initialState[i] = stateGrad(i);
  }
}

template <class Layer>
std::vector<std::vector<Index>> Bidirectional<Layer>::computeOutputShape(
    const std::vector<Index>& inputShape) const {
  auto fw = forward_.computeOutputShape(inputShape);
  std::vector<std::vector<Index>> out;
  std::vector<Index> o = fw[0];
  if (args_.mergeMode == MergeMode::Concat) o.back() *= 2;
  out.push_back(o);
  if (args_.mergeMode == MergeMode::None) out.push_back(o);
  if (returnState()) {
    for (std::size_t i = 1; i < fw.size(); ++i) out.push_back(fw[i]);
    for (std::size_t i = 1; i < fw.size(); ++i) out.push_back(fw[i]);
  }
  return out;
}

}  // namespace recurrent

#endif  // RECURRENT_BIDIRECTIONAL_HPP
