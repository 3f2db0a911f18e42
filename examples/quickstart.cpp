// An LSTM with weights in Keras/TF.js layout, run on a [batch=2, time=5, features=3] batch.
#include <recurrent/recurrent.hpp>

#include <cmath>
#include <iostream>
#include <vector>

// Deterministic stand-in for trained weights: value i of a tensor of the given shape.
recurrent::FlatTensor<float> weights(std::vector<recurrent::Index> shape, float scale) {
  recurrent::FlatTensor<float> w(shape, {});
  for (recurrent::Index i = 0; i < w.size(); ++i) w.data.push_back(scale * std::sin(float(i)));
  return w;
}

int main() {
  recurrent::LSTMArgs args;
  args.units = 4;  // tf.layers.lstm({units: 4, returnSequences: false})
  args.returnSequences = false;
  recurrent::LSTM<float> lstm(args);
  lstm.setWeights({weights({3, 16}, 0.5f),  // kernel            [inputDim, 4·units]
                   weights({4, 16}, 0.3f),  // recurrent_kernel  [units, 4·units]
                   weights({16}, 0.1f)});   // bias              [4·units], gates i,f,c,o

  recurrent::Sequence<float> x(2, 5, 3);  // [batch, time, features], row-major as TF.js
  for (recurrent::Index i = 0; i < x.size(); ++i) x.data()[i] = 0.1f * float(i % 7) - 0.3f;

  auto result = lstm.call(x);
  std::cout << "output [2, 4]:\n" << result.lastOutput << "\n";
}
