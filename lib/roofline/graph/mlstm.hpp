/// The mLSTM layer of xLSTM-7B: projections, gates, the chunkwise/recurrent cell, output gate and norm.
#pragma once

#include "roofline/graph/common.hpp"

namespace roofline::detail {

/// Chunks of a prefill of T tokens with chunk size L (see accounting::partial_chunk).
constexpr double chunk_count(const model_spec& m, double tokens, double chunk) {
  const double t_over_l = tokens / chunk;
  return m.accounting.partial_chunk == partial_chunk::fraction ? t_over_l : std::ceil(t_over_l);
}

/// FLOPs of one head over one chunk of L tokens in the chunkwise-parallel mLSTM
/// (Beck et al., App. D.1, "mLSTMexp" chunkwise):
///   inter-chunk recurrence  2L + L(L+1)/2 + L(1+exp+log+sig) + 3 + max + exp
///                           + 2 d_qk d_v + 2 L d_qk d_v + L d_qk + 2 d_qk + 2 L d_qk
///   intra-chunk outputs     L(L+1)/2 + L(log+sig) + c (L^2 (3+exp+max) + L(1+max))
///                           + c (2 L^2 (d_qk+d_v) + 3 L^2)
///   inter-chunk outputs     2 L d_qk d_v + 3 L d_qk
///   combination             2 L d_v + L(1+max+abs+exp)
constexpr double mlstm_chunk_flops(const accounting& a, double l, double dqk, double dv) {
  const double c = a.mlstm_causal_factor;
  const double recurrence = 2 * l + 0.5 * l * (l + 1) +
                            l * (1 + a.exp_flops + a.log_flops + a.sigmoid_flops) + 3 + a.max_flops +
                            a.exp_flops + 2 * dqk * dv + 2 * l * dqk * dv + l * dqk + 2 * dqk + 2 * l * dqk;
  const double intra = 0.5 * l * (l + 1) + l * (a.log_flops + a.sigmoid_flops) +
                       c * (l * l * (3 + a.exp_flops + a.max_flops) + l * (1 + a.max_flops)) +
                       c * (2 * l * l * (dqk + dv) + 3 * l * l);
  const double inter = 2 * l * dqk * dv + 3 * l * dqk;
  const double combine = 2 * l * dv + l * (1 + a.max_flops + a.abs_flops + a.exp_flops);
  return recurrence + intra + inter + combine;
}

/// FLOPs of one head for one recurrent step (App. D.1, recurrent):
///   gates 4 + 2 exp + log + sig + max; C update 4 d_qk d_v;
///   denominator 6 d_qk + d_v + 1 + abs + max; output 2 d_v d_qk + d_qk.
constexpr double mlstm_step_flops(const accounting& a, double dqk, double dv) {
  return 4 + 2 * a.exp_flops + a.log_flops + a.sigmoid_flops + a.max_flops + 4 * dqk * dv + 6 * dqk + dv + 1 +
         a.abs_flops + a.max_flops + 2 * dv * dqk + dqk;
}

/// Elements of the state of one head: C (d_qk x d_v), n (d_qk), m (1).
constexpr double mlstm_state_elements(double dqk, double dv) { return dqk * dv + dqk + 1; }

/// The mLSTM cell of one layer.
/// Prefill, per head and chunk: the recurrence loads k, v (L (d_qk + d_v) b_a) and the
///   gates (2 L b_a) and stores the chunk's state; the parallel part loads q, k, v
///   (L (2 d_qk + d_v) b_a), the gates and the state, and stores h (L d_v b_a) and the
///   per-token n, m (2 L b_s). State traffic: 2 (d_qk d_v + d_qk + 1) b_s.
/// Decode (and a one-token prefill, see below), per head: loads q, k, v, gates and the
/// state, stores h and the state.
/// Work items: one per sequence and head, B H. In the prefill each walks its n chunks one
/// after another (item steps n: the inter-chunk recurrence carries the state from chunk to
/// chunk), so few items (small batches) leave the GPU waiting on that loop.
constexpr op mlstm_cell_op(const counting& c, const mlstm_mixer& x) {
  const mlstm_heads h = heads(x, c.m.d_model);
  const double dqk = h.d_qk, dv = h.d_v, bs = size_bytes(c.m.dtypes.state), ba = c.ba;
  const double state_io = 2 * mlstm_state_elements(dqk, dv) * bs;
  const double heads_b = c.p.batch * c.share(h.n);
  // A one-token prompt runs the recurrent step, as xLSTM implementations do; only the
  // paper's fractional accounting counts it as 1/L of a chunk.
  const bool step =
      c.p.phase == phase::decode || (c.p.tokens == 1 && c.m.accounting.partial_chunk == partial_chunk::pad);
  if (!step) {
    const double l = x.chunk_size, n = chunk_count(c.m, c.p.tokens, l);
    const double acts =
        l * (dqk + dv) * ba + 2 * l * ba + l * (2 * dqk + dv) * ba + 2 * l * ba + l * dv * ba + 2 * l * bs;
    return {"mlstm_cell",
            op_class::recurrent,
            c.m.dtypes.activations,
            c.at,
            heads_b * n * mlstm_chunk_flops(c.m.accounting, l, dqk, dv) * flop,
            {.activations = heads_b * n * acts * byte, .state = heads_b * n * state_io * byte},
            {},
            heads_b,
            n,
            head_item_size(dqk, dv)};
  }
  return {
      "mlstm_cell",
      op_class::recurrent_step,
      c.m.dtypes.activations,
      c.at,
      heads_b * mlstm_step_flops(c.m.accounting, dqk, dv) * flop,
      {.activations = heads_b * ((2 * dqk + dv) + 2 + dv) * ba * byte, .state = heads_b * state_io * byte},
      {},
      heads_b,
      0,
      head_item_size(dqk, dv)};
}

/// An mLSTM layer: qkv projection d -> H (2 d_qk + d_v); input and forget gate pre-activations
/// d -> 2H with bias (FLOPs B T (2 d H + 2 H), bytes 2 B T (d + H) b_a: the paper counts each
/// gate's input read); the cell; output gate d -> H d_v; per-head norm of h and the sigmoid
/// output gate as one vector op (FLOPs B T H d_v (norm + sig), bytes B T H d_v b_a + the
/// norm's weights); output projection H d_v -> d.   (Beck et al., model_accounting)
/// Over tp ranks: H / tp heads each (projections column-parallel, the output projection
/// row-parallel and reduced).
template <class Sink>
constexpr void emit_mlstm(const counting& c, const mlstm_mixer& x, Sink&& sink) {
  const mlstm_heads h = heads(x, c.m.d_model);
  const double d = c.m.d_model, nh = c.share(h.n), hv = nh * h.d_v;
  const accounting& a = c.m.accounting;
  sink(c.linear("qkv_proj", d, nh * (2.0 * h.d_qk + h.d_v)));
  sink(op{"if_gates",
          op_class::matrix,
          c.compute(weight_kind::mixer),
          c.at,
          c.rows() * (2 * d * nh + 2 * nh) * flop,
          {.weights = (2 * d * nh * c.bw(weight_kind::mixer) + 2 * nh * c.b_vec) * byte,
           .activations = 2 * c.rows() * (d + nh) * c.ba * byte},
          {c.rows(), 2 * nh, d},
          c.rows()});
  sink(mlstm_cell_op(c, x));
  sink(c.linear("o_gate", d, hv));
  sink(c.elementwise("out_norm_gate", c.rows() * hv * (a.norm_flops + a.sigmoid_flops), c.rows() * hv * c.ba,
                     hv * c.b_vec));
  sink(c.linear("out_proj", hv, d));
  c.reduce("mlstm_all_reduce", "mlstm_reduce_scatter", "mlstm_all_gather", d, sink);
}

/// Parameters: d H (2 d_qk + d_v) (q, k, v) + 2 d H (i, f gates) + d H d_v (o gate) + H d_v d
/// (out) in matrices; 2 H gate biases and H d_v head-norm scales.   (Beck et al., model_accounting/params)
constexpr param_count mlstm_params(const model_spec& m, const mlstm_mixer& x) {
  const mlstm_heads h = heads(x, m.d_model);
  const double d = m.d_model, hv = double(h.n) * h.d_v;
  param_count p{};
  p[weight_kind::mixer] = d * h.n * (2.0 * h.d_qk + h.d_v) + 2 * d * h.n + d * hv + hv * d;
  p[weight_kind::vectors] = 2.0 * h.n + hv;
  return p;
}

/// State per sequence: H (d_qk d_v + d_qk + 1) b_s; live width in the prefill: the normed
/// input, q, k, v and the gates, d + H (2 d_qk + d_v) + 2H; the inter-chunk states of the
/// chunkwise prefill of P tokens, ceil(P / L) H (d_qk d_v + d_qk + 1) b_s.
constexpr layer_memory mlstm_memory(const model_spec& m, const mlstm_mixer& x, double prompt) {
  const mlstm_heads h = heads(x, m.d_model);
  const double state = h.n * mlstm_state_elements(h.d_qk, h.d_v) * size_bytes(m.dtypes.state);
  return {.state_bytes = state,
          .act_width = m.d_model + h.n * (2.0 * h.d_qk + h.d_v) + 2.0 * h.n,
          .extra_bytes = std::ceil(prompt / x.chunk_size) * state};
}

/// The spec's rules for an mLSTM mixer: heads divide d_model, and the q/k head width
/// qk_dim_factor x d_model / n_heads is a positive integer.
inline std::optional<spec_violation> check_spec(const model_spec& m, const mlstm_mixer& x,
                                                const spec_rules& r) {
  if (auto v =
          r.first_out_of_bounds({{"n_heads", x.n_heads, max_width}, {"chunk_size", x.chunk_size, max_width}}))
    return v;
  if (m.d_model % x.n_heads != 0)
    return r.violation("n_heads",
                       fmt::format("'n_heads' ({}) must divide 'd_model' ({})", x.n_heads, m.d_model));
  const double d_qk = x.qk_dim_factor * (m.d_model / x.n_heads);
  if (!(x.qk_dim_factor > 0) || d_qk != static_cast<int>(d_qk) || d_qk < 1)
    return r.violation(
        "qk_dim_factor",
        fmt::format("'qk_dim_factor' ({}) times the head width ({}) must be a positive integer",
                    x.qk_dim_factor, m.d_model / x.n_heads));
  return std::nullopt;
}

/// Tensor parallelism splits the heads.
inline void check_layout(const model_spec&, const mlstm_mixer& x, const layout_rules& r) {
  r.divides("heads", x.n_heads, r.L.tp, "tp");
}

}  // namespace roofline::detail
