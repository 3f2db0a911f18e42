// recurrent_golden's ONNX cases: `<name>.onnx` + `<name>.json` pairs generated from onnxruntime
// (tools/onnx/generate_cases.py; the shared sample's schema, oracle/onnx/README.md).
#include "golden_onnx.hpp"

#include <recurrent/io/onnx.hpp>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace golden {
namespace {

using nlohmann::json;
namespace io = recurrent::io;

template <class Scalar>
io::OnnxTensor<Scalar> tensorOf(const json& t) {
  std::vector<recurrent::Index> shape;
  for (const auto& d : t.at("shape")) shape.push_back(d.template get<recurrent::Index>());
  const std::string dtype = t.at("dtype");
  if (dtype == "float32") {
    std::vector<Scalar> values;
    // strtof of the shortest round-trip decimal gives the float32 exactly.
    for (const auto& v : t.at("data"))
      values.push_back(static_cast<Scalar>(v.template get<float>()));
    return io::OnnxTensor<Scalar>::floats(shape, values);
  }
  std::vector<std::int64_t> ints;
  for (const auto& v : t.at("data")) ints.push_back(v.template get<std::int64_t>());
  if (dtype == "int32") return io::OnnxTensor<Scalar>::integers(io::OnnxType::Int32, shape, ints);
  if (dtype == "int64") return io::OnnxTensor<Scalar>::integers(io::OnnxType::Int64, shape, ints);
  throw std::runtime_error("unknown dtype " + dtype);
}

template <class Scalar>
std::string run(const std::filesystem::path& path, const json& c) {
  const std::filesystem::path model =
      path.parent_path() / c.value("model_file", path.stem().string() + ".onnx");
  const bool expectError = c.contains("expect_error");
  std::map<std::string, io::OnnxTensor<Scalar>> feeds;
  if (c.contains("inputs"))
    for (const auto& [name, t] : c["inputs"].items()) feeds[name] = tensorOf<Scalar>(t);
  std::map<std::string, io::OnnxTensor<Scalar>> got;
  try {
    auto m = io::loadOnnx<Scalar>(model.string());
    got = m.run(feeds);
  } catch (const recurrent::Error& e) {
    if (expectError) return "";
    return std::string("unexpected error: ") + e.what();
  }
  if (expectError)
    return "onnxruntime refuses it (" + c["expect_error"].value("message", std::string()) +
           ") but it loaded and ran";
  const double abs = c.at("tolerance").at("abs").template get<double>();
  const double rel = c.at("tolerance").at("rel").template get<double>();
  for (const auto& [name, t] : c.at("outputs").items()) {
    const auto it = got.find(name);
    if (it == got.end()) return "output '" + name + "' missing";
    const io::OnnxTensor<Scalar> expected = tensorOf<Scalar>(t);
    if (it->second.shape != expected.shape) {
      std::ostringstream s;
      s << "output '" << name << "': shape [";
      for (auto d : it->second.shape) s << d << ",";
      s << "], expected [";
      for (auto d : expected.shape) s << d << ",";
      return s.str() + "]";
    }
    if (expected.type != io::OnnxType::Float) {
      if (it->second.type != expected.type)
        return "output '" + name + "': element type " +
               std::to_string(static_cast<int>(it->second.type)) + ", expected " +
               std::to_string(static_cast<int>(expected.type));
      for (std::size_t i = 0; i < expected.ints.size(); ++i)
        if (it->second.ints[i] != expected.ints[i])
          return "output '" + name + "'[" + std::to_string(i) +
                 "] = " + std::to_string(it->second.ints[i]) + ", onnxruntime " +
                 std::to_string(expected.ints[i]);
      continue;
    }
    if (it->second.type != io::OnnxType::Float) return "output '" + name + "' is not FLOAT";
    for (std::size_t i = 0; i < expected.values.size(); ++i) {
      const double e = static_cast<double>(t.at("data")[i].template get<float>());
      const double g = static_cast<double>(it->second.values[i]);
      if (!(std::abs(g - e) <= abs + rel * std::abs(e))) {
        std::ostringstream s;
        s << "output '" << name << "'[" << i << "] = " << g << ", onnxruntime " << e << " (|diff| "
          << std::abs(g - e) << ")";
        return s.str();
      }
    }
  }
  return "";
}

}  // namespace

std::string runOnnxCase(const std::filesystem::path& path, bool useDouble) {
  json c;
  try {
    std::ifstream in(path);
    c = json::parse(in);
  } catch (const std::exception& e) {
    return std::string("cannot parse: ") + e.what();
  }
  try {
    return useDouble ? run<double>(path, c) : run<float>(path, c);
  } catch (const std::exception& e) {
    return std::string("unexpected exception: ") + e.what();
  }
}

}  // namespace golden
