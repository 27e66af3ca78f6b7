/// A vision encoder (vision_tower in model_spec.hpp): what a prompt's images cost in its prefill,
/// and its parameters.
#pragma once

#include <cmath>

#include "roofline/graph/attention.hpp"

namespace roofline::detail {

/// Head width of the encoder's attention: head_dim, or d / heads.
constexpr double vision_head_dim(const vision_tower& v) {
  return v.head_dim > 0 ? v.head_dim : double(v.d_model) / v.n_heads;
}

/// The encoder's ops for the images of a prefill pass (p.images per sequence, B of them), layer
/// kind layer_span::vision: the patch embedding patch_inputs -> d on B I N rows (N = patches; no
/// bias in either model that has one), the norms outside the layers (outer_norms); per encoder layer
/// (layers.count = layers): a norm, q, k, v d -> 3 H d_h, QK-norm, attention with no causal mask (every patch
/// sees every patch of its image: B I N^2 per key FLOPs; q, k, v read and o written, 4 B I N H d_h b_a; no
/// cache), o H d_h -> d, a norm, the MLP (gated or plain), post-norms where it has them; then the adapter's
/// linear layers on the B I image_tokens merged tokens (the merge itself, a reshape or an average, is not
/// counted). Weights of the embedding's kind (the activation format, as released checkpoints keep vision
/// towers), biases where `bias`. Every GPU of the first stage runs its sequences' images with the whole
/// encoder (vLLM's mm_encoder_tp_mode "data": weights replicated, images split over the ranks by their
/// sequences): no tp split, no collectives.
template <class Sink>
constexpr void emit_vision(const counting& text, const vision_tower& v, Sink&& sink) {
  const pass& tp = text.p;
  const pass images{phase::prefill, tp.batch * tp.images, double(v.patches), 0, 1};
  counting c{text.m, images};
  const weight_kind k = weight_kind::embedding;
  const double d = v.d_model, h = v.n_heads, dh = vision_head_dim(v), f = v.ffn_dim;
  const accounting& a = text.m.accounting;
  const double norm_vec = (v.norm == norm_kind::layer ? 2 : 1) * d * c.b_vec;
  const auto norm = [&](std::string_view name, bool skip) {
    return c.elementwise(name, c.rows() * d * (a.norm_flops + (skip ? a.skip_flops : 0)), c.rows() * d * c.ba,
                         norm_vec);
  };
  c.at = {layer_span::vision, 1};
  sink(c.linear("vision_patch_embed", v.patch_inputs, d, k));
  if (v.outer_norms > 0) {
    c.at = {layer_span::vision, v.outer_norms};
    sink(norm("vision_outer_norm", false));
  }
  c.at = {layer_span::vision, v.layers};
  sink(norm("vision_attn_norm", true));
  sink(c.linear("vision_qkv_proj", d, 3 * h * dh, k, v.bias));
  if (v.qk_norm)
    sink(c.elementwise("vision_qk_norm", c.rows() * 2 * h * dh * a.norm_flops, c.rows() * 2 * h * dh * c.ba,
                       2 * dh * c.b_vec));
  const double n = v.patches;
  op attn{"vision_attention",
          op_class::attention,
          text.m.dtypes.activations,
          c.at,
          images.batch * n * n * attention_flops_per_key(a, h, dh, dh, false) * flop,
          {.activations = c.rows() * h * 4 * dh * c.ba * byte},
          {},
          images.batch * h * std::ceil(n / attention_tile),
          n,
          head_item_size(dh, dh)};
  attn.attn = {images.batch, n, n, h, h, dh, 0};
  sink(attn);
  sink(c.linear("vision_out_proj", h * dh, d, k, v.bias));
  if (v.post_norms) sink(norm("vision_attn_post_norm", false));
  sink(norm("vision_ffn_norm", true));
  sink(c.linear("vision_ffn_up", d, (v.gated ? 2 : 1) * f, k, v.bias));
  sink(c.elementwise("vision_ffn_act", c.rows() * f * ((v.gated ? 1 : 0) + c.act_flops(v.activation)), 0));
  sink(c.linear("vision_ffn_down", f, d, k, v.bias));
  if (v.post_norms) sink(norm("vision_ffn_post_norm", false));
  const pass merged{phase::prefill, images.batch, double(v.image_tokens), 0, 1};
  counting m{text.m, merged};
  m.at = {layer_span::vision, 1};
  for (std::size_t i = 0; i + 1 < v.adapter.size(); ++i) {
    if (i > 0)
      sink(m.elementwise("vision_adapter_act", m.rows() * v.adapter[i] * m.act_flops(v.activation), 0));
    sink(m.linear("vision_adapter", v.adapter[i], v.adapter[i + 1], k));
  }
}

/// Parameters of the encoder: patch embedding patch_inputs d, a position table positions d,
/// outer_norms norms (d each, 2 d each LayerNorm), per layer q, k, v, o 4 d H d_h (+ 3 H d_h + d
/// biases), QK-norms 2 d_h, the MLP (+ its biases), its norms (two, four with post-norms), and the
/// adapter's matrices.
constexpr double vision_parameters(const vision_tower& v) {
  if (v.layers == 0) return 0;
  const double d = v.d_model, hd = v.n_heads * vision_head_dim(v), f = v.ffn_dim;
  const double norm = (v.norm == norm_kind::layer ? 2 : 1) * d * (v.post_norms ? 4 : 2);
  double layer = 4 * d * hd + (v.gated ? 3 : 2) * d * f + norm + (v.qk_norm ? 2 * vision_head_dim(v) : 0);
  if (v.bias) layer += 3 * hd + d + (v.gated ? 2 : 1) * f + d;
  const double outer = (v.norm == norm_kind::layer ? 2 : 1) * d * v.outer_norms;
  double p = v.patch_inputs * d + double(v.positions) * d + outer + v.layers * layer;
  for (std::size_t i = 0; i + 1 < v.adapter.size(); ++i) p += double(v.adapter[i]) * v.adapter[i + 1];
  return p;
}

/// The spec's rules for a vision tower: sizes in bounds, heads that divide the width when no
/// head_dim is given, an adapter from some width to the text model's d_model.
inline std::optional<spec_violation> check_vision(const model_spec& m, const vision_tower& v) {
  const auto fail = [](std::string key, std::string msg) {
    return std::optional<spec_violation>{{"vision." + key, msg}};
  };
  for (const auto& [key, value, hi] : {std::tuple{"layers", v.layers, max_layers},
                                       {"d_model", v.d_model, max_width},
                                       {"n_heads", v.n_heads, max_width},
                                       {"ffn_dim", v.ffn_dim, max_width},
                                       {"patch_inputs", v.patch_inputs, max_width},
                                       {"patches", v.patches, max_width},
                                       {"image_tokens", v.image_tokens, max_width}})
    if (value < 1 || value > hi)
      return fail(key, fmt::format("'vision.{}' must be an integer from 1 to {}, got {}", key, hi, value));
  if (v.head_dim == 0 && v.d_model % v.n_heads != 0)
    return fail("n_heads", fmt::format("'vision.n_heads' ({}) must divide 'vision.d_model' ({}) when no "
                                       "'vision.head_dim' is given",
                                       v.n_heads, v.d_model));
  if (v.adapter.size() < 2 || v.adapter.back() != m.d_model)
    return fail("adapter",
                fmt::format("'vision.adapter' lists the widths from a merged image token to the text "
                            "model's d_model ({}): at least two, the last {}",
                            m.d_model, m.d_model));
  return std::nullopt;
}

}  // namespace roofline::detail
