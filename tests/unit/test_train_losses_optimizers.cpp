// Losses, metrics and optimizers (recurrent/train/*.hpp): TF.js 4.22's values replayed from
// tests/golden/train_units/*.json (tools/oracle/generate_train_unit_cases.js) in float and double,
// every error, and no reallocation on a second call.
//
// RECURRENT_TRAIN_UNITS_REPORT=1 in the environment prints the largest float error per group.
#include "support/catch.hpp"
#include <recurrent/train/losses.hpp>
#include <recurrent/train/metrics.hpp>
#include <recurrent/train/optimizers.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#if RECURRENT_HAS_JSON
#include <fstream>
#include <nlohmann/json.hpp>
#endif

namespace {

using recurrent::FlatTensor;
using recurrent::Index;
using recurrent::ShapeError;
using recurrent::StateError;
using recurrent::ValueError;
using recurrent::train::Loss;
using recurrent::train::LossKind;
using recurrent::train::Metric;
using recurrent::train::MetricKind;
using recurrent::train::OptimizerConfig;
using recurrent::train::Variable;
using recurrent_test::ContainsSubstring;

template <class S>
FlatTensor<S> tensor(std::vector<Index> shape, std::vector<S> data) {
  return FlatTensor<S>(std::move(shape), std::move(data));
}

/// Largest error seen per group, as a fraction of the allowed error (and in absolute terms).
struct ErrorStats {
  double worstFraction = 0.0;
  double worstAbs = 0.0;
  double worstRel = 0.0;  // |got − exp| / |exp| for |exp| > 1e-3
  std::int64_t ulps = 0;  // float: largest distance in ulps
  void add(double got, double exp, double abs, double rel) {
    const double err = std::abs(got - exp);
    worstFraction = std::max(worstFraction, err / (abs + rel * std::abs(exp)));
    worstAbs = std::max(worstAbs, err);
    if (std::abs(exp) > 1e-3) worstRel = std::max(worstRel, err / std::abs(exp));
  }
  void report(const char* group) const {
    const char* env = std::getenv("RECURRENT_TRAIN_UNITS_REPORT");
    if (env != nullptr && env[0] == '1') {
      std::printf("%-28s max |err| %.3g, max rel err %.3g, %.3g of 1e-6 + 1e-5|exp|, %lld ulps\n",
                  group, worstAbs, worstRel, worstFraction, static_cast<long long>(ulps));
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Errors and allocation (no data files needed)
// ---------------------------------------------------------------------------------------------

TEST_CASE("train: loss names are TF.js's lossesMap keys", "[train]") {
  CHECK(Loss<float>::fromName("meanSquaredError").kind() == LossKind::MeanSquaredError);
  CHECK(Loss<float>::fromName("logcosh").kind() == LossKind::LogCosh);
  CHECK(Loss<float>::fromName("cosineProximity").kind() == LossKind::CosineProximity);
  for (LossKind k :
       {LossKind::MeanSquaredError, LossKind::MeanAbsoluteError,
        LossKind::MeanAbsolutePercentageError, LossKind::MeanSquaredLogarithmicError,
        LossKind::BinaryCrossentropy, LossKind::CategoricalCrossentropy,
        LossKind::SparseCategoricalCrossentropy, LossKind::Hinge, LossKind::SquaredHinge,
        LossKind::CategoricalHinge, LossKind::LogCosh, LossKind::KullbackLeiblerDivergence,
        LossKind::Poisson, LossKind::CosineProximity}) {
    CHECK(Loss<double>::fromName(recurrent::train::lossName(k)).kind() == k);
  }
  // TF.js's exact messages (also replayed from losses.json's unknown_names).
  CHECK_THROWS_AS(Loss<float>::fromName("mse"), ValueError);
  CHECK_THROWS_WITH(Loss<float>::fromName("mse"), "Unknown loss mse");
  CHECK_THROWS_WITH(Loss<float>::fromName("huberLoss"), "Unknown loss huberLoss");
  CHECK_THROWS_WITH(Loss<float>::fromName("softmaxCrossEntropy"),
                    "Unknown loss softmaxCrossEntropy. Use \"categoricalCrossentropy\" as the "
                    "string name for tf.losses.softmaxCrossEntropy");
  CHECK(Loss<float>(LossKind::HuberLoss).outputShape({4, 5}).empty());
  CHECK(Loss<float>(LossKind::Hinge).outputShape({2, 3, 4}) == std::vector<Index>{2, 3});
  CHECK(Loss<float>::huber(2.5).delta() == 2.5);
}

TEST_CASE("train: Loss::check refuses bad shapes and sparse labels", "[train]") {
  const auto pred = tensor<float>({2, 3}, {0.2f, 0.3f, 0.5f, 0.1f, 0.1f, 0.8f});
  const Loss<float> mse(LossKind::MeanSquaredError);
  CHECK_NOTHROW(mse.check("fit", tensor<float>({2, 3}, std::vector<float>(6, 0.f)), pred));
  CHECK_THROWS_AS(mse.check("fit", tensor<float>({3, 2}, std::vector<float>(6, 0.f)), pred),
                  ShapeError);
  CHECK_THROWS_WITH(mse.check("fit", tensor<float>({3, 2}, std::vector<float>(6, 0.f)), pred),
                    ContainsSubstring("fit: yTrue") && ContainsSubstring("[2, 3]") &&
                        ContainsSubstring("[3, 2]"));
  CHECK_THROWS_AS(mse.check("fit", tensor<float>({2, 3}, std::vector<float>(5, 0.f)), pred),
                  ShapeError);
  CHECK_THROWS_AS(mse.check("fit", tensor<float>({}, {1.f}), tensor<float>({}, {1.f})), ShapeError);
  CHECK_THROWS_AS(mse.check("fit", tensor<float>({2, 0}, {}), tensor<float>({2, 0}, {})),
                  ShapeError);

  // categoricalCrossentropy with one class: TF.js's own refusal.
  const Loss<float> cce(LossKind::CategoricalCrossentropy);
  CHECK_THROWS_WITH(
      cce.check("fit", tensor<float>({2, 1}, {1.f, 0.f}), tensor<float>({2, 1}, {1.f, 1.f})),
      ContainsSubstring("You are passing a target array of shape 2,1"));

  const Loss<float> sparse(LossKind::SparseCategoricalCrossentropy);
  CHECK_NOTHROW(sparse.check("fit", tensor<float>({2, 1}, {0.f, 2.f}), pred));
  CHECK_NOTHROW(sparse.check("fit", tensor<float>({2}, {1.f, 2.f}), pred));
  CHECK_THROWS_AS(sparse.check("fit", tensor<float>({2, 3}, std::vector<float>(6, 0.f)), pred),
                  ShapeError);
  CHECK_THROWS_AS(sparse.check("fit", tensor<float>({1, 2}, {0.f, 1.f}), pred), ShapeError);
  CHECK_THROWS_AS(sparse.check("fit", tensor<float>({2}, {0.f, 3.f}), pred), ValueError);
  CHECK_THROWS_WITH(sparse.check("fit", tensor<float>({2}, {0.f, 3.f}), pred),
                    ContainsSubstring("fit: yTrue: sparse label at flat position 1 is 3") &&
                        ContainsSubstring("[0, 3)"));
  CHECK_THROWS_WITH(sparse.check("fit", tensor<float>({2, 1}, {2.7f, 1.f}), pred),
                    ContainsSubstring("flat position 0 is 2.70000005"));
  CHECK_THROWS_AS(sparse.check("fit", tensor<float>({2}, {-1.f, 0.f}), pred), ValueError);
  CHECK_THROWS_AS(
      sparse.check("fit", tensor<float>({2}, {std::numeric_limits<float>::quiet_NaN(), 0.f}), pred),
      ValueError);
}

TEST_CASE("train: sparse labels out of range give TF.js's zero row when not checked", "[train]") {
  const Loss<double> sparse(LossKind::SparseCategoricalCrossentropy);
  const auto pred = tensor<double>({2, 3}, {0.2, 0.3, 0.5, 0.1, 0.1, 0.8});
  FlatTensor<double> out, dPred;
  sparse.compute(tensor<double>({2}, {5.0, 2.0}), pred, out);
  CHECK(out.data[0] == 0.0);
  CHECK(out.data[1] > 0.0);
  sparse.backward(tensor<double>({2}, {5.0, 2.0}), pred, tensor<double>({2}, {1.0, 1.0}), dPred);
  for (int j = 0; j < 3; ++j) CHECK(dPred.data[static_cast<std::size_t>(j)] == 0.0);
}

TEMPLATE_TEST_CASE("train: compute and backward reuse their outputs", "[train]", float, double) {
  using S = TestType;
  const auto yPred = tensor<S>({2, 3, 4}, std::vector<S>(24, S(0.25)));
  const auto yTrue = tensor<S>({2, 3, 4}, std::vector<S>(24, S(0)));
  const auto dOut = tensor<S>({2, 3}, std::vector<S>(6, S(1)));
  for (LossKind k : {LossKind::MeanSquaredError, LossKind::CategoricalCrossentropy,
                     LossKind::CosineProximity, LossKind::HuberLoss}) {
    const Loss<S> loss(k);
    FlatTensor<S> out, dPred;
    loss.compute(yTrue, yPred, out);
    const FlatTensor<S> d = k == LossKind::HuberLoss ? tensor<S>({}, {S(1)}) : dOut;
    loss.backward(yTrue, yPred, d, dPred);
    const S* outData = out.data.data();
    const Index* outShape = out.shape.data();
    const S* dData = dPred.data.data();
    const Index* dShape = dPred.shape.data();
    loss.compute(yTrue, yPred, out);
    loss.backward(yTrue, yPred, d, dPred);
    CHECK(out.data.data() == outData);
    CHECK(dPred.data.data() == dData);
    if (!out.shape.empty()) CHECK(out.shape.data() == outShape);
    CHECK(dPred.shape.data() == dShape);
  }
  const Loss<S> sparse(LossKind::SparseCategoricalCrossentropy);
  const auto labels = tensor<S>({2, 3}, {S(0), S(1), S(2), S(3), S(0), S(1)});
  FlatTensor<S> out, dPred;
  sparse.compute(labels, yPred, out);
  sparse.backward(labels, yPred, dOut, dPred);
  const S* outData = out.data.data();
  const S* dData = dPred.data.data();
  sparse.compute(labels, yPred, out);
  sparse.backward(labels, yPred, dOut, dPred);
  CHECK(out.data.data() == outData);
  CHECK(dPred.data.data() == dData);
}

TEST_CASE("train: metric resolution follows compile", "[train]") {
  using M = Metric<float>;
  CHECK(M::resolve("acc", LossKind::MeanSquaredError, 1).kind() == MetricKind::BinaryAccuracy);
  CHECK(M::resolve("accuracy", LossKind::BinaryCrossentropy, 4).kind() ==
        MetricKind::BinaryAccuracy);
  CHECK(M::resolve("acc", LossKind::SparseCategoricalCrossentropy, 4).kind() ==
        MetricKind::SparseCategoricalAccuracy);
  CHECK(M::resolve("acc", LossKind::SparseCategoricalCrossentropy, 1).kind() ==
        MetricKind::BinaryAccuracy);
  CHECK(M::resolve("acc", LossKind::CategoricalCrossentropy, 4).kind() ==
        MetricKind::CategoricalAccuracy);
  CHECK(M::resolve("acc", LossKind::MeanSquaredError, 4).suffix() == "acc");
  const M ce = M::resolve("ce", LossKind::BinaryCrossentropy, 4);
  CHECK(ce.kind() == MetricKind::Loss);
  CHECK(ce.lossKind() == LossKind::BinaryCrossentropy);
  CHECK(ce.suffix() == "ce");
  CHECK(M::resolve("crossentropy", LossKind::MeanSquaredError, 4).lossKind() ==
        LossKind::CategoricalCrossentropy);
  CHECK(M::resolve("MSE", LossKind::MeanSquaredError, 4).suffix() == "MSE");
  CHECK(M::resolve("cosine", LossKind::MeanSquaredError, 4).lossKind() ==
        LossKind::CosineProximity);
  CHECK(M::resolve("precision", LossKind::MeanSquaredError, 4).outputShape({5, 4}).empty());
  CHECK(M::fromLoss(LossKind::Hinge).suffix() == "hinge");
  CHECK_THROWS_WITH(M::resolve("sparseCategoricalAccuracy", LossKind::MeanSquaredError, 4),
                    "Unknown metric sparseCategoricalAccuracy");
  CHECK_THROWS_WITH(M::resolve("meanSquaredError", LossKind::MeanSquaredError, 4),
                    "Unknown metric meanSquaredError");
  CHECK_THROWS_AS(M::resolve("recall", LossKind::MeanSquaredError, 4), ValueError);
  CHECK_THROWS_AS(M(MetricKind::Loss), ValueError);

  const M sparseAcc(MetricKind::SparseCategoricalAccuracy);
  const auto pred = tensor<float>({2, 3}, {0.2f, 0.3f, 0.5f, 0.1f, 0.1f, 0.8f});
  CHECK_NOTHROW(sparseAcc.check("fit", tensor<float>({2, 1}, {0.f, 2.f}), pred));
  CHECK_THROWS_AS(sparseAcc.check("fit", tensor<float>({2, 2}, {0.f, 2.f, 0.f, 0.f}), pred),
                  ShapeError);
  CHECK_THROWS_AS(M(MetricKind::BinaryAccuracy).check("fit", tensor<float>({2}, {0.f, 2.f}), pred),
                  ShapeError);
}

template <class S>
std::vector<S> ramp(std::size_t n, S scale) {
  std::vector<S> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * static_cast<S>(static_cast<int>(i % 7) - 3);
  return v;
}

TEST_CASE("train: optimizer names and defaults and errors", "[train]") {
  using recurrent::train::getOptimizer;
  using recurrent::train::optimizerFromConfig;
  const auto adam = getOptimizer<float>("adam");
  CHECK(std::string(adam->className()) == "Adam");
  CHECK(adam->getConfig().values.at("epsilon") == 1e-7);
  CHECK(getOptimizer<float>("Adadelta")->getConfig().values.at("learningRate") == 1.0);
  CHECK(getOptimizer<float>("sgd")->getConfig().values.at("learningRate") == 0.01);
  CHECK(std::string(getOptimizer<double>("RMSProp")->className()) == "RMSProp");
  CHECK_THROWS_WITH(getOptimizer<float>("momentum"), "Unknown Optimizer momentum");
  CHECK_THROWS_AS(getOptimizer<float>("RMSprop"), ValueError);

  // fromConfig: defaults for missing keys, required keys, unknown keys and classes.
  const auto a = optimizerFromConfig<float>({"Adam", {{"learningRate", 0.5}}});
  CHECK(a->getConfig().values.at("beta2") == 0.999);
  CHECK(a->getConfig().values.at("learningRate") == 0.5);
  CHECK(optimizerFromConfig<float>({"Adamax", {}})->getConfig().values.at("learningRate") == 0.002);
  CHECK(optimizerFromConfig<float>({"Adadelta", {}})->getConfig().values.at("learningRate") ==
        0.001);
  CHECK_THROWS_AS(optimizerFromConfig<float>({"SGD", {}}), ValueError);
  CHECK_THROWS_WITH(optimizerFromConfig<float>({"Momentum", {{"learningRate", 0.1}}}),
                    ContainsSubstring("'momentum' is required"));
  CHECK_THROWS_WITH(optimizerFromConfig<float>({"Adam", {{"beta3", 0.1}}}),
                    ContainsSubstring("unknown config key 'beta3'"));
  CHECK_THROWS_WITH(optimizerFromConfig<float>({"Nadam", {}}),
                    ContainsSubstring("unknown optimizer class 'Nadam'"));
  const auto clipped = optimizerFromConfig<double>(
      {"RMSProp", {{"learningRate", 0.1}, {"centered", 1}, {"clipNorm", 2.0}}});
  CHECK(clipped->getConfig().values.at("centered") == 1.0);
  CHECK(clipped->clipNorm() == 2.0);
  CHECK(clipped->getConfig().values.at("clipNorm") == 2.0);
  CHECK_THROWS_AS(clipped->setClipValue(-1.0), ValueError);
  const auto keras =
      recurrent::train::adadelta<float>(1.0, 0.95, 1e-7, recurrent::train::AdadeltaUpdate::Keras);
  CHECK(keras->getConfig().values.at("kerasUpdate") == 1.0);
  CHECK(optimizerFromConfig<float>(keras->getConfig())->getConfig().values.count("kerasUpdate") ==
        1);
}

TEMPLATE_TEST_CASE("train: optimizer state: variable count and sizes are fixed by the first call",
                   "[train]", float, double) {
  using S = TestType;
  std::vector<S> w0 = ramp<S>(12, S(0.1)), w1 = ramp<S>(5, S(0.2));
  const std::vector<S> g0 = ramp<S>(12, S(0.05)), g1 = ramp<S>(5, S(-0.05));
  std::vector<S> g2(3, S(1)), w2(3, S(0));
  const std::vector<Variable<S>> vars = {{w0.data(), g0.data(), 12}, {w1.data(), g1.data(), 5}};
  for (const char* name : {"sgd", "adam", "adamax", "adagrad", "adadelta", "rmsprop"}) {
    auto opt = recurrent::train::getOptimizer<S>(name);
    opt->applyGradients(vars);
    opt->applyGradients(vars);
    CHECK(opt->iterations() == 2);
    std::vector<Variable<S>> more = vars;
    more.push_back({w2.data(), g2.data(), 3});
    CHECK_THROWS_AS(opt->applyGradients(more), StateError);
    CHECK_THROWS_WITH(opt->applyGradients(more),
                      ContainsSubstring(std::string(opt->className()) + ".applyGradients") &&
                          ContainsSubstring("expected 2 variables") && ContainsSubstring("got 3"));
    std::vector<Variable<S>> resized = vars;
    resized[1].size = 4;
    CHECK_THROWS_WITH(
        opt->applyGradients(resized),
        ContainsSubstring("variable 1: expected size 5") && ContainsSubstring("got 4"));
    std::vector<Variable<S>> null = vars;
    null[0].gradient = nullptr;
    CHECK_THROWS_AS(opt->applyGradients(null), ValueError);
    CHECK(opt->iterations() == 2);  // refused calls change nothing
  }
}

TEMPLATE_TEST_CASE("train: Momentum slots survive calls and clipping and Keras Adadelta work",
                   "[train]", float, double) {
  using S = TestType;
  using recurrent::train::adadelta;
  using recurrent::train::AdadeltaUpdate;
  using recurrent::train::sgd;
  // Momentum: two calls with g = 1: a = 1 then 1.5; w = −0.1 − 0.15.
  {
    std::vector<S> w(2, S(0));
    const std::vector<S> g(2, S(1));
    auto opt = recurrent::train::momentum<S>(0.1, 0.5);
    opt->applyGradients({{w.data(), g.data(), 2}});
    opt->applyGradients({{w.data(), g.data(), 2}});
    CHECK(static_cast<double>(w[0]) == Approx(-0.25).epsilon(1e-6));
  }
  // clipNorm: g = (3, 4), norm 5 → (0.6, 0.8) with c = 1; clipValue: clamp to ±0.7.
  {
    std::vector<S> w(2, S(0));
    const std::vector<S> g = {S(3), S(4)};
    auto opt = sgd<S>(1.0);
    opt->setClipNorm(1.0);
    opt->applyGradients({{w.data(), g.data(), 2}});
    CHECK(static_cast<double>(w[0]) == Approx(-0.6).epsilon(1e-6));
    CHECK(static_cast<double>(w[1]) == Approx(-0.8).epsilon(1e-6));
    opt->setClipValue(0.7);
    opt->applyGradients({{w.data(), g.data(), 2}});
    CHECK(static_cast<double>(w[0]) == Approx(-1.2).epsilon(1e-6));
    CHECK(static_cast<double>(w[1]) == Approx(-1.5).epsilon(1e-6));
    CHECK(g[0] == S(3));  // the caller's gradient is untouched
  }
  // Adadelta: TF.js's first step is exactly lr·g; Keras's is lr·g·sqrt(ε)/sqrt(ε + (1−ρ)g²).
  {
    std::vector<S> a(1, S(0)), b(1, S(0));
    const std::vector<S> g(1, S(2));
    adadelta<S>(1.0, 0.5, 1e-7)->applyGradients({{a.data(), g.data(), 1}});
    adadelta<S>(1.0, 0.5, 1e-7, AdadeltaUpdate::Keras)->applyGradients({{b.data(), g.data(), 1}});
    CHECK(a[0] == S(-2));
    CHECK(static_cast<double>(b[0]) ==
          Approx(-2.0 * std::sqrt(1e-7) / std::sqrt(1e-7 + 0.5 * 4.0)).epsilon(1e-4));
  }
  // RMSProp centered subtracts ε: with the default ε = 1e-7 a small gradient gives NaN.
  {
    std::vector<S> w(1, S(0));
    const std::vector<S> g(1, S(1e-4));
    recurrent::train::rmsprop<S>(0.01, 0.9, 0.0, 1e-7, true)
        ->applyGradients({{w.data(), g.data(), 1}});
    CHECK(std::isnan(w[0]));
  }
}

#if RECURRENT_HAS_JSON

using nlohmann::json;

json readGolden(const char* file) {
  const std::string path = std::string(RECURRENT_GOLDEN_DIR) + "/train_units/" + file;
  std::ifstream in(path);
  REQUIRE(in.good());
  return json::parse(in);
}

template <class S>
FlatTensor<S> fromJson(const json& j) {
  FlatTensor<S> t;
  t.shape = j.at("shape").get<std::vector<Index>>();
  // The files hold float32 values (shortest round-trip decimals): round to float first.
  for (const auto& v : j.at("data")) {
    t.data.push_back(static_cast<S>(static_cast<float>(v.get<double>())));
  }
  return t;
}

constexpr double kAbs = 1e-6, kRel = 1e-5;
constexpr std::int64_t kFloatUlps = 4;

/// Distance in units in the last place between two floats (+0 and −0 are the same).
std::int64_t ulpDistance(float a, float b) {
  auto key = [](float x) {
    std::int32_t bits = 0;
    std::memcpy(&bits, &x, sizeof bits);
    return bits < 0 ? -static_cast<std::int64_t>(bits & 0x7fffffff)
                    : static_cast<std::int64_t>(bits);
  };
  return std::abs(key(a) - key(b));
}

/// Float: TF.js's float32 result within kFloatUlps (this implementation performs TF.js's float32
/// operations in TF.js's order: every element of every file is bit-identical on x86-64 with GCC
/// and Clang; the margin is for other math libraries' last-bit differences in log/exp).
/// Double: |got − exp| ≤ 1e-6 + 1e-5·|exp| (+ `allowance[i]` when given).
template <class S>
void compareTensor(const std::string& what, const FlatTensor<S>& got, const json& exp,
                   ErrorStats& stats, const std::vector<double>* allowance = nullptr) {
  INFO(what);
  REQUIRE(got.shape == exp.at("shape").get<std::vector<Index>>());
  const auto& data = exp.at("data");
  REQUIRE(got.data.size() == data.size());
  for (std::size_t i = 0; i < got.data.size(); ++i) {
    const double g = static_cast<double>(got.data[i]);
    const double e = static_cast<float>(data[i].get<double>());
    if constexpr (std::is_same_v<S, float>) {
      const std::int64_t ulps = ulpDistance(got.data[i], static_cast<float>(e));
      INFO("element " << i << ": got " << g << ", TF.js " << e << ", " << ulps << " ulps");
      CHECK(ulps <= kFloatUlps);
      stats.add(g, e, kAbs, kRel);
      stats.ulps = std::max(stats.ulps, ulps);
    } else {
      const double extra = allowance != nullptr ? (*allowance)[i] : 0.0;
      INFO("element " << i << ": got " << g << ", TF.js " << e << ", allowance " << extra);
      CHECK(std::abs(g - e) <= kAbs + kRel * std::abs(e) + extra);
      stats.add(g, e, kAbs + extra, kRel);
    }
  }
}

/// For the double path: TF.js computes in float32, and a few gradients are dominated by its
/// rounding (binaryCrossentropy with y = 1 and p next to 1 − ε cancels relu'(z) against the
/// label term, leaving float32 noise). The double result may differ from TF.js by as much as this
/// library's own float result differs from its double one (the float result itself is held to
/// the plain tolerance by the float test).
std::vector<double> floatDoubleGap(const FlatTensor<float>& f, const FlatTensor<double>& d) {
  std::vector<double> gap(d.data.size(), 0.0);
  for (std::size_t i = 0; i < gap.size() && i < f.data.size(); ++i) {
    gap[i] = 2.0 * std::abs(static_cast<double>(f.data[i]) - d.data[i]);
  }
  return gap;
}

TEMPLATE_TEST_CASE("train: losses match TF.js (value and gradient)", "[train][golden]", float,
                   double) {
  using S = TestType;
  const json doc = readGolden("losses.json");
  ErrorStats values, grads;
  std::size_t cases = 0;
  for (const auto& c : doc.at("cases")) {
    const std::string name = c.at("name");
    const std::string lossName = c.at("loss");
    INFO(name);
    const Loss<S> loss =
        lossName == "huberLoss" ? Loss<S>(LossKind::HuberLoss) : Loss<S>::fromName(lossName);
    const auto yTrue = fromJson<S>(c.at("y_true"));
    const auto yPred = fromJson<S>(c.at("y_pred"));
    const auto dOut = fromJson<S>(c.at("d_out"));
    if (name.find("fractional") != std::string::npos) {
      CHECK_THROWS_AS(loss.check("test", yTrue, yPred), ValueError);  // ours refuses 2.7
    } else {
      CHECK_NOTHROW(loss.check("test", yTrue, yPred));
    }
    CHECK(loss.outputShape(yPred.shape) == c.at("value").at("shape").get<std::vector<Index>>());
    FlatTensor<S> out, dPred;
    loss.compute(yTrue, yPred, out);
    loss.backward(yTrue, yPred, dOut, dPred);
    if constexpr (std::is_same_v<S, double>) {
      const Loss<float> lossF = lossName == "huberLoss" ? Loss<float>(LossKind::HuberLoss)
                                                        : Loss<float>::fromName(lossName);
      FlatTensor<float> outF, dPredF;
      lossF.compute(fromJson<float>(c.at("y_true")), fromJson<float>(c.at("y_pred")), outF);
      lossF.backward(fromJson<float>(c.at("y_true")), fromJson<float>(c.at("y_pred")),
                     fromJson<float>(c.at("d_out")), dPredF);
      const std::vector<double> valueGap = floatDoubleGap(outF, out);
      const std::vector<double> gradGap = floatDoubleGap(dPredF, dPred);
      compareTensor(name + " value", out, c.at("value"), values, &valueGap);
      compareTensor(name + " grad", dPred, c.at("grad"), grads, &gradGap);
    } else {
      compareTensor(name + " value", out, c.at("value"), values);
      compareTensor(name + " grad", dPred, c.at("grad"), grads);
    }
    ++cases;
  }
  CHECK(cases >= 30);
  for (const auto& u : doc.at("unknown_names")) {
    CHECK_THROWS_WITH(Loss<S>::fromName(u.at("name").get<std::string>()),
                      u.at("message").get<std::string>());
  }
  values.report(sizeof(S) == 4 ? "losses (value, float)" : "losses (value, double)");
  grads.report(sizeof(S) == 4 ? "losses (gradient, float)" : "losses (gradient, double)");
}

TEMPLATE_TEST_CASE("train: metrics match TF.js (resolution and values)", "[train][golden]", float,
                   double) {
  using S = TestType;
  const json doc = readGolden("metrics.json");
  ErrorStats stats;
  std::size_t cases = 0;
  for (const auto& c : doc.at("cases")) {
    const std::string name = c.at("name");
    INFO(name);
    const Metric<S> metric =
        Metric<S>::resolve(c.at("metric"), Loss<S>::fromName(c.at("loss")).kind(),
                           c.at("output_last_dim").get<Index>());
    CHECK(metric.suffix() == c.at("suffix").get<std::string>());
    CHECK(std::string(metric.functionName()) == c.at("resolved").get<std::string>());
    const auto yTrue = fromJson<S>(c.at("y_true"));
    const auto yPred = fromJson<S>(c.at("y_pred"));
    CHECK(metric.outputShape(yPred.shape) == c.at("value").at("shape").get<std::vector<Index>>());
    const bool fractionalLabels =
        metric.kind() == MetricKind::Loss &&
        metric.lossKind() == LossKind::SparseCategoricalCrossentropy &&
        std::any_of(yTrue.data.begin(), yTrue.data.end(), [](S v) { return std::floor(v) != v; });
    if (fractionalLabels) {
      CHECK_THROWS_AS(metric.check("test", yTrue, yPred), ValueError);  // ours refuses 2.7
    } else {
      CHECK_NOTHROW(metric.check("test", yTrue, yPred));
    }
    FlatTensor<S> out;
    metric.compute(yTrue, yPred, out);
    compareTensor(name, out, c.at("value"), stats);
    ++cases;
  }
  CHECK(cases >= 40);
  for (const auto& u : doc.at("unknown_names")) {
    CHECK_THROWS_WITH(
        Metric<S>::resolve(u.at("name").get<std::string>(), LossKind::MeanSquaredError, 3),
        u.at("message").get<std::string>());
  }
  stats.report(sizeof(S) == 4 ? "metrics (float)" : "metrics (double)");
}

OptimizerConfig configFromJson(const json& c) {
  OptimizerConfig config{c.at("class_name").get<std::string>(), {}};
  for (const auto& [key, value] : c.at("config").items()) {
    config.values[key] = value.is_boolean() ? (value.get<bool>() ? 1.0 : 0.0) : value.get<double>();
  }
  return config;
}

TEMPLATE_TEST_CASE("train: optimizers match TF.js (six steps on two variables)", "[train][golden]",
                   float, double) {
  using S = TestType;
  const json doc = readGolden("optimizers.json");
  ErrorStats stats;
  std::size_t cases = 0;
  for (const auto& c : doc.at("cases")) {
    const std::string name = c.at("name");
    INFO(name);
    const OptimizerConfig expected = configFromJson(c);
    auto opt = c.at("factory") == "compile"
                   ? recurrent::train::getOptimizer<S>(c.at("args").at(0).get<std::string>())
                   : recurrent::train::optimizerFromConfig<S>(expected);
    CHECK(std::string(opt->className()) == expected.className);
    CHECK(opt->getConfig().values == expected.values);

    std::vector<FlatTensor<S>> values, grads;
    for (const auto& v : c.at("initial")) values.push_back(fromJson<S>(v));
    grads.resize(values.size());
    std::vector<Variable<S>> vars;
    std::vector<const S*> slots;  // after the first call: must never move
    std::size_t step = 0;
    for (const auto& s : c.at("steps")) {
      INFO("step " << step);
      vars.clear();
      for (std::size_t k = 0; k < values.size(); ++k) {
        grads[k] = fromJson<S>(s.at("gradients").at(k));
        vars.push_back({values[k].data.data(), grads[k].data.data(), values[k].size()});
      }
      opt->applyGradients(vars);
      for (std::size_t k = 0; k < values.size(); ++k) {
        compareTensor(name + " variable " + std::to_string(k), values[k], s.at("values").at(k),
                      stats);
      }
      std::vector<const S*> now;
      for (std::size_t k = 0; k < values.size(); ++k) {
        for (int j = 0; j < opt->slotsPerVariable(); ++j) now.push_back(opt->slot(k, j));
      }
      if (step == 0) slots = now;
      CHECK(now == slots);
      ++step;
    }
    CHECK(opt->iterations() == c.at("iterations").get<Index>());
    ++cases;
  }
  CHECK(cases >= 20);
  for (const auto& u : doc.at("unknown_names")) {
    CHECK_THROWS_WITH(recurrent::train::getOptimizer<S>(u.at("name").get<std::string>()),
                      u.at("message").get<std::string>());
  }
  stats.report(sizeof(S) == 4 ? "optimizers (float)" : "optimizers (double)");
}

#endif  // RECURRENT_HAS_JSON

}  // namespace
