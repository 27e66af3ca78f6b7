// io, HuggingFace import: Gemma 4 (model_type gemma4, its text_config; and gemma4_text), as
// transformers' Gemma4TextAttention and Gemma4TextDecoderLayer build it. Sliding and global layers
// as layer_types lists them; global layers of global_head_dim (head_dim where unset), and with
// attention_k_eq_v their values taken from the keys' projection and num_global_key_value_heads KV
// heads; q and k heads RMSNormed (the v_norm has no weights); RMSNorm before and after the
// attention and the MLP; GeGLU (tanh) MLPs of intermediate_size. With enable_moe_block, every
// layer also runs a mixture of num_experts experts of moe_intermediate_size beside its MLP, on the
// same input: the MLP is written as the MoE's one shared expert. Not modelled, and refused: per-layer
// embeddings (hidden_size_per_layer_input, the E2B and E4B models), KV sharing across layers
// (num_kv_shared_layers), the double-wide MLP of shared layers, attention biases. Not modelled and
// stated in the spec: the MoE block's router scales and three extra norms, and each layer's
// layer_scalar (element-wise, not counted). The vision tower is imported from vision_config; an
// audio tower is refused.
#include "roofline/io/hf/decoder.hpp"
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {
namespace {

void refuse_gemma4_options(config& t) {
  if (t.integer_or("hidden_size_per_layer_input", 0, 0, max_width) > 0)
    t.fail("hidden_size_per_layer_input",
           "per-layer embeddings ('hidden_size_per_layer_input' > 0, Gemma 4 E2B and E4B) are not modelled");
  if (t.integer_or("num_kv_shared_layers", 0, 0, max_layers) > 0)
    t.fail("num_kv_shared_layers",
           "KV caches shared across layers ('num_kv_shared_layers' > 0) are not modelled");
  if (t.boolean_or("use_double_wide_mlp", false))
    t.fail("use_double_wide_mlp", "'use_double_wide_mlp' true is not modelled");
  if (t.boolean_or("attention_bias", false))
    t.fail("attention_bias", "'attention_bias' true is not modelled");
  // "vision": image tokens see each other both ways (an image's tokens in a causal prompt change
  // few scores); "all": every token sees every token, which the causal accounting does not count
  if (t.text_or("use_bidirectional_attention", "vision") == "all")
    t.fail("use_bidirectional_attention",
           "'use_bidirectional_attention' all (every token sees every token) is not modelled: the layers are "
           "counted causal");
  // vocab_size_per_layer_input sizes the per-layer embeddings refused above; the rest are masks,
  // caches and dropout
  t.skip({"vocab_size_per_layer_input", "use_bidirectional_attention", "attention_dropout", "use_cache",
          "expert_intermediate_size", "moe_intermediate_size", "num_experts", "top_k_experts",
          "num_global_key_value_heads", "global_head_dim", "final_logit_softcapping", "tie_word_embeddings"});
}

// Gemma 4's layers from layer_types (required: nothing else places the global layers).
layer_sequence gemma4_layers(config& t, long long layers, const std::string& channel) {
  if (!t.has("layer_types")) t.fail("layer_types", "missing field 'layer_types'");
  const YAML::Node lt = t.at("layer_types");
  if (!lt.IsSequence() || lt.size() != std::size_t(layers))
    t.fail("layer_types", fmt::format("'{}' must list every layer ({})", t.dotted("layer_types"), layers));
  layer_sequence seq;
  for (std::size_t i = 0; i < lt.size(); ++i) {
    const std::string v = lt[i].Scalar();
    if (v != "sliding_attention" && v != "full_attention")
      t.fail("layer_types", fmt::format("layer type '{}' is not modelled for gemma4", v));
    seq.push_back({v == "full_attention" ? "global" : "local", channel});
  }
  return seq;
}

// The MoE channel beside each layer's MLP, or the MLP alone.
void gemma4_channels(config& t, spec_writer& w, long long ffn, const std::string& act) {
  w.section("channels");
  if (!t.boolean_or("enable_moe_block", false)) {
    w.entry("mlp", flow{{"type", "mlp"}, {"ffn_dim", ffn}, {"activation", act}}, "intermediate_size; GeGLU");
    return;
  }
  const char* width_key =
      t.has("moe_intermediate_size") ? "moe_intermediate_size" : "expert_intermediate_size";
  const long long e = t.integer("num_experts"), k = t.integer("top_k_experts", 1, e),
                  width = t.integer(width_key);
  w.entry(
      "moe",
      flow{{"type", "moe"},
           {"n_experts", e},
           {"top_k", k},
           {"expert_dim", width},
           {"n_shared", 1LL},
           {"shared_dim", ffn},
           {"activation", act}},
      fmt::format("num_experts, top_k_experts, {}; the MLP of intermediate_size beside it (enable_moe_block) "
                  "as one shared expert",
                  width_key));
}

void gemma4_text(input& in, config& t, bool tied, bool nested) {
  spec_writer& w = in.w;
  const formats tf = text_formats(in, t, nested);
  const long long hidden = t.integer("hidden_size"), vocab = t.integer("vocab_size");
  const long long ctx = t.integer("max_position_embeddings", 1, max_tokens);
  const long long layers = t.integer("num_hidden_layers", 1, max_layers);
  const long long heads = t.integer("num_attention_heads"), kv = t.integer("num_key_value_heads", 1, heads);
  const long long dh = t.integer("head_dim"), ffn = t.integer("intermediate_size");
  const long long window = t.integer("sliding_window", 1, max_tokens);
  // transformers: global_head_dim where set, else head_dim; with k_eq_v the global KV heads
  const long long gdh = t.has("global_head_dim") ? t.integer("global_head_dim") : dh;
  const bool k_eq_v = t.boolean_or("attention_k_eq_v", false);
  const long long gkv = k_eq_v ? t.integer("num_global_key_value_heads", 1, heads) : kv;
  const double softcap = t.number_or("final_logit_softcapping", 0, 0, 1e6);
  const std::string act = activation_name(t, "hidden_activation", "gelu_pytorch_tanh");
  refuse_gemma4_options(t);
  w.note(nested
             ? "Imported from a HuggingFace config.json (model_type gemma4, its text_config) by roofline's "
               "import_hf."
             : "Imported from a HuggingFace config.json (model_type gemma4_text) by roofline's import_hf.");
  w.note(
      "Not modelled: the MoE block's router scales and extra norms and each layer's layer_scalar "
      "(element-wise, not counted).");
  w.set("name", nested ? in.name + "_text" : in.name);
  w.set("d_model", hidden, "hidden_size");
  w.set("vocab_size", vocab, "vocab_size");
  w.set("tied_embeddings", tied, "tie_word_embeddings (default true)");
  w.set("max_context", ctx, "max_position_embeddings");
  w.set("post_norms", true, "Gemma 4: post_attention_layernorm and post_feedforward_layernorm");
  if (softcap > 0) w.set("logit_softcap", softcap, "final_logit_softcapping");
  w.section("mixers");
  w.block("local");
  w.field("type", "attention");
  w.field("n_heads", heads, "num_attention_heads");
  w.field("n_kv_heads", kv, "num_key_value_heads");
  w.field("head_dim", dh, "head_dim");
  w.field("window", window, "sliding_window");
  w.field("qk_norm", true, "q_norm and k_norm");
  w.block("global");
  w.field("type", "attention");
  w.field("n_heads", heads, "num_attention_heads");
  w.field("n_kv_heads", gkv,
          k_eq_v ? "num_global_key_value_heads (attention_k_eq_v)" : "num_key_value_heads");
  w.field("head_dim", gdh, t.has("global_head_dim") ? "global_head_dim" : "head_dim (no global_head_dim)");
  w.field("qk_norm", true, "q_norm and k_norm");
  if (k_eq_v) w.field("k_eq_v", true, "attention_k_eq_v: no v_proj on full-attention layers");
  const bool moe = t.boolean_or("enable_moe_block", false);
  gemma4_channels(t, w, ffn, act);
  w.layers(gemma4_layers(t, layers, moe ? "moe" : "mlp"), "num_hidden_layers; layer_types");
  write_dtypes(w, tf);
  t.finish("gemma4_text");
}

// Gemma 4's vision tower from vision_config, as transformers' Gemma4VisionModel builds it (what each
// part is: model_specs/gemma4_31b.yaml): images of `tokens` soft tokens (vision_soft_tokens_per_image),
// each pooled from pooling_kernel_size^2 patches of 3 x patch_size^2 pixels (RGB: the config has
// no channel count); the encoder; the projection to the text model's width. An image of another
// size or aspect ratio is another count of patches: this is the default budget's.
vision_keys gemma4_vision(config& v, long long tokens, long long text_width) {
  const long long d = v.integer("hidden_size"), layers = v.integer("num_hidden_layers", 1, max_layers);
  const long long heads = v.integer("num_attention_heads"), dh = v.integer("head_dim");
  const long long ffn = v.integer("intermediate_size"), patch = v.integer("patch_size");
  const long long pool = v.integer("pooling_kernel_size"), table = v.integer("position_embedding_size");
  if (v.integer_or("num_key_value_heads", heads, 1, heads) != heads)
    v.fail("num_key_value_heads",
           "'vision_config.num_key_value_heads' other than num_attention_heads is not modelled");
  if (v.boolean_or("attention_bias", false))
    v.fail("attention_bias", "'attention_bias' true is not modelled");
  const bool standardize = v.boolean_or("standardize", false);
  const std::string act = activation_name(v, "hidden_activation", "gelu_pytorch_tanh");
  // default_output_length is the image budget the processor uses (vision_soft_tokens_per_image at the
  // top says the same); global_head_dim equals head_dim in the vision tower; clipped linears add
  // only clamp bounds; the rest are positions, dropout and labels
  v.skip({"default_output_length", "global_head_dim", "use_clipped_linears", "max_position_embeddings",
          "id2label", "label2id", "chunk_size_feed_forward", "is_encoder_decoder", "output_attentions",
          "output_hidden_states", "return_dict", "problem_type", "dtype", "torch_dtype", "attention_dropout",
          "architectures"});
  v.finish("gemma4_vision");
  vision_keys k("Gemma4VisionModel", layers, d, heads);
  k.add("head_dim", dh, "head_dim");
  k.add("ffn_dim", ffn, "intermediate_size; GeGLU");
  k.add("gated", true, "gate_proj, up_proj, down_proj");
  k.add("activation", act, "hidden_activation");
  k.add("norm", std::string("rms"), "Gemma4RMSNorm");
  k.add("post_norms", true, "post_attention_layernorm and post_feedforward_layernorm");
  k.add("qk_norm", true, "q_norm and k_norm");
  if (standardize) k.add("outer_norms", 2LL, "standardize: std_scale and std_bias");
  k.add("patch_inputs", 3 * patch * patch, "3 x patch_size^2 (RGB)");
  k.add("patches", tokens * pool * pool, "vision_soft_tokens_per_image x pooling_kernel_size^2");
  k.add("positions", 2 * table, "position_embedding_table: 2 x position_embedding_size");
  k.add("image_tokens", tokens, "vision_soft_tokens_per_image");
  k.add("adapter", fmt::format("[{}, {}]", d, text_width),
        "embedding_projection: hidden_size -> the text hidden_size");
  return k;
}

}  // namespace

void import_gemma4(input& in) {
  config& c = in.c;
  vision_keys vision;
  if (c.has("vision_config") && c.has("text_config")) {
    config v(in.path, c.at("vision_config"), "vision_config");
    const long long tokens = c.integer("vision_soft_tokens_per_image");
    vision = gemma4_vision(v, tokens, c.at("text_config")["hidden_size"].as<long long>(0));
  }
  if (c.has("audio_config")) c.fail("audio_config", "the audio tower (audio_config) is not modelled");
  import_text_config(in,
                     {"audio_config", "image_token_id", "video_token_id", "audio_token_id", "boi_token_id",
                      "eoi_token_id", "boa_token_id", "eoa_token_id", "eoa_token_index"},
                     "gemma4_text", gemma4_text);
  vision.write(in.w);
}

void import_gemma4_text(input& in) {
  gemma4_text(in, in.c, in.c.boolean_or("tie_word_embeddings", true), false);
}

}  // namespace roofline::hf
