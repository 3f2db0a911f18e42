// StackedRNNCells: equivalence with chained layers, TF.js state order, compile-time vs run-time.
#include "support/catch.hpp"
#include "support/random_data.hpp"
#include <recurrent/recurrent.hpp>

#include <cstdint>
#include <vector>

namespace {

using recurrent_test::randomMatrix;
using recurrent_test::randomSequence;

using recurrent::FlatTensor;
using recurrent::Index;
using recurrent::Matrix;
using recurrent::Sequence;

recurrent::LSTMCellArgs lstmArgs() {
  recurrent::LSTMCellArgs a;
  a.units = 3;
  a.biasInitializer = recurrent::Initializer::glorotUniform(5);
  return a;
}
recurrent::GRUCellArgs gruArgs() {
  recurrent::GRUCellArgs a;
  a.units = 2;
  a.biasInitializer = recurrent::Initializer::glorotUniform(6);
  return a;
}

std::vector<FlatTensor<float>> values(const std::vector<recurrent::Weight<float>>& w,
                                      std::size_t from, std::size_t to) {
  std::vector<FlatTensor<float>> out;
  for (std::size_t i = from; i < to; ++i) out.push_back(w[i].value);
  return out;
}

double maxDiff(const Sequence<float>& a, const Sequence<float>& b) {
  REQUIRE(a.dimensions() == b.dimensions());
  double d = 0.0;
  for (Index i = 0; i < a.size(); ++i)
    d = std::max(d, std::abs(static_cast<double>(a.data()[i] - b.data()[i])));
  return d;
}

recurrent::RNNLayerArgs seqState() {
  recurrent::RNNLayerArgs a;
  a.returnSequences = true;
  a.returnState = true;
  return a;
}

}  // namespace

TEST_CASE("a stack of LSTM and GRU equals chaining two layers", "[stacked]") {
  using Stack = recurrent::StackedRNNCells<recurrent::LSTMCell<float>, recurrent::GRUCell<float>>;
  recurrent::RNN<Stack> stacked(
      Stack(recurrent::LSTMCell<float>(lstmArgs()), recurrent::GRUCell<float>(gruArgs())),
      seqState());
  stacked.build(4);
  CHECK(stacked.stateSize() == std::vector<Index>{2, 3, 3});
  CHECK(stacked.cell().stateSizePerCell() == std::vector<std::vector<Index>>{{3, 3}, {2}});
  CHECK(stacked.units() == 2);
  const auto w = stacked.getWeights();
  REQUIRE(w.size() == 6);
  CHECK(w[0].name == "RNNCell_0/kernel");
  CHECK(w[2].name == "RNNCell_0/bias");
  CHECK(w[3].name == "RNNCell_1/kernel");
  CHECK(w[3].value.shape == std::vector<Index>{3, 6});  // GRU input = LSTM units
  CHECK(w[5].name == "RNNCell_1/bias");

  recurrent::RNN<recurrent::LSTMCell<float>> first{recurrent::LSTMCell<float>(lstmArgs()),
                                                   seqState()};
  recurrent::RNN<recurrent::GRUCell<float>> second{recurrent::GRUCell<float>(gruArgs()),
                                                   seqState()};
  first.setWeights(values(w, 0, 3));
  second.setWeights(values(w, 3, 6));

  const auto x = randomSequence<float>(3, 6, 4, 1);
  SECTION("zero initial states") {
    const auto rs = stacked.call(x);
    const auto r1 = first.call(x);
    const auto r2 = second.call(r1.sequence);
    CHECK(maxDiff(rs.sequence, r2.sequence) <= 1e-6);
    REQUIRE(rs.states.size() == 3);
    CHECK(rs.states[0].isApprox(r2.states[0]));  // last cell first (TF.js order)
    CHECK(rs.states[1].isApprox(r1.states[0]));
    CHECK(rs.states[2].isApprox(r1.states[1]));
  }
  SECTION("initial states in reversed cell order") {
    const auto hg = randomMatrix<float>(3, 2, 2), hl = randomMatrix<float>(3, 3, 3),
               cl = randomMatrix<float>(3, 3, 4);
    recurrent::CallArgs<float> sa, a1, a2;
    sa.initialState = {hg, hl, cl};
    a1.initialState = {hl, cl};
    a2.initialState = {hg};
    const auto rs = stacked.call(x, sa);
    const auto r1 = first.call(x, a1);
    const auto r2 = second.call(r1.sequence, a2);
    CHECK(maxDiff(rs.sequence, r2.sequence) <= 1e-6);
    CHECK(rs.states[2].isApprox(r1.states[1]));
    // A wrong order (LSTM states first) is refused by shape.
    recurrent::CallArgs<float> bad;
    bad.initialState = {hl, cl, hg};
    CHECK_THROWS_AS(stacked.call(x, bad), recurrent::ShapeError);
  }
}

TEST_CASE("the run-time stack equals the compile-time stack with the same weights", "[stacked]") {
  using Stack = recurrent::StackedRNNCells<recurrent::LSTMCell<float>, recurrent::GRUCell<float>>;
  recurrent::RNN<Stack> ct(
      Stack(recurrent::LSTMCell<float>(lstmArgs()), recurrent::GRUCell<float>(gruArgs())),
      seqState());
  ct.build(4);
  using RtStack = recurrent::StackedRNNCells<std::vector<recurrent::AnyCell<float>>>;
  std::vector<recurrent::AnyCell<float>> cells;
  cells.emplace_back(recurrent::LSTMCell<float>(lstmArgs()));
  cells.emplace_back(recurrent::GRUCell<float>(gruArgs()));
  recurrent::RNN<RtStack> rt(RtStack(std::move(cells)), seqState());
  rt.build(4);
  CHECK(rt.stateSize() == std::vector<Index>{2, 3, 3});
  rt.setWeights(values(ct.getWeights(), 0, 6));
  const auto x = randomSequence<float>(2, 5, 4, 7);
  const auto a = ct.call(x);
  const auto b = rt.call(x);
  CHECK(maxDiff(a.sequence, b.sequence) == 0.0);
  for (std::size_t i = 0; i < 3; ++i) CHECK(a.states[i] == b.states[i]);
  CHECK(std::string(rt.cell().cell(1).className()) == "GRUCell");
  CHECK(rt.cell().cell(0).target<recurrent::LSTMCell<float>>() != nullptr);
  CHECK(rt.cell().cell(0).target<recurrent::GRUCell<float>>() == nullptr);

  CHECK_THROWS_AS(RtStack(std::vector<recurrent::AnyCell<float>>{}), recurrent::ConfigError);
  CHECK_THROWS_AS(rt.setWeights(values(ct.getWeights(), 0, 5)), recurrent::ValueError);
}
