/// Load offered to a serving deployment for the simulator (serving/simulate.hpp): how many
/// requests, when they arrive, and how long their prompts and outputs are.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "roofline/base/names.hpp"

namespace roofline {

/// Lengths (prompt or output tokens) of the requests: every one `mean` (fixed), uniform on
/// [a, b], normal or lognormal with mean a and standard deviation b (of the lengths, not of
/// their logarithm), or drawn in turn from `values` (a file's column, cycled). Draws are rounded
/// to whole tokens and kept within [1, the model's context] by redrawing (a draw outside is
/// redrawn, at most 1000 times, then refused), so that the distribution is truncated, not
/// piled up at its ends.
struct length_dist {
  enum class kind { fixed, uniform, normal, lognormal, values } what = kind::fixed;
  double a = 0, b = 0;  ///< fixed: a; uniform: [a, b]; normal, lognormal: mean a, standard deviation b
  std::vector<std::int64_t> values{};  ///< kind values: the lengths in order
  std::string source{};                ///< as the user wrote it, for reports ("uniform:100:200")
};

/// Spread of benchmark_lengths: uniform on n x [1 - spread, 1 + spread].
inline constexpr double benchmark_output_spread = 0.05;

/// The output lengths the simulator gives a benchmark client's requests of n tokens: uniform on
/// whole tokens in [round(0.95 n), round(1.05 n)] (mean n), at least 2; fixed where that range
/// is one length. Why not exactly n: serving/simulate.hpp's benchmark_load.
inline length_dist benchmark_lengths(std::int64_t n) {
  const double lo = std::max(2.0, std::round(double(n) * (1 - benchmark_output_spread)));
  const double hi = std::max(lo, std::round(double(n) * (1 + benchmark_output_spread)));
  if (hi == lo)
    return {.what = length_dist::kind::fixed, .a = lo, .source = std::to_string(std::int64_t(lo))};
  return {.what = length_dist::kind::uniform,
          .a = lo,
          .b = hi,
          .source = "benchmark: uniform:" + std::to_string(std::int64_t(lo)) + ":" +
                    std::to_string(std::int64_t(hi))};
}

/// When requests arrive. closed: `concurrency` users each send a request, wait for its last
/// token, think `think_time` seconds and send the next (a benchmark client at a fixed
/// concurrency: every user's first request at time 0). poisson: open loop, exponential gaps
/// at `rate` requests a second. gamma: open loop, gamma-distributed gaps of mean 1 / rate and
/// coefficient of variation `cv` (cv 1 is Poisson, above 1 burstier). trace: open loop at the
/// given `times` (seconds, sorted).
struct arrival_process {
  enum class kind { closed, poisson, gamma, trace } what = kind::closed;
  double concurrency = 1;
  double think_time = 0;        ///< closed: seconds
  double rate = 0;              ///< poisson, gamma: requests a second
  double cv = 1;                ///< gamma
  std::vector<double> times{};  ///< trace
  std::string source{};         ///< as the user wrote it ("poisson", "gamma:2", "trace:FILE")
};

template <>
inline constexpr std::array<std::string_view, 5> enum_names<length_dist::kind>{"fixed", "uniform", "normal",
                                                                               "lognormal", "file"};
template <>
inline constexpr std::array<std::string_view, 4> enum_names<arrival_process::kind>{"closed", "poisson",
                                                                                   "gamma", "trace"};

/// Prefix caching (vLLM's automatic prefix caching, SGLang's RadixAttention, TensorRT-LLM's KV
/// cache reuse; on by default in all three): what of each prompt its engine finds already in
/// the KV cache of the dp rank it is routed to. Found tokens skip the prompt's compute (its
/// chunks attend to them as cached context); found tokens are whole pages (the stack's
/// block_tokens), and at least the prompt's last token is computed (for its logits).
/// - `shared`: tokens every prompt begins with (a system prompt, a few-shot preamble). A rank
///   keeps them once the first request on it has computed them: from then on every request
///   routed there finds them, and their pages are held once for all (never evicted while the
///   load runs: every request references them). Prompts must be longer.
/// - `hit_rate`: the fraction of the rest of each prompt found cached (earlier turns of its own
///   conversation): skipped compute, but the request holds those pages itself. Where a shared
///   prefix is given, nothing is found until the rank holds it (a cache matches prefixes). A
///   request recomputed after a preemption finds only the shared prefix (its own pages are
///   taken to be evicted).
struct prefix_reuse {
  std::int64_t shared = 0;
  double hit_rate = 0;
  bool any() const { return shared > 0 || hit_rate > 0; }
};

/// The load of one simulation: `requests` requests (0: a default of max(1000, 10 x concurrency),
/// capped at 100,000; a trace: its arrivals), the first `warmup` of them run but left out of
/// the statistics, a seed that makes the draws (lengths, arrivals) and so the result
/// deterministic.
struct simulation_load {
  length_dist isl{}, osl{};
  arrival_process arrivals{};
  std::int64_t requests = 0;
  std::int64_t warmup = 0;
  std::uint64_t seed = 1;
  prefix_reuse prefix{};
};

}  // namespace roofline
