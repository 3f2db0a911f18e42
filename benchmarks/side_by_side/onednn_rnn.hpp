// oneDNN (C++ API, 2.x) RNN primitives for the side-by-side runner.
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
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace bench {

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
    std::vector<float> bias = d.bias;
    if (cell_ == CellKind::GRUResetAfter) {
      const std::size_t h = static_cast<std::size_t>(H);
      const std::vector<float>& b = d.bias;  // [2, 3H]: input row, recurrent row
      bias.assign(4 * h, 0.0f);
      for (std::size_t j = 0; j < h; ++j) {
        bias[j] = b[j] + b[3 * h + j];          // z: input + recurrent
        bias[h + j] = b[h + j] + b[4 * h + j];  // r: input + recurrent
        bias[2 * h + j] = b[2 * h + j];         // h: input
        bias[3 * h + j] = b[5 * h + j];         // h: recurrent (inside r ⊙ (·))
      }
    }
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
    dnnl::memory user({dims, dt::f32, userTag}, engine_, const_cast<float*>(values.data()));
    dnnl::memory converted(wanted, engine_);  // owns its copy, whatever the layout
    dnnl::reorder(user, converted).execute(stream_, user, converted);
    stream_.wait();
    return converted;
  }

  /// oneDNN-style format tag of a memory descriptor ("abcde" = ldigo; capitals and a suffix
  /// such as "64e" for blocked dimensions), or "rnn_packed".
  static std::string describe(const dnnl::memory::desc& md) {
    const dnnl_memory_desc_t& d = md.data;
    if (d.format_kind == dnnl_format_kind_rnn_packed) return "rnn_packed";
    if (d.format_kind != dnnl_blocked) return "other";
    const dnnl_blocking_desc_t& b = d.format_desc.blocking;
    std::vector<int> order(static_cast<std::size_t>(d.ndims));
    for (int i = 0; i < d.ndims; ++i) order[static_cast<std::size_t>(i)] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](int x, int y) { return b.strides[x] > b.strides[y]; });
    std::string tag;
    for (int i : order) {
      bool blocked = false;
      for (int k = 0; k < b.inner_nblks; ++k) blocked = blocked || b.inner_idxs[k] == i;
      tag += static_cast<char>((blocked ? 'A' : 'a') + i);
    }
    for (int k = 0; k < b.inner_nblks; ++k)
      tag += std::to_string(b.inner_blks[k]) + static_cast<char>('a' + b.inner_idxs[k]);
    return tag;
  }

  dnnl::engine engine_;
  dnnl::stream stream_;
  CellKind cell_;
  Workload w_;
  dnnl::primitive primitive_;
  dnnl::memory src_, dst_, weightsLayer_, weightsIter_, bias_, scratchpad_;
  std::string weightsFormat_, implementation_;
};

}  // namespace bench

#endif  // RECURRENT_BENCHMARKS_ONEDNN_RNN_HPP
