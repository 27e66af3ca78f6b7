/// A served point's p10-p90 interval: from its stack's end-to-end spread of serving predictions
/// (serving_params::ttft_spread, tpot_spread, stored by calibrate --engine-runs), or from its
/// kernel table's spread (timing/kernels.hpp's at_spread).
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "roofline/serving/serving.hpp"
#include "roofline/spec/kernels.hpp"

namespace roofline {

/// The end-to-end spreads (TTFT, TPOT) a served point on hw takes: on the part the stack was
/// fitted on (or a generic stack), its own (serving_params::ttft_spread, tpot_spread); where
/// drive() moved the stack to another part, each end the wider of its own and its spread on its
/// engine's runs of the other parts (ttft_spread_transferred, tpot_spread_transferred: what a
/// move costs, measured) where it states one, else its own (interval_source then says that the
/// move is not covered). Nothing without an own spread.
inline std::optional<std::pair<spread, spread>> serving_spreads(const hardware& hw) {
  const serving_params& sp = hw.timing.serving;
  if (sp.ttft_spread.points == 0 || sp.tpot_spread.points == 0) return std::nullopt;
  if (hw.transferred_from.empty() || sp.ttft_spread_transferred.points == 0 ||
      sp.tpot_spread_transferred.points == 0)
    return std::pair{sp.ttft_spread, sp.tpot_spread};
  // a move never narrows the interval: where the runs of other parts spread less than the
  // home part's held-out runs (other models, other loads), the home spread's end is kept
  return std::pair{envelope(sp.ttft_spread, sp.ttft_spread_transferred, sp.ttft_spread_transferred.points),
                   envelope(sp.tpot_spread, sp.tpot_spread_transferred, sp.tpot_spread_transferred.points)};
}

/// Whether a served point on hw has an end-to-end spread (serving_spreads).
inline bool has_serving_spread(const hardware& hw) { return serving_spreads(hw).has_value(); }

/// The TTFT's and the TPOT's factors at the p10 (high false) or p90 of the end-to-end spread
/// serving_spreads picks; nothing without one.
inline std::optional<std::pair<double, double>> serving_spread_factors(const hardware& hw, bool high) {
  const auto s = serving_spreads(hw);
  if (!s) return std::nullopt;
  return std::pair{high ? s->first.p90 : s->first.p10, high ? s->second.p90 : s->second.p10};
}

/// A serving result at the p10 (high false) or p90 of its stack's end-to-end spread: TTFT x the
/// TTFT's factor; TPOT and end to end x the TPOT's (end to end is mostly decode: an
/// approximation where prompts dominate); throughput / the TPOT's. Nothing without a spread.
inline std::optional<serving_result> at_serving_spread(const hardware& hw, const serving_result& r,
                                                       bool high) {
  const auto f = serving_spread_factors(hw, high);
  if (!f) return std::nullopt;
  const auto [a, b] = *f;
  serving_result out = r;
  out.ttft = r.ttft * a;
  out.tpot = r.tpot * b, out.e2e = r.e2e * b;
  out.tokens_per_s_user = r.tokens_per_s_user / b;
  out.tokens_per_s = r.tokens_per_s / b, out.tokens_per_s_gpu = r.tokens_per_s_gpu / b;
  return out;
}

/// Where a kernel table's interval comes from on hw: its held-out spread; moved to another part,
/// widened by its spread measured on a part it was moved to (kernel_table::spread_on), or not,
/// and then the move is not covered.
inline std::string kernel_interval_source(const hardware& hw) {
  const kernel_table& t = *hw.timing.kernels;
  if (t.measured_on.name == hw.name) return "the kernel table's spread";
  if (t.has_moved_spread())
    return fmt::format("the kernel table's spread, widened by its spread when moved to {} (measured on {})",
                       t.moved_checked_on, t.measured_on.name);
  return fmt::format("the kernel table's spread on {} (moved from it; the interval does not cover the move)",
                     t.measured_on.name);
}

/// Where a served point's p10-p90 interval comes from: the stack's end-to-end spread of its
/// serving predictions where it states one (it covers every error of the prediction; on another
/// part, its spread on its engine's runs of other parts), else its kernel table's spread
/// (at_spread: the run made again, covering the table's ops only), else none (empty). Says where
/// a moved stack's interval does not cover the move.
inline std::string interval_source(const hardware& hw) {
  const serving_params& sp = hw.timing.serving;
  const std::string& from = hw.transferred_from;
  if (has_serving_spread(hw)) {
    if (from.empty()) return "the stack's end-to-end spread";
    if (sp.ttft_spread_transferred.points > 0 && sp.tpot_spread_transferred.points > 0)
      return fmt::format("the stack's end-to-end spread on its engine's runs of other parts (moved from {})",
                         from);
    return fmt::format(
        "the stack's end-to-end spread on {} (moved from it; the stack states no spread on "
        "other parts, so the interval does not cover the move)",
        from);
  }
  if (hw.timing.kernels && hw.timing.kernels->has_spread()) return kernel_interval_source(hw);
  return "";
}

/// The p10 and p90 results of a served point r, by interval_source's rule; `run(hw)` makes the
/// point again on another hardware (the kernel table at a spread's end).
template <class Result, class Run>
std::pair<std::optional<Result>, std::optional<Result>> interval_of(const hardware& hw, const Result& r,
                                                                    Run&& run) {
  if (has_serving_spread(hw)) return {at_serving_spread(hw, r, false), at_serving_spread(hw, r, true)};
  std::optional<Result> lo, hi;
  if (const auto h = at_spread(hw, false)) lo = run(*h);
  if (const auto h = at_spread(hw, true)) hi = run(*h);
  return {std::move(lo), std::move(hi)};
}

}  // namespace roofline
