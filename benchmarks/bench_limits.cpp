// Machine limits behind the per-sample streaming step (batch 1, units H = 8..128): how fast a
// dependent chain of packet operations can go (small H is latency bound) and how fast the kernel
// can be streamed from L1/L2 (large H is bandwidth bound). Nothing here calls a layer; these are
// the floors a layer's step cannot beat on the machine that runs them. Build with -march=native
// (the bench build) so that packets are the native width (AVX-512: 16 floats, 8 doubles).
//
//   clock/add_chain            dependent `add r64, r64` (1 cycle each on every x86 core of the
//                              last 15 years): its rate is the core clock. GHz counter.
//   clock/add_imm_chain        dependent `add r64, 1`: Golden Cove and later fold these at rename
//                              (well under a cycle each): shown only as the trap to avoid.
//   clock/imul_chain           dependent `imul r64, r64` (3 cycles on Intel since Nehalem):
//                              a cross-check of the clock (GHz_if_3cyc).
//   clock/addsd_chain          dependent scalar `addsd` (4 cycles on Skylake, 2 on Golden Cove
//                              and later cores): reported, not used for the clock.
//   latency/<op>/<scalar>      a dependent chain of one packet (Eigen::internal::packet_traits
//                              <Scalar>::type) through <op>; ns_per_op and cycles_per_op:
//     fma                      x = pmadd(x, c, d)
//     sigmoid                  x = pmadd(psigmoidActivation(x), c, d)   (the library's sigmoid)
//     tanh                     x = pmadd(ptanhActivation(x), c, d)      (the library's tanh)
//     exp, div                 x = pmadd(pexp(x), c, d), x = pmadd(pdiv(1, x), c, d): the parts
//                              of the sigmoid
//     store_load               pstoreu(p, x); x = ploadu(p): a store-to-load forwarding round
//                              trip through memory (no arithmetic in the chain)
//                              c and d keep x near a fixed point well inside ±1 (no saturation,
//                              no denormals); sigmoid, tanh, exp and div therefore include one
//                              pmadd: subtract latency/fma for the function alone.
//   bandwidth/sum/<KiB>        float sum over a page-aligned buffer, repeated, 16 independent
//                              packet accumulators, aligned loads: L1 (32, 48 KiB), L2 (64 KiB ..
//                              1 MiB) and, for reference, 4 MiB (past one core's 2 MiB L2).
//   bandwidth/panels<S>/<KiB>  the access pattern of the packed one-row GEMV: the buffer is S
//                              panels of Depth×32 floats one after another, read concurrently,
//                              128 bytes (2 packets) of each panel per k step.
//     bytes_per_second and bytes_per_cycle counters.
//   fma_peak/<scalar>/acc<N>   N independent pmadd chains of one packet each (8 = latency 4 ×
//                              2 FMA ports exactly; 12 and 16 leave slack): FLOPS (2 per lane per
//                              FMA) and flops_per_cycle.
//
// cycles_per_op, bytes_per_cycle and flops_per_cycle use the clock measured once at start-up by
// the add chain (best of 7 runs of 2·10⁷ adds); on non-x86 builds there is no clock and these
// counters, like the clock benchmarks, are absent. It is the scalar-code clock: a core that
// lowers its clock under sustained 512-bit work makes the per-cycle figures of fma_peak and
// bandwidth an underestimate. The console prints bytes_per_second in binary units (GiB/s); the
// JSON output (--benchmark_out) holds plain bytes per second.
//
// Model of one streaming step's latency floor (what the closing note derives from these): the
// one-row product h·U is k-sequential in each output lane, H dependent FMAs; then the gate
// sigmoid, one FMA and a tanh (the GRU candidate, or the LSTM's g gate), the LSTM adding one FMA
// (c' = f⊙c + i⊙g) and a tanh (h = o⊙tanh(c')); plus ~5 store/load round trips through memory
// (the state and gate buffers between the phases). Large H is bounded instead by streaming the
// recurrent kernel, 4·H·H (LSTM) or 3·H·H (GRU) scalars per step, at the L2 read bandwidth.
//
// Run e.g.
//   bench_limits --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <recurrent/detail/activate.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <benchmark/benchmark.h>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>

namespace {

namespace ei = Eigen::internal;

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define BENCH_LIMITS_X86_ASM 1
#else
#define BENCH_LIMITS_X86_ASM 0
#endif

template <class Scalar>
const char* scalarName() {
  return std::is_same_v<Scalar, float> ? "float" : "double";
}

/// A value the compiler cannot see through (benchmark::DoNotOptimize is not used on floating-point
/// scalars: with GCC its "+m,r" constraint has been seen to corrupt them).
template <class T>
T opaque(T value) {
  volatile T slot = value;
  return slot;
}

const benchmark::Counter::Flags kPerOp =
    benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert;

#if BENCH_LIMITS_X86_ASM
constexpr int kAsmChain = 100;  // instructions per asm block below

/// `add r64, r64`: the source must be a register. Golden Cove and later cores fold `add r64, imm`
/// chains at rename (several per cycle), so an immediate add does not measure the clock there.
inline void addChain(std::uint64_t& x, std::uint64_t y) {
  __asm__ volatile(".rept 100\n\taddq %1, %0\n\t.endr" : "+r"(x) : "r"(y));
}
inline void addImmChain(std::uint64_t& x) {
  __asm__ volatile(".rept 100\n\taddq $1, %0\n\t.endr" : "+r"(x));
}
inline void imulChain(std::uint64_t& x) {
  __asm__ volatile(".rept 100\n\timulq %0, %0\n\t.endr" : "+r"(x));
}
inline void addsdChain(double& x, double y) {
  __asm__ volatile(".rept 100\n\taddsd %1, %0\n\t.endr" : "+x"(x) : "x"(y));
}
#endif

/// Core clock in Hz from a dependent integer-add chain (1 cycle per add), measured once: the best
/// of 7 runs of 2·10⁷ adds. 0 when there is no x86 inline assembly.
double clockHz() {
  static const double hz = [] {
    double best = 0.0;
#if BENCH_LIMITS_X86_ASM
    constexpr int kBlocks = 200000;
    for (int run = 0; run < 7; ++run) {
      std::uint64_t x = 0;
      const std::uint64_t one = opaque<std::uint64_t>(1);
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < kBlocks; ++i) addChain(x, one);
      const auto t1 = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(x);
      const double seconds = std::chrono::duration<double>(t1 - t0).count();
      best = std::max(best, static_cast<double>(kBlocks) * kAsmChain / seconds);
    }
#endif
    return best;
  }();
  return hz;
}

/// ns_per_op and (when the clock is known) cycles_per_op for `ops` operations per iteration.
void perOpCounters(benchmark::State& state, double ops) {
  state.counters["ns_per_op"] = benchmark::Counter(ops * 1e-9, kPerOp);
  const double hz = clockHz();
  if (hz > 0.0) state.counters["cycles_per_op"] = benchmark::Counter(ops / hz, kPerOp);
}

#if BENCH_LIMITS_X86_ASM
void clockAdd(benchmark::State& state) {
  std::uint64_t x = 0;
  const std::uint64_t one = opaque<std::uint64_t>(1);
  for (auto _ : state) addChain(x, one);
  benchmark::DoNotOptimize(x);
  perOpCounters(state, kAsmChain);
  state.counters["GHz"] =
      benchmark::Counter(kAsmChain * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GHz_startup"] = clockHz() * 1e-9;
}

void clockAddImm(benchmark::State& state) {
  std::uint64_t x = 0;
  for (auto _ : state) addImmChain(x);
  benchmark::DoNotOptimize(x);
  perOpCounters(state, kAsmChain);
}

void clockImul(benchmark::State& state) {
  std::uint64_t x = 3;
  for (auto _ : state) imulChain(x);
  benchmark::DoNotOptimize(x);
  perOpCounters(state, kAsmChain);
  // If imul takes 3 cycles: the clock it implies.
  state.counters["GHz_if_3cyc"] =
      benchmark::Counter(3.0 * kAsmChain * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void clockAddsd(benchmark::State& state) {
  double x = 0.0;
  const double y = opaque(1e-3);
  for (auto _ : state) addsdChain(x, y);
  benchmark::DoNotOptimize(x);
  perOpCounters(state, kAsmChain);
  state.counters["GHz_if_4cyc"] =
      benchmark::Counter(4.0 * kAsmChain * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GHz_if_2cyc"] =
      benchmark::Counter(2.0 * kAsmChain * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
#endif

// --- latency chains ---------------------------------------------------------------------------

enum class Op { Fma, Sigmoid, Tanh, Exp, Div, StoreLoad };

const char* opName(Op op) {
  switch (op) {
    case Op::Fma:
      return "fma";
    case Op::Sigmoid:
      return "sigmoid";
    case Op::Tanh:
      return "tanh";
    case Op::Exp:
      return "exp";
    case Op::Div:
      return "div";
    case Op::StoreLoad:
      return "store_load";
  }
  return "?";
}

/// Scale c and offset d of the chain x = op(x)·c + d: an attracting fixed point well inside ±1.
struct Scaling {
  double c, d;
};

Scaling scalingOf(Op op) {
  switch (op) {
    case Op::Fma:
      return {0.5, 0.25};  // fixed point 0.5
    case Op::Sigmoid:
      return {1.0, -0.25};  // ≈ 0.34
    case Op::Tanh:
      return {0.5, 0.25};  // ≈ 0.47
    case Op::Exp:
      return {0.25, 0.0};  // ≈ 0.36
    case Op::Div:
      return {0.25, 0.5};  // ≈ 0.81
    case Op::StoreLoad:
      return {1.0, 0.0};
  }
  return {1.0, 0.0};
}

constexpr int kChain = 32;  // dependent operations per benchmark iteration

template <class Scalar, Op kOp>
void latency(benchmark::State& state) {
  using Packet = typename ei::packet_traits<Scalar>::type;
  constexpr int kLanes = ei::packet_traits<Scalar>::size;
  constexpr auto kLaneCount = static_cast<std::size_t>(kLanes);
  const Scaling s = scalingOf(kOp);
  const Scalar c = opaque(static_cast<Scalar>(s.c));
  const Scalar d = opaque(static_cast<Scalar>(s.d));
  const Packet pc = ei::pset1<Packet>(c);
  const Packet pd = ei::pset1<Packet>(d);
  const Packet one = ei::pset1<Packet>(Scalar(1));

  alignas(64) Scalar lanes[kLaneCount];
  for (int i = 0; i < kLanes; ++i) lanes[i] = static_cast<Scalar>(0.3 + 0.01 * i);
  Packet x = ei::ploadu<Packet>(lanes);
  alignas(64) Scalar slot[kLaneCount] = {};
  Scalar* slotPtr = slot;
  benchmark::DoNotOptimize(slotPtr);

  for (auto _ : state) {
    for (int i = 0; i < kChain; ++i) {
      if constexpr (kOp == Op::Fma) {
        x = ei::pmadd(x, pc, pd);
      } else if constexpr (kOp == Op::Sigmoid) {
        x = ei::pmadd(recurrent::detail::psigmoidActivation(x), pc, pd);
      } else if constexpr (kOp == Op::Tanh) {
        x = ei::pmadd(recurrent::detail::ptanhActivation(x), pc, pd);
      } else if constexpr (kOp == Op::Exp) {
        x = ei::pmadd(ei::pexp(x), pc, pd);
      } else if constexpr (kOp == Op::Div) {
        x = ei::pmadd(ei::pdiv(one, x), pc, pd);
      } else {
        ei::pstoreu(slotPtr, x);
        benchmark::ClobberMemory();
        x = ei::ploadu<Packet>(slotPtr);
      }
    }
  }
  ei::pstoreu(lanes, x);
  benchmark::DoNotOptimize(lanes);
  state.counters["x0"] = static_cast<double>(lanes[0]);  // where the chain settled
  perOpCounters(state, kChain);
}

// --- bandwidth --------------------------------------------------------------------------------

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

/// A page-aligned buffer of `bytes` bytes (a multiple of 4096) of small floats.
std::unique_ptr<float[], FreeDeleter> floatBuffer(std::size_t bytes) {
  auto* p = static_cast<float*>(std::aligned_alloc(4096, bytes));
  if (p == nullptr) std::abort();
  std::unique_ptr<float[], FreeDeleter> buffer(p);
  const std::size_t n = bytes / sizeof(float);
  for (std::size_t i = 0; i < n; ++i) p[i] = 1.0f / 1024.0f;
  return buffer;
}

void bandwidthCounters(benchmark::State& state, std::size_t bytes) {
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
  const double hz = clockHz();
  if (hz > 0.0) {
    state.counters["bytes_per_cycle"] = benchmark::Counter(
        static_cast<double>(bytes) / hz, benchmark::Counter::kIsIterationInvariantRate);
  }
}

constexpr int kAccumulators = 16;

void readSum(benchmark::State& state, std::size_t bytes) {
  using Packet = ei::packet_traits<float>::type;
  constexpr std::size_t kLanes = static_cast<std::size_t>(ei::packet_traits<float>::size);
  constexpr std::size_t kStep = kAccumulators * kLanes;
  const std::size_t n = bytes / sizeof(float);
  const auto buffer = floatBuffer(bytes);
  const float* p = buffer.get();
  benchmark::DoNotOptimize(p);

  Packet acc[kAccumulators];
  for (auto& a : acc) a = ei::pzero(a);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; i += kStep) {
      for (std::size_t a = 0; a < kAccumulators; ++a) {
        acc[a] = ei::padd(acc[a], ei::pload<Packet>(p + i + a * kLanes));
      }
    }
  }
  Packet sum = acc[0];
  for (int a = 1; a < kAccumulators; ++a) sum = ei::padd(sum, acc[a]);
  float total = ei::predux(sum);
  benchmark::DoNotOptimize(total);
  bandwidthCounters(state, bytes);
}

/// kStreams panels of Depth×32 floats, read together: 2 packets of each panel per k step, as the
/// packed one-row GEMV does. k is unrolled so that 16 accumulators are in flight for 4 streams
/// as for 8.
template <int kStreams>
void readPanels(benchmark::State& state, std::size_t bytes) {
  using Packet = ei::packet_traits<float>::type;
  constexpr std::size_t kLanes = static_cast<std::size_t>(ei::packet_traits<float>::size);
  constexpr std::size_t kPanelWidth = 32;  // floats per panel row: 128 bytes
  constexpr std::size_t kPacketsPerRow = kPanelWidth / kLanes;
  constexpr std::size_t kS = static_cast<std::size_t>(kStreams);
  constexpr std::size_t kUnroll = std::max<std::size_t>(1, kAccumulators / (kS * kPacketsPerRow));
  static_assert(kUnroll * kS * kPacketsPerRow <= kAccumulators, "too many packets per step");
  const std::size_t depth = bytes / (kS * kPanelWidth * sizeof(float));
  const auto buffer = floatBuffer(bytes);
  const float* base = buffer.get();
  benchmark::DoNotOptimize(base);

  Packet acc[kAccumulators];
  for (auto& a : acc) a = ei::pzero(a);
  for (auto _ : state) {
    for (std::size_t k = 0; k < depth; k += kUnroll) {
      for (std::size_t u = 0; u < kUnroll; ++u) {
        for (std::size_t s = 0; s < kS; ++s) {
          const float* row = base + (s * depth + k + u) * kPanelWidth;
          for (std::size_t j = 0; j < kPacketsPerRow; ++j) {
            Packet& a = acc[(u * kS + s) * kPacketsPerRow + j];
            a = ei::padd(a, ei::pload<Packet>(row + j * kLanes));
          }
        }
      }
    }
  }
  Packet sum = acc[0];
  for (int a = 1; a < kAccumulators; ++a) sum = ei::padd(sum, acc[a]);
  float total = ei::predux(sum);
  benchmark::DoNotOptimize(total);
  bandwidthCounters(state, bytes);
}

// --- FMA peak ---------------------------------------------------------------------------------

template <class Scalar, int kAcc>
void fmaPeak(benchmark::State& state) {
  using Packet = typename ei::packet_traits<Scalar>::type;
  constexpr int kLanes = ei::packet_traits<Scalar>::size;
  constexpr int kRounds = 64;
  const Scalar c = opaque(static_cast<Scalar>(0.999));
  const Scalar d = opaque(static_cast<Scalar>(0.001));
  const Packet pc = ei::pset1<Packet>(c);
  const Packet pd = ei::pset1<Packet>(d);
  Packet acc[static_cast<std::size_t>(kAcc)];
  for (int a = 0; a < kAcc; ++a) acc[a] = ei::pset1<Packet>(static_cast<Scalar>(0.5 + 0.01 * a));
  for (auto _ : state) {
    for (int r = 0; r < kRounds; ++r) {
      for (int a = 0; a < kAcc; ++a) acc[a] = ei::pmadd(acc[a], pc, pd);
    }
  }
  Packet sum = acc[0];
  for (int a = 1; a < kAcc; ++a) sum = ei::padd(sum, acc[a]);
  Scalar total = ei::predux(sum);
  benchmark::DoNotOptimize(total);
  const double flops = 2.0 * kLanes * kAcc * kRounds;
  state.counters["FLOPS"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  const double hz = clockHz();
  if (hz > 0.0) {
    state.counters["flops_per_cycle"] =
        benchmark::Counter(flops / hz, benchmark::Counter::kIsIterationInvariantRate);
  }
}

// --- registration -----------------------------------------------------------------------------

template <class Scalar, Op kOp>
void registerLatency() {
  const std::string name = std::string("latency/") + opName(kOp) + "/" + scalarName<Scalar>();
  benchmark::RegisterBenchmark(name.c_str(), latency<Scalar, kOp>);
}

template <class Scalar>
void registerScalar() {
  registerLatency<Scalar, Op::Fma>();
  registerLatency<Scalar, Op::Sigmoid>();
  registerLatency<Scalar, Op::Tanh>();
  registerLatency<Scalar, Op::Exp>();
  registerLatency<Scalar, Op::Div>();
  registerLatency<Scalar, Op::StoreLoad>();
  const std::string peak = std::string("fma_peak/") + scalarName<Scalar>() + "/acc";
  benchmark::RegisterBenchmark((peak + "8").c_str(), fmaPeak<Scalar, 8>);
  benchmark::RegisterBenchmark((peak + "12").c_str(), fmaPeak<Scalar, 12>);
  benchmark::RegisterBenchmark((peak + "16").c_str(), fmaPeak<Scalar, 16>);
}

bool registerAll() {
#if BENCH_LIMITS_X86_ASM
  benchmark::RegisterBenchmark("clock/add_chain", clockAdd);
  benchmark::RegisterBenchmark("clock/add_imm_chain", clockAddImm);
  benchmark::RegisterBenchmark("clock/imul_chain", clockImul);
  benchmark::RegisterBenchmark("clock/addsd_chain", clockAddsd);
#endif
  registerScalar<float>();
  registerScalar<double>();
  for (const int kib : {32, 48, 64, 256, 512, 1024, 4096}) {
    benchmark::RegisterBenchmark(("bandwidth/sum/" + std::to_string(kib)).c_str(), readSum,
                                 static_cast<std::size_t>(kib) * 1024);
  }
  for (const int kib : {64, 256}) {
    benchmark::RegisterBenchmark(("bandwidth/panels4/" + std::to_string(kib)).c_str(),
                                 readPanels<4>, static_cast<std::size_t>(kib) * 1024);
    benchmark::RegisterBenchmark(("bandwidth/panels8/" + std::to_string(kib)).c_str(),
                                 readPanels<8>, static_cast<std::size_t>(kib) * 1024);
  }
  return true;
}

[[maybe_unused]] const bool registered = registerAll();

}  // namespace
