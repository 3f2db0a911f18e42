// Internal, may change: the layers a TF.js layers-model is made of. Each follows its TF.js 4.22
// class: `forward` (TF.js `call`, with `training`), `computeMask` (only consulted when
// `supportsMasking`, as TF.js's executor does), output shapes, and the weights it needs for given
// input shapes — known before anything is allocated, so a model file can only make the loader
// allocate what its weight data holds. For training, `backward` turns ∂L/∂outputs of the last
// recorded `forward` into ∂L/∂inputs and the gradients of the layer's `variables()`, with
// TF.js's derivatives (`detail/activation_grad.hpp`); one implementation of each layer's maths
// serves inference and training.
#ifndef RECURRENT_IO_DETAIL_MODEL_LAYERS_HPP
#define RECURRENT_IO_DETAIL_MODEL_LAYERS_HPP

#include <recurrent/detail/activation_grad.hpp>
#include <recurrent/io/detail/artifacts.hpp>
#include <recurrent/io/layer_config.hpp>
#include <recurrent/random.hpp>

#include <cmath>
#include <functional>
#include <map>
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

/// How a layer is run: TF.js's `training` flag, and whether to keep what `backward` needs.
struct ForwardMode {
  bool training = false;
  bool record = false;
};

/// A trainable weight of a model layer: its values and the gradient the last `backward` left,
/// both owned by the layer (the optimizer updates `value` in place, then the model calls the
/// layer's `variablesChanged`).
template <class Scalar>
struct LayerVariable {
  std::string name;  ///< below the layer, e.g. `kernel`, `forward_lstm/bias`
  Shape shape;
  Scalar* value = nullptr;
  Scalar* gradient = nullptr;
  Index size = 0;
};

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
  /// Fresh weights from the layer's initializers (a model built in code), one per slot.
  virtual std::vector<Tensor> initialWeights(const std::vector<Shape>& in) {
    std::vector<Tensor> out;
    for (const WeightSlot& s : weightSlots(in)) {
      auto it = initializers_.find(s.name);
      const Initializer init = it != initializers_.end() ? it->second
                               : s.shape.size() == 1     ? Initializer::zeros()
                                                         : Initializer::glorotUniform();
      const Index cols = s.shape.empty() ? 1 : s.shape.back();
      Matrix<Scalar> m(product(s.shape) / std::max<Index>(cols, 1), cols);
      init.fill(m, s.shape.size() == 1);
      out.emplace_back(s.shape, std::vector<Scalar>(m.data(), m.data() + m.size()));
    }
    return out;
  }
  /// The initializer of weight `slot` (TF.js `kernelInitializer` ...), for `initialWeights`.
  void setInitializer(const std::string& slot, const Initializer& init) {
    initializers_[slot] = init;
  }
  /// TF.js `call(inputs, {mask, training})` into `outputs`. `mask`: the first input's mask, if
  /// any. With `mode.record` the layer keeps what `backward` needs (inputs and outputs are the
  /// caller's). `outputs` is the caller's and is overwritten in place: a tensor keeps its
  /// capacity, so a training loop that passes the same vector every batch allocates nothing once
  /// the sizes are known.
  virtual void forward(const std::vector<const Tensor*>& inputs, const Tensor* mask,
                       const ForwardMode& mode, std::vector<Tensor>& outputs) = 0;
  /// `forward` at inference, into fresh tensors.
  std::vector<Tensor> call(const std::vector<const Tensor*>& inputs, const Tensor* mask) {
    std::vector<Tensor> outputs;
    forward(inputs, mask, ForwardMode{}, outputs);
    return outputs;
  }
  /// TF.js `computeMask` into `out` (the default carries the first input's mask over). `masks`
  /// holds every input's mask (null where none); only merge layers look beyond the first. `out`
  /// is the caller's and is overwritten in place (a mask kept engaged keeps its storage).
  virtual void computeMask(const std::vector<const Tensor*>&, const Tensor* mask,
                           const std::vector<const Tensor*>& /*masks*/, Mask& out) const {
    if (mask != nullptr)
      engaged(out) = *mask;
    else
      out.reset();
  }
  virtual bool stateful() const { return false; }
  virtual void resetStates() {}

  // --- training --------------------------------------------------------------------------
  /// False for layers whose training behaviour is not implemented (the model refuses to compile).
  virtual bool trainable() const { return true; }
  /// Backpropagation through the last `forward` (which had `mode.record`), whose inputs and
  /// outputs are passed again: `dOutputs[k]` = ∂L/∂outputs[k] (an empty shape = zeros). Writes
  /// ∂L/∂inputs[i] into `dInputs[i]` (sized by the caller; left empty where no gradient flows,
  /// e.g. Embedding ids) and sets (overwrites) the gradients of `variables()`.
  virtual void backward(const std::vector<const Tensor*>& inputs,
                        const std::vector<Tensor>& outputs, const std::vector<Tensor>& dOutputs,
                        std::vector<Tensor>& dInputs) = 0;
  /// Trainable weights, TF.js `trainableWeights` order (empty before `setWeights`).
  virtual std::vector<LayerVariable<Scalar>> variables() { return {}; }
  /// The values behind `variables()` were changed in place (an optimizer step).
  virtual void variablesChanged() {}

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
  /// `m`'s tensor, made if `m` holds none (for `computeMask` to fill).
  static Tensor& engaged(Mask& m) {
    if (!m) m.emplace();
    return *m;
  }
  /// `outputs` holding one tensor (of a one-output layer), for `forward` to fill.
  static Tensor& single(std::vector<Tensor>& outputs) {
    outputs.resize(1);
    return outputs[0];
  }
  /// `dOutputs[k]`, or null when it is empty (= zeros).
  static const Tensor* given(const std::vector<Tensor>& dOutputs, std::size_t k) {
    return k < dOutputs.size() && !dOutputs[k].shape.empty() ? &dOutputs[k] : nullptr;
  }
  /// `t` := zeros of `shape`.
  static void zeros(Tensor& t, const Shape& shape) {
    t.shape = shape;
    t.data.assign(static_cast<std::size_t>(product(shape)), Scalar(0));
  }

 private:
  std::string className_;
  std::string name_;
  std::map<std::string, Initializer> initializers_;
};

/// Rows of a tensor seen as `[rows, lastDim]`.
template <class Scalar>
Index rowsOf(const FlatTensor<Scalar>& t) {
  return t.shape.empty() || t.shape.back() == 0
             ? 0
             : static_cast<Index>(t.data.size()) / t.shape.back();
}

/// Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout, AlphaDropout: identities at
/// inference. In training (TF.js `inTrainPhase`): Dropout keeps each value with probability
/// 1 − rate and scales it by 1 / (1 − rate) (SpatialDropout1D: one draw per sample and feature,
/// shared over time), GaussianNoise adds N(0, stddev), GaussianDropout multiplies by
/// N(1, √(rate / (1 − rate))); AlphaDropout is not trainable here. The random numbers come from
/// the layer's seeded engine, not TF.js's (docs/tfjs-differences.md).
template <class Scalar>
class NoiseLayer final : public ModelLayer<Scalar> {
 public:
  using typename ModelLayer<Scalar>::Tensor;
  NoiseLayer(std::string cls, std::string name, double rate, double stddev, std::uint64_t seed)
      : ModelLayer<Scalar>(std::move(cls), std::move(name)),
        rate_(rate),
        stddev_(stddev),
        rng_(seed) {}
  bool supportsMasking() const override { return true; }
  bool trainable() const override { return this->className() != "AlphaDropout" || !active(); }
  std::vector<Shape> outputShapes(const std::vector<Shape>& in) const override {
    return {this->oneShape(in)};
  }
  void forward(const std::vector<const Tensor*>& inputs, const Tensor*, const ForwardMode& mode,
               std::vector<Tensor>& outputs) override {
    Tensor& out = this->single(outputs);
    out = this->one(inputs);  // copy-assignment: reuses out's storage
    factor_.clear();
    if (!mode.training || !active()) return;
    const std::string& cls = this->className();
    if (cls == "AlphaDropout")
      raise<ConfigError>(this->who("call"), "training through AlphaDropout is not supported");
    if (cls == "GaussianNoise") {
      for (Scalar& v : out.data) v += static_cast<Scalar>(rng_.normal(0.0, stddev_));
      return;
    }
    factor_.resize(out.data.size());
    if (cls == "GaussianDropout") {
      const double sd = std::sqrt(rate_ / (1.0 - rate_));
      for (Scalar& f : factor_) f = static_cast<Scalar>(rng_.normal(1.0, sd));
    } else {
      const auto scale = static_cast<Scalar>(1.0 / (1.0 - rate_));
      const bool spatial = cls == "SpatialDropout1D" && out.rank() == 3;
      const auto features = static_cast<std::size_t>(out.shape.empty() ? 1 : out.shape.back());
      const std::size_t steps = spatial ? static_cast<std::size_t>(out.shape[1]) : 1;
      for (std::size_t i = 0; i < factor_.size(); ++i) {
        const std::size_t t = spatial ? (i / features) % steps : 0;
        factor_[i] =
            t == 0 ? (rng_.uniform() >= rate_ ? scale : Scalar(0)) : factor_[i - t * features];
      }
    }
    for (std::size_t i = 0; i < out.data.size(); ++i) out.data[i] *= factor_[i];
  }
  void backward(const std::vector<const Tensor*>& inputs, const std::vector<Tensor>&,
                const std::vector<Tensor>& dOutputs, std::vector<Tensor>& dInputs) override {
    const Tensor* d = this->given(dOutputs, 0);
    if (d == nullptr) return this->zeros(dInputs[0], this->one(inputs).shape);
    dInputs[0] = *d;
    if (!factor_.empty())
      for (std::size_t i = 0; i < factor_.size(); ++i) dInputs[0].data[i] *= factor_[i];
  }

 private:
  bool active() const {
    return this->className() == "GaussianNoise" ? stddev_ > 0 : rate_ > 0 && rate_ < 1;
  }
  double rate_, stddev_;
  RandomEngine rng_;
  std::vector<Scalar> factor_;  ///< the multipliers of the last training call (empty: identity)
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

/// `d ← ∂L/∂x` from `d = ∂L/∂y` row by row over the last axis, for `y = activation(x)` (`x` may
/// be null when the activation's derivative reads only y).
template <class Scalar>
void activationBackward(Activation activation, const FlatTensor<Scalar>* x,
                        const FlatTensor<Scalar>& y, FlatTensor<Scalar>& d) {
  const Index cols = d.shape.empty() ? 0 : d.shape.back();
  if (cols == 0 || activation.kind() == ActivationKind::Linear) return;
  for (Index r = 0, rows = rowsOf(d); r < rows; ++r)
    recurrent::detail::activationGrad(activation.kind(),
                                      x != nullptr ? x->data.data() + r * cols : nullptr,
                                      y.data.data() + r * cols, d.data.data() + r * cols, cols);
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
  void forward(const std::vector<const Tensor*>& inputs, const Tensor*, const ForwardMode&,
               std::vector<Tensor>& outputs) override {
    Tensor& out = this->single(outputs);
    out = this->one(inputs);
    activateLastAxis(out, activation_);
  }
  void backward(const std::vector<const Tensor*>& inputs, const std::vector<Tensor>& outputs,
                const std::vector<Tensor>& dOutputs, std::vector<Tensor>& dInputs) override {
    const Tensor* d = this->given(dOutputs, 0);
    if (d == nullptr) return this->zeros(dInputs[0], this->one(inputs).shape);
    dInputs[0] = *d;
    activationBackward(activation_, inputs[0], outputs[0], dInputs[0]);
  }

 private:
  Activation activation_;
};

/// TF.js `Dense` (on the last axis of any rank ≥ 2), also as `TimeDistributed(Dense)`:
/// `y = activation(x · kernel + bias)`, kernel `[inputDim, units]`, bias `[units]`.
/// Backward: `∂z = activation'(∂y)`, `∂kernel = xᵀ·∂z`, `∂bias = Σ_rows ∂z`, `∂x = ∂z·kernelᵀ`.
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
  void forward(const std::vector<const Tensor*>& inputs, const Tensor*, const ForwardMode& mode,
               std::vector<Tensor>& outputs) override {
    const Tensor& x = this->one(inputs);
    if (x.rank() < 2 || x.shape.back() != kernel_.rows())
      raise<ShapeError>(this->who("call"), "expected an input [..., " +
                                               std::to_string(kernel_.rows()) + "], got shape " +
                                               shapeText(x.shape));
    const Index rows = rowsOf(x);
    Tensor& out = this->single(outputs);
    out.shape = x.shape;
    out.shape.back() = units_;
    out.data.resize(static_cast<std::size_t>(rows * units_));
    Eigen::Map<Matrix<Scalar>> y(out.data.data(), rows, units_);
    y.noalias() = Eigen::Map<const Matrix<Scalar>>(x.data.data(), rows, kernel_.rows()) * kernel_;
    y.rowwise() += bias_.row(0);
    if (mode.record && recurrent::detail::needsPreActivation(activation_.kind()))
      preActivation_ = out;
    activateLastAxis(out, activation_);
  }
  void backward(const std::vector<const Tensor*>& inputs, const std::vector<Tensor>& outputs,
                const std::vector<Tensor>& dOutputs, std::vector<Tensor>& dInputs) override {
    const Tensor& x = *inputs[0];
    const Index rows = rowsOf(x), in = kernel_.rows();
    const Tensor* d = this->given(dOutputs, 0);
    if (d == nullptr) {
      dKernel_.setZero(in, units_);
      dBias_.setZero(1, units_);
      return this->zeros(dInputs[0], x.shape);
    }
    dz_ = *d;
    activationBackward(activation_, &preActivation_, outputs[0], dz_);
    const Eigen::Map<const Matrix<Scalar>> dz(dz_.data.data(), rows, units_);
    const Eigen::Map<const Matrix<Scalar>> xm(x.data.data(), rows, in);
    dKernel_.noalias() = xm.transpose() * dz;
    dBias_ = dz.colwise().sum();
    dInputs[0].shape = x.shape;
    dInputs[0].data.resize(x.data.size());
    Eigen::Map<Matrix<Scalar>>(dInputs[0].data.data(), rows, in).noalias() =
        dz * kernel_.transpose();
  }
  std::vector<LayerVariable<Scalar>> variables() override {
    dKernel_.setZero(kernel_.rows(), kernel_.cols());
    dBias_.setZero(1, units_);
    std::vector<LayerVariable<Scalar>> v{{prefix_ + "kernel",
                                          {kernel_.rows(), units_},
                                          kernel_.data(),
                                          dKernel_.data(),
                                          kernel_.size()}};
    if (useBias_) v.push_back({prefix_ + "bias", {units_}, bias_.data(), dBias_.data(), units_});
    return v;
  }

 private:
  Index units_;
  Activation activation_;
  bool useBias_;
  std::string prefix_;
  Matrix<Scalar> kernel_, bias_;
  Matrix<Scalar> dKernel_, dBias_;
  Tensor preActivation_, dz_;
};

/// TF.js `Embedding`: ids (given as numbers, truncated to integers as TF.js's cast does) ->
/// rows of `embeddings [inputDim, outputDim]`; with `maskZero` the output mask is `ids != 0`.
/// Backward: each id's row of ∂embeddings gathers the ∂outputs of its positions; ids get none.
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
  void forward(const std::vector<const Tensor*>& inputs, const Tensor*, const ForwardMode&,
               std::vector<Tensor>& outputs) override {
    const Tensor& ids = this->one(inputs);
    Tensor& out = this->single(outputs);
    out.shape = ids.shape;
    out.shape.push_back(outputDim_);
    out.data.resize(ids.data.size() * static_cast<std::size_t>(outputDim_));
    for (std::size_t i = 0; i < ids.data.size(); ++i)
      std::copy_n(table_.data() + row(ids, i), outputDim_,
                  out.data.data() + i * static_cast<std::size_t>(outputDim_));
  }
  void backward(const std::vector<const Tensor*>& inputs, const std::vector<Tensor>&,
                const std::vector<Tensor>& dOutputs, std::vector<Tensor>&) override {
    grad_.assign(table_.size(), Scalar(0));
    const Tensor* d = this->given(dOutputs, 0);
    if (d == nullptr) return;
    const Tensor& ids = *inputs[0];
    const auto width = static_cast<std::size_t>(outputDim_);
    for (std::size_t i = 0; i < ids.data.size(); ++i) {
      const std::size_t r = row(ids, i);
      for (std::size_t c = 0; c < width; ++c) grad_[r + c] += d->data[i * width + c];
    }
  }
  std::vector<LayerVariable<Scalar>> variables() override {
    grad_.assign(table_.size(), Scalar(0));
    return {{"embeddings",
             {inputDim_, outputDim_},
             table_.data(),
             grad_.data(),
             static_cast<Index>(table_.size())}};
  }
  void computeMask(const std::vector<const Tensor*>& inputs, const Tensor*,
                   const std::vector<const Tensor*>&, Mask& out) const override {
    if (!maskZero_) return out.reset();
    const Tensor& ids = this->one(inputs);
    Tensor& m = this->engaged(out);
    m.shape = ids.shape;
    m.data.resize(ids.data.size());
    for (std::size_t i = 0; i < ids.data.size(); ++i) m.data[i] = ids.data[i] != 0 ? 1 : 0;
  }

 private:
  /// Offset of the row of id `ids.data[i]`. @throws ValueError for an id outside the table.
  std::size_t row(const Tensor& ids, std::size_t i) const {
    const Scalar v = ids.data[i];
    const Scalar t = std::isfinite(static_cast<double>(v)) ? std::trunc(v) : Scalar(-1);
    if (!(t >= 0 && t < static_cast<Scalar>(inputDim_)))
      raise<ValueError>(this->who("call"), "input id " + std::to_string(static_cast<double>(v)) +
                                               " at flat position " + std::to_string(i) +
                                               " is not in [0, " + std::to_string(inputDim_ - 1) +
                                               "]");
    return static_cast<std::size_t>(t) * static_cast<std::size_t>(outputDim_);
  }
  Index inputDim_, outputDim_;
  bool maskZero_;
  std::vector<Scalar> table_, grad_;
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
  void forward(const std::vector<const Tensor*>& inputs, const Tensor*, const ForwardMode&,
               std::vector<Tensor>& outputs) override {
    Tensor& out = this->single(outputs);
    out = this->one(inputs);
    keep(out, keep_);
    scaleRows(out, keep_);
  }
  void backward(const std::vector<const Tensor*>& inputs, const std::vector<Tensor>&,
                const std::vector<Tensor>& dOutputs, std::vector<Tensor>& dInputs) override {
    const Tensor* d = this->given(dOutputs, 0);
    if (d == nullptr) return this->zeros(dInputs[0], inputs[0]->shape);
    dInputs[0] = *d;
    keep(*inputs[0], keep_);
    scaleRows(dInputs[0], keep_);
  }
  void computeMask(const std::vector<const Tensor*>& inputs, const Tensor*,
                   const std::vector<const Tensor*>&, Mask& out) const override {
    keep(this->one(inputs), this->engaged(out));
  }

 private:
  static void scaleRows(Tensor& t, const Tensor& m) {
    const auto cols = static_cast<std::size_t>(t.shape.empty() ? 1 : t.shape.back());
    for (std::size_t r = 0; r < m.data.size(); ++r)
      for (std::size_t c = 0; c < cols; ++c) t.data[r * cols + c] *= m.data[r];
  }
  /// `m` := any(x != maskValue) over the last axis (in m's storage).
  void keep(const Tensor& x, Tensor& m) const {
    if (x.rank() < 1 || x.shape.back() == 0)
      raise<ShapeError>(this->who("call"),
                        "expected a non-empty last axis, got shape " + shapeText(x.shape));
    const auto cols = static_cast<std::size_t>(x.shape.back());
    m.shape.assign(x.shape.begin(), x.shape.end() - 1);
    m.data.resize(x.data.size() / cols);
    for (std::size_t r = 0; r < m.data.size(); ++r) {
      bool any = false;
      for (std::size_t c = 0; c < cols; ++c)
        any = any || static_cast<double>(x.data[r * cols + c]) != maskValue_;
      m.data[r] = any ? 1 : 0;
    }
  }
  double maskValue_;
  Tensor keep_;  ///< scratch of forward / backward
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
    resolve(s, "build", out);
    return {out};
  }
  void forward(const std::vector<const Tensor*>& inputs, const Tensor*, const ForwardMode&,
               std::vector<Tensor>& outputs) override {
    const Tensor& x = this->one(inputs);
    if (x.shape.empty()) raise<ShapeError>(this->who("call"), "expects a batch axis");
    Tensor& out = this->single(outputs);
    out.shape.assign(1, x.shape[0]);
    if (this->className() == "Flatten") {
      out.shape.push_back(product(x.shape, 1));
    } else {
      resolve(x.shape, "call", out.shape);
    }
    out.data = x.data;
  }
  void backward(const std::vector<const Tensor*>& inputs, const std::vector<Tensor>&,
                const std::vector<Tensor>& dOutputs, std::vector<Tensor>& dInputs) override {
    const Tensor* d = this->given(dOutputs, 0);
    if (d == nullptr) return this->zeros(dInputs[0], inputs[0]->shape);
    dInputs[0].shape = inputs[0]->shape;
    dInputs[0].data = d->data;
  }

 private:
  /// TF.js `fixUnknownDimension` for the input `in` (with its batch axis, which is not
  /// reshaped): appends the target shape, its unknown dimension resolved, to `out`.
  void resolve(const Shape& in, const char* method, Shape& out) const {
    const std::size_t at = out.size();
    out.insert(out.end(), target_.begin(), target_.end());
    Index known = 1;
    int unknown = -1;
    for (std::size_t i = 0; i < target_.size(); ++i) {
      if (target_[i] < 0) {
        if (unknown >= 0)
          raise<ConfigError>(this->who(method), "Can only specifiy one unknown dimension.");
        unknown = static_cast<int>(i);
      } else {
        known *= target_[i];
      }
    }
    const Index original = product(in, 1);
    auto fail = [&] {  // the message is built only when raising
      raise<ShapeError>(this->who(method), "Total size of new array must be unchanged: input " +
                                               shapeText(Shape(in.begin() + 1, in.end())) +
                                               ", targetShape " + shapeText(target_) + ".");
    };
    if (unknown >= 0) {
      if (known == 0 || original % known != 0) fail();
      out[at + static_cast<std::size_t>(unknown)] = original / known;
    } else if (original != known) {
      fail();
    }
  }
  Shape target_;
};

/// TF.js merge layers: `Concatenate` (along `axis`, default -1), `Add`, `Subtract` (two
/// inputs), `Multiply`, `Average`, `Maximum`, `Minimum` over inputs of one shape. The output
/// mask is the AND of the inputs' masks (none when no input has one), as TF.js's
/// `Merge.computeMask` / `Concatenate.computeMask` for masks over the non-feature axes.
/// Backward of Maximum/Minimum gives a tie to the first input that holds the extreme.
template <class Scalar>
class MergeLayer final : public ModelLayer<Scalar> {
 public:
  using typename ModelLayer<Scalar>::Tensor;
  using typename ModelLayer<Scalar>::Mask;
  MergeLayer(std::string cls, std::string name, Index axis)
      : ModelLayer<Scalar>(std::move(cls), std::move(name)),
        op_(opOf(this->className())),
        axis_(axis) {}
  bool supportsMasking() const override { return true; }
  std::vector<Shape> outputShapes(const std::vector<Shape>& in) const override {
    const std::string who = this->who("build");
    if (in.size() < 2 || (op_ == Op::Subtract && in.size() != 2))
      raise<ConfigError>(
          who, std::string("A merge layer should be called on ") +
                   (op_ == Op::Subtract ? "exactly 2 inputs" : "a list of at least 2 inputs") +
                   ". Got " + std::to_string(in.size()) + " inputs.");
    Shape out = in[0];
    if (op_ != Op::Concatenate) {
      for (const Shape& s : in)
        if (!compatible(s, out, -1))
          raise<ShapeError>(who, "inputs of different shapes " + shapeText(in[0]) + " and " +
                                     shapeText(s) + " (this library merges equal shapes only)");
      return {out};
    }
    const std::size_t a = axisOf(out.size(), "build");
    out[a] = 0;
    for (const Shape& s : in) {
      if (s.size() != in[0].size() || !compatible(s, in[0], static_cast<Index>(a)))
        raise<ShapeError>(who,
                          "A `Concatenate` layer requires inputs with matching shapes except for "
                          "the concat axis. Got input shapes: " +
                              shapeText(in[0]) + ", " + shapeText(s));
      out[a] = out[a] < 0 || s[a] < 0 ? -1 : out[a] + s[a];
    }
    return {out};
  }
  void forward(const std::vector<const Tensor*>& inputs, const Tensor*, const ForwardMode&,
               std::vector<Tensor>& outputs) override {
    // The checks of outputShapes on concrete shapes, in place (this runs every batch of fit).
    if (inputs.size() < 2 || (op_ == Op::Subtract && inputs.size() != 2)) {
      std::vector<Shape> shapes;
      for (const Tensor* t : inputs) shapes.push_back(t->shape);
      outputShapes(shapes);  // raises with the build-time message
    }
    Tensor& out = this->single(outputs);
    const Shape& first = inputs[0]->shape;
    if (op_ == Op::Concatenate) {
      const std::size_t a = axisOf(first.size(), "call");
      outer_ = 1;
      for (std::size_t d = 0; d < a; ++d) outer_ *= static_cast<std::size_t>(first[d]);
      width_.clear();
      for (const Tensor* t : inputs) {
        bool ok = t->shape.size() == first.size();
        for (std::size_t d = 0; ok && d < first.size(); ++d) ok = d == a || t->shape[d] == first[d];
        if (!ok)
          raise<ShapeError>(this->who("call"),
                            "A `Concatenate` layer requires inputs with matching shapes except "
                            "for the concat axis. Got input shapes: " +
                                shapeText(first) + ", " + shapeText(t->shape));
        width_.push_back(static_cast<std::size_t>(product(t->shape, a)));
      }
      out.shape.assign(first.begin(), first.end());
      out.shape[a] = 0;
      for (const Tensor* t : inputs) out.shape[a] += t->shape[a];
      out.data.resize(static_cast<std::size_t>(product(out.shape)));
      std::size_t at = 0;
      for (std::size_t o = 0; o < outer_; ++o)
        for (std::size_t i = 0; i < inputs.size(); ++i) {
          std::copy_n(inputs[i]->data.data() + o * width_[i], width_[i], out.data.data() + at);
          at += width_[i];
        }
      return;
    }
    for (std::size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i]->shape != first)
        raise<ShapeError>(this->who("call"), "input " + std::to_string(i) + " has shape " +
                                                 shapeText(inputs[i]->shape) + ", input 0 " +
                                                 shapeText(first));
    out.shape.assign(first.begin(), first.end());
    out.data.assign(inputs[0]->data.begin(), inputs[0]->data.end());
    for (std::size_t i = 1; i < inputs.size(); ++i) {
      const Scalar* v = inputs[i]->data.data();
      Scalar* o = out.data.data();
      const std::size_t n = out.data.size();
      switch (op_) {
        case Op::Add:
        case Op::Average:
          for (std::size_t k = 0; k < n; ++k) o[k] += v[k];
          break;
        case Op::Subtract:
          for (std::size_t k = 0; k < n; ++k) o[k] -= v[k];
          break;
        case Op::Multiply:
          for (std::size_t k = 0; k < n; ++k) o[k] *= v[k];
          break;
        case Op::Maximum:
          for (std::size_t k = 0; k < n; ++k) o[k] = std::max(o[k], v[k]);
          break;
        case Op::Minimum:
          for (std::size_t k = 0; k < n; ++k) o[k] = std::min(o[k], v[k]);
          break;
        case Op::Concatenate:
          break;
      }
    }
    if (op_ == Op::Average)
      for (Scalar& o : out.data) o /= static_cast<Scalar>(inputs.size());
  }
  void backward(const std::vector<const Tensor*>& inputs, const std::vector<Tensor>& outputs,
                const std::vector<Tensor>& dOutputs, std::vector<Tensor>& dInputs) override {
    const Tensor* d = this->given(dOutputs, 0);
    for (std::size_t i = 0; i < inputs.size(); ++i) this->zeros(dInputs[i], inputs[i]->shape);
    if (d == nullptr) return;
    if (op_ == Op::Concatenate) {  // outer_ and width_: the recorded forward's
      std::size_t at = 0;
      for (std::size_t o = 0; o < outer_; ++o)
        for (std::size_t i = 0; i < inputs.size(); ++i) {
          std::copy_n(d->data.data() + at, width_[i], dInputs[i].data.data() + o * width_[i]);
          at += width_[i];
        }
      return;
    }
    const auto n = static_cast<Scalar>(inputs.size());
    for (std::size_t k = 0; k < d->data.size(); ++k) {
      bool taken = false;
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        Scalar g = d->data[k];
        if (op_ == Op::Subtract && i == 1) {
          g = -g;
        } else if (op_ == Op::Average) {
          g /= n;
        } else if (op_ == Op::Multiply) {
          for (std::size_t j = 0; j < inputs.size(); ++j)
            if (j != i) g *= inputs[j]->data[k];
        } else if (op_ == Op::Maximum || op_ == Op::Minimum) {
          const bool wins = !taken && inputs[i]->data[k] == outputs[0].data[k];
          taken = taken || wins;
          g = wins ? g : Scalar(0);
        }
        dInputs[i].data[k] = g;
      }
    }
  }
  void computeMask(const std::vector<const Tensor*>&, const Tensor*,
                   const std::vector<const Tensor*>& masks, Mask& out) const override {
    bool any = false;
    for (const Tensor* m : masks) {
      if (m == nullptr) continue;
      if (!any) {
        this->engaged(out) = *m;
        any = true;
      } else {
        if (m->data.size() != out->data.size())
          raise<ShapeError>(this->who("computeMask"), "input masks of different shapes " +
                                                          shapeText(out->shape) + " and " +
                                                          shapeText(m->shape));
        for (std::size_t k = 0; k < m->data.size(); ++k)
          out->data[k] = out->data[k] != 0 && m->data[k] != 0 ? 1 : 0;
      }
    }
    if (!any) out.reset();
  }

 private:
  enum class Op { Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum };
  static Op opOf(const std::string& cls) {
    if (cls == "Concatenate") return Op::Concatenate;
    if (cls == "Add") return Op::Add;
    if (cls == "Subtract") return Op::Subtract;
    if (cls == "Multiply") return Op::Multiply;
    if (cls == "Average") return Op::Average;
    if (cls == "Maximum") return Op::Maximum;
    if (cls == "Minimum") return Op::Minimum;
    raise<ConfigError>(cls, "not a merge layer");
  }
  /// The concat axis for inputs of rank `rank`. @throws ConfigError naming `method` when out
  /// of range.
  std::size_t axisOf(std::size_t rank, const char* method) const {
    const auto r = static_cast<Index>(rank);
    const Index a = axis_ < 0 ? axis_ + r : axis_;
    if (a < 1 || a >= r)
      raise<ConfigError>(this->who(method), "axis " + std::to_string(axis_) +
                                                " is out of range for inputs of rank " +
                                                std::to_string(r));
    return static_cast<std::size_t>(a);
  }
  static bool compatible(const Shape& a, const Shape& b, Index skip) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 1; i < a.size(); ++i)
      if (static_cast<Index>(i) != skip && a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
    return true;
  }
  Op op_;
  Index axis_;
  /// Concatenate: the inputs seen as `[outer_, width_[i]]` around the axis (of the last forward).
  std::size_t outer_ = 0;
  std::vector<std::size_t> width_;
};

/// A recurrent layer (SimpleRNN, GRU, LSTM, RNN, Bidirectional; Keras's CuDNNLSTM/CuDNNGRU
/// mapped onto LSTM/reset-after GRU) run by the library's own layers. Extra inputs of a node are
/// the initial states (TF.js `apply([x, ...initialState])`). Training runs the layer's own
/// backpropagation through time (`AnyLayer::backward`).
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
        layer_(layerFromConfig<Scalar>(spec_)),
        returnSequences_(returnSequences()) {}
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
    names_.clear();
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
      names_.push_back(slots[i].name);
    }
    layer_.build({-1, -1, in[0][2]});
    layer_.setWeights(values);
    values_ = std::move(values);
  }
  void forward(const std::vector<const Tensor*>& inputs, const Tensor* mask,
               const ForwardMode& mode, std::vector<Tensor>& outputs) override {
    if (inputs.empty()) raise<ValueError>(this->who("call"), "called without inputs");
    // The call's arguments are kept between calls: assignment reuses their tensors' storage.
    LayerCallArgs<Scalar>& args = callArgs_;
    if (mask != nullptr) {
      if (!args.mask) args.mask.emplace();
      *args.mask = *mask;
    } else {
      args.mask.reset();
    }
    args.initialState.resize(inputs.size() - 1);
    for (std::size_t i = 1; i < inputs.size(); ++i) args.initialState[i - 1] = *inputs[i];
    args.training = mode.training;
    args.record = mode.record;
    layer_.apply(*inputs[0], args, outputs);
  }
  void backward(const std::vector<const Tensor*>& inputs, const std::vector<Tensor>&,
                const std::vector<Tensor>& dOutputs, std::vector<Tensor>& dInputs) override {
    layer_.backward(dOutputs, grads_);
    // Swapped, not moved: grads_ takes the caller's previous buffers, and both sides keep
    // their storage from one batch to the next.
    std::swap(dInputs[0], grads_.inputs);
    for (std::size_t i = 1; i < inputs.size() && i - 1 < grads_.initialState.size(); ++i)
      std::swap(dInputs[i], grads_.initialState[i - 1]);
    for (std::size_t w = 0; w < values_.size(); ++w)
      std::copy(grads_.weights[w].data.begin(), grads_.weights[w].data.end(),
                gradients_[w].data.begin());
  }
  std::vector<LayerVariable<Scalar>> variables() override {
    gradients_.resize(values_.size());
    std::vector<LayerVariable<Scalar>> v;
    for (std::size_t w = 0; w < values_.size(); ++w) {
      this->zeros(gradients_[w], values_[w].shape);
      v.push_back({names_[w], values_[w].shape, values_[w].data.data(), gradients_[w].data.data(),
                   static_cast<Index>(values_[w].data.size())});
    }
    return v;
  }
  void variablesChanged() override { layer_.setWeights(values_); }
  /// The recurrent layer's own initializers (its config's `kernelInitializer` ...).
  std::vector<Tensor> initialWeights(const std::vector<Shape>& in) override {
    layer_.build({-1, -1, in[0][2]});
    std::vector<Tensor> out;
    for (auto& w : layer_.getWeights()) out.push_back(std::move(w.value));
    return out;
  }
  /// TF.js RNN/Bidirectional `computeMask`: the input mask when returning sequences, else none
  /// (the executor gives every output of the call the first output's mask).
  void computeMask(const std::vector<const Tensor*>&, const Tensor* mask,
                   const std::vector<const Tensor*>&, Mask& out) const override {
    if (mask == nullptr || !returnSequences_) return out.reset();
    this->engaged(out) = *mask;
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
  std::vector<std::string> names_;
  std::vector<Tensor> values_, gradients_;  ///< the weights in the layer's layout, their gradients
  LayerGradients<Scalar> grads_;
  LayerCallArgs<Scalar> callArgs_;  ///< forward's, reused
  bool returnSequences_;            ///< the config's, read once (computeMask runs every batch)
};

}  // namespace recurrent::io::detail

#endif  // RECURRENT_IO_DETAIL_MODEL_LAYERS_HPP
