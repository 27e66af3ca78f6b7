// The engines' scheduling steps and the iteration clock of the simulator (sim_detail.hpp).
#include <algorithm>
#include <cmath>

#include "roofline/serving/sim_detail.hpp"

namespace roofline::detail {

double kv_sizes::grow(std::size_t pages) {
  while (pages_.size() < pages) {
    const double tokens = double(pages_.size() + 1) * block_;
    pages_.push_back(request_bytes(*m_, L_, stage_, tokens).value() +
                     (draft_ ? request_bytes(*draft_, L_, 0, tokens).value() : 0));
  }
  return pages_[pages - 1];
}

void find_prefix(const sim_rank& rank, sim_request& r, const sim_pool_rules& rules) {
  if (rules.decode_only || r.held > 0 || (rules.hit_rate <= 0 && rules.shared_tokens <= 0)) return;
  const bool shared = rank.prefix_held && rules.shared_tokens > 0;
  double found = 0;
  if (shared || rules.shared_tokens <= 0) {
    const double start = shared ? double(rules.shared_tokens) : 0;
    found = start + (r.preemptions == 0 ? rules.hit_rate * double(r.isl - start) : 0);
  }
  const auto whole = std::int64_t(std::floor(found / double(rules.block))) * rules.block;
  r.computed = std::min(whole, r.isl - 1);
  r.shared = shared ? rules.shared_bytes : 0;
  if (r.preemptions == 0) r.found = r.computed;
}

void keep_prefix(sim_rank& rank, sim_request& r, const sim_pool_rules& rules) {
  if (rank.prefix_held || rules.shared_tokens <= 0 || rules.decode_only || r.computed < rules.shared_tokens)
    return;
  rank.prefix_held = true;
  r.held -= rules.shared_bytes;  // the rank holds them now, for it and every later request
  r.shared = rules.shared_bytes;
}

namespace {

/// Grows r's allocation to hold `tokens` tokens; false (nothing changed) when the rank lacks
/// the memory.
bool allocate(sim_rank& rank, sim_request& r, double tokens, kv_sizes& kv) {
  const double need = r.own(kv, tokens) - r.held;
  if (need > rank.free) return false;
  if (need > 0) rank.free -= need, r.held += need;
  return true;
}

/// Frees what r holds and sends it back to the front of the queue to be recomputed: its prompt
/// and the tokens it had generated run again as one prompt (vLLM's and SGLang's recompute).
void preempt(sim_rank& rank, sim_request& r, int id, std::int64_t& preempted) {
  rank.free += r.held;
  r.held = 0;
  r.shared = 0;
  r.computed = 0;
  ++r.preemptions;
  ++preempted;
  rank.waiting.push_front(id);
}

/// vLLM v1 (vllm/v1/core/sched/scheduler.py, Scheduler.schedule) and TensorRT-LLM's inflight
/// batching (its capacity and micro-batch schedulers): one token budget for the iteration.
/// The running requests first, in the order they were admitted, each its ready tokens within
/// what is left of the budget (a decode 1, a prompt in progress its next chunk); where its
/// pages cannot grow, the last admitted running request is preempted (recomputed later),
/// itself if it is the last. Then, only if nothing was preempted, waiting requests in order
/// while the budget, max_batch and memory allow, each a chunk of what the budget leaves (or
/// its whole prompt when chunking is off, else it waits). With `reserve` (TensorRT-LLM's
/// GUARANTEED_NO_EVICT) a request is admitted only with the pages of its final length
/// isl + osl, and so is never preempted.
sim_batch step_mixed(sim_rank& rank, std::vector<sim_request>& reqs, const sim_pool_rules& rules,
                     kv_sizes& kv, std::int64_t& preempted) {
  sim_batch batch;
  auto budget = std::int64_t(rules.budget);
  bool evicted = false;
  for (std::size_t i = 0; i < rank.running.size() && budget > 0;) {
    const int id = rank.running[i];
    sim_request& r = reqs[std::size_t(id)];
    // a decode with speculation verifies k + 1 tokens, whole or not at all; they take as many
    // tokens of the budget and pages for them (the rejected ones' slots are reused)
    const bool spec = r.decoding() && rules.decode_cost > 1;
    if (spec && rules.decode_cost > budget) break;
    const std::int64_t n = std::min(r.ready(), budget), cost = spec ? rules.decode_cost : n;
    bool gone = false;
    while (!allocate(rank, r, double(r.computed + cost), kv)) {
      const int victim = rank.running.back();
      rank.running.pop_back();
      preempt(rank, reqs[std::size_t(victim)], victim, preempted);
      evicted = true;
      if (victim == id) {
        gone = true;
        break;
      }
    }
    if (gone) break;
    batch.emplace_back(id, n);
    budget -= cost;
    ++i;
  }
  if (evicted) return batch;
  while (!rank.waiting.empty() && budget > 0 && double(rank.running.size()) < rules.max_batch) {
    const int id = rank.waiting.front();
    sim_request& r = reqs[std::size_t(id)];
    find_prefix(rank, r, rules);
    const std::int64_t ready = r.ready();
    if (!rules.chunked && ready > budget) break;
    const std::int64_t n = std::min(ready, budget);
    const double hold = rules.reserve ? double(r.isl + r.osl) : double(r.computed + n);
    if (!allocate(rank, r, hold, kv)) break;
    rank.waiting.pop_front();
    rank.running.push_back(id);
    batch.emplace_back(id, n);
    budget -= n;
  }
  return batch;
}

/// SGLang (python/sglang/srt/managers/scheduler.py, get_next_batch_to_run; schedule_policy.py,
/// PrefillAdder): a prefill batch whenever one can be formed, else a decode batch of every
/// running request; the two never mix (enable_mixed_chunk is off by default). A prefill batch
/// takes the request being chunked first, then waiting ones in order while the budget
/// (chunked_prefill_size) and max_batch allow and the memory left after reserving, for every
/// running request, its remaining output times the new-token ratio covers the request's prompt
/// plus min(osl, 4096) x the ratio; a prompt larger than the budget left is chunked, one at a
/// time. Before a decode batch, while the memory lacks a token for each running request, the
/// request with the fewest output tokens is retracted (recomputed later) and the ratio goes
/// back to its start; after each decode batch the ratio decays linearly to its minimum.
sim_batch step_sglang(sim_rank& rank, std::vector<sim_request>& reqs, const sim_pool_rules& rules,
                      kv_sizes& kv, std::int64_t& preempted) {
  sim_batch batch;
  auto budget = std::int64_t(rules.budget);
  if (rank.chunked >= 0) {
    sim_request& r = reqs[std::size_t(rank.chunked)];
    const std::int64_t n = std::min(r.ready(), budget);
    if (allocate(rank, r, double(r.computed + n), kv)) {
      batch.emplace_back(rank.chunked, n);
      budget -= n;
      if (n == r.ready()) rank.chunked = -1;
    }
  }
  double reserved = 0;
  const double per_token = kv.per_token();
  for (int id : rank.running) {
    const sim_request& r = reqs[std::size_t(id)];
    reserved += double(r.osl - r.generated) * rank.ratio * per_token;
  }
  double left = rank.free - reserved;
  while (rank.chunked < 0 && !rank.waiting.empty() && budget > 0 &&
         double(rank.running.size()) < rules.max_batch) {
    const int id = rank.waiting.front();
    sim_request& r = reqs[std::size_t(id)];
    find_prefix(rank, r, rules);
    const std::int64_t ready = r.ready();
    const double want = r.own(kv, double(r.isl + r.generated)) +
                        double(std::min<std::int64_t>(r.osl, 4096)) * rank.ratio * per_token;
    if (want > left || (!rules.chunked && ready > budget)) break;
    const std::int64_t n = std::min(ready, budget);
    if (!allocate(rank, r, double(r.computed + n), kv)) break;
    left -= want;
    rank.waiting.pop_front();
    rank.running.push_back(id);
    batch.emplace_back(id, n);
    budget -= n;
    if (n < ready) rank.chunked = id;
  }
  if (!batch.empty()) return batch;
  // a decode batch: every running request with its prompt done
  for (;;) {
    double need = 0;
    for (int id : rank.running) {
      const sim_request& r = reqs[std::size_t(id)];
      if (r.decoding()) need += std::max(0.0, r.own(kv, double(r.computed + rules.decode_cost)) - r.held);
    }
    if (need <= rank.free || rank.running.size() <= 1) break;
    auto victim = std::min_element(rank.running.begin(), rank.running.end(), [&](int a, int b) {
      const sim_request &x = reqs[std::size_t(a)], &y = reqs[std::size_t(b)];
      return x.generated != y.generated ? x.generated < y.generated : x.isl > y.isl;
    });
    const int id = *victim;
    rank.running.erase(victim);
    if (rank.chunked == id) rank.chunked = -1;
    preempt(rank, reqs[std::size_t(id)], id, preempted);
    rank.ratio = rules.ratio_init;
  }
  for (int id : rank.running) {
    sim_request& r = reqs[std::size_t(id)];
    if (r.decoding() && allocate(rank, r, double(r.computed + rules.decode_cost), kv))
      batch.emplace_back(id, 1);
  }
  if (!batch.empty()) rank.ratio = std::max(rules.ratio_min, rank.ratio - rules.ratio_decay);
  return batch;
}

}  // namespace

sim_batch schedule_step(sim_rank& rank, std::vector<sim_request>& reqs, const sim_pool_rules& rules,
                        kv_sizes& kv, std::int64_t& preempted) {
  if (rules.policy == serving_params::scheduler::sglang && !rules.decode_only)
    return step_sglang(rank, reqs, rules, kv, preempted);
  return step_mixed(rank, reqs, rules, kv, preempted);
}

iteration_clock::shape iteration_clock::of(const sim_batch& b, const std::vector<sim_request>& reqs) {
  shape s;
  double work = 0;
  for (const auto& [id, n] : b) {
    const sim_request& r = reqs[std::size_t(id)];
    if (r.decoding()) {
      s.decodes += 1;
      s.decode_context += double(r.computed);
    } else {
      s.seqs += 1;
      s.tokens += double(n);
      work += double(n) * (double(r.computed) + (double(n) + 1) / 2);
    }
  }
  if (s.decodes > 0) s.decode_context /= s.decodes;
  if (s.seqs > 0) {
    // the cached context that gives equal chunks of the mean length the same attention work:
    // sum of n_i (c_i + (n_i + 1) / 2) = T (c + (T / S + 1) / 2)
    s.context = std::max(0.0, work / s.tokens - (s.tokens / s.seqs + 1) / 2);
  }
  return s;
}

iteration_clock::cost iteration_clock::exact_cost(const shape& s) {
  const pass pf{phase::prefill, s.seqs, s.seqs > 0 ? s.tokens / s.seqs : 1, s.context, 1};
  const pass plain{phase::decode, s.decodes, 1, s.decode_context, 1};
  const pass dc = k_ > 0 ? verify_pass(s.decodes, k_, s.decode_context) : plain;
  phase_estimate total{};
  for (int st = 0; st < L_.pp; ++st) {
    const stage_span span = stage_of(*m_, st, L_.pp);
    const rank_view rp{L_, span, L_.dp * s.tokens, false}, rd{L_, span, L_.dp * s.decodes * dc.tokens, false};
    total += estimate_mixed(*m_, *hw_, pf, dc, pol_, rp, rd);
  }
  if (k_ > 0 && draft_) total += draft_passes(*draft_, *hw_, k_, plain, pf, L_, pol_);  // one stage
  return {total.time.value(), total.dynamic_j};
}

namespace {
// the context grid: point 0 is 0, point k >= 1 is 2^((k - 1) / 8)
const std::vector<double> grid_points = [] {
  std::vector<double> g(1024);
  for (std::size_t k = 1; k < g.size(); ++k) g[k] = std::exp2(double(k - 1) / 8);
  return g;
}();
double grid(int k) {
  return std::size_t(k) < grid_points.size() ? grid_points[std::size_t(k)] : std::exp2(double(k - 1) / 8);
}
int below(double x) { return x < 1 ? 0 : 1 + int(std::floor(8 * std::log2(x))); }
}  // namespace

iteration_clock::cost iteration_clock::at(double seqs, double tokens, int pk, double decodes, int dk) {
  ++lookups;
  const key k{std::int64_t(seqs), std::int64_t(tokens), pk, std::int64_t(decodes), dk};
  if (auto it = cache_.find(k); it != cache_.end()) return it->second;
  ++misses;
  const cost c = exact_cost({seqs, tokens, grid(pk), decodes, grid(dk)});
  cache_.emplace(k, c);
  return c;
}

iteration_clock::cost iteration_clock::price(const shape& s) {
  const int pk = s.seqs > 0 ? below(s.context) : 0, dk = s.decodes > 0 ? below(s.decode_context) : 0;
  const auto frac = [](double x, int k) {
    const double lo = grid(k), hi = grid(k + 1);
    return std::clamp((x - lo) / (hi - lo), 0.0, 1.0);
  };
  const double fp = s.seqs > 0 ? frac(s.context, pk) : 0, fd = s.decodes > 0 ? frac(s.decode_context, dk) : 0;
  const auto t = [&](int dp, int dd) { return at(s.seqs, s.tokens, pk + dp, s.decodes, dk + dd); };
  const cost t00 = t(0, 0), t10 = fp > 0 ? t(1, 0) : t00, t01 = fd > 0 ? t(0, 1) : t00;
  const cost t11 = fp > 0 && fd > 0 ? t(1, 1) : (fp > 0 ? t10 : t01);
  const auto mix = [&](double cost::*f) {
    return (1 - fp) * ((1 - fd) * t00.*f + fd * t01.*f) + fp * ((1 - fd) * t10.*f + fd * t11.*f);
  };
  return {mix(&cost::time), mix(&cost::joules)};
}

}  // namespace roofline::detail
