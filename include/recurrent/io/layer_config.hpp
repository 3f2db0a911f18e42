/** @file
 * Run-time assembly from a TF.js layer config (optional part, target `recurrent::json`, needs
 * nlohmann_json): `{"class_name": ..., "config": {...}}` with TF.js camelCase arguments (Keras
 * snake_case keys are accepted too), nested cells (`RNN` with a cell, an array of cells or a
 * `StackedRNNCells`) and `Bidirectional`.
 *
 *     auto layer = recurrent::io::layerFromConfig<float>(nlohmann::json::parse(text));
 *     auto outputs = layer.apply(x);  // TF.js output list
 *
 * TF.js quirks reproduced: `activation: null` is `linear` for GRU/LSTM(Cell) and `tanh` for
 * SimpleRNN(Cell) (same for `recurrentActivation`); `"hard_sigmoid"` is an unknown activation
 * (TF.js constructors refuse it); units must be a positive integer; a missing `mergeMode` is
 * `concat`, `null` is no merge. Extensions: GRU `resetAfter: true` and `Bidirectional` around a
 * generic `RNN` work (TF.js throws on both).
 */
#ifndef RECURRENT_IO_LAYER_CONFIG_HPP
#define RECURRENT_IO_LAYER_CONFIG_HPP

#include <recurrent/recurrent.hpp>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::io {

/// Builds a cell from `{"class_name": "SimpleRNNCell"|"GRUCell"|"LSTMCell"|"StackedRNNCells",
/// "config": {...}}`. @throws ConfigError naming the cell and the argument.
template <class Scalar>
AnyCell<Scalar> cellFromConfig(const nlohmann::json& spec);

/// Builds a layer from `{"class_name": "SimpleRNN"|"GRU"|"LSTM"|"RNN"|"Bidirectional",
/// "config": {...}}`. @throws ConfigError naming the layer and the argument.
template <class Scalar>
AnyLayer<Scalar> layerFromConfig(const nlohmann::json& spec);

namespace detail {

using nlohmann::json;

/// Looks a key up by its TF.js camelCase name, then its Keras snake_case name.
inline const json* find(const json& cfg, const char* camel, const char* snake = nullptr) {
  if (!cfg.is_object()) return nullptr;
  auto it = cfg.find(camel);
  if (it != cfg.end()) return &*it;
  if (snake != nullptr) {
    it = cfg.find(snake);
    if (it != cfg.end()) return &*it;
  }
  return nullptr;
}

inline std::string where(const std::string& cls, const json& cfg) {
  const json* n = find(cfg, "name");
  return recurrent::detail::where(cls, n != nullptr && n->is_string() ? n->get<std::string>() : "",
                                  "constructor");
}

inline bool getBool(const json& cfg, const std::string& who, const char* camel, const char* snake,
                    bool dflt) {
  const json* v = find(cfg, camel, snake);
  if (v == nullptr || v->is_null()) return dflt;
  if (!v->is_boolean())
    recurrent::detail::raise<ConfigError>(
        who, std::string(camel) + ": expected a boolean, got " + v->dump());
  return v->get<bool>();
}

inline double getNumber(const json& cfg, const std::string& who, const char* camel,
                        const char* snake, double dflt) {
  const json* v = find(cfg, camel, snake);
  if (v == nullptr || v->is_null()) return dflt;
  if (!v->is_number())
    recurrent::detail::raise<ConfigError>(
        who, std::string(camel) + ": expected a number, got " + v->dump());
  return v->get<double>();
}

/// An integer argument in [lo, hi] (TF.js numbers are doubles: 4.0 is 4). Checked before any
/// conversion, so a huge or fractional value is a ConfigError, never an overflowing cast.
inline Index getInteger(const json& cfg, const std::string& who, const char* camel,
                        const char* snake, Index dflt, Index lo, Index hi) {
  const json* v = find(cfg, camel, snake);
  if (v == nullptr || v->is_null()) return dflt;
  const double d = v->is_number() ? v->get<double>() : 0.5;
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || std::floor(d) != d)
    recurrent::detail::raise<ConfigError>(who, std::string(camel) + ": expected an integer in [" +
                                                   std::to_string(lo) + ", " + std::to_string(hi) +
                                                   "], got " + v->dump());
  return static_cast<Index>(d);
}

inline Index getUnits(const json& cfg, const std::string& who) {
  const json* v = find(cfg, "units");
  const std::string got = v == nullptr ? "undefined" : v->dump();
  if (v == nullptr || !v->is_number() || v->get<double>() <= 0 ||
      std::floor(v->get<double>()) != v->get<double>())
    recurrent::detail::raise<ConfigError>(
        who, "Expected units to be a positive integer, but got " + got + ".");
  // Beyond TF.js: a bound that keeps every weight size representable.
  return getInteger(cfg, who, "units", nullptr, 0, 1, Index{1} << 31);
}

/// `nullDefault` is what an explicit `null` means for this class (TF.js quirk).
inline Activation getActivation(const json& cfg, const std::string& who, const char* camel,
                                const char* snake, Activation dflt, Activation nullDefault) {
  const json* v = find(cfg, camel, snake);
  if (v == nullptr) return dflt;
  if (v->is_null()) return nullDefault;
  std::string name;
  if (v->is_string()) {
    name = v->get<std::string>();
  } else if (const json* cn = v->is_object() ? find(*v, "className", "class_name") : nullptr;
             cn != nullptr && cn->is_string()) {
    name = cn->get<std::string>();
  } else {
    recurrent::detail::raise<ConfigError>(who, std::string(camel) +
                                                   ": expected an activation "
                                                   "name, got " +
                                                   v->dump());
  }
  // The 16 TF.js names, plus our extension name "hardSigmoidKeras3" (Keras 3's hard sigmoid;
  // model import maps Keras 3's `hard_sigmoid` to it).
  for (std::size_t i = 0; i < Activation::kModelFileCount; ++i)
    if (name == Activation::names()[i]) return Activation(static_cast<ActivationKind>(i));
  recurrent::detail::raise<ConfigError>(who, Activation::unknownMessage(name, camel));
}

inline Initializer getInitializer(const json& cfg, const std::string& who, const char* camel,
                                  const char* snake, Initializer dflt) {
  const json* v = find(cfg, camel, snake);
  if (v == nullptr || v->is_null()) return dflt;
  if (v->is_string()) return Initializer::fromName(v->get<std::string>());
  if (!v->is_object())
    recurrent::detail::raise<ConfigError>(
        who, std::string(camel) + ": expected an initializer, got " + v->dump());
  const json* cn = find(*v, "className", "class_name");
  if (cn == nullptr || !cn->is_string())
    recurrent::detail::raise<ConfigError>(who, std::string(camel) + ": missing className");
  Initializer init = Initializer::fromName(cn->get<std::string>());
  const json* c = find(*v, "config");
  if (c != nullptr && c->is_object()) {
    init.value = getNumber(*c, who, "value", nullptr, init.value);
    init.minval = getNumber(*c, who, "minval", nullptr, init.minval);
    init.maxval = getNumber(*c, who, "maxval", nullptr, init.maxval);
    init.mean = getNumber(*c, who, "mean", nullptr, init.mean);
    init.stddev = getNumber(*c, who, "stddev", nullptr, init.stddev);
    init.gain = getNumber(*c, who, "gain", nullptr, init.gain);
    const json* seed = find(*c, "seed");
    if (seed != nullptr && (seed->is_number_unsigned() ||
                            (seed->is_number_integer() && seed->get<std::int64_t>() >= 0)))
      init.seed = seed->get<std::uint64_t>();
  }
  return init;
}

/// Fills the fields every cell shares. `nullActivation`: what `activation: null` means.
inline void fillCellArgs(CellArgs& a, const json& cfg, const std::string& who,
                         Activation nullActivation) {
  a.units = getUnits(cfg, who);
  a.activation =
      getActivation(cfg, who, "activation", nullptr, ActivationKind::Tanh, nullActivation);
  a.useBias = getBool(cfg, who, "useBias", "use_bias", true);
  a.kernelInitializer = getInitializer(cfg, who, "kernelInitializer", "kernel_initializer",
                                       InitializerKind::GlorotNormal);
  a.recurrentInitializer = getInitializer(cfg, who, "recurrentInitializer", "recurrent_initializer",
                                          InitializerKind::Orthogonal);
  a.biasInitializer =
      getInitializer(cfg, who, "biasInitializer", "bias_initializer", InitializerKind::Zeros);
  a.dropout = getNumber(cfg, who, "dropout", nullptr, 0.0);
  a.recurrentDropout = getNumber(cfg, who, "recurrentDropout", "recurrent_dropout", 0.0);
  if (const json* n = find(cfg, "name"); n != nullptr && n->is_string()) a.name = *n;
}

inline void fillLayerOptions(RNNLayerOptions& o, const json& cfg, const std::string& who) {
  o.returnSequences = getBool(cfg, who, "returnSequences", "return_sequences", false);
  o.returnState = getBool(cfg, who, "returnState", "return_state", false);
  o.goBackwards = getBool(cfg, who, "goBackwards", "go_backwards", false);
  o.stateful = getBool(cfg, who, "stateful", nullptr, false);
  o.unroll = getBool(cfg, who, "unroll", nullptr, false);
  o.inputDim = getInteger(cfg, who, "inputDim", "input_dim", 0, 0, Index{1} << 31);
  // Keras's `zero_output_for_mask` (TF.js has no such key: its masked steps repeat the output).
  if (getBool(cfg, who, "zeroOutputForMask", "zero_output_for_mask", false))
    o.maskedOutput = MaskedOutput::Zeros;
  // Extension (not a TF.js key): helper threads, see RNNLayerOptions::threads.
  o.threads = static_cast<int>(getInteger(cfg, who, "threads", nullptr, 1, 1, 1024));
}

template <class Args>
void fillGatedArgs(Args& a, const json& cfg, const std::string& who) {
  fillCellArgs(a, cfg, who, ActivationKind::Linear);  // `=== undefined` test in TF.js
  a.recurrentActivation = getActivation(cfg, who, "recurrentActivation", "recurrent_activation",
                                        ActivationKind::HardSigmoid, ActivationKind::Linear);
  // TF.js stores any value (1 and 2 select nothing different here); bounded only for the cast.
  a.implementation = static_cast<int>(getInteger(cfg, who, "implementation", nullptr, 1, 0, 1024));
}

inline const json& configOf(const json& spec) {
  static const json kEmpty = json::object();
  const json* c = find(spec, "config");
  return c != nullptr ? *c : kEmpty;
}

inline std::string classOf(const json& spec, const char* what) {
  const json* c = find(spec, "class_name", "className");
  if (c == nullptr || !c->is_string())
    recurrent::detail::raise<ConfigError>(std::string("io.") + what,
                                          "missing class_name in " + spec.dump());
  return c->get<std::string>();
}

inline SimpleRNNCellArgs simpleArgs(const json& cfg, const std::string& who) {
  SimpleRNNCellArgs a;
  fillCellArgs(a, cfg, who, ActivationKind::Tanh);  // `== null` test in TF.js
  return a;
}
inline GRUCellArgs gruArgs(const json& cfg, const std::string& who) {
  GRUCellArgs a;
  fillGatedArgs(a, cfg, who);
  a.resetAfter = getBool(cfg, who, "resetAfter", "reset_after", false);
  return a;
}
inline LSTMCellArgs lstmArgs(const json& cfg, const std::string& who) {
  LSTMCellArgs a;
  fillGatedArgs(a, cfg, who);
  a.unitForgetBias = getBool(cfg, who, "unitForgetBias", "unit_forget_bias", false);
  return a;
}

/// The generic layer used for `RNN` and inside `Bidirectional`.
template <class Scalar>
RNN<AnyCell<Scalar>> genericFromConfig(const json& spec) {
  const std::string cls = classOf(spec, "layerFromConfig");
  const json& cfg = configOf(spec);
  const std::string who = where(cls, cfg);
  RNNLayerArgs args;
  fillLayerOptions(args, cfg, who);
  if (const json* n = find(cfg, "name"); n != nullptr && n->is_string()) args.name = *n;
  auto cellSpec = [&](const char* cellClass) {
    return json{{"class_name", cellClass}, {"config", cfg}};
  };
  if (cls == "SimpleRNN")
    return RNN<AnyCell<Scalar>>(cellFromConfig<Scalar>(cellSpec("SimpleRNNCell")), args);
  if (cls == "GRU") return RNN<AnyCell<Scalar>>(cellFromConfig<Scalar>(cellSpec("GRUCell")), args);
  if (cls == "LSTM")
    return RNN<AnyCell<Scalar>>(cellFromConfig<Scalar>(cellSpec("LSTMCell")), args);
  if (cls != "RNN")
    recurrent::detail::raise<ConfigError>(who, "unknown recurrent layer class " + cls);
  const json* cell = find(cfg, "cell");
  if (cell == nullptr || cell->is_null())
    recurrent::detail::raise<ConfigError>(who,
                                          "cell property is missing for the constructor of RNN.");
  if (cell->is_array()) {
    std::vector<AnyCell<Scalar>> cells;
    for (const json& c : *cell) cells.push_back(cellFromConfig<Scalar>(c));
    return RNN<AnyCell<Scalar>>(StackedRNNCells<std::vector<AnyCell<Scalar>>>(std::move(cells)),
                                args);
  }
  return RNN<AnyCell<Scalar>>(cellFromConfig<Scalar>(*cell), args);
}

}  // namespace detail

template <class Scalar>
AnyCell<Scalar> cellFromConfig(const nlohmann::json& spec) {
  using namespace detail;
  const std::string cls = classOf(spec, "cellFromConfig");
  const json& cfg = configOf(spec);
  const std::string who = where(cls, cfg);
  if (cls == "SimpleRNNCell") return SimpleRNNCell<Scalar>(simpleArgs(cfg, who));
  if (cls == "GRUCell") return GRUCell<Scalar>(gruArgs(cfg, who));
  if (cls == "LSTMCell") return LSTMCell<Scalar>(lstmArgs(cfg, who));
  if (cls == "StackedRNNCells") {
    const json* cells = find(cfg, "cells");
    if (cells == nullptr || !cells->is_array())
      recurrent::detail::raise<ConfigError>(who, "cells: expected an array of cell configs");
    std::vector<AnyCell<Scalar>> list;
    for (const json& c : *cells) list.push_back(cellFromConfig<Scalar>(c));
    std::string name;
    if (const json* n = find(cfg, "name"); n != nullptr && n->is_string()) name = *n;
    return StackedRNNCells<std::vector<AnyCell<Scalar>>>(std::move(list), name);
  }
  recurrent::detail::raise<ConfigError>(who, "unknown cell class " + cls +
                                                 " (expected SimpleRNNCell, GRUCell, LSTMCell "
                                                 "or StackedRNNCells)");
}

template <class Scalar>
AnyLayer<Scalar> layerFromConfig(const nlohmann::json& spec) {
  using namespace detail;
  const std::string cls = classOf(spec, "layerFromConfig");
  const json& cfg = configOf(spec);
  const std::string who = where(cls, cfg);
  auto layerArgs = [&](auto args) {
    fillLayerOptions(args, cfg, who);
    return args;
  };
  if (cls == "SimpleRNN") {
    SimpleRNNArgs a = layerArgs(SimpleRNNArgs{});
    static_cast<SimpleRNNCellArgs&>(a) = simpleArgs(cfg, who);
    return AnyLayer<Scalar>(SimpleRNN<Scalar>(a), cls);
  }
  if (cls == "GRU") {
    GRUArgs a = layerArgs(GRUArgs{});
    static_cast<GRUCellArgs&>(a) = gruArgs(cfg, who);
    return AnyLayer<Scalar>(GRU<Scalar>(a), cls);
  }
  if (cls == "LSTM") {
    LSTMArgs a = layerArgs(LSTMArgs{});
    static_cast<LSTMCellArgs&>(a) = lstmArgs(cfg, who);
    return AnyLayer<Scalar>(LSTM<Scalar>(a), cls);
  }
  if (cls == "RNN") return AnyLayer<Scalar>(genericFromConfig<Scalar>(spec), cls);
  if (cls == "Bidirectional") {
    BidirectionalArgs args;
    const json* mm = find(cfg, "mergeMode", "merge_mode");
    if (mm != nullptr) {
      if (!mm->is_null() && !mm->is_string())
        recurrent::detail::raise<ConfigError>(
            who, "mergeMode: expected a string or null, got " + mm->dump());
      args.mergeMode = mergeModeFromName(mm->is_null() ? std::optional<std::string>()
                                                       : std::optional<std::string>(*mm));
    }
    if (const json* n = find(cfg, "name"); n != nullptr && n->is_string()) args.name = *n;
    const json* inner = find(cfg, "layer");
    if (inner == nullptr || inner->is_null())
      recurrent::detail::raise<ConfigError>(who, "layer: the wrapped layer config is missing");
    return AnyLayer<Scalar>(
        Bidirectional<RNN<AnyCell<Scalar>>>(genericFromConfig<Scalar>(*inner), args), cls);
  }
  recurrent::detail::raise<ConfigError>(who, "unknown layer class " + cls +
                                                 " (expected SimpleRNN, GRU, LSTM, RNN or "
                                                 "Bidirectional)");
}

}  // namespace recurrent::io

#endif  // RECURRENT_IO_LAYER_CONFIG_HPP
