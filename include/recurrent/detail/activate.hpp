// Internal, may change: activations vectorised with Eigen's packet primitives, for contiguous runs
// of one gate row (the time loop's gate epilogue), at the full SIMD width of whatever ISA the user
// compiles for (SSE2, AVX2, AVX-512, NEON; plain scalar code when packets have one lane).
//
// - ptanhActivation(packet): float is Eigen's own tanh (the function `x.tanh()` uses, so float
//   results are bitwise those of `activations::Tanh`); double is a Cephes-style tanh (Eigen 3.4
//   does not vectorise double tanh), within a few ulp over the whole range.
// - psigmoidActivation(packet): 1 / (1 + exp(-x)) with Eigen's exp, the formula of
//   `activations::Sigmoid`.
// - activate(kind, data, n): one activation in place over n contiguous elements. Tanh, Sigmoid,
//   the hard sigmoids, Relu, Relu6 and Linear run on packets only, the last partial packet
//   included (see packetwiseAs: an overlapping last packet, Eigen's half packets, and a padded
//   local packet for what is left); every other kind is the `activations` policy on a 1×n map.
//
// This header and <recurrent/activations.hpp> include each other: activations.hpp includes it at
// its end (its `Tanh` policy uses `TanhActivationOp` for double), and it includes activations.hpp
// first, so either can be included alone.
#ifndef RECURRENT_DETAIL_ACTIVATE_HPP
#define RECURRENT_DETAIL_ACTIVATE_HPP

#include <recurrent/activations.hpp>

#include <Eigen/Core>

#include <cstddef>
#include <type_traits>

namespace recurrent::detail {

namespace packet_activation {

namespace ei = Eigen::internal;

template <class Packet>
using ScalarOf = typename ei::unpacket_traits<Packet>::type;

// Traits below are keyed on the scalar type, never on a packet type: a variable or class
// template instantiated on a SIMD type makes GCC warn (-Wignored-attributes).

/// f applied lane by lane: for packets lacking a primitive the vector path needs.
template <class Packet, class F>
EIGEN_STRONG_INLINE Packet lanewise(const Packet& x, F f) {
  alignas(Packet) ScalarOf<Packet> lanes[ei::unpacket_traits<Packet>::size];
  ei::pstoreu(lanes, x);
  for (auto& v : lanes) v = f(v);
  return ei::ploadu<Packet>(lanes);
}

/// Whether Scalar's packets have the primitives of the vector tanhDouble / sigmoid (one-lane
/// "packets" are plain scalars and always do: Eigen has generic scalar versions of all of them).
template <class Scalar>
constexpr bool kHasTanhDoublePrimitives = (ei::packet_traits<Scalar>::HasExp != 0) &&
                                          (ei::packet_traits<Scalar>::HasDiv != 0) &&
                                          (ei::packet_traits<Scalar>::HasCmp != 0) &&
                                          (ei::packet_traits<Scalar>::HasAbs != 0) &&
                                          (ei::packet_traits<Scalar>::HasMin != 0);

template <class Scalar>
constexpr bool kHasSigmoidPrimitives = (ei::packet_traits<Scalar>::HasExp != 0) &&
                                       (ei::packet_traits<Scalar>::HasDiv != 0) &&
                                       (ei::packet_traits<Scalar>::HasNegate != 0) &&
                                       (ei::packet_traits<Scalar>::HasAdd != 0);

/// Cephes tanh (double): |x| < 0.625: x + x·s·P(s)/Q(s), s = x²; otherwise 1 − 2/(exp(2|x|) + 1)
/// with |x| clamped at 22 (tanh(22) rounds to 1) and the sign of x restored (−0 stays −0); NaN
/// propagates. Generic in Packet: one-lane packets (plain double) use Eigen's scalar primitives.
template <class Packet>
EIGEN_STRONG_INLINE Packet tanhDouble(const Packet& x) {
  using ei::padd;
  using ei::pdiv;
  using ei::pmadd;
  using ei::pmul;
  using ei::pset1;
  const Packet one = pset1<Packet>(1.0);
  const Packet two = pset1<Packet>(2.0);
  const Packet a = ei::pabs(x);
  const Packet sign = ei::pandnot(x, a);  // x's sign bit alone

  // Small |x|: odd rational approximation (Cephes tanh.c), a + a·s·P(s)/Q(s) with s = a².
  const Packet s = pmul(a, a);
  Packet p =
      pmadd(pset1<Packet>(-9.64399179425052238628e-1), s, pset1<Packet>(-9.92877231001918586564e1));
  p = pmadd(p, s, pset1<Packet>(-1.61468768441708447952e3));
  Packet q = padd(s, pset1<Packet>(1.12811678491632931402e2));
  q = pmadd(q, s, pset1<Packet>(2.23548839060100448583e3));
  q = pmadd(q, s, pset1<Packet>(4.84406305325125486048e3));
  // Large |x|: 1 - 2 / (exp(2|x|) + 1).
  const Packet e = ei::pexp(pmul(two, ei::pmin(a, pset1<Packet>(22.0))));
  // One division serves both: P/Q or 2/(e + 1).
  const Packet isSmall = ei::pcmp_lt(a, pset1<Packet>(0.625));
  const Packet ratio = pdiv(ei::pselect(isSmall, p, two), ei::pselect(isSmall, q, padd(e, one)));
  const Packet r = ei::pselect(isSmall, pmadd(pmul(a, s), ratio, a), ei::psub(one, ratio));
  // x == x is false only for NaN: return x itself there.
  return ei::pselect(ei::pcmp_eq(x, x), ei::por(r, sign), x);
}

/// Eigen's float tanh: the functor `x.tanh()` uses, packet or scalar as Eigen would choose.
template <class Packet>
EIGEN_STRONG_INLINE Packet tanhEigen(const Packet& x) {
  using S = ScalarOf<Packet>;
  const ei::scalar_tanh_op<S> op;
  if constexpr (ei::unpacket_traits<Packet>::size > 1 && ei::packet_traits<S>::HasTanh) {
    return op.packetOp(x);
  } else {
    return lanewise(x, op);
  }
}

}  // namespace packet_activation

/// tanh of each lane. float: Eigen's tanh (bitwise `x.tanh()`); double: Cephes-style, a few ulp.
template <class Packet>
EIGEN_STRONG_INLINE Packet ptanhActivation(const Packet& x) {
  namespace pa = packet_activation;
  namespace ei = Eigen::internal;
  using S = pa::ScalarOf<Packet>;
  if constexpr (std::is_same<S, double>::value) {
    if constexpr (ei::unpacket_traits<Packet>::size == 1 || pa::kHasTanhDoublePrimitives<S>) {
      return pa::tanhDouble(x);
    } else {
      return pa::lanewise(x, [](double v) { return pa::tanhDouble(v); });
    }
  } else {
    return pa::tanhEigen(x);
  }
}

/// 1 / (1 + exp(-x)) of each lane, with Eigen's exp: the expression of `activations::Sigmoid`.
template <class Packet>
EIGEN_STRONG_INLINE Packet psigmoidActivation(const Packet& x) {
  namespace pa = packet_activation;
  namespace ei = Eigen::internal;
  using S = pa::ScalarOf<Packet>;
  if constexpr (ei::unpacket_traits<Packet>::size == 1 || pa::kHasSigmoidPrimitives<S>) {
    const Packet one = ei::pset1<Packet>(S(1));
    return ei::pdiv(one, ei::padd(one, ei::pexp(ei::pnegate(x))));
  } else {
    return pa::lanewise(x, [](S v) { return S(1) / (S(1) + Eigen::numext::exp(-v)); });
  }
}

/// Eigen functor for `unaryExpr`: `ptanhActivation` on packets and on single coefficients. The
/// `activations::Tanh` policy uses it for double.
template <class Scalar>
struct TanhActivationOp {
  EIGEN_STRONG_INLINE Scalar operator()(const Scalar& x) const { return ptanhActivation(x); }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const {
    return ptanhActivation(x);
  }
};

namespace packet_activation {

/// Whether the tail of a run may use Eigen's smaller packets (`unpacket_traits<P>::half`: AVX-512
/// → AVX → SSE, NEON float 4 → 2). Only where every primitive used here is known to exist for
/// them; elsewhere the tail is one padded full packet.
#if defined(EIGEN_VECTORIZE_SSE) || defined(EIGEN_VECTORIZE_NEON)
constexpr bool kHalfPacketTails = true;
#else
constexpr bool kHalfPacketTails = false;
#endif

/// Lanes of Packet (a function: a class template named with a SIMD typedef as argument makes
/// GCC warn -Wignored-attributes).
template <class Packet>
constexpr Eigen::Index laneCount() {
  return ei::unpacket_traits<Packet>::size;
}

/// data[i] = f(data[i]) for i < n (n = N when N is a compile-time count, else `count`), with f
/// lane-wise on packets (called with Packet and, in the
/// tail, its smaller halves). Never a scalar loop:
/// - n >= P: whole packets, and a partial last packet is the packet ending at data + n, loaded
///   before anything is stored (its first lanes are computed twice, from the same inputs);
/// - n < P: the next smaller packet type (AVX-512 float: n = 8 is one AVX packet), down to the
///   smallest, where the last < P elements go through one padded local packet.
template <class Packet, int N, class Scalar, class F>
EIGEN_STRONG_INLINE void packetwiseAs(Scalar* data, Eigen::Index count, F f) {
  using Half = typename ei::unpacket_traits<Packet>::half;
  constexpr Eigen::Index kP = laneCount<Packet>();
  constexpr Eigen::Index kHalf = laneCount<Half>();
  const Eigen::Index n = N == Eigen::Dynamic ? count : N;  // a constant when N is given
  if (n >= kP) {
    const Packet last = ei::ploadu<Packet>(data + n - kP);
    Eigen::Index i = 0;
    for (; i + 2 * kP <= n; i += 2 * kP) {
      const Packet x0 = ei::ploadu<Packet>(data + i);
      const Packet x1 = ei::ploadu<Packet>(data + i + kP);
      ei::pstoreu(data + i, f(x0));
      ei::pstoreu(data + i + kP, f(x1));
    }
    if (i + kP <= n) {
      ei::pstoreu(data + i, f(ei::ploadu<Packet>(data + i)));
      i += kP;
    }
    if (i < n) ei::pstoreu(data + n - kP, f(last));
  } else if constexpr (kHalfPacketTails && kHalf < kP) {
    packetwiseAs<Half, N>(data, n, f);
  } else if constexpr (kP > 1) {
    alignas(Packet) Scalar lanes[static_cast<std::size_t>(kP)] = {};
    for (Eigen::Index k = 0; k < n; ++k) lanes[k] = data[k];
    ei::pstore(lanes, f(ei::pload<Packet>(lanes)));
    for (Eigen::Index k = 0; k < n; ++k) data[k] = lanes[k];
  }
}

/// packetwise with Scalar's full packet type.
template <int N, class Scalar, class F>
EIGEN_STRONG_INLINE void packetwise(Scalar* data, Eigen::Index n, F f) {
  packetwiseAs<typename ei::packet_traits<Scalar>::type, N>(data, n, f);
}

}  // namespace packet_activation

/// Applies `kind` in place to the n contiguous elements at data (one row of one gate; softmax and
/// logSoftmax normalise over these n). Equal to `Activation(kind).apply` on a 1×n block, except
/// the lanes where Eigen evaluates tanh/sigmoid with scalar code (std::exp; double tanh: the
/// scalar form of the same algorithm) before the first aligned packet or after the last whole one:
/// there activate's packet exp may differ by an ulp or two.
///
/// `N`: the count at compile time when the caller knows it (fixed-size cells: the loops unroll;
/// the same operations in the same order, so the same results), else `Eigen::Dynamic`.
template <int N = Eigen::Dynamic, class Scalar>
inline void activate(ActivationKind kind, Scalar* data, Eigen::Index n) {
  namespace pa = packet_activation;
  namespace ei = Eigen::internal;
  if (n <= 0) return;
  // The same packet operations, in the same order, as Eigen's evaluation of the policies'
  // expressions (e.g. (0.2·x + 0.5).max(0).min(1) is pmin(pmax(padd(pmul(0.2, x), 0.5), 0), 1)).
  // The lambdas are generic: the tail may use smaller packet types.
  switch (kind) {
    case ActivationKind::Linear:
      return;
    case ActivationKind::Tanh:
      return pa::packetwise<N>(data, n, [](const auto& x) { return ptanhActivation(x); });
    case ActivationKind::Sigmoid:
      return pa::packetwise<N>(data, n, [](const auto& x) { return psigmoidActivation(x); });
    case ActivationKind::HardSigmoid:
      return pa::packetwise<N>(data, n, [](const auto& x) {
        using P = std::decay_t<decltype(x)>;
        const P y = ei::padd(ei::pmul(ei::pset1<P>(Scalar(0.2)), x), ei::pset1<P>(Scalar(0.5)));
        return ei::pmin(ei::pmax(y, ei::pset1<P>(Scalar(0))), ei::pset1<P>(Scalar(1)));
      });
    case ActivationKind::HardSigmoidKeras3:
      return pa::packetwise<N>(data, n, [](const auto& x) {
        using P = std::decay_t<decltype(x)>;
        const P y = ei::padd(ei::pdiv(x, ei::pset1<P>(Scalar(6))), ei::pset1<P>(Scalar(0.5)));
        return ei::pmin(ei::pmax(y, ei::pset1<P>(Scalar(0))), ei::pset1<P>(Scalar(1)));
      });
    case ActivationKind::Relu:
      return pa::packetwise<N>(data, n, [](const auto& x) {
        using P = std::decay_t<decltype(x)>;
        return ei::pmax(x, ei::pset1<P>(Scalar(0)));
      });
    case ActivationKind::Relu6:
      return pa::packetwise<N>(data, n, [](const auto& x) {
        using P = std::decay_t<decltype(x)>;
        return ei::pmin(ei::pmax(x, ei::pset1<P>(Scalar(0))), ei::pset1<P>(Scalar(6)));
      });
    default: {
      Eigen::Map<Eigen::Matrix<Scalar, 1, Eigen::Dynamic>> row(data, n);
      Activation(kind).apply(row);
      return;
    }
  }
}

}  // namespace recurrent::detail

namespace Eigen::internal {
template <class Scalar>
struct functor_traits<recurrent::detail::TanhActivationOp<Scalar>> {
  enum {
    Cost = 10 * NumTraits<Scalar>::AddCost + 10 * NumTraits<Scalar>::MulCost +
           2 * scalar_div_cost<Scalar, packet_traits<Scalar>::HasDiv>::value +
           functor_traits<scalar_exp_op<Scalar>>::Cost,
    // Vector lanes only where ptanhActivation has a packet path (else it works lane by lane).
    PacketAccess = packet_traits<Scalar>::size > 1 &&
                   (std::is_same<Scalar, double>::value
                        ? recurrent::detail::packet_activation::kHasTanhDoublePrimitives<Scalar>
                        : bool(packet_traits<Scalar>::HasTanh))
  };
};
}  // namespace Eigen::internal

#endif  // RECURRENT_DETAIL_ACTIVATE_HPP
