// ONNX import, wire level: the protobuf reader of include/recurrent/io/detail/onnx_proto.hpp.
// Messages are built byte by byte with a tiny encoder: every field the reader keeps, unknown
// fields of all four wire types at every level, protobuf's merge rules, every malformed form
// (each must give a FormatError naming the path, the field and the byte), every truncation and
// many byte flips of a valid model; then the shared onnxruntime cases (shared/oracle/onnx/cases)
// when they are there, against their .json.
#include "support/catch.hpp"
#include <recurrent/io/detail/onnx_proto.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#if RECURRENT_HAS_JSON
#include <nlohmann/json.hpp>
#endif

namespace {

namespace onnx = recurrent::io::detail::onnx;
using recurrent::FormatError;
using recurrent_test::ContainsSubstring;

constexpr std::uint32_t kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5;

/// A tiny protobuf encoder: each call appends one field (or raw bytes).
class Enc {
 public:
  Enc& varint(std::uint64_t v) {
    while (v >= 0x80) {
      b_ += static_cast<char>((v & 0x7fu) | 0x80u);
      v >>= 7;
    }
    b_ += static_cast<char>(v);
    return *this;
  }
  Enc& tag(std::uint32_t field, std::uint32_t wire) {
    return varint((std::uint64_t{field} << 3) | wire);
  }
  Enc& u(std::uint32_t field, std::uint64_t v) { return tag(field, kVarint).varint(v); }
  Enc& i(std::uint32_t field, std::int64_t v) { return u(field, static_cast<std::uint64_t>(v)); }
  Enc& f32(std::uint32_t field, float v) { return tag(field, kFixed32).fixed(v); }
  Enc& f64(std::uint32_t field, double v) { return tag(field, kFixed64).fixed(v); }
  Enc& str(std::uint32_t field, const std::string& s) {
    tag(field, kLen).varint(s.size());
    b_ += s;
    return *this;
  }
  Enc& msg(std::uint32_t field, const Enc& m) { return str(field, m.bytes()); }
  Enc& packedFloats(std::uint32_t field, std::initializer_list<float> v) {
    Enc p;
    for (float x : v) p.fixed(x);
    return str(field, p.bytes());
  }
  Enc& packedDoubles(std::uint32_t field, std::initializer_list<double> v) {
    Enc p;
    for (double x : v) p.fixed(x);
    return str(field, p.bytes());
  }
  Enc& packedInts(std::uint32_t field, std::initializer_list<std::int64_t> v) {
    Enc p;
    for (std::int64_t x : v) p.varint(static_cast<std::uint64_t>(x));
    return str(field, p.bytes());
  }
  Enc& raw(const std::string& bytes) {
    b_ += bytes;
    return *this;
  }
  template <class T>
  Enc& fixed(T v) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));  // the test machines are little-endian, as x86/ARM are
    b_.append(bytes, sizeof(T));
    return *this;
  }
  const std::string& bytes() const { return b_; }
  std::size_t size() const { return b_.size(); }

 private:
  std::string b_;
};

std::string floatsLE(std::initializer_list<float> v) {
  Enc e;
  for (float x : v) e.fixed(x);
  return e.bytes();
}

const std::string kWho = "test 'm.onnx'";

onnx::ModelProto parse(const std::string& bytes) {
  return onnx::parseModel(bytes.data(), bytes.size(), kWho);
}

/// The FormatError message of parsing `bytes`, or a description of what happened instead.
std::string errorOf(const std::string& bytes) {
  try {
    parse(bytes);
  } catch (const FormatError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<another exception type: ") + e.what() + ">";
  }
  return "<no exception>";
}

// --- one model with every field the reader keeps --------------------------------------------

/// Unknown fields of all four wire types (numbers no ONNX message uses), or nothing.
Enc junk(bool on, std::uint32_t salt) {
  Enc e;
  if (!on) return e;
  e.u(900 + salt, 0xffffffffffffffffull)           // varint, 10 bytes
      .f64(901, 1.5)                               // 64-bit
      .str(902, std::string("\x08\x01\0\xff", 4))  // length-delimited
      .f32(903, 2.5f)                              // 32-bit
      .tag(536870911, kVarint)                     // the largest field number
      .raw(std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 10));  // non-minimal 0
  return e;
}

Enc tensorW(bool j) {  // raw_data, dims unpacked
  return Enc()
      .raw(junk(j, 1).bytes())
      .u(1, 1)
      .u(1, 2)
      .raw(junk(j, 2).bytes())
      .u(1, 2)
      .u(2, 1)
      .str(8, "W")
      .str(9, floatsLE({1.f, -2.f, 0.5f, 3.25f}))
      .raw(junk(j, 3).bytes());
}

Enc tensorR(bool j) {  // packed float_data, packed dims
  return Enc()
      .packedInts(1, {2, 2})
      .u(2, 1)
      .str(8, "R")
      .raw(junk(j, 4).bytes())
      .packedFloats(4, {0.25f, -0.75f, 1e-3f, 7.f});
}

Enc tensorB(bool j) {  // unpacked float_data, then one more packed run (appended)
  return Enc()
      .u(1, 3)
      .u(2, 1)
      .str(8, "B")
      .f32(4, 1.f)
      .raw(junk(j, 5).bytes())
      .f32(4, 2.f)
      .packedFloats(4, {3.f});
}

Enc tensorInts(bool j) {  // int32 / int64 / double / uint64, packed and not, extreme values
  return Enc()
      .str(8, "ints")
      .u(2, 7)
      .packedInts(1, {0})
      .i(7, std::numeric_limits<std::int64_t>::min())
      .packedInts(7, {std::numeric_limits<std::int64_t>::max(), -1})
      .raw(junk(j, 6).bytes())
      .i(5, -5)
      .packedInts(5, {std::numeric_limits<std::int32_t>::min(), 2147483647})
      .packedDoubles(10, {0.125, -1e300})
      .f64(10, 2.0)
      .u(11, 18446744073709551615ull)
      .packedInts(11, {3});
}

Enc tensorExternal(bool j) {
  return Enc()
      .str(8, "ext")
      .u(1, 4)
      .u(2, 11)
      .msg(13, Enc().str(1, "location").raw(junk(j, 7).bytes()).str(2, "weights.bin"))
      .msg(13, Enc().str(2, "128").str(1, "offset"))
      .u(14, 1)
      .msg(3, Enc().u(1, 0).u(2, 4))  // segment
      .str(6, std::string("a\0b", 3))
      .str(12, "doc");
}

Enc attr(const std::string& name, std::int32_t type, const Enc& value, bool j) {
  return Enc()
      .str(1, name)
      .raw(junk(j, 8).bytes())
      .u(20, static_cast<std::uint64_t>(type))
      .raw(value.bytes());
}

Enc nodeLSTM(bool j) {
  Enc n;
  n.str(1, "X").str(1, "W").str(1, "R").raw(junk(j, 9).bytes()).str(1, "").str(1, "h0");
  n.str(2, "Y").str(2, "").str(2, "Y_c").str(3, "lstm0").str(4, "LSTM").str(7, "").str(6, "doc");
  n.msg(5, attr("hidden_size", 2, Enc().u(3, 3), j));
  n.msg(5, attr("clip", 1, Enc().f32(2, 0.5f), j));
  n.msg(5, attr("direction", 3, Enc().str(4, "bidirectional"), j));
  n.msg(5, attr("activation_alpha", 6, Enc().packedFloats(7, {0.1f, 0.2f}), j));
  n.msg(5, attr("activation_beta", 6, Enc().f32(7, 3.f).f32(7, 4.f), j));
  n.msg(5, attr("axes", 7, Enc().packedInts(8, {1, -2}).i(8, 3), j));
  n.msg(5, attr("activations", 8, Enc().str(9, "Sigmoid").str(9, "Tanh").str(9, "Tanh"), j));
  n.msg(5, attr("value", 4, Enc().msg(5, tensorR(j)), j));
  n.msg(5, attr("body", 5, Enc().str(6, "\x01\x02 not parsed").str(11, ""), j));
  n.msg(5, attr("ref", 2, Enc().str(21, "outer_attr").str(13, "doc"), j));
  n.msg(5,
        attr("tensors", 9, Enc().str(10, "").str(14, "").str(15, "").str(22, "").str(23, ""), j));
  n.raw(junk(j, 10).bytes());
  return n;
}

Enc valueInfo(const std::string& name, const Enc& type, bool j) {
  return Enc().str(1, name).raw(junk(j, 11).bytes()).msg(2, type).str(3, "doc");
}

Enc graph(bool j) {
  Enc g;
  g.raw(junk(j, 12).bytes()).str(2, "main_graph").msg(1, nodeLSTM(j));
  g.msg(1, Enc().str(4, "Identity").str(1, "Y").str(2, "Z").str(7, "com.example"));
  g.msg(5, tensorW(j)).msg(5, tensorR(j)).msg(5, tensorB(j)).msg(5, tensorInts(j));
  g.msg(5, tensorExternal(j));
  const Enc shapeX = Enc()
                         .msg(1, Enc().str(2, "T").raw(junk(j, 13).bytes()))
                         .msg(1, Enc().u(1, 2).str(3, "batch"))
                         .raw(junk(j, 14).bytes())
                         .msg(1, Enc().u(1, 3));
  g.msg(
      11,
      valueInfo(
          "X", Enc().msg(1, Enc().u(1, 1).raw(junk(j, 15).bytes()).msg(2, shapeX)).str(6, "d"), j));
  g.msg(11, valueInfo("scalar", Enc().msg(1, Enc().u(1, 7).msg(2, Enc())), j));
  g.msg(12, valueInfo("Y", Enc().msg(1, Enc().u(1, 1)).raw(junk(j, 16).bytes()), j));
  g.msg(13, valueInfo("seq", Enc().msg(4, Enc().msg(1, Enc().msg(1, Enc().u(1, 1)))), j));
  g.str(10, "graph doc").str(14, "").str(15, "");
  g.u(3, 1).str(4, "reserved fields are unknown fields");
  g.raw(junk(j, 17).bytes());
  return g;
}

std::string model(bool j) {
  Enc m;
  m.raw(junk(j, 18).bytes()).u(1, 8).str(2, "pytorch").str(3, "2.1.0").str(4, "org.example");
  m.u(5, 7).str(6, "model doc");
  m.msg(8, Enc().str(1, "").u(2, 14).raw(junk(j, 19).bytes()));
  m.msg(8, Enc().u(2, 3).str(1, "ai.onnx.ml"));
  m.msg(7, graph(j));
  m.msg(14, Enc().str(1, "k").str(2, "v")).str(20, "").str(25, "");
  m.raw(junk(j, 20).bytes());
  return m.bytes();
}

void checkModel(const onnx::ModelProto& m) {
  CHECK(m.irVersion == 8);
  CHECK(m.producerName == "pytorch");
  CHECK(m.producerVersion == "2.1.0");
  CHECK(m.domain == "org.example");
  CHECK(m.modelVersion == 7);
  CHECK(m.hasFunctions);
  REQUIRE(m.opsetImport.size() == 2);
  CHECK(m.opsetImport[0].domain.empty());
  CHECK(m.opsetImport[0].version == 14);
  CHECK(m.opsetImport[1].domain == "ai.onnx.ml");
  CHECK(m.opsetImport[1].version == 3);
  REQUIRE(m.hasGraph);
  const onnx::GraphProto& g = m.graph;
  CHECK(g.name == "main_graph");
  CHECK(g.hasSparseInitializer);

  REQUIRE(g.node.size() == 2);
  const onnx::NodeProto& n = g.node[0];
  CHECK(n.input == std::vector<std::string>{"X", "W", "R", "", "h0"});
  CHECK(n.output == std::vector<std::string>{"Y", "", "Y_c"});
  CHECK(n.name == "lstm0");
  CHECK(n.opType == "LSTM");
  CHECK(n.domain.empty());
  REQUIRE(n.attribute.size() == 11);
  const auto& a = n.attribute;
  CHECK(a[0].name == "hidden_size");
  CHECK(a[0].type == 2);
  CHECK(a[0].i == 3);
  CHECK(a[1].name == "clip");
  CHECK(a[1].type == 1);
  CHECK(a[1].f == 0.5f);
  CHECK(a[2].s == "bidirectional");
  CHECK(a[2].type == 3);
  CHECK(a[3].floats == std::vector<float>{0.1f, 0.2f});
  CHECK(a[4].floats == std::vector<float>{3.f, 4.f});
  CHECK(a[5].ints == std::vector<std::int64_t>{1, -2, 3});
  CHECK(a[6].strings == std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"});
  CHECK(a[7].type == 4);
  REQUIRE(a[7].hasT);
  CHECK(a[7].t.name == "R");
  CHECK(a[7].t.floatData == std::vector<float>{0.25f, -0.75f, 1e-3f, 7.f});
  CHECK(a[8].hasGraph);
  CHECK_FALSE(a[8].hasT);
  CHECK_FALSE(a[7].hasGraph);
  CHECK(a[9].refAttrName == "outer_attr");
  CHECK(a[10].hasOtherValue);
  CHECK_FALSE(a[9].hasOtherValue);
  CHECK(g.node[1].opType == "Identity");
  CHECK(g.node[1].domain == "com.example");

  REQUIRE(g.initializer.size() == 5);
  const onnx::TensorProto& w = g.initializer[0];
  CHECK(w.name == "W");
  CHECK(w.dims == std::vector<std::int64_t>{1, 2, 2});
  CHECK(w.dataType == 1);
  CHECK(w.rawData == floatsLE({1.f, -2.f, 0.5f, 3.25f}));
  CHECK(w.floatData.empty());
  const onnx::TensorProto& r = g.initializer[1];
  CHECK(r.dims == std::vector<std::int64_t>{2, 2});
  CHECK(r.floatData == std::vector<float>{0.25f, -0.75f, 1e-3f, 7.f});
  CHECK(r.rawData.empty());
  CHECK(g.initializer[2].floatData == std::vector<float>{1.f, 2.f, 3.f});
  const onnx::TensorProto& ints = g.initializer[3];
  CHECK(ints.dataType == 7);
  CHECK(ints.dims == std::vector<std::int64_t>{0});
  CHECK(ints.int64Data == std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(),
                                                    std::numeric_limits<std::int64_t>::max(), -1});
  CHECK(ints.int32Data ==
        std::vector<std::int32_t>{-5, std::numeric_limits<std::int32_t>::min(), 2147483647});
  CHECK(ints.doubleData == std::vector<double>{0.125, -1e300, 2.0});
  CHECK(ints.uint64Data == std::vector<std::uint64_t>{18446744073709551615ull, 3});
  const onnx::TensorProto& ext = g.initializer[4];
  CHECK(ext.dataLocation == 1);
  CHECK(ext.dataType == 11);
  CHECK(ext.hasSegment);
  CHECK_FALSE(w.hasSegment);
  CHECK(ext.stringData == std::vector<std::string>{std::string("a\0b", 3)});
  REQUIRE(ext.externalData.size() == 2);
  CHECK(ext.externalData[0] == std::make_pair(std::string("location"), std::string("weights.bin")));
  CHECK(ext.externalData[1] == std::make_pair(std::string("offset"), std::string("128")));

  REQUIRE(g.input.size() == 2);
  const onnx::ValueInfoProto& x = g.input[0];
  CHECK(x.name == "X");
  CHECK(x.isTensor);
  CHECK(x.elemType == 1);
  CHECK(x.hasShape);
  REQUIRE(x.dims.size() == 3);
  CHECK_FALSE(x.dims[0].hasValue);
  CHECK(x.dims[0].param == "T");
  CHECK(x.dims[1].hasValue);
  CHECK(x.dims[1].value == 2);
  CHECK(x.dims[2].value == 3);
  CHECK(g.input[1].hasShape);  // an empty shape: rank 0
  CHECK(g.input[1].dims.empty());
  CHECK(g.input[1].elemType == 7);
  REQUIRE(g.output.size() == 1);
  CHECK(g.output[0].isTensor);
  CHECK_FALSE(g.output[0].hasShape);
  REQUIRE(g.valueInfo.size() == 1);
  CHECK(g.valueInfo[0].name == "seq");
  CHECK_FALSE(g.valueInfo[0].isTensor);
}

}  // namespace

TEST_CASE("onnx_proto: a model with every field the reader keeps", "[onnx][proto]") {
  checkModel(parse(model(false)));
}

TEST_CASE("onnx_proto: unknown fields of all four wire types are skipped at every level",
          "[onnx][proto]") {
  const std::string plain = model(false), noisy = model(true);
  REQUIRE(noisy.size() > plain.size() + 20 * 30);
  checkModel(parse(noisy));
}

TEST_CASE("onnx_proto: protobuf rules for repeated and singular fields", "[onnx][proto]") {
  SECTION("empty input: an empty ModelProto") {
    const onnx::ModelProto m = parse("");
    CHECK_FALSE(m.hasGraph);
    CHECK(m.irVersion == 0);
    CHECK(onnx::parseModel(nullptr, 0, kWho).opsetImport.empty());
  }
  SECTION("a singular scalar: the last one wins") {
    const onnx::ModelProto m = parse(Enc().u(1, 3).u(1, 9).str(2, "a").str(2, "b").bytes());
    CHECK(m.irVersion == 9);
    CHECK(m.producerName == "b");
  }
  SECTION("a singular message twice is merged") {
    const Enc g1 = Enc().str(2, "first").msg(1, Enc().str(4, "A"));
    const Enc g2 = Enc().msg(1, Enc().str(4, "B")).str(2, "second");
    const onnx::ModelProto m = parse(Enc().msg(7, g1).u(1, 8).msg(7, g2).bytes());
    CHECK(m.graph.name == "second");
    REQUIRE(m.graph.node.size() == 2);
    CHECK(m.graph.node[0].opType == "A");
    CHECK(m.graph.node[1].opType == "B");

    const Enc t = Enc()
                      .str(1, "a")
                      .msg(5, Enc().str(8, "t1").f32(4, 1.f).u(2, 1))
                      .msg(5, Enc().f32(4, 2.f).str(8, "t2"));
    const onnx::ModelProto m2 = parse(Enc().msg(7, Enc().msg(1, Enc().msg(5, t))).bytes());
    const onnx::AttributeProto& a = m2.graph.node.at(0).attribute.at(0);
    CHECK(a.t.name == "t2");
    CHECK(a.t.dataType == 1);
    CHECK(a.t.floatData == std::vector<float>{1.f, 2.f});
  }
  SECTION("dim_value / dim_param: a oneof, the last one wins") {
    const Enc dims = Enc().msg(1, Enc().u(1, 5).str(2, "N")).msg(1, Enc().str(2, "N").u(1, 5));
    const Enc type = Enc().msg(1, Enc().msg(2, dims));
    const onnx::ModelProto m =
        parse(Enc().msg(7, Enc().msg(11, Enc().str(1, "x").msg(2, type))).bytes());
    const auto& d = m.graph.input.at(0).dims;
    REQUIRE(d.size() == 2);
    CHECK_FALSE(d[0].hasValue);
    CHECK(d[0].param == "N");
    CHECK(d[1].hasValue);
    CHECK(d[1].value == 5);
    CHECK(d[1].param.empty());
  }
  SECTION("TypeProto: another oneof member replaces tensor_type, and back") {
    const Enc tensor = Enc().msg(1, Enc().u(1, 1).msg(2, Enc().msg(1, Enc().u(1, 4))));
    const Enc seqThenTensor = Enc().str(4, "").msg(1, Enc().u(1, 11));
    const Enc tensorThenMap = Enc(tensor).str(5, "");
    const onnx::ModelProto m = parse(
        Enc()
            .msg(7, Enc().msg(11, Enc().msg(2, tensorThenMap)).msg(11, Enc().msg(2, seqThenTensor)))
            .bytes());
    const onnx::ValueInfoProto& a = m.graph.input.at(0);
    CHECK_FALSE(a.isTensor);
    CHECK_FALSE(a.hasShape);
    CHECK(a.dims.empty());
    CHECK(a.elemType == 0);
    const onnx::ValueInfoProto& b = m.graph.input.at(1);
    CHECK(b.isTensor);
    CHECK(b.elemType == 11);
  }
  SECTION("repeated scalars: packed and unpacked runs append in order") {
    const Enc t = Enc()
                      .u(1, 1)
                      .packedInts(1, {2, 3})
                      .u(1, 4)
                      .packedInts(1, {})
                      .f32(4, 1.f)
                      .packedFloats(4, {2.f, 3.f})
                      .f32(4, 4.f);
    const onnx::ModelProto m = parse(Enc().msg(7, Enc().msg(5, t)).bytes());
    CHECK(m.graph.initializer.at(0).dims == std::vector<std::int64_t>{1, 2, 3, 4});
    CHECK(m.graph.initializer.at(0).floatData == std::vector<float>{1.f, 2.f, 3.f, 4.f});
  }
  SECTION("many packed runs of one element stay linear (no quadratic reallocation)") {
    Enc t;
    for (int k = 0; k < 20000; ++k) t.packedFloats(4, {static_cast<float>(k)});
    const onnx::ModelProto m = parse(Enc().msg(7, Enc().msg(5, t)).bytes());
    REQUIRE(m.graph.initializer.at(0).floatData.size() == 20000);
    CHECK(m.graph.initializer[0].floatData.back() == 19999.f);
  }
  SECTION("NUL is allowed in bytes fields") {
    const Enc a = Enc().str(1, "a").str(4, std::string("x\0y", 3)).str(9, std::string(1, '\0'));
    const onnx::ModelProto m = parse(Enc().msg(7, Enc().msg(1, Enc().msg(5, a))).bytes());
    CHECK(m.graph.node.at(0).attribute.at(0).s == std::string("x\0y", 3));
    CHECK(m.graph.node[0].attribute[0].strings.at(0) == std::string(1, '\0'));
  }
}

TEST_CASE("onnx_proto: malformed bytes give a FormatError naming path, field and byte",
          "[onnx][proto]") {
  const auto nodeWithAttr = [](const Enc& attribute) {
    return Enc().msg(7, Enc().msg(1, Enc().str(4, "LSTM").msg(5, attribute))).str(2, "after");
  };
  SECTION("truncated varints") {
    CHECK(errorOf("\x08\x80") ==
          kWho +
              ": ModelProto (field 1 'ir_version'): varint at byte 1 truncated by the end "
              "of the file (file is 2 bytes)");
    CHECK(errorOf("\x80") == kWho +
                                 ": ModelProto: field tag: varint at byte 0 truncated by the end "
                                 "of the file (file is 1 bytes)");
    // Inside a nested message that ends before the file does.
    const std::string b = nodeWithAttr(Enc().str(1, "a").raw("\x18\xff")).bytes();
    const std::string e = errorOf(b);
    CHECK_THAT(e, ContainsSubstring(kWho + ": ModelProto.graph.node[0].attribute[0] (field 3 "
                                           "'i'): varint at byte "));
    CHECK_THAT(e, ContainsSubstring("truncated by the end of AttributeProto at byte"));
    CHECK_THAT(e, ContainsSubstring("(file is " + std::to_string(b.size()) + " bytes)"));
    // A tag truncated by the end of its message.
    CHECK_THAT(errorOf(Enc().msg(7, Enc().raw("\x92")).u(1, 1).bytes()),
               ContainsSubstring("ModelProto.graph: field tag: varint at byte 2 truncated by the "
                                 "end of GraphProto at byte 3"));
    // Inside a packed field.
    CHECK_THAT(errorOf(nodeWithAttr(Enc().str(8, "\x01\x80")).bytes()),
               ContainsSubstring("attribute[0] (field 8 'ints'): varint at byte 15 truncated by "
                                 "the end of the packed field at byte 16"));
  }
  SECTION("overlong varints") {
    CHECK(errorOf(std::string("\x08") + std::string(9, '\xff') + "\x02") ==
          kWho +
              ": ModelProto (field 1 'ir_version'): varint at byte 1 is overlong: its 10th "
              "byte is 2 (at most 1 fits 64 bits; file is 11 bytes)");
    CHECK_THAT(errorOf(std::string(10, '\x80') + "\x01"),
               ContainsSubstring("ModelProto: field tag: varint at byte 0 is overlong"));
    CHECK_THAT(
        errorOf(Enc()
                    .msg(7, Enc().str(5, Enc().raw("\x08").raw(std::string(11, '\x81')).bytes()))
                    .bytes()),
        ContainsSubstring("ModelProto.graph.initializer[0] (field 1 'dims'): varint at "
                          "byte 5 is overlong"));
    // Ten bytes with a last byte of 1: the largest valid varint.
    CHECK(parse(std::string("\x08") + std::string(9, '\xff') + "\x01").irVersion == -1);
  }
  SECTION("lengths past the end of the enclosing message") {
    CHECK(errorOf(std::string("\x3a\x05\x00", 3)) ==
          kWho +
              ": ModelProto (field 7 'graph'): length 5 at byte 1 exceeds the 1 bytes left in "
              "ModelProto (file is 3 bytes)");
    const std::string e = errorOf(Enc().msg(7, Enc().raw("\x0a\x04\x22\x01")).u(1, 1).bytes());
    CHECK_THAT(e, ContainsSubstring("ModelProto.graph (field 1 'node'): length 4 at byte 3 "
                                    "exceeds the 2 bytes left in GraphProto (which ends at byte "
                                    "6)"));
    // A huge declared length is refused before anything is allocated.
    CHECK_THAT(errorOf(Enc().tag(9, kLen).varint(~0ull >> 1).bytes()),
               ContainsSubstring("(field 9): length 9223372036854775807 at byte 1 exceeds the 0 "
                                 "bytes left"));
    CHECK_THAT(errorOf(Enc().msg(7, Enc().msg(5, Enc().tag(9, kLen).varint(1ull << 40))).bytes()),
               ContainsSubstring("initializer[0] (field 9 'raw_data'): length 1099511627776"));
  }
  SECTION("packed fixed-size payloads that are not whole elements") {
    CHECK_THAT(errorOf(Enc().msg(7, Enc().msg(5, Enc().str(4, "12345"))).bytes()),
               ContainsSubstring("ModelProto.graph.initializer[0] (field 4 'float_data'): packed "
                                 "payload of 5 bytes at byte 6 is not a multiple of 4"));
    CHECK_THAT(errorOf(Enc().msg(7, Enc().msg(5, Enc().str(10, std::string(12, 'x')))).bytes()),
               ContainsSubstring("(field 10 'double_data'): packed payload of 12 bytes at byte 6 "
                                 "is not a multiple of 8"));
    CHECK_THAT(errorOf(nodeWithAttr(Enc().str(7, "abc")).bytes()),
               ContainsSubstring("attribute[0] (field 7 'floats'): packed payload of 3 bytes"));
  }
  SECTION("group wire types and invalid wire types") {
    CHECK(errorOf("\x0b") == kWho +
                                 ": ModelProto (field 1): wire type 3 (start group) at byte 0: "
                                 "groups are refused (deprecated, never used by ONNX; file is 1 "
                                 "bytes)");
    CHECK_THAT(errorOf(Enc().msg(7, Enc().tag(77, 4)).bytes()),
               ContainsSubstring("ModelProto.graph (field 77): wire type 4 (end group) at byte 2"));
    CHECK_THAT(errorOf(Enc().tag(3, 6).bytes()),
               ContainsSubstring("ModelProto (field 3): invalid wire type 6 at byte 0"));
    CHECK_THAT(errorOf(Enc().u(1, 1).tag(1000, 7).bytes()),
               ContainsSubstring("ModelProto (field 1000): invalid wire type 7 at byte 2"));
  }
  SECTION("invalid field numbers") {
    CHECK(errorOf(std::string("\x08\x01\x00\x01", 4)) ==
          kWho +
              ": ModelProto: field tag at byte 2: field number 0 is invalid (1 to 536870911; "
              "file is 4 bytes)");
    CHECK_THAT(errorOf(Enc().varint(std::uint64_t{1} << 32).bytes()),
               ContainsSubstring("field number 536870912 is invalid"));
  }
  SECTION("a known field with the wrong wire type") {
    CHECK(errorOf(Enc().str(1, "8").bytes()) ==
          kWho +
              ": ModelProto (field 1 'ir_version'): wire type 2 (length-delimited) at byte 0, "
              "expected 0 (varint) (file is 3 bytes)");
    CHECK_THAT(errorOf(Enc().u(7, 1).bytes()),
               ContainsSubstring("ModelProto (field 7 'graph'): wire type 0 (varint) at byte 0, "
                                 "expected 2 (length-delimited)"));
    CHECK_THAT(errorOf(Enc().msg(7, Enc().msg(5, Enc().str(2, "\x01"))).bytes()),
               ContainsSubstring("initializer[0] (field 2 'data_type'): wire type 2"));
    CHECK_THAT(errorOf(nodeWithAttr(Enc().u(2, 1)).bytes()),
               ContainsSubstring("attribute[0] (field 2 'f'): wire type 0 (varint) at byte 12, "
                                 "expected 5 (32-bit)"));
    CHECK_THAT(errorOf(nodeWithAttr(Enc().u(1, 1)).bytes()),
               ContainsSubstring("attribute[0] (field 1 'name'): wire type 0"));
    CHECK_THAT(errorOf(nodeWithAttr(Enc().f32(5, 1.f)).bytes()),
               ContainsSubstring("attribute[0] (field 5 't'): wire type 5 (32-bit)"));
    CHECK_THAT(errorOf(nodeWithAttr(Enc().u(6, 0)).bytes()),
               ContainsSubstring("attribute[0] (field 6 'g'): wire type 0 (varint)"));
    CHECK_THAT(errorOf(Enc().msg(7, Enc().msg(5, Enc().f32(1, 1.f))).bytes()),
               ContainsSubstring("initializer[0] (field 1 'dims'): wire type 5 (32-bit) at byte "
                                 "4, expected 0 (varint) or 2 (length-delimited) (packed)"));
    CHECK_THAT(errorOf(Enc().msg(7, Enc().msg(5, Enc().u(4, 1))).bytes()),
               ContainsSubstring("(field 4 'float_data'): wire type 0 (varint) at byte 4, "
                                 "expected 5 (32-bit) or 2"));
    CHECK_THAT(errorOf(Enc().msg(7, Enc().msg(5, Enc().f32(10, 1.f))).bytes()),
               ContainsSubstring("(field 10 'double_data'): wire type 5 (32-bit) at byte 4, "
                                 "expected 1 (64-bit) or 2"));
    CHECK_THAT(
        errorOf(Enc().msg(7, Enc().msg(11, Enc().msg(2, Enc().msg(1, Enc().f64(1, 1.0))))).bytes()),
        ContainsSubstring("ModelProto.graph.input[0].type.tensor_type (field 1 'elem_type'): "
                          "wire type 1 (64-bit)"));
  }
  SECTION("truncated fixed-size values") {
    CHECK_THAT(errorOf(nodeWithAttr(Enc().raw(std::string("\x15\x00\x00", 3))).bytes()),
               ContainsSubstring("attribute[0] (field 2 'f'): 32-bit value at byte 13 truncated "
                                 "by the end of AttributeProto at byte 15"));
    CHECK_THAT(errorOf(std::string("\x49\x00\x00\x00", 4)),
               ContainsSubstring("ModelProto (field 9): 64-bit value at byte 1 truncated by the "
                                 "end of the file (file is 4 bytes)"));
    CHECK_THAT(errorOf(Enc().raw("\xfd\x07\x01").bytes()),
               ContainsSubstring("ModelProto (field 127): 32-bit value at byte 2 truncated"));
  }
  SECTION("int32 fields out of range") {
    CHECK_THAT(errorOf(Enc().msg(7, Enc().msg(5, Enc().u(2, 2147483648ull))).bytes()),
               ContainsSubstring("initializer[0] (field 2 'data_type'): value 2147483648 at byte "
                                 "5 does not fit int32"));
    CHECK_THAT(errorOf(Enc().msg(7, Enc().msg(5, Enc().packedInts(5, {1, -2147483649ll}))).bytes()),
               ContainsSubstring("(field 5 'int32_data'): value -2147483649 at byte 7"));
    CHECK_THAT(errorOf(nodeWithAttr(Enc().u(20, 0xffffffffull)).bytes()),
               ContainsSubstring("(field 20 'type'): value 4294967295"));
  }
  SECTION("NUL inside a name") {
    CHECK(errorOf(Enc().msg(7, Enc().msg(1, Enc().str(4, std::string("LS\0TM", 5)))).bytes()) ==
          kWho +
              ": ModelProto.graph.node[0] (field 4 'op_type'): NUL byte at byte 8 inside the "
              "string (names must not contain NUL; file is 11 bytes)");
    CHECK_THAT(
        errorOf(Enc()
                    .msg(7, Enc().msg(5, Enc().msg(13, Enc().str(2, std::string("a\0/b", 4)))))
                    .bytes()),
        ContainsSubstring("initializer[0].external_data[0] (field 2 'value'): NUL byte"));
    CHECK_THAT(errorOf(Enc().msg(8, Enc().str(1, std::string(1, '\0'))).bytes()),
               ContainsSubstring("ModelProto.opset_import[0] (field 1 'domain'): NUL byte"));
  }
  SECTION("errors deep in the tree name every index") {
    Enc g;
    for (int k = 0; k < 3; ++k) g.msg(1, Enc().str(4, "Op"));
    const Enc badShape = Enc().msg(1, Enc().u(1, 1)).msg(1, Enc().raw("\x10\x01"));
    g.msg(11, Enc().str(1, "a")).msg(11, Enc().msg(2, Enc().msg(1, Enc().msg(2, badShape))));
    CHECK_THAT(errorOf(Enc().msg(7, g).bytes()),
               ContainsSubstring(kWho + ": ModelProto.graph.input[1].type.tensor_type.shape.dim[1] "
                                        "(field 2 'dim_param'): wire type 0 (varint)"));
    Enc n = Enc().str(4, "LSTM");
    for (int k = 0; k < 4; ++k) n.msg(5, Enc().str(1, "ok"));
    n.msg(5, Enc().msg(5, Enc().msg(13, Enc().raw("\x0a"))));
    CHECK_THAT(errorOf(Enc().msg(7, Enc().msg(1, Enc()).msg(1, n)).bytes()),
               ContainsSubstring("ModelProto.graph.node[1].attribute[4].t.external_data[0] "
                                 "(field 1 'key'): varint at byte"));
  }
}

TEST_CASE("onnx_proto: every truncation and many byte changes give a model or a FormatError",
          "[onnx][proto]") {
  const std::string full = model(true);
  std::size_t parsed = 0, refused = 0;
  const auto attempt = [&](const std::string& bytes) {
    try {
      parse(bytes);
      ++parsed;
    } catch (const FormatError& e) {
      ++refused;
      if (std::string(e.what()).rfind(kWho + ": ModelProto", 0) != 0) FAIL(e.what());
    } catch (const std::exception& e) {
      FAIL("not a FormatError: " << e.what());
    }
  };
  for (std::size_t n = 0; n < full.size(); ++n) attempt(full.substr(0, n));
  for (std::size_t k = 0; k < full.size(); ++k) {
    for (const unsigned mask : {0x01u, 0x07u, 0x80u, 0xffu}) {
      std::string b = full;
      b[k] = static_cast<char>(static_cast<unsigned char>(b[k]) ^ mask);
      attempt(b);
    }
  }
  CHECK(parsed + refused == 5 * full.size());
  CHECK(refused > full.size());  // most truncations cut a field
  CHECK(parsed > 0);
}

TEST_CASE("onnx_proto: type names", "[onnx][proto]") {
  CHECK(std::string(onnx::dataTypeName(1)) == "FLOAT");
  CHECK(std::string(onnx::dataTypeName(6)) == "INT32");
  CHECK(std::string(onnx::dataTypeName(7)) == "INT64");
  CHECK(std::string(onnx::dataTypeName(10)) == "FLOAT16");
  CHECK(std::string(onnx::dataTypeName(11)) == "DOUBLE");
  CHECK(std::string(onnx::dataTypeName(16)) == "BFLOAT16");
  CHECK(std::string(onnx::dataTypeName(0)) == "UNDEFINED");
  CHECK(std::string(onnx::dataTypeName(-1)) == "unknown");
  CHECK(std::string(onnx::dataTypeName(1000)) == "unknown");
  CHECK(std::string(onnx::attributeTypeName(2)) == "INT");
  CHECK(std::string(onnx::attributeTypeName(8)) == "STRINGS");
  CHECK(std::string(onnx::attributeTypeName(14)) == "TYPE_PROTOS");
  CHECK(std::string(onnx::attributeTypeName(15)) == "unknown");
}

// --- the shared onnxruntime cases ------------------------------------------------------------

namespace {

const std::filesystem::path kOracleDir =
    std::filesystem::path(RECURRENT_TESTS_DIR "/../../shared/oracle/onnx/cases");

std::string readBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("onnx_proto: the shared onnxruntime cases parse", "[onnx][proto][oracle]") {
  std::error_code ec;
  if (!std::filesystem::is_directory(kOracleDir, ec)) {
    WARN("no ONNX oracle cases at " << kOracleDir.string() << ": skipped");
    return;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kOracleDir))
    if (entry.path().extension() == ".onnx") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE_FALSE(files.empty());
  for (const auto& file : files) {
    INFO(file.filename().string());
    const std::string bytes = readBytes(file);
    const onnx::ModelProto m =
        onnx::parseModel(bytes.data(), bytes.size(), "test '" + file.filename().string() + "'");
    REQUIRE(m.hasGraph);
    REQUIRE(m.graph.node.size() == 1);
    const onnx::NodeProto& n = m.graph.node[0];
    CHECK((n.opType == "LSTM" || n.opType == "GRU" || n.opType == "RNN"));
#if RECURRENT_HAS_JSON
    std::filesystem::path jsonPath = file;
    jsonPath.replace_extension(".json");
    if (!std::filesystem::exists(jsonPath)) continue;
    const nlohmann::json c = nlohmann::json::parse(readBytes(jsonPath));
    CHECK(n.opType == c.at("op").get<std::string>());
    CHECK(m.irVersion == c.at("ir_version").get<std::int64_t>());
    bool defaultOpset = false;
    for (const onnx::OperatorSetId& o : m.opsetImport) {
      if (o.domain.empty() || o.domain == "ai.onnx") {
        defaultOpset = true;
        CHECK(o.version == c.at("opset").get<std::int64_t>());
      }
    }
    CHECK(defaultOpset);
    CHECK(n.input == c.at("node_inputs").get<std::vector<std::string>>());
    CHECK(n.output == c.at("node_outputs").get<std::vector<std::string>>());

    // Attributes: the same names, and the same values.
    const nlohmann::json& attrs = c.at("attributes");
    CHECK(n.attribute.size() == attrs.size());
    for (const onnx::AttributeProto& a : n.attribute) {
      INFO("attribute " << a.name << " type " << onnx::attributeTypeName(a.type));
      REQUIRE(attrs.contains(a.name));
      const nlohmann::json& v = attrs.at(a.name);
      switch (a.type) {
        case 1:
          CHECK(a.f == static_cast<float>(v.get<double>()));
          break;
        case 2:
          CHECK(a.i == v.get<std::int64_t>());
          break;
        case 3:
          CHECK(a.s == v.get<std::string>());
          break;
        case 6: {
          std::vector<float> expected;
          for (const auto& x : v) expected.push_back(static_cast<float>(x.get<double>()));
          CHECK(a.floats == expected);
          break;
        }
        case 7:
          CHECK(a.ints == v.get<std::vector<std::int64_t>>());
          break;
        case 8:
          CHECK(a.strings == v.get<std::vector<std::string>>());
          break;
        default:
          FAIL("unexpected attribute type " << a.type);
      }
    }

    // Graph inputs: names and dims (a string dim is a dim_param).
    const nlohmann::json& inputs = c.at("graph_inputs");
    std::size_t matched = 0;
    for (const onnx::ValueInfoProto& vi : m.graph.input) {
      for (const auto& gi : inputs) {
        if (gi.at("name").get<std::string>() != vi.name) continue;
        ++matched;
        CHECK(vi.isTensor);
        CHECK(vi.hasShape);
        REQUIRE(vi.dims.size() == gi.at("dims").size());
        for (std::size_t k = 0; k < vi.dims.size(); ++k) {
          const nlohmann::json& d = gi.at("dims")[k];
          if (d.is_string()) {
            CHECK_FALSE(vi.dims[k].hasValue);
            CHECK(vi.dims[k].param == d.get<std::string>());
          } else {
            CHECK(vi.dims[k].hasValue);
            CHECK(vi.dims[k].value == d.get<std::int64_t>());
          }
        }
      }
    }
    CHECK(matched == inputs.size());

    // Initializers: every weight, same shape, same numbers.
    const nlohmann::json& weights = c.at("weights");
    CHECK(m.graph.initializer.size() == weights.size());
    for (const onnx::TensorProto& t : m.graph.initializer) {
      INFO("initializer " << t.name << " " << onnx::dataTypeName(t.dataType));
      REQUIRE(weights.contains(t.name));
      const nlohmann::json& w = weights.at(t.name);
      CHECK(t.dims == w.at("shape").get<std::vector<std::int64_t>>());
      const auto& data = w.at("data");
      if (w.at("dtype") == "float32") {
        REQUIRE(t.dataType == 1);
        std::vector<float> got = t.floatData;
        if (!t.rawData.empty()) {
          REQUIRE(t.rawData.size() == 4 * data.size());
          got.resize(data.size());
          std::memcpy(got.data(), t.rawData.data(), t.rawData.size());
        }
        REQUIRE(got.size() == data.size());
        for (std::size_t k = 0; k < got.size(); ++k)
          CHECK(got[k] == static_cast<float>(data[k].get<double>()));
      } else {
        REQUIRE(w.at("dtype") == "int32");
        REQUIRE(t.dataType == 6);
        std::vector<std::int32_t> got = t.int32Data;
        if (!t.rawData.empty()) {
          REQUIRE(t.rawData.size() == 4 * data.size());
          got.resize(data.size());
          std::memcpy(got.data(), t.rawData.data(), t.rawData.size());
        }
        CHECK(got == data.get<std::vector<std::int32_t>>());
      }
    }
#endif
  }
}
