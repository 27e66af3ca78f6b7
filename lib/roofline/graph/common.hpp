/// Ops shared by the architectures: norms, projections, the SwiGLU FFN, embedding, LM head.
#pragma once

#include <cmath>

#include "roofline/model_spec.hpp"
#include "roofline/ops.hpp"
#include "roofline/workload.hpp"

namespace roofline::detail {

/// What every builder needs: the spec, the pass and the element sizes.
struct counting {
  const model_spec& m;
  const pass& p;
  double ba = size_bytes(m.dtypes.activations);
  double bw = size_bytes(m.dtypes.weights);

  /// B T: token positions of the pass over the whole batch.
  constexpr double rows() const { return p.batch * p.tokens; }
  constexpr layer_span blocks() const { return {0, m.n_layers}; }

  /// A linear layer of `in` x `out` weights on `rows` tokens.
  /// FLOPs 2 rows in out; bytes: input and output rows (rows (in + out) b_a), weights in out b_w.
  constexpr op linear(std::string_view name, double in, double out, layer_span at) const {
    return {name, op_class::matrix, m.dtypes.weights, at, 2 * rows() * in * out * flop,
            {.weights = in * out * bw * byte, .activations = rows() * (in + out) * ba * byte},
            {rows(), out, in}, rows()};
  }

  /// Pre-norm and residual add of a block: FLOPs B T d (skip + norm); bytes B T d b_a + d b_w.
  /// Norms compute in fp32 on the vector units (as the reference RMSNorm upcasts).
  constexpr op pre_norm(std::string_view name) const {
    const double d = m.d_model;
    return {name, op_class::vector, dtype::fp32, blocks(),
            rows() * d * (m.accounting.skip_flops + m.accounting.norm_flops) * flop,
            {.weights = d * bw * byte, .activations = rows() * d * ba * byte}, {}, rows()};
  }
};

/// The SwiGLU FFN of a block: gate and up projections d -> f (one fused GEMM),
/// SiLU(gate) * up (B T f (1 + swish) FLOPs, fused into the GEMM epilogue: no bytes, as
/// in the paper), down projection f -> d.
template <class Sink>
constexpr void emit_ffn(const counting& c, Sink&& sink) {
  const double d = c.m.d_model, f = c.m.ffn_dim;
  sink(c.pre_norm("ffn_norm"));
  op gate_up = c.linear("ffn_gate_up", d, 2 * f, c.blocks());  // gate and up as one GEMM
  gate_up.moved.activations = 2 * c.rows() * (d + f) * c.ba * byte;  // two GEMMs, each reads x
  sink(gate_up);
  sink(op{"ffn_act", op_class::vector, dtype::fp32, c.blocks(),
          c.rows() * f * (1 + c.m.accounting.swish_flops) * flop, {}, {}, c.rows()});
  sink(c.linear("ffn_down", f, d, c.blocks()));
}

/// Embedding gather: B T rows of d written as the first activation (B T d b_a; no FLOPs).
template <class Sink>
constexpr void emit_embedding(const counting& c, Sink&& sink) {
  sink(op{"embedding", op_class::vector, dtype::fp32, {-1, 1}, 0 * flop,
          {.activations = c.rows() * c.m.d_model * c.ba * byte}, {}, c.rows()});
}

/// Final norm and LM head on the last token of each sequence (prefill) or the new token
/// (decode): norm B d norm FLOPs (if the accounting counts them), 2 B d V FLOPs for
/// the logits; bytes B d b_a + d b_w (norm), B (d + V) b_a + d V b_w (head).
template <class Sink>
constexpr void emit_lm_head(const counting& c, Sink&& sink) {
  const double d = c.m.d_model, v = c.m.vocab_size, b = c.p.batch;
  const layer_span after{c.m.n_layers, 1};
  const bool norm_flops = c.p.phase == phase::prefill ? c.m.accounting.final_norm_flops_prefill
                                                      : c.m.accounting.final_norm_flops_decode;
  sink(op{"final_norm", op_class::vector, dtype::fp32, after,
          (norm_flops ? b * d * c.m.accounting.norm_flops : 0) * flop,
          {.weights = d * c.bw * byte, .activations = b * d * c.ba * byte}, {}, b});
  sink(op{"lm_head", op_class::matrix, c.m.dtypes.weights, after, 2 * b * d * v * flop,
          {.weights = d * v * c.bw * byte, .activations = b * (d + v) * c.ba * byte}, {b, v, d}, b});
}

}  // namespace roofline::detail
