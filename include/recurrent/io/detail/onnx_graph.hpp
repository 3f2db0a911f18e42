// Internal, may change: the ONNX graph behind `io::OnnxModel` (see <recurrent/io/onnx.hpp>):
// tensors from TensorProtos, the recurrent nodes on the library's layers, the glue ops, and the
// executor (constant nodes computed at load, the rest at each run, in file order).
#ifndef RECURRENT_IO_DETAIL_ONNX_GRAPH_HPP
#define RECURRENT_IO_DETAIL_ONNX_GRAPH_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/io/detail/onnx_ops.hpp>
#include <recurrent/io/detail/onnx_proto.hpp>
#include <recurrent/io/detail/onnx_recurrent.hpp>
#include <recurrent/io/onnx.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::io::detail::onnx {

// ---------------------------------------------------------------------------------------------
// The graph
// ---------------------------------------------------------------------------------------------

template <class Scalar>
class Graph {
 public:
  using Tensor = OnnxTensor<Scalar>;

  Graph(const ModelProto& model, const std::string& who, const std::string& directory,
        const OnnxOptions& options);

  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& feeds);

  std::vector<OnnxValueInfo> inputs, outputs;
  std::int64_t opset = 0;

 private:
  struct Node {
    NodeProto proto;
    Op op = Op::Identity;
    std::string who;           // "node 'name' (LSTM)"
    std::vector<int> in, out;  // value ids; -1: missing optional
    std::unique_ptr<Recurrent<Scalar>> rnn;
  };
  int valueId(const std::string& name) {
    auto [it, added] = ids_.emplace(name, static_cast<int>(names_.size()));
    if (added) {
      names_.push_back(name);
      values_.emplace_back();
      state_.push_back(Defined::No);
    }
    return it->second;
  }
  void execute(Node& n);

  enum class Defined { No, Constant, Input, Computed };
  std::string who_;
  std::map<std::string, int> ids_;
  std::vector<std::string> names_;
  std::vector<Tensor> values_;
  std::vector<Defined> state_;
  std::vector<Node> nodes_;  // the nodes left for run time, in order
  std::vector<int> inputIds_, outputIds_;
};

template <class Scalar>
Graph<Scalar>::Graph(const ModelProto& model, const std::string& who, const std::string& directory,
                     const OnnxOptions& options)
    : who_(who) {
  using recurrent::detail::raise;
  if (!model.hasGraph) raise<FormatError>(who, "the ModelProto has no graph");
  if (model.irVersion < 3 || model.irVersion > 11)
    raise<ConfigError>(who, "ir_version: expected 3 to 11, got " + std::to_string(model.irVersion));
  bool found = false;
  for (const auto& o : model.opsetImport) {
    if (o.domain.empty() || o.domain == "ai.onnx") {
      opset = o.version;
      found = true;
    }
  }
  if (!found) raise<ConfigError>(who, "opset_import: no default-domain (ai.onnx) opset");
  if (opset < 7 || opset > 22)
    raise<ConfigError>(who, "opset_import: expected a default-domain opset in 7 to 22, got " +
                                std::to_string(opset));
  if (model.hasFunctions) raise<ConfigError>(who, "model-local functions are not supported");
  const GraphProto& g = model.graph;
  if (g.hasSparseInitializer) raise<ConfigError>(who, "sparse initializers are not supported");

  // Initializers: constants.
  for (std::size_t i = 0; i < g.initializer.size(); ++i) {
    const TensorProto& t = g.initializer[i];
    const std::string what = "initializer '" + t.name + "'";
    if (t.name.empty())
      raise<FormatError>(who, "initializer " + std::to_string(i) + " has no name");
    const int id = valueId(t.name);
    if (state_[static_cast<std::size_t>(id)] != Defined::No)
      raise<FormatError>(who, what + " is defined twice");
    values_[static_cast<std::size_t>(id)] = tensorFromProto<Scalar>(t, who, what, directory);
    state_[static_cast<std::size_t>(id)] = Defined::Constant;
  }
  // Graph inputs that are not initializers: fed at run time.
  for (const ValueInfoProto& v : g.input) {
    const int id = valueId(v.name);
    if (state_[static_cast<std::size_t>(id)] == Defined::Constant) continue;
    if (state_[static_cast<std::size_t>(id)] != Defined::No)
      raise<FormatError>(who, "graph input '" + v.name + "' is declared twice");
    inputs.push_back(valueInfo(v, who, "graph input '" + v.name + "'"));
    inputIds_.push_back(id);
    state_[static_cast<std::size_t>(id)] = Defined::Input;
  }
  // Nodes, in file order (ONNX requires a topological order).
  for (std::size_t k = 0; k < g.node.size(); ++k) {
    Node n;
    n.proto = g.node[k];
    const NodeProto& p = n.proto;
    n.who =
        "node " + (p.name.empty() ? std::to_string(k) : "'" + p.name + "'") + " (" + p.opType + ")";
    if (!p.domain.empty() && p.domain != "ai.onnx")
      raise<ConfigError>(who, n.who + ": domain '" + p.domain +
                                  "' is not supported (only the default ONNX domain)");
    n.op = opFromName(p.opType, who, n.who);
    checkAttributes(n.op, p, opset, who, n.who);
    bool constant = n.op != Op::LSTM && n.op != Op::GRU && n.op != Op::RNN;
    for (std::size_t i = 0; i < p.input.size(); ++i) {
      const std::string& name = p.input[i];
      if (name.empty()) {
        n.in.push_back(-1);
        continue;
      }
      const auto it = ids_.find(name);
      if (it == ids_.end() || state_[static_cast<std::size_t>(it->second)] == Defined::No)
        raise<FormatError>(who, n.who + ": input " + std::to_string(i) + " '" + name +
                                    "' is not a graph input, an initializer or the output of "
                                    "an earlier node");
      n.in.push_back(it->second);
      if (state_[static_cast<std::size_t>(it->second)] != Defined::Constant) constant = false;
    }
    checkArity(n.op, p, opset, who, n.who);
    for (const std::string& name : p.output) {
      if (name.empty()) {
        n.out.push_back(-1);
        continue;
      }
      const int id = valueId(name);
      if (state_[static_cast<std::size_t>(id)] != Defined::No)
        raise<FormatError>(who, n.who + ": output '" + name + "' is already defined");
      n.out.push_back(id);
    }
    if (n.op == Op::LSTM || n.op == Op::GRU || n.op == Op::RNN) {
      auto constantInput = [&](std::size_t i) -> const Tensor* {
        if (i >= n.in.size() || n.in[i] < 0) return nullptr;
        const auto id = static_cast<std::size_t>(n.in[i]);
        if (state_[id] != Defined::Constant)
          raise<ConfigError>(who, n.who + ": input " + std::to_string(i) + " '" + p.input[i] +
                                      "' (" + recurrentInputName(n.op, i) +
                                      ") must be constant (an initializer or computed from "
                                      "initializers only); weights fed at run time are not "
                                      "supported");
        return &values_[id];
      };
      const Tensor* w = constantInput(1);
      const Tensor* r = constantInput(2);
      const Tensor* b = constantInput(3);
      const Tensor* peep = n.op == Op::LSTM ? constantInput(7) : nullptr;
      n.rnn = std::make_unique<Recurrent<Scalar>>(n.op, p, *w, *r, b, peep, options.threads, who,
                                                  n.who);
    }
    for (int id : n.out)
      if (id >= 0) state_[static_cast<std::size_t>(id)] = Defined::Computed;
    if (constant) {
      execute(n);
      for (int id : n.out)
        if (id >= 0) state_[static_cast<std::size_t>(id)] = Defined::Constant;
    } else {
      nodes_.push_back(std::move(n));
    }
  }
  for (const ValueInfoProto& v : g.output) {
    const auto it = ids_.find(v.name);
    if (it == ids_.end() || state_[static_cast<std::size_t>(it->second)] == Defined::No)
      raise<FormatError>(who, "graph output '" + v.name + "' is not produced by any node");
    outputs.push_back(valueInfo(v, who, "graph output '" + v.name + "'"));
    outputIds_.push_back(it->second);
  }
  if (outputs.empty()) raise<FormatError>(who, "the graph has no outputs");
}

template <class Scalar>
void Graph<Scalar>::execute(Node& n) {
  std::vector<const Tensor*> in;
  in.reserve(n.in.size());
  for (int id : n.in) in.push_back(id < 0 ? nullptr : &values_[static_cast<std::size_t>(id)]);
  std::vector<Tensor*> out;
  out.reserve(n.out.size());
  for (int id : n.out) out.push_back(id < 0 ? nullptr : &values_[static_cast<std::size_t>(id)]);
  if (n.rnn) {
    n.rnn->run(in, out, who_, n.who);
  } else {
    runGlue(n.op, n.proto, opset, in, out, who_, n.who);
  }
}

template <class Scalar>
std::map<std::string, OnnxTensor<Scalar>> Graph<Scalar>::run(
    const std::map<std::string, Tensor>& feeds) {
  using recurrent::detail::raise;
  const std::string who = "OnnxModel.run";
  for (const auto& [name, tensor] : feeds) {
    (void)tensor;
    bool known = false;
    for (const auto& i : inputs) known = known || i.name == name;
    if (!known)
      raise<ValueError>(
          who, "feed '" + name + "': not an input of the graph (inputs: " + [&] {
            std::string s;
            for (const auto& i : inputs) s += (s.empty() ? "" : ", ") + i.name;
            return s;
          }() + ")");
  }
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const OnnxValueInfo& info = inputs[k];
    const auto it = feeds.find(info.name);
    if (it == feeds.end()) raise<ValueError>(who, "input '" + info.name + "': not fed");
    const Tensor& t = it->second;
    checkFeed(info, t, who);
    values_[static_cast<std::size_t>(inputIds_[k])] = t;
  }
  for (Node& n : nodes_) execute(n);
  std::map<std::string, Tensor> out;
  for (std::size_t k = 0; k < outputs.size(); ++k)
    out[outputs[k].name] = values_[static_cast<std::size_t>(outputIds_[k])];
  return out;
}

}  // namespace recurrent::io::detail::onnx

// ---------------------------------------------------------------------------------------------
// The public functions
// ---------------------------------------------------------------------------------------------

namespace recurrent::io {

template <class Scalar>
OnnxModel<Scalar>::OnnxModel(std::unique_ptr<detail::onnx::Graph<Scalar>> graph)
    : graph_(std::move(graph)) {}
template <class Scalar>
OnnxModel<Scalar>::OnnxModel(OnnxModel&&) noexcept = default;
template <class Scalar>
OnnxModel<Scalar>& OnnxModel<Scalar>::operator=(OnnxModel&&) noexcept = default;
template <class Scalar>
OnnxModel<Scalar>::~OnnxModel() = default;

template <class Scalar>
const std::vector<OnnxValueInfo>& OnnxModel<Scalar>::inputs() const {
  return graph_->inputs;
}
template <class Scalar>
const std::vector<OnnxValueInfo>& OnnxModel<Scalar>::outputs() const {
  return graph_->outputs;
}
template <class Scalar>
std::int64_t OnnxModel<Scalar>::opset() const {
  return graph_->opset;
}
template <class Scalar>
std::map<std::string, OnnxTensor<Scalar>> OnnxModel<Scalar>::run(
    const std::map<std::string, Tensor>& feeds) {
  return graph_->run(feeds);
}

template <class Scalar>
OnnxModel<Scalar> onnxFromBytes(std::string_view bytes, const std::string& name,
                                const std::string& directory, const OnnxOptions& options) {
  const std::string who = "loadOnnx '" + name + "'";
  const detail::onnx::ModelProto model = detail::onnx::parseModel(bytes.data(), bytes.size(), who);
  return OnnxModel<Scalar>(
      std::make_unique<detail::onnx::Graph<Scalar>>(model, who, directory, options));
}

template <class Scalar>
OnnxModel<Scalar> loadOnnx(const std::string& path, const OnnxOptions& options) {
  const std::string who = "loadOnnx '" + path + "'";
  std::ifstream in(path, std::ios::binary);
  if (!in) recurrent::detail::raise<IOError>(who, "cannot open the file");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) recurrent::detail::raise<IOError>(who, "cannot read the file");
  const std::size_t slash = path.find_last_of("/\\");
  const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash);
  return onnxFromBytes<Scalar>(bytes, path, directory, options);
}

}  // namespace recurrent::io

/// Declares (`prefix` = extern) or instantiates (empty `prefix`) the ONNX model code for `Scalar`
/// (see io/instantiate.hpp).
#define RECURRENT_IO_ONNX_TEMPLATES(prefix, Scalar)                                      \
  prefix template class recurrent::io::detail::onnx::Graph<Scalar>;                      \
  prefix template class recurrent::io::OnnxModel<Scalar>;                                \
  prefix template recurrent::io::OnnxModel<Scalar> recurrent::io::loadOnnx<Scalar>(      \
      const std::string&, const recurrent::io::OnnxOptions&);                            \
  prefix template recurrent::io::OnnxModel<Scalar> recurrent::io::onnxFromBytes<Scalar>( \
      std::string_view, const std::string&, const std::string&,                          \
      const recurrent::io::OnnxOptions&);

#ifdef RECURRENT_EXTERN_TEMPLATES
RECURRENT_IO_ONNX_TEMPLATES(extern, float)
RECURRENT_IO_ONNX_TEMPLATES(extern, double)
#endif

#endif  // RECURRENT_IO_DETAIL_ONNX_GRAPH_HPP
