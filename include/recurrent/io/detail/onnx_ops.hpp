// Internal, may change: the ONNX ops other than the recurrent ones ("glue"), their attribute and
// arity checks (at load), and the small helpers the ONNX graph shares.
#ifndef RECURRENT_IO_DETAIL_ONNX_OPS_HPP
#define RECURRENT_IO_DETAIL_ONNX_OPS_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/io/detail/onnx_proto.hpp>
#include <recurrent/io/onnx.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace recurrent::io::detail::onnx {

using recurrent::detail::raise;

enum class Op {
  LSTM,
  GRU,
  RNN,
  Transpose,
  Squeeze,
  Unsqueeze,
  Concat,
  Slice,
  Gather,
  Reshape,
  Cast,
  Identity,
  Constant,
  Shape,
  ConstantOfShape,
  Expand,
  Add,
  Sub,
  Mul,
  Div,
  MatMul,
  Gemm,
  Range,
  ReduceProd,
  ScatterElements,
  TopK,
};

struct OpInfo {
  const char* name;
  Op op;
  int minInputs, maxInputs, minOutputs, maxOutputs;
  std::vector<const char*> attributes;
};

inline const std::vector<OpInfo>& opTable() {
  static const std::vector<OpInfo> kOps = {
      {"LSTM",
       Op::LSTM,
       3,
       8,
       0,
       3,
       {"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size",
        "input_forget", "layout"}},
      {"GRU",
       Op::GRU,
       3,
       6,
       0,
       2,
       {"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size",
        "layout", "linear_before_reset"}},
      {"RNN",
       Op::RNN,
       3,
       6,
       0,
       2,
       {"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size",
        "layout"}},
      {"Transpose", Op::Transpose, 1, 1, 1, 1, {"perm"}},
      {"Squeeze", Op::Squeeze, 1, 2, 1, 1, {"axes"}},
      {"Unsqueeze", Op::Unsqueeze, 1, 2, 1, 1, {"axes"}},
      {"Concat", Op::Concat, 1, 1 << 20, 1, 1, {"axis"}},
      {"Slice", Op::Slice, 1, 5, 1, 1, {"starts", "ends", "axes"}},
      {"Gather", Op::Gather, 2, 2, 1, 1, {"axis"}},
      {"Reshape", Op::Reshape, 2, 2, 1, 1, {"allowzero"}},
      {"Cast", Op::Cast, 1, 1, 1, 1, {"to", "saturate"}},
      {"Identity", Op::Identity, 1, 1, 1, 1, {}},
      {"Constant",
       Op::Constant,
       0,
       0,
       1,
       1,
       {"value", "value_float", "value_floats", "value_int", "value_ints"}},
      {"Shape", Op::Shape, 1, 1, 1, 1, {"start", "end"}},
      {"ConstantOfShape", Op::ConstantOfShape, 1, 1, 1, 1, {"value"}},
      {"Expand", Op::Expand, 2, 2, 1, 1, {}},
      {"Add", Op::Add, 2, 2, 1, 1, {}},
      {"Sub", Op::Sub, 2, 2, 1, 1, {}},
      {"Mul", Op::Mul, 2, 2, 1, 1, {}},
      {"Div", Op::Div, 2, 2, 1, 1, {}},
      {"MatMul", Op::MatMul, 2, 2, 1, 1, {}},
      {"Gemm", Op::Gemm, 2, 3, 1, 1, {"alpha", "beta", "transA", "transB"}},
      {"Range", Op::Range, 3, 3, 1, 1, {}},
      {"ReduceProd", Op::ReduceProd, 1, 2, 1, 1, {"axes", "keepdims", "noop_with_empty_axes"}},
      {"ScatterElements", Op::ScatterElements, 3, 3, 1, 1, {"axis", "reduction"}},
      {"TopK", Op::TopK, 1, 2, 2, 2, {"axis", "k", "largest", "sorted"}},
  };
  return kOps;
}

inline const OpInfo& opInfo(Op op) {
  for (const OpInfo& o : opTable())
    if (o.op == op) return o;
  return opTable().front();
}

inline Op opFromName(const std::string& name, const std::string& who, const std::string& node) {
  for (const OpInfo& o : opTable())
    if (name == o.name) return o.op;
  std::string list;
  for (const OpInfo& o : opTable()) list += (list.empty() ? "" : ", ") + std::string(o.name);
  raise<ConfigError>(who,
                     node + ": op type '" + name + "' is not supported (supported: " + list + ")");
}

template <class Dims>
std::string dimsString(const Dims& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(static_cast<long long>(dims[i]));
  return s + "]";
}

/// True when the product of `dims`, each counted as at least 1, is at most `limit`: what strides
/// over the shape reach (a dim of 0 empties a tensor but does not bound its other dims).
template <class Dims>
bool capacityWithin(const Dims& dims, Index limit) {
  Index cap = 1;
  for (const auto d : dims) {
    if (d < 0) return false;
    const Index m = std::max<Index>(static_cast<Index>(d), 1);
    if (cap > limit / m) return false;
    cap *= m;
  }
  return true;
}

inline const AttributeProto* findAttribute(const NodeProto& n, const char* name) {
  for (const AttributeProto& a : n.attribute)
    if (a.name == name) return &a;
  return nullptr;
}

inline const AttributeProto* typedAttribute(const NodeProto& n, const char* name, std::int32_t type,
                                            const std::string& who, const std::string& node) {
  const AttributeProto* a = findAttribute(n, name);
  if (a != nullptr && a->type != type)
    raise<ConfigError>(who, node + ": attribute '" + name + "': expected type " +
                                attributeTypeName(type) + ", got " + attributeTypeName(a->type));
  return a;
}
inline std::int64_t intAttribute(const NodeProto& n, const char* name, std::int64_t dflt,
                                 const std::string& who, const std::string& node) {
  const AttributeProto* a = typedAttribute(n, name, 2, who, node);
  return a ? a->i : dflt;
}
inline float floatAttribute(const NodeProto& n, const char* name, float dflt,
                            const std::string& who, const std::string& node) {
  const AttributeProto* a = typedAttribute(n, name, 1, who, node);
  return a ? a->f : dflt;
}
inline std::string stringAttribute(const NodeProto& n, const char* name, const std::string& dflt,
                                   const std::string& who, const std::string& node) {
  const AttributeProto* a = typedAttribute(n, name, 3, who, node);
  return a ? a->s : dflt;
}
inline const std::vector<std::int64_t>* intsAttribute(const NodeProto& n, const char* name,
                                                      const std::string& who,
                                                      const std::string& node) {
  const AttributeProto* a = typedAttribute(n, name, 7, who, node);
  return a ? &a->ints : nullptr;
}
inline const std::vector<float>* floatsAttribute(const NodeProto& n, const char* name,
                                                 const std::string& who, const std::string& node) {
  const AttributeProto* a = typedAttribute(n, name, 6, who, node);
  return a ? &a->floats : nullptr;
}
inline const std::vector<std::string>* stringsAttribute(const NodeProto& n, const char* name,
                                                        const std::string& who,
                                                        const std::string& node) {
  const AttributeProto* a = typedAttribute(n, name, 8, who, node);
  return a ? &a->strings : nullptr;
}

/// Load-time checks of a node's attributes: known names, no duplicates, the forms of the opset.
inline void checkAttributes(Op op, const NodeProto& n, std::int64_t opset, const std::string& who,
                            const std::string& node) {
  const OpInfo& info = opInfo(op);
  std::set<std::string> seen;
  for (const AttributeProto& a : n.attribute) {
    if (!seen.insert(a.name).second)
      raise<FormatError>(who, node + ": attribute '" + a.name + "' appears twice");
    if (!a.refAttrName.empty())
      raise<ConfigError>(who, node + ": attribute '" + a.name +
                                  "' refers to a function attribute (not supported)");
    bool known = false;
    for (const char* k : info.attributes) known = known || a.name == k;
    if (!known) {
      std::string list;
      for (const char* k : info.attributes) list += (list.empty() ? "" : ", ") + std::string(k);
      raise<ConfigError>(who, node + ": unknown attribute '" + a.name + "' (" + info.name +
                                  " takes: " + (list.empty() ? "none" : list) + ")");
    }
  }
  auto notInOpset = [&](const char* name, const char* why) {
    if (findAttribute(n, name) != nullptr)
      raise<ConfigError>(who, node + ": attribute '" + name + "' " + why + " (opset " +
                                  std::to_string(opset) + ")");
  };
  if ((op == Op::Squeeze || op == Op::Unsqueeze) && opset >= 13)
    notInOpset("axes", "is an input since opset 13");
  if (op == Op::Slice && opset >= 10) {
    notInOpset("starts", "is an input since opset 10");
    notInOpset("ends", "is an input since opset 10");
    notInOpset("axes", "is an input since opset 10");
  }
  if (op == Op::Shape && opset < 15) {
    notInOpset("start", "needs opset 15");
    notInOpset("end", "needs opset 15");
  }
  if (op == Op::Reshape && opset < 14) notInOpset("allowzero", "needs opset 14");
  if ((op == Op::LSTM || op == Op::GRU || op == Op::RNN) && opset < 14)
    notInOpset("layout", "needs opset 14");
  if (op == Op::Cast && opset < 19) notInOpset("saturate", "needs opset 19");
  if (op == Op::TopK && opset >= 10) notInOpset("k", "is an input since opset 10");
  if (op == Op::ReduceProd && opset >= 18) notInOpset("axes", "is an input since opset 18");
  if (op == Op::ReduceProd && opset < 18) notInOpset("noop_with_empty_axes", "needs opset 18");
  if (op == Op::ScatterElements && opset < 16) notInOpset("reduction", "needs opset 16");
  if (op == Op::Constant) {
    if (n.attribute.size() != 1)
      raise<ConfigError>(who, node + ": expected exactly one value attribute, got " +
                                  std::to_string(n.attribute.size()));
  }
}

/// Load-time check of the input and output counts.
inline void checkArity(Op op, const NodeProto& n, std::int64_t opset, const std::string& who,
                       const std::string& node) {
  const OpInfo& info = opInfo(op);
  int maxIn = info.maxInputs;
  if ((op == Op::Squeeze || op == Op::Unsqueeze) && opset < 13) maxIn = 1;
  if (op == Op::Slice && opset < 10) maxIn = 1;
  if (op == Op::TopK && opset < 10) maxIn = 1;
  if (op == Op::ReduceProd && opset < 18) maxIn = 1;
  const auto count = static_cast<int>(n.input.size());
  int required = info.minInputs;
  if (op == Op::Unsqueeze && opset >= 13) required = 2;
  if (op == Op::TopK && opset >= 10) required = 2;
  if (count < required || count > maxIn)
    raise<FormatError>(who, node + ": expected " + std::to_string(required) +
                                (maxIn > required ? " to " + std::to_string(maxIn) : "") +
                                " inputs, got " + std::to_string(count));
  for (int i = 0; i < std::min(count, required); ++i)
    if (n.input[static_cast<std::size_t>(i)].empty() &&
        !(op == Op::LSTM || op == Op::GRU || op == Op::RNN ? i >= 3 : false))
      raise<FormatError>(who, node + ": input " + std::to_string(i) + " is required");
  const auto outs = static_cast<int>(n.output.size());
  if (outs < info.minOutputs || outs > info.maxOutputs)
    raise<FormatError>(who, node + ": expected " + std::to_string(info.minOutputs) + " to " +
                                std::to_string(info.maxOutputs) + " outputs, got " +
                                std::to_string(outs));
}

inline const char* recurrentInputName(Op op, std::size_t i) {
  static const char* const kNames[] = {"X",         "W",         "R", "B", "sequence_lens",
                                       "initial_h", "initial_c", "P"};
  (void)op;
  return i < 8 ? kNames[i] : "?";
}

inline OnnxType elementType(std::int32_t t, const std::string& who, const std::string& what) {
  if (t == 1 || t == 6 || t == 7) return static_cast<OnnxType>(t);
  raise<ConfigError>(
      who, what + ": expected element type FLOAT, INT32 or INT64, got " + dataTypeName(t));
}

inline OnnxValueInfo valueInfo(const ValueInfoProto& v, const std::string& who,
                               const std::string& what) {
  OnnxValueInfo out;
  out.name = v.name;
  if (v.name.empty()) raise<FormatError>(who, what + " has no name");
  // A value without a tensor type is allowed (intermediate value_info style): FLOAT assumed.
  out.type = v.isTensor && v.elemType != 0 ? elementType(v.elemType, who, what) : OnnxType::Float;
  out.hasShape = v.hasShape;
  for (const Dimension& d : v.dims) {
    out.dims.push_back(d.hasValue ? static_cast<Index>(d.value) : Index{-1});
    out.dimNames.push_back(d.param);
  }
  return out;
}

inline const char* typeName(OnnxType t) {
  return t == OnnxType::Float ? "FLOAT" : t == OnnxType::Int32 ? "INT32" : "INT64";
}

template <class Scalar>
void checkFeed(const OnnxValueInfo& info, const OnnxTensor<Scalar>& t, const std::string& who) {
  const std::string what = "input '" + info.name + "'";
  if (t.type != info.type)
    raise<ValueError>(
        who, what + ": expected element type " + typeName(info.type) + ", got " + typeName(t.type));
  for (Index d : t.shape)
    if (d < 0) raise<ShapeError>(who, what + ": negative dimension in " + dimsString(t.shape));
  if (!capacityWithin(t.shape, Index{1} << 40))
    raise<ShapeError>(who,
                      what + ": shape " + dimsString(t.shape) + " spans more than 2^40 values");
  const std::size_t held = t.type == OnnxType::Float ? t.values.size() : t.ints.size();
  if (static_cast<Index>(held) != t.size())
    raise<ShapeError>(who, what + ": shape " + dimsString(t.shape) + " needs " +
                               std::to_string(t.size()) + " values, got " + std::to_string(held));
  if (!info.hasShape) return;
  bool ok = t.shape.size() == info.dims.size();
  for (std::size_t i = 0; ok && i < t.shape.size(); ++i)
    ok = info.dims[i] < 0 || info.dims[i] == t.shape[i];
  if (!ok) {
    std::string expected = "[";
    for (std::size_t i = 0; i < info.dims.size(); ++i)
      expected +=
          (i ? ", " : "") +
          (info.dims[i] >= 0 ? std::to_string(info.dims[i])
                             : (info.dimNames[i].empty() ? std::string("?") : info.dimNames[i]));
    raise<ShapeError>(who, what + ": expected shape " + expected + "], got " + dimsString(t.shape));
  }
}

// ---------------------------------------------------------------------------------------------
// Tensors from the file
// ---------------------------------------------------------------------------------------------

/// The element count of `dims`, each ≥ 0, their product (a 0 counted as 1) at most 2^40 (else
/// FormatError).
inline Index elementCount(const std::vector<std::int64_t>& dims, const std::string& who,
                          const std::string& what) {
  for (std::int64_t d : dims)
    if (d < 0)
      recurrent::detail::raise<FormatError>(
          who,
          what + ": dims " + dimsString(dims) + ": expected dims ≥ 0, got " + std::to_string(d));
  if (!capacityWithin(dims, Index{1} << 40))
    recurrent::detail::raise<FormatError>(
        who, what + ": dims " + dimsString(dims) + " span more than 2^40 elements");
  Index n = 1;
  for (std::int64_t d : dims) n *= static_cast<Index>(d);
  return n;
}

/// Reads `bytes` bytes at `offset` of the external data file `location` (relative to
/// `directory`, which it may not leave).
inline std::string readExternal(const std::string& directory, const std::string& location,
                                std::int64_t offset, std::size_t bytes, const std::string& who,
                                const std::string& what) {
  using recurrent::detail::raise;
  if (directory.empty())
    raise<ConfigError>(who, what + ": external data '" + location +
                                "' needs the model's directory (load the model from a file)");
  const bool absolute = !location.empty() && (location[0] == '/' || location[0] == '\\' ||
                                              location.find(':') != std::string::npos);
  bool parent = false;
  for (std::size_t start = 0; start <= location.size();) {
    std::size_t end = location.find_first_of("/\\", start);
    if (end == std::string::npos) end = location.size();
    if (location.compare(start, end - start, "..") == 0 && end - start == 2) parent = true;
    start = end + 1;
  }
  if (location.empty() || absolute || parent || location.find('\0') != std::string::npos)
    raise<FormatError>(who, what + ": external data location '" + location +
                                "': expected a relative path inside the model's directory");
  if (offset < 0)
    raise<FormatError>(
        who, what + ": external data offset: expected ≥ 0, got " + std::to_string(offset));
  const std::string path = directory + "/" + location;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) raise<IOError>(who, what + ": cannot open external data file '" + location + "'");
  const auto size = static_cast<std::int64_t>(in.tellg());
  if (size < 0 || offset > size || static_cast<std::uint64_t>(size - offset) < bytes)
    raise<FormatError>(who, what + ": external data file '" + location + "' holds " +
                                std::to_string(size) + " bytes, expected at least " +
                                std::to_string(offset) + " + " + std::to_string(bytes));
  std::string out(bytes, '\0');
  in.seekg(offset);
  in.read(out.data(), static_cast<std::streamsize>(bytes));
  if (!in) raise<IOError>(who, what + ": cannot read external data file '" + location + "'");
  return out;
}

/// A TensorProto as a tensor of the graph (FLOAT → Scalar, INT32/INT64 → int64).
template <class Scalar>
OnnxTensor<Scalar> tensorFromProto(const TensorProto& p, const std::string& who,
                                   const std::string& what, const std::string& directory) {
  using recurrent::detail::raise;
  OnnxTensor<Scalar> out;
  if (p.dataType != 1 && p.dataType != 6 && p.dataType != 7)
    raise<ConfigError>(who, what + ": expected element type FLOAT, INT32 or INT64, got " +
                                dataTypeName(p.dataType) +
                                (p.dataType == 11 ? " (export the model in float32)" : ""));
  if (p.hasSegment) raise<FormatError>(who, what + ": segmented tensors are not supported");
  out.type = static_cast<OnnxType>(p.dataType);
  const Index n = elementCount(p.dims, who, what);
  const std::size_t width = p.dataType == 7 ? 8 : 4;
  const std::size_t bytes = static_cast<std::size_t>(n) * width;
  for (std::int64_t d : p.dims) out.shape.push_back(static_cast<Index>(d));

  const std::string* raw = &p.rawData;
  std::string external;
  if (p.dataLocation == 1) {
    std::string location;
    std::int64_t offset = 0;
    std::int64_t length = -1;
    for (const auto& entry : p.externalData) {
      const std::string& key = entry.first;
      const std::string& value = entry.second;
      auto number = [&](const std::string& v) {
        if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
          raise<FormatError>(who, what + ": external data " + key +
                                      ": expected a non-negative integer, got '" + v + "'");
        return static_cast<std::int64_t>(std::stoll(v));
      };
      if (key == "location") {
        location = value;
      } else if (key == "offset") {
        offset = number(value);
      } else if (key == "length") {
        length = number(value);
      }
    }
    if (length >= 0 && static_cast<std::uint64_t>(length) != bytes)
      raise<FormatError>(who, what + ": external data length " + std::to_string(length) +
                                  " bytes, expected " + std::to_string(bytes) + " for dims " +
                                  dimsString(p.dims));
    external = readExternal(directory, location, offset, bytes, who, what);
    raw = &external;
  } else if (p.dataLocation != 0) {
    raise<FormatError>(who, what + ": data_location: expected 0 (DEFAULT) or 1 (EXTERNAL), got " +
                                std::to_string(p.dataLocation));
  }

  const std::size_t typed = p.dataType == 1   ? p.floatData.size()
                            : p.dataType == 6 ? p.int32Data.size()
                                              : p.int64Data.size();
  if (!raw->empty() || p.dataLocation == 1) {
    if (typed != 0) raise<FormatError>(who, what + ": holds both raw_data and typed data");
    if (raw->size() != bytes)
      raise<FormatError>(who, what + ": raw_data holds " + std::to_string(raw->size()) +
                                  " bytes, expected " + std::to_string(bytes) + " (" +
                                  std::to_string(n) + " × " + std::to_string(width) +
                                  ") for dims " + dimsString(p.dims));
    const auto* b = reinterpret_cast<const unsigned char*>(raw->data());
    auto le = [&](std::size_t at, std::size_t w) {
      std::uint64_t v = 0;
      for (std::size_t k = 0; k < w; ++k) v |= std::uint64_t{b[at + k]} << (8 * k);
      return v;
    };
    if (p.dataType == 1) {
      out.values.resize(static_cast<std::size_t>(n));
      for (std::size_t i = 0; i < out.values.size(); ++i) {
        const auto bits = static_cast<std::uint32_t>(le(4 * i, 4));
        float f;
        std::memcpy(&f, &bits, 4);
        out.values[i] = static_cast<Scalar>(f);
      }
    } else {
      out.ints.resize(static_cast<std::size_t>(n));
      for (std::size_t i = 0; i < out.ints.size(); ++i) {
        if (p.dataType == 6) {
          const auto bits = static_cast<std::uint32_t>(le(4 * i, 4));
          std::int32_t v;
          std::memcpy(&v, &bits, 4);
          out.ints[i] = v;
        } else {
          const std::uint64_t bits = le(8 * i, 8);
          std::int64_t v;
          std::memcpy(&v, &bits, 8);
          out.ints[i] = v;
        }
      }
    }
    return out;
  }
  if (typed != static_cast<std::size_t>(n))
    raise<FormatError>(who, what + ": holds " + std::to_string(typed) + " values, expected " +
                                std::to_string(n) + " for dims " + dimsString(p.dims));
  if (p.dataType == 1) {
    out.values.assign(p.floatData.begin(), p.floatData.end());
  } else if (p.dataType == 6) {
    out.ints.assign(p.int32Data.begin(), p.int32Data.end());
  } else {
    out.ints = p.int64Data;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Glue ops
// ---------------------------------------------------------------------------------------------

inline std::vector<Index> stridesOf(const std::vector<Index>& shape) {
  std::vector<Index> s(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

/// Calls f(values) or f(ints) on the tensor's storage.
template <class Scalar, class F>
decltype(auto) withData(OnnxTensor<Scalar>& t, F&& f) {
  if (t.type == OnnxType::Float) return f(t.values);
  return f(t.ints);
}
template <class Scalar, class F>
decltype(auto) withData(const OnnxTensor<Scalar>& t, F&& f) {
  if (t.type == OnnxType::Float) return f(t.values);
  return f(t.ints);
}

template <class Scalar>
class Glue {
 public:
  using Tensor = OnnxTensor<Scalar>;
  Glue(const NodeProto& n, std::int64_t opset, const std::vector<const Tensor*>& in,
       const std::vector<Tensor*>& out, const std::string& who, const std::string& node)
      : n_(n), opset_(opset), in_(in), out_(out), who_(who), node_(node) {}

  void run(Op op) {
    switch (op) {
      case Op::Identity:
        return set(*input(0));
      case Op::Transpose:
        return transpose();
      case Op::Squeeze:
        return squeeze();
      case Op::Unsqueeze:
        return unsqueeze();
      case Op::Concat:
        return concat();
      case Op::Slice:
        return slice();
      case Op::Gather:
        return gather();
      case Op::Reshape:
        return reshape();
      case Op::Cast:
        return cast();
      case Op::Constant:
        return constant();
      case Op::Shape:
        return shape();
      case Op::ConstantOfShape:
        return constantOfShape();
      case Op::Expand:
        return expand();
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
      case Op::Div:
        return binary(op);
      case Op::MatMul:
        return matmul();
      case Op::Gemm:
        return gemm();
      case Op::Range:
        return range();
      case Op::ReduceProd:
        return reduceProd();
      case Op::ScatterElements:
        return scatterElements();
      case Op::TopK:
        return topK();
      default:
        fail("not a glue op");
    }
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    raise<ShapeError>(who_, node_ + ": " + msg);
  }
  const Tensor* input(std::size_t i) const {
    if (i >= in_.size() || in_[i] == nullptr) fail("input " + std::to_string(i) + " is missing");
    return in_[i];
  }
  const Tensor* optional(std::size_t i) const { return i < in_.size() ? in_[i] : nullptr; }
  void set(Tensor t, std::size_t i = 0) {
    // Every result's shape spans at most 2^26 values (zeros counted as 1), so the strides of the
    // ops that read it cannot overflow.
    if (!capacityWithin(t.shape, kMaxElements))
      fail("a result of shape " + dimsString(t.shape) + " spans more than 2^26 values");
    if (i < out_.size() && out_[i] != nullptr) *out_[i] = std::move(t);
  }
  /// An integer tensor's values (axes, shapes, indices).
  const std::vector<std::int64_t>& ints(std::size_t i, const char* what) const {
    const Tensor* t = input(i);
    if (t->type == OnnxType::Float)
      fail(std::string("input ") + std::to_string(i) + " (" + what +
           "): expected an INT32 or INT64 tensor, got FLOAT");
    return t->ints;
  }
  Index axis(std::int64_t a, std::size_t rank, const char* what) const {
    const auto r = static_cast<std::int64_t>(rank);
    if (a < -r || a >= r)
      fail(std::string(what) + ": expected an axis in [" + std::to_string(-r) + ", " +
           std::to_string(r - 1) + "], got " + std::to_string(a));
    return static_cast<Index>(a < 0 ? a + r : a);
  }
  template <class T>
  static Tensor like(const Tensor& src, std::vector<Index> shape, std::vector<T> data) {
    Tensor t;
    t.type = src.type;
    t.shape = std::move(shape);
    if constexpr (std::is_same_v<T, Scalar>) {
      t.values = std::move(data);
    } else {
      t.ints = std::move(data);
    }
    return t;
  }
  /// A glue result holds at most 2^26 values (256 MiB of float): far above what recurrent
  /// models pass between ops, and a bound on what a hostile file can make us allocate.
  static constexpr Index kMaxElements = Index{1} << 26;
  static void checkSize(Index n, const char* what, const Glue& g) {
    if (n < 0 || n > kMaxElements)
      g.fail(std::string(what) + ": a result of " + std::to_string(n) +
             " values (the limit is 2^26)");
  }

  void transpose() {
    const Tensor& x = *input(0);
    const std::size_t rank = x.shape.size();
    std::vector<Index> perm(rank);
    if (const auto* p = intsAttribute(n_, "perm", who_, node_)) {
      if (p->size() != rank)
        fail("perm: expected " + std::to_string(rank) + " axes, got " + dimsString(*p));
      std::vector<bool> used(rank, false);
      for (std::size_t i = 0; i < rank; ++i) {
        perm[i] = axis((*p)[i], rank, "perm");
        if (used[static_cast<std::size_t>(perm[i])])
          fail("perm: axis repeated in " + dimsString(*p));
        used[static_cast<std::size_t>(perm[i])] = true;
      }
    } else {
      for (std::size_t i = 0; i < rank; ++i) perm[i] = static_cast<Index>(rank - 1 - i);
    }
    std::vector<Index> shape(rank);
    for (std::size_t i = 0; i < rank; ++i) shape[i] = x.shape[static_cast<std::size_t>(perm[i])];
    const auto src = stridesOf(x.shape);
    withData(x, [&](const auto& data) {
      using T = typename std::decay_t<decltype(data)>::value_type;
      std::vector<T> out(data.size());
      std::vector<Index> idx(rank, 0);
      for (std::size_t k = 0; k < out.size(); ++k) {
        Index off = 0;
        for (std::size_t i = 0; i < rank; ++i)
          off += idx[i] * src[static_cast<std::size_t>(perm[i])];
        out[k] = data[static_cast<std::size_t>(off)];
        for (std::size_t i = rank; i-- > 0;) {
          if (++idx[i] < shape[i]) break;
          idx[i] = 0;
        }
      }
      set(like(x, shape, std::move(out)));
    });
  }

  std::vector<std::int64_t> axesOf() const {
    if (opset_ >= 13) {
      if (optional(1) != nullptr) return ints(1, "axes");
      return {};
    }
    if (const auto* a = intsAttribute(n_, "axes", who_, node_)) return *a;
    return {};
  }
  void squeeze() {
    const Tensor& x = *input(0);
    const std::vector<std::int64_t> axes = axesOf();
    std::vector<bool> drop(x.shape.size(), false);
    if (axes.empty()) {
      for (std::size_t i = 0; i < x.shape.size(); ++i) drop[i] = x.shape[i] == 1;
    } else {
      for (std::int64_t a : axes) {
        const auto i = static_cast<std::size_t>(axis(a, x.shape.size(), "axes"));
        if (x.shape[i] != 1)
          fail("axes: dimension " + std::to_string(i) + " of " + dimsString(x.shape) + " is not 1");
        drop[i] = true;
      }
    }
    Tensor t = x;
    t.shape.clear();
    for (std::size_t i = 0; i < x.shape.size(); ++i)
      if (!drop[i]) t.shape.push_back(x.shape[i]);
    set(std::move(t));
  }
  void unsqueeze() {
    const Tensor& x = *input(0);
    const std::vector<std::int64_t> axes = axesOf();
    const std::size_t rank = x.shape.size() + axes.size();
    if (axes.empty()) fail("axes: expected at least one axis");
    std::vector<bool> inserted(rank, false);
    for (std::int64_t a : axes) {
      const auto i = static_cast<std::size_t>(axis(a, rank, "axes"));
      if (inserted[i]) fail("axes: repeated axis in " + dimsString(axes));
      inserted[i] = true;
    }
    Tensor t = x;
    t.shape.clear();
    for (std::size_t i = 0, k = 0; i < rank; ++i) t.shape.push_back(inserted[i] ? 1 : x.shape[k++]);
    set(std::move(t));
  }
  void concat() {
    const AttributeProto* a = findAttribute(n_, "axis");
    if (a == nullptr) fail("attribute 'axis' is required");
    const Tensor& first = *input(0);
    const std::size_t rank = first.shape.size();
    if (rank == 0) fail("cannot concatenate scalars");
    const auto ax =
        static_cast<std::size_t>(axis(intAttribute(n_, "axis", 0, who_, node_), rank, "axis"));
    std::vector<Index> shape = first.shape;
    shape[ax] = 0;
    for (std::size_t i = 0; i < in_.size(); ++i) {
      const Tensor& t = *input(i);
      if (t.type != first.type) fail("inputs of different element types");
      bool ok = t.shape.size() == rank;
      for (std::size_t d = 0; ok && d < rank; ++d) ok = d == ax || t.shape[d] == first.shape[d];
      if (!ok)
        fail("input " + std::to_string(i) + ": expected shape " + dimsString(first.shape) +
             " except axis " + std::to_string(ax) + ", got " + dimsString(t.shape));
      shape[ax] += t.shape[ax];
    }
    Index outer = 1;
    for (std::size_t d = 0; d < ax; ++d) outer *= shape[d];
    withData(first, [&](const auto& firstData) {
      using T = typename std::decay_t<decltype(firstData)>::value_type;
      std::vector<T> out;
      Index total = outer;
      for (std::size_t d = ax; d < rank; ++d) total *= shape[d];
      out.reserve(static_cast<std::size_t>(total));
      for (Index o = 0; o < outer; ++o)
        for (std::size_t i = 0; i < in_.size(); ++i) {
          const Tensor& t = *input(i);
          withData(t, [&](const auto& data) {
            if constexpr (std::is_same_v<typename std::decay_t<decltype(data)>::value_type, T>) {
              const Index block = t.size() / std::max<Index>(outer, 1);
              out.insert(out.end(), data.begin() + o * block, data.begin() + (o + 1) * block);
            }
          });
        }
      set(like(first, shape, std::move(out)));
    });
  }
  void slice() {
    const Tensor& x = *input(0);
    const std::size_t rank = x.shape.size();
    std::vector<std::int64_t> starts, ends, axes, steps;
    if (opset_ < 10) {
      const auto* s = intsAttribute(n_, "starts", who_, node_);
      const auto* e = intsAttribute(n_, "ends", who_, node_);
      if (!s || !e) fail("attributes 'starts' and 'ends' are required");
      starts = *s;
      ends = *e;
      if (const auto* a = intsAttribute(n_, "axes", who_, node_)) axes = *a;
    } else {
      starts = ints(1, "starts");
      ends = ints(2, "ends");
      if (optional(3)) axes = ints(3, "axes");
      if (optional(4)) steps = ints(4, "steps");
    }
    if (axes.empty())
      for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        steps.size() != starts.size())
      fail("starts, ends, axes and steps: expected equal lengths, got " +
           std::to_string(starts.size()) + ", " + std::to_string(ends.size()) + ", " +
           std::to_string(axes.size()) + ", " + std::to_string(steps.size()));
    std::vector<Index> begin(rank, 0), step(rank, 1), shape = x.shape;
    std::vector<bool> seen(rank, false);
    for (std::size_t k = 0; k < starts.size(); ++k) {
      const auto a = static_cast<std::size_t>(axis(axes[k], rank, "axes"));
      if (seen[a]) fail("axes: repeated axis");
      seen[a] = true;
      const std::int64_t dim = x.shape[a], st = steps[k];
      if (st == 0) fail("steps: 0 is not a step");
      // The spec's clamping; values first brought into [−dim−1, dim+1] (no overflow).
      auto bound = [&](std::int64_t v) {
        v = std::clamp<std::int64_t>(v, -dim - 1, dim + 1);
        return v < 0 ? v + dim : v;
      };
      std::int64_t s = bound(starts[k]), e = bound(ends[k]), count = 0;
      if (dim > 0) {
        if (st > 0) {
          s = std::clamp<std::int64_t>(s, 0, dim);
          e = std::clamp<std::int64_t>(e, 0, dim);
          count = e > s ? (e - s + st - 1) / st : 0;
        } else {
          s = std::clamp<std::int64_t>(s, 0, dim - 1);
          e = std::clamp<std::int64_t>(e, -1, dim - 1);
          count = s > e ? (s - e + (-st) - 1) / (-st) : 0;
        }
      }
      begin[a] = static_cast<Index>(s);
      step[a] = static_cast<Index>(st);
      shape[a] = static_cast<Index>(count);
    }
    const auto src = stridesOf(x.shape);
    Index total = 1;
    for (Index d : shape) total *= d;
    withData(x, [&](const auto& data) {
      using T = typename std::decay_t<decltype(data)>::value_type;
      std::vector<T> out(static_cast<std::size_t>(total));
      std::vector<Index> idx(rank, 0);
      for (std::size_t k = 0; k < out.size(); ++k) {
        Index off = 0;
        for (std::size_t i = 0; i < rank; ++i) off += (begin[i] + idx[i] * step[i]) * src[i];
        out[k] = data[static_cast<std::size_t>(off)];
        for (std::size_t i = rank; i-- > 0;) {
          if (++idx[i] < shape[i]) break;
          idx[i] = 0;
        }
      }
      set(like(x, shape, std::move(out)));
    });
  }
  void gather() {
    const Tensor& x = *input(0);
    const std::vector<std::int64_t>& indices = ints(1, "indices");
    const Tensor& it = *input(1);
    if (x.shape.empty()) fail("data: expected rank ≥ 1, got a scalar");
    const auto ax = static_cast<std::size_t>(
        axis(intAttribute(n_, "axis", 0, who_, node_), x.shape.size(), "axis"));
    const Index dim = x.shape[ax];
    std::vector<Index> shape(x.shape.begin(), x.shape.begin() + static_cast<std::ptrdiff_t>(ax));
    shape.insert(shape.end(), it.shape.begin(), it.shape.end());
    shape.insert(shape.end(), x.shape.begin() + static_cast<std::ptrdiff_t>(ax) + 1, x.shape.end());
    Index outer = 1, inner = 1;
    for (std::size_t d = 0; d < ax; ++d) outer *= x.shape[d];
    for (std::size_t d = ax + 1; d < x.shape.size(); ++d) inner *= x.shape[d];
    for (std::int64_t i : indices)
      if (i < -dim || i >= dim)
        fail("indices: expected values in [" + std::to_string(-dim) + ", " +
             std::to_string(dim - 1) + "], got " + std::to_string(i));
    // Each factor is bounded by an input's size; their product is checked before the reserve.
    checkSize(static_cast<Index>(static_cast<double>(outer) * static_cast<double>(indices.size()) *
                                             static_cast<double>(inner) >
                                         static_cast<double>(kMaxElements)
                                     ? kMaxElements + 1
                                     : outer * static_cast<Index>(indices.size()) * inner),
              "Gather", *this);
    withData(x, [&](const auto& data) {
      using T = typename std::decay_t<decltype(data)>::value_type;
      std::vector<T> out;
      out.reserve(static_cast<std::size_t>(outer * static_cast<Index>(indices.size()) * inner));
      for (Index o = 0; o < outer; ++o)
        for (std::int64_t i : indices) {
          const Index j = i < 0 ? i + dim : i;
          const auto from = data.begin() + (o * dim + j) * inner;
          out.insert(out.end(), from, from + inner);
        }
      set(like(x, shape, std::move(out)));
    });
  }
  void reshape() {
    const Tensor& x = *input(0);
    const std::vector<std::int64_t>& target = ints(1, "shape");
    const bool allowZero = intAttribute(n_, "allowzero", 0, who_, node_) != 0;
    std::vector<Index> shape;
    Index known = 1;
    int infer = -1;
    for (std::size_t i = 0; i < target.size(); ++i) {
      std::int64_t d = target[i];
      if (d == 0 && !allowZero) {
        if (i >= x.shape.size())
          fail("shape: 0 at axis " + std::to_string(i) + " has no input dim");
        d = x.shape[i];
      }
      if (d == -1) {
        if (infer >= 0) fail("shape: more than one -1 in " + dimsString(target));
        infer = static_cast<int>(i);
        shape.push_back(1);
        continue;
      }
      if (d < 0) fail("shape: invalid dim " + std::to_string(d) + " in " + dimsString(target));
      checkSize(static_cast<Index>(d), "shape", *this);  // before the product can overflow
      shape.push_back(static_cast<Index>(d));
      known *= static_cast<Index>(d);
      checkSize(known, "shape", *this);
    }
    if (infer >= 0) {
      if (known == 0 || x.size() % known != 0)
        fail("shape: cannot reshape " + dimsString(x.shape) + " to " + dimsString(target));
      shape[static_cast<std::size_t>(infer)] = x.size() / known;
    }
    Index total = 1;
    for (Index d : shape) total *= d;
    if (total != x.size())
      fail("shape: cannot reshape " + dimsString(x.shape) + " (" + std::to_string(x.size()) +
           " values) to " + dimsString(target));
    Tensor t = x;
    t.shape = shape;
    set(std::move(t));
  }
  void cast() {
    const Tensor& x = *input(0);
    const std::int64_t to = intAttribute(n_, "to", 0, who_, node_);
    if (to != 1 && to != 6 && to != 7)
      raise<ConfigError>(who_, node_ + ": to: expected FLOAT, INT32 or INT64, got " +
                                   dataTypeName(static_cast<std::int32_t>(to)));
    Tensor t;
    t.type = static_cast<OnnxType>(to);
    t.shape = x.shape;
    if (t.type == OnnxType::Float) {
      if (x.type == OnnxType::Float) {
        t.values = x.values;
      } else {
        for (std::int64_t v : x.ints)
          t.values.push_back(static_cast<Scalar>(static_cast<float>(v)));
      }
    } else {
      const double lo = t.type == OnnxType::Int32 ? -2147483648.0 : -9.2233720368547758e18;
      const double hi = t.type == OnnxType::Int32 ? 2147483647.0 : 9.2233720368547748e18;
      if (x.type == OnnxType::Float) {
        for (Scalar v : x.values) {
          if (!(double(v) >= lo && double(v) <= hi))
            raise<ValueError>(who_, node_ + ": cannot cast " + std::to_string(double(v)) + " to " +
                                        typeName(t.type));
          t.ints.push_back(static_cast<std::int64_t>(v));
        }
      } else {
        for (std::int64_t v : x.ints)
          t.ints.push_back(t.type == OnnxType::Int32
                               ? static_cast<std::int64_t>(static_cast<std::int32_t>(
                                     static_cast<std::uint32_t>(static_cast<std::uint64_t>(v))))
                               : v);
      }
    }
    set(std::move(t));
  }
  void constant() {
    const AttributeProto& a = n_.attribute.front();
    Tensor t;
    if (a.name == "value") {
      if (a.type != 4 || !a.hasT) fail("value: expected a TENSOR attribute");
      t = tensorValue(a.t);
    } else if (a.name == "value_float") {
      t = Tensor::floats({},
                         {static_cast<Scalar>(floatAttribute(n_, "value_float", 0, who_, node_))});
    } else if (a.name == "value_floats") {
      const auto* f = floatsAttribute(n_, "value_floats", who_, node_);
      t = Tensor::floats({static_cast<Index>(f->size())},
                         std::vector<Scalar>(f->begin(), f->end()));
    } else if (a.name == "value_int") {
      t = Tensor::integers(OnnxType::Int64, {}, {intAttribute(n_, "value_int", 0, who_, node_)});
    } else {
      const auto* v = intsAttribute(n_, "value_ints", who_, node_);
      t = Tensor::integers(OnnxType::Int64, {static_cast<Index>(v->size())}, *v);
    }
    set(std::move(t));
  }
  Tensor tensorValue(const TensorProto& p) const {
    return tensorFromProto<Scalar>(p, who_, node_ + ": attribute value", "");
  }
  void shape() {
    const Tensor& x = *input(0);
    const auto r = static_cast<std::int64_t>(x.shape.size());
    std::int64_t start = intAttribute(n_, "start", 0, who_, node_);
    std::int64_t end = intAttribute(n_, "end", r, who_, node_);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<std::int64_t>(start, 0, r);
    end = std::clamp<std::int64_t>(end, 0, r);
    std::vector<std::int64_t> dims;
    for (std::int64_t i = start; i < end; ++i) dims.push_back(x.shape[static_cast<std::size_t>(i)]);
    set(Tensor::integers(OnnxType::Int64, {static_cast<Index>(dims.size())}, dims));
  }
  std::vector<Index> shapeInput(std::size_t i) const {
    std::vector<Index> shape;
    Index total = 1;
    for (std::int64_t d : ints(i, "shape")) {
      if (d < 0) fail("shape: negative dim " + std::to_string(d));
      checkSize(static_cast<Index>(d), "shape", *this);  // before the product can overflow
      shape.push_back(static_cast<Index>(d));
      total *= static_cast<Index>(d);
      checkSize(total, "shape", *this);
    }
    return shape;
  }
  void constantOfShape() {
    const std::vector<Index> shape = shapeInput(0);
    Tensor fill = Tensor::floats({1}, {Scalar(0)});
    if (const AttributeProto* a = findAttribute(n_, "value")) {
      if (a->type != 4 || !a->hasT) fail("value: expected a TENSOR attribute");
      fill = tensorValue(a->t);
      if (fill.size() != 1) fail("value: expected one element, got " + std::to_string(fill.size()));
    }
    Index total = 1;
    for (Index d : shape) total *= d;
    Tensor t;
    t.type = fill.type;
    t.shape = shape;
    if (t.type == OnnxType::Float) {
      t.values.assign(static_cast<std::size_t>(total), fill.values[0]);
    } else {
      t.ints.assign(static_cast<std::size_t>(total), fill.ints[0]);
    }
    set(std::move(t));
  }
  /// numpy broadcasting of two shapes.
  std::vector<Index> broadcast(const std::vector<Index>& a, const std::vector<Index>& b) const {
    const std::size_t rank = std::max(a.size(), b.size());
    std::vector<Index> out(rank);
    for (std::size_t i = 0; i < rank; ++i) {
      const Index x = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
      const Index y = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
      if (x != y && x != 1 && y != 1)
        fail("shapes " + dimsString(a) + " and " + dimsString(b) + " do not broadcast");
      out[i] = x == 1 ? y : x;
    }
    Index total = 1;
    for (Index d : out) total *= d;
    checkSize(total, "broadcast", *this);
    return out;
  }
  /// For each element of `shape`, the offset into a tensor of shape `from` broadcast to it.
  static std::vector<Index> broadcastOffsets(const std::vector<Index>& from,
                                             const std::vector<Index>& shape) {
    const std::size_t rank = shape.size();
    std::vector<Index> stride(rank, 0);
    const auto src = stridesOf(from);
    for (std::size_t i = 0; i < from.size(); ++i)
      if (from[i] != 1) stride[rank - from.size() + i] = src[i];
    Index total = 1;
    for (Index d : shape) total *= d;
    std::vector<Index> out(static_cast<std::size_t>(total));
    std::vector<Index> idx(rank, 0);
    for (auto& o : out) {
      Index off = 0;
      for (std::size_t i = 0; i < rank; ++i) off += idx[i] * stride[i];
      o = off;
      for (std::size_t i = rank; i-- > 0;) {
        if (++idx[i] < shape[i]) break;
        idx[i] = 0;
      }
    }
    return out;
  }
  void expand() {
    const Tensor& x = *input(0);
    const std::vector<Index> shape = broadcast(x.shape, shapeInput(1));
    const auto offsets = broadcastOffsets(x.shape, shape);
    withData(x, [&](const auto& data) {
      using T = typename std::decay_t<decltype(data)>::value_type;
      std::vector<T> out;
      out.reserve(offsets.size());
      for (Index o : offsets) out.push_back(data[static_cast<std::size_t>(o)]);
      set(like(x, shape, std::move(out)));
    });
  }
  void binary(Op op) {
    const Tensor& a = *input(0);
    const Tensor& b = *input(1);
    if (a.type != b.type)
      fail(std::string("inputs of different element types (") + typeName(a.type) + ", " +
           typeName(b.type) + ")");
    const std::vector<Index> shape = broadcast(a.shape, b.shape);
    const auto ia = broadcastOffsets(a.shape, shape), ib = broadcastOffsets(b.shape, shape);
    withData(a, [&](const auto& da) {
      using T = typename std::decay_t<decltype(da)>::value_type;
      const auto& db = [&]() -> const std::vector<T>& {
        if constexpr (std::is_same_v<T, Scalar>) {
          return b.values;
        } else {
          return b.ints;
        }
      }();
      std::vector<T> out(ia.size());
      for (std::size_t k = 0; k < out.size(); ++k) {
        const T x = da[static_cast<std::size_t>(ia[k])], y = db[static_cast<std::size_t>(ib[k])];
        switch (op) {
          case Op::Add:
            out[k] = x + y;
            break;
          case Op::Sub:
            out[k] = x - y;
            break;
          case Op::Mul:
            out[k] = x * y;
            break;
          default:
            if constexpr (!std::is_same_v<T, Scalar>) {
              if (y == 0) raise<ValueError>(who_, node_ + ": integer division by zero");
            }
            out[k] = x / y;
        }
      }
      set(like(a, shape, std::move(out)));
    });
  }
  const Tensor& floatInput(std::size_t i) const {
    const Tensor* t = input(i);
    if (t->type != OnnxType::Float) fail("input " + std::to_string(i) + ": expected FLOAT");
    return *t;
  }
  void matmul() {
    const Tensor& a = floatInput(0);
    const Tensor& b = floatInput(1);
    if (a.shape.size() < 2 || b.shape.size() != 2)
      fail("expected A of rank ≥ 2 and B of rank 2, got " + dimsString(a.shape) + " and " +
           dimsString(b.shape));
    const Index k = a.shape.back(), n = b.shape[1];
    if (b.shape[0] != k)
      fail("A " + dimsString(a.shape) + " and B " + dimsString(b.shape) + " do not multiply");
    const Index m = a.size() / std::max<Index>(k, 1);
    checkSize(static_cast<double>(m) * static_cast<double>(n) > static_cast<double>(kMaxElements)
                  ? kMaxElements + 1
                  : m * n,
              "MatMul", *this);
    std::vector<Index> shape = a.shape;
    shape.back() = n;
    Eigen::Map<const Matrix<Scalar>> A(a.values.data(), m, k), B(b.values.data(), k, n);
    Matrix<Scalar> C = A * B;
    set(Tensor::floats(shape, std::vector<Scalar>(C.data(), C.data() + C.size())));
  }
  void gemm() {
    const Tensor& a = floatInput(0);
    const Tensor& b = floatInput(1);
    if (a.shape.size() != 2 || b.shape.size() != 2)
      fail("expected A and B of rank 2, got " + dimsString(a.shape) + " and " +
           dimsString(b.shape));
    const bool ta = intAttribute(n_, "transA", 0, who_, node_) != 0;
    const bool tb = intAttribute(n_, "transB", 0, who_, node_) != 0;
    const auto alpha = static_cast<Scalar>(floatAttribute(n_, "alpha", 1.0f, who_, node_));
    const auto beta = static_cast<Scalar>(floatAttribute(n_, "beta", 1.0f, who_, node_));
    Eigen::Map<const Matrix<Scalar>> A(a.values.data(), a.shape[0], a.shape[1]);
    Eigen::Map<const Matrix<Scalar>> B(b.values.data(), b.shape[0], b.shape[1]);
    const Index m = ta ? A.cols() : A.rows(), k = ta ? A.rows() : A.cols();
    const Index n = tb ? B.rows() : B.cols(), kb = tb ? B.cols() : B.rows();
    if (k != kb)
      fail("A " + dimsString(a.shape) + " and B " + dimsString(b.shape) + " do not multiply");
    checkSize(static_cast<double>(m) * static_cast<double>(n) > static_cast<double>(kMaxElements)
                  ? kMaxElements + 1
                  : m * n,
              "Gemm", *this);
    Matrix<Scalar> C(m, n);
    if (ta && tb)
      C.noalias() = A.transpose() * B.transpose();
    else if (ta)
      C.noalias() = A.transpose() * B;
    else if (tb)
      C.noalias() = A * B.transpose();
    else
      C.noalias() = A * B;
    C *= alpha;
    if (const Tensor* c = optional(2)) {
      if (c->type != OnnxType::Float) fail("input 2: expected FLOAT");
      const std::vector<Index> shape{m, n};
      if (broadcast(c->shape, shape) != shape)
        fail("C " + dimsString(c->shape) + " does not broadcast to " + dimsString(shape));
      const auto offsets = broadcastOffsets(c->shape, shape);
      for (Index i = 0; i < m * n; ++i)
        C.data()[i] +=
            beta * c->values[static_cast<std::size_t>(offsets[static_cast<std::size_t>(i)])];
    }
    set(Tensor::floats({m, n}, std::vector<Scalar>(C.data(), C.data() + C.size())));
  }

  /// One value of a scalar (or one-element) input.
  template <class T>
  T scalarOf(std::size_t i, const char* what) const {
    const Tensor& t = *input(i);
    if (t.size() != 1)
      fail(std::string(what) + ": expected one value, got shape " + dimsString(t.shape));
    if constexpr (std::is_same_v<T, Scalar>) {
      if (t.type != OnnxType::Float) fail(std::string(what) + ": expected FLOAT");
      return t.values[0];
    } else {
      if (t.type == OnnxType::Float) fail(std::string(what) + ": expected an integer");
      return t.ints[0];
    }
  }
  void range() {
    const Tensor& first = *input(0);
    for (std::size_t i = 1; i < 3; ++i)
      if (input(i)->type != first.type) fail("start, limit and delta: expected one element type");
    withData(first, [&](const auto& data) {
      using T = typename std::decay_t<decltype(data)>::value_type;
      const T start = scalarOf<T>(0, "start"), limit = scalarOf<T>(1, "limit"),
              delta = scalarOf<T>(2, "delta");
      if (delta == T(0)) fail("delta: 0 is not a step");
      const double n = std::ceil((static_cast<double>(limit) - static_cast<double>(start)) /
                                 static_cast<double>(delta));
      if (!(n <= double(kMaxElements))) fail("a range of more than 2^26 values");
      const auto count = static_cast<Index>(std::max(0.0, n));
      std::vector<T> out(static_cast<std::size_t>(count));
      for (Index k = 0; k < count; ++k)
        out[static_cast<std::size_t>(k)] = static_cast<T>(start + static_cast<T>(k) * delta);
      set(like(first, {count}, std::move(out)));
    });
  }
  void reduceProd() {
    const Tensor& x = *input(0);
    const std::size_t rank = x.shape.size();
    std::vector<std::int64_t> axes;
    if (opset_ >= 18) {
      if (optional(1) != nullptr) axes = ints(1, "axes");
    } else if (const auto* a = intsAttribute(n_, "axes", who_, node_)) {
      axes = *a;
    }
    const bool keep = intAttribute(n_, "keepdims", 1, who_, node_) != 0;
    if (axes.empty() && intAttribute(n_, "noop_with_empty_axes", 0, who_, node_) != 0)
      return set(x);
    std::vector<bool> reduce(rank, axes.empty());
    for (std::int64_t a : axes) reduce[static_cast<std::size_t>(axis(a, rank, "axes"))] = true;
    std::vector<Index> kept, outShape;
    for (std::size_t i = 0; i < rank; ++i) {
      kept.push_back(reduce[i] ? 1 : x.shape[i]);
      if (!reduce[i] || keep) outShape.push_back(kept.back());
    }
    const auto offsets = broadcastOffsets(kept, x.shape);  // x element → output element
    withData(x, [&](const auto& data) {
      using T = typename std::decay_t<decltype(data)>::value_type;
      Index total = 1;
      for (Index d : kept) total *= d;
      std::vector<T> out(static_cast<std::size_t>(total), T(1));
      for (std::size_t k = 0; k < data.size(); ++k)
        out[static_cast<std::size_t>(offsets[k])] *= data[k];
      set(like(x, outShape, std::move(out)));
    });
  }
  void scatterElements() {
    const Tensor& x = *input(0);
    const std::vector<std::int64_t>& indices = ints(1, "indices");
    const Tensor& it = *input(1);
    const Tensor& updates = *input(2);
    if (updates.type != x.type) fail("updates: expected the element type of data");
    if (updates.shape != it.shape || it.shape.size() != x.shape.size())
      fail("indices " + dimsString(it.shape) + " and updates " + dimsString(updates.shape) +
           ": expected equal shapes of the rank of data " + dimsString(x.shape));
    if (findAttribute(n_, "reduction") != nullptr &&
        stringAttribute(n_, "reduction", "none", who_, node_) != "none")
      raise<ConfigError>(who_, node_ + ": reduction: only 'none' is supported");
    const std::size_t rank = x.shape.size();
    const auto ax =
        static_cast<std::size_t>(axis(intAttribute(n_, "axis", 0, who_, node_), rank, "axis"));
    for (std::size_t i = 0; i < rank; ++i)
      if (it.shape[i] > x.shape[i] && i != ax)
        fail("indices " + dimsString(it.shape) + " larger than data " + dimsString(x.shape));
    const auto dst = stridesOf(x.shape);
    withData(x, [&](const auto& data) {
      using T = typename std::decay_t<decltype(data)>::value_type;
      const auto& upd = [&]() -> const std::vector<T>& {
        if constexpr (std::is_same_v<T, Scalar>) {
          return updates.values;
        } else {
          return updates.ints;
        }
      }();
      std::vector<T> out = data;
      std::vector<Index> idx(rank, 0);
      for (std::size_t k = 0; k < indices.size(); ++k) {
        const Index dim = x.shape[ax];
        std::int64_t j = indices[k];
        if (j < -dim || j >= dim)
          fail("indices: expected values in [" + std::to_string(-dim) + ", " +
               std::to_string(dim - 1) + "], got " + std::to_string(j));
        if (j < 0) j += dim;
        Index off = 0;
        for (std::size_t i = 0; i < rank; ++i) off += (i == ax ? j : idx[i]) * dst[i];
        out[static_cast<std::size_t>(off)] = upd[k];
        for (std::size_t i = rank; i-- > 0;) {
          if (++idx[i] < it.shape[i]) break;
          idx[i] = 0;
        }
      }
      set(like(x, x.shape, std::move(out)));
    });
  }
  void topK() {
    const Tensor& x = *input(0);
    const std::size_t rank = x.shape.size();
    if (rank == 0) fail("X: expected rank ≥ 1");
    const std::int64_t k =
        opset_ >= 10 ? scalarOf<std::int64_t>(1, "K") : intAttribute(n_, "k", -1, who_, node_);
    const auto ax =
        static_cast<std::size_t>(axis(intAttribute(n_, "axis", -1, who_, node_), rank, "axis"));
    const bool largest = intAttribute(n_, "largest", 1, who_, node_) != 0;
    const Index dim = x.shape[ax];
    if (k < 0 || k > dim)
      fail("K: expected a count in [0, " + std::to_string(dim) + "], got " + std::to_string(k));
    Index outer = 1, inner = 1;
    for (std::size_t d = 0; d < ax; ++d) outer *= x.shape[d];
    for (std::size_t d = ax + 1; d < rank; ++d) inner *= x.shape[d];
    std::vector<Index> shape = x.shape;
    shape[ax] = static_cast<Index>(k);
    withData(x, [&](const auto& data) {
      using T = typename std::decay_t<decltype(data)>::value_type;
      std::vector<T> values;
      std::vector<std::int64_t> indices;
      std::vector<Index> order(static_cast<std::size_t>(dim));
      values.resize(static_cast<std::size_t>(outer * k * inner));
      indices.resize(values.size());
      for (Index o = 0; o < outer; ++o)
        for (Index i = 0; i < inner; ++i) {
          auto at = [&](Index j) {
            return data[static_cast<std::size_t>((o * dim + j) * inner + i)];
          };
          for (Index j = 0; j < dim; ++j) order[static_cast<std::size_t>(j)] = j;
          // Ties: the lower index first (the spec).
          std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) {
            return largest ? at(a) > at(b) : at(a) < at(b);
          });
          for (Index j = 0; j < k; ++j) {
            const auto to = static_cast<std::size_t>((o * k + j) * inner + i);
            values[to] = at(order[static_cast<std::size_t>(j)]);
            indices[to] = order[static_cast<std::size_t>(j)];
          }
        }
      set(like(x, shape, std::move(values)), 0);
      set(Tensor::integers(OnnxType::Int64, shape, std::move(indices)), 1);
    });
  }

  const NodeProto& n_;
  std::int64_t opset_;
  const std::vector<const Tensor*>& in_;
  const std::vector<Tensor*>& out_;
  const std::string& who_;
  const std::string& node_;
};

/// Runs one glue node.
template <class Scalar>
void runGlue(Op op, const NodeProto& n, std::int64_t opset,
             const std::vector<const OnnxTensor<Scalar>*>& in,
             const std::vector<OnnxTensor<Scalar>*>& out, const std::string& who,
             const std::string& node) {
  Glue<Scalar>(n, opset, in, out, who, node).run(op);
}

}  // namespace recurrent::io::detail::onnx

#endif  // RECURRENT_IO_DETAIL_ONNX_OPS_HPP
