// RNN layer properties: direction, statefulness, masks, initial states, shapes, scalar types.
#include "support/catch.hpp"
#include "support/random_data.hpp"
#include <recurrent/recurrent.hpp>

#include <cstdint>
#include <vector>

namespace {

using recurrent_test::randomMatrix;
using recurrent_test::randomSequence;

using recurrent::Index;
using recurrent::Matrix;
using recurrent::Sequence;

template <class S>
Sequence<S> slice(const Sequence<S>& x, Index t0, Index len) {
  Sequence<S> out(x.dimension(0), len, x.dimension(2));
  for (Index b = 0; b < x.dimension(0); ++b)
    for (Index t = 0; t < len; ++t)
      for (Index f = 0; f < x.dimension(2); ++f) out(b, t, f) = x(b, t0 + t, f);
  return out;
}

template <class S>
Sequence<S> reverseTime(const Sequence<S>& x) {
  Sequence<S> out(x.dimension(0), x.dimension(1), x.dimension(2));
  const Index T = x.dimension(1);
  for (Index b = 0; b < x.dimension(0); ++b)
    for (Index t = 0; t < T; ++t)
      for (Index f = 0; f < x.dimension(2); ++f) out(b, t, f) = x(b, T - 1 - t, f);
  return out;
}

template <class S>
double maxDiff(const Sequence<S>& a, const Sequence<S>& b) {
  REQUIRE(a.dimensions() == b.dimensions());
  double d = 0.0;
  for (Index i = 0; i < a.size(); ++i)
    d = std::max(d, std::abs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i])));
  return d;
}

template <class A, class B>
double maxDiffM(const A& a, const B& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff();
}

template <class S>
recurrent::LSTM<S> makeLstm(Index units, Index inputDim, recurrent::RNNLayerOptions o = {}) {
  recurrent::LSTMArgs a;
  a.units = units;
  static_cast<recurrent::RNNLayerOptions&>(a) = o;
  a.inputDim = inputDim;
  a.biasInitializer = recurrent::Initializer::glorotUniform(11);  // non-zero biases
  a.kernelInitializer = recurrent::Initializer::glorotUniform(12);
  a.recurrentInitializer = recurrent::Initializer::orthogonal(1.0, 13);
  return recurrent::LSTM<S>(a);
}

recurrent::RNNLayerOptions opts(bool seq, bool state = false, bool back = false,
                                bool stateful = false) {
  recurrent::RNNLayerOptions o;
  o.returnSequences = seq;
  o.returnState = state;
  o.goBackwards = back;
  o.stateful = stateful;
  return o;
}

}  // namespace

TEMPLATE_TEST_CASE("goBackwards equals running forward on the time-reversed input", "[layer]",
                   float, double) {
  using S = TestType;
  auto bw = makeLstm<S>(4, 3, opts(true, true, true));
  auto fw = makeLstm<S>(4, 3, opts(true, true, false));
  const auto x = randomSequence<S>(2, 6, 3, 1);
  const auto rb = bw.call(x);
  const auto rf = fw.call(reverseTime(x));
  CHECK(rb.lastOutput == rf.lastOutput);
  CHECK(maxDiff(rb.sequence, rf.sequence) == 0.0);  // processing order
  CHECK(rb.states[1] == rf.states[1]);
  // And it is not the same as the forward pass on x (the check above is not vacuous).
  CHECK(maxDiffM(fw.call(x).lastOutput, rb.lastOutput) > 1e-4);
}

TEMPLATE_TEST_CASE("stateful: one call on T=8 equals two calls on T=4+4", "[layer][stateful]",
                   float, double) {
  using S = TestType;
  auto once = makeLstm<S>(3, 2, opts(true, true));
  auto twice = makeLstm<S>(3, 2, opts(true, true, false, true));
  const auto x = randomSequence<S>(3, 8, 2, 2);
  const auto r8 = once.call(x);
  const auto r1 = twice.call(slice(x, 0, 4));
  const auto r2 = twice.call(slice(x, 4, 4));
  const double tol = std::is_same_v<S, float> ? 1e-6 : 1e-14;
  CHECK(maxDiff(slice(r8.sequence, 0, 4), r1.sequence) <= tol);
  CHECK(maxDiff(slice(r8.sequence, 4, 4), r2.sequence) <= tol);
  CHECK(maxDiffM(r8.states[0], r2.states[0]) <= tol);
  CHECK(maxDiffM(r8.states[1], r2.states[1]) <= tol);
  const auto stored = twice.getStates();
  REQUIRE(stored.size() == 2);
  CHECK(stored[0] == r2.states[0]);
  CHECK(stored[1] == r2.states[1]);

  SECTION("resetStates() zeros the stored states") {
    twice.resetStates();
    for (const auto& s : twice.getStates()) CHECK(s.isZero(0.0));
    const auto again = twice.call(slice(x, 0, 4));
    CHECK(maxDiff(again.sequence, r1.sequence) == 0.0);
  }
  SECTION("resetStates(values) sets them") {
    const auto h = randomMatrix<S>(3, 3, 5), c = randomMatrix<S>(3, 3, 6);
    twice.resetStates({h, c});
    const auto st = twice.getStates();
    CHECK(st[0] == h);
    CHECK(st[1] == c);
    recurrent::CallArgs<S> a;
    a.initialState = {h, c};
    const auto viaInit = once.call(slice(x, 0, 4), a);
    const auto viaState = twice.call(slice(x, 0, 4));
    CHECK(maxDiffM(viaInit.lastOutput, viaState.lastOutput) <= tol);
  }
  SECTION("a batch size change throws StateError") {
    CHECK_THROWS_AS(twice.call(randomSequence<S>(2, 4, 2, 3)), recurrent::StateError);
    CHECK_THROWS_AS(twice.resetStates({randomMatrix<S>(2, 3, 1), randomMatrix<S>(2, 3, 2)}),
                    recurrent::ShapeError);
  }
}

TEST_CASE("resetStates on a non-stateful layer throws StateError", "[layer][stateful]") {
  auto l = makeLstm<float>(2, 2, opts(false));
  CHECK_THROWS_AS(l.resetStates(), recurrent::StateError);
  const Matrix<float> z = Matrix<float>::Zero(1, 2);
  CHECK_THROWS_AS(l.resetStates({z, z}), recurrent::StateError);
  CHECK(l.getStates().empty());
}

TEMPLATE_TEST_CASE("an all-ones mask equals no mask", "[layer][mask]", float, double) {
  using S = TestType;
  auto l = makeLstm<S>(3, 2, opts(true, true));
  const auto x = randomSequence<S>(2, 5, 2, 4);
  const Matrix<S> ones = Matrix<S>::Ones(2, 5);
  recurrent::CallArgs<S> a;
  a.mask = ones;
  const auto rm = l.call(x, a);
  const auto rn = l.call(x);
  CHECK(maxDiff(rm.sequence, rn.sequence) == 0.0);
  CHECK(rm.states[1] == rn.states[1]);
}

TEMPLATE_TEST_CASE("masked steps repeat the previous output and keep the states", "[layer][mask]",
                   float, double) {
  using S = TestType;
  const Index T = 6;
  auto l = makeLstm<S>(3, 2, opts(true, true));
  const auto x = randomSequence<S>(2, T, 2, 7);
  Matrix<S> mask(2, T);
  mask << 0, 1, 1, 0, 1, 0,  //
      1, 1, 0, 0, 1, 1;
  recurrent::CallArgs<S> a;
  a.mask = mask;
  const auto r = l.call(x, a);
  const double tol = std::is_same_v<S, float> ? 1e-6 : 1e-13;
  for (Index b = 0; b < 2; ++b) {
    // Reference: run the sample alone on its kept steps only.
    std::vector<Index> kept;
    for (Index t = 0; t < T; ++t)
      if (mask(b, t) != 0) kept.push_back(t);
    Sequence<S> xs(1, static_cast<Index>(kept.size()), 2);
    for (std::size_t k = 0; k < kept.size(); ++k)
      for (Index f = 0; f < 2; ++f) xs(0, static_cast<Index>(k), f) = x(b, kept[k], f);
    const auto ref = l.call(xs);
    Index k = -1;
    for (Index t = 0; t < T; ++t) {
      if (mask(b, t) != 0) ++k;
      for (Index j = 0; j < 3; ++j) {
        const double want = k < 0 ? 0.0 : static_cast<double>(ref.sequence(0, k, j));
        CHECK(std::abs(static_cast<double>(r.sequence(b, t, j)) - want) <= tol);
      }
    }
    for (Index j = 0; j < 3; ++j) {
      CHECK(std::abs(static_cast<double>(r.states[0](b, j) - ref.states[0](0, j))) <= tol);
      CHECK(std::abs(static_cast<double>(r.states[1](b, j) - ref.states[1](0, j))) <= tol);
    }
  }

  SECTION("MaskedOutput::Zeros writes zeros at masked steps, states unchanged") {
    auto o = opts(true, true);
    o.maskedOutput = recurrent::MaskedOutput::Zeros;
    auto z = makeLstm<S>(3, 2, o);
    const auto rz = z.call(x, a);
    for (Index b = 0; b < 2; ++b)
      for (Index t = 0; t < T; ++t)
        for (Index j = 0; j < 3; ++j) {
          if (mask(b, t) == 0)
            CHECK(rz.sequence(b, t, j) == S(0));
          else
            CHECK(rz.sequence(b, t, j) == r.sequence(b, t, j));
        }
    CHECK(rz.states[0] == r.states[0]);
    CHECK(rz.states[1] == r.states[1]);
  }
  SECTION("a mask of the wrong shape throws ShapeError") {
    const Matrix<S> bad = Matrix<S>::Ones(2, T - 1);
    recurrent::CallArgs<S> b2;
    b2.mask = bad;
    CHECK_THROWS_AS(l.call(x, b2), recurrent::ShapeError);
  }
}

TEMPLATE_TEST_CASE("initialState is used; wrong count or shape throws ShapeError", "[layer][state]",
                   float, double) {
  using S = TestType;
  // SimpleRNN linear with W = 0, U = I, b = 0 keeps h = h0 forever.
  recurrent::SimpleRNNArgs a;
  a.units = 3;
  a.activation = recurrent::ActivationKind::Linear;
  a.kernelInitializer = recurrent::InitializerKind::Zeros;
  a.recurrentInitializer = recurrent::InitializerKind::Identity;
  a.returnState = true;
  recurrent::SimpleRNN<S> l(a);
  const auto x = randomSequence<S>(2, 4, 5, 8);
  const auto h0 = randomMatrix<S>(2, 3, 9);
  recurrent::CallArgs<S> c;
  c.initialState = {h0};
  const auto r = l.call(x, c);
  CHECK(r.lastOutput == h0);
  CHECK(r.states[0] == h0);
  CHECK(l.call(x).lastOutput.isZero(0.0));

  recurrent::CallArgs<S> two;
  two.initialState = {h0, h0};
  CHECK_THROWS_AS(l.call(x, two), recurrent::ShapeError);
  const auto wrongWidth = randomMatrix<S>(2, 4, 1);
  recurrent::CallArgs<S> w;
  w.initialState = {wrongWidth};
  CHECK_THROWS_AS(l.call(x, w), recurrent::ShapeError);
  const auto wrongBatch = randomMatrix<S>(3, 3, 1);
  recurrent::CallArgs<S> wb;
  wb.initialState = {wrongBatch};
  CHECK_THROWS_AS(l.call(x, wb), recurrent::ShapeError);
}

TEST_CASE("a feature-dimension change after build throws ShapeError", "[layer][shape]") {
  auto l = makeLstm<float>(2, 0, opts(false));
  CHECK_FALSE(l.built());
  (void)l.call(randomSequence<float>(1, 3, 4, 1));
  CHECK(l.built());
  CHECK_THROWS_AS(l.call(randomSequence<float>(1, 3, 5, 1)), recurrent::ShapeError);
  auto built = makeLstm<float>(2, 3, opts(false));
  CHECK(built.built());
  CHECK_THROWS_AS(built.call(randomSequence<float>(1, 3, 2, 1)), recurrent::ShapeError);
  CHECK_THROWS_AS(built.call(Sequence<float>(1, 0, 3)), recurrent::ShapeError);
}

TEST_CASE("float and double layers with the same weights agree", "[layer]") {
  auto d = makeLstm<double>(4, 3, opts(true, true));
  auto f = makeLstm<float>(4, 3, opts(true, true));
  std::vector<recurrent::FlatTensor<float>> wf;
  for (const auto& w : d.getWeights()) {
    recurrent::FlatTensor<float> t(w.value.shape, {});
    for (double v : w.value.data) t.data.push_back(static_cast<float>(v));
    wf.push_back(t);
  }
  f.setWeights(wf);
  const auto xd = randomSequence<double>(2, 7, 3, 10);
  const Sequence<float> xf = xd.cast<float>();
  const auto rd = d.call(xd);
  const auto rf = f.call(xf);
  const Sequence<double> sf = rf.sequence.cast<double>();
  CHECK(maxDiff(rd.sequence, sf) < 1e-5);
  CHECK(maxDiffM(rd.states[1], rf.states[1]) < 1e-5);
}

TEST_CASE("fixed-size template parameters give the dynamic results", "[layer][fixed]") {
  recurrent::LSTMCellArgs a;
  a.units = 8;
  recurrent::RNN<recurrent::LSTMCell<float, 8, 3>> fixed{recurrent::LSTMCell<float, 8, 3>(a)};
  recurrent::RNN<recurrent::LSTMCell<float>> dyn{recurrent::LSTMCell<float>(a)};
  dyn.build(3);
  std::vector<recurrent::FlatTensor<float>> w;
  for (auto& x : dyn.getWeights()) w.push_back(x.value);
  fixed.setWeights(w);
  const auto x = randomSequence<float>(2, 5, 3, 11);
  const auto rf = fixed.call(x);
  const auto rd = dyn.call(x);
  CHECK(maxDiffM(rf.lastOutput, rd.lastOutput) <= 1e-6);
  CHECK(maxDiffM(rf.states[1], rd.states[1]) <= 1e-6);

  a.units = 7;
  CHECK_THROWS_AS((recurrent::LSTMCell<float, 8, 3>(a)), recurrent::ConfigError);
  a.units = 8;
  recurrent::LSTMCell<float, 8, 3> c(a);
  CHECK_THROWS_AS(c.build(4), recurrent::ConfigError);
  recurrent::GRUCellArgs g;
  g.units = 5;
  CHECK_THROWS_AS((recurrent::GRUCell<double, 4>(g)), recurrent::ConfigError);
}

TEST_CASE("compile-time sizes: small weights are fixed-size, large ones fall back to the heap",
          "[layer][fixed]") {
  using Small = recurrent::LSTMCell<float, 8, 3>;
  STATIC_REQUIRE(Small::KernelMatrix::RowsAtCompileTime == 3);
  STATIC_REQUIRE(Small::KernelMatrix::ColsAtCompileTime == 32);
  STATIC_REQUIRE(Small::RecurrentKernelMatrix::RowsAtCompileTime == 8);
  STATIC_REQUIRE(Small::RecurrentKernelMatrix::ColsAtCompileTime == 32);
  using Large = recurrent::LSTMCell<float, 512, 1>;  // 512 x 2048 floats: 4 MiB
  STATIC_REQUIRE(Large::RecurrentKernelMatrix::ColsAtCompileTime == Eigen::Dynamic);
  // A large compile-time size builds and runs (no Eigen stack-allocation failure).
  recurrent::LSTMCellArgs a;
  a.units = 512;
  a.recurrentInitializer = recurrent::Initializer::glorotUniform(5);
  recurrent::RNN<Large> big{Large(a)};
  const auto x = randomSequence<float>(1, 2, 1, 3);
  const auto r = big.call(x);
  CHECK(r.lastOutput.rows() == 1);
  CHECK(r.lastOutput.cols() == 512);
  CHECK(r.lastOutput.allFinite());
}

TEST_CASE("computeOutputShape for the flag combinations", "[layer][shape]") {
  const std::vector<Index> in = {5, 7, 3};
  using V = std::vector<std::vector<Index>>;
  CHECK(makeLstm<float>(4, 3, opts(false)).computeOutputShape(in) == V{{5, 4}});
  CHECK(makeLstm<float>(4, 3, opts(true)).computeOutputShape(in) == V{{5, 7, 4}});
  CHECK(makeLstm<float>(4, 3, opts(false, true)).computeOutputShape(in) ==
        V{{5, 4}, {5, 4}, {5, 4}});
  CHECK(makeLstm<float>(4, 3, opts(true, true)).computeOutputShape(in) ==
        V{{5, 7, 4}, {5, 4}, {5, 4}});
  recurrent::GRUArgs g;
  g.units = 2;
  g.returnState = true;
  CHECK(recurrent::GRU<float>(g).computeOutputShape(in) == V{{5, 2}, {5, 2}});
  CHECK_THROWS_AS(makeLstm<float>(4, 3).computeOutputShape({5, 3}), recurrent::ShapeError);
}

TEST_CASE("call(x, args, result) reuses the result and matches call(x)", "[layer]") {
  auto l = makeLstm<float>(3, 2, opts(true, true));
  const auto x1 = randomSequence<float>(2, 4, 2, 12);
  const auto x2 = randomSequence<float>(2, 4, 2, 13);
  recurrent::RNNResult<float> out;
  l.call(x1, {}, out);
  CHECK(maxDiff(out.sequence, l.call(x1).sequence) == 0.0);
  l.call(x2, {}, out);
  const auto fresh = l.call(x2);
  CHECK(maxDiff(out.sequence, fresh.sequence) == 0.0);
  CHECK(out.lastOutput == fresh.lastOutput);
  CHECK(out.states[1] == fresh.states[1]);
}

TEST_CASE("a zero-copy TensorMap input equals the Sequence input", "[layer]") {
  auto l = makeLstm<float>(3, 2, opts(true));
  const auto x = randomSequence<float>(2, 5, 2, 14);
  std::vector<float> buf(x.data(), x.data() + x.size());
  Eigen::TensorMap<Eigen::Tensor<float, 3, Eigen::RowMajor>> map(buf.data(), 2, 5, 2);
  const auto rm = l.call(map);
  const auto rs = l.call(x);
  CHECK(maxDiff(rm.sequence, rs.sequence) == 0.0);
  const recurrent::SequenceView<float> view(buf.data(), 2, 5, 2);
  CHECK(maxDiff(l.call(view).sequence, rs.sequence) == 0.0);
}
