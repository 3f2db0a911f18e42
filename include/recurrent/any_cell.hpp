/** @file
 * `AnyCell<Scalar>`: a type-erased cell, for stacks and layers assembled at run time (from a
 * TF.js config). It holds any type that provides the cell protocol (rnn_cell.hpp) and provides it
 * itself, at the cost of one virtual call per step and per projection.
 */
#ifndef RECURRENT_ANY_CELL_HPP
#define RECURRENT_ANY_CELL_HPP

#include <recurrent/rnn_cell.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace recurrent {

/// Type-erased cell (value semantics: copying copies the cell).
template <class Scalar_>
class AnyCell {
 public:
  using Scalar = Scalar_;

  template <class Cell, class = std::enable_if_t<!std::is_same_v<std::decay_t<Cell>, AnyCell>>>
  AnyCell(Cell cell)  // NOLINT(google-explicit-constructor): wraps any cell
      : self_(std::make_unique<Model<Cell>>(std::move(cell))) {
    static_assert(is_rnn_cell<Cell>, "AnyCell: the wrapped type must be a recurrent cell");
    static_assert(std::is_same_v<typename Cell::Scalar, Scalar>,
                  "AnyCell: the wrapped cell must have the same Scalar");
  }
  AnyCell(const AnyCell& other) : self_(other.self_->clone()) {}
  AnyCell(AnyCell&&) noexcept = default;
  AnyCell& operator=(const AnyCell& other) {
    self_ = other.self_->clone();
    return *this;
  }
  AnyCell& operator=(AnyCell&&) noexcept = default;
  ~AnyCell() = default;

  const char* className() const { return self_->className(); }
  const std::string& name() const { return self_->name(); }
  Index units() const { return self_->units(); }
  Index inputDim() const { return self_->inputDim(); }
  bool built() const { return self_->built(); }
  void build(Index inputDim) { self_->build(inputDim); }
  std::vector<Index> stateSize() const { return self_->stateSize(); }
  Index stateWidth() const { return self_->stateWidth(); }
  Index projectionSize() const { return self_->projectionSize(); }
  std::vector<Weight<Scalar>> getWeights() const { return self_->getWeights(); }
  void setWeights(const std::vector<FlatTensor<Scalar>>& v) { self_->setWeights(v); }
  void prepare(Index batch) { self_->prepare(batch); }
  void generateDropoutMasks(Index batch, bool training, RandomEngine& rng) {
    self_->generateDropoutMasks(batch, training, rng);
  }
  bool dropoutActive() const { return self_->dropoutActive(); }
  template <bool Dropout>
  void projectInputs(const ConstRows<Scalar>& x, Rows<Scalar> out, Index rowsPerSample) {
    self_->projectInputs(Dropout, x, out, rowsPerSample);
  }
  template <bool Dropout>
  void step(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next) {
    self_->step(Dropout, xProj, prev, next);
  }

  void setThreadTeam(detail::ThreadTeam* team) { self_->setThreadTeam(team); }

  // Training: the wrapped cell's, or a ValueError naming it when it cannot be differentiated.
  Index recordWidth() const { return self_->recordWidth(); }
  Index recurrentGradWidth() const { return self_->recurrentGradWidth(); }
  std::uint64_t weightsVersion() const { return self_->weightsVersion(); }
  void prepareBackward(Index batch) { self_->prepareBackward(batch); }
  /// Cells inside (a stack's count, else 1) and the masks of one of them (TF.js order).
  Index cellCount() const { return self_->cellCount(); }
  void setDropoutMasks(Index cell, const MatrixView<Scalar>& input,
                       const MatrixView<Scalar>& recurrent) {
    self_->setDropoutMasks(cell, input, recurrent);
  }
  template <bool Dropout>
  void stepRecord(const ConstRows<Scalar>& xProj, const ConstRows<Scalar>& prev, Rows<Scalar> next,
                  Rows<Scalar> record) {
    self_->stepRecord(Dropout, xProj, prev, next, record);
  }
  template <bool Dropout>
  void stepBackward(const ConstRows<Scalar>& record, const ConstRows<Scalar>& prev,
                    const ConstRows<Scalar>& dNext, Rows<Scalar> dPrev, Rows<Scalar> dProj,
                    Rows<Scalar> dRec) {
    self_->stepBackward(Dropout, record, prev, dNext, dPrev, dProj, dRec);
  }
  void inputGradients(const ConstRows<Scalar>& dProj, Rows<Scalar> dx, Index batch,
                      bool accumulate) {
    self_->inputGradients(dProj, dx, batch, accumulate);
  }
  void weightGradients(const ConstRows<Scalar>& x, const ConstRows<Scalar>& dProj,
                       const ConstRows<Scalar>& states, const ConstRows<Scalar>& records,
                       const ConstRows<Scalar>& dRec, Index batch, FlatTensor<Scalar>* grads) {
    self_->weightGradients(x, dProj, states, records, dRec, batch, grads);
  }

  /// The wrapped cell, or nullptr if it is not a `Cell`.
  template <class Cell>
  Cell* target() {
    auto* m = dynamic_cast<Model<Cell>*>(self_.get());
    return m != nullptr ? &m->cell : nullptr;
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual std::unique_ptr<Concept> clone() const = 0;
    virtual const char* className() const = 0;
    virtual const std::string& name() const = 0;
    virtual Index units() const = 0;
    virtual Index inputDim() const = 0;
    virtual bool built() const = 0;
    virtual void build(Index) = 0;
    virtual std::vector<Index> stateSize() const = 0;
    virtual Index stateWidth() const = 0;
    virtual Index projectionSize() const = 0;
    virtual std::vector<Weight<Scalar>> getWeights() const = 0;
    virtual void setWeights(const std::vector<FlatTensor<Scalar>>&) = 0;
    virtual void prepare(Index) = 0;
    virtual void generateDropoutMasks(Index, bool, RandomEngine&) = 0;
    virtual bool dropoutActive() const = 0;
    virtual void projectInputs(bool, const ConstRows<Scalar>&, Rows<Scalar>, Index) = 0;
    virtual void step(bool, const ConstRows<Scalar>&, const ConstRows<Scalar>&, Rows<Scalar>) = 0;
    virtual void setThreadTeam(detail::ThreadTeam*) = 0;
    virtual Index recordWidth() const = 0;
    virtual Index recurrentGradWidth() const = 0;
    virtual std::uint64_t weightsVersion() const = 0;
    virtual void prepareBackward(Index) = 0;
    virtual Index cellCount() const = 0;
    virtual void setDropoutMasks(Index, const MatrixView<Scalar>&, const MatrixView<Scalar>&) = 0;
    virtual void stepRecord(bool, const ConstRows<Scalar>&, const ConstRows<Scalar>&, Rows<Scalar>,
                            Rows<Scalar>) = 0;
    virtual void stepBackward(bool, const ConstRows<Scalar>&, const ConstRows<Scalar>&,
                              const ConstRows<Scalar>&, Rows<Scalar>, Rows<Scalar>,
                              Rows<Scalar>) = 0;
    virtual void inputGradients(const ConstRows<Scalar>&, Rows<Scalar>, Index, bool) = 0;
    virtual void weightGradients(const ConstRows<Scalar>&, const ConstRows<Scalar>&,
                                 const ConstRows<Scalar>&, const ConstRows<Scalar>&,
                                 const ConstRows<Scalar>&, Index, FlatTensor<Scalar>*) = 0;
  };
  template <class Cell>
  struct Model final : Concept {
    explicit Model(Cell c) : cell(std::move(c)) {}
    std::unique_ptr<Concept> clone() const override { return std::make_unique<Model>(cell); }
    const char* className() const override { return cell.className(); }
    const std::string& name() const override { return cell.name(); }
    Index units() const override { return cell.units(); }
    Index inputDim() const override { return cell.inputDim(); }
    bool built() const override { return cell.built(); }
    void build(Index d) override { cell.build(d); }
    std::vector<Index> stateSize() const override { return cell.stateSize(); }
    Index stateWidth() const override { return cell.stateWidth(); }
    Index projectionSize() const override { return cell.projectionSize(); }
    std::vector<Weight<Scalar>> getWeights() const override { return cell.getWeights(); }
    void setWeights(const std::vector<FlatTensor<Scalar>>& v) override { cell.setWeights(v); }
    void prepare(Index b) override { cell.prepare(b); }
    void generateDropoutMasks(Index b, bool t, RandomEngine& r) override {
      cell.generateDropoutMasks(b, t, r);
    }
    bool dropoutActive() const override { return cell.dropoutActive(); }
    void projectInputs(bool d, const ConstRows<Scalar>& x, Rows<Scalar> o, Index r) override {
      if (d) return cell.template projectInputs<true>(x, o, r);
      cell.template projectInputs<false>(x, o, r);
    }
    void step(bool d, const ConstRows<Scalar>& x, const ConstRows<Scalar>& p,
              Rows<Scalar> n) override {
      if (d) return cell.template step<true>(x, p, n);
      cell.template step<false>(x, p, n);
    }
    void setThreadTeam(detail::ThreadTeam* team) override { detail::shareThreadTeam(cell, team); }

    static constexpr bool kDifferentiable = is_differentiable_cell<Cell>;
    [[noreturn]] void notDifferentiable(const char* method) const {
      detail::raise<ValueError>(
          detail::where(cell.className(), cell.name(), method),
          "this cell cannot be differentiated: it has no backward members (recordWidth, "
          "stepRecord, stepBackward, inputGradients, weightGradients: see rnn_cell.hpp)");
    }
    Index recordWidth() const override {
      if constexpr (kDifferentiable) return cell.recordWidth();
      return 0;
    }
    Index recurrentGradWidth() const override {
      if constexpr (kDifferentiable) return cell.recurrentGradWidth();
      return 0;
    }
    std::uint64_t weightsVersion() const override {
      if constexpr (kDifferentiable) return cell.weightsVersion();
      return 0;
    }
    void prepareBackward(Index b) override {
      if constexpr (kDifferentiable) {
        cell.prepareBackward(b);
      } else {
        (void)b;
        notDifferentiable("backward");
      }
    }
    Index cellCount() const override {
      if constexpr (detail::HasCellCount<Cell>::value) {
        return cell.cellCount();
      } else {
        return 1;
      }
    }
    void setDropoutMasks(Index i, const MatrixView<Scalar>& in,
                         const MatrixView<Scalar>& rec) override {
      if constexpr (detail::HasCellCount<Cell>::value) {
        cell.setDropoutMasks(i, in, rec);
      } else if constexpr (detail::HasSetDropoutMasks<Cell>::value) {
        (void)i;
        cell.setDropoutMasks(in, rec);
      } else {
        (void)i, (void)in, (void)rec;
        detail::raise<ValueError>(detail::where(cell.className(), cell.name(), "setDropoutMasks"),
                                  "this cell takes no explicit dropout masks");
      }
    }
    void stepRecord(bool d, const ConstRows<Scalar>& x, const ConstRows<Scalar>& p, Rows<Scalar> n,
                    Rows<Scalar> r) override {
      if constexpr (kDifferentiable) {
        if (d) return cell.template stepRecord<true>(x, p, n, r);
        cell.template stepRecord<false>(x, p, n, r);
      } else {
        (void)d, (void)x, (void)p, (void)n, (void)r;
      }
    }
    void stepBackward(bool d, const ConstRows<Scalar>& r, const ConstRows<Scalar>& p,
                      const ConstRows<Scalar>& dn, Rows<Scalar> dp, Rows<Scalar> dx,
                      Rows<Scalar> dr) override {
      if constexpr (kDifferentiable) {
        if (d) return cell.template stepBackward<true>(r, p, dn, dp, dx, dr);
        cell.template stepBackward<false>(r, p, dn, dp, dx, dr);
      } else {
        (void)d, (void)r, (void)p, (void)dn, (void)dp, (void)dx, (void)dr;
      }
    }
    void inputGradients(const ConstRows<Scalar>& dp, Rows<Scalar> dx, Index b, bool a) override {
      if constexpr (kDifferentiable) {
        cell.inputGradients(dp, dx, b, a);
      } else {
        (void)dp, (void)dx, (void)b, (void)a;
      }
    }
    void weightGradients(const ConstRows<Scalar>& x, const ConstRows<Scalar>& dp,
                         const ConstRows<Scalar>& st, const ConstRows<Scalar>& rec,
                         const ConstRows<Scalar>& dr, Index b, FlatTensor<Scalar>* g) override {
      if constexpr (kDifferentiable) {
        cell.weightGradients(x, dp, st, rec, dr, b, g);
      } else {
        (void)x, (void)dp, (void)st, (void)rec, (void)dr, (void)b, (void)g;
      }
    }
    Cell cell;
  };

  std::unique_ptr<Concept> self_;
};

}  // namespace recurrent

#endif  // RECURRENT_ANY_CELL_HPP
