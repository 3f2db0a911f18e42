// A stacked GRU with dropout, as in the TF.js docs, trained to predict the next value of a sine:
//
//   const model = tf.sequential();
//   model.add(tf.layers.gru({units: 16, inputShape: [20, 1], returnSequences: true,
//                            dropout: 0.2, recurrentDropout: 0.2}));
//   model.add(tf.layers.gru({units: 16, dropout: 0.2, recurrentDropout: 0.2}));
//   model.add(tf.layers.dense({units: 1}));
//
// The inputs are windows of 20 values of a noisy sine, the target the clean value after each
// window. Writes the loss curve, `epoch,loss,val_loss`, to the CSV file named by the first
// argument (default `loss_curve.csv`); scripts/plot_loss_curve.py draws it.
#include <recurrent/io/layers.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace io = recurrent::io;
namespace L = recurrent::io::layers;
using recurrent::Index;
using Tensor = recurrent::FlatTensor<float>;

int main(int argc, char** argv) {
  const std::string csvPath = argc > 1 ? argv[1] : "loss_curve.csv";
  const Index window = 20, samples = 400;

  // x[s] = noisy sin(0.3·(s + t)) for t < window, y[s] = sin(0.3·(s + window)).
  std::mt19937 rng(7);
  auto noise = [&rng] { return 0.1f * (float(rng() >> 8) / float(1 << 24) - 0.5f); };
  auto wave = [](Index i) { return std::sin(0.3f * float(i)); };
  Tensor x({samples, window, 1}, {}), y({samples, 1}, {});
  for (Index s = 0; s < samples; ++s) {
    for (Index t = 0; t < window; ++t) x.data.push_back(wave(s + t) + noise());
    y.data.push_back(wave(s + window));
  }

  auto model = io::sequential<float>({
      L::gru({{"units", 16},
              {"inputShape", {window, 1}},
              {"returnSequences", true},
              {"dropout", 0.2},
              {"recurrentDropout", 0.2}}),
      L::gru({{"units", 16}, {"dropout", 0.2}, {"recurrentDropout", 0.2}}),
      L::dense({{"units", 1}}),
  });
  std::cout << model.summary();
  // model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
  model.compile({recurrent::train::adam<float>(0.01), {"meanSquaredError"}});

  std::ofstream csv(csvPath);
  csv << "epoch,loss,val_loss\n";
  // await model.fit(x, y, {epochs: 30, batchSize: 32, validationSplit: 0.2,
  //                        callbacks: {onEpochEnd: (epoch, logs) => ...}});
  io::FitArgs<float> fit;
  fit.epochs = 30;
  fit.batchSize = 32;
  fit.validationSplit = 0.2;
  io::Callback log;
  log.onEpochEnd = [&csv](Index epoch, io::Logs& logs) {
    std::printf("epoch %2d: loss %.5f val_loss %.5f\n", int(epoch + 1), logs["loss"],
                logs["val_loss"]);
    csv << epoch + 1 << ',' << logs["loss"] << ',' << logs["val_loss"] << '\n';
  };
  fit.callbacks.push_back(log);
  const io::History history = model.fit({x}, {y}, fit);
  std::cout << "loss curve written to " << csvPath << "\n";

  // A few predictions (inference: no dropout) on the validation windows.
  const Tensor predicted = model.predict(x)[0];
  for (Index s = samples - 5; s < samples; ++s)
    std::printf("window %d: predicted %+.3f, truth %+.3f\n", int(s),
                double(predicted.data[std::size_t(s)]), double(y.data[std::size_t(s)]));

  // The training loss (with dropout) and the validation loss (without) must both have fallen.
  const std::vector<double>& loss = history.history.at("loss");
  const std::vector<double>& valLoss = history.history.at("val_loss");
  return loss.back() < 0.5 * loss.front() && valLoss.back() < 0.5 * valLoss.front() ? 0 : 1;
}
