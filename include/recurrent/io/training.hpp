/** @file
 * Training a `LayersModel` as TF.js does: the arguments of `compile` and `fit`, the logs and
 * `History` they produce, and callbacks (optional part, target `recurrent::json`).
 *
 *     auto model = recurrent::io::loadLayersModel<float>("model.json");   // or built in C++
 *     model.compile({recurrent::train::adam<float>(0.01), {"categoricalCrossentropy"},
 * {"accuracy"}}); recurrent::io::FitArgs<float> fit; fit.epochs = 10; fit.batchSize = 32;
 *     fit.validationSplit = 0.2;
 *     recurrent::io::History h = model.fit({x}, {y}, fit);   // h.history["loss"], ["val_acc"] ...
 *     model.save("trained");                                  // TF.js's tf.loadLayersModel loads
 * it
 *
 * Semantics are TF.js 4.22's `model.fit` (tfjs-layers `engine/training.ts`):
 * - batches are consecutive slices of the (shuffled, if `shuffle`) training samples, the last one
 *   partial; one optimizer update per batch; layers run with `training: true`;
 * - the batch loss is the mean over every element of the sum of the outputs' per-sample loss
 *   tensors; `<output>_loss` (models with several outputs) is the mean of each; metrics are
 *   computed on the same forward pass;
 * - an epoch's value of each key is TF.js's `BaseLogger` average: Σ value_b · size_b, times the
 *   rounded 1 / samples;
 * - `validationSplit` keeps the first ⌊N·(1 − split)⌋ samples for training and validates on the
 *   rest (TF.js takes the last ones), after the epoch's last update, in inference mode, batched,
 *   averaged by sample count; keys get a `val_` prefix.
 * Deliberate differences (docs/tfjs-differences.md): `shuffle` draws from a seeded engine, not
 * `Math.random`; a non-finite batch loss stops `fit` with a `TrainingError` before that batch's
 * update (TF.js would go on with NaN weights); training a layer applied at several nodes of a
 * graph is refused at `compile`.
 */
#ifndef RECURRENT_IO_TRAINING_HPP
#define RECURRENT_IO_TRAINING_HPP

#include <recurrent/errors.hpp>
#include <recurrent/train/losses.hpp>
#include <recurrent/train/metrics.hpp>
#include <recurrent/train/optimizers.hpp>
#include <recurrent/types.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace recurrent {

/// Training could not go on: a batch loss that is not finite (TF.js's `TerminateOnNaN`).
class TrainingError : public Error {
 public:
  using Error::Error;
};

}  // namespace recurrent

namespace recurrent::io {

/// The values of a batch or an epoch by TF.js's keys: `loss`, `<output>_loss`, metric suffixes
/// (`acc`, `mse`, ...), `val_` + any of those; batch logs also hold `batch` and `size`.
using Logs = std::map<std::string, double>;

/// TF.js `History`: the epochs run and, per key, one value per epoch.
struct History {
  std::vector<Index> epoch;
  std::map<std::string, std::vector<double>> history;
};

/// TF.js callbacks (`tf.CustomCallback`): any of the functions may be empty. `logs` may be
/// changed by a callback; later callbacks and the `History` see the change, as in TF.js.
struct Callback {
  std::function<void(Logs&)> onTrainBegin, onTrainEnd;
  std::function<void(Index epoch, Logs&)> onEpochBegin, onEpochEnd;
  std::function<void(Index batch, Logs&)> onBatchBegin, onBatchEnd;
};

/// TF.js `tf.callbacks.earlyStopping` arguments (their defaults).
struct EarlyStoppingArgs {
  std::string monitor = "val_loss";
  double minDelta = 0;
  Index patience = 0;
  std::string mode = "auto";  ///< "min", "max", or "auto" (max when `monitor` names an accuracy)
  std::optional<double> baseline;
};

template <class Scalar>
class LayersModel;

/// TF.js `tf.callbacks.earlyStopping(args)` for `model`: after each epoch, `monitor`'s value
/// counts as an improvement when it beats the best so far by more than `minDelta` (lower is
/// better in mode "min", higher in "max"; "auto" is "max" when `monitor` contains "acc");
/// `patience` epochs without one stop training. A missing `monitor` key is skipped (TF.js
/// warns). Each `fit` call starts afresh.
template <class Scalar>
Callback earlyStopping(LayersModel<Scalar>& model, EarlyStoppingArgs args = {});

/// TF.js `model.compile` arguments.
template <class Scalar>
struct CompileArgs {
  /// The optimizer object (`train::adam<float>(0.01)` ...); when null, `optimizerName` names one
  /// with TF.js's defaults for compile strings (`"adam"`, `"sgd"`, `"rmsprop"`, ...).
  std::shared_ptr<train::Optimizer<Scalar>> optimizer;
  std::string optimizerName;
  /// One loss name for every output, or one per output (in `outputNames()` order).
  std::vector<std::string> loss;
  /// Metric names for every output (`"accuracy"`, `"mse"`, ...).
  std::vector<std::string> metrics;

  CompileArgs() = default;
  CompileArgs(std::shared_ptr<train::Optimizer<Scalar>> o, std::vector<std::string> l,
              std::vector<std::string> m = {})
      : optimizer(std::move(o)), loss(std::move(l)), metrics(std::move(m)) {}
  CompileArgs(std::string o, std::vector<std::string> l, std::vector<std::string> m = {})
      : optimizerName(std::move(o)), loss(std::move(l)), metrics(std::move(m)) {}
};

/// TF.js `model.fit` arguments (their defaults) plus the seed of `shuffle`.
template <class Scalar>
struct FitArgs {
  Index epochs = 1;
  Index batchSize = 32;
  bool shuffle = true;
  std::uint64_t seed = 0;  ///< of the shuffling (extension; TF.js uses Math.random)
  /// Fraction in [0, 1) of the samples, taken from the end, to validate on (ignored when
  /// `validationData` is given).
  double validationSplit = 0;
  /// TF.js `validationData: [x, y]`: one tensor per model input, one per output.
  std::optional<std::pair<std::vector<FlatTensor<Scalar>>, std::vector<FlatTensor<Scalar>>>>
      validationData;
  Index initialEpoch = 0;
  std::vector<Callback> callbacks;
};

/// Options of `LayersModel::evaluate` (TF.js `ModelEvaluateArgs`).
struct EvaluateArgs {
  Index batchSize = 32;
};

}  // namespace recurrent::io

#endif  // RECURRENT_IO_TRAINING_HPP
