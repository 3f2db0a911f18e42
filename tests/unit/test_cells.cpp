// Cells: analytic cases, naive re-implementations (double loops), weights API, initializers.
#include "support/catch.hpp"
#include "support/random_data.hpp"
#include <recurrent/recurrent.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using recurrent_test::Lcg;
using recurrent_test::randomMatrix;
using recurrent_test::randomSequence;

using recurrent::FlatTensor;
using recurrent::Index;

template <class S>
FlatTensor<S> randomTensor(std::vector<Index> shape, Lcg& g, double scale = 0.5) {
  FlatTensor<S> t(shape, {});
  t.data.resize(static_cast<std::size_t>(t.size()));
  for (auto& v : t.data) v = static_cast<S>(scale * g.next());
  return t;
}

template <class S>
FlatTensor<S> filled(std::vector<Index> shape, double value) {
  FlatTensor<S> t(shape, {});
  t.data.assign(static_cast<std::size_t>(t.size()), static_cast<S>(value));
  return t;
}

// w[r][c] of a row-major FlatTensor with `cols` columns.
template <class S>
double at(const FlatTensor<S>& t, Index r, Index c, Index cols) {
  return static_cast<double>(t.data[static_cast<std::size_t>(r * cols + c)]);
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Naive GRU in double (Keras formulas), sigmoid gates, tanh candidate. bias rows: 1 or 2.
template <class S>
std::vector<double> naiveGru(const FlatTensor<S>& W, const FlatTensor<S>& U, const FlatTensor<S>& B,
                             bool resetAfter, const std::vector<double>& x,
                             const std::vector<double>& h, Index in, Index u) {
  const Index w3 = 3 * u;
  auto bIn = [&](Index j) { return at(B, 0, j, w3); };
  auto bRec = [&](Index j) { return resetAfter ? at(B, 1, j, w3) : 0.0; };
  std::vector<double> xp(static_cast<std::size_t>(w3)), hp(static_cast<std::size_t>(w3));
  for (Index j = 0; j < w3; ++j) {
    double a = bIn(j), c = bRec(j);
    for (Index i = 0; i < in; ++i) a += x[static_cast<std::size_t>(i)] * at(W, i, j, w3);
    for (Index k = 0; k < u; ++k) c += h[static_cast<std::size_t>(k)] * at(U, k, j, w3);
    xp[static_cast<std::size_t>(j)] = a;
    hp[static_cast<std::size_t>(j)] = c;
  }
  std::vector<double> z(static_cast<std::size_t>(u)), r(static_cast<std::size_t>(u)),
      out(static_cast<std::size_t>(u));
  for (Index k = 0; k < u; ++k) {
    const auto ks = static_cast<std::size_t>(k);
    z[ks] = sigmoid(xp[ks] + hp[ks]);
    r[ks] = sigmoid(xp[static_cast<std::size_t>(u + k)] + hp[static_cast<std::size_t>(u + k)]);
  }
  for (Index k = 0; k < u; ++k) {
    const auto ks = static_cast<std::size_t>(k);
    double cand = xp[static_cast<std::size_t>(2 * u + k)];
    if (resetAfter) {
      cand += r[ks] * hp[static_cast<std::size_t>(2 * u + k)];
    } else {
      for (Index m = 0; m < u; ++m)
        cand += r[static_cast<std::size_t>(m)] * h[static_cast<std::size_t>(m)] *
                at(U, m, 2 * u + k, w3);
    }
    cand = std::tanh(cand);
    out[ks] = z[ks] * h[ks] + (1.0 - z[ks]) * cand;
  }
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("LSTM with zero kernels follows the closed form of its gates", "[cells][lstm]",
                   float, double) {
  using S = TestType;
  const Index u = 3, in = 2;
  recurrent::LSTMCellArgs a;
  a.units = u;
  a.recurrentActivation = recurrent::ActivationKind::Sigmoid;
  recurrent::RNN<recurrent::LSTMCell<S>> layer{recurrent::LSTMCell<S>(a)};
  const double bi = 0.3, bf = -0.7, bc = 1.1, bo = 2.0;
  FlatTensor<S> bias({4 * u}, {});
  for (double v : {bi, bf, bc, bo})
    for (Index k = 0; k < u; ++k) bias.data.push_back(static_cast<S>(v));
  layer.setWeights({filled<S>({in, 4 * u}, 0.0), filled<S>({u, 4 * u}, 0.0), bias});
  Lcg g(1);
  const auto x = randomSequence<S>(2, 1, in, g);
  const auto h0 = randomMatrix<S>(2, u, g);
  const auto c0 = randomMatrix<S>(2, u, g);
  recurrent::CallArgs<S> args;
  args.initialState = {h0, c0};
  const auto res = layer.call(x, args);
  REQUIRE(res.states.size() == 2);
  for (Index b = 0; b < 2; ++b)
    for (Index k = 0; k < u; ++k) {
      const double c = sigmoid(bf) * static_cast<double>(c0(b, k)) + sigmoid(bi) * std::tanh(bc);
      const double h = sigmoid(bo) * std::tanh(c);
      CHECK(static_cast<double>(res.states[1](b, k)) == recurrent_test::Approx(c).epsilon(1e-5));
      CHECK(static_cast<double>(res.states[0](b, k)) == recurrent_test::Approx(h).epsilon(1e-5));
      CHECK(res.lastOutput(b, k) == res.states[0](b, k));
    }
}

TEMPLATE_TEST_CASE("GRU with a saturated update gate keeps h", "[cells][gru]", float, double) {
  using S = TestType;
  const Index u = 4, in = 3;
  recurrent::GRUCellArgs a;
  a.units = u;  // default hardSigmoid: saturates to exactly 1 above 2.5
  recurrent::RNN<recurrent::GRUCell<S>> layer{recurrent::GRUCell<S>(a)};
  Lcg g(2);
  auto W = randomTensor<S>({in, 3 * u}, g, 0.1);
  auto U = randomTensor<S>({u, 3 * u}, g, 0.1);
  auto B = randomTensor<S>({3 * u}, g, 0.1);
  for (Index k = 0; k < u; ++k) B.data[static_cast<std::size_t>(k)] = static_cast<S>(100.0);
  layer.setWeights({W, U, B});
  const auto x = randomSequence<S>(2, 5, in, g);
  const auto h0 = randomMatrix<S>(2, u, g);
  recurrent::CallArgs<S> args;
  args.initialState = {h0};
  const auto res = layer.call(x, args);
  CHECK(res.lastOutput == h0);
}

TEMPLATE_TEST_CASE("SimpleRNN with linear activation is x·W + b + h·U", "[cells][simple]", float,
                   double) {
  using S = TestType;
  const Index u = 3, in = 2, T = 4, B = 2;
  recurrent::SimpleRNNCellArgs a;
  a.units = u;
  a.activation = recurrent::ActivationKind::Linear;
  recurrent::RNNLayerArgs la;
  la.returnSequences = true;
  recurrent::RNN<recurrent::SimpleRNNCell<S>> layer(recurrent::SimpleRNNCell<S>(a), la);
  Lcg g(3);
  auto W = randomTensor<S>({in, u}, g);
  auto U = randomTensor<S>({u, u}, g);
  auto b = randomTensor<S>({u}, g);
  layer.setWeights({W, U, b});
  const auto x = randomSequence<S>(B, T, in, g);
  const auto res = layer.call(x);
  for (Index s = 0; s < B; ++s) {
    std::vector<double> h(static_cast<std::size_t>(u), 0.0);
    for (Index t = 0; t < T; ++t) {
      std::vector<double> nh(static_cast<std::size_t>(u));
      for (Index k = 0; k < u; ++k) {
        double v = static_cast<double>(b.data[static_cast<std::size_t>(k)]);
        for (Index i = 0; i < in; ++i) v += static_cast<double>(x(s, t, i)) * at(W, i, k, u);
        for (Index m = 0; m < u; ++m) v += h[static_cast<std::size_t>(m)] * at(U, m, k, u);
        nh[static_cast<std::size_t>(k)] = v;
      }
      h = nh;
      for (Index k = 0; k < u; ++k)
        CHECK(static_cast<double>(res.sequence(s, t, k)) ==
              recurrent_test::Approx(h[static_cast<std::size_t>(k)]).epsilon(1e-5).margin(1e-6));
    }
  }
}

TEMPLATE_TEST_CASE("GRU (both resetAfter layouts) matches a naive double implementation",
                   "[cells][gru]", float, double) {
  using S = TestType;
  const bool resetAfter = GENERATE(false, true);
  const Index u = 3, in = 2, T = 5, Bn = 2;
  recurrent::GRUCellArgs a;
  a.units = u;
  a.resetAfter = resetAfter;
  a.recurrentActivation = recurrent::ActivationKind::Sigmoid;
  recurrent::RNNLayerArgs la;
  la.returnSequences = true;
  recurrent::RNN<recurrent::GRUCell<S>> layer(recurrent::GRUCell<S>(a), la);
  Lcg g(resetAfter ? 4 : 5);
  auto W = randomTensor<S>({in, 3 * u}, g);
  auto U = randomTensor<S>({u, 3 * u}, g);
  auto Bv = resetAfter ? randomTensor<S>({2, 3 * u}, g) : randomTensor<S>({3 * u}, g);
  layer.setWeights({W, U, Bv});
  const auto x = randomSequence<S>(Bn, T, in, g);
  const auto res = layer.call(x);
  for (Index s = 0; s < Bn; ++s) {
    std::vector<double> h(static_cast<std::size_t>(u), 0.0);
    for (Index t = 0; t < T; ++t) {
      std::vector<double> xt;
      for (Index i = 0; i < in; ++i) xt.push_back(static_cast<double>(x(s, t, i)));
      h = naiveGru(W, U, Bv, resetAfter, xt, h, in, u);
      for (Index k = 0; k < u; ++k)
        CHECK(static_cast<double>(res.sequence(s, t, k)) ==
              recurrent_test::Approx(h[static_cast<std::size_t>(k)]).epsilon(1e-5).margin(1e-6));
    }
  }
}

TEMPLATE_TEST_CASE("getWeights names and TF.js shapes; setWeights round trip", "[cells][weights]",
                   float, double) {
  using S = TestType;
  const Index u = 3, in = 5;
  Lcg g(6);
  auto roundTrip = [&](auto cell, Index k, std::vector<Index> biasShape) {
    cell.build(in);
    const auto w = cell.getWeights();
    REQUIRE(w.size() == 3);
    CHECK(w[0].name == "kernel");
    CHECK(w[1].name == "recurrent_kernel");
    CHECK(w[2].name == "bias");
    CHECK(w[0].value.shape == std::vector<Index>{in, k * u});
    CHECK(w[1].value.shape == std::vector<Index>{u, k * u});
    CHECK(w[2].value.shape == biasShape);
    std::vector<FlatTensor<S>> vals = {randomTensor<S>({in, k * u}, g),
                                       randomTensor<S>({u, k * u}, g),
                                       randomTensor<S>(biasShape, g)};
    cell.setWeights(vals);
    const auto back = cell.getWeights();
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(back[i].value.shape == vals[i].shape);
      CHECK(back[i].value.data == vals[i].data);
    }
  };
  recurrent::SimpleRNNCellArgs sa;
  sa.units = u;
  roundTrip(recurrent::SimpleRNNCell<S>(sa), 1, {u});
  recurrent::GRUCellArgs ga;
  ga.units = u;
  roundTrip(recurrent::GRUCell<S>(ga), 3, {3 * u});
  ga.resetAfter = true;
  roundTrip(recurrent::GRUCell<S>(ga), 3, {2, 3 * u});
  recurrent::LSTMCellArgs la;
  la.units = u;
  roundTrip(recurrent::LSTMCell<S>(la), 4, {4 * u});

  la.useBias = false;
  recurrent::LSTMCell<S> nb(la);
  nb.build(in);
  CHECK(nb.getWeights().size() == 2);
  CHECK_THROWS_AS(nb.setWeights({randomTensor<S>({in, 4 * u}, g), randomTensor<S>({u, 4 * u}, g),
                                 randomTensor<S>({4 * u}, g)}),
                  recurrent::ValueError);
}

TEST_CASE("setWeights builds an unbuilt cell from the kernel shape", "[cells][weights]") {
  recurrent::LSTMCellArgs a;
  a.units = 2;
  recurrent::LSTMCell<double> c(a);
  CHECK_FALSE(c.built());
  Lcg g(7);
  c.setWeights({randomTensor<double>({6, 8}, g), randomTensor<double>({2, 8}, g),
                randomTensor<double>({8}, g)});
  CHECK(c.built());
  CHECK(c.inputDim() == 6);
}

TEST_CASE("setWeights with wrong shapes throws ShapeError naming weight, expected and got",
          "[cells][weights]") {
  const Index u = 2, in = 3;
  Lcg g(8);
  recurrent::LSTMCellArgs a;
  a.units = u;
  recurrent::LSTMCell<float> c(a);
  c.build(in);
  auto K = randomTensor<float>({in, 4 * u}, g);
  auto R = randomTensor<float>({u, 4 * u}, g);
  auto B = randomTensor<float>({4 * u}, g);
  auto expectShape = [&](std::vector<FlatTensor<float>> v, const std::string& name,
                         const std::string& expected, const std::string& got) {
    try {
      c.setWeights(v);
      FAIL("no exception");
    } catch (const recurrent::ShapeError& e) {
      const std::string what = e.what();
      CHECK_THAT(what, recurrent_test::ContainsSubstring(name));
      CHECK_THAT(what, recurrent_test::ContainsSubstring(expected));
      CHECK_THAT(what, recurrent_test::ContainsSubstring(got));
    }
  };
  expectShape({randomTensor<float>({in + 1, 4 * u}, g), R, B}, "kernel", "[3, 8]", "[4, 8]");
  expectShape({K, randomTensor<float>({u, 3 * u}, g), B}, "recurrent_kernel", "[2, 8]", "[2, 6]");
  expectShape({K, R, randomTensor<float>({4 * u + 1}, g)}, "bias", "[8]", "[9]");
  expectShape({K, R, randomTensor<float>({1, 4 * u}, g)}, "bias", "[8]", "[1, 8]");

  recurrent::GRUCellArgs ga;
  ga.units = u;
  ga.resetAfter = true;
  recurrent::GRUCell<float> gc(ga);
  gc.build(in);
  try {
    gc.setWeights({randomTensor<float>({in, 3 * u}, g), randomTensor<float>({u, 3 * u}, g),
                   randomTensor<float>({3 * u}, g)});
    FAIL("no exception");
  } catch (const recurrent::ShapeError& e) {
    CHECK_THAT(std::string(e.what()), recurrent_test::ContainsSubstring("bias"));
    CHECK_THAT(std::string(e.what()), recurrent_test::ContainsSubstring("[2, 6]"));
    CHECK_THAT(std::string(e.what()), recurrent_test::ContainsSubstring("[6]"));
  }
}

TEST_CASE("units <= 0 is a ConfigError", "[cells][config]") {
  for (Index units : {Index{0}, Index{-3}}) {
    recurrent::SimpleRNNCellArgs s;
    s.units = units;
    CHECK_THROWS_AS(recurrent::SimpleRNNCell<float>(s), recurrent::ConfigError);
    recurrent::GRUCellArgs gr;
    gr.units = units;
    CHECK_THROWS_AS(recurrent::GRUCell<double>(gr), recurrent::ConfigError);
    recurrent::LSTMCellArgs l;
    l.units = units;
    CHECK_THROWS_AS(recurrent::LSTMCell<float>(l), recurrent::ConfigError);
  }
}

TEST_CASE("unitForgetBias sets the forget block of the initial bias to 1", "[cells][lstm]") {
  const Index u = 3;
  recurrent::LSTMCellArgs a;
  a.units = u;
  a.unitForgetBias = true;
  recurrent::LSTMCell<double> c(a);
  c.build(2);
  const auto& b = c.bias();
  REQUIRE(b.rows() == 1);
  REQUIRE(b.cols() == 4 * u);
  for (Index k = 0; k < 4 * u; ++k) CHECK(b(0, k) == ((k >= u && k < 2 * u) ? 1.0 : 0.0));
  a.unitForgetBias = false;
  recurrent::LSTMCell<double> d(a);
  d.build(2);
  CHECK(d.bias().isZero(0.0));
}

TEST_CASE("seeded initializers are deterministic; glorotUniform stays within its limit",
          "[initializers]") {
  const auto init = recurrent::Initializer::glorotUniform(42);
  recurrent::Matrix<double> a(7, 5), b(7, 5);
  init.fill(a);
  init.fill(b);
  CHECK(a == b);
  const double limit = std::sqrt(6.0 / (7.0 + 5.0));
  CHECK(a.cwiseAbs().maxCoeff() <= limit);
  CHECK(a.cwiseAbs().maxCoeff() > 0.5 * limit);  // actually spread, not all zeros
  recurrent::Matrix<double> c(7, 5);
  recurrent::Initializer::glorotUniform(43).fill(c);
  CHECK(c != a);

  // Through cells: the same seeded initializers give the same weights.
  recurrent::GRUCellArgs ga;
  ga.units = 4;
  ga.kernelInitializer = recurrent::Initializer::glorotUniform(7);
  ga.recurrentInitializer = recurrent::Initializer::orthogonal(1.0, 8);
  recurrent::GRUCell<float> g1(ga), g2(ga);
  g1.build(3);
  g2.build(3);
  CHECK(g1.kernel() == g2.kernel());
  CHECK(g1.recurrentKernel() == g2.recurrentKernel());
  CHECK(g1.kernel().cwiseAbs().maxCoeff() <= static_cast<float>(std::sqrt(6.0 / (3.0 + 12.0))));
}

TEST_CASE("orthogonal initializer gives orthonormal rows/columns", "[initializers]") {
  const auto init = recurrent::Initializer::orthogonal(1.0, 3);
  recurrent::Matrix<double> tall(8, 5), wide(4, 16), sq(6, 6);
  init.fill(tall);
  init.fill(wide);
  init.fill(sq);
  CHECK((tall.transpose() * tall - Eigen::MatrixXd::Identity(5, 5)).cwiseAbs().maxCoeff() < 1e-10);
  CHECK((wide * wide.transpose() - Eigen::MatrixXd::Identity(4, 4)).cwiseAbs().maxCoeff() < 1e-10);
  CHECK((sq.transpose() * sq - Eigen::MatrixXd::Identity(6, 6)).cwiseAbs().maxCoeff() < 1e-10);
  recurrent::Matrix<double> scaled(6, 6);
  recurrent::Initializer::orthogonal(2.0, 3).fill(scaled);
  CHECK(
      (scaled.transpose() * scaled - 4.0 * Eigen::MatrixXd::Identity(6, 6)).cwiseAbs().maxCoeff() <
      1e-9);
  // An LSTM's default recurrent kernel [u, 4u] has orthonormal rows.
  recurrent::LSTMCellArgs a;
  a.units = 3;
  recurrent::LSTMCell<double> c(a);
  c.build(2);
  const auto& U = c.recurrentKernel();
  CHECK((U * U.transpose() - Eigen::MatrixXd::Identity(3, 3)).cwiseAbs().maxCoeff() < 1e-10);
}

TEST_CASE("identity and constant initializers", "[initializers]") {
  recurrent::Matrix<float> m(3, 3);
  recurrent::Initializer id(recurrent::InitializerKind::Identity);
  id.gain = 2.0;
  id.fill(m);
  CHECK(m.isApprox(2.0f * recurrent::Matrix<float>::Identity(3, 3)));
  recurrent::Matrix<float> r(2, 3);
  CHECK_THROWS_AS(id.fill(r), recurrent::ConfigError);
  recurrent::Initializer::constant(0.25).fill(r);
  CHECK((r.array() == 0.25f).all());
  CHECK(recurrent::Initializer::fromName("glorot_uniform").kind ==
        recurrent::InitializerKind::GlorotUniform);
  CHECK(recurrent::Initializer::fromName("heNormal").kind == recurrent::InitializerKind::HeNormal);
  CHECK_THROWS_AS(recurrent::Initializer::fromName("nope"), recurrent::ConfigError);
}
