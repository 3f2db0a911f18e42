// Internal, may change: a strict reader of the protobuf wire format for exactly the ONNX messages
// the ONNX importer needs (ModelProto and what it holds), safe on hostile bytes.
//
// Contract. `parseModel(data, size, who)` decodes a serialized `onnx.ModelProto` (onnx.proto,
// proto2) into the plain structs below, or throws `recurrent::FormatError`; nothing else escapes
// (short of std::bad_alloc on a machine that cannot hold the result, see "Memory").
//
// What is parsed (field numbers of onnx.proto):
// - ModelProto: ir_version 1, producer_name 2, producer_version 3, domain 4, model_version 5,
//   graph 7, opset_import 8 (OperatorSetIdProto: domain 1, version 2).
// - GraphProto: node 1, name 2, initializer 5, input 11, output 12, value_info 13.
// - NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
// - AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20,
//   ref_attr_name 21.
// - TensorProto: dims 1, data_type 2, float_data 4, int32_data 5, string_data 6, int64_data 7,
//   name 8, raw_data 9, double_data 10, uint64_data 11, external_data 13 (StringStringEntryProto:
//   key 1, value 2), data_location 14.
// - ValueInfoProto: name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1, shape 2 →
//   TensorShapeProto.dim 1 → Dimension: dim_value 1 | dim_param 2 (a oneof: the last one wins).
//
// Only noted, never descended into (their bytes are skipped after the wire type is checked):
// AttributeProto.g 6 / graphs 11 (`hasGraph`), tensors 10, tp 14, type_protos 15, sparse_tensor
// 22, sparse_tensors 23 (`hasOtherValue`); TensorProto.segment 3 (`hasSegment`);
// GraphProto.sparse_initializer 15 (`hasSparseInitializer`), quantization_annotation 14;
// ModelProto.functions 25 (`hasFunctions`), metadata_props 14, training_info 20;
// TypeProto.sequence_type 4, map_type 5, sparse_tensor_type 8, optional_type 9 (`isTensor`
// false); every doc_string and denotation. The importer refuses what it cannot honour; this
// layer only reports that it was there.
//
// Wire format, as protobuf defines it, with these choices:
// - Varints are at most 10 bytes and the 10th byte is 0 or 1 (no 64-bit overflow); non-minimal
//   encodings (`80 00` for 0) are accepted, as protobuf does. Tags: field number 1 to 2^29 − 1.
// - Wire types 0 (varint), 1 (64-bit), 2 (length-delimited), 5 (32-bit). Groups (3, 4) are
//   refused (deprecated; ONNX never uses them), as are 6 and 7.
// - Unknown field numbers with a valid wire type are skipped, in every message. A known field
//   with another wire type than its schema's is refused, except repeated scalars (dims,
//   float_data, ints, ...), which accept the packed and the unpacked encoding, mixed freely.
// - A singular scalar that occurs twice: the last one wins. A singular message that occurs twice
//   (ModelProto.graph, AttributeProto.t, ValueInfoProto.type, ...) is MERGED into the first, as
//   libprotobuf does: singular fields of the later one win, repeated ones are appended. Chosen
//   over refusing so that a file means here what it means to onnxruntime (which parses with
//   libprotobuf); ONNX writers never emit duplicates anyway.
// - int32 fields (data_type, type, elem_type, int32_data, ...) must hold a value in int32 range
//   (libprotobuf would truncate; no writer produces such values).
// - Schema `string` fields that we keep (names, op_type, domains, input/output, dim_param,
//   ref_attr_name, producer_*, external_data key/value) must not contain a NUL byte: it would cut
//   the name short in every C API and in a path given to the file system (external data
//   `location`). Schema `bytes` fields (raw_data, string_data, AttributeProto.s / strings) are
//   kept as they are. UTF-8 is not validated (proto2 does not require it).
//
// Safety. Every length is checked against the bytes left in the enclosing message before
// anything is allocated or copied; packed fixed32/fixed64 payloads must be a multiple of 4/8
// bytes; vectors are reserved only for element counts proven by the bytes at hand (a packed
// payload's length), never for a count read from the file. Offsets are size_t compared before
// they are added; integers are decoded with unsigned arithmetic and memcpy (no signed overflow,
// no misaligned load, no shift ≥ 64). The reader is not recursive: each message type's parser
// calls only parsers of message types strictly below it in the ONNX schema (at most 7 levels:
// ModelProto.graph.input[i].type.tensor_type.shape.dim[j]); the recursive parts of the schema
// (graphs in attributes, nested TypeProtos, functions) are skipped, not parsed, so no input can
// deepen the stack and no depth limit is needed.
//
// Memory. The file size bounds everything: each kept value costs at least one byte of input, so
// the result is at most a constant times the input size. The constant is large for degenerate
// inputs (an empty AttributeProto is 2 bytes of input but sizeof(AttributeProto) of memory), so
// callers that accept very large files from untrusted sources should bound the file size first.
//
// Errors name the caller, the message path, the field and the byte offset, e.g.
// `loadOnnx 'm.onnx': ModelProto.graph.node[3].attribute[0] (field 20 'type'): varint at byte 1234
// truncated by the end of AttributeProto at byte 1236 (file is 1240 bytes)`. The path is built
// only when raising.
//
// Why a hand-written reader: the library is header-only (libprotobuf needs generated code and a
// compiled runtime, and its ONNX schema version would be another dependency to match), and
// libprotobuf sizes allocations by lengths declared in the file; here nothing is allocated before
// the bytes that justify it have been seen.
#ifndef RECURRENT_IO_DETAIL_ONNX_PROTO_HPP
#define RECURRENT_IO_DETAIL_ONNX_PROTO_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/errors.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace recurrent::io::detail::onnx {

/// onnx.TensorProto. Storage fields as found: the importer decides which one holds the values.
struct TensorProto {
  std::string name;
  std::vector<std::int64_t> dims;
  std::int32_t dataType = 0;     // TensorProto.DataType (1 FLOAT, 6 INT32, 7 INT64, 11 DOUBLE)
  std::string rawData;           // field 9 raw_data (little-endian bytes)
  std::vector<float> floatData;  // field 4 (packed or not)
  std::vector<std::int32_t> int32Data;    // field 5
  std::vector<std::int64_t> int64Data;    // field 7
  std::vector<double> doubleData;         // field 10
  std::vector<std::uint64_t> uint64Data;  // field 11
  std::vector<std::string> stringData;    // field 6 (kept only to reject politely)
  std::vector<std::pair<std::string, std::string>> externalData;  // field 13 (key, value)
  std::int32_t dataLocation = 0;  // field 14 (0 DEFAULT, 1 EXTERNAL)
  bool hasSegment = false;        // field 3 present (segments are refused later)
};

/// onnx.AttributeProto (`type`: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 5 GRAPH, 6 FLOATS, 7 INTS,
/// 8 STRINGS, 9 TENSORS, 10 GRAPHS, 11 SPARSE_TENSOR, 12 SPARSE_TENSORS, 13 TYPE_PROTO,
/// 14 TYPE_PROTOS).
struct AttributeProto {
  std::string name;
  std::int32_t type = 0;
  float f = 0;
  std::int64_t i = 0;
  std::string s;  // schema `bytes`: kept as is
  TensorProto t;
  bool hasT = false;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  std::vector<std::string> strings;  // schema `bytes`: kept as is
  bool hasGraph = false;             // g (6) / graphs (11) present: subgraphs are not parsed
  bool hasOtherValue = false;        // tensors 10, tp 14, type_protos 15, sparse_tensor(s) 22/23
  std::string refAttrName;           // field 21
};

/// onnx.TensorShapeProto.Dimension: `dim_value` (hasValue) or `dim_param` (or neither).
struct Dimension {
  bool hasValue = false;
  std::int64_t value = 0;
  std::string param;
};

/// onnx.ValueInfoProto with its TypeProto flattened (only tensor types are looked into).
struct ValueInfoProto {
  std::string name;
  std::int32_t elemType = 0;  // TypeProto.Tensor.elem_type
  bool hasShape = false;      // TypeProto.Tensor.shape present (absent: rank unknown)
  std::vector<Dimension> dims;
  bool isTensor = false;  // TypeProto.tensor_type present (and no other oneof member after it)
};

struct NodeProto {
  std::vector<std::string> input, output;  // "" = a missing optional input / unused output
  std::string name, opType, domain;
  std::vector<AttributeProto> attribute;
};

struct GraphProto {
  std::vector<NodeProto> node;
  std::string name;
  std::vector<TensorProto> initializer;
  bool hasSparseInitializer = false;
  std::vector<ValueInfoProto> input, output, valueInfo;
};

struct OperatorSetId {
  std::string domain;  // "" or "ai.onnx": the default operator set
  std::int64_t version = 0;
};

struct ModelProto {
  std::int64_t irVersion = 0;
  std::vector<OperatorSetId> opsetImport;
  std::string producerName, producerVersion, domain;
  std::int64_t modelVersion = 0;
  GraphProto graph;
  bool hasGraph = false;  // an empty input is a valid (empty) ModelProto: check this
  bool hasFunctions = false;
};

/// Parses a serialized ModelProto. `who` prefixes every error (e.g. "loadOnnx 'model.onnx'").
/// @throws FormatError naming the message path, the field and the byte offset.
inline ModelProto parseModel(const char* data, std::size_t size, const std::string& who);

/// "FLOAT", "DOUBLE", "INT64", ... for a TensorProto.DataType; "unknown" otherwise.
inline const char* dataTypeName(std::int32_t dataType);

/// "FLOAT", "INTS", "GRAPH", ... for an AttributeProto.AttributeType; "unknown" otherwise.
inline const char* attributeTypeName(std::int32_t type);

// ---------------------------------------------------------------------------------------------
// implementation
// ---------------------------------------------------------------------------------------------

inline const char* dataTypeName(std::int32_t dataType) {
  static const char* const kNames[] = {
      "UNDEFINED",      "FLOAT",    "UINT8",        "INT8",           "UINT16",
      "INT16",          "INT32",    "INT64",        "STRING",         "BOOL",
      "FLOAT16",        "DOUBLE",   "UINT32",       "UINT64",         "COMPLEX64",
      "COMPLEX128",     "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
      "FLOAT8E5M2FNUZ", "UINT4",    "INT4",         "FLOAT4E2M1",     "FLOAT8E8M0"};
  constexpr auto kCount = static_cast<std::int32_t>(sizeof kNames / sizeof kNames[0]);
  if (dataType < 0 || dataType >= kCount) return "unknown";
  return kNames[dataType];
}

inline const char* attributeTypeName(std::int32_t type) {
  static const char* const kNames[] = {
      "UNDEFINED",      "FLOAT",      "INT",        "STRING",  "TENSOR", "GRAPH",
      "FLOATS",         "INTS",       "STRINGS",    "TENSORS", "GRAPHS", "SPARSE_TENSOR",
      "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS"};
  constexpr auto kCount = static_cast<std::int32_t>(sizeof kNames / sizeof kNames[0]);
  if (type < 0 || type >= kCount) return "unknown";
  return kNames[type];
}

namespace wire {

enum : std::uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5
};

/// Index of a singular field in an error path (no "[i]").
constexpr std::size_t kSingular = std::numeric_limits<std::size_t>::max();

inline std::string wireTypeText(std::uint32_t w) {
  static const char* const kNames[] = {"varint",      "64-bit",    "length-delimited",
                                       "start group", "end group", "32-bit"};
  std::string out = std::to_string(w);
  if (w < 6) out += std::string(" (") + kNames[w] + ")";
  return out;
}

/// The whole input, and who reads it.
struct Source {
  const unsigned char* bytes;
  std::size_t size;
  const std::string& who;
};

/// Two's-complement reinterpretation, without implementation-defined conversions.
inline std::int64_t toInt64(std::uint64_t v) {
  std::int64_t out;
  std::memcpy(&out, &v, sizeof out);
  return out;
}

/// One message being read: bytes [pos, end) of the input, and where it sits (error messages).
/// Lives on the stack of its parser; a child points at its parent.
class Message {
 public:
  /// The top-level message: the whole input.
  Message(const Source& src, const char* type) : src_(src), type_(type), end_(src.size) {}

  /// Reads the next field's tag. False at the end of the message. @throws FormatError.
  bool next();
  /// The current field's number.
  std::uint32_t field() const { return number_; }

  // Reads the current field (`name`: its onnx.proto name, for errors), checking its wire type.
  std::int64_t int64(const char* name);
  std::int32_t int32(const char* name);
  float float32(const char* name);
  /// A schema `bytes` field: any content.
  std::string bytes(const char* name);
  /// A schema `string` field we keep: no NUL byte.
  std::string text(const char* name);
  /// Appends a repeated scalar field, packed or not. T: float, double, int32/int64/uint64.
  template <class T>
  void repeated(const char* name, std::vector<T>& out);
  /// The current field as a sub-message (`index`: its position in a repeated field, or kSingular).
  Message message(const char* name, std::size_t index, const char* type);
  /// Skips a known field we do not keep, after checking its wire type.
  void skipKnown(const char* name, std::uint32_t wireType);
  /// Skips an unknown field (any valid wire type).
  void skip() { skipValue(nullptr); }

 private:
  Message(const Message& parent, const char* field, std::size_t index, const char* type,
          std::size_t begin, std::size_t end)
      : src_(parent.src_),
        parent_(&parent),
        field_(field),
        index_(index),
        type_(type),
        pos_(begin),
        end_(end) {}

  [[noreturn]] void fail(const char* name, const std::string& what) const;
  [[noreturn]] void failTag(const std::string& what) const;
  std::string path() const;
  std::string fileText() const { return "file is " + std::to_string(src_.size) + " bytes"; }
  std::string endText(std::size_t end, const char* what) const;

  void expect(const char* name, std::uint32_t wireType) const;
  /// Decodes a varint at `pos` (advanced) that must end before `end` (`endWhat` names it).
  std::uint64_t varintAt(const char* name, std::size_t& pos, std::size_t end,
                         const char* endWhat) const;
  /// A length-delimited payload of the current field: [begin, end) inside this message.
  std::pair<std::size_t, std::size_t> payload(const char* name);
  void skipValue(const char* name);
  template <class T>
  T scalarAt(const char* name, std::size_t& pos, std::size_t end, const char* endWhat) const;

  const Source& src_;
  const Message* parent_ = nullptr;
  const char* field_ = nullptr;  // name of this message's field in its parent
  std::size_t index_ = kSingular;
  const char* type_;
  std::size_t pos_ = 0, end_;
  std::uint32_t number_ = 0, wireType_ = 0;
  std::size_t tagAt_ = 0;  // the current field's tag offset
};

inline std::string Message::path() const {
  std::vector<const Message*> chain;
  for (const Message* m = this; m != nullptr; m = m->parent_) chain.push_back(m);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Message& m = **it;
    if (m.parent_ == nullptr) {
      out += m.type_;
      continue;
    }
    out += '.';
    out += m.field_;
    if (m.index_ != kSingular) out += "[" + std::to_string(m.index_) + "]";
  }
  return out;
}

inline void Message::fail(const char* name, const std::string& what) const {
  std::string text = path() + " (field " + std::to_string(number_);
  if (name != nullptr) text += std::string(" '") + name + "'";
  recurrent::detail::raise<FormatError>(src_.who, text + "): " + what);
}

inline void Message::failTag(const std::string& what) const {
  recurrent::detail::raise<FormatError>(src_.who, path() + ": " + what);
}

inline std::string Message::endText(std::size_t end, const char* what) const {
  if (end == src_.size) return "by the end of the file (" + fileText() + ")";
  return std::string("by the end of ") + what + " at byte " + std::to_string(end) + " (" +
         fileText() + ")";
}

inline std::uint64_t Message::varintAt(const char* name, std::size_t& pos, std::size_t end,
                                       const char* endWhat) const {
  const std::size_t start = pos;
  std::uint64_t v = 0;
  for (unsigned i = 0; i < 10; ++i) {
    if (pos >= end) {
      const std::string what =
          "varint at byte " + std::to_string(start) + " truncated " + endText(end, endWhat);
      if (name == nullptr && number_ == 0) failTag("field tag: " + what);
      fail(name, what);
    }
    const unsigned byte = src_.bytes[pos++];
    if (i == 9 && byte > 1) {
      const std::string what = "varint at byte " + std::to_string(start) +
                               " is overlong: its 10th byte is " + std::to_string(byte) +
                               " (at most 1 fits 64 bits; " + fileText() + ")";
      if (name == nullptr && number_ == 0) failTag("field tag: " + what);
      fail(name, what);
    }
    v |= static_cast<std::uint64_t>(byte & 0x7fu) << (7 * i);
    if ((byte & 0x80u) == 0) return v;
  }
  return v;  // not reached: the 10th byte is 0 or 1, so it ends the varint
}

inline bool Message::next() {
  if (pos_ >= end_) return false;
  tagAt_ = pos_;
  number_ = 0;
  const std::uint64_t tag = varintAt(nullptr, pos_, end_, type_);
  const std::uint64_t number = tag >> 3;
  if (number == 0 || number > (std::uint64_t{1} << 29) - 1)
    failTag("field tag at byte " + std::to_string(tagAt_) + ": field number " +
            std::to_string(number) + " is invalid (1 to 536870911; " + fileText() + ")");
  number_ = static_cast<std::uint32_t>(number);
  wireType_ = static_cast<std::uint32_t>(tag & 7u);
  if (wireType_ == kStartGroup || wireType_ == kEndGroup)
    fail(nullptr, "wire type " + wireTypeText(wireType_) + " at byte " + std::to_string(tagAt_) +
                      ": groups are refused (deprecated, never used by ONNX; " + fileText() + ")");
  if (wireType_ > kFixed32)
    fail(nullptr, "invalid wire type " + std::to_string(wireType_) + " at byte " +
                      std::to_string(tagAt_) + " (" + fileText() + ")");
  return true;
}

inline void Message::expect(const char* name, std::uint32_t wireType) const {
  if (wireType_ != wireType)
    fail(name, "wire type " + wireTypeText(wireType_) + " at byte " + std::to_string(tagAt_) +
                   ", expected " + wireTypeText(wireType) + " (" + fileText() + ")");
}

inline std::pair<std::size_t, std::size_t> Message::payload(const char* name) {
  const std::size_t lengthAt = pos_;
  const std::uint64_t length = varintAt(name, pos_, end_, type_);
  const std::size_t left = end_ - pos_;
  if (length > left)
    fail(name, "length " + std::to_string(length) + " at byte " + std::to_string(lengthAt) +
                   " exceeds the " + std::to_string(left) + " bytes left in " + type_ +
                   (end_ == src_.size ? std::string()
                                      : " (which ends at byte " + std::to_string(end_) + ")") +
                   " (" + fileText() + ")");
  const std::size_t begin = pos_;
  pos_ += static_cast<std::size_t>(length);
  return {begin, pos_};
}

inline void Message::skipValue(const char* name) {
  switch (wireType_) {
    case kVarint:
      varintAt(name, pos_, end_, type_);
      return;
    case kFixed64:
    case kFixed32: {
      const std::size_t width = wireType_ == kFixed64 ? 8 : 4;
      if (end_ - pos_ < width)
        fail(name, std::to_string(width * 8) + "-bit value at byte " + std::to_string(pos_) +
                       " truncated " + endText(end_, type_));
      pos_ += width;
      return;
    }
    default:  // kLen; next() refused every other wire type
      payload(name);
      return;
  }
}

inline void Message::skipKnown(const char* name, std::uint32_t wireType) {
  expect(name, wireType);
  skipValue(name);
}

inline std::int64_t Message::int64(const char* name) {
  expect(name, kVarint);
  return toInt64(varintAt(name, pos_, end_, type_));
}

template <class T>
T Message::scalarAt(const char* name, std::size_t& pos, std::size_t end,
                    const char* endWhat) const {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    using Bits = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;
    if (end - pos < sizeof(Bits))
      fail(name, std::to_string(sizeof(Bits) * 8) + "-bit value at byte " + std::to_string(pos) +
                     " truncated " + endText(end, endWhat));
    Bits bits = 0;
    for (std::size_t k = sizeof(Bits); k-- > 0;)
      bits = static_cast<Bits>((bits << 8) | src_.bytes[pos + k]);
    pos += sizeof(Bits);
    T value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    return varintAt(name, pos, end, endWhat);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    return toInt64(varintAt(name, pos, end, endWhat));
  } else {
    static_assert(std::is_same_v<T, std::int32_t>, "scalarAt: unsupported type");
    const std::size_t start = pos;
    const std::int64_t v = toInt64(varintAt(name, pos, end, endWhat));
    if (v < std::numeric_limits<std::int32_t>::min() ||
        v > std::numeric_limits<std::int32_t>::max())
      fail(name, "value " + std::to_string(v) + " at byte " + std::to_string(start) +
                     " does not fit int32 (" + fileText() + ")");
    return static_cast<std::int32_t>(v);
  }
}

inline std::int32_t Message::int32(const char* name) {
  expect(name, kVarint);
  return scalarAt<std::int32_t>(name, pos_, end_, type_);
}

inline float Message::float32(const char* name) {
  expect(name, kFixed32);
  return scalarAt<float>(name, pos_, end_, type_);
}

inline std::string Message::bytes(const char* name) {
  expect(name, kLen);
  const auto [begin, end] = payload(name);
  return std::string(reinterpret_cast<const char*>(src_.bytes) + begin, end - begin);
}

inline std::string Message::text(const char* name) {
  std::string s = bytes(name);
  const std::size_t nul = s.find('\0');
  if (nul != std::string::npos)
    fail(name, "NUL byte at byte " + std::to_string(pos_ - s.size() + nul) +
                   " inside the string (names must not contain NUL; " + fileText() + ")");
  return s;
}

template <class T>
void Message::repeated(const char* name, std::vector<T>& out) {
  constexpr bool kFloat = std::is_floating_point_v<T>;
  constexpr std::uint32_t kElementWire = !kFloat ? kVarint : (sizeof(T) == 4 ? kFixed32 : kFixed64);
  if (wireType_ == kElementWire) {  // unpacked: one element
    out.push_back(scalarAt<T>(name, pos_, end_, type_));
    return;
  }
  if (wireType_ != kLen)
    fail(name, "wire type " + wireTypeText(wireType_) + " at byte " + std::to_string(tagAt_) +
                   ", expected " + wireTypeText(kElementWire) + " or " + wireTypeText(kLen) +
                   " (packed) (" + fileText() + ")");
  auto [pos, end] = payload(name);
  std::size_t count = 0;
  if constexpr (kFloat) {
    if ((end - pos) % sizeof(T) != 0)
      fail(name, "packed payload of " + std::to_string(end - pos) + " bytes at byte " +
                     std::to_string(pos) + " is not a multiple of " + std::to_string(sizeof(T)) +
                     " (" + fileText() + ")");
    count = (end - pos) / sizeof(T);
  } else {
    // Each varint ends with exactly one byte below 0x80: an exact count for a well-formed payload.
    for (std::size_t k = pos; k < end; ++k)
      if (src_.bytes[k] < 0x80u) ++count;
  }
  // Proven by the payload's bytes; grow geometrically so that many small packed runs stay linear.
  if (out.capacity() - out.size() < count)
    out.reserve(std::max(out.size() + count, 2 * out.capacity()));
  while (pos < end) out.push_back(scalarAt<T>(name, pos, end, "the packed field"));
}

inline Message Message::message(const char* name, std::size_t index, const char* type) {
  expect(name, kLen);
  const auto [begin, end] = payload(name);
  return Message(*this, name, index, type, begin, end);
}

}  // namespace wire

namespace parse {

using wire::kLen;
using wire::kSingular;
using wire::Message;

inline void stringStringEntry(Message& m, std::pair<std::string, std::string>& out) {
  while (m.next()) {
    switch (m.field()) {
      case 1:
        out.first = m.text("key");
        break;
      case 2:
        out.second = m.text("value");
        break;
      default:
        m.skip();
    }
  }
}

inline void tensor(Message& m, TensorProto& t) {
  while (m.next()) {
    switch (m.field()) {
      case 1:
        m.repeated("dims", t.dims);
        break;
      case 2:
        t.dataType = m.int32("data_type");
        break;
      case 3:
        m.skipKnown("segment", kLen);
        t.hasSegment = true;
        break;
      case 4:
        m.repeated("float_data", t.floatData);
        break;
      case 5:
        m.repeated("int32_data", t.int32Data);
        break;
      case 6:
        t.stringData.push_back(m.bytes("string_data"));
        break;
      case 7:
        m.repeated("int64_data", t.int64Data);
        break;
      case 8:
        t.name = m.text("name");
        break;
      case 9:
        t.rawData = m.bytes("raw_data");
        break;
      case 10:
        m.repeated("double_data", t.doubleData);
        break;
      case 11:
        m.repeated("uint64_data", t.uint64Data);
        break;
      case 12:
        m.skipKnown("doc_string", kLen);
        break;
      case 13: {
        Message sub = m.message("external_data", t.externalData.size(), "StringStringEntryProto");
        t.externalData.emplace_back();
        stringStringEntry(sub, t.externalData.back());
        break;
      }
      case 14:
        t.dataLocation = m.int32("data_location");
        break;
      default:
        m.skip();
    }
  }
}

inline void attribute(Message& m, AttributeProto& a) {
  while (m.next()) {
    switch (m.field()) {
      case 1:
        a.name = m.text("name");
        break;
      case 2:
        a.f = m.float32("f");
        break;
      case 3:
        a.i = m.int64("i");
        break;
      case 4:
        a.s = m.bytes("s");
        break;
      case 5: {
        Message sub = m.message("t", kSingular, "TensorProto");
        a.hasT = true;
        tensor(sub, a.t);  // a second `t` merges into the first
        break;
      }
      case 6:
        m.skipKnown("g", kLen);
        a.hasGraph = true;
        break;
      case 7:
        m.repeated("floats", a.floats);
        break;
      case 8:
        m.repeated("ints", a.ints);
        break;
      case 9:
        a.strings.push_back(m.bytes("strings"));
        break;
      case 10:
        m.skipKnown("tensors", kLen);
        a.hasOtherValue = true;
        break;
      case 11:
        m.skipKnown("graphs", kLen);
        a.hasGraph = true;
        break;
      case 13:
        m.skipKnown("doc_string", kLen);
        break;
      case 14:
        m.skipKnown("tp", kLen);
        a.hasOtherValue = true;
        break;
      case 15:
        m.skipKnown("type_protos", kLen);
        a.hasOtherValue = true;
        break;
      case 20:
        a.type = m.int32("type");
        break;
      case 21:
        a.refAttrName = m.text("ref_attr_name");
        break;
      case 22:
        m.skipKnown("sparse_tensor", kLen);
        a.hasOtherValue = true;
        break;
      case 23:
        m.skipKnown("sparse_tensors", kLen);
        a.hasOtherValue = true;
        break;
      default:
        m.skip();
    }
  }
}

inline void dimension(Message& m, Dimension& d) {
  while (m.next()) {
    switch (m.field()) {
      case 1:  // oneof value: the last member wins
        d.value = m.int64("dim_value");
        d.hasValue = true;
        d.param.clear();
        break;
      case 2:
        d.param = m.text("dim_param");
        d.hasValue = false;
        d.value = 0;
        break;
      case 3:
        m.skipKnown("denotation", kLen);
        break;
      default:
        m.skip();
    }
  }
}

inline void shape(Message& m, std::vector<Dimension>& dims) {
  while (m.next()) {
    if (m.field() == 1) {
      Message sub = m.message("dim", dims.size(), "TensorShapeProto.Dimension");
      dims.emplace_back();
      dimension(sub, dims.back());
    } else {
      m.skip();
    }
  }
}

inline void tensorType(Message& m, ValueInfoProto& v) {
  while (m.next()) {
    switch (m.field()) {
      case 1:
        v.elemType = m.int32("elem_type");
        break;
      case 2: {
        Message sub = m.message("shape", kSingular, "TensorShapeProto");
        v.hasShape = true;
        shape(sub, v.dims);
        break;
      }
      default:
        m.skip();
    }
  }
}

inline void type(Message& m, ValueInfoProto& v) {
  const auto notTensor = [&](const char* name) {
    m.skipKnown(name, kLen);  // another member of the oneof replaces tensor_type
    v.isTensor = false;
    v.elemType = 0;
    v.hasShape = false;
    v.dims.clear();
  };
  while (m.next()) {
    switch (m.field()) {
      case 1: {
        Message sub = m.message("tensor_type", kSingular, "TypeProto.Tensor");
        v.isTensor = true;
        tensorType(sub, v);
        break;
      }
      case 4:
        notTensor("sequence_type");
        break;
      case 5:
        notTensor("map_type");
        break;
      case 6:
        m.skipKnown("denotation", kLen);
        break;
      case 8:
        notTensor("sparse_tensor_type");
        break;
      case 9:
        notTensor("optional_type");
        break;
      default:
        m.skip();
    }
  }
}

inline void valueInfo(Message& m, ValueInfoProto& v) {
  while (m.next()) {
    switch (m.field()) {
      case 1:
        v.name = m.text("name");
        break;
      case 2: {
        Message sub = m.message("type", kSingular, "TypeProto");
        type(sub, v);
        break;
      }
      case 3:
        m.skipKnown("doc_string", kLen);
        break;
      default:
        m.skip();
    }
  }
}

inline void node(Message& m, NodeProto& n) {
  while (m.next()) {
    switch (m.field()) {
      case 1:
        n.input.push_back(m.text("input"));
        break;
      case 2:
        n.output.push_back(m.text("output"));
        break;
      case 3:
        n.name = m.text("name");
        break;
      case 4:
        n.opType = m.text("op_type");
        break;
      case 5: {
        Message sub = m.message("attribute", n.attribute.size(), "AttributeProto");
        n.attribute.emplace_back();
        attribute(sub, n.attribute.back());
        break;
      }
      case 6:
        m.skipKnown("doc_string", kLen);
        break;
      case 7:
        n.domain = m.text("domain");
        break;
      default:
        m.skip();
    }
  }
}

inline void valueInfos(Message& m, const char* name, std::vector<ValueInfoProto>& out) {
  Message sub = m.message(name, out.size(), "ValueInfoProto");
  out.emplace_back();
  valueInfo(sub, out.back());
}

inline void graph(Message& m, GraphProto& g) {
  while (m.next()) {
    switch (m.field()) {
      case 1: {
        Message sub = m.message("node", g.node.size(), "NodeProto");
        g.node.emplace_back();
        node(sub, g.node.back());
        break;
      }
      case 2:
        g.name = m.text("name");
        break;
      case 5: {
        Message sub = m.message("initializer", g.initializer.size(), "TensorProto");
        g.initializer.emplace_back();
        tensor(sub, g.initializer.back());
        break;
      }
      case 10:
        m.skipKnown("doc_string", kLen);
        break;
      case 11:
        valueInfos(m, "input", g.input);
        break;
      case 12:
        valueInfos(m, "output", g.output);
        break;
      case 13:
        valueInfos(m, "value_info", g.valueInfo);
        break;
      case 14:
        m.skipKnown("quantization_annotation", kLen);
        break;
      case 15:
        m.skipKnown("sparse_initializer", kLen);
        g.hasSparseInitializer = true;
        break;
      default:
        m.skip();
    }
  }
}

inline void operatorSetId(Message& m, OperatorSetId& o) {
  while (m.next()) {
    switch (m.field()) {
      case 1:
        o.domain = m.text("domain");
        break;
      case 2:
        o.version = m.int64("version");
        break;
      default:
        m.skip();
    }
  }
}

inline void model(Message& m, ModelProto& out) {
  while (m.next()) {
    switch (m.field()) {
      case 1:
        out.irVersion = m.int64("ir_version");
        break;
      case 2:
        out.producerName = m.text("producer_name");
        break;
      case 3:
        out.producerVersion = m.text("producer_version");
        break;
      case 4:
        out.domain = m.text("domain");
        break;
      case 5:
        out.modelVersion = m.int64("model_version");
        break;
      case 6:
        m.skipKnown("doc_string", kLen);
        break;
      case 7: {
        Message sub = m.message("graph", kSingular, "GraphProto");
        out.hasGraph = true;
        graph(sub, out.graph);  // a second `graph` merges into the first
        break;
      }
      case 8: {
        Message sub = m.message("opset_import", out.opsetImport.size(), "OperatorSetIdProto");
        out.opsetImport.emplace_back();
        operatorSetId(sub, out.opsetImport.back());
        break;
      }
      case 14:
        m.skipKnown("metadata_props", kLen);
        break;
      case 20:
        m.skipKnown("training_info", kLen);
        break;
      case 25:
        m.skipKnown("functions", kLen);
        out.hasFunctions = true;
        break;
      default:
        m.skip();
    }
  }
}

}  // namespace parse

inline ModelProto parseModel(const char* data, std::size_t size, const std::string& who) {
  static const unsigned char kEmpty = 0;
  const wire::Source src{data != nullptr ? reinterpret_cast<const unsigned char*>(data) : &kEmpty,
                         data != nullptr ? size : 0, who};
  wire::Message root(src, "ModelProto");
  ModelProto out;
  parse::model(root, out);
  return out;
}

}  // namespace recurrent::io::detail::onnx

#endif  // RECURRENT_IO_DETAIL_ONNX_PROTO_HPP
