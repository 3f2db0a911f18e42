/** @file
 * The one-row product of streaming, `c = add + a·B`, for sizes known at compile time.
 *
 * A stateful layer fed one sample per call multiplies one row `h` by the packed recurrent kernel
 * (and one input row by the packed input kernel) per step. `packedGemm` handles any size with
 * run-time loops, a row-block dispatch and a padded local block for a ragged right edge; at the
 * sizes of per-sample audio models (units 8–128) that bookkeeping costs as much as the
 * arithmetic. Here `Depth` (rows of `B`) and `Cols` are template arguments: the whole row of `C`
 * lives in registers (in groups of up to `kGroupPanels` panels), every loop bound is a constant,
 * the ragged last packet goes through one padded packet, and nothing else is done.
 *
 * Bitwise the same as `packedGemm` for one row: each element of `C` starts from `add` and takes
 * the multiply-adds over k = 0..Depth−1 in order, one fused multiply-add each (gemm.hpp's
 * determinism rule), so a streamed step equals the same step inside a `call`.
 */
#ifndef RECURRENT_DETAIL_GEMV_HPP
#define RECURRENT_DETAIL_GEMV_HPP

#include <recurrent/detail/gemm.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>

namespace recurrent {
namespace detail {

/// Loads the `Valid` (< packet size) first values at `p` into a packet, zeros after them.
template <class Packet, int Valid, class Scalar>
EIGEN_ALWAYS_INLINE Packet ploadPartial(const Scalar* p) {
  alignas(Packet) Scalar lanes[Eigen::internal::unpacket_traits<Packet>::size] = {};
  for (int j = 0; j < Valid; ++j) lanes[j] = p[j];
  return Eigen::internal::pload<Packet>(lanes);
}

/// Stores the `Valid` first lanes of `v` at `p`.
template <int Valid, class Scalar, class Packet>
EIGEN_ALWAYS_INLINE void pstorePartial(Scalar* p, const Packet& v) {
  alignas(Packet) Scalar lanes[Eigen::internal::unpacket_traits<Packet>::size];
  Eigen::internal::pstore(lanes, v);
  for (int j = 0; j < Valid; ++j) p[j] = lanes[j];
}

/// Columns [Panel0·kNr, (Panel0 + Group)·kNr) ∩ [0, Cols) of `c = add + a·B`.
template <class Scalar, int Depth, int Cols, int Panel0, int Group>
EIGEN_ALWAYS_INLINE void gemvPanels(const Scalar* a, const Scalar* b, const Scalar* add,
                                    Scalar* c) {
  namespace ei = Eigen::internal;
  using Shape = GemmShape<Scalar>;
  using Packet = typename Shape::Packet;
  constexpr int kP = Shape::kPacket;
  constexpr int kNp = Shape::kPanelPackets;
  constexpr int kNr = static_cast<int>(Shape::kNr);
  constexpr int kCol0 = Panel0 * kNr;
  constexpr int kPanelStride = Depth * kNr;
  // Packets of this group that hold at least one column of C.
  constexpr int kPackets = std::min(Group * kNp, (Cols - kCol0 + kP - 1) / kP);

  Packet acc[static_cast<std::size_t>(kPackets)];
  for (int x = 0; x < kPackets; ++x) {
    const int col = kCol0 + x * kP;
    if (add == nullptr) {
      acc[x] = ei::pset1<Packet>(Scalar(0));
    } else if (col + kP <= Cols) {
      acc[x] = ei::ploadu<Packet>(add + col);
    } else {
      acc[x] = ploadPartial<Packet, Cols % kP>(add + col);
    }
  }
  const Scalar* panel = b + Panel0 * kPanelStride;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
  for (int k = 0; k < Depth; ++k) {
    const Packet av = ei::pset1<Packet>(a[k]);
    for (int x = 0; x < kPackets; ++x) {
      const Packet bv =
          ei::pload<Packet>(panel + (x / kNp) * kPanelStride + k * kNr + (x % kNp) * kP);
      acc[x] = ei::pmadd(av, bv, acc[x]);
    }
  }
  for (int x = 0; x < kPackets; ++x) {
    const int col = kCol0 + x * kP;
    if (col + kP <= Cols) {
      ei::pstoreu(c + col, acc[x]);
    } else {
      pstorePartial<Cols % kP>(c + col, acc[x]);
    }
  }
}

template <class Scalar, int Depth, int Cols, int Panel0, int Panels>
EIGEN_ALWAYS_INLINE void gemvGroups(const Scalar* a, const Scalar* b, const Scalar* add,
                                    Scalar* c) {
  // Up to 16 accumulators in flight: half the register file on AVX-512 / NEON.
  constexpr int kGroupPanels = 16 / GemmShape<Scalar>::kPanelPackets;
  constexpr int kGroup = std::min(Panels - Panel0, kGroupPanels);
  gemvPanels<Scalar, Depth, Cols, Panel0, kGroup>(a, b, add, c);
  if constexpr (Panel0 + kGroup < Panels)
    gemvGroups<Scalar, Depth, Cols, Panel0 + kGroup, Panels>(a, b, add, c);
}

/**
 * `c[0, :Cols] = add[0, :Cols] + a[0, :Depth]·B` for a `[Depth, Cols]` packed `B`
 * (`b.rows() == Depth`, `b.cols() == Cols`, asserted); `add == nullptr` means zero.
 */
template <class Scalar, int Depth, int Cols>
EIGEN_ALWAYS_INLINE void packedGemv(const Scalar* a, const PackedMatrix<Scalar>& b,
                                    const Scalar* add, Scalar* c) {
  static_assert(Depth > 0 && Cols > 0, "packedGemv: compile-time sizes only");
  constexpr Index kNr = GemmShape<Scalar>::kNr;
  constexpr int kPanels = static_cast<int>((Cols + kNr - 1) / kNr);
  eigen_assert(b.rows() == Depth && b.cols() == Cols);
  gemvGroups<Scalar, Depth, Cols, 0, kPanels>(a, b.panel(0), add, c);
}

}  // namespace detail
}  // namespace recurrent

#endif  // RECURRENT_DETAIL_GEMV_HPP
