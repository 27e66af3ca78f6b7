/// A model: a stack of layers (sequence mixer + channel mixer + norms), its number formats and accounting.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "roofline/base/dtype.hpp"
#include "roofline/base/error.hpp"
#include "roofline/spec/accounting.hpp"

#include <fmt/format.h>

namespace roofline {

/// The family a model belongs to, derived from its mixers (for reports and error cells):
/// transformer (attention or MLA only), xlstm (mLSTM only), ssm (Mamba or DeltaNet only), hybrid.
enum class architecture { transformer, xlstm, ssm, hybrid };

template <>
inline constexpr std::array<std::string_view, 4> enum_names<architecture>{"transformer", "xlstm", "ssm",
                                                                          "hybrid"};
inline constexpr std::array<architecture, 4> all_architectures{architecture::transformer, architecture::xlstm,
                                                               architecture::ssm, architecture::hybrid};

enum class norm_kind { rms, layer };  ///< RMSNorm (scale); LayerNorm (scale and bias)
template <>
inline constexpr std::array<std::string_view, 2> enum_names<norm_kind>{"rms", "layer"};
enum class activation { silu, gelu };
template <>
inline constexpr std::array<std::string_view, 2> enum_names<activation>{"silu", "gelu"};

// ---- sequence mixers -------------------------------------------------------------------------

/// Softmax attention, MHA (n_kv_heads = n_heads), GQA or MQA (n_kv_heads = 1), with RoPE or no
/// positions (learned absolute positions are the model's `learned_positions`; positions cost
/// nothing the accounting counts, so Llama 4's NoPE layers are plain global attention).
struct attention_mixer {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int window = 0;           ///< sliding window W: each token attends to its last W tokens; 0: global
  int chunk = 0;            ///< chunked local attention of C tokens (Llama 4): position p attends to the
                            ///< positions C floor(p / C) .. p; 0: none (a layer has a window or a chunk)
  bool qkv_bias = false;    ///< biases on q, k, v (Qwen2, GPT-2, gpt-oss)
  bool out_bias = false;    ///< bias on the output projection (GPT-2, gpt-oss)
  bool qk_norm = false;     ///< RMSNorm of each q and k head (Qwen3, Gemma 3)
  bool qk_l2_norm = false;  ///< L2 normalisation of each q and k head, without weights (Llama 4)
  bool sinks = false;       ///< a learned sink logit per head (gpt-oss)
  bool output_gate =
      false;            ///< sigmoid gate on the attention output, from a doubled q projection (Qwen3-Next)
  double softcap = 0;   ///< logit soft-capping c tanh(x / c) (Gemma 2); 0: none
  bool k_eq_v = false;  ///< values from the keys' projection, no v projection (Gemma 4's global layers,
                        ///< attention_k_eq_v); the cache still holds keys and values (the keys
                        ///< normed and rotated, the values not)
};

/// Multi-head latent attention (DeepSeek-V2/V3): queries through a low-rank q_rank bottleneck
/// (0: a full d x H (nope + rope) projection), keys and values through a shared latent of
/// kv_rank plus one decoupled RoPE key of rope_dim; the KV cache holds latent and RoPE key.
struct mla_mixer {
  int n_heads = 0;
  int q_rank = 0;
  int kv_rank = 0;
  int nope_dim = 0;  ///< per-head query/key width without RoPE
  int rope_dim = 0;  ///< per-head RoPE width of queries, and of the one shared RoPE key
  int v_dim = 0;     ///< per-head value width
  /// DeepSeek Sparse Attention (DeepSeek-V3.2, GLM-5): a lightning indexer of index_heads heads
  /// of index_head_dim scores every cached key, and each query attends to the index_topk best;
  /// 0: dense attention.
  int index_heads = 0;
  int index_head_dim = 0;
  int index_topk = 0;
};

/// The mLSTM cell of xLSTM-7B (Beck et al. 2025, arXiv 2503.13427): per head, keys and
/// queries of width qk_dim_factor * d_model / n_heads, values of width d_model / n_heads.
struct mlstm_mixer {
  int n_heads = 0;
  double qk_dim_factor = 0.5;
  int chunk_size = 64;  ///< L of the chunkwise-parallel prefill
};

/// Mamba-1 selective SSM (Gu and Dao, arXiv 2312.00752; as in Jamba): d_inner = expand d
/// channels, each with a d_state state, a causal conv1d of width d_conv, a dt_rank projection.
struct mamba1_mixer {
  int d_state = 16;
  int d_conv = 4;
  int expand = 2;
  int dt_rank = 0;
  bool conv_bias = true;
  bool proj_bias = false;    ///< biases on in_proj and out_proj
  bool inner_norms = false;  ///< RMSNorms of dt, B and C (Jamba)
};

/// Mamba-2 SSD (Dao and Gu, arXiv 2405.21060): d_inner = expand d in heads of head_dim, a
/// d_state state per head, B and C shared in n_groups groups, chunked prefill of chunk_size.
struct mamba2_mixer {
  int d_state = 128;
  int d_conv = 4;
  int expand = 2;
  int head_dim = 64;
  int n_groups = 1;
  int chunk_size = 256;
  bool conv_bias = true;
  bool proj_bias = false;
};

/// Gated DeltaNet (Yang et al., arXiv 2412.06464; Qwen3-Next): n_k_heads query/key heads of
/// k_head_dim shared by n_v_heads value heads of v_head_dim, a d_k x d_v state per value head,
/// a causal conv1d of conv_size on q, k, v, chunked prefill of chunk_size.
struct deltanet_mixer {
  int n_k_heads = 0;
  int n_v_heads = 0;
  int k_head_dim = 0;
  int v_head_dim = 0;
  int conv_size = 4;
  int chunk_size = 64;
};

using mixer_spec =
    std::variant<attention_mixer, mla_mixer, mlstm_mixer, mamba1_mixer, mamba2_mixer, deltanet_mixer>;

// ---- channel mixers --------------------------------------------------------------------------

struct no_channel {};

/// A feed-forward block: gated (SwiGLU, GeGLU: gate and up d -> f, down f -> d) or plain
/// (up d -> f, activation, down).
struct mlp_channel {
  int ffn_dim = 0;
  bool gated = true;
  enum activation activation = activation::silu;
  bool bias = false;
};

/// Mixture of experts: a router d -> E, each token through top_k of n_experts gated (or plain)
/// MLPs of width expert_dim, plus n_shared always-used experts of width shared_dim each.
struct moe_channel {
  int n_experts = 0;
  int top_k = 0;
  int expert_dim = 0;
  int n_shared = 0;
  int shared_dim = 0;
  bool gated = true;
  enum activation activation = activation::silu;
  bool expert_bias = false;  ///< biases on each expert's projections (gpt-oss)
  bool router_bias = false;  ///< a bias per expert on the router (gpt-oss; DeepSeek-V3's score correction)
  bool shared_gate = false;  ///< a sigmoid gate d -> 1 on the shared experts' output (Qwen3-Next)
  /// Routing skew: the tokens of a pass go to a hot set of n_experts / load_imbalance experts,
  /// uniformly (1: uniform routing over all experts). See graph/moe.hpp.
  double load_imbalance = 1;
};

using channel_spec = std::variant<no_channel, mlp_channel, moe_channel>;

// ---- the stack -------------------------------------------------------------------------------

/// One kind of layer: a sequence mixer and a channel mixer, each behind a pre-norm with a
/// residual add (and a post-norm where the model has post_norms). Named by the spec's
/// mixer and channel names.
struct layer_kind {
  std::string mixer_name;
  std::string channel_name;  ///< "none" for no channel mixer
  mixer_spec mixer;
  channel_spec channel;

  std::string name() const { return channel_name == "none" ? mixer_name : mixer_name + "+" + channel_name; }
};

/// Weights a storage format can be set for (dtypes.<kind> in a spec).
enum class weight_kind { mixer, mlp, experts, shared_experts, router, embedding, lm_head, vectors };
inline constexpr std::array all_weight_kinds{
    weight_kind::mixer,  weight_kind::mlp,       weight_kind::experts, weight_kind::shared_experts,
    weight_kind::router, weight_kind::embedding, weight_kind::lm_head, weight_kind::vectors};
template <>
inline constexpr std::array<std::string_view, 8> enum_names<weight_kind>{
    "mixer", "mlp", "experts", "shared_experts", "router", "embedding", "lm_head", "vectors"};

/// A weight's storage format and the format its GEMMs compute in.
struct weight_format {
  number_format storage{};
  std::optional<dtype> compute{};  ///< empty: the model's default compute format
};

/// Number formats per kind of tensor.
/// Weights: `weights` is the storage of the layers' linear weights (mixer, mlp, experts,
/// shared_experts, router); the embedding, the LM head and the vectors (norm scales, biases,
/// sinks, conv and SSM per-channel parameters) are stored in the activation format, as weight
/// quantizers (GPTQ, AWQ, gpt-oss's MXFP4, DeepSeek-V3's FP8) leave them unquantized. `kinds`
/// overrides any of them. GEMMs compute in `compute`, else in the activation format: W4A16 or
/// W8A16 (4- or 8-bit storage, bf16 compute) dequantise and run the bf16 units; W8A8 and FP8
/// set compute: int8 or fp8 and run the 8-bit units.
struct tensor_dtypes {
  number_format weights = plain(dtype::bf16);
  std::array<std::optional<weight_format>, all_weight_kinds.size()> kinds{};
  std::optional<dtype> compute{};
  dtype activations = dtype::bf16;
  number_format kv_cache = plain(dtype::bf16);
  dtype state = dtype::fp32;  ///< recurrent state (mLSTM C, n, m; SSM and DeltaNet states)
};

/// Storage format of a kind of weight (see tensor_dtypes).
constexpr number_format storage(const tensor_dtypes& t, weight_kind k) {
  if (const auto& o = t.kinds[static_cast<std::size_t>(k)]) return o->storage;
  const bool layer_linear =
      k != weight_kind::embedding && k != weight_kind::lm_head && k != weight_kind::vectors;
  return layer_linear ? t.weights : plain(t.activations);
}

/// Format the GEMMs of a kind of weight compute in (see tensor_dtypes).
constexpr dtype compute_dtype(const tensor_dtypes& t, weight_kind k) {
  if (const auto& o = t.kinds[static_cast<std::size_t>(k)]; o && o->compute) return *o->compute;
  return t.compute.value_or(t.activations);
}

/// A vision encoder (ViT) whose images become tokens of the prompt (Llama 4, Gemma 4): each image
/// (each tile, for a model that tiles images) is `patches` patches of `patch_inputs` pixel values,
/// embedded by a linear layer patch_inputs -> d_model, through `layers` encoder layers
/// (bidirectional attention of n_heads heads of head_dim, an MLP of ffn_dim, a pre-norm each and a
/// post-norm each with post_norms), merged into `image_tokens` tokens (pixel shuffle or pooling)
/// and projected by the adapter's linear layers adapter[0] -> adapter[1] -> ... -> the text
/// model's d_model (the last width), an activation between two of them. It runs in the prefill of
/// a request with images (workload.images); its weights are held beside the text model's, stored
/// as its embedding is (graph/vision.hpp).
struct vision_tower {
  int layers = 0;  ///< 0: no vision tower
  int d_model = 0;
  int n_heads = 0;
  int head_dim = 0;  ///< 0: d_model / n_heads
  int ffn_dim = 0;
  bool gated = false;
  enum activation activation = activation::gelu;
  bool bias = false;  ///< biases on q, k, v, o and the MLP's layers
  enum norm_kind norm = norm_kind::layer;
  bool post_norms = false;
  bool qk_norm = false;
  int outer_norms = 0;   ///< norms outside the layers (before or after them), counted as the layers' norms
  int patch_inputs = 0;  ///< pixel values of a patch (channels x patch x patch)
  int patches = 0;       ///< encoder tokens of an image (a class token included)
  int positions = 0;     ///< rows of learned position (and class) embeddings: parameters only
  int image_tokens = 0;  ///< prompt tokens an image becomes
  std::vector<int> adapter{};
};

struct model_spec {
  std::string name{};
  std::string file{};  ///< where it was read from (for messages); empty when built in code
  /// The HuggingFace repositories whose config.json this spec is (org/name), e.g. the names
  /// measured serving runs give in `model_path`; empty: not stated.
  std::vector<std::string> hf_names{};
  int d_model = 0;
  int vocab_size = 0;
  bool tied_embeddings = false;
  enum norm_kind norm = norm_kind::rms;
  bool post_norms = false;    ///< a norm after each mixer and channel mixer too (Gemma 2, 3)
  int learned_positions = 0;  ///< rows of a learned absolute position table (GPT-2); 0: none
  int input_projection =
      0;  ///< a draft head's input n d -> d after the embedding (MTP 2, EAGLE-3 3); 0: none
  std::int64_t max_context = 0;     ///< prompt + generated tokens the model takes; 0: not stated
  double logit_softcap = 0;         ///< soft-capping of the final logits (Gemma 2); 0: none
  std::vector<layer_kind> kinds{};  ///< the distinct layers
  std::vector<int> layers{};        ///< kind index of each layer, first to last
  tensor_dtypes dtypes{};
  struct accounting accounting {};
  vision_tower vision{};  ///< layers 0: none (a text model)
};

/// Layers of the stack.
inline int n_layers(const model_spec& m) { return static_cast<int>(m.layers.size()); }

/// How many layers are of kind k.
inline int layer_count(const model_spec& m, std::size_t k) {
  int n = 0;
  for (int i : m.layers) n += i == static_cast<int>(k);
  return n;
}

/// A model of one kind of layer repeated n times.
inline void set_uniform_layers(model_spec& m, layer_kind k, int n) {
  m.kinds = {std::move(k)};
  m.layers.assign(static_cast<std::size_t>(n), 0);
}

/// The family of a model (see architecture).
inline architecture family(const model_spec& m) {
  bool attn = false, mlstm = false, ssm = false;
  for (const layer_kind& k : m.kinds) {
    attn |= std::holds_alternative<attention_mixer>(k.mixer) || std::holds_alternative<mla_mixer>(k.mixer);
    mlstm |= std::holds_alternative<mlstm_mixer>(k.mixer);
    ssm |= std::holds_alternative<mamba1_mixer>(k.mixer) || std::holds_alternative<mamba2_mixer>(k.mixer) ||
           std::holds_alternative<deltanet_mixer>(k.mixer);
  }
  if (attn + mlstm + ssm > 1) return architecture::hybrid;
  return mlstm ? architecture::xlstm : ssm ? architecture::ssm : architecture::transformer;
}

/// The model with its KV cache stored in the format named `name` (kv_format: bf16, fp8,
/// nvfp4); `option` names the setting in messages. Throws input_error for a name that is not
/// one, and for a model that keeps no KV cache (no attention or MLA layers: its recurrent state
/// has its own format, dtypes.state), where the setting would change nothing.
inline void set_kv_format(model_spec& m, std::string_view name, std::string_view option) {
  const auto f = kv_format(name);
  if (!f) throw input_error(fmt::format("{}: 'bf16', 'fp8' or 'nvfp4', not '{}'", option, name));
  const architecture a = family(m);
  if (a == architecture::xlstm || a == architecture::ssm)
    throw input_error(
        fmt::format("{} {}: model '{}' keeps no KV cache (no attention layers); its recurrent "
                    "state's format is dtypes.state",
                    option, name, m.name));
  m.dtypes.kv_cache = *f;
}

/// Head widths of an mLSTM: d_qk (queries, keys) and d_v (values) = d_model / n_heads.
struct mlstm_heads {
  int n;
  int d_qk;
  int d_v;
};
constexpr mlstm_heads heads(const mlstm_mixer& x, int d_model) {
  const int d_v = d_model / x.n_heads;
  return {x.n_heads, static_cast<int>(x.qk_dim_factor * d_v), d_v};
}

/// A rule of the spec that a value breaks: the key (dotted path) and what is wrong.
struct spec_violation {
  std::string key;
  std::string message;
};

/// Realistic bounds on sizes, so that counts stay exact in doubles and reports stay small:
/// widths and head counts up to 2^20, layers up to 4,096 (the largest released models have
/// under 200), experts up to 65,536, contexts up to 2^40 tokens.
inline constexpr std::int64_t max_width = 1 << 20;
inline constexpr int max_layers = 4096;
inline constexpr int max_experts = 65536;
inline constexpr std::int64_t max_tokens = std::int64_t(1) << 40;

/// The rules of a spec that are not a layer kind's (those are beside each kind's builder in
/// graph/, and check() in graph/graph.hpp runs both): d_model and the vocabulary in bounds, at
/// least one layer and at most max_layers, every layer of a kind that exists, max_context and
/// learned_positions in range. The key and message are built only for a violation.
inline std::optional<spec_violation> check_model(const model_spec& m) {
  const auto fail = [](std::string key, std::string msg) {
    return std::optional<spec_violation>{{key, msg}};
  };
  for (const auto& [key, value] : {std::pair{"d_model", m.d_model}, {"vocab_size", m.vocab_size}})
    if (!(value > 0 && value <= max_width))
      return fail(key, fmt::format("'{}' must be an integer from 1 to {}, got {}", key, max_width, value));
  if (m.kinds.empty() || m.layers.empty()) return fail("layers", "a model needs at least one layer");
  if (m.layers.size() > std::size_t(max_layers))
    return fail("layers", fmt::format("{} layers; at most {} are allowed", m.layers.size(), max_layers));
  for (int i : m.layers)
    if (i < 0 || std::size_t(i) >= m.kinds.size()) return fail("layers", fmt::format("no layer kind {}", i));
  if (m.max_context < 0 || m.max_context > max_tokens)
    return fail("max_context",
                fmt::format("'max_context' must be from 1 to {}, got {}", max_tokens, m.max_context));
  if (m.learned_positions < 0) return fail("learned_positions", "'learned_positions' must be >= 0");
  return std::nullopt;
}

}  // namespace roofline
