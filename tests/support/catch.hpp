// The one Catch2 include of the recurrent tests: works with Catch2 v3 and with Debian's v2.13.
// The build passes RECURRENT_CATCH2_MAJOR (2 or 3). Test files include only this header and use:
//   - the portable Catch2 API: TEST_CASE, TEMPLATE_TEST_CASE, SECTION, REQUIRE/CHECK,
//     STATIC_REQUIRE, CHECK_THROWS_AS, CHECK_THROWS_WITH, GENERATE(range(...)),
//     Catch::Matchers::WithinAbs / WithinRel / WithinULP;
//   - recurrent_test::Approx               (v3 Catch::Approx, v2 Catch::Detail::Approx);
//   - recurrent_test::ContainsSubstring(s) (v3 Catch::Matchers::ContainsSubstring, v2 Contains).
// Not portable, so not used: SKIP() (v3.3+ only), Catch::Approx / ContainsSubstring spelled
// directly, BENCHMARK (the prebuilt v2 main lacks it).
#ifndef RECURRENT_TESTS_SUPPORT_CATCH_HPP
#define RECURRENT_TESTS_SUPPORT_CATCH_HPP

#ifndef RECURRENT_CATCH2_MAJOR
#error "RECURRENT_CATCH2_MAJOR must be defined by the build (tests/CMakeLists.txt)"
#endif

#if RECURRENT_CATCH2_MAJOR >= 3

#include <catch2/catch_approx.hpp>
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/generators/catch_generators_range.hpp>
#include <catch2/matchers/catch_matchers_floating_point.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

namespace recurrent_test {
using Approx = Catch::Approx;
using Catch::Matchers::ContainsSubstring;
}  // namespace recurrent_test

#else  // Catch2 v2

#include <catch2/catch.hpp>
#include <string>

namespace recurrent_test {
using Approx = Catch::Detail::Approx;

/// Same spelling and meaning as v3's Catch::Matchers::ContainsSubstring.
inline Catch::Matchers::StdString::ContainsMatcher ContainsSubstring(
    const std::string& str,
    Catch::CaseSensitive::Choice caseSensitivity = Catch::CaseSensitive::Yes) {
  return Catch::Matchers::Contains(str, caseSensitivity);
}
}  // namespace recurrent_test

#endif

#endif  // RECURRENT_TESTS_SUPPORT_CATCH_HPP
