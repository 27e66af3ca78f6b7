/// scaling: training FLOPs, parametric loss L(N, D), compute-optimal and inference-aware model choice.
#pragma once

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "roofline/estimate/estimate.hpp"
#include "roofline/spec/scaling_fits.hpp"

namespace roofline {

/// Forward FLOPs per token of training at context T, as "xLSTM Scaling Laws" counts them:
/// every linear layer including the logits of every token, and attention (causal T^2 term)
/// or the chunkwise mLSTM cell with chunk size 64; no embedding, norm or residual FLOPs.
/// Counted with the graph of a T-token prefill: its matrix, attention and recurrent ops,
/// with the LM head of every position (2 d V per token) instead of the last one only.
inline double forward_flops_per_token(model_spec m, double context) {
  for (layer_kind& k : m.kinds)  // the training chunk size
    if (auto* x = std::get_if<mlstm_mixer>(&k.mixer)) x->chunk_size = 64;
  const pass p{phase::prefill, 1, context, 0, 1};
  double total = 0;
  for_each_op(m, p, [&](const op& o) {
    if (o.cls == op_class::vector || o.name == "lm_head") return;
    total += o.work.value() * o.layers.count;
  });
  return total / context + 2.0 * m.d_model * m.vocab_size;
}

/// Training FLOPs per token: forward plus a backward of twice the forward, 3 x forward.
inline double training_flops_per_token(const model_spec& m, double context) {
  return 3 * forward_flops_per_token(m, context);
}

/// A model family's shape at width d, on the ladder that model choices search:
/// layers round(8 log2(d / 256)) (768: 13, 2048: 24, 4096: 32, 8192: 40); SwiGLU width
/// 8/3 d rounded up to a multiple of 64 (xLSTM) or 256 (Llama); vocabulary 50,304 and bf16
/// as in the paper's models. Transformer: heads of 128, as many KV heads (multi-head).
/// xLSTM: heads of width 256 up to d = 2560 and 512 above (as xLSTM-7B), q/k at half
/// width, chunk size 64.
inline model_spec ladder_shape(architecture a, int d) {
  const int layers = int(std::lround(8 * std::log2(d / 256.0)));
  const int multiple = a == architecture::xlstm ? 64 : 256;
  const int ffn = int(std::ceil(8.0 / 3.0 * d / multiple)) * multiple;
  model_spec m{.name = std::string(name(a)) + "_d" + std::to_string(d), .d_model = d, .vocab_size = 50304};
  layer_kind k{
      .mixer_name = "attention", .channel_name = "mlp", .mixer = {}, .channel = mlp_channel{.ffn_dim = ffn}};
  if (a == architecture::transformer) {
    k.mixer = attention_mixer{.n_heads = d / 128, .n_kv_heads = d / 128, .head_dim = 128};
  } else {
    k.mixer_name = "mlstm";
    k.mixer = mlstm_mixer{.n_heads = d / (d <= 2560 ? 256 : 512), .qk_dim_factor = 0.5, .chunk_size = 64};
  }
  set_uniform_layers(m, std::move(k), layers);
  return m;
}

/// Width, layers, heads and FFN width of a ladder shape (one kind of layer: a mixer and an MLP).
struct ladder_dims {
  int d_model, n_layers, n_heads, ffn_dim;
};
inline ladder_dims dims(const model_spec& m) {
  const layer_kind& k = m.kinds.at(0);
  const int heads = std::visit(
      detail::overloaded{[](const attention_mixer& x) { return x.n_heads; },
                         [](const mlstm_mixer& x) { return x.n_heads; }, [](const auto&) { return 0; }},
      k.mixer);
  const auto* f = std::get_if<mlp_channel>(&k.channel);
  return {m.d_model, n_layers(m), heads, f ? f->ffn_dim : 0};
}

/// Widths of the ladder: 512 to 12288 in steps of 256 (every one a multiple of the head width).
inline std::vector<model_spec> ladder(architecture a) {
  std::vector<model_spec> out;
  for (int d = 512; d <= 12288; d += 256)
    if (a == architecture::transformer || d % (d <= 2560 ? 256 : 512) == 0) out.push_back(ladder_shape(a, d));
  return out;
}

/// A model of the ladder trained on a budget: its size, tokens, loss.
struct trained_model {
  model_spec shape;
  double params = 0, tokens = 0, flops = 0, loss = 0;
};

/// Trains each shape of the ladder on `flops` at context T: D = C / training FLOPs per token.
inline std::vector<trained_model> train_on_budget(const std::vector<model_spec>& shapes, const loss_fit& fit,
                                                  double flops, double context) {
  std::vector<trained_model> out;
  for (const model_spec& s : shapes) {
    const double n = parameters(s), d = flops / training_flops_per_token(s, context);
    out.push_back({s, n, d, flops, fit.loss(n, d)});
  }
  return out;
}

/// The shape of the ladder with the lowest loss for a budget (the parametric compute optimum).
inline trained_model parametric_optimum(const std::vector<model_spec>& shapes, const loss_fit& fit,
                                        double flops, double context) {
  const auto all = train_on_budget(shapes, fit, flops, context);
  return *std::min_element(all.begin(), all.end(),
                           [](const auto& a, const auto& b) { return a.loss < b.loss; });
}

/// The cheapest model of the ladder that reaches `target` loss, counting training FLOPs
/// (D(N, target) x training FLOPs per token) plus `lifetime_tokens` of inference at one
/// forward per token (forward FLOPs per token at context T). nullopt if none reaches it.
struct cost_choice {
  trained_model trained;
  double training_flops = 0, inference_flops = 0;
};

inline std::optional<cost_choice> cheapest_for_loss(const std::vector<model_spec>& shapes,
                                                    const loss_fit& fit, double target, double context,
                                                    double lifetime_tokens) {
  std::optional<cost_choice> best;
  for (const model_spec& s : shapes) {
    const double n = parameters(s);
    const auto d = fit.tokens_for(n, target);
    if (!d) continue;
    const double train = *d * training_flops_per_token(s, context);
    const double infer = lifetime_tokens * forward_flops_per_token(s, context);
    if (!best || train + infer < best->training_flops + best->inference_flops)
      best = cost_choice{{s, n, *d, train, target}, train, infer};
  }
  return best;
}

/// Limits an inference-aware choice must meet; absent ones do not limit.
struct inference_limits {
  std::optional<double> ttft_s, step_s;
  std::optional<double> memory_bytes;  ///< at most this much device memory
  bool must_fit = true;                ///< the workload must fit in the accelerator's memory
};

/// A trained model with its inference estimate.
struct served_model {
  trained_model trained;
  estimate_result inference;
};

/// Each shape trained on the budget and served on `hw` for workload `w`.
inline std::vector<served_model> serve(const std::vector<trained_model>& trained, const hardware& hw,
                                       const workload& w) {
  std::vector<served_model> out;
  for (const trained_model& t : trained) out.push_back({t, estimate(t.shape, hw, w)});
  return out;
}

/// The lowest-loss model that meets the limits, if any does.
inline std::optional<served_model> best_within(const std::vector<served_model>& models,
                                               const inference_limits& lim) {
  std::optional<served_model> best;
  for (const served_model& s : models) {
    if (lim.ttft_s && s.inference.ttft.value() > *lim.ttft_s) continue;
    if (lim.step_s && s.inference.step_time.value() > *lim.step_s) continue;
    if (lim.memory_bytes && s.inference.memory.total().value() > *lim.memory_bytes) continue;
    if (lim.must_fit && !s.inference.fits) continue;
    if (!best || s.trained.loss < best->trained.loss) best = s;
  }
  return best;
}

/// The models no other beats in both loss and `time` (lower is better in each), by time.
template <class Time>
std::vector<served_model> pareto_front(std::vector<served_model> models, Time time) {
  std::sort(models.begin(), models.end(), [&](const auto& a, const auto& b) { return time(a) < time(b); });
  std::vector<served_model> front;
  double best_loss = std::numeric_limits<double>::infinity();
  for (const served_model& s : models)
    if (s.trained.loss < best_loss) {
      front.push_back(s);
      best_loss = s.trained.loss;
    }
  return front;
}

}  // namespace roofline
