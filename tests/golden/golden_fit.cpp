// Replays TF.js training cases (SCHEMA-train.md §4: a folder holding model.json, weights.bin and
// train.json): load the initial model, check its predictions, compile with the case's optimizer,
// losses and metrics, then `fit` (or `trainOnBatch` several times) and compare the history, the
// per-batch logs, the final weights and the trained model's predictions with TF.js's. Also
// saved models (a folder with model.json and tfjs_predictions.json: a model this library saved,
// and what TF.js predicted after loading it). Its own translation unit (linked into
// recurrent_golden) so that it compiles beside the case runner.
#include "golden_fit.hpp"

#include "golden_tensors.hpp"
#include <recurrent/io/tfjs.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace golden {
namespace {

using recurrent::FlatTensor;

template <class Scalar>
std::vector<FlatTensor<Scalar>> tensorsFrom(const json& list) {
  std::vector<FlatTensor<Scalar>> out;
  for (const json& t : list) out.push_back(tensorFrom<Scalar>(t));
  return out;
}

/// |got − expected| ≤ abs + rel·|expected|, or what failed.
std::string compareValue(double got, double expected, const json& tol, const std::string& what) {
  const double a = tol.at("abs").get<double>(), r = tol.at("rel").get<double>();
  if (std::abs(got - expected) <= a + r * std::abs(expected)) return "";
  std::ostringstream os;
  os.precision(9);
  os << what << ": got " << got << ", expected " << expected;
  return os.str();
}

template <class Scalar>
std::string comparePredictions(recurrent::io::LayersModel<Scalar>& model, const json& x,
                               const json& expected, const json& tol, const std::string& what) {
  const auto out = model.predict(tensorsFrom<Scalar>(x));
  if (out.size() != expected.size())
    return what + ": " + std::to_string(out.size()) + " outputs, expected " +
           std::to_string(expected.size());
  for (std::size_t o = 0; o < out.size(); ++o) {
    std::string e = compareTensor(expected[o], out[o], tol.at("abs").get<double>(),
                                  tol.at("rel").get<double>(), what + " " + std::to_string(o));
    if (!e.empty()) return e;
  }
  return "";
}

/// The optimizer's class and TF.js `getConfig()` values as the case records them.
recurrent::train::OptimizerConfig optimizerConfig(const json& spec) {
  recurrent::train::OptimizerConfig config;
  config.className = spec.at("class_name").get<std::string>();
  for (auto it = spec.at("config").begin(); it != spec.at("config").end(); ++it) {
    if (it->is_boolean())
      config.values[it.key()] = it->get<bool>() ? 1.0 : 0.0;
    else if (it->is_number())
      config.values[it.key()] = it->get<double>();
  }
  return config;
}

/// `history` and `epoch` against the case's.
std::string compareHistory(const recurrent::io::History& h, const json& c) {
  const json& tol = c.at("tolerance");
  if (c.contains("epoch") && json(h.epoch) != c["epoch"])
    return "epochs " + json(h.epoch).dump() + ", expected " + c["epoch"].dump();
  for (auto it = c.at("history").begin(); it != c.at("history").end(); ++it) {
    auto got = h.history.find(it.key());
    if (got == h.history.end()) return "history has no '" + it.key() + "'";
    if (got->second.size() != it->size())
      return "history '" + it.key() + "' has " + std::to_string(got->second.size()) + " epochs";
    for (std::size_t e = 0; e < it->size(); ++e) {
      std::string err = compareValue(got->second[e], (*it)[e].get<double>(), tol,
                                     "history '" + it.key() + "' epoch " + std::to_string(e));
      if (!err.empty()) return err;
    }
  }
  if (h.history.size() != c["history"].size())
    return "history has " + std::to_string(h.history.size()) + " keys, expected " +
           std::to_string(c["history"].size());
  return "";
}

/// The logs of every batch (recorded by a callback) against `batch_logs`.
std::string compareBatchLogs(const std::vector<std::vector<recurrent::io::Logs>>& batches,
                             const json& c) {
  if (!c.contains("batch_logs")) return "";
  const json& tol = c.at("tolerance");
  const json& bl = c["batch_logs"];
  if (bl.size() != batches.size())
    return "batch logs of " + std::to_string(batches.size()) + " epochs";
  for (std::size_t e = 0; e < bl.size(); ++e) {
    if (bl[e].size() != batches[e].size())
      return "epoch " + std::to_string(e) + ": " + std::to_string(batches[e].size()) +
             " batches, expected " + std::to_string(bl[e].size());
    for (std::size_t b = 0; b < bl[e].size(); ++b)
      for (auto it = bl[e][b].begin(); it != bl[e][b].end(); ++it) {
        auto got = batches[e][b].find(it.key());
        if (got == batches[e][b].end()) return "batch log has no '" + it.key() + "'";
        std::string err = compareValue(
            got->second, it->get<double>(), tol,
            "epoch " + std::to_string(e) + " batch " + std::to_string(b) + " '" + it.key() + "'");
        if (!err.empty()) return err;
      }
  }
  return "";
}

/// Tensor records (`{name?, shape, data}`) of `tensors`.
template <class Scalar>
json records(const std::vector<FlatTensor<Scalar>>& tensors) {
  json out = json::array();
  for (const auto& t : tensors) {
    json data = json::array();
    for (Scalar v : t.data) data.push_back(static_cast<double>(static_cast<float>(v)));
    out.push_back({{"shape", t.shape}, {"data", data}});
  }
  return out;
}

template <class Scalar>
std::string run(const std::filesystem::path& dir, const std::filesystem::path& saveTo) {
  std::ifstream in(dir / "train.json");
  const json c = json::parse(in);
  const json& tol = c.at("tolerance");
  auto model = recurrent::io::loadLayersModel<Scalar>((dir / "model.json").string());
  if (c.contains("initial_predictions")) {
    std::string e =
        comparePredictions(model, c.at("predictions").at("x"),
                           c["initial_predictions"].at("outputs"), tol, "initial prediction");
    if (!e.empty()) return e;
  }
  // Stateful cases reset at the points TF.js's generator did.
  auto resetAt = [&](const char* when) {
    if (c.contains("reset_states"))
      for (const json& r : c["reset_states"])
        if (r == when) model.resetStates();
  };
  resetAt("after initial_predictions");
  const json& comp = c.at("compile");
  recurrent::io::CompileArgs<Scalar> args;
  const json& opt = comp.at("optimizer");
  if (opt.contains("name") && opt["name"].is_string())  // a compile string: TF.js's defaults
    args.optimizerName = opt["name"].get<std::string>();
  else
    args.optimizer = recurrent::train::optimizerFromConfig<Scalar>(optimizerConfig(opt));
  const json& loss = comp.at("loss");
  if (loss.is_string())
    args.loss = {loss.get<std::string>()};
  else
    args.loss = loss.get<std::vector<std::string>>();
  if (comp.contains("metrics")) args.metrics = comp["metrics"].get<std::vector<std::string>>();
  model.compile(args);
  if (c.contains("metrics_names") && model.metricsNames() != c["metrics_names"])
    return "metricsNames " + json(model.metricsNames()).dump() + ", expected " +
           c["metrics_names"].dump();
  const auto x = tensorsFrom<Scalar>(c.at("data").at("x"));
  const auto y = tensorsFrom<Scalar>(c.at("data").at("y"));
  if (c.at("kind") == "train_on_batch") {
    const json& tob = c.at("train_on_batch");
    for (int call = 0; call < tob.at("calls").get<int>(); ++call) {
      const std::vector<double> got = model.trainOnBatch(x, y);
      const json& want = tob.contains("values") ? tob["values"][static_cast<std::size_t>(call)]
                                                : tob.at("losses")[static_cast<std::size_t>(call)];
      const std::vector<double> expected = want.is_array()
                                               ? want.get<std::vector<double>>()
                                               : std::vector<double>{want.get<double>()};
      if (got.size() != expected.size())
        return "trainOnBatch returned " + std::to_string(got.size()) + " values, expected " +
               std::to_string(expected.size());
      for (std::size_t k = 0; k < got.size(); ++k) {
        std::string e = compareValue(
            got[k], expected[k], tol,
            "trainOnBatch call " + std::to_string(call) + " value " + std::to_string(k));
        if (!e.empty()) return e;
      }
    }
  } else {
    const json& f = c.at("fit");
    recurrent::io::FitArgs<Scalar> fit;
    fit.epochs = f.value("epochs", 1);
    fit.batchSize = f.value("batchSize", 32);
    fit.shuffle = f.value("shuffle", true);
    fit.validationSplit = f.value("validationSplit", 0.0);
    fit.initialEpoch = f.value("initialEpoch", 0);
    if (c.contains("fit_validation_data"))
      fit.validationData.emplace(tensorsFrom<Scalar>(c["fit_validation_data"].at("x")),
                                 tensorsFrom<Scalar>(c["fit_validation_data"].at("y")));
    std::vector<std::vector<recurrent::io::Logs>> batches;
    recurrent::io::Callback record;
    record.onEpochBegin = [&](recurrent::Index, recurrent::io::Logs&) { batches.emplace_back(); };
    record.onBatchEnd = [&](recurrent::Index, recurrent::io::Logs& logs) {
      batches.back().push_back(logs);
    };
    fit.callbacks.push_back(record);
    const recurrent::io::History h = model.fit(x, y, fit);
    std::string e = compareHistory(h, c);
    if (e.empty()) e = compareBatchLogs(batches, c);
    if (!e.empty()) return e;
  }
  resetAt("after training");
  std::map<std::string, FlatTensor<Scalar>> weights;
  for (auto& w : model.getWeights()) weights[w.name] = std::move(w.value);
  for (const json& w : c.at("final_weights")) {
    const std::string name = w.at("name").get<std::string>();
    auto it = weights.find(name);
    if (it == weights.end()) return "the model has no weight '" + name + "'";
    std::string e = compareTensor(w, it->second, tol.at("abs").get<double>(),
                                  tol.at("rel").get<double>(), "final weight " + name);
    if (!e.empty()) return e;
  }
  std::string e = comparePredictions(model, c.at("predictions").at("x"),
                                     c.at("predictions").at("outputs"), tol, "prediction");
  if (!e.empty() || saveTo.empty()) return e;
  // The trained model as TF.js should load it, with our predictions for check_saved_models.js.
  const std::filesystem::path out =
      saveTo / (dir.filename().empty() ? dir.parent_path().filename() : dir.filename());
  model.save(out.string());
  model.resetStates();  // as TF.js's freshly loaded model (stateful cases)
  const auto x2 = tensorsFrom<Scalar>(c.at("predictions").at("x"));
  std::ofstream(out / "expected.json")
      << json{{"inputs", records(x2)}, {"outputs", records(model.predict(x2))}}.dump() << "\n";
  return "";
}

/// A saved model (`model.json` + `expected.json` + `tfjs_predictions.json`): what TF.js's
/// `loadLayersModel` + `predict` gave for the inputs must be what we give.
template <class Scalar>
std::string runSaved(const std::filesystem::path& dir) {
  std::ifstream in(dir / "tfjs_predictions.json");
  const json c = json::parse(in);
  auto model = recurrent::io::loadLayersModel<Scalar>((dir / "model.json").string());
  const json tol = {{"abs", 1e-5}, {"rel", 1e-4}};
  return comparePredictions(model, c.at("inputs"), c.at("outputs"), tol, "TF.js prediction");
}

}  // namespace

std::string runFitCase(const std::filesystem::path& dir, bool useDouble,
                       const std::filesystem::path& saveTo) {
  try {
    if (std::filesystem::exists(dir / "tfjs_predictions.json"))
      return useDouble ? runSaved<double>(dir) : runSaved<float>(dir);
    return useDouble ? run<double>(dir, saveTo) : run<float>(dir, saveTo);
  } catch (const std::exception& e) {
    return std::string("unexpected exception: ") + e.what();
  }
}

}  // namespace golden
