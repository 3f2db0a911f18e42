// libFuzzer target: recurrent::io::loadLayersModel<float> from memory, then summary() and
// predict() on small inputs.
//
// Input layout: everything before the first NUL byte is the model.json text (JSON text cannot
// hold a raw NUL), everything after it the weight bytes:
//
//     <model.json> [ '\0' <shard bytes> ]
//
// readShard hands the weight bytes out as one blob per weight group: if the text's
// weightsManifest parses, the first path of group g gets the next (sum of g's weight sizes)
// bytes, the last group everything left over, and every other path an empty string; if it does
// not parse, the first path asked gets all the bytes and any other path an empty string. So a
// TF.js model directory becomes a seed with `model.json + '\0' + its shards concatenated in
// manifest order` (fuzz/make_corpus.sh).
//
// Contract under test: whatever the bytes, the loader and the model throw only recurrent::Error
// (and its subclasses). Any other exception (std::bad_alloc, nlohmann::json::exception,
// std::out_of_range, ...) escapes this function and libFuzzer reports it as a crash, as it does
// for sanitizer errors, timeouts and allocations over -rss_limit_mb / -malloc_limit_mb.
// The harness also checks the loaded model's invariants (output count and sizes).
#include "fuzz_common.hpp"
#include <recurrent/io/tfjs.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kMaxInputElements = 4096;  // all model inputs together

using recurrent_fuzz::check;

/// What the k-th call of readShard returns (see the file comment).
std::vector<std::string> shardSegments(const nlohmann::json& j, const std::string& bytes) {
  std::vector<recurrent::io::detail::WeightGroup> groups;
  if (j.is_object() && j.contains("weightsManifest")) {
    try {
      groups = recurrent::io::detail::parseManifest(j["weightsManifest"], "fuzz");
    } catch (const recurrent::Error&) {
      groups.clear();
    }
  }
  if (groups.empty()) return {bytes};
  std::vector<std::string> out;
  std::size_t offset = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::size_t need = 0;
    for (const auto& spec : groups[g].specs) need += spec.bytes;
    const std::size_t take =
        g + 1 == groups.size() ? bytes.size() - offset : std::min(need, bytes.size() - offset);
    for (std::size_t p = 0; p < groups[g].paths.size(); ++p)
      out.push_back(p == 0 ? bytes.substr(offset, take) : std::string());
    offset += take;
  }
  return out;
}

/// Deterministic input values: small non-negative integers (valid Embedding ids for most
/// vocabularies; zeros for masks) and fractions.
float inputValue(std::size_t i) {
  static const float kValues[] = {1.0f, 0.0f, 2.0f, 0.5f, 3.0f, 1.5f, 0.25f};
  return kValues[(i * 5 + i / 7) % (sizeof kValues / sizeof kValues[0])];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string text = input.substr(0, nul);
  const std::string bytes = nul == std::string::npos ? std::string() : input.substr(nul + 1);

  // Parsing the text is nlohmann's job (the file loader wraps its errors in FormatError); only
  // valid JSON reaches the loader.
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;

  const std::vector<std::string> segments = shardSegments(j, bytes);
  std::size_t calls = 0;
  const auto readShard = [&](const std::string&) {
    const std::size_t k = calls++;
    return k < segments.size() ? segments[k] : std::string();
  };

  try {
    auto model = recurrent::io::loadLayersModel<float>(j, readShard);
    const std::string summary = model.summary();
    check(!summary.empty(), "summary() is empty");
    check(model.inputShapes().size() == model.inputNames().size(), "inputShapes vs inputNames");

    std::vector<recurrent::FlatTensor<float>> inputs;
    std::size_t total = 0;
    for (const auto& declared : model.inputShapes()) {
      std::vector<recurrent::Index> shape;
      std::size_t n = 1;
      for (const recurrent::Index d : declared) {
        const recurrent::Index dim = d < 0 ? 2 : d;
        if (static_cast<std::size_t>(dim) > kMaxInputElements) return 0;
        n *= static_cast<std::size_t>(dim);
        if (n > kMaxInputElements) return 0;
        shape.push_back(dim);
      }
      total += n;
      if (total > kMaxInputElements) return 0;
      std::vector<float> values(n);
      for (std::size_t i = 0; i < n; ++i) values[i] = inputValue(i);
      inputs.emplace_back(std::move(shape), std::move(values));
    }

    for (int run = 0; run < 2; ++run) {  // twice: stateful layers carry their states over
      const auto outputs = model.predict(inputs);
      check(outputs.size() == model.outputNames().size(), "one output per output name");
      for (const auto& o : outputs)
        check(o.size() >= 0 && static_cast<std::size_t>(o.size()) == o.data.size(),
              "output data size == product(shape)");
    }
    model.resetStates();
  } catch (const recurrent::Error& e) {
    recurrent_fuzz::rejected(e);
  }
  return 0;
}
