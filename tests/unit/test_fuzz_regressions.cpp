// Bugs found by the fuzz targets (fuzz/), one test case each, on the smallest input that showed
// them. The crashing inputs themselves are in fuzz/regressions/<target>/ and are replayed by the
// fuzz preset's fuzz.<target>.regressions tests.
#include "support/catch.hpp"
#include <recurrent/recurrent.hpp>

#if RECURRENT_HAS_JSON
#include <recurrent/io/tfjs.hpp>

#include <string>
#include <vector>

namespace {

using nlohmann::json;

recurrent::io::LayersModel<float> loadFromJson(const std::string& text) {
  return recurrent::io::loadLayersModel<float>(json::parse(text),
                                               [](const std::string&) { return std::string(); });
}

}  // namespace

// fuzz/regressions/model_loader/sequential_only_inputlayer: the output name was read from the
// (absent) layer of the InputLayer node, a member call on a null pointer.
TEST_CASE("fuzz regression: a Sequential model of only an InputLayer is an identity model",
          "[io][model][fuzz]") {
  auto model = loadFromJson(R"({"modelTopology": {"model_config": {"class_name": "Sequential",
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
  auto scalar = loadFromJson(R"({"modelTopology":{"model_config":{"class_name":"Sequential",
      "config":{"layers":[{"class_name":"InputLayer", "config":{"batch_shape": []}}]}}}})");
  CHECK(scalar.outputNames() == scalar.inputNames());
}

#endif  // RECURRENT_HAS_JSON
