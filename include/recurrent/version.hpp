/** @file
 *  @brief Version of the recurrent library, usable in `#if` and at run time.
 *
 *  - `RECURRENT_VERSION_MAJOR`, `RECURRENT_VERSION_MINOR`, `RECURRENT_VERSION_PATCH`: integer
 *    literals. CMake reads them from this file (the version lives here only).
 *  - `RECURRENT_VERSION`: major * 10000 + minor * 100 + patch, e.g. 100 for 0.1.0.
 *  - `RECURRENT_VERSION_STRING`: "major.minor.patch", a string literal.
 *  - `RECURRENT_VERSION_AT_LEAST(x, y, z)`: true when this version is x.y.z or newer.
 *
 *  @code
 *  #if RECURRENT_VERSION_AT_LEAST(0, 2, 0)
 *  // use something added in 0.2
 *  #endif
 *  @endcode
 */
#ifndef RECURRENT_VERSION_HPP
#define RECURRENT_VERSION_HPP

#define RECURRENT_VERSION_MAJOR 0
#define RECURRENT_VERSION_MINOR 1
#define RECURRENT_VERSION_PATCH 0

#define RECURRENT_VERSION \
  (RECURRENT_VERSION_MAJOR * 10000 + RECURRENT_VERSION_MINOR * 100 + RECURRENT_VERSION_PATCH)

// Two-step stringification so that the macro values, not their names, are quoted.
#define RECURRENT_VERSION_DETAIL_STRINGIFY_IMPL(x) #x
#define RECURRENT_VERSION_DETAIL_STRINGIFY(x) RECURRENT_VERSION_DETAIL_STRINGIFY_IMPL(x)

#define RECURRENT_VERSION_STRING                              \
  RECURRENT_VERSION_DETAIL_STRINGIFY(RECURRENT_VERSION_MAJOR) \
  "." RECURRENT_VERSION_DETAIL_STRINGIFY(                     \
      RECURRENT_VERSION_MINOR) "." RECURRENT_VERSION_DETAIL_STRINGIFY(RECURRENT_VERSION_PATCH)

// Compared component by component (as EIGEN_VERSION_AT_LEAST), so it stays right even if a
// component ever exceeds 99.
#define RECURRENT_VERSION_AT_LEAST(x, y, z) \
  (RECURRENT_VERSION_MAJOR > (x) ||         \
   (RECURRENT_VERSION_MAJOR == (x) &&       \
    (RECURRENT_VERSION_MINOR > (y) ||       \
     (RECURRENT_VERSION_MINOR == (y) && RECURRENT_VERSION_PATCH >= (z)))))

#endif  // RECURRENT_VERSION_HPP
