// A stateful GRU fed one time step per call gives the same outputs as one call on the whole
// sequence: the layer carries its final state into the next call (TF.js `stateful: true`).
#include <recurrent/recurrent.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>

using namespace recurrent;

int main() {
  const Index time = 6, features = 2;
  GRUArgs args;
  args.units = 3;
  args.stateful = true;  // carry the state between calls
  args.returnSequences = true;
  GRU<float> gru(args);

  Sequence<float> sequence(1, time, features);  // batch 1
  for (Index i = 0; i < sequence.size(); ++i) sequence.data()[i] = std::cos(0.7f * float(i));

  // 1. The whole sequence in one call.
  Sequence<float> whole = gru.call(sequence).sequence;  // [1, 6, 3]

  // 2. Back to zero states, then one step per call: inputs [1, 1, 2], outputs [1, 1, 3].
  gru.resetStates();
  float maxDiff = 0.0f;
  std::cout << std::fixed << std::setprecision(6);
  std::cout << "step   whole-sequence call               one call per step\n";
  for (Index t = 0; t < time; ++t) {
    Sequence<float> step(1, 1, features);
    for (Index f = 0; f < features; ++f) step(0, 0, f) = sequence(0, t, f);
    Sequence<float> out = gru.call(step).sequence;
    std::cout << std::setw(4) << t << " ";
    for (Index u = 0; u < 3; ++u) std::cout << std::setw(11) << whole(0, t, u);
    std::cout << "  ";
    for (Index u = 0; u < 3; ++u) {
      std::cout << std::setw(11) << out(0, 0, u);
      maxDiff = std::max(maxDiff, std::abs(out(0, 0, u) - whole(0, t, u)));
    }
    std::cout << "\n";
  }
  std::cout << "max |difference| = " << std::scientific << std::setprecision(2) << maxDiff
            << std::fixed << std::setprecision(6) << "\n";
  std::cout << "stored state after the stream: " << gru.getStates()[0] << "\n";

  // The batch size of a stateful layer is fixed by its first call.
  try {
    gru.call(Sequence<float>(2, 1, features).setZero());
  } catch (const StateError& e) {
    std::cout << "batch 2 on a batch-1 stateful layer: StateError: " << e.what() << "\n";
  }
  return maxDiff < 1e-6f ? 0 : 1;
}
