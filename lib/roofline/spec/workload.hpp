/// What is asked of the model: batch, prompt length, tokens to generate, and the GPUs it runs on.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace roofline {

enum class phase { prefill, decode };

/// How a model is spread over GPUs (Megatron-style tensor parallelism, pipeline stages,
/// attention data parallelism, expert parallelism):
/// - tp ranks split each layer's heads and widths and the vocabulary, with an all-reduce after
///   each row-parallel projection (or a reduce-scatter and an all-gather with sequence_parallel);
/// - pp stages hold consecutive layers, sending activations on; a prefill runs in microbatches;
/// - dp attention ranks each hold their own sequences (batch / dp) and KV cache, sharing the
///   experts;
/// - the experts of a MoE layer are spread over ep of the tp x dp GPUs of a stage, each expert
///   split over moe_tp = tp dp / ep of them.
/// GPUs: tp x pp x dp. All 1: one GPU, exactly the single-GPU estimate.
struct layout {
  int tp = 1;
  int pp = 1;
  int ep = 1;
  int dp = 1;
  int microbatches = 0;            ///< of a pipelined prefill; 0: pp of them
  bool sequence_parallel = false;  ///< reduce-scatter + all-gather around the norms instead of all-reduces

  constexpr int gpus() const { return tp * pp * dp; }
  constexpr int moe_tp() const { return ep > 0 ? tp * dp / ep : 0; }
  constexpr bool single() const { return tp == 1 && pp == 1 && ep == 1 && dp == 1; }
  constexpr bool operator==(const layout&) const = default;
};

/// B sequences, each a prompt of P tokens followed by G generated tokens, served by GPUs
/// spread as `parallel` says (one GPU by default).
struct workload {
  std::int64_t batch = 1;     ///< B
  std::int64_t prefill = 1;   ///< P, prompt tokens per sequence (a 1-token prompt is P = 1)
  std::int64_t generate = 1;  ///< G, decode steps after the prefill
  layout parallel{};
  /// Images in each prompt (a model with a vision tower): the encoder runs on them in the
  /// prefill, and their image tokens are part of the P prompt tokens.
  std::int64_t images = 0;
};

/// The workload every entry point assumes when none is given (estimate, sweep's points, ops and
/// speculation, from the programs and from Python): 8 sequences of a 16,384-token prompt, 100
/// tokens generated each; a long-context batch where prefill is compute-bound and decode
/// memory-bound on every shipped part.
inline constexpr workload default_workload{.batch = 8, .prefill = 16384, .generate = 100};

/// The layers one pipeline stage holds, [first, last), and whether it holds the embedding
/// (the first stage) and the final norm and LM head (the last); the whole model by default.
struct stage_span {
  int first = 0;
  int last = 1 << 30;
  bool embedding = true;
  bool head = true;
};

/// What one GPU of a layout runs: its layout, its stage, and the distinct tokens of the pass
/// over all dp ranks (what the experts see; 0: those of the pass itself, B T). With
/// every_expert, a MoE layer counts the weights of all the experts it holds, not those the
/// tokens touch (the census of weights a GPU holds).
struct rank_view {
  layout L{};
  stage_span stage{};
  double tokens_all = 0;
  bool every_expert = false;
};

/// The shape of one forward pass that a graph builder counts.
/// Prefill: T = P new tokens per sequence, nothing cached before, logits of the last one.
/// Decode: one new token per sequence, the mean over `steps` = G steps in closed form: step i
/// (0-based) follows `context` + i cached tokens (context = P).
/// A prefill-phase pass after `context` cached tokens is a chunk of a prompt, or the verify pass
/// of speculative decoding (T = k + 1 tokens, logits of all of them).
struct pass {
  enum phase phase;
  double batch;
  double tokens;      ///< T, new tokens per sequence
  double context;     ///< decode: tokens cached before the first step (P); prefill: 0
  double steps;       ///< decode: steps averaged over (G); prefill: 1
  double logits = 1;  ///< positions per sequence the LM head runs on (a verify pass: all T)
  double images = 0;  ///< prefill: images per sequence the vision tower encodes in this pass
};

constexpr pass prefill_pass(const workload& w) {
  return {phase::prefill, double(w.batch), double(w.prefill), 0, 1, 1, double(w.images)};
}

constexpr pass decode_pass(const workload& w) {
  return {phase::decode, double(w.batch), 1, double(w.prefill), double(w.generate)};
}

/// Mean over i = 0 .. n-1 of min(a + i, cap) (cap 0: no cap), exactly:
/// with k = clamp(cap - a, 0, n) terms below the cap, (k a + k (k - 1) / 2 + (n - k) cap) / n.
constexpr double mean_capped(double a, double n, double cap) {
  if (cap <= 0) return a + (n - 1) / 2;
  const double k = std::clamp(cap - a, 0.0, n);
  return (k * a + k * (k - 1) / 2 + (n - k) * cap) / n;
}

/// Keys a decode step's new token attends to, the mean over the steps, with a sliding window
/// of W tokens (0: global): step i attends to min(P + i + 1, W) keys (its own among them).
constexpr double mean_keys(const pass& p, double window) {
  return mean_capped(p.context + 1, p.steps, window);
}

/// KV-cache tokens a decode step reads, the mean over the steps: its keys but its own, which
/// is used on chip before it is written: min(P + i + 1, W) - 1 (global: P + i).
constexpr double mean_cache_read(const pass& p, double window) { return mean_keys(p, window) - 1; }

/// Keys a decode step attends to with chunked local attention of C tokens (Llama 4), the mean
/// over the steps: step i (position P + i) attends to (P + i) mod C + 1 keys. With
/// S(x) = sum over positions 0 .. x - 1 of (pos mod C + 1) = floor(x / C) C (C + 1) / 2 + r (r + 1) / 2
/// (r = x mod C), the mean is (S(P + G) - S(P)) / G.
constexpr double mean_chunk_keys(const pass& p, double chunk) {
  const auto sum_to = [chunk](double x) {
    const double whole = std::floor(x / chunk), r = x - whole * chunk;
    return whole * chunk * (chunk + 1) / 2 + r * (r + 1) / 2;
  };
  return (sum_to(p.context + p.steps) - sum_to(p.context)) / p.steps;
}

}  // namespace roofline
