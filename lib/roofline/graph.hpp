/// Graph layer: the ops of a forward pass of any supported architecture, and the memory it holds.
#pragma once

#include "roofline/graph/transformer.hpp"
#include "roofline/graph/xlstm.hpp"

namespace roofline {

/// Calls sink(const op&) for every op of one forward pass, in execution order. Ops of
/// identical layers come once with layers.count = n_layers; nothing is allocated.
/// Adding an architecture: a builder in graph/, a case here and in memory_footprint.
template <class Sink>
constexpr void for_each_op(const model_spec& m, const pass& p, Sink&& sink) {
  const detail::counting c{m, p};
  switch (m.architecture) {
    case architecture::transformer: detail::emit_transformer(c, sink); return;
    case architecture::xlstm: detail::emit_xlstm(c, sink); return;
  }
}

/// FLOPs and bytes of a whole pass: the sum over its ops and layers.
struct pass_counts {
  flops work{};
  traffic moved{};
};

constexpr pass_counts count(const model_spec& m, const pass& p) {
  pass_counts c{};
  for_each_op(m, p, [&](const op& o) {
    c.work += o.work * double(o.layers.count);
    c.moved += o.moved * double(o.layers.count);
  });
  return c;
}

/// Device memory a workload holds, by kind.
struct footprint {
  bytes weights{};      ///< every parameter once: N b_w
  bytes kv_cache{};     ///< B (P + G) L_layers H_kv (d_qk + d_v) b_kv
  bytes state{};        ///< B L_layers H (d_qk d_v + d_qk + 1) b_s
  bytes activations{};  ///< peak transient activations of the prefill (see memory_footprint)
  constexpr bytes total() const { return weights + kv_cache + state + activations; }
};

/// Memory held after the prefill and G generated tokens.
/// Activations: the largest live set of one layer in the prefill, assuming layer
/// outputs are freed as soon as the next layer has read them and attention scores
/// stay on chip (FlashAttention): the residual stream B P d plus the larger of the
/// mixer's projections (B P (d + width of q, k, v, gates)) and the FFN's
/// (B P (d + 2 f)), all at b_a, plus B V b_a logits; for xLSTM also the inter-chunk
/// states of the chunkwise prefill, B H ceil(P / L) (d_qk d_v + d_qk + 1) b_s.
constexpr footprint memory_footprint(const model_spec& m, const workload& w) {
  const head_dims h = heads(m);
  const double b = double(w.batch), p = double(w.prefill), d = m.d_model, layers = m.n_layers;
  const double ba = size_bytes(m.dtypes.activations);
  const double ffn = d + 2.0 * m.ffn_dim;
  footprint f{.weights = parameters(m) * size_bytes(m.dtypes.weights) * byte};
  double mixer = 0, extra = 0;
  if (m.architecture == architecture::transformer) {
    const double kv = double(h.n_kv) * (h.d_qk + h.d_v);
    f.kv_cache = b * double(w.prefill + w.generate) * layers * kv * size_bytes(m.dtypes.kv_cache) * byte;
    mixer = d + double(h.n_q) * h.d_qk + kv;
  } else {
    const double state = h.n_q * detail::mlstm_state_elements(h.d_qk, h.d_v) * size_bytes(m.dtypes.state);
    f.state = b * layers * state * byte;
    mixer = d + h.n_q * (2.0 * h.d_qk + h.d_v) + 2.0 * h.n_q;
    extra = b * std::ceil(p / m.mlstm.chunk_size) * state;
  }
  f.activations = (b * p * (d + max(mixer, ffn)) * ba + b * double(m.vocab_size) * ba + extra) * byte;
  return f;
}

}  // namespace roofline
