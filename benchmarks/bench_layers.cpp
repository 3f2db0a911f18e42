// The layers of this library over the benchmark workloads (bench_common.hpp), float and double:
//
//   layer/<cell>/<W>/<scalar>[/threads:2]   one call on [B, T, I], full output sequence
//   train/<cell>/<W>/<scalar>[/threads:2]   one training step: a recording training-mode call
//                                           and backward from a given ∂L/∂(output sequence)
//   stream/<cell>/H<units>/<scalar>/<sizes> one step of a stateful layer on one sample (B = 1,
//                                           I = 1); sizes "dynamic" (LSTM<float>) or "fixed"
//                                           (LSTM<float, H, 1>)
//
// Counters: items_per_second = (sample, step) pairs per second; step_time = seconds per time step
// (a call covers T sequential steps). Wall-clock time (UseRealTime), so the 2-thread variants
// are measured as a user sees them. Run e.g.
//   bench_layers --benchmark_filter=stream --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include "bench_common.hpp"

#include <benchmark/benchmark.h>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using bench::CellKind;
using bench::Index;
using bench::Workload;

template <class Scalar>
const char* scalarName() {
  return std::is_same_v<Scalar, float> ? "float" : "double";
}

template <class Scalar>
void layerBenchmark(benchmark::State& state, CellKind cell, Workload w, int threads) {
  const bench::CaseData data = bench::makeCaseData(cell, w);
  const std::vector<Scalar> x = bench::widen<Scalar>(data.x);
  bench::LayerOptions options;
  options.units = w.units;
  options.threads = threads;
  bench::withLayer<Scalar>(cell, w.input, options, [&](auto& layer) {
    layer.setWeights(bench::layerWeights<Scalar>(data));
    recurrent::RNNResult<Scalar> out;
    const recurrent::SequenceView<Scalar> view(x.data(), w.batch, w.time, w.input);
    for (auto _ : state) {
      layer.call(view, {}, out);
      benchmark::DoNotOptimize(out.sequence.data());
      benchmark::ClobberMemory();
    }
  });
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.batch * w.time));
  state.counters["step_time"] = benchmark::Counter(
      static_cast<double>(w.time),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

template <class Scalar>
void trainBenchmark(benchmark::State& state, CellKind cell, Workload w, int threads) {
  const bench::CaseData data = bench::makeCaseData(cell, w);
  const std::vector<Scalar> x = bench::widen<Scalar>(data.x);
  // The upstream gradient: the inputs' values cycled over [B, T, H] (any fixed data will do).
  std::vector<Scalar> dy(static_cast<std::size_t>(w.batch * w.time * w.units));
  for (std::size_t k = 0; k < dy.size(); ++k) dy[k] = x[k % x.size()];
  bench::LayerOptions options;
  options.units = w.units;
  options.threads = threads;
  bench::withLayer<Scalar>(cell, w.input, options, [&](auto& layer) {
    layer.setWeights(bench::layerWeights<Scalar>(data));
    bench::TrainingStep<Scalar> step(x.data(), dy.data(), w);
    for (auto _ : state) {
      step(layer);
      benchmark::DoNotOptimize(step.grads.inputs.data());
      benchmark::ClobberMemory();
    }
    state.counters["recorded_bytes"] = static_cast<double>(layer.recordedBytes());
  });
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.batch * w.time));
}

template <class Scalar, int Units, int InputDim>
void streamBenchmark(benchmark::State& state, CellKind cell, Index units) {
  // The per-sample input: a fixed stream of 4096 values, cycled.
  const bench::Workload w{"stream", 1, 4096, 1, units, false};
  const bench::CaseData data = bench::makeCaseData(cell, w);
  const std::vector<Scalar> x = bench::widen<Scalar>(data.x);
  bench::LayerOptions options;
  options.units = units;
  options.stateful = true;
  bench::withLayer<Scalar, Units, InputDim>(cell, 1, options, [&](auto& layer) {
    layer.setWeights(bench::layerWeights<Scalar>(data));
    std::size_t t = 0;
    for (auto _ : state) {
      auto y = layer.step(recurrent::MatrixView<Scalar>(&x[t], 1, 1));
      benchmark::DoNotOptimize(y.data());
      t = (t + 1) & 4095U;
    }
  });
  state.SetItemsProcessed(state.iterations());
}

template <class Scalar>
void registerLayers() {
  for (const Workload& w : bench::kWorkloads) {
    for (CellKind cell : bench::kCells) {
      for (int threads : {1, 2}) {
        if (threads != 1 && !w.multiThreaded) continue;
        std::string name = std::string("layer/") + bench::cellName(cell) + "/" + w.name + "/" +
                           scalarName<Scalar>();
        if (threads != 1) name += "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), layerBenchmark<Scalar>, cell, w, threads)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
        const std::string train = "train" + name.substr(name.find('/'));
        benchmark::RegisterBenchmark(train.c_str(), trainBenchmark<Scalar>, cell, w, threads)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
    }
  }
}

template <class Scalar, int Units>
void registerStream() {
  for (CellKind cell : {CellKind::LSTM, CellKind::GRU, CellKind::SimpleRNN}) {
    const std::string base = std::string("stream/") + bench::cellName(cell) + "/H" +
                             std::to_string(Units) + "/" + scalarName<Scalar>();
    benchmark::RegisterBenchmark((base + "/dynamic").c_str(),
                                 streamBenchmark<Scalar, Eigen::Dynamic, Eigen::Dynamic>, cell,
                                 Index{Units})
        ->Unit(benchmark::kNanosecond);
    benchmark::RegisterBenchmark((base + "/fixed").c_str(), streamBenchmark<Scalar, Units, 1>, cell,
                                 Index{Units})
        ->Unit(benchmark::kNanosecond);
  }
}

template <class Scalar, std::size_t... I>
void registerStreams(std::index_sequence<I...>) {
  static_assert(sizeof...(I) == std::size(bench::kStreamUnits));
  (registerStream<Scalar, static_cast<int>(bench::kStreamUnits[I])>(), ...);
}

bool registerAll() {
  registerLayers<float>();
  registerLayers<double>();
  registerStreams<float>(std::make_index_sequence<std::size(bench::kStreamUnits)>());
  registerStreams<double>(std::make_index_sequence<std::size(bench::kStreamUnits)>());
  return true;
}

[[maybe_unused]] const bool registered = registerAll();

}  // namespace
