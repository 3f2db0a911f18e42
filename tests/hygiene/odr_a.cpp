// Two-TU ODR check, part A (part B: odr_b.cpp). Both TUs include every public header; a
// non-template function or variable defined in a header without `inline` then appears in both
// objects and the link of recurrent_hygiene_odr fails.
#include <recurrent/recurrent.hpp>

#if RECURRENT_HAS_JSON
#include "recurrent_hygiene_io.hpp"
#endif

#include <cstdio>
#include <cstring>

namespace recurrent_hygiene {
const char* versionSeenByB();  // defined in odr_b.cpp
}  // namespace recurrent_hygiene

int main() {
  if (std::strcmp(RECURRENT_VERSION_STRING, recurrent_hygiene::versionSeenByB()) != 0) {
    std::fprintf(stderr, "odr_a and odr_b see different versions\n");
    return 1;
  }
  std::printf("ODR check linked: recurrent %s\n", RECURRENT_VERSION_STRING);
  return 0;
}
