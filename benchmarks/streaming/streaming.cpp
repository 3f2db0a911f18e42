// Per-sample streaming, side by side in one process: this library's stateful `step()` against
// RTNeural's compile-time layers (`LSTMLayerT<T, I, H>`, `GRULayerT<T, I, H>`, Eigen backend),
// with the same weights and the same input stream, outputs checked to agree.
//
//   streaming [--samples N] [--reps N] [--units 8,16] [--json FILE] [--quick]
//
// Rows (batch 1, stateful, one time step per call):
//   - LSTM, sigmoid gates                   ours `LSTM<S, H, I>` and `LSTM<S>`; RTNeural LSTMLayerT
//   - GRU reset-after, sigmoid gates        ours `GRU<S, H, I>` (resetAfter); RTNeural GRULayerT
//   - LSTM, TF.js defaults (hardSigmoid)    ours only
//   - GRU reset-before, TF.js defaults      ours only (RTNeural has no reset-before GRU)
// for S = float, double; H = 8..128; I = 1 and 16.
//
// Method: every implementation processes `samples` consecutive samples (a 4096-sample stream of
// uniform ±1 values, cycled) per repetition; repetitions are interleaved (ours, RTNeural, ours,
// ... in alternating order) so that a slow phase of the machine hits both alike; the figure is
// the median ns per sample over the repetitions. Before timing, the first 4096 outputs of every
// implementation are compared with ours (limit 1e-4 float, 1e-9 double), and 64 of our steps
// with one `call` on the same samples (bitwise); exit status 1 on a mismatch. RTNeural rows are
// skipped when it is not built in (RECURRENT_HAVE_RTNEURAL = 0).
#include "bench_common.hpp"

#if RECURRENT_HAVE_RTNEURAL
#include <RTNeural/gru/gru_eigen.h>
#include <RTNeural/gru/gru_eigen.tpp>
#include <RTNeural/lstm/lstm_eigen.h>
#include <RTNeural/lstm/lstm_eigen.tpp>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using bench::CellKind;
using bench::Index;

struct Options {
  long samples = 48000;
  int reps = 15;
  std::vector<long> units;  // empty: all of kUnits
  std::string json;
};

struct Row {
  std::string cell, scalar, impl;
  long units, input;
  double nsMedian, nsMin, nsMax, maxDiff;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// One implementation under test: `reset()` zeroes its state, `run(x, n, out)` streams n samples
/// of the cycled input (writing every output into out when given), returning a checksum.
struct Impl {
  std::string name;
  std::function<void()> reset;
  std::function<double(long n, std::vector<double>* out)> run;
  /// Ours only: max |difference| between 64 single steps and one `call` on the same 64 samples
  /// (must be 0: `step` is bitwise `call`).
  std::function<double()> stepVsCall;
};

constexpr long kStream = 4096;  // samples in the cycled input stream

template <class Scalar>
std::vector<std::vector<Scalar>> rows(const std::vector<float>& flat, Index r, Index c) {
  std::vector<std::vector<Scalar>> out(static_cast<std::size_t>(r));
  for (Index i = 0; i < r; ++i)
    out[static_cast<std::size_t>(i)].assign(flat.begin() + i * c, flat.begin() + (i + 1) * c);
  return out;
}

/// A stateful layer of this library, stepped one sample at a time, as an Impl.
template <class Layer, class Scalar>
Impl stepping(const char* name, std::shared_ptr<Layer> layer, const std::vector<Scalar>& x) {
  const Index in = layer->cell().inputDim(), h = layer->units();
  auto run = [layer, &x, in, h](long n, std::vector<double>* out) {
    double s = 0;
    long t = 0;
    for (long i = 0; i < n; ++i) {
      auto y = layer->step(recurrent::MatrixView<Scalar>(x.data() + t * in, 1, in));
      s += static_cast<double>(y(0, 0));
      if (out != nullptr) out->insert(out->end(), y.data(), y.data() + h);
      t = t + 1 == kStream ? 0 : t + 1;
    }
    return s;
  };
  auto check = [layer, &x, in, h] {
    constexpr long kSteps = 64;
    std::vector<Scalar> stepped;
    layer->resetStates();
    for (long t = 0; t < kSteps; ++t) {
      auto y = layer->step(recurrent::MatrixView<Scalar>(x.data() + t * in, 1, in));
      stepped.insert(stepped.end(), y.data(), y.data() + h);
    }
    layer->resetStates();
    const auto called = layer->call(recurrent::SequenceView<Scalar>(x.data(), 1, kSteps, in));
    layer->resetStates();
    double d = 0;
    for (std::size_t i = 0; i < stepped.size(); ++i)
      d = std::max(d, std::abs(static_cast<double>(stepped[i] - called.sequence.data()[i])));
    return d;
  };
  return {name, [layer] { layer->resetStates(); }, run, check};
}

/// Ours, compile-time sizes unless Units is Eigen::Dynamic; sigmoid gates, or TF.js's defaults
/// (hardSigmoid; for the GRU also reset-before, TF.js's only formulation).
template <class Scalar, int Units, int Input>
Impl ours(const char* name, CellKind cell, bool tfjsDefaults, const bench::CaseData& d,
          const std::vector<Scalar>& x) {
  bench::LayerOptions lo;
  lo.units = d.workload.units;
  lo.stateful = true;
  auto finish = [&](auto& args) {
    bench::configure(args, lo);
    args.inputDim = d.workload.input;
    if (tfjsDefaults) args.recurrentActivation = recurrent::ActivationKind::HardSigmoid;
  };
  if (cell == CellKind::LSTM) {
    recurrent::LSTMArgs a;
    finish(a);
    auto layer = std::make_shared<recurrent::LSTM<Scalar, Units, Input>>(a);
    layer->setWeights(bench::layerWeights<Scalar>(d));
    return stepping(name, layer, x);
  }
  recurrent::GRUArgs a;
  finish(a);
  a.resetAfter = cell == CellKind::GRUResetAfter;
  auto layer = std::make_shared<recurrent::GRU<Scalar, Units, Input>>(a);
  layer->setWeights(bench::layerWeights<Scalar>(d));
  return stepping(name, layer, x);
}

#if RECURRENT_HAVE_RTNEURAL
template <class Scalar, int Units, int Input>
Impl rtneural(CellKind cell, const bench::CaseData& d, const std::vector<Scalar>& x) {
  const Index g = bench::gateCount(cell);
  auto wVals = rows<Scalar>(d.kernel, Input, g * Units);
  auto uVals = rows<Scalar>(d.recurrentKernel, Units, g * Units);
  auto run = [&x](auto layer) {
    using In = Eigen::Matrix<Scalar, Input, 1>;
    return [layer, &x](long n, std::vector<double>* out) {
      double s = 0;
      long t = 0;
      In v;
      for (long i = 0; i < n; ++i) {
        for (int k = 0; k < Input; ++k) v(k) = x[static_cast<std::size_t>(t * Input + k)];
        layer->forward(v);
        s += static_cast<double>(layer->outs(0));
        if (out != nullptr) out->insert(out->end(), layer->outs.data(), layer->outs.data() + Units);
        t = t + 1 == kStream ? 0 : t + 1;
      }
      return s;
    };
  };
  if (cell == CellKind::LSTM) {
    auto layer = std::make_shared<RTNeural::LSTMLayerT<Scalar, Input, Units>>();
    layer->setWVals(wVals);
    layer->setUVals(uVals);
    layer->setBVals(std::vector<Scalar>(d.bias.begin(), d.bias.end()));
    layer->reset();
    return {"RTNeural", [layer] { layer->reset(); }, run(layer), {}};
  }
  auto layer = std::make_shared<RTNeural::GRULayerT<Scalar, Input, Units>>();
  layer->setWVals(wVals);
  layer->setUVals(uVals);
  layer->setBVals(rows<Scalar>(d.bias, 2, 3 * Units));
  layer->reset();
  return {"RTNeural", [layer] { layer->reset(); }, run(layer), {}};
}
#endif

template <class Scalar, int Units, int Input>
void runCase(const Options& o, CellKind cell, bool tfjsDefaults, std::vector<Row>& out, bool& ok) {
  const bench::Workload w{"stream", 1, kStream, Input, Units, false};
  const bench::CaseData d = bench::makeCaseData(cell, w);
  const std::vector<Scalar> x = bench::widen<Scalar>(d.x);
  std::vector<Impl> impls;
  impls.push_back(ours<Scalar, Units, Input>("recurrent", cell, tfjsDefaults, d, x));
  if (Input == 1 && !tfjsDefaults)
    impls.push_back(
        ours<Scalar, Eigen::Dynamic, Eigen::Dynamic>("recurrent-dynamic", cell, false, d, x));
#if RECURRENT_HAVE_RTNEURAL
  if (!tfjsDefaults) impls.push_back(rtneural<Scalar, Units, Input>(cell, d, x));
#endif
  std::string cellName =
      cell == CellKind::LSTM ? "LSTM" : (cell == CellKind::GRU ? "GRU" : "GRU-ra");
  if (tfjsDefaults) cellName += " (TF.js defaults)";
  const char* scalar = std::is_same_v<Scalar, float> ? "float" : "double";

  // Agreement over the first kStream outputs.
  std::vector<double> reference, other;
  impls[0].reset();
  impls[0].run(kStream, &reference);
  std::vector<double> diffs(impls.size(), 0.0);
  const double limit = std::is_same_v<Scalar, float> ? 1e-4 : 1e-9;
  for (std::size_t i = 1; i < impls.size(); ++i) {
    other.clear();
    impls[i].reset();
    impls[i].run(kStream, &other);
    for (std::size_t k = 0; k < other.size(); ++k)
      diffs[i] = std::max(diffs[i], std::abs(other[k] - reference[k]));
    if (!(diffs[i] <= limit)) {
      std::fprintf(stderr, "streaming: %s %s H=%d I=%d: %s differs from recurrent by %.3g\n",
                   cellName.c_str(), scalar, Units, Input, impls[i].name.c_str(), diffs[i]);
      ok = false;
    }
  }

  for (Impl& impl : impls) {
    if (!impl.stepVsCall) continue;
    const double d = impl.stepVsCall();
    if (d != 0.0) {
      std::fprintf(stderr, "streaming: %s %s H=%d I=%d: %s step() differs from call() by %.3g\n",
                   cellName.c_str(), scalar, Units, Input, impl.name.c_str(), d);
      ok = false;
    }
  }

  // Interleaved timed repetitions.
  std::vector<std::vector<double>> ns(impls.size());
  double sink = 0;
  for (Impl& impl : impls) {  // warm-up
    impl.reset();
    sink += impl.run(o.samples / 4 + 1, nullptr);
  }
  for (int r = 0; r < o.reps; ++r) {
    for (std::size_t j = 0; j < impls.size(); ++j) {
      const std::size_t i = (r % 2 == 0) ? j : impls.size() - 1 - j;
      impls[i].reset();
      const double t0 = now();
      sink += impls[i].run(o.samples, nullptr);
      ns[i].push_back(1e9 * (now() - t0) / static_cast<double>(o.samples));
    }
  }
  if (!std::isfinite(sink)) std::fprintf(stderr, "streaming: non-finite checksum\n");
  for (std::size_t i = 0; i < impls.size(); ++i) {
    out.push_back({cellName, scalar, impls[i].name, Units, Input, median(ns[i]),
                   *std::min_element(ns[i].begin(), ns[i].end()),
                   *std::max_element(ns[i].begin(), ns[i].end()), diffs[i]});
    std::fprintf(stderr, "  %-26s %-6s H=%-3d I=%-2d %-18s %9.1f ns\n", cellName.c_str(), scalar,
                 Units, Input, impls[i].name.c_str(), out.back().nsMedian);
  }
}

template <class Scalar, int Units, int Input>
void runSize(const Options& o, std::vector<Row>& out, bool& ok) {
  if (!o.units.empty() && std::find(o.units.begin(), o.units.end(), Units) == o.units.end()) return;
  runCase<Scalar, Units, Input>(o, CellKind::LSTM, false, out, ok);
  runCase<Scalar, Units, Input>(o, CellKind::GRUResetAfter, false, out, ok);
  runCase<Scalar, Units, Input>(o, CellKind::LSTM, true, out, ok);
  runCase<Scalar, Units, Input>(o, CellKind::GRU, true, out, ok);
}

template <class Scalar, int Input>
void runSizes(const Options& o, std::vector<Row>& out, bool& ok) {
  runSize<Scalar, 8, Input>(o, out, ok);
  runSize<Scalar, 16, Input>(o, out, ok);
  runSize<Scalar, 32, Input>(o, out, ok);
  runSize<Scalar, 64, Input>(o, out, ok);
  runSize<Scalar, 128, Input>(o, out, ok);
}

std::vector<long> parseList(const std::string& s) {
  std::vector<long> v;
  std::istringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) v.push_back(std::stol(item));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "streaming: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--samples") {
      o.samples = std::stol(value());
    } else if (a == "--reps") {
      o.reps = std::stoi(value());
    } else if (a == "--units") {
      o.units = parseList(value());
    } else if (a == "--json") {
      o.json = value();
    } else if (a == "--quick") {
      o.samples = 2000;
      o.reps = 3;
    } else {
      std::fprintf(stderr,
                   "usage: streaming [--samples N] [--reps N] [--units 8,16] [--json FILE] "
                   "[--quick]\n");
      return 2;
    }
  }
  std::vector<Row> rowsOut;
  bool ok = true;
  runSizes<float, 1>(o, rowsOut, ok);
  runSizes<double, 1>(o, rowsOut, ok);
#ifndef STREAMING_INPUT1_ONLY
  runSizes<float, 16>(o, rowsOut, ok);
  runSizes<double, 16>(o, rowsOut, ok);
#endif

  std::printf("%-28s %-6s %4s %3s %-18s %10s %10s %10s %9s\n", "cell", "scalar", "H", "I", "impl",
              "median ns", "min", "max", "max diff");
  for (const Row& r : rowsOut)
    std::printf("%-28s %-6s %4ld %3ld %-18s %10.1f %10.1f %10.1f %9.2g\n", r.cell.c_str(),
                r.scalar.c_str(), r.units, r.input, r.impl.c_str(), r.nsMedian, r.nsMin, r.nsMax,
                r.maxDiff);
  if (!o.json.empty()) {
    std::ofstream j(o.json);
    j << "{\n  \"samples\": " << o.samples << ",\n  \"reps\": " << o.reps
      << ",\n  \"rtneural\": " << (RECURRENT_HAVE_RTNEURAL ? "true" : "false")
      << ",\n  \"compiler\": \"" << __VERSION__ << "\",\n  \"rows\": [";
    for (std::size_t i = 0; i < rowsOut.size(); ++i) {
      const Row& r = rowsOut[i];
      j << (i ? "," : "") << "\n    {\"cell\": \"" << r.cell << "\", \"scalar\": \"" << r.scalar
        << "\", \"units\": " << r.units << ", \"input\": " << r.input << ", \"impl\": \"" << r.impl
        << "\", \"ns\": " << r.nsMedian << ", \"ns_min\": " << r.nsMin
        << ", \"ns_max\": " << r.nsMax << ", \"max_diff\": " << r.maxDiff << "}";
    }
    j << "\n  ]\n}\n";
  }
  return ok ? 0 : 1;
}
