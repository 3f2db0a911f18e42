// Heap allocations of `model.fit` after the first epoch, and a driver for profilers.
//
//   fit_alloc [--case seed-LSTM] [--threads N] [--samples N] [--epochs K]
//
// Builds a model of side_by_side's fit table (side_by_side/fit_cases.hpp: the same model, data
// and weights), runs one warm-up epoch (`fit` with epochs = 1, shuffle off), then K more, one
// `fit` call each. Built as two executables from this file:
//   - fit_alloc (RECURRENT_FIT_ALLOC_COUNT=1) replaces the C allocator's entry points (malloc,
//     calloc, realloc, aligned_alloc, posix_memalign, memalign: glibc's __libc_* behind them), so
//     that every heap allocation counts — operator new (std::vector, std::string, std::map,
//     std::function ...) and Eigen's aligned_malloc alike — and reports, for the epochs after the
//     first: allocations and bytes per batch (between the onBatchBegin and onBatchEnd callbacks:
//     slicing the batch, trainOnBatch, the batch logs) and per `fit` call outside the batches.
//     Exit status 1 if any batch after the first epoch allocates (with --expect-zero).
//   - fit_alloc_profile: no hooks, the same run, for heaptrack / perf / valgrind, e.g.
//       heaptrack build/bench/benchmarks/fit_alloc/fit_alloc_profile --epochs 10
//       perf record -e cpu-clock --call-graph dwarf build/.../fit_alloc_profile --case W3-GRU-ra
//     (sites: heaptrack_print; the warm-up epoch is 1 of 1 + K. Valgrind 3.19 cannot run an
//     AVX-512 -march=native build.)
#include "fit_cases.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#ifndef RECURRENT_FIT_ALLOC_COUNT
#define RECURRENT_FIT_ALLOC_COUNT 0
#endif

#if RECURRENT_FIT_ALLOC_COUNT
#if !defined(__GLIBC__)
#error "fit_alloc counts allocations through glibc's __libc_malloc family"
#endif
#include <cerrno>

namespace {
std::atomic<bool> gCounting{false};
std::atomic<long long> gCount{0}, gBytes{0};
inline void counted(std::size_t bytes) {
  if (gCounting.load(std::memory_order_relaxed)) {
    gCount.fetch_add(1, std::memory_order_relaxed);
    gBytes.fetch_add(static_cast<long long>(bytes), std::memory_order_relaxed);
  }
}
}  // namespace

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  counted(n);
  return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) {
  counted(count * n);
  return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) {
  counted(n);
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  counted(n);
  return __libc_memalign(alignment, n);
}
void* memalign(std::size_t alignment, std::size_t n) {
  counted(n);
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  counted(n);
  void* p = __libc_memalign(alignment, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}
#endif

namespace {

struct Options {
  std::string name = "seed-LSTM";
  int threads = 1;
  recurrent::Index samples = 0;  // 0: the case's
  int epochs = 3;                // after the warm-up one
  bool expectZero = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fit_alloc: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::string(argv[++i]);
    };
    if (a == "--case") {
      o.name = value();
    } else if (a == "--threads") {
      o.threads = std::stoi(value());
    } else if (a == "--samples") {
      o.samples = std::stoi(value());
    } else if (a == "--epochs") {
      o.epochs = std::stoi(value());
    } else if (a == "--expect-zero") {
      o.expectZero = true;
    } else {
      std::fprintf(stderr,
                   "usage: fit_alloc [--case NAME] [--threads N] [--samples N] [--epochs K] "
                   "[--expect-zero]\n");
      std::exit(a == "--help" ? 0 : 2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const bench::FitCase* found = nullptr;
  for (const bench::FitCase& c : bench::kFitCases)
    if (o.name == c.name) found = &c;
  if (found == nullptr) {
    std::fprintf(stderr, "fit_alloc: no fit case %s\n", o.name.c_str());
    return 2;
  }
  bench::FitCase c = *found;
  bench::FitData d = bench::makeFitData(c);
  if (o.samples > 0 && o.samples < c.samples) {  // the first samples only
    d.x.resize(static_cast<std::size_t>(o.samples * c.time * c.input));
    d.y.resize(static_cast<std::size_t>(o.samples * c.outputs));
    c.samples = o.samples;
  }
  auto model = bench::makeFitModel(c, d, o.threads);
  const std::vector<recurrent::FlatTensor<float>> x{bench::fitInputs(c, d)},
      y{bench::fitTargets(c, d)};
  recurrent::io::FitArgs<float> args = bench::fitArgs(c);
  const long long batches = (c.samples + c.batch - 1) / c.batch;
  std::printf(
      "fit_alloc: %s (N %lld, B %lld, T %lld, I %lld, H %lld, out %lld, %s), threads %d, "
      "%lld batches per epoch, 1 warm-up + %d epochs\n",
      c.name, static_cast<long long>(c.samples), static_cast<long long>(c.batch),
      static_cast<long long>(c.time), static_cast<long long>(c.input),
      static_cast<long long>(c.units), static_cast<long long>(c.outputs), c.loss, o.threads,
      batches, o.epochs);
  auto now = [] { return std::chrono::steady_clock::now(); };
  const auto w0 = now();
  model.fit(x, y, args);  // the warm-up epoch: buffers sized, optimizer slots created
  std::printf("warm-up epoch: %.3f s\n", std::chrono::duration<double>(now() - w0).count());

#if RECURRENT_FIT_ALLOC_COUNT
  // Batch windows: from onBatchBegin to onBatchEnd (slicing, trainOnBatch, batch logs).
  long long batchCount = 0, batchBytes = 0, maxBatchCount = 0, batchesSeen = 0;
  long long mark = 0, markBytes = 0;
  recurrent::io::Callback cb;
  cb.onBatchBegin = [&](recurrent::Index, recurrent::io::Logs&) {
    mark = gCount.load();
    markBytes = gBytes.load();
  };
  cb.onBatchEnd = [&](recurrent::Index, recurrent::io::Logs&) {
    const long long n = gCount.load() - mark;
    batchCount += n;
    batchBytes += gBytes.load() - markBytes;
    maxBatchCount = std::max(maxBatchCount, n);
    ++batchesSeen;
  };
  args.callbacks.push_back(cb);
  model.fit(x, y, args);  // one more untimed epoch with the callback (its own first-call costs)
  batchCount = batchBytes = maxBatchCount = batchesSeen = 0;
  gCount = 0;
  gBytes = 0;
#endif
  const auto t0 = now();
#if RECURRENT_FIT_ALLOC_COUNT
  gCounting = true;
#endif
  for (int e = 0; e < o.epochs; ++e) model.fit(x, y, args);
#if RECURRENT_FIT_ALLOC_COUNT
  gCounting = false;
#endif
  const double seconds = std::chrono::duration<double>(now() - t0).count();
  std::printf("%d epochs: %.3f s, %.0f samples/s\n", o.epochs, seconds,
              static_cast<double>(c.samples) * o.epochs / seconds);
#if RECURRENT_FIT_ALLOC_COUNT
  const long long total = gCount.load(), totalBytes = gBytes.load();
  const double perBatch = static_cast<double>(batchCount) / static_cast<double>(batchesSeen);
  std::printf(
      "per batch (onBatchBegin .. onBatchEnd, %lld batches): %.1f allocations, %.0f bytes "
      "(most in one batch: %lld)\n",
      batchesSeen, perBatch, static_cast<double>(batchBytes) / static_cast<double>(batchesSeen),
      maxBatchCount);
  std::printf("per fit call outside the batches: %.1f allocations, %.0f bytes\n",
              static_cast<double>(total - batchCount) / o.epochs,
              static_cast<double>(totalBytes - batchBytes) / o.epochs);
  if (o.expectZero && batchCount != 0) return 1;
#endif
  return 0;
}
