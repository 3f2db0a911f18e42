// A variable-length batch: sample 0 has 5 steps, sample 1 only 3 (right-padded), described by a
// [batch, time] mask (non-zero = real step). Shows TF.js's masked-step rule, the Keras-style
// MaskedOutput::Zeros option, and goBackwards.
#include <recurrent/recurrent.hpp>

#include <cmath>
#include <iomanip>
#include <iostream>

using namespace recurrent;

namespace {

// A SimpleRNN (units 2, returnSequences) with fixed weights, so all variants compute the same.
SimpleRNN<float> makeLayer(MaskedOutput maskedOutput, bool goBackwards) {
  SimpleRNNArgs args;
  args.units = 2;
  args.returnSequences = true;
  args.maskedOutput = maskedOutput;
  args.goBackwards = goBackwards;
  SimpleRNN<float> layer(args);
  layer.setWeights({FlatTensor<float>({1, 2}, {0.8f, -0.5f}),              // kernel
                    FlatTensor<float>({2, 2}, {0.3f, 0.1f, -0.2f, 0.4f}),  // recurrent_kernel
                    FlatTensor<float>({2}, {0.05f, -0.05f})});             // bias
  return layer;
}

void print(const char* title, const Sequence<float>& seq) {
  std::cout << title << "\n";
  for (Index b = 0; b < seq.dimension(0); ++b) {
    std::cout << "  sample " << b << ":";
    for (Index t = 0; t < seq.dimension(1); ++t)
      std::cout << "  [" << std::setw(7) << seq(b, t, 0) << "," << std::setw(7) << seq(b, t, 1)
                << "]";
    std::cout << "\n";
  }
}

}  // namespace

int main() {
  std::cout << std::fixed << std::setprecision(4);
  const Index batch = 2, time = 5;
  Sequence<float> x(batch, time, 1);
  for (Index t = 0; t < time; ++t) {
    x(0, t, 0) = 0.5f + 0.25f * float(t);
    x(1, t, 0) = t < 3 ? 1.0f - 0.5f * float(t) : 0.0f;  // padding after step 2
  }
  Matrix<float> mask(batch, time);  // [batch, time], exactly (TF.js also accepts [B, T, 1])
  // clang-format off
  mask << 1, 1, 1, 1, 1,   // sample 0: 5 real steps
          1, 1, 1, 0, 0;   // sample 1: 3 real steps, then padding
  // clang-format on
  CallArgs<float> call;
  call.mask = mask;

  // TF.js: a masked step keeps the states and outputs the previous output again.
  auto repeat = makeLayer(MaskedOutput::RepeatPrevious, false).call(x, call);
  print("MaskedOutput::RepeatPrevious (TF.js): sample 1 repeats its step-2 output",
        repeat.sequence);

  // Keras zero_output_for_mask: masked steps are zeros in the sequence; states are unchanged.
  auto zeros = makeLayer(MaskedOutput::Zeros, false).call(x, call);
  print("MaskedOutput::Zeros (Keras): sample 1 has zeros at steps 3 and 4", zeros.sequence);
  std::cout << "lastOutput is the last real step's h either way:\n"
            << "  RepeatPrevious " << repeat.lastOutput.row(1) << "\n"
            << "  Zeros          " << zeros.lastOutput.row(1) << "\n";

  // goBackwards: time runs 4..0 and the sequence comes back in processing order. For sample 1
  // the first two processed steps are padding, so they output the initial h (zeros).
  auto backwards = makeLayer(MaskedOutput::RepeatPrevious, true).call(x, call);
  print("goBackwards (processing order: input steps 4, 3, 2, 1, 0)", backwards.sequence);

  // Without a mask the padding would be processed like data.
  auto unmasked = makeLayer(MaskedOutput::RepeatPrevious, false).call(x);
  std::cout << "sample 1 lastOutput without the mask: " << unmasked.lastOutput.row(1) << "\n";

  const bool ok = (repeat.lastOutput - zeros.lastOutput).cwiseAbs().maxCoeff() == 0.0f &&
                  zeros.sequence(1, 4, 0) == 0.0f &&
                  repeat.sequence(1, 4, 0) == repeat.sequence(1, 2, 0);
  return ok ? 0 : 1;
}
