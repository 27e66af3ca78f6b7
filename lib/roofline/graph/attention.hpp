/// Softmax attention (MHA, GQA, MQA; sliding window, chunked local attention, sinks, QK-norm, soft-capping,
/// biases, output gate).
#pragma once

#include <algorithm>

#include "roofline/graph/common.hpp"

namespace roofline::detail {

/// Rows of the query and key tiles that fused attention kernels work on.
inline constexpr double attention_tile = 128;

/// Scores a causal prefill of T tokens computes per head and sequence, with a window W (0:
/// global): c T^2 within the window (c the causal factor, Beck et al. App. D.2, which counts
/// the causal tiles of flash kernels), and beyond it c W^2 for the first W queries plus W
/// keys for each later one: c W^2 + (T - W) W (equal to c T^2 at T = W).
constexpr double prefill_scores(double t, double window, double causal) {
  if (window <= 0 || t <= window) return causal * t * t;
  return causal * window * window + (t - window) * window;
}

/// Scores a prefill chunk of T tokens computes per head and sequence after Q cached tokens
/// (chunked prefill; Q = 0: a whole prompt, prefill_scores): query i (at position Q + i) sees
/// min(Q + i + 1, W) keys (W = 0: no window), of which those among the T new tokens are the
/// causal triangle, prefill_scores(T, W, c), and those in the cache are counted whole,
///   sum over i of clamp(W - 1 - i, 0, Q)   (W = 0: T Q):
/// with n1 = clamp(W - Q, 0, T) queries that see all Q cached keys, the rest see W - 1 - i
/// down to W - min(T, W).
constexpr double chunk_scores(double t, double q, double window, double causal) {
  const double own = prefill_scores(t, window, causal);
  if (q <= 0) return own;
  if (window <= 0) return own + t * q;
  const double n1 = std::clamp(window - q, 0.0, t), last = std::min(t, window);
  const double hi = window - 1 - n1, lo = window - last;  // the terms W - 1 - i for i = n1 .. last - 1
  return own + n1 * q + (hi >= lo ? (hi + lo) * (hi - lo + 1) / 2 : 0);
}

/// Scores a prefill chunk of T tokens computes per head and sequence after Q cached tokens with
/// chunked local attention of C tokens (Llama 4: position p sees the keys C floor(p / C) .. p).
/// The T new tokens split at chunk boundaries: the first a = min(T, C - q) share their chunk with
/// the q = Q mod C cached tokens before them, then n whole chunks of C, then the rest r; each piece
/// is a causal triangle, and the first piece's queries see the q cached keys whole:
///   c (a^2 + n C^2 + r^2) + a q.
constexpr double chunked_scores(double t, double q, double chunk, double causal) {
  const double in_chunk = q - std::floor(q / chunk) * chunk, a = std::min(t, chunk - in_chunk);
  const double whole = std::floor((t - a) / chunk), r = t - a - whole * chunk;
  return causal * (a * a + whole * chunk * chunk + r * r) + a * in_chunk;
}

/// Pieces a prefill chunk of T tokens after Q cached ones falls into at chunk boundaries (see
/// chunked_scores): engines run each as its own sequence (vLLM's local-attention virtual batches).
constexpr double chunk_pieces(double t, double q, double chunk) {
  const double in_chunk = q - std::floor(q / chunk) * chunk;
  return 1 + std::ceil(std::max(0.0, t - (chunk - in_chunk)) / chunk);
}

/// FLOPs per key per query of attention with h query heads of widths d_qk, d_v:
/// 2 h (d_qk + d_v) (scores and values) + h softmax (+ h softcap).   (Beck et al., App. D.2)
constexpr double attention_flops_per_key(const accounting& a, double h, double d_qk, double d_v,
                                         bool softcap) {
  return 2 * h * (d_qk + d_v + 0.5 * a.softmax_flops + (softcap ? 0.5 * a.softcap_flops : 0));
}

/// Fused causal attention of one layer (FlashAttention: scores stay on chip).
/// Prefill (class attention): one work item (thread block) per query head and query tile of
///   128 rows, B H ceil(T / 128) items of item size (d_qk + d_v) / 256; the last tile reads
///   min(Q + T, W) keys (item steps; the profile may time long prompts by another kernel).
///   FLOPs: B chunk_scores(T, Q, W) per key FLOPs (chunked_scores(T, Q, C) with chunked local
///   attention; + B T H softmax for the sink logits); bytes: q read and o written,
///   B T H (d_qk + d_v) b_a; k and v written, B T H_kv (d_qk + d_v) b_kv, and those of the
///   min(Q, W) cached tokens read (Q mod C with chunks; Q: the pass's context, 0 for a whole prompt).
/// Decode (class decode_attention): one work item per sequence and KV head, B H_kv: a
///   GQA/MQA decode kernel (FlashAttention's and FlashInfer's decode, vLLM's paged attention
///   with GQA packing) gives the G = H / H_kv query heads that share a KV head one thread
///   block, so each key is read once for all of them; for MHA (G = 1) it is one item per
///   sequence and head, as the measured H100 stack runs it. Each item reads its K keys one
///   after another in tiles of 128, at least one whole tile (item steps max(K, 128)): on the
///   measured H100 stack a step after a 1-token prompt costs what it costs after 128 tokens
///   (measurements/README.md). An item's setup scales with its head width, (d_qk + d_v) / 256.
///   FLOPs: B K per key FLOPs (no causal factor: the new token sees every key in its window);
///   bytes: the cache of C tokens read and one token written, B (C + 1) H_kv (d_qk + d_v) b_kv.
///   K and C are the means over the decode steps, capped by the window or taken within the
///   chunk (mean_keys, mean_chunk_keys in workload.hpp).
constexpr op attention_op(const counting& c, const attention_mixer& x) {
  const accounting& a = c.m.accounting;
  const double h = c.share(x.n_heads), hkv = c.kv_share(x.n_kv_heads), dh = x.head_dim, w = x.window;
  const double per_key = attention_flops_per_key(a, h, dh, dh, x.softcap > 0);
  const double kv_width = hkv * 2 * dh * c.m.dtypes.kv_cache.bytes_per_element();
  const double item_size = head_item_size(dh, dh);
  const pass& p = c.p;
  if (p.phase == phase::prefill) {
    // a chunk after Q cached tokens also reads their keys and values: B min(Q, W) of them (with
    // chunked attention those of its chunk, Q mod C)
    const double ch = x.chunk, keys = p.context + p.tokens;
    const double cached = w > 0    ? std::min(p.context, w)
                          : ch > 0 ? p.context - std::floor(p.context / ch) * ch
                                   : p.context;
    const double scores = ch > 0 ? chunked_scores(p.tokens, p.context, ch, a.attention_causal_factor)
                                 : chunk_scores(p.tokens, p.context, w, a.attention_causal_factor);
    op o{"attention",
         op_class::attention,
         c.m.dtypes.activations,
         c.at,
         p.batch * scores * per_key * flop,
         {.activations = c.rows() * h * 2 * dh * c.ba * byte,
          .kv_cache = (c.rows() + p.batch * cached) * kv_width * byte},
         {},
         p.batch * h * std::ceil(p.tokens / attention_tile),
         w > 0    ? std::min(keys, w)
         : ch > 0 ? std::min(keys, ch)
                  : keys,
         item_size};
    if (x.sinks) o.work += c.rows() * h * a.softmax_flops * flop;
    o.attn = {p.batch, p.tokens, keys, h, hkv, dh, w};
    if (ch > 0) {  // a kernel table sees the pieces as sequences of their own (the mean piece)
      const double n = chunk_pieces(p.tokens, p.context, ch);
      o.attn = {p.batch * n, p.tokens / n, (p.tokens + cached) / n, h, hkv, dh, 0};
    }
    return o;
  }
  const double keys = x.chunk > 0 ? mean_chunk_keys(p, x.chunk) : mean_keys(p, w), cached = keys - 1;
  op o{"attention",
       op_class::decode_attention,
       c.m.dtypes.activations,
       c.at,
       p.batch * keys * per_key * flop,
       {.kv_cache = p.batch * (cached + 1) * kv_width * byte},
       {},
       p.batch * hkv,
       std::max(keys, attention_tile),
       item_size};
  if (x.sinks) o.work += p.batch * h * a.softmax_flops * flop;
  o.attn = {p.batch, 1, keys, h, hkv, dh, w};
  return o;
}

/// An attention layer: qkv projection d -> (H (1 + gate) + 2 H_kv) d_h (with biases; H_kv d_h
/// fewer where values are the keys' projection, k_eq_v), QK-norm
/// of each q and k head (B T (H + H_kv) d_h norm FLOPs; an L2 norm counted as an RMSNorm without
/// its weights), attention, the output gate
/// sigmoid(g) o (B T H d_h (sigmoid + 1) FLOPs, reading g and o, writing o), output projection
/// H d_h -> d (with bias). Over tp ranks (Megatron): each holds H / tp query heads and
/// H_kv / tp KV heads (a copy of every KV head when tp > H_kv), the qkv projection
/// column-parallel, the output projection row-parallel and its outputs reduced.
template <class Sink>
constexpr void emit_attention(const counting& c, const attention_mixer& x, Sink&& sink) {
  const double d = c.m.d_model, h = c.share(x.n_heads), hkv = c.kv_share(x.n_kv_heads), dh = x.head_dim;
  const double qkv = h * dh * (x.output_gate ? 2 : 1) + (x.k_eq_v ? 1 : 2) * hkv * dh;
  sink(c.linear("qkv_proj", d, qkv, weight_kind::mixer, x.qkv_bias));
  if (x.qk_norm || x.qk_l2_norm)
    sink(c.elementwise("qk_norm", c.rows() * (h + hkv) * dh * c.m.accounting.norm_flops,
                       c.rows() * (h + hkv) * dh * c.ba, x.qk_norm ? 2 * dh * c.b_vec : 0));
  sink(attention_op(c, x));
  if (x.output_gate)
    sink(c.elementwise("attn_gate", c.rows() * h * dh * (c.m.accounting.sigmoid_flops + 1),
                       3 * c.rows() * h * dh * c.ba));
  sink(c.linear("out_proj", h * dh, d, weight_kind::mixer, x.out_bias));
  c.reduce("attn_all_reduce", "attn_reduce_scatter", "attn_all_gather", d, sink);
}

/// Parameters: q (doubled with an output gate), k, v (none with k_eq_v), o; biases H d_h +
/// 2 H_kv d_h on q, k, v (H_kv d_h with k_eq_v) and d on o; QK-norm 2 d_h; sinks H.
constexpr param_count attention_params(const model_spec& m, const attention_mixer& x) {
  const double d = m.d_model, h = x.n_heads, hkv = x.n_kv_heads, dh = x.head_dim;
  const double kv = (x.k_eq_v ? 1 : 2) * hkv * dh;
  param_count p{};
  p[weight_kind::mixer] = d * (h * dh * (x.output_gate ? 2 : 1) + kv) + h * dh * d;
  p[weight_kind::vectors] = (x.qkv_bias ? h * dh * (x.output_gate ? 2 : 1) + kv : 0) + (x.out_bias ? d : 0) +
                            (x.qk_norm ? 2 * dh : 0) + (x.sinks ? h : 0);
  return p;
}

/// KV cache per sequence after n tokens: min(n, W) H_kv 2 d_h b_kv (a window layer holds at
/// most W tokens; a chunked layer at most C, min(n, C): vLLM's local-attention cache frees the
/// pages of chunks behind the current one, and a sequence's peak is a whole chunk); live width in the
/// prefill: the normed input and the q, k, v (and gate) projections, d + H d_h (1 + gate) + 2 H_kv d_h.
constexpr layer_memory attention_memory(const model_spec& m, const attention_mixer& x, double tokens) {
  const double cap = x.window > 0 ? x.window : x.chunk, held = cap > 0 ? std::min(tokens, cap) : tokens;
  const double h = x.n_heads, hkv = x.n_kv_heads, dh = x.head_dim;
  return {.kv_bytes = held * hkv * 2 * dh * m.dtypes.kv_cache.bytes_per_element(),
          .act_width = m.d_model + h * dh * (x.output_gate ? 2 : 1) + 2 * hkv * dh};
}

/// The spec's rules for an attention mixer: sizes in bounds, n_kv_heads divides n_heads, a window,
/// a chunk and a soft-cap not negative, not a window and a chunk together.
inline std::optional<spec_violation> check_spec(const model_spec&, const attention_mixer& a,
                                                const spec_rules& r) {
  if (auto v = r.first_out_of_bounds({{"n_heads", a.n_heads, max_width},
                                      {"n_kv_heads", a.n_kv_heads, max_width},
                                      {"head_dim", a.head_dim, max_width}}))
    return v;
  if (a.n_heads % a.n_kv_heads != 0)
    return r.violation("n_kv_heads",
                       fmt::format("'n_kv_heads' ({}) must divide 'n_heads' ({})", a.n_kv_heads, a.n_heads));
  if (a.window < 0) return r.violation("window", fmt::format("'window' must be >= 0, got {}", a.window));
  if (a.chunk < 0) return r.violation("chunk", fmt::format("'chunk' must be >= 0, got {}", a.chunk));
  if (a.window > 0 && a.chunk > 0)
    return r.violation("chunk", "'window' and 'chunk' both set: a layer has a sliding window or chunks");
  if (!(a.softcap >= 0)) return r.violation("softcap", "'softcap' must be >= 0");
  return std::nullopt;
}

/// Tensor parallelism splits the query heads (tp divides them) and the KV heads (or copies them:
/// tp a multiple of theirs).
inline void check_layout(const model_spec&, const attention_mixer& a, const layout_rules& r) {
  r.divides("query heads", a.n_heads, r.L.tp, "tp");
  r.tp_divides_or_multiple("KV heads", a.n_kv_heads);
}

}  // namespace roofline::detail
