// Internal, may change: `Workspace<Scalar>`, a row-major matrix buffer that keeps its storage.
#ifndef RECURRENT_DETAIL_WORKSPACE_HPP
#define RECURRENT_DETAIL_WORKSPACE_HPP

#include <recurrent/types.hpp>

#include <new>
#include <utility>

namespace recurrent::detail {

/// A row-major `[rows, cols]` scratch matrix whose storage only grows.
///
/// An Eigen matrix reallocates on every change of size, so a layer whose workspaces follow the
/// batch would reallocate them twice per epoch of `fit` when the last batch is smaller (the
/// smaller batch, then the next epoch's first full one). A workspace keeps the largest buffer it
/// was sized for and is an aligned Eigen map of its current size over it: expressions read and
/// write it as they would a `Matrix<Scalar>` of that size (same alignment, hence the same
/// vectorised code and results). Assigning an expression of another size resizes it first, as a
/// matrix would; `resize` keeps no values.
template <class Scalar>
class Workspace : public Eigen::Map<Matrix<Scalar>, Eigen::AlignedMax> {
  using Base = Eigen::Map<Matrix<Scalar>, Eigen::AlignedMax>;

 public:
  Workspace() : Base(nullptr, 0, 0) {}
  Workspace(const Workspace& other) : Base(nullptr, 0, 0) { *this = other; }
  Workspace(Workspace&& other) noexcept : Base(nullptr, 0, 0) { swap(other); }
  /// Copies the values (of the current size) into this workspace's storage.
  Workspace& operator=(const Workspace& other) {
    if (this != &other) {
      resize(other.rows(), other.cols());
      Base::operator=(other);
    }
    return *this;
  }
  Workspace& operator=(Workspace&& other) noexcept {
    swap(other);
    return *this;
  }
  ~Workspace() = default;

  /// `*this` := `e`, resized to `e`'s size first (an expression that reads this workspace
  /// must have its size).
  template <class Other>
  Workspace& operator=(const Eigen::DenseBase<Other>& e) {
    resize(e.rows(), e.cols());
    Base::operator=(e.derived());
    return *this;
  }

  /// `[rows, cols]`, values unspecified; allocates only beyond the largest size so far.
  void resize(Index rows, Index cols) {
    if (rows * cols > buffer_.size()) buffer_.resize(rows * cols);
    rebind(rows, cols);
  }
  using Base::setZero;
  void setZero(Index rows, Index cols) {
    resize(rows, cols);
    Base::setZero();
  }
  /// Exchanges the buffers (no copy), as `Matrix::swap` does.
  void swap(Workspace& other) noexcept {
    buffer_.swap(other.buffer_);
    const Index rows = this->rows(), cols = this->cols();
    rebind(other.rows(), other.cols());
    other.rebind(rows, cols);
  }

 private:
  void rebind(Index rows, Index cols) {
    // Eigen's documented way to point a map elsewhere: construct it again in place.
    new (static_cast<Base*>(this)) Base(buffer_.data(), rows, cols);
  }
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> buffer_;  // aligned to EIGEN_MAX_ALIGN_BYTES
};

}  // namespace recurrent::detail

#endif  // RECURRENT_DETAIL_WORKSPACE_HPP
