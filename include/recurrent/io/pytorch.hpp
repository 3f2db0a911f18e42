/** @file
 * PyTorch `nn.LSTM` / `nn.GRU` / `nn.RNN` state dicts (safetensors) → the library's layers
 * (optional part, target `recurrent::json`). See docs/import-pytorch.md.
 *
 *     // python: tools/pytorch/export_safetensors.py writes model.safetensors (+ metadata)
 *     auto rnn = recurrent::io::loadTorchRNN<float>("model.safetensors", {{}, "encoder.rnn."});
 *     auto y = rnn.forward(x);  // x [B, T, F] (batch_first); y.output [B, T, D·H], y.hN, y.cN
 *     // a module built with batch_first=False (PyTorch's default) takes and gives [T, B, ·]
 *
 * One converted layer per PyTorch layer (`returnSequences`, `returnState`), wrapped in
 * `Bidirectional` (concat) when the module is bidirectional; layer k feeds layer k+1 as in
 * PyTorch (no inter-layer dropout: inference). Weight mapping (H = hidden_size, blocks of H
 * rows; `kerasWeightsFromTorch` does it for one layer and direction):
 *
 * | PyTorch                              | library (TF.js / Keras layout)                     |
 * |--------------------------------------|----------------------------------------------------|
 * | `weight_ih_l{k}` `[g·H, in]`         | `kernel` `[in, g·H]` (transposed); in = F or D·H   |
 * | `weight_hh_l{k}` `[g·H, H]`          | `recurrent_kernel` `[H, g·H]` (transposed)         |
 * | LSTM gates i, f, g, o (g = 4)        | `LSTM` gates i, f, c, o (same order); sigmoid/tanh |
 * | LSTM `bias_ih`, `bias_hh` `[4H]`     | `bias` `[4H]` = b_ih + b_hh                        |
 * | GRU gates r, z, n (g = 3)            | `GRU` z, r, h (blocks 0, 1 swapped), `resetAfter`  |
 * | GRU `bias_ih`, `bias_hh` `[3H]`      | `bias` `[2, 3H]` = [b_ih; b_hh], blocks swapped    |
 * | RNN (g = 1), tanh or relu            | `SimpleRNN`, that activation; bias = b_ih + b_hh   |
 * | `bias=False` (no bias keys)          | `useBias = false`                                  |
 * | `..._l{k}_reverse`                   | backward half of `Bidirectional` (concat)          |
 * | `h0`/`c0`/`h_n`/`c_n` `[L·D, B, H]`  | index k·D + d: layer k, direction d (1 = backward) |
 *
 * Reading the state dict (`torchRNNFromStateDict`): only keys starting with
 * `TorchRNNOptions::prefix` belong to the module (others are ignored). The mode is
 * `TorchRNNOptions::mode`, else the `__metadata__` written by tools/pytorch/export_safetensors.py
 * (`module`, `nonlinearity`; used only when its `prefix` equals the options' prefix), else
 * inferred from `weight_hh_l0` (4·H rows: LSTM, 3·H: GRU; a plain RNN needs the mode). Sizes,
 * `num_layers`, `bidirectional` and `bias` come from that metadata too, else from the keys
 * (layers `l0 … l{max}`, bidirectional iff a `_reverse` key exists, biased iff a bias key exists).
 * `batch_first` (the layout `forward` takes and gives) is `TorchRNNOptions::batchFirst`, else the
 * metadata's, else true (a state dict alone does not record it).
 * Every tensor under the prefix must be used and every expected one present, with its exact
 * shape: otherwise a `WeightError` names the key, the expected and received shapes and the
 * likely reason (a `prefix` to pass, `proj_size` unsupported, a mode that does not match the
 * rows, layer k's input size). Errors name the module: `nn.LSTM (prefix 'encoder.rnn.'): ...`.
 */
#ifndef RECURRENT_IO_PYTORCH_HPP
#define RECURRENT_IO_PYTORCH_HPP

#include <recurrent/io/safetensors.hpp>
#include <recurrent/recurrent.hpp>

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::io {

/// Which PyTorch module a state dict belongs to.
enum class TorchRNNMode { LSTM, GRU, RNNTanh, RNNRelu };

/// Options of `torchRNNFromStateDict` / `loadTorchRNN`.
struct TorchRNNOptions {
  /// Default: the file's `__metadata__` ("module"/"nonlinearity"), else inferred from the rows
  /// (LSTM 4·H, GRU 3·H); a plain RNN without metadata needs it (ConfigError otherwise).
  std::optional<TorchRNNMode> mode;
  /// Key prefix of the module, e.g. "encoder.rnn."; keys outside it are ignored.
  std::string prefix;
  /// `RNNLayerOptions::threads` of every converted layer.
  int threads = 1;
  /// PyTorch's `batch_first`: `forward` takes `[B, T, F]` and gives `[B, T, D·H]` when true,
  /// `[T, B, F]` and `[T, B, D·H]` when false. Default: the metadata's `batch_first`, else true.
  std::optional<bool> batchFirst;
};

/// A converted PyTorch recurrent module with PyTorch's calling convention.
/// Movable, not copyable; not thread-safe (one instance per thread).
template <class Scalar>
class TorchRNN {
 public:
  struct Output {
    FlatTensor<Scalar> output;  ///< `[B, T, D·H]` or `[T, B, D·H]` (forward half, then backward)
    FlatTensor<Scalar> hN;      ///< `[L·D, B, H]`
    FlatTensor<Scalar> cN;      ///< `[L·D, B, H]`, LSTM only (empty otherwise)
  };

  /// PyTorch `module(input, h0)` / `module(input, (h0, c0))`: `input` `[B, T, F]` (`[T, B, F]`
  /// unless `batchFirst()`), `h0`/`c0` `[L·D, B, H]` (null: zeros; `c0` only for LSTM).
  /// @throws ShapeError / ValueError.
  Output forward(const FlatTensor<Scalar>& input, const FlatTensor<Scalar>* h0 = nullptr,
                 const FlatTensor<Scalar>* c0 = nullptr);

  TorchRNNMode mode() const { return mode_; }
  Index inputSize() const { return inputSize_; }
  Index hiddenSize() const { return hiddenSize_; }
  Index numLayers() const { return static_cast<Index>(layers_.size()); }
  bool bidirectional() const { return bidirectional_; }
  bool bias() const { return bias_; }
  bool batchFirst() const { return batchFirst_; }
  /// "nn.LSTM (prefix 'encoder.rnn.')", as errors name the module.
  const std::string& description() const { return who_; }
  /// One layer per PyTorch layer: `LSTM`/`GRU`/`SimpleRNN` (returnSequences, returnState), or
  /// `Bidirectional` (concat) of it.
  std::vector<AnyLayer<Scalar>>& layers() { return layers_; }

 private:
  template <class S>
  friend TorchRNN<S> torchRNNFromStateDict(const SafeTensors&, const TorchRNNOptions&);
  TorchRNN() = default;
  /// `forward` on checked batch-major `input` `[B, T, F]`.
  Output forwardBatchMajor(const FlatTensor<Scalar>& input, const FlatTensor<Scalar>* h0,
                           const FlatTensor<Scalar>* c0);

  TorchRNNMode mode_ = TorchRNNMode::LSTM;
  Index inputSize_ = 0, hiddenSize_ = 0;
  bool bidirectional_ = false, bias_ = true, batchFirst_ = true;
  std::string who_;
  std::vector<AnyLayer<Scalar>> layers_;
};

/// Converts the module under `options.prefix` of a state dict.
/// @throws WeightError (missing, left-over or mis-shaped tensor), ConfigError (mode unknown),
/// FormatError (bad metadata value, non-float dtype).
template <class Scalar>
TorchRNN<Scalar> torchRNNFromStateDict(const SafeTensors& stateDict,
                                       const TorchRNNOptions& options = {});

/// `torchRNNFromStateDict(SafeTensors::fromFile(path), options)`. Also IOError / FormatError.
template <class Scalar = float>
TorchRNN<Scalar> loadTorchRNN(const std::string& safetensorsPath,
                              const TorchRNNOptions& options = {}) {
  return torchRNNFromStateDict<Scalar>(SafeTensors::fromFile(safetensorsPath), options);
}

/// One layer and direction: PyTorch `weight_ih [g·H, F]`, `weight_hh [g·H, H]`, optional
/// `bias_ih`, `bias_hh [g·H]` (both or neither) → `{kernel, recurrent_kernel[, bias]}` for
/// `setWeights` of the matching layer (see the table above: GRU needs `resetAfter = true`).
/// @throws WeightError for inconsistent shapes.
template <class Scalar>
std::vector<FlatTensor<Scalar>> kerasWeightsFromTorch(TorchRNNMode mode,
                                                      const FlatTensor<Scalar>& weight_ih,
                                                      const FlatTensor<Scalar>& weight_hh,
                                                      const FlatTensor<Scalar>* bias_ih,
                                                      const FlatTensor<Scalar>* bias_hh);

// ---------------------------------------------------------------------------------------------
// implementation
// ---------------------------------------------------------------------------------------------

namespace detail {

inline Index torchGates(TorchRNNMode m) {
  return m == TorchRNNMode::LSTM ? 4 : (m == TorchRNNMode::GRU ? 3 : 1);
}
inline std::string torchModuleName(std::optional<TorchRNNMode> m) {
  if (!m) return "nn.LSTM/GRU/RNN";
  return *m == TorchRNNMode::LSTM ? "nn.LSTM" : (*m == TorchRNNMode::GRU ? "nn.GRU" : "nn.RNN");
}
inline std::string torchWho(std::optional<TorchRNNMode> m, const std::string& prefix) {
  return torchModuleName(m) + (prefix.empty() ? std::string() : " (prefix '" + prefix + "')");
}

/// The validated layout of one module in a state dict: sizes and, per layer and direction, the
/// full keys of weight_ih, weight_hh, bias_ih, bias_hh.
struct TorchModuleSpec {
  TorchRNNMode mode = TorchRNNMode::LSTM;
  Index inputSize = 0, hiddenSize = 0, numLayers = 0, directions = 1;
  bool bias = true, batchFirst = true;
  std::string who;
  std::vector<std::vector<std::string>> keys;  // [k·D + d] -> 4 keys (bias keys only if bias)
};

/// `weight_ih_l3_reverse` -> {kind 0..3, layer 3, reverse}; kind -1 if not such a key.
struct TorchKey {
  int kind = -1;
  Index layer = 0;
  bool reverse = false;
};
inline TorchKey parseTorchKey(const std::string& s) {
  static const char* const kBases[] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"};
  TorchKey out;
  for (int kind = 0; kind < 4; ++kind) {
    const std::string base = kBases[kind];
    if (s.compare(0, base.size(), base) != 0) continue;
    std::string rest = s.substr(base.size());
    const std::string rev = "_reverse";
    const bool reverse =
        rest.size() > rev.size() && rest.compare(rest.size() - rev.size(), rev.size(), rev) == 0;
    if (reverse) rest.resize(rest.size() - rev.size());
    if (rest.empty() || rest.size() > 6 || (rest.size() > 1 && rest[0] == '0') ||
        rest.find_first_not_of("0123456789") != std::string::npos)
      return out;
    out.kind = kind;
    out.layer = static_cast<Index>(std::stol(rest));
    out.reverse = reverse;
    return out;
  }
  return out;
}

/// `[a, b, c]` -> `[b, a, c]` (PyTorch's sequence-major layout to batch-major and back).
template <class Scalar>
FlatTensor<Scalar> swapLeadingAxes(const FlatTensor<Scalar>& x) {
  const Index a = x.shape[0], b = x.shape[1], c = x.shape[2];
  FlatTensor<Scalar> out({b, a, c}, std::vector<Scalar>(x.data.size()));
  const auto row = static_cast<std::size_t>(c);
  for (Index i = 0; i < a; ++i)
    for (Index j = 0; j < b; ++j)
      std::copy_n(
          x.data.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i * b + j) * row),
          row,
          out.data.begin() +
              static_cast<std::ptrdiff_t>(static_cast<std::size_t>(j * a + i) * row));
  return out;
}

/// Validates the keys and shapes of the module under `prefix` (see the file comment).
inline TorchModuleSpec torchModuleSpec(const SafeTensors& st, const TorchRNNOptions& opt) {
  using recurrent::detail::raise;
  using recurrent::detail::shapeString;
  const std::string& prefix = opt.prefix;
  // The metadata describes this module if it says so (export_safetensors.py's keys).
  const auto& md = st.metadata();
  const bool useMeta =
      md.count("module") != 0 && (md.count("prefix") == 0 || md.at("prefix") == prefix);
  auto metaValue = [&](const char* key) -> const std::string* {
    const auto it = md.find(key);
    return useMeta && it != md.end() ? &it->second : nullptr;
  };
  auto metaIndex = [&](const char* key) -> std::optional<Index> {
    const std::string* v = metaValue(key);
    if (v == nullptr) return std::nullopt;
    if (v->empty() || v->size() > 9 || v->find_first_not_of("0123456789") != std::string::npos)
      raise<FormatError>(
          torchWho(opt.mode, prefix),
          std::string("__metadata__['") + key + "'] = '" + *v + "' is not a non-negative integer");
    return static_cast<Index>(std::stol(*v));
  };
  auto metaBool = [&](const char* key) -> std::optional<bool> {
    const std::string* v = metaValue(key);
    if (v == nullptr) return std::nullopt;
    if (*v != "true" && *v != "false")
      raise<FormatError>(
          torchWho(opt.mode, prefix),
          std::string("__metadata__['") + key + "'] = '" + *v + "' is not \"true\" or \"false\"");
    return *v == "true";
  };

  // Keys under the prefix, parsed; the first unrecognised one is kept for the error.
  std::map<std::string, TorchKey> params;
  std::string unknown, suggestion;
  bool any = false;
  const std::string l0 = "weight_ih_l0";
  for (const std::string& name : st.names()) {
    if (name.size() > l0.size() && name.compare(name.size() - l0.size(), l0.size(), l0) == 0 &&
        suggestion.empty() && name.substr(0, name.size() - l0.size()) != prefix)
      suggestion = name.substr(0, name.size() - l0.size());
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    any = true;
    const TorchKey key = parseTorchKey(name.substr(prefix.size()));
    if (key.kind >= 0) {
      params[name] = key;
    } else if (unknown.empty()) {
      unknown = name;
    }
  }
  const std::string suggestedPrefix = suggestion;
  if (!suggestion.empty()) suggestion = " (the recurrent weights are under '" + suggestion + "')";
  auto reportUnknown = [&](std::optional<TorchRNNMode> m) {
    const std::string who = torchWho(m, prefix), rest = unknown.substr(prefix.size());
    const std::string module = torchModuleName(m);
    std::string why;
    if (rest.compare(0, 11, "weight_hr_l") == 0) {
      why = "proj_size (weight_hr) is not supported";
    } else if (rest.find('.') != std::string::npos) {
      why = "keys outside " + module + ": pass TorchRNNOptions::prefix" + suggestion;
    } else {
      why = "not a parameter of " + module +
            " (weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, _reverse for the "
            "backward direction)";
    }
    raise<WeightError>(
        who, "unexpected tensor '" + unknown + "' " + shapeString(st.shape(unknown)) + ": " + why);
  };
  if (!any)
    raise<WeightError>(torchWho(opt.mode, prefix),
                       "no tensor under prefix '" + prefix + "'" + suggestion);

  // Mode: options, metadata, or the rows of weight_hh_l0.
  const std::string hh0 = prefix + "weight_hh_l0", ih0 = prefix + "weight_ih_l0";
  std::optional<TorchRNNMode> mode = opt.mode;
  std::string modeFrom = "TorchRNNOptions::mode";
  if (!mode && metaValue("module") != nullptr) {
    const std::string& m = *metaValue("module");
    const std::string* nl = metaValue("nonlinearity");
    modeFrom = "__metadata__";
    if (m == "LSTM") {
      mode = TorchRNNMode::LSTM;
    } else if (m == "GRU") {
      mode = TorchRNNMode::GRU;
    } else if (m == "RNN" && (nl == nullptr || *nl == "tanh")) {
      mode = TorchRNNMode::RNNTanh;
    } else if (m == "RNN" && *nl == "relu") {
      mode = TorchRNNMode::RNNRelu;
    } else {
      raise<ConfigError>(torchWho(std::nullopt, prefix),
                         "__metadata__ module '" + m + "'" +
                             (nl != nullptr ? " nonlinearity '" + *nl + "'" : std::string()) +
                             " is not LSTM, GRU or RNN (tanh/relu): pass TorchRNNOptions::mode");
    }
  }
  auto modeFromRows = [&](const std::string& key) -> std::optional<TorchRNNMode> {
    const auto& s = st.shape(key);
    if (s.size() == 2 && s[1] > 0 && s[0] == 4 * s[1]) return TorchRNNMode::LSTM;
    if (s.size() == 2 && s[1] > 0 && s[0] == 3 * s[1]) return TorchRNNMode::GRU;
    return std::nullopt;
  };
  if (!mode) {
    if (!st.contains(hh0)) {
      const std::string elsewhere = suggestedPrefix + "weight_hh_l0";
      if (!unknown.empty())
        reportUnknown(st.contains(elsewhere) ? modeFromRows(elsewhere) : std::nullopt);
      raise<WeightError>(torchWho(std::nullopt, prefix), "missing tensor '" + hh0 + "'");
    }
    const auto& s = st.shape(hh0);
    modeFrom = "inferred from " + hh0 + " " + shapeString(s);
    mode = modeFromRows(hh0);
    if (!mode && s.size() == 2 && s[1] > 0 && s[0] == s[1])
      raise<ConfigError>(torchWho(std::nullopt, prefix),
                         hh0 + " " + shapeString(s) +
                             " is a plain nn.RNN and the file has no metadata saying which "
                             "nonlinearity: pass TorchRNNOptions::mode = RNNTanh or RNNRelu");
    if (!mode)
      raise<WeightError>(torchWho(std::nullopt, prefix),
                         hh0 +
                             ": expected shape [g·H, H] with g = 4 (LSTM), 3 (GRU) or 1 "
                             "(RNN), got " +
                             shapeString(s));
  }
  if (!unknown.empty()) reportUnknown(mode);

  TorchModuleSpec spec;
  spec.mode = *mode;
  spec.who = torchWho(mode, prefix);
  const std::string& who = spec.who;
  const Index g = torchGates(spec.mode);
  auto requireRank2 = [&](const std::string& key) -> const std::vector<Index>& {
    if (!st.contains(key)) raise<WeightError>(who, "missing tensor '" + key + "'");
    const auto& s = st.shape(key);
    if (s.size() != 2 || s[1] <= 0)
      raise<WeightError>(who, "'" + key + "': expected a matrix [" + std::to_string(g) +
                                  "·H, in], got shape " + shapeString(s));
    return s;
  };
  const auto metaHidden = metaIndex("hidden_size"), metaInput = metaIndex("input_size");
  spec.hiddenSize = metaHidden ? *metaHidden : requireRank2(hh0)[1];
  spec.inputSize = metaInput ? *metaInput : requireRank2(ih0)[1];
  const std::string hiddenFrom = metaHidden ? "__metadata__" : hh0;
  const std::string inputFrom = metaInput ? "__metadata__" : ih0;
  Index maxLayer = 0;
  bool anyReverse = false, anyBias = false;
  for (const auto& [name, key] : params) {
    maxLayer = std::max(maxLayer, key.layer);
    anyReverse = anyReverse || key.reverse;
    anyBias = anyBias || key.kind >= 2;
  }
  const auto metaLayers = metaIndex("num_layers");
  const auto metaBidir = metaBool("bidirectional");
  const auto metaBias = metaBool("bias");
  spec.numLayers = metaLayers ? *metaLayers : maxLayer + 1;
  spec.directions = (metaBidir ? *metaBidir : anyReverse) ? 2 : 1;
  spec.bias = metaBias ? *metaBias : anyBias;
  const auto metaBatchFirst = metaBool("batch_first");
  spec.batchFirst = opt.batchFirst ? *opt.batchFirst : metaBatchFirst.value_or(true);
  if (spec.hiddenSize <= 0 || spec.inputSize <= 0 || spec.numLayers <= 0)
    raise<WeightError>(who, "hidden_size " + std::to_string(spec.hiddenSize) + ", input_size " +
                                std::to_string(spec.inputSize) + ", num_layers " +
                                std::to_string(spec.numLayers) + ": each must be positive");
  const Index H = spec.hiddenSize, D = spec.directions;
  const std::string layout =
      "num_layers = " + std::to_string(spec.numLayers) +
      ", bidirectional = " + (D == 2 ? "true" : "false") +
      ", bias = " + (spec.bias ? "true" : "false") + " (" +
      (metaLayers || metaBidir || metaBias ? "from __metadata__" : "from the keys present") + ")";
  auto otherMode = [&](Index rows) -> std::string {
    if (rows == g * H) return "";
    if (rows == 4 * H) return "; 4·H rows means an LSTM, but the mode is ";
    if (rows == 3 * H) return "; 3·H rows means a GRU, but the mode is ";
    if (rows == H) return "; H rows means a plain RNN, but the mode is ";
    return "";
  };

  static const char* const kBases[] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"};
  std::set<std::string> used;
  for (Index k = 0; k < spec.numLayers; ++k) {
    const Index in = k == 0 ? spec.inputSize : D * H;
    for (Index d = 0; d < D; ++d) {
      std::vector<std::string> keys;
      for (int kind = 0; kind < (spec.bias ? 4 : 2); ++kind) {
        const std::string key =
            prefix + kBases[kind] + std::to_string(k) + (d == 1 ? "_reverse" : "");
        if (!st.contains(key))
          raise<WeightError>(who, "missing tensor '" + key + "', expected by " + layout);
        std::vector<Index> want{g * H};
        if (kind == 0) want.push_back(in);
        if (kind == 1) want.push_back(H);
        const auto& got = st.shape(key);
        if (got != want) {
          std::string why;
          if (!got.empty()) {
            const std::string other = otherMode(got[0]);
            if (!other.empty()) why = other + torchModuleName(spec.mode) + " (" + modeFrom + ")";
          }
          if (why.empty() && kind == 0 && got.size() == 2 && got[1] != in)
            why = k == 0 ? "; input_size is " + std::to_string(in) + " (from " + inputFrom + ")"
                         : "; layer " + std::to_string(k) +
                               "'s input is the D·H = " + std::to_string(in) +
                               " outputs of layer " + std::to_string(k - 1);
          if (why.empty())
            why = "; hidden_size is " + std::to_string(H) + " (from " + hiddenFrom + ")";
          raise<WeightError>(who, "'" + key + "': expected shape " + shapeString(want) + ", got " +
                                      shapeString(got) + why);
        }
        used.insert(key);
        keys.push_back(key);
      }
      spec.keys.push_back(std::move(keys));
    }
  }
  for (const auto& [name, key] : params) {
    if (used.count(name) != 0) continue;
    std::string why = layout;
    if (key.layer >= spec.numLayers) {
      why = "layer " + std::to_string(key.layer) + " does not exist: " + layout;
    } else if (key.reverse && D == 1) {
      why = "a backward-direction tensor, but " + layout;
    } else if (key.kind >= 2 && !spec.bias) {
      why = "a bias, but " + layout;
    }
    raise<WeightError>(
        who, "unexpected tensor '" + name + "' " + shapeString(st.shape(name)) + ": " + why);
  }
  return spec;
}

template <class Scalar, class Layer, class Args>
AnyLayer<Scalar> torchLayer(Args args, const TorchModuleSpec& spec, Index inputDim,
                            const TorchRNNOptions& opt, const std::string& name,
                            const char* className) {
  args.units = spec.hiddenSize;
  args.useBias = spec.bias;
  args.kernelInitializer = InitializerKind::Zeros;  // overwritten by setWeights: skip the work
  args.recurrentInitializer = InitializerKind::Zeros;
  args.returnSequences = true;
  args.returnState = true;
  args.inputDim = inputDim;
  args.threads = opt.threads;
  args.name = name;
  if (spec.directions == 2) {
    BidirectionalArgs b;
    b.name = name;
    return AnyLayer<Scalar>(Bidirectional<Layer>(Layer(args), b), "Bidirectional");
  }
  return AnyLayer<Scalar>(Layer(args), className);
}

}  // namespace detail

template <class Scalar>
std::vector<FlatTensor<Scalar>> kerasWeightsFromTorch(TorchRNNMode mode,
                                                      const FlatTensor<Scalar>& weight_ih,
                                                      const FlatTensor<Scalar>& weight_hh,
                                                      const FlatTensor<Scalar>* bias_ih,
                                                      const FlatTensor<Scalar>* bias_hh) {
  using recurrent::detail::raise;
  using recurrent::detail::shapeString;
  const std::string who = "kerasWeightsFromTorch(" + detail::torchModuleName(mode) + ")";
  const Index g = detail::torchGates(mode);
  auto check = [&](const char* what, const FlatTensor<Scalar>& t, std::vector<Index> want) {
    if (t.shape != want || static_cast<Index>(t.data.size()) != t.size())
      raise<WeightError>(who, std::string(what) + ": expected shape " + shapeString(want) + " (" +
                                  std::to_string(want.size() == 1 ? want[0] : want[0] * want[1]) +
                                  " values), got " + shapeString(t.shape) + " (" +
                                  std::to_string(t.data.size()) + " values)");
  };
  if (weight_hh.rank() != 2 || weight_hh.shape[1] <= 0 || weight_ih.rank() != 2)
    raise<WeightError>(who, "weight_ih [g·H, in] and weight_hh [g·H, H] must be matrices, got " +
                                shapeString(weight_ih.shape) + " and " +
                                shapeString(weight_hh.shape));
  const Index H = weight_hh.shape[1], F = weight_ih.shape[1], n = g * H;
  check("weight_hh", weight_hh, {n, H});
  check("weight_ih", weight_ih, {n, F});
  if ((bias_ih == nullptr) != (bias_hh == nullptr))
    raise<WeightError>(who, "bias_ih and bias_hh: pass both or neither");
  // Keras column j of the fused axis comes from PyTorch row src(j): GRU swaps blocks 0 and 1.
  auto src = [&](Index j) {
    Index block = j / H;
    if (mode == TorchRNNMode::GRU && block < 2) block = 1 - block;
    return block * H + j % H;
  };
  auto transpose = [&](const FlatTensor<Scalar>& w, Index cols) {
    FlatTensor<Scalar> out({cols, n}, std::vector<Scalar>(static_cast<std::size_t>(cols * n)));
    for (Index c = 0; c < cols; ++c)
      for (Index j = 0; j < n; ++j)
        out.data[static_cast<std::size_t>(c * n + j)] =
            w.data[static_cast<std::size_t>(src(j) * cols + c)];
    return out;
  };
  std::vector<FlatTensor<Scalar>> out{transpose(weight_ih, F), transpose(weight_hh, H)};
  if (bias_ih != nullptr) {
    check("bias_ih", *bias_ih, {n});
    check("bias_hh", *bias_hh, {n});
    const bool gru = mode == TorchRNNMode::GRU;
    FlatTensor<Scalar> b(gru ? std::vector<Index>{2, n} : std::vector<Index>{n},
                         std::vector<Scalar>(static_cast<std::size_t>(gru ? 2 * n : n)));
    for (Index j = 0; j < n; ++j) {
      const auto s = static_cast<std::size_t>(src(j)), u = static_cast<std::size_t>(j);
      if (gru) {
        b.data[u] = bias_ih->data[s];
        b.data[u + static_cast<std::size_t>(n)] = bias_hh->data[s];
      } else {
        b.data[u] = bias_ih->data[s] + bias_hh->data[s];
      }
    }
    out.push_back(std::move(b));
  }
  return out;
}

template <class Scalar>
TorchRNN<Scalar> torchRNNFromStateDict(const SafeTensors& stateDict,
                                       const TorchRNNOptions& options) {
  const detail::TorchModuleSpec spec = detail::torchModuleSpec(stateDict, options);
  TorchRNN<Scalar> out;
  out.mode_ = spec.mode;
  out.inputSize_ = spec.inputSize;
  out.hiddenSize_ = spec.hiddenSize;
  out.bidirectional_ = spec.directions == 2;
  out.bias_ = spec.bias;
  out.batchFirst_ = spec.batchFirst;
  out.who_ = spec.who;
  for (Index k = 0; k < spec.numLayers; ++k) {
    const Index in = k == 0 ? spec.inputSize : spec.directions * spec.hiddenSize;
    const std::string name = "l" + std::to_string(k);
    std::vector<FlatTensor<Scalar>> weights;
    for (Index d = 0; d < spec.directions; ++d) {
      const auto& keys = spec.keys[static_cast<std::size_t>(k * spec.directions + d)];
      auto get = [&](std::size_t i) { return stateDict.tensor<Scalar>(keys[i]); };
      std::optional<FlatTensor<Scalar>> bih, bhh;
      if (spec.bias) bih = get(2), bhh = get(3);
      for (auto& w : kerasWeightsFromTorch<Scalar>(spec.mode, get(0), get(1), bih ? &*bih : nullptr,
                                                   bhh ? &*bhh : nullptr))
        weights.push_back(std::move(w));
    }
    if (spec.mode == TorchRNNMode::LSTM) {
      LSTMArgs a;
      a.recurrentActivation = ActivationKind::Sigmoid;
      out.layers_.push_back(
          detail::torchLayer<Scalar, LSTM<Scalar>>(a, spec, in, options, name, "LSTM"));
    } else if (spec.mode == TorchRNNMode::GRU) {
      GRUArgs a;
      a.recurrentActivation = ActivationKind::Sigmoid;
      a.resetAfter = true;
      out.layers_.push_back(
          detail::torchLayer<Scalar, GRU<Scalar>>(a, spec, in, options, name, "GRU"));
    } else {
      SimpleRNNArgs a;
      a.activation =
          spec.mode == TorchRNNMode::RNNRelu ? ActivationKind::Relu : ActivationKind::Tanh;
      out.layers_.push_back(
          detail::torchLayer<Scalar, SimpleRNN<Scalar>>(a, spec, in, options, name, "SimpleRNN"));
    }
    out.layers_.back().setWeights(weights);
  }
  return out;
}

template <class Scalar>
typename TorchRNN<Scalar>::Output TorchRNN<Scalar>::forward(const FlatTensor<Scalar>& input,
                                                            const FlatTensor<Scalar>* h0,
                                                            const FlatTensor<Scalar>* c0) {
  using recurrent::detail::raise;
  using recurrent::detail::shapeString;
  if (input.rank() != 3 || input.shape[2] != inputSize_ ||
      static_cast<Index>(input.data.size()) != input.size())
    raise<ShapeError>(
        who_ + ".forward",
        "input: expected " + std::string(batchFirst_ ? "[batch, time, " : "[time, batch, ") +
            std::to_string(inputSize_) + "] (batch_first " + (batchFirst_ ? "true" : "false") +
            "), got shape " + shapeString(input.shape) + " with " +
            std::to_string(input.data.size()) + " values");
  if (!batchFirst_) {  // [T, B, ·] <-> [B, T, ·] around the batch-major layers
    Output out = forwardBatchMajor(detail::swapLeadingAxes(input), h0, c0);
    out.output = detail::swapLeadingAxes(out.output);
    return out;
  }
  return forwardBatchMajor(input, h0, c0);
}

template <class Scalar>
typename TorchRNN<Scalar>::Output TorchRNN<Scalar>::forwardBatchMajor(
    const FlatTensor<Scalar>& input, const FlatTensor<Scalar>* h0, const FlatTensor<Scalar>* c0) {
  using recurrent::detail::raise;
  using recurrent::detail::shapeString;
  const std::string who = who_ + ".forward";
  const bool lstm = mode_ == TorchRNNMode::LSTM;
  const Index H = hiddenSize_, D = bidirectional_ ? 2 : 1, L = numLayers();
  const Index B = input.shape[0];
  const std::vector<Index> stateShape{L * D, B, H};
  if (c0 != nullptr && !lstm)
    raise<ValueError>(who, "c0 is the cell state of an nn.LSTM; this module has none");
  for (const auto& [p, what] : {std::pair{h0, "h0"}, std::pair{c0, "c0"}})
    if (p != nullptr && (p->shape != stateShape || static_cast<Index>(p->data.size()) != p->size()))
      raise<ShapeError>(who, std::string(what) + ": expected shape " + shapeString(stateShape) +
                                 " [num_layers·directions, batch, hidden], got " +
                                 shapeString(p->shape) + " with " + std::to_string(p->data.size()) +
                                 " values");
  const auto slab = static_cast<std::size_t>(B * H);
  auto slice = [&](const FlatTensor<Scalar>* p, Index i) {
    FlatTensor<Scalar> s({B, H}, std::vector<Scalar>(slab, Scalar(0)));
    if (p != nullptr)
      std::copy_n(p->data.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * slab),
                  slab, s.data.begin());
    return s;
  };
  Output out;
  out.hN =
      FlatTensor<Scalar>(stateShape, std::vector<Scalar>(static_cast<std::size_t>(L * D) * slab));
  if (lstm) out.cN = FlatTensor<Scalar>(stateShape, out.hN.data);
  const FlatTensor<Scalar>* x = &input;
  for (Index k = 0; k < L; ++k) {
    LayerCallArgs<Scalar> args;
    if (h0 != nullptr || c0 != nullptr) {
      for (Index d = 0; d < D; ++d) {
        args.initialState.push_back(slice(h0, k * D + d));
        if (lstm) args.initialState.push_back(slice(c0, k * D + d));
      }
    }
    auto result = layers_[static_cast<std::size_t>(k)].apply(*x, args);
    const std::size_t perDirection = lstm ? 2 : 1;
    for (Index d = 0; d < D; ++d) {
      const auto at = static_cast<std::ptrdiff_t>(static_cast<std::size_t>(k * D + d) * slab);
      const std::size_t first = 1 + static_cast<std::size_t>(d) * perDirection;
      std::copy_n(result[first].data.begin(), slab, out.hN.data.begin() + at);
      if (lstm) std::copy_n(result[first + 1].data.begin(), slab, out.cN.data.begin() + at);
    }
    out.output = std::move(result[0]);
    x = &out.output;
  }
  return out;
}

}  // namespace recurrent::io

#endif  // RECURRENT_IO_PYTORCH_HPP
