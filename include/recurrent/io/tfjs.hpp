/** @file
 * Loading TF.js layers models (`model.json` + binary weight shards) — what `tf.loadLayersModel`
 * does, into the library's own layers (optional part, target `recurrent::json`).
 *
 *     auto model = recurrent::io::loadLayersModel<float>("exported/model.json");
 *     std::vector<recurrent::FlatTensor<float>> y = model.predict({x});  // every model output
 *     std::cout << model.summary();
 *
 * What loads:
 * - files: `model.json` with `modelTopology` (TF.js, or the Keras converter's `model_config`
 *   wrapper) and `weightsManifest` (any number of groups and shards; float32/int32 weights and
 *   `quantization` uint8/uint16 (affine) and float16, dequantised as tfjs-core does);
 * - models: `Sequential` and functional (`Model`/`Functional`; several inputs and outputs, shared
 *   layers, initial states given as extra node inputs);
 * - layers: InputLayer, Masking, Embedding (`maskZero`), SimpleRNN, GRU (`resetAfter` too,
 *   which TF.js refuses), LSTM, RNN (one cell, a list of cells, StackedRNNCells), Bidirectional,
 *   Keras's CuDNNLSTM/CuDNNGRU (as LSTM / reset-after GRU with sigmoid gates), Dense,
 *   TimeDistributed(Dense), Activation, Dropout/SpatialDropout1D/GaussianNoise/GaussianDropout/
 *   AlphaDropout (identities), Flatten, Reshape;
 * - configs: TF.js camelCase and Keras snake_case keys (converted as TF.js's `convertPythonicToTs`
 *   does), Keras 2's `batch_input_shape` and Keras 3's `batch_shape`; `hard_sigmoid` is TF.js's
 *   clip(0.2x+0.5) unless the file says `keras_version` 3.x (then Keras 3's x/6+0.5).
 *
 * Semantics are TF.js's `model.predict`: masks flow exactly as TF.js's executor passes them (a
 * layer that supports masking hands its input mask on; Flatten/Reshape drop it; an RNN keeps it
 * only with `returnSequences`) and in TF.js's evaluation order, on which its sticky call mask
 * depends; stateful layers keep their states across `predict` calls until `resetStates()` (and,
 * unlike TF.js, advance once per call even when several outputs come from them).
 *
 * Weights are matched to layers by name as TF.js's `loadWeights` does (exact name, else the name
 * without the cell scope Keras ≥ 2.2 adds, e.g. `lstm/lstm_cell/kernel`; Keras-3 style
 * `layer/0, layer/1, ...`); every layer weight must be provided and every provided weight used.
 * Their shapes are checked against the layer configs before anything is allocated.
 *
 * Errors (all derive from `recurrent::Error`, each message names the layer):
 * `IOError` (a file cannot be read), `FormatError` (malformed JSON, a shard shorter or longer
 * than its manifest), `ConfigError` (unknown layer class, unsupported option, bad graph),
 * `WeightError` (a weight missing, left over or of the wrong shape — with the likely reason, e.g.
 * a `[2, 3·units]` GRU bias means `reset_after: true`), `ShapeError`/`ValueError` (bad inputs to
 * `predict`).
 */
#ifndef RECURRENT_IO_TFJS_HPP
#define RECURRENT_IO_TFJS_HPP

#include <recurrent/io/detail/artifacts.hpp>
#include <recurrent/io/detail/model_layers.hpp>
#include <recurrent/io/layer_config.hpp>
#include <recurrent/io/training.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::io {

namespace detail {
template <class Scalar>
class ModelBuilder;
template <class Scalar>
struct Compiled;
struct ModelAccess;
}  // namespace detail
struct LayerSpec;

/// Options of `loadLayersModel`.
struct LoadOptions {
  /// TF.js `strict`: every provided weight must be used. `false` ignores weights no layer
  /// takes. (Every weight a layer needs must be provided either way: unlike TF.js, no layer
  /// runs on its random initial weights.)
  bool strict = true;
  /// `RNNLayerOptions::threads` of every recurrent layer (extension; 1 = the calling thread).
  int threads = 1;
  /// Draw every weight from the layers' initializers instead of reading a manifest (a model
  /// built in code: `sequential`, `Graph::model`).
  bool initialize = false;
};

/// One layer of a loaded model, as `summary()` lists it.
struct LayerInfo {
  std::string name;
  std::string className;
  std::vector<std::vector<Index>> outputShapes;  ///< -1 = unknown (None)
  Index params = 0;
  std::vector<std::string> inbound;  ///< "layer[node][tensor]" of each input (functional models)
};

/// A loaded TF.js layers model. Movable, not copyable; not thread-safe (one model per thread).
template <class Scalar>
class LayersModel {
 public:
  using Tensor = FlatTensor<Scalar>;

  /// TF.js `model.predict(inputs)`: one tensor per model input, in `inputNames()` order; returns
  /// every model output, in `outputNames()` order.
  /// @throws ValueError for the wrong number of inputs, ShapeError for a shape that does not fit
  /// the input layer's `batchInputShape`, StateError for a stateful batch change.
  std::vector<Tensor> predict(const std::vector<Tensor>& inputs);
  std::vector<Tensor> predict(const Tensor& input) { return predict(std::vector<Tensor>{input}); }

  /// TF.js `model.resetStates()`: zeroes the states of every stateful layer.
  void resetStates();

  const std::string& name() const { return name_; }
  /// TF.js `model.inputNames` / `model.outputNames` (output names repeat when one layer gives
  /// several outputs, e.g. an LSTM with `returnState`).
  const std::vector<std::string>& inputNames() const { return inputNames_; }
  const std::vector<std::string>& outputNames() const { return outputNames_; }
  /// Input shapes with the batch axis; -1 where any size is accepted.
  const std::vector<std::vector<Index>>& inputShapes() const { return inputShapes_; }
  const std::vector<std::vector<Index>>& outputShapes() const { return outputShapes_; }
  const std::vector<LayerInfo>& layers() const { return info_; }
  Index countParams() const;
  bool stateful() const;
  /// A table like Keras's `model.summary()`: layer (type), output shape, parameters (and the
  /// inbound layers of a functional model), then the totals.
  std::string summary() const;

  /// The recurrent layer named `name` (to stream it with `step`, change threads, ...), or null.
  AnyLayer<Scalar>* recurrentLayer(const std::string& name);

  // --- training (io/training.hpp) --------------------------------------------------------------
  /// TF.js `model.compile`: the optimizer, a loss per output (one name = every output) and
  /// metrics. Compiling again replaces the optimizer (and its state).
  /// @throws ValueError for an unknown loss, metric or optimizer name, or a loss count that is
  /// neither 1 nor the number of outputs; ConfigError for a layer that cannot be trained.
  void compile(const CompileArgs<Scalar>& args);
  /// TF.js `model.fit(x, y, args)`: one tensor per input / output, `[samples, ...]`. Returns the
  /// epochs' logs. @throws StateError before `compile`; ShapeError / ValueError for data that
  /// does not fit the model or its losses (checked before any update); TrainingError when a batch
  /// loss is not finite (the weights are those before that batch).
  History fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
              const FitArgs<Scalar>& args = {});
  /// TF.js `model.trainOnBatch(x, y)`: one update on the whole of x; returns the loss and the
  /// metrics (`metricsNames()` order) computed before the update.
  std::vector<double> trainOnBatch(const std::vector<Tensor>& x, const std::vector<Tensor>& y);
  /// TF.js `model.evaluate(x, y, {batchSize})`: the loss and metrics in inference mode,
  /// `metricsNames()` order for one output. With several outputs TF.js 4.22's list: for each
  /// output the running sum of the output losses, then each output's loss, then the metrics
  /// (its test function's order, which `fit` labels `val_...` in `metricsNames()` order).
  std::vector<double> evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                               const EvaluateArgs& args = {});
  /// TF.js `model.metricsNames` (after `compile`): `loss`, `<output>_loss` with several outputs,
  /// then the metrics.
  std::vector<std::string> metricsNames() const;
  /// TF.js `model.stopTraining = true`: `fit` ends after the current batch (callable from a
  /// callback or another thread).
  void stopTraining() { stop_->store(true); }
  /// TF.js `model.getWeights()` / `setWeights`: every weight, layer by layer, named
  /// `<layer>/<weight>` as in a saved model's manifest.
  std::vector<detail::NamedWeight<Scalar>> getWeights();
  void setWeights(const std::vector<Tensor>& values);
  /// Writes `model.json` and `weights.bin` into `directory` (created if missing) in TF.js's
  /// `file://` layout, so that `tf.loadLayersModel` loads it. Each file is written to a temporary
  /// name and renamed: an unwritable directory raises IOError and leaves nothing half-written.
  void save(const std::string& directory);
  /// TF.js `Sequential.add` (models from `sequential`, or loaded Sequential models): appends a
  /// layer (io/layers.hpp), infers and checks its shapes and draws its weights; the layers
  /// already there keep theirs. The model must be compiled again before training.
  /// @throws ConfigError (a functional model, a bad config, no input shape on the first layer),
  /// ShapeError (the layer does not fit the previous output).
  void add(const LayerSpec& layer);

 private:
  friend struct detail::ModelAccess;
  template <class S>
  friend class detail::ModelBuilder;
  template <class S>
  friend struct detail::Compiled;

  struct TensorRef {
    std::size_t node = 0;
    std::size_t tensor = 0;
  };
  struct Node {
    std::size_t layer = 0;  ///< index into layers_; InputLayers have no layer
    bool isInput = false;
    std::size_t input = 0;  ///< which model input, for an InputLayer node
    std::vector<TensorRef> inputs;
    std::vector<std::vector<Index>> inputShapes, outputShapes;
  };
  /// One entry of TF.js's executor loop: a node output the walk reaches. A node is computed at
  /// its first entry; its later entries (one per further output TF.js reaches) only renew the
  /// call mask, as TF.js's re-application of the layer does.
  struct Step {
    std::size_t node = 0;
    bool compute = false;
  };

  std::string name_;
  std::vector<std::unique_ptr<detail::ModelLayer<Scalar>>> layers_;
  std::vector<Node> nodes_;     ///< each after its inputs
  std::vector<Step> schedule_;  ///< TF.js's evaluation order (see `executionOrder`)
  std::vector<TensorRef> inputs_, outputs_;
  std::vector<std::string> inputNames_, outputNames_;
  std::vector<std::vector<Index>> inputShapes_, outputShapes_;
  std::vector<LayerInfo> info_;
  bool functional_ = false;
  nlohmann::json topology_;  ///< the `modelTopology` that `save` writes
  LoadOptions buildOptions_;  ///< what `add` builds with
  std::vector<std::string> weightOrder_;  ///< `<layer>/<weight>` keys in manifest order
  std::shared_ptr<detail::Compiled<Scalar>> compiled_;
  std::unique_ptr<std::atomic<bool>> stop_ = std::make_unique<std::atomic<bool>>(false);

  /// Values and masks of one run of the graph (node outputs; model inputs are the caller's).
  struct Run {
    const std::vector<Tensor>* inputs = nullptr;
    std::vector<std::vector<Tensor>> values;
    std::vector<std::optional<Tensor>> masks;
    const Tensor& value(const std::vector<Node>& nodes, const TensorRef& r) const {
      const Node& src = nodes[r.node];
      return src.isInput ? (*inputs)[src.input] : values[r.node][r.tensor];
    }
  };
  /// Input count and shapes; `batchAxis` false skips a fixed batch size (fit and evaluate
  /// batch the data themselves, as TF.js's `checkInputData(..., checkBatchAxis = false)`).
  void checkInputs(const std::string& who, const std::vector<Tensor>& inputs,
                   bool batchAxis = true) const;
  /// Runs the graph in TF.js's executor order.
  void execute(const std::vector<Tensor>& inputs, const detail::ForwardMode& mode, Run& run);
  /// Backpropagation through the recorded `run`: `dOutputs` = ∂L/∂(each model output).
  void backward(Run& run, std::vector<Tensor>& dOutputs);
  std::vector<Tensor> outputsOf(Run& run) const;
};

/// Loads `model.json` and the shards it names (paths relative to its directory).
/// @throws IOError, FormatError, ConfigError, WeightError (see the file comment).
template <class Scalar = float>
LayersModel<Scalar> loadLayersModel(const std::string& modelJsonPath,
                                    const LoadOptions& options = {});

/// Same, from memory: `modelJson` is the parsed `model.json`; `readShard(path)` returns the bytes
/// of a shard named in its `weightsManifest`.
template <class Scalar = float>
LayersModel<Scalar> loadLayersModel(const nlohmann::json& modelJson,
                                    const std::function<std::string(const std::string&)>& readShard,
                                    const LoadOptions& options = {});

// ---------------------------------------------------------------------------------------------
// implementation
// ---------------------------------------------------------------------------------------------

namespace detail {

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

/// What a weight of shape `got` instead of `slot.shape` most likely means.
inline std::string likelyReason(const WeightSlot& slot, const Shape& got) {
  const Shape& e = slot.shape;
  const bool isBias =
      slot.name.size() >= 4 && slot.name.compare(slot.name.size() - 4, 4, "bias") == 0;
  const bool isRecurrent = slot.name.find("recurrent_kernel") != std::string::npos;
  if (isBias && e.size() == 1 && got.size() == 2 && got[0] == 2 && got[1] == e[0])
    return "a [2, 3·units] bias is the reset_after: true layout (Keras 2 / cuDNN / PyTorch GRU), "
           "but the layer config says reset_after: false";
  if (isBias && e.size() == 2 && got.size() == 1 && got[0] == e[1])
    return "a [3·units] bias is the reset_after: false layout (TF.js GRU), but the layer config "
           "says reset_after: true";
  if (isBias && e.size() == 1 && got.size() == 1 && got[0] == 2 * e[0])
    return "a bias twice as long is a cuDNN layout (separate input and recurrent biases: "
           "CuDNNLSTM / CuDNNGRU)";
  if (e.size() == 2 && got.size() == 2 && !isBias) {
    if (!isRecurrent && got[1] == e[1] && got[0] != e[0])
      return "the kernel's rows are the input features: this layer receives " +
             std::to_string(e[0]) + " features but the weights are for " + std::to_string(got[0]) +
             " (wrong input shape, or layers in a different order?)";
    if (got[1] != e[1] && got[0] > 0 && (isRecurrent ? got[1] % got[0] == 0 : true)) {
      const Index units = isRecurrent ? got[0] : 0;
      if (units > 0 && got[1] / units != e[1] / std::max<Index>(e[0], 1))
        return "a recurrent kernel with " + std::to_string(got[1] / units) +
               "·units columns belongs to a " + layerOfGates(got[1] / units) + ", not a " +
               layerOfGates(e[1] / std::max<Index>(e[0], 1));
    }
  }
  return slot.hint;
}

inline std::string dirname(const std::string& s) {
  const auto p = s.rfind('/');
  return p == std::string::npos ? std::string() : s.substr(0, p);
}

/// Assembles a model from parsed artifacts.
template <class Scalar>
class ModelBuilder {
 public:
  using Model = LayersModel<Scalar>;
  using Tensor = FlatTensor<Scalar>;

  ModelBuilder(const json& modelJson, const std::function<std::string(const std::string&)>& read,
               const LoadOptions& options)
      : root_(modelJson), read_(read), options_(options) {}

  Model build() {
    if (!root_.is_object()) raise<FormatError>(kLoad(), "model.json: expected a JSON object");
    checkDepth(root_, kLoad());
    const json* topo = find(root_, "modelTopology");
    if (topo == nullptr || !topo->is_object())
      raise<FormatError>(kLoad(),
                         "model.json has no modelTopology object (is it a graph "
                         "model? only layers models load)");
    if (const json* f = find(root_, "format");
        f != nullptr && f->is_string() && f->get<std::string>() == "graph-model")
      raise<ConfigError>(kLoad(),
                         "format 'graph-model' is a TF.js graph model; only layers "
                         "models load");
    model_.topology_ = *topo;
    const json* kv = find(*topo, "keras_version");
    keras3_ = kv != nullptr && kv->is_string() && kv->get<std::string>().rfind("3", 0) == 0;
    const json* config = find(*topo, "model_config");
    const json& modelConfig = config != nullptr ? *config : *topo;
    const std::string cls = classOf(modelConfig, "loadLayersModel");
    const json& mc = configOf(modelConfig);
    if (const json* n = find(mc, "name"); n != nullptr && n->is_string()) model_.name_ = *n;
    if (cls == "Sequential") {
      const json* layers = mc.is_array() ? &mc : find(mc, "layers");
      if (layers == nullptr || !layers->is_array() || layers->empty())
        raise<ConfigError>(kLoad(), "Sequential model without layers");
      sequential(*layers);
    } else if (cls == "Model" || cls == "Functional") {
      model_.functional_ = true;
      functional(mc);
    } else {
      raise<ConfigError>(
          kLoad(), "unknown model class " + cls + " (expected Sequential, Model or Functional)");
    }
    inferShapes();
    loadWeights();
    summarise();
    model_.schedule_ = executionOrder(model_.nodes_, model_.outputs_);
    return std::move(model_);
  }

 private:
  using Node = typename Model::Node;
  using TensorRef = typename Model::TensorRef;

  /// One layer config -> its ModelLayer (InputLayer -> nullptr; its shape is recorded).
  std::unique_ptr<ModelLayer<Scalar>> makeLayer(const json& entry, std::string& name,
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
    if (!options_.initialize) stripTrainingKeys(cfg);
    if (keras3_) replaceActivation(cfg, "hardSigmoid", "hardSigmoidKeras3");
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
      return std::make_unique<NoiseLayer<Scalar>>(
          cls, name, rate, stddev,
          seed != nullptr && seed->is_number_integer() ? seed->get<std::uint64_t>()
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
      setThreads(spec);
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

  void setThreads(json& spec) const {
    json& cfg = spec["config"];
    cfg["threads"] = options_.threads;
    if (cfg.contains("layer") && cfg["layer"].is_object() && cfg["layer"].contains("config"))
      cfg["layer"]["config"]["threads"] = options_.threads;
  }

  std::size_t addLayer(std::unique_ptr<ModelLayer<Scalar>> layer, const std::string& name) {
    if (byName_.count(name) != 0)
      raise<ConfigError>(kLoad(), "two layers are named '" + name + "'");
    byName_[name] = model_.layers_.size();
    model_.layers_.push_back(std::move(layer));
    nodesOf_.emplace_back();
    return model_.layers_.size() - 1;
  }

  std::size_t addInput(const std::string& name, const Shape& shape) {
    const std::size_t id = addLayer(nullptr, name);
    Node n;
    n.layer = id;
    n.isInput = true;
    n.input = model_.inputs_.size();
    n.outputShapes = {shape};
    nodes_.push_back(std::move(n));
    nodesOf_[id].push_back(nodes_.size() - 1);
    model_.inputs_.push_back({nodes_.size() - 1, 0});
    model_.inputNames_.push_back(name);
    model_.inputShapes_.push_back(shape);
    return id;
  }

  void sequential(const json& layers) {
    TensorRef prev{};
    bool haveInput = false;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      std::string name;
      std::optional<Shape> declared;
      auto layer = makeLayer(layers[i], name, declared);
      if (!haveInput) {
        if (!declared)
          raise<ConfigError>(kLoad(), "the first layer of a Sequential model ('" + name +
                                          "') declares no batchInputShape/inputShape");
        if (layer == nullptr) {  // an explicit InputLayer
          addInput(name, *declared);
          prev = model_.inputs_.back();
          haveInput = true;
          continue;
        }
        addInput(name + "_input", *declared);
        prev = model_.inputs_.back();
        haveInput = true;
      } else if (layer == nullptr) {
        raise<ConfigError>(kLoad(),
                           "InputLayer '" + name + "' in the middle of a Sequential model");
      }
      const std::size_t id = addLayer(std::move(layer), name);
      Node n;
      n.layer = id;
      n.inputs = {prev};
      nodes_.push_back(std::move(n));
      nodesOf_[id].push_back(nodes_.size() - 1);
      prev = {nodes_.size() - 1, 0};
    }
    model_.outputs_ = {prev};
    // Only an InputLayer: TF.js's Sequential outputs its input (an identity model, as a
    // functional model whose output is an input), named after the InputLayer.
    const Node& last = nodes_[prev.node];
    model_.outputNames_ = {last.isInput ? model_.inputNames_[last.input]
                                        : model_.layers_[last.layer]->name()};
  }

  /// `[name, node, tensor(, kwargs)]` (TF.js/Keras 2) or a Keras 3 `__keras_tensor__`.
  struct Ref {
    std::string layer;
    std::size_t node = 0, tensor = 0;
  };
  static Ref refFrom(const json& r, const std::string& who) {
    if (r.is_array() && r.size() >= 3 && r[0].is_string() && r[1].is_number_integer() &&
        r[2].is_number_integer() && r[1].get<std::int64_t>() >= 0 && r[2].get<std::int64_t>() >= 0)
      return {r[0].get<std::string>(), r[1].get<std::size_t>(), r[2].get<std::size_t>()};
    raise<ConfigError>(who, "bad tensor reference " + r.dump().substr(0, 200) +
                                " (expected [layer name, node index, tensor index])");
  }
  /// Keras 3 node arguments: every `keras_history` in `args` (nested lists included).
  static void kerasTensors(const json& j, std::vector<Ref>& out, const std::string& who) {
    if (j.is_array()) {
      for (const json& item : j) kerasTensors(item, out, who);
    } else if (j.is_object()) {
      const json* c = find(j, "config");
      if (c != nullptr && c->is_object() && c->contains("keras_history"))
        out.push_back(refFrom((*c)["keras_history"], who));
    }
  }
  static std::vector<Ref> nodeInputs(const json& node, const std::string& who) {
    std::vector<Ref> refs;
    if (node.is_object()) {  // Keras 3
      if (const json* a = find(node, "args"); a != nullptr) kerasTensors(*a, refs, who);
      if (const json* kw = find(node, "kwargs"); kw != nullptr && kw->is_object()) {
        const json* s = find(*kw, "initial_state", "initialState");
        if (s != nullptr) kerasTensors(*s, refs, who);
      }
    } else if (node.is_array()) {
      for (const json& r : node) refs.push_back(refFrom(r, who));
    } else {
      raise<ConfigError>(who, "bad inbound node " + node.dump().substr(0, 200));
    }
    if (refs.empty()) raise<ConfigError>(who, "an inbound node without inputs");
    return refs;
  }
  /// `input_layers`/`output_layers`: a list of references, or (Keras 3) one reference.
  static std::vector<Ref> refList(const json* j, const std::string& who, const char* what) {
    if (j == nullptr || !j->is_array() || j->empty())
      raise<ConfigError>(who, std::string(what) + " is missing or empty");
    std::vector<Ref> out;
    if ((*j)[0].is_string()) {
      out.push_back(refFrom(*j, who));
    } else {
      for (const json& r : *j) out.push_back(refFrom(r, who));
    }
    return out;
  }

  void functional(const json& mc) {
    const std::string who = kLoad();
    const json* layers = find(mc, "layers");
    if (layers == nullptr || !layers->is_array())
      raise<ConfigError>(who, "functional model without a layers array");
    // Pass 1: the layers and their (unresolved) nodes.
    struct Pending {
      std::size_t layer;
      std::vector<Ref> inputs;
    };
    std::vector<Pending> pending;
    std::map<std::string, Shape> inputDecl;
    for (const json& entry : *layers) {
      std::string name;
      std::optional<Shape> declared;
      auto layer = makeLayer(entry, name, declared);
      if (layer == nullptr) {
        if (!declared)
          raise<ConfigError>(who, "InputLayer '" + name + "' declares no batchInputShape");
        addLayer(nullptr, name);
        inputDecl[name] = *declared;
        continue;
      }
      const std::size_t id = addLayer(std::move(layer), name);
      const json* inbound = find(entry, "inbound_nodes", "inboundNodes");
      if (inbound == nullptr || !inbound->is_array())
        raise<ConfigError>(who, "layer '" + name + "' has no inbound_nodes");
      for (const json& node : *inbound)
        pending.push_back(
            {id, nodeInputs(node, recurrent::detail::where("Layer", name, "inbound"))});
    }
    // The model inputs, in input_layers order.
    for (const Ref& r : refList(find(mc, "input_layers", "inputLayers"), who, "input_layers")) {
      auto it = inputDecl.find(r.layer);
      if (it == inputDecl.end() || r.node != 0 || r.tensor != 0)
        raise<ConfigError>(who, "input_layers names '" + r.layer + "', which is not an InputLayer");
      const std::size_t id = byName_[r.layer];
      Node n;
      n.layer = id;
      n.isInput = true;
      n.input = model_.inputs_.size();
      n.outputShapes = {it->second};
      nodes_.push_back(std::move(n));
      nodesOf_[id].push_back(nodes_.size() - 1);
      model_.inputs_.push_back({nodes_.size() - 1, 0});
      model_.inputNames_.push_back(r.layer);
      model_.inputShapes_.push_back(it->second);
    }
    // Pass 2: order the nodes so that each comes after its inputs.
    std::vector<std::size_t> nodeCount(model_.layers_.size(), 0);
    std::vector<std::vector<std::size_t>> pendingOf(model_.layers_.size());
    for (std::size_t i = 0; i < pending.size(); ++i) pendingOf[pending[i].layer].push_back(i);
    std::vector<bool> done(pending.size(), false);
    std::vector<std::optional<std::size_t>> nodeId(pending.size());
    auto resolve = [&](const Ref& r) -> std::optional<TensorRef> {
      auto it = byName_.find(r.layer);
      if (it == byName_.end())
        raise<ConfigError>(who, "a node refers to an unknown layer '" + r.layer + "'");
      const std::size_t l = it->second;
      if (model_.layers_[l] == nullptr) {
        if (nodesOf_[l].empty())
          raise<ConfigError>(who, "InputLayer '" + r.layer + "' is used but not in input_layers");
        if (r.node != 0 || r.tensor != 0)
          raise<ConfigError>(who, "bad reference to InputLayer '" + r.layer + "'");
        return TensorRef{nodesOf_[l][0], 0};
      }
      if (r.node >= pendingOf[l].size())
        raise<ConfigError>(who, "layer '" + r.layer + "' has no node " + std::to_string(r.node));
      const std::size_t p = pendingOf[l][r.node];
      if (!nodeId[p]) return std::nullopt;
      return TensorRef{*nodeId[p], r.tensor};
    };
    for (bool progress = true; progress;) {
      progress = false;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        if (done[i]) continue;
        std::vector<TensorRef> ins;
        bool ready = true;
        for (const Ref& r : pending[i].inputs) {
          auto t = resolve(r);
          if (!t) {
            ready = false;
            break;
          }
          ins.push_back(*t);
        }
        if (!ready) continue;
        Node n;
        n.layer = pending[i].layer;
        n.inputs = std::move(ins);
        nodes_.push_back(std::move(n));
        nodeId[i] = nodes_.size() - 1;
        done[i] = progress = true;
      }
    }
    for (std::size_t i = 0; i < pending.size(); ++i)
      if (!done[i])
        raise<ConfigError>(who, "layer '" + model_.layers_[pending[i].layer]->name() +
                                    "' has a node whose inputs never become available (a cycle, "
                                    "or an input that is not in input_layers)");
    for (std::size_t l = 0; l < pendingOf.size(); ++l)
      for (std::size_t p : pendingOf[l]) nodesOf_[l].push_back(*nodeId[p]);
    for (const Ref& r : refList(find(mc, "output_layers", "outputLayers"), who, "output_layers")) {
      auto t = resolve(r);
      model_.outputs_.push_back(*t);
      model_.outputNames_.push_back(r.layer);
    }
  }

  void inferShapes() {
    for (Node& n : nodes_) {
      if (n.isInput) continue;
      for (const TensorRef& r : n.inputs) {
        const Node& src = nodes_[r.node];
        if (r.tensor >= src.outputShapes.size())
          raise<ConfigError>(kLoad(), "layer '" + model_.layers_[n.layer]->name() +
                                          "' takes output " + std::to_string(r.tensor) +
                                          " of a node that has " +
                                          std::to_string(src.outputShapes.size()));
        n.inputShapes.push_back(src.outputShapes[r.tensor]);
      }
      n.outputShapes = model_.layers_[n.layer]->outputShapes(n.inputShapes);
      if (!model_.functional_ && n.outputShapes.size() != 1)
        raise<ConfigError>(model_.layers_[n.layer]->who("build"),
                           "All layers in a Sequential model should have a single output tensor "
                           "(returnState or mergeMode null need a functional model)");
    }
    for (const TensorRef& r : model_.outputs_) {
      if (r.tensor >= nodes_[r.node].outputShapes.size())
        raise<ConfigError>(kLoad(), "output_layers names output " + std::to_string(r.tensor) +
                                        " of a layer with " +
                                        std::to_string(nodes_[r.node].outputShapes.size()));
      model_.outputShapes_.push_back(nodes_[r.node].outputShapes[r.tensor]);
    }
  }

  void loadWeights() {
    struct Target {
      std::size_t layer, slot;
    };
    // The manifest (parsed, nothing read yet). Keras 3 names weights `<scope>/<index>`.
    std::vector<WeightGroup> groups;
    if (const json* m = find(root_, "weightsManifest"); m != nullptr)
      groups = parseManifest(*m, kLoad());
    bool indexNames = false;
    for (const WeightGroup& g : groups)
      if (!g.specs.empty()) {
        const std::string& first = g.specs[0].name;
        const std::string last = first.substr(first.rfind('/') + 1);
        indexNames = !last.empty() && std::all_of(last.begin(), last.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
        break;
      }
    // What every layer needs (for its first node's input shapes: TF.js builds a layer once).
    std::vector<std::vector<WeightSlot>> slots(model_.layers_.size());
    std::vector<std::string> order;
    std::map<std::string, Target> targets;
    for (std::size_t l = 0; l < model_.layers_.size(); ++l) {
      if (model_.layers_[l] == nullptr || nodesOf(l).empty()) continue;
      const auto& layer = *model_.layers_[l];
      slots[l] = layer.weightSlots(nodes_[nodesOf(l)[0]].inputShapes);
      for (std::size_t s = 0; s < slots[l].size(); ++s) {
        const std::string key = layer.name() + "/" + slots[l][s].name;
        if (targets.count(key) != 0) raise<ConfigError>(kLoad(), "Duplicate weight name: " + key);
        targets[key] = {l, s};
        order.push_back(key);
      }
    }
    if (options_.initialize) {  // a model built in code: every layer draws its own weights
      model_.weightOrder_ = order;
      for (std::size_t l = 0; l < slots.size(); ++l) {
        if (slots[l].empty()) continue;
        const auto& in = nodes_[nodesOf(l)[0]].inputShapes;
        model_.layers_[l]->setWeights(in, model_.layers_[l]->initialWeights(in));
      }
      return;
    }
    // Each manifest entry -> the key of its target (checked before any shard is read).
    std::vector<std::vector<std::string>> keyOf(groups.size());
    if (indexNames) {
      indexKeys(groups, slots, keyOf);
    } else {
      for (std::size_t g = 0; g < groups.size(); ++g)
        for (const WeightSpec& spec : groups[g].specs) {
          std::string key = spec.name;
          if (targets.count(key) == 0) {  // Keras >= 2.2: `layer/cell/weight` -> `layer/weight`
            const auto last = key.rfind('/');
            const auto cell = last == std::string::npos || last == 0 ? std::string::npos
                                                                     : key.rfind('/', last - 1);
            if (cell != std::string::npos) key = key.substr(0, cell) + key.substr(last);
          }
          keyOf[g].push_back(key);
        }
    }
    std::map<std::string, std::string> seen;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (std::size_t i = 0; i < groups[g].specs.size(); ++i) {
        const WeightSpec& spec = groups[g].specs[i];
        std::string& key = keyOf[g][i];
        auto it = targets.find(key);
        if (it == targets.end()) {
          if (options_.strict)
            raise<WeightError>(kLoad(), "Provided weight data has no target variable: " +
                                            spec.name + targetHint(spec.name, order));
          key.clear();
          continue;
        }
        if (seen.count(key) != 0)
          raise<WeightError>(kLoad(),
                             "weights '" + seen[key] + "' and '" + spec.name + "' both set " + key);
        seen[key] = spec.name;
        const WeightSlot& slot = slots[it->second.layer][it->second.slot];
        if (spec.shape != slot.shape)
          raise<WeightError>(model_.layers_[it->second.layer]->who("setWeights"),
                             "weight '" + spec.name + "': expected shape " + shapeText(slot.shape) +
                                 ", got " + shapeText(spec.shape) + " — " +
                                 likelyReason(slot, spec.shape));
      }
    }
    model_.weightOrder_ = order;
    {  // Missing weights are an error even when not strict: no layer runs on made-up weights.
      std::vector<std::string> unset;
      for (const std::string& k : order)
        if (seen.count(k) == 0) unset.push_back(k);
      if (!unset.empty()) {
        std::string list;
        for (const auto& u : unset) list += (list.empty() ? "" : ", ") + u;
        raise<WeightError>(kLoad(), std::to_string(unset.size()) + " of " +
                                        std::to_string(order.size()) +
                                        " weights are not set: " + list);
      }
    }
    // Read and decode the shards; hand each layer its values.
    std::vector<std::vector<Tensor>> values(model_.layers_.size());
    for (std::size_t l = 0; l < slots.size(); ++l) values[l].resize(slots[l].size());
    for (std::size_t g = 0; g < groups.size(); ++g) {
      std::string data;
      for (const std::string& p : groups[g].paths) data += read_(p);
      std::vector<NamedWeight<Scalar>> decoded;
      decodeGroup<Scalar>(groups[g], g, data, kLoad(), decoded);
      for (std::size_t i = 0; i < decoded.size(); ++i) {
        if (keyOf[g][i].empty()) continue;
        const Target& t = targets[keyOf[g][i]];
        values[t.layer][t.slot] = std::move(decoded[i].value);
      }
    }
    for (std::size_t l = 0; l < slots.size(); ++l) {
      if (slots[l].empty()) continue;
      model_.layers_[l]->setWeights(nodes_[nodesOf(l)[0]].inputShapes, std::move(values[l]));
    }
  }

  /// Keras 3 manifests name weights by position: `layers/<layer>/<sub-object>/vars/<i>` (the
  /// tfjs converter) or `<layer>/<sub-object>/<i>` (TF.js's own Keras-3 form). A layer's entries,
  /// forward sub-objects before backward ones and each by index, take its weights in order.
  void indexKeys(const std::vector<WeightGroup>& groups,
                 const std::vector<std::vector<WeightSlot>>& slots,
                 std::vector<std::vector<std::string>>& keyOf) const {
    struct Entry {
      std::size_t group, item;
      bool backward;
      std::size_t sub;
      long index;
    };
    std::map<std::string, std::vector<Entry>> perLayer;
    std::map<std::string, std::size_t> subOrder;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      keyOf[g].resize(groups[g].specs.size());
      for (std::size_t i = 0; i < groups[g].specs.size(); ++i) {
        std::vector<std::string> parts;
        std::string part;
        for (char c : groups[g].specs[i].name + "/") {
          if (c != '/') {
            part += c;
            continue;
          }
          while (!part.empty() && part[0] == '_') part.erase(0, 1);
          if (part != "vars" && part != "layer_checkpoint_dependencies") parts.push_back(part);
          part.clear();
        }
        if (!parts.empty() && parts[0] == "layers" && parts.size() > 2) parts.erase(parts.begin());
        if (parts.size() < 2) continue;  // no target: reported by the caller
        const std::string& last = parts.back();
        if (last.empty() || last.size() > 9 ||
            !std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; }))
          continue;
        std::string sub;
        for (std::size_t k = 1; k + 1 < parts.size(); ++k) sub += "/" + parts[k];
        const std::string subKey = parts[0] + sub;
        if (subOrder.count(subKey) == 0) subOrder[subKey] = subOrder.size();
        perLayer[parts[0]].push_back(
            {g, i, sub.find("backward") != std::string::npos, subOrder[subKey], std::stol(last)});
      }
    }
    for (auto& [layer, entries] : perLayer) {
      auto it = byName_.find(layer);
      if (it == byName_.end()) continue;
      std::stable_sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) {
        if (x.backward != y.backward) return !x.backward;
        if (x.sub != y.sub) return x.sub < y.sub;
        return x.index < y.index;
      });
      const auto& layerSlots = slots[it->second];
      for (std::size_t k = 0; k < entries.size() && k < layerSlots.size(); ++k)
        keyOf[entries[k].group][entries[k].item] = layer + "/" + layerSlots[k].name;
    }
  }

  static std::string targetHint(const std::string& name, const std::vector<std::string>& order) {
    const std::string layer = name.substr(0, name.find('/'));
    std::string list;
    for (const auto& k : order)
      if (k.rfind(layer + "/", 0) == 0) list += (list.empty() ? "" : ", ") + k;
    if (list.empty()) return " (no layer is named '" + layer + "')";
    return " (layer '" + layer + "' has " + list + ")";
  }

  const std::vector<std::size_t>& nodesOf(std::size_t layer) const { return nodesOf_[layer]; }

  /// TF.js's executor order (`getTopologicalSortAndRecipientCounts`), kept because the sticky
  /// call mask depends on it: for each output in turn, a depth-first walk over node outputs
  /// that pushes a node's inputs in order (so the last input's branch runs first) and emits a
  /// tensor once its inputs are emitted; the walks are merged, first appearance kept. Each
  /// emitted output of a node is one TF.js application of its layer; nodes no output depends
  /// on are not run.
  static std::vector<typename Model::Step> executionOrder(const std::vector<Node>& nodes,
                                                          const std::vector<TensorRef>& outputs) {
    using Key = std::pair<std::size_t, std::size_t>;
    auto key = [](const TensorRef& r) { return Key{r.node, r.tensor}; };
    std::set<Key> merged;
    std::vector<TensorRef> sorted;
    for (const TensorRef& fetch : outputs) {
      std::set<Key> visited;  // the feeds (model inputs) count as visited from the start
      std::vector<TensorRef> stack{fetch};
      std::vector<std::size_t> marks;
      while (!stack.empty()) {
        const TensorRef top = stack.back();
        const Node& node = nodes[top.node];
        if (node.isInput || visited.count(key(top)) != 0) {
          stack.pop_back();
          continue;
        }
        const bool marked = !marks.empty() && marks.back() == stack.size() - 1;
        if (marked) {
          stack.pop_back();
          marks.pop_back();
          visited.insert(key(top));
          if (merged.insert(key(top)).second) sorted.push_back(top);
        } else {
          marks.push_back(stack.size() - 1);
          for (const TensorRef& r : node.inputs)
            if (visited.count(key(r)) == 0) stack.push_back(r);
        }
      }
    }
    std::vector<typename Model::Step> steps;
    std::vector<bool> seen(nodes.size(), false);
    for (const TensorRef& t : sorted) {
      steps.push_back({t.node, !seen[t.node]});
      seen[t.node] = true;
    }
    return steps;
  }

  void summarise() {
    for (std::size_t l = 0; l < model_.layers_.size(); ++l) {
      LayerInfo info;
      const auto* layer = model_.layers_[l].get();
      info.className = layer != nullptr ? layer->className() : "InputLayer";
      for (const auto& [name, id] : byName_)
        if (id == l) info.name = name;
      Index params = 0;
      for (std::size_t n : nodesOf(l)) {
        const Node& node = nodes_[n];
        if (info.outputShapes.empty()) info.outputShapes = node.outputShapes;
        for (const TensorRef& r : node.inputs) {
          const Node& src = nodes_[r.node];
          std::string srcName;
          for (const auto& [name, id] : byName_)
            if (id == src.layer) srcName = name;
          const auto& srcNodes = nodesOf(src.layer);
          const auto idx = static_cast<std::size_t>(
              std::find(srcNodes.begin(), srcNodes.end(), r.node) - srcNodes.begin());
          info.inbound.push_back(srcName + "[" + std::to_string(idx) + "][" +
                                 std::to_string(r.tensor) + "]");
        }
      }
      if (layer != nullptr && !nodesOf(l).empty())
        for (const WeightSlot& s : layer->weightSlots(nodes_[nodesOf(l)[0]].inputShapes))
          params += product(s.shape);
      info.params = params;
      model_.info_.push_back(std::move(info));
    }
    model_.nodes_ = std::move(nodes_);
  }

  const json& root_;
  const std::function<std::string(const std::string&)>& read_;
  LoadOptions options_;
  Model model_;
  bool keras3_ = false;
  std::map<std::string, std::size_t> byName_;
  std::vector<std::vector<std::size_t>> nodesOf_;
  std::vector<Node> nodes_;
};

}  // namespace detail

template <class Scalar>
void LayersModel<Scalar>::checkInputs(const std::string& who, const std::vector<Tensor>& inputs,
                                      bool batchAxis) const {
  if (inputs.size() != inputs_.size())
    recurrent::detail::raise<ValueError>(
        who, "expected " + std::to_string(inputs_.size()) + " input tensor(s) (" +
                 [&] {
                   std::string s;
                   for (const auto& n : inputNames_) s += (s.empty() ? "" : ", ") + n;
                   return s;
                 }() +
                 "), got " + std::to_string(inputs.size()));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& x = inputs[i];
    const auto& want = inputShapes_[i];
    bool ok = x.shape.size() == want.size();
    for (std::size_t d = 0; ok && d < want.size(); ++d)
      ok = x.shape[d] >= 0 && (want[d] < 0 || want[d] == x.shape[d] || (d == 0 && !batchAxis));
    if (!ok)
      recurrent::detail::raise<ShapeError>(
          who, "Error when checking input: expected " + inputNames_[i] + " to have shape " +
                   detail::shapeText(want) + " but got array with shape " +
                   detail::shapeText(x.shape));
    if (static_cast<Index>(x.data.size()) != x.size())
      recurrent::detail::raise<ShapeError>(
          who, "input " + inputNames_[i] + ": shape " + detail::shapeText(x.shape) + " needs " +
                   std::to_string(x.size()) + " values, got " + std::to_string(x.data.size()));
  }
}

template <class Scalar>
void LayersModel<Scalar>::execute(const std::vector<Tensor>& inputs,
                                  const detail::ForwardMode& mode, Run& run) {
  // Values and masks per node; evaluation follows TF.js's executor order (`schedule_`). As that
  // executor does, the mask a layer is called with is sticky: it is replaced only when some
  // input of a node carries a mask (then by the first input's mask, which may be none), so a
  // layer after Flatten/Reshape or a last-step RNN still receives the last mask seen.
  run.inputs = &inputs;
  run.values.assign(nodes_.size(), {});
  run.masks.assign(nodes_.size(), std::nullopt);
  const Tensor* callMask = nullptr;
  std::vector<const Tensor*> ins, masks;
  for (const Step& step : schedule_) {
    const std::size_t n = step.node;
    const Node& node = nodes_[n];
    ins.clear();
    masks.clear();
    bool anyMask = false;
    for (const TensorRef& r : node.inputs) {
      ins.push_back(&run.value(nodes_, r));
      masks.push_back(run.masks[r.node] ? &*run.masks[r.node] : nullptr);
      anyMask = anyMask || masks.back() != nullptr;
    }
    const Tensor* firstMask = masks.empty() ? nullptr : masks[0];
    if (anyMask) callMask = firstMask;
    // TF.js applies the layer again here: same values, but a stateful layer would advance its
    // states once more per entry. We compute each node once (docs/tfjs-differences.md).
    if (!step.compute) continue;
    auto& layer = *layers_[node.layer];
    run.values[n] = layer.forward(ins, callMask, mode);
    if (layer.supportsMasking()) run.masks[n] = layer.computeMask(ins, firstMask, masks);
  }
}

template <class Scalar>
std::vector<FlatTensor<Scalar>> LayersModel<Scalar>::outputsOf(Run& run) const {
  // Each output moves out of the run (copied if it is an input, or an output listed twice).
  std::vector<Tensor> out;
  for (std::size_t o = 0; o < outputs_.size(); ++o) {
    const TensorRef& r = outputs_[o];
    bool repeated = false;
    for (std::size_t p = o + 1; p < outputs_.size(); ++p)
      repeated = repeated || (outputs_[p].node == r.node && outputs_[p].tensor == r.tensor);
    if (nodes_[r.node].isInput || repeated)
      out.push_back(run.value(nodes_, r));
    else
      out.push_back(std::move(run.values[r.node][r.tensor]));
  }
  return out;
}

template <class Scalar>
std::vector<FlatTensor<Scalar>> LayersModel<Scalar>::predict(const std::vector<Tensor>& inputs) {
  checkInputs(recurrent::detail::where("LayersModel", name_, "predict"), inputs);
  Run run;
  execute(inputs, detail::ForwardMode{}, run);
  return outputsOf(run);
}

template <class Scalar>
void LayersModel<Scalar>::resetStates() {
  for (auto& l : layers_)
    if (l != nullptr) l->resetStates();
}

template <class Scalar>
Index LayersModel<Scalar>::countParams() const {
  Index n = 0;
  for (const auto& i : info_) n += i.params;
  return n;
}

template <class Scalar>
bool LayersModel<Scalar>::stateful() const {
  for (const auto& l : layers_)
    if (l != nullptr && l->stateful()) return true;
  return false;
}

template <class Scalar>
AnyLayer<Scalar>* LayersModel<Scalar>::recurrentLayer(const std::string& layerName) {
  for (auto& l : layers_)
    if (l != nullptr && l->name() == layerName)
      if (auto* r = dynamic_cast<detail::RecurrentLayer<Scalar>*>(l.get())) return &r->layer();
  return nullptr;
}

template <class Scalar>
std::string LayersModel<Scalar>::summary() const {
  auto pyShape = [](const std::vector<Index>& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i)
      out += (i ? ", " : "") + (s[i] < 0 ? std::string("None") : std::to_string(s[i]));
    return out + (s.size() == 1 ? ",)" : ")");
  };
  auto grouped = [](Index n) {
    std::string d = std::to_string(n), out;
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (i > 0 && (d.size() - i) % 3 == 0) out += ',';
      out += d[i];
    }
    return out;
  };
  auto pad = [](std::string s, std::size_t w) {
    if (s.size() + 1 > w) return s + " ";
    return s + std::string(w - s.size(), ' ');
  };
  // Column widths fit the longest entry (Keras uses 33/28/12(/30) at least).
  auto shapeOf = [&](const LayerInfo& l) {
    if (l.outputShapes.size() == 1) return pyShape(l.outputShapes[0]);
    std::string s = "[";
    for (std::size_t k = 0; k < l.outputShapes.size(); ++k)
      s += (k ? ", " : "") + pyShape(l.outputShapes[k]);
    return s + "]";
  };
  std::vector<const LayerInfo*> rows;
  for (const LayerInfo& l : info_)
    if (functional_ || l.className != "InputLayer") rows.push_back(&l);  // as Keras prints them
  std::vector<std::size_t> widths{33, 28, 12};
  if (functional_) widths.push_back(30);
  for (const LayerInfo* l : rows) {
    widths[0] = std::max(widths[0], l->name.size() + l->className.size() + 6);
    widths[1] = std::max(widths[1], shapeOf(*l).size() + 2);
  }
  std::size_t total = 0;
  for (auto w : widths) total += w;
  std::ostringstream os;
  os << "Model: \"" << name_ << "\"\n" << std::string(total, '_') << "\n";
  os << pad(" Layer (type)", widths[0]) << pad("Output Shape", widths[1])
     << pad("Param #", widths[2]);
  if (functional_) os << "Connected to";
  os << "\n" << std::string(total, '=') << "\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const LayerInfo& l = *rows[i];
    os << pad(" " + l.name + " (" + l.className + ")", widths[0]) << pad(shapeOf(l), widths[1])
       << pad(grouped(l.params), widths[2]);
    if (functional_) {
      std::string c;
      for (const auto& in : l.inbound) c += (c.empty() ? "" : ", ") + in;
      os << c;
    }
    os << "\n" << std::string(total, i + 1 == rows.size() ? '=' : '_') << "\n";
  }
  os << "Total params: " << grouped(countParams()) << "\n"
     << "Trainable params: " << grouped(countParams()) << "\n"
     << "Non-trainable params: 0\n"
     << std::string(total, '_') << "\n";
  return os.str();
}

template <class Scalar>
LayersModel<Scalar> loadLayersModel(const nlohmann::json& modelJson,
                                    const std::function<std::string(const std::string&)>& readShard,
                                    const LoadOptions& options) {
  return detail::ModelBuilder<Scalar>(modelJson, readShard, options).build();
}

template <class Scalar>
LayersModel<Scalar> loadLayersModel(const std::string& modelJsonPath, const LoadOptions& options) {
  const std::string who = "loadLayersModel";
  const std::string text = detail::readFile(modelJsonPath, who);
  const nlohmann::json j = detail::parseJson(text, who, "'" + modelJsonPath + "'");
  const auto slash = modelJsonPath.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : modelJsonPath.substr(0, slash + 1);
  return loadLayersModel<Scalar>(
      j,
      [&](const std::string& path) {
        if (path.find("://") != std::string::npos)
          recurrent::detail::raise<IOError>(
              who, "weight path '" + path + "' is a URL; only local files load");
        std::string rel = path;
        if (rel.rfind("./", 0) == 0) rel = rel.substr(2);
        return detail::readFile(!rel.empty() && rel[0] == '/' ? rel : dir + rel, who);
      },
      options);
}

}  // namespace recurrent::io

#include <recurrent/io/detail/model_save.hpp>
#include <recurrent/io/detail/model_training.hpp>
#include <recurrent/io/layers.hpp>

#endif  // RECURRENT_IO_TFJS_HPP
