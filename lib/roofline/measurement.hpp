/// Measured times of workloads: the input of validation and calibration.
#pragma once

#include <optional>
#include <string>

#include "roofline/workload.hpp"

namespace roofline {

/// One row of a measurement CSV (columns model, batch, prefill, generate, ttft_ms, step_ms).
struct measurement {
  std::string model;  ///< model spec path, relative to the repository root
  workload work;
  std::optional<double> ttft_ms;  ///< time to first token; empty: not measured
  std::optional<double> step_ms;  ///< mean decode step over `generate` steps; empty: not measured
  int line = 0;                   ///< 1-based line in its file
};

}  // namespace roofline
