// Internal, may change: the per-layer table of a model (`LayersModel::layers()`) and the text of
// `summary()`, as Keras prints it. Part of io/tfjs.hpp.
#ifndef RECURRENT_IO_DETAIL_MODEL_SUMMARY_HPP
#define RECURRENT_IO_DETAIL_MODEL_SUMMARY_HPP

#include <recurrent/io/detail/model_config.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace recurrent::io {
namespace detail {

/// Fills the model's `LayerInfo` table (name, class, output shapes, parameters, inbound nodes).
struct ModelSummary {
  template <class Scalar>
  static void summarise(ModelBuildState<Scalar>& st) {
    for (std::size_t l = 0; l < st.model.layers_.size(); ++l) {
      LayerInfo info;
      const auto* layer = st.model.layers_[l].get();
      info.className = layer != nullptr ? layer->className() : "InputLayer";
      for (const auto& [name, id] : st.byName)
        if (id == l) info.name = name;
      Index params = 0;
      for (std::size_t n : st.nodesOf[l]) {
        const auto& node = st.nodes[n];
        if (info.outputShapes.empty()) info.outputShapes = node.outputShapes;
        for (const auto& r : node.inputs) {
          const auto& src = st.nodes[r.node];
          std::string srcName;
          for (const auto& [name, id] : st.byName)
            if (id == src.layer) srcName = name;
          const auto& srcNodes = st.nodesOf[src.layer];
          const auto idx = static_cast<std::size_t>(
              std::find(srcNodes.begin(), srcNodes.end(), r.node) - srcNodes.begin());
          info.inbound.push_back(srcName + "[" + std::to_string(idx) + "][" +
                                 std::to_string(r.tensor) + "]");
        }
      }
      if (layer != nullptr && !st.nodesOf[l].empty())
        for (const WeightSlot& s : layer->weightSlots(st.nodes[st.nodesOf[l][0]].inputShapes))
          params += product(s.shape);
      info.params = params;
      st.model.info_.push_back(std::move(info));
    }
    st.model.nodes_ = std::move(st.nodes);
  }
};

}  // namespace detail

template <class Scalar>
Index LayersModel<Scalar>::countParams() const {
  Index n = 0;
  for (const auto& i : info_) n += i.params;
  return n;
}

template <class Scalar>
std::string LayersModel<Scalar>::summary() const {
  auto pyShape = [](const std::vector<Index>& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i)
      out += (i ? ", " : "") + (s[i] < 0 ? std::string("None") : std::to_string(s[i]));
    return out + (s.size() == 1 ? ",)" : ")");
  };
  auto grouped = [](Index n) {
    std::string d = std::to_string(n), out;
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (i > 0 && (d.size() - i) % 3 == 0) out += ',';
      out += d[i];
    }
    return out;
  };
  auto pad = [](std::string s, std::size_t w) {
    if (s.size() + 1 > w) return s + " ";
    return s + std::string(w - s.size(), ' ');
  };
  // Column widths fit the longest entry (Keras uses 33/28/12(/30) at least).
  auto shapeOf = [&](const LayerInfo& l) {
    if (l.outputShapes.size() == 1) return pyShape(l.outputShapes[0]);
    std::string s = "[";
    for (std::size_t k = 0; k < l.outputShapes.size(); ++k)
      s += (k ? ", " : "") + pyShape(l.outputShapes[k]);
    return s + "]";
  };
  std::vector<const LayerInfo*> rows;
  for (const LayerInfo& l : info_)
    if (functional_ || l.className != "InputLayer") rows.push_back(&l);  // as Keras prints them
  std::vector<std::size_t> widths{33, 28, 12};
  if (functional_) widths.push_back(30);
  for (const LayerInfo* l : rows) {
    widths[0] = std::max(widths[0], l->name.size() + l->className.size() + 6);
    widths[1] = std::max(widths[1], shapeOf(*l).size() + 2);
  }
  std::size_t total = 0;
  for (auto w : widths) total += w;
  std::ostringstream os;
  os << "Model: \"" << name_ << "\"\n" << std::string(total, '_') << "\n";
  os << pad(" Layer (type)", widths[0]) << pad("Output Shape", widths[1])
     << pad("Param #", widths[2]);
  if (functional_) os << "Connected to";
  os << "\n" << std::string(total, '=') << "\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const LayerInfo& l = *rows[i];
    os << pad(" " + l.name + " (" + l.className + ")", widths[0]) << pad(shapeOf(l), widths[1])
       << pad(grouped(l.params), widths[2]);
    if (functional_) {
      std::string c;
      for (const auto& in : l.inbound) c += (c.empty() ? "" : ", ") + in;
      os << c;
    }
    os << "\n" << std::string(total, i + 1 == rows.size() ? '=' : '_') << "\n";
  }
  os << "Total params: " << grouped(countParams()) << "\n"
     << "Trainable params: " << grouped(countParams()) << "\n"
     << "Non-trainable params: 0\n"
     << std::string(total, '_') << "\n";
  return os.str();
}

}  // namespace recurrent::io

#endif  // RECURRENT_IO_DETAIL_MODEL_SUMMARY_HPP
