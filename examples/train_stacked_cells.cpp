// `tf.layers.rnn` over a stack of cells, in its two TF.js spellings, trained to sum a sequence:
//
//   tf.layers.rnn({cell: tf.layers.stackedRNNCells({cells: [lstmCell, lstmCell]}), ...})
//   tf.layers.rnn({cell: [lstmCell, lstmCell], ...})        // the same stack, as a list
//
// Task: the input is 10 numbers in [0, 1), one per step; the target is their mean. The final loss
// must be under half that of always predicting the mean target.
#include <recurrent/io/layers.hpp>

#include <cstdio>
#include <iostream>
#include <random>
#include <vector>

namespace io = recurrent::io;
namespace L = recurrent::io::layers;
using recurrent::Index;
using Tensor = recurrent::FlatTensor<float>;

int main() {
  const Index time = 10, samples = 256;
  std::mt19937 rng(3);
  Tensor x({samples, time, 1}, {}), y({samples, 1}, {});
  for (Index s = 0; s < samples; ++s) {
    float sum = 0.0f;
    for (Index t = 0; t < time; ++t) {
      x.data.push_back(float(rng() >> 8) / float(1 << 24));
      sum += x.data.back();
    }
    y.data.push_back(sum / float(time));
  }
  // The loss of always predicting the mean target (its variance): what learning must beat.
  float mean = 0.0f, variance = 0.0f;
  for (float v : y.data) mean += v / float(samples);
  for (float v : y.data) variance += (v - mean) * (v - mean) / float(samples);
  std::printf("loss of predicting the mean: %.5f\n", double(variance));

  // const cells = [tf.layers.lstmCell({units: 8}), tf.layers.lstmCell({units: 8})];
  const std::vector<io::LayerSpec> cells = {L::lstmCell({{"units", 8}}),
                                            L::lstmCell({{"units", 8}})};
  const io::LayerSpec stacks[] = {
      // tf.layers.rnn({cell: tf.layers.stackedRNNCells({cells}), inputShape: [10, 1]})
      L::rnn({{"cell", L::stackedRNNCells({{"cells", cells}})}, {"inputShape", {time, 1}}}),
      // tf.layers.rnn({cell: cells, inputShape: [10, 1]})
      L::rnn({{"cell", cells}, {"inputShape", {time, 1}}}),
  };
  bool learnt = true;
  for (const io::LayerSpec& rnn : stacks) {
    auto model = io::sequential<float>({rnn, L::dense({{"units", 1}})});
    std::cout << model.summary();
    model.compile({recurrent::train::adam<float>(0.01), {"meanSquaredError"}});

    io::FitArgs<float> fit;
    fit.epochs = 20;
    fit.batchSize = 32;
    const std::vector<double> loss = model.fit({x}, {y}, fit).history.at("loss");
    for (std::size_t e = 0; e < loss.size(); ++e)
      std::printf("epoch %2d: loss %.5f\n", int(e + 1), loss[e]);
    learnt = learnt && loss.back() < 0.5 * double(variance);
  }
  return learnt ? 0 : 1;
}
