// Model import (io/tfjs.hpp): every error names its cause and layer; weight decoding is exact;
// Keras 3 spellings; the model API (predict, resetStates, summary). The saved golden models are
// run by tests/models/recurrent_models.cpp.
#include "support/catch.hpp"
#include <recurrent/recurrent.hpp>

#if RECURRENT_HAS_JSON
#include <recurrent/io/tfjs.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
using recurrent::FlatTensor;
using recurrent::Index;
using recurrent_test::ContainsSubstring;

/// A tiny in-memory TF.js model: one input [null, 3, 2] -> the given layers.
struct Artifacts {
  json model;
  std::string shard;
  recurrent::io::LayersModel<float> load(recurrent::io::LoadOptions o = {}) const {
    return recurrent::io::loadLayersModel<float>(
        model, [&](const std::string&) { return shard; }, o);
  }
};

std::string floatBytes(const std::vector<float>& v) {
  std::string out(v.size() * 4, '\0');
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

std::vector<float> ramp(std::size_t n, float scale = 0.1f) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = scale * static_cast<float>(static_cast<int>(i % 7) - 3);
  return v;
}

json weight(const std::string& name, std::vector<Index> shape) {
  return json{{"name", name}, {"shape", shape}, {"dtype", "float32"}};
}

/// Sequential [InputLayer, GRU(units 2, resetAfter?)] with the given stored weights.
Artifacts gruModel(bool resetAfterConfig, bool resetAfterWeights, json extraTopology = {}) {
  json layers = json::array({{{"class_name", "InputLayer"},
                              {"config", {{"name", "in"}, {"batch_input_shape", {nullptr, 3, 2}}}}},
                             {{"class_name", "GRU"},
                              {"config",
                               {{"name", "gru"},
                                {"units", 2},
                                {"reset_after", resetAfterConfig},
                                {"recurrent_activation", "sigmoid"}}}}});
  json topology = {{"class_name", "Sequential"}, {"config", {{"name", "m"}, {"layers", layers}}}};
  if (!extraTopology.is_null()) topology.update(extraTopology);
  json specs = json::array({weight("gru/kernel", {2, 6}), weight("gru/recurrent_kernel", {2, 6})});
  std::size_t n = 12 + 12;
  if (resetAfterWeights) {
    specs.push_back(weight("gru/bias", {2, 6}));
    n += 12;
  } else {
    specs.push_back(weight("gru/bias", {6}));
    n += 6;
  }
  Artifacts a;
  a.model = {{"modelTopology", topology},
             {"format", "layers-model"},
             {"weightsManifest", json::array({{{"paths", {"w.bin"}}, {"weights", specs}}})}};
  a.shard = floatBytes(ramp(n));
  return a;
}

/// Rewrites `gruModel`'s Sequential [in, gru] as a functional model in -> gru with the given
/// `output_layers` (e.g. {{"gru", 0, 0}, {"in", 0, 0}}).
void makeFunctional(Artifacts& a, const json& outputLayers) {
  const json seq = a.model["modelTopology"]["config"]["layers"];
  json in = seq[0], gru = seq[1];
  in["name"] = "in";
  in["inbound_nodes"] = json::array();
  gru["name"] = "gru";
  gru["inbound_nodes"] = {{{"in", 0, 0, json::object()}}};
  a.model["modelTopology"] = {{"class_name", "Model"},
                              {"config",
                               {{"name", "f"},
                                {"layers", {in, gru}},
                                {"input_layers", {{"in", 0, 0}}},
                                {"output_layers", outputLayers}}}};
}

FlatTensor<float> input(Index b, Index t, Index f) {
  FlatTensor<float> x({b, t, f}, ramp(static_cast<std::size_t>(b * t * f), 0.3f));
  return x;
}

/// The library's GRU (units 2) with `gruModel`'s weights, on `x` [2, 3, 2]: the last output.
FlatTensor<float> referenceGru(recurrent::ActivationKind recurrentActivation,
                               const FlatTensor<float>& x) {
  recurrent::GRUArgs args;
  args.units = 2;
  args.recurrentActivation = recurrentActivation;
  recurrent::GRU<float> gru(args);
  gru.build(2);
  const auto w = ramp(30);
  gru.setWeights({FlatTensor<float>({2, 6}, {w.begin(), w.begin() + 12}),
                  FlatTensor<float>({2, 6}, {w.begin() + 12, w.begin() + 24}),
                  FlatTensor<float>({6}, {w.begin() + 24, w.end()})});
  return FlatTensor<float>(
      gru.call(recurrent::SequenceView<float>(x.data.data(), 2, 3, 2)).lastOutput);
}

template <class E>
std::string messageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception type: ") + e.what();
  }
  return "no exception";
}

}  // namespace

TEST_CASE("model import: a GRU model loads and runs", "[io][model]") {
  auto model = gruModel(false, false).load();
  CHECK(model.inputNames() == std::vector<std::string>{"in"});
  CHECK(model.outputNames() == std::vector<std::string>{"gru"});
  CHECK(model.countParams() == 12 + 12 + 6);
  const auto y = model.predict(input(2, 3, 2));
  REQUIRE(y.size() == 1);
  CHECK(y[0].shape == std::vector<Index>{2, 2});
  // Same as the library's GRU with the same weights.
  CHECK(y[0].data == referenceGru(recurrent::ActivationKind::Sigmoid, input(2, 3, 2)).data);
}

TEST_CASE("model import: weight errors name the weight, the shapes and the likely reason",
          "[io][model][errors]") {
  SECTION("a [2, 3u] bias for a reset_after: false GRU") {
    const auto a = gruModel(false, true);
    const std::string m = messageOf<recurrent::WeightError>([&] { a.load(); });
    CHECK_THAT(m, ContainsSubstring("'gru'"));
    CHECK_THAT(m, ContainsSubstring("gru/bias"));
    CHECK_THAT(m, ContainsSubstring("expected shape [6], got [2, 6]"));
    CHECK_THAT(m, ContainsSubstring("reset_after: true"));
  }
  SECTION("a [3u] bias for a reset_after: true GRU") {
    const auto a = gruModel(true, false);
    CHECK_THAT(messageOf<recurrent::WeightError>([&] { a.load(); }),
               ContainsSubstring("reset_after: false"));
  }
  SECTION("a missing weight") {
    auto a = gruModel(false, false);
    a.model["weightsManifest"][0]["weights"].erase(2);
    a.shard.resize(24 * 4);
    const std::string m = messageOf<recurrent::WeightError>([&] { a.load(); });
    CHECK_THAT(m, ContainsSubstring("1 of 3 weights are not set: gru/bias"));
  }
  SECTION("an extra weight") {
    auto a = gruModel(false, false);
    a.model["weightsManifest"][0]["weights"].push_back(weight("dense/kernel", {1}));
    a.shard += floatBytes({1.0f});
    const std::string m = messageOf<recurrent::WeightError>([&] { a.load(); });
    CHECK_THAT(m, ContainsSubstring("no target variable: dense/kernel"));
    CHECK_THAT(m, ContainsSubstring("no layer is named 'dense'"));
    // Not strict: ignored, as TF.js does.
    recurrent::io::LoadOptions o;
    o.strict = false;
    CHECK_NOTHROW(a.load(o));
  }
  SECTION("a kernel for another input size") {
    auto a = gruModel(false, false);
    a.model["modelTopology"]["config"]["layers"][0]["config"]["batch_input_shape"] = {nullptr, 3,
                                                                                      5};
    const std::string m = messageOf<recurrent::WeightError>([&] { a.load(); });
    CHECK_THAT(m, ContainsSubstring("expected shape [5, 6], got [2, 6]"));
    CHECK_THAT(m, ContainsSubstring("receives 5 features"));
  }
  SECTION("an LSTM's recurrent kernel in a GRU") {
    auto a = gruModel(false, false);
    a.model["weightsManifest"][0]["weights"][1]["shape"] = {2, 8};
    a.shard += floatBytes(ramp(4));
    CHECK_THAT(messageOf<recurrent::WeightError>([&] { a.load(); }),
               ContainsSubstring("belongs to a LSTM, not a GRU"));
  }
}

TEST_CASE("model import: file and format errors", "[io][model][errors]") {
  SECTION("a truncated shard") {
    auto a = gruModel(false, false);
    a.shard.resize(a.shard.size() - 3);
    const std::string m = messageOf<recurrent::FormatError>([&] { a.load(); });
    CHECK_THAT(m, ContainsSubstring("w.bin"));
    CHECK_THAT(m, ContainsSubstring("truncated"));
  }
  SECTION("an oversized shard") {
    auto a = gruModel(false, false);
    a.shard += "xxxx";
    CHECK_THAT(messageOf<recurrent::FormatError>([&] { a.load(); }),
               ContainsSubstring("oversized"));
  }
  SECTION("a missing file") {
    CHECK_THAT(messageOf<recurrent::IOError>(
                   [] { recurrent::io::loadLayersModel<float>("no/such/dir/model.json"); }),
               ContainsSubstring("no/such/dir/model.json"));
  }
  SECTION("malformed JSON") {
    const std::string path = "recurrent_test_malformed_model.json";
    std::ofstream(path) << "{\"modelTopology\": {";
    CHECK_THAT(
        messageOf<recurrent::FormatError>([&] { recurrent::io::loadLayersModel<float>(path); }),
        ContainsSubstring("not valid JSON"));
    std::remove(path.c_str());
  }
  SECTION("a bad manifest entry") {
    auto a = gruModel(false, false);
    a.model["weightsManifest"][0]["weights"][0]["shape"] = {2, -6};
    CHECK_THAT(messageOf<recurrent::FormatError>([&] { a.load(); }),
               ContainsSubstring("bad dimension"));
    a.model["weightsManifest"][0]["weights"][0]["shape"] = {2, 6};
    a.model["weightsManifest"][0]["weights"][0]["quantization"] = {{"dtype", "int4"}};
    CHECK_THAT(messageOf<recurrent::FormatError>([&] { a.load(); }),
               ContainsSubstring("unknown quantization dtype 'int4'"));
  }
  SECTION("a document nested too deeply") {
    auto a = gruModel(false, false);
    json deep = 1;
    for (int i = 0; i < 200; ++i) deep = json::array({deep});
    a.model["modelTopology"]["config"]["layers"][1]["config"]["extra"] = deep;
    CHECK_THAT(messageOf<recurrent::FormatError>([&] { a.load(); }),
               ContainsSubstring("nested more than 64 levels"));
  }
  SECTION("a graph model") {
    Artifacts a;
    a.model = {{"format", "graph-model"}, {"modelTopology", {{"node", json::array()}}}};
    CHECK_THROWS_AS(a.load(), recurrent::ConfigError);
  }
}

TEST_CASE("model import: config errors name the layer", "[io][model][errors]") {
  SECTION("an unknown layer class") {
    auto a = gruModel(false, false);
    a.model["modelTopology"]["config"]["layers"].push_back(
        {{"class_name", "Conv1D"}, {"config", {{"name", "conv"}}}});
    const std::string m = messageOf<recurrent::ConfigError>([&] { a.load(); });
    CHECK_THAT(m, ContainsSubstring("Conv1D 'conv'"));
    CHECK_THAT(m, ContainsSubstring("unknown layer class"));
  }
  SECTION("an unsupported option: TimeDistributed(LSTM)") {
    auto a = gruModel(false, false);
    const json inner = {{"class_name", "LSTM"}, {"config", {{"units", 2}}}};
    a.model["modelTopology"]["config"]["layers"].push_back(
        {{"class_name", "TimeDistributed"}, {"config", {{"name", "td"}, {"layer", inner}}}});
    CHECK_THAT(messageOf<recurrent::ConfigError>([&] { a.load(); }),
               ContainsSubstring("TimeDistributed(LSTM) is not supported"));
  }
  SECTION("returnState in a Sequential model") {
    auto a = gruModel(false, false);
    a.model["modelTopology"]["config"]["layers"][1]["config"]["return_state"] = true;
    CHECK_THAT(messageOf<recurrent::ConfigError>([&] { a.load(); }),
               ContainsSubstring("single output tensor"));
  }
  SECTION("a functional model whose node refers to an unknown layer") {
    json topology = {{"class_name", "Model"},
                     {"config",
                      {{"name", "f"},
                       {"layers",
                        {{{"class_name", "InputLayer"},
                          {"name", "in"},
                          {"config", {{"name", "in"}, {"batch_input_shape", {nullptr, 3, 2}}}},
                          {"inbound_nodes", json::array()}},
                         {{"class_name", "Dropout"},
                          {"name", "drop"},
                          {"config", {{"name", "drop"}, {"rate", 0.5}}},
                          {"inbound_nodes", {{{"nowhere", 0, 0, json::object()}}}}}}},
                       {"input_layers", {{"in", 0, 0}}},
                       {"output_layers", {{"drop", 0, 0}}}}}};
    Artifacts a;
    a.model = {{"modelTopology", topology}, {"weightsManifest", json::array()}};
    CHECK_THAT(messageOf<recurrent::ConfigError>([&] { a.load(); }),
               ContainsSubstring("unknown layer 'nowhere'"));
  }
}

TEST_CASE("model import: predict checks its inputs", "[io][model][errors]") {
  auto model = gruModel(false, false).load();
  CHECK_THAT(messageOf<recurrent::ShapeError>([&] { model.predict(input(2, 3, 4)); }),
             ContainsSubstring("expected in to have shape [null, 3, 2] but got array with "
                               "shape [2, 3, 4]"));
  CHECK_THROWS_AS(model.predict(std::vector<FlatTensor<float>>{}), recurrent::ValueError);
  FlatTensor<float> bad({2, 3, 2}, {1.0f});
  CHECK_THROWS_AS(model.predict(bad), recurrent::ShapeError);
}

TEST_CASE("model import: quantised weights decode as tfjs-core does", "[io][model]") {
  using recurrent::io::detail::WeightSpec;
  WeightSpec s;
  s.name = "w";
  s.shape = {3};
  s.elements = 3;
  s.dtype = "float32";
  SECTION("uint8: q * scale + min in double, then float") {
    s.storedDtype = "uint8";
    s.scale = 0.1;
    s.min = -1.2;
    const unsigned char bytes[] = {0, 12, 255};
    const auto t = recurrent::io::detail::decodeWeight<float>(s, bytes);
    CHECK(t.data[0] == static_cast<float>(0 * 0.1 + -1.2));
    CHECK(t.data[1] == static_cast<float>(12 * 0.1 + -1.2));
    CHECK(t.data[2] == static_cast<float>(255 * 0.1 + -1.2));
  }
  SECTION("uint16, little-endian") {
    s.storedDtype = "uint16";
    s.scale = 0.001;
    s.min = -3.0;
    const unsigned char bytes[] = {0x00, 0x00, 0x34, 0x12, 0xff, 0xff};
    const auto t = recurrent::io::detail::decodeWeight<double>(s, bytes);
    CHECK(t.data[1] == static_cast<double>(static_cast<float>(0x1234 * 0.001 + -3.0)));
    CHECK(t.data[2] == static_cast<double>(static_cast<float>(65535 * 0.001 + -3.0)));
  }
  SECTION("float16: normal, subnormal, infinity, NaN, negative zero") {
    using recurrent::io::detail::halfToFloat;
    CHECK(halfToFloat(0x3c00) == 1.0f);
    CHECK(halfToFloat(0xc000) == -2.0f);
    CHECK(halfToFloat(0x7bff) == 65504.0f);
    CHECK(halfToFloat(0x0001) == std::ldexp(1.0f, -24));
    CHECK(halfToFloat(0x03ff) == std::ldexp(1023.0f, -24));
    CHECK(std::isinf(halfToFloat(0x7c00)));
    CHECK(std::isnan(halfToFloat(0x7e00)));
    CHECK(std::signbit(halfToFloat(0x8000)));
  }
}

TEST_CASE("model import: Keras 3 spelling and hard_sigmoid", "[io][model]") {
  // The same model spelled by Keras 2 and by Keras 3: `hard_sigmoid` differs (0.2x+0.5 vs x/6+0.5).
  auto keras2 = gruModel(false, false);
  keras2.model["modelTopology"]["config"]["layers"][1]["config"]["recurrent_activation"] =
      "hard_sigmoid";
  auto keras3 = keras2;
  keras3.model["modelTopology"]["keras_version"] = "3.5.0";
  auto& in3 = keras3.model["modelTopology"]["config"]["layers"][0]["config"];
  in3.erase("batch_input_shape");
  in3["batch_shape"] = {nullptr, 3, 2};
  in3["dtype"] = {{"module", "keras"},
                  {"class_name", "DTypePolicy"},
                  {"config", {{"name", "float32"}}},
                  {"registered_name", nullptr}};
  const auto x = input(2, 3, 2);
  const auto y2 = keras2.load().predict(x)[0];
  const auto y3 = keras3.load().predict(x)[0];
  // References: the library's GRU with each hard sigmoid.
  CHECK(y2.data == referenceGru(recurrent::ActivationKind::HardSigmoid, x).data);
  CHECK(y3.data == referenceGru(recurrent::ActivationKind::HardSigmoidKeras3, x).data);
  CHECK(y2.data != y3.data);
}

TEST_CASE("model import: stateful models keep their states across predict", "[io][model]") {
  auto a = gruModel(false, false);
  auto& layers = a.model["modelTopology"]["config"]["layers"];
  layers[0]["config"]["batch_input_shape"] = {2, 3, 2};
  layers[1]["config"]["stateful"] = true;
  auto model = a.load();
  CHECK(model.stateful());
  const auto x = input(2, 3, 2);
  const auto first = model.predict(x)[0];
  const auto second = model.predict(x)[0];
  CHECK(first.data != second.data);
  model.resetStates();
  CHECK(model.predict(x)[0].data == first.data);
  CHECK_THROWS_AS(model.predict(input(3, 3, 2)), recurrent::ShapeError);  // batch fixed at 2
}

TEST_CASE("model import: zero_output_for_mask, threads, recurrentLayer", "[io][model]") {
  auto a = gruModel(false, false);
  auto& layers = a.model["modelTopology"]["config"]["layers"];
  layers[1]["config"]["return_sequences"] = true;
  layers.insert(layers.begin() + 1, json{{"class_name", "Masking"},
                                         {"config", {{"name", "mask"}, {"mask_value", 0.0}}}});
  FlatTensor<float> x = input(2, 3, 2);
  x.data[2] = x.data[3] = 0.0f;  // sample 0, step 1 masked
  const auto repeat = a.load().predict(x)[0];
  CHECK(repeat.data[2] == repeat.data[0]);  // TF.js: the masked step repeats the output
  CHECK(repeat.data[3] == repeat.data[1]);
  auto keras = a;
  keras.model["modelTopology"]["config"]["layers"][2]["config"]["zero_output_for_mask"] = true;
  auto zeros = keras.load().predict(x)[0];
  CHECK(zeros.data[2] == 0.0f);
  CHECK(zeros.data[3] == 0.0f);
  zeros.data[2] = repeat.data[2];
  zeros.data[3] = repeat.data[3];
  CHECK(zeros.data == repeat.data);  // nothing else changes
  recurrent::io::LoadOptions o;
  o.threads = 2;
  auto threaded = a.load(o);
  CHECK(threaded.predict(x)[0].data == repeat.data);
  CHECK(threaded.recurrentLayer("gru") != nullptr);
  CHECK(threaded.recurrentLayer("gru")->name() == "gru");
  CHECK(threaded.recurrentLayer("mask") == nullptr);
  o.threads = 0;
  CHECK_THROWS_AS(a.load(o), recurrent::ConfigError);
}

TEST_CASE("model import: functional outputs that repeat or are inputs", "[io][model]") {
  auto a = gruModel(false, false);
  makeFunctional(a, {{"gru", 0, 0}, {"in", 0, 0}, {"gru", 0, 0}});
  auto model = a.load();
  CHECK(model.outputNames() == std::vector<std::string>{"gru", "in", "gru"});
  const auto x = input(2, 3, 2);
  const auto y = model.predict(x);
  REQUIRE(y.size() == 3);
  CHECK(y[0].data == referenceGru(recurrent::ActivationKind::Sigmoid, x).data);
  CHECK(y[2].data == y[0].data);
  CHECK(y[1].data == x.data);
  CHECK_THAT(model.summary(), ContainsSubstring("in[0][0]"));  // "Connected to"
}

TEST_CASE("model import: layers that no output needs are not run", "[io][model]") {
  // ids -> Embedding(inputDim 2) is in the graph, but the only output is the input itself. As in
  // TF.js, the Embedding is not run, so ids it would reject (5 >= inputDim) do not matter.
  json in = {{"class_name", "InputLayer"},
             {"name", "ids"},
             {"config", {{"name", "ids"}, {"batch_input_shape", {nullptr, 3}}}},
             {"inbound_nodes", json::array()}};
  json emb = {{"class_name", "Embedding"},
              {"name", "emb"},
              {"config", {{"name", "emb"}, {"input_dim", 2}, {"output_dim", 2}}},
              {"inbound_nodes", {{{"ids", 0, 0, json::object()}}}}};
  json topology = {{"class_name", "Model"},
                   {"config",
                    {{"name", "f"},
                     {"layers", {in, emb}},
                     {"input_layers", {{"ids", 0, 0}}},
                     {"output_layers", {{"ids", 0, 0}}}}}};
  Artifacts a;
  a.model = {
      {"modelTopology", topology},
      {"format", "layers-model"},
      {"weightsManifest",
       json::array({{{"paths", {"w.bin"}}, {"weights", {weight("emb/embeddings", {2, 2})}}}})}};
  a.shard = floatBytes(ramp(4));
  const FlatTensor<float> ids({1, 3}, {5, 5, 5});
  CHECK(a.load().predict(ids)[0].data == ids.data);
  // With the Embedding's output as the model output, the same ids are an error.
  a.model["modelTopology"]["config"]["output_layers"] = {{"emb", 0, 0}};
  CHECK_THROWS_AS(a.load().predict(ids), recurrent::ValueError);
}

TEST_CASE("model import: a stateful layer with several outputs advances once per predict",
          "[io][model]") {
  // TF.js applies a layer once per output it fetches, so its stateful GRU with returnState and
  // outputs [output, state] advances twice per predict; we advance once, as Keras does.
  auto a = gruModel(false, false);
  auto& layers = a.model["modelTopology"]["config"]["layers"];
  layers[0]["config"]["batch_input_shape"] = {2, 3, 2};
  layers[1]["config"]["stateful"] = true;
  auto single = a.load();
  layers[1]["config"]["return_state"] = true;
  makeFunctional(a, {{"gru", 0, 0}, {"gru", 0, 1}});
  auto both = a.load();
  const auto x = input(2, 3, 2);
  for (int call = 0; call < 3; ++call) {
    const auto want = single.predict(x)[0];
    const auto got = both.predict(x);
    REQUIRE(got.size() == 2);
    CHECK(got[0].data == want.data);
    CHECK(got[1].data == want.data);  // the last state is the last output
  }
}

TEST_CASE("model import: summary lists layers, shapes and parameter counts", "[io][model]") {
  const std::string s = gruModel(false, false).load().summary();
  CHECK_THAT(s, ContainsSubstring("Model: \"m\""));
  CHECK_THAT(s, ContainsSubstring("gru (GRU)"));
  CHECK_THAT(s, ContainsSubstring("(None, 2)"));
  CHECK_THAT(s, ContainsSubstring("Total params: 30"));
}

// Bugs found by the fuzz targets (fuzz/), on the smallest input that showed them; the crashing
// inputs are in fuzz/regressions/<target>/ and replayed by the fuzz preset.

// fuzz/regressions/model_loader/sequential_only_inputlayer: the output name was read from the
// (absent) layer of the InputLayer node, a member call on a null pointer.
TEST_CASE("fuzz regression: a Sequential model of only an InputLayer is an identity model",
          "[io][model][fuzz]") {
  auto load = [](const std::string& text) {
    return recurrent::io::loadLayersModel<float>(json::parse(text),
                                                 [](const std::string&) { return std::string(); });
  };
  auto model = load(R"({"modelTopology": {"model_config": {"class_name": "Sequential",
      "config": {"layers": [{"class_name": "InputLayer",
                             "config": {"name": "in", "batch_input_shape": [null, 3, 2]}}]}}}})");
  REQUIRE(model.inputNames() == std::vector<std::string>{"in"});
  CHECK(model.outputNames() == std::vector<std::string>{"in"});
  CHECK(model.outputShapes() == std::vector<std::vector<recurrent::Index>>{{-1, 3, 2}});
  CHECK_FALSE(model.summary().empty());
  const recurrent::FlatTensor<float> x({1, 3, 2}, {1, 2, 3, 4, 5, 6});
  const auto y = model.predict(x);
  REQUIRE(y.size() == 1);
  CHECK(y[0].shape == x.shape);
  CHECK(y[0].data == x.data);

  // The fuzzer's input: a rank-0 batch_shape, no name.
  auto scalar = load(R"({"modelTopology":{"model_config":{"class_name":"Sequential",
      "config":{"layers":[{"class_name":"InputLayer", "config":{"batch_shape": []}}]}}}})");
  CHECK(scalar.outputNames() == scalar.inputNames());
}

// fuzz/regressions/model_loader/huge_units_gru: `units` 3.3e51 was converted to an integer before
// any bound was checked (undefined behaviour). Huge or fractional integer arguments are now a
// ConfigError naming the argument.
TEST_CASE("fuzz regression: huge integer arguments are a ConfigError", "[io][model][fuzz]") {
  for (const char* key : {"units", "implementation"}) {
    auto a = gruModel(false, false);
    a.model["modelTopology"]["config"]["layers"][1]["config"][key] = 3.3e51;
    CHECK_THAT(messageOf<recurrent::ConfigError>([&] { a.load(); }), ContainsSubstring("'gru'"));
  }
  auto a = gruModel(false, false);
  a.model["modelTopology"]["config"]["layers"][1]["config"]["units"] = 2.5;
  CHECK_THAT(messageOf<recurrent::ConfigError>([&] { a.load(); }),
             ContainsSubstring("Expected units to be a positive integer, but got 2.5"));
  // The loader drops input_dim (it would build before the weights are checked); the layer
  // factory checks it.
  const json spec = {{"class_name", "GRU"}, {"config", {{"units", 2}, {"input_dim", 3.3e51}}}};
  CHECK_THAT(
      messageOf<recurrent::ConfigError>([&] { recurrent::io::layerFromConfig<float>(spec); }),
      ContainsSubstring("inputDim: expected an integer"));
}

// fuzz/regressions/model_loader/empty_batch_rnn (and empty_batch_states): a recurrent layer
// called with batch 0 did pointer arithmetic on empty (null) buffers. A batch of 0 samples is
// now a ShapeError naming the layer, like a time or feature size of 0.
TEST_CASE("fuzz regression: a batch of 0 samples is a ShapeError", "[io][model][fuzz]") {
  auto model = gruModel(false, false).load();
  CHECK_THAT(messageOf<recurrent::ShapeError>([&] {
               model.predict(FlatTensor<float>({0, 3, 2}, {}));
             }),
             ContainsSubstring("expected [batch >= 1, time >= 1, features >= 1], got [0, 3, 2]"));
  recurrent::GRUArgs args;
  args.units = 4;
  recurrent::GRU<float> gru(args);
  const std::vector<float> none;
  CHECK_THROWS_AS(gru.call(recurrent::SequenceView<float>(none.data(), 0, 5, 3)),
                  recurrent::ShapeError);
}

// fuzz/regressions/model_loader/config_not_an_object: `"config": 5` made the loader index a
// number (an nlohmann exception escaped). Malformed configs are ConfigErrors.
TEST_CASE("fuzz regression: configs of the wrong JSON type are ConfigErrors", "[io][model][fuzz]") {
  auto a = gruModel(false, false);
  a.model["modelTopology"]["config"]["layers"][1]["config"] = 5;
  CHECK_THAT(messageOf<recurrent::ConfigError>([&] { a.load(); }),
             ContainsSubstring("config: expected an object, got number"));
  a = gruModel(false, false);
  a.model["modelTopology"]["config"]["layers"][1] = {
      {"class_name", "Bidirectional"}, {"config", {{"name", "bi"}, {"layer", {{"config", 7}}}}}};
  CHECK_THROWS_AS(a.load(), recurrent::ConfigError);
  a = gruModel(false, false);
  a.model["modelTopology"]["config"]["layers"][1]["config"]["activation"] = {{"class_name", 3}};
  CHECK_THROWS_AS(a.load(), recurrent::ConfigError);
}

#endif  // RECURRENT_HAS_JSON
