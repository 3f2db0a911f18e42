// Internal, may change: the weights a recurrent layer needs for a given input width, from its
// config alone (names, shapes in the file's layout, and how a stored value becomes ours), so
// that a model file is checked before anything is allocated. Part of io/tfjs.hpp.
#ifndef RECURRENT_IO_DETAIL_WEIGHT_SLOTS_HPP
#define RECURRENT_IO_DETAIL_WEIGHT_SLOTS_HPP

#include <recurrent/gru_cell.hpp>
#include <recurrent/io/detail/model_layers.hpp>
#include <recurrent/io/layer_config.hpp>
#include <recurrent/lstm_cell.hpp>
#include <recurrent/simple_rnn_cell.hpp>

#include <string>
#include <vector>

namespace recurrent::io::detail {

/// Gates of a cell class (1, 3, 4; 0 for none).
inline int gatesOf(const std::string& cls) {
  if (cls == "SimpleRNNCell" || cls == "SimpleRNN") return 1;
  if (cls == "GRUCell" || cls == "GRU" || cls == "CuDNNGRU") return 3;
  if (cls == "LSTMCell" || cls == "LSTM" || cls == "CuDNNLSTM") return 4;
  return 0;
}

inline const char* layerOfGates(Index k) {
  return k == 1 ? "SimpleRNN" : k == 3 ? "GRU" : k == 4 ? "LSTM" : "unknown";
}

/// Appends the weights of one cell (or cell stack) for `inDim` input features; returns its
/// output size. `spec` is in the file's spelling (CuDNN classes not yet mapped).
inline Index cellSlots(const json& spec, Index inDim, const std::string& prefix,
                       std::vector<WeightSlot>& out) {
  const std::string cls = classOf(spec, "loadLayersModel");
  const json& cfg = configOf(spec);
  const std::string who = where(cls, cfg);
  if (cls == "StackedRNNCells") {
    const json* cells = find(cfg, "cells");
    if (cells == nullptr || !cells->is_array() || cells->empty())
      raise<ConfigError>(who, "cells: expected a non-empty array of cell configs");
    Index d = inDim;
    for (std::size_t i = 0; i < cells->size(); ++i)
      d = cellSlots((*cells)[i], d, prefix + "RNNCell_" + std::to_string(i) + "/", out);
    return d;
  }
  const int k = gatesOf(cls);
  if (k == 0) raise<ConfigError>(who, "unknown cell class " + cls);
  const Index u = getUnits(cfg, who);
  if (u > (Index{1} << 24))
    raise<ConfigError>(who, "units " + std::to_string(u) + " is larger than this loader accepts");
  const bool cudnn = cls.rfind("CuDNN", 0) == 0;
  const bool resetAfter =
      cls == "CuDNNGRU" || (k == 3 && getBool(cfg, who, "resetAfter", "reset_after", false));
  const bool useBias = cudnn || getBool(cfg, who, "useBias", "use_bias", true);
  const std::string ku = std::to_string(k) + "·units";
  const std::string layout = cls + " (units " + std::to_string(u) + ")";
  // The shapes the cell itself states (CuDNN biases are stored in a layout of their own).
  const std::vector<std::vector<Index>> shapes =
      k == 4   ? LSTMCell<float>::weightShapes(inDim, u, useBias && !cudnn)
      : k == 3 ? GRUCell<float>::weightShapes(inDim, u, useBias && !cudnn, resetAfter)
               : SimpleRNNCell<float>::weightShapes(inDim, u, useBias && !cudnn);
  out.push_back({prefix + "kernel", shapes[0], WeightTransform::None,
                 "a " + layout + " kernel is [input features, " + ku + "]"});
  out.push_back({prefix + "recurrent_kernel", shapes[1], WeightTransform::None,
                 "a " + layout + " recurrent kernel is [units, " + ku + "]"});
  if (useBias) {
    if (cls == "CuDNNLSTM")
      out.push_back({prefix + "bias",
                     {8 * u},
                     WeightTransform::SumHalves,
                     "a CuDNNLSTM bias is [8·units] (input biases, then recurrent biases)"});
    else if (cls == "CuDNNGRU")
      out.push_back({prefix + "bias",
                     {6 * u},
                     WeightTransform::TwoRows,
                     "a CuDNNGRU bias is [6·units] (input biases, then recurrent biases)"});
    else if (resetAfter)
      out.push_back({prefix + "bias", shapes[2], WeightTransform::None,
                     "a reset_after: true GRU bias is [2, 3·units]"});
    else
      out.push_back({prefix + "bias", shapes[2], WeightTransform::None,
                     "a " + layout + " bias is [" + ku + "]"});
  }
  return u;
}

/// The weights of a recurrent layer (file spelling) for `inDim` input features.
inline std::vector<WeightSlot> recurrentSlots(const json& spec, Index inDim) {
  const std::string cls = classOf(spec, "loadLayersModel");
  const json& cfg = configOf(spec);
  std::vector<WeightSlot> out;
  if (cls == "Bidirectional") {
    const json* inner = find(cfg, "layer");
    if (inner == nullptr || !inner->is_object())
      raise<ConfigError>(where(cls, cfg), "layer: the wrapped layer config is missing");
    // TF.js and Keras: `forward_<name>`, `backward_<name>`; Keras 3 serialises the inner layer
    // already renamed (`forward_gru`) and names the backward one in `backward_layer`.
    auto nameOf = [](const json* layerSpec) {
      const json* n = layerSpec != nullptr ? find(configOf(*layerSpec), "name") : nullptr;
      return n != nullptr && n->is_string() ? n->get<std::string>() : std::string();
    };
    auto withPrefix = [](const std::string& name, const std::string& prefix) {
      return name.rfind(prefix, 0) == 0 ? name : prefix + name;
    };
    std::string base = nameOf(inner);
    if (base.rfind("forward_", 0) == 0) base = base.substr(8);
    const json* backward = find(cfg, "backwardLayer", "backward_layer");
    const std::string backwardName = backward != nullptr && !backward->is_null()
                                         ? withPrefix(nameOf(backward), "backward_")
                                         : "backward_" + base;
    for (const std::string& dir : {"forward_" + base, backwardName}) {
      for (WeightSlot& s : recurrentSlots(*inner, inDim)) {
        s.name = dir + "/" + s.name;
        out.push_back(std::move(s));
      }
    }
    return out;
  }
  if (cls == "RNN") {
    const json* cell = find(cfg, "cell");
    if (cell == nullptr || cell->is_null())
      raise<ConfigError>(where(cls, cfg), "cell property is missing for the constructor of RNN.");
    if (cell->is_array())
      cellSlots(json{{"className", "StackedRNNCells"}, {"config", {{"cells", *cell}}}}, inDim, "",
                out);
    else
      cellSlots(*cell, inDim, "", out);
    return out;
  }
  cellSlots(spec, inDim, "", out);
  return out;
}

}  // namespace recurrent::io::detail

#endif  // RECURRENT_IO_DETAIL_WEIGHT_SLOTS_HPP
