// Internal, may change: `LayersModel`'s training members (io/training.hpp has the contract):
// compile, the backward walk over the graph, one training step, fit's epoch loop, evaluate.
// Included at the end of io/tfjs.hpp.
#ifndef RECURRENT_IO_DETAIL_MODEL_TRAINING_HPP
#define RECURRENT_IO_DETAIL_MODEL_TRAINING_HPP

#include <recurrent/io/tfjs.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::io {
namespace detail {

/// What `compile` fixes: optimizer, losses and metrics per output, the names TF.js logs.
template <class Scalar>
struct Compiled {
  std::shared_ptr<train::Optimizer<Scalar>> optimizer;
  std::vector<train::Loss<Scalar>> losses;                  ///< per output
  std::vector<std::vector<train::Metric<Scalar>>> metrics;  ///< per output
  std::vector<std::string> names;                           ///< TF.js metricsNames
  // What a training step (trainOnBatch, each batch of fit) uses, kept between steps: buffers
  // keep their storage, so that a step allocates nothing once the sizes are known.
  std::string trainWho;                                ///< trainOnBatch's error prefix, built once
  typename LayersModel<Scalar>::Run run;               ///< the recorded forward pass
  std::vector<const FlatTensor<Scalar>*> predictions;  ///< the model outputs, in `run`
  std::vector<double> values;                          ///< the step's loss and metrics
  std::vector<FlatTensor<Scalar>> lossValues, metricValues, dLoss, dPred;
  FlatTensor<Scalar> total;
  /// ∂L/∂(each node's outputs), ∂L/∂(each node's inputs) of backward; the layers' inputs.
  std::vector<std::vector<FlatTensor<Scalar>>> nodeGrads, nodeInputGrads;
  std::vector<const FlatTensor<Scalar>*> layerInputs;
  /// The trainable variables, listed at the first step after compile (a layer's variables, and
  /// where their values and gradients live, are fixed once it is built; a model changed by
  /// `add` must be compiled again).
  bool variablesListed = false;
  std::vector<LayerVariable<Scalar>> variables;
  std::vector<train::Variable<Scalar>> optimizerVariables;
  std::vector<std::size_t> variableLayer;  ///< which layer owns each variable
  // fit's batch and its logs (kept across fit calls too: each epoch may be a call of its own).
  std::vector<FlatTensor<Scalar>> batchX, batchY;
  Logs batchLogs;
  std::vector<Logs::node_type> spareLogs;  ///< batchLogs' nodes, reused by the next batch
};

/// `logs` emptied into `spare`: its nodes (keys and all) are kept for `setLog`.
inline void clearLogs(Logs& logs, std::vector<Logs::node_type>& spare) {
  while (!logs.empty()) spare.push_back(logs.extract(logs.begin()));
}

/// `logs[key] = value`, in a spare node when there is one — preferably the one that held `key`
/// before, whose key string then keeps its storage.
inline void setLog(Logs& logs, std::vector<Logs::node_type>& spare, const std::string& key,
                   double value) {
  if (auto it = logs.find(key); it != logs.end()) {
    it->second = value;
    return;
  }
  if (spare.empty()) {
    logs.emplace(key, value);
    return;
  }
  std::size_t pick = spare.size() - 1;
  for (std::size_t i = 0; i < spare.size(); ++i)
    if (spare[i].key() == key) {
      pick = i;
      break;
    }
  Logs::node_type node = std::move(spare[pick]);
  spare.erase(spare.begin() + static_cast<std::ptrdiff_t>(pick));
  node.key() = key;
  node.mapped() = value;
  logs.insert(std::move(node));
}

/// Rows `ids[begin, end)` of `src` (`[samples, ...]`) into `dst` (`[end - begin, ...]`).
template <class Scalar>
void gatherRows(const FlatTensor<Scalar>& src, const std::vector<Index>& ids, std::size_t begin,
                std::size_t end, FlatTensor<Scalar>& dst) {
  const auto width = static_cast<std::size_t>(product(src.shape, 1));
  dst.shape = src.shape;
  dst.shape[0] = static_cast<Index>(end - begin);
  dst.data.resize((end - begin) * width);
  for (std::size_t i = begin; i < end; ++i)
    std::copy_n(src.data.data() + static_cast<std::size_t>(ids[i]) * width, width,
                dst.data.data() + (i - begin) * width);
}

/// Samples `[begin, end)` of every tensor (a contiguous slice).
template <class Scalar>
std::vector<FlatTensor<Scalar>> sliceSamples(const std::vector<FlatTensor<Scalar>>& xs, Index begin,
                                             Index end) {
  std::vector<Index> ids(static_cast<std::size_t>(end));
  std::iota(ids.begin(), ids.end(), Index{0});
  std::vector<FlatTensor<Scalar>> out(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i)
    gatherRows(xs[i], ids, static_cast<std::size_t>(begin), static_cast<std::size_t>(end), out[i]);
  return out;
}

inline double meanOf(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

template <class Scalar>
Scalar mean(const FlatTensor<Scalar>& t) {
  if (t.data.empty()) return Scalar(0);
  Scalar sum(0);
  for (Scalar v : t.data) sum += v;
  return sum / static_cast<Scalar>(t.data.size());
}

}  // namespace detail

template <class Scalar>
void LayersModel<Scalar>::compile(const CompileArgs<Scalar>& args) {
  const std::string who = recurrent::detail::where("LayersModel", name_, "compile");
  using recurrent::detail::raise;
  auto c = std::make_shared<detail::Compiled<Scalar>>();
  c->optimizer = args.optimizer;
  if (c->optimizer == nullptr) {
    if (args.optimizerName.empty())
      raise<ValueError>(who, "an optimizer is required (an object or a name such as 'adam')");
    c->optimizer = train::getOptimizer<Scalar>(args.optimizerName);
  }
  if (args.loss.size() != 1 && args.loss.size() != outputs_.size())
    raise<ValueError>(who,
                      "When passing a list as loss, it should have one entry per model "
                      "output. The model has " +
                          std::to_string(outputs_.size()) + " output(s), but you passed loss=" +
                          std::to_string(args.loss.size()) + " losses");
  for (std::size_t o = 0; o < outputs_.size(); ++o) {
    const std::string& name = args.loss[args.loss.size() == 1 ? 0 : o];
    // TF.js's compile takes `tf.losses.huberLoss` as a function, not a name: we take its name.
    c->losses.push_back(name == "huberLoss" ? train::Loss<Scalar>::huber()
                                            : train::Loss<Scalar>::fromName(name));
  }
  // TF.js metricsNames: loss, <output>_loss (several outputs), then each output's metrics.
  c->names.push_back("loss");
  const bool several = outputs_.size() > 1;
  if (several)
    for (const std::string& n : outputNames_) c->names.push_back(n + "_loss");
  c->metrics.resize(outputs_.size());
  for (std::size_t o = 0; o < outputs_.size(); ++o)
    for (const std::string& m : args.metrics) {
      const auto& shape = outputShapes_[o];
      c->metrics[o].push_back(train::Metric<Scalar>::resolve(
          m, c->losses[o].kind(), shape.empty() ? Index{-1} : shape.back()));
      c->names.push_back((several ? outputNames_[o] + "_" : std::string()) +
                         c->metrics[o].back().suffix());
    }
  // Every computed layer must be trainable, and applied once (its recording is per layer).
  std::vector<int> uses(layers_.size(), 0);
  for (const Step& s : schedule_)
    if (s.compute && !nodes_[s.node].isInput) ++uses[nodes_[s.node].layer];
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    if (layers_[l] == nullptr || uses[l] == 0) continue;
    if (!layers_[l]->trainable())
      raise<ConfigError>(layers_[l]->who("compile"), "this layer cannot be trained");
    if (uses[l] > 1)
      raise<ConfigError>(layers_[l]->who("compile"),
                         "the layer is applied at " + std::to_string(uses[l]) +
                             " nodes; training a shared layer is not supported");
  }
  c->trainWho = recurrent::detail::where("LayersModel", name_, "trainOnBatch");
  compiled_ = std::move(c);
}

template <class Scalar>
std::vector<std::string> LayersModel<Scalar>::metricsNames() const {
  return compiled_ != nullptr ? compiled_->names : std::vector<std::string>{};
}

template <class Scalar>
void LayersModel<Scalar>::backward(Run& run, const std::vector<Tensor>& dOutputs) {
  // ∂L/∂(each node output); an empty shape is zeros. Seeded with the model outputs', then
  // walked back in reverse evaluation order, each layer adding its inputs' gradients. The
  // buffers are the compiled model's: emptied (shape cleared, storage kept) at each step.
  auto& c = *compiled_;
  auto& d = c.nodeGrads;
  d.resize(nodes_.size());
  c.nodeInputGrads.resize(nodes_.size());
  for (std::size_t n = 0; n < nodes_.size(); ++n) {
    d[n].resize(run.values[n].size());
    for (Tensor& t : d[n]) t.shape.clear();
  }
  auto accumulate = [&](const TensorRef& r, const Tensor& g) {
    if (g.shape.empty() || nodes_[r.node].isInput) return;
    Tensor& into = d[r.node][r.tensor];
    if (into.shape.empty()) {
      into = g;  // copy-assignment: into's storage
    } else {
      for (std::size_t k = 0; k < into.data.size(); ++k) into.data[k] += g.data[k];
    }
  };
  for (std::size_t o = 0; o < outputs_.size(); ++o) accumulate(outputs_[o], dOutputs[o]);
  std::vector<const Tensor*>& ins = c.layerInputs;
  for (auto it = schedule_.rbegin(); it != schedule_.rend(); ++it) {
    if (!it->compute) continue;
    const Node& node = nodes_[it->node];
    ins.clear();
    for (const TensorRef& r : node.inputs) ins.push_back(&run.value(nodes_, r));
    std::vector<Tensor>& dIns = c.nodeInputGrads[it->node];
    dIns.resize(node.inputs.size());
    for (Tensor& t : dIns) t.shape.clear();  // none until the layer writes one
    layers_[node.layer]->backward(ins, run.values[it->node], d[it->node], dIns);
    for (std::size_t i = 0; i < node.inputs.size(); ++i) accumulate(node.inputs[i], dIns[i]);
  }
}

namespace detail {

/// Which list of values `lossesAndMetrics` returns.
enum class Values {
  Train,  ///< TF.js's train function: `metricsNames` order, with ∂loss/∂outputs into `c.dPred`
  Test,   ///< TF.js 4.22's test function (evaluate, validation): for each output the running sum
          ///< of the output losses' means, then (several outputs) each output's loss, then the
          ///< metrics — longer than `metricsNames` with several outputs, so that `fit` labels
          ///< `val_<output>_loss` with the running sums, as TF.js does
};

/// The per-sample losses and metrics of a forward pass (`pred`: the model outputs) and their
/// batch values, into `values`.
template <class Scalar>
void lossesAndMetrics(Compiled<Scalar>& c, const std::string& who,
                      const std::vector<FlatTensor<Scalar>>& y,
                      const std::vector<const FlatTensor<Scalar>*>& pred, Values which,
                      std::vector<double>& values) {
  const bool grad = which == Values::Train;
  const std::size_t outputs = pred.size();
  c.lossValues.resize(outputs);
  values.assign(1, 0.0);
  for (std::size_t o = 0; o < outputs; ++o) {
    c.losses[o].compute(y[o], *pred[o], c.lossValues[o]);
    if (o == 0) {
      c.total = c.lossValues[0];
    } else {
      // TF.js adds the outputs' loss tensors elementwise: equal shapes, or a scalar loss.
      FlatTensor<Scalar>& t = c.total;
      const FlatTensor<Scalar>& l = c.lossValues[o];
      if (l.data.size() == 1 || t.data.size() == 1) {
        if (t.data.size() == 1 && l.data.size() != 1) {
          const Scalar v = t.data[0];
          t = l;
          for (Scalar& e : t.data) e += v;
        } else {
          for (Scalar& e : t.data) e += l.data[0];
        }
      } else if (l.shape == t.shape) {
        for (std::size_t k = 0; k < t.data.size(); ++k) t.data[k] += l.data[k];
      } else {
        recurrent::detail::raise<ShapeError>(
            who, "the per-sample losses of the outputs have shapes " + shapeText(t.shape) +
                     " and " + shapeText(l.shape) +
                     ", which TF.js cannot add (several outputs need losses of one shape)");
      }
    }
  }
  if (which == Values::Test) {
    values.clear();
    Scalar running(0);
    for (std::size_t o = 0; o < outputs; ++o)
      values.push_back(static_cast<double>(running += mean(c.lossValues[o])));
  } else {
    values[0] = static_cast<double>(mean(c.total));
  }
  if (outputs > 1)
    for (std::size_t o = 0; o < outputs; ++o)
      values.push_back(static_cast<double>(mean(c.lossValues[o])));
  c.metricValues.resize(1);
  for (std::size_t o = 0; o < outputs; ++o)
    for (const auto& m : c.metrics[o]) {
      m.compute(y[o], *pred[o], c.metricValues[0]);
      values.push_back(static_cast<double>(mean(c.metricValues[0])));
    }
  if (!grad) return;
  // L = mean(total): ∂L/∂total = 1/|total| everywhere; a scalar output loss gets the sum.
  const auto count = static_cast<Scalar>(c.total.data.size());
  c.dLoss.resize(outputs);
  c.dPred.resize(outputs);
  for (std::size_t o = 0; o < outputs; ++o) {
    FlatTensor<Scalar>& dl = c.dLoss[o];
    dl.shape = c.lossValues[o].shape;
    const Scalar share = c.lossValues[o].data.size() == 1 && c.total.data.size() != 1
                             ? Scalar(1)
                             : Scalar(1) / count;
    dl.data.assign(c.lossValues[o].data.size(), share);
    c.losses[o].backward(y[o], *pred[o], dl, c.dPred[o]);
  }
}

}  // namespace detail

template <class Scalar>
void LayersModel<Scalar>::checkData(const std::string& who, const std::vector<Tensor>& x,
                                    const std::vector<Tensor>& y,
                                    std::optional<Index> batchSize) const {
  using recurrent::detail::raise;
  if (compiled_ == nullptr)
    raise<StateError>(who,
                      "You must compile a model before training/testing. Use "
                      "LayersModel.compile(modelCompileArgs).");
  checkInputs(who, x, !batchSize.has_value());
  if (y.size() != outputs_.size())
    raise<ValueError>(who, "expected " + std::to_string(outputs_.size()) +
                               " target tensor(s), got " + std::to_string(y.size()));
  if (batchSize && *batchSize <= 0)
    raise<ValueError>(who, "batchSize must be positive, got " + std::to_string(*batchSize));
}

template <class Scalar>
std::vector<double> LayersModel<Scalar>::trainOnBatch(const std::vector<Tensor>& x,
                                                      const std::vector<Tensor>& y) {
  return trainStep(x, y);
}

template <class Scalar>
const std::vector<double>& LayersModel<Scalar>::trainStep(const std::vector<Tensor>& x,
                                                          const std::vector<Tensor>& y) {
  if (compiled_ == nullptr)  // raises (trainOnBatch's name is kept by the compiled model)
    checkData(recurrent::detail::where("LayersModel", name_, "trainOnBatch"), x, y, std::nullopt);
  auto& c = *compiled_;
  const std::string& who = c.trainWho;
  checkData(who, x, y, std::nullopt);
  Run& run = c.run;
  execute(x, detail::ForwardMode{true, true}, run);
  c.predictions.clear();  // read in place: backward reads the same values
  for (const TensorRef& r : outputs_) c.predictions.push_back(&run.value(nodes_, r));
  for (std::size_t o = 0; o < outputs_.size(); ++o) c.losses[o].check(who, y[o], *c.predictions[o]);
  std::vector<double>& values = c.values;
  detail::lossesAndMetrics(c, who, y, c.predictions, detail::Values::Train, values);
  if (!std::isfinite(values[0]))
    recurrent::detail::raise<TrainingError>(who, "the batch loss is " + std::to_string(values[0]) +
                                                     " (TerminateOnNaN): no update was applied");
  // Variables: layer by layer (TF.js's trainableWeights order), gradients zeroed when listed
  // (each computed layer's backward then overwrites its gradients; the others stay zero).
  if (!c.variablesListed) {
    c.variables.clear();
    c.variableLayer.clear();
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      if (layers_[l] == nullptr) continue;
      for (auto& v : layers_[l]->variables()) {
        c.variables.push_back(v);
        c.variableLayer.push_back(l);
      }
    }
    c.optimizerVariables.clear();
    for (const auto& v : c.variables) c.optimizerVariables.push_back({v.value, v.gradient, v.size});
    c.variablesListed = true;
  }
  backward(run, c.dPred);
  c.optimizer->applyGradients(c.optimizerVariables);
  std::size_t last = layers_.size();
  for (std::size_t l : c.variableLayer)
    if (l != last) layers_[last = l]->variablesChanged();
  return values;
}

template <class Scalar>
std::vector<double> LayersModel<Scalar>::evaluate(const std::vector<Tensor>& x,
                                                  const std::vector<Tensor>& y,
                                                  const EvaluateArgs& args) {
  const std::string who = recurrent::detail::where("LayersModel", name_, "evaluate");
  checkData(who, x, y, args.batchSize);
  const Index n = x.empty() || x[0].shape.empty() ? 0 : x[0].shape[0];
  // TF.js testLoop: Σ size_b · value_b over the batches, divided by the sample count.
  std::vector<Scalar> sums;
  for (Index begin = 0; begin < n; begin += args.batchSize) {
    const Index end = std::min(n, begin + args.batchSize);
    const auto bx = detail::sliceSamples(x, begin, end);
    const auto by = detail::sliceSamples(y, begin, end);
    Run run;
    execute(bx, detail::ForwardMode{}, run);
    std::vector<Tensor> pred = outputsOf(run);
    for (std::size_t o = 0; o < outputs_.size(); ++o)
      compiled_->losses[o].check(who, by[o], pred[o]);
    std::vector<const Tensor*> predictions;
    for (const Tensor& p : pred) predictions.push_back(&p);
    std::vector<double> v;
    detail::lossesAndMetrics(*compiled_, who, by, predictions, detail::Values::Test, v);
    sums.resize(v.size(), Scalar(0));
    for (std::size_t k = 0; k < v.size(); ++k)
      sums[k] += static_cast<Scalar>(end - begin) * static_cast<Scalar>(v[k]);
  }
  std::vector<double> out;
  for (Scalar s : sums) out.push_back(static_cast<double>(s / static_cast<Scalar>(n)));
  return out;
}

template <class Scalar>
History LayersModel<Scalar>::fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                                 const FitArgs<Scalar>& args) {
  const std::string who = recurrent::detail::where("LayersModel", name_, "fit");
  using recurrent::detail::raise;
  checkData(who, x, y, args.batchSize);
  if (!(args.validationSplit >= 0 && args.validationSplit < 1))
    raise<ValueError>(
        who, "validationSplit must be in [0, 1), got " + std::to_string(args.validationSplit));
  const Index n = x[0].shape.empty() ? 0 : x[0].shape[0];
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i].shape[0] != n)
      raise<ValueError>(who,
                        "All input Tensors (x) should have the same number of samples. Got "
                        "array shapes: " +
                            detail::shapeText(x[0].shape) + ", " + detail::shapeText(x[i].shape));
  for (std::size_t o = 0; o < y.size(); ++o) {
    if (y[o].shape.empty() || y[o].shape[0] != n ||
        static_cast<Index>(y[o].data.size()) != y[o].size())
      raise<ValueError>(who,
                        "Input Tensors should have the same number of samples as target "
                        "Tensors. Found " +
                            std::to_string(n) + " input sample(s) and target " + outputNames_[o] +
                            " of shape " + detail::shapeText(y[o].shape));
    // Targets against their output and loss before any update: a prediction-shaped stand-in.
    detail::Shape predShape = outputShapes_[o];
    predShape[0] = n;
    bool known = true;
    for (Index d : predShape) known = known && d >= 0;
    if (known) {
      Tensor stand(
          predShape,
          std::vector<Scalar>(static_cast<std::size_t>(detail::product(predShape)), Scalar(0.5)));
      compiled_->losses[o].check(who, y[o], stand);
    }
  }
  // Training and validation samples (the caller's, unless split off).
  const std::vector<Tensor>*trainX = &x, *trainY = &y;
  std::vector<Tensor> splitX, splitY, valX, valY;
  bool validate = false;
  if (args.validationData) {
    valX = args.validationData->first;
    valY = args.validationData->second;
    validate = true;
  } else if (args.validationSplit > 0) {
    const auto splitAt =
        static_cast<Index>(std::floor(static_cast<double>(n) * (1.0 - args.validationSplit)));
    splitX = detail::sliceSamples(x, 0, splitAt);
    splitY = detail::sliceSamples(y, 0, splitAt);
    trainX = &splitX;
    trainY = &splitY;
    valX = detail::sliceSamples(x, splitAt, n);
    valY = detail::sliceSamples(y, splitAt, n);
    validate = true;
  }
  const Index samples = (*trainX)[0].shape[0];
  static const std::string kBatchKey = "batch", kSizeKey = "size";
  std::vector<Index> order(static_cast<std::size_t>(samples));
  RandomEngine rng(args.seed);
  // The batch, its logs and the step's buffers are the compiled model's: a batch after the
  // first epoch (of this call or an earlier one) allocates nothing.
  auto& c = *compiled_;
  std::vector<Tensor>&bx = c.batchX, &by = c.batchY;
  bx.resize(trainX->size());
  by.resize(trainY->size());
  Logs& batchLogs = c.batchLogs;
  const std::vector<std::string>& names = c.names;
  History history;
  stop_->store(false);
  Logs trainLogs;
  for (const auto& cb : args.callbacks)
    if (cb.onTrainBegin) cb.onTrainBegin(trainLogs);
  for (Index epoch = args.initialEpoch; epoch < args.epochs; ++epoch) {
    Logs epochLogs;
    for (const auto& cb : args.callbacks)
      if (cb.onEpochBegin) cb.onEpochBegin(epoch, epochLogs);
    std::iota(order.begin(), order.end(), Index{0});
    if (args.shuffle)
      for (std::size_t i = order.size(); i > 1; --i)
        std::swap(order[i - 1],
                  order[static_cast<std::size_t>(rng.uniform() * static_cast<double>(i))]);
    // TF.js BaseLogger: Σ value · size per key, then times the rounded 1 / seen.
    std::vector<Scalar> totals(names.size(), Scalar(0));
    Index seen = 0, batch = 0;
    for (Index begin = 0; begin < samples; begin += args.batchSize, ++batch) {
      const Index end = std::min(samples, begin + args.batchSize);
      detail::clearLogs(batchLogs, c.spareLogs);
      detail::setLog(batchLogs, c.spareLogs, kBatchKey, static_cast<double>(batch));
      detail::setLog(batchLogs, c.spareLogs, kSizeKey, static_cast<double>(end - begin));
      for (const auto& cb : args.callbacks)
        if (cb.onBatchBegin) cb.onBatchBegin(batch, batchLogs);
      for (std::size_t i = 0; i < trainX->size(); ++i)
        detail::gatherRows((*trainX)[i], order, static_cast<std::size_t>(begin),
                           static_cast<std::size_t>(end), bx[i]);
      for (std::size_t o = 0; o < trainY->size(); ++o)
        detail::gatherRows((*trainY)[o], order, static_cast<std::size_t>(begin),
                           static_cast<std::size_t>(end), by[o]);
      const std::vector<double>* values = nullptr;
      try {
        values = &trainStep(bx, by);
      } catch (const TrainingError&) {
        raise<TrainingError>(who, "the loss of epoch " + std::to_string(epoch + 1) + ", batch " +
                                      std::to_string(batch) +
                                      " is not finite: training stopped (TerminateOnNaN); the "
                                      "weights are those before this batch");
      }
      seen += end - begin;
      const std::vector<double>& v = *values;
      for (std::size_t k = 0; k < names.size(); ++k) {
        detail::setLog(batchLogs, c.spareLogs, names[k], v[k]);
        totals[k] += static_cast<Scalar>(v[k]) * static_cast<Scalar>(end - begin);
      }
      for (const auto& cb : args.callbacks)
        if (cb.onBatchEnd) cb.onBatchEnd(batch, batchLogs);
      if (stop_->load()) break;
    }
    const Scalar inverse = Scalar(1) / static_cast<Scalar>(seen);
    for (std::size_t k = 0; k < names.size(); ++k)
      epochLogs[names[k]] = static_cast<double>(inverse * totals[k]);
    if (validate) {
      const std::vector<double> v = evaluate(valX, valY, EvaluateArgs{args.batchSize});
      for (std::size_t k = 0; k < names.size() && k < v.size(); ++k)
        epochLogs["val_" + names[k]] = v[k];
    }
    for (const auto& cb : args.callbacks)
      if (cb.onEpochEnd) cb.onEpochEnd(epoch, epochLogs);
    history.epoch.push_back(epoch);
    for (const auto& [key, value] : epochLogs) history.history[key].push_back(value);
    if (stop_->load()) break;
  }
  for (const auto& cb : args.callbacks)
    if (cb.onTrainEnd) cb.onTrainEnd(trainLogs);
  return history;
}

template <class Scalar>
Callback earlyStopping(LayersModel<Scalar>& model, EarlyStoppingArgs args) {
  if (args.mode != "auto" && args.mode != "min" && args.mode != "max")
    recurrent::detail::raise<ValueError>(
        "earlyStopping", "mode must be 'auto', 'min' or 'max', got '" + args.mode + "'");
  const bool greater =
      args.mode == "max" || (args.mode == "auto" && args.monitor.find("acc") != std::string::npos);
  struct State {
    double best = 0;
    Index wait = 0;
  };
  auto state = std::make_shared<State>();
  // TF.js: `minDelta` counts against the direction of improvement.
  const double minDelta = greater ? std::abs(args.minDelta) : -std::abs(args.minDelta);
  Callback cb;
  cb.onTrainBegin = [state, args, greater](Logs&) {
    state->wait = 0;
    state->best = args.baseline ? *args.baseline
                                : (greater ? -std::numeric_limits<double>::infinity()
                                           : std::numeric_limits<double>::infinity());
  };
  LayersModel<Scalar>* m = &model;
  cb.onEpochEnd = [state, args, greater, minDelta, m](Index, Logs& logs) {
    auto it = logs.find(args.monitor);
    if (it == logs.end()) return;
    const double current = it->second - minDelta;
    if (greater ? current > state->best : current < state->best) {
      state->best = it->second;
      state->wait = 0;
    } else if (++state->wait >= args.patience) {
      m->stopTraining();
    }
  };
  return cb;
}

template <class Scalar>
std::vector<detail::NamedWeight<Scalar>> LayersModel<Scalar>::getWeights() {
  std::vector<detail::NamedWeight<Scalar>> out;
  for (const auto& layer : layers_) {
    if (layer == nullptr) continue;
    for (const auto& v : layer->variables())
      out.push_back({layer->name() + "/" + v.name,
                     Tensor(v.shape, std::vector<Scalar>(v.value, v.value + v.size))});
  }
  return out;
}

template <class Scalar>
void LayersModel<Scalar>::setWeights(const std::vector<Tensor>& values) {
  const std::string who = recurrent::detail::where("LayersModel", name_, "setWeights");
  struct Target {
    detail::ModelLayer<Scalar>* layer;
    detail::LayerVariable<Scalar> variable;
  };
  std::vector<Target> all;
  for (const auto& layer : layers_)
    if (layer != nullptr)
      for (const auto& v : layer->variables()) all.push_back({layer.get(), v});
  if (values.size() != all.size())
    recurrent::detail::raise<ValueError>(who, "expected " + std::to_string(all.size()) +
                                                  " weight tensors, got " +
                                                  std::to_string(values.size()));
  for (std::size_t i = 0; i < all.size(); ++i)
    if (values[i].shape != all[i].variable.shape ||
        static_cast<Index>(values[i].data.size()) != all[i].variable.size)
      recurrent::detail::raise<ShapeError>(who, "weight " + all[i].layer->name() + "/" +
                                                    all[i].variable.name + ": expected shape " +
                                                    detail::shapeText(all[i].variable.shape) +
                                                    ", got " + detail::shapeText(values[i].shape));
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::copy(values[i].data.begin(), values[i].data.end(), all[i].variable.value);
    if (i + 1 == all.size() || all[i + 1].layer != all[i].layer) all[i].layer->variablesChanged();
  }
}

}  // namespace recurrent::io

#endif  // RECURRENT_IO_DETAIL_MODEL_TRAINING_HPP
