// The features ONNX import brought to the layers (per-sample sequence lengths, clip, parametric
// activations, LSTM peepholes / input_forget / output activation) and the ONNX loader's typed
// errors. The onnxruntime parity cases themselves run in golden.* (tests/golden/onnx).
#include "support/catch.hpp"
#include "support/random_data.hpp"
#include <recurrent/io/onnx.hpp>
#include <recurrent/recurrent.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

namespace {

using recurrent::Index;
using recurrent::Matrix;
using recurrent::Sequence;
using recurrent_test::randomSequence;

template <class S>
Sequence<S> prefix(const Sequence<S>& x, Index b, Index len) {
  Sequence<S> out(1, len, x.dimension(2));
  for (Index t = 0; t < len; ++t)
    for (Index f = 0; f < x.dimension(2); ++f) out(0, t, f) = x(b, t, f);
  return out;
}

template <class S>
std::vector<recurrent::FlatTensor<S>> values(const std::vector<recurrent::Weight<S>>& weights) {
  std::vector<recurrent::FlatTensor<S>> out;
  for (const auto& w : weights) out.push_back(w.value);
  return out;
}

template <class S>
recurrent::LSTM<S> lstm(bool goBackwards, Index features = 3, Index units = 4) {
  recurrent::LSTMArgs a;
  a.units = units;
  a.inputDim = features;
  a.returnSequences = true;
  a.returnState = true;
  a.goBackwards = goBackwards;
  a.seed = 7;
  a.kernelInitializer = recurrent::InitializerKind::GlorotUniform;
  a.biasInitializer = recurrent::InitializerKind::RandomNormal;
  return recurrent::LSTM<S>(a);
}

}  // namespace

TEMPLATE_TEST_CASE("sequenceLengths: each sample runs its own prefix; later outputs are zeros",
                   "[layer][lengths]", float, double) {
  using S = TestType;
  const Index B = 4, T = 6;
  const Sequence<S> x = randomSequence<S>(B, T, 3, 11);
  const std::vector<Index> lengths{6, 3, 0, 1};
  for (const bool backwards : {false, true}) {
    CAPTURE(backwards);
    auto layer = lstm<S>(backwards);
    recurrent::CallArgs<S> args;
    args.sequenceLengths = lengths;
    const auto all = layer.call(x, args);
    for (Index b = 0; b < B; ++b) {
      const Index len = lengths[static_cast<std::size_t>(b)];
      CAPTURE(b, len);
      if (len == 0) {  // no step: the initial (zero) states, every output zero
        CHECK(all.states[0].row(b).isZero());
        CHECK(all.states[1].row(b).isZero());
        for (Index s = 0; s < T; ++s)
          for (Index k = 0; k < 4; ++k) CHECK(all.sequence(b, s, k) == S(0));
        continue;
      }
      const auto one = layer.call(prefix(x, b, len));
      // The same maths on the same rows: bitwise equal.
      CHECK(all.states[0].row(b) == one.states[0].row(0));
      CHECK(all.states[1].row(b) == one.states[1].row(0));
      // Processing order: forward s = t; backwards the T − len skipped steps come first.
      const Index skipped = backwards ? T - len : 0;
      for (Index s = 0; s < T; ++s)
        for (Index k = 0; k < 4; ++k) {
          const bool valid = s >= skipped && s < skipped + len;
          CHECK(all.sequence(b, s, k) == (valid ? one.sequence(0, s - skipped, k) : S(0)));
        }
    }
  }
}

TEMPLATE_TEST_CASE("sequenceLengths equal a keep-mask with MaskedOutput::Zeros, gradients too",
                   "[layer][lengths][backward]", float, double) {
  using S = TestType;
  const Index B = 3, T = 5;
  const Sequence<S> x = randomSequence<S>(B, T, 3, 5);
  const std::vector<Index> lengths{5, 2, 4};
  Matrix<S> mask(B, T);
  for (Index b = 0; b < B; ++b)
    for (Index t = 0; t < T; ++t) mask(b, t) = t < lengths[static_cast<std::size_t>(b)] ? 1 : 0;
  recurrent::GRUArgs a;
  a.units = 4;
  a.inputDim = 3;
  a.returnSequences = true;
  a.seed = 3;
  a.biasInitializer = recurrent::InitializerKind::RandomNormal;
  recurrent::GRU<S> byLengths(a);
  a.maskedOutput = recurrent::MaskedOutput::Zeros;
  recurrent::GRU<S> byMask(a);
  byMask.setWeights(values(byLengths.getWeights()));

  recurrent::CallArgs<S> la, ma;
  la.sequenceLengths = lengths;
  la.record = ma.record = true;
  ma.mask = mask;
  const auto yl = byLengths.call(x, la);
  const auto ym = byMask.call(x, ma);
  CHECK(Eigen::Map<const Matrix<S>>(yl.sequence.data(), B * T, 4) ==
        Eigen::Map<const Matrix<S>>(ym.sequence.data(), B * T, 4));
  const Sequence<S> dy = randomSequence<S>(B, T, 4, 9);
  recurrent::RNNOutputGradients<S> d;
  d.sequence = dy;
  const auto gl = byLengths.backward(d);
  const auto gm = byMask.backward(d);
  CHECK(Eigen::Map<const Matrix<S>>(gl.inputs.data(), B * T, 3) ==
        Eigen::Map<const Matrix<S>>(gm.inputs.data(), B * T, 3));
  for (std::size_t i = 0; i < gl.weights.size(); ++i)
    CHECK(gl.weights[i].data == gm.weights[i].data);
}

TEST_CASE("sequenceLengths: typed errors", "[layer][lengths][errors]") {
  auto layer = lstm<float>(false);
  const Sequence<float> x = randomSequence<float>(2, 4, 3, 1);
  recurrent::CallArgs<float> args;
  args.sequenceLengths = {4};
  CHECK_THROWS_AS(layer.call(x, args), recurrent::ShapeError);
  args.sequenceLengths = {4, 5};
  CHECK_THROWS_WITH(layer.call(x, args),
                    recurrent_test::ContainsSubstring("sequenceLengths[1]: expected a length in "
                                                      "[0, 4] (the time steps), got 5"));
  args.sequenceLengths = {1, -1};
  CHECK_THROWS_AS(layer.call(x, args), recurrent::ValueError);
  Matrix<float> mask = Matrix<float>::Ones(2, 4);
  args.sequenceLengths = {1, 2};
  args.mask = mask;
  CHECK_THROWS_AS(layer.call(x, args), recurrent::ValueError);
}

TEST_CASE("Bidirectional passes sequenceLengths to both directions", "[layer][lengths]") {
  const Sequence<float> x = randomSequence<float>(2, 5, 3, 4);
  recurrent::LSTMArgs a;
  a.units = 2;
  a.inputDim = 3;
  a.returnSequences = true;
  a.seed = 1;
  recurrent::Bidirectional<recurrent::LSTM<float>> bi(recurrent::LSTM<float>(a), {});
  recurrent::CallArgs<float> args;
  args.sequenceLengths = {5, 2};
  const auto y = bi.call(x, args);
  // Sample 1 equals the layer run on its first two steps alone, then zeros.
  const auto one = bi.call(prefix(x, 1, 2));
  for (Index t = 0; t < 5; ++t)
    for (Index k = 0; k < 4; ++k)
      CHECK(y.sequence(1, t, k) == (t < 2 ? one.sequence(0, t, k) : 0.0f));
}

TEMPLATE_TEST_CASE("parametric activations follow their definitions", "[activations]", float,
                   double) {
  using S = TestType;
  using K = recurrent::ActivationKind;
  Eigen::Matrix<S, 1, Eigen::Dynamic> x(7);
  x << S(-3), S(-0.5), S(-0.125), S(0), S(0.25), S(0.75), S(4);
  auto apply = [&](recurrent::Activation a) {
    Eigen::Matrix<S, 1, Eigen::Dynamic> y = x;
    a.apply(y);
    return y;
  };
  const auto alpha = static_cast<S>(0.3), beta = static_cast<S>(0.6);
  const auto affine = apply(recurrent::Activation::parametric(K::Affine, 0.3, 0.6));
  const auto leaky = apply(recurrent::Activation::parametric(K::LeakyRelu, 0.3));
  const auto thresholded = apply(recurrent::Activation::parametric(K::ThresholdedRelu, 0.3));
  const auto scaled = apply(recurrent::Activation::parametric(K::ScaledTanh, 0.3, 0.6));
  const auto hard = apply(recurrent::Activation::parametric(K::ParametricHardSigmoid, 0.3, 0.6));
  const auto elu = apply(recurrent::Activation::parametric(K::ParametricElu, 0.3));
  for (Index i = 0; i < x.size(); ++i) {
    const S v = x(i);
    CHECK(affine(i) == alpha * v + beta);
    CHECK(leaky(i) == (v >= 0 ? v : alpha * v));
    CHECK(thresholded(i) == (v > alpha ? v : S(0)));
    CHECK(std::abs(scaled(i) - alpha * std::tanh(beta * v)) <=
          4 * std::numeric_limits<S>::epsilon());
    CHECK(hard(i) == std::min(S(1), std::max(S(0), alpha * v + beta)));
    CHECK(std::abs(elu(i) - (v >= 0 ? v : alpha * (std::exp(v) - S(1)))) <=
          4 * std::numeric_limits<S>::epsilon());
  }
  CHECK_THROWS_AS(recurrent::Activation::parametric(K::Tanh, 1.0), recurrent::ConfigError);
  CHECK_THROWS_AS(recurrent::Activation::fromName("affine"), recurrent::ConfigError);
  CHECK(recurrent::Activation::parametric(K::LeakyRelu, 0.1) !=
        recurrent::Activation::parametric(K::LeakyRelu, 0.2));
}

TEST_CASE("clip and the LSTM extensions: checked, and refused by a recording call",
          "[cells][extensions][errors]") {
  recurrent::LSTMArgs a;
  a.units = 2;
  a.inputDim = 3;
  a.clip = 0.0;
  CHECK_THROWS_AS(recurrent::LSTM<float>(a), recurrent::ConfigError);
  a.clip = 0.5;
  recurrent::LSTM<float> clipped(a);
  const Sequence<float> x = randomSequence<float>(2, 3, 3, 2);
  recurrent::CallArgs<float> rec;
  rec.record = true;
  CHECK_THROWS_WITH(clipped.call(x, rec),
                    recurrent_test::ContainsSubstring("gradients are not implemented for clip"));
  CHECK_NOTHROW(clipped.call(x));

  a.clip.reset();
  recurrent::LSTM<float> peep(a);
  CHECK_THROWS_AS(peep.cell().setPeepholes(recurrent::FlatTensor<float>({2, 2}, {1, 2, 3, 4})),
                  recurrent::ShapeError);
  peep.cell().setPeepholes(recurrent::FlatTensor<float>({3, 2}, {1, 2, 3, 4, 5, 6}));
  CHECK_THROWS_WITH(peep.call(x, rec), recurrent_test::ContainsSubstring("peepholes"));
  peep.cell().setPeepholes({});
  CHECK_NOTHROW(peep.call(x, rec));

  a.inputForget = true;
  recurrent::LSTM<float> coupled(a);
  CHECK_THROWS_WITH(coupled.call(x, rec), recurrent_test::ContainsSubstring("inputForget"));
}

TEST_CASE("LSTM extensions: input_forget couples f = 1 − i; clip bounds the gates",
          "[cells][extensions]") {
  // One step from zero states: c' = i ⊙ g, so with input_forget the result depends only on i, g
  // and o; peepholes on a zero c change nothing for i and f.
  recurrent::LSTMArgs a;
  a.units = 2;
  a.inputDim = 2;
  a.recurrentActivation = recurrent::ActivationKind::Sigmoid;
  a.returnState = true;
  a.seed = 5;
  a.biasInitializer = recurrent::InitializerKind::RandomNormal;
  recurrent::LSTM<double> plain(a);
  a.inputForget = true;
  recurrent::LSTM<double> coupled(a);
  coupled.setWeights(values(plain.getWeights()));
  const Sequence<double> x = randomSequence<double>(1, 1, 2, 8);
  CHECK((plain.call(x).states[1] - coupled.call(x).states[1]).cwiseAbs().maxCoeff() < 1e-15);

  // Clip: with a tiny clip every gate is ≈ its activation at 0: i = f = o = 0.5, g = 0.
  a.inputForget = false;
  a.clip = 1e-9;
  recurrent::LSTM<double> clipped(a);
  clipped.setWeights(values(plain.getWeights()));
  const Sequence<double> big = randomSequence<double>(1, 3, 2, 8, -50.0, 50.0);
  const auto r = clipped.call(big);
  CHECK(r.states[1].cwiseAbs().maxCoeff() < 1e-8);
}

TEST_CASE("loadOnnx: typed errors for files that are not models", "[onnx][errors]") {
  namespace io = recurrent::io;
  CHECK_THROWS_AS(io::loadOnnx<float>("no/such/model.onnx"), recurrent::IOError);
  CHECK_THROWS_AS(io::onnxFromBytes<float>(std::string("\x08\x08\x3a", 3)), recurrent::FormatError);
  CHECK_THROWS_WITH(io::onnxFromBytes<float>(std::string()),
                    recurrent_test::ContainsSubstring("has no graph"));
}

#if RECURRENT_HAS_JSON
TEST_CASE("loadOnnx: an onnxruntime case runs, and run() checks its feeds", "[onnx]") {
  namespace io = recurrent::io;
  const std::string path = RECURRENT_GOLDEN_DIR "/onnx/lstm_001_forward.onnx";
  if (!std::ifstream(path)) {
    WARN("no " << path);
    return;
  }
  auto m = io::loadOnnx<float>(path);
  REQUIRE(!m.inputs().empty());
  CHECK(m.inputs()[0].name == "X");
  CHECK_THROWS_AS(m.run({}), recurrent::ValueError);
  std::map<std::string, io::OnnxTensor<float>> feeds;
  feeds["X"] = io::OnnxTensor<float>::floats({2, 2, 9}, std::vector<float>(36, 0.5f));
  CHECK_THROWS_AS(m.run(feeds), recurrent::ShapeError);
  feeds["X"] = io::OnnxTensor<float>::integers(io::OnnxType::Int64, {1}, {1});
  CHECK_THROWS_AS(m.run(feeds), recurrent::ValueError);
  feeds["nope"] = feeds["X"];
  CHECK_THROWS_WITH(m.run(feeds), recurrent_test::ContainsSubstring("'nope': not an input"));
}
#endif
