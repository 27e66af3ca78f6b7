// report: the views of validation and calibration (report.hpp): error cells of fixed-batch runs and
// of serving runs, and the CSVs of each run's measured and predicted times.
#include <cmath>

#include <fmt/format.h>

#include "roofline/report/report.hpp"
#include "roofline/report/table.hpp"

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

std::string cells_view::table(const table_style& style) const {
  detail::text_table t(
      {{"architecture", true}, {"phase", true}, {"n"}, {"median %"}, {"mean %"}, {"p90 %"}, {"max %"}});
  for (const error_cell& c : cells)
    t.row({c.architecture, c.phase, fmt::format("{}", c.n), fmt::format("{:.1f}", c.median_ape),
           fmt::format("{:.1f}", c.mean_ape), fmt::format("{:.1f}", c.p90_ape),
           fmt::format("{:.1f}", c.max_ape)});
  return detail::text_line(title, style, true) + t.render(style);
}

nlohmann::json coverage_view::json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const coverage_cell& c : cells)
    list.push_back({{"architecture", c.architecture}, {"phase", c.phase}, {"n", c.n}, {"share", c.share}});
  return {{"coverage", list}};
}

std::string coverage_view::table(const table_style& style) const {
  detail::text_table t({{"architecture", true}, {"phase", true}, {"n"}, {"inside p10-p90"}});
  for (const coverage_cell& c : cells)
    t.row({c.architecture, c.phase, fmt::format("{}", c.n), fmt::format("{:.0f} %", 100 * c.share)});
  return detail::text_line(title, style, true) + t.render(style);
}

nlohmann::json calibration_view::json() const {
  return {{"in_sample", cells_view{in_sample, ""}.json()}, {"held_out", cells_view{held_out, ""}.json()}};
}

std::string calibration_view::table(const table_style& style) const {
  std::string out = cells_view{in_sample, in_sample_title}.table(style);
  if (!held_out.empty()) {  // appended in two steps: GCC 12 warns of "\n" + string (-Wrestrict)
    if (!style.markdown) out += "\n";
    out += cells_view{held_out, "held out (each model predicted by a fit on the others)"}.table(style);
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

namespace {
// A stack's note without its "fitted on ": "this part", or where it was fitted and moved from.
std::string fitted_on(std::string note) {
  constexpr std::string_view prefix = "fitted on ";
  return note.rfind(prefix, 0) == 0 ? note.substr(prefix.size()) : note;
}
}  // namespace

std::string serving_cells_view::table(const table_style& style) const {
  // p10-p90: the share measured inside the stack's end-to-end interval
  detail::text_table t({{"engine", true},
                        {"system", true},
                        {"what", true},
                        {"n"},
                        {"models"},
                        {"median %"},
                        {"mean %", false, 1},
                        {"p90 %"},
                        {"max %"},
                        {"p10-p90"},
                        {"stack", true},
                        {"fitted on", true}});
  for (const serving_cell& c : cells) {
    const std::size_t note = c.stack.find(" (");  // "name (fitted on this part)": the note its own column
    t.row({c.engine, c.system, c.metric, fmt::format("{}", c.n), fmt::format("{}", c.models),
           fmt::format("{:.1f}", c.median_ape), fmt::format("{:.1f}", c.mean_ape),
           fmt::format("{:.1f}", c.p90_ape), fmt::format("{:.1f}", c.max_ape),
           c.coverage_n ? fmt::format("{:.0f} %", 100 * c.coverage) : "-", c.stack.substr(0, note),
           fitted_on(note == std::string::npos ? "" : c.stack.substr(note + 2, c.stack.size() - note - 3))});
  }
  for (const skipped_rows& s : skipped) t.note(fmt::format("skipped {}: {}", s.n, s.reason));
  return detail::text_line(title, style, true) + t.render(style);
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
