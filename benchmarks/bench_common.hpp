// Shared by the benchmarks (bench_*.cpp and side_by_side/): the workloads, the cells,
// deterministic data and the construction of this library's layers for them.
//
// Every implementation that is compared gets the same values: the data are generated in float
// (double layers get the same float values, widened), weights uniform in ±1/sqrt(units), inputs
// uniform in ±1. Gate activations: recurrent activation sigmoid (not TF.js's hardSigmoid default,
// which oneDNN and PyTorch do not have), activation tanh.
#ifndef RECURRENT_BENCHMARKS_BENCH_COMMON_HPP
#define RECURRENT_BENCHMARKS_BENCH_COMMON_HPP

#include <recurrent/recurrent.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace bench {

using recurrent::Index;

/// A workload: batch B, time T, input features I, units H; full output sequence, inference.
/// `multiThreaded`: also measured with 2 threads.
struct Workload {
  const char* name;
  Index batch, time, input, units;
  bool multiThreaded;
};

inline constexpr Workload kWorkloads[] = {
    {"W1", 1, 2048, 1, 32, false},
    {"W2", 1, 100, 32, 64, false},
    {"W3", 16, 100, 128, 256, true},
    {"W4", 64, 50, 512, 512, true},
};

/// Streaming: one sample (B = 1, I = 1) per call on a stateful layer, these unit counts.
inline constexpr Index kStreamUnits[] = {8, 16, 32, 64, 128};

enum class CellKind { LSTM, GRU, GRUResetAfter, SimpleRNN };

inline constexpr CellKind kCells[] = {CellKind::LSTM, CellKind::GRU, CellKind::GRUResetAfter,
                                      CellKind::SimpleRNN};

/// Short name used in benchmark names and tables. "GRU" is TF.js's reset-before formulation,
/// "GRU-ra" the reset-after one (Keras `reset_after=True`, cuDNN, PyTorch).
inline const char* cellName(CellKind cell) {
  switch (cell) {
    case CellKind::LSTM:
      return "LSTM";
    case CellKind::GRU:
      return "GRU";
    case CellKind::GRUResetAfter:
      return "GRU-ra";
    case CellKind::SimpleRNN:
      return "SimpleRNN";
  }
  return "?";
}

/// Gates along the fused last axis of the kernels (LSTM i,f,c,o; GRU z,r,h; SimpleRNN 1).
inline Index gateCount(CellKind cell) {
  switch (cell) {
    case CellKind::LSTM:
      return 4;
    case CellKind::GRU:
    case CellKind::GRUResetAfter:
      return 3;
    case CellKind::SimpleRNN:
      return 1;
  }
  return 0;
}

/// Rows of the bias: 2 for the reset-after GRU (input bias, recurrent bias), else 1.
inline Index biasRows(CellKind cell) { return cell == CellKind::GRUResetAfter ? 2 : 1; }

/// splitmix64: small, fast, the same sequence everywhere.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [-a, a).
  float uniform(double a) {
    const double unit = static_cast<double>(next() >> 11) / 9007199254740992.0;  // [0, 1)
    return static_cast<float>((2.0 * unit - 1.0) * a);
  }

 private:
  std::uint64_t state_;
};

/// The values of one case, in float, in TF.js layout (row-major): inputs [B, T, I],
/// kernel [I, G·H], recurrent kernel [H, G·H], bias [G·H] (reset-after GRU: [2, 3H]).
struct CaseData {
  CellKind cell;
  Workload workload;
  std::vector<float> x, kernel, recurrentKernel, bias;
};

inline std::uint64_t caseSeed(CellKind cell, const Workload& w) {
  std::uint64_t seed = std::uint64_t{0x5EED} + std::uint64_t{1000003} * static_cast<unsigned>(cell);
  for (const char* p = w.name; *p != '\0'; ++p)
    seed = seed * std::uint64_t{131} + static_cast<unsigned char>(*p);
  return seed;
}

inline std::vector<float> uniformVector(Random& rng, Index n, double a) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& e : v) e = rng.uniform(a);
  return v;
}

inline CaseData makeCaseData(CellKind cell, const Workload& w) {
  Random rng(caseSeed(cell, w));
  const Index g = gateCount(cell);
  const double scale = 1.0 / std::sqrt(static_cast<double>(w.units));
  CaseData d{cell, w, {}, {}, {}, {}};
  d.kernel = uniformVector(rng, w.input * g * w.units, scale);
  d.recurrentKernel = uniformVector(rng, w.units * g * w.units, scale);
  d.bias = uniformVector(rng, biasRows(cell) * g * w.units, scale);
  d.x = uniformVector(rng, w.batch * w.time * w.input, 1.0);
  return d;
}

template <class Scalar>
std::vector<Scalar> widen(const std::vector<float>& v) {
  return std::vector<Scalar>(v.begin(), v.end());
}

/// The weights of `d` as `setWeights` takes them (TF.js shapes).
template <class Scalar>
std::vector<recurrent::FlatTensor<Scalar>> layerWeights(const CaseData& d) {
  const Index g = gateCount(d.cell), h = d.workload.units, i = d.workload.input;
  std::vector<Index> biasShape{g * h};
  if (biasRows(d.cell) == 2) biasShape = {2, g * h};
  return {recurrent::FlatTensor<Scalar>({i, g * h}, widen<Scalar>(d.kernel)),
          recurrent::FlatTensor<Scalar>({h, g * h}, widen<Scalar>(d.recurrentKernel)),
          recurrent::FlatTensor<Scalar>(biasShape, widen<Scalar>(d.bias))};
}

/// How the layers are built for a benchmark.
struct LayerOptions {
  Index units = 0;
  bool stateful = false;  ///< streaming: carry the state between calls
  int threads = 1;        ///< `RNNLayerOptions::threads`
};

template <class Args>
void configure(Args& args, const LayerOptions& o) {
  args.units = o.units;
  args.returnSequences = true;
  args.stateful = o.stateful;
  args.threads = o.threads;
  args.activation = recurrent::ActivationKind::Tanh;
  if constexpr (!std::is_same_v<Args, recurrent::SimpleRNNArgs>)
    args.recurrentActivation = recurrent::ActivationKind::Sigmoid;
}

/// Builds this library's layer for `cell` (optionally with compile-time sizes) and passes it to
/// `f`. The layer is built for `inputDim` features; weights are set by the caller.
template <class Scalar, int Units = Eigen::Dynamic, int InputDim = Eigen::Dynamic, class F>
void withLayer(CellKind cell, Index inputDim, const LayerOptions& o, F&& f) {
  switch (cell) {
    case CellKind::LSTM: {
      recurrent::LSTMArgs a;
      configure(a, o);
      a.inputDim = inputDim;
      recurrent::LSTM<Scalar, Units, InputDim> layer(a);
      std::forward<F>(f)(layer);
      return;
    }
    case CellKind::GRU:
    case CellKind::GRUResetAfter: {
      recurrent::GRUArgs a;
      configure(a, o);
      a.inputDim = inputDim;
      a.resetAfter = cell == CellKind::GRUResetAfter;
      recurrent::GRU<Scalar, Units, InputDim> layer(a);
      std::forward<F>(f)(layer);
      return;
    }
    case CellKind::SimpleRNN: {
      recurrent::SimpleRNNArgs a;
      configure(a, o);
      a.inputDim = inputDim;
      recurrent::SimpleRNN<Scalar, Units, InputDim> layer(a);
      std::forward<F>(f)(layer);
      return;
    }
  }
}

/// One training step of a layer, as both runners time it: a recording training-mode call on
/// `x`, then `backward` from ∂L/∂(output sequence) = `dy` `[B, T, H]`; the result and the
/// gradients are kept and reused from step to step (no allocation after the first).
template <class Scalar>
struct TrainingStep {
  TrainingStep(const Scalar* inputs, const Scalar* dy, const Workload& w)
      : x(inputs, w.batch, w.time, w.input) {
    args.training = true;
    args.record = true;
    up.sequence = recurrent::SequenceView<Scalar>(dy, w.batch, w.time, w.units);
  }
  template <class Layer>
  void operator()(Layer& layer) {
    layer.call(x, args, result);
    layer.backward(up, grads);
  }
  recurrent::SequenceView<Scalar> x;
  recurrent::CallArgs<Scalar> args;
  recurrent::RNNResult<Scalar> result;
  recurrent::RNNOutputGradients<Scalar> up;
  recurrent::RNNGradients<Scalar> grads;
};

}  // namespace bench

#endif  // RECURRENT_BENCHMARKS_BENCH_COMMON_HPP
