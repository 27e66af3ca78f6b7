/// Channel mixers: the dense MLP (gated: SwiGLU, GeGLU; plain: GELU with biases) and mixture of experts.
#pragma once

#include <algorithm>
#include <cmath>

#include "roofline/graph/common.hpp"

namespace roofline::detail {

/// A dense MLP of width f on the tokens of the pass, its weights of kind k. Gated: gate and
/// up projections d -> f as one GEMM (its activations count x twice, as the paper counts the
/// two GEMMs), act(gate) * up (B T f (1 + act) FLOPs, fused into the GEMM epilogue: no bytes,
/// as in the paper), down f -> d. Plain: up d -> f, act (B T f act FLOPs, fused), down f -> d.
/// Biases (plain MLPs of GPT-2) add B T f and B T d FLOPs and their bytes.
template <class Sink>
constexpr void emit_mlp(const counting& c, double f, bool gated, activation act, bool bias, weight_kind k,
                        std::string_view up, std::string_view act_name, std::string_view down, Sink&& sink) {
  const double d = c.m.d_model;
  if (gated) {
    op gate_up = c.linear(up, d, 2 * f, k, bias);
    gate_up.moved.activations = 2 * c.rows() * (d + f) * c.ba * byte;
    sink(gate_up);
    sink(c.elementwise(act_name, c.rows() * f * (1 + c.act_flops(act)), 0));
  } else {
    sink(c.linear(up, d, f, k, bias));
    sink(c.elementwise(act_name, c.rows() * f * c.act_flops(act), 0));
  }
  sink(c.linear(down, f, d, k, bias));
}

/// A dense MLP; over tp ranks f / tp of its width each (gate and up column-parallel, down
/// row-parallel), the down projection's partial sums reduced.
template <class Sink>
constexpr void emit_dense_mlp(const counting& c, const mlp_channel& x, Sink&& sink) {
  emit_mlp(c, c.share(x.ffn_dim), x.gated, x.activation, x.bias, weight_kind::mlp, "ffn_gate_up", "ffn_act",
           "ffn_down", sink);
  c.reduce("ffn_all_reduce", "ffn_reduce_scatter", "ffn_all_gather", c.m.d_model, sink);
}

/// Parameters of an MLP of width f: 3 d f (gated) or 2 d f (plain); biases 2 f + d or f + d.
constexpr double mlp_matrix_params(double d, double f, bool gated) { return (gated ? 3 : 2) * d * f; }
constexpr double mlp_bias_params(double d, double f, bool gated) { return (gated ? 2 * f : f) + d; }

constexpr param_count dense_mlp_params(const model_spec& m, const mlp_channel& x) {
  param_count p{};
  p[weight_kind::mlp] = mlp_matrix_params(m.d_model, x.ffn_dim, x.gated);
  p[weight_kind::vectors] = x.bias ? mlp_bias_params(m.d_model, x.ffn_dim, x.gated) : 0;
  return p;
}

/// Live width in the prefill: the normed input and the gate and up outputs, d + 2 f (gated).
constexpr layer_memory dense_mlp_memory(const model_spec& m, const mlp_channel& x) {
  return {.act_width = m.d_model + (x.gated ? 2.0 : 1.0) * x.ffn_dim};
}

/// The spec's rules for a dense MLP: its width in bounds.
inline std::optional<spec_violation> check_spec(const model_spec&, const mlp_channel& f,
                                                const spec_rules& r) {
  return r.first_out_of_bounds({{"ffn_dim", f.ffn_dim, max_width}});
}

/// Tensor parallelism splits the MLP's width.
inline void check_layout(const model_spec&, const mlp_channel& f, const layout_rules& r) {
  r.divides("MLP width", f.ffn_dim, r.L.tp, "tp");
}

}  // namespace roofline::detail
