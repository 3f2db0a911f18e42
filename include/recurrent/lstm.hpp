/** @file
 * `LSTM`: `RNN` over `LSTMCell` with the arguments of TF.js `tf.layers.lstm`.
 */
#ifndef RECURRENT_LSTM_HPP
#define RECURRENT_LSTM_HPP

#include <recurrent/lstm_cell.hpp>
#include <recurrent/rnn_layer.hpp>

namespace recurrent {

/// Arguments of `LSTM`: the cell's (`LSTMCellArgs`) plus the layer's (`RNNLayerOptions`);
/// `name` and `seed` serve the layer.
struct LSTMArgs : LSTMCellArgs, RNNLayerOptions {};

/**
 * @brief `LSTM` layer: `RNN<LSTMCell>` built from one argument struct, as TF.js does.
 *
 * Maths, gate order, weight shapes and state order: see `LSTMCell`. Layer behaviour
 * (returnSequences, returnState, goBackwards, stateful, masks, initialState, dropout): see `RNN`.
 */
template <class Scalar = float, int Units = Eigen::Dynamic, int InputDim = Eigen::Dynamic>
class LSTM : public RNN<LSTMCell<Scalar, Units, InputDim>> {
  using Base = RNN<LSTMCell<Scalar, Units, InputDim>>;

 public:
  explicit LSTM(const LSTMArgs& args)
      : Base(LSTMCell<Scalar, Units, InputDim>(args), layerArgs(args)) {}

 private:
  static RNNLayerArgs layerArgs(const LSTMArgs& args) {
    RNNLayerArgs out;
    static_cast<RNNLayerOptions&>(out) = args;
    out.seed = args.seed;
    out.name = args.name.empty() ? "lstm" : args.name;
    return out;
  }
};

}  // namespace recurrent

#endif  // RECURRENT_LSTM_HPP
