// JSON layer configs: every class builds; TF.js `activation: null` quirk; argument validation.
#include "support/catch.hpp"
#include <recurrent/recurrent.hpp>

#if RECURRENT_HAS_JSON
#include <recurrent/io/layer_config.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
using recurrent::FlatTensor;
using recurrent::Index;

FlatTensor<float> input(Index b, Index t, Index f) {
  FlatTensor<float> x({b, t, f}, {});
  std::uint64_t s = 99;
  for (Index i = 0; i < x.size(); ++i) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x.data.push_back(
        static_cast<float>(static_cast<double>(s >> 11) / 9007199254740992.0 * 4.0 - 2.0));
  }
  return x;
}

json layerSpec(const std::string& cls, json cfg) {
  return json{{"class_name", cls}, {"config", cfg}};
}

// Builds two layers and gives the second the first's weights; returns both outputs (first tensor).
std::pair<std::vector<float>, std::vector<float>> sameWeightsOutputs(const json& a, const json& b) {
  auto la = recurrent::io::layerFromConfig<float>(a);
  auto lb = recurrent::io::layerFromConfig<float>(b);
  la.build({2, 4, 3});
  lb.build({2, 4, 3});
  std::vector<FlatTensor<float>> w;
  for (auto& x : la.getWeights()) w.push_back(x.value);
  lb.setWeights(w);
  const auto x = input(2, 4, 3);
  return {la.apply(x)[0].data, lb.apply(x)[0].data};
}

}  // namespace

TEST_CASE("layerFromConfig builds every layer class", "[io]") {
  const auto x = input(2, 4, 3);
  struct Case {
    json spec;
    std::string cls;
    std::vector<std::vector<Index>> shapes;
  };
  const std::vector<Case> cases = {
      {layerSpec("SimpleRNN", {{"units", 5}}), "SimpleRNN", {{2, 5}}},
      {layerSpec("GRU", {{"units", 2}, {"returnSequences", true}}), "GRU", {{2, 4, 2}}},
      {layerSpec("GRU", {{"units", 2}, {"reset_after", true}, {"return_state", true}}),
       "GRU",
       {{2, 2}, {2, 2}}},
      {layerSpec("LSTM", {{"units", 3}, {"returnState", true}}), "LSTM", {{2, 3}, {2, 3}, {2, 3}}},
      {layerSpec("RNN", {{"cell", {{"class_name", "LSTMCell"}, {"config", {{"units", 4}}}}}}),
       "RNN",
       {{2, 4}}},
      {layerSpec("RNN", {{"returnState", true},
                         {"cell",
                          json::array({{{"class_name", "LSTMCell"}, {"config", {{"units", 4}}}},
                                       {{"class_name", "GRUCell"}, {"config", {{"units", 2}}}}})}}),
       "RNN",
       {{2, 2}, {2, 2}, {2, 4}, {2, 4}}},
      {layerSpec("Bidirectional", {{"layer", layerSpec("LSTM", {{"units", 3}})}}),
       "Bidirectional",
       {{2, 6}}},
      {layerSpec("Bidirectional",
                 {{"mergeMode", nullptr}, {"layer", layerSpec("SimpleRNN", {{"units", 3}})}}),
       "Bidirectional",
       {{2, 3}, {2, 3}}},
  };
  for (const auto& c : cases) {
    INFO(c.spec.dump());
    auto layer = recurrent::io::layerFromConfig<float>(c.spec);
    CHECK(layer.className() == c.cls);
    const auto out = layer.apply(x);
    REQUIRE(out.size() == c.shapes.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      CHECK(out[i].shape == c.shapes[i]);
      CHECK(static_cast<Index>(out[i].data.size()) == out[i].size());
    }
    CHECK(layer.computeOutputShape({2, 4, 3}) == c.shapes);
  }
}

TEST_CASE("activation: null is linear for GRU/LSTM and tanh for SimpleRNN", "[io]") {
  for (const char* cls : {"GRU", "LSTM"}) {
    INFO(cls);
    const auto nul = sameWeightsOutputs(layerSpec(cls, {{"units", 3}, {"activation", nullptr}}),
                                        layerSpec(cls, {{"units", 3}, {"activation", "linear"}}));
    CHECK(nul.first == nul.second);
    const auto tanh = sameWeightsOutputs(layerSpec(cls, {{"units", 3}, {"activation", nullptr}}),
                                         layerSpec(cls, {{"units", 3}, {"activation", "tanh"}}));
    CHECK(tanh.first != tanh.second);
    // An absent activation is the default tanh.
    const auto absent = sameWeightsOutputs(layerSpec(cls, {{"units", 3}}),
                                           layerSpec(cls, {{"units", 3}, {"activation", "tanh"}}));
    CHECK(absent.first == absent.second);
  }
  const auto s = sameWeightsOutputs(layerSpec("SimpleRNN", {{"units", 3}, {"activation", nullptr}}),
                                    layerSpec("SimpleRNN", {{"units", 3}, {"activation", "tanh"}}));
  CHECK(s.first == s.second);
  const auto sl =
      sameWeightsOutputs(layerSpec("SimpleRNN", {{"units", 3}, {"activation", nullptr}}),
                         layerSpec("SimpleRNN", {{"units", 3}, {"activation", "linear"}}));
  CHECK(sl.first != sl.second);
}

TEST_CASE("invalid units are ConfigErrors", "[io]") {
  for (const char* cls : {"SimpleRNN", "GRU", "LSTM"}) {
    INFO(cls);
    CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(layerSpec(cls, {{"units", 2.5}})),
                    recurrent::ConfigError);
    CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(layerSpec(cls, {{"units", -1}})),
                    recurrent::ConfigError);
    CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(layerSpec(cls, {{"units", 0}})),
                    recurrent::ConfigError);
    CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(layerSpec(cls, {{"units", "3"}})),
                    recurrent::ConfigError);
    CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(layerSpec(cls, json::object())),
                    recurrent::ConfigError);
  }
  CHECK_THROWS_WITH(recurrent::io::layerFromConfig<float>(layerSpec("LSTM", {{"units", 2.5}})),
                    recurrent_test::ContainsSubstring("2.5"));
}

TEST_CASE("unknown classes, activations and missing cells are ConfigErrors", "[io]") {
  CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(layerSpec("Dense", {{"units", 3}})),
                  recurrent::ConfigError);
  CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(json{{"config", {{"units", 3}}}}),
                  recurrent::ConfigError);
  CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(layerSpec("RNN", {{"units", 3}})),
                  recurrent::ConfigError);
  CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(layerSpec("RNN", {{"cell", nullptr}})),
                  recurrent::ConfigError);
  CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(layerSpec(
                      "RNN", {{"cell", {{"class_name", "ConvCell"}, {"config", {{"units", 2}}}}}})),
                  recurrent::ConfigError);
  CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(
                      layerSpec("GRU", {{"units", 3}, {"activation", "hard_sigmoid"}})),
                  recurrent::ConfigError);
  CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(
                      layerSpec("LSTM", {{"units", 3}, {"recurrentActivation", "foo"}})),
                  recurrent::ConfigError);
  CHECK_THROWS_AS(
      recurrent::io::layerFromConfig<float>(layerSpec(
          "Bidirectional", {{"mergeMode", "max"}, {"layer", layerSpec("LSTM", {{"units", 3}})}})),
      recurrent::ConfigError);
  CHECK_THROWS_AS(recurrent::io::layerFromConfig<float>(layerSpec("Bidirectional", json::object())),
                  recurrent::ConfigError);
}

TEST_CASE("layer configs: threads reach stacks, AnyCell and an imported Bidirectional",
          "[io][threads]") {
  using recurrent::AnyCell;
  using recurrent::LSTMCell;
  using Generic = recurrent::RNN<AnyCell<float>>;
  const json lstm = layerSpec("LSTM", {{"units", 8}, {"threads", 2}});
  auto bidi = recurrent::io::layerFromConfig<float>(layerSpec("Bidirectional", {{"layer", lstm}}));
  auto stacked = recurrent::io::layerFromConfig<float>(
      layerSpec("RNN", {{"threads", 2},
                        {"cell", json::array({layerSpec("LSTMCell", {{"units", 8}}),
                                              layerSpec("GRUCell", {{"units", 4}})})}}));
  bidi.apply(input(2, 3, 5));
  stacked.apply(input(2, 3, 5));
  auto* b = bidi.target<recurrent::Bidirectional<Generic>>();
  REQUIRE(b != nullptr);
  for (Generic* l : {&b->forwardLayer(), &b->backwardLayer()}) {
    auto* cell = l->cell().target<LSTMCell<float>>();
    REQUIRE(cell != nullptr);
    CHECK(cell->threadTeam() != nullptr);
  }
  auto* s = stacked.target<Generic>();
  REQUIRE(s != nullptr);
  auto* stack = s->cell().target<recurrent::StackedRNNCells<std::vector<AnyCell<float>>>>();
  REQUIRE(stack != nullptr);
  CHECK(stack->cell(0).target<LSTMCell<float>>()->threadTeam() != nullptr);
  CHECK(stack->cell(1).target<recurrent::GRUCell<float>>()->threadTeam() != nullptr);
}

#else

TEST_CASE("layer configs need nlohmann_json", "[io]") { CHECK(RECURRENT_HAS_JSON == 0); }

#endif
