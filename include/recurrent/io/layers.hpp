/** @file
 * Building models in C++ as TF.js does (optional part, target `recurrent::json`): layer configs
 * written like `tf.layers.*` arguments, `sequential` (`tf.sequential`) and `Graph`
 * (`tf.input` / `layer.apply` / `tf.model`). The result is the same `LayersModel` that
 * `loadLayersModel` returns: it predicts, trains, summarises and saves alike.
 *
 *     namespace L = recurrent::io::layers;
 *     auto model = recurrent::io::sequential<float>({
 *         L::lstm({{"units", 64}, {"inputShape", {100, 32}}}),
 *         L::dense({{"units", 10}, {"activation", "softmax"}})});
 *     model.add(L::dropout({{"rate", 0.2}}));   // shapes are inferred and checked at each add
 *
 *     recurrent::io::Graph g;                   // functional: two inputs, one output
 *     auto a = g.input({10, 3}), b = g.input({10, 5});
 *     auto h = g.apply(L::concatenate(), {a, b});
 *     auto y = g.apply(L::dense({{"units", 1}}), g.apply(L::gru({{"units", 8}}), h));
 *     auto model2 = g.model<float>({a, b}, {y});
 *
 * Configs take TF.js's camelCase argument names (snake_case works too) and are checked by the
 * same code that reads model files: a bad argument is a ConfigError naming the layer, a shape
 * that does not fit a ShapeError. Weights are drawn from each layer's initializers (TF.js's
 * defaults, or `kernelInitializer` ... in the config; unseeded ones from the library's default
 * seed sequence, so a program builds the same weights every run). Unnamed layers get Keras-style
 * names unique in the model (`lstm`, `lstm_1`, `dense`, ...), which name their weights.
 */
#ifndef RECURRENT_IO_LAYERS_HPP
#define RECURRENT_IO_LAYERS_HPP

#include <recurrent/io/tfjs.hpp>

#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::io {

/// A layer as `tf.layers.<factory>(config)` describes it: its TF.js class and config.
struct LayerSpec {
  std::string className;
  nlohmann::json config = nlohmann::json::object();
};
/// `{"className", "config"}`: a LayerSpec inside another config (Bidirectional's `layer`,
/// TimeDistributed's `layer`, RNN's `cell`).
inline void to_json(nlohmann::json& j, const LayerSpec& s) {
  j = nlohmann::json{{"className", s.className}, {"config", s.config}};
}

/// The `tf.layers` factories: each takes the TF.js config object.
namespace layers {
#define RECURRENT_IO_LAYER_FACTORY(function, cls)                                \
  inline LayerSpec function(nlohmann::json config = nlohmann::json::object()) {  \
    return LayerSpec{cls, config.is_null() ? nlohmann::json::object() : config}; \
  }
RECURRENT_IO_LAYER_FACTORY(simpleRNN, "SimpleRNN")
RECURRENT_IO_LAYER_FACTORY(gru, "GRU")
RECURRENT_IO_LAYER_FACTORY(lstm, "LSTM")
RECURRENT_IO_LAYER_FACTORY(rnn, "RNN")
RECURRENT_IO_LAYER_FACTORY(bidirectional, "Bidirectional")
RECURRENT_IO_LAYER_FACTORY(simpleRNNCell, "SimpleRNNCell")
RECURRENT_IO_LAYER_FACTORY(gruCell, "GRUCell")
RECURRENT_IO_LAYER_FACTORY(lstmCell, "LSTMCell")
RECURRENT_IO_LAYER_FACTORY(stackedRNNCells, "StackedRNNCells")
RECURRENT_IO_LAYER_FACTORY(dense, "Dense")
RECURRENT_IO_LAYER_FACTORY(timeDistributed, "TimeDistributed")
RECURRENT_IO_LAYER_FACTORY(embedding, "Embedding")
RECURRENT_IO_LAYER_FACTORY(masking, "Masking")
RECURRENT_IO_LAYER_FACTORY(dropout, "Dropout")
RECURRENT_IO_LAYER_FACTORY(spatialDropout1d, "SpatialDropout1D")
RECURRENT_IO_LAYER_FACTORY(gaussianNoise, "GaussianNoise")
RECURRENT_IO_LAYER_FACTORY(gaussianDropout, "GaussianDropout")
RECURRENT_IO_LAYER_FACTORY(activation, "Activation")
RECURRENT_IO_LAYER_FACTORY(flatten, "Flatten")
RECURRENT_IO_LAYER_FACTORY(reshape, "Reshape")
RECURRENT_IO_LAYER_FACTORY(concatenate, "Concatenate")
RECURRENT_IO_LAYER_FACTORY(add, "Add")
RECURRENT_IO_LAYER_FACTORY(subtract, "Subtract")
RECURRENT_IO_LAYER_FACTORY(multiply, "Multiply")
RECURRENT_IO_LAYER_FACTORY(average, "Average")
RECURRENT_IO_LAYER_FACTORY(maximum, "Maximum")
RECURRENT_IO_LAYER_FACTORY(minimum, "Minimum")
#undef RECURRENT_IO_LAYER_FACTORY
}  // namespace layers

namespace detail {

/// Keras's default layer name stem: `SimpleRNN` -> `simple_rnn`, `LSTM` -> `lstm`.
inline std::string snakeCase(const std::string& cls) {
  std::string out;
  for (std::size_t i = 0; i < cls.size(); ++i) {
    const auto c = static_cast<unsigned char>(cls[i]);
    const bool upper = std::isupper(c) != 0;
    const bool prevLower = i > 0 && std::islower(static_cast<unsigned char>(cls[i - 1])) != 0;
    const bool nextLower =
        i + 1 < cls.size() && std::islower(static_cast<unsigned char>(cls[i + 1])) != 0;
    const bool prevUpper = i > 0 && std::isupper(static_cast<unsigned char>(cls[i - 1])) != 0;
    if (upper && i > 0 && (prevLower || (prevUpper && nextLower))) out += '_';
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

/// Gives `spec` a name unique among `taken` when it has none; returns the name.
inline std::string nameLayer(nlohmann::json& config, const std::string& cls,
                             std::map<std::string, int>& taken) {
  const nlohmann::json* n = find(config, "name");
  if (n != nullptr && n->is_string()) {
    ++taken[n->get<std::string>()];
    return n->get<std::string>();
  }
  const std::string stem = snakeCase(cls);
  std::string name = stem;
  for (int k = 1; taken.count(name) != 0; ++k) name = stem + "_" + std::to_string(k);
  ++taken[name];
  config["name"] = name;
  return name;
}

inline nlohmann::json topologyOf(nlohmann::json modelConfig) {
  return nlohmann::json{{"class_name", modelConfig.at("class_name")},
                        {"config", modelConfig.at("config")},
                        {"keras_version", "tfjs-layers 4.22.0"},
                        {"backend", "tensor_flow.js"}};
}

/// What the model builders need of a `LayersModel` that its public interface does not give.
struct ModelAccess {
  template <class Scalar>
  static LayersModel<Scalar> emptySequential(const std::string& name, const LoadOptions& options) {
    LayersModel<Scalar> model;
    model.name_ = name;
    model.topology_ =
        topologyOf({{"class_name", "Sequential"},
                    {"config", {{"name", name}, {"layers", nlohmann::json::array()}}}});
    model.buildOptions_ = options;
    return model;
  }
};

template <class Scalar>
LayersModel<Scalar> buildFromTopology(const nlohmann::json& topology, const LoadOptions& options) {
  LoadOptions o = options;
  o.initialize = true;
  return loadLayersModel<Scalar>(
      nlohmann::json{{"modelTopology", topology}},
      [](const std::string& path) -> std::string {
        raise<IOError>("sequential", "no weight file to read (" + path + ")");
      },
      o);
}

}  // namespace detail

/// TF.js `tf.sequential({layers, name})`: the first layer must declare `inputShape` or
/// `batchInputShape`. @throws ConfigError / ShapeError as `LayersModel::add`.
template <class Scalar = float>
LayersModel<Scalar> sequential(const std::vector<LayerSpec>& layers = {},
                               const std::string& name = "sequential",
                               const LoadOptions& options = {}) {
  LayersModel<Scalar> model = detail::ModelAccess::emptySequential<Scalar>(name, options);
  for (const LayerSpec& l : layers) model.add(l);
  return model;
}

template <class Scalar>
void LayersModel<Scalar>::add(const LayerSpec& layer) {
  const std::string who = recurrent::detail::where("Sequential", name_, "add");
  const nlohmann::json* cls = detail::find(topology_, "class_name", "className");
  if (functional_ || cls == nullptr || *cls != "Sequential")
    recurrent::detail::raise<ConfigError>(who, "add works on Sequential models only");
  nlohmann::json topology = topology_;
  nlohmann::json& list = topology["config"]["layers"];
  std::map<std::string, int> taken;
  for (auto& l : list) detail::nameLayer(l["config"], "", taken);
  nlohmann::json config = layer.config;
  detail::nameLayer(config, layer.className, taken);
  if (list.empty() && !detail::declaredInputShape(detail::pythonicToTs(config), who))
    recurrent::detail::raise<ConfigError>(
        who,
        "The first layer in a Sequential model must get an `inputShape` or "
        "`batchInputShape` argument.");
  list.push_back({{"class_name", layer.className}, {"config", config}});
  // Rebuild with the new layer; the layers already there keep their weights.
  const auto kept = list.size() > 1 ? getWeights() : std::vector<detail::NamedWeight<Scalar>>{};
  LayersModel<Scalar> next = detail::buildFromTopology<Scalar>(topology, buildOptions_);
  auto weights = next.getWeights();
  std::vector<Tensor> values;
  for (auto& w : weights) {
    for (const auto& k : kept)
      if (k.name == w.name) w.value = k.value;
    values.push_back(std::move(w.value));
  }
  next.setWeights(values);
  next.buildOptions_ = buildOptions_;
  *this = std::move(next);
}

/// A tensor of a graph under construction (TF.js `SymbolicTensor`): output `tensor` of the
/// `node`-th application of layer `layer`.
struct SymbolicTensor {
  std::string layer;
  int node = 0;
  int tensor = 0;
};

/// Functional models from code: `input`, `apply`, then `model` (TF.js `tf.input`,
/// `layer.apply`, `tf.model`).
class Graph {
 public:
  /// TF.js `tf.input({shape, name})`: `shape` without the batch axis (-1 = any size).
  SymbolicTensor input(const std::vector<Index>& shape, std::string name = {}) {
    nlohmann::json batchShape = nlohmann::json::array({nullptr});
    for (Index d : shape) batchShape.push_back(d < 0 ? nlohmann::json(nullptr) : nlohmann::json(d));
    nlohmann::json config{{"batchInputShape", batchShape}, {"dtype", "float32"}, {"sparse", false}};
    if (!name.empty()) config["name"] = name;
    const std::string n = detail::nameLayer(config, "input", taken_);
    layers_.push_back({{"class_name", "InputLayer"},
                       {"config", config},
                       {"name", n},
                       {"inbound_nodes", nlohmann::json::array()}});
    return {n, 0, 0};
  }
  /// TF.js `layer.apply(inputs)`: a new layer (extra inputs of a recurrent layer are its
  /// initial states). Returns output `k` of the call for each of `outputs` (default: 1).
  std::vector<SymbolicTensor> applyMany(const LayerSpec& layer,
                                        const std::vector<SymbolicTensor>& inputs, int outputs) {
    nlohmann::json config = layer.config;
    const std::string n = detail::nameLayer(config, layer.className, taken_);
    nlohmann::json node = nlohmann::json::array();
    for (const SymbolicTensor& t : inputs)
      node.push_back(nlohmann::json::array({t.layer, t.node, t.tensor, nlohmann::json::object()}));
    layers_.push_back({{"class_name", layer.className},
                       {"config", config},
                       {"name", n},
                       {"inbound_nodes", nlohmann::json::array({node})}});
    std::vector<SymbolicTensor> out;
    for (int k = 0; k < outputs; ++k) out.push_back({n, 0, k});
    return out;
  }
  SymbolicTensor apply(const LayerSpec& layer, const std::vector<SymbolicTensor>& inputs) {
    return applyMany(layer, inputs, 1)[0];
  }
  SymbolicTensor apply(const LayerSpec& layer, const SymbolicTensor& input) {
    return apply(layer, std::vector<SymbolicTensor>{input});
  }
  /// TF.js `tf.model({inputs, outputs, name})`.
  template <class Scalar = float>
  LayersModel<Scalar> model(const std::vector<SymbolicTensor>& inputs,
                            const std::vector<SymbolicTensor>& outputs,
                            const std::string& name = "model",
                            const LoadOptions& options = {}) const {
    auto refs = [](const std::vector<SymbolicTensor>& ts) {
      nlohmann::json r = nlohmann::json::array();
      for (const auto& t : ts) r.push_back(nlohmann::json::array({t.layer, t.node, t.tensor}));
      return r;
    };
    return detail::buildFromTopology<Scalar>(
        detail::topologyOf({{"class_name", "Model"},
                            {"config",
                             {{"name", name},
                              {"layers", layers_},
                              {"input_layers", refs(inputs)},
                              {"output_layers", refs(outputs)}}}}),
        options);
  }

 private:
  nlohmann::json layers_ = nlohmann::json::array();
  std::map<std::string, int> taken_;
};

}  // namespace recurrent::io

/// The model code of one scalar type as explicit instantiations (here, at the end of the
/// header pair io/tfjs.hpp + io/layers.hpp, whichever is included first): declarations with
/// `prefix` = `extern`, definitions with an empty prefix (io/instantiate.hpp).
#define RECURRENT_IO_MODEL_TEMPLATES(prefix, Scalar)                                         \
  prefix template class recurrent::io::LayersModel<Scalar>;                                  \
  prefix template recurrent::io::LayersModel<Scalar> recurrent::io::loadLayersModel<Scalar>( \
      const std::string&, const recurrent::io::LoadOptions&);                                \
  prefix template recurrent::io::LayersModel<Scalar> recurrent::io::loadLayersModel<Scalar>( \
      const nlohmann::json&, const std::function<std::string(const std::string&)>&,          \
      const recurrent::io::LoadOptions&);                                                    \
  prefix template recurrent::io::LayersModel<Scalar> recurrent::io::sequential<Scalar>(      \
      const std::vector<recurrent::io::LayerSpec>&, const std::string&,                      \
      const recurrent::io::LoadOptions&);                                                    \
  prefix template recurrent::io::LayersModel<Scalar> recurrent::io::Graph::model<Scalar>(    \
      const std::vector<recurrent::io::SymbolicTensor>&,                                     \
      const std::vector<recurrent::io::SymbolicTensor>&, const std::string&,                 \
      const recurrent::io::LoadOptions&) const;                                              \
  prefix template recurrent::io::Callback recurrent::io::earlyStopping<Scalar>(              \
      recurrent::io::LayersModel<Scalar>&, recurrent::io::EarlyStoppingArgs);

// With RECURRENT_EXTERN_TEMPLATES, io/tfjs.hpp and this file only declare the float and double
// model code; one translation unit per type instantiates it (io/instantiate.hpp).
#ifdef RECURRENT_EXTERN_TEMPLATES
RECURRENT_IO_MODEL_TEMPLATES(extern, float)
RECURRENT_IO_MODEL_TEMPLATES(extern, double)
#endif

#endif  // RECURRENT_IO_LAYERS_HPP
