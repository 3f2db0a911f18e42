// Sequence to sequence: an LSTM encoder's final [h, c] (returnState) start an LSTM decoder
// (CallArgs::initialState), as in TF.js `decoder.apply(y, {initialState: [h, c]})`.
#include <recurrent/recurrent.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

using namespace recurrent;

namespace {

std::string shapeOf(const std::vector<Index>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}
std::string shapeOf(const Matrix<float>& m) {
  return shapeOf(std::vector<Index>{m.rows(), m.cols()});
}
std::string shapeOf(const Sequence<float>& s) {
  return shapeOf(std::vector<Index>{s.dimension(0), s.dimension(1), s.dimension(2)});
}

Sequence<float> wave(Index batch, Index time, Index features, float frequency) {
  Sequence<float> x(batch, time, features);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = std::sin(frequency * float(i));
  return x;
}

}  // namespace

int main() {
  const Index batch = 2, units = 8;

  LSTMArgs encoderArgs;
  encoderArgs.units = units;
  encoderArgs.returnState = true;  // outputs [lastOutput, h, c]
  encoderArgs.name = "encoder";
  LSTM<float> encoder(encoderArgs);

  LSTMArgs decoderArgs;
  decoderArgs.units = units;  // must match the encoder's state width
  decoderArgs.returnSequences = true;
  decoderArgs.name = "decoder";
  LSTM<float> decoder(decoderArgs);

  Sequence<float> source = wave(batch, 7, 5, 0.3f);  // [2, 7, 5]
  Sequence<float> target = wave(batch, 4, 6, 0.2f);  // [2, 4, 6] (e.g. teacher forcing)

  auto encoded = encoder.call(source);
  std::cout << "encoder input " << shapeOf(source) << " -> output " << shapeOf(encoded.lastOutput)
            << ", states h " << shapeOf(encoded.states[0]) << ", c " << shapeOf(encoded.states[1])
            << "\n";

  CallArgs<float> call;
  call.initialState = {encoded.states[0], encoded.states[1]};  // TF.js state order [h, c]
  auto decoded = decoder.call(target, call);
  std::cout << "decoder input " << shapeOf(target) << " + initialState [h, c] -> output "
            << shapeOf(decoded.sequence) << "\n";

  // The initial state matters: the same decoder started from zeros gives another sequence.
  auto fromZeros = decoder.call(target);
  float diff = 0.0f;
  for (Index i = 0; i < decoded.sequence.size(); ++i)
    diff = std::max(diff, std::abs(decoded.sequence.data()[i] - fromZeros.sequence.data()[i]));
  std::cout << "max |decoder(encoder state) - decoder(zeros)| = " << diff << "\n";

  // A wrong state shape is refused with the layer, argument, expected and received shapes.
  try {
    Matrix<float> wrong = Matrix<float>::Zero(batch, units + 1);
    call.initialState = {wrong, encoded.states[1]};
    decoder.call(target, call);
  } catch (const ShapeError& e) {
    std::cout << "ShapeError: " << e.what() << "\n";
  }
  return diff > 0.0f ? 0 : 1;
}
