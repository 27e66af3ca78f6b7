/// Serving's inputs and results: the deployment and load served (worker pools, serving_workload)
/// and what serve() finds (memory, iterations, notes, serving_result); serving.hpp computes them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "roofline/estimate/result.hpp"
#include "roofline/serving/speculative.hpp"

namespace roofline {

/// A pool of identical workers (engine instances), each spread over GPUs by a layout.
struct worker_pool {
  layout L{};
  int workers = 1;
  std::optional<double> max_batch{};         ///< running requests per dp rank; absent: the stack's
  std::optional<double> max_batch_tokens{};  ///< tokens per iteration; absent: the stack's
  constexpr int gpus() const { return L.gpus() * workers; }
};

/// What is served and how: every request a prompt of `isl` tokens generating `osl` tokens,
/// `concurrency` requests in flight over the deployment (a closed loop: a finished request is
/// replaced at once, as a load generator at fixed concurrency does). Aggregated: `agg`
/// workers run prefill and decode together. Disaggregated: `prefill` workers run prompts, send
/// the KV cache to `decode` workers, which generate.
struct serving_workload {
  std::int64_t isl = 1;
  std::int64_t osl = 2;
  double concurrency = 1;
  bool disaggregated = false;
  worker_pool agg{};
  worker_pool prefill{};
  worker_pool decode{};
  /// Speculative decoding (k 0: none; speculative.hpp): every decode iteration a decoding
  /// request's draft proposes k tokens and the target verifies k + 1 (a pass of k + 1 tokens
  /// after its context, logits at each, beside the iteration's prompt chunks; the draft's k
  /// passes of one token and its pass over the prompt chunks added to the iteration); a request
  /// emits tokens_per_step() tokens a step. One pipeline stage.
  speculation speculative{};
  int gpus() const { return disaggregated ? prefill.gpus() + decode.gpus() : agg.gpus(); }
};

/// What one GPU of a worker holds and how many requests its memory admits.
struct serving_memory {
  footprint gpu{};  ///< weights, activations of a full iteration, buffers; kv_cache: of `admitted` requests
  bytes per_request{};  ///< KV cache and state of one request (at isl + osl tokens, or its mean), in whole
                        ///< pages
  bytes pool{};         ///< memory_fraction x capacity - weights - activations - buffers
  double admitted = 0;  ///< requests one dp rank can hold: floor(pool / per_request)
  int stage = 0;        ///< the pipeline stage of that GPU (the one that admits the fewest)
};

/// Where the time of a worker's iterations goes.
struct serving_iterations {
  phase_estimate mixed{};   ///< an iteration that runs prefill chunks (with the running decodes)
  phase_estimate decode{};  ///< an iteration of decode tokens only
  seconds mixed_time{};     ///< with the iteration overhead
  seconds decode_time{};
  double running = 0;         ///< requests running on one dp rank
  double waiting = 0;         ///< requests queued on one dp rank for a slot (memory or max_batch)
  double decoding = 0;        ///< of the running, those decoding in a mean iteration, n (osl - 1) / Λ
  double decoding_mixed = 0;  ///< decode tokens of a mixed iteration: n less the prompts it runs
  double decoding_light = 0;  ///< decode tokens of a decode-only iteration
  double chunk = 0;           ///< prompt tokens of one request an iteration takes (T_c)
  double chunks = 1;          ///< iterations one prompt takes, k_p
  double prefill_tokens = 0;  ///< prompt tokens of a mixed iteration
  double mixed_share = 0;     ///< mixed iterations / all, in steady state
  double cycle = 0;           ///< iterations from a request's start to its successor's, Λ
};

/// An assumption that binds for a serving case, for the report to put in words (report/).
struct serving_note {
  enum class kind {
    engine_defaults,    ///< the stack states no serving parameters: the engine defaults are used
    request_too_large,  ///< one request's KV cache does not fit the pool (memory: the sizes)
    decode_slots_wait,  ///< disaggregated: requests wait for a decode slot (max_batch or KV memory)
    slots_wait,         ///< aggregated: requests wait for a slot on a rank
  } what;
  /// slots_wait: which limit sets the slots, the KV cache (it admits fewer than max_batch and
  /// the budget, and than the rank's requests), else the token budget (below max_batch and the
  /// KV cache), else max_batch.
  enum class limit { max_batch, kv_cache, token_budget };
  double waiting = 0;  ///< the wait notes: requests a rank waiting
  limit binding = limit::max_batch;
};

struct serving_result {
  seconds ttft{};                ///< mean time to first token, with queueing and the request overhead
  seconds tpot{};                ///< mean time per output token after the first
  seconds e2e{};                 ///< TTFT + (osl - 1) TPOT
  seconds wait{};                ///< of the TTFT: waiting to be scheduled (admission, queue)
  seconds transfer{};            ///< of the TTFT, disaggregated: the KV cache sent to the decode worker
  double tokens_per_s_user = 0;  ///< 1 / TPOT
  double tokens_per_s = 0;       ///< output tokens/s of the deployment: concurrency osl / e2e (Little's law)
  double tokens_per_s_gpu = 0;
  int gpus = 0;
  double max_concurrency = 0;       ///< requests the deployment's KV memory admits at once
  bool fits = false;                ///< one request fits in every worker's memory
  serving_iterations iterations{};  ///< aggregated; disaggregated: the decode workers'
  std::optional<serving_iterations> prefill_iterations{};  ///< disaggregated: the prefill workers'
  serving_memory memory{};                                 ///< aggregated; disaggregated: the decode workers'
  std::optional<serving_memory> prefill_memory{};
  std::vector<serving_note> notes{};  ///< assumptions that bind for this case (defaults used, limits hit)
  /// Energy, where the part states its coefficients (serving_energy()): the deployment's mean
  /// board power over all its GPUs, and joules per output token (power / tokens_per_s).
  std::optional<double> power_w{};
  std::optional<double> j_per_output_token{};
  bool at_tdp = false;  ///< a pool's GPUs would draw more than the TDP: counted at the TDP
};

}  // namespace roofline
