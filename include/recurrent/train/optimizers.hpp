/** @file
 * The optimizers of TF.js 4.22 (tfjs-core `src/optimizers/<name>_optimizer.ts`), update for
 * update.
 *
 * `applyGradients(vars)` is one TF.js `optimizer.applyGradients(...)`: every variable `w` is
 * updated from its gradient `g`; per-variable slots (accumulators) belong to the variable's
 * position in `vars`, are created by the first call (zeros, Adagrad's `initialAccumulatorValue`)
 * and kept across calls. Step t = 1, 2, ...; `lr` = learningRate; ε as configured:
 *
 * - `SGD` (`sgd`): w ← w + (−lr)·g
 * - `Momentum` (`momentum`): a ← m·a + g; w ← w + (−lr)·a;
 *   Nesterov: w ← w + (−lr)·(g + m·a) with the new a
 * - `Adam` (`adam`): m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 *   w ← w + (−lr)·(m/(1−β1ᵗ)) / (sqrt(v/(1−β2ᵗ)) + ε)
 * - `Adamax` (`adamax`): m ← β1·m + (1−β1)·g; u ← max(β2·u, abs(g));
 *   w ← w + ((−lr)/(1 + decay·(t−1))) / (1−β1ᵗ) · m/(u + ε)
 * - `Adagrad` (`adagrad`): a ← a + g² (a starts at initialAccumulatorValue);
 *   w ← w + (−lr)·g / sqrt(a + 1e-7)
 * - `Adadelta` (`adadelta`): Δ = sqrt(D + ε) / sqrt(A + ε) · g with the OLD A;
 *   A ← ρ·A + (1−ρ)·g²; D ← ρ·D + (1−ρ)·Δ²; w ← w + (−lr)·Δ
 * - `RMSProp` (`rmsprop`): s ← ρ·s + (1−ρ)·g²; k ← μ·k + lr·g / sqrt(s + ε); w ← w − k;
 *   centered: also ḡ ← ρ·ḡ + (1−ρ)·g and k ← μ·k + lr·g / sqrt(s − (ḡ² + ε))
 *
 * (ρ = RMSProp's `decay`, μ its `momentum`.) TF.js quirks kept: Adam's and Adamax's βᵗ are
 * running float32 products (β, β², ... by repeated multiplication); Adamax's decay uses t − 1;
 * Adagrad adds the backend ε = 1e-7 inside the sqrt whatever else is configured; Adadelta uses the
 * accumulator from before this step (so its first step is w − lr·g: sqrt(0 + ε)/sqrt(0 + ε) =
 * 1); centered RMSProp SUBTRACTS ε (with the default ε = 1e-7 it is NaN as soon as s − ḡ² < ε:
 * pass ε = −1e-7 for the conventional form).
 *
 * Float32 (`Scalar = float`) performs TF.js's float32 operations in TF.js's order, with every
 * hyper-parameter rounded to float32 where TF.js rounds it (a JavaScript number becomes a float32
 * scalar tensor; `1 − β` is formed in double first), so float results follow TF.js's rounding.
 *
 * Names: `className()` is TF.js's `getClassName()`; `getConfig()` has TF.js's keys and values
 * (booleans 0/1). `getOptimizer(name)` takes the strings `model.compile({optimizer})` accepts
 * (tfjs-layers `optimizers.ts`) with the defaults tfjs-layers uses for them, which differ from
 * the `tf.train.*` defaults; `optimizerFromConfig` rebuilds one from a class name and config.
 *
 * Extensions (not in TF.js 4.22, off by default, Keras semantics, applied to each variable's
 * gradient before the update, clipNorm first): `setClipNorm(c)` scales a gradient whose L2 norm
 * exceeds c by c/‖g‖ (per variable, Keras `clipnorm`); `setClipValue(c)` clamps each element to
 * [−c, c] (Keras `clipvalue`); `AdadeltaUpdate::Keras` uses the NEW accumulator as Keras does.
 *
 * `applyGradients` checks everything first (the variable count and sizes must match the first
 * call's: `StateError`), then updates; after the first call it neither allocates nor throws
 * (turning clipping on later allocates its scratch once, on the next call).
 */
#ifndef RECURRENT_TRAIN_OPTIMIZERS_HPP
#define RECURRENT_TRAIN_OPTIMIZERS_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/errors.hpp>
#include <recurrent/types.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace recurrent::train {

/// One trainable variable: `size` values updated in place from `size` gradient values.
template <class Scalar>
struct Variable {
  Scalar* value;
  const Scalar* gradient;
  Index size;
};

/// A TF.js optimizer's class name and `getConfig()` (booleans as 0/1).
struct OptimizerConfig {
  std::string className;
  std::map<std::string, double> values;
};

/// Base class of the optimizers (see the file comment).
template <class Scalar>
class Optimizer {
  static_assert(std::is_floating_point_v<Scalar>,
                "Optimizer<Scalar>: Scalar must be float or double");

 public:
  virtual ~Optimizer() = default;
  /// TF.js `getClassName()`: "SGD", "Momentum", "Adam", "Adamax", "Adagrad", "Adadelta",
  /// "RMSProp".
  virtual const char* className() const = 0;
  /// One TF.js `applyGradients` over every variable (see the file comment).
  virtual void applyGradients(const std::vector<Variable<Scalar>>& vars) = 0;
  /// TF.js `getConfig()` (plus "clipNorm"/"clipValue" when set, "kerasUpdate" for Keras Adadelta).
  virtual OptimizerConfig getConfig() const = 0;
  /// Number of `applyGradients` calls so far (TF.js `iterations`).
  Index iterations() const { return iterations_; }
  /// Slots per variable, in TF.js's `getWeights()` order: Momentum [momentum]; Adam, Adamax
  /// [m, v]; Adagrad [accumulator]; Adadelta [accum_grad, accum_var]; RMSProp [rms, momentum]
  /// (+ [mg] when centered); SGD none.
  virtual int slotsPerVariable() const = 0;
  /// Slot `s` of variable `variable` (its `size` values), nullptr before the first call.
  virtual const Scalar* slot(std::size_t variable, int s) const = 0;

  /// Extension (Keras `clipnorm`): before the update, a variable's gradient with L2 norm above
  /// `c` is scaled by c/norm. 0 turns it off (the default). `ValueError` unless c ≥ 0.
  void setClipNorm(double c) {
    checkClip("setClipNorm", c);
    clipNorm_ = c;
  }
  /// Extension (Keras `clipvalue`): before the update, each gradient element is clamped to
  /// [−c, c]. 0 turns it off (the default). `ValueError` unless c ≥ 0.
  void setClipValue(double c) {
    checkClip("setClipValue", c);
    clipValue_ = c;
  }
  double clipNorm() const { return clipNorm_; }
  double clipValue() const { return clipValue_; }

 protected:
  Index iterations_ = 0;
  double clipNorm_ = 0.0;
  double clipValue_ = 0.0;

 private:
  void checkClip(const char* method, double c) const {
    if (!(c >= 0.0) || !std::isfinite(c)) {
      recurrent::detail::raise<ValueError>(
          std::string(className()) + "." + method,
          "expected a finite value >= 0 (0 = off), got " + std::to_string(c));
    }
  }
};

/// Adadelta's update: TF.js's (the accumulator from before the step) or Keras's (the new one).
enum class AdadeltaUpdate { TFjs, Keras };

template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> sgd(double learningRate);
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> momentum(double learningRate, double momentum,
                                            bool useNesterov = false);
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> adam(double learningRate = 0.001, double beta1 = 0.9,
                                        double beta2 = 0.999, double epsilon = 1e-7);
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> adamax(double learningRate = 0.002, double beta1 = 0.9,
                                          double beta2 = 0.999, double epsilon = 1e-7,
                                          double decay = 0.0);
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> adagrad(double learningRate,
                                           double initialAccumulatorValue = 0.1);
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> adadelta(double learningRate = 0.001, double rho = 0.95,
                                            double epsilon = 1e-7,
                                            AdadeltaUpdate update = AdadeltaUpdate::TFjs);
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> rmsprop(double learningRate, double decay = 0.9,
                                           double momentum = 0.0, double epsilon = 1e-7,
                                           bool centered = false);

/// A `model.compile({optimizer})` string, with tfjs-layers' defaults for it:
/// `sgd`/`SGD` → sgd(0.01); `adam`/`Adam` → adam(0.001, 0.9, 0.999, 1e-7);
/// `adagrad`/`Adagrad` → adagrad(0.01); `adadelta`/`Adadelta` → adadelta(1, 0.95, 1e-7);
/// `adamax`/`Adamax` → adamax(0.002, 0.9, 0.999, 1e-7, 0); `rmsprop`/`RMSProp` →
/// rmsprop(0.001, 0.9, 0, 1e-7). Anything else (also "momentum") throws `ValueError` with
/// TF.js's message `Unknown Optimizer <name>`.
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> getOptimizer(const std::string& name);

/// Rebuilds an optimizer from a TF.js class name and `getConfig()` values. Unknown class or
/// key → `ValueError`; a missing key takes that optimizer's `tf.train.*` default, except the
/// ones `tf.train.*` requires (learningRate of SGD, Momentum, Adagrad, RMSProp; momentum of
/// Momentum) → `ValueError`.
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> optimizerFromConfig(const OptimizerConfig& config);

// =============================================================================================
// Implementation
// =============================================================================================

namespace detail {

using recurrent::detail::raise;

/// Correctly rounded sqrt as an Eigen functor (Eigen's vectorised float sqrt is an approximation
/// under EIGEN_FAST_MATH, TF.js's is exact).
template <class Scalar>
struct ExactSqrtOp {
  Scalar operator()(Scalar x) const { return std::sqrt(x); }
};

/// The machinery every optimizer shares: checks, slots, clipping, iteration count. `Derived`
/// supplies `kSlots`, `initialSlotValue()`, `beginStep()`, `update(w, g, slots, n)`, `endStep()`.
template <class Scalar>
class SlotOptimizer : public Optimizer<Scalar> {
 public:
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
  using Map = Eigen::Map<Array>;
  using ConstMap = Eigen::Map<const Array>;

  void applyGradients(const std::vector<Variable<Scalar>>& vars) final {
    checkAndPrepare(vars);
    beginStep();
    const bool clipping = this->clipNorm_ > 0.0 || this->clipValue_ > 0.0;
    for (std::size_t k = 0; k < vars.size(); ++k) {
      const Variable<Scalar>& v = vars[k];
      if (v.size == 0) continue;
      const Scalar* g = v.gradient;
      if (clipping) g = clipped(k, v);
      Scalar* slots[3] = {nullptr, nullptr, nullptr};
      for (int s = 0; s < this->slotsPerVariable(); ++s) {
        slots[s] = slots_[static_cast<std::size_t>(s) * sizes_.size() + k].data();
      }
      update(v.value, g, slots, v.size);
    }
    endStep();
    ++this->iterations_;
  }

  const Scalar* slot(std::size_t variable, int s) const final {
    if (!prepared_ || variable >= sizes_.size() || s < 0 || s >= this->slotsPerVariable()) {
      return nullptr;
    }
    return slots_[static_cast<std::size_t>(s) * sizes_.size() + variable].data();
  }

 protected:
  virtual double initialSlotValue(int /*slot*/) const { return 0.0; }
  virtual void beginStep() {}
  virtual void update(Scalar* w, const Scalar* g, Scalar* const* slots, Index n) = 0;
  virtual void endStep() {}

  static Scalar f(double x) { return static_cast<Scalar>(x); }

 private:
  std::string who() const { return std::string(this->className()) + ".applyGradients"; }

  void checkAndPrepare(const std::vector<Variable<Scalar>>& vars) {
    using recurrent::detail::raise;
    if (prepared_) {
      if (vars.size() != sizes_.size()) {
        raise<StateError>(who(), "expected " + std::to_string(sizes_.size()) +
                                     " variables (as in the first call), got " +
                                     std::to_string(vars.size()));
      }
    }
    for (std::size_t k = 0; k < vars.size(); ++k) {
      const Variable<Scalar>& v = vars[k];
      if (v.size < 0 || (v.size > 0 && (v.value == nullptr || v.gradient == nullptr))) {
        raise<ValueError>(who(), "variable " + std::to_string(k) +
                                     ": needs size >= 0 and non-null value and gradient, got "
                                     "size " +
                                     std::to_string(v.size));
      }
      if (prepared_ && v.size != sizes_[k]) {
        raise<StateError>(who(), "variable " + std::to_string(k) + ": expected size " +
                                     std::to_string(sizes_[k]) + " (as in the first call), got " +
                                     std::to_string(v.size));
      }
    }
    if (!prepared_) {
      sizes_.reserve(vars.size());
      for (const auto& v : vars) sizes_.push_back(v.size);
      slots_.resize(static_cast<std::size_t>(this->slotsPerVariable()) * vars.size());
      for (int s = 0; s < this->slotsPerVariable(); ++s) {
        for (std::size_t k = 0; k < vars.size(); ++k) {
          slots_[static_cast<std::size_t>(s) * vars.size() + k].assign(
              static_cast<std::size_t>(vars[k].size), f(initialSlotValue(s)));
        }
      }
      prepared_ = true;
    }
    if ((this->clipNorm_ > 0.0 || this->clipValue_ > 0.0) && clipScratch_.size() != sizes_.size()) {
      clipScratch_.resize(sizes_.size());
      for (std::size_t k = 0; k < sizes_.size(); ++k) {
        clipScratch_[k].resize(static_cast<std::size_t>(sizes_[k]));
      }
    }
  }

  const Scalar* clipped(std::size_t k, const Variable<Scalar>& v) {
    Scalar* out = clipScratch_[k].data();
    Map c(out, v.size);
    c = ConstMap(v.gradient, v.size);
    if (this->clipNorm_ > 0.0) {
      double ss = 0.0;
      for (Index i = 0; i < v.size; ++i) ss += static_cast<double>(out[i]) * out[i];
      const double norm = std::sqrt(ss);
      if (norm > this->clipNorm_) c *= f(this->clipNorm_ / norm);
    }
    if (this->clipValue_ > 0.0) {
      const Scalar hi = f(this->clipValue_);
      for (Index i = 0; i < v.size; ++i) {
        if (out[i] > hi) out[i] = hi;
        if (out[i] < -hi) out[i] = -hi;
      }
    }
    return out;
  }

  bool prepared_ = false;
  std::vector<Index> sizes_;
  std::vector<std::vector<Scalar>> slots_;  // [slot * variables + variable]
  std::vector<std::vector<Scalar>> clipScratch_;
};

template <class Scalar>
void addClipConfig(const Optimizer<Scalar>& o, OptimizerConfig& c) {
  if (o.clipNorm() > 0.0) c.values["clipNorm"] = o.clipNorm();
  if (o.clipValue() > 0.0) c.values["clipValue"] = o.clipValue();
}

}  // namespace detail

/// TF.js `SGDOptimizer`.
template <class Scalar>
class SGDOptimizer : public detail::SlotOptimizer<Scalar> {
  using Base = detail::SlotOptimizer<Scalar>;

 public:
  explicit SGDOptimizer(double learningRate) : learningRate_(learningRate) {}
  const char* className() const override { return "SGD"; }
  OptimizerConfig getConfig() const override {
    OptimizerConfig c{"SGD", {{"learningRate", learningRate_}}};
    detail::addClipConfig(*this, c);
    return c;
  }
  int slotsPerVariable() const override { return 0; }

 protected:
  void update(Scalar* w, const Scalar* g, Scalar* const*, Index n) override {
    typename Base::Map W(w, n);
    const typename Base::ConstMap G(g, n);
    W = G * Base::f(-learningRate_) + W;  // add(mul(c, g), w), c = scalar(−lr)
  }

 private:
  double learningRate_;
};

/// TF.js `MomentumOptimizer`.
template <class Scalar>
class MomentumOptimizer : public detail::SlotOptimizer<Scalar> {
  using Base = detail::SlotOptimizer<Scalar>;

 public:
  MomentumOptimizer(double learningRate, double momentum, bool useNesterov)
      : learningRate_(learningRate), momentum_(momentum), useNesterov_(useNesterov) {}
  const char* className() const override { return "Momentum"; }
  OptimizerConfig getConfig() const override {
    OptimizerConfig c{"Momentum",
                      {{"learningRate", learningRate_},
                       {"momentum", momentum_},
                       {"useNesterov", useNesterov_ ? 1.0 : 0.0}}};
    detail::addClipConfig(*this, c);
    return c;
  }
  int slotsPerVariable() const override { return 1; }

 protected:
  void update(Scalar* w, const Scalar* g, Scalar* const* s, Index n) override {
    typename Base::Map W(w, n), A(s[0], n);
    const typename Base::ConstMap G(g, n);
    const Scalar m = Base::f(momentum_), c = Base::f(-learningRate_);
    A = A * m + G;
    if (useNesterov_) {
      W = (G + A * m) * c + W;
    } else {
      W = A * c + W;
    }
  }

 private:
  double learningRate_, momentum_;
  bool useNesterov_;
};

/// TF.js `AdamOptimizer`.
template <class Scalar>
class AdamOptimizer : public detail::SlotOptimizer<Scalar> {
  using Base = detail::SlotOptimizer<Scalar>;

 public:
  AdamOptimizer(double learningRate, double beta1, double beta2, double epsilon)
      : learningRate_(learningRate),
        beta1_(beta1),
        beta2_(beta2),
        epsilon_(epsilon),
        accBeta1_(Base::f(beta1)),
        accBeta2_(Base::f(beta2)) {}
  const char* className() const override { return "Adam"; }
  OptimizerConfig getConfig() const override {
    OptimizerConfig c{"Adam",
                      {{"learningRate", learningRate_},
                       {"beta1", beta1_},
                       {"beta2", beta2_},
                       {"epsilon", epsilon_}}};
    detail::addClipConfig(*this, c);
    return c;
  }
  int slotsPerVariable() const override { return 2; }

 protected:
  void beginStep() override {
    oneMinusAccBeta1_ = Scalar(1) - accBeta1_;
    oneMinusAccBeta2_ = Scalar(1) - accBeta2_;
  }
  void update(Scalar* w, const Scalar* g, Scalar* const* s, Index n) override {
    typename Base::Map W(w, n), M(s[0], n), V(s[1], n);
    const typename Base::ConstMap G(g, n);
    const Scalar b1 = Base::f(beta1_), b2 = Base::f(beta2_);
    const Scalar omb1 = Base::f(1.0 - beta1_), omb2 = Base::f(1.0 - beta2_);
    M = M * b1 + G * omb1;
    V = V * b2 + G.square() * omb2;
    W = ((M / oneMinusAccBeta1_) /
         ((V / oneMinusAccBeta2_).unaryExpr(detail::ExactSqrtOp<Scalar>()) + Base::f(epsilon_))) *
            Base::f(-learningRate_) +
        W;
  }
  void endStep() override {
    accBeta1_ = accBeta1_ * Base::f(beta1_);
    accBeta2_ = accBeta2_ * Base::f(beta2_);
  }

 private:
  double learningRate_, beta1_, beta2_, epsilon_;
  Scalar accBeta1_, accBeta2_;
  Scalar oneMinusAccBeta1_ = Scalar(0), oneMinusAccBeta2_ = Scalar(0);
};

/// TF.js `AdamaxOptimizer`.
template <class Scalar>
class AdamaxOptimizer : public detail::SlotOptimizer<Scalar> {
  using Base = detail::SlotOptimizer<Scalar>;

 public:
  AdamaxOptimizer(double learningRate, double beta1, double beta2, double epsilon, double decay)
      : learningRate_(learningRate),
        beta1_(beta1),
        beta2_(beta2),
        epsilon_(epsilon),
        decay_(decay),
        accBeta1_(Base::f(beta1)) {}
  const char* className() const override { return "Adamax"; }
  OptimizerConfig getConfig() const override {
    OptimizerConfig c{"Adamax",
                      {{"learningRate", learningRate_},
                       {"beta1", beta1_},
                       {"beta2", beta2_},
                       {"epsilon", epsilon_},
                       {"decay", decay_}}};
    detail::addClipConfig(*this, c);
    return c;
  }
  int slotsPerVariable() const override { return 2; }

 protected:
  void beginStep() override {
    const Scalar oneMinusAccBeta1 = Scalar(1) - accBeta1_;
    const Scalar lr = Base::f(-learningRate_) / (iteration_ * Base::f(decay_) + Scalar(1));
    factor_ = lr / oneMinusAccBeta1;
  }
  void update(Scalar* w, const Scalar* g, Scalar* const* s, Index n) override {
    typename Base::Map W(w, n), M(s[0], n), U(s[1], n);
    const typename Base::ConstMap G(g, n);
    M = M * Base::f(beta1_) + G * Base::f(1.0 - beta1_);
    U = (U * Base::f(beta2_)).max(G.abs());
    W = factor_ * (M / (U + Base::f(epsilon_))) + W;
  }
  void endStep() override {
    iteration_ = iteration_ + Scalar(1);
    accBeta1_ = accBeta1_ * Base::f(beta1_);
  }

 private:
  double learningRate_, beta1_, beta2_, epsilon_, decay_;
  Scalar iteration_ = Scalar(0);
  Scalar accBeta1_;
  Scalar factor_ = Scalar(0);
};

/// TF.js `AdagradOptimizer`.
template <class Scalar>
class AdagradOptimizer : public detail::SlotOptimizer<Scalar> {
  using Base = detail::SlotOptimizer<Scalar>;

 public:
  AdagradOptimizer(double learningRate, double initialAccumulatorValue)
      : learningRate_(learningRate), initialAccumulatorValue_(initialAccumulatorValue) {}
  const char* className() const override { return "Adagrad"; }
  OptimizerConfig getConfig() const override {
    OptimizerConfig c{
        "Adagrad",
        {{"learningRate", learningRate_}, {"initialAccumulatorValue", initialAccumulatorValue_}}};
    detail::addClipConfig(*this, c);
    return c;
  }
  int slotsPerVariable() const override { return 1; }

 protected:
  double initialSlotValue(int) const override { return initialAccumulatorValue_; }
  void update(Scalar* w, const Scalar* g, Scalar* const* s, Index n) override {
    typename Base::Map W(w, n), A(s[0], n);
    const typename Base::ConstMap G(g, n);
    A = A + G.square();
    // The backend's epsilon (1e-7), not a configurable one.
    W = (G / (A + Base::f(1e-7)).unaryExpr(detail::ExactSqrtOp<Scalar>())) *
            Base::f(-learningRate_) +
        W;
  }

 private:
  double learningRate_, initialAccumulatorValue_;
};

/// TF.js `AdadeltaOptimizer` (with `AdadeltaUpdate::Keras`: Keras's use of the new accumulator).
template <class Scalar>
class AdadeltaOptimizer : public detail::SlotOptimizer<Scalar> {
  using Base = detail::SlotOptimizer<Scalar>;

 public:
  AdadeltaOptimizer(double learningRate, double rho, double epsilon, AdadeltaUpdate update)
      : learningRate_(learningRate), rho_(rho), epsilon_(epsilon), form_(update) {}
  const char* className() const override { return "Adadelta"; }
  OptimizerConfig getConfig() const override {
    OptimizerConfig c{"Adadelta",
                      {{"learningRate", learningRate_}, {"rho", rho_}, {"epsilon", epsilon_}}};
    if (form_ == AdadeltaUpdate::Keras) c.values["kerasUpdate"] = 1.0;
    detail::addClipConfig(*this, c);
    return c;
  }
  int slotsPerVariable() const override { return 2; }

 protected:
  void update(Scalar* w, const Scalar* g, Scalar* const* s, Index n) override {
    using detail::ExactSqrtOp;
    typename Base::Map W(w, n), A(s[0], n), D(s[1], n);
    const typename Base::ConstMap G(g, n);
    const Scalar rho = Base::f(rho_), omr = Base::f(1.0 - rho_), eps = Base::f(epsilon_);
    const Scalar nlr = Base::f(-learningRate_);
    // Element by element: Δ needs the accumulator before (TF.js) or after (Keras) its update.
    for (Index i = 0; i < n; ++i) {
      const Scalar gi = G[i];
      const Scalar newA = A[i] * rho + (gi * gi) * omr;
      const Scalar a = form_ == AdadeltaUpdate::Keras ? newA : A[i];
      const Scalar delta = (std::sqrt(D[i] + eps) / std::sqrt(a + eps)) * gi;
      A[i] = newA;
      D[i] = D[i] * rho + (delta * delta) * omr;
      W[i] = delta * nlr + W[i];
    }
  }

 private:
  double learningRate_, rho_, epsilon_;
  AdadeltaUpdate form_;
};

/// TF.js `RMSPropOptimizer`.
template <class Scalar>
class RMSPropOptimizer : public detail::SlotOptimizer<Scalar> {
  using Base = detail::SlotOptimizer<Scalar>;

 public:
  RMSPropOptimizer(double learningRate, double decay, double momentum, double epsilon,
                   bool centered)
      : learningRate_(learningRate),
        decay_(decay),
        momentum_(momentum),
        epsilon_(epsilon),
        centered_(centered) {}
  const char* className() const override { return "RMSProp"; }
  OptimizerConfig getConfig() const override {
    OptimizerConfig c{"RMSProp",
                      {{"learningRate", learningRate_},
                       {"decay", decay_},
                       {"momentum", momentum_},
                       {"epsilon", epsilon_},
                       {"centered", centered_ ? 1.0 : 0.0}}};
    detail::addClipConfig(*this, c);
    return c;
  }
  int slotsPerVariable() const override { return centered_ ? 3 : 2; }

 protected:
  void update(Scalar* w, const Scalar* g, Scalar* const* s, Index n) override {
    using detail::ExactSqrtOp;
    typename Base::Map W(w, n), MS(s[0], n), MOM(s[1], n);
    const typename Base::ConstMap G(g, n);
    const Scalar decay = Base::f(decay_), omd = Base::f(1.0 - decay_);
    const Scalar lr = Base::f(learningRate_), mu = Base::f(momentum_), eps = Base::f(epsilon_);
    MS = MS * decay + G.square() * omd;
    if (centered_) {
      typename Base::Map MG(s[2], n);
      MG = MG * decay + G * omd;
      // TF.js subtracts epsilon here: sqrt(ms − (mg² + ε)).
      MOM = MOM * mu + (G * lr) / (MS - (MG.square() + eps)).unaryExpr(ExactSqrtOp<Scalar>());
    } else {
      MOM = MOM * mu + (G * lr) / (MS + eps).unaryExpr(ExactSqrtOp<Scalar>());
    }
    W = W - MOM;
  }

 private:
  double learningRate_, decay_, momentum_, epsilon_;
  bool centered_;
};

template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> sgd(double learningRate) {
  return std::make_unique<SGDOptimizer<Scalar>>(learningRate);
}
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> momentum(double learningRate, double momentum,
                                            bool useNesterov) {
  return std::make_unique<MomentumOptimizer<Scalar>>(learningRate, momentum, useNesterov);
}
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> adam(double learningRate, double beta1, double beta2,
                                        double epsilon) {
  return std::make_unique<AdamOptimizer<Scalar>>(learningRate, beta1, beta2, epsilon);
}
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> adamax(double learningRate, double beta1, double beta2,
                                          double epsilon, double decay) {
  return std::make_unique<AdamaxOptimizer<Scalar>>(learningRate, beta1, beta2, epsilon, decay);
}
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> adagrad(double learningRate, double initialAccumulatorValue) {
  return std::make_unique<AdagradOptimizer<Scalar>>(learningRate, initialAccumulatorValue);
}
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> adadelta(double learningRate, double rho, double epsilon,
                                            AdadeltaUpdate update) {
  return std::make_unique<AdadeltaOptimizer<Scalar>>(learningRate, rho, epsilon, update);
}
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> rmsprop(double learningRate, double decay, double momentum,
                                           double epsilon, bool centered) {
  return std::make_unique<RMSPropOptimizer<Scalar>>(learningRate, decay, momentum, epsilon,
                                                    centered);
}

template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> getOptimizer(const std::string& name) {
  // tfjs-layers optimizers.ts getOptimizer (epsilon() = 1e-7).
  if (name == "Adagrad" || name == "adagrad") return adagrad<Scalar>(0.01);
  if (name == "Adadelta" || name == "adadelta") return adadelta<Scalar>(1.0, 0.95, 1e-7);
  if (name == "Adam" || name == "adam") return adam<Scalar>(0.001, 0.9, 0.999, 1e-7);
  if (name == "Adamax" || name == "adamax") return adamax<Scalar>(0.002, 0.9, 0.999, 1e-7, 0.0);
  if (name == "RMSProp" || name == "rmsprop") return rmsprop<Scalar>(0.001, 0.9, 0.0, 1e-7);
  if (name == "SGD" || name == "sgd") return sgd<Scalar>(0.01);
  RECURRENT_THROW(ValueError("Unknown Optimizer " + name));
#if RECURRENT_NO_EXCEPTIONS
  std::abort();
#endif
}

namespace detail {

/// Reads the keys of one optimizer class from a config: unknown keys and missing required
/// ones raise `ValueError`.
class ConfigReader {
 public:
  explicit ConfigReader(const OptimizerConfig& c) : config_(c) {}
  double get(const char* key, double fallback) {
    known_.emplace_back(key);
    auto it = config_.values.find(key);
    return it == config_.values.end() ? fallback : it->second;
  }
  double required(const char* key) {
    known_.emplace_back(key);
    auto it = config_.values.find(key);
    if (it == config_.values.end()) {
      raise<ValueError>("optimizerFromConfig", config_.className + ": '" + key +
                                                   "' is required (tf.train has no default)");
    }
    return it->second;
  }
  bool flag(const char* key, bool fallback) { return get(key, fallback ? 1.0 : 0.0) != 0.0; }
  /// Refuses keys that were not read.
  void finish() const {
    for (const auto& kv : config_.values) {
      bool found = false;
      for (const auto& k : known_) found = found || k == kv.first;
      if (!found) {
        raise<ValueError>("optimizerFromConfig",
                          config_.className + ": unknown config key '" + kv.first + "'");
      }
    }
  }

 private:
  const OptimizerConfig& config_;
  std::vector<std::string> known_;
};

}  // namespace detail

template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> optimizerFromConfig(const OptimizerConfig& config) {
  detail::ConfigReader r(config);
  std::unique_ptr<Optimizer<Scalar>> o;
  const std::string& cls = config.className;
  if (cls == "SGD") {
    o = sgd<Scalar>(r.required("learningRate"));
  } else if (cls == "Momentum") {
    const double lr = r.required("learningRate");
    const double m = r.required("momentum");
    o = momentum<Scalar>(lr, m, r.flag("useNesterov", false));
  } else if (cls == "Adam") {
    const double lr = r.get("learningRate", 0.001), b1 = r.get("beta1", 0.9);
    const double b2 = r.get("beta2", 0.999), eps = r.get("epsilon", 1e-7);
    o = adam<Scalar>(lr, b1, b2, eps);
  } else if (cls == "Adamax") {
    const double lr = r.get("learningRate", 0.002), b1 = r.get("beta1", 0.9);
    const double b2 = r.get("beta2", 0.999), eps = r.get("epsilon", 1e-7);
    o = adamax<Scalar>(lr, b1, b2, eps, r.get("decay", 0.0));
  } else if (cls == "Adagrad") {
    const double lr = r.required("learningRate");
    o = adagrad<Scalar>(lr, r.get("initialAccumulatorValue", 0.1));
  } else if (cls == "Adadelta") {
    const double lr = r.get("learningRate", 0.001), rho = r.get("rho", 0.95);
    const double eps = r.get("epsilon", 1e-7);
    const bool keras = r.flag("kerasUpdate", false);
    o = adadelta<Scalar>(lr, rho, eps, keras ? AdadeltaUpdate::Keras : AdadeltaUpdate::TFjs);
  } else if (cls == "RMSProp") {
    const double lr = r.required("learningRate"), decay = r.get("decay", 0.9);
    const double m = r.get("momentum", 0.0), eps = r.get("epsilon", 1e-7);
    o = rmsprop<Scalar>(lr, decay, m, eps, r.flag("centered", false));
  } else {
    recurrent::detail::raise<ValueError>(
        "optimizerFromConfig",
        "unknown optimizer class '" + cls +
            "' (expected SGD, Momentum, Adam, Adamax, Adagrad, Adadelta or RMSProp)");
  }
  const double clipNorm = r.get("clipNorm", 0.0);
  const double clipValue = r.get("clipValue", 0.0);
  r.finish();
  o->setClipNorm(clipNorm);
  o->setClipValue(clipValue);
  return o;
}

}  // namespace recurrent::train

#endif  // RECURRENT_TRAIN_OPTIMIZERS_HPP
