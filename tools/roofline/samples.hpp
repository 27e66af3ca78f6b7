// Shared by validate and calibrate: measured workloads with their model specs loaded.
#pragma once

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "roofline/fit/calibrate.hpp"
#include "roofline/fit/engine_runs.hpp"
#include "roofline/io/io.hpp"

namespace examples {

/// Specs are loaded once per path (relative to `root`) and kept in `specs`.
inline std::vector<roofline::sample> load_samples(const std::string& csv, const std::string& root,
                                                  std::map<std::string, roofline::model_spec>& specs) {
  std::vector<roofline::sample> out;
  for (const roofline::measurement& m : roofline::load_measurements(csv)) {
    auto it = specs.find(m.model);
    if (it == specs.end()) {
      try {
        it = specs.emplace(m.model, roofline::load_model(root + "/" + m.model)).first;
      } catch (const roofline::input_error& e) {
        throw roofline::input_error(fmt::format("{}:{}:1: model '{}': {}", csv, m.line, m.model, e.what()));
      }
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    out.push_back({&it->second, m.model, m.work, m.ttft_ms ? *m.ttft_ms * 1e-3 : nan,
                   m.step_ms ? *m.step_ms * 1e-3 : nan});
  }
  return out;
}

/// Every *.yaml of a folder, sorted by name.
inline std::vector<std::string> yaml_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".yaml") out.push_back(e.path().string());
  if (ec) throw roofline::input_error(fmt::format("{}: cannot list the folder: {}", dir, ec.message()));
  std::sort(out.begin(), out.end());
  return out;
}

/// The catalogue runs are matched against: every spec of model_specs/ and part of hw_profiles/
/// (example.yaml, which documents the keys, left out), the engine stacks given (or every stack
/// of stacks/ that names an engine), and the fallback stack for engines without one (may be empty).
inline roofline::serving_catalogue load_catalogue(const std::string& root,
                                                  const std::vector<std::string>& stacks,
                                                  const std::string& fallback) {
  roofline::serving_catalogue c;
  const auto wanted = [](const std::string& f) {
    return std::filesystem::path(f).filename() != "example.yaml";
  };
  for (const std::string& f : yaml_files(root + "/model_specs"))
    if (wanted(f)) c.specs.push_back(roofline::load_model(f));
  for (const std::string& f : yaml_files(root + "/hw_profiles"))
    if (wanted(f)) c.parts.push_back(roofline::load_part(f));
  if (stacks.empty()) {
    for (const std::string& f : yaml_files(root + "/stacks"))
      if (wanted(f))
        if (auto s = roofline::load_stack(f); !s.engine.empty()) c.stacks.push_back(std::move(s));
  } else {
    for (const std::string& f : stacks) {
      auto s = roofline::load_stack(f);
      if (s.engine.empty())
        throw roofline::input_error(
            fmt::format("{}: stack '{}' names no 'engine': it cannot stand for an engine's "
                        "runs (give it with --fallback-stack)",
                        f, s.name));
      c.stacks.push_back(std::move(s));
    }
  }
  if (!fallback.empty()) c.fallback = roofline::load_stack(fallback);
  return c;
}

}  // namespace examples
