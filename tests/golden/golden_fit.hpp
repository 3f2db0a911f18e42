// The fit-case runner of recurrent_golden (golden_fit.cpp).
#ifndef RECURRENT_TESTS_GOLDEN_FIT_HPP
#define RECURRENT_TESTS_GOLDEN_FIT_HPP

#include <filesystem>
#include <string>

namespace golden {

/// Replays the training case in `dir` (SCHEMA-train.md §4); "" when it matches TF.js, else what
/// differed first.
std::string runFitCase(const std::filesystem::path& dir, bool useDouble);

}  // namespace golden

#endif  // RECURRENT_TESTS_GOLDEN_FIT_HPP
