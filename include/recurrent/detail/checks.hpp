// Internal, may change: the single funnel that formats and raises API-boundary errors.
#ifndef RECURRENT_DETAIL_CHECKS_HPP
#define RECURRENT_DETAIL_CHECKS_HPP

#include <recurrent/errors.hpp>

#include <Eigen/Core>

#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

namespace recurrent::detail {

/// "[2, 3, 4]"
template <class Range>
std::string shapeString(const Range& dims) {
  std::ostringstream os;
  os << '[';
  bool first = true;
  for (auto d : dims) {
    if (!first) os << ", ";
    os << d;
    first = false;
  }
  os << ']';
  return os.str();
}

inline std::string shapeString(std::initializer_list<Eigen::Index> dims) {
  return shapeString<std::initializer_list<Eigen::Index>>(dims);
}

/// Who is raising: "LSTM 'rnn'.call".
inline std::string where(const std::string& className, const std::string& name,
                         const char* method) {
  std::string out = className;
  if (!name.empty()) out += " '" + name + "'";
  out += '.';
  out += method;
  return out;
}

template <class E>
[[noreturn]] void raise(const std::string& who, const std::string& message) {
  RECURRENT_THROW(E(who + ": " + message));
#if RECURRENT_NO_EXCEPTIONS
  std::abort();
#endif
}

/// "<argument>: expected shape [..], got [..]"
template <class E = ShapeError, class A, class B>
[[noreturn]] void raiseShape(const std::string& who, const std::string& argument, const A& expected,
                             const B& received) {
  raise<E>(who, argument + ": expected shape " + shapeString(expected) + ", got " +
                    shapeString(received));
}

/// Checks a run-time size against an optional compile-time one (`Eigen::Dynamic` = any).
template <int Fixed>
void checkCompileTimeSize(const std::string& who, const char* argument, Eigen::Index value) {
  if constexpr (Fixed != Eigen::Dynamic) {
    if (value != Fixed) {
      raise<ConfigError>(who, std::string(argument) + ": the type fixes it to " +
                                  std::to_string(Fixed) + ", got " + std::to_string(value));
    }
  } else {
    (void)who, (void)argument, (void)value;
  }
}

}  // namespace recurrent::detail

#endif  // RECURRENT_DETAIL_CHECKS_HPP
