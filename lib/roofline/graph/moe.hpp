/// Mixture of experts: router, routed experts as grouped GEMMs over the experts a pass touches, shared
/// experts.
#pragma once

#include "roofline/graph/mlp.hpp"

namespace roofline {

/// Experts a pass of n tokens touches, in expectation. Assumed: each token picks its k experts
/// uniformly among a hot set of E / rho experts (rho = load_imbalance; 1: uniform routing over
/// all E, the assumption of Switch-style balanced routers); an expert is untouched with
/// probability (1 - k / (E / rho))^n, so the distinct count is
///   (E / rho) (1 - (1 - k rho / E)^n):
/// k at n = 1, E / rho as n grows. Real routers are skewed per batch; rho > 1 stands for it.
inline double distinct_experts(const moe_channel& x, double tokens) {
  const double hot = x.n_experts / x.load_imbalance;
  return hot * (1 - std::pow(1 - x.top_k / hot, tokens));
}

namespace detail {

/// A MoE channel mixer over the B T tokens of the pass:
/// - router: d -> E (with bias), its top-k selection (B T E softmax FLOPs, the logits read);
/// - routed experts: B T k rows through the gated (or plain) expert MLP, as grouped GEMMs of
///   about B T k / n_touched rows for each of the n_touched = distinct_experts experts (the
///   rows matter for the GEMM tile padding); FLOPs for B T k rows; weights read: n_touched
///   experts' matrices (and biases);
/// - combine: the k outputs of each token weighted and summed, 2 B T k d FLOPs, (k + 1) B T d b_a;
/// - shared experts: a dense MLP of width n_shared shared_dim on every token, with a sigmoid
///   gate d -> 1 where the model has one (Qwen3-Next).
/// Over several GPUs (layout): the router runs on each rank's own tokens; the experts are
/// spread over ep of the tp x dp GPUs of the stage, each expert's width split over moe_tp of
/// them. A GPU's experts see the distinct tokens of all dp ranks (N = B_all T): N k / ep rows
/// (uniform routing), of the distinct experts those tokens touch, its E / ep share. With
/// attention data parallelism (dp > 1) each rank's tokens are dispatched to the experts and
/// their outputs combined back by all-to-alls over the tp dp GPUs, B T k d b_a / tp bytes each
/// way a GPU; without, every GPU holds all tokens and the expert outputs are reduced like a
/// dense MLP's. The shared experts are split over the tp ranks like a dense MLP.
template <class Sink>
constexpr void emit_moe(const counting& c, const moe_channel& x, Sink&& sink) {
  const double d = c.m.d_model, e = x.n_experts, k = x.top_k, rows = c.rows();
  const double ep = c.L.ep, f = x.expert_dim / double(c.L.moe_tp());
  sink(c.linear("router", d, e, weight_kind::router, x.router_bias));
  sink(c.elementwise("router_topk", rows * e * c.m.accounting.softmax_flops, rows * e * c.ba));
  const double touched = (c.every_expert ? e : distinct_experts(x, c.tokens_all)) / ep,
               routed = c.tokens_all * k / ep;
  const double per_expert = routed / touched;
  const double bw = c.bw(weight_kind::experts);
  const dtype compute = c.compute(weight_kind::experts);
  const int group = c.L.tp * c.L.dp;
  const double dispatch = rows * k * d * c.ba / c.tp();
  if (c.L.dp > 1) sink(c.collective_op("moe_dispatch", collective::all_to_all, group, dispatch));
  const auto grouped = [&](std::string_view name, double in, double out, double act_bytes, double bias) {
    return op{name,
              op_class::matrix,
              compute,
              c.at,
              (2 * routed * in * out + (x.expert_bias ? routed * out : 0)) * flop,
              {.weights = touched * (in * out * bw + (x.expert_bias ? bias * c.b_vec : 0)) * byte,
               .activations = act_bytes * byte},
              {per_expert, out, in, touched},
              routed};
  };
  const double up = x.gated ? 2 * f : f;
  sink(grouped("experts_gate_up", d, up, (x.gated ? 2 : 1) * routed * (d + f) * c.ba, up));
  sink(c.elementwise("experts_act", routed * f * ((x.gated ? 1 : 0) + c.act_flops(x.activation)), 0));
  sink(grouped("experts_down", f, d, routed * (f + d) * c.ba, d));
  if (c.L.dp > 1) sink(c.collective_op("moe_combine", collective::all_to_all, group, dispatch));
  sink(c.elementwise("experts_combine", 2 * rows * k * d, (k + 1) * rows * d * c.ba));
  if (x.n_shared > 0) {
    emit_mlp(c, c.share(double(x.n_shared) * x.shared_dim), x.gated, x.activation, false,
             weight_kind::shared_experts, "shared_gate_up", "shared_act", "shared_down", sink);
    if (x.shared_gate) {
      sink(c.linear("shared_gate", d, 1, weight_kind::router));
      sink(c.elementwise("shared_gate_mul", rows * d * (c.m.accounting.sigmoid_flops + 1),
                         2 * rows * d * c.ba));
    }
  }
  // the partial sums of the experts (dp = 1) and of the shared experts over the tp ranks
  if (c.L.dp == 1 ? group > 1 : x.n_shared > 0)
    c.reduce("moe_all_reduce", "moe_reduce_scatter", "moe_all_gather", d, sink);
}

/// Parameters: router d E (+ E bias) and shared gate d; experts E x 3 d f (gated; 2 d f plain)
/// with E (2 f + d) biases; shared experts n_shared 3 d f_s. Inactive for a token: the E - k
/// routed experts it does not use, matrices and biases.
constexpr param_count moe_params(const model_spec& m, const moe_channel& x) {
  const double d = m.d_model, e = x.n_experts, f = x.expert_dim;
  const double expert = mlp_matrix_params(d, f, x.gated),
               bias = x.expert_bias ? mlp_bias_params(d, f, x.gated) : 0;
  param_count p{};
  p[weight_kind::router] = d * e + (x.shared_gate ? d : 0);
  p[weight_kind::experts] = e * expert;
  p[weight_kind::shared_experts] = x.n_shared * mlp_matrix_params(d, x.shared_dim, x.gated);
  p[weight_kind::vectors] = e * bias + (x.router_bias ? e : 0);
  p.inactive = (e - x.top_k) * (expert + bias);
  return p;
}

/// Live width in the prefill: the normed input, the router logits, k copies of each token and
/// their gate and up outputs.
constexpr layer_memory moe_memory(const model_spec& m, const moe_channel& x) {
  const double d = m.d_model, up = (x.gated ? 2.0 : 1.0) * x.expert_dim;
  return {.act_width = d + x.n_experts + x.top_k * (d + up)};
}

/// The spec's rules for a MoE channel: sizes in bounds, top_k at most the experts, shared experts
/// with a width, a load imbalance from 1 (uniform) to n_experts / top_k (a hot set of top_k).
inline std::optional<spec_violation> check_spec(const model_spec&, const moe_channel& e,
                                                const spec_rules& r) {
  if (auto v = r.first_out_of_bounds({{"n_experts", e.n_experts, max_experts},
                                      {"top_k", e.top_k, max_experts},
                                      {"expert_dim", e.expert_dim, max_width}}))
    return v;
  if (e.top_k > e.n_experts)
    return r.violation("top_k",
                       fmt::format("'top_k' ({}) must not exceed 'n_experts' ({})", e.top_k, e.n_experts));
  if (e.n_shared < 0 || e.n_shared > max_experts ||
      (e.n_shared > 0 && (e.shared_dim < 1 || e.shared_dim > max_width)))
    return r.violation("shared_dim",
                       "shared experts need 'n_shared' from 0 to 65536 and a 'shared_dim' from 1 to 1048576");
  if (!(e.load_imbalance >= 1) || e.load_imbalance > double(e.n_experts) / e.top_k)
    return r.violation("load_imbalance",
                       fmt::format("'load_imbalance' must be from 1 to n_experts / top_k ({}), got {}",
                                   double(e.n_experts) / e.top_k, e.load_imbalance));
  return std::nullopt;
}

/// Expert parallelism: ep divides the experts and the tp x dp GPUs of a stage they are spread
/// over; each expert is split over moe_tp = tp dp / ep GPUs (which divides its width); tensor
/// parallelism splits the shared experts' width.
inline void check_layout(const model_spec&, const moe_channel& e, const layout_rules& r) {
  const layout& L = r.L;
  r.divides("experts", e.n_experts, L.ep, "ep");
  if ((L.tp * L.dp) % L.ep != 0)
    r.fail(fmt::format("ep {} must divide the tp x dp = {} GPUs of a stage the experts are spread over", L.ep,
                       L.tp * L.dp));
  r.divides("expert width", e.expert_dim, L.moe_tp(), "moe_tp = tp dp / ep =");
  if (e.n_shared > 0) r.divides("shared experts' width", e.n_shared * e.shared_dim, L.tp, "tp");
}

}  // namespace detail
}  // namespace roofline
