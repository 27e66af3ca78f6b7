// Shared by the example programs: command-line validators and parsing with "error: ..." messages.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "roofline/io/io.hpp"
#include "roofline/spec/workload.hpp"

namespace examples {

/// Where the shipped specs, profiles, fits and measurements are: $ROOFLINE_DATA_DIR if set; else,
/// for an installed program, <prefix>/<datadir>/roofline (found from the program's own path, so
/// that a DESTDIR or relocated install works too); else the source tree it was built from.
inline std::string data_dir() {
  if (const char* e = std::getenv("ROOFLINE_DATA_DIR"); e && *e) return e;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = (exe.parent_path() / ROOFLINE_BIN_TO_DATA).lexically_normal();
    if (std::filesystem::is_directory(installed / "hw_profiles", ec)) return installed.string();
  }
  return ROOFLINE_SOURCE_DIR;
}

/// A shipped file, relative to data_dir().
inline std::string data_path(const std::string& relative) { return data_dir() + "/" + relative; }

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
                                              if (used == 0 || used != s.size() || !(v > 0) ||
                                                  !std::isfinite(v) ||
                                                  s.find_first_of("xXnN") != std::string::npos)
                                                return "must be a positive number, got '" + s + "'";
                                              return {};
                                            },
                                            "POSITIVE NUMBER"};

/// A finite number >= 0.
inline const CLI::Validator non_negative_number{[](std::string& s) -> std::string {
                                                  std::size_t used = 0;
                                                  double v = -1;
                                                  try {
                                                    v = std::stod(s, &used);
                                                  } catch (const std::exception&) {
                                                    used = 0;
                                                  }
                                                  if (used == 0 || used != s.size() || !(v >= 0) ||
                                                      !std::isfinite(v) ||
                                                      s.find_first_of("xXnN") != std::string::npos)
                                                    return "must be a number >= 0, got '" + s + "'";
                                                  return {};
                                                },
                                                "NUMBER >= 0"};

/// The layout options every estimating program takes: --tp, --pp, --ep, --dp, --microbatches,
/// --sequence-parallel (all 1, off: one GPU). estimate() checks them against the model and part.
inline void add_layout(CLI::App& app, roofline::layout& L) {
  app.add_option("--tp", L.tp, "tensor-parallel GPUs: each layer's heads and widths split over them")
      ->capture_default_str()
      ->check(positive_integer)
      ->group("Several GPUs");
  app.add_option("--pp", L.pp, "pipeline stages of consecutive layers")
      ->capture_default_str()
      ->check(positive_integer)
      ->group("Several GPUs");
  app.add_option("--ep", L.ep,
                 "expert-parallel GPUs: a MoE layer's experts spread over ep of the tp x dp GPUs of a stage")
      ->capture_default_str()
      ->check(positive_integer)
      ->group("Several GPUs");
  app.add_option("--dp", L.dp,
                 "attention data-parallel ranks: each its own sequences and KV cache, sharing the experts")
      ->capture_default_str()
      ->check(positive_integer)
      ->group("Several GPUs");
  app.add_option("--microbatches", L.microbatches,
                 "micro-batches of a pipelined prefill (default: as many as stages)")
      ->check(positive_integer)
      ->group("Several GPUs");
  app.add_flag("--sequence-parallel", L.sequence_parallel,
               "reduce-scatter and all-gather around the norms instead of all-reduces")
      ->group("Several GPUs");
}

/// The policy an --overlap option names; none (the stack's own) when it was not given.
inline std::optional<roofline::overlap> overlap_option(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return roofline::parse_overlap(value, "--overlap");
}

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
