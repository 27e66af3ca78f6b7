/// Speculative decoding: a draft (a small model, or an MTP / EAGLE head of the target) proposes k
/// tokens per sequence each step, and the target checks them in one pass over k + 1 tokens,
/// keeping the accepted prefix and one token of its own. Serving never counts: the draft's and
/// the verify pass's times come from estimate's passes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "roofline/estimate/estimate.hpp"

namespace roofline {

/// What speculates: k draft tokens a step, accepted with chances a_i (the chance that draft
/// token i is accepted when the ones before it were; one value: the same at every position).
struct speculation {
  int k = 0;                          ///< draft tokens per step; 0: no speculation
  std::vector<double> acceptance{};   ///< a_1 .. a_k, or one a for all
  std::optional<model_spec> draft{};  ///< a draft model; empty: an MTP head of the target (mtp_head)
};

/// The acceptance of draft position i (1-based).
inline double acceptance_at(const speculation& s, int i) {
  return s.acceptance.size() == 1 ? s.acceptance[0] : s.acceptance[std::size_t(i - 1)];
}

/// Tokens a step emits per sequence: the accepted draft tokens, whose expectation is the chance
/// that each prefix survives, plus the target's own token after them,
///   E = 1 + sum over i = 1 .. k of a_1 a_2 ... a_i,
/// with one a for all: (1 - a^(k+1)) / (1 - a) (Leviathan et al., "Fast Inference from
/// Transformers via Speculative Decoding", arXiv 2211.17192, eq. 1). a = 0.8, k = 3: 2.952.
inline double tokens_per_step(const speculation& s) {
  double e = 1, survive = 1;
  for (int i = 1; i <= s.k; ++i) e += survive *= acceptance_at(s, i);
  return e;
}

/// Throws input_error unless k is 1 .. 16, there are one or k acceptances each in [0, 1], and
/// the layout has one pipeline stage (speculation over pipeline stages is not modelled).
inline void check_speculation(const speculation& s, const workload& w) {
  if (s.k < 1 || s.k > 16)
    throw input_error(fmt::format("speculation: draft tokens k must be from 1 to 16, not {}", s.k));
  if (s.acceptance.size() != 1 && s.acceptance.size() != std::size_t(s.k))
    throw input_error(
        fmt::format("speculation: give one acceptance rate, or one per draft position ({}), not {}", s.k,
                    s.acceptance.size()));
  for (double a : s.acceptance)
    if (!(a >= 0 && a <= 1))
      throw input_error(fmt::format("speculation: an acceptance rate is a chance from 0 to 1, not {}", a));
  if (w.parallel.pp > 1) throw input_error("speculation: not modelled with pipeline stages (pp > 1)");
}

/// DeepSeek-V3's multi-token-prediction module (arXiv 2412.19437, section 2.2) as a draft: the
/// target's embedding, [embedding; hidden state] projected 2 d -> d (input_projection 2), one
/// layer of the target's last kind, the final norm and the target's LM head (shared, so it adds
/// no memory). EAGLE heads have the same shape (EAGLE-3's input is 3 d: give a draft spec).
inline model_spec mtp_head(const model_spec& target) {
  model_spec h = target;
  h.name = target.name + "_mtp";
  const layer_kind last = target.kinds[std::size_t(target.layers.back())];
  set_uniform_layers(h, last, 1);
  h.input_projection = 2;
  h.vision = {};  // the target encodes the images; the head reads its hidden states
  return h;
}

/// Weights a GPU of layout L holds for a draft: a draft model's share (tensor-parallel as the
/// target), or an MTP head's layer and input projection (its embedding and LM head are the
/// target's, already held).
inline bytes draft_weight_bytes(const model_spec& d, bool mtp, const layout& L) {
  if (!mtp) return rank_weight_bytes(d, L, stage_of(d, 0, 1)) * byte;
  return rank_weight_bytes(d, L, {0, 1, false, false}) * byte +
         double(d.input_projection) * d.d_model * d.d_model *
             storage(d.dtypes, weight_kind::mixer).bytes_per_element() * byte;
}

/// The draft that speculation runs: its model, or an MTP head of the target.
inline model_spec draft_of(const model_spec& target, const speculation& s) {
  return s.draft ? *s.draft : mtp_head(target);
}

/// The draft when speculating (k > 0), else none.
inline std::optional<model_spec> draft_if(const model_spec& target, const speculation& s) {
  return s.k > 0 ? std::optional(draft_of(target, s)) : std::nullopt;
}

/// The draft's name for reports.
inline std::string draft_name(const model_spec& target, const speculation& s) {
  return s.draft ? s.draft->name : target.name + " MTP head";
}

/// A serving iteration's decodes under speculation: the target's verify of k + 1 tokens a
/// sequence after `context` cached, logits at each (a prefill-phase pass: the engines verify
/// with their prompt-attention kernels).
constexpr pass verify_pass(double seqs, int k, double context) {
  return {phase::prefill, seqs, k + 1.0, context, 1, k + 1.0};
}

/// The draft's part of a serving iteration on one GPU of each dp rank of L (one stage): k passes
/// of `decode` (one token a decoding sequence) and its pass over the iteration's prompt chunks.
inline phase_estimate draft_passes(const model_spec& d, const hardware& hw, int k, const pass& decode,
                                   const pass& prompt, const layout& L, overlap pol) {
  const stage_span st = stage_of(d, 0, 1);
  phase_estimate total{};
  if (decode.batch > 0) {
    const phase_estimate one =
        estimate_pass(d, hw, decode, pol, rank_view{L, st, L.dp * decode.batch, false});
    for (int i = 0; i < k; ++i) total += one;
  }
  if (prompt.batch > 0)
    total += estimate_pass(d, hw, prompt, pol, rank_view{L, st, L.dp * prompt.batch * prompt.tokens, false});
  return total;
}

/// A decode step with speculation against one without, for a batch of B sequences of P prompt
/// tokens generating G (one GPU of each dp rank of the layout; one pipeline stage).
struct speculative_estimate {
  seconds plain_step{};  ///< a decode step without speculation (estimate's, the mean over G steps)
  seconds draft{};       ///< the draft's k passes of one token per sequence
  seconds verify{};      ///< the target's pass over k + 1 tokens per sequence
  seconds step{};        ///< draft + verify
  double tokens_per_step = 1;
  seconds tpot{};           ///< step / tokens_per_step
  seconds draft_prefill{};  ///< the draft's pass over the prompt, after the target's (added to the TTFT)
  bytes draft_memory{};     ///< the draft's weights (an MTP head: its layer and projection) and KV cache
};

/// Speculative decoding at the mean context of the decode, c = P + (G - 1) / 2: the draft runs k
/// passes of one token per sequence (its first pass, which engines feed the accepted tokens of
/// the step before, counted as one token), then the target one pass of k + 1 tokens after c
/// cached, with logits at every one of them (a prefill-phase pass: the engines verify with their
/// prompt-attention kernels). TPOT = (k t_draft + t_verify) / E (tokens_per_step).
inline speculative_estimate speculate(const model_spec& m, const hardware& hw, const workload& w,
                                      const speculation& s, std::optional<overlap> policy = std::nullopt) {
  check_speculation(s, w);
  const overlap pol = policy.value_or(hw.timing.overlap);
  const model_spec d = s.draft ? *s.draft : mtp_head(m);
  const layout& L = w.parallel;
  const double all = double(w.batch), b = std::ceil(all / L.dp),
               c = double(w.prefill) + (w.generate - 1) / 2.0;
  const double k = s.k;
  const auto view = [&](const model_spec& x, double tokens) {
    return rank_view{L, stage_of(x, 0, 1), all * tokens, false};
  };
  speculative_estimate r{};
  r.plain_step = estimate(m, hw, w, pol).step_time;
  r.draft = k * estimate_pass(d, hw, pass{phase::decode, b, 1, c, 1}, pol, view(d, 1)).time;
  r.verify = estimate_pass(m, hw, verify_pass(b, s.k, c), pol, view(m, k + 1)).time;
  r.step = r.draft + r.verify;
  r.tokens_per_step = tokens_per_step(s);
  r.tpot = r.step / r.tokens_per_step;
  r.draft_prefill =
      estimate_pass(d, hw, pass{phase::prefill, b, double(w.prefill), 0, 1}, pol, view(d, double(w.prefill)))
          .time;
  const footprint f = rank_footprint(d, w, stage_of(d, 0, 1), b, 1);
  r.draft_memory = f.kv_cache + f.state + (s.draft ? f.weights : draft_weight_bytes(d, true, L));
  return r;
}

/// Where speculation stops paying: the smallest batch of 1, 2, 4, ... whose speculative TPOT is
/// no shorter than a plain step (the verify pass's k + 1 tokens a sequence, compute-bound at
/// large batches, cost more than the E tokens they bring; at long contexts the KV cache read
/// once for all k + 1 tokens keeps it paying longer), among the batches whose memory, the
/// draft's included, fits the GPUs. `largest`: the largest batch tried (the last that fits).
struct break_even {
  std::optional<std::int64_t> batch{};  ///< empty: it pays at every batch tried
  std::int64_t largest = 0;
};

inline break_even break_even_batch(const model_spec& m, const hardware& hw, workload w, const speculation& s,
                                   std::optional<overlap> policy = std::nullopt) {
  break_even r{};
  for (std::int64_t b = 1; b <= max_tokens; b *= 2) {
    w.batch = b;
    const estimate_result plain = estimate(m, hw, w, policy);
    const speculative_estimate e = speculate(m, hw, w, s, policy);
    if (plain.memory.total() + e.draft_memory > hw.capacity) break;
    r.largest = b;
    if (e.tpot >= e.plain_step) {
      r.batch = b;
      break;
    }
  }
  return r;
}

}  // namespace roofline
