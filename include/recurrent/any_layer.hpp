/** @file
 * `AnyLayer<Scalar>`: a type-erased recurrent layer with TF.js's calling convention — any-rank
 * tensors in, TF.js's output list out. What the run-time assembly (`io/layer_config.hpp`) and
 * the golden-case runner use; C++ code that knows its layer type calls the layer directly.
 */
#ifndef RECURRENT_ANY_LAYER_HPP
#define RECURRENT_ANY_LAYER_HPP

#include <recurrent/bidirectional.hpp>
#include <recurrent/detail/checks.hpp>
#include <recurrent/detail/workspace.hpp>
#include <recurrent/rnn_layer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace recurrent {

/// One cell's explicit dropout masks, as tensors (see `CellDropoutMasks`).
template <class Scalar>
struct LayerDropoutMasks {
  Index cell = 0;
  std::optional<FlatTensor<Scalar>> input;      ///< `[batch, features of the cell]`
  std::optional<FlatTensor<Scalar>> recurrent;  ///< `[batch, units]`
};

/// Per-call arguments of `AnyLayer::apply`, as tensors.
template <class Scalar>
struct LayerCallArgs {
  std::optional<FlatTensor<Scalar>> mask;        ///< `[batch, time]`, non-zero = keep
  std::vector<FlatTensor<Scalar>> initialState;  ///< TF.js state order
  bool training = false;
  bool record = false;  ///< keep what `backward` needs (see `CallArgs::record`)
  std::vector<LayerDropoutMasks<Scalar>> dropoutMasks;  ///< see `CallArgs::dropoutMasks`
};

/// What `AnyLayer::backward` returns: ∂L/∂inputs, ∂L/∂(initial states), ∂L/∂(each weight).
template <class Scalar>
struct LayerGradients {
  FlatTensor<Scalar> inputs;                     ///< `[batch, time, features]`
  std::vector<FlatTensor<Scalar>> initialState;  ///< TF.js state order
  std::vector<FlatTensor<Scalar>> weights;       ///< `getWeights()` order and shapes
};

namespace detail {
template <class T>
struct IsBidirectional : std::false_type {};
template <class L>
struct IsBidirectional<Bidirectional<L>> : std::true_type {};
/// True when `RNN`/`Bidirectional` layer `L`'s cell can be differentiated.
template <class L>
struct LayerDifferentiable : std::bool_constant<is_differentiable_cell<typename L::CellType>> {};
template <class L>
struct LayerDifferentiable<Bidirectional<L>> : LayerDifferentiable<L> {};
}  // namespace detail

/// Type-erased layer (`RNN<Cell>`, `SimpleRNN`, `GRU`, `LSTM`, `Bidirectional<...>`).
template <class Scalar>
class AnyLayer {
 public:
  template <class Layer, class = std::enable_if_t<!std::is_same_v<std::decay_t<Layer>, AnyLayer>>>
  explicit AnyLayer(Layer layer, std::string className = {})
      : self_(std::make_unique<Model<Layer>>(std::move(layer))),
        className_(className.empty()
                       ? (detail::IsBidirectional<Layer>::value ? "Bidirectional" : "RNN")
                       : std::move(className)) {}

  /// TF.js `layer.apply(inputs, {mask, initialState, training})`: returns
  /// `[output(s)..., states...]` in TF.js order. @throws ShapeError for a rank ≠ 3 input etc.
  std::vector<FlatTensor<Scalar>> apply(const FlatTensor<Scalar>& inputs,
                                        const LayerCallArgs<Scalar>& args = {}) {
    std::vector<FlatTensor<Scalar>> outputs;
    apply(inputs, args, outputs);
    return outputs;
  }
  /// `apply` into `outputs`, overwritten in place: each tensor keeps its storage, so a training
  /// loop that passes the same vector every batch allocates nothing once the sizes are known.
  void apply(const FlatTensor<Scalar>& inputs, const LayerCallArgs<Scalar>& args,
             std::vector<FlatTensor<Scalar>>& outputs) {
    auto who = [&] { return detail::where(className_, name(), "apply"); };  // on errors only
    if (inputs.rank() != 3)
      detail::raise<ShapeError>(
          who(), "Input 0 is incompatible with layer " + name() +
                     ": expected ndim=3, found ndim=" + std::to_string(inputs.rank()) + " (shape " +
                     detail::shapeString(inputs.shape) + ")");
    if (!holds(inputs)) checkData(who(), "inputs", inputs);
    CallArgs<Scalar>& call = call_;  // reused: its vectors keep their capacity
    call.mask = MatrixView<Scalar>();
    call.initialState.clear();
    call.dropoutMasks.clear();
    call.training = args.training;
    if (args.mask) {
      const auto& m = *args.mask;
      if (m.rank() != 2)
        detail::raise<ShapeError>(who(), "mask: expected rank 2 [batch, time], got shape " +
                                             detail::shapeString(m.shape));
      if (!holds(m)) checkData(who(), "mask", m);
      call.mask = MatrixView<Scalar>(m.data.data(), m.shape[0], m.shape[1]);
    }
    for (std::size_t i = 0; i < args.initialState.size(); ++i) {
      const auto& s = args.initialState[i];
      if (s.rank() != 2)
        detail::raise<ShapeError>(who(), "initialState[" + std::to_string(i) +
                                             "]: expected rank 2 [batch, units], got shape " +
                                             detail::shapeString(s.shape));
      if (!holds(s)) checkData(who(), "initialState[" + std::to_string(i) + "]", s);
      call.initialState.emplace_back(s.data.data(), s.shape[0], s.shape[1]);
    }
    call.record = args.record;
    for (const auto& m : args.dropoutMasks) {
      CellDropoutMasks<Scalar> c;
      c.cell = m.cell;
      auto view = [&](const std::optional<FlatTensor<Scalar>>& t, const char* what) {
        if (!t) return MatrixView<Scalar>();
        if (t->rank() != 2)
          detail::raise<ShapeError>(who(), std::string("dropoutMasks ") + what +
                                               ": expected rank 2, got shape " +
                                               detail::shapeString(t->shape));
        if (!holds(*t)) checkData(who(), std::string("dropoutMasks ") + what, *t);
        return MatrixView<Scalar>(t->data.data(), t->shape[0], t->shape[1]);
      };
      c.input = view(m.input, "input");
      c.recurrent = view(m.recurrent, "recurrent");
      call.dropoutMasks.push_back(c);
    }
    SequenceView<Scalar> x(inputs.data.data(), inputs.shape[0], inputs.shape[1], inputs.shape[2]);
    self_->apply(x, call, outputs);
  }

  /// Backpropagation through the last (recorded) `apply`: `dOutputs` holds ∂L/∂(each output
  /// it returned), in its order and shapes (an empty tensor, no shape, = zeros). `out` is
  /// overwritten in place (its tensors keep their storage).
  /// @throws StateError, ShapeError as `RNN::backward`.
  void backward(const std::vector<FlatTensor<Scalar>>& dOutputs, LayerGradients<Scalar>& out) {
    for (std::size_t i = 0; i < dOutputs.size(); ++i)
      if (!dOutputs[i].shape.empty() && !holds(dOutputs[i]))  // empty = zeros (an unused output)
        checkData(detail::where(className_, name(), "backward"),
                  "dOutputs[" + std::to_string(i) + "]", dOutputs[i]);
    self_->backward(className_, dOutputs, out);
  }

  /// Builds for an input shape `[batch, time, features]`.
  void build(const std::vector<Index>& inputShape) {
    if (inputShape.size() != 3)
      detail::raise<ShapeError>(
          detail::where(className_, name(), "build"),
          "inputShape: expected [batch, time, features], got " + detail::shapeString(inputShape));
    self_->build(inputShape[2]);
  }
  void resetStates() { self_->resetStates(); }
  void resetStates(const std::vector<FlatTensor<Scalar>>& states) {
    std::vector<MatrixView<Scalar>> views;
    for (std::size_t i = 0; i < states.size(); ++i) {
      const auto& s = states[i];
      if (s.rank() != 2)
        detail::raise<ShapeError>(detail::where(className_, name(), "resetStates"),
                                  "state " + std::to_string(i) + ": expected rank 2, got shape " +
                                      detail::shapeString(s.shape));
      checkData(detail::where(className_, name(), "resetStates"), "state " + std::to_string(i), s);
      views.emplace_back(s.data.data(), s.shape[0], s.shape[1]);
    }
    self_->resetStates(views);
  }
  std::vector<Weight<Scalar>> getWeights() const { return self_->getWeights(); }
  void setWeights(const std::vector<FlatTensor<Scalar>>& values) { self_->setWeights(values); }
  std::vector<std::vector<Index>> computeOutputShape(const std::vector<Index>& shape) const {
    return self_->computeOutputShape(shape);
  }
  const std::string& name() const { return self_->name(); }
  const std::string& className() const { return className_; }
  bool stateful() const { return self_->stateful(); }

  /// The wrapped layer, or nullptr if it is not a `Layer`.
  template <class Layer>
  Layer* target() {
    auto* m = dynamic_cast<Model<Layer>*>(self_.get());
    return m != nullptr ? &m->layer : nullptr;
  }

 private:
  /// True when a tensor's data holds exactly the elements its shape says (no negative
  /// dimension). Checked first, so that the names of `checkData` are built only on errors.
  static bool holds(const FlatTensor<Scalar>& t) {
    bool ok = true;
    for (Index d : t.shape) ok = ok && d >= 0;
    return ok && static_cast<Index>(t.data.size()) == t.size();
  }
  /// @throws ShapeError unless `holds(t)`.
  static void checkData(const std::string& who, const std::string& what,
                        const FlatTensor<Scalar>& t) {
    if (holds(t)) return;
    bool ok = true;
    for (Index d : t.shape) ok = ok && d >= 0;
    detail::raise<ShapeError>(who, what + ": shape " + detail::shapeString(t.shape) + " needs " +
                                       std::to_string(ok ? t.size() : 0) + " values, got " +
                                       std::to_string(t.data.size()));
  }
  /// `dst` := `src` (`[rows, cols]` row-major, or `[batch, time, features]`), in dst's storage.
  static void assign(FlatTensor<Scalar>& dst, const Matrix<Scalar>& src) {
    dst.shape.assign({src.rows(), src.cols()});
    dst.data.assign(src.data(), src.data() + src.size());
  }
  static void assign(FlatTensor<Scalar>& dst, const Sequence<Scalar>& src) {
    dst.shape.assign({src.dimension(0), src.dimension(1), src.dimension(2)});
    dst.data.assign(src.data(), src.data() + src.size());
  }

  struct Concept {
    virtual ~Concept() = default;
    virtual void apply(SequenceView<Scalar>, const CallArgs<Scalar>&,
                       std::vector<FlatTensor<Scalar>>&) = 0;
    virtual void build(Index) = 0;
    virtual void resetStates() = 0;
    virtual void resetStates(const std::vector<MatrixView<Scalar>>&) = 0;
    virtual std::vector<Weight<Scalar>> getWeights() const = 0;
    virtual void setWeights(const std::vector<FlatTensor<Scalar>>&) = 0;
    virtual std::vector<std::vector<Index>> computeOutputShape(const std::vector<Index>&) const = 0;
    virtual const std::string& name() const = 0;
    virtual bool stateful() const = 0;
    /// `className`: the wrapper's, for error messages.
    virtual void backward(const std::string& className, const std::vector<FlatTensor<Scalar>>&,
                          LayerGradients<Scalar>&) = 0;
  };
  template <class Layer>
  struct Model final : Concept {
    explicit Model(Layer l) : layer(std::move(l)) {}
    void apply(SequenceView<Scalar> x, const CallArgs<Scalar>& args,
               std::vector<FlatTensor<Scalar>>& out) override {
      const auto& result = slotFor(x.batch()).result;
      layer.call(x, args, slots_[current_].result);
      std::size_t n = 0;
      auto next = [&]() -> FlatTensor<Scalar>& {
        if (out.size() <= n) out.resize(n + 1);
        return out[n++];
      };
      if (layer.returnSequences()) {
        assign(next(), result.sequence);
      } else {
        assign(next(), result.lastOutput);
      }
      if constexpr (detail::IsBidirectional<Layer>::value) {
        if (layer.mergeMode() == MergeMode::None) {
          if (layer.returnSequences()) {
            assign(next(), result.backwardSequence);
          } else {
            assign(next(), result.backwardLastOutput);
          }
        }
      }
      if (layer.returnState())
        for (const auto& s : result.states) assign(next(), s);
      out.resize(n);
    }
    void build(Index inputDim) override { layer.build(inputDim); }
    void resetStates() override { layer.resetStates(); }
    void resetStates(const std::vector<MatrixView<Scalar>>& s) override { layer.resetStates(s); }
    std::vector<Weight<Scalar>> getWeights() const override { return layer.getWeights(); }
    void setWeights(const std::vector<FlatTensor<Scalar>>& v) override { layer.setWeights(v); }
    std::vector<std::vector<Index>> computeOutputShape(const std::vector<Index>& s) const override {
      return layer.computeOutputShape(s);
    }
    const std::string& name() const override { return layer.name(); }
    bool stateful() const override { return layer.stateful(); }

    void backward(const std::string& className, const std::vector<FlatTensor<Scalar>>& d,
                  LayerGradients<Scalar>& out) override {
      auto who = [&] { return detail::where(className, layer.name(), "backward"); };
      if constexpr (!detail::LayerDifferentiable<Layer>::value) {
        (void)d, (void)out;
        detail::raise<ValueError>(who(),
                                  "the layer's cell cannot be differentiated (it has no "
                                  "backward members: see rnn_cell.hpp)");
      } else {
        backwardImpl(who, d, out);
      }
    }
    template <class Who>
    void backwardImpl(const Who& who, const std::vector<FlatTensor<Scalar>>& d,
                      LayerGradients<Scalar>& out) {
      constexpr bool bidirectional = detail::IsBidirectional<Layer>::value;
      const auto& result = slots_[current_].result;  // of the recorded call
      RNNGradients<Scalar>& grads = slots_[current_].grads;
      std::size_t outputs = 1;
      if constexpr (bidirectional) {
        if (layer.mergeMode() == MergeMode::None) outputs = 2;
      }
      const std::size_t states = layer.returnState() ? result.states.size() : 0;
      if (d.size() != outputs + states)
        detail::raise<ShapeError>(who(), "dOutputs: expected " + std::to_string(outputs + states) +
                                             " gradient(s), one per output, got " +
                                             std::to_string(d.size()));
      auto seq = [&](const FlatTensor<Scalar>& t, const char* what) {
        if (t.shape.empty()) return SequenceView<Scalar>();
        if (t.rank() != 3)
          detail::raise<ShapeError>(who(), std::string(what) + ": expected rank 3, got shape " +
                                               detail::shapeString(t.shape));
        return SequenceView<Scalar>(t.data.data(), t.shape[0], t.shape[1], t.shape[2]);
      };
      auto mat = [&](const FlatTensor<Scalar>& t, const char* what) {
        if (t.shape.empty()) return MatrixView<Scalar>();
        if (t.rank() != 2)
          detail::raise<ShapeError>(who(), std::string(what) + ": expected rank 2, got shape " +
                                               detail::shapeString(t.shape));
        return MatrixView<Scalar>(t.data.data(), t.shape[0], t.shape[1]);
      };
      std::vector<MatrixView<Scalar>>& dStates = dStates_;  // reused
      dStates.clear();
      bool anyState = false;
      for (std::size_t i = 0; i < states; ++i) anyState = anyState || !d[outputs + i].shape.empty();
      if (anyState) {
        for (std::size_t i = 0; i < states; ++i) {
          const auto& t = d[outputs + i];
          if (t.shape.empty()) {  // zeros for a state without a gradient
            if (zeros_.size() <= i) zeros_.resize(i + 1);
            zeros_[i].setZero(result.states[i].rows(), result.states[i].cols());
            dStates.emplace_back(zeros_[i].data(), zeros_[i].rows(), zeros_[i].cols());
          } else {
            dStates.push_back(mat(t, "dOutputs (state)"));
          }
        }
      }
      const bool sequences = layer.returnSequences();
      if constexpr (bidirectional) {
        BidirectionalOutputGradients<Scalar> up;
        if (sequences) {
          up.sequence = seq(d[0], "dOutputs[0]");
          if (outputs == 2) up.backwardSequence = seq(d[1], "dOutputs[1]");
        } else {
          up.lastOutput = mat(d[0], "dOutputs[0]");
          if (outputs == 2) up.backwardLastOutput = mat(d[1], "dOutputs[1]");
        }
        up.states.swap(dStates);  // lent, not copied
        layer.backward(up, grads);
        up.states.swap(dStates);
      } else {
        RNNOutputGradients<Scalar> up;
        if (sequences) {
          up.sequence = seq(d[0], "dOutputs[0]");
        } else {
          up.lastOutput = mat(d[0], "dOutputs[0]");
        }
        up.states.swap(dStates);  // lent, not copied
        layer.backward(up, grads);
        up.states.swap(dStates);
      }
      // Copied into `out`'s storage (copy-assignment keeps capacity), so that `grads` keeps
      // its buffers too.
      assign(out.inputs, grads.inputs);
      out.initialState.resize(grads.initialState.size());
      for (std::size_t i = 0; i < grads.initialState.size(); ++i)
        assign(out.initialState[i], grads.initialState[i]);
      out.weights = grads.weights;
    }

    // A call's results and gradients are Eigen matrices, which reallocate on any change of
    // size: one set per batch size, for the two that fit's epochs alternate between (the full
    // batches and a smaller last one).
    struct Slot {
      Index batch = -1;
      typename Layer::Result result;
      RNNGradients<Scalar> grads;
    };
    /// The slot for a call of `batch` samples: the last one's, or the other (replaced unless
    /// it is that batch's).
    Slot& slotFor(Index batch) {
      if (slots_[current_].batch != batch) {
        current_ = 1 - current_;
        slots_[current_].batch = batch;
      }
      return slots_[current_];
    }

    Layer layer;
    Slot slots_[2];
    std::size_t current_ = 0;                       // the slot of the last call
    std::vector<detail::Workspace<Scalar>> zeros_;  // state gradients not given
    std::vector<MatrixView<Scalar>> dStates_;
  };

  std::unique_ptr<Concept> self_;
  std::string className_;
  CallArgs<Scalar> call_;  // apply's, reused
};

}  // namespace recurrent

#endif  // RECURRENT_ANY_LAYER_HPP
