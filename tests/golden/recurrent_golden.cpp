// recurrent_golden [--double] [--verbose] PATH...
//
// Replays TF.js golden cases (shared schema, see tests/golden/README.md) against the library and
// compares every output with the case's tolerance: |got - expected| <= abs + rel * |expected|.
// PATH is a case file or a directory of them (searched recursively). Checks `equal_to` twins
// when both are present and the `expect_error` rules. Ends with "N passed, N failed"; exits
// non-zero on any failure.
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
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;
using recurrent::Index;

namespace {

struct CaseOutcome {
  bool ok = true;
  std::string message;
  std::vector<std::vector<std::vector<double>>> outputs;  // per call step: outputs' data
};

template <class Scalar>
recurrent::FlatTensor<Scalar> tensorFrom(const json& j) {
  recurrent::FlatTensor<Scalar> t;
  for (const auto& d : j.at("shape")) t.shape.push_back(d.get<Index>());
  for (const auto& v : j.at("data")) {
    // The data are float32 values written as shortest round-trip decimals.
    const auto f = static_cast<float>(v.get<double>());
    t.data.push_back(static_cast<Scalar>(f));
  }
  return t;
}

bool noOutputsExpected(const json& c) {
  if (!c.contains("expect_error")) return false;
  const std::string kind = c["expect_error"].value("kind", "");
  return kind == "unsupported_option" || kind == "tfjs_limitation";
}

template <class Scalar>
CaseOutcome runCase(const json& c) {
  CaseOutcome out;
  const bool hasError = c.contains("expect_error") && !noOutputsExpected(c);
  const json err = hasError ? c["expect_error"] : json();
  const bool errAtConstruct = hasError && err["at"].is_string();
  const long errStep = hasError && err["at"].is_number() ? err["at"].get<long>() : -1;
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
    if (errAtConstruct) return out;  // fails where TF.js fails
    return fail(std::string("construction threw: ") + e.what());
  }
  if (errAtConstruct)
    return fail("expected an error at construction (" + err.value("kind", "") + ": " +
                err.value("message", "") + "), none thrown");

  const json& steps = c.at("steps");
  const json& weights = c.at("weights");
  if (!weights.empty()) {
    // TF.js builds on a throw-away call on the first call's input shape.
    std::vector<Index> shape;
    for (const auto& step : steps)
      if (step.at("op") == "call") {
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
        const json& in = step.at("inputs");
        recurrent::LayerCallArgs<Scalar> args;
        if (in.contains("mask")) args.mask = tensorFrom<Scalar>(in["mask"]);
        if (in.contains("initial_state"))
          for (const auto& st : in["initial_state"])
            args.initialState.push_back(tensorFrom<Scalar>(st));
        args.training = step.value("training", false);
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
            const auto exp = tensorFrom<double>(expected[o]);
            if (exp.shape != got[o].shape)
              return fail("step " + std::to_string(s) + " output " + std::to_string(o) + " (" +
                          expected[o].value("name", "") + "): expected shape " +
                          recurrent::detail::shapeString(exp.shape) + ", got " +
                          recurrent::detail::shapeString(got[o].shape));
            double worst = 0.0;
            std::size_t worstAt = 0;
            bool bad = false;
            for (std::size_t k = 0; k < exp.data.size(); ++k) {
              const double g = static_cast<double>(got[o].data[k]);
              const double e = exp.data[k];
              const double excess = std::abs(g - e) - (absTol + relTol * std::abs(e));
              if (!(excess <= 0.0) && (bad ? excess > worst : true)) {
                bad = true;
                worst = excess;
                worstAt = k;
              }
            }
            if (bad) {
              std::ostringstream os;
              os.precision(9);
              os << "step " << s << " output " << o << " (" << expected[o].value("name", "")
                 << "): element " << worstAt << " got " << got[o].data[worstAt] << ", expected "
                 << exp.data[worstAt] << " (|diff| "
                 << std::abs(static_cast<double>(got[o].data[worstAt]) - exp.data[worstAt])
                 << " exceeds the tolerance by " << worst << ")";
              return fail(os.str());
            }
          }
        }
      }
      if (expectThrow)
        return fail("step " + std::to_string(s) + ": expected an error (" + err.value("kind", "") +
                    ": " + err.value("message", "") + "), none thrown");
    } catch (const recurrent::Error& e) {
      if (expectThrow) return out;  // fails where TF.js fails
      return fail("step " + std::to_string(s) + " threw: " + e.what());
    }
  }
  return out;
}

void collect(const fs::path& p, std::vector<fs::path>& files) {
  if (fs::is_directory(p)) {
    for (const auto& e : fs::recursive_directory_iterator(p))
      if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  } else {
    files.push_back(p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool useDouble = false, verbose = false;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--double") {
      useDouble = true;
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << "usage: recurrent_golden [--double] [--verbose] PATH...\n";
      return 0;
    } else {
      if (!fs::exists(a)) {
        std::cerr << "recurrent_golden: no such file or directory: " << a << "\n";
        return 2;
      }
      collect(a, files);
    }
  }
  if (files.empty()) {
    std::cerr << "recurrent_golden: no case files given\n";
    return 2;
  }
  std::sort(files.begin(), files.end());

  std::map<std::string, json> cases;
  std::map<std::string, CaseOutcome> outcomes;
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
    outcomes[name] = o;
    cases[name] = std::move(c);
  }
  // equal_to twins: our outputs must be identical to the twin's.
  for (auto& [name, o] : outcomes) {
    const json& c = cases[name];
    if (o.ok && c.contains("equal_to")) {
      const std::string twin = c["equal_to"];
      auto it = outcomes.find(twin);
      if (it != outcomes.end() && it->second.ok && it->second.outputs != o.outputs) {
        o.ok = false;
        o.message = "outputs differ from its equal_to twin " + twin;
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
  std::cout << (useDouble ? "double" : "float") << ": " << passed << " passed, " << failed
            << " failed\n";
  return failed == 0 ? 0 : 1;
}
