/** @file
 * `rnn()`: the generic time loop of TF.js (`tfjs-layers/src/layers/recurrent.ts`), and the
 * compile-time loop policies every layer runs through.
 *
 * Semantics (TF.js 4.22):
 * - time runs 0…T−1, or T−1…0 with `goBackwards`; the per-step outputs are returned **in
 *   processing order** (reversed w.r.t. the input when going backwards);
 * - with a mask `[batch, time]` (non-zero = keep), a masked step keeps every state of that
 *   sample and outputs the previous `states[0]`: `out = m·new + (1−m)·states₀₋`. Leading masked
 *   steps therefore output the initial h; `MaskedOutput::Zeros` instead writes zeros into the
 *   returned sequence for masked steps (Keras's `zero_output_for_mask`), states unchanged;
 * - the result is `{lastOutput, outputs, newStates}`.
 *
 * The loop itself (`detail::timeLoop`) has no run-time branch on these options: they are the
 * compile-time `LoopPolicy`, chosen once per call by `dispatchLoop`.
 */
#ifndef RECURRENT_RNN_HPP
#define RECURRENT_RNN_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/rnn_cell.hpp>
#include <recurrent/types.hpp>

#include <utility>
#include <vector>

namespace recurrent {

/// What a masked step contributes to the returned sequence.
enum class MaskedOutput {
  RepeatPrevious,  ///< TF.js: the previous states[0] (h)
  Zeros,           ///< Keras `zero_output_for_mask`: zeros
};

/// What one run of the time loop does.
enum class LoopMode {
  Infer,    ///< forward; the states ping-pong between two buffers
  Record,   ///< forward; the states before and after every step stay (one slot per step)
  Reverse,  ///< backward through a recorded run: state gradients, last step first
};

/// The compile-time options of one run of the time loop.
template <bool GoBackwards, bool Masked, bool CollectSequence, bool Dropout,
          LoopMode Mode = LoopMode::Infer>
struct LoopPolicy {
  static constexpr bool goBackwards = GoBackwards;
  static constexpr bool masked = Masked;
  /// Forward: the per-step outputs are written; Reverse: their gradients are read.
  static constexpr bool collectSequence = CollectSequence;
  static constexpr bool dropout = Dropout;
  static constexpr LoopMode mode = Mode;
  static constexpr bool reverse = Mode == LoopMode::Reverse;
};

/// Run-time options of `rnn()` (TF.js `rnn(stepFunction, inputs, initialStates, goBackwards,
/// mask, constants, unroll, needPerStepOutputs)`).
template <class Scalar>
struct RnnOptions {
  bool goBackwards = false;
  MatrixView<Scalar> mask;  ///< `[batch, time]`, non-zero = keep; empty = no mask
  bool needPerStepOutputs = false;
  MaskedOutput maskedOutput = MaskedOutput::RepeatPrevious;
};

/// What `rnn()` returns: TF.js's `[lastOutput, outputs, newStates]`.
template <class Scalar>
struct RnnResult {
  Matrix<Scalar> lastOutput;  ///< `[batch, outputWidth]`
  Sequence<Scalar> outputs;   ///< `[batch, time, outputWidth]` if needPerStepOutputs
  std::vector<Matrix<Scalar>> newStates;
};

/// The states of one step as separate `[batch, width_i]` views into the loop's packed buffer.
template <class Scalar>
class StateList {
  using Element = std::remove_const_t<Scalar>;
  using View = std::conditional_t<std::is_const_v<Scalar>, ConstRows<Element>, Rows<Element>>;

 public:
  StateList(Scalar* packed, Index batch, const std::vector<Index>& widths)
      : packed_(packed), batch_(batch), widths_(&widths) {
    for (Index w : widths) stride_ += w;
  }
  Index size() const { return static_cast<Index>(widths_->size()); }
  /// State `i`, `[batch, width_i]`.
  View operator[](Index i) const {
    Index offset = 0;
    for (Index k = 0; k < i; ++k) offset += (*widths_)[static_cast<std::size_t>(k)];
    return View(packed_ + offset, batch_, (*widths_)[static_cast<std::size_t>(i)],
                Eigen::OuterStride<>(stride_));
  }

 private:
  Scalar* packed_;
  Index batch_;
  Index stride_ = 0;
  const std::vector<Index>* widths_;
};

namespace detail {
template <class T>
struct NonDeducedImpl {
  using type = T;
};
/// `T` in a non-deduced context (C++20's `std::type_identity_t`).
template <class T>
using NonDeduced = typename NonDeducedImpl<T>::type;
}  // namespace detail

/// Runs `stepFunction` over time, TF.js `rnn()`.
///
/// `stepFunction(input, states, newStates)` receives the inputs of one step (`ConstRows`,
/// `[batch, features]`), the previous states (`StateList<const Scalar>`) and writes every new
/// state (`StateList<Scalar>&`); its output is `newStates[0]`. It is called once per step.
/// @throws ShapeError for an empty state list or states/mask of the wrong shape.
template <class Scalar, class StepFn>
RnnResult<Scalar> rnn(StepFn&& stepFunction, detail::NonDeduced<SequenceView<Scalar>> inputs,
                      const std::vector<Matrix<Scalar>>& initialStates,
                      const RnnOptions<Scalar>& options = {});

namespace detail {

/// Where the time loop keeps the packed states (`[batch, width]` each) of step boundary `i`
/// (`i = 0` before the first processed step): two buffers used in turn, or one slot per
/// boundary of a recording.
template <class Scalar>
struct StateSlots {
  Scalar* base = nullptr;
  Index slotSize = 0;       // one slot per boundary: base + i·slotSize
  Scalar* other = nullptr;  // set: two buffers, base for even i, other for odd i
  Scalar* operator()(Index i) const {
    if (other != nullptr) return (i & 1) != 0 ? other : base;
    return base + i * slotSize;
  }
};

/// The time loop, forwards or (`Policy::reverse`) backwards through a recorded run.
///
/// Forward: for processing step s = 0…T−1 (input step t = s, or T−1−s with goBackwards),
/// `step(t, s, prev, next)` computes the packed states of boundary s+1 from those of s
/// (`[batch, width]`, output = first `outputWidth` columns); a masked row keeps its states; the
/// output of step s goes to `sequence` `[batch, time, outputWidth]` when collected.
///
/// Reverse: slots hold ∂L/∂states. For s = T−1…0: the gradient of output s (from `sequence`)
/// is added to boundary s+1, then `step(t, s, dNext, dPrev)` writes ∂L/∂(boundary s) — with
/// the masked rows' gradient zeroed for the step and passed unchanged to boundary s instead
/// (`held` is a `[batch, width]` buffer for them). A masked step thus gives its inputs and the
/// weights nothing, and `MaskedOutput::Zeros` outputs have no gradient.
template <class Policy, class Scalar, class StepFn>
void timeLoop(StepFn& step, Index time, const Scalar* mask, MaskedOutput maskedOutput,
              const StateSlots<Scalar>& slots, Index batch, Index width, Index outputWidth,
              std::conditional_t<Policy::reverse, const Scalar*, Scalar*> sequence,
              Scalar* held = nullptr) {
  auto rows = [&](Scalar* p) { return Rows<Scalar>(p, batch, width, Eigen::OuterStride<>(width)); };
  auto keep = [&](Index b, Index t) { return mask[b * time + t] != Scalar(0); };
  for (Index k = 0; k < time; ++k) {
    const Index s = Policy::reverse ? time - 1 - k : k;
    const Index t = Policy::goBackwards ? time - 1 - s : s;
    Rows<Scalar> before = rows(slots(s)), after = rows(slots(s + 1));
    if constexpr (!Policy::reverse) {
      step(t, s, ConstRows<Scalar>(before.data(), batch, width, Eigen::OuterStride<>(width)),
           after);
      if constexpr (Policy::masked) {
        for (Index b = 0; b < batch; ++b)
          if (!keep(b, t)) after.row(b) = before.row(b);
      }
      if constexpr (Policy::collectSequence) {
        Rows<Scalar> out(sequence + s * outputWidth, batch, outputWidth,
                         Eigen::OuterStride<>(time * outputWidth));
        out = after.leftCols(outputWidth);
        if constexpr (Policy::masked) {
          if (maskedOutput == MaskedOutput::Zeros) {
            for (Index b = 0; b < batch; ++b)
              if (!keep(b, t)) out.row(b).setZero();
          }
        }
      }
    } else {
      if constexpr (Policy::collectSequence) {
        ConstRows<Scalar> dOut(sequence + s * outputWidth, batch, outputWidth,
                               Eigen::OuterStride<>(time * outputWidth));
        for (Index b = 0; b < batch; ++b) {
          if constexpr (Policy::masked) {
            if (maskedOutput == MaskedOutput::Zeros && !keep(b, t)) continue;
          }
          after.row(b).head(outputWidth) += dOut.row(b);
        }
      }
      if constexpr (Policy::masked) {
        for (Index b = 0; b < batch; ++b)
          if (!keep(b, t)) {
            rows(held).row(b) = after.row(b);
            after.row(b).setZero();
          }
      }
      step(t, s, ConstRows<Scalar>(after.data(), batch, width, Eigen::OuterStride<>(width)),
           before);
      if constexpr (Policy::masked) {
        for (Index b = 0; b < batch; ++b)
          if (!keep(b, t)) before.row(b) = rows(held).row(b);
      }
    }
    if constexpr (!Policy::collectSequence) (void)sequence, (void)outputWidth;
    if constexpr (!Policy::masked) (void)maskedOutput, (void)held;
  }
}

/// Turns run-time flags into a `LoopPolicy` of mode `Mode` once and calls `f(Policy{})`.
template <LoopMode Mode = LoopMode::Infer, class F>
decltype(auto) dispatchLoop(bool goBackwards, bool masked, bool collect, bool dropout, F&& f) {
  auto d4 = [&](auto gb, auto mk, auto co) -> decltype(auto) {
    if (dropout)
      return f(
          LoopPolicy<decltype(gb)::value, decltype(mk)::value, decltype(co)::value, true, Mode>{});
    return f(
        LoopPolicy<decltype(gb)::value, decltype(mk)::value, decltype(co)::value, false, Mode>{});
  };
  auto d3 = [&](auto gb, auto mk) -> decltype(auto) {
    if (collect) return d4(gb, mk, std::true_type{});
    return d4(gb, mk, std::false_type{});
  };
  auto d2 = [&](auto gb) -> decltype(auto) {
    if (masked) return d3(gb, std::true_type{});
    return d3(gb, std::false_type{});
  };
  if (goBackwards) return d2(std::true_type{});
  return d2(std::false_type{});
}

/// The packed form of a state list: `[batch, Σ widths]`, the states side by side in TF.js order.
struct PackedStates {
  /// Copies `states[i]` (anything with `.map()` or an Eigen matrix) into its columns of `dst`,
  /// which has the right size.
  template <class States, class Dst>
  static void pack(const States& states, const std::vector<Index>& widths, Dst& dst) {
    using Scalar = typename Dst::Scalar;
    Index offset = 0;
    for (std::size_t i = 0; i < widths.size(); offset += widths[i], ++i) {
      if constexpr (std::is_same_v<typename States::value_type, MatrixView<Scalar>>) {
        dst.middleCols(offset, widths[i]) = states[i].map();
      } else {
        dst.middleCols(offset, widths[i]) = states[i];
      }
    }
  }
  /// Splits packed states into one matrix per state (reusing `out`'s storage).
  template <class Scalar, class Packed>
  static void unpack(const Packed& src, const std::vector<Index>& widths,
                     std::vector<Matrix<Scalar>>& out) {
    out.resize(widths.size());
    Index offset = 0;
    for (std::size_t i = 0; i < widths.size(); offset += widths[i], ++i)
      out[i] = src.middleCols(offset, widths[i]);
  }
};

/// `who` itself, or `who()` when it is a callable (built only when an error is raised).
inline const std::string& whoString(const std::string& who) { return who; }
template <class F>
std::string whoString(const F& who) {
  return who();
}

/// Validates a `[batch, time]` mask. Masks are exactly `[batch, time]` (see docs). `who` is the
/// raiser's name or a callable returning it.
template <class Scalar, class Who>
void checkMask(const Who& who, const MatrixView<Scalar>& mask, Index batch, Index time) {
  if (mask.empty()) return;
  if (mask.rows() != batch || mask.cols() != time)
    raiseShape(whoString(who), "mask", std::vector<Index>{batch, time},
               std::vector<Index>{mask.rows(), mask.cols()});
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// implementation
// ---------------------------------------------------------------------------------------------

template <class Scalar, class StepFn>
RnnResult<Scalar> rnn(StepFn&& stepFunction, detail::NonDeduced<SequenceView<Scalar>> inputs,
                      const std::vector<Matrix<Scalar>>& initialStates,
                      const RnnOptions<Scalar>& options) {
  const std::string who = "rnn";
  const Index batch = inputs.batch(), time = inputs.time(), features = inputs.features();
  if (initialStates.empty()) detail::raise<ShapeError>(who, "initialStates: expected at least 1");
  std::vector<Index> widths;
  Index total = 0;
  for (std::size_t i = 0; i < initialStates.size(); ++i) {
    if (initialStates[i].rows() != batch)
      detail::raiseShape(who, "initialStates[" + std::to_string(i) + "]",
                         std::vector<Index>{batch, initialStates[i].cols()},
                         std::vector<Index>{initialStates[i].rows(), initialStates[i].cols()});
    widths.push_back(initialStates[i].cols());
    total += initialStates[i].cols();
  }
  detail::checkMask(who, options.mask, batch, time);
  Matrix<Scalar> state(batch, total), scratch(batch, total);
  detail::PackedStates::pack(initialStates, widths, state);

  RnnResult<Scalar> result;
  const Index outputWidth = widths[0];
  if (options.needPerStepOutputs) result.outputs.resize(batch, time, outputWidth);
  auto step = [&](Index t, Index, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    ConstRows<Scalar> input(inputs.data() + t * features, batch, features,
                            Eigen::OuterStride<>(time * features));
    StateList<const Scalar> prevList(prev.data(), batch, widths);
    StateList<Scalar> nextList(next.data(), batch, widths);
    stepFunction(input, prevList, nextList);
  };
  const detail::StateSlots<Scalar> slots{state.data(), 0, scratch.data()};
  detail::dispatchLoop(options.goBackwards, !options.mask.empty(), options.needPerStepOutputs,
                       false, [&](auto policy) {
                         detail::timeLoop<decltype(policy)>(
                             step, time, options.mask.data(), options.maskedOutput, slots, batch,
                             total, outputWidth, result.outputs.data());
                       });
  if (time % 2 != 0) state.swap(scratch);
  result.lastOutput = state.leftCols(outputWidth);
  detail::PackedStates::unpack(state, widths, result.newStates);
  return result;
}

}  // namespace recurrent

#endif  // RECURRENT_RNN_HPP
