// The data files of the command-line tools: JSON {"inputs": [...]} (recurrent-predict's INPUT,
// recurrent-train's --x), {"outputs": [...]} (recurrent-train's --y) and NumPy .npy, parsed
// strictly (every malformed, truncated or oversized file is a recurrent::FormatError naming the
// file), and their arrangement in model input/output order. Shared by recurrent-predict,
// recurrent-train and the fuzz target fuzz/fuzz_predict_inputs.cpp.
#ifndef RECURRENT_TOOLS_PREDICT_INPUTS_HPP
#define RECURRENT_TOOLS_PREDICT_INPUTS_HPP

#include <recurrent/io/tfjs.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace recurrent_predict {

using nlohmann::json;
using recurrent::Index;

/// One input tensor as read from a file (values kept as double: int64 indices stay exact up to
/// 2^53, float32 and float64 exactly).
struct RawTensor {
  std::optional<std::string> name;
  std::vector<Index> shape;
  std::vector<double> data;
  std::string origin;  ///< "'file'" or "'file' inputs[2]" for messages
};

[[noreturn]] inline void formatError(const std::string& origin, const std::string& message) {
  throw recurrent::FormatError(origin + ": " + message);
}

inline std::string readFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw recurrent::IOError("cannot open " + what + " '" + path + "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw recurrent::IOError("cannot read " + what + " '" + path + "'");
  return bytes;
}

inline std::string shapeText(const std::vector<Index>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("null") : std::to_string(shape[i]));
  return s + "]";
}

/// Element count of `shape`, or nullopt if a dimension is negative or the product overflows
/// (limit: 2^40 elements).
inline std::optional<std::size_t> elementCount(const std::vector<Index>& shape) {
  constexpr std::size_t kLimit = std::size_t{1} << 40;
  std::size_t n = 1;
  for (Index d : shape) {
    if (d < 0) return std::nullopt;
    const auto u = static_cast<std::size_t>(d);
    if (u != 0 && n > kLimit / u) return std::nullopt;
    n *= u;
  }
  return n;
}

/// Parses the Python-literal header dict of a .npy file: {'descr': '<f4', 'fortran_order': False,
/// 'shape': (2, 3), }
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<Index> shape;
};

inline NpyHeader parseNpyHeader(const std::string& h, const std::string& origin) {
  std::size_t p = 0;
  auto bad = [&](const std::string& what) {
    formatError(origin, "bad .npy header (" + what + " at offset " + std::to_string(p) +
                            "): " + h.substr(0, 200));
  };
  auto skipSpace = [&] {
    while (p < h.size() && (h[p] == ' ' || h[p] == '\t' || h[p] == '\n' || h[p] == '\r')) ++p;
  };
  auto expect = [&](char c) {
    skipSpace();
    if (p >= h.size() || h[p] != c) bad(std::string("expected '") + c + "'");
    ++p;
  };
  auto string = [&]() {
    skipSpace();
    if (p >= h.size() || (h[p] != '\'' && h[p] != '"')) bad("expected a string");
    const char q = h[p++];
    const auto end = h.find(q, p);
    if (end == std::string::npos) bad("unterminated string");
    std::string s = h.substr(p, end - p);
    p = end + 1;
    return s;
  };
  NpyHeader out;
  bool haveDescr = false, haveOrder = false, haveShape = false;
  expect('{');
  for (;;) {
    skipSpace();
    if (p < h.size() && h[p] == '}') break;
    const std::string key = string();
    expect(':');
    skipSpace();
    if (key == "descr") {
      out.descr = string();
      haveDescr = true;
    } else if (key == "fortran_order") {
      if (h.compare(p, 4, "True") == 0) {
        out.fortranOrder = true;
        p += 4;
      } else if (h.compare(p, 5, "False") == 0) {
        p += 5;
      } else {
        bad("fortran_order is not True or False");
      }
      haveOrder = true;
    } else if (key == "shape") {
      expect('(');
      for (;;) {
        skipSpace();
        if (p < h.size() && h[p] == ')') break;
        std::size_t digits = 0;
        Index v = 0;
        while (p < h.size() && h[p] >= '0' && h[p] <= '9' && digits < 15) {
          v = v * 10 + (h[p++] - '0');
          ++digits;
        }
        if (digits == 0 || (p < h.size() && h[p] >= '0' && h[p] <= '9'))
          bad("expected a dimension");
        if (p < h.size() && h[p] == 'L') ++p;  // Python 2 long
        out.shape.push_back(v);
        skipSpace();
        if (p < h.size() && h[p] == ',') ++p;
      }
      ++p;  // ')'
      haveShape = true;
    } else {
      bad("unknown key '" + key + "'");
    }
    skipSpace();
    if (p < h.size() && h[p] == ',') ++p;
  }
  if (!haveDescr || !haveOrder || !haveShape)
    bad("needs the keys 'descr', 'fortran_order' and 'shape'");
  return out;
}

template <class T>
inline T loadLittleEndian(const unsigned char* p) {
  using U = std::conditional_t<
      sizeof(T) == 1, std::uint8_t,
      std::conditional_t<sizeof(T) == 2, std::uint16_t,
                         std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
  U u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    u = static_cast<U>(u | (static_cast<U>(p[i]) << (8 * i)));
  T v;
  std::memcpy(&v, &u, sizeof(T));
  return v;
}

template <class T>
inline void decodeInto(const unsigned char* p, std::size_t n, std::vector<double>& out) {
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<double>(loadLittleEndian<T>(p + i * sizeof(T)));
}

inline RawTensor readNpy(const std::string& bytes, const std::string& path) {
  const std::string origin = "'" + path + "'";
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 10)
    formatError(origin, ".npy file too short (" + std::to_string(bytes.size()) + " bytes)");
  const unsigned major = u[6];
  std::size_t headerLen = 0, start = 0;
  if (major == 1) {
    headerLen = loadLittleEndian<std::uint16_t>(u + 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) formatError(origin, ".npy file too short");
    headerLen = loadLittleEndian<std::uint32_t>(u + 8);
    start = 12;
  } else {
    formatError(origin, "unsupported .npy format version " + std::to_string(major) + "." +
                            std::to_string(u[7]) + " (1.0, 2.0 and 3.0 are)");
  }
  if (headerLen > bytes.size() - start)
    formatError(origin, ".npy header length " + std::to_string(headerLen) + " exceeds the file");
  const NpyHeader h = parseNpyHeader(bytes.substr(start, headerLen), origin);
  if (h.fortranOrder)
    formatError(origin,
                "fortran_order arrays are not supported (save C-order data, e.g. "
                "numpy.ascontiguousarray)");
  struct Kind {
    const char* descr;
    std::size_t size;
  };
  static const Kind kinds[] = {{"<f4", 4}, {"<f8", 8}, {"<i4", 4}, {"<i8", 8},
                               {"|u1", 1}, {"|i1", 1}, {"<u2", 2}, {"<i2", 2}};
  const Kind* kind = nullptr;
  for (const Kind& k : kinds)
    if (h.descr == k.descr) kind = &k;
  if (kind == nullptr)
    formatError(origin, "unsupported .npy dtype '" + h.descr +
                            "' (supported: <f4 <f8 <i4 <i8 |u1 |i1 <u2 <i2)");
  const auto n = elementCount(h.shape);
  if (!n) formatError(origin, ".npy shape " + shapeText(h.shape) + " is too large");
  const std::size_t dataStart = start + headerLen;
  const std::size_t have = bytes.size() - dataStart;
  if (*n > have / kind->size || *n * kind->size != have)
    formatError(origin, ".npy data: shape " + shapeText(h.shape) + " of " + h.descr + " needs " +
                            std::to_string(*n) + " x " + std::to_string(kind->size) +
                            " bytes, the file holds " + std::to_string(have));
  RawTensor t;
  t.shape = h.shape;
  t.origin = origin;
  const unsigned char* d = u + dataStart;
  const std::string& s = h.descr;
  if (s == "<f4")
    decodeInto<float>(d, *n, t.data);
  else if (s == "<f8")
    decodeInto<double>(d, *n, t.data);
  else if (s == "<i4")
    decodeInto<std::int32_t>(d, *n, t.data);
  else if (s == "<i8")
    decodeInto<std::int64_t>(d, *n, t.data);
  else if (s == "|u1")
    decodeInto<std::uint8_t>(d, *n, t.data);
  else if (s == "|i1")
    decodeInto<std::int8_t>(d, *n, t.data);
  else if (s == "<u2")
    decodeInto<std::uint16_t>(d, *n, t.data);
  else
    decodeInto<std::int16_t>(d, *n, t.data);
  return t;
}

/// `{"shape": [...], "data": [...]}` (data flat, or nested as in a NumPy `tolist()`).
inline void flattenData(const json& v, std::vector<double>& out, const std::string& origin) {
  if (v.is_array()) {
    for (const json& item : v) flattenData(item, out, origin);
  } else if (v.is_number()) {
    out.push_back(v.get<double>());
  } else if (v.is_null()) {
    out.push_back(std::numeric_limits<double>::quiet_NaN());
  } else {
    formatError(origin, "data: expected numbers, got " + std::string(v.type_name()));
  }
}

inline RawTensor tensorFromJson(const json& t, const std::string& origin) {
  if (!t.is_object()) formatError(origin, "expected an object {\"shape\", \"data\"}");
  RawTensor out;
  out.origin = origin;
  if (auto it = t.find("name"); it != t.end() && !it->is_null()) {
    if (!it->is_string()) formatError(origin, "\"name\" must be a string");
    out.name = it->get<std::string>();
  }
  const auto shape = t.find("shape");
  if (shape == t.end() || !shape->is_array()) formatError(origin, "missing \"shape\" array");
  for (const json& d : *shape) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
      formatError(origin, "shape: bad dimension " + d.dump());
    out.shape.push_back(static_cast<Index>(d.get<std::int64_t>()));
  }
  const auto n = elementCount(out.shape);
  if (!n) formatError(origin, "shape " + shapeText(out.shape) + " is too large");
  const auto data = t.find("data");
  if (data == t.end()) formatError(origin, "missing \"data\"");
  flattenData(*data, out.data, origin);
  if (out.data.size() != *n)
    formatError(origin, "shape " + shapeText(out.shape) + " has " + std::to_string(*n) +
                            " elements, \"data\" holds " + std::to_string(out.data.size()));
  return out;
}

/// Parses a JSON file, nested at most 64 levels deep (the walks over it recurse).
inline json parseJsonFile(const std::string& text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    formatError("'" + path + "'", std::string("not valid JSON: ") + e.what());
  }
  recurrent::io::detail::checkDepth(j, "'" + path + "'");
  return j;
}

/// The tensors of one data file's bytes (`path` names it in messages): a .npy file (told by its
/// magic) holding one tensor, or JSON `{"<key>": [{"name", "shape", "data"}, ...]}` (`key` is
/// "inputs" for recurrent-predict's INPUT and recurrent-train's --x, "outputs" for --y).
/// @throws recurrent::FormatError.
inline std::vector<RawTensor> readTensorBytes(const std::string& bytes, const std::string& path,
                                              const std::string& key) {
  if (bytes.compare(0, 6, "\x93NUMPY") == 0) return {readNpy(bytes, path)};
  const json j = parseJsonFile(bytes, path);
  const std::string origin = "'" + path + "'";
  if (!j.is_object() || !j.contains(key) || !j[key].is_array())
    formatError(origin, "expected {\"" + key +
                            "\": [{\"name\", \"shape\", \"data\"}, ...]} (or a .npy file)");
  std::vector<RawTensor> out;
  for (std::size_t i = 0; i < j[key].size(); ++i)
    out.push_back(tensorFromJson(j[key][i], origin + " " + key + "[" + std::to_string(i) + "]"));
  return out;
}

/// recurrent-predict's INPUT file: `readTensorBytes(bytes, path, "inputs")`.
inline std::vector<RawTensor> readInputBytes(const std::string& bytes, const std::string& path) {
  return readTensorBytes(bytes, path, "inputs");
}

inline std::string nameList(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s;
}

/// Puts the tensors read from files in the model's order (`names`: its inputNames or
/// outputNames): named ones at the slot of that name, the others in the remaining slots in
/// order. `what` is "input" or "output", `files` names the files in messages ("the input files").
/// @throws recurrent::ValueError for a count or a name that does not fit.
inline std::vector<RawTensor> arrangeTensors(std::vector<RawTensor> raw,
                                             const std::vector<std::string>& names,
                                             const std::string& what, const std::string& files) {
  if (raw.size() != names.size())
    throw recurrent::ValueError("the model has " + std::to_string(names.size()) + " " + what +
                                "(s) (" + nameList(names) + "), " + files + " hold " +
                                std::to_string(raw.size()));
  std::vector<std::optional<RawTensor>> slots(names.size());
  std::vector<RawTensor> unnamed;
  for (RawTensor& t : raw) {
    if (!t.name) {
      unnamed.push_back(std::move(t));
      continue;
    }
    // The first free slot of that name (output names repeat for returnState layers).
    std::size_t at = names.size();
    for (std::size_t i = 0; i < names.size() && at == names.size(); ++i)
      if (names[i] == *t.name && !slots[i]) at = i;
    if (at == names.size()) {
      const auto it = std::find(names.begin(), names.end(), *t.name);
      if (it == names.end())
        throw recurrent::ValueError(t.origin + ": '" + *t.name + "' is not a model " + what + " (" +
                                    what + "s: " + nameList(names) + ")");
      throw recurrent::ValueError(what + " '" + *t.name + "' is given twice (" +
                                  slots[static_cast<std::size_t>(it - names.begin())]->origin +
                                  " and " + t.origin + ")");
    }
    slots[at] = std::move(t);
  }
  std::vector<RawTensor> out;
  std::size_t next = 0;
  for (auto& slot : slots) out.push_back(slot ? std::move(*slot) : std::move(unnamed[next++]));
  return out;
}

/// The tensors as the model's scalar type.
template <class Scalar>
std::vector<recurrent::FlatTensor<Scalar>> toFlatTensors(const std::vector<RawTensor>& raw) {
  std::vector<recurrent::FlatTensor<Scalar>> out;
  for (const RawTensor& t : raw) {
    std::vector<Scalar> data(t.data.size());
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<Scalar>(t.data[i]);
    out.emplace_back(t.shape, std::move(data));
  }
  return out;
}

}  // namespace recurrent_predict

#endif  // RECURRENT_TOOLS_PREDICT_INPUTS_HPP
