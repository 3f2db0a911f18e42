// The models of the side-by-side runner's fit table (an epoch of `model.fit`), their synthetic
// datasets and initial weights, and this library's model for them (io/layers.hpp `sequential`,
// compiled with Adam). Shared by side_by_side.cpp and benchmarks/fit_alloc.
//
// Every peer gets the same values (written to files by side_by_side's driver): inputs uniform in
// ±1; targets one-hot classes drawn uniformly (categoricalCrossentropy) or uniform in ±1
// (meanSquaredError); recurrent weights uniform in ±1/√H, Dense kernel uniform in ±1/√H, Dense
// bias zero. Recurrent activation sigmoid (PyTorch has no hardSigmoid), activation tanh.
#ifndef RECURRENT_BENCHMARKS_SIDE_BY_SIDE_FIT_CASES_HPP
#define RECURRENT_BENCHMARKS_SIDE_BY_SIDE_FIT_CASES_HPP

#include "bench_common.hpp"
#include <recurrent/io/layers.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

/// One model of the fit table: the recurrent layer (last output only) over [time, input], then
/// Dense(outputs, activation); `samples` samples in batches of `batch` (no shuffling), Adam(lr).
/// `torch` / `tfjs`: whether that peer has the same model (PyTorch has only the reset-after GRU,
/// TF.js only the reset-before one). `tfjsSamples` (0: all): TF.js's cpu backend takes minutes
/// per W3 epoch, so its epochs there are the first `tfjsSamples` samples (whole batches: the rate
/// per sample is that of the full epoch); its losses are checked against this library's on the
/// same subset.
struct FitCase {
  const char* name;
  const char* label;
  CellKind cell;
  Index samples, batch, time, input, units, outputs;
  const char* activation;
  const char* loss;
  double lr;
  bool torch, tfjs;
  Index tfjsSamples;
};

inline constexpr FitCase kFitCases[] = {
    // The TF.js docs' sequence classifier (examples/train_sequence_classifier.cpp --full).
    {"seed-LSTM", "seed classifier", CellKind::LSTM, 512, 32, 100, 32, 64, 10, "softmax",
     "categoricalCrossentropy", 1e-3, true, true, 0},
    // W3-sized (B 16, T 100, I 128, H 256) regressors.
    {"W3-GRU-ra", "W3 regressor", CellKind::GRUResetAfter, 256, 16, 100, 128, 256, 10, "linear",
     "meanSquaredError", 1e-3, true, false, 0},
    {"W3-GRU", "W3 regressor", CellKind::GRU, 256, 16, 100, 128, 256, 10, "linear",
     "meanSquaredError", 1e-3, false, true, 32},
    {"W3-LSTM", "W3 regressor", CellKind::LSTM, 256, 16, 100, 128, 256, 10, "linear",
     "meanSquaredError", 1e-3, true, false, 0},
};

/// A fit case's dataset and initial weights (TF.js layout, row-major): x [N, T, I], y [N, O],
/// kernel [I, G·H], recurrent kernel [H, G·H], bias [G·H] ([2, 3H] reset-after GRU), Dense kernel
/// [H, O] and bias [O].
struct FitData {
  std::vector<float> x, y, kernel, recurrentKernel, bias, denseKernel, denseBias;
};

inline FitData makeFitData(const FitCase& c) {
  std::uint64_t seed = 0xF17F17ULL;
  for (const char* p = c.name; *p != '\0'; ++p) seed = seed * 131 + static_cast<unsigned char>(*p);
  Random rng(seed);
  const Index g = gateCount(c.cell);
  const double scale = 1.0 / std::sqrt(static_cast<double>(c.units));
  FitData d;
  d.kernel = uniformVector(rng, c.input * g * c.units, scale);
  d.recurrentKernel = uniformVector(rng, c.units * g * c.units, scale);
  d.bias = uniformVector(rng, biasRows(c.cell) * g * c.units, scale);
  d.denseKernel = uniformVector(rng, c.units * c.outputs, scale);
  d.denseBias.assign(static_cast<std::size_t>(c.outputs), 0.0f);
  d.x = uniformVector(rng, c.samples * c.time * c.input, 1.0);
  if (std::string(c.loss) == "categoricalCrossentropy") {
    d.y.assign(static_cast<std::size_t>(c.samples * c.outputs), 0.0f);
    for (Index s = 0; s < c.samples; ++s)
      d.y[static_cast<std::size_t>(s * c.outputs) +
          rng.next() % static_cast<std::uint64_t>(c.outputs)] = 1.0f;
  } else {
    d.y = uniformVector(rng, c.samples * c.outputs, 1.0);
  }
  return d;
}

/// This library's model of `c` with `d`'s weights, `threads` threads in the recurrent layer,
/// compiled with train::adam(lr) (TF.js's defaults otherwise) and the case's loss.
inline recurrent::io::LayersModel<float> makeFitModel(const FitCase& c, const FitData& d,
                                                      int threads) {
  namespace io = recurrent::io;
  namespace L = recurrent::io::layers;
  nlohmann::json rnn{
      {"units", c.units}, {"inputShape", {c.time, c.input}}, {"recurrentActivation", "sigmoid"}};
  if (c.cell == CellKind::GRUResetAfter) rnn["resetAfter"] = true;
  io::LoadOptions options;
  options.threads = threads;
  auto model =
      io::sequential<float>({c.cell == CellKind::LSTM ? L::lstm(rnn) : L::gru(rnn),
                             L::dense({{"units", c.outputs}, {"activation", c.activation}})},
                            "fit", options);
  const Index g = gateCount(c.cell);
  using T = recurrent::FlatTensor<float>;
  model.setWeights({T({c.input, g * c.units}, d.kernel),
                    T({c.units, g * c.units}, d.recurrentKernel),
                    biasRows(c.cell) == 2 ? T({2, g * c.units}, d.bias) : T({g * c.units}, d.bias),
                    T({c.units, c.outputs}, d.denseKernel), T({c.outputs}, d.denseBias)});
  model.compile({recurrent::train::adam<float>(static_cast<float>(c.lr)), {c.loss}});
  return model;
}

/// The dataset as model.fit takes it: the first `samples` samples (0: all).
inline recurrent::FlatTensor<float> fitInputs(const FitCase& c, const FitData& d,
                                              Index samples = 0) {
  const Index n = samples > 0 ? samples : c.samples;
  return {{n, c.time, c.input},
          std::vector<float>(d.x.begin(), d.x.begin() + n * c.time * c.input)};
}
inline recurrent::FlatTensor<float> fitTargets(const FitCase& c, const FitData& d,
                                               Index samples = 0) {
  const Index n = samples > 0 ? samples : c.samples;
  return {{n, c.outputs}, std::vector<float>(d.y.begin(), d.y.begin() + n * c.outputs)};
}

/// FitArgs of one epoch: batches of c.batch, no shuffling.
inline recurrent::io::FitArgs<float> fitArgs(const FitCase& c) {
  recurrent::io::FitArgs<float> a;
  a.epochs = 1;
  a.batchSize = c.batch;
  a.shuffle = false;
  return a;
}

}  // namespace bench

#endif  // RECURRENT_BENCHMARKS_SIDE_BY_SIDE_FIT_CASES_HPP
