/// Gated DeltaNet (Qwen3-Next's linear-attention layers): chunked delta rule in prefill, recurrent in decode.
#pragma once

#include "roofline/graph/mamba.hpp"

namespace roofline::detail {

/// FLOPs of one chunk of C tokens per value head, chunkwise gated delta rule in the WY form
/// (Yang, Kautz, Hatamizadeh, arXiv 2412.06464, Sec. 3.3; flash-linear-attention's
/// chunk_gated_delta_rule), causal factor c: the decay mask (cumulative gates, c C^2 (1 + exp)),
/// K K^T (c 2 C^2 d_k), the triangular inverse of (I + A) (C^3 / 3), W = T K and U = T V
/// (2 C^2 (d_k + d_v)), U - W S (2 C d_k d_v), Q S (2 C d_k d_v + C d_v for the decay),
/// (Q K^T * mask) (U - W S) (c 2 C^2 (d_k + d_v)), the state update S decay + K^T V'
/// (2 C d_k d_v + d_k d_v), and per token l2-normed q and k (2 d_k norm) and the gates
/// beta = sigmoid(b), g = -exp(A) softplus(a + dt_bias) (sigmoid + 3 + exp + log).
constexpr double delta_chunk_flops(const accounting& a, double q, double dk, double dv) {
  const double c = a.ssm_causal_factor;
  return c * q * q * (1 + a.exp_flops) + c * 2 * q * q * dk + q * q * q / 3 + 2 * q * q * (dk + dv) +
         6 * q * dk * dv + q * dv + dk * dv + c * 2 * q * q * (dk + dv) +
         q * (2 * dk * a.norm_flops + a.sigmoid_flops + 3 + a.exp_flops + a.log_flops);
}

/// FLOPs of one recurrent step per value head: S decay (d_k d_v), S^T k (2 d_k d_v), the delta
/// beta (v - S^T k) (2 d_v + 1), S += k delta^T (2 d_k d_v), o = S^T q (2 d_k d_v), the gates and
/// l2 norms as in the chunk.
constexpr double delta_step_flops(const accounting& a, double dk, double dv) {
  return 7 * dk * dv + 2 * dv + 1 + 2 * dk * a.norm_flops + a.sigmoid_flops + 3 + a.exp_flops + a.log_flops;
}

/// A Gated DeltaNet layer: in_proj_qkvz d -> 2 n_k d_k + 2 n_v d_v, in_proj_ba d -> 2 n_v,
/// conv1d over q, k, v (no bias), the delta rule, the gated RMSNorm norm(o) silu(z) over
/// n_v d_v, out_proj n_v d_v -> d. The delta rule: class recurrent in the prefill (one work
/// item per sequence and value head walking its ceil(T / C) chunks; chunk states written and
/// read back, 2 B n_v n d_k d_v b_s), recurrent_step in decode (the state read and written,
/// 2 B n_v d_k d_v b_s); activations q, k, v, beta, g read and o written,
/// B T (2 n_k d_k + 2 n_v d_v + 2 n_v) b_a.
/// Over tp ranks: n_k / tp key heads and n_v / tp value heads each, out_proj reduced.
template <class Sink>
constexpr void emit_deltanet(const counting& c, const deltanet_mixer& x, Sink&& sink) {
  const accounting& a = c.m.accounting;
  const double d = c.m.d_model, dk = x.k_head_dim, dv = x.v_head_dim, nk = c.share(x.n_k_heads),
               nv = c.share(x.n_v_heads);
  const double key_dim = nk * dk, value_dim = nv * dv, bs = size_bytes(c.m.dtypes.state);
  sink(c.linear("in_proj_qkvz", d, 2 * key_dim + 2 * value_dim));
  sink(c.linear("in_proj_ba", d, 2 * nv));
  sink(conv1d_op(c, 2 * key_dim + value_dim, x.conv_size, false));
  const double heads_b = c.p.batch * nv, acts = c.rows() * (2 * key_dim + 2 * value_dim + 2 * nv) * c.ba;
  const double item = head_item_size(dk, dv);
  if (c.p.phase == phase::prefill && !(c.p.tokens == 1 && a.partial_chunk == partial_chunk::pad)) {
    const double q = x.chunk_size, n = chunk_count(c.m, c.p.tokens, q);
    sink(op{"delta_rule",
            op_class::recurrent,
            c.m.dtypes.activations,
            c.at,
            heads_b * n * delta_chunk_flops(a, q, dk, dv) * flop,
            {.activations = acts * byte, .state = 2 * heads_b * n * dk * dv * bs * byte},
            {},
            heads_b,
            n,
            item});
  } else {
    sink(op{"delta_rule",
            op_class::recurrent_step,
            c.m.dtypes.activations,
            c.at,
            heads_b * delta_step_flops(a, dk, dv) * flop,
            {.activations = acts * byte, .state = 2 * heads_b * dk * dv * bs * byte},
            {},
            heads_b,
            0,
            item});
  }
  sink(c.elementwise("gated_norm", c.rows() * value_dim * (a.norm_flops + a.swish_flops + 1),
                     2 * c.rows() * value_dim * c.ba, dv * c.b_vec));
  sink(c.linear("out_proj", value_dim, d));
  c.reduce("deltanet_all_reduce", "deltanet_reduce_scatter", "deltanet_all_gather", d, sink);
}

/// Parameters: in_proj_qkvz d (2 n_k d_k + 2 n_v d_v), in_proj_ba d 2 n_v, out_proj n_v d_v d in
/// matrices; conv (2 n_k d_k + n_v d_v) conv_size, dt bias and A (n_v each), the norm d_v
/// (shared by the heads) in vectors.
constexpr param_count deltanet_params(const model_spec& m, const deltanet_mixer& x) {
  const double d = m.d_model, key_dim = double(x.n_k_heads) * x.k_head_dim,
               value_dim = double(x.n_v_heads) * x.v_head_dim;
  param_count p{};
  p[weight_kind::mixer] = d * (2 * key_dim + 2 * value_dim) + d * 2 * x.n_v_heads + value_dim * d;
  p[weight_kind::vectors] = (2 * key_dim + value_dim) * x.conv_size + 2.0 * x.n_v_heads + x.v_head_dim;
  return p;
}

/// State per sequence: n_v d_k d_v b_s + (2 n_k d_k + n_v d_v)(conv_size - 1) b_a; live width in
/// the prefill: the normed input and the projections; the chunk states of a prompt of P
/// tokens, ceil(P / C) n_v d_k d_v b_s.
constexpr layer_memory deltanet_memory(const model_spec& m, const deltanet_mixer& x, double prompt) {
  const double key_dim = double(x.n_k_heads) * x.k_head_dim, value_dim = double(x.n_v_heads) * x.v_head_dim;
  const double s = double(x.n_v_heads) * x.k_head_dim * x.v_head_dim * size_bytes(m.dtypes.state);
  return {.state_bytes = s + (2 * key_dim + value_dim) * (x.conv_size - 1) * size_bytes(m.dtypes.activations),
          .act_width = m.d_model + 2 * key_dim + 2 * value_dim + 2.0 * x.n_v_heads,
          .extra_bytes = std::ceil(prompt / x.chunk_size) * s};
}

/// The spec's rules for a Gated DeltaNet mixer: sizes in bounds, n_k_heads divides n_v_heads.
inline std::optional<spec_violation> check_spec(const model_spec&, const deltanet_mixer& g,
                                                const spec_rules& r) {
  if (auto v = r.first_out_of_bounds({{"n_k_heads", g.n_k_heads, max_width},
                                      {"n_v_heads", g.n_v_heads, max_width},
                                      {"k_head_dim", g.k_head_dim, max_width},
                                      {"v_head_dim", g.v_head_dim, max_width},
                                      {"conv_size", g.conv_size, 1024},
                                      {"chunk_size", g.chunk_size, max_width}}))
    return v;
  if (g.n_v_heads % g.n_k_heads != 0)
    return r.violation(
        "n_k_heads", fmt::format("'n_k_heads' ({}) must divide 'n_v_heads' ({})", g.n_k_heads, g.n_v_heads));
  return std::nullopt;
}

/// Tensor parallelism splits the key and the value heads.
inline void check_layout(const model_spec&, const deltanet_mixer& g, const layout_rules& r) {
  r.divides("key heads", g.n_k_heads, r.L.tp, "tp");
  r.divides("value heads", g.n_v_heads, r.L.tp, "tp");
}

}  // namespace roofline::detail
