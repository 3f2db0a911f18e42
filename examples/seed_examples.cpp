// The three tf.layers.rnn examples of the TF.js API docs, with a concrete batch of 2 instead of
// TF.js's symbolic `null` batch. Each prints the shapes TF.js prints, in TF.js's format.
//
//   TF.js                                                   recurrent
//   tf.layers.rnn({cell: [cellA, cellB], ...})              RNN<StackedRNNCells<A, B>>(stack, args)
//   output.shape / [output, ...states].map(t => t.shape)    result.lastOutput / result.sequence /
//                                                           result.states
#include <recurrent/recurrent.hpp>

#include <iostream>
#include <string>
#include <vector>

using namespace recurrent;

namespace {

std::string shapeOf(const std::vector<Index>& dims) {  // JSON.stringify(tensor.shape)
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}
std::string shape(const Matrix<float>& m) { return shapeOf({m.rows(), m.cols()}); }
std::string shape(const Sequence<float>& s) {
  return shapeOf({s.dimension(0), s.dimension(1), s.dimension(2)});
}

// Deterministic inputs in [-1, 1].
Sequence<float> inputs(Index batch, Index time, Index features) {
  Sequence<float> x(batch, time, features);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float((i * 37) % 200) / 100.0f - 1.0f;
  return x;
}

template <class Args>
Args withUnits(Index units) {
  Args a;
  a.units = units;
  return a;
}

}  // namespace

int main() {
  using SimpleCell = SimpleRNNCell<float>;
  using LstmCell = LSTMCell<float>;

  // Example 1: a stack of two SimpleRNNCells; the output is the last cell's h.
  //   const cells = [tf.layers.simpleRNNCell({units: 4}), tf.layers.simpleRNNCell({units: 8})];
  //   const rnn = tf.layers.rnn({cell: cells});
  //   rnn.apply(x).shape  // x: [2, 10, 20]
  {
    StackedRNNCells<SimpleCell, SimpleCell> cells(SimpleCell(withUnits<SimpleRNNCellArgs>(4)),
                                                  SimpleCell(withUnits<SimpleRNNCellArgs>(8)));
    RNN<StackedRNNCells<SimpleCell, SimpleCell>> rnn(cells);
    auto out = rnn.call(inputs(2, 10, 20));
    std::cout << "example 1: " << shape(out.lastOutput) << "\n";  // [2,8]
  }

  // Example 2: stacked LSTMCells returning the whole sequence.
  //   const cells = [tf.layers.lstmCell({units: 16}), tf.layers.lstmCell({units: 32})];
  //   const rnn = tf.layers.rnn({cell: cells, returnSequences: true});
  //   rnn.apply(x).shape  // x: [2, 4, 8]
  {
    RNNLayerArgs args;
    args.returnSequences = true;
    RNN<StackedRNNCells<LstmCell, LstmCell>> rnn(
        StackedRNNCells<LstmCell, LstmCell>(LstmCell(withUnits<LSTMCellArgs>(16)),
                                            LstmCell(withUnits<LSTMCellArgs>(32))),
        args);
    auto out = rnn.call(inputs(2, 4, 8));
    std::cout << "example 2: " << shape(out.sequence) << "\n";  // [2,4,32]
  }

  // Example 3: returnState. The output list is [output, ...states]; a stack's states come in
  // reverse cell order: the last cell's (h) first, the first cell's (h, c) last.
  //   const cells = [tf.layers.lstmCell({units: 4}), tf.layers.simpleRNNCell({units: 8})];
  //   const rnn = tf.layers.rnn({cell: cells, returnState: true});
  //   rnn.apply(x).map(t => t.shape)  // x: [2, 6, 3]
  {
    RNNLayerArgs args;
    args.returnState = true;
    RNN<StackedRNNCells<LstmCell, SimpleCell>> rnn(
        StackedRNNCells<LstmCell, SimpleCell>(LstmCell(withUnits<LSTMCellArgs>(4)),
                                              SimpleCell(withUnits<SimpleRNNCellArgs>(8))),
        args);
    auto out = rnn.call(inputs(2, 6, 3));
    std::cout << "example 3: " << shape(out.lastOutput) << "\n";  // [2,8]
    std::string list = "[" + shape(out.lastOutput);
    for (const auto& s : out.states) list += "," + shape(s);
    std::cout << "example 3, returnState list: " << list << "]\n";  // [[2,8],[2,8],[2,4],[2,4]]
    // The same list from the layer's shape inference (TF.js computeOutputShape).
    std::string inferred = "[";
    for (const auto& dims : rnn.computeOutputShape({2, 6, 3}))
      inferred += (inferred.size() > 1 ? "," : "") + shapeOf(dims);
    std::cout << "example 3, computeOutputShape: " << inferred << "]\n";
  }
  return 0;
}
