/// Measured times of workloads: the input of validation and calibration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "roofline/spec/workload.hpp"

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

namespace roofline {

/// One measured serving run (a row of serving/engine_runs.csv, AIConfigurator's format): an
/// engine serving fixed-length requests at a fixed concurrency on a deployment.
struct engine_run {
  /// How one pool of workers is laid out, as the row states it (an empty field is 1).
  struct pool {
    int workers = 1;
    int batch = 0;  ///< max running batch per attention-dp rank; 0: not stated
    int tp = 1, pp = 1, dp = 1, moe_tp = 1, moe_ep = 1;
  };
  std::string id;
  std::string engine;  ///< backend: trtllm, vllm, sglang
  std::string engine_version;
  std::string model;   ///< model_path: the HuggingFace name
  std::string system;  ///< GPU id: h100_sxm, b200_sxm, ...
  std::string precision, gemm_quant, moe_quant;
  bool disaggregated = false;
  bool stages_stated = true;  ///< disaggregated: the prefill_* and decode_* fields are given
  std::int64_t isl = 0, osl = 0;
  double concurrency = 0;  ///< requests in flight (silicon_concurrency=N of the source field); 0: not stated
  pool agg{}, prefill{}, decode{};
  double ttft_ms = 0, tpot_ms = 0;
  int line = 0;
};

}  // namespace roofline
