// libFuzzer target: recurrent::io::SafeTensors::fromBytes on the raw input (a whole .safetensors
// file), then names(), dtype(), shape(), metadata() and tensor<float>() of every tensor of at most
// 10^6 elements.
//
// Contract under test: whatever the bytes, only recurrent::Error (and its subclasses) is thrown;
// any other exception escapes and libFuzzer reports it as a crash, as it does for sanitizer
// errors, timeouts and allocations over -rss_limit_mb. The harness also checks that a decoded
// tensor has the header's shape and product(shape) values.
#include "fuzz_common.hpp"
#include <recurrent/io/safetensors.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using recurrent_fuzz::check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto st = recurrent::io::SafeTensors::fromBytes(
        std::string(reinterpret_cast<const char*>(data), size));
    std::size_t metadataBytes = 0;
    for (const auto& [key, value] : st.metadata()) metadataBytes += key.size() + value.size();
    check(metadataBytes <= size, "metadata larger than the file");
    for (const std::string& name : st.names()) {
      const std::string& dtype = st.dtype(name);
      check(!dtype.empty(), "dtype is empty");
      double elements = 1;
      for (const recurrent::Index d : st.shape(name)) {
        check(d >= 0, "negative dimension");
        elements *= static_cast<double>(d);
      }
      if (elements > 1e6) continue;
      try {
        const recurrent::FlatTensor<float> t = st.tensor<float>(name);
        check(t.shape == st.shape(name), "tensor shape == header shape");
        check(static_cast<double>(t.data.size()) == elements, "tensor size == product(shape)");
      } catch (const recurrent::Error&) {
        // e.g. an integer dtype read as float: documented, go on with the next tensor
      }
    }
  } catch (const recurrent::Error& e) {
    recurrent_fuzz::rejected(e);
  }
  return 0;
}
