// Two-TU ODR check, part B (see odr_a.cpp).
#include <recurrent/recurrent.hpp>

#if RECURRENT_HAS_JSON
#include "recurrent_hygiene_io.hpp"
#endif

namespace recurrent_hygiene {
const char* versionSeenByB();

const char* versionSeenByB() { return RECURRENT_VERSION_STRING; }
}  // namespace recurrent_hygiene
