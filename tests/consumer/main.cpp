// Consumer of the recurrent package: built by the consumer.* tests through find_package (install
// prefix and build tree), add_subdirectory, FetchContent and pkg-config. It includes only the
// umbrella header and links only recurrent::recurrent (plus recurrent::json in the json variant).
// RECURRENT_CONSUMER_VERSION_ONLY=1 skips the LSTM run: the secondary variants (build tree, json,
// add_subdirectory, FetchContent, pkg-config) test how the package is found, and one TU that
// instantiates a layer costs ~20 s of CPU, so only consumer.find_package compiles it.
#include <recurrent/recurrent.hpp>

#include <cstdio>
#include <cstring>

#if defined(RECURRENT_CONSUMER_JSON) && RECURRENT_CONSUMER_JSON
#include <nlohmann/json.hpp>  // must come through recurrent::json's usage requirements
#endif

#if !defined(RECURRENT_VERSION_MAJOR) || !defined(RECURRENT_VERSION_MINOR) || \
    !defined(RECURRENT_VERSION_PATCH) || !defined(RECURRENT_VERSION_STRING)
#error "<recurrent/recurrent.hpp> does not provide the RECURRENT_VERSION_* macros"
#endif

static_assert(RECURRENT_VERSION == RECURRENT_VERSION_MAJOR * 10000 + RECURRENT_VERSION_MINOR * 100 +
                                       RECURRENT_VERSION_PATCH,
              "RECURRENT_VERSION is inconsistent with its components");
static_assert(RECURRENT_VERSION_AT_LEAST(0, 1, 0), "this consumer needs recurrent 0.1 or newer");
static_assert(RECURRENT_VERSION_AT_LEAST(RECURRENT_VERSION_MAJOR, RECURRENT_VERSION_MINOR,
                                         RECURRENT_VERSION_PATCH),
              "RECURRENT_VERSION_AT_LEAST must accept the current version");
static_assert(!RECURRENT_VERSION_AT_LEAST(RECURRENT_VERSION_MAJOR + 1, 0, 0),
              "RECURRENT_VERSION_AT_LEAST must reject a newer major version");

int main() {
#ifdef RECURRENT_EXPECTED_VERSION
  if (std::strcmp(RECURRENT_VERSION_STRING, RECURRENT_EXPECTED_VERSION) != 0) {
    std::fprintf(stderr, "header version %s, but the package says %s\n", RECURRENT_VERSION_STRING,
                 RECURRENT_EXPECTED_VERSION);
    return 1;
  }
#endif
  std::printf("recurrent %s (%d)\n", RECURRENT_VERSION_STRING, RECURRENT_VERSION);

#if defined(RECURRENT_CONSUMER_JSON) && RECURRENT_CONSUMER_JSON
  const nlohmann::json j = {{"version", RECURRENT_VERSION_STRING}};
  std::printf("json component: %s\n", j.dump().c_str());
#endif

#if !(defined(RECURRENT_CONSUMER_VERSION_ONLY) && RECURRENT_CONSUMER_VERSION_ONLY)
  // The layers work from the installed package, not only the version macros.
  recurrent::LSTMArgs args;
  args.units = 4;
  args.returnSequences = true;
  args.kernelInitializer = recurrent::Initializer::glorotUniform(1);
  args.recurrentInitializer = recurrent::Initializer::orthogonal(1.0, 2);
  recurrent::LSTM<float> lstm(args);
  recurrent::Sequence<float> x(2, 5, 3);
  x.setConstant(0.5f);
  const auto out = lstm.call(x);
  std::printf("LSTM output [%ld,%ld,%ld]\n", static_cast<long>(out.sequence.dimension(0)),
              static_cast<long>(out.sequence.dimension(1)),
              static_cast<long>(out.sequence.dimension(2)));
  if (out.sequence.dimension(0) != 2 || out.sequence.dimension(1) != 5 ||
      out.sequence.dimension(2) != 4 || !out.lastOutput.allFinite()) {
    std::fprintf(stderr, "unexpected LSTM output\n");
    return 1;
  }
#endif
  return 0;
}
