/// What is asked of the model: batch, prompt length, tokens to generate.
#pragma once

#include <algorithm>
#include <cstdint>

namespace roofline {

enum class phase { prefill, decode };

/// B sequences, each a prompt of P tokens followed by G generated tokens.
struct workload {
  std::int64_t batch = 1;     ///< B
  std::int64_t prefill = 1;   ///< P, prompt tokens per sequence (a 1-token prompt is P = 1)
  std::int64_t generate = 1;  ///< G, decode steps after the prefill
};

/// The shape of one forward pass that a graph builder counts.
/// Prefill: T = P new tokens per sequence, nothing cached before, logits of the last one.
/// Decode: one new token per sequence, the mean over `steps` = G steps in closed form: step i
/// (0-based) follows `context` + i cached tokens (context = P).
struct pass {
  enum phase phase;
  double batch;
  double tokens;   ///< T, new tokens per sequence
  double context;  ///< decode: tokens cached before the first step (P); prefill: 0
  double steps;    ///< decode: steps averaged over (G); prefill: 1
};

constexpr pass prefill_pass(const workload& w) { return {phase::prefill, double(w.batch), double(w.prefill), 0, 1}; }

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
constexpr double mean_keys(const pass& p, double window) { return mean_capped(p.context + 1, p.steps, window); }

/// KV-cache tokens a decode step reads, the mean over the steps: its keys but its own, which
/// is used on chip before it is written: min(P + i + 1, W) - 1 (global: P + i).
constexpr double mean_cache_read(const pass& p, double window) { return mean_keys(p, window) - 1; }

}  // namespace roofline
