// The ONNX-case runner of recurrent_golden (golden_onnx.cpp).
#ifndef RECURRENT_TESTS_GOLDEN_ONNX_HPP
#define RECURRENT_TESTS_GOLDEN_ONNX_HPP

#include <filesystem>
#include <string>

namespace golden {

/// Replays the ONNX case `json` (with its `<name>.onnx` beside it; schema: the shared
/// oracle/onnx/README.md): feeds its `inputs`, compares every expected output within the case's
/// tolerance, or, for a case onnxruntime refuses (`expect_error`), requires a recurrent::Error.
/// "" when it matches, else what differed first.
std::string runOnnxCase(const std::filesystem::path& json, bool useDouble);

}  // namespace golden

#endif  // RECURRENT_TESTS_GOLDEN_ONNX_HPP
