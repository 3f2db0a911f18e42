// Activations vs scalar reference formulas written here (double), and name parsing.
#include "support/catch.hpp"
#include <recurrent/recurrent.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace {

using recurrent::Activation;
using recurrent::ActivationKind;

double clip(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

double refSoftplus(double x) {
  const double th = std::log(1.1920928955078125e-7) + 2.0;
  if (x < th) return std::exp(x);
  if (x > -th) return x;
  return std::log1p(std::exp(x));
}

double reference(ActivationKind k, double x) {
  const double pi = 3.14159265358979323846;
  switch (k) {
    case ActivationKind::Tanh:
      return std::tanh(x);
    case ActivationKind::Sigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case ActivationKind::HardSigmoid:
      return clip(0.2 * x + 0.5, 0.0, 1.0);
    case ActivationKind::HardSigmoidKeras3:
      return clip(x / 6.0 + 0.5, 0.0, 1.0);
    case ActivationKind::Relu:
      return x > 0 ? x : 0.0;
    case ActivationKind::Relu6:
      return clip(x, 0.0, 6.0);
    case ActivationKind::Linear:
      return x;
    case ActivationKind::Elu:
      return x > 0 ? x : std::exp(x) - 1.0;
    case ActivationKind::Selu:
      return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (std::exp(x) - 1.0));
    case ActivationKind::Softplus:
      return refSoftplus(x);
    case ActivationKind::Softsign:
      return x / (1.0 + std::fabs(x));
    case ActivationKind::Swish:
      return x / (1.0 + std::exp(-x));
    case ActivationKind::Mish:
      return x * std::tanh(refSoftplus(x));
    case ActivationKind::Gelu:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case ActivationKind::GeluNew:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / pi) * (x + 0.044715 * x * x * x)));
    default:
      return 0.0;
  }
}

const std::vector<ActivationKind> kElementwise = {
    ActivationKind::Tanh,     ActivationKind::Sigmoid, ActivationKind::HardSigmoid,
    ActivationKind::Relu,     ActivationKind::Relu6,   ActivationKind::Linear,
    ActivationKind::Elu,      ActivationKind::Selu,    ActivationKind::Softplus,
    ActivationKind::Softsign, ActivationKind::Swish,   ActivationKind::Mish,
    ActivationKind::Gelu,     ActivationKind::GeluNew, ActivationKind::HardSigmoidKeras3};

template <class S>
recurrent::Matrix<S> sampleInputs() {
  // Covers both softplus thresholds (|x| > 13.9), hard-sigmoid saturation and relu6 clipping.
  const std::vector<double> xs = {-20.0, -15.0, -13.0, -7.0, -3.0, -2.5, -1.0, -0.3, 0.0, 0.25,
                                  0.9,   2.0,   2.5,   3.0,  5.0,  6.5,  13.0, 15.0, 20.0};
  recurrent::Matrix<S> m(1, static_cast<Eigen::Index>(xs.size()));
  for (std::size_t i = 0; i < xs.size(); ++i)
    m(0, static_cast<Eigen::Index>(i)) = static_cast<S>(xs[i]);
  return m;
}

}  // namespace

TEMPLATE_TEST_CASE("element-wise activations match their scalar formulas", "[activations]", float,
                   double) {
  using S = TestType;
  const double tol = std::is_same_v<S, float> ? 2e-6 : 1e-12;
  for (ActivationKind k : kElementwise) {
    const recurrent::Matrix<S> in = sampleInputs<S>();
    recurrent::Matrix<S> out = in;
    Activation(k).apply(out);
    for (Eigen::Index i = 0; i < in.cols(); ++i) {
      const double x = static_cast<double>(in(0, i));
      const double want = reference(k, x);
      INFO("activation " << Activation(k).name() << " at x = " << x);
      CHECK(static_cast<double>(out(0, i)) ==
            recurrent_test::Approx(want).epsilon(tol).margin(tol));
    }
  }
}

TEST_CASE("hard sigmoid variants have their documented slopes", "[activations]") {
  recurrent::Matrix<double> a(1, 3), b(1, 3);
  a << -10.0, 1.0, 10.0;
  b = a;
  Activation(ActivationKind::HardSigmoid).apply(a);
  Activation(ActivationKind::HardSigmoidKeras3).apply(b);
  CHECK(a(0, 0) == 0.0);
  CHECK(a(0, 1) == recurrent_test::Approx(0.7));
  CHECK(a(0, 2) == 1.0);
  CHECK(b(0, 0) == 0.0);
  CHECK(b(0, 1) == recurrent_test::Approx(1.0 / 6.0 + 0.5));
  CHECK(b(0, 2) == 1.0);
}

TEMPLATE_TEST_CASE("softmax and logSoftmax act per row of a block", "[activations]", float,
                   double) {
  using S = TestType;
  recurrent::Matrix<S> big(3, 6);
  for (Eigen::Index r = 0; r < 3; ++r)
    for (Eigen::Index c = 0; c < 6; ++c)
      big(r, c) = static_cast<S>(0.7 * static_cast<double>(c) - 1.3 * static_cast<double>(r) +
                                 (r == 2 ? 50.0 : 0.0));
  const recurrent::Matrix<S> orig = big;
  // Apply only to a column block (like one gate); the rest must be untouched.
  recurrent::Matrix<S> sm = big, lsm = big;
  Activation(ActivationKind::Softmax).apply(sm.middleCols(1, 4));
  Activation(ActivationKind::LogSoftmax).apply(lsm.middleCols(1, 4));
  for (Eigen::Index r = 0; r < 3; ++r) {
    double mx = -1e300;
    for (Eigen::Index c = 1; c < 5; ++c) mx = std::max(mx, static_cast<double>(orig(r, c)));
    double sum = 0.0;
    for (Eigen::Index c = 1; c < 5; ++c) sum += std::exp(static_cast<double>(orig(r, c)) - mx);
    double smSum = 0.0, lseOfLsm = 0.0;
    for (Eigen::Index c = 1; c < 5; ++c) {
      const double x = static_cast<double>(orig(r, c));
      CHECK(static_cast<double>(sm(r, c)) ==
            recurrent_test::Approx(std::exp(x - mx) / sum).epsilon(1e-5));
      CHECK(static_cast<double>(lsm(r, c)) ==
            recurrent_test::Approx(x - mx - std::log(sum)).epsilon(1e-5).margin(1e-5));
      smSum += static_cast<double>(sm(r, c));
      lseOfLsm += std::exp(static_cast<double>(lsm(r, c)));
    }
    CHECK(smSum == recurrent_test::Approx(1.0).epsilon(1e-5));
    CHECK(std::log(lseOfLsm) == recurrent_test::Approx(0.0).margin(1e-5));
    CHECK(sm(r, 0) == orig(r, 0));
    CHECK(sm(r, 5) == orig(r, 5));
    CHECK(lsm(r, 0) == orig(r, 0));
    CHECK(lsm(r, 5) == orig(r, 5));
  }
}

TEST_CASE("Activation::fromName parses the 16 TF.js names", "[activations]") {
  const std::vector<std::pair<std::string, ActivationKind>> names = {
      {"tanh", ActivationKind::Tanh},
      {"sigmoid", ActivationKind::Sigmoid},
      {"hardSigmoid", ActivationKind::HardSigmoid},
      {"relu", ActivationKind::Relu},
      {"relu6", ActivationKind::Relu6},
      {"linear", ActivationKind::Linear},
      {"elu", ActivationKind::Elu},
      {"selu", ActivationKind::Selu},
      {"softplus", ActivationKind::Softplus},
      {"softsign", ActivationKind::Softsign},
      {"swish", ActivationKind::Swish},
      {"mish", ActivationKind::Mish},
      {"gelu", ActivationKind::Gelu},
      {"gelu_new", ActivationKind::GeluNew},
      {"softmax", ActivationKind::Softmax},
      {"logSoftmax", ActivationKind::LogSoftmax}};
  REQUIRE(names.size() == 16);
  for (const auto& [name, kind] : names) {
    INFO(name);
    const Activation a = Activation::fromName(name);
    CHECK(a.kind() == kind);
    CHECK(a == Activation(kind));
    CHECK(std::string(a.name()) == name);
  }
  CHECK(std::string(Activation(ActivationKind::HardSigmoidKeras3).name()) == "hardSigmoidKeras3");
}

TEST_CASE("Activation::fromName refuses unknown and snake_case names", "[activations]") {
  CHECK_THROWS_AS(Activation::fromName("hard_sigmoid"), recurrent::ConfigError);
  CHECK_THROWS_AS(Activation::fromName("foo"), recurrent::ConfigError);
  CHECK_THROWS_AS(Activation::fromName("Tanh"), recurrent::ConfigError);
  CHECK_THROWS_AS(Activation::fromName("hardSigmoidKeras3"), recurrent::ConfigError);
  CHECK_THROWS_WITH(Activation::fromName("foo"), recurrent_test::ContainsSubstring("foo"));
}

TEST_CASE("compile-time activation policies agree with the run-time dispatch", "[activations]") {
  recurrent::Matrix<double> a = sampleInputs<double>(), b = a;
  recurrent::activations::Selu::apply(a);
  Activation(ActivationKind::Selu).apply(b);
  CHECK(a == b);
  recurrent::Matrix<double> c = sampleInputs<double>(), d = c;
  recurrent::activations::Gelu::apply(c);
  Activation(ActivationKind::Gelu).apply(d);
  CHECK(c == d);
}
