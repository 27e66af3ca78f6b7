// io, HuggingFace import: Qwen2, Qwen3, Qwen3-MoE and Qwen3-Next. Sliding windows (when
// use_sliding_window) on the layers from max_window_layers on; Qwen3's q_norm and k_norm; MoE layers
// where (i + 1) % decoder_sparse_step == 0 and i is not in mlp_only_layers; Qwen3-Next's Gated
// DeltaNet layers between full-attention ones, a gated attention output and a shared expert.
#include <set>

#include "roofline/io/hf/decoder.hpp"
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {
namespace {

void window_from_max_window_layers(decoder& d) {
  config& c = d.in.c;
  const bool use = c.boolean_or("use_sliding_window", false);
  const long long from = c.integer_or("max_window_layers", d.layers, 0, max_layers);
  if (!use) {
    c.at("sliding_window");  // not used by the model while use_sliding_window is false
    return;
  }
  d.window = c.integer("sliding_window", 1, max_tokens);
  for (long long i = from; i < d.layers; ++i) d.local[std::size_t(i)] = true;
  d.window_why = fmt::format("sliding_window, layers from max_window_layers {}", from);
}

std::set<long long> mlp_only_layers(decoder& d) {
  config& c = d.in.c;
  std::set<long long> dense;
  const YAML::Node l = c.at("mlp_only_layers");
  if (!c.has("mlp_only_layers")) return dense;
  if (!l.IsSequence()) c.fail("mlp_only_layers", "'mlp_only_layers' must be a list");
  for (const auto& v : l) {
    const auto i = v.IsScalar() ? io_detail::whole(v.Scalar()) : std::nullopt;
    if (!i || *i < 0 || *i >= d.layers)
      c.fail("mlp_only_layers",
             fmt::format("'mlp_only_layers' must list layer indices from 0 to {}", d.layers - 1));
    dense.insert(*i);
  }
  return dense;
}

void qwen_moe(decoder& d) {
  config& c = d.in.c;
  const bool next = d.in.type == "qwen3_next";
  const long long e = c.integer("num_experts"), k = c.integer("num_experts_per_tok"),
                  width = c.integer("moe_intermediate_size");
  const long long step = c.integer_or("decoder_sparse_step", 1);
  const std::set<long long> dense = mlp_only_layers(d);
  d.moe = {{"type", "moe"}, {"n_experts", e}, {"top_k", k}, {"expert_dim", width}};
  if (next) {
    const long long s = c.integer("shared_expert_intermediate_size");
    d.moe.insert(d.moe.end(), {{"n_shared", 1LL}, {"shared_dim", s}, {"shared_gate", true}});
  }
  d.channel_why =
      "num_experts, num_experts_per_tok, moe_intermediate_size" +
      std::string(next ? ", shared_expert_intermediate_size (one shared expert with a sigmoid gate)" : "") +
      fmt::format("; MoE where (i + 1) % decoder_sparse_step ({}) == 0 and i not in mlp_only_layers", step);
  for (long long i = 0; i < d.layers; ++i)
    d.channel[std::size_t(i)] = !dense.count(i) && (i + 1) % step == 0 ? "moe" : "mlp";
  d.moe_note = moe_layers_note::with_dense;
}

void deltanet_layers(decoder& d) {
  config& c = d.in.c;
  const long long interval = c.integer_or("full_attention_interval", 4);
  for (long long i = 0; i < d.layers; ++i)
    d.mixer[std::size_t(i)] = (i + 1) % interval == 0 ? "attention" : "deltanet";
  d.mixer_why = fmt::format("full attention where (i + 1) % full_attention_interval ({}) == 0", interval);
  if (!c.has("layer_types")) return;
  const YAML::Node lt = d.in.root["layer_types"];
  for (std::size_t i = 0; i < lt.size(); ++i) {
    const std::string v = lt[i].Scalar();
    if (v != "linear_attention" && v != "full_attention")
      c.fail("layer_types", "unknown layer type '" + v + "'");
    d.mixer[i] = v == "full_attention" ? "attention" : "deltanet";
  }
  d.mixer_why = "layer_types";
}

void deltanet_block(decoder& d) {
  config& c = d.in.c;
  spec_writer& w = d.in.w;
  w.block("deltanet");
  w.field("type", "gated_deltanet");
  for (const auto& [key, field] : {std::pair{"n_k_heads", "linear_num_key_heads"},
                                   {"n_v_heads", "linear_num_value_heads"},
                                   {"k_head_dim", "linear_key_head_dim"},
                                   {"v_head_dim", "linear_value_head_dim"},
                                   {"conv_size", "linear_conv_kernel_dim"}})
    w.field(key, c.integer(field), field);
  w.field("chunk_size", 64LL, "flash-linear-attention's chunk_gated_delta_rule chunk");
}

}  // namespace

void import_qwen(input& in) {
  decoder_family family{.windows = window_from_max_window_layers};
  if (in.type == "qwen2") {
    family.attention = [](decoder& d) {
      d.attention.qkv_bias = true;
      d.attention.bias_why = "Qwen2: biases on q, k, v";
      refuse_attention_bias(d);
    };
  } else {
    family.attention = [](decoder& d) {
      read_attention_bias(d, false, false);
      d.attention.qk_norm = true;
    };
  }
  if (in.type == "qwen3_moe") family.channels = qwen_moe;
  import_decoder(in, family);
}

void import_qwen3_next(input& in) {
  import_decoder(in, {.attention_layer_types = false,
                      .attention =
                          [](decoder& d) {
                            read_attention_bias(d, false, false);
                            d.attention.qk_norm = d.attention.output_gate = true;
                          },
                      .channels = qwen_moe,
                      .mixers = deltanet_layers,
                      .blocks = deltanet_block,
                      .last =
                          [](decoder& d) {
                            d.in.w.entry("state", "fp32",
                                         "the delta-rule state as flash-linear-attention returns it");
                            if (d.in.c.has("attn_output_gate")) d.in.c.at("attn_output_gate");
                          }});
}

}  // namespace roofline::hf
