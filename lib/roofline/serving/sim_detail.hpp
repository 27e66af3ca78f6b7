/// The simulator's inner parts (internal, not installed): requests as a scheduler sees them, a
/// dp rank's queues and KV memory, the engines' scheduling steps, and the iteration clock.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

#include "roofline/serving/serving.hpp"
#include "roofline/serving/simulate.hpp"
#include "roofline/spec/load.hpp"

namespace roofline::detail {

/// A request as the engine sees it. It needs isl + generated - computed tokens run before it
/// emits its next token (its prompt first, then one decode token an iteration; after a
/// preemption, its prompt and the tokens it had generated again).
struct sim_request {
  double arrival = 0;
  std::int64_t isl = 1, osl = 1;
  std::int64_t computed = 0;   ///< tokens whose KV is in the cache
  std::int64_t generated = 0;  ///< output tokens emitted
  double held = 0;             ///< bytes of KV memory it holds on its rank
  double shared = 0;           ///< bytes of its rank's shared prefix pages it uses (not in held)
  std::int64_t found = 0;      ///< prompt tokens found in the prefix cache at its first admission
  double first = -1, last = 0, done = -1;
  double overhead = 0;  ///< the client's side: added to its TTFT and end to end
  int user = -1;        ///< closed loop: who sends its successor
  int preemptions = 0;
  bool left = false;  ///< leaving its rank at the end of this iteration
  std::int64_t ready() const { return isl + generated - computed; }
  /// Bytes it must hold itself with `tokens` tokens cached.
  template <class KV>
  double own(KV& kv, double tokens) const {
    return kv.at(tokens) - shared;
  }
  bool decoding() const { return computed >= isl && ready() == 1; }
};

/// Bytes one request holds after t tokens, in whole pages (request_bytes of the binding stage),
/// computed once per page count.
class kv_sizes {
 public:
  kv_sizes(const model_spec& m, const layout& L, int stage, double block_tokens,
           const model_spec* draft = nullptr)
      : m_(&m), draft_(draft), L_(L), stage_(stage), block_(block_tokens) {}
  double at(double tokens) {
    const auto pages = std::size_t(std::ceil(std::max(tokens, 1.0) / block_));
    return pages <= pages_.size() ? pages_[pages - 1] : grow(pages);
  }
  double per_token() { return (at(4 * block_) - at(2 * block_)) / (2 * block_); }

 private:
  const model_spec* m_;
  const model_spec* draft_;  ///< a speculative draft's cache beside the target's (one stage)
  layout L_;
  int stage_;
  double block_;
  double grow(std::size_t pages);
  std::vector<double> pages_{};
};

/// One attention-dp rank of a worker: its queue, its running requests in the order they were
/// admitted, its KV pool in bytes; SGLang's new-token ratio and chunked request.
struct sim_rank {
  std::deque<int> waiting{};
  std::vector<int> running{};
  double pool = 0, free = 0;
  double ratio = 0;
  int chunked = -1;
  bool prefix_held = false;  ///< the shared prefix's pages are cached here
};

/// What an iteration of a rank runs: (request, tokens) pairs.
using sim_batch = std::vector<std::pair<int, std::int64_t>>;

/// The limits and memory of the ranks of one pool, and its scheduler.
struct sim_pool_rules {
  serving_params::scheduler policy = serving_params::scheduler::vllm;
  double budget = 8192, max_batch = 256;
  bool chunked = true;
  bool reserve = false;      ///< reserve the final length at admission (no preemption)
  bool decode_only = false;  ///< a disaggregated decode pool: requests come prefilled
  double ratio_init = 0.7, ratio_min = 0.098, ratio_decay = 0.001;  ///< SGLang
  double hit_rate = 0;                                              ///< prefix_reuse
  std::int64_t shared_tokens = 0;  ///< the shared prefix's whole pages, tokens
  double shared_bytes = 0;         ///< and their bytes
  std::int64_t block = 1;          ///< tokens of a page
  std::int64_t decode_cost = 1;    ///< budget tokens of a decode: 1, or k + 1 (speculation's verify)
};

/// Sets what a waiting request that holds nothing finds in its rank's prefix cache (its
/// `computed` tokens and the shared pages it uses); nothing in a decode-only pool.
void find_prefix(const sim_rank& rank, sim_request& r, const sim_pool_rules& rules);

/// After an iteration: the first request on a rank to have computed the shared prefix hands its
/// pages to the rank, which keeps them for every later request.
void keep_prefix(sim_rank& rank, sim_request& r, const sim_pool_rules& rules);

/// One scheduling step of a rank under its pool's policy: the batch of the next iteration (empty:
/// nothing to run). Admits, allocates, preempts (counted in `preempted`).
sim_batch schedule_step(sim_rank& rank, std::vector<sim_request>& reqs, const sim_pool_rules& rules,
                        kv_sizes& kv, std::int64_t& preempted);

/// Time of an iteration by its composition: prompt chunks (sequences, tokens, the FLOP-equivalent
/// cached context) and decode tokens (count, mean context). Cached on a grid of contexts
/// (2^(1/8) apart, linear between) with exact counts.
class iteration_clock {
 public:
  iteration_clock(const model_spec& m, const hardware& hw, const layout& L, overlap pol)
      : m_(&m), hw_(&hw), L_(L), pol_(pol) {}
  /// Speculative decoding: each decode is a verify of k + 1 tokens after its context (logits at
  /// each), and the draft runs k passes of one token a decoding sequence and its own pass over
  /// the iteration's prompt chunks.
  void speculate(const model_spec* draft, int k) { draft_ = draft, k_ = k; }
  struct shape {
    double seqs = 0, tokens = 0, context = 0;  ///< prompt chunks
    double decodes = 0, decode_context = 0;    ///< decode tokens
  };
  static shape of(const sim_batch& b, const std::vector<sim_request>& reqs);
  /// Seconds, and joules its ops draw on one GPU of each stage of a rank beyond idle
  /// (phase_estimate::dynamic_j; 0 for a part without energy coefficients).
  struct cost {
    double time = 0, joules = 0;
  };
  cost price(const shape& s);                            ///< interpolated
  cost exact_cost(const shape& s);                       ///< the roofline of exactly that shape
  double time(const shape& s) { return price(s).time; }  ///< seconds, interpolated
  double exact(const shape& s) { return exact_cost(s).time; }
  double lookups = 0, misses = 0;

 private:
  cost at(double seqs, double tokens, int pk, double decodes, int dk);
  const model_spec* m_;
  const hardware* hw_;
  layout L_;
  overlap pol_;
  const model_spec* draft_ = nullptr;
  int k_ = 0;
  struct key {
    std::int64_t seqs, tokens;
    int pk;
    std::int64_t decodes;
    int dk;
    bool operator==(const key&) const = default;
  };
  struct key_hash {
    std::size_t operator()(const key& k) const {
      std::uint64_t h = 1469598103934665603ull;
      for (std::uint64_t v : {std::uint64_t(k.seqs), std::uint64_t(k.tokens), std::uint64_t(k.pk),
                              std::uint64_t(k.decodes), std::uint64_t(k.dk)})
        h = (h ^ v) * 1099511628211ull;
      return std::size_t(h);
    }
  };
  std::unordered_map<key, cost, key_hash> cache_{};
};

/// The requests of a load: lengths drawn in order (prompt, then output, per request), open-loop
/// arrival times; closed-loop arrivals are set as the simulation runs (simulate.cpp).
std::vector<sim_request> requests_for(const model_spec& m, const simulation_load& l);

/// Inter-token gaps in bins 0.5 % wide from 0.1 us: percentiles within 0.25 %.
class gap_histogram {
 public:
  void add(double x, std::int64_t times = 1) {
    if (times <= 0) return;
    sum_ += x * double(times), n_ += times;
    if (x != last_) {  // the requests of an iteration mostly share their gap: its bin once
      const double b = x <= lo_ ? 0 : std::floor(std::log(x / lo_) / std::log(ratio_));
      last_ = x, bin_ = std::size_t(std::min(b, double(bins_.size() - 1)));
    }
    bins_[bin_] += double(times);
  }
  latency_stats stats() const {
    latency_stats s{.n = n_};
    if (n_ == 0) return s;
    s.mean = sum_ / double(n_);
    const auto at = [&](double p) {
      const double rank = std::ceil(p * double(n_));
      double seen = 0;
      for (std::size_t i = 0; i < bins_.size(); ++i)
        if ((seen += bins_[i]) >= rank) return lo_ * std::pow(ratio_, double(i) + 0.5);
      return lo_ * std::pow(ratio_, double(bins_.size()));
    };
    s.p50 = at(0.5), s.p90 = at(0.9), s.p99 = at(0.99);
    return s;
  }

 private:
  static constexpr double lo_ = 1e-7, ratio_ = 1.005;
  std::vector<double> bins_ = std::vector<double>(6000, 0.0);
  double sum_ = 0, last_ = -1;
  std::size_t bin_ = 0;
  std::int64_t n_ = 0;
};

/// Mean and nearest-rank percentiles of samples.
inline latency_stats stats_of(std::vector<double> v) {
  latency_stats s{.n = std::int64_t(v.size())};
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / double(v.size());
  const auto at = [&](double p) {
    return v[std::size_t(std::max(1.0, std::ceil(p * double(v.size())))) - 1];
  };
  s.p50 = at(0.5), s.p90 = at(0.9), s.p99 = at(0.99);
  return s;
}

}  // namespace roofline::detail
