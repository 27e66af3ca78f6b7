/// The serving simulator: requests arrive (closed or open loop, lengths drawn from
/// distributions), each engine instance's scheduler picks every iteration's decode tokens and
/// prompt chunks under its engine's policy (vLLM, SGLang, TensorRT-LLM: see
/// serving_params::scheduler), allocates and frees KV memory, queues and preempts; an
/// iteration lasts the mixed-iteration roofline of exactly what it runs plus the stack's
/// iteration overhead. Out come TTFT, TPOT, ITL and end-to-end latency distributions,
/// throughput, queue and KV-cache use, and a timeline. The closed form (serving.hpp) stays the
/// fast path beside it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "roofline/serving/interval.hpp"
#include "roofline/serving/serving.hpp"
#include "roofline/spec/load.hpp"

namespace roofline {

/// Mean and percentiles of a latency over the measured requests, seconds. Percentiles are the
/// nearest-rank values of the sorted samples (ITL: of a histogram with bins 0.5 % wide).
struct latency_stats {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;
  std::int64_t n = 0;  ///< samples
};

/// One iteration of the first worker (its dp ranks together), for the timeline.
struct timeline_point {
  double start = 0;     ///< seconds from the first arrival
  double duration = 0;  ///< of the iteration, with its overhead
  double prefill_tokens = 0;
  double decode_tokens = 0;
  double running = 0;  ///< requests holding a slot
  double waiting = 0;  ///< requests queued at the worker
  double kv_use = 0;   ///< fraction of the KV pool held
};

/// What targets goodput counts against: a request meets them when its TTFT and its TPOT are
/// within them (0: no target of that kind).
struct latency_targets {
  double ttft = 0, tpot = 0;  ///< seconds
};

struct simulation_options {
  std::optional<overlap> policy{};  ///< compute/memory overlap; absent: the stack's
  bool timeline = false;            ///< record every iteration of the first worker
  latency_targets targets{};
};

struct simulation_result {
  std::int64_t requests = 0;  ///< simulated
  std::int64_t measured = 0;  ///< in the statistics: all but the warm-up
  latency_stats ttft{}, tpot{}, itl{}, e2e{};
  double duration = 0;        ///< seconds from the first measured arrival to the last measured finish
  double requests_per_s = 0;  ///< measured requests / duration
  double tokens_per_s = 0;    ///< output tokens of the measured requests / duration
  double input_tokens_per_s = 0;
  double tokens_per_s_gpu = 0;
  double tokens_per_s_user = 0;  ///< mean over the measured requests of 1 / their TPOT
  double goodput = 0;            ///< measured requests a second within the targets (all without targets)
  latency_targets targets{};     ///< what goodput counted against (simulation_options::targets)
  double mean_in_system = 0;     ///< requests arrived and not finished, averaged over the duration
  double mean_running = 0;       ///< per dp rank, averaged over iterations' time
  double mean_waiting = 0;
  double max_waiting = 0;
  double mean_kv_use = 0;  ///< of the KV pool, time-averaged
  double max_kv_use = 0;
  std::int64_t preemptions =
      0;  ///< requests evicted and recomputed (vLLM, TensorRT-LLM without reserve, SGLang)
  /// Energy (a part with energy coefficients): every GPU's idle power from time 0 to the last
  /// iteration's end, plus each iteration's ops on each rank's GPUs (capped at the TDP), over all
  /// the requests' output tokens, warm-up included.
  std::optional<double> power_w{};             ///< the deployment's mean board power, W
  std::optional<double> j_per_output_token{};  ///< joules an output token
  bool at_tdp = false;                         ///< an iteration counted at the TDP
  double tokens_per_step = 1;  ///< output tokens a decode step of a measured request emitted (speculation)
  double expected_tokens_per_step = 1;  ///< tokens_per_step of the speculation (speculative.hpp)
  int draft_tokens = 0;                 ///< k (0: no speculation)
  std::string draft{};                  ///< the draft's name
  double prefix_found = 0;      ///< of the measured requests' prompt tokens, the fraction found cached
  bytes shared_prefix{};        ///< a rank's pages of the shared prefix (prefix_reuse), held once
  std::int64_t iterations = 0;  ///< over all workers
  double busy_prefill = 0;      ///< seconds of iterations of prompts only (all workers)
  double busy_decode = 0;       ///< of decode tokens only
  double busy_mixed = 0;        ///< of both
  double cache_lookups = 0, cache_misses = 0;  ///< iteration-time cache
  int gpus = 0;
  serving_memory memory{};  ///< aggregated; disaggregated: the decode workers'
  std::optional<serving_memory> prefill_memory{};
  std::vector<timeline_point> timeline{};
  std::vector<serving_note> notes{};
};

/// Checks a load against a model: lengths within the context, distribution parameters that
/// can be drawn from, a sorted trace of finite non-negative times, counts in range.
/// Throws input_error.
void check_load(const model_spec& m, const simulation_load& load);

/// Simulates serving `load` on the deployment of `s` (its pools and layouts; its isl, osl and
/// concurrency are not used: the load's are). Throws input_error on a bad deployment or load,
/// or a request that can never be served (its KV cache beyond the pool, its prompt beyond the
/// budget without chunked prefill). With speculation (serving_workload::speculative) each
/// decode step of a request emits its accepted drafts and one token of its own, drawn for each
/// request and step from the load's seed (draft i accepted with chance a_i when those before it
/// were); a decode takes k + 1 tokens of the budget (whole or not this iteration) and pages for
/// them; the draft's weights come out of the pool and its cache grows beside the target's.
simulation_result simulate(const model_spec& m, const hardware& hw, const serving_workload& s,
                           const simulation_load& load, const simulation_options& opt = {});

/// The load a closed-form serving workload stands for: fixed lengths, a closed loop at its
/// concurrency.
simulation_load fixed_load(const serving_workload& s, std::int64_t requests = 0);

/// The load a benchmark client puts on an engine at the workload's concurrency, as the
/// simulator replays measured runs: a closed loop whose users all send at time 0, prompts of
/// isl tokens, outputs benchmark_lengths(osl): uniform on osl x [0.95, 1.05] (mean osl).
/// Assumption, from the measured runs: with outputs of exactly osl tokens every request
/// admitted in one iteration ends in one iteration and its user's next prompt arrives with the
/// others', so the loop stays in lockstep forever (a wave of prompts per cycle; the client
/// overhead's jitter and random gaps of up to 100 ms mean between a user's requests do not break
/// it: an arrival during a long prompt iteration waits for the next one with the rest). Measured engines
/// leave lockstep after the first wave: vLLM Llama-3.1-70B FP8 on 4 H100 at 1,024 / 1,024 measures a mean
/// TTFT of 80, 121 and 256 ms at 4, 16 and 64 users where lockstep predicts 85, 317 and 515 ms with the
/// shipped vLLM H100 stack, and this load 57, 70 and 184 ms. Whatever breaks lockstep in those
/// systems is not modelled; a spread of +-2 %, +-5 % or +-10 % gives mean TTFTs within 17 % of
/// each other there (README, "Lockstep").
simulation_load benchmark_load(const serving_workload& s, std::int64_t requests = 0);

/// A simulated result at the p10 (high false) or p90 of its stack's end-to-end spread, as
/// at_serving_spread (interval.hpp): TTFT statistics x the TTFT's factor; TPOT, ITL and end to
/// end x the TPOT's; rates / the TPOT's (goodput kept: it depends on the targets). Nothing
/// without a spread.
inline std::optional<simulation_result> at_serving_spread(const hardware& hw, const simulation_result& r,
                                                          bool high) {
  const auto f = serving_spread_factors(hw, high);
  if (!f) return std::nullopt;
  const auto [a, b] = *f;
  const auto scale = [](latency_stats l, double f) {
    l.mean *= f, l.p50 *= f, l.p90 *= f, l.p99 *= f;
    return l;
  };
  simulation_result out = r;
  out.timeline.clear();
  out.ttft = scale(r.ttft, a);
  out.tpot = scale(r.tpot, b), out.itl = scale(r.itl, b), out.e2e = scale(r.e2e, b);
  for (double* rate : {&out.requests_per_s, &out.tokens_per_s, &out.input_tokens_per_s, &out.tokens_per_s_gpu,
                       &out.tokens_per_s_user})
    *rate /= b;
  return out;
}

}  // namespace roofline
