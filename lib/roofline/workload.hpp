/// What is asked of the model: batch, prompt length, tokens to generate.
#pragma once

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
/// Prefill: T = P new tokens per sequence, logits of the last one.
/// Decode: one new token per sequence; the mean over the G steps in closed form: step i
/// (0-based) reads a KV cache of P + i tokens and attends to P + i + 1 keys (its own
/// key and value are used on chip before they are written), so the means are
/// P + (G - 1)/2 tokens read and P + (G + 1)/2 keys attended.
struct pass {
  enum phase phase;
  double batch;
  double tokens;        ///< T, new tokens per sequence
  double cache_read;    ///< KV-cache tokens read per sequence (decode)
  double keys_attended; ///< keys each new token attends to (decode)
};

constexpr pass prefill_pass(const workload& w) {
  return {phase::prefill, double(w.batch), double(w.prefill), 0, 0};
}

constexpr pass decode_pass(const workload& w) {
  const double p = double(w.prefill), g = double(w.generate);
  return {phase::decode, double(w.batch), 1, p + (g - 1) / 2, p + (g + 1) / 2};
}

}  // namespace roofline
