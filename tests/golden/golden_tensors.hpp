// Tensor records of the golden cases (SCHEMA.md): reading them, and comparing a result with
// one within a tolerance. Shared by the case runner and the fit-case runner.
#ifndef RECURRENT_TESTS_GOLDEN_TENSORS_HPP
#define RECURRENT_TESTS_GOLDEN_TENSORS_HPP

#include <recurrent/recurrent.hpp>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace golden {

using json = nlohmann::json;
using recurrent::Index;

template <class Scalar>
recurrent::FlatTensor<Scalar> tensorFrom(const json& j) {
  recurrent::FlatTensor<Scalar> t;
  for (const auto& d : j.at("shape")) t.shape.push_back(d.get<Index>());
  for (const auto& v : j.at("data")) {
    // The data are float32 values written as shortest round-trip decimals.
    const auto f = static_cast<float>(v.get<double>());
    t.data.push_back(static_cast<Scalar>(f));
  }
  return t;
}

/// Compares `got` with the recorded tensor `expected` elementwise; "" or what failed.
template <class Scalar>
std::string compareTensor(const json& expected, const recurrent::FlatTensor<Scalar>& got,
                          double absTol, double relTol, const std::string& what) {
  const auto exp = tensorFrom<double>(expected);
  if (exp.shape != got.shape)
    return what + ": expected shape " + recurrent::detail::shapeString(exp.shape) + ", got " +
           recurrent::detail::shapeString(got.shape);
  double worst = 0.0;
  std::size_t worstAt = 0;
  bool bad = false;
  for (std::size_t k = 0; k < exp.data.size(); ++k) {
    const double g = static_cast<double>(got.data[k]);
    const double e = exp.data[k];
    const double excess = std::abs(g - e) - (absTol + relTol * std::abs(e));
    if (!(excess <= 0.0) && (bad ? excess > worst : true)) {
      bad = true;
      worst = excess;
      worstAt = k;
    }
  }
  if (!bad) return "";
  std::ostringstream os;
  os.precision(9);
  os << what << ": element " << worstAt << " got " << got.data[worstAt] << ", expected "
     << exp.data[worstAt] << " (|diff| "
     << std::abs(static_cast<double>(got.data[worstAt]) - exp.data[worstAt])
     << " exceeds the tolerance by " << worst << ")";
  return os.str();
}

}  // namespace golden

#endif  // RECURRENT_TESTS_GOLDEN_TENSORS_HPP
