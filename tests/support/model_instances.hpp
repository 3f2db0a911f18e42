// The model code (io/tfjs.hpp, io/layers.hpp) is instantiated once for the unit tests, in
// test_model_import.cpp (RECURRENT_TEST_MODEL_INSTANCES); other test files include this header
// so that they do not instantiate it again (compile time).
#ifndef RECURRENT_TESTS_SUPPORT_MODEL_INSTANCES_HPP
#define RECURRENT_TESTS_SUPPORT_MODEL_INSTANCES_HPP

#include <recurrent/io/tfjs.hpp>

#include <functional>
#include <string>

#ifdef RECURRENT_TEST_MODEL_INSTANCES
#define RECURRENT_TEST_EXTERN
#else
#define RECURRENT_TEST_EXTERN extern
#endif

#define RECURRENT_TEST_MODEL_INSTANCES_FOR(Scalar)                                               \
  RECURRENT_TEST_EXTERN template class recurrent::io::LayersModel<Scalar>;                       \
  RECURRENT_TEST_EXTERN template recurrent::io::LayersModel<Scalar>                              \
  recurrent::io::loadLayersModel<Scalar>(const std::string&, const recurrent::io::LoadOptions&); \
  RECURRENT_TEST_EXTERN template recurrent::io::LayersModel<Scalar>                              \
  recurrent::io::loadLayersModel<Scalar>(const nlohmann::json&,                                  \
                                         const std::function<std::string(const std::string&)>&,  \
                                         const recurrent::io::LoadOptions&);                     \
  RECURRENT_TEST_EXTERN template recurrent::io::Callback recurrent::io::earlyStopping<Scalar>(   \
      recurrent::io::LayersModel<Scalar>&, recurrent::io::EarlyStoppingArgs);

RECURRENT_TEST_MODEL_INSTANCES_FOR(float)
RECURRENT_TEST_MODEL_INSTANCES_FOR(double)

#endif  // RECURRENT_TESTS_SUPPORT_MODEL_INSTANCES_HPP
