// Sequence to sequence as a functional model: an LSTM encoder's final states (`returnState`)
// are the initial states of an LSTM decoder, trained to reverse a short sequence.
//
//   const source = tf.input({shape: [5, 6]}), previous = tf.input({shape: [5, 6]});
//   const [, h, c] = tf.layers.lstm({units: 32, returnState: true}).apply(source);
//   const decoded = tf.layers.lstm({units: 32, returnSequences: true})
//                       .apply(previous, {initialState: [h, c]});
//   const target = tf.layers.dense({units: 6, activation: 'softmax'}).apply(decoded);
//   const model = tf.model({inputs: [source, previous], outputs: target});
//
// The source is 5 symbols of 6, one-hot; the target is the source reversed. The decoder reads
// the target shifted by one step (teacher forcing: `previous`, zeros at the first step), so all
// it knows of the source comes through the encoder's states.
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
  const Index time = 5, symbols = 6, samples = 512;
  std::mt19937 rng(11);
  auto zeros = [&] {
    return Tensor({samples, time, symbols},
                  std::vector<float>(std::size_t(samples * time * symbols)));
  };
  Tensor source = zeros(), previous = zeros(), target = zeros();
  auto at = [](Tensor& t, Index s, Index step, Index k) -> float& {
    return t.data[std::size_t((s * time + step) * symbols + k)];
  };
  for (Index s = 0; s < samples; ++s) {
    std::vector<Index> seq(time);
    for (Index& k : seq) k = Index(rng() >> 8) % symbols;
    for (Index t = 0; t < time; ++t) {
      at(source, s, t, seq[std::size_t(t)]) = 1.0f;
      at(target, s, t, seq[std::size_t(time - 1 - t)]) = 1.0f;
      if (t > 0) at(previous, s, t, seq[std::size_t(time - t)]) = 1.0f;  // target[t - 1]
    }
  }

  io::Graph g;
  const auto sourceIn = g.input({time, symbols}, "source");
  const auto previousIn = g.input({time, symbols}, "previous");
  // const [, h, c] = encoder.apply(source): [output, h, c]; the output itself is not used.
  const auto encoded = g.applyMany(L::lstm({{"units", 32}, {"returnState", true}}), {sourceIn}, 3);
  // Extra inputs of a recurrent layer are its initial states: decoder.apply([previous, h, c]).
  const auto decoded = g.apply(L::lstm({{"units", 32}, {"returnSequences", true}}),
                               {previousIn, encoded[1], encoded[2]});
  const auto out = g.apply(L::dense({{"units", symbols}, {"activation", "softmax"}}), decoded);
  auto model = g.model<float>({sourceIn, previousIn}, {out});
  std::cout << model.summary();

  model.compile({recurrent::train::adam<float>(0.01), {"categoricalCrossentropy"}, {"accuracy"}});
  io::FitArgs<float> fit;
  fit.epochs = 15;
  fit.batchSize = 32;
  fit.validationSplit = 0.2;
  const io::History history = model.fit({source, previous}, {target}, fit);
  const std::vector<double>& loss = history.history.at("loss");
  const std::vector<double>& valAcc = history.history.at("val_acc");
  for (std::size_t e = 0; e < loss.size(); ++e)
    std::printf("epoch %2d: loss %.4f val_acc %.3f\n", int(e + 1), loss[e], valAcc[e]);
  return loss.back() < 0.5 * loss.front() && valAcc.back() > 0.5 ? 0 : 1;  // chance: 1/6
}
