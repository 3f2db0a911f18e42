// The float model code (io/tfjs.hpp) compiled once for the project's own tests, tools and training
// examples, which are built with RECURRENT_EXTERN_TEMPLATES (src/CMakeLists.txt). Not part of
// the header-only library: users who want the same do it in their own build (io/instantiate.hpp).
#include <recurrent/io/instantiate.hpp>

RECURRENT_IO_INSTANTIATE(float)
