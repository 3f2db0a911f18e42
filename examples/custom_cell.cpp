// A user-written cell in RNN<Cell>, and the same maths through the generic rnn() time loop.
//
// The cell is a "leaky integrator": h' = (1 − a)·h + a·tanh(x·W), with a fixed leak rate a.
// It provides the cell protocol of <recurrent/rnn_cell.hpp>: the input projection x·W for every
// (sample, step) row at once, then a recurrent step that reads prev and writes next.
#include <recurrent/recurrent.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

using namespace recurrent;

class LeakyCell {
 public:
  using Scalar = float;

  LeakyCell(Index units, float leak) : units_(units), leak_(leak) {}

  static const char* className() { return "LeakyCell"; }
  const std::string& name() const { return name_; }
  Index units() const { return units_; }
  Index inputDim() const { return kernel_.rows(); }
  bool built() const { return kernel_.size() > 0; }
  void build(Index inputDim) {  // deterministic weights, for the example
    kernel_.resize(inputDim, units_);
    for (Index i = 0; i < kernel_.size(); ++i) kernel_.data()[i] = 0.4f * std::cos(float(i));
  }

  std::vector<Index> stateSize() const { return {units_}; }  // one state: h
  Index stateWidth() const { return units_; }
  Index projectionSize() const { return units_; }  // columns of x·W

  std::vector<Weight<float>> getWeights() const { return {{"kernel", FlatTensor<float>(kernel_)}}; }
  void setWeights(const std::vector<FlatTensor<float>>& values) {
    const FlatTensor<float>& k = values.at(0);
    if (values.size() != 1 || k.rank() != 2 || k.shape[1] != units_)
      throw ShapeError("LeakyCell.setWeights: expected one kernel [inputDim, units]");
    kernel_ = Eigen::Map<const Matrix<float>>(k.data.data(), k.shape[0], k.shape[1]);
  }

  // No scratch and no dropout in this cell.
  void prepare(Index /*batch*/) {}
  void generateDropoutMasks(Index /*batch*/, bool /*training*/, RandomEngine& /*rng*/) {}
  bool dropoutActive() const { return false; }

  // out = x·W for all rows (rows of one sample are rowsPerSample apart; unused without dropout).
  template <bool Dropout>
  void projectInputs(const ConstRows<float>& x, Rows<float> out, Index /*rowsPerSample*/) {
    out.noalias() = x * kernel_;
  }
  // next = (1 − a)·prev + a·tanh(xProj). Writes every state column; allocates nothing.
  template <bool Dropout>
  void step(const ConstRows<float>& xProj, const ConstRows<float>& prev, Rows<float> next) {
    next = (1.0f - leak_) * prev + leak_ * xProj.array().tanh().matrix();
  }

  const Matrix<float>& kernel() const { return kernel_; }

 private:
  Index units_;
  float leak_;
  std::string name_ = "leaky_cell";
  Matrix<float> kernel_;
};

static_assert(is_rnn_cell<LeakyCell>, "LeakyCell provides the cell protocol");

int main() {
  const Index batch = 2, time = 6, features = 3, units = 4;
  const float leak = 0.3f;
  Sequence<float> x(batch, time, features);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.9f * float(i));

  // 1. The cell inside the library's layer: masks, goBackwards, stateful... all work.
  RNNLayerArgs args;
  args.returnSequences = true;
  RNN<LeakyCell> layer(LeakyCell(units, leak), args);
  auto viaLayer = layer.call(x);

  // 2. The same maths as a lambda step function for rnn() (TF.js's K.rnn).
  const Matrix<float>& W = layer.cell().kernel();
  auto stepFunction = [&](const ConstRows<float>& input, const StateList<const float>& states,
                          StateList<float>& newStates) {
    newStates[0] = (1.0f - leak) * states[0] + leak * (input * W).array().tanh().matrix();
  };
  RnnOptions<float> options;
  options.needPerStepOutputs = true;
  auto viaRnn = rnn<float>(stepFunction, x, {Matrix<float>::Zero(batch, units)}, options);

  float diff = 0.0f;
  for (Index i = 0; i < viaLayer.sequence.size(); ++i)
    diff = std::max(diff, std::abs(viaLayer.sequence.data()[i] - viaRnn.outputs.data()[i]));
  std::cout << "RNN<LeakyCell> last output:\n" << viaLayer.lastOutput << "\n";
  std::cout << "rnn(lambda) last output:\n" << viaRnn.lastOutput << "\n";
  std::cout << "sequences [" << batch << "," << time << "," << units
            << "], max |difference| = " << diff << (diff < 1e-6f ? "  (agree)" : "  (DIFFER)")
            << "\n";
  return diff < 1e-6f ? 0 : 1;
}
