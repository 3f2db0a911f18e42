// Internal, may change: one ONNX `LSTM` / `GRU` / `RNN` node on the library's layers (one layer
// per direction), its attributes and weights mapped once at load.
#ifndef RECURRENT_IO_DETAIL_ONNX_RECURRENT_HPP
#define RECURRENT_IO_DETAIL_ONNX_RECURRENT_HPP

#include <recurrent/gru.hpp>
#include <recurrent/io/detail/onnx_ops.hpp>
#include <recurrent/lstm.hpp>
#include <recurrent/simple_rnn.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

namespace recurrent::io::detail::onnx {

/// The ONNX activation `name` with the next α/β of the node's lists (the spec's defaults when
/// the lists run out). LSTM and GRU take names in any case (as onnxruntime does); RNN only the
/// spec's spelling.
inline Activation onnxActivation(const std::string& given, bool anyCase,
                                 const std::vector<float>& alphas, std::size_t& nextAlpha,
                                 const std::vector<float>& betas, std::size_t& nextBeta,
                                 const std::string& who, const std::string& node) {
  struct Entry {
    const char* name;
    ActivationKind kind;
    int params;  // 0: none, 1: α, 2: α and β
    double alpha, beta;
  };
  static const Entry kTable[] = {
      {"Relu", ActivationKind::Relu, 0, 0, 0},
      {"Tanh", ActivationKind::Tanh, 0, 0, 0},
      {"Sigmoid", ActivationKind::Sigmoid, 0, 0, 0},
      {"Softsign", ActivationKind::Softsign, 0, 0, 0},
      {"Softplus", ActivationKind::Softplus, 0, 0, 0},
      {"Affine", ActivationKind::Affine, 2, 1.0, 0.0},
      {"LeakyRelu", ActivationKind::LeakyRelu, 1, 0.01, 0},
      {"ThresholdedRelu", ActivationKind::ThresholdedRelu, 1, 1.0, 0},
      {"ScaledTanh", ActivationKind::ScaledTanh, 2, 1.0, 1.0},
      {"HardSigmoid", ActivationKind::ParametricHardSigmoid, 2, 0.2, 0.5},
      {"Elu", ActivationKind::ParametricElu, 1, 1.0, 0},
  };
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const Entry& e : kTable) {
    if (!(given == e.name || (anyCase && lower(given) == lower(e.name)))) continue;
    if (e.params == 0) return Activation(e.kind);
    double alpha = e.alpha, beta = e.beta;
    if (nextAlpha < alphas.size()) alpha = static_cast<double>(alphas[nextAlpha++]);
    if (e.params == 2 && nextBeta < betas.size()) beta = static_cast<double>(betas[nextBeta++]);
    // Computed in float, as onnxruntime does: α and β are float32 attributes.
    return Activation::parametric(e.kind, static_cast<double>(static_cast<float>(alpha)),
                                  static_cast<double>(static_cast<float>(beta)));
  }
  std::string list;
  for (const Entry& e : kTable) list += (list.empty() ? "" : ", ") + std::string(e.name);
  raise<ConfigError>(who, node + ": activations: unknown activation '" + given +
                              "' (expected one of " + list + (anyCase ? ", in any case" : "") +
                              ")");
}

/// A float attribute as the shortest text that reads back ("0.5", "-1", "1e-09").
inline std::string floatText(float v) {
  char buf[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) break;
  }
  return buf;
}

template <class Scalar>
class Recurrent {
 public:
  using Tensor = OnnxTensor<Scalar>;

  Recurrent(Op op, const NodeProto& n, const Tensor& w, const Tensor& r, const Tensor* b,
            const Tensor* p, int threads, const std::string& who, const std::string& node);

  /// in: X, W, R, B, sequence_lens, initial_h, initial_c, P (nullptr = missing); out: Y, Y_h,
  /// Y_c (nullptr = not requested).
  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const std::string& who, const std::string& node);

 private:
  using Layer = std::variant<SimpleRNN<Scalar>, GRU<Scalar>, LSTM<Scalar>>;

  Op op_;
  Index hidden_ = 0, inputSize_ = 0, directions_ = 1, gates_ = 1;
  bool reverse_ = false;  // direction "reverse"
  int layout_ = 0;
  std::vector<Layer> layers_;  // one per direction (forward, then backward)
  // Run buffers, kept between runs.
  Sequence<Scalar> x_;
  std::vector<Matrix<Scalar>> h0_, c0_;
  RNNResult<Scalar> result_;
  std::vector<Index> lengths_;
};

template <class Scalar>
Recurrent<Scalar>::Recurrent(Op op, const NodeProto& n, const Tensor& w, const Tensor& r,
                             const Tensor* b, const Tensor* p, int threads, const std::string& who,
                             const std::string& node)
    : op_(op) {
  gates_ = op == Op::LSTM ? 4 : op == Op::GRU ? 3 : 1;
  const AttributeProto* hs = typedAttribute(n, "hidden_size", 2, who, node);
  if (hs == nullptr) raise<ConfigError>(who, node + ": attribute 'hidden_size' is required");
  if (hs->i <= 0 || hs->i > (std::int64_t{1} << 24))
    raise<ConfigError>(
        who, node + ": hidden_size: expected a positive size, got " + std::to_string(hs->i));
  hidden_ = static_cast<Index>(hs->i);
  const std::string direction = stringAttribute(n, "direction", "forward", who, node);
  if (direction == "forward" || direction == "reverse") {
    directions_ = 1;
    reverse_ = direction == "reverse";
  } else if (direction == "bidirectional") {
    directions_ = 2;
  } else {
    raise<ConfigError>(who, node +
                                ": direction: expected 'forward', 'reverse' or "
                                "'bidirectional', got '" +
                                direction + "'");
  }
  const std::int64_t layout = intAttribute(n, "layout", 0, who, node);
  if (layout != 0 && layout != 1)
    raise<ConfigError>(who, node + ": layout: expected 0 or 1, got " + std::to_string(layout));
  layout_ = static_cast<int>(layout);
  std::optional<double> clip;
  if (const AttributeProto* c = typedAttribute(n, "clip", 1, who, node)) {
    if (!(c->f > 0.0f))
      raise<ConfigError>(who,
                         node + ": clip: expected a positive threshold, got " + floatText(c->f));
    clip = static_cast<double>(c->f);
  }
  const std::int64_t inputForget =
      op == Op::LSTM ? intAttribute(n, "input_forget", 0, who, node) : 0;
  const std::int64_t lbr = op == Op::GRU ? intAttribute(n, "linear_before_reset", 0, who, node) : 0;
  if (inputForget != 0 && inputForget != 1)
    raise<ConfigError>(
        who, node + ": input_forget: expected 0 or 1, got " + std::to_string(inputForget));
  if (lbr != 0 && lbr != 1)
    raise<ConfigError>(who,
                       node + ": linear_before_reset: expected 0 or 1, got " + std::to_string(lbr));

  // Activations: per direction f, g, h (LSTM), f, g (GRU), f (RNN).
  const std::size_t perDirection = op == Op::LSTM ? 3 : op == Op::GRU ? 2 : 1;
  std::vector<std::string> names;
  if (const auto* a = stringsAttribute(n, "activations", who, node)) {
    names = *a;
  } else {
    static const char* const kDefaults[] = {"Sigmoid", "Tanh", "Tanh"};
    for (Index d = 0; d < directions_; ++d)
      for (std::size_t k = 0; k < perDirection; ++k)
        names.push_back(op == Op::RNN ? "Tanh" : kDefaults[k]);
  }
  if (names.size() != perDirection * static_cast<std::size_t>(directions_))
    raise<ConfigError>(
        who, node + ": activations: expected " +
                 std::to_string(perDirection * static_cast<std::size_t>(directions_)) + " names (" +
                 std::to_string(perDirection) + " per direction), got " +
                 std::to_string(names.size()));
  std::vector<float> alphas, betas;
  if (const auto* a = floatsAttribute(n, "activation_alpha", who, node)) alphas = *a;
  if (const auto* a = floatsAttribute(n, "activation_beta", who, node)) betas = *a;
  std::size_t nextAlpha = 0, nextBeta = 0;
  std::vector<Activation> acts;
  for (const std::string& name : names)
    acts.push_back(
        onnxActivation(name, op != Op::RNN, alphas, nextAlpha, betas, nextBeta, who, node));

  // Weights: W [nd, G·H, I], R [nd, G·H, H], B [nd, 2·G·H], P [nd, 3·H].
  const Index gh = gates_ * hidden_;
  auto checkFloat = [&](const Tensor& t, const char* name) {
    if (t.type != OnnxType::Float)
      raise<ConfigError>(
          who, node + ": input '" + name + "': expected a FLOAT tensor, got " + typeName(t.type));
  };
  auto expectShape = [&](const Tensor& t, const char* name, std::vector<Index> shape) {
    if (t.shape != shape)
      raise<WeightError>(who, node + ": input '" + name + "': expected shape " + dimsString(shape) +
                                  ", got " + dimsString(t.shape));
  };
  checkFloat(w, "W");
  if (w.shape.size() != 3 || w.shape[0] != directions_ || w.shape[1] != gh || w.shape[2] <= 0)
    raise<WeightError>(who, node + ": input 'W': expected shape [" + std::to_string(directions_) +
                                ", " + std::to_string(gh) + ", input_size] (num_directions, " +
                                std::to_string(gates_) + "·hidden_size, input_size), got " +
                                dimsString(w.shape));
  inputSize_ = w.shape[2];
  checkFloat(r, "R");
  expectShape(r, "R", {directions_, gh, hidden_});
  if (b != nullptr) {
    checkFloat(*b, "B");
    expectShape(*b, "B", {directions_, 2 * gh});
  }
  if (p != nullptr) {
    checkFloat(*p, "P");
    expectShape(*p, "P", {directions_, 3 * hidden_});
  }

  // ONNX gate block → ours: LSTM i,o,f,c → i,f,c,o (ours[g] = onnx[perm[g]]).
  const Index lstmPerm[] = {0, 2, 3, 1};
  auto src = [&](Index g) { return op == Op::LSTM ? lstmPerm[g] : g; };
  const Index I = inputSize_, H = hidden_;
  for (Index d = 0; d < directions_; ++d) {
    const Scalar* W = w.values.data() + d * gh * I;
    const Scalar* R = r.values.data() + d * gh * H;
    std::vector<FlatTensor<Scalar>> weights(2);
    weights[0] = FlatTensor<Scalar>({I, gh}, std::vector<Scalar>(static_cast<std::size_t>(I * gh)));
    weights[1] = FlatTensor<Scalar>({H, gh}, std::vector<Scalar>(static_cast<std::size_t>(H * gh)));
    for (Index g = 0; g < gates_; ++g)
      for (Index k = 0; k < H; ++k) {
        const Index row = src(g) * H + k, col = g * H + k;
        for (Index i = 0; i < I; ++i)
          weights[0].data[static_cast<std::size_t>(i * gh + col)] = W[row * I + i];
        for (Index j = 0; j < H; ++j)
          weights[1].data[static_cast<std::size_t>(j * gh + col)] = R[row * H + j];
      }
    if (b != nullptr) {
      const Scalar* Wb = b->values.data() + d * 2 * gh;
      const Scalar* Rb = Wb + gh;
      if (op == Op::GRU && lbr == 1) {
        FlatTensor<Scalar> bias({2, gh}, std::vector<Scalar>(static_cast<std::size_t>(2 * gh)));
        std::copy(Wb, Wb + gh, bias.data.begin());
        std::copy(Rb, Rb + gh, bias.data.begin() + gh);
        weights.push_back(std::move(bias));
      } else {
        FlatTensor<Scalar> bias({gh}, std::vector<Scalar>(static_cast<std::size_t>(gh)));
        for (Index g = 0; g < gates_; ++g)
          for (Index k = 0; k < H; ++k)
            bias.data[static_cast<std::size_t>(g * H + k)] =
                Wb[src(g) * H + k] + Rb[src(g) * H + k];
        weights.push_back(std::move(bias));
      }
    }
    const auto at = static_cast<std::size_t>(d) * perDirection;
    auto options = [&](auto& args) {
      args.units = H;
      args.inputDim = I;
      args.useBias = b != nullptr;
      args.returnSequences = true;
      args.returnState = true;
      args.goBackwards = reverse_ || d == 1;
      args.threads = threads;
      args.clip = clip;
    };
    if (op == Op::LSTM) {
      LSTMArgs args;
      options(args);
      args.recurrentActivation = acts[at];
      args.activation = acts[at + 1];
      args.outputActivation = acts[at + 2];
      args.inputForget = inputForget == 1;
      LSTM<Scalar> layer(args);
      layer.setWeights(weights);
      if (p != nullptr) {
        // ONNX P = [P_i | P_o | P_f] → rows P_i, P_f, P_o.
        const Scalar* P = p->values.data() + d * 3 * H;
        FlatTensor<Scalar> peep({3, H}, std::vector<Scalar>(static_cast<std::size_t>(3 * H)));
        std::copy(P, P + H, peep.data.begin());
        std::copy(P + 2 * H, P + 3 * H, peep.data.begin() + H);
        std::copy(P + H, P + 2 * H, peep.data.begin() + 2 * H);
        layer.cell().setPeepholes(peep);
      }
      layers_.emplace_back(std::move(layer));
    } else if (op == Op::GRU) {
      GRUArgs args;
      options(args);
      args.recurrentActivation = acts[at];
      args.activation = acts[at + 1];
      args.resetAfter = lbr == 1;
      GRU<Scalar> layer(args);
      layer.setWeights(weights);
      layers_.emplace_back(std::move(layer));
    } else {
      SimpleRNNArgs args;
      options(args);
      args.activation = acts[at];
      SimpleRNN<Scalar> layer(args);
      layer.setWeights(weights);
      layers_.emplace_back(std::move(layer));
    }
  }
}

template <class Scalar>
void Recurrent<Scalar>::run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                            const std::string& who, const std::string& node) {
  auto input = [&](std::size_t i) -> const Tensor* { return i < in.size() ? in[i] : nullptr; };
  auto output = [&](std::size_t i) -> Tensor* { return i < out.size() ? out[i] : nullptr; };
  const Tensor& x = *input(0);
  if (x.type != OnnxType::Float)
    raise<ValueError>(who, node + ": input 'X': expected a FLOAT tensor, got " + typeName(x.type));
  if (x.shape.size() != 3 || x.shape[2] != inputSize_ || x.shape[0] <= 0 || x.shape[1] <= 0)
    raise<ShapeError>(who, node + ": input 'X': expected shape " +
                               (layout_ == 0 ? std::string("[seq_length, batch_size, ")
                                             : std::string("[batch_size, seq_length, ")) +
                               std::to_string(inputSize_) + "] (input_size from W), got " +
                               dimsString(x.shape));
  const Index T = layout_ == 0 ? x.shape[0] : x.shape[1];
  const Index B = layout_ == 0 ? x.shape[1] : x.shape[0];
  const Index I = inputSize_, H = hidden_, D = directions_;

  // X → [B, T, I].
  x_.resize(B, T, I);
  for (Index b = 0; b < B; ++b)
    for (Index t = 0; t < T; ++t) {
      const Index from = layout_ == 0 ? (t * B + b) * I : (b * T + t) * I;
      std::copy_n(x.values.data() + from, I, x_.data() + (b * T + t) * I);
    }

  // sequence_lens [B] (int32 in the spec).
  lengths_.clear();
  if (const Tensor* s = input(4)) {
    if (s->type == OnnxType::Float)
      raise<ValueError>(who, node + ": input 'sequence_lens': expected an INT32 tensor, got FLOAT");
    if (s->shape != std::vector<Index>{B})
      raise<ShapeError>(who, node + ": input 'sequence_lens': expected shape [" +
                                 std::to_string(B) + "] (batch_size), got " + dimsString(s->shape));
    for (Index b = 0; b < B; ++b) {
      const std::int64_t v = s->ints[static_cast<std::size_t>(b)];
      if (v < 0 || v > T)
        raise<ValueError>(who, node + ": input 'sequence_lens'[" + std::to_string(b) +
                                   "]: expected a length in [0, " + std::to_string(T) +
                                   "] (seq_length), got " + std::to_string(v));
      lengths_.push_back(static_cast<Index>(v));
    }
  }

  // initial_h / initial_c: [D, B, H] (layout 0) or [B, D, H] (layout 1) → per direction [B, H].
  auto states = [&](std::size_t i, const char* name, std::vector<Matrix<Scalar>>& dst) {
    const Tensor* s = input(i);
    dst.resize(static_cast<std::size_t>(D));
    if (s == nullptr) {
      for (auto& m : dst) m.setZero(B, H);
      return false;
    }
    const std::vector<Index> expected =
        layout_ == 0 ? std::vector<Index>{D, B, H} : std::vector<Index>{B, D, H};
    if (s->type != OnnxType::Float)
      raise<ValueError>(
          who, node + ": input '" + name + "': expected a FLOAT tensor, got " + typeName(s->type));
    if (s->shape != expected)
      raise<ShapeError>(who, node + ": input '" + name + "': expected shape " +
                                 dimsString(expected) + ", got " + dimsString(s->shape));
    for (Index d = 0; d < D; ++d) {
      Matrix<Scalar>& m = dst[static_cast<std::size_t>(d)];
      m.resize(B, H);
      for (Index b = 0; b < B; ++b) {
        const Index from = layout_ == 0 ? (d * B + b) * H : (b * D + d) * H;
        std::copy_n(s->values.data() + from, H, m.data() + b * H);
      }
    }
    return true;
  };
  const bool hasH = states(5, "initial_h", h0_);
  const bool hasC = op_ == Op::LSTM && states(6, "initial_c", c0_);

  Tensor* y = output(0);
  Tensor* yh = output(1);
  Tensor* yc = op_ == Op::LSTM ? output(2) : nullptr;
  const std::vector<Index> stateShape =
      layout_ == 0 ? std::vector<Index>{D, B, H} : std::vector<Index>{B, D, H};
  if (y)
    *y = Tensor::floats(
        layout_ == 0 ? std::vector<Index>{T, D, B, H} : std::vector<Index>{B, T, D, H},
        std::vector<Scalar>(static_cast<std::size_t>(T * D * B * H)));
  if (yh)
    *yh = Tensor::floats(stateShape, std::vector<Scalar>(static_cast<std::size_t>(D * B * H)));
  if (yc)
    *yc = Tensor::floats(stateShape, std::vector<Scalar>(static_cast<std::size_t>(D * B * H)));

  for (Index d = 0; d < D; ++d) {
    const auto k = static_cast<std::size_t>(d);
    CallArgs<Scalar> args;
    if (hasH || hasC) {
      args.initialState.push_back(h0_[k]);
      if (op_ == Op::LSTM) args.initialState.push_back(c0_[k]);
    }
    args.sequenceLengths = lengths_;
    const bool backwards = reverse_ || d == 1;
    std::visit([&](auto& layer) { layer.call(SequenceView<Scalar>(x_), args, result_); },
               layers_[k]);
    // The sequence comes in processing order (reversed for a backward direction).
    if (y) {
      for (Index s = 0; s < T; ++s) {
        const Index t = backwards ? T - 1 - s : s;
        for (Index b = 0; b < B; ++b) {
          const Index to = layout_ == 0 ? ((t * D + d) * B + b) * H : ((b * T + t) * D + d) * H;
          std::copy_n(result_.sequence.data() + (b * T + s) * H, H, y->values.data() + to);
        }
      }
    }
    // onnxruntime: a sample of length 0 has zero final states (the layers keep the initial
    // ones; the spec says nothing).
    auto putState = [&](Tensor* dst, const Matrix<Scalar>& m) {
      if (!dst) return;
      for (Index b = 0; b < B; ++b) {
        const Index to = layout_ == 0 ? (d * B + b) * H : (b * D + d) * H;
        if (!lengths_.empty() && lengths_[static_cast<std::size_t>(b)] == 0) continue;
        std::copy_n(m.data() + b * H, H, dst->values.data() + to);
      }
    };
    putState(yh, result_.states[0]);
    if (op_ == Op::LSTM) putState(yc, result_.states[1]);
  }
}

}  // namespace recurrent::io::detail::onnx

#endif  // RECURRENT_IO_DETAIL_ONNX_RECURRENT_HPP
