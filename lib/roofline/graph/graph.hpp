/// Graph layer: the ops of a forward pass of a layer stack, its parameters and the memory it holds.
#pragma once

#include <algorithm>

#include "roofline/graph/attention.hpp"
#include "roofline/graph/deltanet.hpp"
#include "roofline/graph/mamba.hpp"
#include "roofline/graph/mla.hpp"
#include "roofline/graph/mlstm.hpp"
#include "roofline/graph/moe.hpp"
#include "roofline/graph/vision.hpp"

namespace roofline {

namespace detail {
template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

/// The name of the pre-norm in front of a mixer (as the paper's reports name them).
constexpr std::string_view mixer_norm_name(const mixer_spec& x) {
  constexpr std::array<std::string_view, 6> names{"attn_norm",  "attn_norm",  "mlstm_norm",
                                                  "mamba_norm", "mamba_norm", "deltanet_norm"};
  return names[x.index()];
}
}  // namespace detail

/// Checks the rules of a spec that single values cannot: positive sizes, heads that divide
/// widths, chunk sizes, patterns (check_model, then each layer kind's check_spec beside its
/// builder). io maps the key to its file position; estimate() calls this on every estimate for
/// specs built in code, so strings are built only for a violation.
inline std::optional<spec_violation> check(const model_spec& m) {
  if (auto v = check_model(m)) return v;
  if (m.vision.layers > 0)
    if (auto v = detail::check_vision(m, m.vision)) return v;
  for (const layer_kind& k : m.kinds) {
    const detail::spec_rules mixer{"mixers", k.mixer_name}, channel{"channels", k.channel_name};
    if (auto v = std::visit([&](const auto& x) { return detail::check_spec(m, x, mixer); }, k.mixer))
      return v;
    if (auto v = std::visit(
            detail::overloaded{[](const no_channel&) -> std::optional<spec_violation> { return {}; },
                               [&](const auto& x) { return detail::check_spec(m, x, channel); }},
            k.channel))
      return v;
  }
  return std::nullopt;
}

/// Throws input_error unless every layer kind can be spread by the layout (each kind's
/// check_layout beside its builder: tp over heads and widths, ep over experts).
inline void check_layer_layouts(const model_spec& m, const layout& L) {
  const std::string model = fmt::format("model '{}'{}", m.name, m.file.empty() ? "" : " (" + m.file + ")");
  for (const layer_kind& k : m.kinds) {
    const detail::layout_rules r{.L = L, .kind = k.name(), .model = model};
    std::visit([&](const auto& x) { detail::check_layout(m, x, r); }, k.mixer);
    std::visit(
        detail::overloaded{[](const no_channel&) {}, [&](const auto& x) { detail::check_layout(m, x, r); }},
        k.channel);
  }
}

/// How many layers of kind k a stage holds.
inline int layer_count(const model_spec& m, std::size_t k, const stage_span& s) {
  int n = 0;
  const int last = std::min(s.last, n_layers(m));
  for (int i = std::max(0, s.first); i < last; ++i) n += m.layers[std::size_t(i)] == static_cast<int>(k);
  return n;
}

/// Calls sink(const op&) for every op of one forward pass of one GPU, in execution order
/// within a layer: the vision tower on a prefill's images (graph/vision.hpp); the embedding; for each kind of
/// layer, once, with layers.count = the layers of that kind: the mixer's pre-norm (with the residual add),
/// the mixer, its post-norm (post_norms), then the channel mixer's pre-norm, the channel mixer and its
/// post-norm; the final norm and LM head. Nothing is allocated. With a layout, the ops of one rank of one
/// stage (p.batch: the sequences of its dp rank; tokens_all: the tokens of all dp ranks), and
/// the communication ops between the ranks; a stage before the last sends its activations on.
/// Adding a layer kind: a builder in graph/, a case here, in parameters() and in memory_footprint().
template <class Sink>
constexpr void for_each_op(const model_spec& m, const pass& p, const rank_view& r, Sink&& sink) {
  const stage_span& stage = r.stage;
  const layout& L = r.L;
  detail::counting c{m, p, r};
  if (stage.embedding && p.phase == phase::prefill && p.images > 0 && m.vision.layers > 0)
    detail::emit_vision(c, m.vision, sink);
  if (stage.embedding) detail::emit_embedding(c, sink);
  for (std::size_t k = 0; k < m.kinds.size(); ++k) {
    const layer_kind& kind = m.kinds[k];
    c.at = {static_cast<int>(k), layer_count(m, k, stage)};
    if (c.at.count == 0) continue;
    sink(c.pre_norm(detail::mixer_norm_name(kind.mixer)));
    std::visit(detail::overloaded{[&](const attention_mixer& x) { detail::emit_attention(c, x, sink); },
                                  [&](const mla_mixer& x) { detail::emit_mla(c, x, sink); },
                                  [&](const mlstm_mixer& x) { detail::emit_mlstm(c, x, sink); },
                                  [&](const mamba1_mixer& x) { detail::emit_mamba1(c, x, sink); },
                                  [&](const mamba2_mixer& x) { detail::emit_mamba2(c, x, sink); },
                                  [&](const deltanet_mixer& x) { detail::emit_deltanet(c, x, sink); }},
               kind.mixer);
    if (m.post_norms) sink(c.post_norm("mixer_post_norm"));
    if (std::holds_alternative<no_channel>(kind.channel)) continue;
    sink(c.pre_norm("ffn_norm"));
    if (const auto* f = std::get_if<mlp_channel>(&kind.channel)) detail::emit_dense_mlp(c, *f, sink);
    if (const auto* e = std::get_if<moe_channel>(&kind.channel)) detail::emit_moe(c, *e, sink);
    if (m.post_norms) sink(c.post_norm("ffn_post_norm"));
  }
  if (stage.head) {
    detail::emit_lm_head(c, sink);
  } else {  // the activations of the stage's last layer to the next stage's GPU; the send runs
            // on the scale-up link only if the whole deployment lies in one domain (a pipeline is
            // as slow as its slowest hop)
    c.at = {layer_span::head, 1};
    sink(c.collective_op("pp_send", collective::send_recv, 2, c.norm_rows() * m.d_model * c.ba, L.gpus()));
  }
}

/// One forward pass on one GPU: the whole model.
template <class Sink>
constexpr void for_each_op(const model_spec& m, const pass& p, Sink&& sink) {
  for_each_op(m, p, rank_view{}, sink);
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

/// Parameters of one layer of a kind: its mixer, channel mixer and norms (a pre-norm each,
/// and a post-norm each with post_norms).
constexpr param_count layer_params(const model_spec& m, const layer_kind& k) {
  param_count p =
      std::visit(detail::overloaded{[&](const attention_mixer& x) { return detail::attention_params(m, x); },
                                    [&](const mla_mixer& x) { return detail::mla_params(m, x); },
                                    [&](const mlstm_mixer& x) { return detail::mlstm_params(m, x); },
                                    [&](const mamba1_mixer& x) { return detail::mamba1_params(m, x); },
                                    [&](const mamba2_mixer& x) { return detail::mamba2_params(m, x); },
                                    [&](const deltanet_mixer& x) { return detail::deltanet_params(m, x); }},
                 k.mixer);
  if (const auto* f = std::get_if<mlp_channel>(&k.channel)) p += detail::dense_mlp_params(m, *f);
  if (const auto* e = std::get_if<moe_channel>(&k.channel)) p += detail::moe_params(m, *e);
  const double norms = (std::holds_alternative<no_channel>(k.channel) ? 1 : 2) * (m.post_norms ? 2 : 1);
  p[weight_kind::vectors] += norms * (m.norm == norm_kind::layer ? 2.0 : 1.0) * m.d_model;
  return p;
}

/// Every parameter of the model by kind of weight: the layers, embedding (and learned
/// positions), final norm, LM head if untied.
constexpr param_count parameter_counts(const model_spec& m) {
  param_count p = detail::outer_params(m);
  for (std::size_t k = 0; k < m.kinds.size(); ++k)
    p += layer_params(m, m.kinds[k]) * double(layer_count(m, k));
  return p;
}

/// All parameters of the text model (a vision tower's: vision_parameters).
constexpr double parameters(const model_spec& m) { return parameter_counts(m).total(); }

/// Parameters of the model's vision tower (0: none).
constexpr double vision_parameters(const model_spec& m) { return detail::vision_parameters(m.vision); }

/// Bytes of the vision tower's widest live set in a prefill of `images` images (B I N (d + the
/// wider of q, k, v and the MLP's inner width) b_a): it runs before the text layers, so the
/// activation peak is the larger of the two.
constexpr double vision_activation_bytes(const model_spec& m, double images) {
  const vision_tower& v = m.vision;
  if (v.layers == 0 || images <= 0) return 0;
  const double inner =
      std::max(3 * v.n_heads * detail::vision_head_dim(v), (v.gated ? 2.0 : 1.0) * v.ffn_dim);
  return images * v.patches * (v.d_model + inner) * size_bytes(m.dtypes.activations);
}

/// Parameters touched per token: every parameter except the routed experts a token does not use.
constexpr double active_parameters(const model_spec& m) {
  const param_count p = parameter_counts(m);
  return p.total() - p.inactive;
}

/// Bytes of parameters in their storage formats (block scales included).
constexpr double bytes_of(const model_spec& m, const param_count& p) {
  double b = 0;
  for (weight_kind k : all_weight_kinds) b += p[k] * storage(m.dtypes, k).bytes_per_element();
  return b;
}

/// Bytes of a vision tower's weights: stored as the embedding is.
constexpr double vision_bytes(const model_spec& m) {
  return detail::vision_parameters(m.vision) * storage(m.dtypes, weight_kind::embedding).bytes_per_element();
}

/// Bytes of all weights in their storage formats (block scales included), the vision tower's too.
constexpr double weight_bytes(const model_spec& m) {
  return bytes_of(m, parameter_counts(m)) + vision_bytes(m);
}

/// Device memory a workload holds, by kind.
struct footprint {
  bytes weights{};   ///< every parameter once, in its storage format
  bytes kv_cache{};  ///< B x the KV cache of each attention layer after P + G tokens (a window layer: at most
                     ///< W)
  bytes state{};     ///< B x the recurrent state of each recurrent layer (fixed size)
  bytes activations{};  ///< peak transient activations of the prefill (see memory_footprint)
  bytes buffers{};      ///< communication buffers (several GPUs: rank_footprint)
  constexpr bytes total() const { return weights + kv_cache + state + activations + buffers; }
};

/// What a layer of a kind holds per sequence (KV cache after `tokens`, state, prefill width).
constexpr layer_memory layer_footprint(const model_spec& m, const layer_kind& k, double tokens,
                                       double prompt) {
  layer_memory mem = std::visit(
      detail::overloaded{[&](const attention_mixer& x) { return detail::attention_memory(m, x, tokens); },
                         [&](const mla_mixer& x) { return detail::mla_memory(m, x, tokens); },
                         [&](const mlstm_mixer& x) { return detail::mlstm_memory(m, x, prompt); },
                         [&](const mamba1_mixer& x) { return detail::mamba1_memory(m, x); },
                         [&](const mamba2_mixer& x) { return detail::mamba2_memory(m, x, prompt); },
                         [&](const deltanet_mixer& x) { return detail::deltanet_memory(m, x, prompt); }},
      k.mixer);
  double channel = 0;
  if (const auto* f = std::get_if<mlp_channel>(&k.channel))
    channel = detail::dense_mlp_memory(m, *f).act_width;
  if (const auto* e = std::get_if<moe_channel>(&k.channel)) channel = detail::moe_memory(m, *e).act_width;
  mem.act_width = std::max(mem.act_width, channel);
  return mem;
}

/// Memory held after the prefill and G generated tokens.
/// Activations: the largest live set of one layer in the prefill, assuming layer outputs are
/// freed as soon as the next layer has read them and attention scores stay on chip
/// (FlashAttention): the residual stream B P d plus the widest live set of a mixer or channel
/// mixer (its normed input and projections: graph/*.hpp say which), all at b_a, plus B V b_a
/// logits, plus the largest chunk-state buffer of a chunkwise prefill.
constexpr footprint memory_footprint(const model_spec& m, const workload& w) {
  const double b = double(w.batch), p = double(w.prefill), tokens = double(w.prefill) + double(w.generate);
  footprint f{.weights = weight_bytes(m) * byte};
  double kv = 0, state = 0, width = 0, extra = 0;
  for (std::size_t k = 0; k < m.kinds.size(); ++k) {
    const double n = layer_count(m, k);
    const layer_memory mem = layer_footprint(m, m.kinds[k], tokens, p);
    kv += n * mem.kv_bytes;
    state += n * mem.state_bytes;
    width = std::max(width, mem.act_width);
    extra = std::max(extra, mem.extra_bytes);
  }
  const double ba = size_bytes(m.dtypes.activations);
  f.kv_cache = b * kv * byte;
  f.state = b * state * byte;
  f.activations = std::max(b * p * (m.d_model + width) * ba + b * double(m.vocab_size) * ba + b * extra,
                           vision_activation_bytes(m, b * double(w.images))) *
                  byte;
  return f;
}

// ---- several GPUs ----------------------------------------------------------------------------

/// Stage s of pp: consecutive layers, as evenly as whole layers allow, [floor(s N / pp),
/// floor((s + 1) N / pp)) of the N layers (the first stages get one layer fewer when pp does
/// not divide N); the first stage holds the embedding, the last the final norm and LM head.
inline stage_span stage_of(const model_spec& m, int s, int pp) {
  const long n = n_layers(m);
  return {static_cast<int>(n * s / pp), static_cast<int>(n * (s + 1) / pp), s == 0, s == pp - 1};
}

/// Weight bytes one GPU of a stage holds: the full bytes of the stage's layers less what its
/// sharded ops no longer read (the weight census of the ops at this layout against one GPU's,
/// every expert counted: what tp splits, what ep spreads; replicated parts, as KV heads when
/// tp > H_kv, MLA's down-projections, norms and routers, stay whole); the first stage's
/// embedding table (vocabulary-parallel: V / tp rows; learned positions whole); the last
/// stage's final norm and LM head (V / tp rows), or with tied embeddings over several stages a
/// copy of the table there. One GPU: weight_bytes(m).
inline double rank_weight_bytes(const model_spec& m, const layout& L, const stage_span& st) {
  param_count full{};
  for (std::size_t k = 0; k < m.kinds.size(); ++k)
    full += layer_params(m, m.kinds[k]) * double(layer_count(m, k, st));
  const auto census = [&](const layout& at) {
    double w = 0;
    const pass p{phase::decode, 1, 1, 1, 1};
    for_each_op(m, p, rank_view{at, st, 0, true}, [&](const op& o) {
      if (o.layers.kind >= 0) w += o.moved.weights.value() * o.layers.count;
    });
    return w;
  };
  double b = bytes_of(m, full) - (census(layout{}) - census(L));
  const double table = double(m.vocab_size) * m.d_model / L.tp;
  if (st.embedding)
    b += vision_bytes(m) +  // whole on every tp rank (graph/vision.hpp)
         (table + double(m.learned_positions) * m.d_model) *
             storage(m.dtypes, weight_kind::embedding).bytes_per_element() +
         double(m.input_projection) * m.d_model * m.d_model *
             storage(m.dtypes, weight_kind::mixer).bytes_per_element();  // whole on every tp rank
  if (st.head) {
    b += (m.norm == norm_kind::layer ? 2.0 : 1.0) * m.d_model *
         storage(m.dtypes, weight_kind::vectors).bytes_per_element();
    if (!m.tied_embeddings)
      b += table * storage(m.dtypes, weight_kind::lm_head).bytes_per_element();
    else if (!st.embedding)
      b += table * storage(m.dtypes, weight_kind::embedding).bytes_per_element();
  }
  return b;
}

/// Share of a layer's KV cache and recurrent state one tp rank holds: attention its
/// kv_share(H_kv) / H_kv of the KV heads; MLA the whole latent cache (every rank a copy); the
/// recurrent mixers 1 / tp (their heads or channels split; Mamba-2's B and C conv channels,
/// copied when tp > G, are counted split too: a small part of its state).
constexpr double cache_share(const layer_kind& k, const layout& L) {
  if (const auto* a = std::get_if<attention_mixer>(&k.mixer))
    return a->n_kv_heads >= L.tp ? 1.0 / L.tp : 1.0 / a->n_kv_heads;
  if (std::holds_alternative<mla_mixer>(k.mixer)) return 1;
  return 1.0 / L.tp;
}

/// Memory one GPU of a stage holds: its weights (rank_weight_bytes); the KV cache and state of
/// its dp rank's `batch` sequences in its stage's layers (cache_share of each); the
/// activations of a prefill of `micro` sequences (a micro-batch: memory_footprint's peak with
/// the mixer and channel widths, the logits and the chunk states split over tp); and
/// communication buffers, twice the largest message of the stage's prefill collectives (a send
/// and a receive buffer). One GPU: exactly memory_footprint.
inline footprint rank_footprint(const model_spec& m, const workload& w, const stage_span& st, double batch,
                                double micro) {
  const layout& L = w.parallel;
  if (L.single()) return memory_footprint(m, w);
  const double p = double(w.prefill), tokens = double(w.prefill) + double(w.generate), tp = L.tp;
  footprint f{.weights = rank_weight_bytes(m, L, st) * byte};
  double kv = 0, state = 0, width = 0, extra = 0;
  for (std::size_t k = 0; k < m.kinds.size(); ++k) {
    const double n = layer_count(m, k, st);
    if (n == 0) continue;
    const layer_memory mem = layer_footprint(m, m.kinds[k], tokens, p);
    const double share = cache_share(m.kinds[k], L);
    kv += n * mem.kv_bytes * share;
    state += n * mem.state_bytes * share;
    width = std::max(width, (mem.act_width - m.d_model) / tp);
    extra = std::max(extra, mem.extra_bytes / tp);
  }
  const double ba = size_bytes(m.dtypes.activations);
  f.kv_cache = batch * kv * byte;
  f.state = batch * state * byte;
  f.activations = std::max(micro * p * (2 * m.d_model + width) * ba +
                               (st.head ? micro * double(m.vocab_size) / tp * ba : 0) + micro * extra,
                           st.embedding ? vision_activation_bytes(m, micro * double(w.images)) : 0.0) *
                  byte;
  double largest = 0;
  const pass pf{phase::prefill, micro, p, 0, 1};
  for_each_op(m, pf, rank_view{L, st, 0, false}, [&](const op& o) {
    if (o.cls == op_class::communication) largest = std::max(largest, o.comm.message.value());
  });
  f.buffers = 2 * largest * byte;
  return f;
}

}  // namespace roofline
