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
template <class Scalar>
struct ModelBuildState;
struct ModelAccess;
struct LayerFactory;
struct WeightMatching;
struct ModelSummary;
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
  template <class S>
  friend struct detail::ModelBuildState;
  friend struct detail::WeightMatching;
  friend struct detail::ModelSummary;

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
  nlohmann::json topology_;               ///< the `modelTopology` that `save` writes
  LoadOptions buildOptions_;              ///< what `add` builds with
  std::vector<std::string> weightOrder_;  ///< `<layer>/<weight>` keys in manifest order
  std::shared_ptr<detail::Compiled<Scalar>> compiled_;
  std::unique_ptr<std::atomic<bool>> stop_ = std::make_unique<std::atomic<bool>>(false);

  /// Values and masks of one run of the graph (node outputs; model inputs are the caller's). A
  /// run can be executed again: each node's outputs are overwritten in place (training keeps
  /// one, so that a step allocates nothing once the sizes are known).
  struct Run {
    const std::vector<Tensor>* inputs = nullptr;
    std::vector<std::vector<Tensor>> values;
    std::vector<std::optional<Tensor>> masks;
    std::vector<const Tensor*> ins, inMasks;  ///< scratch of execute: one node's inputs
    const Tensor& value(const std::vector<Node>& nodes, const TensorRef& r) const {
      const Node& src = nodes[r.node];
      return src.isInput ? (*inputs)[src.input] : values[r.node][r.tensor];
    }
  };
  /// Input count and shapes; `batchAxis` false skips a fixed batch size (fit and evaluate
  /// batch the data themselves, as TF.js's `checkInputData(..., checkBatchAxis = false)`).
  void checkInputs(const std::string& who, const std::vector<Tensor>& inputs,
                   bool batchAxis = true) const;
  /// Compiled, inputs as `checkInputs` (the batch axis only without `batchSize`), one target
  /// per output, a positive `batchSize`.
  void checkData(const std::string& who, const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                 std::optional<Index> batchSize) const;
  /// Runs the graph in TF.js's executor order.
  void execute(const std::vector<Tensor>& inputs, const detail::ForwardMode& mode, Run& run);
  /// Backpropagation through the recorded `run`: `dOutputs` = ∂L/∂(each model output).
  void backward(Run& run, const std::vector<Tensor>& dOutputs);
  /// trainOnBatch's step in the compiled model's buffers (fit calls it for every batch): the
  /// returned values are the compiled model's, valid until the next step.
  const std::vector<double>& trainStep(const std::vector<Tensor>& x, const std::vector<Tensor>& y);
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

}  // namespace recurrent::io

#include <recurrent/io/detail/model_graph.hpp>

namespace recurrent::io {

template <class Scalar>
void LayersModel<Scalar>::resetStates() {
  for (auto& l : layers_)
    if (l != nullptr) l->resetStates();
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
