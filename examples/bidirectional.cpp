// Bidirectional LSTM (TF.js tf.layers.bidirectional) with every merge mode: output shapes for
// the last output, the whole sequence, and the returnState list (forward states, then backward).
#include <recurrent/recurrent.hpp>

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

}  // namespace

int main() {
  Sequence<float> x(2, 7, 5);  // [batch, time, features]
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(i % 11) / 10.0f - 0.5f;

  const std::vector<std::pair<const char*, MergeMode>> modes = {{"concat", MergeMode::Concat},
                                                                {"sum", MergeMode::Sum},
                                                                {"mul", MergeMode::Mul},
                                                                {"ave", MergeMode::Ave},
                                                                {"null", MergeMode::None}};

  for (const auto& [name, mode] : modes) {
    LSTMArgs args;
    args.units = 4;
    BidirectionalArgs biArgs;
    biArgs.mergeMode = mode;

    // returnSequences false: the last outputs are merged.
    Bidirectional<LSTM<float>> last(LSTM<float>(args), biArgs);
    auto a = last.call(x);

    // returnSequences + returnState: the backward sequence is flipped back before the merge.
    args.returnSequences = true;
    args.returnState = true;
    Bidirectional<LSTM<float>> seq(LSTM<float>(args), biArgs);
    auto b = seq.call(x);

    std::cout << "mergeMode " << name << ":\n  output " << shapeOf(a.lastOutput);
    if (mode == MergeMode::None) std::cout << " + backward " << shapeOf(a.backwardLastOutput);
    std::cout << "\n  returnSequences+returnState: [" << shapeOf(b.sequence);
    if (mode == MergeMode::None) std::cout << "," << shapeOf(b.backwardSequence);
    for (const auto& s : b.states) std::cout << "," << shapeOf(s);
    std::cout << "]  (states: forward h, c, backward h, c)\n";
  }

  // The two directions are separate layers; their weights come forward first, then backward.
  Bidirectional<LSTM<float>> bi(LSTM<float>([] {
    LSTMArgs a;
    a.units = 4;
    a.name = "lstm";
    return a;
  }()));
  bi.build(5);
  std::cout << "weights:";
  for (const auto& w : bi.getWeights()) std::cout << " " << w.name << shapeOf(w.value.shape);
  std::cout << "\n";
  return 0;
}
