/// State-space mixers: Mamba-1 (selective scan, as in Jamba) and Mamba-2 (SSD, chunked).
#pragma once

#include <algorithm>

#include "roofline/graph/mlstm.hpp"

namespace roofline::detail {

/// A causal depthwise conv1d of width k over `channels` (with a bias) and its SiLU, on every
/// token: FLOPs B T channels (2 k + bias + swish); bytes: the channels read and written,
/// 2 B T channels b_a, and the conv weights. Decode also reads and writes each sequence's
/// window of the last k - 1 inputs (the conv state, at b_a, as mamba_ssm and vLLM keep it).
constexpr op conv1d_op(const counting& c, double channels, double k, bool bias) {
  op o = c.elementwise("conv1d", c.rows() * channels * (2 * k + (bias ? 1 : 0) + c.m.accounting.swish_flops),
                       2 * c.rows() * channels * c.ba, channels * (k + (bias ? 1 : 0)) * c.b_vec);
  if (c.p.phase == phase::decode) o.moved.state += 2 * c.p.batch * channels * (k - 1) * c.ba * byte;
  return o;
}

// ---- Mamba-1 ---------------------------------------------------------------------------------

/// FLOPs of the selective scan per token and channel (Gu and Dao, arXiv 2312.00752, Alg. 2):
/// per state element, dA = exp(dt A) (1 + exp), dt B x (2), h = dA h + dt B x (2), y += C h
/// (2): N (7 + exp); per channel, dt = softplus(dt) (1 + exp + log), D x skip (2), the gate
/// y silu(z) (swish + 1).
constexpr double mamba1_scan_flops(const accounting& a, double n) {
  return n * (7 + a.exp_flops) + (1 + a.exp_flops + a.log_flops) + 2 + (a.swish_flops + 1);
}

/// A Mamba-1 layer: in_proj d -> 2 d_i (x and z), conv1d over d_i, x_proj d_i -> dt_rank + 2N,
/// (Jamba: RMSNorms of dt, B, C), dt_proj dt_rank -> d_i with bias, the selective scan,
/// out_proj d_i -> d. The scan is elementwise fp32 work on the vector units (class vector:
/// the reference kernel runs one thread block per sequence and channel block on CUDA cores,
/// with no matrix product), prefill and decode alike. Its bytes: x, dt, z read and y written
/// (4 B T d_i b_a), B and C (2 B T N b_a), A and D (d_i (N + 1) b_vec), and the state h of
/// d_i N elements: the prefill writes the last one, a decode step reads and writes it.
/// Over tp ranks (as vLLM shards Jamba's Mamba): d_i / tp channels each; x_proj is
/// row-parallel, so its dt_rank + 2N outputs are reduced, and so are out_proj's.
template <class Sink>
constexpr void emit_mamba1(const counting& c, const mamba1_mixer& x, Sink&& sink) {
  const accounting& a = c.m.accounting;
  const double d = c.m.d_model, di = c.share(double(x.expand) * d), n = x.d_state, r = x.dt_rank;
  const double bs = size_bytes(c.m.dtypes.state);
  sink(c.linear("in_proj", d, 2 * di, weight_kind::mixer, x.proj_bias));
  sink(conv1d_op(c, di, x.d_conv, x.conv_bias));
  sink(c.linear("x_proj", di, r + 2 * n));
  if (c.L.tp > 1)
    sink(c.collective_op("x_proj_all_reduce", collective::all_reduce, c.L.tp, c.rows() * (r + 2 * n) * c.ba));
  if (x.inner_norms)
    sink(c.elementwise("dt_bc_norms", c.rows() * (r + 2 * n) * a.norm_flops, c.rows() * (r + 2 * n) * c.ba,
                       (r + 2 * n) * c.b_vec));
  sink(c.linear("dt_proj", r, di, weight_kind::mixer, true));
  op scan = c.elementwise("selective_scan", c.rows() * di * mamba1_scan_flops(a, n),
                          c.rows() * (4 * di + 2 * n) * c.ba, di * (n + 1) * c.b_vec);
  scan.moved.state = (c.p.phase == phase::prefill ? 1 : 2) * c.p.batch * di * n * bs * byte;
  sink(scan);
  sink(c.linear("out_proj", di, d, weight_kind::mixer, x.proj_bias));
  c.reduce("mamba_all_reduce", "mamba_reduce_scatter", "mamba_all_gather", d, sink);
}

/// Parameters: in_proj 2 d d_i, x_proj d_i (dt_rank + 2N), dt_proj dt_rank d_i, out_proj
/// d_i d in matrices; conv d_i (d_conv + bias), dt bias d_i, A d_i N, D d_i, biases of
/// in_proj and out_proj, Jamba's inner norms dt_rank + 2N in vectors.
constexpr param_count mamba1_params(const model_spec& m, const mamba1_mixer& x) {
  const double d = m.d_model, di = double(x.expand) * d, n = x.d_state, r = x.dt_rank;
  param_count p{};
  p[weight_kind::mixer] = 2 * d * di + di * (r + 2 * n) + r * di + di * d;
  p[weight_kind::vectors] = di * (x.d_conv + (x.conv_bias ? 1 : 0)) + di + di * n + di +
                            (x.proj_bias ? 2 * di + d : 0) + (x.inner_norms ? r + 2 * n : 0);
  return p;
}

/// State per sequence: d_i N b_s (h) + d_i (d_conv - 1) b_a (conv window); live width in the
/// prefill: the normed input, x and z, dt, B and C.
constexpr layer_memory mamba1_memory(const model_spec& m, const mamba1_mixer& x) {
  const double di = double(x.expand) * m.d_model;
  return {.state_bytes = di * x.d_state * size_bytes(m.dtypes.state) +
                         di * (x.d_conv - 1) * size_bytes(m.dtypes.activations),
          .act_width = m.d_model + 3 * di + x.dt_rank + 2.0 * x.d_state};
}

// ---- Mamba-2 ---------------------------------------------------------------------------------

/// Mamba-2's sizes: inner width d_i = expand d, heads H = d_i / P, conv channels d_i + 2 G N;
/// on one of tp ranks, d_i / tp and H / tp, and G / tp groups (every group, a copy, when
/// tp > G, as vLLM shards them).
struct mamba2_sizes {
  double di, heads, p, n, g, conv;
};
constexpr mamba2_sizes sizes(const mamba2_mixer& x, double d, double tp = 1) {
  const double di = x.expand * d / tp, g = x.n_groups >= tp ? x.n_groups / tp : x.n_groups;
  return {di, di / x.head_dim, double(x.head_dim), double(x.d_state), g, di + 2.0 * g * x.d_state};
}

/// FLOPs of one chunk of Q tokens of the SSD algorithm (Dao and Gu, arXiv 2405.21060, Sec. 6),
/// per sequence, with causal factor c: per group the scores C B^T, c 2 Q^2 N; per head the
/// decay mask (segment sums and exp, c Q^2 (1 + exp)) applied to the scores (c Q^2) and the
/// product with X (c 2 Q^2 P); the chunk's state B^T X (2 Q N P + Q P for the decay
/// weights), the state passed on (2 N P + exp), its output C h (2 Q N P + Q P); the skip D x
/// (2 Q P); dt = softplus (1 + exp + log), dA, cumulative sum per token (Q (3 + exp + log)).
constexpr double ssd_chunk_flops(const accounting& a, double q, const mamba2_sizes& s) {
  const double c = a.ssm_causal_factor;
  const double per_head = c * q * q * (2 * s.p + 2 + a.exp_flops) + 4 * q * s.n * s.p + 4 * q * s.p +
                          2 * s.n * s.p + a.exp_flops + q * (3 + a.exp_flops + a.log_flops);
  return s.g * c * 2 * q * q * s.n + s.heads * per_head;
}

/// FLOPs of one recurrent step per head: dt softplus and dA = exp(dt A) (3 + 2 exp + log),
/// h = dA h + (dt x) B (3 N P + P), y = C h (2 N P), D x (2 P).
constexpr double ssd_step_flops(const accounting& a, const mamba2_sizes& s) {
  return 3 + 2 * a.exp_flops + a.log_flops + 5 * s.n * s.p + 3 * s.p;
}

/// The SSD cell of one layer (class recurrent in the prefill, recurrent_step in decode).
/// Prefill: ceil(T / Q) chunks (padded, as the mLSTM's: accounting::partial_chunk); one work
/// item per sequence and head walking its chunks (the state passing is sequential in the
/// chunks); bytes: x, B, C, dt read and y written, B T (2 d_i + 2 G N + H) b_a, and each
/// chunk's state written and read back, 2 B H n P N b_s. Decode: one item per sequence and
/// head; the state read and written, 2 B H P N b_s.
constexpr op ssd_op(const counting& c, const mamba2_mixer& x) {
  const mamba2_sizes s = sizes(x, c.m.d_model, c.tp());
  const double bs = size_bytes(c.m.dtypes.state), heads_b = c.p.batch * s.heads;
  const double acts = c.rows() * (2 * s.di + 2 * s.g * s.n + s.heads) * c.ba;
  const double item = head_item_size(s.n, s.p);
  if (c.p.phase == phase::prefill &&
      !(c.p.tokens == 1 && c.m.accounting.partial_chunk == partial_chunk::pad)) {
    const double q = x.chunk_size, n = chunk_count(c.m, c.p.tokens, q);
    return {"ssd",
            op_class::recurrent,
            c.m.dtypes.activations,
            c.at,
            c.p.batch * n * ssd_chunk_flops(c.m.accounting, q, s) * flop,
            {.activations = acts * byte, .state = 2 * heads_b * n * s.p * s.n * bs * byte},
            {},
            heads_b,
            n,
            item};
  }
  return {"ssd",
          op_class::recurrent_step,
          c.m.dtypes.activations,
          c.at,
          heads_b * ssd_step_flops(c.m.accounting, s) * flop,
          {.activations = acts * byte, .state = 2 * heads_b * s.p * s.n * bs * byte},
          {},
          heads_b,
          0,
          item};
}

/// A Mamba-2 layer: in_proj d -> 2 d_i + 2 G N + H (z, x, B, C, dt), conv1d over x, B, C, the
/// SSD cell, the gated RMSNorm norm(y silu(z)) (B T d_i (norm + swish + 1) FLOPs, y and z
/// read, B T 2 d_i b_a), out_proj d_i -> d.
template <class Sink>
constexpr void emit_mamba2(const counting& c, const mamba2_mixer& x, Sink&& sink) {
  const mamba2_sizes s = sizes(x, c.m.d_model, c.tp());
  const accounting& a = c.m.accounting;
  sink(c.linear("in_proj", c.m.d_model, 2 * s.di + 2 * s.g * s.n + s.heads, weight_kind::mixer, x.proj_bias));
  sink(conv1d_op(c, s.conv, x.d_conv, x.conv_bias));
  sink(ssd_op(c, x));
  sink(c.elementwise("gated_norm", c.rows() * s.di * (a.norm_flops + a.swish_flops + 1),
                     2 * c.rows() * s.di * c.ba, s.di * c.b_vec));
  sink(c.linear("out_proj", s.di, c.m.d_model, weight_kind::mixer, x.proj_bias));
  c.reduce("mamba_all_reduce", "mamba_reduce_scatter", "mamba_all_gather", c.m.d_model, sink);
}

/// Parameters: in_proj d (2 d_i + 2 G N + H), out_proj d_i d in matrices; conv
/// (d_i + 2 G N)(d_conv + bias), dt bias, A, D (H each), the gated norm d_i, biases in vectors.
constexpr param_count mamba2_params(const model_spec& m, const mamba2_mixer& x) {
  const double d = m.d_model;
  const mamba2_sizes s = sizes(x, d);
  const double in = 2 * s.di + 2 * s.g * s.n + s.heads;
  param_count p{};
  p[weight_kind::mixer] = d * in + s.di * d;
  p[weight_kind::vectors] =
      s.conv * (x.d_conv + (x.conv_bias ? 1 : 0)) + 3 * s.heads + s.di + (x.proj_bias ? in + d : 0);
  return p;
}

/// State per sequence: H P N b_s + (d_i + 2 G N)(d_conv - 1) b_a; live width in the prefill:
/// the normed input and the in_proj outputs; the chunk states of a prompt of P tokens,
/// ceil(P / Q) H P N b_s.
constexpr layer_memory mamba2_memory(const model_spec& m, const mamba2_mixer& x, double prompt) {
  const mamba2_sizes s = sizes(x, m.d_model);
  const double ssm = s.heads * s.p * s.n * size_bytes(m.dtypes.state);
  return {.state_bytes = ssm + s.conv * (x.d_conv - 1) * size_bytes(m.dtypes.activations),
          .act_width = m.d_model + 2 * s.di + 2 * s.g * s.n + s.heads,
          .extra_bytes = std::ceil(prompt / x.chunk_size) * ssm};
}

/// The spec's rules for a Mamba-1 mixer: sizes in bounds (a conv of at most 1,024, expand at most 64).
inline std::optional<spec_violation> check_spec(const model_spec&, const mamba1_mixer& s,
                                                const spec_rules& r) {
  return r.first_out_of_bounds({{"d_state", s.d_state, max_width},
                                {"d_conv", s.d_conv, 1024},
                                {"expand", s.expand, 64},
                                {"dt_rank", s.dt_rank, max_width}});
}

/// The spec's rules for a Mamba-2 mixer: sizes in bounds, head_dim divides expand x d_model, and
/// n_groups divides the heads.
inline std::optional<spec_violation> check_spec(const model_spec& m, const mamba2_mixer& s,
                                                const spec_rules& r) {
  if (auto v = r.first_out_of_bounds({{"d_state", s.d_state, max_width},
                                      {"d_conv", s.d_conv, 1024},
                                      {"expand", s.expand, 64},
                                      {"head_dim", s.head_dim, max_width},
                                      {"n_groups", s.n_groups, max_width},
                                      {"chunk_size", s.chunk_size, max_width}}))
    return v;
  const std::int64_t inner = std::int64_t(s.expand) * m.d_model;
  if (inner % s.head_dim != 0)
    return r.violation("head_dim",
                       fmt::format("'head_dim' ({}) must divide expand x d_model ({})", s.head_dim, inner));
  if ((inner / s.head_dim) % s.n_groups != 0)
    return r.violation("n_groups", fmt::format("'n_groups' ({}) must divide the heads ({})", s.n_groups,
                                               inner / s.head_dim));
  return std::nullopt;
}

/// Tensor parallelism splits Mamba-1's inner channels.
inline void check_layout(const model_spec& m, const mamba1_mixer& s, const layout_rules& r) {
  r.divides("inner channels", s.expand * m.d_model, r.L.tp, "tp");
}

/// Tensor parallelism splits Mamba-2's heads and its B, C groups (or copies them).
inline void check_layout(const model_spec& m, const mamba2_mixer& s, const layout_rules& r) {
  r.divides("heads", s.expand * m.d_model / s.head_dim, r.L.tp, "tp");
  r.tp_divides_or_multiple("groups", s.n_groups);
}

}  // namespace roofline::detail
