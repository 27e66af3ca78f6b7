/// What every layer builder shares: the counting context, linear layers, norms, embedding, LM head.
#pragma once

#include <array>
#include <cmath>

#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "roofline/base/error.hpp"
#include "roofline/base/op.hpp"
#include "roofline/spec/model_spec.hpp"
#include "roofline/spec/workload.hpp"

namespace roofline {

/// Parameters by kind of weight; `inactive` counts the routed-expert parameters a token does
/// not use (for the active count).
struct param_count {
  std::array<double, all_weight_kinds.size()> by_kind{};
  double inactive = 0;

  constexpr double& operator[](weight_kind k) { return by_kind[static_cast<std::size_t>(k)]; }
  constexpr double operator[](weight_kind k) const { return by_kind[static_cast<std::size_t>(k)]; }
  constexpr double total() const {
    double t = 0;
    for (double v : by_kind) t += v;
    return t;
  }
  constexpr param_count& operator+=(const param_count& o) {
    for (std::size_t i = 0; i < by_kind.size(); ++i) by_kind[i] += o.by_kind[i];
    inactive += o.inactive;
    return *this;
  }
  constexpr param_count operator*(double n) const {
    param_count r = *this;
    for (double& v : r.by_kind) v *= n;
    r.inactive *= n;
    return r;
  }
};

namespace detail {

/// The checks a layer kind makes of its spec (check_spec, beside its builder) report here: the
/// section ("mixers" or "channels") and name of the kind's entry, so that a violation names its
/// key, "mixers.attn.n_heads". The key and message are built only for a violation: estimate()
/// checks every spec it is given.
struct spec_rules {
  const char* section;
  const std::string& entry;

  std::string key(std::string_view field) const { return fmt::format("{}.{}.{}", section, entry, field); }
  std::optional<spec_violation> violation(std::string_view field, std::string message) const {
    return spec_violation{key(field), std::move(message)};
  }
  /// A field that must lie in [1, hi].
  struct bounded {
    const char* field;
    std::int64_t value, hi;
  };
  /// The first field out of its bounds.
  std::optional<spec_violation> first_out_of_bounds(std::initializer_list<bounded> fields) const {
    for (const bounded& f : fields)
      if (!(f.value > 0 && f.value <= f.hi))
        return violation(f.field, fmt::format("'{}' must be an integer from 1 to {}, got {}", key(f.field),
                                              f.hi, f.value));
    return std::nullopt;
  }
};

/// The checks a layer kind makes of a layout (check_layout, beside its builder) throw through
/// this: input_error "layout tp T pp P ep E dp D: <what>", naming the kind and the model.
struct layout_rules {
  const layout& L;
  std::string kind;   ///< the layer kind's name
  std::string model;  ///< "model 'name' (file)"

  [[noreturn]] void fail(const std::string& what) const {
    throw input_error(fmt::format("layout tp {} pp {} ep {} dp {}: {}", L.tp, L.pp, L.ep, L.dp, what));
  }
  /// `by` (the layout's `key`) must divide the kind's n `what`.
  void divides(std::string_view what, std::int64_t n, int by, std::string_view key) const {
    if (n % by != 0)
      fail(fmt::format("{} {} does not divide the {} {} of layer kind '{}' of {}", key, by, n, what, kind,
                       model));
  }
  /// tp must divide the kind's n `what` or be a multiple of it (tp over KV heads copies them).
  void tp_divides_or_multiple(std::string_view what, int n) const {
    if (n % L.tp != 0 && L.tp % n != 0)
      fail(fmt::format("tp {} neither divides nor is a multiple of the {} {} of layer kind '{}' of {}", L.tp,
                       n, what, kind, model));
  }
};

}  // namespace detail

/// What a layer kind holds per sequence in device memory beyond its weights, and the widest
/// transient activation of one token in its prefill (for the activation peak).
struct layer_memory {
  double kv_bytes = 0;     ///< KV cache per sequence after `tokens` tokens
  double state_bytes = 0;  ///< recurrent state per sequence (fixed size)
  double act_width = 0;    ///< elements per token live at once inside the mixer or channel mixer
  double extra_bytes = 0;  ///< per sequence: chunk states of a chunkwise prefill
};

namespace detail {

/// What every builder needs: the spec, the pass, where the ops sit and the element sizes.
struct counting {
  const model_spec& m;
  const pass& p;  ///< the pass of one rank: batch = the sequences of its dp rank
  layer_span at{};
  layout L{};                 ///< how the model is spread; all 1: one GPU
  double tokens_all = 0;      ///< distinct tokens of the pass over all dp ranks (what the experts see), B T
  bool every_expert = false;  ///< MoE: the weights of every expert held, not of those touched
  double ba = size_bytes(m.dtypes.activations);
  double b_vec = storage(m.dtypes, weight_kind::vectors).bytes_per_element();
  std::array<double, all_weight_kinds.size()> bytes{};    ///< per element, by kind of weight
  std::array<dtype, all_weight_kinds.size()> computes{};  ///< compute format, by kind of weight

  constexpr counting(const model_spec& model, const pass& pass_, const rank_view& r = {})
      : m(model),
        p(pass_),
        L(r.L),
        tokens_all(r.tokens_all > 0 ? r.tokens_all : pass_.batch * pass_.tokens),
        every_expert(r.every_expert) {
    for (weight_kind k : all_weight_kinds) {
      bytes[static_cast<std::size_t>(k)] = storage(m.dtypes, k).bytes_per_element();
      computes[static_cast<std::size_t>(k)] = compute_dtype(m.dtypes, k);
    }
  }

  /// B T: token positions of the pass over the whole batch (of this rank).
  constexpr double rows() const { return p.batch * p.tokens; }

  /// Tensor-parallel ranks, and the share of n heads (or a width) one of them holds.
  constexpr double tp() const { return L.tp; }
  constexpr double share(double n) const { return n / L.tp; }
  /// KV heads a tp rank holds: H_kv / tp, or all of them (each rank a copy) when tp > H_kv.
  constexpr double kv_share(double h_kv) const { return h_kv >= L.tp ? h_kv / L.tp : 1; }
  /// Rows a norm or residual add works on: all of them, or 1/tp with sequence parallelism.
  constexpr double norm_rows() const { return L.sequence_parallel ? rows() / L.tp : rows(); }

  /// A collective of a message of `message` bytes per GPU over `group` GPUs that lie within
  /// `span` consecutive GPUs (GPUs are numbered tp rank fastest, then dp rank, then stage: a tp
  /// group spans tp GPUs, a tp x dp group tp dp): a communication op, no FLOPs, no
  /// device-memory traffic (the time is the link's: timing.hpp).
  constexpr op collective_op(std::string_view name, collective k, int group, double message,
                             int span = 0) const {
    op o{name, op_class::communication, m.dtypes.activations, at, 0 * flop, {}, {}, 0};
    o.comm = {k, group, span > 0 ? span : group, message * byte};
    return o;
  }

  /// After a row-parallel projection of `width` outputs per token: its partial sums reduced
  /// over the tp ranks, B T width b_a bytes: an all-reduce, or with sequence parallelism a
  /// reduce-scatter (and the all-gather before the next column-parallel projection, of the same
  /// size). Nothing at tp = 1.
  template <class Sink>
  constexpr void reduce(std::string_view all_reduce, std::string_view reduce_scatter,
                        std::string_view all_gather, double width, Sink&& sink) const {
    if (L.tp <= 1) return;
    const double message = rows() * width * ba;
    if (!L.sequence_parallel) {
      sink(collective_op(all_reduce, collective::all_reduce, L.tp, message));
      return;
    }
    sink(collective_op(reduce_scatter, collective::reduce_scatter, L.tp, message));
    sink(collective_op(all_gather, collective::all_gather, L.tp, message));
  }
  constexpr double bw(weight_kind k) const { return bytes[static_cast<std::size_t>(k)]; }
  constexpr dtype compute(weight_kind k) const { return computes[static_cast<std::size_t>(k)]; }

  /// A linear layer of `in` x `out` weights of kind k on `rows` tokens, with an optional bias.
  /// FLOPs 2 rows in out (+ rows out for the bias); bytes: input and output rows
  /// (rows (in + out) b_a), weights in out b_w (+ out b_vec).
  constexpr op linear(std::string_view name, double in, double out, weight_kind k = weight_kind::mixer,
                      bool bias = false) const {
    op o{name,
         op_class::matrix,
         compute(k),
         at,
         2 * rows() * in * out * flop,
         {.weights = in * out * bw(k) * byte, .activations = rows() * (in + out) * ba * byte},
         {rows(), out, in},
         rows()};
    if (bias) {
      o.work += rows() * out * flop;
      o.moved.weights += out * b_vec * byte;
    }
    return o;
  }

  /// An elementwise op on the vector units (fp32): FLOPs and activation bytes for the batch.
  constexpr op elementwise(std::string_view name, double flops_, double act_bytes,
                           double weight_bytes = 0) const {
    return {name,
            op_class::vector,
            dtype::fp32,
            at,
            flops_ * flop,
            {.weights = weight_bytes * byte, .activations = act_bytes * byte},
            {},
            rows()};
  }

  /// Weights of one norm of width w: w (RMSNorm) or 2 w (LayerNorm: scale and bias).
  constexpr double norm_params(double w) const { return m.norm == norm_kind::layer ? 2 * w : w; }

  /// Pre-norm and residual add of a block: FLOPs B T d (skip + norm); bytes B T d b_a and
  /// the norm's weights. Norms compute in fp32 on the vector units (as the reference RMSNorm upcasts).
  constexpr op pre_norm(std::string_view name) const {
    const double d = m.d_model;
    return elementwise(name, norm_rows() * d * (m.accounting.skip_flops + m.accounting.norm_flops),
                       norm_rows() * d * ba, norm_params(d) * b_vec);
  }

  /// A post-norm (Gemma 2, 3): the pre-norm's count without the residual add.
  constexpr op post_norm(std::string_view name) const {
    const double d = m.d_model;
    return elementwise(name, norm_rows() * d * m.accounting.norm_flops, norm_rows() * d * ba,
                       norm_params(d) * b_vec);
  }

  /// FLOPs of one activation function per element (SiLU or GELU).
  constexpr double act_flops(activation a) const {
    return a == activation::silu ? m.accounting.swish_flops : m.accounting.gelu_flops;
  }
};

/// Embedding gather: B T rows of d written as the first activation (B T d b_a; no FLOPs, the
/// table rows read are not counted, as in the paper). Learned absolute positions (GPT-2) add
/// their rows: B T d FLOPs for the add, B T d b_a read.
/// A draft head's input projection (input_projection n > 0: DeepSeek-V3's MTP eh_proj, n = 2;
/// EAGLE-3's fc, n = 3): the embedding concatenated with n - 1 hidden states of the target,
/// n d -> d, a linear op of B T n d -> d after the gather.
template <class Sink>
constexpr void emit_embedding(counting c, Sink&& sink) {
  c.at = {layer_span::embedding, 1};
  sink(c.elementwise("embedding", 0, c.rows() * c.m.d_model * c.ba));
  if (c.m.input_projection > 0)
    sink(c.linear("input_proj", double(c.m.input_projection) * c.m.d_model, c.m.d_model));
  // vocabulary-parallel: each tp rank gathers the rows of its V / tp tokens; the sum over ranks
  if (c.L.tp > 1)
    sink(c.collective_op("embedding_all_reduce", collective::all_reduce, c.L.tp,
                         c.rows() * c.m.d_model * c.ba));
  if (c.m.learned_positions > 0)
    sink(c.elementwise("position_embedding", c.rows() * c.m.d_model, c.rows() * c.m.d_model * c.ba));
}

/// Final norm and LM head on the last token of each sequence (prefill) or the new token
/// (decode), or on all of a verify pass's tokens (B = batch x pass.logits rows): norm B d norm
/// FLOPs (if the accounting counts them), 2 B d V FLOPs for the logits (+ B V softcap FLOPs
/// where the model soft-caps them); bytes B d b_a + the norm's weights, B (d + V) b_a + d V b_w
/// (head; a tied head reads the embedding table).
template <class Sink>
constexpr void emit_lm_head(counting c, Sink&& sink) {
  const double d = c.m.d_model, v = c.m.vocab_size, b = c.p.batch * c.p.logits;
  c.at = {layer_span::head, 1};
  const bool norm_flops = c.p.phase == phase::prefill ? c.m.accounting.final_norm_flops_prefill
                                                      : c.m.accounting.final_norm_flops_decode;
  sink(c.elementwise("final_norm", norm_flops ? b * d * c.m.accounting.norm_flops : 0, b * d * c.ba,
                     c.norm_params(d) * c.b_vec));
  const weight_kind k = c.m.tied_embeddings ? weight_kind::embedding : weight_kind::lm_head;
  const double vl = c.share(v);  // vocabulary-parallel: V / tp logits a rank
  op head{"lm_head",
          op_class::matrix,
          c.compute(k),
          c.at,
          2 * b * d * vl * flop,
          {.weights = d * vl * c.bw(k) * byte, .activations = b * (d + vl) * c.ba * byte},
          {b, vl, d},
          b};
  if (c.m.logit_softcap > 0) head.work += b * vl * c.m.accounting.softcap_flops * flop;
  sink(head);
  if (c.L.tp > 1) sink(c.collective_op("logits_all_gather", collective::all_gather, c.L.tp, b * v * c.ba));
}

/// Parameters outside the layers: embedding V d (+ learned positions), a draft head's input
/// projection n d^2, final norm, LM head V d if untied.
constexpr param_count outer_params(const model_spec& m) {
  param_count p{};
  const double d = m.d_model, v = m.vocab_size;
  p[weight_kind::embedding] = v * d + double(m.learned_positions) * d;
  p[weight_kind::mixer] = double(m.input_projection) * d * d;  // a draft head's input projection
  p[weight_kind::vectors] = m.norm == norm_kind::layer ? 2 * d : d;
  if (!m.tied_embeddings) p[weight_kind::lm_head] = v * d;
  return p;
}

}  // namespace detail
}  // namespace roofline
