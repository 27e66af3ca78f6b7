// The simulator's event loop and statistics (simulate.hpp): requests arrive, are routed to a
// dp rank, wait, run in the iterations their rank's scheduler gives them, and finish.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <random>

#include "roofline/serving/sim_detail.hpp"
#include "roofline/serving/simulate.hpp"

namespace roofline {

namespace {

using detail::gap_histogram;
using detail::sim_request;
using detail::stats_of;

struct sim_worker {
  int pool = 0;  ///< 0: aggregated or prefill, 1: decode
  std::vector<detail::sim_rank> ranks{};
  std::vector<detail::sim_batch> batches{};
  bool busy = false;
};

enum class event_kind { arrival, iteration_end, transfer_end, client_done };

struct event {
  double t;
  std::uint64_t order;
  event_kind what;
  int index;
  bool operator>(const event& o) const { return t != o.t ? t > o.t : order > o.order; }
};

class simulator {
 public:
  simulator(const model_spec& m, const hardware& hw, const serving_workload& s, const simulation_load& load,
            const simulation_options& opt);
  simulation_result run();

 private:
  struct pool_state {
    worker_pool w;
    detail::sim_pool_rules rules;
    serving_memory memory;
    detail::kv_sizes kv;
    detail::iteration_clock clock;
    int first_worker = 0, workers = 0;
  };
  pool_state make_pool(const worker_pool& w, bool prefill_only, bool decode_only);
  void share_prefix(pool_state& ps, std::int64_t longest);
  void push(double t, event_kind k, int i) { events_.push({t, order_++, k, i}); }
  void route(int id, int pool, double now);
  void start(int w, double now);
  double fast_forward(int w, double now);
  std::int64_t kv_steps(const sim_worker& w, pool_state& ps, std::int64_t most);
  bool admission_blocked(const detail::sim_rank& rank, pool_state& ps);
  void end_iteration(int w, double now);
  void emit(int id, int pool, double now, std::vector<int>& leaving, std::int64_t tokens = 1);
  std::int64_t accepted(const sim_request& r);
  double spent(double joules, double dur, const layout& L);
  void client_done(int id, double now);
  void account(const sim_worker& w, const pool_state& p, double now, double dur, double pre, double dec);
  simulation_result results() const;

  const model_spec& m_;
  const hardware& hw_;
  const serving_workload& s_;
  const simulation_load& load_;
  const simulation_options& opt_;
  overlap pol_;
  std::vector<sim_request> reqs_;
  std::vector<pool_state> pools_;
  std::vector<sim_worker> workers_;
  std::vector<int> to_start_;
  std::priority_queue<event, std::vector<event>, std::greater<>> events_;
  std::uint64_t order_ = 0;
  std::size_t issued_ = 0, rr_ = 0;
  double transfer_ = 0, overhead_ = 0;
  gap_histogram itl_;
  std::int64_t preempted_ = 0, iterations_ = 0;
  double busy_[3] = {0, 0, 0};  // prefill, decode, mixed
  double rank_time_ = 0, running_ = 0, waiting_ = 0, max_waiting_ = 0, kv_ = 0, max_kv_ = 0;
  std::vector<timeline_point> timeline_;
  std::int64_t in_system_ = 0;       // measured requests arrived and not yet seen finished by their client
  std::optional<model_spec> draft_;  // speculation's draft: a model, or an MTP head of the target
  std::mt19937_64 accept_rng_;
  double spec_steps_ = 0, spec_tokens_ = 0;  // decode steps of measured requests, tokens they emitted
  double dynamic_ = 0, last_end_ = 0;        // joules beyond idle on all GPUs; the last iteration's end
  bool capped_ = false;                      // an iteration asked for more than the TDP
  double in_system_area_ = 0, last_event_ = 0;
};

simulator::pool_state simulator::make_pool(const worker_pool& w, bool prefill_only, bool decode_only) {
  const serving_params& sp = hw_.timing.serving;
  // memory at the load's longest request: what the pool must hold for it
  std::int64_t isl = 1, osl = 1;
  for (const sim_request& r : reqs_) isl = std::max(isl, r.isl), osl = std::max(osl, r.osl);
  serving_memory mem = detail::memory_of(m_, hw_, w, isl, prefill_only ? 1 : osl, s_.speculative);
  detail::sim_pool_rules rules{.policy = sp.policy,
                               .budget = detail::budget_of(hw_, w),
                               .max_batch = detail::max_batch_of(hw_, w),
                               .chunked = sp.chunked_prefill,
                               .reserve = sp.reserve_final_length && !prefill_only,
                               .decode_only = decode_only};
  // SGLang's new-token ratio (server_args.py): starts at min(0.7 x conservativeness, 1), decays to
  // 0.14 x that over 600 decode batches
  rules.ratio_init = std::min(0.7 * sp.conservativeness, 1.0);
  rules.ratio_min = 0.14 * rules.ratio_init;
  rules.ratio_decay = (rules.ratio_init - rules.ratio_min) / 600;
  const model_spec* draft = draft_ ? &*draft_ : nullptr;
  if (draft) rules.decode_cost = s_.speculative.k + 1;  // the draft's weights: out of mem.pool
  pool_state ps{w, rules, mem, detail::kv_sizes(m_, w.L, mem.stage, sp.block_tokens, draft),
                detail::iteration_clock(m_, hw_, w.L, pol_)};
  ps.clock.speculate(draft, draft ? s_.speculative.k : 0);
  if (!decode_only) share_prefix(ps, isl + (prefill_only ? 1 : osl));
  return ps;
}

void simulator::share_prefix(pool_state& ps, std::int64_t longest) {
  const prefix_reuse& p = load_.prefix;
  detail::sim_pool_rules& rules = ps.rules;
  rules.block = std::max<std::int64_t>(1, std::int64_t(hw_.timing.serving.block_tokens));
  rules.hit_rate = p.hit_rate;
  if (p.shared <= 0) return;
  rules.shared_tokens = p.shared / rules.block * rules.block;
  if (rules.shared_tokens == 0) return;  // less than a page: nothing whole to share
  rules.shared_bytes = ps.kv.at(double(rules.shared_tokens));
  // pages shared between requests must be whole pages of one size up to the longest request: a
  // model whose KV cache is not (a window's or a chunk's bounded pages, recurrent state) is refused
  const auto b = double(rules.block);
  const double page = ps.kv.at(2 * b) - ps.kv.at(b), pages = std::ceil(double(longest) / b);
  const auto near = [](double x, double y) { return std::abs(x - y) <= 1e-9 * std::max(1.0, std::abs(y)); };
  if (!near(ps.kv.at(b), page) || !near(ps.kv.at(pages * b), pages * page))
    throw input_error(fmt::format(
        "simulate: a shared prefix: {}'s KV cache is not whole pages of one size up to this load's longest "
        "request (sliding-window, chunked or recurrent layers); sharing such pages between requests is not "
        "modelled (a prefix hit rate, whose pages each request holds, is)",
        m_.name));
}

simulator::simulator(const model_spec& m, const hardware& hw, const serving_workload& s,
                     const simulation_load& load, const simulation_options& opt)
    : m_(m), hw_(hw), s_(s), load_(load), opt_(opt), pol_(opt.policy.value_or(hw.timing.overlap)) {
  reqs_ = detail::requests_for(m, load);
  overhead_ = hw.timing.serving.request_overhead.value();
  if (s.speculative.k > 0) {  // checked with the deployment (check_serving)
    draft_ = draft_of(m, s.speculative);
    accept_rng_.seed(load.seed ^ 0x2545f4914f6cdd1dull);
  }
  // The client's side of a request (HTTP, tokenization, streaming back) varies from request to
  // request: exponential around the stack's request_overhead, from its own seeded stream (an
  // assumption; with one fixed value a closed loop of equal requests would stay in lockstep
  // forever, its users' prompts arriving together every cycle, which measured runs do not show)
  std::mt19937_64 g(load.seed ^ 0x9e3779b97f4a7c15ull);
  for (sim_request& r : reqs_)
    r.overhead = overhead_ > 0 ? std::exponential_distribution<double>(1 / overhead_)(g) : 0;
  if (s.disaggregated) {
    pools_.push_back(make_pool(s.prefill, true, false));
    pools_.push_back(make_pool(s.decode, false, true));
    serving_workload mean = s;
    std::int64_t isl = 0;
    for (const sim_request& r : reqs_) isl += r.isl;
    mean.isl = std::max<std::int64_t>(1, isl / std::int64_t(reqs_.size()));
    transfer_ = kv_transfer(m, hw, mean).value();
  } else {
    pools_.push_back(make_pool(s.agg, false, false));
  }
  for (std::size_t p = 0; p < pools_.size(); ++p) {
    pool_state& ps = pools_[p];
    if (ps.memory.pool.value() <= 0)
      throw input_error(
          fmt::format("simulate: the weights and activations of a {} worker{} leave no KV-cache memory "
                      "on its GPUs",
                      s.disaggregated ? (p == 0 ? "prefill" : "decode") : "serving",
                      draft_ ? fmt::format(" (with the draft {}'s)", draft_->name) : ""));
    for (const sim_request& r : reqs_) {
      const double need = ps.kv.at(double(p == 0 && s.disaggregated ? r.isl : r.isl + r.osl));
      if (need > ps.memory.pool.value())
        throw input_error(
            fmt::format("simulate: a request of {} + {} tokens needs {:.3g} GB of KV cache, more "
                        "than a rank's pool of {:.3g} GB",
                        r.isl, r.osl, need / 1e9, ps.memory.pool.value() / 1e9));
      if (!ps.rules.chunked && !ps.rules.decode_only && double(r.isl) > ps.rules.budget)
        throw input_error(
            fmt::format("simulate: a prompt of {} tokens is more than the token budget ({}) and "
                        "the stack does not chunk prompts (chunked_prefill: false)",
                        r.isl, ps.rules.budget));
    }
    ps.first_worker = int(workers_.size());
    ps.workers = ps.w.workers;
    for (int i = 0; i < ps.w.workers; ++i) {
      sim_worker w{.pool = int(p)};
      w.ranks.resize(std::size_t(ps.w.L.dp));
      for (detail::sim_rank& r : w.ranks)
        r.pool = r.free = ps.memory.pool.value(), r.ratio = ps.rules.ratio_init;
      w.batches.resize(w.ranks.size());
      workers_.push_back(std::move(w));
    }
  }
}

void simulator::route(int id, int pool, double now) {
  // to the dp rank with the fewest requests, running and waiting (round robin among equals)
  const pool_state& ps = pools_[std::size_t(pool)];
  const std::size_t ranks = std::size_t(ps.workers) * std::size_t(ps.w.L.dp);
  std::size_t best = 0, best_load = SIZE_MAX;
  for (std::size_t k = 0; k < ranks; ++k) {
    const std::size_t i = (rr_ + k) % ranks;
    const detail::sim_rank& r =
        workers_[std::size_t(ps.first_worker) + i / std::size_t(ps.w.L.dp)].ranks[i % std::size_t(ps.w.L.dp)];
    if (r.running.size() + r.waiting.size() < best_load)
      best = i, best_load = r.running.size() + r.waiting.size();
  }
  ++rr_;
  const std::size_t w = std::size_t(ps.first_worker) + best / std::size_t(ps.w.L.dp);
  workers_[w].ranks[best % std::size_t(ps.w.L.dp)].waiting.push_back(id);
  if (!workers_[w].busy) to_start_.push_back(int(w));
  (void)now;
}

bool simulator::admission_blocked(const detail::sim_rank& rank, pool_state& ps) {
  // Whether no waiting request can be admitted while the running ones only decode: their slots
  // are full; or (vLLM, TensorRT-LLM) the budget the decodes leave cannot take the first request
  // (whole, without chunking), or its first chunk's pages do not fit: the free memory only
  // shrinks while they decode. SGLang's admission loosens as its new-token ratio decays, so
  // there only full slots block it.
  const double running = double(rank.running.size());
  if (running >= ps.rules.max_batch) return true;
  if (ps.rules.policy == serving_params::scheduler::sglang && !ps.rules.decode_only) return false;
  const auto left = std::int64_t(ps.rules.budget - running * double(ps.rules.decode_cost));
  sim_request& r = reqs_[std::size_t(rank.waiting.front())];
  detail::find_prefix(rank, r, ps.rules);
  if (left <= 0 || (!ps.rules.chunked && r.ready() > left)) return true;
  const std::int64_t n = std::min(r.ready(), left);
  const double hold = ps.rules.reserve ? double(r.isl + r.osl) : double(r.computed + n);
  return r.own(ps.kv, hold) - r.held > rank.free;
}

std::int64_t simulator::kv_steps(const sim_worker& w, pool_state& ps, std::int64_t most) {
  // as many steps as the KV memory lets every request grow (pages on demand; reserved pages need
  // none): the need grows with the steps, so the largest that fits is found by bisection
  const auto fits = [&](std::int64_t steps) {
    for (const detail::sim_rank& rank : w.ranks) {
      double need = 0;
      for (int id : rank.running) {
        const sim_request& r = reqs_[std::size_t(id)];
        need += std::max(0.0, r.own(ps.kv, double(r.computed + steps)) - r.held);
      }
      if (need > rank.free) return false;
    }
    return true;
  };
  std::int64_t lo = 0, hi = most;
  while (lo < hi) {
    const std::int64_t mid = (lo + hi + 1) / 2;
    if (fits(mid))
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

double simulator::fast_forward(int wi, double now) {
  // Iterations that only decode the same requests, with nothing arriving before they end, run
  // in one step: their times at growing contexts, then every request advanced at once (the
  // result is the same as one at a time: no scheduling decision can change in between).
  sim_worker& w = workers_[std::size_t(wi)];
  pool_state& ps = pools_[std::size_t(w.pool)];
  if (draft_) return now;  // speculation: every step's tokens are drawn, one iteration at a time
  std::int64_t k = std::numeric_limits<std::int64_t>::max();
  std::vector<double> n(w.ranks.size()), context(w.ranks.size());
  for (std::size_t i = 0; i < w.ranks.size(); ++i) {
    const detail::sim_rank& rank = w.ranks[i];
    if (rank.chunked >= 0 || double(rank.running.size()) > ps.rules.budget) return now;
    if (!rank.waiting.empty() && !admission_blocked(rank, ps)) return now;
    for (int id : rank.running) {
      const sim_request& r = reqs_[std::size_t(id)];
      if (!r.decoding()) return now;
      k = std::min(k, r.osl - r.generated - 1);  // the finishing step goes the usual way
      context[i] += double(r.computed);
    }
    n[i] = double(rank.running.size());
    if (n[i] > 0) context[i] /= n[i];
  }
  if (k == std::numeric_limits<std::int64_t>::max()) return now;  // nothing running
  const double horizon = events_.empty() ? INFINITY : events_.top().t;
  const double overhead = hw_.timing.serving.iteration_overhead.value();
  // the iterations' times while they end before the next event
  std::vector<double> durations, step_joules;
  for (double t = now; std::int64_t(durations.size()) < k;) {
    double dur = 0;
    std::vector<double> joules;
    for (std::size_t i = 0; i < n.size(); ++i)
      if (n[i] > 0) {
        const auto c =
            ps.clock.price({.decodes = n[i], .decode_context = context[i] + double(durations.size())});
        dur = std::max(dur, c.time);
        joules.push_back(c.joules);
      }
    dur += overhead;
    if (t + dur > horizon) break;
    double j = 0;
    for (double x : joules) j += spent(x, dur, ps.w.L);
    durations.push_back(dur);
    step_joules.push_back(j);
    t += dur;
  }
  const std::int64_t done = kv_steps(w, ps, std::int64_t(durations.size()));
  std::vector<std::int64_t> measured(w.ranks.size(), 0);
  double dec = 0;
  for (std::size_t i = 0; i < w.ranks.size(); ++i) {
    for (int id : w.ranks[i].running) measured[i] += id >= load_.warmup ? 1 : 0;
    dec += n[i];
  }
  double t = now;
  for (std::int64_t d = 0; d < done; ++d) {
    for (std::int64_t m : measured) itl_.add(durations[std::size_t(d)], m);
    account(w, ps, t, durations[std::size_t(d)], 0, dec);
    dynamic_ += step_joules[std::size_t(d)];
    t += durations[std::size_t(d)];
  }
  if (done == 0) return now;
  last_end_ = std::max(last_end_, t);
  for (detail::sim_rank& rank : w.ranks) {
    for (int id : rank.running) {
      sim_request& r = reqs_[std::size_t(id)];
      r.computed += done, r.generated += done, r.last = t;
      const double grown = r.own(ps.kv, double(r.computed)) - r.held;
      if (grown > 0) rank.free -= grown, r.held += grown;
    }
    rank.ratio = std::max(ps.rules.ratio_min, rank.ratio - double(done) * ps.rules.ratio_decay);
  }
  return t;
}

void simulator::start(int wi, double now) {
  now = fast_forward(wi, now);
  sim_worker& w = workers_[std::size_t(wi)];
  pool_state& ps = pools_[std::size_t(w.pool)];
  double dur = 0, pre = 0, dec = 0;
  std::vector<double> joules;
  for (std::size_t r = 0; r < w.ranks.size(); ++r) {
    w.batches[r] = detail::schedule_step(w.ranks[r], reqs_, ps.rules, ps.kv, preempted_);
    if (w.batches[r].empty()) continue;
    // ranks run in step: the iteration lasts as long as its slowest rank's part
    const auto shape = detail::iteration_clock::of(w.batches[r], reqs_);
    const auto c = ps.clock.price(shape);
    dur = std::max(dur, c.time);
    joules.push_back(c.joules);
    pre += shape.tokens, dec += shape.decodes;
  }
  if (pre + dec == 0) {
    w.busy = false;
    return;
  }
  dur += hw_.timing.serving.iteration_overhead.value();
  for (double j : joules) dynamic_ += spent(j, dur, ps.w.L);
  last_end_ = std::max(last_end_, now + dur);
  account(w, ps, now, dur, pre, dec);
  w.busy = true;
  push(now + dur, event_kind::iteration_end, wi);
}

void simulator::account(const sim_worker& w, const pool_state& ps, double now, double dur, double pre,
                        double dec) {
  ++iterations_;
  busy_[pre > 0 && dec > 0 ? 2 : pre > 0 ? 0 : 1] += dur;
  double running = 0, waiting = 0, used = 0;
  for (const detail::sim_rank& r : w.ranks) {
    running += double(r.running.size()), waiting += double(r.waiting.size());
    const double use = 1 - r.free / r.pool;
    used += use;
    running_ += dur * double(r.running.size()), waiting_ += dur * double(r.waiting.size());
    kv_ += dur * use, rank_time_ += dur;
    max_waiting_ = std::max(max_waiting_, double(r.waiting.size()));
    max_kv_ = std::max(max_kv_, use);
  }
  if (opt_.timeline && &w == &workers_.front())
    timeline_.push_back({.start = now,
                         .duration = dur,
                         .prefill_tokens = pre,
                         .decode_tokens = dec,
                         .running = running,
                         .waiting = waiting,
                         .kv_use = used / double(w.ranks.size())});
  (void)ps;
}

double simulator::spent(double joules, double dur, const layout& L) {
  // a rank's iteration: `joules` on one GPU of each stage beyond idle, on each of its tp GPUs;
  // at most the TDP less idle over the iteration (estimate/energy.hpp's cap)
  if (!hw_.energy) return 0;
  const double cap = L.pp * (hw_.tdp_watts - hw_.energy->idle_w) * dur;
  if (hw_.tdp_watts > 0 && joules > cap) joules = cap, capped_ = true;
  return L.tp * joules;
}

std::int64_t simulator::accepted(const sim_request& r) {
  const speculation& sp = s_.speculative;
  std::int64_t a = 0;
  std::uniform_real_distribution<double> u(0, 1);
  while (a < sp.k && u(accept_rng_) < acceptance_at(sp, int(a + 1))) ++a;
  return std::min(a + 1, r.osl - r.generated);
}

void simulator::emit(int id, int pool, double now, std::vector<int>& leaving, std::int64_t tokens) {
  sim_request& r = reqs_[std::size_t(id)];
  r.generated += tokens;
  if (r.generated == 1) {
    // disaggregated, the first token reaches the client with the decode worker, after the KV
    // transfer (as the closed form counts it)
    if (!(s_.disaggregated && pool == 0 && r.osl > 1)) r.first = now;
  } else if (std::size_t(id) >= std::size_t(load_.warmup)) {
    itl_.add(now - r.last);
  }
  r.last = now;
  if (r.generated >= r.osl) {
    r.done = now;
    leaving.push_back(id);
    push(now + r.overhead, event_kind::client_done, id);
  } else if (s_.disaggregated && pool == 0) {
    leaving.push_back(id);  // the prompt is done: its KV cache goes to a decode worker
    push(now + transfer_, event_kind::transfer_end, id);
  }
}

void simulator::end_iteration(int wi, double now) {
  sim_worker& w = workers_[std::size_t(wi)];
  for (std::size_t k = 0; k < w.ranks.size(); ++k) {
    detail::sim_rank& rank = w.ranks[k];
    std::vector<int> leaving;
    for (const auto& [id, n] : w.batches[k]) {
      sim_request& r = reqs_[std::size_t(id)];
      if (draft_ && r.decoding()) {
        // the verified context: the token before and the accepted drafts; as many emitted
        const std::int64_t e = accepted(r);
        r.computed += e;
        if (id >= load_.warmup) spec_steps_ += 1, spec_tokens_ += double(e);
        emit(id, w.pool, now, leaving, e);
        continue;
      }
      r.computed += n;
      detail::keep_prefix(rank, r, pools_[std::size_t(w.pool)].rules);
      if (r.ready() == 0) emit(id, w.pool, now, leaving);
    }
    w.batches[k].clear();
    if (leaving.empty()) continue;
    for (int id : leaving) {
      sim_request& r = reqs_[std::size_t(id)];
      rank.free += r.held;
      r.held = 0;
      r.left = true;
    }
    std::erase_if(rank.running, [&](int id) { return reqs_[std::size_t(id)].left; });
    for (int id : leaving) reqs_[std::size_t(id)].left = false;
  }
  w.busy = false;
  to_start_.push_back(wi);
}

void simulator::client_done(int id, double now) {
  in_system_ -= id >= load_.warmup ? 1 : 0;
  const sim_request& r = reqs_[std::size_t(id)];
  const arrival_process& a = load_.arrivals;
  if (a.what != arrival_process::kind::closed || issued_ >= reqs_.size()) return;
  sim_request& next = reqs_[issued_];
  next.user = r.user;
  next.arrival = now + a.think_time;
  push(next.arrival, event_kind::arrival, int(issued_++));
}

simulation_result simulator::run() {
  if (load_.arrivals.what == arrival_process::kind::closed) {
    const auto users = std::min(reqs_.size(), std::size_t(load_.arrivals.concurrency));
    for (; issued_ < users; ++issued_) {
      reqs_[issued_].user = int(issued_);
      push(0, event_kind::arrival, int(issued_));
    }
  } else {
    for (; issued_ < reqs_.size(); ++issued_) push(reqs_[issued_].arrival, event_kind::arrival, int(issued_));
  }
  const std::int64_t limit = 2'000'000'000;
  while (!events_.empty()) {
    const double now = events_.top().t;
    in_system_area_ += double(in_system_) * (now - last_event_);
    last_event_ = now;
    // every event of this instant first, then the idle workers start their next iteration
    while (!events_.empty() && events_.top().t == now) {
      const event e = events_.top();
      events_.pop();
      switch (e.what) {
        case event_kind::arrival:
          in_system_ += e.index >= load_.warmup ? 1 : 0;
          route(e.index, 0, now);
          break;
        case event_kind::transfer_end:
          reqs_[std::size_t(e.index)].first = reqs_[std::size_t(e.index)].last = now;
          route(e.index, 1, now);
          break;
        case event_kind::iteration_end:
          end_iteration(e.index, now);
          break;
        case event_kind::client_done:
          client_done(e.index, now);
          break;
      }
    }
    std::sort(to_start_.begin(), to_start_.end());
    to_start_.erase(std::unique(to_start_.begin(), to_start_.end()), to_start_.end());
    for (int w : to_start_)
      if (!workers_[std::size_t(w)].busy) start(w, now);
    to_start_.clear();
    if (iterations_ > limit)
      throw input_error("simulate: more than 2e9 iterations; the load does not finish");
  }
  return results();
}

simulation_result simulator::results() const {
  simulation_result out;
  out.requests = std::int64_t(reqs_.size());
  std::vector<double> ttft, tpot, e2e;
  double first = INFINITY, last = 0, tokens = 0, inputs = 0, per_user = 0, good = 0;
  for (std::size_t i = std::size_t(load_.warmup); i < reqs_.size(); ++i) {
    const sim_request& r = reqs_[i];
    const double t = r.first - r.arrival + r.overhead, e = r.done - r.arrival + r.overhead;
    ttft.push_back(t), e2e.push_back(e);
    double p = 0;
    if (r.osl > 1) {
      p = (r.done - r.first) / double(r.osl - 1);
      tpot.push_back(p);
      per_user += p > 0 ? 1 / p : 0;
    }
    const latency_targets& g = opt_.targets;
    good += (g.ttft <= 0 || t <= g.ttft) && (g.tpot <= 0 || p <= g.tpot) ? 1 : 0;
    first = std::min(first, r.arrival), last = std::max(last, r.done + r.overhead);
    tokens += double(r.osl), inputs += double(r.isl);
  }
  out.measured = std::int64_t(e2e.size());
  out.ttft = stats_of(ttft), out.tpot = stats_of(tpot), out.e2e = stats_of(e2e), out.itl = itl_.stats();
  out.duration = last - first;
  out.requests_per_s = double(out.measured) / out.duration;
  out.tokens_per_s = tokens / out.duration;
  out.input_tokens_per_s = inputs / out.duration;
  out.gpus = s_.gpus();
  out.tokens_per_s_gpu = out.tokens_per_s / out.gpus;
  out.tokens_per_s_user = tpot.empty() ? 0 : per_user / double(tpot.size());
  out.goodput = good / out.duration;
  out.targets = opt_.targets;
  out.mean_in_system = in_system_area_ / out.duration;
  out.mean_running = running_ / rank_time_, out.mean_waiting = waiting_ / rank_time_;
  out.max_waiting = max_waiting_;
  out.mean_kv_use = kv_ / rank_time_, out.max_kv_use = max_kv_;
  out.preemptions = preempted_, out.iterations = iterations_;
  out.tokens_per_step = spec_steps_ > 0 ? spec_tokens_ / spec_steps_ : 1;
  if (hw_.energy && last_end_ > 0) {  // every GPU idles over the run, the ops' energy on top
    double outputs = 0;
    for (const sim_request& r : reqs_) outputs += double(r.osl);
    const double j = hw_.energy->idle_w * out.gpus * last_end_ + dynamic_;
    out.power_w = j / last_end_;
    out.j_per_output_token = j / outputs;
    out.at_tdp = capped_;
  }
  if (draft_) {
    out.draft_tokens = s_.speculative.k;
    out.expected_tokens_per_step = roofline::tokens_per_step(s_.speculative);
    out.draft = draft_name(m_, s_.speculative);
  }
  double found = 0, prompts = 0;
  for (std::size_t i = std::size_t(load_.warmup); i < reqs_.size(); ++i)
    found += double(reqs_[i].found), prompts += double(reqs_[i].isl);
  out.prefix_found = prompts > 0 ? found / prompts : 0;
  out.shared_prefix = pools_.front().rules.shared_bytes * byte;
  out.busy_prefill = busy_[0], out.busy_decode = busy_[1], out.busy_mixed = busy_[2];
  for (const pool_state& p : pools_) out.cache_lookups += p.clock.lookups, out.cache_misses += p.clock.misses;
  out.memory = pools_.back().memory;
  if (s_.disaggregated) out.prefill_memory = pools_.front().memory;
  out.timeline = timeline_;
  if (!hw_.timing.serving.stated) out.notes.push_back({.what = serving_note::kind::engine_defaults});
  return out;
}

}  // namespace

simulation_result simulate(const model_spec& m, const hardware& hw, const serving_workload& s,
                           const simulation_load& load, const simulation_options& opt) {
  check_serving(m, hw, s, true);
  check_load(m, load);
  simulator sim(m, hw, s, load, opt);
  return sim.run();
}

}  // namespace roofline
