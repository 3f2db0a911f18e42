// Dropout: masks observed through a SimpleRNN that passes x (or h) straight through.
#include "support/catch.hpp"
#include "support/random_data.hpp"
#include <recurrent/recurrent.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace {

using recurrent::Index;
using recurrent::Matrix;
using recurrent::Sequence;

// Values in [0.5, 1.5): never zero, so a zero output means "dropped".
template <class S>
Sequence<S> positiveSequence(Index b, Index t, Index f, std::uint64_t seed) {
  return recurrent_test::randomSequence<S>(b, t, f, seed, 0.5, 1.5);
}

// SimpleRNN, linear, W = I, U = 0, b = 0: output_t = x_t ⊙ inputMask.
template <class S>
recurrent::SimpleRNN<S> passThrough(Index units, double rate, std::optional<std::uint64_t> seed) {
  recurrent::SimpleRNNArgs a;
  a.units = units;
  a.inputDim = units;
  a.activation = recurrent::ActivationKind::Linear;
  a.kernelInitializer = recurrent::InitializerKind::Identity;
  a.recurrentInitializer = recurrent::InitializerKind::Zeros;
  a.dropout = rate;
  a.seed = seed;
  a.returnSequences = true;
  return recurrent::SimpleRNN<S>(a);
}

template <class S>
recurrent::CallArgs<S> training() {
  recurrent::CallArgs<S> c;
  c.training = true;
  return c;
}

}  // namespace

TEMPLATE_TEST_CASE("input dropout: output is x ⊙ mask, mask fixed over time", "[dropout]", float,
                   double) {
  using S = TestType;
  const Index B = 64, T = 3, U = 32;
  const double rate = GENERATE(0.5, 0.25);
  auto l = passThrough<S>(U, rate, 123);
  const auto x = positiveSequence<S>(B, T, U, 1);
  const auto r = l.call(x, training<S>());
  const S scale = static_cast<S>(1.0 / (1.0 - rate));
  Index kept = 0;
  for (Index b = 0; b < B; ++b)
    for (Index k = 0; k < U; ++k) {
      const bool keep0 = r.sequence(b, 0, k) != S(0);
      if (keep0) ++kept;
      for (Index t = 0; t < T; ++t) {
        const S got = r.sequence(b, t, k);
        // Same pattern at every step, kept values scaled by exactly 1/(1-rate).
        CHECK((got != S(0)) == keep0);
        if (keep0) CHECK(got == x(b, t, k) * scale);
      }
    }
  // Binomial(n, 1 - rate): 5 standard deviations.
  const double n = static_cast<double>(B * U), p = 1.0 - rate;
  const double sd = std::sqrt(n * p * (1.0 - p));
  CHECK(static_cast<double>(kept) > n * p - 5.0 * sd);
  CHECK(static_cast<double>(kept) < n * p + 5.0 * sd);
}

TEMPLATE_TEST_CASE("rates 1, 1.5, -0.2 and training=false are exact no-ops", "[dropout]", float,
                   double) {
  using S = TestType;
  const auto x = positiveSequence<S>(8, 3, 6, 2);
  for (double rate : {1.0, 1.5, -0.2}) {
    auto l = passThrough<S>(6, rate, 5);
    const auto r = l.call(x, training<S>());
    for (Index i = 0; i < x.size(); ++i) CHECK(r.sequence.data()[i] == x.data()[i]);
    CHECK_FALSE(l.cell().dropoutActive());
  }
  auto l = passThrough<S>(6, 0.5, 5);
  const auto r = l.call(x);  // training defaults to false
  for (Index i = 0; i < x.size(); ++i) CHECK(r.sequence.data()[i] == x.data()[i]);
  CHECK(l.cell().dropout() == 0.5);
  CHECK(passThrough<S>(6, 1.5, 5).cell().dropout() == 1.0);
  CHECK(passThrough<S>(6, -0.2, 5).cell().dropout() == 0.0);
}

TEST_CASE("seeded layers draw reproducible masks; successive calls draw new ones", "[dropout]") {
  const auto x = positiveSequence<float>(16, 2, 16, 3);
  auto a = passThrough<float>(16, 0.5, 77);
  auto b = passThrough<float>(16, 0.5, 77);
  auto c = passThrough<float>(16, 0.5, 78);
  const auto ra = a.call(x, training<float>());
  const auto rb = b.call(x, training<float>());
  const auto rc = c.call(x, training<float>());
  bool sameAB = true, sameAC = true;
  for (Index i = 0; i < x.size(); ++i) {
    sameAB = sameAB && ra.sequence.data()[i] == rb.sequence.data()[i];
    sameAC = sameAC && ra.sequence.data()[i] == rc.sequence.data()[i];
  }
  CHECK(sameAB);
  CHECK_FALSE(sameAC);
  const auto ra2 = a.call(x, training<float>());
  const auto rb2 = b.call(x, training<float>());
  bool sameNext = true, sameA12 = true;
  for (Index i = 0; i < x.size(); ++i) {
    sameNext = sameNext && ra2.sequence.data()[i] == rb2.sequence.data()[i];
    sameA12 = sameA12 && ra.sequence.data()[i] == ra2.sequence.data()[i];
  }
  CHECK(sameNext);
  CHECK_FALSE(sameA12);
}

TEMPLATE_TEST_CASE("recurrent dropout multiplies h by the same mask at every step", "[dropout]",
                   float, double) {
  using S = TestType;
  // Linear, W = 0, U = I: h_t = h_{t-1} ⊙ m, so h_t = h0 ⊙ m^(t+1).
  const Index B = 4, U = 8, T = 3;
  recurrent::SimpleRNNArgs a;
  a.units = U;
  a.activation = recurrent::ActivationKind::Linear;
  a.kernelInitializer = recurrent::InitializerKind::Zeros;
  a.recurrentInitializer = recurrent::InitializerKind::Identity;
  a.recurrentDropout = 0.5;
  a.seed = 9;
  a.returnSequences = true;
  recurrent::SimpleRNN<S> l(a);
  const auto x = positiveSequence<S>(B, T, 2, 4);
  Matrix<S> h0 = Matrix<S>::Constant(B, U, S(1));
  auto c = training<S>();
  c.initialState = {h0};
  const auto r = l.call(x, c);
  Index dropped = 0;
  for (Index b = 0; b < B; ++b)
    for (Index k = 0; k < U; ++k) {
      const S m = r.sequence(b, 0, k);
      CHECK((m == S(0) || m == S(2)));
      if (m == S(0)) ++dropped;
      CHECK(r.sequence(b, 1, k) == m * m);
      CHECK(r.sequence(b, 2, k) == m * m * m);
    }
  CHECK(dropped > 0);
  CHECK(dropped < B * U);
}

namespace {
template <class Layer, class Args, class S>
Matrix<S> runMasks(recurrent::DropoutMasks mode, const Sequence<S>& x) {
  Args a;
  a.units = 4;
  a.dropout = 0.5;
  a.recurrentDropout = 0.5;
  a.dropoutMasks = mode;
  a.seed = 31;
  a.kernelInitializer = recurrent::Initializer::glorotUniform(1);
  a.recurrentInitializer = recurrent::Initializer::orthogonal(1.0, 2);
  Layer l(a);
  const auto r = l.call(x, training<S>());
  const Index expectedCount =
      mode == recurrent::DropoutMasks::Shared ? 1 : Index{Layer::CellType::kGates};
  CHECK(l.cell().inputDropoutMask().count() == expectedCount);
  CHECK(l.cell().recurrentDropoutMask().count() == expectedCount);
  if (mode == recurrent::DropoutMasks::PerGate)
    CHECK(l.cell().inputDropoutMask()[0] != l.cell().inputDropoutMask()[1]);
  CHECK(r.lastOutput.allFinite());
  return r.lastOutput;
}
}  // namespace

TEMPLATE_TEST_CASE("DropoutMasks::PerGate and Shared both run and differ", "[dropout]", float,
                   double) {
  using S = TestType;
  using recurrent::DropoutMasks;
  const auto x = positiveSequence<S>(4, 5, 3, 5);
  using G = recurrent::GRU<S>;
  using L = recurrent::LSTM<S>;
  const auto gs = runMasks<G, recurrent::GRUArgs>(DropoutMasks::Shared, x);
  const auto gp = runMasks<G, recurrent::GRUArgs>(DropoutMasks::PerGate, x);
  CHECK(gs != gp);
  const auto ls = runMasks<L, recurrent::LSTMArgs>(DropoutMasks::Shared, x);
  const auto lp = runMasks<L, recurrent::LSTMArgs>(DropoutMasks::PerGate, x);
  CHECK(ls != lp);
}
