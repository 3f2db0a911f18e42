/** @file
 * ONNX models (`.onnx`) made of the recurrent operators `LSTM`, `GRU`, `RNN` and the glue that
 * exporters put around them → the library's layers. Needs only the core target
 * (`recurrent::recurrent`: no JSON, no protobuf). See docs/import-onnx.md.
 *
 *     auto model = recurrent::io::loadOnnx<float>("lstm.onnx");
 *     auto out = model.run({{"X", recurrent::io::OnnxTensor<float>::floats({T, B, I}, x)}});
 *     const auto& y = out.at("Y");  // [T, num_directions, B, H], as onnxruntime gives it
 *
 * What loads:
 * - opsets 7–22 of the default domain; IR versions 3–11; FLOAT, INT32 and INT64 tensors
 *   (initializers as `raw_data` or typed fields, or external data files relative to the model);
 * - `LSTM`, `GRU`, `RNN`: every attribute and input of the ONNX spec (`direction`, `layout`,
 *   `activations` with `activation_alpha`/`activation_beta`, `clip`, `input_forget`, peepholes
 *   `P`, `linear_before_reset`, `sequence_lens`, `initial_h`/`initial_c`, optional inputs and
 *   outputs missing). Each direction becomes one `LSTM` / `GRU` / `SimpleRNN` layer of this
 *   library (`goBackwards` for reverse), its weights mapped once at load (ONNX gate blocks
 *   LSTM i,o,f,c → i,f,c,o; GRU z,r,h as they are; biases W_b + R_b, or [W_b; R_b] for
 *   `linear_before_reset = 1`, which is `resetAfter`); `sequence_lens` is the layers'
 *   `CallArgs::sequenceLengths`. The weights `W`, `R`, `B`, `P` must be constant (initializers,
 *   `Constant` nodes, or computed from them only);
 * - glue: `Transpose`, `Squeeze`, `Unsqueeze`, `Concat`, `Slice`, `Gather`, `Reshape`, `Cast`,
 *   `Identity`, `Constant`, `Shape`, `ConstantOfShape`, `Expand`, `Add`, `Sub`, `Mul`, `Div`,
 *   `MatMul`, `Gemm`, `Range`, `ReduceProd`, `ScatterElements`, `TopK` — in their forms of
 *   opsets 7–22 —
 *   as far as torch.onnx.export and other exporters use them around recurrent layers. Nodes
 *   whose inputs are all constant are computed once at load.
 *
 * Where onnxruntime departs from the ONNX spec this follows the spec (docs/import-onnx.md):
 * `layout = 1` runs (onnxruntime refuses it), and a parametric activation without its
 * `activation_alpha`/`activation_beta` takes the spec's defaults (onnxruntime uses 0 for
 * ThresholdedRelu, Affine and ScaledTanh).
 *
 * Errors, all before any allocation sized by the file: `FormatError` for bytes that are not a
 * valid ModelProto (truncated, lengths past the end, a tensor whose data does not match its
 * dims), `ConfigError` for an unsupported op, attribute, opset or element type (naming the node
 * and its op), `ShapeError` / `WeightError` for tensors of the wrong shape (node, input,
 * expected, got), `ValueError` for bad run-time values (`sequence_lens` out of [0, T]), `IOError`
 * for unreadable files. Messages start with `loadOnnx '<file>'` or `OnnxModel.run`.
 */
#ifndef RECURRENT_IO_ONNX_HPP
#define RECURRENT_IO_ONNX_HPP

#include <recurrent/errors.hpp>
#include <recurrent/types.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace recurrent::io {

/// The element types an ONNX graph's tensors may have here (TensorProto.DataType values).
enum class OnnxType : std::int32_t { Float = 1, Int32 = 6, Int64 = 7 };

/// One tensor of an ONNX graph, row-major: FLOAT values as `Scalar`, integers as int64.
template <class Scalar>
struct OnnxTensor {
  OnnxType type = OnnxType::Float;
  std::vector<Index> shape;
  std::vector<Scalar> values;      ///< `Float`
  std::vector<std::int64_t> ints;  ///< `Int32`, `Int64`

  Index size() const {
    Index n = 1;
    for (Index d : shape) n *= d;
    return n;
  }
  static OnnxTensor floats(std::vector<Index> shape, std::vector<Scalar> values) {
    OnnxTensor t;
    t.shape = std::move(shape);
    t.values = std::move(values);
    return t;
  }
  static OnnxTensor integers(OnnxType type, std::vector<Index> shape,
                             std::vector<std::int64_t> values) {
    OnnxTensor t;
    t.type = type;
    t.shape = std::move(shape);
    t.ints = std::move(values);
    return t;
  }
};

/// A graph input or output: name, element type and dims (a negative dim is symbolic: `dimNames`
/// holds its `dim_param`, possibly empty).
struct OnnxValueInfo {
  std::string name;
  OnnxType type = OnnxType::Float;
  bool hasShape = false;
  std::vector<Index> dims;
  std::vector<std::string> dimNames;
};

/// Options of `loadOnnx`.
struct OnnxOptions {
  /// `RNNLayerOptions::threads` of every recurrent layer (1 = the calling thread).
  int threads = 1;
};

namespace detail::onnx {
template <class Scalar>
class Graph;
}  // namespace detail::onnx

/**
 * @brief A loaded ONNX model: `run` maps graph inputs to graph outputs.
 *
 * Movable, not copyable; not thread-safe (one instance per thread): the layers keep their
 * buffers between runs, so a second run of the same shapes allocates only its outputs.
 */
template <class Scalar = float>
class OnnxModel {
 public:
  using Tensor = OnnxTensor<Scalar>;

  OnnxModel(OnnxModel&&) noexcept;
  OnnxModel& operator=(OnnxModel&&) noexcept;
  ~OnnxModel();

  /// The inputs `run` needs (graph inputs that are not initializers), in graph order.
  const std::vector<OnnxValueInfo>& inputs() const;
  /// The graph outputs, in graph order.
  const std::vector<OnnxValueInfo>& outputs() const;
  /// The default-domain opset the model imports.
  std::int64_t opset() const;

  /// Runs the graph. Every input must be fed with its declared element type and rank, and its
  /// fixed dims; symbolic dims are free. Returns every graph output.
  /// @throws ShapeError / ValueError naming the node, the input, expected and got.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& feeds);

 private:
  template <class S>
  friend OnnxModel<S> onnxFromBytes(std::string_view bytes, const std::string& name,
                                    const std::string& directory, const OnnxOptions& options);
  explicit OnnxModel(std::unique_ptr<detail::onnx::Graph<Scalar>> graph);
  std::unique_ptr<detail::onnx::Graph<Scalar>> graph_;
};

/// Loads an `.onnx` file (external data files are read relative to its directory).
/// @throws IOError, FormatError, ConfigError, ShapeError, WeightError (see the file comment).
template <class Scalar = float>
OnnxModel<Scalar> loadOnnx(const std::string& path, const OnnxOptions& options = {});

/// Loads a serialized ModelProto from memory. `name` appears in error messages; external data
/// files are read relative to `directory` (empty: external data is refused).
template <class Scalar = float>
OnnxModel<Scalar> onnxFromBytes(std::string_view bytes, const std::string& name = "<memory>",
                                const std::string& directory = "", const OnnxOptions& options = {});

}  // namespace recurrent::io

#include <recurrent/io/detail/onnx_graph.hpp>

#endif  // RECURRENT_IO_ONNX_HPP
