/** @file
 * Compile the model code once instead of in every translation unit (optional; target
 * `recurrent::json`).
 *
 * `io::LayersModel` with its loaders, graph executor, training loop and saver is a large
 * template: every translation unit that loads, builds or trains a model compiles all of it
 * again (about a minute of CPU per scalar type at -O1). A program with several such files can
 * compile it once:
 *
 *     // everywhere (e.g. target_compile_definitions(app PRIVATE RECURRENT_EXTERN_TEMPLATES)):
 *     //   <recurrent/io/tfjs.hpp> then declares the float and double model code
 *     //   `extern template`, so these files only call it
 *     // in exactly one .cpp per scalar type used:
 *     #include <recurrent/io/instantiate.hpp>
 *     RECURRENT_IO_INSTANTIATE(float)
 *
 * What is declared and instantiated: `LayersModel<Scalar>` (every member), both
 * `loadLayersModel<Scalar>`, `sequential<Scalar>`, `Graph::model<Scalar>` and
 * `earlyStopping<Scalar>`; with <recurrent/io/onnx.hpp>, `OnnxModel<Scalar>`, `loadOnnx<Scalar>`
 * and `onnxFromBytes<Scalar>`. Everything else (cells, layers, losses, optimizers) stays inline as
 * before. The library's own tests, tools and training examples are built this way.
 */
#ifndef RECURRENT_IO_INSTANTIATE_HPP
#define RECURRENT_IO_INSTANTIATE_HPP

#include <recurrent/io/onnx.hpp>
#include <recurrent/io/tfjs.hpp>

/// Explicitly instantiates the model code for `Scalar` (`float` or `double`); use in one .cpp.
#define RECURRENT_IO_INSTANTIATE(Scalar) \
  RECURRENT_IO_MODEL_TEMPLATES(, Scalar) RECURRENT_IO_ONNX_TEMPLATES(, Scalar)

#endif  // RECURRENT_IO_INSTANTIATE_HPP
