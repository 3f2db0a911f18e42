/** @file
 * `SimpleRNN`: `RNN` over `SimpleRNNCell` with the arguments of TF.js `tf.layers.simpleRNN`.
 */
#ifndef RECURRENT_SIMPLE_RNN_HPP
#define RECURRENT_SIMPLE_RNN_HPP

#include <recurrent/rnn_layer.hpp>
#include <recurrent/simple_rnn_cell.hpp>

namespace recurrent {

/// Arguments of `SimpleRNN`: the cell's (`SimpleRNNCellArgs`) plus the layer's (`RNNLayerOptions`);
/// `name` and `seed` serve the layer.
struct SimpleRNNArgs : SimpleRNNCellArgs, RNNLayerOptions {};

/**
 * @brief `SimpleRNN` layer: `RNN<SimpleRNNCell>` built from one argument struct, as TF.js does.
 *
 * Maths, gate order, weight shapes and state order: see `SimpleRNNCell`. Layer behaviour
 * (returnSequences, returnState, goBackwards, stateful, masks, initialState, dropout): see `RNN`.
 */
template <class Scalar = float, int Units = Eigen::Dynamic, int InputDim = Eigen::Dynamic>
class SimpleRNN : public RNN<SimpleRNNCell<Scalar, Units, InputDim>> {
  using Base = RNN<SimpleRNNCell<Scalar, Units, InputDim>>;

 public:
  explicit SimpleRNN(const SimpleRNNArgs& args)
      : Base(SimpleRNNCell<Scalar, Units, InputDim>(args), layerArgs(args)) {}

 private:
  static RNNLayerArgs layerArgs(const SimpleRNNArgs& args) {
    RNNLayerArgs out;
    static_cast<RNNLayerOptions&>(out) = args;
    out.seed = args.seed;
    out.name = args.name.empty() ? "simple_rnn" : args.name;
    return out;
  }
};

}  // namespace recurrent

#endif  // RECURRENT_SIMPLE_RNN_HPP
