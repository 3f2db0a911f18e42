/** @file
 * The matrix product of the time loop: `C = Add + A·B` with `B` packed once into column panels.
 *
 * Every step of a recurrent layer multiplies the previous state `h` ([batch, units]) by the same
 * recurrent kernel `U` ([units, k·units]). A general GEMM re-packs `U` on every call; here `U`
 * (and the input kernel `W`) are packed once, when the weights are set, into panels of `kNr`
 * columns (two SIMD packets), each stored k-major so the micro-kernel streams it with aligned
 * loads. The micro-kernel keeps an `MR × (NB·kNr)` block of `C` in registers, initialised from
 * `Add` (the input projection, or a bias row with `ldadd = 0`), broadcasts one element of `A`
 * per row and k, and issues `MR·NB·2` fused multiply-adds per k. It is written with Eigen's packet
 * primitives, so the same code runs at full width on AVX-512, AVX2, SSE2 and NEON, and as scalars
 * when Eigen does not vectorise.
 *
 * Blocking for many rows (`m > 2`: batches, the input projection over all time steps): rows go
 * in blocks whose rows of `A` fit in 256 KiB of L2; per block the panels go by in groups of two,
 * and each group is swept by every `kMr`-row tile of the block with the whole depth in one pass
 * (no k-blocking: a group's `depth × 2·kNr` slice, 128 KiB at depth 512 in float, is read from
 * L2 at the kernel's full speed, and spilling the accumulators per k-block cost more than it
 * saved). What does not fit in L2 is `B` itself (`U` is 4 MiB for a 512-unit LSTM), so every
 * group would start by waiting on L3: instead the tiles of a group prefetch the next group's
 * panels into L2, one cache line per k, shared out over the tiles.
 *
 * Determinism: each element of `C` is one fixed sequence of multiply-adds over k, whatever the
 * panel range or row blocking, so splitting the columns across threads changes nothing.
 * Nothing here allocates except `PackedMatrix::pack`.
 */
#ifndef RECURRENT_DETAIL_GEMM_HPP
#define RECURRENT_DETAIL_GEMM_HPP

#include <recurrent/types.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace recurrent {
namespace detail {

/// SIMD packet of `Scalar` as Eigen vectorises it for the target (size 1 without SIMD).
template <class Scalar>
using PacketOf = typename Eigen::internal::packet_traits<Scalar>::type;

template <class Scalar>
struct GemmShape {
  using Packet = PacketOf<Scalar>;
  static constexpr int kPacket = Eigen::internal::unpacket_traits<Packet>::size;
  static constexpr int kPanelPackets = 2;                // packets per panel row
  static constexpr Index kNr = kPanelPackets * kPacket;  // columns per panel
#if defined(EIGEN_VECTORIZE_AVX512) || defined(EIGEN_VECTORIZE_NEON) || defined(EIGEN_ARCH_ARM64)
  static constexpr int kMr = 6;  // 32 vector registers: 6 × 4 accumulators + 4 loads
#else
  static constexpr int kMr = 3;  // 16 vector registers: 3 × 4 accumulators + 4 loads
#endif
};

/**
 * A `[k, n]` matrix packed for `packedGemm`: panel `p` holds columns `[p·kNr, (p+1)·kNr)` as
 * `k` rows of `kNr` contiguous values (zero past column `n`).
 */
template <class Scalar>
class PackedMatrix {
 public:
  static constexpr Index kNr = GemmShape<Scalar>::kNr;

  PackedMatrix() = default;

  /// Packs `src` (any `[k, n]` Eigen expression). Allocates only beyond the largest size so far
  /// (a backward pass packs batch-sized operands: a smaller last batch keeps the buffer).
  template <class Derived>
  void pack(const Eigen::MatrixBase<Derived>& src) {
    rows_ = src.rows();
    cols_ = src.cols();
    panels_ = (cols_ + kNr - 1) / kNr;
    if (data_.size() < panels_ * rows_ * kNr) data_.resize(panels_ * rows_ * kNr);
    for (Index p = 0; p < panels_; ++p) {
      const Index c0 = p * kNr, width = std::min(kNr, cols_ - c0);
      Scalar* dst = data_.data() + p * rows_ * kNr;
      for (Index k = 0; k < rows_; ++k) {
        for (Index j = 0; j < width; ++j) dst[k * kNr + j] = src(k, c0 + j);
        for (Index j = width; j < kNr; ++j) dst[k * kNr + j] = Scalar(0);  // the last panel's pad
      }
    }
  }

  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  Index panels() const { return panels_; }
  bool empty() const { return panels_ == 0; }
  const Scalar* panel(Index p) const { return data_.data() + p * rows_ * kNr; }
  Index panelStride() const { return rows_ * kNr; }

 private:
  Index rows_ = 0, cols_ = 0, panels_ = 0;
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> data_;  // aligned to EIGEN_MAX_ALIGN_BYTES
};

/// Scalars per 64-byte cache line.
template <class Scalar>
constexpr Index kLineScalars = Index{64} / Index{sizeof(Scalar)};

/// Asks for the cache line at `p` in L2 (not L1): data a later block will read.
EIGEN_ALWAYS_INLINE void prefetchL2(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0, 2);  // locality 2: prefetcht1 on x86
#else
  (void)p;
#endif
}

/// The micro-kernel's block of `C` in registers: `MR` rows of `NB` panels.
template <class Scalar, int MR, int NB>
using GemmAccumulators =
    PacketOf<Scalar>[static_cast<std::size_t>(MR)]
                    [static_cast<std::size_t>(NB * GemmShape<Scalar>::kPanelPackets)];

/// One k of the micro-kernel: `acc[i][·] += a[i, k] · b[k, ·]` for its `MR` rows.
template <class Scalar, int MR, int NB>
EIGEN_ALWAYS_INLINE void gemmKStep(GemmAccumulators<Scalar, MR, NB>& acc, const Scalar* a,
                                   Index lda, const Scalar* b, Index panelStride, Index k) {
  namespace ei = Eigen::internal;
  using Shape = GemmShape<Scalar>;
  using Packet = typename Shape::Packet;
  constexpr int kP = Shape::kPacket;
  constexpr int kNp = Shape::kPanelPackets;
  constexpr int kCols = NB * kNp;
  constexpr Index kNr = Shape::kNr;
  Packet bv[static_cast<std::size_t>(kCols)];
  for (int q = 0; q < NB; ++q)
    for (int j = 0; j < kNp; ++j)
      bv[q * kNp + j] = ei::pload<Packet>(b + q * panelStride + k * kNr + j * kP);
  for (int i = 0; i < MR; ++i) {
    const Packet av = ei::pset1<Packet>(a[i * lda + k]);
    for (int x = 0; x < kCols; ++x) acc[i][x] = ei::pmadd(av, bv[x], acc[i][x]);
  }
}

/// `C[MR, NB·kNr] = Add + A·B` for `NB` consecutive full panels starting at `b`.
template <class Scalar, int MR, int NB>
EIGEN_ALWAYS_INLINE void gemmMicroKernel(Index depth, const Scalar* a, Index lda, const Scalar* b,
                                         Index panelStride, const Scalar* add, Index ldadd,
                                         Scalar* c, Index ldc, const Scalar* prefetch = nullptr,
                                         Index prefetchLines = 0) {
  namespace ei = Eigen::internal;
  using Shape = GemmShape<Scalar>;
  using Packet = typename Shape::Packet;
  constexpr int kP = Shape::kPacket;
  constexpr int kNp = Shape::kPanelPackets;
  constexpr Index kNr = Shape::kNr;

  GemmAccumulators<Scalar, MR, NB> acc;
  for (int i = 0; i < MR; ++i) {
    for (int q = 0; q < NB; ++q) {
      for (int j = 0; j < kNp; ++j) {
        acc[i][q * kNp + j] = add != nullptr
                                  ? ei::ploadu<Packet>(add + i * ldadd + q * kNr + j * kP)
                                  : ei::pset1<Packet>(Scalar(0));
      }
    }
  }
  Index k = 0;
  // While `prefetch` lasts, one cache line of it per k (see prefetchL2).
  for (const Index kp = std::min(depth, prefetchLines); k < kp; ++k) {
    prefetchL2(prefetch + k * kLineScalars<Scalar>);
    gemmKStep<Scalar, MR, NB>(acc, a, lda, b, panelStride, k);
  }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
  for (; k < depth; ++k) gemmKStep<Scalar, MR, NB>(acc, a, lda, b, panelStride, k);
  for (int i = 0; i < MR; ++i)
    for (int q = 0; q < NB; ++q)
      for (int j = 0; j < kNp; ++j)
        ei::pstoreu(c + i * ldc + q * kNr + j * kP, acc[i][q * kNp + j]);
}

/// One row block × panel group; the last group may be narrower than `NB·kNr` columns of `C`.
template <class Scalar, int MR, int NB>
void gemmBlock(Index depth, const Scalar* a, Index lda, const PackedMatrix<Scalar>& b, Index p,
               const Scalar* add, Index ldadd, Scalar* c, Index ldc,
               const Scalar* prefetch = nullptr, Index prefetchLines = 0) {
  constexpr Index kNr = GemmShape<Scalar>::kNr;
  constexpr Index kWidth = NB * kNr;
  const Index c0 = p * kNr;
  const Index valid = b.cols() - c0;
  if (valid >= kWidth) {
    gemmMicroKernel<Scalar, MR, NB>(depth, a, lda, b.panel(p), b.panelStride(),
                                    add == nullptr ? nullptr : add + c0, ldadd, c + c0, ldc,
                                    prefetch, prefetchLines);
    return;
  }
  // Ragged right edge: compute through a padded local block, store the valid columns.
  alignas(64) Scalar local[static_cast<std::size_t>(MR * kWidth)];
  for (int i = 0; i < MR; ++i) {
    Scalar* row = local + i * kWidth;
    if (add != nullptr) {
      std::memcpy(row, add + i * ldadd + c0, static_cast<std::size_t>(valid) * sizeof(Scalar));
    } else {
      std::fill(row, row + valid, Scalar(0));
    }
    std::fill(row + valid, row + kWidth, Scalar(0));
  }
  gemmMicroKernel<Scalar, MR, NB>(depth, a, lda, b.panel(p), b.panelStride(), local, kWidth, local,
                                  kWidth, prefetch, prefetchLines);
  for (int i = 0; i < MR; ++i)
    std::memcpy(c + i * ldc + c0, local + i * kWidth,
                static_cast<std::size_t>(valid) * sizeof(Scalar));
}

template <class Scalar, int NB>
void gemmRows(Index rows, Index depth, const Scalar* a, Index lda, const PackedMatrix<Scalar>& b,
              Index p, const Scalar* add, Index ldadd, Scalar* c, Index ldc) {
  constexpr int kMr = GemmShape<Scalar>::kMr;
  Index i = 0;
  if constexpr (NB <= 2) {  // wider groups are only used for rows <= 2
    for (; i + kMr <= rows; i += kMr) {
      gemmBlock<Scalar, kMr, NB>(depth, a + i * lda, lda, b, p,
                                 add == nullptr ? nullptr : add + i * ldadd, ldadd, c + i * ldc,
                                 ldc);
    }
  }
  const Index rest = rows - i;
  if (rest == 0) return;
  const Scalar* ai = a + i * lda;
  const Scalar* addi = add == nullptr ? nullptr : add + i * ldadd;
  Scalar* ci = c + i * ldc;
  switch (rest) {
    case 1:
      return gemmBlock<Scalar, 1, NB>(depth, ai, lda, b, p, addi, ldadd, ci, ldc);
    case 2:
      return gemmBlock<Scalar, 2, NB>(depth, ai, lda, b, p, addi, ldadd, ci, ldc);
    case 3:
      return gemmBlock<Scalar, 3, NB>(depth, ai, lda, b, p, addi, ldadd, ci, ldc);
    case 4:
      return gemmBlock<Scalar, 4, NB>(depth, ai, lda, b, p, addi, ldadd, ci, ldc);
    default:
      return gemmBlock<Scalar, 5, NB>(depth, ai, lda, b, p, addi, ldadd, ci, ldc);
  }
}

/**
 * `rows` rows of `C` for the `NB` panels at `p`, in `kMr`-row tiles; the tiles share out the
 * prefetching of `next` (`nextLines` cache lines: the B panels the following group reads).
 */
template <class Scalar, int NB>
void gemmGroupRows(Index rows, Index depth, const Scalar* a, Index lda,
                   const PackedMatrix<Scalar>& b, Index p, const Scalar* add, Index ldadd,
                   Scalar* c, Index ldc, const Scalar* next, Index nextLines) {
  constexpr int kMr = GemmShape<Scalar>::kMr;
  const Index tiles = (rows + kMr - 1) / kMr;
  const Index share = (nextLines + tiles - 1) / tiles;
  Index i = 0, prefetched = 0;
  auto tile = [&](auto mr) {
    constexpr int kRows = decltype(mr)::value;
    const Index lines = std::min(share, nextLines - prefetched);
    gemmBlock<Scalar, kRows, NB>(depth, a + i * lda, lda, b, p,
                                 add == nullptr ? nullptr : add + i * ldadd, ldadd, c + i * ldc,
                                 ldc, next + prefetched * kLineScalars<Scalar>, lines);
    prefetched += lines;
    i += kRows;
  };
  while (i + kMr <= rows) tile(std::integral_constant<int, kMr>{});
  switch (rows - i) {
    case 0:
      return;
    case 1:
      return tile(std::integral_constant<int, 1>{});
    case 2:
      return tile(std::integral_constant<int, 2>{});
    case 3:
      return tile(std::integral_constant<int, 3>{});
    case 4:
      return tile(std::integral_constant<int, 4>{});
    default:
      return tile(std::integral_constant<int, 5>{});
  }
}

/// `dst = srcᵀ`: `src` `[rows, cols]` row-major with leading dimension `lds`, `dst` `[cols, rows]`
/// row-major. In square tiles, so that both sides move a few cache lines at a time (an element
/// loop over a tall `src` strides through the whole of `dst` for each of its rows: 3.7× slower
/// on the weight gradients' `[B·T, 512]` inputs, 13% of a W4 SimpleRNN training step).
template <class Scalar>
void transposeInto(const Scalar* src, Index rows, Index cols, Index lds, Scalar* dst) {
  constexpr Index kTile = 16;
  for (Index r0 = 0; r0 < rows; r0 += kTile) {
    const Index r1 = std::min(rows, r0 + kTile);
    for (Index c0 = 0; c0 < cols; c0 += kTile) {
      const Index c1 = std::min(cols, c0 + kTile);
      for (Index c = c0; c < c1; ++c)
        for (Index r = r0; r < r1; ++r) dst[c * rows + r] = src[r * lds + c];
    }
  }
}

/**
 * The `m > 2` path of `packedGemm`. Rows go in blocks whose part of `A` stays in L2 while the
 * panel groups (`2` panels, `2·kNr` columns) stream past; each group is read from L2 by every
 * tile of the block, and from farther away (L3) only once, ahead of time: while a group runs,
 * its tiles prefetch the next group's panels into L2 (after the last group of a block, the
 * first group of the next block).
 */
template <class Scalar>
void packedGemmMany(Index m, const Scalar* a, Index lda, const PackedMatrix<Scalar>& b,
                    const Scalar* add, Index ldadd, Scalar* c, Index ldc, Index panelBegin,
                    Index panelEnd) {
  constexpr Index kMr = GemmShape<Scalar>::kMr;
  constexpr Index kL2Bytes = Index{256} * 1024;
  const Index depth = b.rows();
  const Index blockRows = std::max<Index>(
      kMr, kL2Bytes / std::max<Index>(1, depth * Index{sizeof(Scalar)}) / kMr * kMr);
  const Index panelLines = b.panelStride() / kLineScalars<Scalar>;
  for (Index i0 = 0; i0 < m; i0 += blockRows) {
    const Index rows = std::min(blockRows, m - i0);
    const bool lastBlock = i0 + rows >= m;
    const Scalar* ai = a + i0 * lda;
    const Scalar* addi = add == nullptr ? nullptr : add + i0 * ldadd;
    Scalar* ci = c + i0 * ldc;
    for (Index p = panelBegin; p < panelEnd; p += 2) {
      const Index width = std::min<Index>(2, panelEnd - p);
      // The panels after this group: the next group, or the first of the next block.
      Index q = p + width;
      if (q >= panelEnd) q = lastBlock ? panelEnd : panelBegin;
      const Index nextPanels = q == panelEnd ? 0 : std::min<Index>(2, panelEnd - q);
      const Scalar* next = nextPanels == 0 ? nullptr : b.panel(q);
      const Index nextLines = nextPanels * panelLines;
      if (width == 2) {
        gemmGroupRows<Scalar, 2>(rows, depth, ai, lda, b, p, addi, ldadd, ci, ldc, next, nextLines);
      } else {
        gemmGroupRows<Scalar, 1>(rows, depth, ai, lda, b, p, addi, ldadd, ci, ldc, next, nextLines);
      }
    }
  }
}

/**
 * `C[:, cols] = Add[:, cols] + A·B` over the panels `[panelBegin, panelEnd)` of `b`
 * (`panelEnd < 0`: all). `A` is `[m, b.rows()]` with row stride `lda`; `Add` and `C` are
 * `[m, b.cols()]` with row strides `ldadd` and `ldc`. `add == nullptr` means zero; `ldadd == 0`
 * adds the same row (a bias) to every row; `add` may equal `c` (same stride). `A` must not
 * overlap `C`.
 */
template <class Scalar>
void packedGemm(Index m, const Scalar* a, Index lda, const PackedMatrix<Scalar>& b,
                const Scalar* add, Index ldadd, Scalar* c, Index ldc, Index panelBegin = 0,
                Index panelEnd = -1) {
  if (panelEnd < 0) panelEnd = b.panels();
  const Index depth = b.rows();
  // Few rows (streaming, batch 1-2): four panels at once keep 8+ independent accumulator chains.
  if (m <= 2) {
    Index p = panelBegin;
    for (; p + 4 <= panelEnd; p += 4)
      gemmRows<Scalar, 4>(m, depth, a, lda, b, p, add, ldadd, c, ldc);
    switch (panelEnd - p) {
      case 3:
        return gemmRows<Scalar, 3>(m, depth, a, lda, b, p, add, ldadd, c, ldc);
      case 2:
        return gemmRows<Scalar, 2>(m, depth, a, lda, b, p, add, ldadd, c, ldc);
      case 1:
        return gemmRows<Scalar, 1>(m, depth, a, lda, b, p, add, ldadd, c, ldc);
      default:
        return;
    }
  }
  packedGemmMany(m, a, lda, b, add, ldadd, c, ldc, panelBegin, panelEnd);
}

}  // namespace detail
}  // namespace recurrent

#endif  // RECURRENT_DETAIL_GEMM_HPP
