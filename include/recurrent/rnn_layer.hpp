/** @file
 * `RNN<Cell>`: the recurrent layer (TF.js `tf.layers.rnn`): runs a cell over time.
 */
#ifndef RECURRENT_RNN_LAYER_HPP
#define RECURRENT_RNN_LAYER_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/rnn.hpp>
#include <recurrent/rnn_cell.hpp>

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

/// Per-call arguments (TF.js `apply(inputs, {mask, initialState, training})`).
template <class Scalar>
struct CallArgs {
  MatrixView<Scalar> mask;                       ///< `[batch, time]`, non-zero = keep
  std::vector<MatrixView<Scalar>> initialState;  ///< TF.js state order; empty = zeros/stored
  bool training = false;                         ///< dropout only when true
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
template <class T, class = void>
struct HasThreadTeam : std::false_type {};
template <class T>
struct HasThreadTeam<
    T, std::void_t<decltype(std::declval<T&>().setThreadTeam(std::declval<ThreadTeam*>()))>>
    : std::true_type {};
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

  Cell cell_;
  RNNLayerArgs args_;
  std::string name_;
  RandomEngine rng_;
  std::vector<Index> widths_;       // state widths, TF.js order
  Index statefulBatch_ = -1;        // fixed batch of a stateful layer (-1: not yet known)
  Matrix<Scalar> stored_;           // stateful: packed stored states [batch, sum(widths)]
  Matrix<Scalar> state_, scratch_;  // packed states of the running call
  Matrix<Scalar> projection_;       // [batch·time, projectionSize]
  detail::TeamHandle team_;         // helper threads (threads > 1)
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
    detail::raise<ShapeError>(where(method), "initialState: the layer has " +
                                                 std::to_string(widths.size()) + " state(s) " +
                                                 detail::shapeString(widths) + " but was passed " +
                                                 std::to_string(states.size()) + " state(s)");
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
        where("call"), "inputs: expected shape [batch, time, " + std::to_string(cell_.inputDim()) +
                           "] (the layer was built for " + std::to_string(cell_.inputDim()) +
                           " features), got " + detail::shapeString({batch, time, features}));
  }
  detail::checkMask([&] { return where("call"); }, args.mask, batch, time);
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
    for (std::size_t i = 0, off = 0; i < widths_.size();
         off += static_cast<std::size_t>(widths_[i]), ++i)
      state_.middleCols(static_cast<Index>(off), widths_[i]) = args.initialState[i].map();
  } else if (args_.stateful) {
    useStoredStates("call", batch, total);
    state_ = stored_;
  } else {
    state_.setZero();
  }
  if (args_.stateful && statefulBatch_ < 0) statefulBatch_ = batch;

  // Input projection of every (sample, step) row at once.
  if constexpr (detail::HasThreadTeam<Cell>::value) cell_.setThreadTeam(team_.get(args_.threads));
  cell_.prepare(batch);
  cell_.generateDropoutMasks(batch, args.training, rng_);
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
  detail::dispatchLoop(
      args_.goBackwards, !args.mask.empty(), args_.returnSequences, dropout, [&](auto policy) {
        using Policy = decltype(policy);
        auto step = [&](Index t, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
          ConstRows<Scalar> xt(projection_.data() + t * width, batch, width,
                               Eigen::OuterStride<>(time * width));
          cell_.template step<Policy::dropout>(xt, prev, next);
        };
        detail::timeLoop<Policy>(step, time, args.mask.data(), args_.maskedOutput, state_, scratch_,
                                 units, out.sequence.data());
      });

  out.lastOutput = state_.leftCols(units);
  out.states.resize(widths_.size());
  for (std::size_t i = 0, off = 0; i < widths_.size();
       off += static_cast<std::size_t>(widths_[i]), ++i)
    out.states[i] = state_.middleCols(static_cast<Index>(off), widths_[i]);
  if (args_.stateful) stored_ = state_;
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
  if constexpr (detail::HasThreadTeam<Cell>::value) cell_.setThreadTeam(team_.get(args_.threads));
  cell_.prepare(batch);
  projection_.resize(batch, cell_.projectionSize());
  scratch_.resize(batch, width);
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
  for (std::size_t i = 0, off = 0; i < widths.size();
       off += static_cast<std::size_t>(widths[i]), ++i)
    stored_.middleCols(static_cast<Index>(off), widths[i]) = states[i].map();
  statefulBatch_ = batch;
  stepReadyFor_ = nullptr;
}

template <class Cell>
auto RNN<Cell>::getStates() const -> std::vector<Matrix<Scalar>> {
  std::vector<Matrix<Scalar>> out;
  if (statefulBatch_ < 0) return out;
  const std::vector<Index> widths = cell_.stateSize();
  for (std::size_t i = 0, off = 0; i < widths.size();
       off += static_cast<std::size_t>(widths[i]), ++i)
    out.push_back(stored_.middleCols(static_cast<Index>(off), widths[i]));
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
