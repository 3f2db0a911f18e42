/** @file
 * Value types at the API boundary.
 *
 * - `Sequence<S>`: `Eigen::Tensor<S, 3, RowMajor>` in TF.js layout `[batch, time, features]`.
 * - `SequenceView<S>`: a non-owning, zero-copy view of such a tensor; built implicitly from a
 *   `Sequence`, an `Eigen::TensorMap` over row-major data, or a raw pointer + dimensions.
 * - `Matrix<S>`: row-major `[rows, cols]` matrix; states are `[batch, units]`.
 * - `MatrixView<S>`: non-owning view of a row-major matrix (states, masks).
 * - `FlatTensor<S>`: any-rank tensor (shape + row-major data); what the run-time (type-erased)
 *   layers exchange, mirroring a TF.js `Tensor`.
 */
#ifndef RECURRENT_TYPES_HPP
#define RECURRENT_TYPES_HPP

#include <recurrent/config.hpp>

#include <Eigen/Core>
#include <unsupported/Eigen/CXX11/Tensor>

#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

namespace recurrent {

using Index = Eigen::Index;

/// Row-major dynamic matrix: states `[batch, units]`, weights `[rows, cols]`, masks `[batch,
/// time]`.
template <class Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Row-major matrix whose sizes may be fixed at compile time. Fixed sizes are used only while
/// the matrix stays small (`RECURRENT_FIXED_SIZE_MAX_BYTES`, default 16 KiB); beyond that the
/// storage is on the heap (`Eigen::Dynamic`), so large compile-time sizes neither hit Eigen's
/// stack-allocation limit nor the user's stack. Sizes are checked at run time either way.
#ifndef RECURRENT_FIXED_SIZE_MAX_BYTES
#define RECURRENT_FIXED_SIZE_MAX_BYTES 16384
#endif
namespace detail {
template <class Scalar, int Rows, int Cols>
struct FixedOrDynamic {
  static constexpr bool kFits =
      Rows != Eigen::Dynamic && Cols != Eigen::Dynamic &&
      static_cast<long long>(Rows) * Cols * static_cast<long long>(sizeof(Scalar)) <=
          RECURRENT_FIXED_SIZE_MAX_BYTES;
  static constexpr int kRows = kFits ? Rows : Eigen::Dynamic;
  static constexpr int kCols = kFits ? Cols : Eigen::Dynamic;
  // Eigen requires column-major storage for single-column matrices.
  static constexpr int kOptions = (kCols == 1 && kRows != 1) ? Eigen::ColMajor : Eigen::RowMajor;
  using type = Eigen::Matrix<Scalar, kRows, kCols, kOptions>;
};
}  // namespace detail
template <class Scalar, int Rows, int Cols>
using WeightMatrix = typename detail::FixedOrDynamic<Scalar, Rows, Cols>::type;

/// Row vector, e.g. a bias `[k*units]`.
template <class Scalar>
using RowVector = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

/// A batch of sequences, `[batch, time, features]`, row-major as in TF.js.
template <class Scalar>
using Sequence = Eigen::Tensor<Scalar, 3, Eigen::RowMajor>;

/// Non-owning view of a row-major `[batch, time, features]` block of memory.
template <class Scalar>
class SequenceView {
 public:
  SequenceView() = default;
  SequenceView(const Scalar* data, Index batch, Index time, Index features)
      : data_(data), batch_(batch), time_(time), features_(features) {}
  SequenceView(const Sequence<Scalar>& s)  // NOLINT(google-explicit-constructor): a view
      : SequenceView(s.data(), s.dimension(0), s.dimension(1), s.dimension(2)) {}
  template <class T, int Options, class IndexT, template <class> class MakePointer>
  SequenceView(  // NOLINT(google-explicit-constructor): zero-copy view of a TensorMap
      const Eigen::TensorMap<Eigen::Tensor<T, 3, Options, IndexT>, 0, MakePointer>& m)
      : SequenceView(m.data(), static_cast<Index>(m.dimension(0)),
                     static_cast<Index>(m.dimension(1)), static_cast<Index>(m.dimension(2))) {
    static_assert(std::is_same_v<std::remove_const_t<T>, Scalar>,
                  "SequenceView: the TensorMap scalar type must match the layer's Scalar");
    static_assert(
        (Options & Eigen::RowMajor) != 0,
        "SequenceView: the TensorMap must be row-major ([batch, time, features] as TF.js)");
  }

  const Scalar* data() const { return data_; }
  Index batch() const { return batch_; }
  Index time() const { return time_; }
  Index features() const { return features_; }
  /// No data (a default-constructed view).
  bool empty() const { return data_ == nullptr; }
  /// Element `[b, t, f]`.
  const Scalar& operator()(Index b, Index t, Index f) const {
    return data_[(b * time_ + t) * features_ + f];
  }

 private:
  const Scalar* data_ = nullptr;
  Index batch_ = 0, time_ = 0, features_ = 0;
};

/// Non-owning view of a row-major matrix (a state `[batch, units]` or a mask `[batch, time]`).
template <class Scalar>
class MatrixView {
 public:
  MatrixView() = default;
  MatrixView(const Scalar* data, Index rows, Index cols) : data_(data), rows_(rows), cols_(cols) {}
  template <int R, int C, int O, int MR, int MC>
  MatrixView(const Eigen::Matrix<Scalar, R, C, O, MR, MC>& m)  // NOLINT: implicit view
      : MatrixView(m.data(), m.rows(), m.cols()) {
    static_assert((O & Eigen::RowMajor) != 0 || R == 1 || C == 1,
                  "MatrixView: pass a row-major matrix (recurrent::Matrix<Scalar>)");
  }
  MatrixView(const Eigen::Tensor<Scalar, 2, Eigen::RowMajor>& t)  // NOLINT: implicit view
      : MatrixView(t.data(), t.dimension(0), t.dimension(1)) {}

  const Scalar* data() const { return data_; }
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  bool empty() const { return data_ == nullptr; }
  const Scalar& operator()(Index r, Index c) const { return data_[r * cols_ + c]; }
  /// As an Eigen expression.
  Eigen::Map<const Matrix<Scalar>> map() const { return {data_, rows_, cols_}; }

 private:
  const Scalar* data_ = nullptr;
  Index rows_ = 0, cols_ = 0;
};

/// Any-rank tensor: shape plus row-major data. What the run-time layers exchange.
template <class Scalar>
struct FlatTensor {
  std::vector<Index> shape;
  std::vector<Scalar> data;

  FlatTensor() = default;
  FlatTensor(std::vector<Index> s, std::vector<Scalar> d)
      : shape(std::move(s)), data(std::move(d)) {}
  explicit FlatTensor(const Sequence<Scalar>& s)
      : shape{s.dimension(0), s.dimension(1), s.dimension(2)},
        data(s.data(), s.data() + s.size()) {}
  /// From any Eigen matrix expression (stored row-major, shape `[rows, cols]`).
  template <class Derived>
  explicit FlatTensor(const Eigen::MatrixBase<Derived>& m) : shape{m.rows(), m.cols()} {
    data.reserve(static_cast<std::size_t>(m.size()));
    for (Index r = 0; r < m.rows(); ++r)
      for (Index c = 0; c < m.cols(); ++c) data.push_back(m(r, c));
  }

  Index rank() const { return static_cast<Index>(shape.size()); }
  Index size() const {
    Index n = 1;
    for (Index d : shape) n *= d;
    return n;
  }
};

}  // namespace recurrent

#endif  // RECURRENT_TYPES_HPP
