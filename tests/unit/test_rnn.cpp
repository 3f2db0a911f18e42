// The public rnn() loop with a hand-written step function (running sum).
#include "support/catch.hpp"
#include <recurrent/recurrent.hpp>

#include <vector>

namespace {

using recurrent::Index;
using recurrent::Matrix;
using recurrent::Sequence;

template <class S>
Sequence<S> ramp(Index B, Index T, Index F) {
  Sequence<S> x(B, T, F);
  for (Index b = 0; b < B; ++b)
    for (Index t = 0; t < T; ++t)
      for (Index f = 0; f < F; ++f) x(b, t, f) = static_cast<S>(100 * b + 10 * t + f + 1);
  return x;
}

// newStates[0] = states[0] + input; newStates[1] = states[1] + 1 (a step counter).
struct RunningSum {
  int* calls;
  template <class In, class Prev, class Next>
  void operator()(const In& input, const Prev& states, Next& newStates) const {
    ++*calls;
    newStates[0] = states[0] + input;
    newStates[1] = states[1].array() + 1;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("rnn() with a running-sum step gives cumulative sums", "[rnn]", float, double) {
  using S = TestType;
  const Index B = 2, T = 5, F = 3;
  const auto x = ramp<S>(B, T, F);
  std::vector<Matrix<S>> init = {Matrix<S>::Zero(B, F), Matrix<S>::Zero(B, 1)};
  int calls = 0;
  recurrent::RnnOptions<S> o;
  o.needPerStepOutputs = true;

  SECTION("forward") {
    const auto r = recurrent::rnn<S>(RunningSum{&calls}, x, init, o);
    CHECK(calls == T);
    for (Index b = 0; b < B; ++b)
      for (Index f = 0; f < F; ++f) {
        double acc = 0.0;
        for (Index t = 0; t < T; ++t) {
          acc += static_cast<double>(x(b, t, f));
          CHECK(static_cast<double>(r.outputs(b, t, f)) == acc);
        }
        CHECK(static_cast<double>(r.lastOutput(b, f)) == acc);
        CHECK(static_cast<double>(r.newStates[0](b, f)) == acc);
      }
    CHECK((r.newStates[1].array() == S(T)).all());
  }
  SECTION("goBackwards: outputs in processing order") {
    o.goBackwards = true;
    const auto r = recurrent::rnn<S>(RunningSum{&calls}, x, init, o);
    for (Index b = 0; b < B; ++b)
      for (Index f = 0; f < F; ++f) {
        double acc = 0.0;
        for (Index s = 0; s < T; ++s) {
          acc += static_cast<double>(x(b, T - 1 - s, f));
          CHECK(static_cast<double>(r.outputs(b, s, f)) == acc);
        }
        CHECK(static_cast<double>(r.lastOutput(b, f)) == acc);
      }
  }
  SECTION("initial states are the starting values") {
    init[0].setConstant(S(1000));
    init[1].setConstant(S(7));
    const auto r = recurrent::rnn<S>(RunningSum{&calls}, x, init, o);
    double acc = 1000.0;
    for (Index t = 0; t < T; ++t) acc += static_cast<double>(x(1, t, 2));
    CHECK(static_cast<double>(r.lastOutput(1, 2)) == acc);
    CHECK((r.newStates[1].array() == S(7 + T)).all());
  }
  SECTION("mask: masked steps keep every state and repeat the previous output") {
    Matrix<S> mask(B, T);
    mask << 0, 1, 0, 1, 1,  //
        1, 1, 1, 0, 0;
    o.mask = mask;
    const auto r = recurrent::rnn<S>(RunningSum{&calls}, x, init, o);
    for (Index b = 0; b < B; ++b) {
      double acc = 0.0;
      int kept = 0;
      for (Index t = 0; t < T; ++t) {
        if (mask(b, t) != S(0)) {
          acc += static_cast<double>(x(b, t, 0));
          ++kept;
        }
        CHECK(static_cast<double>(r.outputs(b, t, 0)) == acc);  // 0 for leading masked steps
      }
      CHECK(static_cast<double>(r.newStates[0](b, 0)) == acc);
      CHECK(static_cast<double>(r.newStates[1](b, 0)) == kept);
    }
    SECTION("MaskedOutput::Zeros") {
      o.maskedOutput = recurrent::MaskedOutput::Zeros;
      const auto z = recurrent::rnn<S>(RunningSum{&calls}, x, init, o);
      for (Index b = 0; b < B; ++b)
        for (Index t = 0; t < T; ++t)
          for (Index f = 0; f < F; ++f)
            CHECK(z.outputs(b, t, f) == (mask(b, t) != S(0) ? r.outputs(b, t, f) : S(0)));
      CHECK(z.newStates[0] == r.newStates[0]);
    }
  }
  SECTION("needPerStepOutputs = false leaves outputs empty") {
    o.needPerStepOutputs = false;
    const auto r = recurrent::rnn<S>(RunningSum{&calls}, x, init, o);
    CHECK(r.outputs.size() == 0);
    CHECK(static_cast<double>(r.lastOutput(0, 0)) == 1 + 11 + 21 + 31 + 41);
  }
}

TEST_CASE("rnn() validates states and mask", "[rnn]") {
  const auto x = ramp<float>(2, 3, 1);
  int calls = 0;
  CHECK_THROWS_AS(recurrent::rnn<float>(RunningSum{&calls}, x, {}), recurrent::ShapeError);
  std::vector<Matrix<float>> wrongBatch = {Matrix<float>::Zero(3, 1), Matrix<float>::Zero(3, 1)};
  CHECK_THROWS_AS(recurrent::rnn<float>(RunningSum{&calls}, x, wrongBatch), recurrent::ShapeError);
  std::vector<Matrix<float>> ok = {Matrix<float>::Zero(2, 1), Matrix<float>::Zero(2, 1)};
  const Matrix<float> badMask = Matrix<float>::Ones(2, 4);
  recurrent::RnnOptions<float> o;
  o.mask = badMask;
  CHECK_THROWS_AS(recurrent::rnn<float>(RunningSum{&calls}, x, ok, o), recurrent::ShapeError);
  CHECK(calls == 0);
}
