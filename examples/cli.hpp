// Shared by the example programs: command-line validators and parsing with "error: ..." messages.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace examples {

/// A whole number >= 1.
inline const CLI::Validator positive_integer{[](std::string& s) -> std::string {
                                               std::size_t used = 0;
                                               long long v = 0;
                                               try {
                                                 v = std::stoll(s, &used);
                                               } catch (const std::exception&) {
                                                 used = 0;
                                               }
                                               if (used == 0 || used != s.size() || v < 1)
                                                 return "must be a positive integer, got '" + s + "'";
                                               return {};
                                             },
                                             "POSITIVE INTEGER"};

/// A finite number > 0.
inline const CLI::Validator positive_number{[](std::string& s) -> std::string {
                                              std::size_t used = 0;
                                              double v = 0;
                                              try {
                                                v = std::stod(s, &used);
                                              } catch (const std::exception&) {
                                                used = 0;
                                              }
                                              if (used == 0 || used != s.size() || !(v > 0) || !std::isfinite(v))
                                                return "must be a positive number, got '" + s + "'";
                                              return {};
                                            },
                                            "POSITIVE NUMBER"};

/// Parses the command line: help and version print as usual; a bad command line prints
/// one line "error: ..." to stderr. Returns the exit status if the program should stop.
inline std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return std::nullopt;
}

}  // namespace examples
