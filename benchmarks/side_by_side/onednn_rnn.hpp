// oneDNN (C++ API, 2.x) RNN primitives for the side-by-side runner: `OneDnnRnn` (inference) and
// `OneDnnRnnTraining` (forward_training + backward, the training-step table).
//
// One layer, one direction, prop_kind::forward_inference, f32; zero initial states; the output
// sequence (dst_layer) only. Inputs and outputs stay in the [B, T, C] layout of the other
// implementations (oneDNN's `ntc`), so the caller's buffers are used as they are. The weights are
// given in the user layout `ldigo` (which is TF.js's [I, G·H] with L = D = 1) and reordered once,
// in the constructor, into the layout the primitive prefers (`format_tag::any`). `run` is the
// timed part: `execute` + `stream::wait`.
//
// Cells: LSTM = lstm_forward (gates i,f,c,o as TF.js); GRU (reset before) = gru_forward (gates
// u,r,o = TF.js z,r,h); GRU-ra (reset after) = lbr_gru_forward with the four biases
// [bx_z + bh_z, bx_r + bh_r, bx_h, bh_h]; SimpleRNN = vanilla_rnn_forward with tanh.
#ifndef RECURRENT_BENCHMARKS_ONEDNN_RNN_HPP
#define RECURRENT_BENCHMARKS_ONEDNN_RNN_HPP

#include "bench_common.hpp"

#include <algorithm>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace bench {

namespace onednn_detail {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

/// `values` (user layout `userTag`) copied into a new memory of layout `wanted` (owns its copy).
inline dnnl::memory toPrimitiveLayout(const dnnl::engine& engine, dnnl::stream& stream,
                                      const dnnl::memory::dims& dims, tag userTag,
                                      const std::vector<float>& values,
                                      const dnnl::memory::desc& wanted) {
  dnnl::memory user({dims, dt::f32, userTag}, engine, const_cast<float*>(values.data()));
  dnnl::memory converted(wanted, engine);
  dnnl::reorder(user, converted).execute(stream, user, converted);
  stream.wait();
  return converted;
}

/// `m` (any layout) copied out in the user layout `userTag`.
inline std::vector<float> fromPrimitiveLayout(const dnnl::engine& engine, dnnl::stream& stream,
                                              const dnnl::memory::dims& dims, tag userTag,
                                              dnnl::memory m) {
  std::size_t n = 1;
  for (dnnl::memory::dim v : dims) n *= static_cast<std::size_t>(v);
  std::vector<float> values(n);
  dnnl::memory user({dims, dt::f32, userTag}, engine, values.data());
  dnnl::reorder(m, user).execute(stream, m, user);
  stream.wait();
  return values;
}

/// TF.js's reset-after GRU bias [2, 3H] (input row, recurrent row; gates z, r, h) as oneDNN's
/// lbr_gru bias [4, H]: [bx_z + bh_z, bx_r + bh_r, bx_h, bh_h].
inline std::vector<float> lbrBias(const std::vector<float>& b, std::size_t h) {
  std::vector<float> bias(4 * h);
  for (std::size_t j = 0; j < h; ++j) {
    bias[j] = b[j] + b[3 * h + j];          // z: input + recurrent
    bias[h + j] = b[h + j] + b[4 * h + j];  // r: input + recurrent
    bias[2 * h + j] = b[2 * h + j];         // h: input
    bias[3 * h + j] = b[5 * h + j];         // h: recurrent (inside r ⊙ (·))
  }
  return bias;
}

/// The gradient of lbr_gru's bias [4, H] as the gradient of TF.js's [2, 3H]: the z and r biases
/// of both rows enter as their sum, so each gets the summed bias's gradient.
inline std::vector<float> lbrBiasGradient(const std::vector<float>& g, std::size_t h) {
  std::vector<float> out(6 * h);
  for (std::size_t j = 0; j < h; ++j) {
    out[j] = out[3 * h + j] = g[j];          // z
    out[h + j] = out[4 * h + j] = g[h + j];  // r
    out[2 * h + j] = g[2 * h + j];           // h: input
    out[5 * h + j] = g[3 * h + j];           // h: recurrent
  }
  return out;
}

/// oneDNN-style format tag of a memory descriptor ("abcde" = ldigo; capitals and a suffix
/// such as "64e" for blocked dimensions), or "rnn_packed".
inline std::string describe(const dnnl::memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  if (d.format_kind == dnnl_format_kind_rnn_packed) return "rnn_packed";
  if (d.format_kind != dnnl_blocked) return "other";
  const dnnl_blocking_desc_t& b = d.format_desc.blocking;
  std::vector<int> order(static_cast<std::size_t>(d.ndims));
  for (int i = 0; i < d.ndims; ++i) order[static_cast<std::size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int x, int y) { return b.strides[x] > b.strides[y]; });
  std::string out;
  for (int i : order) {
    bool blocked = false;
    for (int k = 0; k < b.inner_nblks; ++k) blocked = blocked || b.inner_idxs[k] == i;
    out += static_cast<char>((blocked ? 'A' : 'a') + i);
  }
  for (int k = 0; k < b.inner_nblks; ++k)
    out += std::to_string(b.inner_blks[k]) + static_cast<char>('a' + b.inner_idxs[k]);
  return out;
}

}  // namespace onednn_detail

class OneDnnRnn {
 public:
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;

  OneDnnRnn(const CaseData& d, const dnnl::engine& engine)
      : engine_(engine), stream_(engine), cell_(d.cell), w_(d.workload) {
    const auto g = static_cast<dnnl::memory::dim>(gateCount(cell_));
    const dnnl::memory::dim T = w_.time, N = w_.batch, I = w_.input, H = w_.units;
    const dnnl::memory::dim biasGates = cell_ == CellKind::GRUResetAfter ? 4 : g;

    const dnnl::memory::desc srcLayer({T, N, I}, dt::f32, tag::ntc);
    const dnnl::memory::desc dstLayer({T, N, H}, dt::f32, tag::ntc);
    const dnnl::memory::desc weightsLayerAny({1, 1, I, g, H}, dt::f32, tag::any);
    const dnnl::memory::desc weightsIterAny({1, 1, H, g, H}, dt::f32, tag::any);
    const dnnl::memory::desc biasAny({1, 1, biasGates, H}, dt::f32, tag::any);
    const dnnl::memory::desc none;  // zero states in, no states out
    const auto fwd = dnnl::prop_kind::forward_inference;
    const auto dir = dnnl::rnn_direction::unidirectional_left2right;

    dnnl::rnn_primitive_desc_base pd;
    switch (cell_) {
      case CellKind::LSTM: {
        dnnl::lstm_forward::primitive_desc p(
            dnnl::lstm_forward::desc(fwd, dir, srcLayer, none, none, weightsLayerAny,
                                     weightsIterAny, biasAny, dstLayer, none, none),
            engine_);
        primitive_ = dnnl::lstm_forward(p);
        pd = p;
        break;
      }
      case CellKind::GRU: {
        dnnl::gru_forward::primitive_desc p(
            dnnl::gru_forward::desc(fwd, dir, srcLayer, none, weightsLayerAny, weightsIterAny,
                                    biasAny, dstLayer, none),
            engine_);
        primitive_ = dnnl::gru_forward(p);
        pd = p;
        break;
      }
      case CellKind::GRUResetAfter: {
        dnnl::lbr_gru_forward::primitive_desc p(
            dnnl::lbr_gru_forward::desc(fwd, dir, srcLayer, none, weightsLayerAny, weightsIterAny,
                                        biasAny, dstLayer, none),
            engine_);
        primitive_ = dnnl::lbr_gru_forward(p);
        pd = p;
        break;
      }
      case CellKind::SimpleRNN: {
        dnnl::vanilla_rnn_forward::primitive_desc p(
            dnnl::vanilla_rnn_forward::desc(fwd, dnnl::algorithm::eltwise_tanh, dir, srcLayer, none,
                                            weightsLayerAny, weightsIterAny, biasAny, dstLayer,
                                            none),
            engine_);
        primitive_ = dnnl::vanilla_rnn_forward(p);
        pd = p;
        break;
      }
    }
    if (pd.src_layer_desc() != srcLayer || pd.dst_layer_desc() != dstLayer)
      throw std::runtime_error("oneDNN: the primitive does not take ntc inputs/outputs");

    // Biases in oneDNN's ldgo: the same gate-major layout as TF.js, except for the LBR GRU.
    const std::vector<float> bias =
        cell_ == CellKind::GRUResetAfter
            ? onednn_detail::lbrBias(d.bias, static_cast<std::size_t>(H))
            : d.bias;
    weightsLayer_ =
        toPrimitiveLayout({1, 1, I, g, H}, tag::ldigo, d.kernel, pd.weights_layer_desc());
    weightsIter_ =
        toPrimitiveLayout({1, 1, H, g, H}, tag::ldigo, d.recurrentKernel, pd.weights_iter_desc());
    bias_ = toPrimitiveLayout({1, 1, biasGates, H}, tag::ldgo, bias, pd.bias_desc());
    scratchpad_ = dnnl::memory(pd.scratchpad_desc(), engine_);
    src_ = dnnl::memory(srcLayer, engine_, nullptr);
    dst_ = dnnl::memory(dstLayer, engine_, nullptr);
    weightsFormat_ = describe(pd.weights_layer_desc()) + " / " + describe(pd.weights_iter_desc());
    implementation_ = pd.impl_info_str();
  }

  /// x: [B, T, I]; out: [B, T, H]. The timed part.
  void run(const float* x, float* out) {
    src_.set_data_handle(const_cast<float*>(x));  // read only: src_layer is an input
    dst_.set_data_handle(out);
    primitive_.execute(stream_, {{DNNL_ARG_SRC_LAYER, src_},
                                 {DNNL_ARG_WEIGHTS_LAYER, weightsLayer_},
                                 {DNNL_ARG_WEIGHTS_ITER, weightsIter_},
                                 {DNNL_ARG_BIAS, bias_},
                                 {DNNL_ARG_DST_LAYER, dst_},
                                 {DNNL_ARG_SCRATCHPAD, scratchpad_}});
    stream_.wait();
  }

  /// The layouts oneDNN chose for the input and recurrent weights (see `describe`).
  const std::string& weightsFormat() const { return weightsFormat_; }
  /// The implementation oneDNN chose (e.g. "brgemm:avx512_core"; "ref" would be its slow path).
  const std::string& implementation() const { return implementation_; }

 private:
  dnnl::memory toPrimitiveLayout(const dnnl::memory::dims& dims, tag userTag,
                                 const std::vector<float>& values,
                                 const dnnl::memory::desc& wanted) {
    return onednn_detail::toPrimitiveLayout(engine_, stream_, dims, userTag, values, wanted);
  }
  static std::string describe(const dnnl::memory::desc& md) { return onednn_detail::describe(md); }

  dnnl::engine engine_;
  dnnl::stream stream_;
  CellKind cell_;
  Workload w_;
  dnnl::primitive primitive_;
  dnnl::memory src_, dst_, weightsLayer_, weightsIter_, bias_, scratchpad_;
  std::string weightsFormat_, implementation_;
};

/// One training step with oneDNN: prop_kind::forward_training (which fills the workspace that
/// the backward primitive reads) + prop_kind::backward, zero initial states, the full output
/// sequence, upstream gradient dY on dst_layer only (none on the final states).
///
/// - Data in the caller's [B, T, C] buffers (`ntc`): x, y, dY, dX.
/// - Weights: given as `ldigo` (TF.js layout) and reordered once, in the constructor, into the
///   layouts the forward and the backward primitive each ask for (`format_tag::any`; they may
///   differ). Outside the timed part, as for inference (a training loop that updates the weights
///   would redo these reorders after each update).
/// - Weight gradients: in the layouts the backward primitive asks for (`any`); `gradients()`
///   reorders them to `ldigo` / `ldgo` for the comparison, outside the timed part.
/// - oneDNN's RNN backward *accumulates* into diff_weights_layer, diff_weights_iter and diff_bias
///   (so that a sequence split over several primitives sums its gradients): `run` zeroes them
///   first, inside the timed part, as every training step has to.
/// - `run` is the timed part: zero the weight gradients, forward execute, backward execute,
///   `stream::wait`.
class OneDnnRnnTraining {
 public:
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;

  OneDnnRnnTraining(const CaseData& d, const dnnl::engine& engine)
      : engine_(engine), stream_(engine), cell_(d.cell), w_(d.workload) {
    const auto g = static_cast<dnnl::memory::dim>(gateCount(cell_));
    const dnnl::memory::dim T = w_.time, N = w_.batch, I = w_.input, H = w_.units;
    const dnnl::memory::dim biasGates = cell_ == CellKind::GRUResetAfter ? 4 : g;
    weightsLayerDims_ = {1, 1, I, g, H};
    weightsIterDims_ = {1, 1, H, g, H};
    biasDims_ = {1, 1, biasGates, H};

    const dnnl::memory::desc srcLayer({T, N, I}, dt::f32, tag::ntc);
    const dnnl::memory::desc dstLayer({T, N, H}, dt::f32, tag::ntc);
    const dnnl::memory::desc wl(weightsLayerDims_, dt::f32, tag::any);
    const dnnl::memory::desc wi(weightsIterDims_, dt::f32, tag::any);
    const dnnl::memory::desc b(biasDims_, dt::f32, tag::any);
    const dnnl::memory::desc none;  // zero states in, no states out, no gradient on them
    const auto fwd = dnnl::prop_kind::forward_training;
    const auto bwd = dnnl::prop_kind::backward;
    const auto dir = dnnl::rnn_direction::unidirectional_left2right;
    const auto tanh = dnnl::algorithm::eltwise_tanh;

    // Backward descriptors: (src, weights, bias, dst) as the forward's, then their gradients:
    // diff_src_layer like src_layer, diff weights `any`, diff_dst_layer like dst_layer.
    dnnl::rnn_primitive_desc_base fpd, bpd;
    switch (cell_) {
      case CellKind::LSTM: {
        dnnl::lstm_forward::primitive_desc f(
            dnnl::lstm_forward::desc(fwd, dir, srcLayer, none, none, wl, wi, b, dstLayer, none,
                                     none),
            engine_);
        dnnl::lstm_backward::primitive_desc bw(
            dnnl::lstm_backward::desc(bwd, dir, srcLayer, none, none, wl, wi, b, dstLayer, none,
                                      none, srcLayer, none, none, wl, wi, b, dstLayer, none, none),
            engine_, f);
        forward_ = dnnl::lstm_forward(f);
        backward_ = dnnl::lstm_backward(bw);
        fpd = f;
        bpd = bw;
        break;
      }
      case CellKind::GRU: {
        dnnl::gru_forward::primitive_desc f(
            dnnl::gru_forward::desc(fwd, dir, srcLayer, none, wl, wi, b, dstLayer, none), engine_);
        dnnl::gru_backward::primitive_desc bw(
            dnnl::gru_backward::desc(bwd, dir, srcLayer, none, wl, wi, b, dstLayer, none, srcLayer,
                                     none, wl, wi, b, dstLayer, none),
            engine_, f);
        forward_ = dnnl::gru_forward(f);
        backward_ = dnnl::gru_backward(bw);
        fpd = f;
        bpd = bw;
        break;
      }
      case CellKind::GRUResetAfter: {
        dnnl::lbr_gru_forward::primitive_desc f(
            dnnl::lbr_gru_forward::desc(fwd, dir, srcLayer, none, wl, wi, b, dstLayer, none),
            engine_);
        dnnl::lbr_gru_backward::primitive_desc bw(
            dnnl::lbr_gru_backward::desc(bwd, dir, srcLayer, none, wl, wi, b, dstLayer, none,
                                         srcLayer, none, wl, wi, b, dstLayer, none),
            engine_, f);
        forward_ = dnnl::lbr_gru_forward(f);
        backward_ = dnnl::lbr_gru_backward(bw);
        fpd = f;
        bpd = bw;
        break;
      }
      case CellKind::SimpleRNN: {
        dnnl::vanilla_rnn_forward::primitive_desc f(
            dnnl::vanilla_rnn_forward::desc(fwd, tanh, dir, srcLayer, none, wl, wi, b, dstLayer,
                                            none),
            engine_);
        dnnl::vanilla_rnn_backward::primitive_desc bw(
            dnnl::vanilla_rnn_backward::desc(bwd, tanh, dir, srcLayer, none, wl, wi, b, dstLayer,
                                             none, srcLayer, none, wl, wi, b, dstLayer, none),
            engine_, f);
        forward_ = dnnl::vanilla_rnn_forward(f);
        backward_ = dnnl::vanilla_rnn_backward(bw);
        fpd = f;
        bpd = bw;
        break;
      }
    }
    if (fpd.src_layer_desc() != srcLayer || fpd.dst_layer_desc() != dstLayer ||
        bpd.src_layer_desc() != srcLayer || bpd.dst_layer_desc() != dstLayer ||
        bpd.diff_src_layer_desc() != srcLayer || bpd.diff_dst_layer_desc() != dstLayer)
      throw std::runtime_error("oneDNN: the training primitives do not take ntc data");

    const std::vector<float> bias =
        cell_ == CellKind::GRUResetAfter
            ? onednn_detail::lbrBias(d.bias, static_cast<std::size_t>(H))
            : d.bias;
    auto convert = [&](const dnnl::memory::dims& dims, tag userTag, const std::vector<float>& v,
                       const dnnl::memory::desc& wanted) {
      return onednn_detail::toPrimitiveLayout(engine_, stream_, dims, userTag, v, wanted);
    };
    fwdWeightsLayer_ = convert(weightsLayerDims_, tag::ldigo, d.kernel, fpd.weights_layer_desc());
    fwdWeightsIter_ =
        convert(weightsIterDims_, tag::ldigo, d.recurrentKernel, fpd.weights_iter_desc());
    fwdBias_ = convert(biasDims_, tag::ldgo, bias, fpd.bias_desc());
    bwdWeightsLayer_ = convert(weightsLayerDims_, tag::ldigo, d.kernel, bpd.weights_layer_desc());
    bwdWeightsIter_ =
        convert(weightsIterDims_, tag::ldigo, d.recurrentKernel, bpd.weights_iter_desc());
    bwdBias_ = convert(biasDims_, tag::ldgo, bias, bpd.bias_desc());
    diffWeightsLayer_ = dnnl::memory(bpd.diff_weights_layer_desc(), engine_);
    diffWeightsIter_ = dnnl::memory(bpd.diff_weights_iter_desc(), engine_);
    diffBias_ = dnnl::memory(bpd.diff_bias_desc(), engine_);
    if (fpd.workspace_desc() != bpd.workspace_desc())
      throw std::runtime_error("oneDNN: forward and backward disagree on the workspace");
    workspace_ = dnnl::memory(fpd.workspace_desc(), engine_);
    workspaceBytes_ = fpd.workspace_desc().get_size();
    fwdScratchpad_ = dnnl::memory(fpd.scratchpad_desc(), engine_);
    bwdScratchpad_ = dnnl::memory(bpd.scratchpad_desc(), engine_);
    src_ = dnnl::memory(srcLayer, engine_, nullptr);
    dst_ = dnnl::memory(dstLayer, engine_, nullptr);
    diffSrc_ = dnnl::memory(srcLayer, engine_, nullptr);
    diffDst_ = dnnl::memory(dstLayer, engine_, nullptr);
    formats_ = "fwd " + onednn_detail::describe(fpd.weights_layer_desc()) + " / " +
               onednn_detail::describe(fpd.weights_iter_desc()) + ", bwd " +
               onednn_detail::describe(bpd.weights_layer_desc()) + " / " +
               onednn_detail::describe(bpd.weights_iter_desc()) + ", diff " +
               onednn_detail::describe(bpd.diff_weights_layer_desc()) + " / " +
               onednn_detail::describe(bpd.diff_weights_iter_desc());
    implementation_ = std::string(fpd.impl_info_str()) + " / " + bpd.impl_info_str();
  }

  /// x: [B, T, I], dy: [B, T, H] in; y: [B, T, H], dx: [B, T, I] out; the weight gradients stay
  /// inside (`gradients()`). The timed part.
  void run(const float* x, const float* dy, float* y, float* dx) {
    // oneDNN accumulates the weight gradients: zero them (inside the timed part).
    for (dnnl::memory* m : {&diffWeightsLayer_, &diffWeightsIter_, &diffBias_})
      std::memset(m->get_data_handle(), 0, m->get_desc().get_size());
    src_.set_data_handle(const_cast<float*>(x));  // read only: inputs
    diffDst_.set_data_handle(const_cast<float*>(dy));
    dst_.set_data_handle(y);
    diffSrc_.set_data_handle(dx);
    forward_.execute(stream_, {{DNNL_ARG_SRC_LAYER, src_},
                               {DNNL_ARG_WEIGHTS_LAYER, fwdWeightsLayer_},
                               {DNNL_ARG_WEIGHTS_ITER, fwdWeightsIter_},
                               {DNNL_ARG_BIAS, fwdBias_},
                               {DNNL_ARG_DST_LAYER, dst_},
                               {DNNL_ARG_WORKSPACE, workspace_},
                               {DNNL_ARG_SCRATCHPAD, fwdScratchpad_}});
    backward_.execute(stream_, {{DNNL_ARG_SRC_LAYER, src_},
                                {DNNL_ARG_WEIGHTS_LAYER, bwdWeightsLayer_},
                                {DNNL_ARG_WEIGHTS_ITER, bwdWeightsIter_},
                                {DNNL_ARG_BIAS, bwdBias_},
                                {DNNL_ARG_DST_LAYER, dst_},
                                {DNNL_ARG_DIFF_DST_LAYER, diffDst_},
                                {DNNL_ARG_DIFF_SRC_LAYER, diffSrc_},
                                {DNNL_ARG_DIFF_WEIGHTS_LAYER, diffWeightsLayer_},
                                {DNNL_ARG_DIFF_WEIGHTS_ITER, diffWeightsIter_},
                                {DNNL_ARG_DIFF_BIAS, diffBias_},
                                {DNNL_ARG_WORKSPACE, workspace_},
                                {DNNL_ARG_SCRATCHPAD, bwdScratchpad_}});
    stream_.wait();
  }

  /// The weight gradients of the last `run` in TF.js layout: kernel [I, G·H], recurrent kernel
  /// [H, G·H], bias [G·H] (reset-after GRU: [2, 3H]).
  void gradients(std::vector<float>& kernel, std::vector<float>& recurrentKernel,
                 std::vector<float>& bias) {
    kernel = onednn_detail::fromPrimitiveLayout(engine_, stream_, weightsLayerDims_, tag::ldigo,
                                                diffWeightsLayer_);
    recurrentKernel = onednn_detail::fromPrimitiveLayout(engine_, stream_, weightsIterDims_,
                                                         tag::ldigo, diffWeightsIter_);
    bias = onednn_detail::fromPrimitiveLayout(engine_, stream_, biasDims_, tag::ldgo, diffBias_);
    if (cell_ == CellKind::GRUResetAfter)
      bias = onednn_detail::lbrBiasGradient(bias, static_cast<std::size_t>(w_.units));
  }

  /// Bytes of the workspace the forward fills for the backward (workspace_desc().get_size()).
  std::size_t workspaceBytes() const { return workspaceBytes_; }
  /// Weight layouts: forward, backward, gradients (input / recurrent each).
  const std::string& weightsFormat() const { return formats_; }
  /// The implementations oneDNN chose, "forward / backward".
  const std::string& implementation() const { return implementation_; }

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  CellKind cell_;
  Workload w_;
  dnnl::memory::dims weightsLayerDims_, weightsIterDims_, biasDims_;
  dnnl::primitive forward_, backward_;
  dnnl::memory src_, dst_, diffSrc_, diffDst_;
  dnnl::memory fwdWeightsLayer_, fwdWeightsIter_, fwdBias_;
  dnnl::memory bwdWeightsLayer_, bwdWeightsIter_, bwdBias_;
  dnnl::memory diffWeightsLayer_, diffWeightsIter_, diffBias_;
  dnnl::memory workspace_, fwdScratchpad_, bwdScratchpad_;
  std::size_t workspaceBytes_ = 0;
  std::string formats_, implementation_;
};

}  // namespace bench

#endif  // RECURRENT_BENCHMARKS_ONEDNN_RNN_HPP
