// Internal, may change: a model's graph — building it from a Sequential or functional config
// (nodes in dependency order, shapes inferred and checked), TF.js's executor order, and running
// it forwards (`predict`, training) and backwards (training). Part of io/tfjs.hpp.
#ifndef RECURRENT_IO_DETAIL_MODEL_GRAPH_HPP
#define RECURRENT_IO_DETAIL_MODEL_GRAPH_HPP

#include <recurrent/io/detail/model_config.hpp>
#include <recurrent/io/detail/model_summary.hpp>
#include <recurrent/io/detail/weight_matching.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::io {
namespace detail {

/// Assembles a model from parsed artifacts.
template <class Scalar>
class ModelBuilder {
 public:
  using Model = LayersModel<Scalar>;
  using Tensor = FlatTensor<Scalar>;

  ModelBuilder(const json& modelJson, const std::function<std::string(const std::string&)>& read,
               const LoadOptions& options)
      : s_{modelJson, read, options, Model(), false, {}, {}, {}} {}

  Model build() {
    if (!s_.root.is_object()) raise<FormatError>(kLoad(), "model.json: expected a JSON object");
    checkDepth(s_.root, kLoad());
    const json* topo = find(s_.root, "modelTopology");
    if (topo == nullptr || !topo->is_object())
      raise<FormatError>(kLoad(),
                         "model.json has no modelTopology object (is it a graph "
                         "model? only layers models load)");
    if (const json* f = find(s_.root, "format");
        f != nullptr && f->is_string() && f->get<std::string>() == "graph-model")
      raise<ConfigError>(kLoad(),
                         "format 'graph-model' is a TF.js graph model; only layers "
                         "models load");
    s_.model.topology_ = *topo;
    const json* kv = find(*topo, "keras_version");
    s_.keras3 = kv != nullptr && kv->is_string() && kv->get<std::string>().rfind("3", 0) == 0;
    const json* config = find(*topo, "model_config");
    const json& modelConfig = config != nullptr ? *config : *topo;
    const std::string cls = classOf(modelConfig, "loadLayersModel");
    const json& mc = configOf(modelConfig);
    if (const json* n = find(mc, "name"); n != nullptr && n->is_string()) s_.model.name_ = *n;
    if (cls == "Sequential") {
      const json* layers = mc.is_array() ? &mc : find(mc, "layers");
      if (layers == nullptr || !layers->is_array() || layers->empty())
        raise<ConfigError>(kLoad(), "Sequential model without layers");
      sequential(*layers);
    } else if (cls == "Model" || cls == "Functional") {
      s_.model.functional_ = true;
      functional(mc);
    } else {
      raise<ConfigError>(
          kLoad(), "unknown model class " + cls + " (expected Sequential, Model or Functional)");
    }
    inferShapes();
    WeightMatching::loadWeights(s_);
    ModelSummary::summarise(s_);
    s_.model.schedule_ = executionOrder(s_.model.nodes_, s_.model.outputs_);
    return std::move(s_.model);
  }

 private:
  using Node = typename Model::Node;
  using TensorRef = typename Model::TensorRef;
  std::size_t addLayer(std::unique_ptr<ModelLayer<Scalar>> layer, const std::string& name) {
    if (s_.byName.count(name) != 0)
      raise<ConfigError>(kLoad(), "two layers are named '" + name + "'");
    s_.byName[name] = s_.model.layers_.size();
    s_.model.layers_.push_back(std::move(layer));
    s_.nodesOf.emplace_back();
    return s_.model.layers_.size() - 1;
  }

  std::size_t addInput(const std::string& name, const Shape& shape) {
    const std::size_t id = addLayer(nullptr, name);
    Node n;
    n.layer = id;
    n.isInput = true;
    n.input = s_.model.inputs_.size();
    n.outputShapes = {shape};
    s_.nodes.push_back(std::move(n));
    s_.nodesOf[id].push_back(s_.nodes.size() - 1);
    s_.model.inputs_.push_back({s_.nodes.size() - 1, 0});
    s_.model.inputNames_.push_back(name);
    s_.model.inputShapes_.push_back(shape);
    return id;
  }

  void sequential(const json& layers) {
    TensorRef prev{};
    bool haveInput = false;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      std::string name;
      std::optional<Shape> declared;
      auto layer = LayerFactory::makeLayer(s_, layers[i], name, declared);
      if (!haveInput) {
        if (!declared)
          raise<ConfigError>(kLoad(), "the first layer of a Sequential model ('" + name +
                                          "') declares no batchInputShape/inputShape");
        if (layer == nullptr) {  // an explicit InputLayer
          addInput(name, *declared);
          prev = s_.model.inputs_.back();
          haveInput = true;
          continue;
        }
        addInput(name + "_input", *declared);
        prev = s_.model.inputs_.back();
        haveInput = true;
      } else if (layer == nullptr) {
        raise<ConfigError>(kLoad(),
                           "InputLayer '" + name + "' in the middle of a Sequential model");
      }
      const std::size_t id = addLayer(std::move(layer), name);
      Node n;
      n.layer = id;
      n.inputs = {prev};
      s_.nodes.push_back(std::move(n));
      s_.nodesOf[id].push_back(s_.nodes.size() - 1);
      prev = {s_.nodes.size() - 1, 0};
    }
    s_.model.outputs_ = {prev};
    // Only an InputLayer: TF.js's Sequential outputs its input (an identity model, as a
    // functional model whose output is an input), named after the InputLayer.
    const Node& last = s_.nodes[prev.node];
    s_.model.outputNames_ = {last.isInput ? s_.model.inputNames_[last.input]
                                          : s_.model.layers_[last.layer]->name()};
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
      auto layer = LayerFactory::makeLayer(s_, entry, name, declared);
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
      const std::size_t id = s_.byName[r.layer];
      Node n;
      n.layer = id;
      n.isInput = true;
      n.input = s_.model.inputs_.size();
      n.outputShapes = {it->second};
      s_.nodes.push_back(std::move(n));
      s_.nodesOf[id].push_back(s_.nodes.size() - 1);
      s_.model.inputs_.push_back({s_.nodes.size() - 1, 0});
      s_.model.inputNames_.push_back(r.layer);
      s_.model.inputShapes_.push_back(it->second);
    }
    // Pass 2: order the nodes so that each comes after its inputs.
    std::vector<std::size_t> nodeCount(s_.model.layers_.size(), 0);
    std::vector<std::vector<std::size_t>> pendingOf(s_.model.layers_.size());
    for (std::size_t i = 0; i < pending.size(); ++i) pendingOf[pending[i].layer].push_back(i);
    std::vector<bool> done(pending.size(), false);
    std::vector<std::optional<std::size_t>> nodeId(pending.size());
    auto resolve = [&](const Ref& r) -> std::optional<TensorRef> {
      auto it = s_.byName.find(r.layer);
      if (it == s_.byName.end())
        raise<ConfigError>(who, "a node refers to an unknown layer '" + r.layer + "'");
      const std::size_t l = it->second;
      if (s_.model.layers_[l] == nullptr) {
        if (s_.nodesOf[l].empty())
          raise<ConfigError>(who, "InputLayer '" + r.layer + "' is used but not in input_layers");
        if (r.node != 0 || r.tensor != 0)
          raise<ConfigError>(who, "bad reference to InputLayer '" + r.layer + "'");
        return TensorRef{s_.nodesOf[l][0], 0};
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
        s_.nodes.push_back(std::move(n));
        nodeId[i] = s_.nodes.size() - 1;
        done[i] = progress = true;
      }
    }
    for (std::size_t i = 0; i < pending.size(); ++i)
      if (!done[i])
        raise<ConfigError>(who, "layer '" + s_.model.layers_[pending[i].layer]->name() +
                                    "' has a node whose inputs never become available (a cycle, "
                                    "or an input that is not in input_layers)");
    for (std::size_t l = 0; l < pendingOf.size(); ++l)
      for (std::size_t p : pendingOf[l]) s_.nodesOf[l].push_back(*nodeId[p]);
    for (const Ref& r : refList(find(mc, "output_layers", "outputLayers"), who, "output_layers")) {
      auto t = resolve(r);
      s_.model.outputs_.push_back(*t);
      s_.model.outputNames_.push_back(r.layer);
    }
  }

  void inferShapes() {
    for (Node& n : s_.nodes) {
      if (n.isInput) continue;
      for (const TensorRef& r : n.inputs) {
        const Node& src = s_.nodes[r.node];
        if (r.tensor >= src.outputShapes.size())
          raise<ConfigError>(kLoad(), "layer '" + s_.model.layers_[n.layer]->name() +
                                          "' takes output " + std::to_string(r.tensor) +
                                          " of a node that has " +
                                          std::to_string(src.outputShapes.size()));
        n.inputShapes.push_back(src.outputShapes[r.tensor]);
      }
      n.outputShapes = s_.model.layers_[n.layer]->outputShapes(n.inputShapes);
      if (!s_.model.functional_ && n.outputShapes.size() != 1)
        raise<ConfigError>(s_.model.layers_[n.layer]->who("build"),
                           "All layers in a Sequential model should have a single output tensor "
                           "(returnState or mergeMode null need a functional model)");
    }
    for (const TensorRef& r : s_.model.outputs_) {
      if (r.tensor >= s_.nodes[r.node].outputShapes.size())
        raise<ConfigError>(kLoad(), "output_layers names output " + std::to_string(r.tensor) +
                                        " of a layer with " +
                                        std::to_string(s_.nodes[r.node].outputShapes.size()));
      s_.model.outputShapes_.push_back(s_.nodes[r.node].outputShapes[r.tensor]);
    }
  }

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

  ModelBuildState<Scalar> s_;
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
  run.values.resize(nodes_.size());  // a node's outputs are overwritten when it is computed
  run.masks.resize(nodes_.size());   // (every computed node sets or clears its mask)
  const Tensor* callMask = nullptr;
  std::vector<const Tensor*>& ins = run.ins;
  std::vector<const Tensor*>& masks = run.inMasks;
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
    layer.forward(ins, callMask, mode, run.values[n]);
    if (layer.supportsMasking()) {
      layer.computeMask(ins, firstMask, masks, run.masks[n]);
    } else {
      run.masks[n].reset();
    }
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

}  // namespace recurrent::io

#endif  // RECURRENT_IO_DETAIL_MODEL_GRAPH_HPP
