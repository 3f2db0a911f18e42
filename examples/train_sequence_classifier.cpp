// The TF.js docs' sequence classifier, built and trained in C++ as `model.fit` does:
//
//   const model = tf.sequential();
//   model.add(tf.layers.lstm({inputShape: [100, 32], units: 64}));
//   model.add(tf.layers.dense({units: 10, activation: 'softmax'}));
//
// Synthetic task: each sequence is noise with one bump; its class (of 10) is the feature that
// carries the bump. By default the sizes are small so that the example runs in seconds as a
// test: [20, 16] inputs, 16 units, 400 samples, 8 epochs. `--full` trains the docs' sizes,
// [100, 32] inputs and 64 units, on 1000 samples for 15 epochs (about 20 s when optimised).
#include <recurrent/io/layers.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <vector>

namespace io = recurrent::io;
namespace L = recurrent::io::layers;
using recurrent::Index;
using Tensor = recurrent::FlatTensor<float>;

namespace {

// `samples` sequences [time, features] and their one-hot labels [10].
void makeData(Index samples, Index time, Index features, unsigned seed, Tensor& x, Tensor& y) {
  std::mt19937 rng(seed);
  auto uniform = [&rng] { return float(rng() >> 8) / float(1 << 24); };  // [0, 1)
  x = Tensor({samples, time, features}, {});
  y = Tensor({samples, 10}, std::vector<float>(std::size_t(samples * 10), 0.0f));
  for (Index s = 0; s < samples; ++s) {
    const Index label = s % 10;
    const float centre = float(time) * (0.2f + 0.6f * uniform());  // where the bump is
    for (Index t = 0; t < time; ++t)
      for (Index f = 0; f < features; ++f) {
        const float d = (float(t) - centre) / (0.2f * float(time));
        const float bump = f == label ? 2.0f * std::exp(-d * d) : 0.0f;
        x.data.push_back(bump + 0.5f * (uniform() - 0.5f));
      }
    y.data[std::size_t(s * 10 + label)] = 1.0f;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool full = argc > 1 && std::strcmp(argv[1], "--full") == 0;
  const Index time = full ? 100 : 20, features = full ? 32 : 16, units = full ? 64 : 16;
  const Index samples = full ? 1000 : 400, epochs = full ? 15 : 8;

  // const model = tf.sequential({layers: [tf.layers.lstm(...), tf.layers.dense(...)]});
  auto model = io::sequential<float>({
      L::lstm({{"inputShape", {time, features}}, {"units", units}}),
      L::dense({{"units", 10}, {"activation", "softmax"}}),
  });
  std::cout << model.summary();

  // model.compile({optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy',
  //                metrics: ['accuracy']});
  model.compile({recurrent::train::adam<float>(0.01), {"categoricalCrossentropy"}, {"accuracy"}});

  Tensor x, y;
  makeData(samples, time, features, 1, x, y);

  // await model.fit(x, y, {epochs, batchSize: 32, validationSplit: 0.2,
  //                        callbacks: {onEpochEnd: (epoch, logs) => console.log(...)}});
  io::FitArgs<float> fit;
  fit.epochs = epochs;
  fit.batchSize = 32;
  fit.validationSplit = 0.2;
  io::Callback print;
  print.onEpochEnd = [](Index epoch, io::Logs& logs) {
    std::printf("epoch %d: loss %.4f acc %.3f val_loss %.4f val_acc %.3f\n", int(epoch + 1),
                logs["loss"], logs["acc"], logs["val_loss"], logs["val_acc"]);
  };
  fit.callbacks.push_back(print);
  const io::History history = model.fit({x}, {y}, fit);

  // const [loss, acc] = model.evaluate(xTest, yTest);
  Tensor xTest, yTest;
  makeData(100, time, features, 2, xTest, yTest);
  const std::vector<double> result = model.evaluate({xTest}, {yTest});
  std::printf("test: loss %.4f acc %.3f\n", result[0], result[1]);

  const std::vector<double>& loss = history.history.at("loss");
  const bool learnt = loss.back() < 0.7 * loss.front() && result[1] > 0.3;  // chance: 0.1
  return learnt ? 0 : 1;
}
