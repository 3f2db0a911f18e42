/** @file
 * `AnyCell<Scalar>`: a type-erased cell, for stacks and layers assembled at run time (from a
 * TF.js config). It holds any type that provides the cell protocol (rnn_cell.hpp) and provides it
 * itself, at the cost of one virtual call per step and per projection.
 */
#ifndef RECURRENT_ANY_CELL_HPP
#define RECURRENT_ANY_CELL_HPP

#include <recurrent/rnn_cell.hpp>

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
    Cell cell;
  };

  std::unique_ptr<Concept> self_;
};

}  // namespace recurrent

#endif  // RECURRENT_ANY_CELL_HPP
