// What recurrent-predict and recurrent-train share besides their data files (inputs.hpp): the
// exception kind in error messages, CLI11's usage line in the tools' style, and the handling of
// CLI11's parse errors (help/version: exit 0; anything else: one line on stderr, exit 2).
#ifndef RECURRENT_TOOLS_CLI_COMMON_HPP
#define RECURRENT_TOOLS_CLI_COMMON_HPP

#include <recurrent/errors.hpp>
#include <recurrent/io/training.hpp>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>

namespace recurrent_cli {

/// The most derived library exception type, for messages ("ShapeError: ...").
inline const char* kindOf(const std::exception& e) {
  if (dynamic_cast<const recurrent::WeightError*>(&e)) return "WeightError";
  if (dynamic_cast<const recurrent::ShapeError*>(&e)) return "ShapeError";
  if (dynamic_cast<const recurrent::ConfigError*>(&e)) return "ConfigError";
  if (dynamic_cast<const recurrent::ValueError*>(&e)) return "ValueError";
  if (dynamic_cast<const recurrent::StateError*>(&e)) return "StateError";
  if (dynamic_cast<const recurrent::FormatError*>(&e)) return "FormatError";
  if (dynamic_cast<const recurrent::IOError*>(&e)) return "IOError";
  if (dynamic_cast<const recurrent::TrainingError*>(&e)) return "TrainingError";
  if (dynamic_cast<const recurrent::Error*>(&e)) return "Error";
  if (dynamic_cast<const nlohmann::json::exception*>(&e)) return "nlohmann::json::exception";
  if (dynamic_cast<const std::bad_alloc*>(&e)) return "std::bad_alloc";
  return "std::exception";
}

/// A usage error found after CLI11's parse (a missing positional, options that do not go
/// together): exit status 2, like CLI11's own errors.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// CLI11's help with our usage line ("usage: <tool> <synopsis>") first, then the description.
class Formatter : public CLI::Formatter {
 public:
  explicit Formatter(std::string synopsis) : synopsis_(std::move(synopsis)) {}
  std::string make_usage(const CLI::App* app, std::string) const override {
    std::string s = "usage: " + app->get_name() + " " + synopsis_ + "\n";
    if (!app->get_description().empty()) s += "\n" + app->get_description() + "\n";
    return s;
  }
  std::string make_description(const CLI::App*) const override { return ""; }

 private:
  std::string synopsis_;
};

/// Installs `Formatter(synopsis)` on `app`, with a wider option column than CLI11's default.
inline void useFormatter(CLI::App& app, std::string synopsis) {
  auto f = std::make_shared<Formatter>(std::move(synopsis));
  f->column_width(26);
  app.formatter(f);
}

/// `<tool>: <message>` + "(see <tool> --help)" on stderr; returns 2.
inline int usageErrorExit(const std::string& tool, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n(see %s --help)\n", tool.c_str(), message.c_str(), tool.c_str());
  return 2;
}

/// A CLI11 parse error: help and version print to stdout and give 0; anything else is one line
/// `<tool>: <message>` and a pointer to --help on stderr, status 2.
inline int parseErrorExit(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
    if (dynamic_cast<const CLI::CallForHelp*>(&e) || dynamic_cast<const CLI::CallForAllHelp*>(&e))
      std::fputs(app.help().c_str(), stdout);
    else
      std::fprintf(stdout, "%s\n", e.what());  // CallForVersion: the version text
    return 0;
  }
  return usageErrorExit(app.get_name(), e.what());
}

}  // namespace recurrent_cli

#endif  // RECURRENT_TOOLS_CLI_COMMON_HPP
