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

#include <recurrent/detail/activate.hpp>
#include <recurrent/detail/gemm.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>

namespace recurrent {
namespace detail {

/// A value of the packet type for a last run of `Valid` columns: the smallest of `Packet` and its
/// halves (AVX-512 → AVX → SSE) that holds them. When it is exactly `Valid` wide the run is
/// loaded and stored whole (so a later load of these columns forwards from one store). A function,
/// not a trait class: class templates on SIMD types make GCC warn (-Wignored-attributes).
template <class Packet, int Valid>
auto tailPacketOf() {
  using Half = typename Eigen::internal::unpacket_traits<Packet>::half;
  constexpr auto kSize = packet_activation::laneCount<Packet>();
  constexpr auto kHalf = packet_activation::laneCount<Half>();
  if constexpr (kHalf < kSize && Valid <= kHalf) {
    return tailPacketOf<Half, Valid>();
  } else {
    return Packet{};
  }
}

/// Loads `Valid` values at `p` into a `Packet` (zeros after them when it is wider).
template <class Packet, int Valid, class Scalar>
EIGEN_ALWAYS_INLINE Packet ploadTail(const Scalar* p) {
  constexpr auto kSize = packet_activation::laneCount<Packet>();
  if constexpr (Valid == kSize) {
    return Eigen::internal::ploadu<Packet>(p);
  } else {
    alignas(Packet) Scalar lanes[static_cast<std::size_t>(kSize)] = {};
    for (int j = 0; j < Valid; ++j) lanes[j] = p[j];
    return Eigen::internal::pload<Packet>(lanes);
  }
}

/// Stores the `Valid` first lanes of `v` at `p`.
template <int Valid, class Scalar, class Packet>
EIGEN_ALWAYS_INLINE void pstoreTail(Scalar* p, const Packet& v) {
  constexpr auto kSize = packet_activation::laneCount<Packet>();
  if constexpr (Valid == kSize) {
    Eigen::internal::pstoreu(p, v);
  } else {
    alignas(Packet) Scalar lanes[static_cast<std::size_t>(kSize)];
    Eigen::internal::pstore(lanes, v);
    for (int j = 0; j < Valid; ++j) p[j] = lanes[j];
  }
}

/// Columns [Panel0·kNr, (Panel0 + Group)·kNr) ∩ [0, Cols) of `c = add + a·B`: the full packets,
/// and at the right edge of C one narrower tail packet (tailPacketOf).
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
  // Full packets of this group, and the columns of a last partial one (0: none).
  constexpr int kFull = std::min(Group * kNp, (Cols - kCol0) / kP);
  constexpr int kTail = kFull < Group * kNp ? (Cols - kCol0) - kFull * kP : 0;
  using Tail = decltype(tailPacketOf<Packet, (kTail > 0 ? kTail : kP)>());
  constexpr int kTailCol = kCol0 + kFull * kP;
  // Offset of packet x of this group in the packed panels.
  auto at = [](int x, int k) { return (x / kNp) * kPanelStride + k * kNr + (x % kNp) * kP; };

  Packet acc[static_cast<std::size_t>(std::max(kFull, 1))];
  Tail tail = ei::pset1<Tail>(Scalar(0));
  for (int x = 0; x < kFull; ++x)
    acc[x] =
        add == nullptr ? ei::pset1<Packet>(Scalar(0)) : ei::ploadu<Packet>(add + kCol0 + x * kP);
  if constexpr (kTail > 0) {
    if (add != nullptr) tail = ploadTail<Tail, kTail>(add + kTailCol);
  }
  const Scalar* panel = b + Panel0 * kPanelStride;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
  for (int k = 0; k < Depth; ++k) {
    const Packet av = ei::pset1<Packet>(a[k]);
    for (int x = 0; x < kFull; ++x)
      acc[x] = ei::pmadd(av, ei::pload<Packet>(panel + at(x, k)), acc[x]);
    if constexpr (kTail > 0) {
      tail = ei::pmadd(ei::pset1<Tail>(a[k]), ei::pload<Tail>(panel + at(kFull, k)), tail);
    }
  }
  for (int x = 0; x < kFull; ++x) ei::pstoreu(c + kCol0 + x * kP, acc[x]);
  if constexpr (kTail > 0) pstoreTail<kTail>(c + kTailCol, tail);
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
