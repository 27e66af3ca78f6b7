/// Multi-head latent attention (DeepSeek-V2/V3): low-rank q and kv, decoupled RoPE key, latent KV cache.
#pragma once

#include <algorithm>

#include "roofline/graph/attention.hpp"

namespace roofline::detail {

/// Query heads one MLA decode work item serves: FlashMLA runs a thread block per sequence
/// and tile of 64 query heads (its block_h), all reading the same latent cache.
inline constexpr double mla_head_group = 64;

/// Keys the queries of a chunk of T tokens after Q cached ones attend to when each takes at most
/// K of them (DeepSeek Sparse Attention's top-k; exact, no causal factor: the selected keys are
/// gathered, not tiled): sum over i = 0 .. T - 1 of min(Q + i + 1, K).
constexpr double sparse_keys(double t, double q, double k) {
  const double below = std::clamp(k - q, 0.0, t);  // queries that see all Q + i + 1 keys
  return below * q + below * (below + 1) / 2 + (t - below) * k;
}

/// Bytes a token takes in the indexer's key cache: index_head_dim fp8 values and one fp32 scale
/// (DeepSeek-V3.2's indexer cache, as its inference code keeps it).
constexpr double index_key_bytes(const mla_mixer& x) { return x.index_head_dim + 4.0; }

/// DeepSeek Sparse Attention's lightning indexer (DeepSeek-V3.2-Exp technical report, 2025,
/// section 2.1): from the compressed query, index_q q_rank -> H_I d_I; from the input, one
/// index key d -> d_I (LayerNorm'd, cached) and per-head weights d -> H_I; every query scores
/// every key it may see, sum over heads of w relu(q k): per pair H_I (2 d_I + 2) FLOPs (a
/// prompt's causal pairs, chunk_scores with the attention causal factor; a decode step's cached
/// keys); the scores are written out in fp32 and read back by the top-k selection (one compare a
/// score), as the engines' fp8 logits kernels and top-k kernels run them.
template <class Sink>
constexpr void emit_indexer(const counting& c, const mla_mixer& x, Sink&& sink) {
  const accounting& a = c.m.accounting;
  const double d = c.m.d_model, hi = x.index_heads, di = x.index_head_dim;
  sink(c.linear("index_q", x.q_rank, hi * di));
  sink(c.linear("index_k", d, di));
  sink(c.elementwise("index_k_norm", c.rows() * di * a.norm_flops, c.rows() * di * c.ba, 2 * di * c.b_vec));
  sink(c.linear("index_weights", d, hi));
  const pass& p = c.p;
  const bool pre = p.phase == phase::prefill;
  const double pairs =
      pre ? chunk_scores(p.tokens, p.context, 0, a.attention_causal_factor) : mean_keys(p, 0);
  const double cached = pre ? p.context : mean_cache_read(p, 0);
  op scores{"indexer",
            pre ? op_class::attention : op_class::decode_attention,
            c.m.dtypes.activations,
            c.at,
            p.batch * pairs * hi * (2 * di + 2) * flop,
            {.activations = (c.rows() * hi * (di + 1) * c.ba + p.batch * pairs * 4) * byte,
             .kv_cache = (c.rows() + p.batch * cached) * index_key_bytes(x) * byte},
            {},
            pre ? p.batch * std::ceil(p.tokens / attention_tile) : p.batch,
            pre ? p.tokens + p.context : std::max(pairs, attention_tile),
            head_item_size(di, 0)};
  sink(scores);
  sink(c.elementwise("index_topk", p.batch * pairs, p.batch * pairs * 4));
}

/// emit_mla's dense prompt: kv_b_proj decompresses keys and values, then MHA over them, the output
/// projection and its reduction (see emit_mla).
template <class Sink>
constexpr void emit_mla_decompressed(const counting& c, const mla_mixer& x, Sink&& sink) {
  const accounting& a = c.m.accounting;
  const double d = c.m.d_model, h = c.share(x.n_heads), r = x.kv_rank, dn = x.nope_dim, dr = x.rope_dim,
               dv = x.v_dim;
  const double qk = dn + dr, latent_bytes = (r + dr) * c.m.dtypes.kv_cache.bytes_per_element();
  const pass& p = c.p;
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
}

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
/// Sparse (index_topk > 0: DeepSeek-V3.2, GLM-5): the indexer (emit_indexer) picks each query's
///   top K keys, and prompts as well as decode steps run the absorbed form over them (the
///   report's MQA mode of MLA): sparse_keys(T, Q, K) keys for a chunk, min(keys, K) for a step,
///   their latents gathered (read once per query's selection, B keys (kv_rank + rope) b_kv).
/// Over tp ranks (as vLLM and SGLang shard MLA): the heads are split (q_b, kv_b, the absorbed
/// products, o), q_a and kv_a and their norms run whole on every rank, and every rank holds
/// the whole latent cache; the output projection's partial sums are reduced. The indexer runs
/// whole on every rank (its heads are not split).
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
  if (x.index_topk > 0) emit_indexer(c, x, sink);
  if (p.phase == phase::prefill && x.index_topk == 0) {
    emit_mla_decompressed(c, x, sink);
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
  const double k = x.index_topk;
  if (p.phase == phase::prefill) {  // sparse: each of the chunk's queries over its selected latents
    const double keys = sparse_keys(p.tokens, p.context, k);
    sink(op{"attention",
            op_class::attention,
            c.m.dtypes.activations,
            c.at,
            p.batch * keys * attention_flops_per_key(a, h, r + dr, r, false) * flop,
            {.activations = c.rows() * h * (r + dr + r) * c.ba * byte,
             .kv_cache = (c.rows() + p.batch * keys) * latent_bytes * byte},
            {},
            p.batch * std::ceil(h / mla_head_group) * std::ceil(p.tokens / attention_tile),
            std::min(p.tokens + p.context, k),
            head_item_size(r + dr, r)});
  } else {
    const double keys = mean_keys(p, k), cached = mean_cache_read(p, k);
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
  }
  sink(per_head("v_absorb", r, dv));
  sink(c.linear("out_proj", h * dv, d));
  c.reduce("attn_all_reduce", "attn_reduce_scatter", "attn_all_gather", d, sink);
}

/// Parameters: q_a d q_rank + q_b q_rank H (nope + rope) (or q d H (nope + rope)), kv_a
/// d (kv_rank + rope), kv_b kv_rank H (nope + v), o H v d; norms q_rank + kv_rank; a sparse
/// layer's indexer q_rank H_I d_I + d d_I + d H_I and its key norm 2 d_I.
constexpr param_count mla_params(const model_spec& m, const mla_mixer& x) {
  const double d = m.d_model, h = x.n_heads, qk = double(x.nope_dim) + x.rope_dim;
  param_count p{};
  p[weight_kind::mixer] = (x.q_rank > 0 ? d * x.q_rank + double(x.q_rank) * h * qk : d * h * qk) +
                          d * (double(x.kv_rank) + x.rope_dim) +
                          double(x.kv_rank) * h * (double(x.nope_dim) + x.v_dim) + h * x.v_dim * d;
  p[weight_kind::vectors] = double(x.q_rank) + x.kv_rank;
  if (x.index_topk > 0) {  // the indexer: index_q, index_k, index_weights; the key's LayerNorm
    const double hi = x.index_heads, di = x.index_head_dim;
    p[weight_kind::mixer] += double(x.q_rank) * hi * di + d * di + d * hi;
    p[weight_kind::vectors] += 2 * di;
  }
  return p;
}

/// KV cache per sequence after n tokens: n (kv_rank + rope) b_kv (+ n index_key_bytes for a sparse
/// layer's indexer keys); live width in the prefill:
/// the normed input, queries, the latent and the decompressed keys and values.
constexpr layer_memory mla_memory(const model_spec& m, const mla_mixer& x, double tokens) {
  const double h = x.n_heads, qk = double(x.nope_dim) + x.rope_dim;
  const double index = x.index_topk > 0 ? index_key_bytes(x) : 0;  // the indexer's key cache
  return {
      .kv_bytes = tokens * ((double(x.kv_rank) + x.rope_dim) * m.dtypes.kv_cache.bytes_per_element() + index),
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
