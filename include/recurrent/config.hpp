/** @file
 * Configuration macros. Each has a default only when the user has not defined it first:
 *
 * | macro                     | default                      | meaning                            |
 * |---------------------------|------------------------------|------------------------------------|
 * | `RECURRENT_ASSERT(cond)`  | `assert(cond)`               | internal invariant in hot code     |
 * | `RECURRENT_NO_EXCEPTIONS` | 1 when the compiler has none | report errors by printing, abort   |
 * | `RECURRENT_THROW(e)`      | `throw e` / print + abort    | how API-boundary errors are raised |
 */
#ifndef RECURRENT_CONFIG_HPP
#define RECURRENT_CONFIG_HPP

#include <Eigen/Core>

#include <cassert>
#include <cstdio>
#include <cstdlib>

#if __cplusplus < 201703L && (!defined(_MSVC_LANG) || _MSVC_LANG < 201703L)
#error "recurrent requires C++17 or later"
#endif

static_assert(EIGEN_VERSION_AT_LEAST(3, 4, 0), "recurrent requires Eigen 3.4 or later");

#ifndef RECURRENT_ASSERT
#define RECURRENT_ASSERT(cond) assert(cond)
#endif

#ifndef RECURRENT_NO_EXCEPTIONS
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define RECURRENT_NO_EXCEPTIONS 0
#else
#define RECURRENT_NO_EXCEPTIONS 1
#endif
#endif

#ifndef RECURRENT_THROW
#if RECURRENT_NO_EXCEPTIONS
#define RECURRENT_THROW(exception)                               \
  do {                                                           \
    std::fprintf(stderr, "recurrent: %s\n", (exception).what()); \
    std::abort();                                                \
  } while (false)
#else
#define RECURRENT_THROW(exception) throw exception
#endif
#endif

#endif  // RECURRENT_CONFIG_HPP
