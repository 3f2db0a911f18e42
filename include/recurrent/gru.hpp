/** @file
 * `GRU`: `RNN` over `GRUCell` with the arguments of TF.js `tf.layers.gru`.
 */
#ifndef RECURRENT_GRU_HPP
#define RECURRENT_GRU_HPP

#include <recurrent/gru_cell.hpp>
#include <recurrent/rnn_layer.hpp>

namespace recurrent {

/// Arguments of `GRU`: the cell's (`GRUCellArgs`) plus the layer's (`RNNLayerOptions`);
/// `name` and `seed` serve the layer.
struct GRUArgs : GRUCellArgs, RNNLayerOptions {};

/**
 * @brief `GRU` layer: `RNN<GRUCell>` built from one argument struct, as TF.js does.
 *
 * Maths, gate order, weight shapes and state order: see `GRUCell`. Layer behaviour
 * (returnSequences, returnState, goBackwards, stateful, masks, initialState, dropout): see `RNN`.
 */
template <class Scalar = float, int Units = Eigen::Dynamic, int InputDim = Eigen::Dynamic>
class GRU : public RNN<GRUCell<Scalar, Units, InputDim>> {
  using Base = RNN<GRUCell<Scalar, Units, InputDim>>;

 public:
  explicit GRU(const GRUArgs& args)
      : Base(GRUCell<Scalar, Units, InputDim>(args), layerArgs(args)) {}

 private:
  static RNNLayerArgs layerArgs(const GRUArgs& args) {
    RNNLayerArgs out;
    static_cast<RNNLayerOptions&>(out) = args;
    out.seed = args.seed;
    out.name = args.name.empty() ? "gru" : args.name;
    return out;
  }
};

}  // namespace recurrent

#endif  // RECURRENT_GRU_HPP
