/// report: the only code that formats output (tables for people, JSON and CSV for tools).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "roofline/estimate/compare.hpp"
#include "roofline/estimate/estimate.hpp"
#include "roofline/fit/calibrate.hpp"
#include "roofline/fit/engine_runs.hpp"
#include "roofline/serving/deploy.hpp"
#include "roofline/serving/serving.hpp"
#include "roofline/sweep/sweep.hpp"

namespace roofline {

enum class report_format { table, json, csv };

/// Everything a report shows: the inputs, the estimate and the ops of both phases.
struct report {
  const model_spec& model;
  const hardware& hw;
  workload work;
  estimate_result result;
  std::vector<op_row> prefill_ops;
  std::vector<op_row> decode_ops;
};

/// Estimates a workload and collects the per-op rows of both phases.
report make_report(const model_spec& m, const hardware& hw, const workload& w, std::optional<overlap> policy);

/// Renders a report. `per_op`: the table lists every op; else one row per layer group.
/// JSON and CSV always list every op of every layer.
std::string render(const report& r, report_format f, bool per_op);

/// Error cells as a table, or as JSON {"cells": [{architecture, phase, n, median_ape,
/// mean_ape, p90_ape, max_ape}]} with errors in percent. `title` heads the table.
std::string render_cells(const std::vector<error_cell>& cells, report_format f, std::string_view title);

/// Measured and predicted times of each sample, CSV: model, batch, prefill, generate,
/// ttft_ms, step_ms, predicted_ttft_ms, predicted_step_ms (empty where not measured).
std::string predictions_csv(std::span<const sample> samples, std::span<const prediction> predicted);

/// A comparison: TTFT and step time of each model at each prompt length (with whether it
/// fits in memory), then the crossovers. JSON: {"hardware", "batch", "generate",
/// "models": [names], "points": [{"prefill", "models": [{"name", "ttft_s", "step_time_s",
/// "fits"}]}], "crossovers": [{"metric", "faster", "slower", "prefill"}]}.
std::string render_comparison(const comparison& c, report_format f);

/// A serving estimate: the deployment, TTFT, TPOT, end to end, tokens/s per user, per GPU and
/// per deployment, the KV-memory limit, the iterations (where the time goes) and the notes.
/// JSON: {"model", "hardware", "stack", "isl", "osl", "concurrency", "mode", "gpus", "ttft_ms",
/// "tpot_ms", "e2e_ms", "wait_ms", "transfer_ms", "tokens_per_s_user", "tokens_per_s_gpu",
/// "tokens_per_s", "max_concurrency", "fits", "memory": {...}, "iterations": {...},
/// "prefill_iterations", "notes"}.
std::string render_serving(const model_spec& m, const hardware& hw, const serving_workload& w,
                           const serving_result& r, report_format f);

/// The deployments of one model: the best within the targets and the Pareto frontier, each
/// point with its mode, layouts, concurrency, TTFT, TPOT, tokens/s per user and per GPU.
/// JSON: {"model", "hardware", "stack", "gpus", "isl", "osl", "ttft_target_ms", "tpot_target_ms",
/// "points", "best": {point} | null, "frontier": [{point}]}, a point {"mode", "deployment",
/// "concurrency", "ttft_ms", "tpot_ms", "tokens_per_s_user", "tokens_per_s_gpu"}.
std::string render_deployments(const model_spec& m, const hardware& hw, const deployment_space& sp,
                               const std::vector<deployment_point>& points,
                               const std::optional<deployment_point>& best, std::optional<double> ttft_ms,
                               std::optional<double> tpot_ms, report_format f);

/// Serving error cells (engine_runs.hpp) as a table, or JSON {"cells": [{"engine", "system",
/// "metric", "n", "median_ape", "mean_ape", "p90_ape", "max_ape", "models", "stack"}],
/// "skipped": [{"reason", "n"}]}.
/// Each run with its measured and predicted TTFT and TPOT, the stack used, or why it was
/// skipped, CSV: line, id, engine, system, model, ttft_ms, tpot_ms, predicted_ttft_ms,
/// predicted_tpot_ms, stack, skipped.
std::string serving_predictions_csv(const std::vector<engine_run>& runs,
                                    const std::vector<run_prediction>& pred);

std::string render_serving_cells(const std::vector<serving_cell>& cells,
                                 const std::vector<skipped_rows>& skipped, report_format f,
                                 std::string_view title);

/// Rows of a sweep: points [first, first + points.size()) of the grid (wrapping around past
/// its end, as sweep_engine::evaluate does), appended to `out`.
/// CSV (the header first when first == 0 and `header`): batch, prefill, generate, tp, pp, ep,
/// dp, ttft_s, step_s, tokens_per_s, e2e_tokens_per_s, memory_gb, fits, prefill_bound,
/// decode_bound; JSON: one object a line with the same keys. Numbers are written in their
/// shortest exact form.
void sweep_rows(std::string& out, const sweep_grid& g, std::size_t first,
                std::span<const estimate_point> points, report_format f, bool header);

/// What a sweep took: JSON {"estimates", "seconds", "estimates_per_s", "threads",
/// "checksum_ttft_s", "checksum_step_s", "folded", "scalar", "simd", "model", "hardware",
/// "stack", "overlap"} (checksums: sums over every estimate; folded and scalar: estimates by
/// the vectorised path and by estimate() one at a time).
struct sweep_summary {
  std::size_t estimates = 0;
  double seconds = 0;
  int threads = 1;
  double checksum_ttft_s = 0, checksum_step_s = 0;
  sweep_engine::counts made;
  overlap policy = overlap::perfect;
};
std::string render_sweep_summary(const model_spec& m, const hardware& hw, const sweep_summary& s);

}  // namespace roofline
