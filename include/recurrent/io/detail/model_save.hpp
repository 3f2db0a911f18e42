// Internal, may change: `LayersModel::save` — TF.js's `file://` layout (tfjs-node's
// `io.fileSystem` handler): `model.json` = {modelTopology, format: "layers-model", generatedBy,
// convertedBy: null, weightsManifest: [{paths: ["weights.bin"], weights: [{name, shape, dtype:
// "float32"}]}]} and `weights.bin` = the weights as little-endian float32, in manifest order.
// Included at the end of io/tfjs.hpp.
#ifndef RECURRENT_IO_DETAIL_MODEL_SAVE_HPP
#define RECURRENT_IO_DETAIL_MODEL_SAVE_HPP

#include <recurrent/io/tfjs.hpp>
#include <recurrent/version.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace recurrent::io {
namespace detail {

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// `path` is either untouched or complete. @throws IOError (the temporary file is removed).
inline void writeFileAtomically(const std::filesystem::path& path, const std::string& bytes,
                                const std::string& who) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out) out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out || !out.flush()) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      raise<IOError>(who, "cannot write '" + tmp.string() + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    raise<IOError>(
        who, "cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
}

/// A float32 value as 4 little-endian bytes.
inline void appendFloat32(std::string& out, float v) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((bits >> (8 * b)) & 0xFFu));
}

}  // namespace detail

template <class Scalar>
void LayersModel<Scalar>::save(const std::string& directory) {
  const std::string who = recurrent::detail::where("LayersModel", name_, "save");
  using recurrent::detail::raise;
  for (const auto& layer : layers_)
    if (layer != nullptr && layer->className().rfind("CuDNN", 0) == 0)
      raise<ConfigError>(who, "layer '" + layer->name() + "' is a " + layer->className() +
                                  ", whose weights TF.js cannot load; save is not supported");
  // Everything is built in memory first: a failure leaves nothing on disk.
  nlohmann::json specs = nlohmann::json::array();
  std::string bytes;
  for (const auto& w : getWeights()) {
    nlohmann::json shape = nlohmann::json::array();
    for (Index d : w.value.shape) shape.push_back(d);
    specs.push_back({{"name", w.name}, {"shape", shape}, {"dtype", "float32"}});
    for (Scalar v : w.value.data) detail::appendFloat32(bytes, static_cast<float>(v));
  }
  nlohmann::json model = {
      {"modelTopology", topology_},
      {"format", "layers-model"},
      {"generatedBy", "recurrent " RECURRENT_VERSION_STRING},
      {"convertedBy", nullptr},
      {"weightsManifest",
       nlohmann::json::array({{{"paths", {"weights.bin"}}, {"weights", specs}}})}};
  const std::filesystem::path dir(directory);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    raise<IOError>(who, "cannot create the directory '" + directory + "'" +
                            (ec ? ": " + ec.message() : std::string()));
  // The weights first: model.json names them, so a model.json never points at missing data.
  detail::writeFileAtomically(dir / "weights.bin", bytes, who);
  detail::writeFileAtomically(dir / "model.json", model.dump(), who);
}

}  // namespace recurrent::io

#endif  // RECURRENT_IO_DETAIL_MODEL_SAVE_HPP
