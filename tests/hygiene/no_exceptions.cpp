// Compiled with -fno-exceptions: the headers must not use throw/try/catch directly (they go
// through RECURRENT_THROW, which aborts with the message when exceptions are off).
#include <recurrent/recurrent.hpp>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "no_exceptions.cpp must be compiled with -fno-exceptions"
#endif

namespace recurrent_hygiene {
int noExceptionsVersion();

int noExceptionsVersion() { return RECURRENT_VERSION; }
}  // namespace recurrent_hygiene
