// recurrent-train: trains a TF.js / Keras layers model (model.json + weight shards) or a built-in
// recipe on data given as .npy or JSON files with LayersModel::fit (TF.js's model.fit), shows
// Keras-style progress, and saves the trained model in TF.js's format plus its History.
// `recurrent-train --help` explains the options.
//
// Exit status: 0 success, 1 an error (one line `recurrent-train: <Kind>: <message>` on stderr;
// nothing is saved), 2 a usage error, 130 interrupted by Ctrl-C (the model trained so far and the
// history are saved).
#include "cli_common.hpp"
#include "inputs.hpp"
#include <recurrent/io/layers.hpp>
#include <recurrent/io/tfjs.hpp>
#include <recurrent/io/training.hpp>
#include <recurrent/train/losses.hpp>
#include <recurrent/train/metrics.hpp>
#include <recurrent/train/optimizers.hpp>
#include <recurrent/version.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <sys/ioctl.h>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using nlohmann::json;
using recurrent::Index;
using recurrent::io::History;
using recurrent::io::Logs;
using recurrent_cli::UsageError;
using recurrent_predict::RawTensor;

constexpr const char* kProgram = "recurrent-train";

constexpr const char* kSynopsis = "MODEL --x FILE [--x FILE...] --y FILE [--y FILE...] [options]";

constexpr const char* kDescription =
    "Trains a TF.js layers model with model.fit (TF.js 4.22's semantics: batches, shuffling,\n"
    "validationSplit, logs) on the data in the --x/--y files, shows its progress and saves the\n"
    "trained model (--out) and its History (--history).";

constexpr const char* kFooter =
    "MODEL is\n"
    "  a model.json (TF.js layers model, as tf.loadLayersModel reads it: TF.js's or the tfjs\n"
    "    converter's, with its weight shards); its trainingConfig, if any, gives the default\n"
    "    loss, metrics and optimizer, or\n"
    "  recipe:lstm-classifier  the TF.js docs' sequence classifier: LSTM(64) on x's\n"
    "    [time, features] -> Dense(classes, softmax). y is one-hot [samples, classes]\n"
    "    (categoricalCrossentropy) or integer labels [samples] / [samples, 1]\n"
    "    (sparseCategoricalCrossentropy, classes = largest label + 1); metric accuracy; adam.\n"
    "  recipe:gru-regressor  stacked GRUs: GRU(32, returnSequences, dropout 0.2,\n"
    "    recurrentDropout 0.2) -> GRU(32, dropout 0.2, recurrentDropout 0.2) ->\n"
    "    Dense(outputs); y is [samples, outputs] or [samples]; meanSquaredError; metric mae;\n"
    "    adam.\n"
    "  Recipes draw their weights from TF.js's default initializers (the same every run).\n"
    "\n"
    "--x / --y files: .npy (NumPy 1.0/2.0/3.0, C order, dtype <f4 <f8 <i4 <i8 |u1 |i1 <u2 <i2),\n"
    "  one tensor [samples, ...] each, or JSON {\"inputs\": [{\"name\", \"shape\", \"data\"}, "
    "...]}\n"
    "  for --x and {\"outputs\": [...]} for --y (one file may hold both). Tensors go to the model\n"
    "  inputs / outputs of their \"name\", the others in order (recurrent-predict's reader).\n"
    "Loss and metric names are TF.js's (categoricalCrossentropy, meanSquaredError, ...; metrics\n"
    "  accuracy, mse, mae, ...); Keras spellings (categorical_crossentropy, mse, mae) are\n"
    "  accepted for --loss. Optimizers: sgd adam adamax adagrad adadelta rmsprop, with TF.js's\n"
    "  compile defaults, or the tf.train.<name>(LR) defaults with --learning-rate.\n"
    "\n"
    "Progress goes to stdout: a Keras-style bar redrawn in place on a terminal, one line per\n"
    "epoch otherwise. Ctrl-C stops after the current batch: the epoch ends there, the model and\n"
    "history are saved as asked, exit status 130; a second Ctrl-C kills the program.\n"
    "Exit status: 0 success, 1 error (nothing saved), 2 usage error, 130 interrupted.\n";

struct Options {
  std::string model;
  std::vector<std::string> x, y;
  Index epochs = 1;
  Index batchSize = 32;
  std::string optimizer;
  double learningRate = 0;
  bool hasLearningRate = false;
  std::vector<std::string> loss, metrics;
  bool hasMetrics = false;
  double validationSplit = 0;
  bool shuffle = true;
  std::uint64_t seed = 0;
  std::string out, history;
  bool float64 = false;
  int threads = 1;
  bool quiet = false;
};

/// The command line (CLI11 declares and checks it; `check` finishes).
struct CommandLine {
  CLI::App app{kDescription, kProgram};
  Options o;

  CommandLine() {
    recurrent_cli::useFormatter(app, kSynopsis);
    app.footer(kFooter);
    app.set_version_flag("--version",
                         std::string(kProgram) + " (recurrent " RECURRENT_VERSION_STRING ")",
                         "the library version");
    app.add_option("MODEL", o.model, "model.json, recipe:lstm-classifier or recipe:gru-regressor")
        ->type_name("")
        ->required();
    app.add_option("--x", o.x, "input data (.npy or JSON; repeat for several inputs)")
        ->type_name("FILE")
        ->allow_extra_args(false)
        ->required();
    app.add_option("--y", o.y, "target data (.npy or JSON; repeat for several outputs)")
        ->type_name("FILE")
        ->allow_extra_args(false)
        ->required();
    app.add_option("--epochs", o.epochs, "epochs to train (default 1)")
        ->type_name("N")
        ->check(CLI::Range(Index{1}, Index{1000000000}).description(""));
    app.add_option("--batch-size", o.batchSize, "samples per batch (default 32)")
        ->type_name("N")
        ->check(CLI::Range(Index{1}, Index{1000000000}).description(""));
    app.add_option("--optimizer", o.optimizer,
                   "sgd adam adamax adagrad adadelta rmsprop (default: trainingConfig's, adam)")
        ->type_name("NAME");
    app.add_option("--learning-rate", o.learningRate, "build the optimizer with this rate")
        ->type_name("LR")
        ->check(CLI::PositiveNumber.description(""));
    app.add_option("--loss", o.loss, "one loss, or one per output (default: trainingConfig's)")
        ->type_name("NAME[,NAME]")
        ->delimiter(',')
        ->allow_extra_args(false);
    app.add_option("--metrics", o.metrics, "metrics of every output (accuracy, mse, ...)")
        ->type_name("a,b")
        ->delimiter(',')
        ->allow_extra_args(false);
    app.add_option("--validation-split", o.validationSplit,
                   "validate on this fraction of the samples (the last ones)")
        ->type_name("F")
        ->check(CLI::Validator(
            [](std::string& s) -> std::string {
              double v = -1;
              try {
                std::size_t used = 0;
                v = std::stod(s, &used);
                if (used != s.size()) v = -1;
              } catch (const std::exception&) {
                v = -1;
              }
              return v >= 0 && v < 1 ? std::string() : "expected a number in [0, 1), got " + s;
            },
            ""));
    app.add_flag("--shuffle,!--no-shuffle", o.shuffle, "shuffle the samples every epoch (default)");
    app.add_option("--seed", o.seed, "seed of the shuffling (default 0)")->type_name("N");
    app.add_option("--out", o.out, "save the trained model here (model.json + weights.bin)")
        ->type_name("DIR");
    app.add_option("--history", o.history, "write the History as CSV or JSON (by the extension)")
        ->type_name("FILE.csv|.json");
    app.add_flag("--float64", o.float64, "train in double instead of float");
    app.add_option("--threads", o.threads, "helper threads of every recurrent layer (default 1)")
        ->type_name("N")
        ->check(CLI::Range(1, 1024).description(""));
    app.add_flag("--quiet,-q", o.quiet, "no progress (errors and interruptions only)");
  }

  void check() {
    o.hasLearningRate = app.count("--learning-rate") != 0;
    o.hasMetrics = app.count("--metrics") != 0;
    if (!o.history.empty() && !historyIsCsv(o.history) && !historyIsJson(o.history))
      throw UsageError("--history: the file name must end in .csv or .json, got '" + o.history +
                       "'");
    for (const auto& l : o.loss)
      if (l.empty()) throw UsageError("--loss: empty loss name");
    for (const auto& m : o.metrics)
      if (m.empty()) throw UsageError("--metrics: empty metric name");
  }

  static bool endsWith(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  }
  static bool historyIsCsv(const std::string& p) { return endsWith(p, ".csv"); }
  static bool historyIsJson(const std::string& p) { return endsWith(p, ".json"); }
};

// ---------------------------------------------------------------------------------------------
// Ctrl-C: the handler only sets a flag; the fit callback stops training after the batch.
// ---------------------------------------------------------------------------------------------

static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");
std::atomic<bool> gInterrupted{false};

extern "C" void onInterrupt(int) { gInterrupted.store(true, std::memory_order_relaxed); }

/// SIGINT -> `onInterrupt` once: SA_RESETHAND puts the default action back as the handler runs,
/// so a second Ctrl-C kills the program.
void catchInterrupt() {
  struct sigaction sa {};
  sa.sa_handler = onInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = static_cast<int>(SA_RESETHAND);
  sigaction(SIGINT, &sa, nullptr);
}

void defaultInterrupt() { std::signal(SIGINT, SIG_DFL); }

// ---------------------------------------------------------------------------------------------
// Loss, optimizer and metrics: command line > trainingConfig > recipe defaults
// ---------------------------------------------------------------------------------------------

/// Keras's loss spellings -> TF.js's names (snake_case -> camelCase, and Keras's aliases).
std::string tfjsLossName(const std::string& name) {
  static const std::map<std::string, std::string> kAliases = {
      {"mse", "meanSquaredError"},
      {"MSE", "meanSquaredError"},
      {"mae", "meanAbsoluteError"},
      {"MAE", "meanAbsoluteError"},
      {"mape", "meanAbsolutePercentageError"},
      {"MAPE", "meanAbsolutePercentageError"},
      {"msle", "meanSquaredLogarithmicError"},
      {"MSLE", "meanSquaredLogarithmicError"},
      {"kld", "kullbackLeiblerDivergence"},
      {"KLD", "kullbackLeiblerDivergence"},
      {"kl_divergence", "kullbackLeiblerDivergence"},
      {"kullback_leibler_divergence", "kullbackLeiblerDivergence"},
      {"cosine", "cosineProximity"},
      {"log_cosh", "logcosh"}};
  if (auto it = kAliases.find(name); it != kAliases.end()) return it->second;
  std::string out;
  bool upper = false;
  for (char c : name) {
    if (c == '_') {
      upper = !out.empty();
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

/// What a model.json's `trainingConfig` (TF.js) / `training_config` (Keras) says.
struct TrainingConfig {
  std::vector<std::string> loss, metrics;
  std::optional<recurrent::train::OptimizerConfig> optimizer;
};

std::string keyToCamel(const std::string& key) {
  static const std::map<std::string, std::string> kKeys = {
      {"lr", "learningRate"}, {"beta_1", "beta1"}, {"beta_2", "beta2"}};
  if (auto it = kKeys.find(key); it != kKeys.end()) return it->second;
  return tfjsLossName(key);  // snake_case -> camelCase
}

std::optional<TrainingConfig> readTrainingConfig(const std::string& modelPath,
                                                 const std::vector<std::string>& outputNames) {
  const json file = recurrent_predict::parseJsonFile(
      recurrent_predict::readFile(modelPath, "model file"), modelPath);
  const json* tc = nullptr;
  for (const char* key : {"trainingConfig", "training_config"})
    if (file.is_object() && file.contains(key) && !file[key].is_null()) tc = &file[key];
  if (tc == nullptr && file.is_object() && file.contains("modelTopology") &&
      file["modelTopology"].is_object() && file["modelTopology"].contains("training_config"))
    tc = &file["modelTopology"]["training_config"];
  if (tc == nullptr || !tc->is_object()) return std::nullopt;
  const std::string origin = "'" + modelPath + "' trainingConfig";
  TrainingConfig out;
  if (auto it = tc->find("loss"); it != tc->end()) {
    if (it->is_string()) {
      out.loss.push_back(tfjsLossName(it->get<std::string>()));
    } else if (it->is_array()) {
      for (const json& l : *it)
        if (l.is_string()) out.loss.push_back(tfjsLossName(l.get<std::string>()));
    } else if (it->is_object()) {
      for (const std::string& name : outputNames)
        if (it->contains(name) && (*it)[name].is_string())
          out.loss.push_back(tfjsLossName((*it)[name].get<std::string>()));
    }
    if (out.loss.empty())
      throw recurrent::FormatError(origin + ": cannot read its loss " + it->dump());
  }
  if (auto it = tc->find("metrics"); it != tc->end() && it->is_array())
    for (const json& m : *it)
      if (m.is_string()) out.metrics.push_back(m.get<std::string>());
  if (auto it = tc->find("optimizer_config"); it != tc->end() && it->is_object()) {
    recurrent::train::OptimizerConfig c;
    c.className = it->value("class_name", std::string());
    if (c.className == "RMSprop") c.className = "RMSProp";  // Keras's spelling
    if (auto cfg = it->find("config"); cfg != it->end() && cfg->is_object())
      for (const auto& [key, value] : cfg->items())
        if (value.is_number() || value.is_boolean())
          c.values[keyToCamel(key)] =
              value.is_boolean() ? (value.get<bool>() ? 1.0 : 0.0) : value.get<double>();
    out.optimizer = std::move(c);
  }
  return out;
}

/// `name` with TF.js's compile defaults, or the tf.train.<name>(lr) defaults.
template <class Scalar>
std::shared_ptr<recurrent::train::Optimizer<Scalar>> makeOptimizer(const std::string& name,
                                                                   const Options& o) {
  namespace T = recurrent::train;
  if (!o.hasLearningRate) return T::getOptimizer<Scalar>(name);
  const double lr = o.learningRate;
  if (name == "sgd" || name == "SGD") return T::sgd<Scalar>(lr);
  if (name == "adam" || name == "Adam") return T::adam<Scalar>(lr);
  if (name == "adamax" || name == "Adamax") return T::adamax<Scalar>(lr);
  if (name == "adagrad" || name == "Adagrad") return T::adagrad<Scalar>(lr);
  if (name == "adadelta" || name == "Adadelta") return T::adadelta<Scalar>(lr);
  if (name == "rmsprop" || name == "RMSProp") return T::rmsprop<Scalar>(lr);
  throw recurrent::ValueError("Unknown Optimizer " + name);
}

std::string optimizerText(const recurrent::train::OptimizerConfig& c) {
  std::string s = c.className + "(";
  bool first = true;
  for (const auto& [key, value] : c.values) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %g", first ? "" : ", ", key.c_str(), value);
    s += buf;
    first = false;
  }
  return s + ")";
}

// ---------------------------------------------------------------------------------------------
// Recipes
// ---------------------------------------------------------------------------------------------

struct Recipe {
  std::vector<recurrent::io::LayerSpec> layers;
  std::string name;
  std::vector<std::string> loss, metrics;
};

/// recipe:<name> for data `x` (one tensor) and `y` (one tensor; reshaped to what the recipe
/// predicts).
Recipe makeRecipe(const std::string& model, const std::vector<RawTensor>& x,
                  std::vector<RawTensor>& y) {
  namespace L = recurrent::io::layers;
  const std::string name = model.substr(std::string("recipe:").size());
  const std::string who = "recurrent-train " + model;
  if (name != "lstm-classifier" && name != "gru-regressor")
    throw recurrent::ValueError(who + ": unknown recipe (recipes: lstm-classifier, gru-regressor)");
  if (x.size() != 1 || x[0].shape.size() != 3)
    throw recurrent::ShapeError(who + ": expects one input tensor [samples, time, features], got " +
                                (x.size() == 1 ? recurrent_predict::shapeText(x[0].shape)
                                               : std::to_string(x.size()) + " tensors"));
  if (y.size() != 1 || y[0].shape.empty() || y[0].shape.size() > 2)
    throw recurrent::ShapeError(who +
                                ": expects one target tensor [samples] or [samples, n], got " +
                                (y.size() == 1 ? recurrent_predict::shapeText(y[0].shape)
                                               : std::to_string(y.size()) + " tensors"));
  const json inputShape = {x[0].shape[1], x[0].shape[2]};
  RawTensor& t = y[0];
  if (t.shape.size() == 1) t.shape.push_back(1);
  Recipe r;
  if (name == "lstm-classifier") {
    Index classes = t.shape[1];
    if (classes == 1) {  // integer labels
      double top = 0;
      for (double v : t.data) top = std::max(top, v);
      classes = std::max<Index>(2, static_cast<Index>(top) + 1);
      r.loss = {"sparseCategoricalCrossentropy"};
    } else {
      r.loss = {"categoricalCrossentropy"};
    }
    r.name = "lstm_classifier";
    r.layers = {L::lstm({{"units", 64}, {"inputShape", inputShape}}),
                L::dense({{"units", classes}, {"activation", "softmax"}})};
    r.metrics = {"accuracy"};
  } else {
    r.name = "gru_regressor";
    r.layers = {L::gru({{"units", 32},
                        {"returnSequences", true},
                        {"dropout", 0.2},
                        {"recurrentDropout", 0.2},
                        {"inputShape", inputShape}}),
                L::gru({{"units", 32}, {"dropout", 0.2}, {"recurrentDropout", 0.2}}),
                L::dense({{"units", t.shape[1]}})};
    r.loss = {"meanSquaredError"};
    r.metrics = {"mae"};
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Logs in TF.js's order; progress
// ---------------------------------------------------------------------------------------------

/// The keys of `logs` as TF.js logs them: metricsNames, then val_ + each, then any others.
std::vector<std::string> orderedKeys(const std::vector<std::string>& names,
                                     const std::set<std::string>& present) {
  std::vector<std::string> out;
  for (const auto& n : names)
    if (present.count(n) != 0) out.push_back(n);
  for (const auto& n : names)
    if (present.count("val_" + n) != 0) out.push_back("val_" + n);
  for (const auto& k : present)
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  return out;
}

/// Keras's number format in progress lines.
std::string logValue(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::abs(v) >= 1e-3 || v == 0 ? "%.4f" : "%.4e", v);
  return buf;
}

std::string seconds(double s) {
  char buf[32];
  if (s < 10)
    std::snprintf(buf, sizeof buf, "%.2fs", s);
  else
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  return buf;
}

/// Keras's ProgbarLogger, driven by fit's callbacks. On a terminal a bar per epoch redrawn with
/// `\r` (at most every 50 ms, and for each epoch's first batch), ending in the epoch summary;
/// otherwise one plain line per epoch.
class Progress {
 public:
  using Clock = std::chrono::steady_clock;

  Progress(bool tty, Index epochs, Index batches, std::vector<std::string> names)
      : tty_(tty), epochs_(epochs), batches_(batches), names_(std::move(names)) {}

  void epochBegin(Index epoch) {
    epochStart_ = Clock::now();
    lastDraw_ = epochStart_;
    sums_.clear();
    seen_ = 0;
    if (tty_) {
      std::printf("Epoch %lld/%lld\n", static_cast<long long>(epoch + 1),
                  static_cast<long long>(epochs_));
      std::fflush(stdout);
    }
  }

  void batchEnd(Index batch, const Logs& logs) {
    const double size = logs.count("size") ? logs.at("size") : 0.0;
    for (const auto& [k, v] : logs)
      if (k != "batch" && k != "size") sums_[k] += v * size;
    seen_ += size;
    if (!tty_) return;
    const auto now = Clock::now();
    if (batch != 0 && now - lastDraw_ < std::chrono::milliseconds(50)) return;
    lastDraw_ = now;
    const double elapsed = std::chrono::duration<double>(now - epochStart_).count();
    const Index done = batch + 1;
    std::string line = counter(done) + " " + bar(done);
    const double eta = elapsed / static_cast<double>(done) *
                       static_cast<double>(std::max<Index>(0, batches_ - done));
    line += " - ETA: " + std::to_string(std::llround(eta)) + "s";
    std::set<std::string> keys;
    for (const auto& [k, v] : sums_) keys.insert(k);
    for (const auto& k : orderedKeys(names_, keys))
      line += " - " + k + ": " + logValue(sums_[k] / std::max(1.0, seen_));
    if (elapsed > 0)
      line += " - " + std::to_string(static_cast<long long>(seen_ / elapsed)) + " samples/s";
    draw(line);
  }

  void epochEnd(Index epoch, const Logs& logs) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - epochStart_).count();
    std::set<std::string> keys;
    for (const auto& [k, v] : logs) keys.insert(k);
    std::string values;
    for (const auto& k : orderedKeys(names_, keys))
      values += " - " + k + ": " + logValue(logs.at(k));
    if (tty_) {
      char step[48];
      std::snprintf(step, sizeof step, " - %s %.0fms/step", seconds(elapsed).c_str(),
                    1e3 * elapsed / static_cast<double>(std::max<Index>(1, batchesRun_)));
      draw(counter(batchesRun_) + " " + bar(batchesRun_) + step + values);
      std::fputc('\n', stdout);
      width_ = 0;
    } else {
      std::printf("Epoch %lld/%lld - %s%s\n", static_cast<long long>(epoch + 1),
                  static_cast<long long>(epochs_), seconds(elapsed).c_str(), values.c_str());
    }
    std::fflush(stdout);
  }

  /// Counts the batches of the current epoch (fit's batch index restarts at 0).
  void countBatch(Index batch) { batchesRun_ = batch + 1; }

  /// Ends a bar left mid-line (before an error or interruption message).
  void finishLine() {
    if (width_ != 0) {
      std::fputc('\n', stdout);
      std::fflush(stdout);
      width_ = 0;
    }
  }

 private:
  std::string counter(Index done) const {
    const std::string total = std::to_string(static_cast<long long>(batches_));
    std::string d = std::to_string(static_cast<long long>(done));
    return std::string(total.size() > d.size() ? total.size() - d.size() : 0, ' ') + d + "/" +
           total;
  }

  std::string bar(Index done) const {
    constexpr Index kWidth = 30;
    const Index filled = batches_ > 0 ? std::min(kWidth, kWidth * done / batches_) : kWidth;
    std::string b = "[" + std::string(static_cast<std::size_t>(filled), '=');
    if (filled < kWidth) {
      if (filled > 0) b.back() = '>';
      b += std::string(static_cast<std::size_t>(kWidth - filled), '.');
    }
    return b + "]";
  }

  /// `\r` + the line (cut to the terminal width) + blanks over what is left of the last one.
  void draw(std::string line) {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && line.size() >= ws.ws_col)
      line.resize(static_cast<std::size_t>(ws.ws_col) - 1);
    const std::size_t len = line.size();
    if (len < width_) line += std::string(width_ - len, ' ');
    width_ = len;
    std::fputc('\r', stdout);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }

  bool tty_;
  Index epochs_, batches_;
  std::vector<std::string> names_;
  Clock::time_point epochStart_, lastDraw_;
  std::map<std::string, double> sums_;
  double seen_ = 0;
  Index batchesRun_ = 0;
  std::size_t width_ = 0;  ///< length of the line on screen; 0 = at a line start
};

// ---------------------------------------------------------------------------------------------
// History file
// ---------------------------------------------------------------------------------------------

std::string number(double v) {
  return std::isfinite(v) ? json(v).dump()
                          : (std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"));
}

/// CSV: `epoch,<keys>` then a row per epoch; JSON: `{"epoch": [...], "history": {...}}`
/// (TF.js's History; non-finite values as null). Keys in TF.js's log order.
void writeHistory(const std::string& path, const History& h,
                  const std::vector<std::string>& names) {
  std::set<std::string> present;
  for (const auto& [k, v] : h.history) present.insert(k);
  const auto keys = orderedKeys(names, present);
  std::string text;
  if (CommandLine::historyIsCsv(path)) {
    text = "epoch";
    for (const auto& k : keys) text += "," + k;
    text += "\n";
    for (std::size_t e = 0; e < h.epoch.size(); ++e) {
      text += std::to_string(static_cast<long long>(h.epoch[e]));
      for (const auto& k : keys) {
        const auto& values = h.history.at(k);
        text += "," + (e < values.size() ? number(values[e]) : std::string());
      }
      text += "\n";
    }
  } else {
    text = "{\"epoch\": " + json(h.epoch).dump() + ", \"history\": {";
    for (std::size_t i = 0; i < keys.size(); ++i) {
      text += (i ? ", " : "") + json(keys[i]).dump() + ": [";
      const auto& values = h.history.at(keys[i]);
      for (std::size_t e = 0; e < values.size(); ++e)
        text += (e ? ", " : "") + (std::isfinite(values[e]) ? json(values[e]).dump() : "null");
      text += "]";
    }
    text += "}}\n";
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (f) f.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!f || !f.flush()) throw recurrent::IOError("cannot write the history file '" + path + "'");
}

/// Fails before training on output paths that cannot work.
void checkOutputPaths(const Options& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!o.out.empty() && fs::exists(o.out, ec) && !fs::is_directory(o.out, ec))
    throw recurrent::IOError("--out '" + o.out + "' exists and is not a directory");
  if (!o.history.empty()) {
    const fs::path parent = fs::path(o.history).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec))
      throw recurrent::IOError("--history '" + o.history + "': no directory '" + parent.string() +
                               "'");
  }
}

std::vector<RawTensor> readData(const std::vector<std::string>& files, const std::string& key,
                                const std::string& what) {
  std::vector<RawTensor> out;
  for (const std::string& path : files)
    for (auto& t :
         recurrent_predict::readTensorBytes(recurrent_predict::readFile(path, what), path, key))
      out.push_back(std::move(t));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

template <class Scalar>
int run(const Options& o) {
  checkOutputPaths(o);
  std::vector<RawTensor> rawX = readData(o.x, "inputs", "--x file");
  std::vector<RawTensor> rawY = readData(o.y, "outputs", "--y file");

  recurrent::io::LoadOptions load;
  load.threads = o.threads;
  const bool isRecipe = o.model.rfind("recipe:", 0) == 0;
  std::optional<recurrent::io::LayersModel<Scalar>> model;
  std::vector<std::string> loss = o.loss, metrics = o.metrics;
  std::string optimizerName = o.optimizer;
  std::optional<recurrent::train::OptimizerConfig> optimizerConfig;
  if (isRecipe) {
    Recipe r = makeRecipe(o.model, rawX, rawY);
    model.emplace(recurrent::io::sequential<Scalar>(r.layers, r.name, load));
    if (loss.empty()) loss = r.loss;
    if (!o.hasMetrics) metrics = r.metrics;
  } else {
    model.emplace(recurrent::io::loadLayersModel<Scalar>(o.model, load));
    const auto tc = readTrainingConfig(o.model, model->outputNames());
    if (loss.empty()) {
      if (!tc || tc->loss.empty())
        throw UsageError("--loss is required: '" + o.model + "' has no trainingConfig");
      loss = tc->loss;
    }
    if (!o.hasMetrics && tc) metrics = tc->metrics;
    if (optimizerName.empty() && tc && tc->optimizer) optimizerConfig = tc->optimizer;
  }
  for (auto& l : loss) l = tfjsLossName(l);

  // Optimizer: --optimizer [--learning-rate], else the trainingConfig's (its learningRate
  // replaced by --learning-rate), else adam.
  std::shared_ptr<recurrent::train::Optimizer<Scalar>> optimizer;
  if (optimizerConfig) {
    if (o.hasLearningRate) optimizerConfig->values["learningRate"] = o.learningRate;
    try {
      optimizer = recurrent::train::optimizerFromConfig<Scalar>(*optimizerConfig);
    } catch (const recurrent::ValueError& e) {
      throw recurrent::ValueError("'" + o.model + "' trainingConfig optimizer_config: " + e.what() +
                                  " (pass --optimizer to choose one)");
    }
  } else {
    optimizer = makeOptimizer<Scalar>(optimizerName.empty() ? "adam" : optimizerName, o);
  }
  model->compile(recurrent::io::CompileArgs<Scalar>(optimizer, loss, metrics));

  const auto x = recurrent_predict::toFlatTensors<Scalar>(recurrent_predict::arrangeTensors(
      std::move(rawX), model->inputNames(), "input", "the --x files"));
  const auto y = recurrent_predict::toFlatTensors<Scalar>(recurrent_predict::arrangeTensors(
      std::move(rawY), model->outputNames(), "output", "the --y files"));

  recurrent::io::FitArgs<Scalar> fit;
  fit.epochs = o.epochs;
  fit.batchSize = o.batchSize;
  fit.shuffle = o.shuffle;
  fit.seed = o.seed;
  fit.validationSplit = o.validationSplit;
  const Index samples = x.empty() || x[0].shape.empty() ? 0 : x[0].shape[0];
  const Index trainSamples =
      o.validationSplit > 0
          ? static_cast<Index>(std::floor(static_cast<double>(samples) * (1.0 - o.validationSplit)))
          : samples;
  const Index batches = (trainSamples + o.batchSize - 1) / o.batchSize;
  const std::vector<std::string> names = model->metricsNames();

  if (!o.quiet) {
    std::string what = "'" + model->name() + "' (" +
                       std::to_string(static_cast<long long>(model->countParams())) + " params)";
    std::printf("%s: training %s on %lld samples", kProgram, what.c_str(),
                static_cast<long long>(trainSamples));
    if (trainSamples != samples)
      std::printf(", validating on %lld", static_cast<long long>(samples - trainSamples));
    std::string lossText;
    for (const auto& l : loss) lossText += (lossText.empty() ? "" : ",") + l;
    std::printf("; loss %s, optimizer %s, %s\n", lossText.c_str(),
                optimizerText(optimizer->getConfig()).c_str(),
                std::is_same_v<Scalar, float> ? "float32" : "float64");
    std::fflush(stdout);
  }

  const bool tty = isatty(STDOUT_FILENO) != 0;
  Progress progress(tty, o.epochs, batches, names);
  bool stopped = false;
  Index stoppedEpoch = 0, stoppedBatch = 0, epochNow = 0;
  auto& m = *model;
  auto stopIfInterrupted = [&](Index batch) {
    if (!stopped && gInterrupted.load(std::memory_order_relaxed)) {
      stopped = true;
      stoppedEpoch = epochNow;
      stoppedBatch = batch;
      m.stopTraining();
    }
  };
  recurrent::io::Callback cb;
  cb.onEpochBegin = [&](Index epoch, Logs&) {
    epochNow = epoch;
    if (!o.quiet) progress.epochBegin(epoch);
  };
  cb.onBatchEnd = [&](Index batch, Logs& logs) {
    progress.countBatch(batch);
    if (!o.quiet) progress.batchEnd(batch, logs);
    stopIfInterrupted(batch);
  };
  cb.onEpochEnd = [&](Index epoch, Logs& logs) {
    if (!o.quiet) progress.epochEnd(epoch, logs);
    stopIfInterrupted(-1);
  };
  fit.callbacks.push_back(cb);

  History history;
  catchInterrupt();
  try {
    history = model->fit(x, y, fit);
  } catch (...) {
    defaultInterrupt();
    progress.finishLine();
    throw;
  }
  defaultInterrupt();

  if (stopped) {
    std::string where = "epoch " + std::to_string(static_cast<long long>(stoppedEpoch + 1)) + "/" +
                        std::to_string(static_cast<long long>(o.epochs));
    if (stoppedBatch >= 0)
      where += ", after batch " + std::to_string(static_cast<long long>(stoppedBatch + 1)) + "/" +
               std::to_string(static_cast<long long>(batches));
    std::fflush(stdout);
    std::fprintf(stderr, "%s: interrupted (Ctrl-C) in %s: training stopped\n", kProgram,
                 where.c_str());
  }
  if (!o.out.empty()) {
    model->save(o.out);
    if (!o.quiet) std::printf("%s: model saved to '%s'\n", kProgram, o.out.c_str());
  }
  if (!o.history.empty()) {
    writeHistory(o.history, history, names);
    if (!o.quiet) std::printf("%s: history written to '%s'\n", kProgram, o.history.c_str());
  }
  std::fflush(stdout);
  return stopped ? 130 : 0;
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
    return o.float64 ? run<double>(o) : run<float>(o);
  } catch (const UsageError& e) {
    std::fflush(stdout);
    return recurrent_cli::usageErrorExit(kProgram, e.what());
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s: %s\n", kProgram, recurrent_cli::kindOf(e), e.what());
    return 1;
  }
}
