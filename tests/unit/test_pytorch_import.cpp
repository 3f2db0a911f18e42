// PyTorch import: the safetensors reader (format checks, dtype decoding) and the nn.LSTM/GRU/RNN
// converter (every golden case in tests/models/pytorch, every bad/ file, key and shape errors).
#include "support/catch.hpp"

#if RECURRENT_HAS_JSON
#include <recurrent/io/pytorch.hpp>
#include <recurrent/io/safetensors.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using nlohmann::json;
using recurrent::FlatTensor;
using recurrent::Index;
using recurrent::io::SafeTensors;
using recurrent::io::TorchRNNMode;
using recurrent::io::TorchRNNOptions;
using recurrent_test::ContainsSubstring;

const std::string kDir = std::string(RECURRENT_TESTS_DIR) + "/models/pytorch";

/// The message of the exception of type E that `f` throws, or a description of what happened.
template <class E, class F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<another exception type: ") + e.what() + ">";
  }
  return "<no exception>";
}

// --- building safetensors files in memory ----------------------------------------------------

struct RawTensor {
  std::string name, dtype;
  std::vector<Index> shape;
  std::string bytes;
};

std::string le(std::uint64_t v, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xffu);
  return out;
}

RawTensor f32(const std::string& name, const FlatTensor<float>& t) {
  RawTensor r{name, "F32", t.shape, {}};
  for (float f : t.data) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    r.bytes += le(bits, 4);
  }
  return r;
}

/// 8-byte length + header text + data (no checks: for malformed files).
std::string fileOf(const std::string& header, const std::string& data) {
  return le(header.size(), 8) + header + data;
}

/// A well-formed file: tensors packed in the given order, optional metadata.
std::string writeSafetensors(const std::vector<RawTensor>& tensors,
                             const std::map<std::string, std::string>& metadata = {}) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  return fileOf(header.dump(), data);
}

FlatTensor<float> ramp(std::vector<Index> shape, float scale, float offset = 0.0f) {
  FlatTensor<float> t(std::move(shape), {});
  for (Index i = 0; i < t.size(); ++i)
    t.data.push_back(offset + scale * static_cast<float>((i * 37) % 23 - 11));
  return t;
}

/// The state dict of a small module (PyTorch key names, F32) without metadata.
std::vector<RawTensor> stateDict(Index gates, Index input, Index hidden, Index layers, bool bidir,
                                 bool bias, const std::string& prefix = "") {
  std::vector<RawTensor> out;
  for (Index k = 0; k < layers; ++k) {
    for (int d = 0; d < (bidir ? 2 : 1); ++d) {
      const std::string sfx = std::to_string(k) + (d == 1 ? "_reverse" : "");
      const Index in = k == 0 ? input : (bidir ? 2 : 1) * hidden;
      const float s = 0.01f * static_cast<float>(k + 1 + d);
      out.push_back(f32(prefix + "weight_ih_l" + sfx, ramp({gates * hidden, in}, s)));
      out.push_back(f32(prefix + "weight_hh_l" + sfx, ramp({gates * hidden, hidden}, s, 0.01f)));
      if (bias) {
        out.push_back(f32(prefix + "bias_ih_l" + sfx, ramp({gates * hidden}, s, 0.02f)));
        out.push_back(f32(prefix + "bias_hh_l" + sfx, ramp({gates * hidden}, s, -0.01f)));
      }
    }
  }
  return out;
}

// --- golden cases ------------------------------------------------------------------------------

template <class Scalar>
FlatTensor<Scalar> tensorOf(const json& t) {
  FlatTensor<Scalar> out(t.at("shape").get<std::vector<Index>>(), {});
  for (const json& v : t.at("data"))
    out.data.push_back(static_cast<Scalar>(static_cast<float>(v.get<double>())));
  return out;
}

const json* find(const json& list, const std::string& name) {
  for (const json& t : list)
    if (t.at("name") == name) return &t;
  return nullptr;
}

/// max over elements of |got − want| / (1e-5 + 1e-4·|want|) (≤ 1 passes); -1 on a shape mismatch.
template <class Scalar>
double worst(const FlatTensor<Scalar>& got, const FlatTensor<float>& want, double& maxAbs) {
  if (got.shape != want.shape || got.data.size() != want.data.size()) return -1;
  double ratio = 0;
  for (std::size_t i = 0; i < got.data.size(); ++i) {
    const double d = std::abs(static_cast<double>(got.data[i]) - static_cast<double>(want.data[i]));
    maxAbs = std::max(maxAbs, d);
    ratio = std::max(ratio, d / (1e-5 + 1e-4 * std::abs(static_cast<double>(want.data[i]))));
  }
  return ratio;
}

std::vector<std::string> referenceCases() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(kDir)) {
    const std::string f = e.path().filename().string();
    const std::string ext = ".reference.json";
    if (f.size() > ext.size() && f.compare(f.size() - ext.size(), ext.size(), ext) == 0)
      out.push_back(f.substr(0, f.size() - ext.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

json readJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

/// Runs one golden case; returns the worst tolerance ratio.
template <class Scalar>
double runCase(const std::string& stem, recurrent::io::TorchRNN<Scalar>& rnn, const json& ref,
               double& maxAbs) {
  double ratio = 0;
  for (const json& call : ref.at("calls")) {
    const auto input = tensorOf<Scalar>(*find(call.at("inputs"), "input"));
    const json* h0j = find(call.at("inputs"), "h0");
    const json* c0j = find(call.at("inputs"), "c0");
    FlatTensor<Scalar> h0, c0;
    if (h0j != nullptr) h0 = tensorOf<Scalar>(*h0j);
    if (c0j != nullptr) c0 = tensorOf<Scalar>(*c0j);
    const auto y =
        rnn.forward(input, h0j != nullptr ? &h0 : nullptr, c0j != nullptr ? &c0 : nullptr);
    const std::pair<const char*, const FlatTensor<Scalar>*> outs[] = {
        {"output", &y.output}, {"h_n", &y.hN}, {"c_n", &y.cN}};
    for (const auto& [name, got] : outs) {
      const json* want = find(call.at("outputs"), name);
      if (want == nullptr) {
        INFO(stem << ": " << name << " is not in the reference, so it must be empty");
        CHECK(got->data.empty());
        continue;
      }
      const double r = worst(*got, tensorOf<float>(*want), maxAbs);
      INFO(stem << ": " << name << " shape " << recurrent::detail::shapeString(got->shape) << " vs "
                << want->at("shape").dump());
      CHECK(r >= 0);
      CHECK(r <= 1);
      ratio = std::max(ratio, r);
    }
  }
  return ratio;
}

}  // namespace

TEMPLATE_TEST_CASE("pytorch: every golden case matches PyTorch", "[pytorch][golden]", float,
                   double) {
  const auto cases = referenceCases();
  CHECK(cases.size() >= 29);
  double maxAbs = 0, maxRatio = 0;
  for (const std::string& stem : cases) {
    INFO("case " << stem);
    const json ref = readJson(kDir + "/" + stem + ".reference.json");
    const json& m = ref.at("module");
    TorchRNNOptions opt;
    opt.prefix = m.at("prefix").get<std::string>();
    auto rnn = recurrent::io::loadTorchRNN<TestType>(kDir + "/" + stem + ".safetensors", opt);
    const std::string type = m.at("type");
    const TorchRNNMode mode =
        type == "LSTM" ? TorchRNNMode::LSTM
                       : (type == "GRU" ? TorchRNNMode::GRU
                                        : (m.at("nonlinearity") == "relu" ? TorchRNNMode::RNNRelu
                                                                          : TorchRNNMode::RNNTanh));
    CHECK(rnn.mode() == mode);
    CHECK(rnn.inputSize() == m.at("input_size").get<Index>());
    CHECK(rnn.hiddenSize() == m.at("hidden_size").get<Index>());
    CHECK(rnn.numLayers() == m.at("num_layers").get<Index>());
    CHECK(rnn.bidirectional() == m.at("bidirectional").get<bool>());
    CHECK(rnn.bias() == m.at("bias").get<bool>());
    CHECK(rnn.batchFirst() == m.at("batch_first").get<bool>());
    REQUIRE(static_cast<Index>(rnn.layers().size()) == rnn.numLayers());
    CHECK(rnn.layers()[0].className() == (rnn.bidirectional()
                                              ? std::string("Bidirectional")
                                              : (type == "RNN" ? std::string("SimpleRNN") : type)));
    maxRatio = std::max(maxRatio, runCase(stem, rnn, ref, maxAbs));
    // The same weights without metadata: mode, sizes and layout inferred from the keys (a plain
    // RNN needs the mode, a sequence-major module batchFirst = false).
    const auto st = SafeTensors::fromFile(kDir + "/" + stem + ".safetensors");
    std::vector<RawTensor> raw;
    for (const auto& n : st.names()) raw.push_back(f32(n, st.tensor<float>(n)));
    TorchRNNOptions bare = opt;
    if (type == "RNN") bare.mode = mode;
    if (!m.at("batch_first").get<bool>()) bare.batchFirst = false;
    auto inferred = recurrent::io::torchRNNFromStateDict<TestType>(
        SafeTensors::fromBytes(writeSafetensors(raw)), bare);
    CHECK(inferred.mode() == mode);
    CHECK(inferred.numLayers() == rnn.numLayers());
    CHECK(inferred.bidirectional() == rnn.bidirectional());
    maxRatio = std::max(maxRatio, runCase(stem + " (no metadata)", inferred, ref, maxAbs));
  }
  INFO("max |error| " << maxAbs << ", worst error / tolerance " << maxRatio);
  CHECK(maxRatio <= 1);
}

TEST_CASE("pytorch: every bad/ file raises the right typed error", "[pytorch][bad]") {
  const std::string bad = kDir + "/bad/";
  auto load = [&](const std::string& f) {
    return [=] { (void)recurrent::io::loadTorchRNN<float>(bad + f); };
  };
  using recurrent::FormatError;
  using recurrent::WeightError;
  CHECK_THAT(errorOf<WeightError>(load("missing_tensor.safetensors")),
             ContainsSubstring("missing tensor 'bias_hh_l0'"));
  CHECK_THAT(errorOf<WeightError>(load("extra_l1_tensor.safetensors")),
             ContainsSubstring("unexpected tensor 'weight_ih_l1' [8, 2]"));
  const std::string wrong = errorOf<WeightError>(load("wrong_shape.safetensors"));
  CHECK_THAT(wrong, ContainsSubstring("'weight_hh_l0': expected shape [8, 2], got [8, 3]"));
  CHECK_THAT(errorOf<FormatError>(load("truncated.safetensors")),
             ContainsSubstring("tensor 'weight_ih_l0': data_offsets [128, 224] end past the data "
                               "section (212 bytes; truncated file?)"));
  CHECK_THAT(errorOf<FormatError>(load("header_too_long.safetensors")),
             ContainsSubstring("header length 4560 exceeds the 688 bytes"));
  CHECK_THAT(errorOf<FormatError>(load("too_small.safetensors")),
             ContainsSubstring("file too small: 5 bytes"));
  CHECK_THAT(errorOf<recurrent::IOError>(load("no_such_file.safetensors")),
             ContainsSubstring("no_such_file.safetensors"));
}

TEST_CASE("safetensors: header and offset validation", "[pytorch][safetensors]") {
  using recurrent::FormatError;
  auto parse = [](std::string bytes) {
    return [b = std::move(bytes)] { (void)SafeTensors::fromBytes(b); };
  };
  const std::string a8 = std::string(8, '\1');
  auto entry = [](const char* dtype, const std::string& shape, std::uint64_t b, std::uint64_t e) {
    return std::string("{\"dtype\":\"") + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
           std::to_string(b) + "," + std::to_string(e) + "]}";
  };

  SECTION("header length past EOF, or beyond the cap") {
    CHECK_THAT(errorOf<FormatError>(parse(le(100, 8) + "{}")),
               ContainsSubstring("header length 100 exceeds the 2 bytes after the 8-byte length"));
    CHECK_THAT(errorOf<FormatError>(parse(le(std::uint64_t{1} << 40, 8) + "{}")),
               ContainsSubstring("exceeds the limit of 100000000 bytes"));
    CHECK_THAT(errorOf<FormatError>(parse(le(~std::uint64_t{0}, 8) + "{}")),
               ContainsSubstring("header length 18446744073709551615 exceeds the limit"));
    CHECK_THAT(errorOf<FormatError>(parse("")), ContainsSubstring("file too small: 0 bytes"));
  }
  SECTION("the header must be a JSON object") {
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("[1, 2]", ""))),
               ContainsSubstring("the header must be a JSON object, got array"));
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("{\"a\":", ""))),
               ContainsSubstring("the header is not valid JSON"));
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("{\"a\": 3}", ""))),
               ContainsSubstring("tensor 'a': expected {dtype, shape, data_offsets}, got 3"));
  }
  SECTION("entries: dtype, shape, offsets") {
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("{\"w\":" + entry("F33", "[2]", 0, 8) + "}", a8))),
               ContainsSubstring("tensor 'w': unknown dtype 'F33'"));
    CHECK_THAT(
        errorOf<FormatError>(parse(fileOf("{\"w\":" + entry("F32", "[2,-1]", 0, 8) + "}", a8))),
        ContainsSubstring("tensor 'w': shape [2,-1]: -1 is not a non-negative integer"));
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("{\"w\":" + entry("F32", "[2]", 8, 0) + "}", a8))),
               ContainsSubstring("tensor 'w': data_offsets [8, 0]: end before begin"));
    CHECK_THAT(errorOf<FormatError>(parse(
                   fileOf("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", a8))),
               ContainsSubstring("tensor 'w': data_offsets must be two non-negative integers"));
    CHECK_THAT(
        errorOf<FormatError>(parse(fileOf("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", a8))),
        ContainsSubstring("tensor 'w': missing dtype"));
  }
  SECTION("dtype × shape must match the byte count") {
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("{\"w\":" + entry("F32", "[3]", 0, 8) + "}", a8))),
               ContainsSubstring("tensor 'w': data_offsets [0, 8] hold 8 bytes, but dtype F32 × "
                                 "shape [3] (3 elements) needs 12"));
    CHECK_THAT(
        errorOf<FormatError>(parse(fileOf("{\"w\":" + entry("BF16", "[2,3]", 0, 8) + "}", a8))),
        ContainsSubstring("needs 12"));
  }
  SECTION("huge shapes overflow without wrapping") {
    CHECK_THAT(
        errorOf<FormatError>(parse(fileOf(
            "{\"w\":" + entry("F32", "[4294967296,4294967296,4294967296]", 0, 8) + "}", a8))),
        ContainsSubstring("tensor 'w': shape [4294967296,4294967296,4294967296]: the "
                          "element count overflows"));
    // 2^62 elements fit, 2^62 × 32 bits do not.
    CHECK_THAT(errorOf<FormatError>(parse(
                   fileOf("{\"w\":" + entry("F32", "[4611686018427387904]", 0, 8) + "}", a8))),
               ContainsSubstring("tensor 'w': shape [4611686018427387904]: the byte count "
                                 "overflows"));
    CHECK_THAT(errorOf<FormatError>(
                   parse(fileOf("{\"w\":" + entry("F64", "[72057594037927936]", 0, 8) + "}", a8))),
               ContainsSubstring("needs 576460752303423488"));
  }
  SECTION("overlap, gap, past the end, trailing bytes") {
    const std::string a = "\"a\":" + entry("F32", "[2]", 0, 8);
    CHECK_THAT(errorOf<FormatError>(parse(
                   fileOf("{" + a + ",\"b\":" + entry("F32", "[2]", 4, 12) + "}", a8 + "1234"))),
               ContainsSubstring("tensor 'b': data_offsets [4, 12] overlap tensor 'a', which "
                                 "ends at 8"));
    CHECK_THAT(errorOf<FormatError>(parse(fileOf(
                   "{" + a + ",\"b\":" + entry("F32", "[2]", 12, 20) + "}", a8 + a8 + "1234"))),
               ContainsSubstring("tensor 'b': data_offsets [12, 20] leave a gap: bytes [8, 12)"));
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("{" + a + "}", "1234"))),
               ContainsSubstring("tensor 'a': data_offsets [0, 8] end past the data section (4 "
                                 "bytes; truncated file?)"));
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("{" + a + "}", a8 + "xy"))),
               ContainsSubstring("the data section holds 10 bytes but the tensors cover 8 (2 "
                                 "trailing bytes, after tensor 'a')"));
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("{}", "xy"))),
               ContainsSubstring("(2 trailing bytes)"));
    // two zero-size tensors at the same offset are fine
    CHECK_NOTHROW(SafeTensors::fromBytes(fileOf(
        "{\"e\":" + entry("F32", "[0]", 0, 0) + ",\"f\":" + entry("I8", "[3,0]", 0, 0) + "}", "")));
  }
  SECTION("metadata: string to string") {
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("{\"__metadata__\":{\"n\":3}}", ""))),
               ContainsSubstring("__metadata__['n'] must be a string, got 3"));
    CHECK_THAT(errorOf<FormatError>(parse(fileOf("{\"__metadata__\":[\"n\"]}", ""))),
               ContainsSubstring("__metadata__ must be an object"));
    const auto st = SafeTensors::fromBytes(
        fileOf("{\"__metadata__\":{\"format\":\"pt\",\"k\":\"v\"}}      ", ""));
    CHECK(st.metadata() == std::map<std::string, std::string>{{"format", "pt"}, {"k", "v"}});
    CHECK(st.names().empty());
    CHECK(SafeTensors::fromBytes(fileOf("{\"__metadata__\":null}", "")).metadata().empty());
  }
}

TEST_CASE("safetensors: accessors and exact dtype decoding", "[pytorch][safetensors]") {
  auto raw = [](const char* name, const char* dtype, std::vector<Index> shape,
                const std::vector<std::uint64_t>& words, std::size_t bytesEach) {
    RawTensor t{name, dtype, std::move(shape), {}};
    for (auto w : words) t.bytes += le(w, bytesEach);
    return t;
  };
  std::uint64_t tenth, third;
  const double dTenth = 0.1, dThird = -1.0 / 3.0;
  std::memcpy(&tenth, &dTenth, 8);
  std::memcpy(&third, &dThird, 8);
  // Header order differs from data order on purpose: names() follows the offsets.
  const std::string bytes = writeSafetensors(
      {raw("z_half", "F16", {2, 3}, {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555, 0x8000}, 2),
       raw("a_bf16", "BF16", {4}, {0x3F80, 0x4049, 0xC2F7, 0x0001}, 2),
       raw("m_f64", "F64", {2}, {tenth, third}, 8), raw("i_int", "I64", {1}, {7}, 8),
       raw("f_f32", "F32", {1}, {0xC0490FDB}, 4)},
      {{"format", "pt"}});
  const auto st = SafeTensors::fromBytes(bytes);
  CHECK(st.names() == std::vector<std::string>{"z_half", "a_bf16", "m_f64", "i_int", "f_f32"});
  CHECK(st.contains("m_f64"));
  CHECK_FALSE(st.contains("nope"));
  CHECK(st.shape("z_half") == std::vector<Index>{2, 3});
  CHECK(st.dtype("a_bf16") == "BF16");
  CHECK(st.metadata().at("format") == "pt");

  const auto h = st.tensor<float>("z_half");
  CHECK(h.shape == std::vector<Index>{2, 3});
  CHECK(h.data ==
        std::vector<float>{1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24), 0.333251953125f, -0.0f});
  CHECK(std::signbit(h.data[5]));
  const auto b = st.tensor<double>("a_bf16");
  CHECK(b.data == std::vector<double>{1.0, 3.140625, -123.5, std::ldexp(1.0, -133)});
  CHECK(st.tensor<double>("m_f64").data == std::vector<double>{0.1, -1.0 / 3.0});
  CHECK(st.tensor<float>("m_f64").data == std::vector<float>{0.1f, static_cast<float>(-1.0 / 3.0)});
  CHECK(st.tensor<float>("f_f32").data == std::vector<float>{-3.14159274f});

  CHECK_THAT(errorOf<recurrent::FormatError>([&] { (void)st.tensor<float>("i_int"); }),
             ContainsSubstring("tensor 'i_int' has dtype I64"));
  CHECK_THAT(errorOf<recurrent::ValueError>([&] { (void)st.shape("nope"); }),
             ContainsSubstring("no tensor named 'nope'"));
  CHECK_THAT(errorOf<recurrent::ValueError>([&] { (void)st.tensor<float>("nope"); }),
             ContainsSubstring("no tensor named 'nope'"));
}

TEST_CASE("pytorch: kerasWeightsFromTorch gate order and biases", "[pytorch][convert]") {
  using recurrent::io::kerasWeightsFromTorch;
  // H = 1: GRU rows r, z, n -> Keras columns z, r, h.
  const FlatTensor<double> wih({3, 2}, {1, 2, 3, 4, 5, 6}), whh({3, 1}, {7, 8, 9});
  const FlatTensor<double> bih({3}, {10, 20, 30}), bhh({3}, {1, 2, 3});
  auto gru = kerasWeightsFromTorch(TorchRNNMode::GRU, wih, whh, &bih, &bhh);
  REQUIRE(gru.size() == 3);
  CHECK(gru[0].shape == std::vector<Index>{2, 3});
  CHECK(gru[0].data == std::vector<double>{3, 1, 5, 4, 2, 6});
  CHECK(gru[1].data == std::vector<double>{8, 7, 9});
  CHECK(gru[2].shape == std::vector<Index>{2, 3});
  CHECK(gru[2].data == std::vector<double>{20, 10, 30, 2, 1, 3});
  // LSTM (H = 1): order kept, one bias = b_ih + b_hh; no biases -> two weights.
  const FlatTensor<double> l_ih({4, 1}, {1, 2, 3, 4}), l_hh({4, 1}, {5, 6, 7, 8});
  const FlatTensor<double> lb({4}, {1, 1, 1, 1}), lb2({4}, {0, 1, 2, 3});
  auto lstm = kerasWeightsFromTorch(TorchRNNMode::LSTM, l_ih, l_hh, &lb, &lb2);
  CHECK(lstm[0].data == std::vector<double>{1, 2, 3, 4});
  CHECK(lstm[2].data == std::vector<double>{1, 2, 3, 4});
  CHECK(kerasWeightsFromTorch<double>(TorchRNNMode::LSTM, l_ih, l_hh, nullptr, nullptr).size() ==
        2);
  CHECK_THAT(errorOf<recurrent::WeightError>([&] {
               (void)kerasWeightsFromTorch<double>(TorchRNNMode::LSTM, l_ih, l_hh, &lb, nullptr);
             }),
             ContainsSubstring("pass both or neither"));
  CHECK_THAT(errorOf<recurrent::WeightError>(
                 [&] { (void)kerasWeightsFromTorch(TorchRNNMode::GRU, l_ih, l_hh, &lb, &lb2); }),
             ContainsSubstring("kerasWeightsFromTorch(nn.GRU): weight_hh: expected shape [3, 1]"));
}

TEST_CASE("pytorch: converter key and shape errors", "[pytorch][convert]") {
  using recurrent::WeightError;
  auto convert = [](const std::vector<RawTensor>& t, TorchRNNOptions opt = {},
                    const std::map<std::string, std::string>& md = {}) {
    return [=] {
      (void)recurrent::io::torchRNNFromStateDict<float>(
          SafeTensors::fromBytes(writeSafetensors(t, md)), opt);
    };
  };
  auto without = [](std::vector<RawTensor> t, const std::string& name) {
    t.erase(std::remove_if(t.begin(), t.end(), [&](const RawTensor& r) { return r.name == name; }),
            t.end());
    return t;
  };
  const auto lstm2 = stateDict(4, 3, 2, 2, false, true);

  SECTION("missing and extra keys") {
    CHECK_THAT(errorOf<WeightError>(convert(without(lstm2, "bias_hh_l1"))),
               ContainsSubstring("nn.LSTM: missing tensor 'bias_hh_l1', expected by num_layers = "
                                 "2, bidirectional = false, bias = true (from the keys present)"));
    CHECK_THAT(errorOf<WeightError>(
                   convert(without(stateDict(3, 3, 2, 1, true, false), "weight_hh_l0_reverse"))),
               ContainsSubstring("nn.GRU: missing tensor 'weight_hh_l0_reverse'"));
    // layers must be contiguous: l0 and l2 present, l1 absent
    auto gap = stateDict(4, 3, 2, 3, false, false);
    gap = without(without(gap, "weight_ih_l1"), "weight_hh_l1");
    CHECK_THAT(errorOf<WeightError>(convert(gap)),
               ContainsSubstring("missing tensor 'weight_ih_l1', expected by num_layers = 3"));
    auto extra = lstm2;
    extra.push_back(f32("running_mean", ramp({2}, 1)));
    CHECK_THAT(errorOf<WeightError>(convert(extra)),
               ContainsSubstring("nn.LSTM: unexpected tensor 'running_mean' [2]: not a parameter "
                                 "of nn.LSTM"));
    auto proj = lstm2;
    proj.push_back(f32("weight_hr_l0", ramp({1, 2}, 1)));
    CHECK_THAT(errorOf<WeightError>(convert(proj)),
               ContainsSubstring("unexpected tensor 'weight_hr_l0' [1, 2]: proj_size (weight_hr) "
                                 "is not supported"));
    // metadata fixes the layout: a second layer is then left over
    const std::map<std::string, std::string> md{{"module", "LSTM"}, {"num_layers", "1"}};
    CHECK_THAT(errorOf<WeightError>(convert(lstm2, {}, md)),
               ContainsSubstring("unexpected tensor 'bias_hh_l1' [8]: layer 1 does not exist: "
                                 "num_layers = 1"));
    CHECK_THAT(errorOf<recurrent::FormatError>(
                   convert(lstm2, {}, {{"module", "LSTM"}, {"num_layers", "two"}})),
               ContainsSubstring("__metadata__['num_layers'] = 'two' is not a non-negative"));
  }
  SECTION("prefix") {
    auto prefixed = stateDict(4, 3, 2, 2, false, true, "enc.rnn.");
    prefixed.push_back(f32("head.weight", ramp({1, 2}, 1)));
    prefixed.push_back(f32("enc.norm.bias", ramp({3}, 1)));
    CHECK_THAT(
        errorOf<WeightError>(convert(prefixed)),
        ContainsSubstring(
            "nn.LSTM: unexpected tensor 'enc.rnn.weight_ih_l0' [8, 3]: keys outside nn.LSTM: "
            "pass TorchRNNOptions::prefix (the recurrent weights are under "
            "'enc.rnn.')"));
    TorchRNNOptions opt;
    opt.prefix = "enc.rnn.";
    auto a = recurrent::io::torchRNNFromStateDict<float>(
        SafeTensors::fromBytes(writeSafetensors(prefixed)), opt);
    auto b = recurrent::io::torchRNNFromStateDict<float>(
        SafeTensors::fromBytes(writeSafetensors(lstm2)));
    const auto x = ramp({2, 4, 3}, 0.1f);
    CHECK(a.forward(x).output.data == b.forward(x).output.data);
    CHECK(a.description() == "nn.LSTM (prefix 'enc.rnn.')");
    opt.prefix = "dec.";
    CHECK_THAT(errorOf<WeightError>(convert(prefixed, opt)),
               ContainsSubstring("nn.LSTM/GRU/RNN (prefix 'dec.'): no tensor under prefix 'dec.'"));
    opt.prefix = "enc.rnn.";
    auto inner = prefixed;
    inner.push_back(f32("enc.rnn.cell.weight", ramp({2}, 1)));
    CHECK_THAT(errorOf<WeightError>(convert(inner, opt)),
               ContainsSubstring("nn.LSTM (prefix 'enc.rnn.'): unexpected tensor "
                                 "'enc.rnn.cell.weight'"));
  }
  SECTION("mode: inferred, given, or contradicted by the rows") {
    TorchRNNOptions gru;
    gru.mode = TorchRNNMode::GRU;
    CHECK_THAT(errorOf<WeightError>(convert(lstm2, gru)),
               ContainsSubstring("nn.GRU: 'weight_ih_l0': expected shape [6, 3], got [8, 3]; 4·H "
                                 "rows means an LSTM, but the mode is nn.GRU "
                                 "(TorchRNNOptions::mode)"));
    CHECK_THAT(errorOf<WeightError>(convert(lstm2, {}, {{"module", "GRU"}})),
               ContainsSubstring("but the mode is nn.GRU (__metadata__)"));
    const auto rnn = stateDict(1, 3, 2, 1, false, true);
    CHECK_THAT(errorOf<recurrent::ConfigError>(convert(rnn)),
               ContainsSubstring("is a plain nn.RNN and the file has no metadata saying which "
                                 "nonlinearity: pass TorchRNNOptions::mode = RNNTanh or RNNRelu"));
    TorchRNNOptions relu;
    relu.mode = TorchRNNMode::RNNRelu;
    auto r = recurrent::io::torchRNNFromStateDict<float>(
        SafeTensors::fromBytes(writeSafetensors(rnn)), relu);
    CHECK(r.mode() == TorchRNNMode::RNNRelu);
    CHECK(recurrent::io::torchRNNFromStateDict<float>(
              SafeTensors::fromBytes(
                  writeSafetensors(rnn, {{"module", "RNN"}, {"nonlinearity", "relu"}})))
              .mode() == TorchRNNMode::RNNRelu);
    CHECK_THAT(errorOf<recurrent::ConfigError>(convert(rnn, {}, {{"module", "Transformer"}})),
               ContainsSubstring("__metadata__ module 'Transformer' is not LSTM, GRU or RNN"));
    CHECK_THAT(errorOf<WeightError>(convert(stateDict(2, 3, 2, 1, false, true))),
               ContainsSubstring("weight_hh_l0: expected shape [g·H, H] with g = 4 (LSTM), 3 "
                                 "(GRU) or 1 (RNN), got [4, 2]"));
  }
  SECTION("shapes: layer k's input size, hidden size") {
    auto bad = lstm2;
    for (auto& t : bad)
      if (t.name == "weight_ih_l1") t = f32("weight_ih_l1", ramp({8, 3}, 0.1f));
    CHECK_THAT(errorOf<WeightError>(convert(bad)),
               ContainsSubstring("'weight_ih_l1': expected shape [8, 2], got [8, 3]; layer 1's "
                                 "input is the D·H = 2 outputs of layer 0"));
    auto bidir = stateDict(3, 3, 2, 2, true, true);
    for (auto& t : bidir)
      if (t.name == "weight_ih_l1_reverse") t = f32(t.name, ramp({6, 2}, 0.1f));
    CHECK_THAT(errorOf<WeightError>(convert(bidir)),
               ContainsSubstring("nn.GRU: 'weight_ih_l1_reverse': expected shape [6, 4], got "
                                 "[6, 2]; layer 1's input is the D·H = 4 outputs of layer 0"));
    auto hidden = lstm2;
    for (auto& t : hidden)
      if (t.name == "bias_ih_l0") t = f32(t.name, ramp({7}, 0.1f));
    CHECK_THAT(errorOf<WeightError>(convert(hidden)),
               ContainsSubstring("'bias_ih_l0': expected shape [8], got [7]; hidden_size is 2 "
                                 "(from weight_hh_l0)"));
  }
}

TEST_CASE("pytorch: forward argument checks and states", "[pytorch][convert]") {
  auto gru = recurrent::io::torchRNNFromStateDict<double>(
      SafeTensors::fromBytes(writeSafetensors(stateDict(3, 3, 2, 2, true, true))));
  CHECK(gru.layers().size() == 2);
  CHECK(gru.layers()[1].className() == "Bidirectional");
  const auto x = recurrent::FlatTensor<double>({2, 5, 3}, std::vector<double>(30, 0.5));
  const auto y = gru.forward(x);
  CHECK(y.output.shape == std::vector<Index>{2, 5, 4});
  CHECK(y.hN.shape == std::vector<Index>{4, 2, 2});
  CHECK(y.cN.data.empty());
  // h_n: [l0 fwd, l0 bwd, l1 fwd, l1 bwd]; l1 fwd = last step's forward half of the output,
  // l1 bwd = first step's backward half.
  for (Index b = 0; b < 2; ++b)
    for (Index j = 0; j < 2; ++j) {
      const auto o = [&](Index t, Index k) {
        return y.output.data[static_cast<std::size_t>((b * 5 + t) * 4 + k)];
      };
      CHECK(y.hN.data[static_cast<std::size_t>((2 * 2 + b) * 2 + j)] == o(4, j));
      CHECK(y.hN.data[static_cast<std::size_t>((3 * 2 + b) * 2 + j)] == o(0, 2 + j));
    }
  // zero h0 == no h0
  const recurrent::FlatTensor<double> zeros({4, 2, 2}, std::vector<double>(16, 0.0));
  CHECK(gru.forward(x, &zeros).output.data == y.output.data);

  using recurrent::ShapeError;
  const recurrent::FlatTensor<double> x4({2, 5, 4}, std::vector<double>(40, 0.5));
  CHECK_THAT(errorOf<ShapeError>([&] { (void)gru.forward(x4); }),
             ContainsSubstring("nn.GRU.forward: input: expected [batch, time, 3] (batch_first "
                               "true)"));
  const recurrent::FlatTensor<double> h0({2, 2, 2}, std::vector<double>(8, 0.0));
  CHECK_THAT(errorOf<ShapeError>([&] { (void)gru.forward(x, &h0); }),
             ContainsSubstring("h0: expected shape [4, 2, 2] [num_layers·directions, batch, "
                               "hidden], got [2, 2, 2]"));
  CHECK_THAT(errorOf<recurrent::ValueError>([&] { (void)gru.forward(x, nullptr, &zeros); }),
             ContainsSubstring("c0 is the cell state of an nn.LSTM"));

  // batchFirst = false: input [T, B, F], output [T, B, D·H], states unchanged.
  TorchRNNOptions seqFirst;
  seqFirst.batchFirst = false;
  auto gruT = recurrent::io::torchRNNFromStateDict<double>(
      SafeTensors::fromBytes(writeSafetensors(stateDict(3, 3, 2, 2, true, true))), seqFirst);
  CHECK_FALSE(gruT.batchFirst());
  recurrent::FlatTensor<double> xT({5, 2, 3}, std::vector<double>(30));
  std::vector<double> ramp(30);
  for (std::size_t i = 0; i < 30; ++i) ramp[i] = 0.05 * static_cast<double>(i % 11) - 0.2;
  const recurrent::FlatTensor<double> xB({2, 5, 3}, ramp);
  for (Index t = 0; t < 5; ++t)
    for (Index b = 0; b < 2; ++b)
      for (Index f = 0; f < 3; ++f)
        xT.data[static_cast<std::size_t>((t * 2 + b) * 3 + f)] =
            xB.data[static_cast<std::size_t>((b * 5 + t) * 3 + f)];
  const auto yB = gru.forward(xB);
  const auto yT = gruT.forward(xT, &zeros);
  CHECK(yT.output.shape == std::vector<Index>{5, 2, 4});
  for (Index t = 0; t < 5; ++t)
    for (Index b = 0; b < 2; ++b)
      for (Index k = 0; k < 4; ++k)
        CHECK(yT.output.data[static_cast<std::size_t>((t * 2 + b) * 4 + k)] ==
              yB.output.data[static_cast<std::size_t>((b * 5 + t) * 4 + k)]);
  CHECK(yT.hN.data == yB.hN.data);
  CHECK_THAT(errorOf<ShapeError>([&] { (void)gruT.forward(x4); }),
             ContainsSubstring("input: expected [time, batch, 3] (batch_first false)"));
}

#endif  // RECURRENT_HAS_JSON
