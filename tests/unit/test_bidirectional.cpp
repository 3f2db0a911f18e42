// Bidirectional: merges vs a manual forward layer + backward layer; state order; errors.
#include "support/catch.hpp"
#include "support/random_data.hpp"
#include <recurrent/recurrent.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

using recurrent_test::Lcg;
using recurrent_test::randomMatrix;
using recurrent_test::randomSequence;

using recurrent::FlatTensor;
using recurrent::Index;
using recurrent::Matrix;
using recurrent::MergeMode;
using recurrent::Sequence;

std::vector<FlatTensor<double>> randomWeights(Index in, Index u, std::uint64_t seed) {
  Lcg g(seed);
  std::vector<FlatTensor<double>> out;
  for (std::vector<Index> shape :
       {std::vector<Index>{in, 4 * u}, std::vector<Index>{u, 4 * u}, std::vector<Index>{4 * u}}) {
    FlatTensor<double> t(shape, {});
    for (Index i = 0; i < t.size(); ++i) t.data.push_back(0.5 * g.next());
    out.push_back(t);
  }
  return out;
}

recurrent::LSTM<double> lstm(bool goBackwards) {
  recurrent::LSTMArgs a;
  a.units = 3;
  a.returnSequences = true;
  a.returnState = true;
  a.goBackwards = goBackwards;
  return recurrent::LSTM<double>(a);
}

double mergeOne(MergeMode m, double f, double b) {
  switch (m) {
    case MergeMode::Sum:
      return f + b;
    case MergeMode::Mul:
      return f * b;
    case MergeMode::Ave:
      return 0.5 * (f + b);
    default:
      return 0.0;
  }
}

}  // namespace

TEST_CASE("Bidirectional merges equal merges of manual forward and backward layers",
          "[bidirectional]") {
  const Index B = 2, T = 5, F = 4, U = 3;
  const auto wf = randomWeights(F, U, 1), wb = randomWeights(F, U, 2);
  auto fw = lstm(false), bw = lstm(true);
  fw.setWeights(wf);
  bw.setWeights(wb);
  const auto x = randomSequence<double>(B, T, F, 3);
  const auto h0 = randomMatrix<double>(B, U, 4), c0 = randomMatrix<double>(B, U, 5),
             h1 = randomMatrix<double>(B, U, 6), c1 = randomMatrix<double>(B, U, 7);
  const bool withInitial = GENERATE(false, true);
  recurrent::CallArgs<double> fa, ba, all;
  if (withInitial) {
    fa.initialState = {h0, c0};
    ba.initialState = {h1, c1};
    all.initialState = {h0, c0, h1, c1};
  }
  const auto rf = fw.call(x, fa);
  const auto rb = bw.call(x, ba);

  std::vector<FlatTensor<double>> both = wf;
  both.insert(both.end(), wb.begin(), wb.end());
  for (MergeMode mode :
       {MergeMode::Concat, MergeMode::Sum, MergeMode::Mul, MergeMode::Ave, MergeMode::None}) {
    INFO("merge mode " << static_cast<int>(mode) << ", initial state " << withInitial);
    recurrent::BidirectionalArgs ba2;
    ba2.mergeMode = mode;
    recurrent::Bidirectional<recurrent::LSTM<double>> bi(lstm(false), ba2);
    CHECK(bi.backwardLayer().goBackwards());
    bi.setWeights(both);
    const auto r = bi.call(x, all);
    const Index width = mode == MergeMode::Concat ? 2 * U : U;
    REQUIRE(r.sequence.dimension(2) == width);
    for (Index b = 0; b < B; ++b)
      for (Index t = 0; t < T; ++t)
        for (Index k = 0; k < U; ++k) {
          const double f = rf.sequence(b, t, k);
          const double g = rb.sequence(b, T - 1 - t, k);  // reversed back into input order
          if (mode == MergeMode::Concat) {
            CHECK(r.sequence(b, t, k) == recurrent_test::Approx(f).epsilon(1e-12));
            CHECK(r.sequence(b, t, U + k) == recurrent_test::Approx(g).epsilon(1e-12));
          } else if (mode == MergeMode::None) {
            CHECK(r.sequence(b, t, k) == recurrent_test::Approx(f).epsilon(1e-12));
            CHECK(r.backwardSequence(b, t, k) == recurrent_test::Approx(g).epsilon(1e-12));
          } else {
            CHECK(r.sequence(b, t, k) ==
                  recurrent_test::Approx(mergeOne(mode, f, g)).epsilon(1e-12));
          }
        }
    for (Index b = 0; b < B; ++b)
      for (Index k = 0; k < U; ++k) {
        const double f = rf.lastOutput(b, k), g = rb.lastOutput(b, k);
        if (mode == MergeMode::Concat) {
          CHECK(r.lastOutput(b, k) == recurrent_test::Approx(f).epsilon(1e-12));
          CHECK(r.lastOutput(b, U + k) == recurrent_test::Approx(g).epsilon(1e-12));
        } else if (mode == MergeMode::None) {
          CHECK(r.lastOutput(b, k) == recurrent_test::Approx(f).epsilon(1e-12));
          CHECK(r.backwardLastOutput(b, k) == recurrent_test::Approx(g).epsilon(1e-12));
        } else {
          CHECK(r.lastOutput(b, k) == recurrent_test::Approx(mergeOne(mode, f, g)).epsilon(1e-12));
        }
      }
    // returnState: forward states, then backward states.
    REQUIRE(r.states.size() == 4);
    CHECK(r.states[0].isApprox(rf.states[0]));
    CHECK(r.states[1].isApprox(rf.states[1]));
    CHECK(r.states[2].isApprox(rb.states[0]));
    CHECK(r.states[3].isApprox(rb.states[1]));
  }
}

TEST_CASE("Bidirectional weights, shapes and errors", "[bidirectional]") {
  recurrent::Bidirectional<recurrent::LSTM<double>> bi(lstm(false));
  bi.build(4);
  const auto w = bi.getWeights();
  REQUIRE(w.size() == 6);
  CHECK_THAT(w[0].name, recurrent_test::ContainsSubstring("forward_"));
  CHECK_THAT(w[3].name, recurrent_test::ContainsSubstring("backward_"));
  using V = std::vector<std::vector<Index>>;
  CHECK(bi.computeOutputShape({2, 5, 4}) == V{{2, 5, 6}, {2, 3}, {2, 3}, {2, 3}, {2, 3}});

  const auto x = randomSequence<double>(2, 5, 4, 8);
  const auto h = randomMatrix<double>(2, 3, 9);
  recurrent::CallArgs<double> odd;
  odd.initialState = {h, h, h};
  CHECK_THROWS_AS(bi.call(x, odd), recurrent::ValueError);
  CHECK_THROWS_AS(bi.setWeights({w[0].value}), recurrent::ValueError);
}

TEST_CASE("mergeModeFromName", "[bidirectional]") {
  CHECK(recurrent::mergeModeFromName(std::string("concat")) == MergeMode::Concat);
  CHECK(recurrent::mergeModeFromName(std::string("sum")) == MergeMode::Sum);
  CHECK(recurrent::mergeModeFromName(std::string("mul")) == MergeMode::Mul);
  CHECK(recurrent::mergeModeFromName(std::string("ave")) == MergeMode::Ave);
  CHECK(recurrent::mergeModeFromName(std::nullopt) == MergeMode::None);
  CHECK_THROWS_AS(recurrent::mergeModeFromName(std::string("max")), recurrent::ConfigError);
}
