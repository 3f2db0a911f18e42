// Side by side, in one run on the same inputs: this library, oneDNN, PyTorch, onnxruntime and a
// plain-Eigen baseline, for the workloads and cells of bench_common.hpp (float, full output
// sequence, inference), with 1 and 2 threads; then the training-step table; then the fit table.
// (Per-sample streaming, against RTNeural, is the other runner: benchmarks/streaming.)
//
//   side_by_side [--threads 1,2] [--workloads W1,W3] [--budget SECONDS] [--min-runs N]
//                [--python PATH] [--torch-script PATH] [--openblas LIBBLAS] [--no-torch]
//                [--node PATH] [--ort-script PATH] [--no-ort] [--no-train | --train-only]
//                [--no-fit | --fit-only] [--fit-epochs N] [--fit-cases seed-LSTM,...]
//                [--no-tfjs] [--json FILE] [--dir DIR] [--keep] [--quick]
//
// Training step (workloads W2, W3, W4 among those selected; --no-train leaves it out,
// --train-only runs nothing else): the training-mode forward of one layer (full output sequence,
// zero initial state, no dropout) and its backward for an upstream gradient dY [B, T, H] (the same
// uniform ±1 values for every implementation), giving dX and the gradients of the kernel, the
// recurrent kernel and the bias. Peers: this library (`call` with training + record, then
// `backward`), oneDNN (forward_training + *_backward, see OneDnnRnnTraining), PyTorch autograd
// (`out, _ = rnn(x)`, `out.backward(dY)`). Every peer's output sequence, dX and weight gradients,
// mapped to TF.js layout, must agree with this library's within max |diff| / max(1, max |ref|)
// <= 1e-3 (float; the weight gradients are sums over B·T terms); the table also gives the bytes
// per (sample, step) that this library's training forward records and oneDNN's workspace.
//
// Fit (the models of fit_cases.hpp; --no-fit leaves it out, --fit-only runs nothing else; needs
// the recurrent::json target at build time): an epoch of `model.fit` on a fixed synthetic dataset
// (the same files for every peer), batches of consecutive samples (no shuffling), Adam. One
// untimed warm-up epoch, then --fit-epochs (default 5) timed epochs, each one `fit` call with
// epochs = 1; median wall time per epoch, reported as samples per second. Peers: this library
// (`LayersModel::fit`, the recurrent layer's threads = n via LoadOptions::threads), PyTorch
// (torch_fit.py: nn.LSTM / nn.GRU + nn.Linear, TF.js's loss maths, torch.optim.Adam(eps 1e-7),
// torch.set_num_threads(n)) and TF.js (tfjs_fit.js: @tensorflow/tfjs's `model.fit` on the pure-JS
// 'cpu' backend; one thread, so only in the 1-thread rows). Every epoch's loss (TF.js's log: the
// batch losses weighted by batch size) of each peer must agree with this library's within a
// relative 1e-3 (the same initial weights and data; float sums in another order). A peer that is
// absent (PyTorch cannot be imported, no Node.js, no @tensorflow/tfjs) is left out with a note,
// not a failure.
//
// How it runs:
//   1. This process (the driver) writes every case's inputs and weights as raw little-endian
//      float32 files plus manifest.json into a temporary directory.
//   2. For each thread count n it runs itself as a worker (`--worker`) with OMP_NUM_THREADS=n:
//      the worker loads the files, runs this library (`threads = n`), oneDNN (OpenMP, n threads)
//      and the Eigen baseline (Eigen's OpenMP GEMM, Eigen::setNbThreads(n)), one after the other
//      for each case, reports median times and the max |difference| of oneDNN's and Eigen's
//      output sequences from this library's, and writes this library's outputs.
//   3. For each n it runs torch_bench.py (PyTorch, torch.set_num_threads(n), OpenBLAS; with
//      LD_PRELOAD=<--openblas> when given) on the same files, and compares its outputs here.
//   4. For each n it runs ort_bench.js (Node.js, onnxruntime-node's CPU execution provider,
//      one-node ONNX models, intraOpNumThreads = n) on the same files and compares its outputs.
//   5. Fit: the worker of step 2 also runs this library's fit epochs; then, per n, torch_fit.py,
//      and once tfjs_fit.js (TF.js: 1 thread).
//   6. It prints the tables (and writes --json for tools/bench/update_readme.py).
// Times: wall clock per call, median over N timed runs after a warm-up (>= 2 runs and >= 0.1 s),
// N = clamp(budget / time of one run, min-runs, 2000). Exit status 1 when an output differs by
// more than 1e-4 (a training-step tensor by more than the relative 1e-3 above), a thread count is
// not the one asked for, or PyTorch failed (unless --no-torch) or onnxruntime failed (unless
// --no-ort).
#include "bench_common.hpp"
#include "eigen_baseline.hpp"
#include "onednn_rnn.hpp"
// RECURRENT_SIDE_BY_SIDE_FIT = 1: the fit table (CMakeLists.txt sets it with recurrent::json).
#ifndef RECURRENT_SIDE_BY_SIDE_FIT
#define RECURRENT_SIDE_BY_SIDE_FIT 0
#endif
#if RECURRENT_SIDE_BY_SIDE_FIT
#include "fit_cases.hpp"
#endif

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

#ifndef RECURRENT_SIDE_BY_SIDE_TORCH_SCRIPT
#define RECURRENT_SIDE_BY_SIDE_TORCH_SCRIPT "torch_bench.py"
#endif
#ifndef RECURRENT_SIDE_BY_SIDE_ORT_SCRIPT
#define RECURRENT_SIDE_BY_SIDE_ORT_SCRIPT "ort_bench.js"
#endif
#ifndef RECURRENT_SIDE_BY_SIDE_TORCH_FIT_SCRIPT
#define RECURRENT_SIDE_BY_SIDE_TORCH_FIT_SCRIPT "torch_fit.py"
#endif
#ifndef RECURRENT_SIDE_BY_SIDE_TFJS_FIT_SCRIPT
#define RECURRENT_SIDE_BY_SIDE_TFJS_FIT_SCRIPT "tfjs_fit.js"
#endif

namespace {

using bench::CaseData;
using bench::CellKind;
using bench::Index;
using bench::Workload;

constexpr double kTolerance = 1e-4;
/// Training step: max |diff| / max(1, max |ref|) per tensor (y, dX, dW, dU, db).
constexpr double kTrainTolerance = 1e-3;
/// The workloads of the training-step table (W1, T = 2048 at H = 32, is a streaming shape).
constexpr const char* kTrainWorkloads[] = {"W2", "W3", "W4"};
/// The tensors a training step is compared on, in TF.js layout, with their file suffixes.
constexpr const char* kTrainTensors[] = {"y", "dx", "dkernel", "drecurrent_kernel", "dbias"};
constexpr std::size_t kTrainTensorCount = std::size(kTrainTensors);
/// Fit: every epoch's loss of a peer against this library's, |diff| / max(1e-6, |ours|).
constexpr double kFitTolerance = 1e-3;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Options {
  bool worker = false;
  std::vector<int> threads{1, 2};
  std::vector<std::string> workloads;  // empty: all
  double budget = 1.0;                 // seconds of timed runs per case and implementation
  int minRuns = 15;
  int maxRuns = 2000;
  bool torch = true;
  std::string python = "/usr/bin/python3";
  std::string torchScript = RECURRENT_SIDE_BY_SIDE_TORCH_SCRIPT;
  std::string openblas;
  bool ort = true;
  std::string node = "node";
  std::string ortScript = RECURRENT_SIDE_BY_SIDE_ORT_SCRIPT;
  bool inference = true;                       // the inference table (--train-only: off)
  bool train = true;                           // the training-step table (--no-train: off)
  bool fit = RECURRENT_SIDE_BY_SIDE_FIT != 0;  // the fit table (--no-fit: off)
  int fitEpochs = 5;                           // timed epochs after the warm-up one
  std::vector<std::string> fitCases;           // empty: all
  bool tfjs = true;
  std::string torchFitScript = RECURRENT_SIDE_BY_SIDE_TORCH_FIT_SCRIPT;
  std::string tfjsFitScript = RECURRENT_SIDE_BY_SIDE_TFJS_FIT_SCRIPT;
  std::string json;
  std::string dir;
  bool keep = false;
};

// --- small helpers -------------------------------------------------------------------------------

double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string jsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream s;
  s << std::setprecision(6) << v;
  return s.str();
}

std::string caseName(const Workload& w, CellKind cell) {
  return std::string(w.name) + "-" + bench::cellName(cell);
}

void writeFloats(const std::string& path, const float* data, std::size_t n) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(float)));
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::vector<float> readFloats(const std::string& path, std::size_t n) {
  std::vector<float> v(n);
  std::ifstream f(path, std::ios::binary);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(float)));
  if (!f || f.peek() != std::char_traits<char>::eof())
    throw std::runtime_error("cannot read " + std::to_string(n) + " floats from " + path);
  return v;
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return kInf;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    if (!(d <= m)) m = d;  // NaN propagates
  }
  return m;
}

std::vector<Workload> selectedWorkloads(const Options& o) {
  std::vector<Workload> out;
  for (const Workload& w : bench::kWorkloads)
    if (o.workloads.empty() ||
        std::find(o.workloads.begin(), o.workloads.end(), w.name) != o.workloads.end())
      out.push_back(w);
  return out;
}

bool runsAt(const Workload& w, int threads) { return threads == 1 || w.multiThreaded; }

bool isTrainWorkload(const Workload& w) {
  for (const char* name : kTrainWorkloads)
    if (std::strcmp(name, w.name) == 0) return true;
  return false;
}

/// The selected workloads of the training-step table (none with --no-train).
std::vector<Workload> selectedTrainWorkloads(const Options& o) {
  std::vector<Workload> out;
  if (!o.train) return out;
  for (const Workload& w : selectedWorkloads(o))
    if (isTrainWorkload(w)) out.push_back(w);
  return out;
}

/// max |a − ref| / max(1, max |ref|): the training-step measure (NaN propagates; sizes must match).
double relativeDiff(const std::vector<float>& a, const std::vector<float>& ref) {
  double scale = 1;
  for (float v : ref) scale = std::max(scale, std::abs(static_cast<double>(v)));
  return maxAbsDiff(a, ref) / scale;
}

/// Element counts of the training-step tensors (kTrainTensors order).
std::array<std::size_t, kTrainTensorCount> trainTensorSizes(const Workload& w, CellKind cell) {
  const auto b = static_cast<std::size_t>(w.batch), t = static_cast<std::size_t>(w.time);
  const auto i = static_cast<std::size_t>(w.input), h = static_cast<std::size_t>(w.units);
  const auto gh = static_cast<std::size_t>(bench::gateCount(cell)) * h;
  return {b * t * h, b * t * i, i * gh, h * gh,
          static_cast<std::size_t>(bench::biasRows(cell)) * gh};
}

/// A training step's results in TF.js layout (kTrainTensors order): output sequence y [B, T, H],
/// dX [B, T, I], kernel [I, G·H], recurrent kernel [H, G·H], bias [G·H] or [2, 3H].
using TrainTensors = std::array<std::vector<float>, kTrainTensorCount>;

std::string trainFile(const std::string& dir, const std::string& name, const std::string& impl,
                      int threads, std::size_t tensor) {
  return dir + "/" + name + ".train." + impl + "-t" + std::to_string(threads) + "." +
         kTrainTensors[tensor] + ".bin";
}

TrainTensors readTrainTensors(const std::string& dir, const std::string& name,
                              const std::string& impl, int threads, const Workload& w,
                              CellKind cell) {
  const auto sizes = trainTensorSizes(w, cell);
  TrainTensors t;
  for (std::size_t k = 0; k < kTrainTensorCount; ++k)
    t[k] = readFloats(trainFile(dir, name, impl, threads, k), sizes[k]);
  return t;
}

/// Per-tensor relative differences of `a` from `ref`: the largest, and "y 1.2e-07, dx ..." for
/// the info lines.
std::pair<double, std::string> trainDiff(const TrainTensors& a, const TrainTensors& ref) {
  double worst = 0;
  std::ostringstream detail;
  for (std::size_t k = 0; k < kTrainTensorCount; ++k) {
    const double d = relativeDiff(a[k], ref[k]);
    if (!(d <= worst)) worst = d;
    detail << (k ? ", " : "") << kTrainTensors[k] << " " << std::setprecision(2) << d;
  }
  return {worst, detail.str()};
}

std::size_t outputSize(const Workload& w) {
  return static_cast<std::size_t>(w.batch * w.time * w.units);
}

// --- the worker ------------------------------------------------------------------------------

struct Timed {
  std::vector<double> wall;
  double cpu = 0, wallTotal = 0;
};

/// One implementation on its own (no interleaving: threads left spinning by one implementation
/// must not eat into the next one's time): warm-up (>= 2 runs and >= 0.1 s), then
/// N = clamp(budget / fastest warm-up run, minRuns, maxRuns) timed runs.
template <class F>
Timed measure(const Options& o, F&& run) {
  const double start = wallSeconds();
  double best = kInf;
  for (int i = 0; i < 2 || wallSeconds() - start < 0.1; ++i) {
    const double t0 = wallSeconds();
    run();
    best = std::min(best, wallSeconds() - t0);
  }
  const int runs = static_cast<int>(std::clamp(
      std::ceil(o.budget / best), static_cast<double>(o.minRuns), static_cast<double>(o.maxRuns)));
  Timed t;
  for (int r = 0; r < runs; ++r) {
    const double c0 = cpuSeconds(), t0 = wallSeconds();
    run();
    const double t1 = wallSeconds(), c1 = cpuSeconds();
    t.wall.push_back(t1 - t0);
    t.wallTotal += t1 - t0;
    t.cpu += c1 - c0;
  }
  return t;
}

void report(const char* impl, const Timed& t, const std::string& name, int threads) {
  std::printf("time\t%s\t%s\t%d\t%.3f\t%.3f\t%zu\t%.2f\n", impl, name.c_str(), threads,
              1e6 * median(t.wall), 1e6 * *std::min_element(t.wall.begin(), t.wall.end()),
              t.wall.size(), t.cpu / t.wallTotal);
}

CaseData loadCase(const std::string& dir, const Workload& w, CellKind cell) {
  const std::string base = dir + "/" + caseName(w, cell);
  const std::size_t g = static_cast<std::size_t>(bench::gateCount(cell));
  const std::size_t in = static_cast<std::size_t>(w.input), h = static_cast<std::size_t>(w.units);
  CaseData d{cell, w, {}, {}, {}, {}};
  d.x = readFloats(base + ".x.bin", static_cast<std::size_t>(w.batch * w.time) * in);
  d.kernel = readFloats(base + ".kernel.bin", in * g * h);
  d.recurrentKernel = readFloats(base + ".recurrent_kernel.bin", h * g * h);
  d.bias = readFloats(base + ".bias.bin", static_cast<std::size_t>(bench::biasRows(cell)) * g * h);
  return d;
}

void workerCase(const Options& o, int threads, const dnnl::engine& engine, const Workload& w,
                CellKind cell) {
  const std::string name = caseName(w, cell);
  const CaseData d = loadCase(o.dir, w, cell);
  std::vector<float> outRecurrent(outputSize(w)), outOneDnn(outputSize(w)), outEigen(outputSize(w));
  // This library: its `threads` option only; Eigen's OpenMP GEMM (inside the library) stays at
  // 1 thread, as in a build without -fopenmp. The layer (and any helper threads of its own) is
  // gone before the others run.
  Eigen::setNbThreads(1);
  bench::LayerOptions lo;
  lo.units = w.units;
  lo.threads = threads;
  bench::withLayer<float>(cell, w.input, lo, [&](auto& layer) {
    layer.setWeights(bench::layerWeights<float>(d));
    recurrent::RNNResult<float> result;
    const recurrent::SequenceView<float> x(d.x.data(), w.batch, w.time, w.input);
    report("recurrent", measure(o, [&] { layer.call(x, {}, result); }), name, threads);
    std::copy(result.sequence.data(), result.sequence.data() + result.sequence.size(),
              outRecurrent.begin());
  });
  // oneDNN: OpenMP with OMP_NUM_THREADS threads (set by the driver, checked from its verbose
  // header).
  std::string weightsFormat, implementation;
  {
    bench::OneDnnRnn onednn(d, engine);
    weightsFormat = onednn.weightsFormat();
    implementation = onednn.implementation();
    report("onednn", measure(o, [&] { onednn.run(d.x.data(), outOneDnn.data()); }), name, threads);
  }
  // The Eigen baseline: Eigen's OpenMP GEMM with `threads` threads.
  {
    Eigen::setNbThreads(threads);
    bench::EigenBaseline eigen(d);
    report("eigen", measure(o, [&] { eigen.run(d.x.data(), outEigen.data()); }), name, threads);
    Eigen::setNbThreads(1);
  }
  std::printf("diff\tonednn\t%s\t%d\t%.3g\n", name.c_str(), threads,
              maxAbsDiff(outOneDnn, outRecurrent));
  std::printf("diff\teigen\t%s\t%d\t%.3g\n", name.c_str(), threads,
              maxAbsDiff(outEigen, outRecurrent));
  std::printf("info\tonednn_weights.%s\t%s\n", name.c_str(), weightsFormat.c_str());
  std::printf("info\tonednn_impl.%s\t%s\n", name.c_str(), implementation.c_str());
  writeFloats(o.dir + "/" + name + ".recurrent-t" + std::to_string(threads) + ".bin",
              outRecurrent.data(), outRecurrent.size());
  std::fflush(stdout);
  std::fprintf(stderr, "  [%d thread%s] %s done\n", threads, threads == 1 ? "" : "s", name.c_str());
}

/// The training step of every peer in this process on one case, one after the other: this
/// library, oneDNN and the Eigen baseline; their tensors compared with this library's, which are
/// written for the driver (PyTorch, other thread counts).
void workerTrainCase(const Options& o, int threads, const dnnl::engine& engine, const Workload& w,
                     CellKind cell) {
  const std::string name = caseName(w, cell);
  const CaseData d = loadCase(o.dir, w, cell);
  const auto sizes = trainTensorSizes(w, cell);
  const std::vector<float> dy = readFloats(o.dir + "/" + name + ".dy.bin", sizes[0]);
  auto sized = [&] {
    TrainTensors t;
    for (std::size_t k = 0; k < kTrainTensorCount; ++k) t[k].assign(sizes[k], 0.0f);
    return t;
  };
  // This library: `threads` option only, as for inference; bench::TrainingStep (a recording
  // call, then backward; its result and gradients reused from run to run).
  TrainTensors ours = sized();
  Eigen::setNbThreads(1);
  bench::LayerOptions lo;
  lo.units = w.units;
  lo.threads = threads;
  bench::withLayer<float>(cell, w.input, lo, [&](auto& layer) {
    layer.setWeights(bench::layerWeights<float>(d));
    bench::TrainingStep<float> step(d.x.data(), dy.data(), w);
    const Timed timed = measure(o, [&] { step(layer); });
    report("recurrent.train", timed, name, threads);
    const auto& y = step.result.sequence;
    const auto& dx = step.grads.inputs;
    std::copy(y.data(), y.data() + y.size(), ours[0].begin());
    std::copy(dx.data(), dx.data() + dx.size(), ours[1].begin());
    for (std::size_t k = 0; k < 3; ++k) ours[2 + k] = step.grads.weights.at(k).data;
    std::printf("info\trecorded_bytes.%s\t%zu\n", name.c_str(), layer.recordedBytes());
  });
  // oneDNN: forward_training + backward, OpenMP with OMP_NUM_THREADS threads.
  TrainTensors onednn = sized();
  {
    bench::OneDnnRnnTraining t(d, engine);
    report("onednn.train",
           measure(o, [&] { t.run(d.x.data(), dy.data(), onednn[0].data(), onednn[1].data()); }),
           name, threads);
    t.gradients(onednn[2], onednn[3], onednn[4]);
    std::printf("info\tonednn_workspace_bytes.%s\t%zu\n", name.c_str(), t.workspaceBytes());
    std::printf("info\tonednn_train_weights.%s\t%s\n", name.c_str(), t.weightsFormat().c_str());
    std::printf("info\tonednn_train_impl.%s\t%s\n", name.c_str(), t.implementation().c_str());
  }
  // The Eigen baseline's forward + hand-written BPTT: Eigen's OpenMP GEMM with `threads`.
  TrainTensors eigen = sized();
  {
    Eigen::setNbThreads(threads);
    bench::EigenBaselineTraining t(d);
    const Timed timed = measure(o, [&] {
      t.run(d.x.data(), dy.data(), eigen[0].data(), eigen[1].data(), eigen[2].data(),
            eigen[3].data(), eigen[4].data());
    });
    report("eigen.train", timed, name, threads);
    Eigen::setNbThreads(1);
  }
  for (const auto& [impl, tensors] :
       {std::pair<const char*, const TrainTensors*>{"onednn", &onednn}, {"eigen", &eigen}}) {
    const auto [diff, detail] = trainDiff(*tensors, ours);
    std::printf("tdiff\t%s\t%s\t%d\t%.3g\n", impl, name.c_str(), threads, diff);
    std::printf("info\ttrain_diff.%s.%s\t%s\n", impl, name.c_str(), detail.c_str());
  }
  for (std::size_t k = 0; k < kTrainTensorCount; ++k)
    writeFloats(trainFile(o.dir, name, "recurrent", threads, k), ours[k].data(), ours[k].size());
  std::fflush(stdout);
  std::fprintf(stderr, "  [%d thread%s] %s training step done\n", threads, threads == 1 ? "" : "s",
               name.c_str());
}

#if RECURRENT_SIDE_BY_SIDE_FIT
/// The selected fit cases (none with --no-fit).
std::vector<bench::FitCase> selectedFitCases(const Options& o) {
  std::vector<bench::FitCase> out;
  if (!o.fit) return out;
  for (const bench::FitCase& c : bench::kFitCases)
    if (o.fitCases.empty() ||
        std::find(o.fitCases.begin(), o.fitCases.end(), c.name) != o.fitCases.end())
      out.push_back(c);
  return out;
}

std::string fitFile(const std::string& dir, const std::string& name, const char* what) {
  return dir + "/" + name + ".fit." + what + ".bin";
}

/// This library's epochs of one fit case: the model built and compiled with the case's initial
/// weights, one untimed `fit` epoch, then o.fitEpochs timed ones (each a `fit` call with
/// epochs = 1, batchSize, shuffle off).
void workerFitCase(const Options& o, int threads, const bench::FitCase& c) {
  bench::FitData d;
  const std::size_t g = static_cast<std::size_t>(bench::gateCount(c.cell));
  const auto in = static_cast<std::size_t>(c.input), h = static_cast<std::size_t>(c.units);
  const auto out = static_cast<std::size_t>(c.outputs), n = static_cast<std::size_t>(c.samples);
  d.x = readFloats(fitFile(o.dir, c.name, "x"), n * static_cast<std::size_t>(c.time) * in);
  d.y = readFloats(fitFile(o.dir, c.name, "y"), n * out);
  d.kernel = readFloats(fitFile(o.dir, c.name, "kernel"), in * g * h);
  d.recurrentKernel = readFloats(fitFile(o.dir, c.name, "recurrent_kernel"), h * g * h);
  d.bias = readFloats(fitFile(o.dir, c.name, "bias"),
                      static_cast<std::size_t>(bench::biasRows(c.cell)) * g * h);
  d.denseKernel = readFloats(fitFile(o.dir, c.name, "dense_kernel"), h * out);
  d.denseBias = readFloats(fitFile(o.dir, c.name, "dense_bias"), out);
  Eigen::setNbThreads(1);  // this library: its `threads` option only, as above
  auto model = bench::makeFitModel(c, d, threads);
  const std::vector<recurrent::FlatTensor<float>> x{bench::fitInputs(c, d)},
      y{bench::fitTargets(c, d)};
  const recurrent::io::FitArgs<float> args = bench::fitArgs(c);
  Timed t;
  std::ostringstream losses;
  for (int e = 0; e <= o.fitEpochs; ++e) {
    const double c0 = cpuSeconds(), t0 = wallSeconds();
    const recurrent::io::History history = model.fit(x, y, args);
    const double t1 = wallSeconds(), c1 = cpuSeconds();
    losses << (e ? " " : "") << std::setprecision(7) << history.history.at("loss").at(0);
    if (e > 0) {  // epoch 0: the warm-up
      t.wall.push_back(t1 - t0);
      t.wallTotal += t1 - t0;
      t.cpu += c1 - c0;
    }
    std::fprintf(stderr, "  [%d thread%s] %s epoch %d (recurrent): %.2f s\n", threads,
                 threads == 1 ? "" : "s", c.name, e, t1 - t0);
  }
  std::printf("info\tfit_losses.recurrent.%s\t%s\n", c.name, losses.str().c_str());
  report("recurrent.fit", t, c.name, threads);
  if (c.tfjs && c.tfjsSamples > 0 && threads == 1) {
    // The losses of TF.js's subset epochs (untimed), for the check.
    auto subsetModel = bench::makeFitModel(c, d, threads);
    const std::vector<recurrent::FlatTensor<float>> xs{bench::fitInputs(c, d, c.tfjsSamples)},
        ys{bench::fitTargets(c, d, c.tfjsSamples)};
    std::ostringstream subsetLosses;
    for (int e = 0; e <= o.fitEpochs; ++e)
      subsetLosses << (e ? " " : "") << std::setprecision(7)
                   << subsetModel.fit(xs, ys, args).history.at("loss").at(0);
    std::printf("info\tfit_losses.recurrent_subset.%s\t%s\n", c.name, subsetLosses.str().c_str());
  }
  std::fflush(stdout);
}
#endif

int workerMain(const Options& o, int threads) {
  Eigen::setNbThreads(1);
  std::printf("info\tomp_max_threads\t%d\n", omp_get_max_threads());
  std::printf("info\tcompiler\t%s\n", __VERSION__);
  std::printf("info\teigen_version\t%d.%d.%d\n", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION,
              EIGEN_MINOR_VERSION);
  const dnnl::version_t* v = dnnl::version();
  std::printf("info\tonednn_version\t%d.%d.%d\n", v->major, v->minor, v->patch);
  std::fflush(stdout);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  {
    // oneDNN's verbose header states the threading runtime and the thread count it uses
    // (`...,info,cpu,runtime:OpenMP,nthr:N`); the driver reads it from this process's stdout.
    dnnl::set_verbose(1);
    std::vector<float> a(16, 1.0f), b(16);
    dnnl::memory::desc md({4, 4}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
    dnnl::memory ma(md, engine, a.data()), mb(md, engine, b.data());
    dnnl::stream s(engine);
    dnnl::reorder(ma, mb).execute(s, ma, mb);
    s.wait();
    std::fflush(stdout);
    dnnl::set_verbose(0);
  }
  if (o.inference) {
    for (const Workload& w : selectedWorkloads(o)) {
      if (!runsAt(w, threads)) continue;
      for (CellKind cell : bench::kCells) workerCase(o, threads, engine, w, cell);
    }
  }
  for (const Workload& w : selectedTrainWorkloads(o)) {
    if (!runsAt(w, threads)) continue;
    for (CellKind cell : bench::kCells) workerTrainCase(o, threads, engine, w, cell);
  }
#if RECURRENT_SIDE_BY_SIDE_FIT
  for (const bench::FitCase& c : selectedFitCases(o)) workerFitCase(o, threads, c);
#endif
  return 0;
}

// --- the driver ------------------------------------------------------------------------------

struct Timing {
  double medianUs = kNaN, minUs = kNaN, cpuPerWall = kNaN;
  int runs = 0;
};

struct Results {
  std::map<std::string, std::string> info;   // "t<n>.key" or "key"
  std::map<std::string, Timing> times;       // "impl|case|threads"
  std::map<std::string, double> diffs;       // "impl|case|threads"
  std::map<std::string, double> trainDiffs;  // "impl|case|threads": training step, relative
  std::map<std::string, double> fitDiffs;    // "impl|case|threads": fit, epoch losses, relative
  std::vector<std::string> problems;
  std::vector<std::string> notes;  // peers left out because they are absent
};

std::string key(const std::string& impl, const std::string& name, int threads) {
  return impl + "|" + name + "|" + std::to_string(threads);
}

/// The 1-minute load average (first field of /proc/loadavg), "0" when unknown.
std::string loadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string first;
  f >> first;
  return first.empty() ? "0" : first;
}

std::string selfPath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(buf, static_cast<std::size_t>(n));
}

/// Runs `command` through the shell, parses the protocol lines of its stdout into `r`
/// (`prefix` is the thread tag of info keys) and echoes the other lines. Returns the exit status.
int runChild(const std::string& command, const std::string& prefix, Results& r) {
  std::fflush(stdout);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + command);
  std::string line;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) {
    line += buf;
    if (line.empty() || line.back() != '\n') continue;
    line.pop_back();
    const std::vector<std::string> f = split(line, '\t');
    if (f.size() == 3 && f[0] == "info") {
      r.info[prefix + f[1]] = f[2];
    } else if (f.size() == 8 && f[0] == "time") {
      Timing t;
      t.medianUs = std::stod(f[4]);
      t.minUs = std::stod(f[5]);
      t.runs = std::stoi(f[6]);
      t.cpuPerWall = std::stod(f[7]);
      r.times[key(f[1], f[2], std::stoi(f[3]))] = t;
    } else if (f.size() == 5 && f[0] == "diff") {
      r.diffs[key(f[1], f[2], std::stoi(f[3]))] = std::stod(f[4]);
    } else if (f.size() == 5 && f[0] == "tdiff") {
      r.trainDiffs[key(f[1], f[2], std::stoi(f[3]))] = std::stod(f[4]);
    } else if (line.find("_verbose,info,cpu,") != std::string::npos) {
      // oneDNN's verbose header: "<x>_verbose,info,cpu,runtime:OpenMP,nthr:2", "...,isa:..."
      const std::size_t nthr = line.find("nthr:");
      if (nthr != std::string::npos) r.info[prefix + "onednn_nthr"] = line.substr(nthr + 5);
      const std::size_t rt = line.find("runtime:");
      if (rt != std::string::npos)
        r.info[prefix + "onednn_runtime"] = split(line.substr(rt + 8), ',')[0];
      const std::size_t isa = line.find("isa:");
      if (isa != std::string::npos) r.info[prefix + "onednn_isa"] = line.substr(isa + 4);
    } else if (line.find("_verbose,") == std::string::npos) {
      std::cout << line << "\n";
    }
    line.clear();
  }
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void writeData(const Options& o) {
  std::ofstream m(o.dir + "/manifest.json");
  m << "{\n  \"budget_seconds\": " << o.budget << ",\n  \"min_runs\": " << o.minRuns
    << ",\n  \"max_runs\": " << o.maxRuns
    << ",\n  \"inference\": " << (o.inference ? "true" : "false") << ",\n  \"cases\": [";
  bool first = true;
  for (const Workload& w :
       o.inference || o.train ? selectedWorkloads(o) : std::vector<Workload>{}) {
    for (CellKind cell : bench::kCells) {
      const CaseData d = bench::makeCaseData(cell, w);
      const std::string name = caseName(w, cell), base = o.dir + "/" + name;
      writeFloats(base + ".x.bin", d.x.data(), d.x.size());
      writeFloats(base + ".kernel.bin", d.kernel.data(), d.kernel.size());
      writeFloats(base + ".recurrent_kernel.bin", d.recurrentKernel.data(),
                  d.recurrentKernel.size());
      writeFloats(base + ".bias.bin", d.bias.data(), d.bias.size());
      const bool train = o.train && isTrainWorkload(w);
      if (train) {  // the upstream gradient dY [B, T, H] of the training step, uniform ±1
        bench::Random rng(bench::caseSeed(cell, w) ^ 0xD7D7D7D7ULL);
        const std::vector<float> dy = bench::uniformVector(rng, w.batch * w.time * w.units, 1.0);
        writeFloats(base + ".dy.bin", dy.data(), dy.size());
      }
      m << (first ? "\n" : ",\n") << "    {\"name\": " << jsonString(name)
        << ", \"workload\": " << jsonString(w.name)
        << ", \"cell\": " << jsonString(bench::cellName(cell)) << ", \"batch\": " << w.batch
        << ", \"time\": " << w.time << ", \"input\": " << w.input << ", \"units\": " << w.units
        << ", \"gates\": " << bench::gateCount(cell) << ", \"bias_rows\": " << bench::biasRows(cell)
        << ", \"multi_threaded\": " << (w.multiThreaded ? "true" : "false")
        << ", \"train\": " << (train ? "true" : "false") << "}";
      first = false;
    }
  }
  m << "\n  ]\n}\n";
  if (!m) throw std::runtime_error("cannot write the manifest");
}

#if RECURRENT_SIDE_BY_SIDE_FIT
/// The fit cases' data and initial weights (fit_cases.hpp; <case>.fit.<what>.bin) and fit.json,
/// which torch_fit.py and tfjs_fit.js read.
void writeFitData(const Options& o) {
  std::ofstream m(o.dir + "/fit.json");
  m << "{\n  \"timed_epochs\": " << o.fitEpochs << ",\n  \"cases\": [";
  bool first = true;
  for (const bench::FitCase& c : selectedFitCases(o)) {
    const bench::FitData d = bench::makeFitData(c);
    const std::pair<const char*, const std::vector<float>*> files[] = {
        {"x", &d.x},
        {"y", &d.y},
        {"kernel", &d.kernel},
        {"recurrent_kernel", &d.recurrentKernel},
        {"bias", &d.bias},
        {"dense_kernel", &d.denseKernel},
        {"dense_bias", &d.denseBias}};
    for (const auto& [what, v] : files)
      writeFloats(fitFile(o.dir, c.name, what), v->data(), v->size());
    m << (first ? "\n" : ",\n") << "    {\"name\": " << jsonString(c.name)
      << ", \"cell\": " << jsonString(bench::cellName(c.cell)) << ", \"samples\": " << c.samples
      << ", \"batch\": " << c.batch << ", \"time\": " << c.time << ", \"input\": " << c.input
      << ", \"units\": " << c.units << ", \"outputs\": " << c.outputs
      << ", \"gates\": " << bench::gateCount(c.cell)
      << ", \"bias_rows\": " << bench::biasRows(c.cell)
      << ", \"activation\": " << jsonString(c.activation) << ", \"loss\": " << jsonString(c.loss)
      << ", \"lr\": " << c.lr << ", \"peers\": [\"recurrent\"" << (c.torch ? ", \"torch\"" : "")
      << (c.tfjs ? ", \"tfjs\"" : "")
      << "], \"tfjs_samples\": " << (c.tfjsSamples > 0 ? c.tfjsSamples : c.samples) << "}";
    first = false;
  }
  m << "\n  ]\n}\n";
  if (!m) throw std::runtime_error("cannot write fit.json");
}

/// The epoch losses ("l0 l1 ...") of an info entry; empty if absent.
std::vector<double> fitLosses(const Results& r, const std::string& infoKey) {
  std::vector<double> out;
  auto it = r.info.find(infoKey);
  if (it == r.info.end()) return out;
  std::istringstream in(it->second);
  for (double v; in >> v;) out.push_back(v);
  return out;
}

/// max over epochs of |a − ref| / max(1e-6, |ref|); +inf when the counts differ (or are 0).
double fitLossDiff(const std::vector<double>& a, const std::vector<double>& ref) {
  if (a.size() != ref.size() || a.empty()) return kInf;
  double m = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double d = std::abs(a[k] - ref[k]) / std::max(1e-6, std::abs(ref[k]));
    if (!(d <= m)) m = d;
  }
  return m;
}

/// PyTorch (per thread count) and TF.js (once: one thread) on the fit cases, their epoch losses
/// compared with this library's. An absent peer (exit status 5: torch / @tensorflow/tfjs cannot
/// be loaded; 127: no interpreter) is a note, not a problem.
void runFitPeers(const Options& o, Results& r) {
  const std::vector<bench::FitCase> cases = selectedFitCases(o);
  if (cases.empty()) return;
  auto compare = [&](const char* impl, const std::string& prefix, int threads) {
    for (const bench::FitCase& c : cases) {
      if ((std::string(impl) == "torch" && !c.torch) || (std::string(impl) == "tfjs" && !c.tfjs))
        continue;
      if (r.times.count(key(std::string(impl) + ".fit", c.name, threads)) == 0) {
        r.problems.push_back(std::string(impl) + " " + std::to_string(threads) +
                             ": no fit time for " + c.name);
        continue;
      }
      const bool subset = std::string(impl) == "tfjs" && c.tfjsSamples > 0;
      const std::string ours = "t" + std::to_string(threads) + ".fit_losses." +
                               (subset ? "recurrent_subset." : "recurrent.") + c.name;
      const double d = fitLossDiff(fitLosses(r, prefix + "fit_losses." + impl + "." + c.name),
                                   fitLosses(r, ours));
      r.fitDiffs[key(impl, c.name, threads)] = d;
    }
  };
  bool anyTorch = false, anyTfjs = false;
  for (const bench::FitCase& c : cases) {
    anyTorch = anyTorch || c.torch;
    anyTfjs = anyTfjs || c.tfjs;
  }
  if (o.torch && anyTorch) {
    for (int threads : o.threads) {
      const std::string n = std::to_string(threads), prefix = "fit.t" + n + ".";
      std::cout << "== PyTorch fit with " << n << " thread(s)\n";
      std::string cmd = "OMP_NUM_THREADS=" + n + " ";
      if (!o.openblas.empty()) cmd += "LD_PRELOAD=" + shellQuote(o.openblas) + " ";
      cmd += shellQuote(o.python) + " " + shellQuote(o.torchFitScript) + " --dir " +
             shellQuote(o.dir) + " --threads " + n;
      const int rc = runChild(cmd, prefix, r);
      if (rc == 5 || rc == 127) {
        r.notes.push_back("PyTorch is absent (" + o.python + ": exit " + std::to_string(rc) +
                          "): its fit rows are left out");
        break;
      }
      if (rc != 0) {
        r.problems.push_back("PyTorch fit with " + n + " thread(s) exited with " +
                             std::to_string(rc));
        continue;
      }
      if (r.info[prefix + "torch_fit_threads"] != n)
        r.problems.push_back("PyTorch fit " + n +
                             ": torch.get_num_threads() = " + r.info[prefix + "torch_fit_threads"]);
      compare("torch", prefix, threads);
    }
  }
  if (o.tfjs && anyTfjs && std::find(o.threads.begin(), o.threads.end(), 1) != o.threads.end()) {
    std::cout << "== TF.js fit (cpu backend, 1 thread)\n";
    const int rc = runChild(
        shellQuote(o.node) + " " + shellQuote(o.tfjsFitScript) + " --dir " + shellQuote(o.dir),
        "t1.", r);
    if (rc == 5 || rc == 127) {
      r.notes.push_back("TF.js is absent (" + o.node + " + @tensorflow/tfjs: exit " +
                        std::to_string(rc) + "): its fit rows are left out");
    } else if (rc != 0) {
      r.problems.push_back("TF.js fit exited with " + std::to_string(rc));
    } else {
      if (r.info["t1.tfjs_backend"] != "cpu")
        r.problems.push_back("TF.js fit: backend " + r.info["t1.tfjs_backend"] + ", not cpu");
      compare("tfjs", "t1.", 1);
    }
  }
  // This library with n threads against 1 thread (the same maths; the loss sums may differ in
  // the last bits).
  for (int threads : o.threads) {
    if (threads == 1 || std::find(o.threads.begin(), o.threads.end(), 1) == o.threads.end())
      continue;
    for (const bench::FitCase& c : cases)
      r.fitDiffs[key("recurrent", c.name, threads)] = fitLossDiff(
          fitLosses(r, "t" + std::to_string(threads) + ".fit_losses.recurrent." + c.name),
          fitLosses(r, std::string("t1.fit_losses.recurrent.") + c.name));
  }
  for (int threads : o.threads)
    for (const bench::FitCase& c : cases)
      if (r.times.count(key("recurrent.fit", c.name, threads)) == 0)
        r.problems.push_back("recurrent " + std::to_string(threads) + ": no fit time for " +
                             c.name);
  for (const auto& [k, d] : r.fitDiffs)
    if (!(d <= kFitTolerance))
      r.problems.push_back(k + ": fit, epoch losses differ from this library's by a relative " +
                           std::to_string(d) + " > " + std::to_string(kFitTolerance));
}

#endif

std::string fmt(double v, int precision = 1) {
  if (!std::isfinite(v)) return "-";
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

std::string workloadLabel(const Workload& w) {
  std::ostringstream s;
  s << w.name << " (" << w.batch << "," << w.time << "," << w.input << "," << w.units << ")";
  return s.str();
}

void printTables(const Options& o, const Results& r) {
  std::cout << "\nmedian wall time per call in microseconds; ratio = other / recurrent (> 1: "
               "recurrent is faster); max|diff| = max abs difference of the output sequence "
               "from recurrent's\n\n";
  std::cout << std::left << std::setw(20) << "workload (B,T,I,H)" << std::setw(10) << "cell"
            << std::right << std::setw(4) << "thr" << std::setw(13) << "recurrent" << std::setw(11)
            << "oneDNN" << std::setw(11) << "PyTorch" << std::setw(11) << "ORT" << std::setw(11)
            << "Eigen" << std::setw(10) << "oneDNN/r" << std::setw(10) << "Torch/r" << std::setw(10)
            << "ORT/r" << std::setw(10) << "Eigen/r"
            << "   max|diff| oneDNN/Torch/ORT/Eigen\n";
  for (int threads : o.threads) {
    for (const Workload& w : selectedWorkloads(o)) {
      if (!runsAt(w, threads)) continue;
      for (CellKind cell : bench::kCells) {
        const std::string name = caseName(w, cell);
        auto us = [&](const char* impl) {
          auto it = r.times.find(key(impl, name, threads));
          return it == r.times.end() ? kNaN : it->second.medianUs;
        };
        auto diff = [&](const char* impl) {
          auto it = r.diffs.find(key(impl, name, threads));
          if (it == r.diffs.end()) return std::string("-");
          std::ostringstream s;
          s << std::setprecision(2) << it->second;
          return s.str();
        };
        const double rec = us("recurrent");
        std::cout << std::left << std::setw(20) << workloadLabel(w) << std::setw(10)
                  << bench::cellName(cell) << std::right << std::setw(4) << threads << std::setw(13)
                  << fmt(rec) << std::setw(11) << fmt(us("onednn")) << std::setw(11)
                  << fmt(us("torch")) << std::setw(11) << fmt(us("ort")) << std::setw(11)
                  << fmt(us("eigen")) << std::setw(10) << fmt(us("onednn") / rec, 2)
                  << std::setw(10) << fmt(us("torch") / rec, 2) << std::setw(10)
                  << fmt(us("ort") / rec, 2) << std::setw(10) << fmt(us("eigen") / rec, 2) << "   "
                  << diff("onednn") << " / " << diff("torch") << " / " << diff("ort") << " / "
                  << diff("eigen") << "\n";
      }
    }
  }
}

/// The training-step peers: name in the table, implementation key ("<impl>.train" in times).
constexpr const char* kTrainImpls[] = {"recurrent", "onednn", "torch", "eigen"};

/// Bytes per (sample, step) of a "t<n>.<what>.<case>" info entry (total bytes), NaN if absent.
double bytesPerStep(const Results& r, const std::string& what, const Workload& w,
                    const std::string& name, int threads) {
  auto it = r.info.find("t" + std::to_string(threads) + "." + what + "." + name);
  if (it == r.info.end()) return kNaN;
  return std::stod(it->second) / static_cast<double>(w.batch * w.time);
}

void printTrainTable(const Options& o, const Results& r) {
  std::cout << "\ntraining step (forward with training + record, backward for dY): median wall "
               "time per step in microseconds; ratio = other / recurrent (> 1: recurrent is "
               "faster); B/step = bytes per (sample, step) kept for the backward (recurrent: "
               "recordedBytes(), oneDNN: workspace); rel|diff| = max over y, dX, dW, dU, db of "
               "max |diff| / max(1, max |recurrent's|)\n\n";
  std::cout << std::left << std::setw(20) << "workload (B,T,I,H)" << std::setw(10) << "cell"
            << std::right << std::setw(4) << "thr" << std::setw(13) << "recurrent" << std::setw(11)
            << "oneDNN" << std::setw(11) << "PyTorch" << std::setw(11) << "Eigen" << std::setw(10)
            << "oneDNN/r" << std::setw(10) << "Torch/r" << std::setw(10) << "Eigen/r"
            << std::setw(9) << "B/step r" << std::setw(9) << "oneDNN"
            << "   rel|diff| oneDNN/Torch/Eigen\n";
  for (int threads : o.threads) {
    for (const Workload& w : selectedTrainWorkloads(o)) {
      if (!runsAt(w, threads)) continue;
      for (CellKind cell : bench::kCells) {
        const std::string name = caseName(w, cell);
        auto us = [&](const std::string& impl) {
          auto it = r.times.find(key(impl + ".train", name, threads));
          return it == r.times.end() ? kNaN : it->second.medianUs;
        };
        auto diff = [&](const char* impl) {
          auto it = r.trainDiffs.find(key(impl, name, threads));
          if (it == r.trainDiffs.end()) return std::string("-");
          std::ostringstream s;
          s << std::setprecision(2) << it->second;
          return s.str();
        };
        const double rec = us("recurrent");
        std::cout << std::left << std::setw(20) << workloadLabel(w) << std::setw(10)
                  << bench::cellName(cell) << std::right << std::setw(4) << threads << std::setw(13)
                  << fmt(rec) << std::setw(11) << fmt(us("onednn")) << std::setw(11)
                  << fmt(us("torch")) << std::setw(11) << fmt(us("eigen")) << std::setw(10)
                  << fmt(us("onednn") / rec, 2) << std::setw(10) << fmt(us("torch") / rec, 2)
                  << std::setw(10) << fmt(us("eigen") / rec, 2) << std::setw(9)
                  << fmt(bytesPerStep(r, "recorded_bytes", w, name, threads), 0) << std::setw(9)
                  << fmt(bytesPerStep(r, "onednn_workspace_bytes", w, name, threads), 0) << "   "
                  << diff("onednn") << " / " << diff("torch") << " / " << diff("eigen") << "\n";
      }
    }
  }
}

#if RECURRENT_SIDE_BY_SIDE_FIT
/// The samples of one of `impl`'s epochs.
bench::Index epochSamples(const bench::FitCase& c, const std::string& impl) {
  return impl == "tfjs" && c.tfjsSamples > 0 ? c.tfjsSamples : c.samples;
}

void printFitTable(const Options& o, const Results& r) {
  std::cout << "\nfit: one epoch of model.fit (batches in order, Adam), median of " << o.fitEpochs
            << " epochs after a warm-up one; samples per second; ratio = recurrent / other (> 1: "
               "recurrent is faster); loss rel|diff| = max over epochs of each peer's epoch "
               "loss against recurrent's; TF.js: cpu backend, 1 thread\n\n";
  std::cout << std::left << std::setw(11) << "case" << std::setw(30) << "(N, B, T, I, H, O)"
            << std::right << std::setw(4) << "thr" << std::setw(12) << "recurrent" << std::setw(11)
            << "PyTorch" << std::setw(11) << "TF.js" << std::setw(10) << "r/Torch" << std::setw(10)
            << "r/TF.js"
            << "   loss rel|diff| Torch/TF.js (ours t/1t)\n";
  for (int threads : o.threads) {
    for (const bench::FitCase& c : selectedFitCases(o)) {
      auto sps = [&](const char* impl) {
        auto it = r.times.find(key(std::string(impl) + ".fit", c.name, threads));
        return it == r.times.end()
                   ? kNaN
                   : static_cast<double>(epochSamples(c, impl)) / (1e-6 * it->second.medianUs);
      };
      auto diff = [&](const char* impl) {
        auto it = r.fitDiffs.find(key(impl, c.name, threads));
        if (it == r.fitDiffs.end()) return std::string("-");
        std::ostringstream s;
        s << std::setprecision(2) << it->second;
        return s.str();
      };
      std::ostringstream shape;
      shape << "(" << c.samples << ", " << c.batch << ", " << c.time << ", " << c.input << ", "
            << c.units << ", " << c.outputs << ")";
      const double rec = sps("recurrent");
      std::cout << std::left << std::setw(11) << c.name << std::setw(30) << shape.str()
                << std::right << std::setw(4) << threads << std::setw(12) << fmt(rec)
                << std::setw(11) << fmt(sps("torch")) << std::setw(11) << fmt(sps("tfjs"))
                << std::setw(10) << fmt(rec / sps("torch"), 2) << std::setw(10)
                << fmt(rec / sps("tfjs"), 2) << "   " << diff("torch") << " / " << diff("tfjs")
                << " (" << diff("recurrent") << ")\n";
    }
  }
}
#endif

void writeJson(const Options& o, const Results& r) {
  std::ofstream j(o.json);
  j << "{\n  \"tolerance\": " << kTolerance << ",\n  \"budget_seconds\": " << o.budget
    << ",\n  \"min_runs\": " << o.minRuns << ",\n  \"max_runs\": " << o.maxRuns
    << ",\n  \"threads\": [";
  for (std::size_t i = 0; i < o.threads.size(); ++i) j << (i ? ", " : "") << o.threads[i];
  j << "],\n  \"info\": {";
  bool first = true;
  for (const auto& [k, v] : r.info) {
    j << (first ? "\n" : ",\n") << "    " << jsonString(k) << ": " << jsonString(v);
    first = false;
  }
  j << "\n  },\n  \"rows\": [";
  first = true;
  for (int threads : o.threads) {
    for (const Workload& w : o.inference ? selectedWorkloads(o) : std::vector<Workload>{}) {
      if (!runsAt(w, threads)) continue;
      for (CellKind cell : bench::kCells) {
        const std::string name = caseName(w, cell);
        j << (first ? "\n" : ",\n") << "    {\"workload\": " << jsonString(w.name)
          << ", \"batch\": " << w.batch << ", \"time\": " << w.time << ", \"input\": " << w.input
          << ", \"units\": " << w.units << ", \"cell\": " << jsonString(bench::cellName(cell))
          << ", \"threads\": " << threads;
        for (const char* impl : {"recurrent", "onednn", "torch", "ort", "eigen"}) {
          auto t = r.times.find(key(impl, name, threads));
          auto d = r.diffs.find(key(impl, name, threads));
          j << ", " << jsonString(impl)
            << ": {\"median_us\": " << jsonNumber(t == r.times.end() ? kNaN : t->second.medianUs)
            << ", \"min_us\": " << jsonNumber(t == r.times.end() ? kNaN : t->second.minUs)
            << ", \"runs\": " << (t == r.times.end() ? 0 : t->second.runs) << ", \"cpu_per_wall\": "
            << jsonNumber(t == r.times.end() ? kNaN : t->second.cpuPerWall)
            << ", \"max_abs_diff\": " << jsonNumber(d == r.diffs.end() ? kNaN : d->second) << "}";
        }
        j << "}";
        first = false;
      }
    }
  }
  // The training-step table: per row each peer's time and its largest relative difference from
  // this library's tensors, and the bytes per (sample, step) kept for the backward.
  j << "\n  ],\n  \"train_tolerance\": " << kTrainTolerance << ",\n  \"train_rows\": [";
  first = true;
  for (int threads : o.threads) {
    for (const Workload& w : selectedTrainWorkloads(o)) {
      if (!runsAt(w, threads)) continue;
      for (CellKind cell : bench::kCells) {
        const std::string name = caseName(w, cell);
        j << (first ? "\n" : ",\n") << "    {\"workload\": " << jsonString(w.name)
          << ", \"batch\": " << w.batch << ", \"time\": " << w.time << ", \"input\": " << w.input
          << ", \"units\": " << w.units << ", \"cell\": " << jsonString(bench::cellName(cell))
          << ", \"threads\": " << threads << ", \"recorded_bytes_per_step\": "
          << jsonNumber(bytesPerStep(r, "recorded_bytes", w, name, threads))
          << ", \"onednn_workspace_bytes_per_step\": "
          << jsonNumber(bytesPerStep(r, "onednn_workspace_bytes", w, name, threads));
        for (const char* impl : kTrainImpls) {
          auto t = r.times.find(key(std::string(impl) + ".train", name, threads));
          auto d = r.trainDiffs.find(key(impl, name, threads));
          j << ", " << jsonString(impl)
            << ": {\"median_us\": " << jsonNumber(t == r.times.end() ? kNaN : t->second.medianUs)
            << ", \"min_us\": " << jsonNumber(t == r.times.end() ? kNaN : t->second.minUs)
            << ", \"runs\": " << (t == r.times.end() ? 0 : t->second.runs) << ", \"cpu_per_wall\": "
            << jsonNumber(t == r.times.end() ? kNaN : t->second.cpuPerWall)
            << ", \"max_rel_diff\": " << jsonNumber(d == r.trainDiffs.end() ? kNaN : d->second)
            << "}";
        }
        j << "}";
        first = false;
      }
    }
  }
#if RECURRENT_SIDE_BY_SIDE_FIT
  // The fit table: per row each peer's median epoch time, samples per second and the largest
  // relative difference of its epoch losses from this library's.
  j << "\n  ],\n  \"fit_epochs\": " << o.fitEpochs << ",\n  \"fit_tolerance\": " << kFitTolerance
    << ",\n  \"fit_rows\": [";
  first = true;
  for (int threads : o.threads) {
    for (const bench::FitCase& c : selectedFitCases(o)) {
      j << (first ? "\n" : ",\n") << "    {\"case\": " << jsonString(c.name)
        << ", \"model\": " << jsonString(c.label)
        << ", \"cell\": " << jsonString(bench::cellName(c.cell)) << ", \"samples\": " << c.samples
        << ", \"batch\": " << c.batch << ", \"time\": " << c.time << ", \"input\": " << c.input
        << ", \"units\": " << c.units << ", \"outputs\": " << c.outputs
        << ", \"activation\": " << jsonString(c.activation) << ", \"loss\": " << jsonString(c.loss)
        << ", \"lr\": " << c.lr << ", \"threads\": " << threads;
      for (const char* impl : {"recurrent", "torch", "tfjs"}) {
        auto t = r.times.find(key(std::string(impl) + ".fit", c.name, threads));
        auto d = r.fitDiffs.find(key(impl, c.name, threads));
        const double us = t == r.times.end() ? kNaN : t->second.medianUs;
        j << ", " << jsonString(impl) << ": {\"median_us\": " << jsonNumber(us)
          << ", \"min_us\": " << jsonNumber(t == r.times.end() ? kNaN : t->second.minUs)
          << ", \"epochs\": " << (t == r.times.end() ? 0 : t->second.runs)
          << ", \"cpu_per_wall\": " << jsonNumber(t == r.times.end() ? kNaN : t->second.cpuPerWall)
          << ", \"epoch_samples\": " << epochSamples(c, impl) << ", \"samples_per_s\": "
          << jsonNumber(static_cast<double>(epochSamples(c, impl)) / (1e-6 * us))
          << ", \"loss_rel_diff\": " << jsonNumber(d == r.fitDiffs.end() ? kNaN : d->second) << "}";
      }
      j << "}";
      first = false;
    }
  }
#endif
  j << "\n  ],\n  \"notes\": [";
  for (std::size_t i = 0; i < r.notes.size(); ++i) j << (i ? ", " : "") << jsonString(r.notes[i]);
  j << "],\n  \"problems\": [";
  for (std::size_t i = 0; i < r.problems.size(); ++i)
    j << (i ? ", " : "") << jsonString(r.problems[i]);
  j << "]\n}\n";
  if (!j) throw std::runtime_error("cannot write " + o.json);
}

int driverMain(Options o) {
  bool ownDir = false;
  if (o.dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                          "/recurrent-side-by-side-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    o.dir = pattern;
    ownDir = true;
  }
  std::cout << "side_by_side: data in " << o.dir << "\n";
  writeData(o);
#if RECURRENT_SIDE_BY_SIDE_FIT
  writeFitData(o);
#endif
  Results r;
  r.info["loadavg_start"] = loadAverage();
  if (std::stod(r.info["loadavg_start"]) > 0.5)
    std::cout << "side_by_side: the 1-minute load average is " << r.info["loadavg_start"]
              << ": other work on the machine will distort the numbers, the 2-thread ones most\n";
  const std::string self = selfPath();
  std::ostringstream common;
  common << " --dir " << shellQuote(o.dir) << " --budget " << o.budget << " --min-runs "
         << o.minRuns << " --max-runs " << o.maxRuns;
  if (!o.inference) common << " --no-inference";
  if (!o.train) common << " --no-train";
  if (!o.fit) common << " --no-fit";
  common << " --fit-epochs " << o.fitEpochs;
  if (!o.fitCases.empty()) {
    common << " --fit-cases ";
    for (std::size_t i = 0; i < o.fitCases.size(); ++i)
      common << (i ? "," : "") << shellQuote(o.fitCases[i]);
  }
  if (!o.workloads.empty()) {
    common << " --workloads ";
    for (std::size_t i = 0; i < o.workloads.size(); ++i)
      common << (i ? "," : "") << shellQuote(o.workloads[i]);
  }
  for (int threads : o.threads) {
    const std::string n = std::to_string(threads), prefix = "t" + n + ".";
    std::cout << "== this library, oneDNN, Eigen with " << n << " thread(s) (OMP_NUM_THREADS=" << n
              << ")\n";
    const int rc = runChild(
        "OMP_NUM_THREADS=" + n + " " + shellQuote(self) + " --worker --threads " + n + common.str(),
        prefix, r);
    if (rc != 0)
      r.problems.push_back("worker with " + n + " thread(s) exited with " + std::to_string(rc));
    if (r.info[prefix + "omp_max_threads"] != n)
      r.problems.push_back("worker " + n +
                           ": omp_get_max_threads() = " + r.info[prefix + "omp_max_threads"]);
    if (r.info[prefix + "onednn_nthr"] != n)
      r.problems.push_back("worker " + n +
                           ": oneDNN reports nthr:" + r.info[prefix + "onednn_nthr"]);
  }
  // The outputs a child process wrote (<case>.<impl>-t<n>.bin) against this library's.
  auto compareOutputs = [&](const char* impl, int threads) {
    const std::string n = std::to_string(threads);
    for (const Workload& w : selectedWorkloads(o)) {
      if (!runsAt(w, threads)) continue;
      for (CellKind cell : bench::kCells) {
        const std::string name = caseName(w, cell);
        if (r.times.count(key(impl, name, threads)) == 0) continue;  // no such cell
        const std::vector<float> ours =
            readFloats(o.dir + "/" + name + ".recurrent-t" + n + ".bin", outputSize(w));
        const std::vector<float> theirs =
            readFloats(o.dir + "/" + name + "." + impl + "-t" + n + ".bin", outputSize(w));
        r.diffs[key(impl, name, threads)] = maxAbsDiff(theirs, ours);
      }
    }
  };
  // The training-step tensors a child process wrote (<case>.train.<impl>-t<n>.<tensor>.bin)
  // against this library's; every workload and cell PyTorch has must be there.
  auto compareTrain = [&](const char* impl, int threads) {
    for (const Workload& w : selectedTrainWorkloads(o)) {
      if (!runsAt(w, threads)) continue;
      for (CellKind cell : bench::kCells) {
        const std::string name = caseName(w, cell);
        if (r.times.count(key(std::string(impl) + ".train", name, threads)) == 0) {
          if (cell != CellKind::GRU)  // PyTorch has no reset-before GRU
            r.problems.push_back(std::string(impl) + " " + std::to_string(threads) +
                                 ": no training-step time for " + name);
          continue;
        }
        if (r.times.count(key("recurrent.train", name, threads)) == 0) continue;
        const auto [d, detail] =
            trainDiff(readTrainTensors(o.dir, name, impl, threads, w, cell),
                      readTrainTensors(o.dir, name, "recurrent", threads, w, cell));
        r.trainDiffs[key(impl, name, threads)] = d;
        r.info["t" + std::to_string(threads) + ".train_diff." + impl + "." + name] = detail;
      }
    }
  };
  if (o.torch && (o.inference || o.train)) {
    for (int threads : o.threads) {
      const std::string n = std::to_string(threads), prefix = "t" + n + ".";
      std::cout << "== PyTorch with " << n << " thread(s)\n";
      std::string cmd = "OMP_NUM_THREADS=" + n + " ";
      if (!o.openblas.empty()) cmd += "LD_PRELOAD=" + shellQuote(o.openblas) + " ";
      cmd += shellQuote(o.python) + " " + shellQuote(o.torchScript) + " --dir " +
             shellQuote(o.dir) + " --threads " + n;
      const int rc = runChild(cmd, prefix, r);
      if (rc != 0) {
        r.problems.push_back("PyTorch with " + n + " thread(s) exited with " + std::to_string(rc));
        continue;
      }
      if (r.info[prefix + "torch_threads"] != n)
        r.problems.push_back("PyTorch " + n +
                             ": torch.get_num_threads() = " + r.info[prefix + "torch_threads"]);
      if (o.inference) compareOutputs("torch", threads);
      compareTrain("torch", threads);
    }
  }
  if (o.ort && o.inference) {
    for (int threads : o.threads) {
      const std::string n = std::to_string(threads), prefix = "t" + n + ".";
      std::cout << "== onnxruntime with " << n << " thread(s)\n";
      const int rc =
          runChild("OMP_NUM_THREADS=" + n + " " + shellQuote(o.node) + " " +
                       shellQuote(o.ortScript) + " --dir " + shellQuote(o.dir) + " --threads " + n,
                   prefix, r);
      if (rc != 0) {
        r.problems.push_back("onnxruntime with " + n + " thread(s) exited with " +
                             std::to_string(rc));
        continue;
      }
      if (r.info[prefix + "ort_threads"] != n)
        r.problems.push_back("onnxruntime " + n + ": threads in effect " +
                             r.info[prefix + "ort_threads"]);
      for (const Workload& w : selectedWorkloads(o))  // every cell has an ONNX counterpart
        for (CellKind cell : bench::kCells)
          if (runsAt(w, threads) && r.times.count(key("ort", caseName(w, cell), threads)) == 0)
            r.problems.push_back("onnxruntime " + n + ": no time for " + caseName(w, cell));
      compareOutputs("ort", threads);
    }
  }
  // This library with n threads must give what it gives with 1.
  for (int threads : o.threads) {
    if (threads == 1 || std::find(o.threads.begin(), o.threads.end(), 1) == o.threads.end())
      continue;
    for (const Workload& w : o.inference ? selectedWorkloads(o) : std::vector<Workload>{}) {
      if (!runsAt(w, threads)) continue;
      for (CellKind cell : bench::kCells) {
        const std::string name = caseName(w, cell), base = o.dir + "/" + name;
        const double d = maxAbsDiff(
            readFloats(base + ".recurrent-t" + std::to_string(threads) + ".bin", outputSize(w)),
            readFloats(base + ".recurrent-t1.bin", outputSize(w)));
        r.diffs[key("recurrent", name, threads)] = d;
        if (!(d <= kTolerance))
          r.problems.push_back(name + ": recurrent with " + std::to_string(threads) +
                               " threads differs from 1 thread by " + std::to_string(d));
      }
    }
  }
  // The same for the training step (within the relative tolerance).
  for (int threads : o.threads) {
    if (threads == 1 || std::find(o.threads.begin(), o.threads.end(), 1) == o.threads.end())
      continue;
    for (const Workload& w : selectedTrainWorkloads(o)) {
      if (!runsAt(w, threads)) continue;
      for (CellKind cell : bench::kCells) {
        const std::string name = caseName(w, cell);
        if (r.times.count(key("recurrent.train", name, threads)) == 0 ||
            r.times.count(key("recurrent.train", name, 1)) == 0)
          continue;
        const auto [d, detail] =
            trainDiff(readTrainTensors(o.dir, name, "recurrent", threads, w, cell),
                      readTrainTensors(o.dir, name, "recurrent", 1, w, cell));
        r.trainDiffs[key("recurrent", name, threads)] = d;
        r.info["t" + std::to_string(threads) + ".train_diff.recurrent." + name] = detail;
      }
    }
  }
  for (const auto& [k, d] : r.diffs)
    if (!(d <= kTolerance))
      r.problems.push_back(k + ": max |diff| " + std::to_string(d) + " > 1e-4");
  for (const auto& [k, d] : r.trainDiffs)
    if (!(d <= kTrainTolerance))
      r.problems.push_back(k + ": training step, max |diff| / max(1, max |ref|) " +
                           std::to_string(d) + " > 1e-3");
  // Every training case must have been measured in this process's peers.
  for (int threads : o.threads)
    for (const Workload& w : selectedTrainWorkloads(o))
      for (CellKind cell : bench::kCells)
        for (const char* impl : {"recurrent", "onednn", "eigen"})
          if (runsAt(w, threads) &&
              r.times.count(key(std::string(impl) + ".train", caseName(w, cell), threads)) == 0)
            r.problems.push_back(std::string(impl) + " " + std::to_string(threads) +
                                 ": no training-step time for " + caseName(w, cell));

#if RECURRENT_SIDE_BY_SIDE_FIT
  runFitPeers(o, r);
#endif

  r.info["loadavg_end"] = loadAverage();
  if (o.inference) printTables(o, r);
  if (o.train) printTrainTable(o, r);
#if RECURRENT_SIDE_BY_SIDE_FIT
  if (o.fit) printFitTable(o, r);
#endif
  std::cout << "\n";
  for (const auto& [k, v] : r.info) std::cout << k << ": " << v << "\n";
  if (!o.json.empty()) {
    writeJson(o, r);
    std::cout << "results: " << o.json << "\n";
  }
  if (ownDir && !o.keep) {
    std::filesystem::remove_all(o.dir);
  }
  for (const std::string& n : r.notes) std::cout << "NOTE: " << n << "\n";
  for (const std::string& p : r.problems) std::cout << "PROBLEM: " << p << "\n";
  return r.problems.empty() ? 0 : 1;
}

Options parse(int argc, char** argv, int& threadsOut) {
  Options o;
  threadsOut = 1;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) throw std::runtime_error(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--worker") {
      o.worker = true;
    } else if (a == "--threads") {
      o.threads.clear();
      for (const std::string& t : split(need(i), ',')) o.threads.push_back(std::stoi(t));
      threadsOut = o.threads.empty() ? 1 : o.threads.front();
    } else if (a == "--workloads") {
      o.workloads = split(need(i), ',');
    } else if (a == "--budget") {
      o.budget = std::stod(need(i));
    } else if (a == "--min-runs") {
      o.minRuns = std::stoi(need(i));
    } else if (a == "--max-runs") {
      o.maxRuns = std::stoi(need(i));
    } else if (a == "--no-torch") {
      o.torch = false;
    } else if (a == "--python") {
      o.python = need(i);
    } else if (a == "--torch-script") {
      o.torchScript = need(i);
    } else if (a == "--openblas") {
      o.openblas = need(i);
    } else if (a == "--no-ort") {
      o.ort = false;
    } else if (a == "--node") {
      o.node = need(i);
    } else if (a == "--ort-script") {
      o.ortScript = need(i);
    } else if (a == "--no-train") {
      o.train = false;
    } else if (a == "--train-only") {
      o.inference = false;
      o.fit = false;
    } else if (a == "--no-inference") {  // the driver's --train-only / --fit-only, to its workers
      o.inference = false;
    } else if (a == "--no-fit") {
      o.fit = false;
    } else if (a == "--fit-only") {
      if (RECURRENT_SIDE_BY_SIDE_FIT == 0)
        throw std::runtime_error("--fit-only: this build has no fit table (no recurrent::json)");
      o.inference = false;
      o.train = false;
    } else if (a == "--fit-epochs") {
      o.fitEpochs = std::stoi(need(i));
      if (o.fitEpochs < 1) throw std::runtime_error("--fit-epochs must be at least 1");
    } else if (a == "--fit-cases") {
      o.fitCases = split(need(i), ',');
    } else if (a == "--no-tfjs") {
      o.tfjs = false;
    } else if (a == "--torch-fit-script") {
      o.torchFitScript = need(i);
    } else if (a == "--tfjs-fit-script") {
      o.tfjsFitScript = need(i);
    } else if (a == "--json") {
      o.json = need(i);
    } else if (a == "--dir") {
      o.dir = need(i);
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--quick") {
      o.budget = 0.01;
      o.minRuns = 3;
      o.fitEpochs = 1;
    } else if (a == "--help" || a == "-h") {
      std::cout << "usage: side_by_side [--threads 1,2] [--workloads W1,...] [--budget S] "
                   "[--min-runs N] [--python PATH] [--torch-script PATH] [--openblas LIBBLAS] "
                   "[--no-torch] [--node PATH] [--ort-script PATH] [--no-ort] "
                   "[--no-train | --train-only] [--no-fit | --fit-only] [--fit-epochs N] "
                   "[--fit-cases seed-LSTM,W3-GRU-ra,W3-GRU,W3-LSTM] [--no-tfjs] "
                   "[--torch-fit-script PATH] [--tfjs-fit-script PATH] "
                   "[--json FILE] [--dir DIR] [--keep] [--quick]\n";
      std::exit(0);
    } else {
      throw std::runtime_error("unknown argument " + a);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    int threads = 1;
    const Options o = parse(argc, argv, threads);
    if (o.worker) {
      if (o.dir.empty()) throw std::runtime_error("--worker needs --dir");
      return workerMain(o, threads);
    }
    if (!o.inference && !o.train && !o.fit)
      throw std::runtime_error("these options leave nothing to run");
    return driverMain(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "side_by_side: %s\n", e.what());
    return 2;
  }
}
