// Gradients (backpropagation through time): central finite differences in double of every cell
// and layer option, a user-written differentiable cell, bitwise thread independence, accumulate,
// the forward staying bitwise the same when recorded, and the backward errors.
#include "support/catch.hpp"
#include "support/random_data.hpp"
#include <recurrent/recurrent.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using recurrent_test::Lcg;

using recurrent::ActivationKind;
using recurrent::AnyLayer;
using recurrent::FlatTensor;
using recurrent::Index;
using recurrent::LayerCallArgs;
using recurrent::LayerGradients;
using recurrent::Matrix;
using recurrent::MergeMode;

FlatTensor<double> randomTensor(std::vector<Index> shape, Lcg& g, double range = 1.0) {
  FlatTensor<double> t(std::move(shape), {});
  for (Index i = 0; i < t.size(); ++i) t.data.push_back(range * g.next());
  return t;
}

/// A 0 / (1 / (1 − rate)) mask with at least one dropped and one kept entry.
FlatTensor<double> dropoutMask(Index rows, Index cols, double rate, Lcg& g) {
  FlatTensor<double> t({rows, cols}, {});
  for (Index i = 0; i < rows * cols; ++i)
    t.data.push_back(g.unit() < rate ? 0.0 : 1.0 / (1 - rate));
  t.data[0] = 0.0;
  t.data.back() = 1.0 / (1 - rate);
  return t;
}

/// Random weights in [-range, range) for every weight of `layer` (non-zero biases too).
void randomizeWeights(AnyLayer<double>& layer, Lcg& g, double range = 0.6) {
  std::vector<FlatTensor<double>> values;
  for (const auto& w : layer.getWeights()) values.push_back(randomTensor(w.value.shape, g, range));
  layer.setWeights(values);
}

double dot(const std::vector<FlatTensor<double>>& a, const std::vector<FlatTensor<double>>& b) {
  double s = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k)
    for (std::size_t i = 0; i < a[k].data.size(); ++i) s += a[k].data[i] * b[k].data[i];
  return s;
}

struct FdReport {
  std::size_t entries = 0;
  double worst = 0.0;  // max |analytic − numeric| − tolerance (≤ 0: pass)
  std::string where;
};

/// Compares every gradient `backward` gives for L = Σ outputs ⊙ w with central differences.
/// `args` must make the call deterministic (no drawn dropout: give masks explicitly).
FdReport checkFiniteDifferences(AnyLayer<double>& layer, const FlatTensor<double>& x,
                                LayerCallArgs<double> args, std::uint64_t seed) {
  Lcg g(seed);
  args.record = true;
  const auto outputs = layer.apply(x, args);
  std::vector<FlatTensor<double>> w;
  for (const auto& o : outputs) w.push_back(randomTensor(o.shape, g));
  LayerGradients<double> grads;
  layer.backward(w, grads);
  args.record = false;

  FdReport report;
  const double h = 1e-5;
  auto loss = [&](const FlatTensor<double>& input) { return dot(layer.apply(input, args), w); };
  auto compare = [&](double analytic, double numeric, const std::string& what) {
    const double excess = std::abs(analytic - numeric) - (1e-6 + 1e-5 * std::abs(numeric));
    ++report.entries;
    if (excess > report.worst || !(excess == excess)) {
      report.worst = excess == excess ? excess : 1e300;
      std::ostringstream os;
      os << what << ": backward " << analytic << ", finite differences " << numeric;
      report.where = os.str();
    }
  };
  // Inputs.
  FlatTensor<double> xp = x;
  REQUIRE(grads.inputs.shape == x.shape);
  for (std::size_t i = 0; i < x.data.size(); ++i) {
    xp.data[i] = x.data[i] + h;
    const double up = loss(xp);
    xp.data[i] = x.data[i] - h;
    const double down = loss(xp);
    xp.data[i] = x.data[i];
    compare(grads.inputs.data[i], (up - down) / (2 * h), "dx[" + std::to_string(i) + "]");
  }
  // Initial states.
  REQUIRE(grads.initialState.size() >= args.initialState.size());
  for (std::size_t k = 0; k < args.initialState.size(); ++k) {
    auto& s = args.initialState[k];
    for (std::size_t i = 0; i < s.data.size(); ++i) {
      const double v = s.data[i];
      s.data[i] = v + h;
      const double up = loss(x);
      s.data[i] = v - h;
      const double down = loss(x);
      s.data[i] = v;
      compare(grads.initialState[k].data[i], (up - down) / (2 * h),
              "dInitialState[" + std::to_string(k) + "][" + std::to_string(i) + "]");
    }
  }
  // Weights.
  std::vector<FlatTensor<double>> values;
  for (const auto& wt : layer.getWeights()) values.push_back(wt.value);
  REQUIRE(grads.weights.size() == values.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    REQUIRE(grads.weights[k].shape == values[k].shape);
    for (std::size_t i = 0; i < values[k].data.size(); ++i) {
      const double v = values[k].data[i];
      values[k].data[i] = v + h;
      layer.setWeights(values);
      const double up = loss(x);
      values[k].data[i] = v - h;
      layer.setWeights(values);
      const double down = loss(x);
      values[k].data[i] = v;
      compare(grads.weights[k].data[i], (up - down) / (2 * h),
              layer.getWeights()[k].name + "[" + std::to_string(i) + "]");
    }
  }
  layer.setWeights(values);
  return report;
}

#define REQUIRE_FD(layer, x, args, seed)                              \
  do {                                                                \
    const FdReport r_ = checkFiniteDifferences(layer, x, args, seed); \
    INFO("worst: " << r_.where << " (" << r_.entries << " entries)"); \
    REQUIRE(r_.entries > 0);                                          \
    REQUIRE(r_.worst <= 0.0);                                         \
  } while (false)

enum class Kind { SimpleRNN, GRU, GRUResetAfter, LSTM };

struct LayerSpec {
  Kind kind = Kind::LSTM;
  Index units = 3;
  recurrent::Activation activation = ActivationKind::Tanh;
  recurrent::Activation recurrentActivation = ActivationKind::HardSigmoid;
  bool useBias = true;
  double dropout = 0.0, recurrentDropout = 0.0;
  recurrent::RNNLayerOptions options;
};

template <class Args>
Args cellArgs(const LayerSpec& s) {
  Args a;
  a.units = s.units;
  a.activation = s.activation;
  a.useBias = s.useBias;
  a.dropout = s.dropout;
  a.recurrentDropout = s.recurrentDropout;
  static_cast<recurrent::RNNLayerOptions&>(a) = s.options;
  return a;
}

AnyLayer<double> makeLayer(const LayerSpec& s) {
  switch (s.kind) {
    case Kind::SimpleRNN:
      return AnyLayer<double>(recurrent::SimpleRNN<double>(cellArgs<recurrent::SimpleRNNArgs>(s)));
    case Kind::GRU:
    case Kind::GRUResetAfter: {
      auto a = cellArgs<recurrent::GRUArgs>(s);
      a.recurrentActivation = s.recurrentActivation;
      a.resetAfter = s.kind == Kind::GRUResetAfter;
      return AnyLayer<double>(recurrent::GRU<double>(a));
    }
    case Kind::LSTM:
      break;
  }
  auto a = cellArgs<recurrent::LSTMArgs>(s);
  a.recurrentActivation = s.recurrentActivation;
  return AnyLayer<double>(recurrent::LSTM<double>(a));
}

Index stateCount(Kind k) { return k == Kind::LSTM ? 2 : 1; }

const char* kindName(Kind k) {
  switch (k) {
    case Kind::SimpleRNN:
      return "SimpleRNN";
    case Kind::GRU:
      return "GRU";
    case Kind::GRUResetAfter:
      return "GRU(resetAfter)";
    case Kind::LSTM:
      return "LSTM";
  }
  return "";
}

constexpr Kind kKinds[] = {Kind::SimpleRNN, Kind::GRU, Kind::GRUResetAfter, Kind::LSTM};

/// A mask with a leading, an interior and a trailing masked step, and a fully masked sample.
FlatTensor<double> sequenceMask(Index batch, Index time) {
  FlatTensor<double> m({batch, time},
                       std::vector<double>(static_cast<std::size_t>(batch * time), 1.0));
  m.data[0] = 0.0;                                       // sample 0, step 0
  m.data[static_cast<std::size_t>(time / 2)] = 0.0;      // sample 0, an interior step
  m.data[static_cast<std::size_t>(2 * time - 1)] = 0.0;  // sample 1, the last step
  if (batch > 2)
    for (Index t = 0; t < time; ++t) m.data[static_cast<std::size_t>(2 * time + t)] = 0.0;
  return m;
}

}  // namespace

TEST_CASE(
    "gradients: every cell x returnSequences x returnState x goBackwards x mask x initialState",
    "[gradients]") {
  const Index B = 3, T = 4, F = 2;
  std::uint64_t seed = 100;
  for (Kind kind : kKinds) {
    for (int flags = 0; flags < 32; ++flags) {
      LayerSpec s;
      s.kind = kind;
      s.options.returnSequences = (flags & 1) != 0;
      s.options.returnState = (flags & 2) != 0;
      s.options.goBackwards = (flags & 4) != 0;
      const bool masked = (flags & 8) != 0, initial = (flags & 16) != 0;
      if (kind != Kind::LSTM) s.recurrentActivation = ActivationKind::Sigmoid;
      Lcg g(++seed);
      AnyLayer<double> layer = makeLayer(s);
      layer.build({B, T, F});
      randomizeWeights(layer, g);
      const FlatTensor<double> x = randomTensor({B, T, F}, g);
      LayerCallArgs<double> args;
      if (masked) args.mask = sequenceMask(B, T);
      if (initial)
        for (Index k = 0; k < stateCount(kind); ++k)
          args.initialState.push_back(randomTensor({B, s.units}, g));
      INFO(kindName(kind) << " flags " << flags);
      REQUIRE_FD(layer, x, args, seed);
    }
  }
}

TEST_CASE("gradients: every activation, as activation and as recurrentActivation", "[gradients]") {
  std::uint64_t seed = 500;
  // The differentiable kinds: the parametric ones (ONNX) are inference-only (test_onnx.cpp).
  for (std::size_t a = 0; a < recurrent::Activation::kModelFileCount; ++a) {
    const auto act = static_cast<ActivationKind>(a);
    for (Kind kind : kKinds) {
      for (int asRecurrent = 0; asRecurrent < (kind == Kind::SimpleRNN ? 1 : 2); ++asRecurrent) {
        LayerSpec s;
        s.kind = kind;
        s.units = 3;
        s.options.returnSequences = true;
        s.options.returnState = true;
        if (asRecurrent != 0) {
          s.recurrentActivation = act;
        } else {
          s.activation = act;
        }
        Lcg g(++seed);
        AnyLayer<double> layer = makeLayer(s);
        layer.build({2, 3, 2});
        randomizeWeights(layer, g);
        INFO(kindName(kind) << (asRecurrent != 0 ? " recurrentActivation " : " activation ")
                            << recurrent::Activation(act).name());
        REQUIRE_FD(layer, randomTensor({2, 3, 2}, g), LayerCallArgs<double>{}, seed);
      }
    }
  }
}

TEST_CASE("gradients: dropout masks (given), useBias false, MaskedOutput::Zeros, T = 1",
          "[gradients]") {
  const Index B = 2, T = 3, F = 3;
  std::uint64_t seed = 900;
  for (Kind kind : kKinds) {
    for (int variant = 0; variant < 6; ++variant) {
      LayerSpec s;
      s.kind = kind;
      s.options.returnSequences = true;
      s.options.returnState = variant % 2 == 0;
      s.dropout = variant == 0 || variant == 2 ? 0.3 : 0.0;
      s.recurrentDropout = variant == 1 || variant == 2 ? 0.4 : 0.0;
      s.useBias = variant != 3;
      if (variant == 4) s.options.maskedOutput = recurrent::MaskedOutput::Zeros;
      const Index time = variant == 5 ? 1 : T;
      Lcg g(++seed);
      AnyLayer<double> layer = makeLayer(s);
      layer.build({B, time, F});
      randomizeWeights(layer, g);
      LayerCallArgs<double> args;
      args.training = true;
      if (s.dropout > 0 || s.recurrentDropout > 0) {
        recurrent::LayerDropoutMasks<double> m;
        if (s.dropout > 0) m.input = dropoutMask(B, F, s.dropout, g);
        if (s.recurrentDropout > 0) m.recurrent = dropoutMask(B, s.units, s.recurrentDropout, g);
        args.dropoutMasks.push_back(m);
      }
      if (variant == 4 || variant == 5) args.mask = sequenceMask(B, time);
      INFO(kindName(kind) << " variant " << variant);
      REQUIRE_FD(layer, randomTensor({B, time, F}, g), args, seed);
    }
  }
}

TEST_CASE("gradients: stacked cells (compile-time and AnyCell), reverse state order",
          "[gradients]") {
  using namespace recurrent;
  const Index B = 2, T = 4, F = 3;
  LSTMCellArgs l;
  l.units = 3;
  l.dropout = 0.25;
  GRUCellArgs gr;
  gr.units = 2;
  gr.recurrentDropout = 0.5;
  gr.resetAfter = true;
  SimpleRNNCellArgs sr;
  sr.units = 2;
  sr.activation = ActivationKind::Relu6;
  RNNLayerArgs la;
  la.returnSequences = true;
  la.returnState = true;
  for (int form = 0; form < 2; ++form) {
    for (int goBackwards = 0; goBackwards < 2; ++goBackwards) {
      la.goBackwards = goBackwards != 0;
      std::optional<AnyLayer<double>> layer;
      if (form == 0) {
        StackedRNNCells stack{LSTMCell<double>(l), GRUCell<double>(gr), SimpleRNNCell<double>(sr)};
        layer.emplace(RNN<decltype(stack)>(stack, la));
      } else {
        std::vector<AnyCell<double>> cells{LSTMCell<double>(l), GRUCell<double>(gr),
                                           SimpleRNNCell<double>(sr)};
        layer.emplace(RNN<StackedRNNCells<std::vector<AnyCell<double>>>>(
            StackedRNNCells<std::vector<AnyCell<double>>>(cells), la));
      }
      Lcg g(1300 + static_cast<std::uint64_t>(2 * form + goBackwards));
      layer->build({B, T, F});
      randomizeWeights(*layer, g);
      LayerCallArgs<double> args;
      args.mask = sequenceMask(B, T);
      // TF.js order: SimpleRNN's h, GRU's h, LSTM's h and c.
      for (Index w : {2, 2, 3, 3}) args.initialState.push_back(randomTensor({B, w}, g));
      LayerDropoutMasks<double> m0, m1;
      m0.cell = 0;
      m0.input = dropoutMask(B, F, 0.25, g);
      m1.cell = 1;
      m1.recurrent = dropoutMask(B, 2, 0.5, g);
      args.dropoutMasks = {m0, m1};
      INFO("form " << form << " goBackwards " << goBackwards);
      REQUIRE_FD(*layer, randomTensor({B, T, F}, g), args, 1300);
    }
  }
}

TEST_CASE("gradients: Bidirectional, every merge mode, returnState, initial states",
          "[gradients]") {
  using namespace recurrent;
  const Index B = 2, T = 3, F = 2;
  std::uint64_t seed = 1500;
  for (MergeMode mode :
       {MergeMode::Concat, MergeMode::Sum, MergeMode::Mul, MergeMode::Ave, MergeMode::None}) {
    for (int variant = 0; variant < 3; ++variant) {
      LSTMArgs a;
      a.units = 2;
      a.returnSequences = variant != 1;
      a.returnState = variant != 0;
      a.goBackwards = variant == 2;
      a.recurrentDropout = 0.5;
      BidirectionalArgs ba;
      ba.mergeMode = mode;
      AnyLayer<double> layer(Bidirectional<LSTM<double>>(LSTM<double>(a), ba));
      Lcg g(++seed);
      layer.build({B, T, F});
      randomizeWeights(layer, g);
      LayerCallArgs<double> args;
      args.training = true;
      LayerDropoutMasks<double> fw, bw;
      fw.cell = 0;
      fw.recurrent = dropoutMask(B, 2, 0.5, g);
      bw.cell = 1;  // the backward layer's cell
      bw.recurrent = dropoutMask(B, 2, 0.5, g);
      args.dropoutMasks = {fw, bw};
      if (variant == 2) {
        args.mask = sequenceMask(B, T);
        for (int k = 0; k < 4; ++k) args.initialState.push_back(randomTensor({B, 2}, g));
      }
      INFO("mergeMode " << static_cast<int>(mode) << " variant " << variant);
      REQUIRE_FD(layer, randomTensor({B, T, F}, g), args, seed);
    }
  }
}

namespace {

/// A user-written cell with the whole protocol, gradients included, outside the library's CRTP
/// base: h' = tanh(x·W + h·U) (no bias). It proves that RNN<Cell>::backward needs nothing
/// but the documented members.
class MinimalTanhCell {
 public:
  using Scalar = double;
  explicit MinimalTanhCell(Index units) : units_(units) {}
  static const char* className() { return "MinimalTanhCell"; }
  const std::string& name() const { return name_; }
  Index units() const { return units_; }
  Index inputDim() const { return w_.rows(); }
  bool built() const { return w_.rows() > 0; }
  void build(Index inputDim) {
    Lcg g(7);
    w_ = Matrix<double>::NullaryExpr(inputDim, units_, [&] { return 0.5 * g.next(); });
    u_ = Matrix<double>::NullaryExpr(units_, units_, [&] { return 0.5 * g.next(); });
    ++version_;
  }
  std::vector<Index> stateSize() const { return {units_}; }
  Index stateWidth() const { return units_; }
  Index projectionSize() const { return units_; }
  std::vector<recurrent::Weight<double>> getWeights() const {
    return {{"kernel", FlatTensor<double>(w_)}, {"recurrent_kernel", FlatTensor<double>(u_)}};
  }
  void setWeights(const std::vector<FlatTensor<double>>& v) {
    w_ = Eigen::Map<const Matrix<double>>(v.at(0).data.data(), v[0].shape.at(0), units_);
    u_ = Eigen::Map<const Matrix<double>>(v.at(1).data.data(), units_, units_);
    ++version_;
  }
  void prepare(Index) {}
  void generateDropoutMasks(Index, bool, recurrent::RandomEngine&) {}
  bool dropoutActive() const { return false; }
  template <bool>
  void projectInputs(const recurrent::ConstRows<double>& x, recurrent::Rows<double> out, Index) {
    out.noalias() = x * w_;
  }
  template <bool>
  void step(const recurrent::ConstRows<double>& xProj, const recurrent::ConstRows<double>& prev,
            recurrent::Rows<double> next) {
    next = (xProj + prev * u_).array().tanh().matrix();
  }
  // Gradients: the record is h' itself.
  Index recordWidth() const { return units_; }
  Index recurrentGradWidth() const { return 0; }
  std::uint64_t weightsVersion() const { return version_; }
  void prepareBackward(Index) {}
  template <bool D>
  void stepRecord(const recurrent::ConstRows<double>& xProj,
                  const recurrent::ConstRows<double>& prev, recurrent::Rows<double> next,
                  recurrent::Rows<double> record) {
    step<D>(xProj, prev, next);
    record = next;
  }
  template <bool>
  void stepBackward(const recurrent::ConstRows<double>& record, const recurrent::ConstRows<double>&,
                    const recurrent::ConstRows<double>& dNext, recurrent::Rows<double> dPrev,
                    recurrent::Rows<double> dProj, recurrent::Rows<double>) {
    dProj = (dNext.array() * (1.0 - record.array().square())).matrix();
    dPrev.noalias() = dProj * u_.transpose();
  }
  void inputGradients(const recurrent::ConstRows<double>& dProj, recurrent::Rows<double> dx, Index,
                      bool accumulate) {
    if (accumulate) {
      dx.noalias() += dProj * w_.transpose();
    } else {
      dx.noalias() = dProj * w_.transpose();
    }
  }
  void weightGradients(const recurrent::ConstRows<double>& x,
                       const recurrent::ConstRows<double>& dProj,
                       const recurrent::ConstRows<double>& states,
                       const recurrent::ConstRows<double>&, const recurrent::ConstRows<double>&,
                       Index, FlatTensor<double>* grads) {
    Eigen::Map<Matrix<double>>(grads[0].data.data(), w_.rows(), units_).noalias() +=
        x.transpose() * dProj;
    Eigen::Map<Matrix<double>>(grads[1].data.data(), units_, units_).noalias() +=
        states.topRows(dProj.rows()).transpose() * dProj;
  }

 private:
  Index units_;
  std::string name_ = "minimal_tanh_cell";
  Matrix<double> w_, u_;
  std::uint64_t version_ = 0;
};

/// The same cell without the gradient members: usable for inference only.
class InferenceOnlyCell : public MinimalTanhCell {
 public:
  using MinimalTanhCell::MinimalTanhCell;
  Index recordWidth() const = delete;
};

}  // namespace

TEST_CASE("gradients: a user cell with the backward members", "[gradients]") {
  static_assert(recurrent::is_differentiable_cell<MinimalTanhCell>);
  static_assert(recurrent::is_rnn_cell<InferenceOnlyCell>);
  static_assert(!recurrent::is_differentiable_cell<InferenceOnlyCell>);
  recurrent::RNNLayerArgs la;
  la.returnSequences = true;
  la.returnState = true;
  for (int goBackwards = 0; goBackwards < 2; ++goBackwards) {
    la.goBackwards = goBackwards != 0;
    AnyLayer<double> layer(recurrent::RNN<MinimalTanhCell>(MinimalTanhCell(3), la));
    Lcg g(1700);
    layer.build({2, 4, 2});
    LayerCallArgs<double> args;
    args.mask = sequenceMask(2, 4);
    args.initialState.push_back(randomTensor({2, 3}, g));
    REQUIRE_FD(layer, randomTensor({2, 4, 2}, g), args, 1700);
  }
  // A cell without them runs, and asking it for gradients is a typed error (AnyLayer, AnyCell).
  AnyLayer<double> inference(recurrent::RNN<InferenceOnlyCell>(InferenceOnlyCell(2), la));
  Lcg g(1701);
  const auto x = randomTensor({1, 3, 2}, g);
  REQUIRE_NOTHROW(inference.apply(x));
  LayerCallArgs<double> rec;
  rec.record = true;
  REQUIRE_THROWS_AS(inference.apply(x, rec), recurrent::ValueError);
  std::vector<recurrent::AnyCell<double>> cells{InferenceOnlyCell(2)};
  recurrent::RNN<recurrent::StackedRNNCells<std::vector<recurrent::AnyCell<double>>>> any(
      recurrent::StackedRNNCells<std::vector<recurrent::AnyCell<double>>>(cells), la);
  recurrent::Sequence<double> xs(1, 3, 2);
  xs.setConstant(0.5);
  recurrent::CallArgs<double> ca;
  ca.record = true;
  REQUIRE_THROWS_WITH(any.call(xs, ca),
                      recurrent_test::ContainsSubstring("cannot be differentiated"));
}

TEST_CASE("gradients: recording does not change the forward; threads; accumulate", "[gradients]") {
  using namespace recurrent;
  for (int cell = 0; cell < 3; ++cell) {
    LSTMArgs a;
    a.units = 96;
    a.returnSequences = true;
    a.returnState = true;
    GRUArgs ga;
    ga.units = 96;
    ga.returnSequences = true;
    ga.returnState = true;
    ga.resetAfter = cell == 2;
    Lcg g(1900 + static_cast<std::uint64_t>(cell));
    // [B·T, features] = [96, 48]: large enough for every product and transpose of the weight
    // gradients to be split across the two threads.
    const auto x = randomTensor({8, 12, 48}, g);
    auto make = [&](int threads) {
      a.threads = threads;
      ga.threads = threads;
      return cell == 0 ? AnyLayer<float>(LSTM<float>(a)) : AnyLayer<float>(GRU<float>(ga));
    };
    FlatTensor<float> xf({8, 12, 48}, std::vector<float>(x.data.begin(), x.data.end()));
    AnyLayer<float> one = make(1), two = make(2);
    one.build({8, 12, 48});
    two.build({8, 12, 48});
    two.setWeights([&] {
      std::vector<FlatTensor<float>> v;
      for (auto& w : one.getWeights()) v.push_back(w.value);
      return v;
    }());
    const auto plain = one.apply(xf);
    LayerCallArgs<float> rec;
    rec.record = true;
    const auto recorded = one.apply(xf, rec);
    REQUIRE(plain.size() == recorded.size());
    for (std::size_t k = 0; k < plain.size(); ++k) REQUIRE(plain[k].data == recorded[k].data);
    std::vector<FlatTensor<float>> dOut;
    for (const auto& o : recorded) {
      FlatTensor<float> d(o.shape, {});
      for (Index i = 0; i < o.size(); ++i) d.data.push_back(static_cast<float>(g.next()));
      dOut.push_back(d);
    }
    LayerGradients<float> g1, g2;
    one.backward(dOut, g1);
    REQUIRE(two.apply(xf, rec)[0].data == recorded[0].data);
    two.backward(dOut, g2);
    INFO("cell " << cell);
    REQUIRE(g1.inputs.data == g2.inputs.data);
    for (std::size_t k = 0; k < g1.weights.size(); ++k)
      REQUIRE(g1.weights[k].data == g2.weights[k].data);
    for (std::size_t k = 0; k < g1.initialState.size(); ++k)
      REQUIRE(g1.initialState[k].data == g2.initialState[k].data);
  }

  // accumulate: two backward calls add up.
  LSTMArgs a;
  a.units = 3;
  LSTM<double> layer(a);
  Sequence<double> x(2, 3, 2);
  x.setConstant(0.3);
  Matrix<double> dy = Matrix<double>::Constant(2, 3, 0.7);
  CallArgs<double> ca;
  ca.record = true;
  layer.call(x, ca);
  RNNOutputGradients<double> up;
  up.lastOutput = MatrixView<double>(dy.data(), 2, 3);
  RNNGradients<double> once = layer.backward(up), twice = once;
  layer.backward(up, twice, BackwardArgs{true});
  // (The products accumulate into their destination: equal up to rounding, not bitwise.)
  for (std::size_t k = 0; k < once.weights.size(); ++k)
    for (std::size_t i = 0; i < once.weights[k].data.size(); ++i)
      REQUIRE_THAT(twice.weights[k].data[i],
                   Catch::Matchers::WithinRel(2 * once.weights[k].data[i], 1e-12) ||
                       Catch::Matchers::WithinAbs(0.0, 1e-15));
  for (Index i = 0; i < once.inputs.size(); ++i)
    REQUIRE(twice.inputs.data()[i] == 2 * once.inputs.data()[i]);
  REQUIRE(twice.initialState[0] == 2 * once.initialState[0]);

  // Bidirectional: the same, and a second plain call into a reused result gives the same values
  // (its gradients are swapped into the result, the old buffers lent to the next call).
  LSTMArgs ia;
  ia.units = 3;
  ia.returnState = true;
  Bidirectional<LSTM<double>> bi(LSTM<double>(ia), BidirectionalArgs{});
  const auto r = bi.call(x, ca);
  Matrix<double> dyBi = Matrix<double>::Constant(2, 6, 0.4);
  BidirectionalOutputGradients<double> upBi;
  upBi.lastOutput = MatrixView<double>(dyBi.data(), 2, 6);
  for (const auto& st : r.states) upBi.states.push_back(st);
  RNNGradients<double> bOnce = bi.backward(upBi), bAgain = bOnce, bTwice = bOnce;
  bi.backward(upBi, bAgain);
  bi.backward(upBi, bTwice, BackwardArgs{true});
  REQUIRE(bOnce.weights.size() == 6);
  REQUIRE(bOnce.initialState.size() == 4);
  for (std::size_t k = 0; k < bOnce.weights.size(); ++k) {
    REQUIRE(bAgain.weights[k].shape == bOnce.weights[k].shape);
    REQUIRE(bAgain.weights[k].data == bOnce.weights[k].data);
    for (std::size_t i = 0; i < bOnce.weights[k].data.size(); ++i)
      REQUIRE(bTwice.weights[k].data[i] == 2 * bOnce.weights[k].data[i]);
  }
  for (Index i = 0; i < bOnce.inputs.size(); ++i) {
    REQUIRE(bAgain.inputs.data()[i] == bOnce.inputs.data()[i]);
    REQUIRE(bTwice.inputs.data()[i] == 2 * bOnce.inputs.data()[i]);
  }
  for (std::size_t k = 0; k < bOnce.initialState.size(); ++k) {
    REQUIRE(bAgain.initialState[k] == bOnce.initialState[k]);
    REQUIRE(bTwice.initialState[k] == 2 * bOnce.initialState[k]);
  }
  RNNGradients<double> wrong = bOnce;
  wrong.weights.pop_back();
  REQUIRE_THROWS_AS(bi.backward(upBi, wrong, BackwardArgs{true}), ShapeError);
}

TEST_CASE("gradients: stateful layers differentiate from the stored states (truncated BPTT)",
          "[gradients]") {
  using namespace recurrent;
  GRUArgs a;
  a.units = 3;
  a.stateful = true;
  a.returnSequences = true;
  GRU<double> stateful(a);
  a.stateful = false;
  GRU<double> plain(a);
  Sequence<double> x(2, 3, 2);
  x.setRandom();
  stateful.call(x);  // stored states now non-zero
  plain.setWeights([&] {
    std::vector<FlatTensor<double>> v;
    for (auto& w : stateful.getWeights()) v.push_back(w.value);
    return v;
  }());
  const auto stored = stateful.getStates();
  Sequence<double> dy(2, 3, 3);
  dy.setRandom();
  RNNOutputGradients<double> up;
  up.sequence = dy;
  CallArgs<double> rec;
  rec.record = true;
  stateful.call(x, rec);
  const auto gs = stateful.backward(up);
  CallArgs<double> withInit = rec;
  withInit.initialState = {MatrixView<double>(stored[0].data(), 2, 3)};
  plain.call(x, withInit);
  const auto gp = plain.backward(up);
  for (std::size_t k = 0; k < gs.weights.size(); ++k)
    REQUIRE(gs.weights[k].data == gp.weights[k].data);
  REQUIRE(gs.initialState[0] == gp.initialState[0]);
}

TEST_CASE("gradients: backward errors name the layer, the argument, expected and received",
          "[gradients]") {
  using namespace recurrent;
  LSTMArgs a;
  a.units = 3;
  a.returnSequences = true;
  a.returnState = true;
  a.name = "enc";
  LSTM<double> layer(a);
  Sequence<double> x(2, 4, 2);
  x.setConstant(0.1);
  Sequence<double> dy(2, 4, 3);
  dy.setConstant(1.0);
  RNNOutputGradients<double> up;
  up.sequence = dy;
  using recurrent_test::ContainsSubstring;
  REQUIRE_THROWS_AS(layer.backward(up), StateError);
  REQUIRE_THROWS_WITH(layer.backward(up),
                      ContainsSubstring("'enc'.backward") && ContainsSubstring("record = true"));
  layer.call(x);  // not recorded
  REQUIRE_THROWS_AS(layer.backward(up), StateError);
  CallArgs<double> rec;
  rec.record = true;
  layer.call(x, rec);
  Sequence<double> wrong(2, 5, 3);
  wrong.setConstant(1.0);
  RNNOutputGradients<double> bad;
  bad.sequence = wrong;
  REQUIRE_THROWS_AS(layer.backward(bad), ShapeError);
  REQUIRE_THROWS_WITH(layer.backward(bad), ContainsSubstring("dOutputs.sequence") &&
                                               ContainsSubstring("[2, 4, 3]") &&
                                               ContainsSubstring("[2, 5, 3]"));
  Matrix<double> h = Matrix<double>::Zero(2, 3);
  RNNOutputGradients<double> oneState = up;
  oneState.states = {MatrixView<double>(h.data(), 2, 3)};
  REQUIRE_THROWS_WITH(layer.backward(oneState),
                      ContainsSubstring("dOutputs.states") && ContainsSubstring("expected 2"));
  REQUIRE_NOTHROW(layer.backward(up));
  REQUIRE_NOTHROW(layer.backward(up));  // the recording stays until the next call
  auto w = layer.getWeights();
  std::vector<FlatTensor<double>> values;
  for (auto& wt : w) values.push_back(wt.value);
  layer.setWeights(values);
  REQUIRE_THROWS_WITH(layer.backward(up), ContainsSubstring("weights changed"));
  // PerGate masks have no gradient.
  a.dropoutMasks = DropoutMasks::PerGate;
  a.dropout = 0.5;
  LSTM<double> perGate(a);
  CallArgs<double> train = rec;
  train.training = true;
  REQUIRE_THROWS_AS(perGate.call(x, train), ValueError);
  // Explicit masks of the wrong shape.
  LSTM<double> masked(a);
  Matrix<double> m = Matrix<double>::Ones(3, 2);
  CallArgs<double> given;
  given.dropoutMasks = {{0, MatrixView<double>(m.data(), 3, 2), {}}};
  REQUIRE_THROWS_AS(masked.call(x, given), ShapeError);
  given.dropoutMasks = {{1, MatrixView<double>(m.data(), 2, 2), {}}};
  REQUIRE_THROWS_WITH(masked.call(x, given), ContainsSubstring("cell index 1"));
}
