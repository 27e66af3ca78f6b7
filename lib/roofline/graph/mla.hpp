/// Multi-head latent attention (DeepSeek-V2/V3): low-rank q and kv, decoupled RoPE key, latent KV cache.
#pragma once

#include <algorithm>

#include "roofline/graph/attention.hpp"

namespace roofline::detail {

/// Query heads one MLA decode work item serves: FlashMLA runs a thread block per sequence
/// and tile of 64 query heads (its block_h), all reading the same latent cache.
inline constexpr double mla_head_group = 64;

/// An MLA layer (DeepSeek-V2, arXiv 2405.04434, Sec. 2.1; DeepSeek-V3, arXiv 2412.19437).
/// Query: d -> q_rank (q_a_proj), RMSNorm, q_rank -> H (nope + rope) (q_b_proj); or d -> H
/// (nope + rope) without q compression. Key/value: d -> kv_rank + rope (kv_a_proj: the latent
/// c and the shared RoPE key), RMSNorm of c. The cache holds c and the RoPE key per token.
/// Prefill, the decompressed form (what FlashMLA-based engines run for prompts, since per
///   score it costs d_qk + d_v = 320 against 2 kv_rank + rope = 1088 absorbed): kv_b_proj
///   kv_rank -> H (nope + v) decompresses keys and values of all T tokens (and of the Q cached
///   ones before a chunk), then MHA with d_qk = nope + rope, d_v = v (class attention, as
///   attention_op counts it); bytes: q and o, decompressed k and v (B T H (d_qk + d_v) b_a each
///   way, B (T + Q) for k and v), the latent cache written (and the Q cached latents read).
/// Decode, the absorbed form (DeepSeek-V2 Sec. 2.1.3; FlashMLA, vLLM and SGLang decode): the
///   key half of kv_b_proj is applied to the query (q_absorb: H nope -> H kv_rank, FLOPs
///   2 B H nope kv_rank), attention runs over the latent as one shared KV head of
///   d_qk = kv_rank + rope and d_v = kv_rank (scores and values read each cached latent once
///   for all heads), the value half maps the output back (v_absorb: H kv_rank -> H v). Per
///   step it reads (C + 1) (kv_rank + rope) b_kv per sequence instead of decompressing C
///   tokens (2 C kv_rank H (nope + v) FLOPs). Work items: one per sequence and group of 64
///   query heads (mla_head_group), each reading the keys in turn, at least a tile of 128;
///   FlashMLA splits the keys of each item over the idle compute units (split-KV, op::split_steps).
/// Over tp ranks (as vLLM and SGLang shard MLA): the heads are split (q_b, kv_b, the absorbed
/// products, o), q_a and kv_a and their norms run whole on every rank, and every rank holds
/// the whole latent cache; the output projection's partial sums are reduced.
template <class Sink>
constexpr void emit_mla(const counting& c, const mla_mixer& x, Sink&& sink) {
  const accounting& a = c.m.accounting;
  const double d = c.m.d_model, h = c.share(x.n_heads), r = x.kv_rank, dn = x.nope_dim, dr = x.rope_dim,
               dv = x.v_dim;
  const double qk = dn + dr;
  if (x.q_rank > 0) {
    sink(c.linear("q_a_proj", d, x.q_rank));
    sink(c.elementwise("q_a_norm", c.rows() * x.q_rank * a.norm_flops, c.rows() * x.q_rank * c.ba,
                       x.q_rank * c.b_vec));
    sink(c.linear("q_b_proj", x.q_rank, h * qk));
  } else {
    sink(c.linear("q_proj", d, h * qk));
  }
  sink(c.linear("kv_a_proj", d, r + dr));
  sink(c.elementwise("kv_a_norm", c.rows() * r * a.norm_flops, c.rows() * r * c.ba, r * c.b_vec));
  const double latent_bytes = (r + dr) * c.m.dtypes.kv_cache.bytes_per_element();
  const pass& p = c.p;
  if (p.phase == phase::prefill) {
    // A chunk after Q cached tokens (chunked prefill) decompresses their latents too, as
    // vLLM's and SGLang's MLA prefill with a cached context does: kv_b_proj runs on B (T + Q)
    // rows, the attention reads the Q latents and the decompressed k and v of all T + Q.
    op kv_b = c.linear("kv_b_proj", r, h * (dn + dv));
    const double grow = (p.tokens + p.context) / p.tokens;
    kv_b.work = kv_b.work * grow;
    kv_b.moved.activations = kv_b.moved.activations * grow;
    kv_b.gemm.m *= grow;
    kv_b.parallel *= grow;
    sink(kv_b);
    const double kv_rows = p.batch * (p.tokens + p.context);
    sink(op{"attention",
            op_class::attention,
            c.m.dtypes.activations,
            c.at,
            p.batch * chunk_scores(p.tokens, p.context, 0, a.attention_causal_factor) *
                attention_flops_per_key(a, h, qk, dv, false) * flop,
            {.activations = (c.rows() * h * (qk + dv) + kv_rows * h * (qk + dv)) * c.ba * byte,
             .kv_cache = (c.rows() + p.batch * p.context) * latent_bytes * byte},
            {},
            p.batch * h * std::ceil(p.tokens / attention_tile),
            p.tokens + p.context,
            head_item_size(qk, dv)});
    sink(c.linear("out_proj", h * dv, d));
    c.reduce("attn_all_reduce", "attn_reduce_scatter", "attn_all_gather", d, sink);
    return;
  }
  // Per-head GEMMs: H GEMMs of B rows, grouped in one kernel (a batched GEMM).
  const auto per_head = [&](std::string_view name, double in, double out) {
    return op{name,
              op_class::matrix,
              c.compute(weight_kind::mixer),
              c.at,
              2 * c.rows() * h * in * out * flop,
              {.weights = h * in * out * c.bw(weight_kind::mixer) * byte,
               .activations = c.rows() * h * (in + out) * c.ba * byte},
              {c.rows(), out, in, h},
              c.rows()};
  };
  sink(per_head("q_absorb", dn, r));
  const double keys = mean_keys(p, 0), cached = mean_cache_read(p, 0);
  sink(op{"attention",
          op_class::decode_attention,
          c.m.dtypes.activations,
          c.at,
          p.batch * keys * attention_flops_per_key(a, h, r + dr, r, false) * flop,
          {.kv_cache = p.batch * (cached + 1) * latent_bytes * byte},
          {},
          p.batch * std::ceil(h / mla_head_group),
          std::max(keys, attention_tile),
          head_item_size(r + dr, r),
          true});
  sink(per_head("v_absorb", r, dv));
  sink(c.linear("out_proj", h * dv, d));
  c.reduce("attn_all_reduce", "attn_reduce_scatter", "attn_all_gather", d, sink);
}

/// Parameters: q_a d q_rank + q_b q_rank H (nope + rope) (or q d H (nope + rope)), kv_a
/// d (kv_rank + rope), kv_b kv_rank H (nope + v), o H v d; norms q_rank + kv_rank.
constexpr param_count mla_params(const model_spec& m, const mla_mixer& x) {
  const double d = m.d_model, h = x.n_heads, qk = double(x.nope_dim) + x.rope_dim;
  param_count p{};
  p[weight_kind::mixer] = (x.q_rank > 0 ? d * x.q_rank + double(x.q_rank) * h * qk : d * h * qk) +
                          d * (double(x.kv_rank) + x.rope_dim) +
                          double(x.kv_rank) * h * (double(x.nope_dim) + x.v_dim) + h * x.v_dim * d;
  p[weight_kind::vectors] = double(x.q_rank) + x.kv_rank;
  return p;
}

/// KV cache per sequence after n tokens: n (kv_rank + rope) b_kv; live width in the prefill:
/// the normed input, queries, the latent and the decompressed keys and values.
constexpr layer_memory mla_memory(const model_spec& m, const mla_mixer& x, double tokens) {
  const double h = x.n_heads, qk = double(x.nope_dim) + x.rope_dim;
  return {.kv_bytes = tokens * (double(x.kv_rank) + x.rope_dim) * m.dtypes.kv_cache.bytes_per_element(),
          .act_width = m.d_model + x.q_rank + h * qk + x.kv_rank + x.rope_dim + h * (x.nope_dim + x.v_dim)};
}

/// The spec's rules for an MLA mixer: sizes in bounds, q_rank from 0 (no low-rank query).
inline std::optional<spec_violation> check_spec(const model_spec&, const mla_mixer& l, const spec_rules& r) {
  if (auto v = r.first_out_of_bounds({{"n_heads", l.n_heads, max_width},
                                      {"kv_rank", l.kv_rank, max_width},
                                      {"nope_dim", l.nope_dim, max_width},
                                      {"rope_dim", l.rope_dim, max_width},
                                      {"v_dim", l.v_dim, max_width}}))
    return v;
  if (l.q_rank < 0 || l.q_rank > max_width)
    return r.violation("q_rank", "'q_rank' must be from 0 to 1048576");
  return std::nullopt;
}

/// Tensor parallelism splits the heads (the latent cache is whole on every rank).
inline void check_layout(const model_spec&, const mla_mixer& l, const layout_rules& r) {
  r.divides("heads", l.n_heads, r.L.tp, "tp");
}

}  // namespace roofline::detail
