// report: the views of validation and calibration (report.hpp): error cells of fixed-batch runs and
// of serving runs, and the CSVs of each run's measured and predicted times.
#include <cmath>

#include <fmt/format.h>

#include "roofline/report/report.hpp"

namespace roofline {

// The JSON of a cell: an object of its fields, by their names.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(error_cell, architecture, phase, n, median_ape, mean_ape, p90_ape, max_ape)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(serving_cell, engine, system, metric, n, models, median_ape, mean_ape,
                                   p90_ape, max_ape, stack, coverage, coverage_n)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(skipped_rows, reason, n)

nlohmann::json cells_view::json() const { return {{"cells", cells}}; }

std::string cells_view::csv() const {
  std::string out = "architecture,phase,n,median_ape,mean_ape,p90_ape,max_ape\n";
  for (const error_cell& c : cells)
    fmt::format_to(std::back_inserter(out), "{},{},{},{:.4g},{:.4g},{:.4g},{:.4g}\n", c.architecture, c.phase,
                   c.n, c.median_ape, c.mean_ape, c.p90_ape, c.max_ape);
  return out;
}

std::string cells_view::table() const {
  std::string out = fmt::format("{}\n{:<12} {:<6} {:>5} {:>9} {:>9} {:>9} {:>9}\n", title, "architecture",
                                "phase", "n", "median %", "mean %", "p90 %", "max %");
  for (const error_cell& c : cells)
    fmt::format_to(std::back_inserter(out), "{:<12} {:<6} {:>5} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f}\n",
                   c.architecture, c.phase, c.n, c.median_ape, c.mean_ape, c.p90_ape, c.max_ape);
  return out;
}

nlohmann::json coverage_view::json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const coverage_cell& c : cells)
    list.push_back({{"architecture", c.architecture}, {"phase", c.phase}, {"n", c.n}, {"share", c.share}});
  return {{"coverage", list}};
}

std::string coverage_view::table() const {
  std::string out = std::string(title) + "\n";
  for (const coverage_cell& c : cells)
    fmt::format_to(std::back_inserter(out), "{:<12} {:<6} {:>5} {:>8.0f} %\n", c.architecture, c.phase, c.n,
                   100 * c.share);
  return out;
}

nlohmann::json calibration_view::json() const {
  return {{"in_sample", cells_view{in_sample, ""}.json()}, {"held_out", cells_view{held_out, ""}.json()}};
}

std::string calibration_view::table() const {
  std::string out = cells_view{in_sample, in_sample_title}.table();
  if (!held_out.empty()) {  // appended in two steps: GCC 12 warns of "\n" + string (-Wrestrict)
    out += "\n";
    out += cells_view{held_out, "held out (each model predicted by a fit on the others)"}.table();
  }
  return out;
}

std::string predictions_csv(std::span<const sample> samples, std::span<const prediction> predicted) {
  std::string out = "model,batch,prefill,generate,ttft_ms,step_ms,predicted_ttft_ms,predicted_step_ms\n";
  const auto ms = [](double s) { return std::isnan(s) ? std::string() : fmt::format("{:.6g}", s * 1e3); };
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const sample& s = samples[i];
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{}\n", s.model_path, s.work.batch,
                   s.work.prefill, s.work.generate, ms(s.ttft_s), ms(s.step_s), ms(predicted[i].ttft_s),
                   ms(predicted[i].step_s));
  }
  return out;
}

nlohmann::json serving_cells_view::json() const { return {{"cells", cells}, {"skipped", skipped}}; }

std::string serving_cells_view::table() const {
  std::string out = fmt::format("{}\n{:<7} {:<9} {:<5} {:>5} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}  {}\n",
                                title, "engine", "system", "what", "n", "models", "median %", "mean %",
                                "p90 %", "max %", "p10-p90", "stack");
  for (const serving_cell& c : cells)  // p10-p90: measured inside the stack's end-to-end interval
    fmt::format_to(std::back_inserter(out),
                   "{:<7} {:<9} {:<5} {:>5} {:>6} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f} {:>9}  {}\n", c.engine,
                   c.system, c.metric, c.n, c.models, c.median_ape, c.mean_ape, c.p90_ape, c.max_ape,
                   c.coverage_n ? fmt::format("{:.0f} %", 100 * c.coverage) : "-", c.stack);
  for (const skipped_rows& s : skipped)
    fmt::format_to(std::back_inserter(out), "skipped {:>5}: {}\n", s.n, s.reason);
  return out;
}

std::string serving_predictions_csv(const std::vector<engine_run>& runs,
                                    const std::vector<run_prediction>& pred) {
  std::string out =
      "line,id,engine,system,model,ttft_ms,tpot_ms,predicted_ttft_ms,predicted_tpot_ms,stack,skipped\n";
  const auto ms = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6g}", v); };
  for (std::size_t i = 0; i < runs.size(); ++i)
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{},{},{},{}\n", runs[i].line, runs[i].id,
                   runs[i].engine, runs[i].system, runs[i].model, runs[i].ttft_ms, runs[i].tpot_ms,
                   ms(pred[i].ttft_ms), ms(pred[i].tpot_ms), pred[i].stack, pred[i].skip);
  return out;
}

}  // namespace roofline
