/** @file
 * Umbrella header: everything but the optional JSON part (`recurrent/io/layer_config.hpp`).
 *
 *     #include <recurrent/recurrent.hpp>
 */
#ifndef RECURRENT_RECURRENT_HPP
#define RECURRENT_RECURRENT_HPP

#include <recurrent/activations.hpp>
#include <recurrent/any_cell.hpp>
#include <recurrent/any_layer.hpp>
#include <recurrent/bidirectional.hpp>
#include <recurrent/config.hpp>
#include <recurrent/dropout.hpp>
#include <recurrent/errors.hpp>
#include <recurrent/gru.hpp>
#include <recurrent/gru_cell.hpp>
#include <recurrent/initializers.hpp>
#include <recurrent/lstm.hpp>
#include <recurrent/lstm_cell.hpp>
#include <recurrent/random.hpp>
#include <recurrent/rnn.hpp>
#include <recurrent/rnn_cell.hpp>
#include <recurrent/rnn_layer.hpp>
#include <recurrent/simple_rnn.hpp>
#include <recurrent/simple_rnn_cell.hpp>
#include <recurrent/stacked_rnn_cells.hpp>
#include <recurrent/types.hpp>
#include <recurrent/version.hpp>

#endif  // RECURRENT_RECURRENT_HPP
