/// report: the views of every result (view.hpp says what a view is). A view holds what its
/// report shows, collected once from the result; json() is a value, table() text for people,
/// csv() rows for tools. render(view, format) gives the text of a format.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "roofline/estimate/compare.hpp"
#include "roofline/estimate/estimate.hpp"
#include "roofline/fit/calibrate.hpp"
#include "roofline/fit/engine_runs.hpp"
#include "roofline/report/view.hpp"
#include "roofline/serving/deploy.hpp"
#include "roofline/serving/serving.hpp"
#include "roofline/serving/simulate.hpp"
#include "roofline/serving/speculative.hpp"
#include "roofline/sweep/sweep.hpp"

namespace roofline {

/// Everything an estimate's report shows: the inputs, the estimate and the ops of both phases.
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

/// An estimate. Table: `per_op` lists every op, else one row per layer group; JSON and CSV list
/// every op of every layer. JSON: {"model", "hardware", "workload", "overlap", "prefill", "decode",
/// "ttft_s", "step_time_s", "throughput_tokens_per_s", "end_to_end_tokens_per_s",
/// "ridge_point_flop_per_byte", "memory", "parallel"}.
struct estimate_view {
  const report& r;
  bool per_op = false;
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
  std::string csv() const;
};

/// A comparison: TTFT and step time of each model at each prompt length (with whether it
/// fits in memory), then the crossovers. JSON: {"hardware", "stack", "batch", "generate",
/// "models": [names], "points": [{"prefill", "models": [{"name", "ttft_s", "step_time_s",
/// "fits"}]}], "crossovers": [{"metric", "faster", "slower", "prefill"}]}.
struct comparison_view {
  const comparison& c;
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
  std::string csv() const;
};

/// Error cells of fixed-batch runs (validate, calibrate), headed by `title` in the table. JSON
/// {"cells": [{architecture, phase, n, median_ape, mean_ape, p90_ape, max_ape}]}, errors in percent.
struct cells_view {
  const std::vector<error_cell>& cells;
  std::string_view title;
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
  std::string csv() const;
};

/// The share of measured times inside a p10-p90 interval, per architecture and phase
/// (interval_coverage, spread_coverage), under a title. JSON: {"coverage": [{"architecture",
/// "phase", "n", "share"}]}.
struct coverage_view {
  std::span<const coverage_cell> cells;
  std::string_view title =
      "interval coverage: measured times inside the p10-p90 interval (the stack's end-to-end spread, or its "
      "kernel table's)";
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
};

/// A calibration's errors: in sample, and held out (leave one model out) where it was run.
/// JSON {"in_sample": cells, "held_out": cells}; the table: both cell tables.
struct calibration_view {
  const std::vector<error_cell>& in_sample;
  const std::vector<error_cell>& held_out;
  std::string_view in_sample_title = "in sample (fitted on every model)";
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
};

/// Measured and predicted times of each sample, CSV: model, batch, prefill, generate,
/// ttft_ms, step_ms, predicted_ttft_ms, predicted_step_ms (empty where not measured).
std::string predictions_csv(std::span<const sample> samples, std::span<const prediction> predicted);

/// A serving estimate: the deployment, TTFT, TPOT, end to end, tokens/s per user, per GPU and
/// per deployment, the KV-memory limit, the iterations (where the time goes) and the notes in
/// words. JSON: {"model", "hardware", "stack", "isl", "osl", "concurrency", "mode", "gpus",
/// "ttft_ms", "tpot_ms", "e2e_ms", "wait_ms", "transfer_ms", "tokens_per_s_user",
/// "tokens_per_s_gpu", "tokens_per_s", "max_concurrency", "fits", "memory": {...},
/// "iterations": {...}, "prefill_iterations", "notes"}.
struct serving_view {
  const model_spec& m;
  const hardware& hw;
  const serving_workload& w;
  const serving_result& r;
  /// The same run with the stack's kernel table at the p10 and p90 of its spread (at_spread()):
  /// the interval; null: none.
  const serving_result* p10 = nullptr;
  const serving_result* p90 = nullptr;
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
  /// A serving note in words.
  std::string note_text(const serving_note& n) const;
};

/// A simulated serving run (serving/simulate.hpp): latency distributions, throughput, queue and
/// KV use, where the iterations' time went. JSON: {"model", "hardware", "stack", "stack_note",
/// "policy", "mode", "gpus", "load": {"isl", "osl", "arrivals", "requests", "warmup", "seed"},
/// "ttft_ms", "tpot_ms", "itl_ms", "e2e_ms" (each {"mean", "p50", "p90", "p99", "n"}),
/// "requests_per_s", "tokens_per_s", "input_tokens_per_s", "tokens_per_s_gpu",
/// "tokens_per_s_user", "goodput_requests_per_s", "goodput_targets_ms": {"ttft", "tpot"} (null: none),
/// "duration_s", "mean_in_system",
/// "mean_running", "mean_waiting", "max_waiting", "mean_kv_use", "max_kv_use", "preemptions",
/// "iterations", "busy_s": {"prefill", "decode", "mixed"}, "memory", "notes"}. CSV: the timeline
/// (one row per iteration of the first worker), when it was recorded.
struct simulation_view {
  const model_spec& m;
  const hardware& hw;
  const serving_workload& w;
  const simulation_load& load;
  const simulation_result& r;
  const simulation_result* p10 = nullptr;  ///< as serving_view's: the run at the table's p10, p90
  const simulation_result* p90 = nullptr;
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
  std::string csv() const;
};

/// Kernels timed one by one (roofline kernel --ops): each row's shape, its predicted time, the
/// p10-p90 interval, what timed it (table, extrapolated, model) and its bound; with measured
/// times, each error (predicted / measured - 1) and per kind and set the median and p90 of the
/// absolute errors and the share of measured times inside the interval (coverage).
/// Speculative decoding beside plain decoding at one workload (estimate --speculate): the draft,
/// k and the acceptances, tokens per step, the draft's and the verify pass's times, TPOT against
/// the plain step and the smallest batch (1, 2, 4, ...) where it stops paying. JSON: {"draft", "k",
/// "acceptance", "tokens_per_step", "draft_s", "verify_s", "step_s", "tpot_s", "plain_step_s",
/// "speedup", "draft_prefill_s", "draft_memory_bytes", "break_even_batch" (null: none found),
/// "largest_batch_tried"}.
struct speculation_view {
  const speculation& s;
  std::string draft;
  const speculative_estimate& e;
  struct break_even even;
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
  std::string csv() const;
};

struct kernel_view {
  const hardware& hw;
  std::span<const kernel_row> rows;
  std::span<const kernel_prediction> predicted;
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
  std::string csv() const;
};

/// The deployments of one model: the best within the targets and the Pareto frontier, each
/// point with its mode, layouts, concurrency, TTFT, TPOT, tokens/s per user and per GPU.
/// JSON: {"model", "hardware", "stack", "gpus", "isl", "osl", "ttft_target_ms", "tpot_target_ms",
/// "points", "best": {point} | null, "best_interval": {"ttft_ms": [p10, p90], "tpot_ms": [..],
/// "tokens_per_s_gpu": [..], "from"} | null (the stack's spread: interval_source), "frontier":
/// [{point}]}, a point {"mode", "deployment", "concurrency", "ttft_ms", "tpot_ms",
/// "tokens_per_s_user", "tokens_per_s_gpu"}; a frontier point with its interval
/// (frontier_intervals) also "interval": {"ttft_ms", "tpot_ms", "tokens_per_s_gpu"}.
struct deployments_view {
  const model_spec& m;
  const hardware& hw;
  const deployment_space& sp;
  const std::vector<deployment_point>& points;
  const std::optional<deployment_point>& best;
  std::optional<double> ttft_ms, tpot_ms;
  /// The best point made again with the stack's kernel table at the p10 and p90 of its spread
  /// (at_spread()): its interval; null: none.
  const serving_result* best_p10 = nullptr;
  const serving_result* best_p90 = nullptr;
  std::optional<double> j_per_token{};  ///< the energy target, joules per output token
  bool best_interval() const { return best && best_p10 && best_p90 && best_p10->fits && best_p90->fits; }
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
};

/// Serving error cells (engine_runs.hpp) as a table, or JSON {"cells": [{"engine", "system",
/// "metric", "n", "median_ape", "mean_ape", "p90_ape", "max_ape", "models", "stack", "coverage",
/// "coverage_n"}], "skipped": [{"reason", "n"}]}; coverage: the share of coverage_n runs measured
/// inside their stack's end-to-end p10-p90 interval (coverage_n 0: no stack states one).
struct serving_cells_view {
  const std::vector<serving_cell>& cells;
  const std::vector<skipped_rows>& skipped;
  std::string_view title;
  nlohmann::json json() const;
  std::string table(const table_style& style = {}) const;
};

/// Each run with its measured and predicted TTFT and TPOT, the stack used, or why it was
/// skipped, CSV: line, id, engine, system, model, ttft_ms, tpot_ms, predicted_ttft_ms,
/// predicted_tpot_ms, stack, skipped.
std::string serving_predictions_csv(const std::vector<engine_run>& runs,
                                    const std::vector<run_prediction>& pred);

/// Rows of a sweep: points [first, first + points.size()) of the grid (wrapping around past
/// its end, as sweep_engine::evaluate does), appended to `out`.
/// CSV (the header first when first == 0 and `header`): batch, prefill, generate, tp, pp, ep,
/// dp, ttft_s, step_s, tokens_per_s, e2e_tokens_per_s, memory_gb, fits, prefill_bound,
/// decode_bound; JSON: one object a line with the same keys. Numbers are written in their
/// shortest exact form.
void sweep_rows(std::string& out, const sweep_grid& g, std::size_t first,
                std::span<const estimate_point> points, report_format f, bool header);

/// What a sweep took (checksums: sums over every estimate; folded and scalar: estimates by the
/// vectorised path and by estimate() one at a time).
struct sweep_summary {
  std::size_t estimates = 0;
  double seconds = 0;
  int threads = 1;
  double checksum_ttft_s = 0, checksum_step_s = 0;
  sweep_engine::counts made;
  overlap policy = overlap::perfect;
};
/// JSON {"estimates", "seconds", "estimates_per_s", "threads", "checksum_ttft_s",
/// "checksum_step_s", "folded", "scalar", "simd", "model", "hardware", "stack", "overlap"}; the
/// table is that JSON too (a summary is for tools).
struct sweep_summary_view {
  const model_spec& m;
  const hardware& hw;
  const sweep_summary& s;
  nlohmann::ordered_json json() const;
  std::string table(const table_style& = {}) const { return json_text(json()); }
};

}  // namespace roofline
