/** @file
 * Dropout masks for `dropout` (inputs) and `recurrentDropout` (previous h), TF.js semantics:
 *
 * - a rate is clamped to [0, 1]; masks exist only when `training` is true and 0 < rate < 1, so
 *   inference, rate 0, rate ≥ 1 and negative rates are exact no-ops;
 * - a mask is drawn once per call, `[batch, width]`, with entries 0 (probability `rate`) or
 *   1 / (1 − rate), and the same mask is used at every time step;
 * - TF.js draws one mask per gate but uses only mask 0 for every gate (`DropoutMasks::Shared`,
 *   the default); `DropoutMasks::PerGate` uses one independent mask per gate as Keras
 *   (implementation 1) does.
 */
#ifndef RECURRENT_DROPOUT_HPP
#define RECURRENT_DROPOUT_HPP

#include <recurrent/detail/workspace.hpp>
#include <recurrent/random.hpp>
#include <recurrent/types.hpp>

#include <algorithm>
#include <vector>

namespace recurrent {

/// Which dropout masks the gates of a cell use.
enum class DropoutMasks {
  Shared,   ///< TF.js: one mask shared by every gate
  PerGate,  ///< Keras implementation 1: an independent mask per gate
};

/// Clamps a rate to [0, 1] as TF.js does (`Math.min(1, Math.max(0, rate))`).
inline double clampRate(double rate) { return std::min(1.0, std::max(0.0, rate)); }

/// True when TF.js would apply dropout at this rate in this mode.
inline bool dropoutApplies(double rate, bool training) {
  return training && rate > 0.0 && rate < 1.0;
}

/// One set of dropout masks (one per gate, or one shared), regenerated per call.
template <class Scalar>
class DropoutMask {
 public:
  /// Draws `count` masks `[batch, width]` if dropout applies, else clears. Allocates only beyond
  /// the largest shape so far (a smaller last batch of an epoch keeps the buffers).
  void generate(bool applies, Index count, Index batch, Index width, double rate,
                RandomEngine& rng) {
    active_ = applies;
    if (!active_) return;
    masks_.resize(static_cast<std::size_t>(count));
    const double keep = 1.0 - rate;
    const auto scale = static_cast<Scalar>(1.0 / keep);
    for (detail::Workspace<Scalar>& m : masks_) {
      m.resize(batch, width);
      for (Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform() < keep ? scale : Scalar(0);
    }
  }
  /// Uses `values` (`[batch, width]`, the multipliers: 0 or 1 / (1 − rate)) as the one shared
  /// mask of this call, e.g. TF.js's recorded masks. Allocates only beyond the largest shape.
  void set(const MatrixView<Scalar>& values) {
    active_ = true;
    masks_.resize(1);
    masks_[0] = values.map();
  }
  void clear() { active_ = false; }
  bool active() const { return active_; }
  Index count() const { return static_cast<Index>(masks_.size()); }
  /// The mask of gate `g` (gate 0's for every gate when masks are shared).
  const detail::Workspace<Scalar>& operator[](Index g) const {
    return masks_[static_cast<std::size_t>(masks_.size() == 1 ? 0 : g)];
  }

 private:
  std::vector<detail::Workspace<Scalar>> masks_;
  bool active_ = false;
};

}  // namespace recurrent

#endif  // RECURRENT_DROPOUT_HPP
