// Internal, may change: config normalisation of TF.js/Keras layer configs and the layer
// factory of the model loader (one `ModelLayer` per layer config). Part of io/tfjs.hpp.
#ifndef RECURRENT_IO_DETAIL_MODEL_CONFIG_HPP
#define RECURRENT_IO_DETAIL_MODEL_CONFIG_HPP

#include <recurrent/io/detail/artifacts.hpp>
#include <recurrent/io/detail/model_layers.hpp>
#include <recurrent/io/detail/weight_slots.hpp>
#include <recurrent/io/layer_config.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::io {

template <class Scalar>
class LayersModel;
struct LoadOptions;

namespace detail {

using recurrent::detail::raise;

/// What the steps of building a model share: the parsed files, the options, the model being
/// built, its layers by name and, per layer, its nodes (before they move into the model).
template <class Scalar>
struct ModelBuildState {
  const json& root;
  const std::function<std::string(const std::string&)>& read;
  LoadOptions options;
  LayersModel<Scalar> model;
  bool keras3 = false;
  std::map<std::string, std::size_t> byName;
  std::vector<std::vector<std::size_t>> nodesOf;
  std::vector<typename LayersModel<Scalar>::Node> nodes;
};

using recurrent::detail::raise;

inline std::string kLoad() { return "loadLayersModel"; }

/// `[a, b, c]` or `null` items of a JSON shape -> Shape (-1 for null).
inline Shape shapeFromJson(const json& j, const std::string& who, const std::string& what) {
  if (!j.is_array()) raise<ConfigError>(who, what + ": expected a shape array, got " + j.dump());
  Shape s;
  for (const json& d : j) {
    if (d.is_null()) {
      s.push_back(-1);
    } else if (d.is_number_integer() && d.get<std::int64_t>() >= 0 &&
               d.get<std::int64_t>() <= (std::int64_t{1} << 31)) {
      s.push_back(static_cast<Index>(d.get<std::int64_t>()));
    } else if (d.is_number_integer() && d.get<std::int64_t>() == -1) {
      s.push_back(-1);
    } else {
      raise<ConfigError>(who, what + ": bad dimension " + d.dump() + " in " + j.dump());
    }
  }
  return s;
}

/// The input shape a layer config declares (`batchInputShape` / Keras 3 `batchShape` /
/// `inputShape` + `batchSize`), if any.
inline std::optional<Shape> declaredInputShape(const json& cfg, const std::string& who) {
  if (const json* b = find(cfg, "batchInputShape"); b != nullptr && !b->is_null())
    return shapeFromJson(*b, who, "batchInputShape");
  if (const json* b = find(cfg, "batchShape"); b != nullptr && !b->is_null())
    return shapeFromJson(*b, who, "batchShape");
  if (const json* s = find(cfg, "inputShape"); s != nullptr && !s->is_null()) {
    Shape out{-1};
    if (const json* bs = find(cfg, "batchSize"); bs != nullptr && bs->is_number_integer())
      out[0] = bs->get<Index>();
    const Shape rest = shapeFromJson(*s, who, "inputShape");
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
  }
  return std::nullopt;
}

/// Recursively replaces `activation`/`recurrentActivation` values `from` with `to`.
inline void replaceActivation(json& j, const std::string& from, const std::string& to) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if ((it.key() == "activation" || it.key() == "recurrentActivation") &&
          it.value().is_string() && it.value().get<std::string>() == from)
        it.value() = to;
      else
        replaceActivation(it.value(), from, to);
    }
  } else if (j.is_array()) {
    for (json& item : j) replaceActivation(item, from, to);
  }
}

/// Removes keys that only matter for training or construction-time building (initializers,
/// regularizers, constraints): the weights come from the file.
inline void stripTrainingKeys(json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      const std::string& k = it.key();
      const auto endsWith = [&](const char* suffix) {
        const std::string s(suffix);
        return k.size() >= s.size() && k.compare(k.size() - s.size(), s.size(), s) == 0;
      };
      if (endsWith("Initializer") || endsWith("Regularizer") || endsWith("Constraint") ||
          k == "dtype") {
        it = j.erase(it);
      } else {
        stripTrainingKeys(it.value());
        ++it;
      }
    }
  } else if (j.is_array()) {
    for (json& item : j) stripTrainingKeys(item);
  }
}

/// The cuDNN layers as the library's: CuDNNLSTM -> LSTM, CuDNNGRU -> reset-after GRU, both with
/// tanh and sigmoid (what cuDNN computes).
inline json mapCuDNN(const json& spec) {
  const std::string cls = classOf(spec, "loadLayersModel");
  json cfg = configOf(spec);
  if (cls == "Bidirectional") {
    if (json* inner = cfg.contains("layer") ? &cfg["layer"] : nullptr; inner != nullptr)
      *inner = mapCuDNN(*inner);
    return json{{"className", cls}, {"config", cfg}};
  }
  if (cls != "CuDNNLSTM" && cls != "CuDNNGRU") return spec;
  cfg["activation"] = "tanh";
  cfg["recurrentActivation"] = "sigmoid";
  cfg["useBias"] = true;
  if (cls == "CuDNNGRU") cfg["resetAfter"] = true;
  if (cls == "CuDNNLSTM") cfg["unitForgetBias"] = false;
  return json{{"className", cls == "CuDNNLSTM" ? "LSTM" : "GRU"}, {"config", cfg}};
}

/// Layer configs -> model layers (TF.js's `deserialize` of each layer).
struct LayerFactory {
  /// One layer config -> its ModelLayer (InputLayer -> nullptr; its shape is recorded).
  template <class Scalar>
  static std::unique_ptr<ModelLayer<Scalar>> makeLayer(ModelBuildState<Scalar>& st,
                                                       const json& entry, std::string& name,
                                                       std::optional<Shape>& declared) {
    if (!entry.is_object())
      raise<ConfigError>(kLoad(), "a layer entry is not an object: " + entry.dump().substr(0, 200));
    const std::string cls = classOf(entry, "loadLayersModel");
    json cfg = pythonicToTs(configOf(entry));
    if (cfg.is_null()) cfg = json::object();
    if (!cfg.is_object())
      raise<ConfigError>(recurrent::detail::where(cls, name, "fromConfig"),
                         "config: expected an object, got " + std::string(cfg.type_name()));
    // A wrapped layer (Bidirectional, TimeDistributed) must be {"className", "config": {...}}.
    if (json* inner = cfg.contains("layer") ? &cfg["layer"] : nullptr; inner != nullptr) {
      if (!inner->is_object() || (inner->contains("config") && !(*inner)["config"].is_object()))
        raise<ConfigError>(recurrent::detail::where(cls, name, "fromConfig"),
                           "layer: expected {\"class_name\", \"config\": {...}}, got a " +
                               std::string(inner->type_name()));
      if (!inner->contains("config")) (*inner)["config"] = json::object();
    }
    if (const json* n = find(cfg, "name"); n != nullptr && n->is_string()) name = *n;
    if (name.empty())
      if (const json* n = find(entry, "name"); n != nullptr && n->is_string()) name = *n;
    const std::string who = recurrent::detail::where(cls, name, "fromConfig");
    declared = declaredInputShape(cfg, who);
    if (!st.options.initialize) stripTrainingKeys(cfg);
    if (st.keras3) replaceActivation(cfg, "hardSigmoid", "hardSigmoidKeras3");
    cfg["name"] = name;
    auto activation = [&](const json& c) {
      return getActivation(c, who, "activation", nullptr, ActivationKind::Linear,
                           ActivationKind::Linear);
    };
    if (cls == "InputLayer") return nullptr;
    if (cls == "Dropout" || cls == "SpatialDropout1D" || cls == "GaussianNoise" ||
        cls == "GaussianDropout" || cls == "AlphaDropout") {
      const double rate = getNumber(cfg, who, "rate", nullptr, 0.0);
      const double stddev = getNumber(cfg, who, "stddev", nullptr, 0.0);
      if (!(rate >= 0 && rate <= 1) || !(stddev >= 0))
        raise<ConfigError>(who, "rate must be in [0, 1] and stddev >= 0, got rate " +
                                    std::to_string(rate) + ", stddev " + std::to_string(stddev));
      const json* seed = find(cfg, "seed");
      return std::make_unique<NoiseLayer<Scalar>>(cls, name, rate, stddev,
                                                  seed != nullptr && seed->is_number_integer()
                                                      ? seed->get<std::uint64_t>()
                                                      : RandomEngine::nextDefaultSeed());
    }
    if (cls == "Concatenate" || cls == "Add" || cls == "Subtract" || cls == "Multiply" ||
        cls == "Average" || cls == "Maximum" || cls == "Minimum") {
      const json* axis = find(cfg, "axis");
      return std::make_unique<MergeLayer<Scalar>>(
          cls, name, axis != nullptr && axis->is_number_integer() ? axis->get<Index>() : -1);
    }
    if (cls == "Activation")
      return std::make_unique<ActivationLayer<Scalar>>(cls, name, activation(cfg));
    // Initializers of the weights a built model draws (TF.js's defaults).
    auto initialized = [&](auto layer, const json& c, const char* key, const char* slot,
                           Initializer dflt) {
      layer->setInitializer(slot, getInitializer(c, who, key, nullptr, dflt));
      return layer;
    };
    auto dense = [&](const json& c) {
      auto d = std::make_unique<DenseLayer<Scalar>>(cls, name, denseUnits(c, who), activation(c),
                                                    getBool(c, who, "useBias", nullptr, true), "");
      initialized(d.get(), c, "kernelInitializer", "kernel", Initializer::glorotUniform());
      initialized(d.get(), c, "biasInitializer", "bias", Initializer::zeros());
      return d;
    };
    if (cls == "Dense") return dense(cfg);
    if (cls == "TimeDistributed") {
      const json* inner = find(cfg, "layer");
      if (inner == nullptr || !inner->is_object())
        raise<ConfigError>(who, "layer: the wrapped layer config is missing");
      const std::string innerCls = classOf(*inner, "loadLayersModel");
      if (innerCls != "Dense")
        raise<ConfigError>(who, "TimeDistributed(" + innerCls +
                                    ") is not supported (only TimeDistributed(Dense))");
      return dense(configOf(*inner));
    }
    if (cls == "Embedding") {
      const Index inputDim = positive(cfg, who, "inputDim");
      const Index outputDim = positive(cfg, who, "outputDim");
      auto e = std::make_unique<EmbeddingLayer<Scalar>>(
          name, inputDim, outputDim, getBool(cfg, who, "maskZero", nullptr, false));
      Initializer uniform(InitializerKind::RandomUniform);
      initialized(e.get(), cfg, "embeddingsInitializer", "embeddings", uniform);
      return e;
    }
    if (cls == "Masking")
      return std::make_unique<MaskingLayer<Scalar>>(name,
                                                    getNumber(cfg, who, "maskValue", nullptr, 0.0));
    if (cls == "Flatten") {
      if (const json* df = find(cfg, "dataFormat");
          df != nullptr && df->is_string() && df->get<std::string>() != "channelsLast")
        raise<ConfigError>(who, "dataFormat " + df->dump() + " is not supported (channelsLast)");
      return std::make_unique<ReshapeLayer<Scalar>>(cls, name, Shape{});
    }
    if (cls == "Reshape") {
      const json* t = find(cfg, "targetShape");
      if (t == nullptr) raise<ConfigError>(who, "targetShape is missing");
      return std::make_unique<ReshapeLayer<Scalar>>(cls, name,
                                                    shapeFromJson(*t, who, "targetShape"));
    }
    if (cls == "SimpleRNN" || cls == "GRU" || cls == "LSTM" || cls == "RNN" ||
        cls == "Bidirectional" || cls == "CuDNNLSTM" || cls == "CuDNNGRU") {
      const json original{{"className", cls}, {"config", cfg}};
      if (cls == "Bidirectional") checkBackwardLayer(cfg, who);
      json spec = mapCuDNN(original);
      // `inputDim` would build at construction, before the weights are checked.
      spec["config"].erase("inputDim");
      if (spec["config"].contains("layer") && spec["config"]["layer"].is_object() &&
          spec["config"]["layer"].contains("config"))
        spec["config"]["layer"]["config"].erase("inputDim");
      setThreads(spec, st.options.threads);
      return std::make_unique<RecurrentLayer<Scalar>>(
          cls, name, spec, [original](Index inDim) { return recurrentSlots(original, inDim); });
    }
    raise<ConfigError>(who, "unknown layer class " + cls +
                                " (this loader knows InputLayer, Masking, Embedding, SimpleRNN, "
                                "GRU, LSTM, RNN, Bidirectional, CuDNNLSTM, CuDNNGRU, Dense, "
                                "TimeDistributed(Dense), Activation, Dropout, SpatialDropout1D, "
                                "GaussianNoise, GaussianDropout, AlphaDropout, Flatten, Reshape, "
                                "Concatenate, Add, Subtract, Multiply, Average, Maximum, "
                                "Minimum)");
  }

  static Index positive(const json& cfg, const std::string& who, const char* key) {
    const json* v = find(cfg, key);
    if (v == nullptr || !v->is_number_integer() || v->get<std::int64_t>() <= 0 ||
        v->get<std::int64_t>() > (std::int64_t{1} << 31))
      raise<ConfigError>(who, std::string(key) + ": expected a positive integer, got " +
                                  (v == nullptr ? "nothing" : v->dump()));
    return v->get<Index>();
  }
  static Index denseUnits(const json& cfg, const std::string& who) {
    return positive(cfg, who, "units");
  }

  /// Keras 3 always writes `backward_layer`; it must be the forward layer going backwards.
  static void checkBackwardLayer(const json& cfg, const std::string& who) {
    const json* b = find(cfg, "backwardLayer");
    const json* f = find(cfg, "layer");
    if (b == nullptr || b->is_null() || f == nullptr) return;
    json bc = configOf(*b), fc = configOf(*f);
    if (!bc.is_object() || !fc.is_object())
      raise<ConfigError>(who, "backward_layer: expected {\"class_name\", \"config\": {...}}");
    for (json* c : {&bc, &fc}) {
      c->erase("name");
      c->erase("goBackwards");
    }
    if (classOf(*b, "loadLayersModel") != classOf(*f, "loadLayersModel") || bc != fc)
      raise<ConfigError>(who,
                         "a backward_layer that differs from the forward layer (other than "
                         "its name and go_backwards) is not supported");
  }

  static void setThreads(json& spec, int threads) {
    json& cfg = spec["config"];
    cfg["threads"] = threads;
    if (cfg.contains("layer") && cfg["layer"].is_object() && cfg["layer"].contains("config"))
      cfg["layer"]["config"]["threads"] = threads;
  }
};

}  // namespace detail
}  // namespace recurrent::io

#endif  // RECURRENT_IO_DETAIL_MODEL_CONFIG_HPP
