// Shared by validate and calibrate: measured workloads with their model specs loaded.
#pragma once

#include <map>

#include <fmt/format.h>

#include "roofline/calibrate.hpp"
#include "roofline/io.hpp"

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
    out.push_back({&it->second, m.model, m.work, m.ttft_ms ? *m.ttft_ms * 1e-3 : nan, m.step_ms ? *m.step_ms * 1e-3 : nan});
  }
  return out;
}

}  // namespace examples
