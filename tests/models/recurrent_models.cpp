// Runs saved models against their reference outputs.
//
//   recurrent_models [--double] DIR...
//
// Every subdirectory of each DIR that holds `model.json` and `reference.json` is one case:
// the model is loaded with `recurrent::io::loadLayersModel` and each call of the reference
// (`{"inputs": [...], "outputs": [...]}` or `{"resetStates": true}`) is replayed; every output
// must match within 1e-5 + 1e-4·|expected| (float and double alike: the references are float32
// computations). Prints one line per case and exits non-zero if any case fails or none was found.
#include <recurrent/io/tfjs.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

template <class Scalar>
recurrent::FlatTensor<Scalar> tensorFrom(const json& t) {
  std::vector<recurrent::Index> shape = t.at("shape").get<std::vector<recurrent::Index>>();
  std::vector<Scalar> data;
  for (const json& v : t.at("data")) data.push_back(static_cast<Scalar>(v.get<double>()));
  return {std::move(shape), std::move(data)};
}

/// "" if `got` matches `want`, else what differs.
template <class Scalar>
std::string compare(const recurrent::FlatTensor<Scalar>& got, const json& want, double& worst) {
  const auto shape = want.at("shape").get<std::vector<recurrent::Index>>();
  if (got.shape != shape)
    return "shape " + recurrent::detail::shapeString(got.shape) + ", expected " +
           recurrent::detail::shapeString(shape);
  const json& data = want.at("data");
  if (data.size() != got.data.size()) return "size mismatch";
  for (std::size_t i = 0; i < got.data.size(); ++i) {
    const double w = data[i].get<double>();
    const double g = static_cast<double>(got.data[i]);
    const double err = std::abs(g - w);
    const double tol = 1e-5 + 1e-4 * std::abs(w);
    worst = std::max(worst, err / tol);
    if (!(err <= tol))
      return "element " + std::to_string(i) + ": got " + std::to_string(g) + ", expected " +
             std::to_string(w);
  }
  return "";
}

template <class Scalar>
std::string runCase(const fs::path& dir, double& worst) {
  std::ifstream in(dir / "reference.json");
  const json ref = json::parse(in);
  auto model = recurrent::io::loadLayersModel<Scalar>((dir / "model.json").string());
  std::size_t k = 0;
  for (const json& call : ref.at("calls")) {
    ++k;
    if (call.value("resetStates", false)) {
      model.resetStates();
      continue;
    }
    std::vector<recurrent::FlatTensor<Scalar>> inputs;
    for (const json& t : call.at("inputs")) inputs.push_back(tensorFrom<Scalar>(t));
    const auto outputs = model.predict(inputs);
    const json& want = call.at("outputs");
    if (outputs.size() != want.size())
      return "call " + std::to_string(k) + ": " + std::to_string(outputs.size()) +
             " outputs, expected " + std::to_string(want.size());
    for (std::size_t o = 0; o < outputs.size(); ++o) {
      const std::string diff = compare(outputs[o], want[o], worst);
      if (!diff.empty())
        return "call " + std::to_string(k) + ", output " + std::to_string(o) + ": " + diff;
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  bool useDouble = false;
  std::vector<fs::path> roots;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--double")
      useDouble = true;
    else
      roots.emplace_back(a);
  }
  std::vector<fs::path> cases;
  for (const auto& root : roots) {
    if (!fs::is_directory(root)) {
      std::fprintf(stderr, "not a directory: %s\n", root.string().c_str());
      return 2;
    }
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory() && fs::exists(e.path() / "model.json") &&
          fs::exists(e.path() / "reference.json"))
        cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());
  int failed = 0;
  for (const auto& dir : cases) {
    double worst = 0;
    std::string result;
    try {
      result = useDouble ? runCase<double>(dir, worst) : runCase<float>(dir, worst);
    } catch (const std::exception& e) {
      result = std::string("exception: ") + e.what();
    }
    if (result.empty()) {
      std::printf("ok   %s (worst error %.3f of tolerance)\n", dir.filename().string().c_str(),
                  worst);
    } else {
      ++failed;
      std::printf("FAIL %s: %s\n", dir.filename().string().c_str(), result.c_str());
    }
  }
  std::printf("%zu case(s), %d failed (%s)\n", cases.size(), failed,
              useDouble ? "double" : "float");
  return cases.empty() || failed != 0 ? 1 : 0;
}
