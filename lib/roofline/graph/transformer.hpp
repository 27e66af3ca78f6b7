/// Ops of a Llama-style decoder Transformer block (MHA, GQA, MQA).
#pragma once

#include <algorithm>

#include "roofline/graph/common.hpp"

namespace roofline::detail {

/// Rows of the query and key tiles that fused attention kernels work on.
inline constexpr double attention_tile = 128;

/// Fused causal attention of one layer (FlashAttention: scores stay on chip).
/// Prefill (class attention): one work item (thread block) per query tile of 128 rows,
///   B H ceil(T / 128) items, of item size (d_qk + d_v) / 256 (see decode); the last tile
///   reads all T keys (item steps T; the profile may time long prompts by another kernel).
/// Decode (class decode_attention): one work item (thread block) per sequence and query
///   head, B H, that reads the K keys one after another in tiles of 128, at least one whole
///   tile (item steps max(K, 128)): on the measured H100 stack a step after a 1-token prompt
///   costs what it costs after 128 tokens, for every Llama size and batch, and beyond that
///   grows with K (measurements/README.md). FLOPs and bytes count the K keys. Assumed: the kernel
///   gives every query head its own item, as kernels do when the KV heads are repeated for
///   GQA; a GQA-aware kernel would have B H_kv items. An item's setup (per-item time) scales
///   with its head width, item size (d_qk + d_v) / 256: on the measured H100 stack it costs
///   about twice as much for 128-wide heads as for 64-wide ones (measurements/README.md).
/// Prefill: FLOPs 2 c T^2 H (d_qk + d_v + softmax/2) per sequence, c the causal factor;
///   bytes: q read and o written, B T H (d_qk + d_v) b_a; k and v, B T H_kv (d_qk + d_v) b_kv.
/// Decode: FLOPs 2 H (d_qk + d_v + softmax/2) K per sequence with K keys attended (no
///   causal factor: the new token sees every key); bytes: the cache of C tokens read and
///   one token written, B (C + 1) H_kv (d_qk + d_v) b_kv.   (Beck et al., App. D.2)
constexpr op attention_op(const counting& c) {
  const head_dims h = heads(c.m);
  const accounting& a = c.m.accounting;
  const double per_key = 2.0 * h.n_q * (h.d_qk + h.d_v + 0.5 * a.softmax_flops);
  const double kv_width = double(h.n_kv) * (h.d_qk + h.d_v) * size_bytes(c.m.dtypes.kv_cache);
  const pass& p = c.p;
  const double item_size = head_item_size(h.d_qk, h.d_v);
  if (p.phase == phase::prefill)
    return {"attention", op_class::attention, c.m.dtypes.activations, c.blocks(),
            p.batch * a.attention_causal_factor * p.tokens * p.tokens * per_key * flop,
            {.activations = c.rows() * h.n_q * (h.d_qk + h.d_v) * c.ba * byte,
             .kv_cache = c.rows() * kv_width * byte},
            {}, p.batch * h.n_q * std::ceil(p.tokens / attention_tile), p.tokens, item_size};
  return {"attention", op_class::decode_attention, c.m.dtypes.activations, c.blocks(),
          p.batch * p.keys_attended * per_key * flop,
          {.kv_cache = p.batch * (p.cache_read + 1) * kv_width * byte}, {}, p.batch * h.n_q,
          std::max(p.keys_attended, attention_tile), item_size};
}

template <class Sink>
constexpr void emit_transformer(const counting& c, Sink&& sink) {
  const head_dims h = heads(c.m);
  const double d = c.m.d_model;
  const double qkv = double(h.n_q) * h.d_qk + double(h.n_kv) * (h.d_qk + h.d_v);
  emit_embedding(c, sink);
  sink(c.pre_norm("attn_norm"));
  op proj = c.linear("qkv_proj", d, qkv, c.blocks());
  if (c.m.attention.qkv_bias) {  // one add per output, bias read once
    proj.work += c.rows() * qkv * flop;
    proj.moved.weights += qkv * c.bw * byte;
  }
  sink(proj);
  sink(attention_op(c));
  sink(c.linear("out_proj", double(h.n_q) * h.d_v, d, c.blocks()));
  emit_ffn(c, sink);
  emit_lm_head(c, sink);
}

}  // namespace roofline::detail
