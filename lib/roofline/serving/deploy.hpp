/// The best deployment: layouts of a model on a number of GPUs, aggregated and disaggregated,
/// at concurrencies from 1 up, served (serving.hpp); the Pareto frontier of tokens/s per user
/// against tokens/s per GPU, and the best within latency targets.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "roofline/serving/engine_case.hpp"
#include "roofline/serving/interval.hpp"
#include "roofline/serving/serving.hpp"
#include "roofline/serving/simulate.hpp"

namespace roofline {

/// One deployment at one concurrency and what it serves.
struct deployment_point {
  serving_workload work;
  serving_result result;
  bool frontier =
      false;  ///< on the Pareto frontier (no point serves more tokens/s both per user and per GPU)
  /// The point's p10-p90 interval (interval_of), set on frontier points by frontier_intervals;
  /// absent where the stack states no spread.
  std::optional<serving_result> p10{}, p90{};
};

/// What to enumerate: layouts of at most `gpus` GPUs that use all of them (the workers fill
/// them), tp, dp and the prefill and decode pools in powers of two, pp 1 or 2 (1 with speculation; more
/// stages only lengthen a token's path in serving), ep 1 or tp x dp for MoE models; concurrency in powers of
/// two from 1 to max_concurrency.
struct deployment_space {
  int gpus = 8;
  std::int64_t isl = 4096, osl = 512;
  double max_concurrency = 1024;
  bool aggregated = true;
  bool disaggregated = true;
  /// Each point by the simulator (serving/simulate.hpp's benchmark_load: a closed loop at its
  /// concurrency, max(500, 10 x concurrency) requests) instead of the closed form; its TTFT and TPOT are the
  /// means, or with `percentile` (50, 90 or 99) those percentiles, which the targets then bound.
  bool simulated = false;
  int percentile = 0;
  prefix_reuse prefix{};      ///< simulated: the load's prefix caching (spec/load.hpp)
  speculation speculative{};  ///< every deployment's speculative decoding (k 0: none)
  /// Called before each concurrency of the search and at its end with (concurrencies done,
  /// concurrencies in all): for a progress line.
  std::function<void(int, int)> progress{};
};

namespace detail {
/// A simulated point as a serving result: TTFT and TPOT the means or the percentile asked,
/// throughput and memory as simulated.
inline serving_result simulated_point(const model_spec& m, const hardware& hw, const serving_workload& w,
                                      int percentile, const prefix_reuse& prefix = {}) {
  simulation_load load = benchmark_load(w, std::max<std::int64_t>(500, std::int64_t(10 * w.concurrency)));
  load.prefix = prefix;
  const simulation_result s = simulate(m, hw, w, load);
  const auto pick = [&](const latency_stats& l) {
    return (percentile == 50 ? l.p50 : percentile == 90 ? l.p90 : percentile == 99 ? l.p99 : l.mean) * second;
  };
  serving_result r{.ttft = pick(s.ttft), .tpot = pick(s.tpot), .e2e = pick(s.e2e)};
  r.tokens_per_s_user = s.tokens_per_s_user;
  r.tokens_per_s = s.tokens_per_s;
  r.tokens_per_s_gpu = s.tokens_per_s_gpu;
  r.gpus = s.gpus;
  r.fits = true;
  r.memory = s.memory;
  r.prefill_memory = s.prefill_memory;
  r.notes = s.notes;
  r.power_w = s.power_w, r.j_per_output_token = s.j_per_output_token, r.at_tdp = s.at_tdp;
  return r;
}

inline std::vector<int> powers_to(int n) {
  std::vector<int> v;
  for (int k = 1; k <= n; k *= 2) v.push_back(k);
  return v;
}
}  // namespace detail

/// One point of a deployment space: the closed form's result, or the simulator's
/// (sp.simulated) with its TTFT and TPOT at sp.percentile.
inline serving_result deployment_result(const model_spec& m, const hardware& hw, const serving_workload& w,
                                        const deployment_space& sp) {
  return sp.simulated ? detail::simulated_point(m, hw, w, sp.percentile, sp.prefix) : serve(m, hw, w);
}

/// Why no deployment was served, when none was: the first one that did not fit (its result's
/// notes say why), else the first refusal's message (an input_error: a workload beyond the
/// model's context, a layout the model cannot be split by).
struct deployment_refusal {
  std::optional<deployment_point> unfit{};
  std::string error{};
};

namespace detail {

/// The layouts enumerate_deployments() tries (tp, dp in powers of two, pp 1 or 2, ep 1 or tp x dp
/// for MoE) that the model can be split by; the first refusal goes to `why`.
inline std::vector<layout> layouts_of(const model_spec& m, const hardware& hw, const deployment_space& sp,
                                      deployment_refusal* why) {
  const bool moe = has_moe(m);
  std::vector<layout> layouts;
  for (int tp : powers_to(sp.gpus))
    for (int dp : powers_to(sp.gpus / tp))
      for (int pp : {1, 2}) {
        if (tp * dp * pp > sp.gpus || (pp > 1 && sp.speculative.k > 0)) continue;  // speculation: one stage
        std::vector<int> eps{1};
        if (moe && tp * dp > 1) eps.push_back(tp * dp);
        for (int ep : eps) {
          layout L{.tp = tp, .pp = pp, .ep = ep, .dp = dp};
          try {
            check_layout(m, hw, workload{1, sp.isl, sp.osl, L});
          } catch (const input_error& e) {
            if (why && why->error.empty()) why->error = e.what();
            continue;
          }
          layouts.push_back(L);
        }
      }
  return layouts;
}

}  // namespace detail

/// Every layout of the space that the model takes on the part (check_layout), each at every
/// concurrency, served; points where one request does not fit are left out.
/// `why`, when given, says why nothing was served if nothing was.
inline std::vector<deployment_point> enumerate_deployments(const model_spec& m, const hardware& hw,
                                                           const deployment_space& sp,
                                                           deployment_refusal* why = nullptr) {
  if (sp.gpus < 1 || sp.gpus > max_parallel)
    throw input_error(
        fmt::format("best deployment: gpus must be from 1 to {}, not {}", max_parallel, sp.gpus));
  if (!(sp.max_concurrency >= 1) || sp.max_concurrency > 1e9)
    throw input_error(fmt::format("best deployment: the largest concurrency must be from 1 to 1e9, not {}",
                                  sp.max_concurrency));
  if (!sp.simulated && (sp.percentile != 0 || sp.prefix.any()))  // the closed form has neither
    throw input_error(
        sp.percentile != 0
            ? "best deployment: a percentile needs the simulator (the closed form gives means only)"
            : "best deployment: prefix caching is modelled in the simulator only");
  if (sp.percentile != 0 && sp.percentile != 50 && sp.percentile != 90 && sp.percentile != 99)
    throw input_error(fmt::format("best deployment: percentile 50, 90 or 99, not {}", sp.percentile));
  if (sp.speculative.k > 0) check_speculation(sp.speculative, workload{});
  const std::vector<layout> layouts = detail::layouts_of(m, hw, sp, why);
  std::vector<deployment_point> out;
  const auto add = [&](const serving_workload& w) {
    try {
      serving_result r = deployment_result(m, hw, w, sp);
      if (r.fits)
        out.push_back({w, std::move(r)});
      else if (why && !why->unfit)
        why->unfit = deployment_point{w, std::move(r)};
    } catch (const input_error& e) {
      if (why && why->error.empty()) why->error = e.what();
    }
  };
  int levels = 0, done = 0;
  for (double c = 1; c <= sp.max_concurrency; c *= 2) ++levels;
  for (double c = 1; c <= sp.max_concurrency; c *= 2) {
    if (sp.progress) sp.progress(done++, levels);
    if (sp.aggregated)
      for (const layout& L : layouts) {
        if (sp.gpus % L.gpus() != 0) continue;
        serving_workload w{.isl = sp.isl, .osl = sp.osl, .concurrency = c, .speculative = sp.speculative};
        w.agg = {L, sp.gpus / L.gpus()};
        if (c < w.agg.workers * L.dp) continue;  // every rank at least one request
        add(w);
      }
    if (sp.disaggregated)
      for (const layout& P : layouts)
        for (const layout& D : layouts) {
          if (P.pp != 1 || D.pp != 1) continue;  // pipelines do not pay in either pool
          for (int np = 1; np * P.gpus() < sp.gpus; ++np) {
            const int left = sp.gpus - np * P.gpus();
            if (left % D.gpus() != 0) continue;
            serving_workload w{.isl = sp.isl,
                               .osl = sp.osl,
                               .concurrency = c,
                               .disaggregated = true,
                               .speculative = sp.speculative};
            w.prefill = {P, np};
            w.decode = {D, left / D.gpus()};
            if (c < w.decode.workers * D.dp) continue;
            add(w);
          }
        }
  }
  if (sp.progress) sp.progress(levels, levels);
  // the frontier: sorted by tokens/s per user, a point is on it when no faster-per-user point
  // serves as many tokens/s per GPU
  std::vector<std::size_t> order(out.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const serving_result &x = out[a].result, &y = out[b].result;
    return x.tokens_per_s_user != y.tokens_per_s_user ? x.tokens_per_s_user > y.tokens_per_s_user
                                                      : x.tokens_per_s_gpu > y.tokens_per_s_gpu;
  });
  double best = -1;
  for (std::size_t i : order)
    if (out[i].result.tokens_per_s_gpu > best) {
      out[i].frontier = true;
      best = out[i].result.tokens_per_s_gpu;
    }
  return out;
}

/// The point that serves the most tokens/s per GPU with TTFT, TPOT and joules per output token
/// within the targets (absent: no target; a point without energy meets no energy target);
/// none when no point meets them.
inline std::optional<deployment_point> best_within(const std::vector<deployment_point>& points,
                                                   std::optional<seconds> ttft, std::optional<seconds> tpot,
                                                   std::optional<double> j_per_token = std::nullopt) {
  std::optional<deployment_point> best;
  for (const deployment_point& p : points) {
    if (ttft && p.result.ttft > *ttft) continue;
    if (tpot && p.result.tpot > *tpot) continue;
    if (j_per_token && !(p.result.j_per_output_token && *p.result.j_per_output_token <= *j_per_token))
      continue;
    if (!best || p.result.tokens_per_s_gpu > best->result.tokens_per_s_gpu) best = p;
  }
  return best;
}

/// Gives each frontier point its p10-p90 interval, as best_deployment gives its best point's
/// (interval_of: the stack's end-to-end spread, or the point served again with the kernel
/// table at each end of its spread).
inline void frontier_intervals(const model_spec& m, const hardware& hw, const deployment_space& sp,
                               std::vector<deployment_point>& points) {
  for (deployment_point& p : points)
    if (p.frontier)
      std::tie(p.p10, p.p90) =
          interval_of(hw, p.result, [&](const hardware& h) { return deployment_result(m, h, p.work, sp); });
}

}  // namespace roofline
