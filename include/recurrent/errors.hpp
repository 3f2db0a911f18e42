/** @file
 * Exception hierarchy. Every error the library raises derives from `recurrent::Error`, is thrown
 * at an API boundary (construction, `setWeights`, `call`, `resetStates`, ...) and never inside a
 * time step. Messages start with the layer and method (`LSTM 'rnn'.call: ...`), then name the
 * argument, what was expected and what was received.
 *
 * - `ValueError` (base `Error`): TF.js `ValueError` in general.
 *   - `ConfigError`: a bad constructor or config argument (units, activation, mergeMode, cell,
 *     an unknown layer class or an unsupported option in a model file).
 *   - `ShapeError`: inputs, masks, initial states or weights of the wrong shape.
 *   - `WeightError`: model import: a weight missing, left over, or of the wrong shape.
 * - `StateError` (base `Error`): stateful misuse: resetStates on a non-stateful layer (TF.js
 *   `AttributeError`), a batch size change of a stateful layer.
 * - `FormatError` (base `Error`): a model or weights file is malformed: JSON syntax, a weight shard
 *   shorter or longer than its manifest, a bad safetensors header.
 * - `IOError` (base `Error`): a file cannot be opened or read.
 */
#ifndef RECURRENT_ERRORS_HPP
#define RECURRENT_ERRORS_HPP

#include <recurrent/config.hpp>

#include <stdexcept>
#include <string>

namespace recurrent {

/// Base of every exception thrown by the library.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An argument has an invalid value (TF.js `ValueError`).
class ValueError : public Error {
 public:
  using Error::Error;
};

/// A constructor argument is invalid: units, activation name, mergeMode, missing cell, ...
class ConfigError : public ValueError {
 public:
  using ValueError::ValueError;
};

/// A tensor has the wrong rank or shape: inputs, mask, initial state, weights.
class ShapeError : public ValueError {
 public:
  using ValueError::ValueError;
};

/// Misuse of layer state: resetStates on a non-stateful layer, stateful batch change.
class StateError : public Error {
 public:
  using Error::Error;
};

/// Model import: a weight is missing, left over, or has the wrong shape (TF.js `ValueError`).
class WeightError : public ValueError {
 public:
  using ValueError::ValueError;
};

/// A model or weights file is malformed: JSON syntax, truncated or oversized shard, bad header.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// A file cannot be opened or read.
class IOError : public Error {
 public:
  using Error::Error;
};

}  // namespace recurrent

#endif  // RECURRENT_ERRORS_HPP
