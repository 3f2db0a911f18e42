/** @file
 * `StackedRNNCells`: several cells run as one, each feeding its output to the next.
 */
#ifndef RECURRENT_STACKED_RNN_CELLS_HPP
#define RECURRENT_STACKED_RNN_CELLS_HPP

#include <recurrent/any_cell.hpp>
#include <recurrent/rnn_cell.hpp>

#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace recurrent {

namespace detail {

/// The maths of a stack, shared by the compile-time and the run-time form. `Derived` provides
/// `cellCount()` and `forEachCell(f)` calling `f(cell, index)` in cell order.
template <class Derived, class Scalar>
class StackBase {
 public:
  static const char* className() { return "StackedRNNCells"; }
  const std::string& name() const { return name_; }
  /// Output width: the last cell's units.
  Index units() const {
    Index u = 0;
    self().forEachCell([&](const auto& c, Index) { u = c.units(); });
    return u;
  }
  Index inputDim() const { return first().inputDim(); }
  bool built() const {
    bool b = true;
    self().forEachCell([&](const auto& c, Index) { b = b && c.built(); });
    return b;
  }
  void build(Index inputDim) {
    Index in = inputDim;
    self().forEachCell([&](auto& c, Index) {
      c.build(in);
      in = c.units();
    });
  }
  /// TF.js flat state order: the states of cell n−1 first, cell 0 last.
  std::vector<Index> stateSize() const {
    std::vector<Index> out;
    self().forEachCell([&](const auto& c, Index) {
      auto s = c.stateSize();
      out.insert(out.begin(), s.begin(), s.end());
    });
    return out;
  }
  /// States per cell in natural cell order (`[cell 0 states…], [cell 1 states…], …`).
  std::vector<std::vector<Index>> stateSizePerCell() const {
    std::vector<std::vector<Index>> out;
    self().forEachCell([&](const auto& c, Index) { out.push_back(c.stateSize()); });
    return out;
  }
  /// Splits a flat TF.js-ordered state list into per-cell lists in natural cell order
  /// (`result[i]` = cell i's states, e.g. `{h, c}`).
  template <class State>
  std::vector<std::vector<State>> statesByCell(const std::vector<State>& flat) const {
    const auto sizes = stateSizePerCell();
    std::vector<std::vector<State>> out(sizes.size());
    std::size_t pos = 0;
    for (std::size_t k = sizes.size(); k-- > 0;) {  // flat order is last cell first
      for (std::size_t j = 0; j < sizes[k].size() && pos < flat.size(); ++j)
        out[k].push_back(flat[pos++]);
    }
    if (pos != flat.size())
      raise<ShapeError>(
          where("StackedRNNCells", name_, "statesByCell"),
          "expected " + std::to_string(pos) + " states, got " + std::to_string(flat.size()));
    return out;
  }
  Index stateWidth() const {
    Index w = 0;
    self().forEachCell([&](const auto& c, Index) { w += c.stateWidth(); });
    return w;
  }
  Index projectionSize() const { return first().projectionSize(); }

  /// Every cell's weights in cell order, named `RNNCell_<i>/kernel`, ...
  std::vector<Weight<Scalar>> getWeights() const {
    std::vector<Weight<Scalar>> out;
    self().forEachCell([&](const auto& c, Index i) {
      for (auto& w : c.getWeights()) {
        w.name = "RNNCell_" + std::to_string(i) + "/" + w.name;
        out.push_back(std::move(w));
      }
    });
    return out;
  }
  void setWeights(const std::vector<FlatTensor<Scalar>>& values) {
    std::size_t pos = 0;
    Index in = inputDim();
    self().forEachCell([&](auto& c, Index i) {
      if (!c.built() && i > 0 && in > 0) c.build(in);
      // Its part of `values` goes through a member vector, whose tensors keep their storage:
      // an optimizer sets the weights after every batch.
      const std::size_t n = weightCountOf(c, i);
      if (pos + n > values.size())
        raise<ValueError>(where("StackedRNNCells", name_, "setWeights"),
                          "expected at least " + std::to_string(pos + n) + " weights, got " +
                              std::to_string(values.size()));
      part_.resize(n);
      for (std::size_t j = 0; j < n; ++j) part_[j] = values[pos + j];
      c.setWeights(part_);
      pos += n;
      in = c.units();
    });
    if (pos != values.size())
      raise<ValueError>(
          where("StackedRNNCells", name_, "setWeights"),
          "expected " + std::to_string(pos) + " weights, got " + std::to_string(values.size()));
  }

  void prepare(Index batch) {
    projections_.resize(static_cast<std::size_t>(self().cellCount()));
    self().forEachCell([&](auto& c, Index i) {
      c.prepare(batch);
      projections_[static_cast<std::size_t>(i)].resize(batch, c.projectionSize());
    });
  }
  void generateDropoutMasks(Index batch, bool training, RandomEngine& rng) {
    self().forEachCell([&](auto& c, Index) { c.generateDropoutMasks(batch, training, rng); });
  }
  /// Cell `cell`'s masks of this call, given explicitly (see `RNNCell::setDropoutMasks`).
  void setDropoutMasks(Index cell, const MatrixView<Scalar>& input,
                       const MatrixView<Scalar>& recurrent) {
    self().forEachCell([&](auto& c, Index i) {
      if (i != cell) return;
      using C = std::decay_t<decltype(c)>;
      if constexpr (HasCellCount<C>::value) {  // an AnyCell (or a stack) as one cell
        c.setDropoutMasks(0, input, recurrent);
      } else if constexpr (HasSetDropoutMasks<C>::value) {
        c.setDropoutMasks(input, recurrent);
      } else {
        raise<ValueError>(where("StackedRNNCells", name_, "setDropoutMasks"),
                          std::string("cell ") + std::to_string(i) + " (" + c.className() +
                              ") has no setDropoutMasks member");
      }
    });
  }
  /// Shares the layer's threads with every cell that can use them.
  void setThreadTeam(ThreadTeam* team) {
    self().forEachCell([&](auto& c, Index) { shareThreadTeam(c, team); });
  }
  bool dropoutActive() const {
    bool a = false;
    self().forEachCell([&](const auto& c, Index) { a = a || c.dropoutActive(); });
    return a;
  }
  template <bool Dropout>
  void projectInputs(const ConstRows<Scalar>& x, Rows<Scalar> out, Index rowsPerSample) {
    first().template projectInputs<Dropout>(x, out, rowsPerSample);
  }
  /// Cell 0 consumes the projected inputs; cell i > 0 projects cell i−1's new h, then steps.
  template <bool Dropout>
  void step(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    run<Dropout, false>(xProj, prev, next, nullptr, 0);
  }

  // --- training: the cells' protocol, cell by cell (see rnn_cell.hpp) -------------------------
  // A row of the stack's record is [cell 0's | cell 1's | …]; of its recurrent-side gradient
  // [cell 0's dRec | cell 1's dRec, cell 1's dProj | …] (a cell above the first is fed by the
  // cell below, so its projection's gradient is the stack's to keep).
  Index recordWidth() const {
    Index w = 0;
    self().forEachCell([&](const auto& c, Index) { w += c.recordWidth(); });
    return w;
  }
  Index recurrentGradWidth() const {
    Index w = 0;
    self().forEachCell([&](const auto& c, Index i) {
      w += c.recurrentGradWidth() + (i > 0 ? c.projectionSize() : 0);
    });
    return w;
  }
  std::uint64_t weightsVersion() const {
    std::uint64_t v = 0;
    self().forEachCell([&](const auto& c, Index) { v += c.weightsVersion(); });
    return v;
  }
  void prepareBackward(Index batch) {
    self().forEachCell([&](auto& c, Index) { c.prepareBackward(batch); });
    // Weights per cell (for weightGradients) and the layout follow from the cells' sizes, not
    // their values: counted again only when the stack was built for another input width (an
    // optimizer sets new values after every batch; getWeights copies every weight).
    if (layoutInputDim_ != inputDim()) {
      self().forEachCell([&](const auto& c, Index i) { weightCountOf(c, i); });
      layoutInputDim_ = inputDim();
      layout_ = layout();
    }
    dWork_.resize(batch, stateWidth());
  }
  template <bool Dropout>
  void stepRecord(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next,
                  Rows<Scalar> record) {
    run<Dropout, true>(xProj, prev, next, record.data(), record.outerStride());
  }
  /// Cells last to first: each cell's step backward, then (cell i > 0) the gradient of its
  /// input, cell i−1's new h, added to that cell's state gradient.
  template <bool Dropout>
  void stepBackward(const ConstRows<Scalar>& record, const ConstRows<Scalar>& prev,
                    const ConstRows<Scalar>& dNext, Rows<Scalar> dPrev, Rows<Scalar> dProj,
                    Rows<Scalar> dRec) {
    const Index batch = prev.rows(), total = prev.cols();
    dWork_ = dNext;
    const Layout& at = layout_;
    for (Index i = self().cellCount(); i-- > 0;) {
      withCell(i, [&](auto& c) {
        const CellLayout& l = at.cells[static_cast<std::size_t>(i)];
        const Index w = c.stateWidth();
        auto cols = [&](auto* base, Index ld, Index off, Index n) {
          using V = std::conditional_t<std::is_const_v<std::remove_pointer_t<decltype(base)>>,
                                       ConstRows<Scalar>, Rows<Scalar>>;
          return V(base + off, batch, n, Eigen::OuterStride<>(ld));
        };
        Rows<Scalar> dp =
            i == 0 ? dProj : cols(dRec.data(), dRec.outerStride(), l.proj, c.projectionSize());
        c.template stepBackward<Dropout>(
            cols(record.data(), record.outerStride(), l.record, c.recordWidth()),
            cols(prev.data(), total, l.state, w),
            cols(static_cast<const Scalar*>(dWork_.data()), total, l.state, w),
            cols(dPrev.data(), dPrev.outerStride(), l.state, w), dp,
            cols(dRec.data(), dRec.outerStride(), l.rec, c.recurrentGradWidth()));
        if (i > 0) {
          const CellLayout& below = at.cells[static_cast<std::size_t>(i - 1)];
          c.inputGradients(ConstRows<Scalar>(dp.data(), batch, dp.cols(),
                                             Eigen::OuterStride<>(dp.outerStride())),
                           cols(dWork_.data(), total, below.state, below.units), batch, true);
        }
      });
    }
  }
  void inputGradients(const ConstRows<Scalar>& dProj, Rows<Scalar> dx, Index batch,
                      bool accumulate) {
    first().inputGradients(dProj, dx, batch, accumulate);
  }
  void weightGradients(const ConstRows<Scalar>& x, const ConstRows<Scalar>& dProj,
                       const ConstRows<Scalar>& states, const ConstRows<Scalar>& records,
                       const ConstRows<Scalar>& dRec, Index batch, FlatTensor<Scalar>* grads) {
    const Index rows = dProj.rows();
    const Layout& at = layout_;
    std::size_t g = 0;
    self().forEachCell([&](auto& c, Index i) {
      const CellLayout& l = at.cells[static_cast<std::size_t>(i)];
      auto cols = [&](const ConstRows<Scalar>& m, Index off, Index n, Index nrows, Index skip = 0) {
        return ConstRows<Scalar>(m.data() + skip * m.outerStride() + off, nrows, n,
                                 Eigen::OuterStride<>(m.outerStride()));
      };
      const ConstRows<Scalar> st = cols(states, l.state, c.stateWidth(), states.rows());
      const ConstRows<Scalar> rec = cols(records, l.record, c.recordWidth(), rows);
      const ConstRows<Scalar> dr = cols(dRec, l.rec, c.recurrentGradWidth(), rows);
      if (i == 0) {
        c.weightGradients(x, dProj, st, rec, dr, batch, grads + g);
      } else {
        // Cell i's input at step s: cell i−1's h after it, in the states of boundary s+1.
        const CellLayout& below = at.cells[static_cast<std::size_t>(i - 1)];
        c.weightGradients(cols(states, below.state, below.units, rows, batch),
                          cols(dRec, l.proj, c.projectionSize(), rows), st, rec, dr, batch,
                          grads + g);
      }
      g += weightCounts_[static_cast<std::size_t>(i)];
    });
  }

 protected:
  // Column offsets of each cell in the stack's packed states, records and recurrent gradients.
  struct CellLayout {
    Index state = 0, units = 0, record = 0, rec = 0, proj = 0;
  };
  struct Layout {
    std::vector<CellLayout> cells;
  };
  Layout layout() const {
    Layout out;
    out.cells.resize(static_cast<std::size_t>(self().cellCount()));
    Index state = stateWidth(), record = 0, rec = 0;
    self().forEachCell([&](const auto& c, Index i) {
      CellLayout& l = out.cells[static_cast<std::size_t>(i)];
      state -= c.stateWidth();  // cells are laid out last-to-first
      l.state = state;
      l.units = c.units();
      l.record = record;
      record += c.recordWidth();
      l.rec = rec;
      rec += c.recurrentGradWidth();
      l.proj = rec;
      if (i > 0) rec += c.projectionSize();
    });
    return out;
  }
  template <class F>
  void withCell(Index index, F&& f) {
    self().forEachCell([&](auto& c, Index i) {
      if (i == index) f(c);
    });
  }

  // The step of every cell, each cell above the first fed with the new h of the one below;
  // with a record (Record), each cell's `stepRecord` into its columns of it.
  template <bool Dropout, bool Record>
  void run(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next,
           Scalar* record, Index ldr) {
    const Index batch = prev.rows(), total = prev.cols();
    Index offset = total;  // cells are laid out last-to-first: walk offsets down
    Index recordOffset = 0;
    const Scalar* below = nullptr;
    Index belowUnits = 0;
    self().forEachCell([&](auto& c, Index i) {
      const Index w = c.stateWidth();
      offset -= w;
      ConstRows<Scalar> p(prev.data() + offset, batch, w, Eigen::OuterStride<>(total));
      Rows<Scalar> n(next.data() + offset, batch, w, Eigen::OuterStride<>(total));
      auto stepCell = [&](const ConstRows<Scalar>& xp) {
        if constexpr (Record) {
          const Index rw = c.recordWidth();
          c.template stepRecord<Dropout>(
              xp, p, n, Rows<Scalar>(record + recordOffset, batch, rw, Eigen::OuterStride<>(ldr)));
          recordOffset += rw;
        } else {
          (void)record, (void)ldr;
          c.template step<Dropout>(xp, p, n);
        }
      };
      if (i == 0) {
        stepCell(xProj);
      } else {
        detail::Workspace<Scalar>& proj = projections_[static_cast<std::size_t>(i)];
        ConstRows<Scalar> in(below, batch, belowUnits, Eigen::OuterStride<>(total));
        Rows<Scalar> projRows(proj.data(), batch, proj.cols(), Eigen::OuterStride<>(proj.cols()));
        c.template projectInputs<Dropout>(in, projRows, 1);
        stepCell(
            ConstRows<Scalar>(proj.data(), batch, proj.cols(), Eigen::OuterStride<>(proj.cols())));
      }
      below = next.data() + offset;
      belowUnits = c.units();
    });
  }

  explicit StackBase(std::string name)
      : name_(name.empty() ? "stacked_rnn_cells" : std::move(name)) {}
  void checkNotEmpty() const {
    if (self().cellCount() == 0)
      raise<ConfigError>(where("StackedRNNCells", name_, "constructor"),
                         "cells: expected at least one cell, got none");
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
  Derived& self() { return static_cast<Derived&>(*this); }
  decltype(auto) first() const { return self().firstCell(); }
  decltype(auto) first() { return self().firstCell(); }

  std::string name_;
  // Batch-sized workspaces: they keep their storage when a smaller (last) batch comes and goes.
  std::vector<detail::Workspace<Scalar>> projections_;
  detail::Workspace<Scalar> dWork_;  // backward: the state gradients of a step, cell by cell
  Layout layout_;                    // backward: the cells' columns (set by prepareBackward)
  /// `c.getWeights().size()` of cell `i`, counted once the cell is built (getWeights copies
  /// every weight; the count of a built cell does not change).
  template <class C>
  std::size_t weightCountOf(const C& c, Index i) {
    const auto k = static_cast<std::size_t>(i);
    if (weightCounts_.size() <= k) weightCounts_.resize(k + 1, kUncounted);
    if (weightCounts_[k] == kUncounted || !c.built()) weightCounts_[k] = c.getWeights().size();
    return weightCounts_[k];
  }
  static constexpr std::size_t kUncounted = ~std::size_t{0};
  std::vector<std::size_t> weightCounts_;  // weights per cell (weightCountOf)
  Index layoutInputDim_ = -1;              // the input width of weightCounts_ and layout_
  std::vector<FlatTensor<Scalar>> part_;   // setWeights: one cell's weights
};

}  // namespace detail

/**
 * @brief Several cells stacked into one cell (TF.js `tf.layers.stackedRNNCells`).
 *
 * Cell i > 0 takes cell i−1's output `h` as its input at the same time step; the stack's output
 * is the last cell's output.
 *
 * **State order (TF.js):** the flat state list runs in *reverse* cell order —
 * `[cell_{n−1} states…, …, cell_0 states…]` (an LSTM cell contributing `h, c`) — for
 * `initialState`, `returnState`, `getStates`. `stateSizePerCell()` gives the natural order.
 *
 * Weights: every cell's `[kernel, recurrent_kernel, bias]` in cell order; cell i's input
 * dimension is cell i−1's units.
 *
 * Two forms: `StackedRNNCells<LSTMCell<float>, GRUCell<float>>` (compile-time list, no virtual
 * calls) and `StackedRNNCells<std::vector<AnyCell<float>>>` (run-time list).
 */
template <class... Cells>
class StackedRNNCells
    : public detail::StackBase<StackedRNNCells<Cells...>,
                               typename std::tuple_element_t<0, std::tuple<Cells...>>::Scalar> {
  using Base = detail::StackBase<StackedRNNCells<Cells...>,
                                 typename std::tuple_element_t<0, std::tuple<Cells...>>::Scalar>;
  static_assert(sizeof...(Cells) > 0, "StackedRNNCells needs at least one cell");
  static_assert((is_rnn_cell<Cells> && ...), "StackedRNNCells: every element must be a cell");

 public:
  using Scalar = typename std::tuple_element_t<0, std::tuple<Cells...>>::Scalar;
  static_assert((std::is_same_v<typename Cells::Scalar, Scalar> && ...),
                "StackedRNNCells: every cell must have the same Scalar");

  explicit StackedRNNCells(Cells... cells, std::string name = {})
      : Base(std::move(name)), cells_(std::move(cells)...) {}

  static constexpr Index cellCount() { return sizeof...(Cells); }
  template <std::size_t I>
  auto& cell() {
    return std::get<I>(cells_);
  }
  template <std::size_t I>
  const auto& cell() const {
    return std::get<I>(cells_);
  }

  template <class F>
  void forEachCell(F&& f) {
    forEach(cells_, f, std::index_sequence_for<Cells...>{});
  }
  template <class F>
  void forEachCell(F&& f) const {
    forEach(cells_, f, std::index_sequence_for<Cells...>{});
  }
  auto& firstCell() { return std::get<0>(cells_); }
  const auto& firstCell() const { return std::get<0>(cells_); }

 private:
  template <class Tuple, class F, std::size_t... I>
  static void forEach(Tuple& t, F& f, std::index_sequence<I...>) {
    (f(std::get<I>(t), static_cast<Index>(I)), ...);
  }
  std::tuple<Cells...> cells_;
};

/// `StackedRNNCells stack(LSTMCell<float>(a), GRUCell<float>(b));` deduces the cell types.
template <class... Cells>
StackedRNNCells(Cells...) -> StackedRNNCells<Cells...>;

/// The run-time form: a list of type-erased cells (built from a TF.js config).
template <class Scalar_>
class StackedRNNCells<std::vector<AnyCell<Scalar_>>>
    : public detail::StackBase<StackedRNNCells<std::vector<AnyCell<Scalar_>>>, Scalar_> {
  using Base = detail::StackBase<StackedRNNCells<std::vector<AnyCell<Scalar_>>>, Scalar_>;

 public:
  using Scalar = Scalar_;
  explicit StackedRNNCells(std::vector<AnyCell<Scalar>> cells, std::string name = {})
      : Base(std::move(name)), cells_(std::move(cells)) {
    this->checkNotEmpty();
  }
  Index cellCount() const { return static_cast<Index>(cells_.size()); }
  AnyCell<Scalar>& cell(Index i) { return cells_[static_cast<std::size_t>(i)]; }
  const AnyCell<Scalar>& cell(Index i) const { return cells_[static_cast<std::size_t>(i)]; }

  template <class F>
  void forEachCell(F&& f) {
    for (std::size_t i = 0; i < cells_.size(); ++i) f(cells_[i], static_cast<Index>(i));
  }
  template <class F>
  void forEachCell(F&& f) const {
    for (std::size_t i = 0; i < cells_.size(); ++i) f(cells_[i], static_cast<Index>(i));
  }
  AnyCell<Scalar>& firstCell() { return cells_.front(); }
  const AnyCell<Scalar>& firstCell() const { return cells_.front(); }

 private:
  std::vector<AnyCell<Scalar>> cells_;
};

}  // namespace recurrent

#endif  // RECURRENT_STACKED_RNN_CELLS_HPP
