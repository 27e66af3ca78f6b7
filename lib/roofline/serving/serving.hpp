/// Serving: continuous batching with chunked prefill, disaggregated prefill and decode, KV
/// paging; TTFT and TPOT at a concurrency. Serving never counts: it asks estimate for passes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "roofline/estimate/estimate.hpp"
#include "roofline/serving/serving_result.hpp"
#include "roofline/serving/speculative.hpp"
#include "roofline/spec/measurement.hpp"

namespace roofline {

namespace detail {

inline double budget_of(const hardware& hw, const worker_pool& w) {
  return w.max_batch_tokens.value_or(hw.timing.serving.max_batch_tokens);
}
inline double max_batch_of(const hardware& hw, const worker_pool& w) {
  return w.max_batch.value_or(hw.timing.serving.max_batch);
}
/// Requests that can run at once on a dp rank: max_batch, as many as the KV cache admits, and no
/// more than the token budget, since every running request decodes a token an iteration and the
/// engines schedule decodes first within the budget (vLLM refuses a max_num_batched_tokens below
/// max_num_seqs: vllm/config/scheduler.py, SchedulerConfig's check).
inline double slots_of(const hardware& hw, const worker_pool& w, double admitted) {
  return std::min({max_batch_of(hw, w), admitted, budget_of(hw, w)});
}
/// Which of slots_of()'s limits binds for a rank of `per_rank` requests (serving_note::binding).
inline serving_note::limit slot_limit_of(const hardware& hw, const worker_pool& w, double admitted,
                                         double per_rank) {
  const double batch = max_batch_of(hw, w), budget = budget_of(hw, w);
  if (admitted < std::min({per_rank, batch, budget})) return serving_note::limit::kv_cache;
  if (budget < std::min(batch, admitted)) return serving_note::limit::token_budget;
  return serving_note::limit::max_batch;
}

/// What one engine iteration runs on one dp rank: prefill_seqs sequences of `chunk` prompt tokens
/// after `context` cached ones, and `decoding` decode tokens at the mean context of a request's
/// decode, isl + (osl - 2) / 2.
struct iteration_shape {
  double prefill_seqs = 0, chunk = 1, context = 0;
  double decoding = 0;
  std::int64_t isl = 1, osl = 2;
  int k = 0;                          ///< speculation's draft tokens (0: plain decodes)
  const model_spec* draft = nullptr;  ///< its draft
};

}  // namespace detail

/// What serve() builds that only the hardware's part and serving limits decide, not the timing
/// of ops or the engine's overheads: whether the case passed its checks, the pools' memory, and
/// each iteration's ops per pipeline stage (in the order estimate_mixed takes them). A serving
/// fit evaluates one run at many timing parameter sets; with a memo, serve() builds these the
/// first time and re-times them after, to the same numbers (test/serving_test.cpp). A memo
/// belongs to one model, serving workload and part; only timing_params may change between its
/// calls, and of those not the serving limits (max_batch, max_batch_tokens, memory_fraction,
/// block_tokens, reserve_final_length), which set the memory and the iterations' shapes.
struct serving_memo {
  struct stage_ops {
    std::vector<op> ops;
    bool batched = false;  ///< estimate_pass's: more than one token in the iteration
  };
  struct iteration_ops {
    layout L{};
    detail::iteration_shape shape{};
    std::vector<stage_ops> stages{};
    /// The last timing and policy it was timed with, and the time: what a fit's steps in the
    /// engine's own terms (overheads, queueing), which time no op, take again.
    std::optional<timing_params> timed_with{};
    overlap policy = overlap::perfect;
    phase_estimate time{};
  };
  bool checked = false;
  std::optional<serving_memory> memory{}, prefill_memory{};
  std::vector<iteration_ops> iterations{};
};

namespace detail {

/// Time of one iteration of a worker: every pipeline stage's GPU runs its layers of the
/// iteration one after another (a token's latency through the stages; micro-batching the
/// stages is not modelled for serving), the slowest dp rank sets it (ranks run in step); the
/// engine's iteration overhead is added by the caller.
inline phase_estimate iteration(const model_spec& m, const hardware& hw, const layout& L,
                                const iteration_shape& it, overlap pol, serving_memo* memo = nullptr) {
  const auto [prefill_seqs, chunk, context, decoding, isl, osl, k, draft] = it;
  if (memo && k == 0) {  // speculation's draft passes are not kept: built each time below
    const auto same = [&](const serving_memo::iteration_ops& e) {  // `it`, not its bindings: clang
      const iteration_shape& a = e.shape;                          // captures no structured binding
      return e.L == L && a.prefill_seqs == it.prefill_seqs && a.chunk == it.chunk &&
             a.context == it.context && a.decoding == it.decoding && a.isl == it.isl && a.osl == it.osl;
    };
    auto found = std::find_if(memo->iterations.begin(), memo->iterations.end(), same);
    if (found == memo->iterations.end()) {
      serving_memo::iteration_ops e{.L = L, .shape = it};
      const pass pf{phase::prefill, prefill_seqs, chunk, context, 1};
      const pass dc{phase::decode, decoding, 1, double(isl), double(std::max<std::int64_t>(osl - 1, 1))};
      for (int s = 0; s < L.pp; ++s) {
        const stage_span st = stage_of(m, s, L.pp);
        const rank_view rp{L, st, L.dp * prefill_seqs * chunk, false},
            rd{L, st, L.dp * decoding * dc.tokens, false};
        serving_memo::stage_ops so;
        // as estimate_mixed: one pass alone where the other is empty, else both merged
        const pass* alone = pf.batch <= 0 ? &dc : dc.batch <= 0 ? &pf : nullptr;
        if (alone) {
          for_each_op(m, *alone, alone == &dc ? rd : rp, [&](const op& o) { so.ops.push_back(o); });
          so.batched = alone->batch * alone->tokens > 1;
        } else {
          std::vector<op> dec;
          detail::mixed_ops(m, pf, dc, rp, rd, so.ops, dec);
          so.batched = true;
        }
        e.stages.push_back(std::move(so));
      }
      memo->iterations.push_back(std::move(e));
      found = memo->iterations.end() - 1;
    }
    if (found->timed_with && found->policy == pol && found->timed_with->times_ops_as(hw.timing))
      return found->time;
    phase_estimate total{};
    for (const serving_memo::stage_ops& so : found->stages)
      total += detail::time_ops(hw, pol, so.batched, [&](auto&& f) {
        for (const op& o : so.ops) f(o);
      });
    total.classify();
    found->timed_with = hw.timing;
    found->policy = pol;
    found->time = total;
    return total;
  }
  const pass pf{phase::prefill, prefill_seqs, chunk, context, 1};
  const double steps = double(std::max<std::int64_t>(osl - 1, 1));
  const pass plain{phase::decode, decoding, 1, double(isl), steps};
  // with speculation a decode is a verify of k + 1 tokens at the decode's mean context
  const pass dc = k > 0 ? verify_pass(decoding, k, double(isl) + (steps - 1) / 2) : plain;
  phase_estimate total{};
  for (int s = 0; s < L.pp; ++s) {
    const stage_span st = stage_of(m, s, L.pp);
    const rank_view rp{L, st, L.dp * prefill_seqs * chunk, false},
        rd{L, st, L.dp * decoding * dc.tokens, false};
    total += estimate_mixed(m, hw, pf, dc, pol, rp, rd);
  }
  if (k > 0 && draft)
    total += draft_passes(*draft, hw, k, plain, pf, L, pol);  // one stage (check_speculation)
  total.classify();
  return total;
}

/// Memory of one GPU of a worker (the stage that holds the most) and the requests one dp rank
/// admits. The engine takes memory_fraction of the GPU; the weights (rank_weight_bytes), the
/// activations of an iteration of max_batch_tokens prompt tokens and the collective buffers
/// come out of it, the rest is the KV pool; a request holds its KV cache (and recurrent state)
/// at isl + osl tokens (reserve_final_length) or at its mean over its decode, isl + osl / 2
/// (pages allocated as it grows), rounded up to whole pages of block_tokens.
/// What one request holds on a GPU of stage `s` of a worker after `tokens` tokens: its KV cache
/// (window layers at most their window) and recurrent state.
inline bytes request_bytes(const model_spec& m, const layout& L, int s, double tokens) {
  const workload one{1, std::max<std::int64_t>(std::int64_t(tokens) - 1, 1), 1, L};
  const footprint req =
      L.single() ? memory_footprint(m, one) : rank_footprint(m, one, stage_of(m, s, L.pp), 1, 1);
  return req.kv_cache + req.state;
}

/// With speculation the draft's weights come out of the pool and its cache is held beside the
/// target's.
inline serving_memory memory_of(const model_spec& m, const hardware& hw, const worker_pool& w,
                                std::int64_t isl, std::int64_t osl, const speculation& spec = {}) {
  const serving_params& sp = hw.timing.serving;
  const double held = sp.reserve_final_length ? double(isl + osl) : double(isl) + double(osl) / 2;
  const double pages = std::ceil(held / sp.block_tokens) * sp.block_tokens;
  const auto budget = std::int64_t(budget_of(hw, w));
  serving_memory best{};
  bool first = true;
  for (int s = 0; s < w.L.pp; ++s) {
    const stage_span st = stage_of(m, s, w.L.pp);
    const workload full{1, std::max<std::int64_t>(budget, 1), 1, w.L};
    footprint base = w.L.single() ? memory_footprint(m, full) : rank_footprint(m, full, st, 1, 1);
    base.kv_cache = base.state = 0 * byte;
    serving_memory mem{
        .gpu = base, .per_request = request_bytes(m, w.L, s, pages), .pool = {}, .admitted = 0, .stage = s};
    mem.pool = hw.capacity * sp.memory_fraction - base.weights - base.activations - base.buffers;
    if (spec.k > 0) {
      const model_spec d = draft_of(m, spec);
      mem.pool -= draft_weight_bytes(d, !spec.draft, w.L);
      mem.per_request += request_bytes(d, w.L, 0, pages);
    }
    mem.admitted = mem.pool.value() <= 0         ? 0
                   : mem.per_request.value() > 0 ? std::floor(mem.pool.value() / mem.per_request.value())
                                                 : 1e18;
    if (first || mem.admitted < best.admitted) best = mem;
    first = false;
  }
  return best;
}

/// The steady state of continuous batching with chunked prefill on one worker (per dp rank):
/// n = min(requests of the rank, max_batch, what its memory admits) run, the rest wait; when
/// the slots bind (requests >= slots), queued_requests more wait too (see serving_params).
/// Each iteration runs the decode token of every decoding request and, within the token budget
/// B (max_batch_tokens), prompt chunks of new requests; a prompt of I tokens takes
/// k_p = ceil(I / C) iterations, C = B - n_d the budget the decodes leave. A request's slot
/// cycles every Λ = max(osl - 1 + k_p, H) iterations, and the n I prompt tokens of a cycle
/// fill H = ceil(n I / C) mixed iterations (the prompts of requests that start together share
/// them: under a fixed concurrency the requests stay in groups that start together, as the
/// first burst sent them), each of n I / H tokens (n I / H / T_c sequences of T_c = min(I, C)
/// tokens at the mean context of a chunk, (k_p - 1) T_c / 2) with the decode tokens of the
/// n - n I / H / T_c requests not prefilling; the other Λ - H iterations decode only, each the
/// rest of the cycle's n (osl - 1) decode tokens spread over them (one request alone: its
/// prompt alone, then its steps alone). The budget counts n_d = n (osl - 1) / Λ decode
/// tokens an iteration. A request sees, in its osl - 1 decode
/// iterations, the H - k_p mixed iterations of the other groups:
///   TPOT = ((H - k_p) t_mixed + (osl - 1 - (H - k_p)) t_decode) / (osl - 1);
///   TTFT = request overhead + admission_wait t_mean + k_p t_mixed + queue wait
///          + burst (H - k_p) / 2 t_mixed   (the prompts of the groups before its own),
/// t_mean = (H t_mixed + (Λ - H) t_decode) / Λ; queued requests (beyond n) wait q / X with
/// X = n / (Λ t_mean) requests a second leaving the rank (Little's law).
/// With speculation (`spec`, its `draft`) a request's osl - 1 decode tokens take (osl - 1) / E
/// iterations, each of its decodes k + 1 tokens of the budget.
inline serving_iterations aggregated(const model_spec& m, const hardware& hw, const worker_pool& w,
                                     double per_rank, double admitted, std::int64_t isl, std::int64_t osl,
                                     overlap pol, const speculation& spec = {},
                                     const model_spec* draft = nullptr, serving_memo* memo = nullptr) {
  const serving_params& sp = hw.timing.serving;
  serving_iterations it{};
  const double e = spec.k > 0 ? tokens_per_step(spec) : 1, cost = spec.k + 1.0;
  const double budget = budget_of(hw, w), out = double(osl - 1) / e, in = double(isl);
  const double slots = slots_of(hw, w, admitted);
  it.running = std::max(1.0, std::min(per_rank, slots));
  it.waiting =
      std::max(0.0, per_rank - it.running) + (per_rank >= slots ? hw.timing.serving.queued_requests : 0);
  const double n = it.running;
  // n_d depends on k_p through Λ and k_p on n_d through C: two passes settle it (n_d <= n).
  double decoding = n * out / std::max(out + 1, 1.0);
  double h = 1;
  for (int pass_ = 0; pass_ < 3; ++pass_) {
    const double c = std::max(budget - decoding * cost, 1.0);
    it.chunk = std::min(in, c);
    it.chunks = std::ceil(in / c);
    h = std::ceil(n * in / c);
    it.cycle = std::max(out + it.chunks, h);
    decoding = n * out / it.cycle;
  }
  it.decoding = decoding;
  it.prefill_tokens = n * in / h;
  it.mixed_share = h / it.cycle;
  // decode tokens of a mixed iteration: the running requests but those whose prompts it runs;
  // of a decode-only iteration: the rest of the cycle's n (osl - 1) decode tokens
  const double prompts = it.prefill_tokens / it.chunk;
  it.decoding_mixed = std::clamp(n - prompts, 0.0, n);
  it.decoding_light =
      it.cycle > h ? std::clamp((n * out - h * it.decoding_mixed) / (it.cycle - h), 0.0, n) : 0;
  const double context = (it.chunks - 1) * it.chunk / 2;
  it.mixed = iteration(m, hw, w.L,
                       {.prefill_seqs = prompts,
                        .chunk = it.chunk,
                        .context = context,
                        .decoding = it.decoding_mixed,
                        .isl = isl,
                        .osl = osl,
                        .k = spec.k,
                        .draft = draft},
                       pol, memo);
  it.decode = iteration(
      m, hw, w.L,
      {.decoding = std::max(it.decoding_light, 1.0), .isl = isl, .osl = osl, .k = spec.k, .draft = draft},
      pol, memo);
  it.mixed_time = it.mixed.time + sp.iteration_overhead;
  it.decode_time = it.decode.time + sp.iteration_overhead;
  return it;
}

}  // namespace detail

/// Checks a serving workload: lengths, concurrency, workers, and each pool's layout on the
/// model and part (check_layout). `simulated`: the simulator runs it, which models a prefill
/// pool's batch limits (the closed form refuses them). Throws input_error.
inline void check_serving(const model_spec& m, const hardware& hw, const serving_workload& s,
                          bool simulated = false) {
  if (s.isl < 1 || s.osl < 2 || s.isl > max_tokens || s.osl > max_tokens)
    throw input_error(
        fmt::format("serving: isl ({}) must be at least 1 and osl ({}) at least 2 (a TPOT needs a "
                    "second token), each at most {}",
                    s.isl, s.osl, max_tokens));
  if (!(s.concurrency >= 1) || s.concurrency > 1e9)
    throw input_error(fmt::format("serving: concurrency must be from 1 to 1e9, not {}", s.concurrency));
  const auto pool = [&](const worker_pool& w, const char* what) {
    if (w.workers < 1 || w.workers > max_parallel)
      throw input_error(
          fmt::format("serving: {} workers must be from 1 to {}, not {}", what, max_parallel, w.workers));
    for (auto [key, v] : {std::pair{"max batch", w.max_batch}, {"max batch tokens", w.max_batch_tokens}})
      if (v && !(*v >= 1 && *v <= double(max_tokens)))
        throw input_error(
            fmt::format("serving: {} {} must be from 1 to {}, not {}", what, key, max_tokens, *v));
    check_layout(m, hw, workload{1, s.isl, s.osl, w.L});
    if (double(w.L.tp) * w.L.pp * w.L.dp * w.workers > max_parallel)
      throw input_error(
          fmt::format("serving: the {} pool's {} workers of tp {} pp {} dp {} are more than {} GPUs", what,
                      w.workers, w.L.tp, w.L.pp, w.L.dp, max_parallel));
    check_supported(m, hw, workload{1, s.isl, s.osl, w.L});
  };
  if (s.disaggregated) {
    pool(s.prefill, "prefill");
    pool(s.decode, "decode");
    // A prefill worker runs each prompt whole, one per dp rank at a time (serve_disaggregated):
    // its batch and token limits would change nothing, so they are refused, not ignored.
    if (!simulated && (s.prefill.max_batch || s.prefill.max_batch_tokens))
      throw input_error(
          "serving: not modelled: a prefill pool's max batch and max batch tokens (a prefill worker runs "
          "each prompt whole, one per dp rank at a time)");
  } else {
    pool(s.agg, "aggregated");
  }
  if (s.speculative.k > 0) {
    const model_spec d = draft_of(m, s.speculative);
    for (const worker_pool* w : s.disaggregated ? std::vector{&s.prefill, &s.decode} : std::vector{&s.agg}) {
      check_speculation(s.speculative, workload{1, s.isl, s.osl, w->L});
      check_layout(d, hw, workload{1, s.isl, s.osl, w->L});
    }
  }
}

/// Seconds to send one request's KV cache (and state) from a prefill worker to a decode
/// worker: every GPU of the prefill worker sends its share at once,
///   bytes / (GPUs of the prefill worker x link bandwidth x all_to_all efficiency) + latency,
/// on the scale-up link when both workers' GPUs fit in one scale-up domain, else on the
/// scale-out network (as NIXL or Mooncake move it over RDMA). The bytes are the whole model's
/// cache of isl tokens (every layer, every KV head once).
inline seconds kv_transfer(const model_spec& m, const hardware& hw, const serving_workload& s) {
  const footprint one = memory_footprint(m, workload{1, s.isl - 1, 1, {}});  // isl tokens cached
  const bytes b = one.kv_cache + one.state;
  const auto& up = hw.interconnect.scale_up;
  const auto& out = hw.interconnect.scale_out;
  const int span = s.prefill.L.gpus() + s.decode.L.gpus();
  const std::optional<link>& l = up && span <= up->gpus ? up : out ? out : up;
  if (!l) return 0 * second;
  const double eff = hw.timing.collectives.of(collective::all_to_all);
  return b / (l->bandwidth * double(s.prefill.L.gpus()) * eff) + l->latency + hw.timing.collectives.overhead;
}

/// TTFT, TPOT and throughput of a deployment in steady state under the stack's timing (see
/// detail::aggregated for continuous batching; disaggregated below).
/// Disaggregated: the decode workers run only decode iterations of min(requests, max_batch,
/// admitted) per dp rank; a prefill worker runs the prompts of one request per dp rank at a
/// time (a batch of one prompt each), each taking t_p; requests reach the prefill workers at
/// X = concurrency / e2e a second (the closed loop), so a prefill worker is busy
/// rho = X t_p / workers of the time and a prompt waits rho t_p / (2 (1 - rho)) for it
/// (M/D/1: arrivals at random, fixed service time); TTFT = request overhead + wait + t_p +
/// KV transfer, and X solves X (TTFT(X) + (osl - 1) TPOT) = concurrency (bisection).
namespace detail {

/// Aggregated serving (serve()): TPOT is the mean iteration a request sees while decoding, mixed
/// iterations while prompts run beside it; TTFT the request overhead, the wait for admission and
/// a slot (Little's law on the running requests), the burst of prompts and its own chunks.
inline void serve_aggregated(const model_spec& m, const hardware& hw, const serving_workload& s, overlap pol,
                             serving_result& r, serving_memo* memo = nullptr) {
  const serving_params& sp = hw.timing.serving;
  const double out = double(s.osl - 1), per_rank = s.concurrency / (s.agg.workers * s.agg.L.dp);
  const std::optional<model_spec> draft = draft_if(m, s.speculative);
  serving_iterations it = aggregated(m, hw, s.agg, per_rank, r.memory.admitted, s.isl, s.osl, pol,
                                     s.speculative, draft ? &*draft : nullptr, memo);
  // a request's decode: out / E iterations (speculation's E tokens a step), seen of them mixed
  const double steps = out / (s.speculative.k > 0 ? tokens_per_step(s.speculative) : 1);
  const double seen = std::clamp(it.cycle * it.mixed_share - it.chunks, 0.0, steps);
  r.tpot = (seen * it.mixed_time + (steps - seen) * it.decode_time) / out;
  const seconds mean = (it.mixed_share * it.mixed_time + (1 - it.mixed_share) * it.decode_time);
  const double leaving = it.running / (it.cycle * mean.value());
  r.wait = sp.admission_wait * mean + (it.waiting / leaving) * second;
  const double burst_wait = sp.burst * std::max(0.0, it.mixed_share * it.cycle - it.chunks) / 2;
  r.wait += burst_wait * it.mixed_time;
  r.ttft = sp.request_overhead + r.wait + it.chunks * it.mixed_time;
  r.memory.gpu.kv_cache = r.memory.per_request * it.running;
  r.iterations = it;
  if (it.waiting > 0)
    r.notes.push_back({.what = serving_note::kind::slots_wait,
                       .waiting = it.waiting,
                       .binding = slot_limit_of(hw, s.agg, r.memory.admitted, per_rank)});
}

/// Disaggregated serving (serve()): the decode pool's iterations of its running requests set TPOT;
/// the prefill pool is an M/D/1 queue of whole prompts (TTFT = overhead + t_p (1 + rho / (2 (1 -
/// rho))) + the KV transfer), at the request rate x that closes the loop, x (TTFT + (osl - 1) TPOT)
/// = concurrency (bisection); requests beyond the decode slots wait for one (Little's law).
inline void serve_disaggregated(const model_spec& m, const hardware& hw, const serving_workload& s,
                                overlap pol, serving_result& r, serving_memo* memo = nullptr) {
  const serving_params& sp = hw.timing.serving;
  const worker_pool& dec = s.decode;
  const double out = double(s.osl - 1), per_rank = s.concurrency / (dec.workers * dec.L.dp);
  serving_iterations d{};
  const double slots = slots_of(hw, dec, r.memory.admitted);
  d.running = std::max(1.0, std::min(per_rank, slots));
  d.waiting = std::max(0.0, per_rank - d.running) + (per_rank >= slots ? sp.queued_requests : 0);
  d.decoding = d.decoding_light = d.running;
  const std::optional<model_spec> draft = draft_if(m, s.speculative);
  const double e = s.speculative.k > 0 ? tokens_per_step(s.speculative) : 1;
  d.decode = iteration(m, hw, dec.L,
                       {.decoding = d.running,
                        .isl = s.isl,
                        .osl = s.osl,
                        .k = s.speculative.k,
                        .draft = draft ? &*draft : nullptr},
                       pol, memo);
  d.decode_time = d.decode.time + sp.iteration_overhead;
  d.cycle = out / e;
  r.tpot = d.decode_time / e;
  r.memory.gpu.kv_cache = r.memory.per_request * d.running;
  serving_iterations p{.running = 1, .chunk = double(s.isl), .prefill_tokens = double(s.isl)};
  p.mixed = iteration(m, hw, s.prefill.L,
                      {.prefill_seqs = 1,
                       .chunk = double(s.isl),
                       .isl = s.isl,
                       .osl = s.osl,
                       .k = s.speculative.k,
                       .draft = draft ? &*draft : nullptr},
                      pol, memo);
  p.mixed_time = p.mixed.time + sp.iteration_overhead;
  r.transfer = kv_transfer(m, hw, s);
  // prompts a second the prefill pool serves: each worker one per dp rank per t_p
  const double serve_rate = s.prefill.workers * s.prefill.L.dp / p.mixed_time.value();
  const auto ttft_at = [&](double x) {
    const double rho = x / serve_rate;
    return sp.request_overhead.value() + p.mixed_time.value() * (1 + rho / (2 * (1 - rho))) +
           r.transfer.value();
  };
  const double decode_time = out * r.tpot.value();
  double lo = 0, hi = serve_rate * (1 - 1e-9);
  for (int i = 0; i < 200; ++i) {
    const double x = (lo + hi) / 2;
    const bool last = x == lo || x == hi;  // no double between them: after this step, lo stays
    (x * (ttft_at(x) + decode_time) < s.concurrency ? lo : hi) = x;
    if (last) break;
  }
  r.ttft = ttft_at(lo) * second;
  r.wait = (ttft_at(lo) - sp.request_overhead.value() - p.mixed_time.value() - r.transfer.value()) * second;
  if (d.waiting > 0) {  // requests beyond the decode slots wait for one: Little's law on the decode pool
    const double leaving = d.running / (out * r.tpot.value());
    r.wait += (d.waiting / leaving) * second;
    r.ttft += (d.waiting / leaving) * second;
    r.notes.push_back({.what = serving_note::kind::decode_slots_wait, .waiting = d.waiting});
  }
  r.iterations = d;
  r.prefill_iterations = p;
}

/// The deployment's mean power and joules per output token (serving_result): each dp rank of a
/// pool runs its iterations back to back, tp GPUs of each stage each running the rank's pass
/// (phase_estimate::dynamic_j: one GPU of every stage), so a rank's ops draw
/// tp x dynamic_j / t_iteration on top of its GPUs' idle power (gpus_power).
/// Aggregated: over a slot's cycle, H mixed and Lambda - H decode iterations. Disaggregated: the
/// decode pool's decode iterations; the prefill pool idles but for the prompts it runs, X a
/// second (requests/s = tokens_per_s / osl), each tp x dynamic_j of its prompt pass.
/// J per output token = power / tokens_per_s.
inline void serving_energy(const hardware& hw, const serving_workload& s, serving_result& r) {
  const serving_iterations& it = r.iterations;
  const auto rank_w = [&](const worker_pool& w, double dynamic_j, seconds t) {
    return double(w.workers) * w.L.dp * w.L.tp * dynamic_j / t.value();
  };
  double power = 0;
  bool capped = false;
  if (!s.disaggregated) {
    const double h = it.mixed_share * it.cycle, light = it.cycle - h;
    const double dyn = h * it.mixed.dynamic_j + light * it.decode.dynamic_j;
    const seconds t = h * it.mixed_time + light * it.decode_time;
    std::tie(power, capped) = gpus_power(hw, s.agg.gpus(), rank_w(s.agg, dyn, t));
  } else {
    const auto [dec, dec_cap] =
        gpus_power(hw, s.decode.gpus(), rank_w(s.decode, it.decode.dynamic_j, it.decode_time));
    const double prompts = r.tokens_per_s / double(s.osl);
    const double pre_dyn = prompts * s.prefill.L.tp * r.prefill_iterations->mixed.dynamic_j;
    const auto [pre, pre_cap] = gpus_power(hw, s.prefill.gpus(), pre_dyn);
    power = dec + pre, capped = dec_cap || pre_cap;
  }
  r.power_w = power;
  r.j_per_output_token = power / r.tokens_per_s;
  r.at_tdp = capped;
}

}  // namespace detail

/// A serving deployment at a concurrency: memory first (what one request and the pool hold),
/// then the aggregated or disaggregated steady state (detail::serve_aggregated,
/// serve_disaggregated), then end to end and throughput by Little's law:
/// e2e = TTFT + (osl - 1) TPOT, tokens/s = concurrency osl / e2e.
inline serving_result serve(const model_spec& m, const hardware& hw, const serving_workload& s,
                            std::optional<overlap> policy = std::nullopt, serving_memo* memo = nullptr) {
  if (!memo || !memo->checked) check_serving(m, hw, s);
  if (memo) memo->checked = true;
  const overlap pol = policy.value_or(hw.timing.overlap);
  serving_result r{.gpus = s.gpus()};
  if (!hw.timing.serving.stated) r.notes.push_back({.what = serving_note::kind::engine_defaults});
  const worker_pool& dec = s.disaggregated ? s.decode : s.agg;
  const auto memory = [&](std::optional<serving_memory>* kept, const worker_pool& w, std::int64_t osl) {
    if (memo && *kept) return **kept;
    const serving_memory got = detail::memory_of(m, hw, w, s.isl, osl, s.speculative);
    if (memo) *kept = got;
    return got;
  };
  r.memory = memory(memo ? &memo->memory : nullptr, dec, s.osl);
  r.max_concurrency = r.memory.admitted * dec.L.dp * dec.workers;
  r.fits = r.memory.admitted >= 1;
  if (s.disaggregated) {
    r.prefill_memory = memory(memo ? &memo->prefill_memory : nullptr, s.prefill, 1);
    r.fits = r.fits && r.prefill_memory->admitted >= 1;
  }
  if (!r.fits) {
    r.notes.push_back({.what = serving_note::kind::request_too_large});
    return r;
  }
  s.disaggregated ? detail::serve_disaggregated(m, hw, s, pol, r, memo)
                  : detail::serve_aggregated(m, hw, s, pol, r, memo);
  r.e2e = r.ttft + double(s.osl - 1) * r.tpot;
  r.tokens_per_s_user = 1 / r.tpot.value();
  r.tokens_per_s = s.concurrency * double(s.osl) / r.e2e.value();
  r.tokens_per_s_gpu = r.tokens_per_s / r.gpus;
  if (hw.energy) detail::serving_energy(hw, s, r);
  return r;
}

}  // namespace roofline
