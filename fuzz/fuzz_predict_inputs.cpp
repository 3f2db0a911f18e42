// libFuzzer target: the INPUT-file parser of recurrent-predict (tools/recurrent-predict/
// inputs.hpp) on the raw input, which is one whole input file: a NumPy .npy file (told by its
// magic) or JSON {"inputs": [{"name", "shape", "data"}, ...]}.
//
// Contract under test: whatever the bytes, only recurrent::Error (and its subclasses) is thrown;
// any other exception escapes and libFuzzer reports it as a crash, as it does for sanitizer
// errors, stack overflows, timeouts and allocations over -rss_limit_mb. The harness also checks
// that every tensor read holds product(shape) values.
#include "fuzz_common.hpp"
#include "inputs.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using recurrent_fuzz::check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto tensors = recurrent_predict::readInputBytes(
        std::string(reinterpret_cast<const char*>(data), size), "input");
    for (const auto& t : tensors) {
      const auto n = recurrent_predict::elementCount(t.shape);
      check(n.has_value(), "a tensor was read with an invalid shape");
      check(t.data.size() == *n, "tensor size == product(shape)");
    }
  } catch (const recurrent::Error& e) {
    recurrent_fuzz::rejected(e);
  }
  return 0;
}
