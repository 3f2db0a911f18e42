/** @file
 * Reading safetensors files (Hugging Face's tensor container, what PyTorch state dicts are
 * exported to; optional part, target `recurrent::json`).
 *
 *     auto st = recurrent::io::SafeTensors::fromFile("model.safetensors");
 *     for (const auto& name : st.names()) std::cout << name << ' ' << st.dtype(name) << '\n';
 *     recurrent::FlatTensor<float> w = st.tensor<float>("weight_ih_l0");
 *
 * The format, and what is checked (as the reference implementation, huggingface/safetensors
 * `SafeTensors::read_metadata` and `Metadata::validate`, does):
 *
 * | bytes          | content                                                                |
 * |----------------|------------------------------------------------------------------------|
 * | `[0, 8)`       | N, the header length, unsigned 64-bit little-endian                    |
 * | `[8, 8 + N)`   | the header: UTF-8 JSON object (may be padded with trailing spaces)     |
 * | `[8 + N, end)` | the data section: every tensor's raw little-endian bytes, row-major    |
 *
 * The header maps each tensor name to `{"dtype": "F32", "shape": [2, 3], "data_offsets":
 * [begin, end]}` (offsets relative to the data section); the optional key `__metadata__` holds a
 * string → string map. A file is accepted only if
 * - it holds the 8-byte length, N ≤ 100 000 000 and N ≤ file size − 8;
 * - the header is a JSON object; every entry has a known dtype string, a shape of non-negative
 *   integers and two integer offsets `begin ≤ end`; `__metadata__` maps strings to strings;
 * - `end − begin` equals elements × dtype size (computed without overflow);
 * - sorted by offset, the tensors tile the data section exactly: no overlap, no gap, nothing past
 *   the end (truncated file), no trailing bytes.
 *
 * Dtypes: BOOL, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0 (1 byte), I16, U16, F16, BF16 (2), I32, U32,
 * F32 (4), I64, U64, F64, C64 (8), and the sub-byte F4, F6_E2M3, F6_E3M2 (validated only).
 * `tensor<Scalar>()` converts F64, F32, F16 and BF16 exactly (then rounds to `Scalar`).
 *
 * Errors: `IOError` (the file cannot be read), `FormatError` for anything malformed — each
 * message names the tensor and the numbers (expected vs got), e.g.
 * `SafeTensors.fromFile: 'm.safetensors': tensor 'w': data_offsets [64, 160] hold 96 bytes, but
 * dtype F32 × shape [8, 2] (16 elements) needs 64`.
 */
#ifndef RECURRENT_IO_SAFETENSORS_HPP
#define RECURRENT_IO_SAFETENSORS_HPP

#include <recurrent/io/detail/artifacts.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace recurrent::io {

/// A validated safetensors file held in memory. Copyable; every accessor is `const`.
class SafeTensors {
 public:
  /// Reads and validates a file. @throws IOError, FormatError (see the file comment).
  static SafeTensors fromFile(const std::string& path);
  /// Validates the bytes of a whole file. @throws FormatError.
  static SafeTensors fromBytes(std::string bytes);

  /// `__metadata__` (empty if absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /// Tensor names in data-offset order.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  /// @throws ValueError naming the tensor if absent.
  const std::vector<Index>& shape(const std::string& name) const { return entry(name).shape; }
  /// "F32", "F16", "BF16", "F64", "I64", ... @throws ValueError if absent.
  const std::string& dtype(const std::string& name) const { return entry(name).dtype; }
  /// The tensor converted to `Scalar` (F64/F32/F16/BF16). @throws ValueError if absent,
  /// FormatError naming the tensor and the dtype for any other dtype.
  template <class Scalar>
  FlatTensor<Scalar> tensor(const std::string& name) const;

 private:
  struct Entry {
    std::string name, dtype;
    std::vector<Index> shape;
    std::size_t begin = 0, end = 0, elements = 0;
  };
  SafeTensors() = default;
  static SafeTensors parse(std::string bytes, const std::string& who, const std::string& source);
  const Entry& entry(const std::string& name) const;

  std::string bytes_;  // the whole file
  std::size_t dataStart_ = 0;
  std::vector<Entry> entries_;  // data-offset order
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// ---------------------------------------------------------------------------------------------
// implementation
// ---------------------------------------------------------------------------------------------

namespace detail {

/// Bits per element of a safetensors dtype; 0 if unknown.
inline std::size_t safetensorsDtypeBits(const std::string& d) {
  static const std::pair<const char*, std::size_t> kBits[] = {
      {"BOOL", 8},    {"U8", 8},   {"I8", 8},   {"F8_E5M2", 8}, {"F8_E4M3", 8},
      {"F8_E8M0", 8}, {"I16", 16}, {"U16", 16}, {"F16", 16},    {"BF16", 16},
      {"I32", 32},    {"U32", 32}, {"F32", 32}, {"I64", 64},    {"U64", 64},
      {"F64", 64},    {"C64", 64}, {"F4", 4},   {"F6_E2M3", 6}, {"F6_E3M2", 6}};
  for (const auto& [name, bits] : kBits)
    if (d == name) return bits;
  return 0;
}

/// a·b, or false on overflow of `limit`.
inline bool mulNoOverflow(std::uint64_t a, std::uint64_t b, std::uint64_t limit,
                          std::uint64_t& out) {
  if (a != 0 && b > limit / a) return false;
  out = a * b;
  return true;
}

inline std::uint64_t loadLE(const unsigned char* p, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = bytes; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

/// A JSON value for an error message, without recursing into nested values (a hostile header
/// can nest arrays millions deep) and cut to a readable length.
inline std::string jsonBrief(const json& v) {
  bool flat = v.is_primitive();
  if (v.is_array() && v.size() <= 64) {
    flat = true;
    for (const json& item : v) flat = flat && item.is_primitive();
  }
  if (!flat)
    return std::string("a JSON ") + v.type_name() + " of " + std::to_string(v.size()) + " elements";
  std::string out = v.dump();
  if (out.size() > 200) out = out.substr(0, 200) + "...";
  return out;
}

inline float bf16ToFloat(std::uint16_t b) {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace detail

inline SafeTensors SafeTensors::fromFile(const std::string& path) {
  const std::string who = "SafeTensors.fromFile";
  return parse(detail::readFile(path, who), who, "'" + path + "': ");
}

inline SafeTensors SafeTensors::fromBytes(std::string bytes) {
  return parse(std::move(bytes), "SafeTensors.fromBytes", "");
}

inline SafeTensors SafeTensors::parse(std::string bytes, const std::string& who,
                                      const std::string& source) {
  using detail::json;
  auto fail = [&](const std::string& message) {
    recurrent::detail::raise<FormatError>(who, source + message);
  };
  const std::uint64_t size = bytes.size();
  if (size < 8)
    fail("file too small: " + std::to_string(size) +
         " bytes, not even the 8-byte header length (not a safetensors file?)");
  const auto* raw = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::uint64_t n = detail::loadLE(raw, 8);
  constexpr std::uint64_t kMaxHeader = 100000000;
  if (n > kMaxHeader)
    fail("header length " + std::to_string(n) + " exceeds the limit of " +
         std::to_string(kMaxHeader) + " bytes (not a safetensors file?)");
  if (n > size - 8)
    fail("header length " + std::to_string(n) + " exceeds the " + std::to_string(size - 8) +
         " bytes after the 8-byte length field (file size " + std::to_string(size) +
         "; truncated file?)");
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const json::exception& e) {
    fail(std::string("the header is not valid JSON: ") + e.what());
  }
  if (!header.is_object())
    fail(std::string("the header must be a JSON object, got ") + header.type_name());

  SafeTensors out;
  out.dataStart_ = static_cast<std::size_t>(8 + n);
  const std::uint64_t dataSize = size - 8 - n;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (v.is_null()) continue;
      if (!v.is_object()) fail(std::string("__metadata__ must be an object, got ") + v.type_name());
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          fail("__metadata__['" + m.key() + "'] must be a string, got " +
               detail::jsonBrief(m.value()));
        out.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string at = "tensor '" + name + "': ";
    if (!v.is_object())
      fail(at + "expected {dtype, shape, data_offsets}, got " + detail::jsonBrief(v));
    Entry e;
    e.name = name;
    const auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string()) fail(at + "missing dtype string");
    e.dtype = dt->get<std::string>();
    const std::size_t bits = detail::safetensorsDtypeBits(e.dtype);
    if (bits == 0) fail(at + "unknown dtype '" + e.dtype + "'");
    const auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array()) fail(at + "missing shape array");
    constexpr auto kMaxIndex = static_cast<std::uint64_t>(std::numeric_limits<Index>::max());
    std::uint64_t elements = 1;
    for (const json& d : *sh) {
      if (!d.is_number_unsigned())
        fail(at + "shape " + detail::jsonBrief(*sh) + ": " + detail::jsonBrief(d) +
             " is not a non-negative integer");
      const auto dim = d.get<std::uint64_t>();
      if (dim > kMaxIndex || !detail::mulNoOverflow(elements, dim, kMaxIndex, elements))
        fail(at + "shape " + detail::jsonBrief(*sh) + ": the element count overflows");
      e.shape.push_back(static_cast<Index>(dim));
    }
    const auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      fail(at + "data_offsets must be two non-negative integers [begin, end], got " +
           (off == v.end() ? std::string("nothing") : detail::jsonBrief(*off)));
    const auto begin = (*off)[0].get<std::uint64_t>(), end = (*off)[1].get<std::uint64_t>();
    if (end < begin)
      fail(at + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
           "]: end before begin");
    if (end > dataSize)
      fail(at + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
           "] end past the data section (" + std::to_string(dataSize) + " bytes; truncated file?)");
    std::uint64_t nbits = 0;
    if (!detail::mulNoOverflow(elements, bits, std::numeric_limits<std::uint64_t>::max(), nbits))
      fail(at + "shape " + detail::jsonBrief(*sh) + ": the byte count overflows");
    const std::string need = "dtype " + e.dtype + " × shape " + detail::jsonBrief(*sh) + " (" +
                             std::to_string(elements) + " elements)";
    if (nbits % 8 != 0)
      fail(at + need + " is " + std::to_string(nbits) + " bits, not a whole number of bytes");
    if (end - begin != nbits / 8)
      fail(at + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] hold " +
           std::to_string(end - begin) + " bytes, but " + need + " needs " +
           std::to_string(nbits / 8));
    e.begin = static_cast<std::size_t>(begin);
    e.end = static_cast<std::size_t>(end);
    e.elements = static_cast<std::size_t>(elements);
    out.entries_.push_back(std::move(e));
  }
  std::sort(out.entries_.begin(), out.entries_.end(), [](const Entry& a, const Entry& b) {
    return std::make_pair(a.begin, a.end) < std::make_pair(b.begin, b.end);
  });
  std::size_t covered = 0;
  for (std::size_t i = 0; i < out.entries_.size(); ++i) {
    const Entry& e = out.entries_[i];
    const std::string range =
        "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
    if (e.begin < covered)
      fail("tensor '" + e.name + "': " + range + " overlap tensor '" + out.entries_[i - 1].name +
           "', which ends at " + std::to_string(covered));
    if (e.begin > covered)
      fail("tensor '" + e.name + "': " + range + " leave a gap: bytes [" + std::to_string(covered) +
           ", " + std::to_string(e.begin) + ") of the data section belong to no tensor");
    covered = e.end;
    out.index_[e.name] = i;
  }
  if (covered != dataSize)
    fail("the data section holds " + std::to_string(dataSize) + " bytes but the tensors cover " +
         std::to_string(covered) + " (" + std::to_string(dataSize - covered) + " trailing bytes" +
         (out.entries_.empty() ? std::string()
                               : ", after tensor '" + out.entries_.back().name + "'") +
         ")");
  out.bytes_ = std::move(bytes);
  return out;
}

inline std::vector<std::string> SafeTensors::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(e.name);
  return out;
}

inline const SafeTensors::Entry& SafeTensors::entry(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end())
    recurrent::detail::raise<ValueError>("SafeTensors", "no tensor named '" + name + "' (" +
                                                            std::to_string(entries_.size()) +
                                                            " tensors in the file)");
  return entries_[it->second];
}

template <class Scalar>
FlatTensor<Scalar> SafeTensors::tensor(const std::string& name) const {
  static_assert(std::is_floating_point_v<Scalar>,
                "SafeTensors::tensor<Scalar>: Scalar must be a floating-point type");
  const Entry& e = entry(name);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes_.data()) + dataStart_ + e.begin;
  std::vector<Scalar> v(e.elements);
  if (e.dtype == "F32") {
    for (std::size_t i = 0; i < e.elements; ++i) {
      const auto bits = static_cast<std::uint32_t>(detail::loadLE(p + 4 * i, 4));
      float f;
      std::memcpy(&f, &bits, sizeof f);
      v[i] = static_cast<Scalar>(f);
    }
  } else if (e.dtype == "F64") {
    for (std::size_t i = 0; i < e.elements; ++i) {
      const std::uint64_t bits = detail::loadLE(p + 8 * i, 8);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      v[i] = static_cast<Scalar>(d);
    }
  } else if (e.dtype == "F16" || e.dtype == "BF16") {
    const bool half = e.dtype == "F16";
    for (std::size_t i = 0; i < e.elements; ++i) {
      const auto bits = static_cast<std::uint16_t>(detail::loadLE(p + 2 * i, 2));
      v[i] = static_cast<Scalar>(half ? detail::halfToFloat(bits) : detail::bf16ToFloat(bits));
    }
  } else {
    recurrent::detail::raise<FormatError>(
        "SafeTensors.tensor", "tensor '" + name + "' has dtype " + e.dtype +
                                  "; only floating-point F64, F32, F16 and BF16 convert");
  }
  return FlatTensor<Scalar>(e.shape, std::move(v));
}

}  // namespace recurrent::io

#endif  // RECURRENT_IO_SAFETENSORS_HPP
