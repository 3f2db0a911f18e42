// What the libFuzzer targets in this directory share: invariant checks that abort (libFuzzer
// reports an abort as a crash) and the optional printing of the library's error for inputs it
// rejects.
#ifndef RECURRENT_FUZZ_COMMON_HPP
#define RECURRENT_FUZZ_COMMON_HPP

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace recurrent_fuzz {

/// Aborts, naming the invariant, unless `ok`.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

/// The documented way to fail, `recurrent::Error`: printed when RECURRENT_FUZZ_VERBOSE is set
/// (to triage a corpus), otherwise ignored.
inline void rejected(const std::exception& e) {
  static const bool verbose = std::getenv("RECURRENT_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "rejected: %s\n", e.what());
}

}  // namespace recurrent_fuzz

#endif  // RECURRENT_FUZZ_COMMON_HPP
