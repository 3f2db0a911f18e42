// recurrent-predict: runs a TF.js / Keras layers model (model.json + weight shards) or an ONNX
// model (.onnx) on inputs given as JSON or .npy files and prints the outputs as JSON.
// `recurrent-predict --help` explains the inputs and options.
//
// Exit status: 0 success, 1 an error (message with the exception kind on stderr) or an --expect
// mismatch, 2 a usage error. Options are parsed by CLI11.
#include "cli_common.hpp"
#include "inputs.hpp"
#include <recurrent/io/onnx.hpp>
#include <recurrent/io/tfjs.hpp>
#include <recurrent/version.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using nlohmann::json;
using recurrent::Index;

constexpr const char* kProgram = "recurrent-predict";

constexpr const char* kSynopsis = "[options] MODEL.json|MODEL.onnx [INPUT...]";

constexpr const char* kDescription =
    "Loads a TF.js layers model (model.json + the weight shards it names, as saved by TF.js or\n"
    "the tfjs converter) or an ONNX model (a name ending in .onnx: LSTM/GRU/RNN graphs, see\n"
    "docs/import-onnx.md), runs it on the inputs and prints\n"
    "  {\"outputs\": [{\"name\": ..., \"shape\": [...], \"data\": [...]}, ...]}\n"
    "to stdout (names: the model's output names; data row-major; non-finite values as null).";

constexpr const char* kFooter =
    "INPUT is either\n"
    "  a JSON file {\"inputs\": [{\"name\": ..., \"shape\": [...], \"data\": [...]}, ...]}\n"
    "    (\"name\" optional: named inputs go to the model input of that name, the others fill\n"
    "    the remaining inputs in order), or\n"
    "  a .npy file (NumPy format 1.0/2.0/3.0, C order, dtype <f4 <f8 <i4 <i8 |u1 |i1 <u2 <i2)\n"
    "    holding one tensor; one file per model input, in model input order.\n"
    "Files are told apart by content (the NumPy magic), not by name; they can be mixed.\n"
    "ONNX models: one tensor per graph input (in graph order, or by name); integer inputs\n"
    "(sequence_lens) take integral values. --summary lists the graph inputs and outputs.\n"
    "\n"
    "--time: a warm-up run, then at least 10 runs and 0.5 s (exactly N with --repeat N);\n"
    "  prints the median/min/mean latency to stderr.\n"
    "--expect FILE: FILE is {\"outputs\": [...]} or a reference.json {\"calls\": [...]} whose\n"
    "  first call with outputs is used; each value must be within 1e-5 + 1e-4*|expected|, else\n"
    "  exit 1 with the first mismatch on stderr.\n"
    "\n"
    "Stateful models: the printed outputs come from the first predict on the fresh model; with\n"
    "--time, states are reset before every timed run.\n"
    "Exit status: 0 success, 1 error or --expect mismatch, 2 usage error.\n";

using recurrent_cli::UsageError;

struct Options {
  std::string model;
  std::vector<std::string> inputs;
  std::string expect;
  bool summary = false;
  bool time = false;
  bool useDouble = false;
  int threads = 1;
  long repeat = 0;  ///< 0 = at least 10 runs and 0.5 s
};

long parseCount(const std::string& option, const std::string& text, long max) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || end == nullptr || *end != '\0' || errno != 0 || v < 1 || v > max)
    throw UsageError(option + " expects an integer from 1 to " + std::to_string(max) + ", got '" +
                     text + "'");
  return v;
}

/// The command line (CLI11 declares it; `check` finishes what CLI11 does not check).
struct CommandLine {
  CLI::App app{kDescription, kProgram};
  Options o;
  std::vector<std::string> positional;
  std::string threads, repeat;

  CommandLine() {
    recurrent_cli::useFormatter(app, kSynopsis);
    app.footer(kFooter);
    app.set_version_flag("--version",
                         std::string(kProgram) + " (recurrent " RECURRENT_VERSION_STRING ")",
                         "the library version");
    app.add_flag("--summary", o.summary,
                 "print model.summary() (to stdout without INPUT, else to stderr)");
    app.add_flag("--double", o.useDouble, "compute in double instead of float");
    app.add_option("--threads", threads, "helper threads of every recurrent layer (default 1)")
        ->type_name("N");
    app.add_flag("--time", o.time, "after the printed predict, time predict (see below)");
    app.add_option("--repeat", repeat, "with --time: exactly N timed runs")->type_name("N");
    app.add_option("--expect", o.expect, "compare the outputs with FILE (see below)")
        ->type_name("FILE");
    app.add_option("MODEL INPUT...", positional, "the model, then the input files")->type_name("");
  }

  void check() {
    if (app.count("--threads") != 0)
      o.threads = static_cast<int>(parseCount("--threads", threads, 1024));
    if (app.count("--repeat") != 0) o.repeat = parseCount("--repeat", repeat, 1000000000L);
    if (app.count("--expect") != 0 && o.expect.empty())
      throw UsageError("--expect needs a file name");
    if (positional.empty()) throw UsageError("no MODEL.json or MODEL.onnx given");
    o.model = positional[0];
    o.inputs.assign(positional.begin() + 1, positional.end());
    if (o.inputs.empty() && !o.summary)
      throw UsageError("no INPUT given (an input file is needed unless --summary)");
    if (o.inputs.empty() && (o.time || !o.expect.empty()))
      throw UsageError(std::string(o.time ? "--time" : "--expect") + " needs INPUT");
    if (o.repeat != 0 && !o.time) throw UsageError("--repeat only applies with --time");
  }
};

// ---------------------------------------------------------------------------------------------
// Input files (parsed by inputs.hpp)
// ---------------------------------------------------------------------------------------------

using recurrent_predict::formatError;
using recurrent_predict::parseJsonFile;
using recurrent_predict::RawTensor;
using recurrent_predict::readFile;
using recurrent_predict::shapeText;
using recurrent_predict::tensorFromJson;

std::vector<RawTensor> readInputFile(const std::string& path) {
  return recurrent_predict::readInputBytes(readFile(path, "input file"), path);
}

// ---------------------------------------------------------------------------------------------
// Output, comparison, timing
// ---------------------------------------------------------------------------------------------

template <class Scalar>
void appendNumber(std::string& out, Scalar v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, std::is_same_v<Scalar, float> ? "%.9g" : "%.17g",
                              static_cast<double>(v));
  out.append(buf, static_cast<std::size_t>(n));
}

template <class Scalar>
std::string outputsJson(const std::vector<recurrent::FlatTensor<Scalar>>& outputs,
                        const std::vector<std::string>& names) {
  std::string s = "{\"outputs\": [";
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    s += o ? ",\n  " : "\n  ";
    s +=
        "{\"name\": " + json(o < names.size() ? names[o] : std::string()).dump() + ", \"shape\": [";
    for (std::size_t i = 0; i < outputs[o].shape.size(); ++i)
      s += (i ? ", " : "") + std::to_string(outputs[o].shape[i]);
    s += "], \"data\": [";
    for (std::size_t i = 0; i < outputs[o].data.size(); ++i) {
      if (i) s += ", ";
      appendNumber(s, outputs[o].data[i]);
    }
    s += "]}";
  }
  s += outputs.empty() ? "]}\n" : "\n]}\n";
  return s;
}

/// The expected outputs of an --expect file.
json expectedOutputs(const std::string& path) {
  const json j = parseJsonFile(readFile(path, "--expect file"), path);
  const std::string origin = "'" + path + "'";
  if (j.is_object() && j.contains("outputs") && j["outputs"].is_array()) return j["outputs"];
  if (j.is_object() && j.contains("calls") && j["calls"].is_array())
    for (const json& call : j["calls"])
      if (call.is_object() && call.contains("outputs") && call["outputs"].is_array())
        return call["outputs"];
  formatError(origin, "expected {\"outputs\": [...]} or {\"calls\": [{\"outputs\": [...]}, ...]}");
}

/// "" if every output matches, else the first mismatch. `worst` = largest error / tolerance.
template <class Scalar>
std::string compareOutputs(const std::vector<recurrent::FlatTensor<Scalar>>& got, const json& want,
                           const std::string& path, double& worst) {
  if (got.size() != want.size())
    return "the model gives " + std::to_string(got.size()) + " output(s), '" + path + "' has " +
           std::to_string(want.size());
  for (std::size_t o = 0; o < got.size(); ++o) {
    const std::string at = "output " + std::to_string(o);
    const RawTensor w =
        tensorFromJson(want[o], "'" + path + "' outputs[" + std::to_string(o) + "]");
    if (got[o].shape != w.shape)
      return at + ": shape " + shapeText(got[o].shape) + ", expected " + shapeText(w.shape);
    for (std::size_t i = 0; i < w.data.size(); ++i) {
      const double g = static_cast<double>(got[o].data[i]);
      const double e = w.data[i];
      if (std::isnan(e)) {  // null: any non-finite value
        if (std::isfinite(g))
          return at + " element " + std::to_string(i) + ": got " + std::to_string(g) +
                 ", expected a non-finite value (null)";
        continue;
      }
      const double err = std::abs(g - e);
      const double tol = 1e-5 + 1e-4 * std::abs(e);
      if (!(err <= tol)) {
        char buf[200];
        std::snprintf(buf, sizeof buf, " element %zu: got %.9g, expected %.9g (error %.3g > %.3g)",
                      i, g, e, err, tol);
        return at + buf;
      }
      worst = std::max(worst, err / tol);
    }
  }
  return "";
}

/// "12.3 us", "4.56 ms", "1.23 s" from milliseconds.
std::string duration(double ms) {
  char buf[40];
  if (ms < 1)
    std::snprintf(buf, sizeof buf, "%.3g us", 1e3 * ms);
  else if (ms < 1e3)
    std::snprintf(buf, sizeof buf, "%.3g ms", ms);
  else
    std::snprintf(buf, sizeof buf, "%.3g s", 1e-3 * ms);
  return buf;
}

/// --time: `predict()` timed after a warm-up (`reset()` before every run).
template <class Scalar, class Predict, class Reset>
void timePredict(Predict&& predict, Reset&& reset, const Options& o) {
  using Clock = std::chrono::steady_clock;
  reset();
  (void)predict();  // warm-up
  std::vector<double> ms;
  double total = 0;
  while (o.repeat > 0 ? static_cast<long>(ms.size()) < o.repeat : (ms.size() < 10 || total < 0.5)) {
    reset();
    const auto t0 = Clock::now();
    const auto out = predict();
    const auto t1 = Clock::now();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    ms.push_back(1e3 * s);
    total += s;
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  std::fprintf(stderr, "%s: latency median %s, min %s, mean %s, %zu runs (%s, %d thread%s)\n",
               kProgram, duration(median).c_str(), duration(sorted.front()).c_str(),
               duration(1e3 * total / static_cast<double>(n)).c_str(), n,
               std::is_same_v<Scalar, float> ? "float" : "double", o.threads,
               o.threads == 1 ? "" : "s");
}

/// Every input file's tensors, in the order given.
std::vector<RawTensor> readInputs(const Options& o) {
  std::vector<RawTensor> raw;
  for (const std::string& path : o.inputs) {
    auto tensors = readInputFile(path);
    for (auto& t : tensors) raw.push_back(std::move(t));
  }
  return raw;
}

/// Prints the outputs of `predict()`, compares them with --expect and times --time: the same
/// for every kind of model.
template <class Scalar, class Predict, class Reset>
int report(const Options& o, const std::vector<std::string>& names, Predict&& predict,
           Reset&& reset) {
  const std::vector<recurrent::FlatTensor<Scalar>> outputs = predict();
  const std::string text = outputsJson(outputs, names);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);

  int status = 0;
  if (!o.expect.empty()) {
    double worst = 0;
    const std::string diff = compareOutputs(outputs, expectedOutputs(o.expect), o.expect, worst);
    if (diff.empty()) {
      std::fprintf(stderr, "%s: %zu output(s) match '%s' (worst error %.3f of the tolerance)\n",
                   kProgram, outputs.size(), o.expect.c_str(), worst);
    } else {
      std::fprintf(stderr, "%s: mismatch with '%s': %s\n", kProgram, o.expect.c_str(),
                   diff.c_str());
      status = 1;
    }
  }
  if (o.time) timePredict<Scalar>(predict, reset, o);
  return status;
}

template <class Scalar>
int run(const Options& o) {
  recurrent::io::LoadOptions load;
  load.threads = o.threads;
  auto model = recurrent::io::loadLayersModel<Scalar>(o.model, load);

  if (o.summary) std::fputs(model.summary().c_str(), o.inputs.empty() ? stdout : stderr);
  if (o.inputs.empty()) return 0;

  const auto raw = recurrent_predict::arrangeTensors(readInputs(o), model.inputNames(), "input",
                                                     "the input files");
  const auto inputs = recurrent_predict::toFlatTensors<Scalar>(raw);
  const bool stateful = model.stateful();
  return report<Scalar>(
      o, model.outputNames(), [&] { return model.predict(inputs); },
      [&] {
        if (stateful) model.resetStates();
      });
}

// ---------------------------------------------------------------------------------------------
// ONNX models
// ---------------------------------------------------------------------------------------------

std::string onnxSummary(const std::vector<recurrent::io::OnnxValueInfo>& values, const char* what) {
  std::string s;
  for (const auto& v : values) {
    s += std::string(what) + " " + v.name + ": " + recurrent::io::detail::onnx::typeName(v.type);
    if (v.hasShape) {
      s += " [";
      for (std::size_t i = 0; i < v.dims.size(); ++i)
        s += (i ? ", " : "") + (v.dims[i] >= 0 ? std::to_string(v.dims[i])
                                               : (v.dimNames[i].empty() ? "?" : v.dimNames[i]));
      s += "]";
    }
    s += "\n";
  }
  return s;
}

template <class Scalar>
int runOnnx(const Options& o) {
  namespace io = recurrent::io;
  io::OnnxOptions options;
  options.threads = o.threads;
  auto model = io::loadOnnx<Scalar>(o.model, options);
  if (o.summary) {
    const std::string text = "ONNX model, opset " + std::to_string(model.opset()) + "\n" +
                             onnxSummary(model.inputs(), "input") +
                             onnxSummary(model.outputs(), "output");
    std::fputs(text.c_str(), o.inputs.empty() ? stdout : stderr);
  }
  if (o.inputs.empty()) return 0;

  std::vector<std::string> inputNames, outputNames;
  for (const auto& v : model.inputs()) inputNames.push_back(v.name);
  for (const auto& v : model.outputs()) outputNames.push_back(v.name);
  const auto raw =
      recurrent_predict::arrangeTensors(readInputs(o), inputNames, "input", "the input files");
  std::map<std::string, io::OnnxTensor<Scalar>> feeds;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto& info = model.inputs()[i];
    if (info.type == io::OnnxType::Float) {
      feeds[info.name] = io::OnnxTensor<Scalar>::floats(
          raw[i].shape, std::vector<Scalar>(raw[i].data.begin(), raw[i].data.end()));
      continue;
    }
    std::vector<std::int64_t> ints;
    for (double v : raw[i].data) {
      if (!(std::floor(v) == v && std::abs(v) < 9.2e18))
        formatError(raw[i].origin,
                    "input '" + info.name + "' is an integer tensor; got " + std::to_string(v));
      ints.push_back(static_cast<std::int64_t>(v));
    }
    feeds[info.name] = io::OnnxTensor<Scalar>::integers(info.type, raw[i].shape, ints);
  }
  auto predict = [&] {
    auto out = model.run(feeds);
    std::vector<recurrent::FlatTensor<Scalar>> flat;
    for (const std::string& name : outputNames) {
      const auto& t = out.at(name);
      std::vector<Scalar> data = t.values;
      if (t.type != io::OnnxType::Float)
        for (std::int64_t v : t.ints) data.push_back(static_cast<Scalar>(v));
      flat.emplace_back(t.shape, std::move(data));
    }
    return flat;
  };
  return report<Scalar>(o, outputNames, predict, [] {});
}

bool isOnnx(const std::string& path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine cl;
  try {
    cl.app.parse(argc, argv);
    cl.check();
  } catch (const CLI::ParseError& e) {
    return recurrent_cli::parseErrorExit(cl.app, e);
  } catch (const UsageError& e) {
    return recurrent_cli::usageErrorExit(kProgram, e.what());
  }
  const Options& o = cl.o;
  try {
    if (isOnnx(o.model)) return o.useDouble ? runOnnx<double>(o) : runOnnx<float>(o);
    return o.useDouble ? run<double>(o) : run<float>(o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s: %s\n", kProgram, recurrent_cli::kindOf(e), e.what());
    return 1;
  }
}
