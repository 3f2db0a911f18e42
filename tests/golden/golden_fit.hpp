// The fit-case runner of recurrent_golden (golden_fit.cpp).
#ifndef RECURRENT_TESTS_GOLDEN_FIT_HPP
#define RECURRENT_TESTS_GOLDEN_FIT_HPP

#include <filesystem>
#include <string>

namespace golden {

/// Replays the training case in `dir` (SCHEMA-train.md §4); "" when it matches TF.js, else what
/// differed first. With `saveTo`, the trained model is saved to `saveTo/<case name>/` with an
/// `expected.json` of its predictions (for tools/oracle/check_saved_models.js). A folder with
/// `tfjs_predictions.json` is a model we saved: TF.js's predictions of it must be ours.
std::string runFitCase(const std::filesystem::path& dir, bool useDouble,
                       const std::filesystem::path& saveTo = {});

}  // namespace golden

#endif  // RECURRENT_TESTS_GOLDEN_FIT_HPP
