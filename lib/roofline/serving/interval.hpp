/// A served point's p10-p90 interval: from its stack's end-to-end spread of serving predictions
/// (serving_params::ttft_spread, tpot_spread, stored by calibrate --engine-runs), or from its
/// kernel table's spread (timing/kernels.hpp's at_spread).
#pragma once

#include <optional>
#include <string_view>
#include <utility>

#include "roofline/serving/serving.hpp"

namespace roofline {

/// Whether the stack states an end-to-end spread of its serving predictions
/// (serving_params::ttft_spread, tpot_spread, from calibrate --engine-runs).
inline bool has_serving_spread(const hardware& hw) {
  return hw.timing.serving.ttft_spread.points > 0 && hw.timing.serving.tpot_spread.points > 0;
}

/// The TTFT's and the TPOT's factors at the p10 (high false) or p90 of the stack's end-to-end
/// spread; nothing without a spread.
inline std::optional<std::pair<double, double>> serving_spread_factors(const hardware& hw, bool high) {
  if (!has_serving_spread(hw)) return std::nullopt;
  const serving_params& sp = hw.timing.serving;
  return std::pair{high ? sp.ttft_spread.p90 : sp.ttft_spread.p10,
                   high ? sp.tpot_spread.p90 : sp.tpot_spread.p10};
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

/// Where a served point's p10-p90 interval comes from: the stack's end-to-end spread of its
/// serving predictions where it states one (it covers every error of the prediction), else its
/// kernel table's spread (at_spread: the run made again, covering the table's ops only), else
/// none.
inline std::string_view interval_source(const hardware& hw) {
  if (has_serving_spread(hw)) return "the stack's end-to-end spread";
  if (hw.timing.kernels && hw.timing.kernels->has_spread()) return "the kernel table's spread";
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
