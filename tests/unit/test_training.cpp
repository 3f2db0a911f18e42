// Training (io/training.hpp, io/layers.hpp): the gradient of the whole model — every layer's
// backward, the merge layers, masks and the losses — against central differences of the loss
// (double); fit's options and callbacks; save/load; typed errors for bad data and bad models.
// TF.js parity of fit itself is proven by the golden fit cases (tests/golden/fit).
#include "support/catch.hpp"
#include <recurrent/recurrent.hpp>

#if RECURRENT_HAS_JSON
#include <recurrent/io/tfjs.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace {

namespace L = recurrent::io::layers;
using recurrent::FlatTensor;
using recurrent::Index;
using recurrent::io::FitArgs;
using recurrent::io::Graph;
using recurrent::io::LayersModel;
using recurrent_test::ContainsSubstring;

template <class Scalar>
FlatTensor<Scalar> tensor(std::vector<Index> shape, double scale, double phase) {
  FlatTensor<Scalar> t(shape, {});
  for (Index i = 0; i < t.size(); ++i)
    t.data.push_back(static_cast<Scalar>(scale * std::sin(0.7 * static_cast<double>(i) + phase)));
  return t;
}

/// One-hot rows `[rows..., classes]`.
FlatTensor<double> oneHot(std::vector<Index> shape, Index classes) {
  FlatTensor<double> t(shape, {});
  const Index rows = t.size();
  t.shape.push_back(classes);
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < classes; ++c) t.data.push_back((r * 7 + 3) % classes == c ? 1.0 : 0.0);
  return t;
}

/// The model's gradient by one SGD step of rate 1 (w_before − w_after), against central
/// differences of `evaluate`'s loss: every weight entry, relative to the gradient's scale.
void checkGradient(LayersModel<double>& model, const std::vector<FlatTensor<double>>& x,
                   const std::vector<FlatTensor<double>>& y, const std::vector<std::string>& loss) {
  model.compile({recurrent::train::sgd<double>(1.0), loss});
  const Index n = x[0].shape[0];
  const auto before = model.getWeights();
  std::vector<FlatTensor<double>> values;
  for (const auto& w : before) values.push_back(w.value);
  auto lossAt = [&](const std::vector<FlatTensor<double>>& v) {
    model.setWeights(v);
    // evaluate's list is TF.js's: for each output the running sum of the output losses, so
    // entry (outputs − 1) is the total loss fit minimises.
    return model.evaluate(x, y, {n})[y.size() - 1];
  };
  const double base = lossAt(values);
  model.setWeights(values);
  const std::vector<double> logged = model.trainOnBatch(x, y);
  CHECK(logged[0] == recurrent_test::Approx(base).epsilon(1e-12));
  const auto after = model.getWeights();
  double scale = 0;
  for (std::size_t w = 0; w < before.size(); ++w)
    for (std::size_t k = 0; k < before[w].value.data.size(); ++k)
      scale = std::max(scale, std::abs(before[w].value.data[k] - after[w].value.data[k]));
  REQUIRE(scale > 1e-6);
  const double h = 1e-6;
  for (std::size_t w = 0; w < before.size(); ++w) {
    for (std::size_t k = 0; k < before[w].value.data.size(); ++k) {
      auto plus = values, minus = values;
      plus[w].data[k] += h;
      minus[w].data[k] -= h;
      const double fd = (lossAt(plus) - lossAt(minus)) / (2 * h);
      const double got = before[w].value.data[k] - after[w].value.data[k];
      INFO(before[w].name << "[" << k << "]: backward " << got << ", finite differences " << fd);
      CHECK(std::abs(got - fd) <= 1e-6 * scale + 1e-5 * std::abs(fd));
    }
  }
}

}  // namespace

TEST_CASE("training: gradients of Sequential models match finite differences", "[training]") {
  SECTION("Masking -> LSTM (sequences) -> TimeDistributed(Dense softmax), crossentropy") {
    auto model = recurrent::io::sequential<double>(
        {L::masking({{"maskValue", 0.0}, {"inputShape", {4, 3}}}),
         L::lstm({{"units", 3}, {"returnSequences", true}}),
         L::timeDistributed({{"layer", L::dense({{"units", 4}, {"activation", "softmax"}})}})});
    auto x = tensor<double>({3, 4, 3}, 0.8, 0.1);
    for (Index f = 0; f < 3; ++f) x.data[static_cast<std::size_t>((1 * 4 + 3) * 3 + f)] = 0;
    checkGradient(model, {x}, {oneHot({3, 4}, 4)}, {"categoricalCrossentropy"});
  }
  SECTION("Embedding(maskZero) -> SimpleRNN -> Dense(sigmoid), binary crossentropy") {
    auto model = recurrent::io::sequential<double>(
        {L::embedding({{"inputDim", 5}, {"outputDim", 3}, {"maskZero", true}, {"inputShape", {4}}}),
         L::simpleRNN({{"units", 4}}), L::dense({{"units", 2}, {"activation", "sigmoid"}})});
    FlatTensor<double> ids({3, 4}, {1, 2, 3, 0, 4, 4, 1, 2, 0, 0, 3, 1});
    FlatTensor<double> y({3, 2}, {1, 0, 0, 1, 1, 1});
    checkGradient(model, {ids}, {y}, {"binaryCrossentropy"});
  }
  SECTION("Dense -> Reshape -> Bidirectional(GRU) -> Flatten -> Activation, MSE") {
    auto model = recurrent::io::sequential<double>(
        {L::dense({{"units", 6}, {"activation", "tanh"}, {"inputShape", {5}}}),
         L::reshape({{"targetShape", {3, 2}}}),
         L::bidirectional({{"layer", L::gru({{"units", 2}, {"returnSequences", true}})},
                           {"mergeMode", "concat"}}),
         L::flatten(), L::activation({{"activation", "softsign"}})});
    checkGradient(model, {tensor<double>({4, 5}, 0.9, 0.3)}, {tensor<double>({4, 12}, 0.5, 1.1)},
                  {"meanSquaredError"});
  }
}

TEST_CASE("training: gradients through merge layers and two outputs match finite differences",
          "[training]") {
  for (const char* merge :
       {"Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}) {
    DYNAMIC_SECTION(merge) {
      Graph g;
      auto a = g.input({3, 2}), b = g.input({3, 2});
      auto ha = g.apply(L::dense({{"units", 3}, {"activation", "tanh"}}), a);
      auto hb = g.apply(L::dense({{"units", 3}}), b);
      auto m = g.apply(recurrent::io::LayerSpec{merge, nlohmann::json::object()}, {ha, hb});
      auto seq = g.apply(L::lstm({{"units", 2}}), m);
      auto out1 = g.apply(L::dense({{"units", 3}, {"activation", "softmax"}}), seq);
      auto out2 = g.apply(L::dense({{"units", 1}}), seq);
      auto model = g.model<double>({a, b}, {out1, out2});
      checkGradient(model,
                    {tensor<double>({4, 3, 2}, 0.9, 0.2), tensor<double>({4, 3, 2}, 0.7, 2.0)},
                    {oneHot({4}, 3), tensor<double>({4, 1}, 0.5, 0.4)},
                    {"categoricalCrossentropy", "meanAbsoluteError"});
    }
  }
}

TEST_CASE("training: outputs nothing depends on get zero gradients (a returnState encoder)",
          "[training]") {
  Graph g;
  auto x = g.input({4, 3});
  // const [, h, c] = tf.layers.lstm({units: 3, returnState: true}).apply(x): the output unused
  auto outs = g.applyMany(L::lstm({{"units", 3}, {"returnState", true}}), {x}, 3);
  auto y = g.apply(L::dense({{"units", 2}}), outs[2]);
  auto model = g.model<double>({x}, {y});
  checkGradient(model, {tensor<double>({3, 4, 3}, 0.9, 0.4)}, {tensor<double>({3, 2}, 0.5, 1.3)},
                {"meanSquaredError"});
}

TEST_CASE("training: fit options, callbacks and optimizer state", "[training]") {
  auto build = [] {
    return recurrent::io::sequential<float>(
        {L::gru({{"units", 4}, {"inputShape", {5, 2}}}), L::dense({{"units", 1}})});
  };
  const auto x = tensor<float>({12, 5, 2}, 1.0, 0.0);
  const auto y = tensor<float>({12, 1}, 0.5, 0.7);
  SECTION("fit in two calls equals one (Adam's state is kept), initialEpoch numbers epochs") {
    auto one = build(), two = build();
    two.setWeights([&] {
      std::vector<FlatTensor<float>> v;
      for (const auto& w : one.getWeights()) v.push_back(w.value);
      return v;
    }());
    one.compile({recurrent::train::adam<float>(0.01), {"meanSquaredError"}});
    two.compile({recurrent::train::adam<float>(0.01), {"meanSquaredError"}});
    FitArgs<float> f;
    f.batchSize = 5;
    f.shuffle = false;
    f.epochs = 3;
    const auto h = one.fit({x}, {y}, f);
    f.epochs = 1;
    two.fit({x}, {y}, f);
    f.initialEpoch = 1;
    f.epochs = 3;
    const auto h2 = two.fit({x}, {y}, f);
    CHECK(h2.epoch == std::vector<Index>{1, 2});
    REQUIRE(h.history.at("loss").size() == 3);
    CHECK(h2.history.at("loss")[1] == h.history.at("loss")[2]);
    const auto w1 = one.getWeights(), w2 = two.getWeights();
    for (std::size_t i = 0; i < w1.size(); ++i) CHECK(w1[i].value.data == w2[i].value.data);
  }
  SECTION("a seeded shuffle is reproducible; validationSplit adds val_ keys") {
    auto a = build(), b = build();
    b.setWeights([&] {
      std::vector<FlatTensor<float>> v;
      for (const auto& w : a.getWeights()) v.push_back(w.value);
      return v;
    }());
    for (auto* m : {&a, &b}) m->compile({"sgd", {"meanSquaredError"}, {"mae"}});
    FitArgs<float> f;
    f.epochs = 2;
    f.batchSize = 4;
    f.seed = 42;
    f.validationSplit = 0.25;
    const auto ha = a.fit({x}, {y}, f), hb = b.fit({x}, {y}, f);
    CHECK(ha.history == hb.history);
    for (const char* key : {"loss", "mae", "val_loss", "val_mae"})
      CHECK(ha.history.count(key) == 1);
  }
  SECTION("callbacks see every batch; stopTraining ends fit after the current batch") {
    auto m = build();
    m.compile({"adam", {"meanSquaredError"}});
    FitArgs<float> f;
    f.epochs = 5;
    f.batchSize = 4;
    int batches = 0;
    recurrent::io::Callback cb;
    cb.onBatchEnd = [&](Index batch, recurrent::io::Logs& logs) {
      ++batches;
      CHECK(logs.at("batch") == static_cast<double>(batch));
      CHECK(logs.count("loss") == 1);
      if (batches == 4) m.stopTraining();
    };
    f.callbacks.push_back(cb);
    const auto h = m.fit({x}, {y}, f);
    CHECK(batches == 4);
    CHECK(h.epoch == std::vector<Index>{0, 1});
  }
  SECTION("earlyStopping stops after `patience` epochs without improvement") {
    auto m = build();
    m.compile({recurrent::train::sgd<float>(0.0), {"meanSquaredError"}});  // the loss never moves
    FitArgs<float> f;
    f.epochs = 20;
    f.validationSplit = 0.25;
    recurrent::io::EarlyStoppingArgs es;
    es.patience = 2;
    f.callbacks.push_back(recurrent::io::earlyStopping(m, es));
    CHECK(m.fit({x}, {y}, f).epoch.size() == 3);
  }
}

TEST_CASE("training: save writes what loadLayersModel reads back exactly", "[training]") {
  const auto dir = std::filesystem::temp_directory_path() / "recurrent_test_training_save";
  std::filesystem::remove_all(dir);
  auto m = recurrent::io::sequential<float>(
      {L::lstm({{"units", 3}, {"inputShape", {4, 2}}, {"returnSequences", true}}),
       L::timeDistributed({{"layer", L::dense({{"units", 2}})}})});
  m.compile({"adam", {"meanSquaredError"}});
  const auto x = tensor<float>({6, 4, 2}, 1.0, 0.5);
  m.fit({x}, {tensor<float>({6, 4, 2}, 0.3, 0.1)}, FitArgs<float>{});
  m.save(dir.string());
  auto back = recurrent::io::loadLayersModel<float>((dir / "model.json").string());
  CHECK(back.predict(x)[0].data == m.predict(x)[0].data);
  CHECK(back.summary() == m.summary());
  // An unwritable place: a typed error, and nothing written.
  const auto file = dir / "model.json";
  CHECK_THROWS_AS(m.save((file / "sub").string()), recurrent::IOError);
  CHECK(!std::filesystem::exists(file / "sub"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("training: bad data and bad models are typed errors naming what", "[training]") {
  auto m = recurrent::io::sequential<float>({L::simpleRNN({{"units", 2}, {"inputShape", {3, 2}}}),
                                             L::dense({{"units", 3}, {"activation", "softmax"}})});
  const auto x = tensor<float>({4, 3, 2}, 1.0, 0.0);
  FlatTensor<float> labels({4, 1}, {0, 1, 2, 1});
  CHECK_THROWS_AS(m.fit({x}, {labels}), recurrent::StateError);
  m.compile({"adam", {"sparseCategoricalCrossentropy"}});
  CHECK_THROWS_WITH(m.fit({x}, {FlatTensor<float>({3, 1}, {0, 1, 2})}),
                    ContainsSubstring("same number of samples"));
  CHECK_THROWS_AS(m.fit({x}, {FlatTensor<float>({4, 1}, {0, 1, 3, 1})}), recurrent::ValueError);
  CHECK_THROWS_AS(m.fit({tensor<float>({4, 3, 5}, 1.0, 0.0)}, {labels}), recurrent::ShapeError);
  CHECK_THROWS_AS(m.compile({"adamw", {"meanSquaredError"}}), recurrent::ValueError);
  CHECK_THROWS_AS(m.compile({"adam", {"meanSquaredErr"}}), recurrent::ValueError);
  CHECK_THROWS_AS(m.compile({"adam", {"mse", "mae"}}), recurrent::ValueError);
  SECTION("a loss that turns NaN stops fit before its update") {
    m.compile({"adam", {"meanSquaredError"}});
    auto y = tensor<float>({4, 3}, 1.0, 0.0);
    y.data[5] = std::numeric_limits<float>::quiet_NaN();
    const auto before = m.getWeights();
    CHECK_THROWS_AS(m.fit({x}, {y}), recurrent::TrainingError);
    const auto after = m.getWeights();
    for (std::size_t i = 0; i < before.size(); ++i)
      CHECK(before[i].value.data == after[i].value.data);
  }
  SECTION("building: the first layer needs an input shape; shapes are checked at add") {
    CHECK_THROWS_WITH(recurrent::io::sequential<float>({L::dense({{"units", 2}})}),
                      ContainsSubstring("must get an `inputShape`"));
    CHECK_THROWS_AS(m.add(L::lstm({{"units", 2}})), recurrent::ShapeError);
    CHECK_THROWS_AS(m.add(L::dense({{"units", -1}})), recurrent::ConfigError);
  }
  SECTION("a layer applied at two nodes cannot be trained; functional models have no add") {
    auto shared = recurrent::io::loadLayersModel<float>(
        std::string(RECURRENT_TESTS_DIR) + "/models/tfjs/functional_shared_gru_dense/model.json");
    CHECK_THROWS_WITH(shared.compile({"sgd", {"meanSquaredError"}}),
                      ContainsSubstring("training a shared layer is not supported"));
    CHECK_THROWS_AS(shared.add(L::dense({{"units", 1}})), recurrent::ConfigError);
  }
}

#endif  // RECURRENT_HAS_JSON
