// expect: Cell has no backward members
// A user cell with the inference protocol only runs in RNN<>; asking it for gradients stops at
// one static_assert sentence.
#include <recurrent/recurrent.hpp>

#include <string>
#include <vector>

using recurrent::Index;

struct InferenceOnlyCell {
  using Scalar = float;
  static const char* className() { return "InferenceOnlyCell"; }
  const std::string& name() const { return name_; }
  Index units() const { return 1; }
  Index inputDim() const { return 1; }
  bool built() const { return true; }
  void build(Index) {}
  std::vector<Index> stateSize() const { return {1}; }
  Index stateWidth() const { return 1; }
  Index projectionSize() const { return 1; }
  std::vector<recurrent::Weight<float>> getWeights() const { return {}; }
  void setWeights(const std::vector<recurrent::FlatTensor<float>>&) {}
  void prepare(Index) {}
  void generateDropoutMasks(Index, bool, recurrent::RandomEngine&) {}
  bool dropoutActive() const { return false; }
  template <bool>
  void projectInputs(const recurrent::ConstRows<float>& x, recurrent::Rows<float> out, Index) {
    out = x;
  }
  template <bool>
  void step(const recurrent::ConstRows<float>& x, const recurrent::ConstRows<float>& prev,
            recurrent::Rows<float> next) {
    next = x + prev;
  }
  std::string name_ = "inference_only";
};

int main() {
  recurrent::RNN<InferenceOnlyCell> layer{InferenceOnlyCell{}};
  recurrent::Sequence<float> x(1, 2, 1);
  x.setConstant(1.0f);
  layer.call(x);
#ifdef RECURRENT_SHOULD_FAIL
  recurrent::RNNOutputGradients<float> up;
  (void)layer.backward(up);
#endif
  return 0;
}
