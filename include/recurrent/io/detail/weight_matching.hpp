// Internal, may change: the weights of a model file matched to its layers — what each layer
// needs (its `WeightSlot`s, from the config alone), TF.js's `loadWeights` name matching (Keras's
// cell scopes, Keras 3's positional names), shape checks with the likely reason of a mismatch,
// and the decoding of the shards. Part of io/tfjs.hpp.
#ifndef RECURRENT_IO_DETAIL_WEIGHT_MATCHING_HPP
#define RECURRENT_IO_DETAIL_WEIGHT_MATCHING_HPP

#include <recurrent/io/detail/model_config.hpp>
#include <recurrent/io/detail/weight_slots.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace recurrent::io::detail {

/// What a weight of shape `got` instead of `slot.shape` most likely means.
inline std::string likelyReason(const WeightSlot& slot, const Shape& got) {
  const Shape& e = slot.shape;
  const bool isBias =
      slot.name.size() >= 4 && slot.name.compare(slot.name.size() - 4, 4, "bias") == 0;
  const bool isRecurrent = slot.name.find("recurrent_kernel") != std::string::npos;
  if (isBias && e.size() == 1 && got.size() == 2 && got[0] == 2 && got[1] == e[0])
    return "a [2, 3·units] bias is the reset_after: true layout (Keras 2 / cuDNN / PyTorch GRU), "
           "but the layer config says reset_after: false";
  if (isBias && e.size() == 2 && got.size() == 1 && got[0] == e[1])
    return "a [3·units] bias is the reset_after: false layout (TF.js GRU), but the layer config "
           "says reset_after: true";
  if (isBias && e.size() == 1 && got.size() == 1 && got[0] == 2 * e[0])
    return "a bias twice as long is a cuDNN layout (separate input and recurrent biases: "
           "CuDNNLSTM / CuDNNGRU)";
  if (e.size() == 2 && got.size() == 2 && !isBias) {
    if (!isRecurrent && got[1] == e[1] && got[0] != e[0])
      return "the kernel's rows are the input features: this layer receives " +
             std::to_string(e[0]) + " features but the weights are for " + std::to_string(got[0]) +
             " (wrong input shape, or layers in a different order?)";
    if (got[1] != e[1] && got[0] > 0 && (isRecurrent ? got[1] % got[0] == 0 : true)) {
      const Index units = isRecurrent ? got[0] : 0;
      if (units > 0 && got[1] / units != e[1] / std::max<Index>(e[0], 1))
        return "a recurrent kernel with " + std::to_string(got[1] / units) +
               "·units columns belongs to a " + layerOfGates(got[1] / units) + ", not a " +
               layerOfGates(e[1] / std::max<Index>(e[0], 1));
    }
  }
  return slot.hint;
}

/// Sets every layer's weights from the manifest and shards (or, for a model built in code,
/// from the layers' initializers).
struct WeightMatching {
  template <class Scalar>
  static void loadWeights(ModelBuildState<Scalar>& st) {
    struct Target {
      std::size_t layer, slot;
    };
    // The manifest (parsed, nothing read yet). Keras 3 names weights `<scope>/<index>`.
    std::vector<WeightGroup> groups;
    if (const json* m = find(st.root, "weightsManifest"); m != nullptr)
      groups = parseManifest(*m, kLoad());
    bool indexNames = false;
    for (const WeightGroup& g : groups)
      if (!g.specs.empty()) {
        const std::string& first = g.specs[0].name;
        const std::string last = first.substr(first.rfind('/') + 1);
        indexNames = !last.empty() && std::all_of(last.begin(), last.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
        break;
      }
    // What every layer needs (for its first node's input shapes: TF.js builds a layer once).
    std::vector<std::vector<WeightSlot>> slots(st.model.layers_.size());
    std::vector<std::string> order;
    std::map<std::string, Target> targets;
    for (std::size_t l = 0; l < st.model.layers_.size(); ++l) {
      if (st.model.layers_[l] == nullptr || st.nodesOf[l].empty()) continue;
      const auto& layer = *st.model.layers_[l];
      slots[l] = layer.weightSlots(st.nodes[st.nodesOf[l][0]].inputShapes);
      for (std::size_t s = 0; s < slots[l].size(); ++s) {
        const std::string key = layer.name() + "/" + slots[l][s].name;
        if (targets.count(key) != 0) raise<ConfigError>(kLoad(), "Duplicate weight name: " + key);
        targets[key] = {l, s};
        order.push_back(key);
      }
    }
    if (st.options.initialize) {  // a model built in code: every layer draws its own weights
      st.model.weightOrder_ = order;
      for (std::size_t l = 0; l < slots.size(); ++l) {
        if (slots[l].empty()) continue;
        const auto& in = st.nodes[st.nodesOf[l][0]].inputShapes;
        st.model.layers_[l]->setWeights(in, st.model.layers_[l]->initialWeights(in));
      }
      return;
    }
    // Each manifest entry -> the key of its target (checked before any shard is read).
    std::vector<std::vector<std::string>> keyOf(groups.size());
    if (indexNames) {
      indexKeys(st, groups, slots, keyOf);
    } else {
      for (std::size_t g = 0; g < groups.size(); ++g)
        for (const WeightSpec& spec : groups[g].specs) {
          std::string key = spec.name;
          if (targets.count(key) == 0) {  // Keras >= 2.2: `layer/cell/weight` -> `layer/weight`
            const auto last = key.rfind('/');
            const auto cell = last == std::string::npos || last == 0 ? std::string::npos
                                                                     : key.rfind('/', last - 1);
            if (cell != std::string::npos) key = key.substr(0, cell) + key.substr(last);
          }
          keyOf[g].push_back(key);
        }
    }
    std::map<std::string, std::string> seen;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (std::size_t i = 0; i < groups[g].specs.size(); ++i) {
        const WeightSpec& spec = groups[g].specs[i];
        std::string& key = keyOf[g][i];
        auto it = targets.find(key);
        if (it == targets.end()) {
          if (st.options.strict)
            raise<WeightError>(kLoad(), "Provided weight data has no target variable: " +
                                            spec.name + targetHint(spec.name, order));
          key.clear();
          continue;
        }
        if (seen.count(key) != 0)
          raise<WeightError>(kLoad(),
                             "weights '" + seen[key] + "' and '" + spec.name + "' both set " + key);
        seen[key] = spec.name;
        const WeightSlot& slot = slots[it->second.layer][it->second.slot];
        if (spec.shape != slot.shape)
          raise<WeightError>(st.model.layers_[it->second.layer]->who("setWeights"),
                             "weight '" + spec.name + "': expected shape " + shapeText(slot.shape) +
                                 ", got " + shapeText(spec.shape) + " — " +
                                 likelyReason(slot, spec.shape));
      }
    }
    st.model.weightOrder_ = order;
    {  // Missing weights are an error even when not strict: no layer runs on made-up weights.
      std::vector<std::string> unset;
      for (const std::string& k : order)
        if (seen.count(k) == 0) unset.push_back(k);
      if (!unset.empty()) {
        std::string list;
        for (const auto& u : unset) list += (list.empty() ? "" : ", ") + u;
        raise<WeightError>(kLoad(), std::to_string(unset.size()) + " of " +
                                        std::to_string(order.size()) +
                                        " weights are not set: " + list);
      }
    }
    // Read and decode the shards; hand each layer its values.
    std::vector<std::vector<FlatTensor<Scalar>>> values(st.model.layers_.size());
    for (std::size_t l = 0; l < slots.size(); ++l) values[l].resize(slots[l].size());
    for (std::size_t g = 0; g < groups.size(); ++g) {
      std::string data;
      for (const std::string& p : groups[g].paths) data += st.read(p);
      std::vector<NamedWeight<Scalar>> decoded;
      decodeGroup<Scalar>(groups[g], g, data, kLoad(), decoded);
      for (std::size_t i = 0; i < decoded.size(); ++i) {
        if (keyOf[g][i].empty()) continue;
        const Target& t = targets[keyOf[g][i]];
        values[t.layer][t.slot] = std::move(decoded[i].value);
      }
    }
    for (std::size_t l = 0; l < slots.size(); ++l) {
      if (slots[l].empty()) continue;
      st.model.layers_[l]->setWeights(st.nodes[st.nodesOf[l][0]].inputShapes, std::move(values[l]));
    }
  }

  /// Keras 3 manifests name weights by position: `layers/<layer>/<sub-object>/vars/<i>` (the
  /// tfjs converter) or `<layer>/<sub-object>/<i>` (TF.js's own Keras-3 form). A layer's entries,
  /// forward sub-objects before backward ones and each by index, take its weights in order.
  template <class Scalar>
  static void indexKeys(const ModelBuildState<Scalar>& st, const std::vector<WeightGroup>& groups,
                        const std::vector<std::vector<WeightSlot>>& slots,
                        std::vector<std::vector<std::string>>& keyOf) {
    struct Entry {
      std::size_t group, item;
      bool backward;
      std::size_t sub;
      long index;
    };
    std::map<std::string, std::vector<Entry>> perLayer;
    std::map<std::string, std::size_t> subOrder;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      keyOf[g].resize(groups[g].specs.size());
      for (std::size_t i = 0; i < groups[g].specs.size(); ++i) {
        std::vector<std::string> parts;
        std::string part;
        for (char c : groups[g].specs[i].name + "/") {
          if (c != '/') {
            part += c;
            continue;
          }
          while (!part.empty() && part[0] == '_') part.erase(0, 1);
          if (part != "vars" && part != "layer_checkpoint_dependencies") parts.push_back(part);
          part.clear();
        }
        if (!parts.empty() && parts[0] == "layers" && parts.size() > 2) parts.erase(parts.begin());
        if (parts.size() < 2) continue;  // no target: reported by the caller
        const std::string& last = parts.back();
        if (last.empty() || last.size() > 9 ||
            !std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; }))
          continue;
        std::string sub;
        for (std::size_t k = 1; k + 1 < parts.size(); ++k) sub += "/" + parts[k];
        const std::string subKey = parts[0] + sub;
        if (subOrder.count(subKey) == 0) subOrder[subKey] = subOrder.size();
        perLayer[parts[0]].push_back(
            {g, i, sub.find("backward") != std::string::npos, subOrder[subKey], std::stol(last)});
      }
    }
    for (auto& [layer, entries] : perLayer) {
      auto it = st.byName.find(layer);
      if (it == st.byName.end()) continue;
      std::stable_sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) {
        if (x.backward != y.backward) return !x.backward;
        if (x.sub != y.sub) return x.sub < y.sub;
        return x.index < y.index;
      });
      const auto& layerSlots = slots[it->second];
      for (std::size_t k = 0; k < entries.size() && k < layerSlots.size(); ++k)
        keyOf[entries[k].group][entries[k].item] = layer + "/" + layerSlots[k].name;
    }
  }

  static std::string targetHint(const std::string& name, const std::vector<std::string>& order) {
    const std::string layer = name.substr(0, name.find('/'));
    std::string list;
    for (const auto& k : order)
      if (k.rfind(layer + "/", 0) == 0) list += (list.empty() ? "" : ", ") + k;
    if (list.empty()) return " (no layer is named '" + layer + "')";
    return " (layer '" + layer + "' has " + list + ")";
  }
};

}  // namespace recurrent::io::detail

#endif  // RECURRENT_IO_DETAIL_WEIGHT_MATCHING_HPP
