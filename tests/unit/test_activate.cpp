// detail::activate (packet activations over contiguous runs) vs the activation policies, and the
// accuracy of the vectorised double tanh / sigmoid vs std::tanh / std::exp.
#include "support/catch.hpp"
#include "support/random_data.hpp"
#include <recurrent/activations.hpp>
#include <recurrent/detail/activate.hpp>
#include <recurrent/types.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace {

using recurrent::Activation;
using recurrent::ActivationKind;
using recurrent::Index;
namespace detail = recurrent::detail;

const std::vector<Index> kSizes = {1, 3, 7, 8, 15, 16, 17, 64, 100};

std::vector<ActivationKind> allKinds() {
  std::vector<ActivationKind> kinds;
  for (std::size_t i = 0; i < Activation::kCount; ++i)
    kinds.push_back(static_cast<ActivationKind>(i));
  return kinds;
}

bool isPacketKind(ActivationKind k) {
  switch (k) {
    case ActivationKind::Tanh:
    case ActivationKind::Sigmoid:
    case ActivationKind::HardSigmoid:
    case ActivationKind::HardSigmoidKeras3:
    case ActivationKind::Relu:
    case ActivationKind::Relu6:
    case ActivationKind::Linear:
      return true;
    default:
      return false;
  }
}

/// Position of x on the number line of its type, in ulps (the distance of two values is the
/// difference of their keys; +0 and -0 share key 0).
std::int64_t ulpKey(double x) {
  std::int64_t i = 0;
  std::memcpy(&i, &x, sizeof i);
  return i < 0 ? -(i & std::numeric_limits<std::int64_t>::max()) : i;
}
std::int64_t ulpKey(float x) {
  std::int32_t i = 0;
  std::memcpy(&i, &x, sizeof i);
  return i < 0 ? -static_cast<std::int64_t>(i & std::numeric_limits<std::int32_t>::max()) : i;
}
template <class S>
std::int64_t ulpDistance(S a, S b) {
  const std::int64_t d = ulpKey(a) - ulpKey(b);
  return d < 0 ? -d : d;
}

std::uint64_t bits(double x) {
  std::uint64_t u = 0;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
std::uint32_t bits(float x) {
  std::uint32_t u = 0;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
/// Bitwise equal (tells -0 from +0).
template <class S>
bool sameBits(S a, S b) {
  return bits(a) == bits(b);
}

/// Inputs in [-10, 10) (softplus thresholds, hard-sigmoid and relu6 saturation), with ±0 mixed in.
template <class S>
std::vector<S> inputs(Index n, std::uint64_t seed) {
  recurrent_test::Lcg g(seed);
  std::vector<S> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = static_cast<S>(10.0 * g.next());
  if (n > 2) v[1] = S(0);
  if (n > 5) v[5] = -S(0);
  return v;
}

/// The policy on a 1×n map of data (what the layers computed per gate row before activate).
template <class S>
void policyOnBlock(ActivationKind k, S* data, Index n) {
  Eigen::Map<Eigen::Matrix<S, 1, Eigen::Dynamic>> row(data, n);
  Activation(k).apply(row);
}

/// The policy on a copy padded to whole packets in aligned storage: Eigen then evaluates every
/// element with packet operations (no scalar head or tail), as activate does.
template <class S>
std::vector<S> policyAllPackets(ActivationKind k, const std::vector<S>& in) {
  constexpr Index kP = Eigen::internal::packet_traits<S>::size;
  const Index n = static_cast<Index>(in.size());
  Eigen::Matrix<S, 1, Eigen::Dynamic> padded =
      Eigen::Matrix<S, 1, Eigen::Dynamic>::Zero((n + kP - 1) / kP * kP);
  for (Index i = 0; i < n; ++i) padded(i) = in[static_cast<std::size_t>(i)];
  Activation(k).apply(padded);
  return std::vector<S>(padded.data(), padded.data() + n);
}

double refTanh(double x) { return std::tanh(x); }
double refSigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// Within 4 ulp, or 1e-15 relative.
bool closeDouble(double got, double want) {
  if (std::isnan(want)) return std::isnan(got);
  return ulpDistance(got, want) <= 4 || std::fabs(got - want) <= 1e-15 * std::fabs(want);
}

}  // namespace

TEMPLATE_TEST_CASE("activate equals the activation policies on a contiguous row", "[activations]",
                   float, double) {
  using S = TestType;
  constexpr bool kFloat = std::is_same<S, float>::value;
  for (const ActivationKind k : allKinds()) {
    for (const Index n : kSizes) {
      // offset 1: a row that does not start on a packet boundary.
      for (const Index offset : {Index(0), Index(1)}) {
        INFO("activation " << Activation(k).name() << ", n = " << n << ", offset " << offset);
        const std::vector<S> in = inputs<S>(n, 1000 + static_cast<std::uint64_t>(n));
        // Eigen's evaluation of a policy depends on the address alignment (scalar lanes before
        // the first aligned packet, reduction order): both runs use the same alignment.
        const S sentinel = S(12345);
        Eigen::Matrix<S, 1, Eigen::Dynamic> gotBuf =
            Eigen::Matrix<S, 1, Eigen::Dynamic>::Constant(n + offset + 1, sentinel);
        Eigen::Matrix<S, 1, Eigen::Dynamic> wantBuf = gotBuf;
        S* const got = gotBuf.data() + offset;
        S* const want = wantBuf.data() + offset;
        std::copy(in.begin(), in.end(), got);
        std::copy(in.begin(), in.end(), want);

        detail::activate(k, got, n);
        policyOnBlock(k, want, n);
        const std::vector<S> packetWant = policyAllPackets(k, in);

        CHECK(gotBuf(offset + n) == sentinel);
        if (offset == 1) CHECK(gotBuf(0) == sentinel);
        for (Index i = 0; i < n; ++i) {
          const S g = got[i];
          const S w = want[i];
          const S pw = packetWant[static_cast<std::size_t>(i)];
          INFO("x = " << in[static_cast<std::size_t>(i)] << ", got " << g << ", policy " << w);
          if (!isPacketKind(k)) {
            // Fallback: the policy itself.
            CHECK(sameBits(g, w));
          } else if (k == ActivationKind::Sigmoid || (!kFloat && k == ActivationKind::Tanh)) {
            // Bitwise the policy's packet lanes (the same vector code). The policy evaluates the
            // lanes before the first aligned packet and after the last whole one with scalar
            // code (std::exp; double tanh: the scalar form of the same algorithm), which
            // differs from the vector exp by an ulp or two.
            CHECK(sameBits(g, pw));
            if (kFloat) {
              CHECK(ulpDistance(g, w) <= 4);
            } else {
              CHECK(closeDouble(static_cast<double>(g), static_cast<double>(w)));
            }
          } else {
            // float tanh (Eigen's scalar and vector tanh agree bitwise), hard sigmoids, relus,
            // linear.
            CHECK(sameBits(g, w));
            CHECK(sameBits(g, pw));
          }
        }
      }
    }
  }
}

TEMPLATE_TEST_CASE("activate handles infinities, zeros and NaN like the policies", "[activations]",
                   float, double) {
  using S = TestType;
  const S inf = std::numeric_limits<S>::infinity();
  const S nan = std::numeric_limits<S>::quiet_NaN();
  const std::vector<S> in = {S(0), -S(0),   inf,    -inf,     S(100),    S(-100), S(6),
                             S(7), S(-2.5), S(2.5), S(1e-30), S(-1e-30), S(0.5),  S(-0.5)};
  for (const ActivationKind k :
       {ActivationKind::Tanh, ActivationKind::Sigmoid, ActivationKind::HardSigmoid,
        ActivationKind::HardSigmoidKeras3, ActivationKind::Relu, ActivationKind::Relu6,
        ActivationKind::Linear}) {
    INFO("activation " << Activation(k).name());
    std::vector<S> got = in;
    detail::activate(k, got.data(), static_cast<Index>(got.size()));
    const std::vector<S> want = policyAllPackets(k, in);
    for (std::size_t i = 0; i < in.size(); ++i) {
      INFO("x = " << in[i] << ", got " << got[i] << ", policy " << want[i]);
      CHECK(!std::isnan(got[i]));
      if (std::is_same<S, float>::value) {
        CHECK(sameBits(got[i], want[i]));
      } else {
        CHECK(closeDouble(static_cast<double>(got[i]), static_cast<double>(want[i])));
      }
    }
  }
  // NaN propagates through tanh and sigmoid (double: our own tanh; both: Eigen's exp).
  for (const ActivationKind k : {ActivationKind::Tanh, ActivationKind::Sigmoid}) {
    if (std::is_same<S, float>::value && k == ActivationKind::Tanh) continue;  // Eigen's, as is
    std::vector<S> v(19, S(0.25));
    v[3] = nan;
    v[17] = -nan;
    detail::activate(k, v.data(), static_cast<Index>(v.size()));
    INFO("activation " << Activation(k).name());
    CHECK(std::isnan(v[3]));
    CHECK(std::isnan(v[17]));
    CHECK(!std::isnan(v[0]));
  }
}

TEST_CASE("double tanh and sigmoid are within a few ulp of std::tanh and std::exp",
          "[activations]") {
  // Dense sweep of [-40, 40] (step 2^-12), finer over [-1, 1] (step 2^-16, covering the 0.625
  // switch of the tanh algorithm), and tiny magnitudes.
  std::vector<double> xs;
  for (double x = -40.0; x <= 40.0; x += 1.0 / 4096.0) xs.push_back(x);
  for (double x = -1.0; x <= 1.0; x += 1.0 / 65536.0) xs.push_back(x);
  for (double m = 1e-300; m < 1.0; m *= 7.3) {
    xs.push_back(m);
    xs.push_back(-m);
  }
  for (const double x : {1e-10, -1e-10, 0.625, -0.625, std::nextafter(0.625, 0.0),
                         std::nextafter(-0.625, 0.0), 18.0, 19.0, 22.0, 23.0, 354.0, 710.0})
    xs.push_back(x);
  const Index n = static_cast<Index>(xs.size());

  std::vector<double> th = xs, sg = xs;
  detail::activate(ActivationKind::Tanh, th.data(), n);
  detail::activate(ActivationKind::Sigmoid, sg.data(), n);
  // The run-time path (activations::Tanh for double) on a strided column block.
  recurrent::Matrix<double> block(2, n + 3);
  block.setZero();
  for (Index i = 0; i < n; ++i) block(1, i + 2) = xs[static_cast<std::size_t>(i)];
  Activation(ActivationKind::Tanh).apply(block.middleCols(2, n));

  std::int64_t maxTanh = 0, maxSigmoid = 0, maxPolicyTanh = 0;
  double worstTanhX = 0.0, worstSigmoidX = 0.0;
  for (Index i = 0; i < n; ++i) {
    const std::size_t u = static_cast<std::size_t>(i);
    const double x = xs[u];
    INFO("x = " << x << ": tanh " << th[u] << " vs " << refTanh(x) << ", sigmoid " << sg[u]
                << " vs " << refSigmoid(x));
    CHECK(closeDouble(th[u], refTanh(x)));
    CHECK(closeDouble(sg[u], refSigmoid(x)));
    CHECK(closeDouble(block(1, i + 2), refTanh(x)));
    CHECK(std::signbit(th[u]) == std::signbit(x));
    if (ulpDistance(th[u], refTanh(x)) > maxTanh) {
      maxTanh = ulpDistance(th[u], refTanh(x));
      worstTanhX = x;
    }
    if (ulpDistance(sg[u], refSigmoid(x)) > maxSigmoid) {
      maxSigmoid = ulpDistance(sg[u], refSigmoid(x));
      worstSigmoidX = x;
    }
    maxPolicyTanh = std::max(maxPolicyTanh, ulpDistance(block(1, i + 2), refTanh(x)));
  }
  INFO("max ulp: tanh " << maxTanh << " (x = " << worstTanhX << "), sigmoid " << maxSigmoid
                        << " (x = " << worstSigmoidX << "), Tanh policy " << maxPolicyTanh);
  CHECK(maxTanh <= 4);  // 2 on x86 (SSE2 and AVX-512)
  // 4 on x86, reached near x = -36.9 where the sum 1 + exp(-x) adds nothing to Eigen's exp.
  CHECK(maxSigmoid <= 4);
  CHECK(maxPolicyTanh <= 4);
  CHECK(block.row(0).isZero());
  CHECK(block(1, 0) == 0.0);
  CHECK(block(1, 1) == 0.0);
  CHECK(block(1, n + 2) == 0.0);
}

TEST_CASE("double tanh and sigmoid at ±0, tiny, infinite and NaN inputs", "[activations]") {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> t = {0.0, -0.0, 1e-300, -1e-300, 1e-10, -1e-10,
                           inf, -inf, 1000.0, -1000.0, nan};
  std::vector<double> s = t;
  detail::activate(ActivationKind::Tanh, t.data(), static_cast<Index>(t.size()));
  detail::activate(ActivationKind::Sigmoid, s.data(), static_cast<Index>(s.size()));

  CHECK(t[0] == 0.0);
  CHECK(!std::signbit(t[0]));
  CHECK(t[1] == 0.0);
  CHECK(std::signbit(t[1]));
  CHECK(t[2] == 1e-300);
  CHECK(t[3] == -1e-300);
  CHECK(ulpDistance(t[4], std::tanh(1e-10)) <= 1);
  CHECK(ulpDistance(t[5], std::tanh(-1e-10)) <= 1);
  CHECK(t[6] == 1.0);
  CHECK(t[7] == -1.0);
  CHECK(t[8] == 1.0);
  CHECK(t[9] == -1.0);
  CHECK(std::isnan(t[10]));

  CHECK(s[0] == 0.5);
  CHECK(s[1] == 0.5);
  CHECK(s[2] == 0.5);
  CHECK(ulpDistance(s[4], refSigmoid(1e-10)) <= 2);
  CHECK(s[6] == 1.0);
  CHECK(s[7] == 0.0);
  CHECK(s[8] == 1.0);
  // Eigen's exp clamps its argument at 709.78: sigmoid(-1000) is a tiny positive number rather
  // than 0 (the policy computes the same), never NaN.
  CHECK(s[9] >= 0.0);
  CHECK(s[9] < 1e-300);
  CHECK(std::isnan(s[10]));

  // The packet functions themselves, on one-lane "packets" (plain scalars).
  CHECK(ulpDistance(detail::ptanhActivation(0.3), std::tanh(0.3)) <= 2);
  CHECK(ulpDistance(detail::ptanhActivation(-3.0), std::tanh(-3.0)) <= 2);
  CHECK(ulpDistance(detail::psigmoidActivation(0.3), refSigmoid(0.3)) <= 2);
  CHECK(std::isnan(detail::ptanhActivation(nan)));
}

TEMPLATE_TEST_CASE("packet functions equal activate lane by lane", "[activations]", float, double) {
  using S = TestType;
  using Packet = typename Eigen::internal::packet_traits<S>::type;
  constexpr Index kP = Eigen::internal::packet_traits<S>::size;
  const std::vector<S> in = inputs<S>(kP, 7);
  const Packet x = Eigen::internal::ploadu<Packet>(in.data());
  std::vector<S> t(static_cast<std::size_t>(kP)), s(static_cast<std::size_t>(kP));
  Eigen::internal::pstoreu(t.data(), detail::ptanhActivation(x));
  Eigen::internal::pstoreu(s.data(), detail::psigmoidActivation(x));
  std::vector<S> wantT = in, wantS = in;
  detail::activate(ActivationKind::Tanh, wantT.data(), kP);
  detail::activate(ActivationKind::Sigmoid, wantS.data(), kP);
  for (std::size_t i = 0; i < in.size(); ++i) {
    CHECK(sameBits(t[i], wantT[i]));
    CHECK(sameBits(s[i], wantS[i]));
  }
}

TEST_CASE("float Tanh policy is still Eigen's tanh", "[activations]") {
  recurrent::Matrix<float> m = recurrent_test::randomMatrix<float>(3, 37, 99) * 6.0f;
  recurrent::Matrix<float> want = m;
  recurrent::activations::Tanh::apply(m.middleCols(1, 35));
  want.middleCols(1, 35) = want.middleCols(1, 35).array().tanh().matrix();
  for (Index i = 0; i < m.size(); ++i) CHECK(sameBits(m.data()[i], want.data()[i]));
}
