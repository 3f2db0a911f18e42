/** @file
 * The cell protocol and `RNNCell<Derived>`, the CRTP base of the built-in cells.
 *
 * ## What a cell is (the contract `RNN<Cell>` and `StackedRNNCells` rely on)
 *
 * A cell computes one time step for a whole batch. Its work is split in two so the time loop can
 * be fast:
 *
 * 1. `projectInputs<Dropout>(x, out, rowsPerSample)`: the input projection `out = x·W (+ b)` for
 *    many rows at once — every (sample, timestep) row of a call in one product. `x` is
 *    `[rows, inputDim]`, `out` is `[rows, projectionSize()]`; row `r` belongs to sample
 *    `r / rowsPerSample` (which input-dropout mask row applies).
 * 2. `step<Dropout>(xProj, prev, next)`: the recurrent part of one step. `xProj` is
 *    `[batch, projectionSize()]` (a strided view into the projection), `prev` and `next` are
 *    `[batch, stateWidth()]`: the cell's states side by side in TF.js state order (`h`, or
 *    `h, c`). It reads `prev`, writes all of `next`, allocates nothing and throws nothing.
 *    **The cell's output is its first state** (`h`), as for every TF.js cell: the loop reads the
 *    output from `next` columns `[0, units())`.
 *
 * Before a call the owner calls `prepare(batch)` (sizes scratch; allocates only when the batch
 * grows) and `generateDropoutMasks(batch, training, rng)` (draws this call's masks or clears
 * them). `Dropout` is a compile-time flag: the loop instantiates the step without dropout code
 * unless a mask is active.
 *
 * A user-written cell provides the same members (see `examples/custom_cell.cpp`); the trait
 * `is_rnn_cell<T>` checks them and `RNN<T>` refuses anything else with one `static_assert`.
 *
 * Members: `Scalar`, `className()`, `name()`, `units()`, `inputDim()`, `built()`,
 * `build(inputDim)`, `stateSize()` (widths of the states), `stateWidth()`, `projectionSize()`,
 * `getWeights()`, `setWeights(values)`, `prepare(batch)`, `generateDropoutMasks(...)`,
 * `dropoutActive()`, `projectInputs<bool>(...)`, `step<bool>(...)`.
 *
 * ## Differentiable cells (what `RNN::backward` needs; `is_differentiable_cell<T>`)
 *
 * A recording call (`CallArgs::record`) runs `stepRecord` instead of `step`, and `backward`
 * walks the steps in reverse with `stepBackward`, then forms the weight and input gradients
 * from whole-sequence products. Every buffer is in **processing order, time-major**: row
 * `s·batch + b` is sample `b` at processing step `s` (so row `r` is sample `r % batch`).
 *
 * - `recordWidth()`: scalars the recording step keeps per row (the activated gates, and the
 *   pre-activations when an activation's derivative needs them).
 * - `recurrentGradWidth()`: scalars per row of recurrent-side gradient that `stepBackward`
 *   leaves for `weightGradients` (0 when that is the projection's gradient itself).
 * - `prepareBackward(batch)`: before a recording call: sizes the backward scratch and packs
 *   the transposed kernels (allocates only when sizes or weights changed).
 * - `stepRecord<bool>(xProj, prev, next, record)`: `step`, bitwise, also writing `record`.
 * - `stepBackward<bool>(record, prev, dNext, dPrev, dProj, dRec)`: from `dNext` = ∂L/∂next
 *   (`[batch, stateWidth]`), writes `dPrev` = ∂L/∂prev, `dProj` = ∂L/∂xProj and `dRec`.
 * - `inputGradients(dProj, dx, batch, accumulate)`: `dx (+)= (dProj·Wᵀ) ⊙ m_x`.
 * - `weightGradients(x, dProj, states, records, dRec, batch, grads)`: adds ∂L/∂(each weight)
 *   into `grads[0..)` (`getWeights()` order and shapes); `states` holds the states before each
 *   step (`[rows, stateWidth]`, the rows after them are the states after the last step).
 * - optional: `setDropoutMasks(input, recurrent)`: this call's masks given explicitly (empty =
 *   none; `CallArgs::dropoutMasks` needs it).
 * - `weightsVersion()`: changes whenever the weights do (a recording is only valid for the
 *   weights it saw).
 */
#ifndef RECURRENT_RNN_CELL_HPP
#define RECURRENT_RNN_CELL_HPP

#include <recurrent/activations.hpp>
#include <recurrent/detail/activation_grad.hpp>
#include <recurrent/detail/checks.hpp>
#include <recurrent/detail/gemm.hpp>
#include <recurrent/detail/gemv.hpp>
#include <recurrent/detail/thread_team.hpp>
#include <recurrent/detail/workspace.hpp>
#include <recurrent/dropout.hpp>
#include <recurrent/errors.hpp>
#include <recurrent/initializers.hpp>
#include <recurrent/random.hpp>
#include <recurrent/types.hpp>

#include <Eigen/Core>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace recurrent {

/// Mutable `[rows, cols]` view with a row stride (a block of rows of a bigger row-major buffer).
template <class Scalar>
using Rows = Eigen::Map<Matrix<Scalar>, 0, Eigen::OuterStride<>>;
/// Read-only counterpart of `Rows`.
template <class Scalar>
using ConstRows = Eigen::Map<const Matrix<Scalar>, 0, Eigen::OuterStride<>>;

/// A named weight, as `getWeights()` returns them (TF.js `originalName` without the layer prefix).
template <class Scalar>
struct Weight {
  std::string name;
  FlatTensor<Scalar> value;
};

/// Arguments every built-in cell takes (TF.js names and defaults).
struct CellArgs {
  Index units = 0;                               ///< required, > 0
  Activation activation = ActivationKind::Tanh;  ///< `null` in TF.js: see docs
  bool useBias = true;
  Initializer kernelInitializer = InitializerKind::GlorotNormal;
  Initializer recurrentInitializer = InitializerKind::Orthogonal;
  Initializer biasInitializer = InitializerKind::Zeros;
  double dropout = 0.0;                              ///< input dropout rate, clamped to [0, 1]
  double recurrentDropout = 0.0;                     ///< recurrent dropout rate, clamped to [0, 1]
  DropoutMasks dropoutMasks = DropoutMasks::Shared;  ///< TF.js shares mask 0 between gates
  std::optional<std::uint64_t> seed;  ///< seed of the dropout masks (unseeded: default sequence)
  std::string name;
  /// Extension (ONNX `clip`): every gate's pre-activation (bias included) is clamped to
  /// [−clip, clip] before its activation; > 0. Inference only: a recording call refuses it.
  std::optional<double> clip;
};

/// Specialised by each cell: its `Scalar` (and compile-time sizes).
template <class Cell>
struct CellTraits;

namespace detail {
template <class T, class = void>
struct HasCellMembers : std::false_type {};
template <class T>
struct HasCellMembers<
    T,
    std::void_t<
        typename T::Scalar, decltype(std::declval<const T&>().className()),
        decltype(std::declval<const T&>().name()), decltype(std::declval<const T&>().units()),
        decltype(std::declval<const T&>().inputDim()), decltype(std::declval<const T&>().built()),
        decltype(std::declval<const T&>().stateSize()),
        decltype(std::declval<const T&>().stateWidth()),
        decltype(std::declval<const T&>().projectionSize()),
        decltype(std::declval<const T&>().getWeights()),
        decltype(std::declval<T&>().setWeights(
            std::declval<const std::vector<FlatTensor<typename T::Scalar>>&>())),
        decltype(std::declval<T&>().build(Index{})), decltype(std::declval<T&>().prepare(Index{})),
        decltype(std::declval<T&>().generateDropoutMasks(Index{}, bool{},
                                                         std::declval<RandomEngine&>())),
        decltype(std::declval<const T&>().dropoutActive()),
        decltype(std::declval<T&>().template projectInputs<false>(
            std::declval<const ConstRows<typename T::Scalar>&>(),
            std::declval<Rows<typename T::Scalar>>(), Index{})),
        decltype(std::declval<T&>().template step<false>(
            std::declval<const ConstRows<typename T::Scalar>&>(),
            std::declval<const ConstRows<typename T::Scalar>&>(),
            std::declval<Rows<typename T::Scalar>>()))>> : std::true_type {};
}  // namespace detail

/// True when `T` provides the cell protocol documented above.
template <class T>
inline constexpr bool is_rnn_cell = detail::HasCellMembers<T>::value;

namespace detail {
template <class T, class = void>
struct HasBackwardMembers : std::false_type {};
template <class T>
struct HasBackwardMembers<
    T, std::void_t<
           decltype(std::declval<const T&>().recordWidth()),
           decltype(std::declval<const T&>().recurrentGradWidth()),
           decltype(std::declval<const T&>().weightsVersion()),
           decltype(std::declval<T&>().prepareBackward(Index{})),
           decltype(std::declval<T&>().template stepRecord<false>(
               std::declval<const ConstRows<typename T::Scalar>&>(),
               std::declval<const ConstRows<typename T::Scalar>&>(),
               std::declval<Rows<typename T::Scalar>>(), std::declval<Rows<typename T::Scalar>>())),
           decltype(std::declval<T&>().template stepBackward<false>(
               std::declval<const ConstRows<typename T::Scalar>&>(),
               std::declval<const ConstRows<typename T::Scalar>&>(),
               std::declval<const ConstRows<typename T::Scalar>&>(),
               std::declval<Rows<typename T::Scalar>>(), std::declval<Rows<typename T::Scalar>>(),
               std::declval<Rows<typename T::Scalar>>())),
           decltype(std::declval<T&>().inputGradients(
               std::declval<const ConstRows<typename T::Scalar>&>(),
               std::declval<Rows<typename T::Scalar>>(), Index{}, bool{})),
           decltype(std::declval<T&>().weightGradients(
               std::declval<const ConstRows<typename T::Scalar>&>(),
               std::declval<const ConstRows<typename T::Scalar>&>(),
               std::declval<const ConstRows<typename T::Scalar>&>(),
               std::declval<const ConstRows<typename T::Scalar>&>(),
               std::declval<const ConstRows<typename T::Scalar>&>(), Index{},
               std::declval<FlatTensor<typename T::Scalar>*>()))>> : std::true_type {};

template <class T, class = void>
struct HasThreadTeam : std::false_type {};
template <class T>
struct HasThreadTeam<
    T, std::void_t<decltype(std::declval<T&>().setThreadTeam(std::declval<ThreadTeam*>()))>>
    : std::true_type {};
template <class T, class = void>
struct HasSetDropoutMasks : std::false_type {};
template <class T>
struct HasSetDropoutMasks<T, std::void_t<decltype(std::declval<T&>().setDropoutMasks(
                                 std::declval<const MatrixView<typename T::Scalar>&>(),
                                 std::declval<const MatrixView<typename T::Scalar>&>()))>>
    : std::true_type {};

/// A cell made of cells (a stack, or an AnyCell holding any cell): `cellCount()` and
/// `setDropoutMasks(cell, input, recurrent)`.
template <class T, class = void>
struct HasCellCount : std::false_type {};
template <class T>
struct HasCellCount<T, std::void_t<decltype(std::declval<const T&>().cellCount())>>
    : std::true_type {};

/// Hands the team to `cell` if it can use one.
template <class Cell>
void shareThreadTeam(Cell& cell, ThreadTeam* team) {
  if constexpr (HasThreadTeam<Cell>::value) cell.setThreadTeam(team);
}
}  // namespace detail

/// True when `T` is a cell `RNN::backward` can differentiate (the members listed above).
template <class T>
inline constexpr bool is_differentiable_cell =
    is_rnn_cell<T>&& detail::HasBackwardMembers<T>::value;

/// CRTP base of `SimpleRNNCell`, `GRUCell`, `LSTMCell`: arguments, weights, build, dropout masks
/// and the input projection. `Derived` supplies `kGates`, `kStateCount`, `className()`,
/// `biasRows()` and the step maths.
template <class Derived>
class RNNCell {
 public:
  using Scalar = typename CellTraits<Derived>::Scalar;
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                "recurrent cells support Scalar = float or double");

  const std::string& name() const { return name_; }
  Index units() const { return units_; }
  /// Features per time step; 0 until built.
  Index inputDim() const { return inputDim_; }
  bool built() const { return inputDim_ > 0; }
  Activation activation() const { return activation_; }
  /// The gate pre-activation clip (`CellArgs::clip`), if any.
  std::optional<double> clip() const {
    return clipped_ ? std::optional<double>(clipValue_) : std::nullopt;
  }
  bool useBias() const { return useBias_; }
  double dropout() const { return dropout_; }
  double recurrentDropout() const { return recurrentDropout_; }
  DropoutMasks dropoutMasks() const { return dropoutMasks_; }

  /// Widths of the states in TF.js order (`[units]`, or `[units, units]` for LSTM).
  std::vector<Index> stateSize() const {
    return std::vector<Index>(static_cast<std::size_t>(Derived::kStateCount), units_);
  }
  Index stateWidth() const { return Derived::kStateCount * units_; }
  Index projectionSize() const { return Derived::kGates * units_; }

  /// Creates the weights for `inputDim` features and fills them with the initializers.
  void build(Index inputDim);

  /// `[kernel, recurrent_kernel, bias]` (no bias when `useBias` is false), TF.js shapes.
  std::vector<Weight<Scalar>> getWeights() const;
  /// The shapes of `getWeights()` (`Derived::weightShapes(inputDim, units, …)` says them
  /// without a cell: the model loader checks files with it).
  std::vector<std::vector<Index>> weightShapes() const {
    return shapesOf(inputDim_, units_, useBias_, self().biasRows());
  }
  /// Sets the weights from TF.js-ordered values; builds the cell from the kernel's shape if it
  /// was not built yet. @throws ShapeError naming the weight, expected and received shapes.
  void setWeights(const std::vector<FlatTensor<Scalar>>& values);

  /// `[inputDim, k·units]`; fixed-size storage when the cell's sizes are compile-time and small.
  using KernelMatrix =
      WeightMatrix<Scalar, CellTraits<Derived>::kInputDim,
                   (CellTraits<Derived>::kUnits == Eigen::Dynamic
                        ? Eigen::Dynamic
                        : CellTraits<Derived>::kGates * CellTraits<Derived>::kUnits)>;
  /// `[units, k·units]`, fixed-size like `KernelMatrix`.
  using RecurrentKernelMatrix =
      WeightMatrix<Scalar, CellTraits<Derived>::kUnits,
                   (CellTraits<Derived>::kUnits == Eigen::Dynamic
                        ? Eigen::Dynamic
                        : CellTraits<Derived>::kGates * CellTraits<Derived>::kUnits)>;

  const KernelMatrix& kernel() const { return kernel_; }
  const RecurrentKernelMatrix& recurrentKernel() const { return recurrentKernel_; }
  /// `[1, k·units]`, or `[2, 3·units]` for a reset-after GRU (row 0 input, row 1 recurrent).
  const Matrix<Scalar>& bias() const { return bias_; }

  // --- loop side ---------------------------------------------------------------------------
  /// Sizes the per-step scratch for `batch` rows (allocates only when it grows).
  void prepare(Index batch) { static_cast<Derived&>(*this).prepareScratch(batch); }
  /// Draws this call's dropout masks (or clears them when dropout does not apply).
  void generateDropoutMasks(Index batch, bool training, RandomEngine& rng) {
    const Index count = dropoutMasks_ == DropoutMasks::PerGate ? Derived::kGates : 1;
    inputMask_.generate(dropoutApplies(dropout_, training), count, batch, inputDim_, dropout_, rng);
    recurrentMask_.generate(dropoutApplies(recurrentDropout_, training), count, batch, units_,
                            recurrentDropout_, rng);
  }
  bool dropoutActive() const { return inputMask_.active() || recurrentMask_.active(); }
  /// Threads that share this cell's products (nullptr: the calling thread only). The layer owns
  /// the team; see `RNNLayerOptions::threads`.
  void setThreadTeam(detail::ThreadTeam* team) { team_ = team; }
  /// The team of the last call (nullptr: one thread).
  const detail::ThreadTeam* threadTeam() const { return team_; }
  const DropoutMask<Scalar>& inputDropoutMask() const { return inputMask_; }
  const DropoutMask<Scalar>& recurrentDropoutMask() const { return recurrentMask_; }

  /// `out = x·W + b_input` for every row of `x` (see the file comment).
  template <bool Dropout>
  void projectInputs(const ConstRows<Scalar>& x, Rows<Scalar> out, Index rowsPerSample);

  // --- training side (see "Differentiable cells" in the file comment) ------------------------
  /// Changes whenever the weights change (build, setWeights).
  std::uint64_t weightsVersion() const { return version_; }
  /// This call's dropout masks given explicitly (TF.js's recorded masks, Monte-Carlo dropout):
  /// `input` `[batch, inputDim]`, `recurrent` `[batch, units]`, the multipliers; an empty view
  /// means no mask. Replaces what `generateDropoutMasks` drew. @throws ShapeError.
  void setDropoutMasks(const MatrixView<Scalar>& input, const MatrixView<Scalar>& recurrent);
  /// Sizes the backward scratch for `batch` rows and packs the transposed kernels (only when the
  /// weights changed since the last time). @throws ValueError with `DropoutMasks::PerGate`.
  void prepareBackward(Index batch);
  /// `dx (+)= (dProj·Wᵀ) ⊙ m_x`, rows time-major (row r is sample r % batch).
  void inputGradients(const ConstRows<Scalar>& dProj, Rows<Scalar> dx, Index batch,
                      bool accumulate);
  /// Adds ∂L/∂kernel, ∂L/∂recurrent_kernel, ∂L/∂bias into `grads[0..3)` (see the file comment).
  void weightGradients(const ConstRows<Scalar>& x, const ConstRows<Scalar>& dProj,
                       const ConstRows<Scalar>& states, const ConstRows<Scalar>& records,
                       const ConstRows<Scalar>& dRec, Index batch, FlatTensor<Scalar>* grads);

 protected:
  template <class Args>
  RNNCell(const Args& args, const char* defaultName);

  const Derived& self() const { return static_cast<const Derived&>(*this); }
  /// `[inputDim, k·units]`, `[units, k·units]`, then `[k·units]` (or `[biasRows, k·units]`).
  static std::vector<std::vector<Index>> shapesOf(Index inputDim, Index units, bool useBias,
                                                  Index biasRows) {
    const Index width = Derived::kGates * units;
    std::vector<std::vector<Index>> out{{inputDim, width}, {units, width}};
    if (useBias)
      out.push_back(biasRows == 1 ? std::vector<Index>{width}
                                  : std::vector<Index>{biasRows, width});
    return out;
  }
  /// Who raises: "LSTMCell 'name'.method".
  std::string where(const char* method) const {
    return detail::where(Derived::className(), name_, method);
  }
  /// False for softmax/logSoftmax, which normalise over a whole gate block.
  static bool isElementwise(Activation a) {
    return a.kind() != ActivationKind::Softmax && a.kind() != ActivationKind::LogSoftmax;
  }
  /// Compile-time units and input features (`Eigen::Dynamic` when set at run time).
  static constexpr int kUnits = CellTraits<Derived>::kUnits;
  static constexpr int kInputDim = CellTraits<Derived>::kInputDim;
  /// `k·n` at compile time, or `Eigen::Dynamic` when `n` is.
  static constexpr int times(int k, int n) { return n == Eigen::Dynamic ? Eigen::Dynamic : k * n; }

  /// Applies `a` in place to `n` contiguous values: one row's block of one gate. `N` is `n` when
  /// known at compile time (the same results, unrolled).
  /// Clamps n contiguous pre-activations to [−clip, clip] when the cell clips.
  void clipRow(Scalar* p, Index n) const {
    if (!clipped_) return;
    const Scalar c = static_cast<Scalar>(clipValue_);
    auto x = Eigen::Map<Eigen::Array<Scalar, 1, Eigen::Dynamic>>(p, n);
    x = x.max(-c).min(c);
  }
  /// The inference-only extension the cell uses (`clip`, a parametric activation, ...), or
  /// nullptr: a recording call raises naming it. Cells with more extensions shadow it.
  const char* inferenceOnlyFeature() const {
    if (clipped_) return "clip";
    if (activation_.isParametric()) return "a parametric activation";
    return nullptr;
  }
  template <int N = Eigen::Dynamic>
  static void activateRow(Activation a, Scalar* p, Index n) {
    if (a.isParametric()) {
      a.apply(Eigen::Map<Eigen::Matrix<Scalar, 1, Eigen::Dynamic>>(p, n));
      return;
    }
    detail::activate<N>(a.kind(), p, n);
  }
  /// `C = Add + A·B` with a packed `B` (see detail/gemm.hpp); `A`, `Add`, `C` row-major. Split by
  /// column panels across the team when the product is large enough to pay for it. `Depth` and
  /// `Cols` are `B`'s sizes when known at compile time: one row (streaming) then takes the
  /// register-resident product of detail/gemv.hpp, bitwise the same.
  template <int Depth = Eigen::Dynamic, int Cols = Eigen::Dynamic>
  void gemm(Index rows, const Scalar* a, Index lda, const detail::PackedMatrix<Scalar>& b,
            const Scalar* add, Index ldadd, Scalar* c, Index ldc) const {
    if constexpr (Depth != Eigen::Dynamic && Cols != Eigen::Dynamic) {
      if (rows == 1 && (team_ == nullptr || Index{Depth} * Cols < kParallelWork))
        return detail::packedGemv<Scalar, Depth, Cols>(a, b, add, c);
    }
    if (team_ == nullptr || rows * b.rows() * b.cols() < kParallelWork || b.panels() < 2) {
      detail::packedGemm(rows, a, lda, b, add, ldadd, c, ldc);
      return;
    }
    auto part = [&](int index, int count) {
      const auto range = detail::splitRange(b.panels(), index, count);
      detail::packedGemm(rows, a, lda, b, add, ldadd, c, ldc, range.first, range.second);
    };
    team_->run(part);
  }
  /// Calls `f(row)` for every row in `[0, rows)`, split across the team for large blocks.
  template <class F>
  void forRows(Index rows, F&& f) const {
    if (team_ == nullptr || rows < 2 || rows * units_ < kParallelRows) {
      for (Index r = 0; r < rows; ++r) f(r);
      return;
    }
    auto part = [&](int index, int count) {
      const auto range = detail::splitRange(rows, index, count);
      for (Index r = range.first; r < range.second; ++r) f(r);
    };
    team_->run(part);
  }

  /// Packs the kernel and (through `Derived::packRecurrent`) the recurrent kernel; called
  /// whenever the weights change.
  void repack() {
    packedKernel_.pack(kernel_);
    static_cast<Derived&>(*this).packRecurrent();
    ++version_;
  }
  /// The transposed recurrent kernel for the backward step; a cell that splits it hides this.
  void packRecurrentTransposed() { packedRecurrentT_.pack(recurrentKernel_.transpose()); }
  /// `C (+)= A·B` over many rows for the weight gradients: `A` given transposed as `at`
  /// (`[rows, m]` row-major, so `A` is `at`ᵀ), `B` packed; `c` `[m, B.cols()]` row-major.
  void gemmTransposed(const ConstRows<Scalar>& at, const detail::PackedMatrix<Scalar>& b, Scalar* c,
                      Index ldc) {
    const Index m = at.cols(), depth = at.rows();
    if (aT_.size() < m * depth) aT_.resize(m * depth);  // grows only: dW and dU share it
    // aT_ = atᵀ, row ranges of aT_ (column ranges of at) across the team: copies only.
    auto transpose = [&](Index c0, Index c1) {
      detail::transposeInto(at.data() + c0, depth, c1 - c0, at.outerStride(),
                            aT_.data() + c0 * depth);
    };
    if (team_ == nullptr || m < 2 || m * depth < kParallelRows) {
      transpose(0, m);
    } else {
      auto part = [&](int index, int count) {
        const auto range = detail::splitRange(m, index, count);
        transpose(range.first, range.second);
      };
      team_->run(part);
    }
    gemm(m, aT_.data(), depth, b, c, ldc, c, ldc);
  }
  /// `rows` of `src` with the rows of `mask` applied (row r uses mask row r % batch), into `dst`.
  static void maskRows(const ConstRows<Scalar>& src, const detail::Workspace<Scalar>& mask,
                       Index batch, detail::Workspace<Scalar>& dst) {
    dst.resize(src.rows(), src.cols());
    for (Index r = 0; r < src.rows(); ++r)
      dst.row(r).array() = src.row(r).array() * mask.row(r % batch).array();
  }
  /// Multiplies `rows` in place by the recurrent-dropout mask (one row per sample).
  template <class Block>
  void applyRecurrentMask(Block&& rows) const {
    if (recurrentMask_.active()) rows.array() *= recurrentMask_[0].array();
  }
  static Eigen::Map<Matrix<Scalar>> gradMap(FlatTensor<Scalar>& g, Index rows, Index cols) {
    return {g.data.data(), rows, cols};
  }
  /// `out += Σ_r src.row(r)` (a bias gradient), in row order.
  static void addColumnSums(const ConstRows<Scalar>& src, Scalar* out) {
    Eigen::Map<RowVector<Scalar>> o(out, src.cols());
    for (Index r = 0; r < src.rows(); ++r) o += src.row(r);
  }
  /// The derivative kinds' need for pre-activations: true when any gate must record them.
  bool recordsPreActivations(Activation a, Activation b) const {
    return detail::needsPreActivation(a.kind()) || detail::needsPreActivation(b.kind());
  }
  /// The whole recurrent kernel in one packed matrix; a cell that splits it hides this.
  void packRecurrent() { packedRecurrent_.pack(recurrentKernel_); }

  /// Previous h with this call's recurrent-dropout mask of gate `g` applied, into `dst`.
  template <class Prev>
  void maskedRecurrent(const Prev& h, Index g, detail::Workspace<Scalar>& dst) const {
    dst.array() = h.array() * recurrentMask_[g].array();
  }

  static constexpr Index kParallelWork = Index{1} << 18;  // multiply-adds worth two threads
  static constexpr Index kParallelRows = 4096;            // gate values worth two threads

  Index units_ = 0;
  Index inputDim_ = 0;
  Activation activation_;
  bool clipped_ = false;
  double clipValue_ = 0.0;
  bool useBias_ = true;
  Initializer kernelInitializer_, recurrentInitializer_, biasInitializer_;
  double dropout_ = 0.0, recurrentDropout_ = 0.0;
  DropoutMasks dropoutMasks_ = DropoutMasks::Shared;
  std::string name_;

  KernelMatrix kernel_;                           // [inputDim, k·units]
  RecurrentKernelMatrix recurrentKernel_;         // [units, k·units]
  Matrix<Scalar> bias_;                           // [biasRows, k·units]; zeros when !useBias
  detail::PackedMatrix<Scalar> packedKernel_;     // kernel_, packed for the input projection
  detail::PackedMatrix<Scalar> packedRecurrent_;  // the recurrent kernel (or its z,r part)
  DropoutMask<Scalar> inputMask_, recurrentMask_;
  detail::Workspace<Scalar> maskedInput_;  // scratch for input dropout
  detail::ThreadTeam* team_ = nullptr;     // set by the layer for multi-threaded calls
  std::uint64_t version_ = 0;              // bumped by every repack()

  // Backward: transposed kernels (packed when the weights changed) and scratch.
  std::uint64_t backwardVersion_ = ~std::uint64_t{0};
  detail::PackedMatrix<Scalar> packedKernelT_;     // Wᵀ, for the input gradients
  detail::PackedMatrix<Scalar> packedRecurrentT_;  // Uᵀ (or a cell's part of it)
  detail::PackedMatrix<Scalar> packedGrad_;        // ∂L/∂(gates) of the whole sequence, packed
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> aT_;    // a transposed operand of the weight gradients
  detail::Workspace<Scalar> dxMasked_, xMasked_, hHat_;  // masked operands
};

// ---------------------------------------------------------------------------------------------
// implementation
// ---------------------------------------------------------------------------------------------

template <class Derived>
template <class Args>
RNNCell<Derived>::RNNCell(const Args& args, const char* defaultName)
    : units_(args.units),
      activation_(args.activation),
      clipped_(args.clip.has_value()),
      clipValue_(args.clip.value_or(0.0)),
      useBias_(args.useBias),
      kernelInitializer_(args.kernelInitializer),
      recurrentInitializer_(args.recurrentInitializer),
      biasInitializer_(args.biasInitializer),
      dropout_(clampRate(args.dropout)),
      recurrentDropout_(clampRate(args.recurrentDropout)),
      dropoutMasks_(args.dropoutMasks),
      name_(args.name.empty() ? std::string(defaultName) : args.name) {
  if (args.units <= 0) {
    detail::raise<ConfigError>(
        where("constructor"),
        "Expected units to be a positive integer, but got " + std::to_string(args.units) + ".");
  }
  detail::checkCompileTimeSize<CellTraits<Derived>::kUnits>(where("constructor"), "units",
                                                            args.units);
  if (clipped_ && !(clipValue_ > 0.0))
    detail::raise<ConfigError>(where("constructor"), "clip: expected a positive number, got " +
                                                         std::to_string(clipValue_));
}

template <class Derived>
void RNNCell<Derived>::build(Index inputDim) {
  detail::checkCompileTimeSize<CellTraits<Derived>::kInputDim>(where("build"), "inputDim",
                                                               inputDim);
  if (inputDim <= 0)
    detail::raise<ShapeError>(where("build"), "inputDim: expected a positive feature count, got " +
                                                  std::to_string(inputDim));
  inputDim_ = inputDim;
  const Index width = projectionSize();
  kernel_.resize(inputDim, width);
  kernelInitializer_.fill(kernel_);
  recurrentKernel_.resize(units_, width);
  recurrentInitializer_.fill(recurrentKernel_);
  bias_.setZero(self().biasRows(), width);
  if (useBias_) {
    biasInitializer_.fill(bias_, bias_.rows() == 1);  // [k·units] is 1-D in TF.js
    static_cast<Derived&>(*this).adjustInitialBias();
  }
  repack();
}

template <class Derived>
auto RNNCell<Derived>::getWeights() const -> std::vector<Weight<Scalar>> {
  std::vector<Weight<Scalar>> out;
  out.push_back({"kernel", FlatTensor<Scalar>(kernel_)});
  out.push_back({"recurrent_kernel", FlatTensor<Scalar>(recurrentKernel_)});
  if (useBias_) {
    FlatTensor<Scalar> b(bias_);
    if (self().biasRows() == 1) b.shape = {bias_.cols()};
    out.push_back({"bias", std::move(b)});
  }
  return out;
}

template <class Derived>
void RNNCell<Derived>::setWeights(const std::vector<FlatTensor<Scalar>>& values) {
  const std::size_t expectedCount = useBias_ ? 3 : 2;
  if (values.size() != expectedCount) {
    detail::raise<ValueError>(where("setWeights"), "expected " + std::to_string(expectedCount) +
                                                       " weights (kernel, recurrent_kernel" +
                                                       (useBias_ ? ", bias" : "") + "), got " +
                                                       std::to_string(values.size()));
  }
  const Index width = projectionSize();
  const FlatTensor<Scalar>& k = values[0];
  if (!built() && k.rank() == 2 && k.shape[1] == width && k.shape[0] > 0) build(k.shape[0]);
  // Weight i against weightShapes()[i], compared in place: an optimizer step sets the weights
  // after every batch, and the shapes (and the message) are built only for an error.
  auto check = [&](std::size_t i, const char* what, const char* hint) {
    const FlatTensor<Scalar>& v = values[i];
    const Index rows = i == 0 ? inputDim_ : i == 1 ? units_ : self().biasRows();
    const bool vector = i == 2 && rows == 1;  // a 1-D bias [k·units]
    const bool ok = vector ? v.rank() == 1 && v.shape[0] == width
                           : v.rank() == 2 && v.shape[0] == rows && v.shape[1] == width;
    if (!ok || static_cast<Index>(v.data.size()) != v.size()) {
      const std::vector<Index> expected = weightShapes()[i];
      std::string msg = std::string(what) + ": expected shape " + detail::shapeString(expected) +
                        ", got " + detail::shapeString(v.shape);
      if (hint != nullptr) msg += hint;
      detail::raise<ShapeError>(where("setWeights"), msg);
    }
  };
  check(0, "kernel", built() ? nullptr : " (cell not built)");
  check(1, "recurrent_kernel", nullptr);
  if (useBias_) check(2, "bias", Derived::biasHint(values[2].shape));
  kernel_ = Eigen::Map<const Matrix<Scalar>>(k.data.data(), inputDim_, width);
  recurrentKernel_ = Eigen::Map<const Matrix<Scalar>>(values[1].data.data(), units_, width);
  if (useBias_) {
    bias_ = Eigen::Map<const Matrix<Scalar>>(values[2].data.data(), self().biasRows(), width);
  } else {
    bias_.setZero(self().biasRows(), width);
  }
  repack();
}

template <class Derived>
template <bool Dropout>
void RNNCell<Derived>::projectInputs(const ConstRows<Scalar>& x, Rows<Scalar> out,
                                     Index rowsPerSample) {
  RECURRENT_ASSERT(x.cols() == inputDim_ && out.cols() == projectionSize());
  if constexpr (Dropout) {
    if (inputMask_.active()) {
      const Index gates = inputMask_.count() == 1 ? 1 : Index{Derived::kGates};
      const Index block = gates == 1 ? projectionSize() : units_;
      maskedInput_.resize(x.rows(), x.cols());
      for (Index g = 0; g < gates; ++g) {
        const detail::Workspace<Scalar>& m = inputMask_[g];
        for (Index r = 0; r < x.rows(); ++r)
          maskedInput_.row(r).array() = x.row(r).array() * m.row(r / rowsPerSample).array();
        out.middleCols(g * block, block).noalias() =
            maskedInput_ * kernel_.middleCols(g * block, block);
      }
      out.rowwise() += bias_.row(0);
      return;
    }
  }
  (void)rowsPerSample;
  gemm<kInputDim, times(Derived::kGates, kUnits)>(x.rows(), x.data(), x.outerStride(),
                                                  packedKernel_, bias_.data(), 0, out.data(),
                                                  out.outerStride());
}

template <class Derived>
void RNNCell<Derived>::setDropoutMasks(const MatrixView<Scalar>& input,
                                       const MatrixView<Scalar>& recurrent) {
  auto check = [&](const MatrixView<Scalar>& m, const char* what, Index width) {
    if (!m.empty() && (m.cols() != width || (!input.empty() && m.rows() != input.rows())))
      detail::raiseShape(where("setDropoutMasks"), what,
                         std::vector<Index>{input.empty() ? m.rows() : input.rows(), width},
                         std::vector<Index>{m.rows(), m.cols()});
  };
  check(input, "input mask", inputDim_);
  check(recurrent, "recurrent mask", units_);
  if (input.empty()) {
    inputMask_.clear();
  } else {
    inputMask_.set(input);
  }
  if (recurrent.empty()) {
    recurrentMask_.clear();
  } else {
    recurrentMask_.set(recurrent);
  }
}

template <class Derived>
void RNNCell<Derived>::prepareBackward(Index batch) {
  if (const char* feature = static_cast<const Derived&>(*this).inferenceOnlyFeature())
    detail::raise<ValueError>(where("backward"),
                              std::string("record: gradients are not implemented for ") + feature +
                                  " (an inference-only extension, e.g. from ONNX import)");
  if ((inputMask_.active() && inputMask_.count() > 1) ||
      (recurrentMask_.active() && recurrentMask_.count() > 1)) {
    detail::raise<ValueError>(where("backward"),
                              "dropoutMasks: gradients need the TF.js mask layout "
                              "(DropoutMasks::Shared), got DropoutMasks::PerGate");
  }
  if (backwardVersion_ != version_) {
    packedKernelT_.pack(kernel_.transpose());
    static_cast<Derived&>(*this).packRecurrentTransposed();
    backwardVersion_ = version_;
  }
  static_cast<Derived&>(*this).prepareBackwardScratch(batch);
}

template <class Derived>
void RNNCell<Derived>::inputGradients(const ConstRows<Scalar>& dProj, Rows<Scalar> dx, Index batch,
                                      bool accumulate) {
  const Index rows = dProj.rows();
  if (!inputMask_.active()) {
    gemm(rows, dProj.data(), dProj.outerStride(), packedKernelT_, accumulate ? dx.data() : nullptr,
         dx.outerStride(), dx.data(), dx.outerStride());
    return;
  }
  dxMasked_.resize(rows, inputDim_);
  gemm(rows, dProj.data(), dProj.outerStride(), packedKernelT_, nullptr, 0, dxMasked_.data(),
       inputDim_);
  const detail::Workspace<Scalar>& m = inputMask_[0];
  for (Index r = 0; r < rows; ++r) {
    if (accumulate) {
      dx.row(r).array() += dxMasked_.row(r).array() * m.row(r % batch).array();
    } else {
      dx.row(r).array() = dxMasked_.row(r).array() * m.row(r % batch).array();
    }
  }
}

template <class Derived>
void RNNCell<Derived>::weightGradients(const ConstRows<Scalar>& x, const ConstRows<Scalar>& dProj,
                                       const ConstRows<Scalar>& states,
                                       const ConstRows<Scalar>& records,
                                       const ConstRows<Scalar>& dRec, Index batch,
                                       FlatTensor<Scalar>* grads) {
  const Index rows = dProj.rows(), width = projectionSize();
  // ∂L/∂W = x̂ᵀ·∂L/∂(projection), x̂ = x ⊙ m_x.
  packedGrad_.pack(dProj);
  if (inputMask_.active()) {
    maskRows(x, inputMask_[0], batch, xMasked_);
    gemmTransposed(
        ConstRows<Scalar>(xMasked_.data(), rows, inputDim_, Eigen::OuterStride<>(inputDim_)),
        packedGrad_, grads[0].data.data(), width);
  } else {
    gemmTransposed(x, packedGrad_, grads[0].data.data(), width);
  }
  // ∂L/∂U from ĥ = h₋ ⊙ m_h, the previous h of every row.
  const ConstRows<Scalar> h(states.data(), rows, units_,
                            Eigen::OuterStride<>(states.outerStride()));
  if (recurrentMask_.active()) maskRows(h, recurrentMask_[0], batch, hHat_);
  const ConstRows<Scalar> hHat =
      recurrentMask_.active()
          ? ConstRows<Scalar>(hHat_.data(), rows, units_, Eigen::OuterStride<>(units_))
          : h;
  static_cast<Derived&>(*this).recurrentWeightGradients(hHat, records, dProj, dRec, grads[1],
                                                        useBias_ ? &grads[2] : nullptr);
  if (useBias_) addColumnSums(dProj, grads[2].data.data());
}

}  // namespace recurrent

#endif  // RECURRENT_RNN_CELL_HPP
