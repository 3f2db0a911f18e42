// Proof that the hot paths allocate nothing: after a first call with a given shape, `call()`
// (every built-in cell, float and double, masks, goBackwards, initial states, stateful, two
// threads) and the streaming `step()` make zero heap allocations.
//
// Two independent detectors, both armed only inside `NoAllocation` windows:
//   - EIGEN_RUNTIME_NO_MALLOC (set for this executable by tests/CMakeLists.txt): any Eigen
//     allocation asserts;
//   - a replaced global operator new that counts (std::vector, std::string, std::thread, ...).
// This is its own executable because both change global behaviour.
#include "support/catch.hpp"
#include "support/random_data.hpp"
#include <recurrent/recurrent.hpp>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#ifndef EIGEN_RUNTIME_NO_MALLOC
#error "tests/CMakeLists.txt builds this test with EIGEN_RUNTIME_NO_MALLOC"
#endif

// GCC pairs the inlined replacement new (malloc) with free() and warns of a mismatch it invented.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<long> gAllocations{0};
std::atomic<bool> gCounting{false};
}  // namespace

// Every replaceable form (plain, array, nothrow, aligned), so that no allocation escapes the count
// and every pointer is released by the matching function (AddressSanitizer checks that).
namespace {
void* countedAlloc(std::size_t size, std::size_t alignment) noexcept {
  if (gCounting.load(std::memory_order_relaxed)) gAllocations.fetch_add(1);
  if (size == 0) size = 1;
  if (alignment <= alignof(std::max_align_t)) return std::malloc(size);
  return std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}
void* countedAllocOrThrow(std::size_t size, std::size_t alignment) {
  if (void* p = countedAlloc(size, alignment)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return countedAllocOrThrow(size, 0); }
void* operator new[](std::size_t size) { return countedAllocOrThrow(size, 0); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return countedAlloc(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return countedAlloc(size, 0);
}
void* operator new(std::size_t size, std::align_val_t al) {
  return countedAllocOrThrow(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al) {
  return countedAllocOrThrow(size, static_cast<std::size_t>(al));
}
void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return countedAlloc(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return countedAlloc(size, static_cast<std::size_t>(al));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using recurrent::Index;
using recurrent::Matrix;
using recurrent::MatrixView;
using recurrent::Sequence;

/// Counts operator-new calls and forbids Eigen allocations while alive.
class NoAllocation {
 public:
  NoAllocation() {
    gAllocations.store(0);
    Eigen::internal::set_is_malloc_allowed(false);
    gCounting.store(true);
  }
  ~NoAllocation() { stop(); }
  long stop() {
    gCounting.store(false);
    Eigen::internal::set_is_malloc_allowed(true);
    return gAllocations.load();
  }
};

template <class Scalar>
Sequence<Scalar> input(Index batch, Index time, Index features) {
  return recurrent_test::randomSequence<Scalar>(batch, time, features, 7);
}

struct Shape {
  Index batch, time, features, units;
};
const Shape kShapes[] = {{1, 6, 1, 8}, {3, 5, 4, 7}, {8, 4, 16, 40}};

template <class Layer, class Args>
void checkLayer(Args args) {
  using Scalar = typename Layer::Scalar;
  for (const Shape& s : kShapes) {
    for (int variant = 0; variant < 4; ++variant) {
      Args a = args;
      a.units = s.units;
      a.returnSequences = variant % 2 == 0;
      a.goBackwards = variant == 1;
      a.stateful = variant == 3;
      Layer layer(a);
      const Sequence<Scalar> x = input<Scalar>(s.batch, s.time, s.features);
      Matrix<Scalar> mask = Matrix<Scalar>::Ones(s.batch, s.time);
      mask(0, s.time - 1) = 0;
      std::vector<Matrix<Scalar>> init;
      for (Index w : layer.stateSize()) init.push_back(Matrix<Scalar>::Constant(s.batch, w, 0.5));
      recurrent::CallArgs<Scalar> callArgs;
      if (variant == 2) {
        callArgs.mask = mask;
        for (const auto& m : init) callArgs.initialState.emplace_back(m);
      }
      recurrent::RNNResult<Scalar> out;
      layer.call(x, callArgs, out);  // first call with this shape: may allocate
      long count = 0;
      {
        NoAllocation window;
        for (int i = 0; i < 3; ++i) layer.call(x, callArgs, out);
        count = window.stop();
      }
      INFO("units " << s.units << " batch " << s.batch << " variant " << variant);
      CHECK(count == 0);
      CHECK(std::isfinite(static_cast<double>(out.lastOutput(0, 0))));
    }
  }
}

template <class Layer, class Args>
void checkStreaming(Args a, Index units, Index features, Index batch) {
  using Scalar = typename Layer::Scalar;
  a.units = units;
  a.stateful = true;
  Layer layer(a);
  const Matrix<Scalar> x = recurrent_test::randomMatrix<Scalar>(batch, features, 3);
  Scalar sum = layer.step(x)(0, 0);  // first step: sizes the workspace
  long count = 0;
  {
    NoAllocation window;
    for (int i = 0; i < 100; ++i) sum += layer.step(x)(0, 0);
    count = window.stop();
  }
  INFO("units " << units << " batch " << batch);
  CHECK(count == 0);
  CHECK(std::isfinite(static_cast<double>(sum)));
}

}  // namespace

TEMPLATE_TEST_CASE("call() allocates nothing after the first call with a shape", "[alloc]", float,
                   double) {
  using S = TestType;
  recurrent::LSTMArgs lstm;
  checkLayer<recurrent::LSTM<S>>(lstm);
  recurrent::GRUArgs gru;
  checkLayer<recurrent::GRU<S>>(gru);
  gru.resetAfter = true;
  checkLayer<recurrent::GRU<S>>(gru);
  recurrent::SimpleRNNArgs simple;
  checkLayer<recurrent::SimpleRNN<S>>(simple);
  // softmax gates take the row-at-a-time path
  lstm.recurrentActivation = recurrent::ActivationKind::Softmax;
  checkLayer<recurrent::LSTM<S>>(lstm);
}

TEMPLATE_TEST_CASE("call() with two threads allocates nothing after the first call", "[alloc]",
                   float, double) {
  using S = TestType;
  recurrent::LSTMArgs a;
  a.threads = 2;
  a.units = 96;
  a.returnSequences = true;
  recurrent::LSTM<S> layer(a);
  const Sequence<S> x = input<S>(16, 6, 64);
  recurrent::RNNResult<S> out;
  layer.call(x, {}, out);  // starts the helper thread
  long count = 0;
  {
    NoAllocation window;
    for (int i = 0; i < 3; ++i) layer.call(x, {}, out);
    count = window.stop();
  }
  CHECK(count == 0);
}

TEMPLATE_TEST_CASE("step() streams without allocating", "[alloc]", float, double) {
  using S = TestType;
  for (Index units : {8, 16, 33, 128}) {
    checkStreaming<recurrent::LSTM<S>>(recurrent::LSTMArgs{}, units, 1, 1);
    checkStreaming<recurrent::GRU<S>>(recurrent::GRUArgs{}, units, 1, 1);
    checkStreaming<recurrent::SimpleRNN<S>>(recurrent::SimpleRNNArgs{}, units, 1, 1);
  }
  checkStreaming<recurrent::LSTM<S>>(recurrent::LSTMArgs{}, 24, 5, 3);
  recurrent::GRUArgs resetAfter;
  resetAfter.resetAfter = true;
  checkStreaming<recurrent::GRU<S>>(resetAfter, 16, 2, 1);
  // compile-time sizes, small (fixed-size storage) and large (heap storage)
  checkStreaming<recurrent::LSTM<S, 8, 1>>(recurrent::LSTMArgs{}, 8, 1, 1);
  checkStreaming<recurrent::LSTM<S, 128, 1>>(recurrent::LSTMArgs{}, 128, 1, 1);
  // the one-row product of detail/gemv.hpp with a ragged edge (3·8 gate columns), every cell
  checkStreaming<recurrent::GRU<S, 8, 2>>(resetAfter, 8, 2, 1);
  checkStreaming<recurrent::GRU<S, 8, 2>>(recurrent::GRUArgs{}, 8, 2, 1);
  checkStreaming<recurrent::SimpleRNN<S, 16, 1>>(recurrent::SimpleRNNArgs{}, 16, 1, 1);
}

namespace {

/// A recording call plus backward, repeated: nothing allocated after the first with a shape.
template <class Layer, class Args>
void checkBackward(Args args, int threads = 1) {
  using Scalar = typename Layer::Scalar;
  for (const Shape& s : kShapes) {
    for (int variant = 0; variant < 4; ++variant) {
      Args a = args;
      a.units = s.units;
      a.threads = threads;
      a.returnSequences = variant != 1;
      a.returnState = variant >= 2;
      a.goBackwards = variant == 1;
      Layer layer(a);
      const Sequence<Scalar> x = input<Scalar>(s.batch, s.time, s.features);
      Matrix<Scalar> mask = Matrix<Scalar>::Ones(s.batch, s.time);
      mask(0, s.time - 1) = 0;
      std::vector<Matrix<Scalar>> init, dStates;
      for (Index w : layer.stateSize()) {
        init.push_back(Matrix<Scalar>::Constant(s.batch, w, 0.5));
        dStates.push_back(Matrix<Scalar>::Constant(s.batch, w, 0.25));
      }
      Matrix<Scalar> inMask = Matrix<Scalar>::Constant(s.batch, s.features, 2);
      Matrix<Scalar> recMask = Matrix<Scalar>::Constant(s.batch, s.units, 2);
      inMask(0, 0) = 0;
      recMask(0, 0) = 0;
      recurrent::CallArgs<Scalar> callArgs;
      callArgs.record = true;
      callArgs.training = true;
      if (variant == 2) {
        callArgs.mask = mask;
        for (const auto& m : init) callArgs.initialState.emplace_back(m);
      }
      if (variant == 3) callArgs.dropoutMasks = {{0, inMask, recMask}};
      Sequence<Scalar> dSeq = input<Scalar>(s.batch, s.time, s.units);
      Matrix<Scalar> dLast = Matrix<Scalar>::Constant(s.batch, s.units, 1);
      recurrent::RNNOutputGradients<Scalar> up;
      if (a.returnSequences) {
        up.sequence = dSeq;
      } else {
        up.lastOutput = dLast;
      }
      if (a.returnState)
        for (const auto& d : dStates) up.states.emplace_back(d);
      recurrent::RNNResult<Scalar> out;
      recurrent::RNNGradients<Scalar> grads;
      layer.call(x, callArgs, out);  // first recording and backward with this shape: may allocate
      layer.backward(up, grads);
      long count = 0;
      {
        NoAllocation window;
        for (int i = 0; i < 2; ++i) {
          layer.call(x, callArgs, out);
          layer.backward(up, grads);
          layer.backward(up, grads, recurrent::BackwardArgs{true});
        }
        count = window.stop();
      }
      INFO("units " << s.units << " batch " << s.batch << " variant " << variant);
      CHECK(count == 0);
      CHECK(std::isfinite(static_cast<double>(grads.weights[0].data[0])));
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("record + backward allocate nothing after the first with a shape", "[alloc]",
                   float, double) {
  using S = TestType;
  recurrent::LSTMArgs lstm;  // hardSigmoid gates: pre-activations recorded
  checkBackward<recurrent::LSTM<S>>(lstm);
  lstm.recurrentActivation = recurrent::ActivationKind::Sigmoid;
  lstm.threads = 2;
  checkBackward<recurrent::LSTM<S>>(lstm, 2);
  recurrent::GRUArgs gru;
  checkBackward<recurrent::GRU<S>>(gru);
  gru.resetAfter = true;
  checkBackward<recurrent::GRU<S>>(gru);
  recurrent::SimpleRNNArgs simple;
  checkBackward<recurrent::SimpleRNN<S>>(simple);
  lstm.recurrentActivation = recurrent::ActivationKind::Softmax;
  checkBackward<recurrent::LSTM<S>>(lstm);
}

#if RECURRENT_HAS_JSON
#include <recurrent/io/tfjs.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace {

/// A deterministic tensor of `shape` (values in [-1, 1]).
recurrent::FlatTensor<float> fitData(std::vector<Index> shape, float phase) {
  std::size_t n = 1;
  for (Index d : shape) n *= static_cast<std::size_t>(d);
  std::vector<float> data(n);
  for (std::size_t i = 0; i < n; ++i) data[i] = std::sin(0.37f * static_cast<float>(i) + phase);
  return recurrent::FlatTensor<float>(std::move(shape), std::move(data));
}

/// Heap allocations of `model.fit` between onBatchBegin and onBatchEnd (slicing the batch, the
/// training step, the batch logs) of the epochs after a warm-up one. 13 samples at batch 4:
/// three full batches and a last one of 1, whose smaller workspace must not cost the next
/// epoch's full batches a reallocation. Each epoch is a `fit` call of its own, as a caller
/// that evaluates between epochs would make them.
long fitBatchAllocations(recurrent::io::LayersModel<float>& model, Index outputs,
                         bool padded = false) {
  const Index samples = 13;
  std::vector<recurrent::FlatTensor<float>> x{fitData({samples, 5, 3}, 0.1f)};
  const std::vector<recurrent::FlatTensor<float>> y{fitData({samples, outputs}, 0.7f)};
  if (padded)  // the last s % 3 steps of sample s are zeros (masked by a Masking layer)
    for (std::size_t s = 0; s < 13; ++s)
      for (std::size_t t = 5 - s % 3; t < 5; ++t)
        for (std::size_t f = 0; f < 3; ++f) x[0].data[(s * 5 + t) * 3 + f] = 0;
  model.compile({recurrent::train::adam<float>(0.01f), {"meanSquaredError"}, {"mae"}});
  recurrent::io::FitArgs<float> args;
  args.batchSize = 4;
  args.seed = 3;          // shuffled: each epoch gathers its batches in another order
  model.fit(x, y, args);  // the warm-up epoch: buffers sized, optimizer slots created
  long count = 0, batches = 0;
  recurrent::io::Callback cb;
  cb.onBatchBegin = [](Index, recurrent::io::Logs&) {
    gAllocations.store(0);
    Eigen::internal::set_is_malloc_allowed(false);
    gCounting.store(true);
  };
  cb.onBatchEnd = [&](Index, recurrent::io::Logs& logs) {
    gCounting.store(false);
    Eigen::internal::set_is_malloc_allowed(true);
    count += gAllocations.load();
    ++batches;
    CHECK(std::isfinite(logs.at("loss")));
  };
  args.callbacks.push_back(cb);
  for (int epoch = 0; epoch < 2; ++epoch) model.fit(x, y, args);
  CHECK(batches == 8);
  return count;
}

}  // namespace

TEST_CASE("fit allocates nothing in a batch after the first epoch", "[alloc][fit]") {
  namespace L = recurrent::io::layers;
  SECTION("LSTM -> Dense") {
    auto model = recurrent::io::sequential<float>(
        {L::lstm({{"units", 6}, {"inputShape", {5, 3}}}), L::dense({{"units", 2}})});
    CHECK(fitBatchAllocations(model, 2) == 0);
  }
  SECTION("Bidirectional GRU (sequences) -> Dense -> Flatten, two threads") {
    recurrent::io::LoadOptions options;
    options.threads = 2;
    auto model = recurrent::io::sequential<float>(
        {L::bidirectional({{"layer", L::gru({{"units", 4}, {"returnSequences", true}})},
                           {"inputShape", {5, 3}}}),
         L::dense({{"units", 1}}), L::flatten()},
        "bidirectional_gru", options);
    CHECK(fitBatchAllocations(model, 5) == 0);
  }
  SECTION("Masking -> LSTM (sequences) -> GRU: masks every batch") {
    auto model = recurrent::io::sequential<float>(
        {L::masking({{"maskValue", 0}, {"inputShape", {5, 3}}}),
         L::lstm({{"units", 4}, {"returnSequences", true}}), L::gru({{"units", 2}})});
    CHECK(fitBatchAllocations(model, 2, true) == 0);
  }
  SECTION("functional: Concatenate and Add of two recurrent branches") {
    recurrent::io::Graph g;
    auto x = g.input({5, 3});
    auto a = g.apply(L::simpleRNN({{"units", 3}, {"returnSequences", true}}), x);
    auto b = g.apply(L::gru({{"units", 3}, {"returnSequences", true}}), x);
    auto joined = g.apply(L::concatenate(), std::vector<recurrent::io::SymbolicTensor>{a, b});
    auto summed = g.apply(L::add(), std::vector<recurrent::io::SymbolicTensor>{a, b});
    auto both =
        g.apply(L::concatenate(), std::vector<recurrent::io::SymbolicTensor>{joined, summed});
    auto out = g.apply(L::dense({{"units", 2}}), g.apply(L::lstm({{"units", 4}}), both));
    auto model = g.model<float>({x}, {out});
    CHECK(fitBatchAllocations(model, 2) == 0);
  }
}
#endif  // RECURRENT_HAS_JSON
