// recurrent_golden [--double] [--verbose] PATH...
//
// Replays TF.js golden cases (shared schema, see tests/golden/README.md) against the library and
// compares every output with the case's tolerance: |got - expected| <= abs + rel * |expected|.
// PATH is a case file or a directory of them (searched recursively). `grad` steps (gradient
// cases, ../shared/oracle/SCHEMA-train.md) run backward seeded with `output_weights` and compare
// the loss and every gradient with `grad_tolerance`; recorded `dropout_masks` are replayed as
// the call's masks. Checks `equal_to` twins (outputs and gradients)
// when both are present and the `expect_error` rules: the step TF.js fails at must throw the C++
// type mapped from the error's `kind`, and the message after its location prefix must start
// with (`match: prefix`) or equal (`match: exact`) TF.js's text, except for the documented
// deliberate differences (see expectedFor and tests/golden/README.md). Ends with
// "N passed, N failed"; exits non-zero on any failure.
#include "golden_fit.hpp"
#include "golden_onnx.hpp"
#include "golden_tensors.hpp"
#include <recurrent/io/layer_config.hpp>
#include <recurrent/recurrent.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;
using recurrent::Index;

namespace {

using golden::compareTensor;
using golden::tensorFrom;

struct CaseOutcome {
  bool ok = true;
  std::string message;
  std::vector<std::vector<std::vector<double>>> outputs;    // per call step: outputs' data
  std::vector<std::vector<std::vector<double>>> gradients;  // per grad step: every gradient
};

bool noOutputsExpected(const json& c) {
  if (!c.contains("expect_error")) return false;
  const std::string kind = c["expect_error"].value("kind", "");
  return kind == "unsupported_option" || kind == "tfjs_limitation";
}

// ---------------------------------------------------------------------------------------------
// expect_error: kind -> C++ exception type, and the message rule
// ---------------------------------------------------------------------------------------------

/// The most derived library exception class of `e`, for reports.
std::string typeName(const recurrent::Error& e) {
  using namespace recurrent;
  if (dynamic_cast<const ConfigError*>(&e) != nullptr) return "ConfigError";
  if (dynamic_cast<const ShapeError*>(&e) != nullptr) return "ShapeError";
  if (dynamic_cast<const WeightError*>(&e) != nullptr) return "WeightError";
  if (dynamic_cast<const ValueError*>(&e) != nullptr) return "ValueError";
  if (dynamic_cast<const StateError*>(&e) != nullptr) return "StateError";
  if (dynamic_cast<const FormatError*>(&e) != nullptr) return "FormatError";
  if (dynamic_cast<const IOError*>(&e) != nullptr) return "IOError";
  return "Error";
}

template <class E>
bool isA(const recurrent::Error& e) {
  return dynamic_cast<const E*>(&e) != nullptr;
}

/// The message without its location prefix ("LSTM 'rnn'.call: "): the text after the first ": ".
std::string messageText(const std::string& what) {
  const auto colon = what.find(": ");
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool isValueNotConfig(const recurrent::Error& e) {
  // A ValueError or its ShapeError; not a ConfigError or WeightError (those mean something else).
  return isA<recurrent::ValueError>(e) && !isA<recurrent::ConfigError>(e) &&
         !isA<recurrent::WeightError>(e);
}

struct KindType {
  const char* kind;
  const char* type;  ///< the C++ class, for reports
  bool (*matches)(const recurrent::Error&);
};

/// kind -> C++ exception type (tests/golden/README.md documents this table). `unsupported_option`
/// and `tfjs_limitation` are not here: for those nothing may throw.
const std::vector<KindType>& kindTypes() {
  using namespace recurrent;
  static const std::vector<KindType> kTable = {
      {"invalid_units", "ConfigError", isA<ConfigError>},
      {"unknown_activation", "ConfigError", isA<ConfigError>},
      {"invalid_merge_mode", "ConfigError", isA<ConfigError>},
      {"missing_cell", "ConfigError", isA<ConfigError>},
      {"input_rank", "ShapeError", isA<ShapeError>},
      {"input_shape", "ShapeError", isA<ShapeError>},
      {"initial_state_count", "ValueError (ShapeError from call)", isValueNotConfig},
      {"initial_state_shape", "ShapeError", isA<ShapeError>},
      {"not_stateful", "StateError", isA<StateError>},
  };
  return kTable;
}

/// What an `expect_error` requires of the exception.
struct Expected {
  std::string kind;
  std::string type;  ///< for reports
  bool (*matches)(const recurrent::Error&) = nullptr;
  std::string message;  ///< the text our message (after its location prefix) must carry
  std::string match;    ///< "exact" or "prefix"
  std::string rule;     ///< empty: TF.js's text as recorded; else the deliberate difference
};

std::vector<Index> shapeOf(const json& tensor) {
  std::vector<Index> shape;
  for (const auto& d : tensor.at("shape")) shape.push_back(d.get<Index>());
  return shape;
}

/// The batch size fixed before step `at`: the last earlier call's, or resetStates(values)'.
Index previousBatch(const json& c, long at) {
  const json& steps = c.at("steps");
  for (long s = at - 1; s >= 0; --s) {
    const json& step = steps[static_cast<std::size_t>(s)];
    if (step.at("op") == "call") return shapeOf(step.at("inputs").at("x"))[0];
    if (step.contains("states") && !step["states"].empty()) return shapeOf(step["states"][0])[0];
  }
  return -1;
}

/// `resolved.state_size`; for Bidirectional forward's then backward's (`half` = forward's count).
std::vector<Index> stateWidths(const json& c, std::size_t& half) {
  std::vector<Index> widths;
  const json& r = c.value("resolved", json::object());
  if (r.contains("state_size")) {
    for (const auto& w : r["state_size"]) widths.push_back(w.get<Index>());
    half = widths.size();
  } else if (r.contains("forward") && r.contains("backward")) {
    for (const auto& w : r["forward"].at("state_size")) widths.push_back(w.get<Index>());
    half = widths.size();
    for (const auto& w : r["backward"].at("state_size")) widths.push_back(w.get<Index>());
  }
  return widths;
}

/// The expectation of case `c` (error at step `at`, -1 = construction). Per-kind rules where we
/// deliberately differ from TF.js (docs/tfjs-differences.md, "Error messages"):
///  - input_shape, a stateful layer called with another batch size: StateError (errors.hpp),
///    "stateful layer: expected batch size P, got B";
///  - initial_state_count, TF.js's first-call text ("An initialState was passed that is not
///    compatible with cell.stateSize. Received stateSpec=[object Object]; ..."): its after-build
///    text "RNN Layer has N state(s) but was passed M initial state(s).", which we give at every
///    call;
///  - initial_state_shape (TF.js: that first-call text, an internal matMul/broadcast failure, or
///    resetStates' "State i is incompatible with layer ..."): one text for every call and
///    resetStates, "state i: expected shape [B, w], got [r, c]", derived from the case.
Expected expectedFor(const json& c, long at) {
  const json& err = c.at("expect_error");
  Expected x;
  x.kind = err.value("kind", "");
  x.message = err.value("message", "");
  x.match = err.value("match", "exact");
  for (const auto& k : kindTypes())
    if (x.kind == k.kind) {
      x.type = k.type;
      x.matches = k.matches;
    }
  if (x.matches == nullptr || at < 0) return x;
  const json& step = c.at("steps").at(static_cast<std::size_t>(at));
  const bool isCall = step.at("op") == "call";
  const Index before = previousBatch(c, at);

  if (x.kind == "input_shape" && isCall &&
      c.value("resolved", json::object()).value("stateful", false)) {
    const Index batch = shapeOf(step.at("inputs").at("x"))[0];
    if (before >= 0 && batch != before) {
      x.type = "StateError";
      x.matches = isA<recurrent::StateError>;
      x.message = "stateful layer: expected batch size " + std::to_string(before) + ", got " +
                  std::to_string(batch);
      x.match = "exact";
      x.rule = "a stateful layer's batch size change is a StateError with our text";
    }
  }
  const json none = json::array();
  const json& given =
      isCall ? step.at("inputs").value("initial_state", none) : step.value("states", none);
  if (x.kind == "initial_state_count" &&
      startsWith(x.message,
                 "An initialState was passed that is not compatible with cell.stateSize.")) {
    std::size_t half = 0;
    const std::size_t n = stateWidths(c, half).size();
    x.message = "RNN Layer has " + std::to_string(n) + " state(s) but was passed " +
                std::to_string(given.size()) + " initial state(s).";
    x.match = "exact";
    x.rule = "TF.js's first-call text shows JS internals; ours is its after-build text";
  }
  if (x.kind == "initial_state_shape") {
    std::size_t half = 0;
    const std::vector<Index> widths = stateWidths(c, half);
    const Index batch = isCall
                            ? shapeOf(step.at("inputs").at("x"))[0]
                            : (before >= 0 ? before : (given.empty() ? -1 : shapeOf(given[0])[0]));
    x.rule = "one text for every state shape error, derived from the case";
    x.match = "exact";
    x.message = "(cannot derive the wrong state from the case)";
    for (std::size_t i = 0; i < given.size() && i < widths.size(); ++i) {
      const std::vector<Index> got = shapeOf(given[i]);
      const std::vector<Index> want{batch, widths[i]};
      if (got != want) {
        const std::size_t index = i < half ? i : i - half;  // Bidirectional: per direction
        x.message = "state " + std::to_string(index) + ": expected shape " +
                    recurrent::detail::shapeString(want) + ", got " +
                    recurrent::detail::shapeString(got);
        break;
      }
    }
  }
  return x;
}

/// Our text carries TF.js's: "prefix": starts with it; "exact": equals it, or is it followed by
/// our detail, a parenthesis " (...)" or, after a text that ends a sentence, another sentence.
bool carries(const std::string& text, const std::string& tfjs, const std::string& match) {
  if (!startsWith(text, tfjs)) return false;
  if (match == "prefix" || text.size() == tfjs.size()) return true;
  const std::string rest = text.substr(tfjs.size());
  return startsWith(rest, " (") || (!tfjs.empty() && tfjs.back() == '.' && rest[0] == ' ');
}

/// "kind K: expected T with message equal to \"...\"" (for failure reports).
std::string describe(const Expected& x) {
  std::string out = "kind " + x.kind + ": expected " + (x.type.empty() ? "?" : x.type) +
                    " with message " + (x.match == "prefix" ? "starting with" : "equal to") +
                    " \"" + x.message + "\"";
  if (!x.rule.empty()) out += " (deliberate difference: " + x.rule + ")";
  return out;
}

/// Empty if `e` is what the case expects, otherwise why not: kind, expected type and message,
/// and what was thrown.
std::string checkError(const Expected& x, const recurrent::Error& e) {
  const std::string thrown = "; thrown " + typeName(e) + ": " + e.what();
  if (x.matches == nullptr) return "unknown expect_error kind \"" + x.kind + "\"" + thrown;
  if (x.match != "exact" && x.match != "prefix")
    return "unknown expect_error match \"" + x.match + "\"" + thrown;
  if (!x.matches(e)) return "wrong exception type (" + describe(x) + ")" + thrown;
  if (!carries(messageText(e.what()), x.message, x.match))
    return "wrong message (" + describe(x) + ")" + thrown;
  return "";
}

/// A `grad` step (SCHEMA-train.md 1.1): seeds backward with `output_weights` (∂L/∂outputs of
/// L = Σ outputs ⊙ output_weights) and compares L, ∂L/∂x, ∂L/∂(initial states) and every
/// ∂L/∂weight with `grad_tolerance`. The gradients are kept for `equal_to` twins.
template <class Scalar>
std::string checkGradients(const json& c, const json& step, recurrent::AnyLayer<Scalar>& layer,
                           const std::vector<recurrent::FlatTensor<Scalar>>& outputs,
                           CaseOutcome& out) {
  const json& tol = c.contains("grad_tolerance") ? c["grad_tolerance"] : c.at("tolerance");
  const double absTol = tol.at("abs").get<double>(), relTol = tol.at("rel").get<double>();
  const json& weightsOfOutputs = step.at("output_weights");
  if (weightsOfOutputs.size() != outputs.size())
    return "expected " + std::to_string(weightsOfOutputs.size()) +
           " output_weights, the layer has " + std::to_string(outputs.size()) + " outputs";
  std::vector<recurrent::FlatTensor<Scalar>> dOutputs;
  double loss = 0.0;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    dOutputs.push_back(tensorFrom<Scalar>(weightsOfOutputs[k]));
    if (dOutputs[k].shape != outputs[k].shape)
      return "output_weights " + std::to_string(k) + ": shape " +
             recurrent::detail::shapeString(dOutputs[k].shape) + " vs output " +
             recurrent::detail::shapeString(outputs[k].shape);
    for (std::size_t i = 0; i < outputs[k].data.size(); ++i)
      loss += static_cast<double>(outputs[k].data[i]) * static_cast<double>(dOutputs[k].data[i]);
  }
  const double expectedLoss = step.at("loss").get<double>();
  if (!(std::abs(loss - expectedLoss) <= absTol + relTol * std::abs(expectedLoss))) {
    std::ostringstream os;
    os.precision(9);
    os << "loss: got " << loss << ", expected " << expectedLoss;
    return os.str();
  }
  recurrent::LayerGradients<Scalar> g;
  layer.backward(dOutputs, g);
  const json& expected = step.at("gradients");
  std::vector<std::vector<double>> kept;
  auto keep = [&](const recurrent::FlatTensor<Scalar>& t) {
    kept.emplace_back(t.data.begin(), t.data.end());
  };
  if (!expected.at("x").is_null()) {
    const std::string why = compareTensor(expected["x"], g.inputs, absTol, relTol, "dx");
    if (!why.empty()) return why;
  }
  keep(g.inputs);
  if (expected.contains("initial_state")) {
    const json& e = expected["initial_state"];
    if (e.size() != g.initialState.size())
      return "expected " + std::to_string(e.size()) + " initial-state gradients, got " +
             std::to_string(g.initialState.size());
    for (std::size_t k = 0; k < e.size(); ++k) {
      const std::string why = compareTensor(e[k], g.initialState[k], absTol, relTol,
                                            "d initial_state " + std::to_string(k));
      if (!why.empty()) return why;
      keep(g.initialState[k]);
    }
  }
  const json& ew = expected.at("weights");
  if (ew.size() != g.weights.size())
    return "expected " + std::to_string(ew.size()) + " weight gradients, got " +
           std::to_string(g.weights.size());
  for (std::size_t k = 0; k < ew.size(); ++k) {
    const std::string why =
        compareTensor(ew[k], g.weights[k], absTol, relTol,
                      "d " + ew[k].value("name", "weight " + std::to_string(k)));
    if (!why.empty()) return why;
    keep(g.weights[k]);
  }
  out.gradients.push_back(std::move(kept));
  return "";
}

template <class Scalar>
CaseOutcome runCase(const json& c) {
  CaseOutcome out;
  const bool hasError = c.contains("expect_error") && !noOutputsExpected(c);
  const json err = hasError ? c["expect_error"] : json();
  const bool errAtConstruct = hasError && err["at"].is_string();
  const long errStep = hasError && err["at"].is_number() ? err["at"].get<long>() : -1;
  const Expected expectation = hasError ? expectedFor(c, errStep) : Expected{};
  const double absTol = c.at("tolerance").at("abs").get<double>();
  const double relTol = c.at("tolerance").at("rel").get<double>();
  auto fail = [&](const std::string& m) {
    out.ok = false;
    out.message = m;
    return out;
  };

  std::optional<recurrent::AnyLayer<Scalar>> layer;
  try {
    layer.emplace(recurrent::io::layerFromConfig<Scalar>(c.at("layer")));
  } catch (const recurrent::Error& e) {
    if (!errAtConstruct)
      return fail(std::string("construction threw: ") + e.what() +
                  (hasError
                       ? " (at step " + std::to_string(errStep) + ": " + describe(expectation) + ")"
                       : ""));
    const std::string why = checkError(expectation, e);  // fails where TF.js fails: the same way?
    if (why.empty()) return out;
    return fail("construction: " + why);
  } catch (const std::exception& e) {
    return fail(std::string("construction threw a non-recurrent exception: ") + e.what() +
                (errAtConstruct ? " (" + describe(expectation) + ")" : ""));
  }
  if (errAtConstruct) return fail("construction: nothing thrown (" + describe(expectation) + ")");

  const json& steps = c.at("steps");
  const json& weights = c.at("weights");
  if (!weights.empty()) {
    // TF.js builds on a throw-away call on the first call's input shape.
    std::vector<Index> shape;
    for (const auto& step : steps)
      if (step.at("op") == "call" || step.at("op") == "grad") {
        for (const auto& d : step.at("inputs").at("x").at("shape")) shape.push_back(d.get<Index>());
        break;
      }
    try {
      layer->build(shape);
      std::vector<recurrent::FlatTensor<Scalar>> values;
      for (const auto& w : weights) values.push_back(tensorFrom<Scalar>(w));
      layer->setWeights(values);
      if (layer->stateful()) layer->resetStates();
    } catch (const recurrent::Error& e) {
      return fail(std::string("build/setWeights threw: ") + e.what());
    }
  }

  for (std::size_t s = 0; s < steps.size(); ++s) {
    const json& step = steps[s];
    const bool expectThrow = static_cast<long>(s) == errStep;
    try {
      if (step.at("op") == "reset_states") {
        if (step.contains("states")) {
          std::vector<recurrent::FlatTensor<Scalar>> states;
          for (const auto& st : step["states"]) states.push_back(tensorFrom<Scalar>(st));
          layer->resetStates(states);
        } else {
          layer->resetStates();
        }
        out.outputs.emplace_back();
      } else {
        const bool grad = step.at("op") == "grad";
        const json& in = step.at("inputs");
        recurrent::LayerCallArgs<Scalar> args;
        if (in.contains("mask")) args.mask = tensorFrom<Scalar>(in["mask"]);
        if (in.contains("initial_state"))
          for (const auto& st : in["initial_state"])
            args.initialState.push_back(tensorFrom<Scalar>(st));
        args.training = step.value("training", false);
        args.record = grad;
        // TF.js's own dropout masks of this call (SCHEMA-train.md 1.3), replayed exactly.
        if (step.contains("dropout_masks"))
          for (const auto& m : step["dropout_masks"]) {
            recurrent::LayerDropoutMasks<Scalar> masks;
            masks.cell = m.at("cell").get<Index>();
            if (m.contains("input")) masks.input = tensorFrom<Scalar>(m["input"]);
            if (m.contains("recurrent")) masks.recurrent = tensorFrom<Scalar>(m["recurrent"]);
            args.dropoutMasks.push_back(masks);
          }
        const auto got = layer->apply(tensorFrom<Scalar>(in.at("x")), args);
        std::vector<std::vector<double>> gotData;
        for (const auto& g : got) gotData.emplace_back(g.data.begin(), g.data.end());
        out.outputs.push_back(gotData);
        if (!expectThrow && step.contains("outputs")) {
          const json& expected = step["outputs"];
          if (expected.size() != got.size())
            return fail("step " + std::to_string(s) + ": expected " +
                        std::to_string(expected.size()) + " outputs, got " +
                        std::to_string(got.size()));
          for (std::size_t o = 0; o < got.size(); ++o) {
            const std::string why = compareTensor(
                expected[o], got[o], absTol, relTol,
                "output " + std::to_string(o) + " (" + expected[o].value("name", "") + ")");
            if (!why.empty()) return fail("step " + std::to_string(s) + " " + why);
          }
        }
        if (grad && !expectThrow) {
          const std::string why = checkGradients<Scalar>(c, step, *layer, got, out);
          if (!why.empty()) return fail("step " + std::to_string(s) + " (grad) " + why);
        }
      }
      if (expectThrow)
        return fail("step " + std::to_string(s) + ": nothing thrown (" + describe(expectation) +
                    ")");
    } catch (const recurrent::Error& e) {
      if (!expectThrow)
        return fail(
            "step " + std::to_string(s) + " threw: " + e.what() +
            (hasError ? " (at " + err["at"].dump() + ": " + describe(expectation) + ")" : ""));
      const std::string why = checkError(expectation, e);  // fails where TF.js fails: the same way?
      if (why.empty()) return out;
      return fail("step " + std::to_string(s) + ": " + why);
    } catch (const std::exception& e) {
      return fail("step " + std::to_string(s) + " threw a non-recurrent exception: " + e.what() +
                  (expectThrow ? " (" + describe(expectation) + ")" : ""));
    }
  }
  return out;
}

/// An ONNX case: `<name>.json` beside `<name>.onnx`.
bool isOnnxCase(const fs::path& p) {
  fs::path model = p;
  return p.extension() == ".json" && fs::exists(model.replace_extension(".onnx"));
}

/// Case files (`*.json`; ONNX cases into `onnx`) and fit folders (holding `train.json`) under
/// `p`; an `index.json` (a directory's list of names) is not a case.
void collect(const fs::path& p, std::vector<fs::path>& files, std::vector<fs::path>& fits,
             std::vector<fs::path>& onnx) {
  if (!fs::is_directory(p)) {
    (isOnnxCase(p) ? onnx : files).push_back(p);
    return;
  }
  if (fs::exists(p / "train.json") || fs::exists(p / "tfjs_predictions.json")) {
    fits.push_back(p);
    return;
  }
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(p)) entries.push_back(e.path());
  for (const auto& e : entries) {
    if (fs::is_directory(e))
      collect(e, files, fits, onnx);
    else if (e.extension() == ".json" && e.filename() != "index.json")
      (isOnnxCase(e) ? onnx : files).push_back(e);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool useDouble = false, verbose = false;
  fs::path saveTo;
  std::vector<fs::path> files, fits, onnx;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--double") {
      useDouble = true;
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--save-trained" && i + 1 < argc) {
      saveTo = argv[++i];
    } else if (a == "--help" || a == "-h") {
      std::cout
          << "usage: recurrent_golden [--double] [--verbose] [--save-trained DIR] PATH...\n"
             "  PATH: a case file, an ONNX case (<name>.json beside <name>.onnx), a fit folder\n"
             "  (holding train.json), a saved model (holding tfjs_predictions.json) or a\n"
             "  directory of them. --save-trained: save each\n"
             "  trained fit case to DIR/<name> with expected.json (for\n"
             "  tools/oracle/check_saved_models.js)\n";
      return 0;
    } else {
      if (!fs::exists(a)) {
        std::cerr << "recurrent_golden: no such file or directory: " << a << "\n";
        return 2;
      }
      collect(a, files, fits, onnx);
    }
  }
  if (files.empty() && fits.empty() && onnx.empty()) {
    std::cerr << "recurrent_golden: no case files or fit folders given\n";
    return 2;
  }
  std::sort(files.begin(), files.end());
  std::sort(fits.begin(), fits.end());
  std::sort(onnx.begin(), onnx.end());

  // Keyed by (directory, name): directories may hold cases of the same name (twins are looked up
  // in their own directory).
  using Key = std::pair<std::string, std::string>;
  std::map<Key, json> cases;
  std::map<Key, CaseOutcome> outcomes;
  bool severalDirs = false;
  for (const auto& f : files) severalDirs |= f.parent_path() != files.front().parent_path();
  int passed = 0, failed = 0;
  for (const auto& f : files) {
    json c;
    try {
      std::ifstream in(f);
      c = json::parse(in);
    } catch (const std::exception& e) {
      std::cout << "FAIL " << f.filename().string() << ": cannot parse: " << e.what() << "\n";
      ++failed;
      continue;
    }
    const std::string name = c.value("name", f.stem().string());
    CaseOutcome o;
    try {
      o = useDouble ? runCase<double>(c) : runCase<float>(c);
    } catch (const std::exception& e) {
      o.ok = false;
      o.message = std::string("unexpected exception: ") + e.what();
    }
    const Key key{f.parent_path().string(), name};
    outcomes[key] = o;
    cases[key] = std::move(c);
  }
  // equal_to twins: our outputs (and gradients) must be identical to the twin's.
  for (auto& [key, o] : outcomes) {
    const json& c = cases[key];
    const std::string name = severalDirs ? key.first + "/" + key.second : key.second;
    if (o.ok && c.contains("equal_to")) {
      const std::string twin = c["equal_to"];
      auto it = outcomes.find(Key{key.first, twin});
      if (it != outcomes.end() && it->second.ok && it->second.outputs != o.outputs) {
        o.ok = false;
        o.message = "outputs differ from its equal_to twin " + twin;
      } else if (it != outcomes.end() && it->second.ok && it->second.gradients != o.gradients) {
        o.ok = false;
        o.message = "gradients differ from its equal_to twin " + twin;
      }
    }
    if (o.ok) {
      ++passed;
      if (verbose) std::cout << "ok   " << name << "\n";
    } else {
      ++failed;
      std::cout << "FAIL " << name << ": " << o.message << "\n";
    }
  }
  auto tally = [&](const std::string& name, const std::string& message) {
    if (message.empty()) {
      ++passed;
      if (verbose) std::cout << "ok   " << name << "\n";
    } else {
      ++failed;
      std::cout << "FAIL " << name << ": " << message << "\n";
    }
  };
  // Fit folders (SCHEMA-train.md §4).
  for (const auto& dir : fits)
    tally(fits.size() > 1 && dir.parent_path() != fits.front().parent_path()
              ? dir.string()
              : dir.filename().string(),
          golden::runFitCase(dir, useDouble, saveTo));
  // ONNX cases (oracle/onnx/README.md): onnxruntime's outputs or its refusals.
  bool onnxDirs = false;
  for (const auto& f : onnx) onnxDirs |= f.parent_path() != onnx.front().parent_path();
  for (const auto& f : onnx)
    tally(onnxDirs ? f.string() : f.stem().string(), golden::runOnnxCase(f, useDouble));
  std::cout << (useDouble ? "double" : "float") << ": " << passed << " passed, " << failed
            << " failed\n";
  return failed == 0 ? 0 : 1;
}
