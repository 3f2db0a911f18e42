// The fast paths of issue "speed": the packed GEMM against a naive product, streaming `step`
// against `call`, helper threads against one thread (bitwise), and their errors.
#include "support/catch.hpp"
#include "support/random_data.hpp"
#include <recurrent/recurrent.hpp>

#include <cmath>
#include <vector>

namespace {

using recurrent::Index;
using recurrent::Matrix;
using recurrent::Sequence;
using recurrent_test::randomMatrix;
using recurrent_test::randomSequence;

template <class S>
Matrix<S> naiveProduct(const Matrix<S>& a, const Matrix<S>& b) {
  Matrix<S> c = Matrix<S>::Zero(a.rows(), b.cols());
  for (Index i = 0; i < a.rows(); ++i)
    for (Index j = 0; j < b.cols(); ++j) {
      long double sum = 0;
      for (Index k = 0; k < a.cols(); ++k)
        sum += static_cast<long double>(a(i, k)) * static_cast<long double>(b(k, j));
      c(i, j) = static_cast<S>(sum);
    }
  return c;
}

template <class Args>
Args withSizes(Args a, Index units, bool sigmoid) {
  a.units = units;
  a.kernelInitializer = recurrent::Initializer::glorotUniform(21);
  a.recurrentInitializer = recurrent::Initializer::glorotUniform(22);
  a.biasInitializer = recurrent::Initializer::glorotUniform(23);
  if constexpr (!std::is_same_v<Args, recurrent::SimpleRNNArgs>) {
    if (sigmoid) a.recurrentActivation = recurrent::ActivationKind::Sigmoid;
  }
  (void)sigmoid;
  return a;
}

template <class A, class B>
double maxAbsDiff(const A& a, const B& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (Index i = 0; i < a.size(); ++i)
    d = std::max(d, std::abs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i])));
  return d;
}

/// step() on each time step of x equals one stateful call over x (output and final states); the
/// streamed layer may have compile-time sizes where the called one has run-time sizes.
template <class Layer, class Whole = Layer, class Args>
void checkStepEqualsCall(Args args, Index batch, Index time, Index features) {
  using S = typename Layer::Scalar;
  args.stateful = true;
  args.returnSequences = true;
  Whole whole(args);
  Layer streamed(args);
  const Sequence<S> x = randomSequence<S>(batch, time, features, 31);
  whole.build(features);
  streamed.setWeights([&] {
    std::vector<recurrent::FlatTensor<S>> w;
    for (const auto& n : whole.getWeights()) w.push_back(n.value);
    return w;
  }());
  const auto expected = whole.call(x);
  Matrix<S> xt(batch, features);
  for (Index t = 0; t < time; ++t) {
    for (Index b = 0; b < batch; ++b)
      for (Index f = 0; f < features; ++f) xt(b, f) = x(b, t, f);
    const auto y = streamed.step(xt);
    for (Index b = 0; b < batch; ++b)
      for (Index u = 0; u < y.cols(); ++u) CHECK(y(b, u) == expected.sequence(b, t, u));
  }
  const auto states = streamed.getStates();
  REQUIRE(states.size() == expected.states.size());
  for (std::size_t i = 0; i < states.size(); ++i)
    CHECK(maxAbsDiff(states[i], expected.states[i]) == 0);
}

/// A layer with threads = 2 gives bitwise the results of threads = 1.
template <class Layer, class Args>
void checkThreadsBitwise(Args args, Index batch, Index time, Index features) {
  using S = typename Layer::Scalar;
  args.returnSequences = true;
  args.inputDim = features;
  Layer one(args);
  args.threads = 2;
  Layer two(args);
  std::vector<recurrent::FlatTensor<S>> w;
  for (const auto& n : one.getWeights()) w.push_back(n.value);
  two.setWeights(w);
  const Sequence<S> x = randomSequence<S>(batch, time, features, 41);
  const auto a = one.call(x);
  for (int repeat = 0; repeat < 3; ++repeat) {
    const auto b = two.call(x);
    CHECK(maxAbsDiff(a.sequence, b.sequence) == 0);
    CHECK(maxAbsDiff(a.states.back(), b.states.back()) == 0);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("packedGemm equals the naive product for ragged shapes", "[speed][gemm]", float,
                   double) {
  using S = TestType;
  for (Index m : {1, 2, 3, 5, 6, 7, 13, 20})
    for (Index k : {1, 2, 9, 33})
      for (Index n : {1, 5, 8, 17, 32, 40, 65, 130}) {
        const Matrix<S> a = randomMatrix<S>(m, k, 1), b = randomMatrix<S>(k, n, 2);
        const Matrix<S> add = randomMatrix<S>(m, n, 3);
        recurrent::detail::PackedMatrix<S> packed;
        packed.pack(b);
        REQUIRE(packed.rows() == k);
        REQUIRE(packed.cols() == n);
        const Matrix<S> ref = naiveProduct(a, b);
        const double tol = (std::is_same_v<S, float> ? 1e-5 : 1e-13) * static_cast<double>(k);
        INFO("m " << m << " k " << k << " n " << n);
        Matrix<S> c = Matrix<S>::Constant(m, n, S(7));
        recurrent::detail::packedGemm<S>(m, a.data(), k, packed, nullptr, 0, c.data(), n);
        CHECK(maxAbsDiff(c, ref) <= tol);
        recurrent::detail::packedGemm<S>(m, a.data(), k, packed, add.data(), n, c.data(), n);
        CHECK(maxAbsDiff(c, Matrix<S>(ref + add)) <= tol);
        // a bias row (ldadd = 0), in place over a wider C with a row stride
        Matrix<S> wide = Matrix<S>::Constant(m, n + 3, S(-1));
        recurrent::detail::packedGemm<S>(m, a.data(), k, packed, add.data(), 0, wide.data(), n + 3);
        Matrix<S> expected = ref;
        expected.rowwise() += add.row(0);
        CHECK(maxAbsDiff(Matrix<S>(wide.leftCols(n)), expected) <= tol);
        CHECK((wide.rightCols(3).array() == S(-1)).all());  // nothing written past column n
        // a panel range computes exactly those columns
        if (packed.panels() >= 2) {
          Matrix<S> part = Matrix<S>::Zero(m, n);
          recurrent::detail::packedGemm<S>(m, a.data(), k, packed, nullptr, 0, part.data(), n, 1,
                                           packed.panels());
          const Index c0 = recurrent::detail::PackedMatrix<S>::kNr;
          CHECK((part.leftCols(c0).array() == S(0)).all());
          CHECK(maxAbsDiff(Matrix<S>(part.rightCols(n - c0)), Matrix<S>(ref.rightCols(n - c0))) <=
                tol);
        }
      }
}

TEMPLATE_TEST_CASE("packedGemm's many-row blocking is bitwise the row-at-a-time product",
                   "[speed][gemm]", float, double) {
  // Enough rows for several L2 row blocks (256 KiB of A each), an odd panel count with a ragged
  // last panel (the prefetch of the next group wraps to the next block), and panel ranges as two
  // threads split them: every element must be the same multiply-adds as with one row at a time.
  using S = TestType;
  const Index m = 250, k = 300, n = 200;
  const Matrix<S> a = randomMatrix<S>(m, k, 4), b = randomMatrix<S>(k, n, 5);
  const Matrix<S> add = randomMatrix<S>(m, n, 6);
  recurrent::detail::PackedMatrix<S> packed;
  packed.pack(b);
  Matrix<S> rowwise(m, n);
  for (Index i = 0; i < m; ++i)
    recurrent::detail::packedGemm<S>(1, a.row(i).data(), k, packed, add.row(i).data(), n,
                                     rowwise.row(i).data(), n);
  Matrix<S> whole = Matrix<S>::Zero(m, n);
  recurrent::detail::packedGemm<S>(m, a.data(), k, packed, add.data(), n, whole.data(), n);
  CHECK((whole.array() == rowwise.array()).all());
  Matrix<S> split = Matrix<S>::Zero(m, n);
  const Index half = packed.panels() / 2;
  recurrent::detail::packedGemm<S>(m, a.data(), k, packed, add.data(), n, split.data(), n, 0, half);
  recurrent::detail::packedGemm<S>(m, a.data(), k, packed, add.data(), n, split.data(), n, half,
                                   packed.panels());
  CHECK((split.array() == rowwise.array()).all());
  Matrix<S> inPlace = add;  // add == c
  recurrent::detail::packedGemm<S>(m, a.data(), k, packed, inPlace.data(), n, inPlace.data(), n);
  CHECK((inPlace.array() == rowwise.array()).all());
}

TEMPLATE_TEST_CASE("step() streams exactly what a stateful call computes", "[speed][stream]", float,
                   double) {
  using S = TestType;
  for (Index units : {1, 8, 13, 40}) {
    for (bool sigmoid : {false, true}) {
      INFO("units " << units << " sigmoid " << sigmoid);
      checkStepEqualsCall<recurrent::LSTM<S>>(withSizes(recurrent::LSTMArgs{}, units, sigmoid), 3,
                                              5, 2);
      checkStepEqualsCall<recurrent::GRU<S>>(withSizes(recurrent::GRUArgs{}, units, sigmoid), 1, 6,
                                             1);
      recurrent::GRUArgs ra = withSizes(recurrent::GRUArgs{}, units, sigmoid);
      ra.resetAfter = true;
      checkStepEqualsCall<recurrent::GRU<S>>(ra, 2, 4, 3);
      checkStepEqualsCall<recurrent::SimpleRNN<S>>(
          withSizes(recurrent::SimpleRNNArgs{}, units, sigmoid), 2, 5, 4);
    }
  }
  checkStepEqualsCall<recurrent::LSTM<S, 8, 1>>(withSizes(recurrent::LSTMArgs{}, 8, true), 1, 7, 1);
}

/// Every cell with compile-time sizes U, I streams (one-row product of detail/gemv.hpp, batch 1;
/// the general path, batch 2) bitwise what the run-time-size layer computes in one call.
template <class S, int U, int I>
void checkFixedStreams() {
  for (bool sigmoid : {false, true}) {
    for (Index batch : {1, 2}) {
      INFO("units " << U << " input " << I << " sigmoid " << sigmoid << " batch " << batch);
      using recurrent::GRU;
      using recurrent::LSTM;
      using recurrent::SimpleRNN;
      checkStepEqualsCall<LSTM<S, U, I>, LSTM<S>>(withSizes(recurrent::LSTMArgs{}, U, sigmoid),
                                                  batch, 6, I);
      checkStepEqualsCall<GRU<S, U, I>, GRU<S>>(withSizes(recurrent::GRUArgs{}, U, sigmoid), batch,
                                                6, I);
      recurrent::GRUArgs ra = withSizes(recurrent::GRUArgs{}, U, sigmoid);
      ra.resetAfter = true;
      checkStepEqualsCall<GRU<S, U, I>, GRU<S>>(ra, batch, 6, I);
      checkStepEqualsCall<SimpleRNN<S, U, I>, SimpleRNN<S>>(
          withSizes(recurrent::SimpleRNNArgs{}, U, sigmoid), batch, 6, I);
    }
  }
}

TEMPLATE_TEST_CASE("compile-time sizes stream bitwise what run-time sizes compute",
                   "[speed][stream][fixed]", float, double) {
  // Ragged widths on purpose: 3·5 = 15 and 3·8 = 24 gate columns end in a partial packet.
  checkFixedStreams<TestType, 5, 3>();
  checkFixedStreams<TestType, 8, 1>();
  checkFixedStreams<TestType, 12, 16>();
}

TEST_CASE("step() errors: not stateful, wrong features, batch change", "[speed][stream]") {
  recurrent::LSTMArgs a;
  a.units = 4;
  recurrent::LSTM<float> plain(a);
  const Matrix<float> x = randomMatrix<float>(2, 3, 5);
  CHECK_THROWS_AS(plain.step(x), recurrent::StateError);
  a.stateful = true;
  recurrent::LSTM<float> layer(a);
  layer.step(x);
  CHECK_THROWS_AS(layer.step(randomMatrix<float>(2, 4, 5)), recurrent::ShapeError);
  CHECK_THROWS_AS(layer.step(randomMatrix<float>(3, 3, 5)), recurrent::StateError);
  CHECK_THROWS_AS(layer.step(recurrent::MatrixView<float>()), recurrent::ShapeError);
  CHECK_THROWS_AS(layer.step(recurrent::MatrixView<float>(x.data(), 0, 3)), recurrent::ShapeError);
  CHECK_THROWS_WITH(layer.step(randomMatrix<float>(2, 4, 5)),
                    recurrent_test::ContainsSubstring("[batch, 3]"));
  layer.resetStates();
  const auto y = layer.step(x);
  CHECK(y.rows() == 2);
  CHECK(y.cols() == 4);
}

TEST_CASE("threads < 1 is a ConfigError naming the argument", "[speed][threads]") {
  recurrent::LSTMArgs a;
  a.units = 4;
  a.threads = 0;
  CHECK_THROWS_AS(recurrent::LSTM<float>(a), recurrent::ConfigError);
  CHECK_THROWS_WITH(recurrent::LSTM<float>(a), recurrent_test::ContainsSubstring("threads"));
}

TEMPLATE_TEST_CASE("two threads give bitwise the one-thread results", "[speed][threads]", float,
                   double) {
  using S = TestType;
  // Large enough that the products and the row epilogues really are split (see rnn_cell.hpp).
  checkThreadsBitwise<recurrent::LSTM<S>>(withSizes(recurrent::LSTMArgs{}, 96, true), 48, 4, 64);
  checkThreadsBitwise<recurrent::GRU<S>>(withSizes(recurrent::GRUArgs{}, 96, false), 48, 4, 64);
  recurrent::GRUArgs ra = withSizes(recurrent::GRUArgs{}, 96, true);
  ra.resetAfter = true;
  checkThreadsBitwise<recurrent::GRU<S>>(ra, 48, 4, 64);
  checkThreadsBitwise<recurrent::SimpleRNN<S>>(withSizes(recurrent::SimpleRNNArgs{}, 200, false),
                                               48, 4, 64);
  // a copied layer gets its own threads
  recurrent::LSTMArgs a = withSizes(recurrent::LSTMArgs{}, 96, true);
  a.threads = 2;
  a.inputDim = 64;
  recurrent::LSTM<S> original(a);
  recurrent::LSTM<S> copy = original;
  const Sequence<S> x = randomSequence<S>(48, 3, 64, 9);
  CHECK(maxAbsDiff(original.call(x).lastOutput, copy.call(x).lastOutput) == 0);
}

TEMPLATE_TEST_CASE("compile-time sizes of 128 and 512 units run for every cell", "[speed][fixed]",
                   float, double) {
  using S = TestType;
  const Sequence<S> x = randomSequence<S>(2, 3, 4, 3);
  recurrent::GRUArgs g = withSizes(recurrent::GRUArgs{}, 128, false);
  recurrent::GRU<S, 128, 4> gru(g);
  CHECK(gru.call(x).lastOutput.allFinite());
  recurrent::SimpleRNNArgs s = withSizes(recurrent::SimpleRNNArgs{}, 512, false);
  recurrent::SimpleRNN<S, 512, 4> simple(s);
  CHECK(simple.call(x).lastOutput.allFinite());
  recurrent::LSTMArgs l = withSizes(recurrent::LSTMArgs{}, 128, true);
  recurrent::LSTM<S, 128, 4> lstm(l);
  recurrent::LSTM<S> dynamic(l);
  lstm.build(4);
  std::vector<recurrent::FlatTensor<S>> w;
  for (const auto& n : lstm.getWeights()) w.push_back(n.value);
  dynamic.setWeights(w);
  CHECK(maxAbsDiff(lstm.call(x).lastOutput, dynamic.call(x).lastOutput) == 0);
}
