// io, HuggingFace import: the decoder-only transformers (decoder.hpp), in the order the spec is
// written: the head and shape, the attention's options, the sliding windows, the channels and
// mixers of each layer, then the sections.
#include "roofline/io/hf/decoder.hpp"

#include <algorithm>

namespace roofline::hf {
namespace {

void read_shape(decoder& d, const decoder_family& family) {
  config& c = d.in.c;
  d.hidden = c.integer("hidden_size");
  d.layers = c.integer("num_hidden_layers", 1, max_layers);
  d.heads = c.integer("num_attention_heads");
  const bool kv_given = c.has("num_key_value_heads");
  d.kv = c.integer_or("num_key_value_heads", d.heads);
  const bool dh_given = c.has("head_dim");
  if (family.head_width_from_heads && !dh_given && d.hidden % d.heads != 0)
    c.fail(
        "num_attention_heads",
        fmt::format("'num_attention_heads' ({}) must divide 'hidden_size' ({}) when 'head_dim' is not given",
                    d.heads, d.hidden));
  d.head_dim = c.integer_or("head_dim", d.hidden / d.heads);
  const long long vocab = c.integer("vocab_size");
  const bool tied = c.boolean_or("tie_word_embeddings", family.gemma);
  const std::optional<long long> ctx =
      c.has("max_position_embeddings") ? std::optional(c.integer("max_position_embeddings", 1, max_tokens))
                                       : std::nullopt;
  write_head(d.in, {.d_model = d.hidden,
                    .vocab = vocab,
                    .tied = tied,
                    .tied_why = fmt::format("tie_word_embeddings (default {})", family.gemma),
                    .max_context = ctx,
                    .context_why = "max_position_embeddings"});
  const bool gemma = family.gemma;
  d.activation = activation_name(c, gemma && c.has("hidden_activation") ? "hidden_activation" : "hidden_act",
                                 gemma ? "gelu_pytorch_tanh" : "silu");
  if (gemma) c.skip({"hidden_act", "hidden_activation"});
  d.heads_why =
      fmt::format("num_attention_heads; num_key_value_heads{}; head_dim{}",
                  kv_given ? "" : " absent: = heads", dh_given ? "" : " absent: hidden_size / heads");
}

void refuse_window(decoder& d) {
  config& c = d.in.c;
  if (c.has("sliding_window"))
    c.fail("sliding_window", fmt::format("'sliding_window' in a {} config is not modelled", d.in.type));
  c.at("sliding_window");
}

// layer_types, where given, says which layers slide (families whose layer types are attention's).
void read_layer_types(decoder& d, const decoder_family& family) {
  config& c = d.in.c;
  if (!c.has("layer_types")) return;
  const YAML::Node lt = c.at("layer_types");
  if (!lt.IsSequence() || lt.size() != std::size_t(d.layers))
    c.fail("layer_types", "'layer_types' must list every layer");
  if (family.attention_layer_types)
    for (std::size_t i = 0; i < lt.size(); ++i) {
      const std::string v = lt[i].Scalar();
      if (v != "sliding_attention" && v != "full_attention")
        c.fail("layer_types", fmt::format("layer type '{}' is not modelled for {}", v, d.in.type));
      d.local[i] = v == "sliding_attention";
    }
  d.window_why += d.window_why.empty() ? "layer_types" : "; layers by layer_types";
}

void write_attention(decoder& d, const std::string& name, long long window) {
  spec_writer& w = d.in.w;
  const attention_options& a = d.attention;
  w.block(name);
  w.field("type", "attention");
  w.field("n_heads", d.heads, d.heads_why);
  w.field("n_kv_heads", d.kv);
  w.field("head_dim", d.head_dim);
  if (window > 0) w.field("window", window, d.window_why);
  if (a.qkv_bias) w.field("qkv_bias", true, a.bias_why);
  if (a.out_bias) w.field("out_bias", true, a.bias_why);
  if (a.qk_norm) w.field("qk_norm", true, d.in.type + ": q_norm and k_norm");
  if (a.sinks) w.field("sinks", true, "gpt_oss: a learned sink per head");
  if (a.output_gate) w.field("output_gate", true, "qwen3_next: gated attention output (q_proj doubled)");
  if (a.softcap > 0) w.field("softcap", a.softcap, "attn_logit_softcapping");
}

bool any(const std::vector<std::string>& v, const char* what) {
  return std::count(v.begin(), v.end(), what) > 0;
}

void write_channels(decoder& d, const decoder_family& family) {
  config& c = d.in.c;
  spec_writer& w = d.in.w;
  w.section("channels");
  if (any(d.channel, "mlp")) {
    const std::string key = d.ffn_key.empty() ? "intermediate_size" : d.ffn_key;
    if (d.ffn == 0) c.fail(key, fmt::format("missing field '{}'", key));
    const bool silu = d.activation == "silu";
    flow mlp{{"type", "mlp"}, {"ffn_dim", d.ffn}};
    if (!silu) mlp.push_back({"activation", d.activation});
    w.entry("mlp", mlp, fmt::format("{}; hidden_act {}", key, silu ? "silu: SwiGLU" : "gelu: GeGLU"));
  } else if (c.has("intermediate_size") && family.dense) {
    c.at("intermediate_size");
  }
  d.in.moe = any(d.channel, "moe");
  if (d.in.moe) w.entry("moe", d.moe, d.channel_why);
}

void write_layers(decoder& d) {
  layer_sequence seq;
  for (long long i = 0; i < d.layers; ++i)
    seq.push_back({d.mixer[std::size_t(i)], d.channel[std::size_t(i)]});
  std::string why = "num_hidden_layers";
  if (!d.mixer_why.empty()) why += "; " + d.mixer_why;
  if (any(d.mixer, "local") && d.window_why.size()) why += "; local: " + d.window_why;
  const bool moe_note = d.moe_note == moe_layers_note::always ||
                        (d.moe_note == moe_layers_note::with_dense && any(d.channel, "mlp"));
  if (moe_note) {
    const std::size_t semicolon = d.channel_why.find(';');
    why += "; " + d.channel_why.substr(semicolon == std::string::npos ? 0 : semicolon + 2);
  }
  d.in.w.layers(seq, why);
}

}  // namespace

void import_decoder(input& in, const decoder_family& family) {
  decoder d{.in = in};
  config& c = in.c;
  read_shape(d, family);
  if (family.attention) family.attention(d);
  d.local.assign(std::size_t(d.layers), false);
  family.windows ? family.windows(d) : refuse_window(d);
  read_layer_types(d, family);
  d.channel.assign(std::size_t(d.layers), "mlp");
  if (family.dense && c.has("intermediate_size")) d.ffn = c.integer("intermediate_size");
  if (family.channels) family.channels(d);
  d.mixer.assign(std::size_t(d.layers), "attention");
  if (family.mixers)
    family.mixers(d);
  else
    for (long long i = 0; i < d.layers; ++i)
      if (d.local[std::size_t(i)]) d.mixer[std::size_t(i)] = "local";
  if (family.keys) family.keys(d);
  in.w.section("mixers");
  if (any(d.mixer, "attention")) write_attention(d, "attention", 0);
  if (any(d.mixer, "local")) write_attention(d, "local", d.window);
  if (family.blocks) family.blocks(d);
  write_channels(d, family);
  write_layers(d);
  write_dtypes(in.w, in.f);
  if (family.last) family.last(d);
  for (const char* k : {"use_sliding_window", "max_window_layers", "decoder_sparse_step",
                        "num_experts_per_tok", "intermediate_size", "head_dim", "num_key_value_heads"})
    if (c.has(k)) c.at(k);
  c.finish(in.type);
}

void read_attention_bias(decoder& d, bool fallback, bool out) {
  const bool b = d.in.c.boolean_or("attention_bias", fallback);
  d.attention.qkv_bias = b;
  d.attention.out_bias = b && out;
  if (b) d.attention.bias_why = "attention_bias";
}

void refuse_attention_bias(decoder& d) {
  if (d.in.c.boolean_or("attention_bias", false))
    d.in.c.fail("attention_bias", fmt::format("'attention_bias' true is not modelled for {}", d.in.type));
}

void window_every_layer(decoder& d) {
  config& c = d.in.c;
  if (!c.has("sliding_window")) {
    c.at("sliding_window");
    return;
  }
  d.window = c.integer("sliding_window", 1, max_tokens);
  std::fill(d.local.begin(), d.local.end(), true);
  d.window_why = "sliding_window, every layer";
}

void window_alternating(decoder& d) {
  config& c = d.in.c;
  d.window = c.integer("sliding_window", 1, max_tokens);
  for (long long i = 0; i < d.layers; ++i) d.local[std::size_t(i)] = i % 2 == 0;
  d.window_why = "sliding_window on even layers (Gemma 2 and gpt-oss alternate local and global)";
  if (c.has("sliding_window_size")) c.at("sliding_window_size");
}

void moe_every_layer(decoder& d, const flow& extra, const std::string& extra_why) {
  config& c = d.in.c;
  const long long e = c.integer("num_local_experts"), k = c.integer("num_experts_per_tok");
  if (c.has("experts_per_token") && c.integer("experts_per_token") != k)
    c.fail("experts_per_token", "'experts_per_token' differs from 'num_experts_per_tok'");
  const long long width = c.integer("intermediate_size");
  d.moe = {{"type", "moe"}, {"n_experts", e}, {"top_k", k}, {"expert_dim", width}};
  d.moe.insert(d.moe.end(), extra.begin(), extra.end());
  d.channel_why = "num_local_experts, num_experts_per_tok, intermediate_size" + extra_why;
  std::fill(d.channel.begin(), d.channel.end(), "moe");
}

}  // namespace roofline::hf
