// libFuzzer target: the ONNX import on the raw input (a whole .onnx file), in two stages:
//
// 1. recurrent::io::detail::onnx::parseModel (the protobuf reader,
//    include/recurrent/io/detail/onnx_proto.hpp), with the result checked against the input: every
//    kept value (a string byte, a scalar, a message) costs at least one input byte, so their total
//    never exceeds the input size; names hold no NUL; a Dimension is a value or a param, never
//    both;
// 2. recurrent::io::onnxFromBytes<float> (graph checks, weights mapped onto the layers, constant
//    nodes computed), then, when it loads, run() on small inputs built from the declared graph
//    inputs, checking that every declared output comes back with product(shape) values.
//
// Contract under test: whatever the bytes, only recurrent::Error (and its subclasses) is thrown;
// any other exception escapes and libFuzzer reports it as a crash, as it does for sanitizer
// errors, timeouts and allocations over -rss_limit_mb.
//
// Seeds (fuzz/corpus/onnx/): onnxruntime cases of tests/golden/onnx and shared/oracle/onnx/cases
// (their .onnx files as they are: single operators, torch exports, wire variants) and tiny
// hand-made models (an empty file, a one-node model with every attribute type, unknown fields of
// all four wire types, packed and unpacked repeated fields, external data).
#include "fuzz_common.hpp"
#include <recurrent/io/onnx.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace {

using recurrent_fuzz::check;
namespace onnx = recurrent::io::detail::onnx;
namespace io = recurrent::io;

/// Adds up the input bytes the kept values must have consumed, at the least.
struct Cost {
  std::size_t total = 0;

  void name(const std::string& s) {
    check(s.find('\0') == std::string::npos, "a name holds a NUL byte");
    total += s.size();
  }
  void names(const std::vector<std::string>& v) {
    for (const std::string& s : v) {
      name(s);
      total += 2;  // tag + length
    }
  }
  template <class T>
  void scalars(const std::vector<T>& v) {
    total += v.size();  // a packed varint is one byte at least
  }
  void tensor(const onnx::TensorProto& t) {
    name(t.name);
    scalars(t.dims);
    total += t.rawData.size();
    total += 4 * t.floatData.size() + 8 * t.doubleData.size();
    scalars(t.int32Data);
    scalars(t.int64Data);
    scalars(t.uint64Data);
    for (const std::string& s : t.stringData) total += s.size() + 2;
    for (const auto& [key, value] : t.externalData) {
      name(key);
      name(value);
      total += 2;
    }
    check(onnx::dataTypeName(t.dataType) != nullptr, "dataTypeName");
  }
  void valueInfo(const onnx::ValueInfoProto& v) {
    name(v.name);
    check(v.isTensor || (!v.hasShape && v.dims.empty() && v.elemType == 0),
          "a non-tensor type keeps tensor fields");
    for (const onnx::Dimension& d : v.dims) {
      check(!d.hasValue || d.param.empty(), "a Dimension with both dim_value and dim_param");
      name(d.param);
      total += 2;
    }
  }
};

/// Feeds for the model's inputs: fixed dims as declared, symbolic ones 2; integer inputs hold
/// small values (sequence lengths, indices), floats a deterministic ramp. Empty when a tensor
/// would be larger than 4096 values.
std::map<std::string, io::OnnxTensor<float>> feedsFor(const io::OnnxModel<float>& model) {
  std::map<std::string, io::OnnxTensor<float>> feeds;
  for (const auto& in : model.inputs()) {
    std::vector<recurrent::Index> shape;
    recurrent::Index n = 1;
    for (const recurrent::Index d : in.dims) {
      shape.push_back(d < 0 ? 2 : d);
      n *= shape.back();
      if (n > 4096) return {};
    }
    if (in.type == io::OnnxType::Float) {
      std::vector<float> v(static_cast<std::size_t>(n));
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.25f * static_cast<float>(i % 7) - 0.5f;
      feeds[in.name] = io::OnnxTensor<float>::floats(shape, v);
    } else {
      feeds[in.name] = io::OnnxTensor<float>::integers(
          in.type, shape, std::vector<std::int64_t>(static_cast<std::size_t>(n), 1));
    }
  }
  return feeds;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const onnx::ModelProto m =
        onnx::parseModel(reinterpret_cast<const char*>(data), size, "fuzz 'input.onnx'");
    Cost cost;
    cost.name(m.producerName);
    cost.name(m.producerVersion);
    cost.name(m.domain);
    for (const onnx::OperatorSetId& o : m.opsetImport) {
      cost.name(o.domain);
      cost.total += 2;
    }
    const onnx::GraphProto& g = m.graph;
    check(m.hasGraph || (g.node.empty() && g.initializer.empty() && g.input.empty()),
          "graph content without hasGraph");
    cost.name(g.name);
    for (const onnx::NodeProto& n : g.node) {
      cost.total += 2;
      cost.names(n.input);
      cost.names(n.output);
      cost.name(n.name);
      cost.name(n.opType);
      cost.name(n.domain);
      for (const onnx::AttributeProto& a : n.attribute) {
        cost.total += 2;
        cost.name(a.name);
        cost.name(a.refAttrName);
        cost.total += a.s.size();
        cost.total += 4 * a.floats.size();
        cost.scalars(a.ints);
        for (const std::string& s : a.strings) cost.total += s.size() + 2;
        check(a.hasT || a.t.name.empty(), "tensor content without hasT");
        cost.tensor(a.t);
        check(onnx::attributeTypeName(a.type) != nullptr, "attributeTypeName");
      }
    }
    for (const onnx::TensorProto& t : g.initializer) {
      cost.total += 2;
      cost.tensor(t);
    }
    for (const auto* list : {&g.input, &g.output, &g.valueInfo}) {
      for (const onnx::ValueInfoProto& v : *list) {
        cost.total += 2;
        cost.valueInfo(v);
      }
    }
    check(cost.total <= size, "the result holds more values than the input has bytes");
  } catch (const recurrent::Error& e) {
    recurrent_fuzz::rejected(e);
    return 0;
  }
  try {
    auto model = io::onnxFromBytes<float>(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    check(!model.outputs().empty(), "a loaded model has outputs");
    const auto feeds = feedsFor(model);
    if (feeds.size() != model.inputs().size()) return 0;
    const auto out = model.run(feeds);
    for (const auto& info : model.outputs()) {
      const auto it = out.find(info.name);
      check(it != out.end(), "every declared output is returned");
      const auto& t = it->second;
      const std::size_t held = t.type == io::OnnxType::Float ? t.values.size() : t.ints.size();
      check(static_cast<recurrent::Index>(held) == t.size(), "values == product(shape)");
    }
  } catch (const recurrent::Error& e) {
    recurrent_fuzz::rejected(e);
  }
  return 0;
}
