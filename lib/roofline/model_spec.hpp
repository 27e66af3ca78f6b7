/// A model's shape and number formats, and the quantities derived from it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "roofline/accounting.hpp"
#include "roofline/dtype.hpp"

#include <fmt/format.h>

namespace roofline {

enum class architecture { transformer, xlstm };

constexpr std::string_view name(architecture a) {
  return a == architecture::transformer ? "transformer" : "xlstm";
}

/// Number formats per kind of tensor (defaults: bf16 weights and activations,
/// bf16 KV cache, fp32 recurrent state, as measured in the paper).
struct tensor_dtypes {
  dtype weights = dtype::bf16;
  dtype activations = dtype::bf16;
  dtype kv_cache = dtype::bf16;
  dtype state = dtype::fp32;
};

/// Attention of a decoder Transformer (Llama style: RMSNorm, SwiGLU, RoPE).
struct attention_spec {
  int n_kv_heads = 0;     ///< = n_heads: multi-head; 1: multi-query; else grouped-query
  int head_dim = 0;       ///< width of one query/key/value head
  bool qkv_bias = false;  ///< biases on the q, k, v projections (Qwen2)
};

/// The mLSTM cell of xLSTM-7B (Beck et al. 2025, arXiv 2503.13427): per head, keys and
/// queries of width qk_dim_factor * d_model / n_heads, values of width d_model / n_heads.
struct mlstm_spec {
  double qk_dim_factor = 0.5;
  int chunk_size = 64;  ///< L of the chunkwise-parallel prefill
};

struct model_spec {
  std::string name{};
  enum architecture architecture = architecture::transformer;
  int d_model = 0;
  int n_layers = 0;
  int n_heads = 0;
  int ffn_dim = 0;  ///< inner width of the SwiGLU FFN
  int vocab_size = 0;
  bool tied_embeddings = false;
  attention_spec attention{};  ///< read only for transformer
  mlstm_spec mlstm{};          ///< read only for xlstm
  tensor_dtypes dtypes{};
  struct accounting accounting{};
};

/// Head widths of a model: d_qk (queries, keys) and d_v (values).
struct head_dims {
  int n_q;   ///< query heads
  int n_kv;  ///< key/value heads (n_q for xLSTM)
  int d_qk;
  int d_v;
};

constexpr head_dims heads(const model_spec& m) {
  if (m.architecture == architecture::transformer)
    return {m.n_heads, m.attention.n_kv_heads, m.attention.head_dim, m.attention.head_dim};
  const int d_v = m.d_model / m.n_heads;
  return {m.n_heads, m.n_heads, static_cast<int>(m.mlstm.qk_dim_factor * d_v), d_v};
}

/// Parameters of one block (sequence mixer + FFN, with their norms).
/// Transformer: 2d (norms) + d(H d_h + 2 H_kv d_h) + H d_h d + 3 d f [+ H d_h + 2 H_kv d_h biases].
/// mLSTM: 2d + d H(2 d_qk + d_v) + (2 d H + 2H) (i, f gates) + d H d_v (o gate) + H d_v (head norm)
///        + H d_v d (out proj) + 3 d f.   (Beck et al., model_accounting/params)
constexpr double block_parameters(const model_spec& m) {
  const head_dims h = heads(m);
  const double d = m.d_model, f = m.ffn_dim;
  const double ffn = d + 3 * d * f;
  if (m.architecture == architecture::transformer) {
    const double qkv = h.n_q * h.d_qk + h.n_kv * (h.d_qk + h.d_v);
    return d + d * qkv + (m.attention.qkv_bias ? qkv : 0) + h.n_q * h.d_v * d + ffn;
  }
  const double hv = h.n_q * h.d_v;
  return d + d * h.n_q * (2.0 * h.d_qk + h.d_v) + 2 * d * h.n_q + 2 * h.n_q + d * hv + hv + hv * d + ffn;
}

/// Embedding table parameters: V d.
constexpr double embedding_parameters(const model_spec& m) {
  return static_cast<double>(m.vocab_size) * m.d_model;
}

/// All parameters: L * block + d (final norm) + V d (embedding) + V d (LM head, if untied).
constexpr double parameters(const model_spec& m) {
  return m.n_layers * block_parameters(m) + m.d_model +
         embedding_parameters(m) * (m.tied_embeddings ? 1 : 2);
}

/// A rule of the spec that a value breaks: the key (dotted path) and what is wrong.
struct spec_violation {
  std::string key;
  std::string message;
};

/// Checks the rules that single values cannot: positive sizes, heads that divide the
/// width, chunk size and dtypes. io maps the key to its file position.
inline std::optional<spec_violation> check(const model_spec& m) {
  // Strings are built only for a violation: estimate() calls this on every estimate.
  const auto positive = [](std::string_view key, int v) -> std::optional<spec_violation> {
    if (v > 0) return std::nullopt;
    return spec_violation{std::string(key), fmt::format("'{}' must be a positive integer, got {}", key, v)};
  };
  for (auto v : {positive("d_model", m.d_model), positive("n_layers", m.n_layers),
                 positive("n_heads", m.n_heads), positive("ffn_dim", m.ffn_dim),
                 positive("vocab_size", m.vocab_size)})
    if (v) return v;
  if (m.architecture == architecture::transformer) {
    const attention_spec& a = m.attention;
    if (auto v = positive("attention.n_kv_heads", a.n_kv_heads)) return v;
    if (auto v = positive("attention.head_dim", a.head_dim)) return v;
    if (m.n_heads % a.n_kv_heads != 0)
      return spec_violation{"attention.n_kv_heads",
                            fmt::format("'n_kv_heads' ({}) must divide 'n_heads' ({})", a.n_kv_heads, m.n_heads)};
    return std::nullopt;
  }
  if (m.d_model % m.n_heads != 0)
    return spec_violation{"n_heads", fmt::format("'n_heads' ({}) must divide 'd_model' ({})", m.n_heads, m.d_model)};
  if (auto v = positive("mlstm.chunk_size", m.mlstm.chunk_size)) return v;
  const double d_qk = m.mlstm.qk_dim_factor * (m.d_model / m.n_heads);
  if (!(m.mlstm.qk_dim_factor > 0) || d_qk != static_cast<int>(d_qk))
    return spec_violation{"mlstm.qk_dim_factor",
                          fmt::format("'qk_dim_factor' ({}) times the head width ({}) must be a positive integer",
                                      m.mlstm.qk_dim_factor, m.d_model / m.n_heads)};
  return std::nullopt;
}

}  // namespace roofline
