/** @file
 * `RNN<Cell>`: the recurrent layer (TF.js `tf.layers.rnn`): runs a cell over time.
 */
#ifndef RECURRENT_RNN_LAYER_HPP
#define RECURRENT_RNN_LAYER_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/detail/workspace.hpp>
#include <recurrent/rnn.hpp>
#include <recurrent/rnn_cell.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace recurrent {

/// The layer options shared by `RNN` and the `SimpleRNN`/`GRU`/`LSTM` argument structs.
struct RNNLayerOptions {
  bool returnSequences = false;  ///< output `[batch, time, units]` instead of the last step
  bool returnState = false;      ///< also return the final states (TF.js output list)
  bool goBackwards = false;      ///< process time T−1…0; the sequence is returned reversed
  bool stateful = false;         ///< carry the final states into the next call
  bool unroll = false;           ///< accepted for TF.js compatibility; has no effect
  Index inputDim = 0;            ///< features; > 0 builds the layer at construction
  MaskedOutput maskedOutput = MaskedOutput::RepeatPrevious;  ///< Keras: `Zeros`
  /// Threads that share each step of the built-in cells (extension; 1 = the calling thread).
  /// Large layers only (small products stay on one thread); results are bitwise the same.
  int threads = 1;
};

/// Arguments of the RNN layer (TF.js `RNNLayerArgs`).
struct RNNLayerArgs : RNNLayerOptions {
  std::optional<std::uint64_t> seed;  ///< seed of the dropout masks
  std::string name;                   ///< layer name (default "rnn")
};

/// One cell's dropout masks for one call, given explicitly (`CallArgs::dropoutMasks`).
template <class Scalar>
struct CellDropoutMasks {
  Index cell = 0;                ///< TF.js order: the cells of a stack; Bidirectional: fw, bw
  MatrixView<Scalar> input;      ///< `[batch, features of the cell]`; empty = no input dropout
  MatrixView<Scalar> recurrent;  ///< `[batch, units]`; empty = no recurrent dropout
};

/// Per-call arguments (TF.js `apply(inputs, {mask, initialState, training})`).
template <class Scalar>
struct CallArgs {
  MatrixView<Scalar> mask;                       ///< `[batch, time]`, non-zero = keep
  std::vector<MatrixView<Scalar>> initialState;  ///< TF.js state order; empty = zeros/stored
  bool training = false;                         ///< dropout only when true
  /// Keep what `backward` needs (the training forward). Results are bitwise those of the same
  /// call without it. Independent of `training`, which only decides dropout.
  bool record = false;
  /// Masks to use instead of drawing them (TF.js's recorded masks, reproducible or Monte-Carlo
  /// dropout): the multipliers, 0 or 1 / (1 − rate). They apply whatever `training` says; the
  /// cells not listed draw theirs as usual.
  std::vector<CellDropoutMasks<Scalar>> dropoutMasks;
  /// Extension (ONNX `sequence_lens`, PyTorch packed sequences): the valid steps of each
  /// sample, `[batch]` values in [0, time]; empty = every step. Steps t ≥ length are skipped:
  /// their outputs are zeros and the states keep their values, so the final states are those
  /// after the last valid step (the initial ones for length 0). With `goBackwards` a sample is
  /// read from step length−1 down to 0. Not combined with `mask`.
  std::vector<Index> sequenceLengths;
};

/// The upstream gradients of `backward`: ∂L/∂(each output of the recorded call). Any may be
/// left empty (= zeros).
template <class Scalar>
struct RNNOutputGradients {
  SequenceView<Scalar> sequence;           ///< `[batch, time, units]`; only with returnSequences
  MatrixView<Scalar> lastOutput;           ///< `[batch, units]`
  std::vector<MatrixView<Scalar>> states;  ///< the final states, TF.js order (all or none)
};

/// What `backward` returns (or accumulates into).
template <class Scalar>
struct RNNGradients {
  Sequence<Scalar> inputs;                   ///< ∂L/∂x `[batch, time, features]`
  std::vector<Matrix<Scalar>> initialState;  ///< ∂L/∂(the states the call started from)
  std::vector<FlatTensor<Scalar>> weights;   ///< `getWeights()` order, names and shapes
};

/// Options of `backward`.
struct BackwardArgs {
  /// Add into the given gradients (several batches, a layer applied twice) instead of
  /// overwriting them; their shapes must then be those of this call's.
  bool accumulate = false;
};

/// What a call returns. `lastOutput` and `states` are always filled; `sequence` only with
/// `returnSequences`. TF.js's output list is `[returnSequences ? sequence : lastOutput,
/// ...(returnState ? states : [])]`.
template <class Scalar>
struct RNNResult {
  Sequence<Scalar> sequence;           ///< `[batch, time, units]` (returnSequences)
  Matrix<Scalar> lastOutput;           ///< `[batch, units]`
  std::vector<Matrix<Scalar>> states;  ///< final states, TF.js order
};

namespace detail {
template <class T, class = void>
struct CellScalar {
  using type = float;
};
template <class T>
struct CellScalar<T, std::void_t<typename T::Scalar>> {
  using type = typename T::Scalar;
};
}  // namespace detail

/**
 * @brief A recurrent layer over any cell (TF.js `RNN`).
 *
 * `call` runs the cell over `[batch, time, features]` inputs: the input projection of every
 * (sample, step) in one product, then the time loop (`rnn.hpp`), with TF.js's masking,
 * `goBackwards`, dropout and state semantics. Stateful layers fix the batch size at their first
 * call (or `resetStates(values)`) and carry their final states (masked steps respected) into the
 * next call unless `initialState` is given.
 *
 * Output shapes (`computeOutputShape`): `[batch, units]`, or `[batch, time, units]` with
 * `returnSequences`; states `[batch, stateSize[i]]`.
 *
 * `step` is the streaming form of `call` for stateful layers: one time step of `[batch,
 * features]` inputs, nothing allocated after the first step with a given batch.
 *
 * Not thread-safe: a layer owns its workspace; use one layer per thread. (`threads > 1` makes the
 * layer use helper threads of its own inside a call.)
 */
template <class Cell>
class RNN {
  static_assert(is_rnn_cell<Cell>,
                "RNN<Cell>: Cell must be a recurrent cell (SimpleRNNCell, GRUCell, LSTMCell, "
                "StackedRNNCells, AnyCell, or a type with the cell protocol of rnn_cell.hpp)");

 public:
  using Scalar = typename detail::CellScalar<Cell>::type;
  using CellType = Cell;
  using Result = RNNResult<Scalar>;

  explicit RNN(Cell cell, const RNNLayerArgs& args = {});

  // --- TF.js API -----------------------------------------------------------------------------
  /// Runs the layer. @throws ShapeError / StateError on bad inputs (see errors.hpp).
  Result call(SequenceView<Scalar> inputs, const CallArgs<Scalar>& args = {});
  /// Same, into `out` (reuses its storage: no allocation when shapes repeat).
  void call(SequenceView<Scalar> inputs, const CallArgs<Scalar>& args, Result& out);

  /// Streaming (stateful layers): one time step for every sample, `x` is `[batch, features]`.
  /// Same result as `call` on `[batch, 1, features]` without mask or dropout; returns the new
  /// output `[batch, units]`, a view into the stored states valid until the next call.
  /// @throws StateError if the layer is not stateful or the batch changes; ShapeError for the
  /// wrong feature count.
  ConstRows<Scalar> step(MatrixView<Scalar> x);

  // --- gradients ----------------------------------------------------------------------------
  /// Backpropagation through time of the last call, which must have been recorded
  /// (`CallArgs::record`): from the gradients of its outputs, ∂L/∂inputs, ∂L/∂(initial states)
  /// and ∂L/∂(every weight), TF.js's derivatives (see docs/gradients.md). Nothing is allocated
  /// after the first backward with a given shape. Stateful layers: the stored states are
  /// constants (truncated BPTT); `initialState` gets the gradient w.r.t. the states the call
  /// started from. The cell must be differentiable (`is_differentiable_cell`).
  /// @throws StateError without a recorded call (or after a later call, step or weight change);
  ///         ShapeError for upstream gradients of the wrong count or shape.
  void backward(const RNNOutputGradients<Scalar>& dOutputs, RNNGradients<Scalar>& out,
                const BackwardArgs& args = {});
  RNNGradients<Scalar> backward(const RNNOutputGradients<Scalar>& dOutputs) {
    RNNGradients<Scalar> out;
    backward(dOutputs, out);
    return out;
  }
  /// True while the last call's recording can be differentiated.
  bool recorded() const {
    if constexpr (is_differentiable_cell<Cell>) {
      return tape_.valid && tape_.version == cell_.weightsVersion();
    } else {
      return false;
    }
  }
  /// Bytes the last recording call kept for `backward` (inputs, states, cell records).
  std::size_t recordedBytes() const {
    return sizeof(Scalar) * static_cast<std::size_t>(tape_.x.size() + tape_.states.size() +
                                                     tape_.records.size() + tape_.mask.size());
  }
  /// Cells of the layer (a stack's count; 1 otherwise): the range of `CellDropoutMasks::cell`.
  Index cellCount() const {
    if constexpr (detail::HasCellCount<Cell>::value) {
      return cell_.cellCount();
    } else {
      return 1;
    }
  }

  /// Creates the weights for `inputDim` features (done by the first call otherwise).
  void build(Index inputDim);
  bool built() const { return cell_.built(); }
  /// Zero states for a batch of `inputs`, TF.js `getInitialState`.
  std::vector<Matrix<Scalar>> getInitialState(SequenceView<Scalar> inputs) const;
  /// Stateful layers: zero the stored states. @throws StateError if not stateful.
  void resetStates();
  /// Stateful layers: set the stored states (TF.js order, `[batch, stateSize[i]]`).
  void resetStates(const std::vector<MatrixView<Scalar>>& states);
  /// Stored states (stateful), TF.js order; empty before the batch size is known.
  std::vector<Matrix<Scalar>> getStates() const;
  void setStates(const std::vector<MatrixView<Scalar>>& states) { resetStates(states); }

  std::vector<Weight<Scalar>> getWeights() const { return cell_.getWeights(); }
  void setWeights(const std::vector<FlatTensor<Scalar>>& values) { cell_.setWeights(values); }

  /// `[outputShape, stateShapes...]` (states only with returnState), TF.js shapes.
  std::vector<std::vector<Index>> computeOutputShape(const std::vector<Index>& inputShape) const;

  Cell& cell() { return cell_; }
  const Cell& cell() const { return cell_; }
  const std::string& name() const { return name_; }
  Index units() const { return cell_.units(); }
  std::vector<Index> stateSize() const { return cell_.stateSize(); }
  bool returnSequences() const { return args_.returnSequences; }
  bool returnState() const { return args_.returnState; }
  bool goBackwards() const { return args_.goBackwards; }
  bool stateful() const { return args_.stateful; }
  const RNNLayerArgs& args() const { return args_; }
  /// Changes the direction (Bidirectional builds its backward copy with it).
  void setGoBackwards(bool goBackwards) { args_.goBackwards = goBackwards; }

 private:
  std::string where(const char* method) const { return detail::where("RNN", name_, method); }
  void checkStates(const char* method, const std::vector<MatrixView<Scalar>>& states,
                   Index batch) const;
  /// The checks and sizing of `step` (the first step, or after anything that may have changed
  /// them); on return the hot path of `step` may run.
  void prepareStep(MatrixView<Scalar> x);
  /// Stateful layers: fixes the batch size at the first use (zero stored states) or checks it.
  void useStoredStates(const char* method, Index batch, Index width) {
    if (statefulBatch_ < 0) {
      statefulBatch_ = batch;
      stored_.setZero(batch, width);
    } else if (batch != statefulBatch_) {
      detail::raise<StateError>(where(method), "stateful layer: expected batch size " +
                                                   std::to_string(statefulBatch_) + ", got " +
                                                   std::to_string(batch) +
                                                   " (the batch size is fixed at the first call)");
    }
  }

  /// Applies `CallArgs::dropoutMasks` after the cells drew theirs.
  void setGivenDropoutMasks(const std::vector<CellDropoutMasks<Scalar>>& masks, Index batch);
  /// `CallArgs::sequenceLengths`: `[batch]` values in [0, time], no `mask` beside them.
  void checkSequenceLengths(const CallArgs<Scalar>& args, Index batch, Index time) const;
  /// Runs the time loop of a call in mode `Mode` (Infer or Record).
  template <LoopMode Mode>
  void runLoop(const Scalar* mask, MaskedOutput maskedOutput, Index batch, Index time, bool dropout,
               Result& out);
  void checkUpstream(const RNNOutputGradients<Scalar>& d) const;
  /// The body of `backward` (differentiable cells only).
  void differentiate(const RNNOutputGradients<Scalar>& dOutputs, RNNGradients<Scalar>& out,
                     const BackwardArgs& args);

  // What a recording call keeps for backward (time-major, processing order).
  struct Tape {
    bool valid = false;
    std::uint64_t version = 0;  // the cell's weightsVersion() at the call
    Index batch = 0, time = 0;
    bool dropout = false;
    // Workspaces (as below): a last, smaller batch of an epoch costs no reallocation.
    detail::Workspace<Scalar> x;       // [time·batch, features]
    detail::Workspace<Scalar> states;  // [(time+1)·batch, stateWidth]: before step 0 … after T−1
    detail::Workspace<Scalar> records;  // [time·batch, recordWidth]
    detail::Workspace<Scalar> mask;     // [batch, time], empty without a mask
    MaskedOutput maskedOutput = MaskedOutput::RepeatPrevious;  // Zeros for sequenceLengths
  };

  Cell cell_;
  RNNLayerArgs args_;
  std::string name_;
  RandomEngine rng_;
  std::vector<Index> widths_;  // state widths, TF.js order
  Index statefulBatch_ = -1;   // fixed batch of a stateful layer (-1: not yet known)
  // The batch-sized buffers are workspaces: they keep their storage when the batch size
  // changes (fit's last, smaller batch of an epoch, then the next epoch's full ones).
  detail::Workspace<Scalar> stored_;  // stateful: packed stored states [batch, sum(widths)]
  detail::Workspace<Scalar> state_, scratch_;  // packed states of the running call
  detail::Workspace<Scalar> lengthMask_;       // [batch, time] from CallArgs::sequenceLengths
  detail::Workspace<Scalar> projection_;       // [batch·time, projectionSize]
  detail::TeamHandle team_;                    // helper threads (threads > 1)
  Tape tape_;
  // backward workspace: gradients of the projection / recurrent side ([time·batch, ·]), of the
  // states (two [batch, width] buffers used in turn, one for masked rows) and of the inputs.
  detail::Workspace<Scalar> dProj_, dRec_, dState_, dScratch_, dHeld_, dInputs_;
  Index gradShapesInputDim_ = -1;               // the input width gradShapes_ are for
  std::vector<std::vector<Index>> gradShapes_;  // getWeights() shapes at that width
  // `this` once prepareStep has checked and sized everything for step()'s hot path; a copy or a
  // moved-to layer (another `this`) and anything that resizes the workspace start again.
  const RNN* stepReadyFor_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// implementation
// ---------------------------------------------------------------------------------------------

template <class Cell>
RNN<Cell>::RNN(Cell cell, const RNNLayerArgs& args)
    : cell_(std::move(cell)),
      args_(args),
      name_(args.name.empty() ? "rnn" : args.name),
      rng_(args.seed ? *args.seed : RandomEngine::nextDefaultSeed()),
      widths_(cell_.stateSize()) {
  if (args.threads < 1) {
    detail::raise<ConfigError>(where("constructor"),
                               "threads: expected >= 1, got " + std::to_string(args.threads));
  }
  if (args.inputDim > 0) build(args.inputDim);
}

template <class Cell>
void RNN<Cell>::build(Index inputDim) {
  cell_.build(inputDim);
}

template <class Cell>
auto RNN<Cell>::getInitialState(SequenceView<Scalar> inputs) const -> std::vector<Matrix<Scalar>> {
  std::vector<Matrix<Scalar>> out;
  for (Index w : cell_.stateSize()) out.push_back(Matrix<Scalar>::Zero(inputs.batch(), w));
  return out;
}

template <class Cell>
void RNN<Cell>::checkStates(const char* method, const std::vector<MatrixView<Scalar>>& states,
                            Index batch) const {
  const std::vector<Index>& widths = widths_;
  if (states.size() != widths.size()) {
    detail::raise<ShapeError>(
        where(method), "RNN Layer has " + std::to_string(widths.size()) +
                           " state(s) but was passed " + std::to_string(states.size()) +
                           " initial state(s). State widths: " + detail::shapeString(widths) + ".");
  }
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i].rows() != batch || states[i].cols() != widths[i]) {
      detail::raiseShape(where(method), "state " + std::to_string(i),
                         std::vector<Index>{batch, widths[i]},
                         std::vector<Index>{states[i].rows(), states[i].cols()});
    }
  }
}

template <class Cell>
auto RNN<Cell>::call(SequenceView<Scalar> inputs, const CallArgs<Scalar>& args) -> Result {
  Result out;
  call(inputs, args, out);
  return out;
}

template <class Cell>
void RNN<Cell>::call(SequenceView<Scalar> inputs, const CallArgs<Scalar>& args, Result& out) {
  stepReadyFor_ = nullptr;  // call() sizes the workspace for itself
  const Index batch = inputs.batch(), time = inputs.time(), features = inputs.features();
  if (batch < 1 || time < 1 || features < 1) {
    detail::raise<ShapeError>(where("call"),
                              "inputs: expected [batch >= 1, time >= 1, features >= 1], got " +
                                  detail::shapeString({batch, time, features}));
  }
  if (!cell_.built()) {
    build(features);
  } else if (features != cell_.inputDim()) {
    detail::raise<ShapeError>(
        where("call"), "Input 0 is incompatible with layer " + name_ + ": expected shape=,," +
                           std::to_string(cell_.inputDim()) +
                           ", found shape=" + std::to_string(batch) + "," + std::to_string(time) +
                           "," + std::to_string(features) + ". The layer was built for " +
                           std::to_string(cell_.inputDim()) + " features.");
  }
  detail::checkMask([&] { return where("call"); }, args.mask, batch, time);
  // sequenceLengths: a [batch, time] keep-mask whose skipped steps output zeros.
  const Scalar* mask = args.mask.empty() ? nullptr : args.mask.data();
  MaskedOutput maskedOutput = args_.maskedOutput;
  if (!args.sequenceLengths.empty()) {
    checkSequenceLengths(args, batch, time);
    lengthMask_.resize(batch, time);
    for (Index b = 0; b < batch; ++b)
      for (Index t = 0; t < time; ++t)
        lengthMask_(b, t) = t < args.sequenceLengths[static_cast<std::size_t>(b)] ? 1 : 0;
    mask = lengthMask_.data();
    maskedOutput = MaskedOutput::Zeros;
  }
  Index total = 0;
  for (Index w : widths_) total += w;

  // Initial states: given > stored (stateful) > zeros.
  state_.resize(batch, total);
  scratch_.resize(batch, total);
  if (!args.initialState.empty()) {
    checkStates("call", args.initialState, batch);
    if (args_.stateful && statefulBatch_ >= 0 && batch != statefulBatch_) {
      detail::raise<StateError>(where("call"), "stateful layer: expected batch size " +
                                                   std::to_string(statefulBatch_) + ", got " +
                                                   std::to_string(batch));
    }
    detail::PackedStates::pack(args.initialState, widths_, state_);
  } else if (args_.stateful) {
    useStoredStates("call", batch, total);
    state_ = stored_;
  } else {
    state_.setZero();
  }
  if (args_.stateful && statefulBatch_ < 0) statefulBatch_ = batch;

  // Input projection of every (sample, step) row at once.
  detail::shareThreadTeam(cell_, team_.get(args_.threads));
  cell_.prepare(batch);
  cell_.generateDropoutMasks(batch, args.training, rng_);
  if (!args.dropoutMasks.empty()) setGivenDropoutMasks(args.dropoutMasks, batch);
  const bool dropout = cell_.dropoutActive();
  const Index width = cell_.projectionSize();
  projection_.resize(batch * time, width);
  ConstRows<Scalar> x(inputs.data(), batch * time, features, Eigen::OuterStride<>(features));
  Rows<Scalar> proj(projection_.data(), batch * time, width, Eigen::OuterStride<>(width));
  if (dropout) {
    cell_.template projectInputs<true>(x, proj, time);
  } else {
    cell_.template projectInputs<false>(x, proj, time);
  }

  const Index units = cell_.units();
  if (args_.returnSequences) {
    out.sequence.resize(batch, time, units);
  } else {
    out.sequence = Sequence<Scalar>();
  }
  tape_.valid = false;
  if (args.record) {
    if constexpr (is_differentiable_cell<Cell>) {
      cell_.prepareBackward(batch);
      // The inputs in processing order (row s·batch + b), for the weight gradients.
      tape_.x.resize(time * batch, features);
      for (Index s = 0; s < time; ++s) {
        const Index t = args_.goBackwards ? time - 1 - s : s;
        for (Index b = 0; b < batch; ++b) tape_.x.row(s * batch + b) = x.row(b * time + t);
      }
      if (mask == nullptr) {
        tape_.mask.resize(0, 0);
      } else {
        tape_.mask = Eigen::Map<const Matrix<Scalar>>(mask, batch, time);
      }
      tape_.maskedOutput = maskedOutput;
      runLoop<LoopMode::Record>(mask, maskedOutput, batch, time, dropout, out);
      tape_.valid = true;
      tape_.version = cell_.weightsVersion();
      tape_.batch = batch;
      tape_.time = time;
      tape_.dropout = dropout;
    } else {
      detail::raise<ValueError>(where("call"),
                                std::string("record: the cell ") + cell_.className() +
                                    " cannot be differentiated (it has no backward members; "
                                    "see rnn_cell.hpp)");
    }
  } else {
    runLoop<LoopMode::Infer>(mask, maskedOutput, batch, time, dropout, out);
  }

  out.lastOutput = state_.leftCols(units);
  detail::PackedStates::unpack(state_, widths_, out.states);
  if (args_.stateful) stored_ = state_;
}

template <class Cell>
template <LoopMode Mode>
void RNN<Cell>::runLoop(const Scalar* mask, MaskedOutput maskedOutput, Index batch, Index time,
                        bool dropout, Result& out) {
  const Index width = cell_.projectionSize(), stateWidth = state_.cols(), units = cell_.units();
  detail::StateSlots<Scalar> slots{state_.data(), 0, scratch_.data()};
  Index recordWidth = 0;
  if constexpr (Mode == LoopMode::Record) {
    recordWidth = cell_.recordWidth();
    tape_.states.resize((time + 1) * batch, stateWidth);
    tape_.records.resize(time * batch, recordWidth);
    tape_.states.topRows(batch) = state_;
    slots = {tape_.states.data(), batch * stateWidth, nullptr};
  }
  detail::dispatchLoop<Mode>(
      args_.goBackwards, mask != nullptr, args_.returnSequences, dropout, [&](auto policy) {
        using Policy = decltype(policy);
        auto step = [&](Index t, Index s, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
          ConstRows<Scalar> xt(projection_.data() + t * width, batch, width,
                               Eigen::OuterStride<>(time * width));
          if constexpr (Mode == LoopMode::Record) {
            cell_.template stepRecord<Policy::dropout>(
                xt, prev, next,
                Rows<Scalar>(tape_.records.data() + s * batch * recordWidth, batch, recordWidth,
                             Eigen::OuterStride<>(recordWidth)));
          } else {
            (void)s;
            cell_.template step<Policy::dropout>(xt, prev, next);
          }
        };
        detail::timeLoop<Policy>(step, time, mask, maskedOutput, slots, batch, stateWidth, units,
                                 out.sequence.data());
      });
  if constexpr (Mode == LoopMode::Record) {
    state_ = tape_.states.bottomRows(batch);
  } else {
    if (time % 2 != 0) state_.swap(scratch_);
  }
}

template <class Cell>
void RNN<Cell>::checkSequenceLengths(const CallArgs<Scalar>& args, Index batch, Index time) const {
  const auto& lengths = args.sequenceLengths;
  if (!args.mask.empty())
    detail::raise<ValueError>(where("call"),
                              "sequenceLengths: expected no mask beside them, got a mask too");
  if (static_cast<Index>(lengths.size()) != batch)
    detail::raise<ShapeError>(where("call"), "sequenceLengths: expected " + std::to_string(batch) +
                                                 " values (the batch), got " +
                                                 std::to_string(lengths.size()));
  for (std::size_t b = 0; b < lengths.size(); ++b)
    if (lengths[b] < 0 || lengths[b] > time)
      detail::raise<ValueError>(
          where("call"), "sequenceLengths[" + std::to_string(b) + "]: expected a length in [0, " +
                             std::to_string(time) + "] (the time steps), got " +
                             std::to_string(lengths[b]));
}

template <class Cell>
void RNN<Cell>::setGivenDropoutMasks(const std::vector<CellDropoutMasks<Scalar>>& masks,
                                     Index batch) {
  for (const auto& m : masks) {
    for (const MatrixView<Scalar>* v : {&m.input, &m.recurrent})
      if (!v->empty() && v->rows() != batch)
        detail::raise<ShapeError>(where("call"), "dropoutMasks (cell " + std::to_string(m.cell) +
                                                     "): expected " + std::to_string(batch) +
                                                     " rows (batch), got " +
                                                     std::to_string(v->rows()));
    if (m.cell < 0 || m.cell >= cellCount())
      detail::raise<ValueError>(where("call"), "dropoutMasks: cell index " +
                                                   std::to_string(m.cell) + " out of range [0, " +
                                                   std::to_string(cellCount()) + ")");
    if constexpr (detail::HasCellCount<Cell>::value) {
      cell_.setDropoutMasks(m.cell, m.input, m.recurrent);
    } else if constexpr (detail::HasSetDropoutMasks<Cell>::value) {
      cell_.setDropoutMasks(m.input, m.recurrent);
    } else {
      detail::raise<ValueError>(where("call"), std::string("dropoutMasks: the cell ") +
                                                   cell_.className() +
                                                   " has no setDropoutMasks member");
    }
  }
}

template <class Cell>
void RNN<Cell>::checkUpstream(const RNNOutputGradients<Scalar>& d) const {
  const Index batch = tape_.batch, time = tape_.time, units = cell_.units();
  const char* who = "backward";  // where(who) is built only when raising
  if (!d.sequence.empty()) {
    if (!args_.returnSequences)
      detail::raise<ShapeError>(where(who),
                                "dOutputs.sequence: the layer does not return sequences "
                                "(returnSequences is false); give dOutputs.lastOutput");
    if (d.sequence.batch() != batch || d.sequence.time() != time || d.sequence.features() != units)
      detail::raiseShape(
          who, "dOutputs.sequence", std::vector<Index>{batch, time, units},
          std::vector<Index>{d.sequence.batch(), d.sequence.time(), d.sequence.features()});
  }
  if (!d.lastOutput.empty() && (d.lastOutput.rows() != batch || d.lastOutput.cols() != units))
    detail::raiseShape(where(who), "dOutputs.lastOutput", std::vector<Index>{batch, units},
                       std::vector<Index>{d.lastOutput.rows(), d.lastOutput.cols()});
  if (!d.states.empty()) {
    if (d.states.size() != widths_.size())
      detail::raise<ShapeError>(
          where(who), "dOutputs.states: expected " + std::to_string(widths_.size()) +
                          " state gradient(s) (or none), got " + std::to_string(d.states.size()));
    for (std::size_t i = 0; i < d.states.size(); ++i)
      if (d.states[i].rows() != batch || d.states[i].cols() != widths_[i])
        detail::raiseShape(where(who), "dOutputs.states[" + std::to_string(i) + "]",
                           std::vector<Index>{batch, widths_[i]},
                           std::vector<Index>{d.states[i].rows(), d.states[i].cols()});
  }
}

template <class Cell>
void RNN<Cell>::backward(const RNNOutputGradients<Scalar>& dOutputs, RNNGradients<Scalar>& out,
                         const BackwardArgs& args) {
  static_assert(is_differentiable_cell<Cell>,
                "RNN<Cell>::backward: Cell has no backward members (recordWidth, stepRecord, "
                "stepBackward, inputGradients, weightGradients, ...: see rnn_cell.hpp)");
  if constexpr (is_differentiable_cell<Cell>) differentiate(dOutputs, out, args);
}

template <class Cell>
void RNN<Cell>::differentiate(const RNNOutputGradients<Scalar>& dOutputs, RNNGradients<Scalar>& out,
                              const BackwardArgs& args) {
  if (!tape_.valid)
    detail::raise<StateError>(where("backward"),
                              "no recorded call to differentiate: call with record = true first "
                              "(a later call or step without it discards the recording)");
  if (tape_.version != cell_.weightsVersion())
    detail::raise<StateError>(where("backward"),
                              "the weights changed since the recorded call: record again");
  checkUpstream(dOutputs);
  const Index batch = tape_.batch, time = tape_.time, features = cell_.inputDim();
  const Index width = state_.cols(), units = cell_.units();
  const Index projWidth = cell_.projectionSize(), recWidth = cell_.recurrentGradWidth();
  const Index recordWidth = cell_.recordWidth();

  // The gradient shapes: getWeights()'s (a copy of every weight), looked up again only when the
  // cell was built for another input width. A cell's weight shapes follow from its input width
  // alone (units and bias are fixed at construction), and an optimizer step, which sets new
  // values after every batch, must not copy the weights here.
  if (gradShapesInputDim_ != features) {
    gradShapes_.clear();
    for (const auto& w : cell_.getWeights()) gradShapes_.push_back(w.value.shape);
    gradShapesInputDim_ = features;
  }
  const bool accumulate = args.accumulate;
  if (accumulate) {
    bool ok = out.weights.size() == gradShapes_.size() && out.inputs.dimension(0) == batch &&
              out.inputs.dimension(1) == time && out.inputs.dimension(2) == features &&
              out.initialState.size() == widths_.size();
    for (std::size_t i = 0; ok && i < gradShapes_.size(); ++i)
      ok = out.weights[i].shape == gradShapes_[i] &&
           static_cast<Index>(out.weights[i].data.size()) == out.weights[i].size();
    for (std::size_t i = 0; ok && i < widths_.size(); ++i)
      ok = out.initialState[i].rows() == batch && out.initialState[i].cols() == widths_[i];
    if (!ok)
      detail::raise<ShapeError>(where("backward"),
                                "accumulate: the given gradients do not have this call's shapes "
                                "(inputs " +
                                    detail::shapeString({batch, time, features}) +
                                    ", the layer's weights and states)");
  } else {
    out.weights.resize(gradShapes_.size());
    for (std::size_t i = 0; i < gradShapes_.size(); ++i) {
      out.weights[i].shape = gradShapes_[i];
      out.weights[i].data.assign(static_cast<std::size_t>(out.weights[i].size()), Scalar(0));
    }
    out.inputs.resize(batch, time, features);
  }

  // ∂L/∂(final states): the states' own gradients plus the last output's (it is h).
  dState_.setZero(batch, width);
  dScratch_.resize(batch, width);
  for (std::size_t i = 0, off = 0; i < dOutputs.states.size();
       off += static_cast<std::size_t>(widths_[i]), ++i)
    dState_.middleCols(static_cast<Index>(off), widths_[i]) += dOutputs.states[i].map();
  if (!dOutputs.lastOutput.empty()) dState_.leftCols(units) += dOutputs.lastOutput.map();
  const bool masked = tape_.mask.size() > 0;
  if (masked) dHeld_.resize(batch, width);
  dProj_.resize(time * batch, projWidth);
  dRec_.resize(time * batch, recWidth);

  // The reverse loop: ∂L/∂(boundary s) from ∂L/∂(boundary s+1), s = T−1…0.
  detail::StateSlots<Scalar> slots{dState_.data(), 0, dScratch_.data()};
  if (time % 2 != 0) std::swap(slots.base, slots.other);  // boundary T is dState_
  auto rows = [&](detail::Workspace<Scalar>& m, Index s, Index w) {
    return Rows<Scalar>(m.data() + s * batch * w, batch, w, Eigen::OuterStride<>(w));
  };
  auto crows = [&](const detail::Workspace<Scalar>& m, Index s, Index w) {
    return ConstRows<Scalar>(m.data() + s * batch * w, batch, w, Eigen::OuterStride<>(w));
  };
  detail::shareThreadTeam(cell_, team_.get(args_.threads));
  detail::dispatchLoop<LoopMode::Reverse>(
      args_.goBackwards, masked, !dOutputs.sequence.empty(), tape_.dropout, [&](auto policy) {
        using Policy = decltype(policy);
        auto step = [&](Index, Index s, const ConstRows<Scalar>& dNext, Rows<Scalar> dPrev) {
          cell_.template stepBackward<Policy::dropout>(
              crows(tape_.records, s, recordWidth), crows(tape_.states, s, width), dNext, dPrev,
              rows(dProj_, s, projWidth), rows(dRec_, s, recWidth));
        };
        detail::timeLoop<Policy>(step, time, tape_.mask.data(), tape_.maskedOutput, slots, batch,
                                 width, units, dOutputs.sequence.data(), dHeld_.data());
      });

  // Whole-sequence products: ∂L/∂x = ∂L/∂(projection)·Wᵀ, and the weight gradients.
  const ConstRows<Scalar> dProj(dProj_.data(), time * batch, projWidth,
                                Eigen::OuterStride<>(projWidth));
  dInputs_.resize(time * batch, features);
  cell_.inputGradients(
      dProj, Rows<Scalar>(dInputs_.data(), time * batch, features, Eigen::OuterStride<>(features)),
      batch, false);
  for (Index s = 0; s < time; ++s) {
    const Index t = args_.goBackwards ? time - 1 - s : s;
    for (Index b = 0; b < batch; ++b) {
      Eigen::Map<RowVector<Scalar>> dst(out.inputs.data() + (b * time + t) * features, features);
      if (accumulate) {
        dst += dInputs_.row(s * batch + b);
      } else {
        dst = dInputs_.row(s * batch + b);
      }
    }
  }
  cell_.weightGradients(
      ConstRows<Scalar>(tape_.x.data(), time * batch, features, Eigen::OuterStride<>(features)),
      dProj,
      ConstRows<Scalar>(tape_.states.data(), (time + 1) * batch, width,
                        Eigen::OuterStride<>(width)),
      ConstRows<Scalar>(tape_.records.data(), time * batch, recordWidth,
                        Eigen::OuterStride<>(recordWidth)),
      ConstRows<Scalar>(dRec_.data(), time * batch, recWidth, Eigen::OuterStride<>(recWidth)),
      batch, out.weights.data());

  // ∂L/∂(initial states): boundary 0.
  const detail::Workspace<Scalar>& d0 = slots.base == dState_.data() ? dState_ : dScratch_;
  if (accumulate) {
    for (std::size_t i = 0, off = 0; i < widths_.size();
         off += static_cast<std::size_t>(widths_[i]), ++i)
      out.initialState[i] += d0.middleCols(static_cast<Index>(off), widths_[i]);
  } else {
    detail::PackedStates::unpack(d0, widths_, out.initialState);
  }
}

template <class Cell>
ConstRows<typename RNN<Cell>::Scalar> RNN<Cell>::step(MatrixView<Scalar> x) {
  // The hot path: a few compares, the input projection, the cell's step, a swap. Everything else
  // (checks, sizing, the thread team) was done by the first step of this batch (prepareStep).
  const Index batch = x.rows(), features = x.cols();
  if (stepReadyFor_ != this || batch != statefulBatch_ || features != cell_.inputDim() ||
      x.data() == nullptr)
    prepareStep(x);
  const Index width = cell_.stateWidth(), projWidth = cell_.projectionSize();
  cell_.template projectInputs<false>(
      ConstRows<Scalar>(x.data(), batch, features, Eigen::OuterStride<>(features)),
      Rows<Scalar>(projection_.data(), batch, projWidth, Eigen::OuterStride<>(projWidth)), 1);
  cell_.template step<false>(
      ConstRows<Scalar>(projection_.data(), batch, projWidth, Eigen::OuterStride<>(projWidth)),
      ConstRows<Scalar>(stored_.data(), batch, width, Eigen::OuterStride<>(width)),
      Rows<Scalar>(scratch_.data(), batch, width, Eigen::OuterStride<>(width)));
  stored_.swap(scratch_);
  return ConstRows<Scalar>(stored_.data(), batch, cell_.units(), Eigen::OuterStride<>(width));
}

template <class Cell>
void RNN<Cell>::prepareStep(MatrixView<Scalar> x) {
  const Index batch = x.rows(), features = x.cols();
  if (!args_.stateful) {
    detail::raise<StateError>(where("step"),
                              "step() streams a stateful layer: construct it with stateful = true");
  }
  if (x.empty() || batch < 1 || features < 1) {
    detail::raise<ShapeError>(where("step"), "x: expected [batch >= 1, features >= 1], got " +
                                                 detail::shapeString({batch, features}) +
                                                 (x.empty() ? " (no data)" : ""));
  }
  if (!cell_.built()) build(features);
  if (features != cell_.inputDim()) {
    detail::raise<ShapeError>(where("step"), "x: expected shape [batch, " +
                                                 std::to_string(cell_.inputDim()) + "], got " +
                                                 detail::shapeString({batch, features}));
  }
  const Index width = cell_.stateWidth();
  useStoredStates("step", batch, width);
  detail::shareThreadTeam(cell_, team_.get(args_.threads));
  cell_.prepare(batch);
  projection_.resize(batch, cell_.projectionSize());
  scratch_.resize(batch, width);
  tape_.valid = false;  // step() changes the cells' scratch and masks a recording relies on
  stepReadyFor_ = this;
}

template <class Cell>
void RNN<Cell>::resetStates() {
  if (!args_.stateful)
    detail::raise<StateError>(where("resetStates"),
                              "Cannot call resetStates() on an RNN Layer that is not stateful.");
  if (statefulBatch_ >= 0) stored_.setZero();
}

template <class Cell>
void RNN<Cell>::resetStates(const std::vector<MatrixView<Scalar>>& states) {
  if (!args_.stateful)
    detail::raise<StateError>(where("resetStates"),
                              "Cannot call resetStates() on an RNN Layer that is not stateful.");
  const std::vector<Index> widths = cell_.stateSize();
  if (states.size() != widths.size()) {
    detail::raise<ValueError>(where("resetStates"),
                              "Layer " + name_ + " expects " + std::to_string(widths.size()) +
                                  " state(s), but it received " + std::to_string(states.size()) +
                                  " state value(s).");
  }
  const Index batch = statefulBatch_ >= 0 ? statefulBatch_ : states[0].rows();
  checkStates("resetStates", states, batch);
  Index total = 0;
  for (Index w : widths) total += w;
  stored_.resize(batch, total);
  detail::PackedStates::pack(states, widths, stored_);
  statefulBatch_ = batch;
  stepReadyFor_ = nullptr;
}

template <class Cell>
auto RNN<Cell>::getStates() const -> std::vector<Matrix<Scalar>> {
  std::vector<Matrix<Scalar>> out;
  if (statefulBatch_ >= 0) detail::PackedStates::unpack(stored_, widths_, out);
  return out;
}

template <class Cell>
std::vector<std::vector<Index>> RNN<Cell>::computeOutputShape(
    const std::vector<Index>& inputShape) const {
  if (inputShape.size() != 3)
    detail::raise<ShapeError>(where("computeOutputShape"),
                              "inputShape: expected rank 3 [batch, time, features], got " +
                                  detail::shapeString(inputShape));
  std::vector<std::vector<Index>> out;
  if (args_.returnSequences) {
    out.push_back({inputShape[0], inputShape[1], cell_.units()});
  } else {
    out.push_back({inputShape[0], cell_.units()});
  }
  if (args_.returnState)
    for (Index w : cell_.stateSize()) out.push_back({inputShape[0], w});
  return out;
}

}  // namespace recurrent

#endif  // RECURRENT_RNN_LAYER_HPP
