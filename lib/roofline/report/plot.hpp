/// plot: pictures of predictions, drawn by gnuplot (report layer: the only code that draws).
#pragma once

#include <optional>
#include <span>
#include <string>

#include "roofline/estimate/compare.hpp"
#include "roofline/fit/calibrate.hpp"
#include "roofline/fit/engine_runs.hpp"
#include "roofline/report/report.hpp"
#include "roofline/scaling/scaling.hpp"

namespace roofline {

/// Writes an SVG (a PNG if the path ends in .png) of three panels: predicted against measured time (log-log,
/// a colour per model, the line y = x), and TTFT and decode step time against prefill length at batch
/// `batch`: measured points, predicted lines. Runs gnuplot; throws input_error naming
/// `svg_path` if it cannot.
void plot_validation(std::span<const sample> samples, std::span<const prediction> predicted,
                     std::int64_t batch, const std::string& svg_path);

/// TTFT and decode step time against prompt length (log-log), a line per model, the
/// crossovers marked and labelled. SVG, or PNG for a path ending in .png.
void plot_comparison(const comparison& c, const std::string& path);

/// The roofline chart of an estimate: the accelerator's compute ceilings (matrix peak per
/// dtype, vector fp32 peak, and the calibrated matrix ceiling), its bandwidth slope, and
/// each op of the prefill and of a decode step at its intensity and attained FLOP/s,
/// labelled. Log-log; SVG, or PNG for a path ending in .png.
void plot_roofline(const report& r, const std::string& path);

/// Where the time of a prefill and of a decode step goes against the tensor-parallel degree:
/// stacked bars of compute-bound, memory-bound, overhead and exposed communication time per
/// degree (tp_sweep), a panel per phase; refused degrees are left out. SVG, or PNG for .png.
void plot_tp_breakdown(const std::vector<tp_point>& sweep, const std::string& title, const std::string& path);

/// One family at one context on a Pareto chart.
struct pareto_series {
  std::string label;                 ///< e.g. "xlstm, 16384"
  std::vector<served_model> models;  ///< every model of the ladder (points)
};

/// Loss against TTFT and against decode step time (log x), every model a point and each
/// series' frontier a line. SVG, or PNG for a path ending in .png.
void plot_pareto(const std::vector<pareto_series>& series, const std::string& title, const std::string& path);

/// Predicted against measured TTFT and TPOT of serving runs (log-log), a panel per engine and
/// metric, a colour per model, the line y = x and the lines of ±30%; skipped runs left out.
/// SVG, or PNG for a path ending in .png.
void plot_serving_validation(const std::vector<engine_run>& runs, const std::vector<run_prediction>& pred,
                             const std::string& path);

/// A simulated run's timeline (simulation_options::timeline): three panels against time, the
/// running and waiting requests, the KV pool's use, and each iteration's duration with its
/// prompt and decode tokens. SVG, or PNG for a path ending in .png.
void plot_timeline(const simulation_result& r, const std::string& title, const std::string& path);

/// One model's deployments on a frontier chart, and the best of them within the targets (none:
/// no deployment meets them).
struct frontier_series {
  std::string label;
  std::vector<deployment_point> points;
  std::optional<deployment_point> best{};
};

/// The targets a frontier chart draws: TPOT as the line of tokens/s per user = 1000 / TPOT ms
/// (deployments left of it miss it); TTFT, which these axes do not show, in the title.
struct frontier_targets {
  std::optional<double> ttft_ms{}, tpot_ms{};
};

/// Tokens/s per GPU against tokens/s per user (log x): every deployment a faint point
/// (aggregated circles, disaggregated triangles; drawn over the frontier, so that hovering one in an
/// SVG shows its layout and numbers), each series' Pareto frontier a line with each
/// point's concurrency beside it, the TPOT target a dashed line and the best within the targets
/// a large star labelled with its layout and concurrency. SVG, or PNG for a path ending in .png.
void plot_frontier(const std::vector<frontier_series>& series, const std::string& title,
                   const std::string& path, const frontier_targets& targets = {});

}  // namespace roofline
