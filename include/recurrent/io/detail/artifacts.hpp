// Internal, may change: reading a TF.js layers-model's artifacts — files, JSON, the weights
// manifest and its binary shards (float32/int32, and uint8/uint16/float16 quantised weights,
// dequantised exactly as tfjs-core's `decodeWeights` does).
#ifndef RECURRENT_IO_DETAIL_ARTIFACTS_HPP
#define RECURRENT_IO_DETAIL_ARTIFACTS_HPP

#include <recurrent/detail/checks.hpp>
#include <recurrent/errors.hpp>
#include <recurrent/types.hpp>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace recurrent::io::detail {

using nlohmann::json;
using recurrent::detail::raise;
using recurrent::detail::shapeString;

/// The whole file as bytes. @throws IOError naming the file.
inline std::string readFile(const std::string& path, const std::string& who) {
  std::ifstream in(path, std::ios::binary);
  if (!in) raise<IOError>(who, "cannot open '" + path + "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) raise<IOError>(who, "cannot read '" + path + "'");
  return bytes;
}

/// Parses JSON text. @throws FormatError with the parser's position and reason.
inline json parseJson(const std::string& text, const std::string& who, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    raise<FormatError>(who, what + " is not valid JSON: " + e.what());
  }
}

/// Rejects documents nested deeper than `maxDepth` (checked without recursion), so that the
/// recursive walks over configs cannot exhaust the stack. @throws FormatError.
inline void checkDepth(const json& root, const std::string& who, std::size_t maxDepth = 64) {
  std::vector<std::pair<const json*, std::size_t>> stack{{&root, 1}};
  while (!stack.empty()) {
    const auto [node, depth] = stack.back();
    stack.pop_back();
    if (depth > maxDepth)
      raise<FormatError>(who, "the JSON document is nested more than " + std::to_string(maxDepth) +
                                  " levels deep");
    if (node->is_structured())
      for (const json& child : *node) stack.push_back({&child, depth + 1});
  }
}

/// TF.js's `toCamelCase`: "recurrent_activation" -> "recurrentActivation", "lstm" -> "lstm".
inline std::string toCamelCase(const std::string& s) {
  if (s.size() <= 1 || s.find('_') == std::string::npos) return s;
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '_') {
      out += s[i++];
      continue;
    }
    while (i < s.size() && s[i] == '_') ++i;  // `[_]+(\w|$)`: a run of underscores
    if (i < s.size()) {
      const unsigned char c = static_cast<unsigned char>(s[i++]);
      out += static_cast<char>(std::toupper(c));
    }
  }
  return out;
}

/// TF.js's `convertPythonicToTs` for one layer config: keys and string values to camelCase,
/// except string values of `name`.
inline json pythonicToTs(const json& v) {
  if (v.is_string()) return toCamelCase(v.get<std::string>());
  if (v.is_array()) {
    json out = json::array();
    for (const json& item : v) out.push_back(pythonicToTs(item));
    return out;
  }
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (it.key() == "name" && it.value().is_string())
        out[it.key()] = it.value();
      else
        out[toCamelCase(it.key())] = pythonicToTs(it.value());
    }
    return out;
  }
  return v;
}

/// One entry of a `weightsManifest` group.
struct WeightSpec {
  std::string name;
  std::vector<Index> shape;
  std::string dtype;          ///< "float32" or "int32" (what the tensor is)
  std::string storedDtype;    ///< what the bytes hold: dtype, or "uint8"/"uint16"/"float16"
  double scale = 1, min = 0;  ///< affine dequantisation (uint8/uint16)
  std::size_t elements = 0;
  std::size_t bytes = 0;
};

struct WeightGroup {
  std::vector<std::string> paths;
  std::vector<WeightSpec> specs;
};

inline std::size_t bytesPerValue(const std::string& dtype) {
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "uint16" || dtype == "float16") return 2;
  if (dtype == "uint8" || dtype == "bool") return 1;
  return 0;
}

/// Parses `weightsManifest`. Every size is checked against overflow; nothing is allocated for
/// the tensors here. @throws FormatError naming the entry.
inline std::vector<WeightGroup> parseManifest(const json& manifest, const std::string& who) {
  if (!manifest.is_array())
    raise<FormatError>(who, "weightsManifest: expected an array of groups, got " +
                                std::string(manifest.type_name()));
  std::vector<WeightGroup> groups;
  for (std::size_t g = 0; g < manifest.size(); ++g) {
    const json& group = manifest[g];
    const std::string at = "weightsManifest[" + std::to_string(g) + "]";
    if (!group.is_object() || !group.contains("paths") || !group["paths"].is_array() ||
        !group.contains("weights") || !group["weights"].is_array())
      raise<FormatError>(who, at + ": expected {\"paths\": [...], \"weights\": [...]}");
    WeightGroup out;
    for (const json& p : group["paths"]) {
      if (!p.is_string()) raise<FormatError>(who, at + ".paths: expected strings, got " + p.dump());
      out.paths.push_back(p.get<std::string>());
    }
    for (const json& w : group["weights"]) {
      WeightSpec s;
      if (!w.is_object() || !w.contains("name") || !w["name"].is_string())
        raise<FormatError>(who,
                           at + ".weights: an entry without a name: " + w.dump().substr(0, 200));
      s.name = w["name"].get<std::string>();
      const std::string wat = at + " weight '" + s.name + "'";
      if (!w.contains("shape") || !w["shape"].is_array())
        raise<FormatError>(who, wat + ": missing shape");
      std::size_t n = 1;
      for (const json& d : w["shape"]) {
        if (!d.is_number_integer() || d.get<std::int64_t>() < 0 ||
            d.get<std::int64_t>() > (std::int64_t{1} << 40))
          raise<FormatError>(who, wat + ": bad dimension " + d.dump());
        const auto dim = static_cast<std::size_t>(d.get<std::int64_t>());
        if (dim != 0 && n > (std::size_t{1} << 40) / dim)
          raise<FormatError>(who, wat + ": shape " + w["shape"].dump() + " is too large");
        n *= dim;
        s.shape.push_back(static_cast<Index>(dim));
      }
      s.elements = n;
      s.dtype = w.contains("dtype") && w["dtype"].is_string() ? w["dtype"].get<std::string>() : "";
      if (s.dtype != "float32" && s.dtype != "int32")
        raise<FormatError>(who, wat + ": dtype " +
                                    (w.contains("dtype") ? w["dtype"].dump() : "missing") +
                                    " is not supported (float32 or int32)");
      s.storedDtype = s.dtype;
      if (w.contains("quantization") && !w["quantization"].is_null()) {
        const json& q = w["quantization"];
        if (!q.is_object() || !q.contains("dtype") || !q["dtype"].is_string())
          raise<FormatError>(who, wat + ": quantization without a dtype: " + q.dump());
        s.storedDtype = q["dtype"].get<std::string>();
        if (s.storedDtype == "uint8" || s.storedDtype == "uint16") {
          if (!q.contains("scale") || !q["scale"].is_number() || !q.contains("min") ||
              !q["min"].is_number())
            raise<FormatError>(who, wat + ": " + s.storedDtype +
                                        " quantization needs numeric min and scale, got " +
                                        q.dump());
          s.scale = q["scale"].get<double>();
          s.min = q["min"].get<double>();
          if (!std::isfinite(s.scale) || !std::isfinite(s.min))
            raise<FormatError>(who, wat + ": non-finite quantization min/scale " + q.dump());
        } else if (s.storedDtype == "float16") {
          if (s.dtype != "float32")
            raise<FormatError>(who, wat + ": float16 quantization only applies to float32 weights");
        } else {
          raise<FormatError>(who, wat + ": unknown quantization dtype '" + s.storedDtype +
                                      "' (uint8, uint16 or float16)");
        }
      }
      s.bytes = n * bytesPerValue(s.storedDtype);
      out.specs.push_back(std::move(s));
    }
    groups.push_back(std::move(out));
  }
  return groups;
}

/// IEEE 754 binary16 -> float, exactly.
inline float halfToFloat(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mantissa <<= 1;
      } while ((mantissa & 0x400u) == 0);
      bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3ffu) << 13);
    }
  } else if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// Decodes one weight from its bytes (little-endian), as tfjs-core does: affine values are
/// `q * scale + min` in double, then rounded to float32.
template <class Scalar>
FlatTensor<Scalar> decodeWeight(const WeightSpec& s, const unsigned char* p) {
  std::vector<Scalar> v(s.elements);
  auto u16 = [&](std::size_t i) {
    return static_cast<std::uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
  };
  auto u32 = [&](std::size_t i) {
    return static_cast<std::uint32_t>(p[4 * i]) | (static_cast<std::uint32_t>(p[4 * i + 1]) << 8) |
           (static_cast<std::uint32_t>(p[4 * i + 2]) << 16) |
           (static_cast<std::uint32_t>(p[4 * i + 3]) << 24);
  };
  for (std::size_t i = 0; i < s.elements; ++i) {
    float f = 0;
    if (s.storedDtype == "uint8" || s.storedDtype == "uint16") {
      const double q = s.storedDtype == "uint8" ? p[i] : u16(i);
      const double scaled = q * s.scale;
      f = static_cast<float>(scaled + s.min);
      if (s.dtype == "int32") f = static_cast<float>(std::round(scaled + s.min));
    } else if (s.storedDtype == "float16") {
      f = halfToFloat(u16(i));
    } else if (s.storedDtype == "int32") {
      const std::uint32_t bits = u32(i);
      std::int32_t iv;
      std::memcpy(&iv, &bits, sizeof iv);
      f = static_cast<float>(iv);
    } else {
      const std::uint32_t bits = u32(i);
      std::memcpy(&f, &bits, sizeof f);
    }
    v[i] = static_cast<Scalar>(f);
  }
  return FlatTensor<Scalar>(s.shape, std::move(v));
}

/// A named, decoded weight.
template <class Scalar>
struct NamedWeight {
  std::string name;
  FlatTensor<Scalar> value;
};

/// Decodes one group from the concatenation of its shards. The shards must hold exactly the
/// bytes the manifest describes. @throws FormatError for a truncated or oversized group.
template <class Scalar>
void decodeGroup(const WeightGroup& group, std::size_t groupIndex, const std::string& data,
                 const std::string& who, std::vector<NamedWeight<Scalar>>& out) {
  std::size_t need = 0;
  for (const WeightSpec& s : group.specs) need += s.bytes;
  std::string files;
  for (const auto& p : group.paths) files += (files.empty() ? "" : ", ") + p;
  const std::string at = "weightsManifest[" + std::to_string(groupIndex) + "] (" + files + ")";
  if (data.size() < need)
    raise<FormatError>(who, at + ": the shards hold " + std::to_string(data.size()) +
                                " bytes but the manifest's weights need " + std::to_string(need) +
                                " (truncated shard?)");
  if (data.size() > need)
    raise<FormatError>(who, at + ": the shards hold " + std::to_string(data.size()) +
                                " bytes but the manifest's weights need only " +
                                std::to_string(need) +
                                " (oversized shard, or a weight missing "
                                "from the manifest?)");
  std::size_t offset = 0;
  for (const WeightSpec& s : group.specs) {
    out.push_back({s.name, decodeWeight<Scalar>(
                               s, reinterpret_cast<const unsigned char*>(data.data()) + offset)});
    offset += s.bytes;
  }
}

}  // namespace recurrent::io::detail

#endif  // RECURRENT_IO_DETAIL_ARTIFACTS_HPP
