// Internal, may change: the layers a loaded TF.js layers-model is made of. Each follows its
// TF.js 4.22 class: `call`, `computeMask` (only consulted when `supportsMasking`, as TF.js's
// executor does), output shapes, and the weights it needs for given input shapes — known before
// anything is allocated, so a model file can only make the loader allocate what its weight data
// holds.
#ifndef RECURRENT_IO_DETAIL_MODEL_LAYERS_HPP
#define RECURRENT_IO_DETAIL_MODEL_LAYERS_HPP

#include <recurrent/io/detail/artifacts.hpp>
#include <recurrent/io/layer_config.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::io::detail {

using Shape = std::vector<Index>;  ///< -1 = unknown (TF.js `null`)

/// How a stored weight becomes the value our layer takes.
enum class WeightTransform {
  None,
  SumHalves,  ///< CuDNNLSTM bias [8u] -> b_input + b_recurrent [4u]
  TwoRows,    ///< CuDNNGRU bias [6u] -> [2, 3u] (input row, recurrent row)
};

/// One weight a layer needs: its TF.js name below the layer (`kernel`, `forward_lstm/bias`,
/// `RNNCell_1/recurrent_kernel`) and the shape stored in the file.
struct WeightSlot {
  std::string name;
  Shape shape;
  WeightTransform transform = WeightTransform::None;
  std::string hint;  ///< what a mismatch likely means, given the layer's config
};

/// Elements of a shape (from axis `from`); unknown (-1) counts as 1. @throws ShapeError when
/// the count exceeds 2^48 (no real tensor is that large; it keeps every product exact).
inline Index product(const Shape& s, std::size_t from = 0) {
  constexpr Index kMax = Index{1} << 48;
  Index n = 1;
  for (std::size_t i = from; i < s.size(); ++i) {
    const Index d = s[i] < 0 ? 1 : s[i];
    if (d != 0 && n > kMax / d)
      raise<ShapeError>("loadLayersModel", "shape with more than 2^48 elements");
    n *= d;
  }
  return n;
}

inline std::string shapeText(const Shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + (s[i] < 0 ? std::string("null") : std::to_string(s[i]));
  return out + "]";
}

template <class Scalar>
class ModelLayer {
 public:
  using Tensor = FlatTensor<Scalar>;
  using Mask = std::optional<Tensor>;

  ModelLayer(std::string className, std::string name)
      : className_(std::move(className)), name_(std::move(name)) {}
  virtual ~ModelLayer() = default;
  ModelLayer(const ModelLayer&) = delete;
  ModelLayer& operator=(const ModelLayer&) = delete;

  const std::string& className() const { return className_; }
  const std::string& name() const { return name_; }
  std::string who(const char* method) const {
    return recurrent::detail::where(className_, name_, method);
  }

  /// TF.js `supportsMasking`: only then is `computeMask` asked for the output mask.
  virtual bool supportsMasking() const { return false; }
  /// Output shapes for input shapes (-1 = unknown). @throws ShapeError / ConfigError.
  virtual std::vector<Shape> outputShapes(const std::vector<Shape>& in) const = 0;
  /// The weights needed for these input shapes, in TF.js `layer.weights` order.
  virtual std::vector<WeightSlot> weightSlots(const std::vector<Shape>&) const { return {}; }
  /// Builds with the stored values (one per slot, shapes already checked).
  virtual void setWeights(const std::vector<Shape>&, std::vector<Tensor>) {}
  /// TF.js `call`. `mask`: the first input's mask, if any.
  virtual std::vector<Tensor> call(const std::vector<const Tensor*>& inputs,
                                   const Tensor* mask) = 0;
  /// TF.js `computeMask` (the default carries the first input's mask over).
  virtual Mask computeMask(const std::vector<const Tensor*>&, const Tensor* mask) const {
    return mask != nullptr ? Mask(*mask) : Mask();
  }
  virtual bool stateful() const { return false; }
  virtual void resetStates() {}

 protected:
  /// The single input of a one-input layer. @throws ValueError otherwise.
  const Tensor& one(const std::vector<const Tensor*>& inputs) const {
    if (inputs.size() != 1)
      raise<ValueError>(who("call"),
                        "expects 1 input tensor, got " + std::to_string(inputs.size()));
    return *inputs[0];
  }
  const Shape& oneShape(const std::vector<Shape>& in) const {
    if (in.size() != 1)
      raise<ConfigError>(who("build"), "expects 1 input tensor, got " + std::to_string(in.size()));
    return in[0];
  }
  /// The last (feature) dimension, which must be known to build weights.
  Index lastDim(const std::vector<Shape>& in) const {
    const Shape& s = oneShape(in);
    if (s.empty() || s.back() <= 0)
      raise<ShapeError>(who("build"),
                        "the last dimension of the input must be known to build "
                        "the weights; input shape " +
                            shapeText(s));
    return s.back();
  }

 private:
  std::string className_;
  std::string name_;
};

/// Dropout, SpatialDropout1D, GaussianNoise, ... : identities at inference.
template <class Scalar>
class IdentityLayer final : public ModelLayer<Scalar> {
 public:
  using typename ModelLayer<Scalar>::Tensor;
  using ModelLayer<Scalar>::ModelLayer;
  bool supportsMasking() const override { return true; }
  std::vector<Shape> outputShapes(const std::vector<Shape>& in) const override {
    return {this->oneShape(in)};
  }
  std::vector<Tensor> call(const std::vector<const Tensor*>& inputs, const Tensor*) override {
    return {this->one(inputs)};
  }
};

/// Applies an activation over the last axis of a tensor in place.
template <class Scalar>
void activateLastAxis(FlatTensor<Scalar>& t, Activation activation) {
  if (t.shape.empty() || t.data.empty()) return;
  const Index cols = t.shape.back();
  if (cols == 0) return;
  Eigen::Map<Matrix<Scalar>> m(t.data.data(), static_cast<Index>(t.data.size()) / cols, cols);
  activation.apply(m);
}

/// TF.js `Activation` layer.
template <class Scalar>
class ActivationLayer final : public ModelLayer<Scalar> {
 public:
  using typename ModelLayer<Scalar>::Tensor;
  ActivationLayer(std::string cls, std::string name, Activation a)
      : ModelLayer<Scalar>(std::move(cls), std::move(name)), activation_(a) {}
  bool supportsMasking() const override { return true; }
  std::vector<Shape> outputShapes(const std::vector<Shape>& in) const override {
    return {this->oneShape(in)};
  }
  std::vector<Tensor> call(const std::vector<const Tensor*>& inputs, const Tensor*) override {
    Tensor out = this->one(inputs);
    activateLastAxis(out, activation_);
    return {std::move(out)};
  }

 private:
  Activation activation_;
};

/// TF.js `Dense` (on the last axis of any rank ≥ 2), also as `TimeDistributed(Dense)`:
/// `y = activation(x · kernel + bias)`, kernel `[inputDim, units]`, bias `[units]`.
template <class Scalar>
class DenseLayer final : public ModelLayer<Scalar> {
 public:
  using typename ModelLayer<Scalar>::Tensor;
  DenseLayer(std::string cls, std::string name, Index units, Activation a, bool useBias,
             std::string weightPrefix)
      : ModelLayer<Scalar>(std::move(cls), std::move(name)),
        units_(units),
        activation_(a),
        useBias_(useBias),
        prefix_(std::move(weightPrefix)) {}
  bool supportsMasking() const override { return true; }
  std::vector<Shape> outputShapes(const std::vector<Shape>& in) const override {
    Shape s = this->oneShape(in);
    if (s.size() < 2)
      raise<ShapeError>(this->who("build"),
                        "expects an input of rank >= 2, got shape " + shapeText(s));
    if (this->className() == "TimeDistributed" && s.size() < 3)
      raise<ShapeError>(this->who("build"),
                        "TimeDistributed layer expects an input shape >= 3D, "
                        "but received input shape " +
                            shapeText(s));
    s.back() = units_;
    return {s};
  }
  std::vector<WeightSlot> weightSlots(const std::vector<Shape>& in) const override {
    const Index d = this->lastDim(in);
    std::vector<WeightSlot> s{{prefix_ + "kernel",
                               {d, units_},
                               WeightTransform::None,
                               "a Dense kernel is [input features, units] = [" + std::to_string(d) +
                                   ", " + std::to_string(units_) + "]"}};
    if (useBias_)
      s.push_back({prefix_ + "bias",
                   {units_},
                   WeightTransform::None,
                   "a Dense bias is [units] = [" + std::to_string(units_) + "]"});
    return s;
  }
  void setWeights(const std::vector<Shape>& in, std::vector<Tensor> values) override {
    const Index d = this->lastDim(in);
    kernel_ = Eigen::Map<const Matrix<Scalar>>(values[0].data.data(), d, units_);
    if (useBias_)
      bias_ = Eigen::Map<const Matrix<Scalar>>(values[1].data.data(), 1, units_);
    else
      bias_ = Matrix<Scalar>::Zero(1, units_);
  }
  std::vector<Tensor> call(const std::vector<const Tensor*>& inputs, const Tensor*) override {
    const Tensor& x = this->one(inputs);
    if (x.rank() < 2 || x.shape.back() != kernel_.rows())
      raise<ShapeError>(this->who("call"), "expected an input [..., " +
                                               std::to_string(kernel_.rows()) + "], got shape " +
                                               shapeText(x.shape));
    const Index rows = x.shape.back() == 0 ? 0 : static_cast<Index>(x.data.size()) / x.shape.back();
    Tensor out;
    out.shape = x.shape;
    out.shape.back() = units_;
    out.data.resize(static_cast<std::size_t>(rows * units_));
    Eigen::Map<Matrix<Scalar>> y(out.data.data(), rows, units_);
    y.noalias() = Eigen::Map<const Matrix<Scalar>>(x.data.data(), rows, kernel_.rows()) * kernel_;
    y.rowwise() += bias_.row(0);
    activateLastAxis(out, activation_);
    return {std::move(out)};
  }

 private:
  Index units_;
  Activation activation_;
  bool useBias_;
  std::string prefix_;
  Matrix<Scalar> kernel_, bias_;
};

/// TF.js `Embedding`: ids (given as numbers, truncated to integers as TF.js's cast does) ->
/// rows of `embeddings [inputDim, outputDim]`; with `maskZero` the output mask is `ids != 0`.
template <class Scalar>
class EmbeddingLayer final : public ModelLayer<Scalar> {
 public:
  using typename ModelLayer<Scalar>::Tensor;
  using typename ModelLayer<Scalar>::Mask;
  EmbeddingLayer(std::string name, Index inputDim, Index outputDim, bool maskZero)
      : ModelLayer<Scalar>("Embedding", std::move(name)),
        inputDim_(inputDim),
        outputDim_(outputDim),
        maskZero_(maskZero) {}
  bool supportsMasking() const override { return maskZero_; }
  std::vector<Shape> outputShapes(const std::vector<Shape>& in) const override {
    Shape s = this->oneShape(in);
    s.push_back(outputDim_);
    return {s};
  }
  std::vector<WeightSlot> weightSlots(const std::vector<Shape>&) const override {
    return {{"embeddings",
             {inputDim_, outputDim_},
             WeightTransform::None,
             "embeddings are [inputDim, outputDim] = [" + std::to_string(inputDim_) + ", " +
                 std::to_string(outputDim_) + "]"}};
  }
  void setWeights(const std::vector<Shape>&, std::vector<Tensor> values) override {
    table_ = std::move(values[0].data);
  }
  std::vector<Tensor> call(const std::vector<const Tensor*>& inputs, const Tensor*) override {
    const Tensor& ids = this->one(inputs);
    Tensor out;
    out.shape = ids.shape;
    out.shape.push_back(outputDim_);
    out.data.resize(ids.data.size() * static_cast<std::size_t>(outputDim_));
    for (std::size_t i = 0; i < ids.data.size(); ++i) {
      const Scalar v = ids.data[i];
      const Scalar t = std::isfinite(static_cast<double>(v)) ? std::trunc(v) : Scalar(-1);
      if (!(t >= 0 && t < static_cast<Scalar>(inputDim_)))
        raise<ValueError>(this->who("call"), "input id " + std::to_string(static_cast<double>(v)) +
                                                 " at flat position " + std::to_string(i) +
                                                 " is not in [0, " + std::to_string(inputDim_ - 1) +
                                                 "]");
      const auto row = static_cast<std::size_t>(t) * static_cast<std::size_t>(outputDim_);
      std::copy_n(table_.data() + row, outputDim_,
                  out.data.data() + i * static_cast<std::size_t>(outputDim_));
    }
    return {std::move(out)};
  }
  Mask computeMask(const std::vector<const Tensor*>& inputs, const Tensor*) const override {
    if (!maskZero_) return Mask();
    const Tensor& ids = this->one(inputs);
    Tensor m(ids.shape, std::vector<Scalar>(ids.data.size()));
    for (std::size_t i = 0; i < ids.data.size(); ++i) m.data[i] = ids.data[i] != 0 ? 1 : 0;
    return m;
  }

 private:
  Index inputDim_, outputDim_;
  bool maskZero_;
  std::vector<Scalar> table_;
};

/// TF.js `Masking`: `out = x · any(x != maskValue, last axis)`; mask = that `any`.
template <class Scalar>
class MaskingLayer final : public ModelLayer<Scalar> {
 public:
  using typename ModelLayer<Scalar>::Tensor;
  using typename ModelLayer<Scalar>::Mask;
  MaskingLayer(std::string name, double maskValue)
      : ModelLayer<Scalar>("Masking", std::move(name)), maskValue_(maskValue) {}
  bool supportsMasking() const override { return true; }
  std::vector<Shape> outputShapes(const std::vector<Shape>& in) const override {
    return {this->oneShape(in)};
  }
  std::vector<Tensor> call(const std::vector<const Tensor*>& inputs, const Tensor*) override {
    Tensor out = this->one(inputs);
    const Tensor m = keep(out);
    const auto cols = static_cast<std::size_t>(out.shape.empty() ? 1 : out.shape.back());
    for (std::size_t r = 0; r < m.data.size(); ++r)
      for (std::size_t c = 0; c < cols; ++c) out.data[r * cols + c] *= m.data[r];
    return {std::move(out)};
  }
  Mask computeMask(const std::vector<const Tensor*>& inputs, const Tensor*) const override {
    return keep(this->one(inputs));
  }

 private:
  Tensor keep(const Tensor& x) const {
    if (x.rank() < 1 || x.shape.back() == 0)
      raise<ShapeError>(this->who("call"),
                        "expected a non-empty last axis, got shape " + shapeText(x.shape));
    const auto cols = static_cast<std::size_t>(x.shape.back());
    Tensor m(Shape(x.shape.begin(), x.shape.end() - 1), std::vector<Scalar>(x.data.size() / cols));
    for (std::size_t r = 0; r < m.data.size(); ++r) {
      bool any = false;
      for (std::size_t c = 0; c < cols; ++c)
        any = any || static_cast<double>(x.data[r * cols + c]) != maskValue_;
      m.data[r] = any ? 1 : 0;
    }
    return m;
  }
  double maskValue_;
};

/// TF.js `Flatten` and `Reshape` (no mask support, as in TF.js: the mask stops here).
template <class Scalar>
class ReshapeLayer final : public ModelLayer<Scalar> {
 public:
  using typename ModelLayer<Scalar>::Tensor;
  /// `target` empty: Flatten. Otherwise the target shape without the batch axis (-1 = infer).
  ReshapeLayer(std::string cls, std::string name, Shape target)
      : ModelLayer<Scalar>(std::move(cls), std::move(name)), target_(std::move(target)) {}
  std::vector<Shape> outputShapes(const std::vector<Shape>& in) const override {
    const Shape& s = this->oneShape(in);
    if (s.empty()) raise<ShapeError>(this->who("build"), "expects an input with a batch axis");
    bool known = true;
    for (std::size_t i = 1; i < s.size(); ++i) known = known && s[i] >= 0;
    if (this->className() == "Flatten") {
      if (s.size() < 2)
        raise<ShapeError>(this->who("build"),
                          "expects an input of rank >= 2 (got " + shapeText(s) + ")");
      return {{s[0], known ? product(s, 1) : -1}};
    }
    Shape out{s[0]};
    if (!known) {
      out.insert(out.end(), target_.begin(), target_.end());
      return {out};
    }
    const Shape t = resolve(Shape(s.begin() + 1, s.end()), "build");
    out.insert(out.end(), t.begin(), t.end());
    return {out};
  }
  std::vector<Tensor> call(const std::vector<const Tensor*>& inputs, const Tensor*) override {
    Tensor out = this->one(inputs);
    if (out.shape.empty()) raise<ShapeError>(this->who("call"), "expects a batch axis");
    const Shape rest(out.shape.begin() + 1, out.shape.end());
    Shape s{out.shape[0]};
    if (this->className() == "Flatten") {
      s.push_back(product(rest));
    } else {
      const Shape t = resolve(rest, "call");
      s.insert(s.end(), t.begin(), t.end());
    }
    out.shape = std::move(s);
    return {std::move(out)};
  }

 private:
  /// TF.js `fixUnknownDimension`.
  Shape resolve(const Shape& in, const char* method) const {
    Shape t = target_;
    Index known = 1;
    int unknown = -1;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] < 0) {
        if (unknown >= 0)
          raise<ConfigError>(this->who(method), "Can only specifiy one unknown dimension.");
        unknown = static_cast<int>(i);
      } else {
        known *= t[i];
      }
    }
    const Index original = product(in);
    const std::string msg = "Total size of new array must be unchanged: input " + shapeText(in) +
                            ", targetShape " + shapeText(target_) + ".";
    if (unknown >= 0) {
      if (known == 0 || original % known != 0) raise<ShapeError>(this->who(method), msg);
      t[static_cast<std::size_t>(unknown)] = original / known;
    } else if (original != known) {
      raise<ShapeError>(this->who(method), msg);
    }
    return t;
  }
  Shape target_;
};

/// A recurrent layer (SimpleRNN, GRU, LSTM, RNN, Bidirectional; Keras's CuDNNLSTM/CuDNNGRU
/// mapped onto LSTM/reset-after GRU) run by the library's own layers. Extra inputs of a node are
/// the initial states (TF.js `apply([x, ...initialState])`).
template <class Scalar>
class RecurrentLayer final : public ModelLayer<Scalar> {
 public:
  using typename ModelLayer<Scalar>::Tensor;
  using typename ModelLayer<Scalar>::Mask;
  /// `spec`: `{"class_name", "config"}` in camelCase, CuDNN classes already mapped; `slots` are
  /// computed by the loader from the config for the node's input shape.
  RecurrentLayer(std::string cls, std::string name, nlohmann::json spec,
                 std::function<std::vector<WeightSlot>(Index)> slots)
      : ModelLayer<Scalar>(std::move(cls), std::move(name)),
        spec_(std::move(spec)),
        slots_(std::move(slots)),
        layer_(layerFromConfig<Scalar>(spec_)) {}
  bool supportsMasking() const override { return true; }
  bool stateful() const override { return layer_.stateful(); }
  void resetStates() override {
    if (layer_.stateful()) layer_.resetStates();
  }
  std::vector<Shape> outputShapes(const std::vector<Shape>& in) const override {
    if (in.empty()) raise<ConfigError>(this->who("build"), "called without inputs");
    if (in[0].size() != 3)
      raise<ShapeError>(this->who("build"),
                        "Input 0 is incompatible with layer " + this->name() +
                            ": expected ndim=3, found ndim=" + std::to_string(in[0].size()) +
                            " (shape " + shapeText(in[0]) + ")");
    return layer_.computeOutputShape(in[0]);
  }
  std::vector<WeightSlot> weightSlots(const std::vector<Shape>& in) const override {
    if (in.empty() || in[0].size() != 3 || in[0][2] <= 0)
      raise<ShapeError>(this->who("build"),
                        "the feature dimension of the input must be known to build the weights; "
                        "input shape " +
                            (in.empty() ? std::string("none") : shapeText(in[0])));
    return slots_(in[0][2]);
  }
  void setWeights(const std::vector<Shape>& in, std::vector<Tensor> values) override {
    const std::vector<WeightSlot> slots = weightSlots(in);
    for (std::size_t i = 0; i < values.size(); ++i) {
      Tensor& v = values[i];
      if (slots[i].transform == WeightTransform::SumHalves) {
        const std::size_t half = v.data.size() / 2;
        std::vector<Scalar> sum(half);
        for (std::size_t j = 0; j < half; ++j) sum[j] = v.data[j] + v.data[half + j];
        v = Tensor({static_cast<Index>(half)}, std::move(sum));
      } else if (slots[i].transform == WeightTransform::TwoRows) {
        v.shape = {2, static_cast<Index>(v.data.size() / 2)};
      }
    }
    layer_.build({-1, -1, in[0][2]});
    layer_.setWeights(values);
  }
  std::vector<Tensor> call(const std::vector<const Tensor*>& inputs, const Tensor* mask) override {
    if (inputs.empty()) raise<ValueError>(this->who("call"), "called without inputs");
    LayerCallArgs<Scalar> args;
    if (mask != nullptr) args.mask = *mask;
    for (std::size_t i = 1; i < inputs.size(); ++i) args.initialState.push_back(*inputs[i]);
    return layer_.apply(*inputs[0], args);
  }
  /// TF.js RNN/Bidirectional `computeMask`: the input mask when returning sequences, else none
  /// (the executor gives every output of the call the first output's mask).
  Mask computeMask(const std::vector<const Tensor*>&, const Tensor* mask) const override {
    if (mask == nullptr || !returnSequences()) return Mask();
    return Mask(*mask);
  }
  AnyLayer<Scalar>& layer() { return layer_; }

 private:
  bool returnSequences() const {
    const nlohmann::json& cfg = configOf(spec_);
    const nlohmann::json* inner = find(cfg, "layer");
    const nlohmann::json& c = inner != nullptr ? configOf(*inner) : cfg;
    const nlohmann::json* r = find(c, "returnSequences", "return_sequences");
    return r != nullptr && r->is_boolean() && r->get<bool>();
  }
  nlohmann::json spec_;
  std::function<std::vector<WeightSlot>(Index)> slots_;
  AnyLayer<Scalar> layer_;
};

}  // namespace recurrent::io::detail

#endif  // RECURRENT_IO_DETAIL_MODEL_LAYERS_HPP
