// io, HuggingFace import: Gemma 2 and Gemma 3 (a gemma3 config's text_config, or a gemma3_text
// config: Gemma-3-1B). Both: GeGLU (tanh) MLPs, norms after attention and after the MLP, sliding
// and global layers. Gemma 2: local and global layers alternate, soft-capped attention and final
// logits. Gemma 3: one global layer in every sliding_window_pattern, q_norm and k_norm; the vision
// tower is not modelled (the spec's name says it is the text model).
#include "roofline/io/hf/decoder.hpp"
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {
namespace {

// A field of Gemma 3's text config with Gemma3TextConfig's default, and where it came from.
std::pair<long long, std::string> text_field(config& t, const char* key, long long fallback) {
  const bool given = t.has(key);
  return {t.integer_or(key, fallback, 0, max_tokens),
          given ? t.dotted(key) : fmt::format("{} absent: Gemma3TextConfig's default", t.dotted(key))};
}

void refuse_gemma3_options(config& t) {
  if (t.boolean_or("attention_bias", false))
    t.fail("attention_bias", "'attention_bias' true is not modelled for gemma3");
  if (t.has("attn_logit_softcapping"))
    t.fail("attn_logit_softcapping", "attention soft-capping in gemma3 is not modelled");
  if (t.has("final_logit_softcapping"))
    t.fail("final_logit_softcapping", "logit soft-capping in gemma3 is not modelled");
  t.skip({"attn_logit_softcapping", "final_logit_softcapping", "hidden_act", "use_bidirectional_attention"});
}

// Gemma 3's layers: global where (i + 1) % pattern == 0, or as layer_types lists them.
layer_sequence gemma3_layers(config& t, long long layers, long long pattern) {
  layer_sequence seq;
  for (long long i = 0; i < layers; ++i) seq.push_back({(i + 1) % pattern == 0 ? "global" : "local", "mlp"});
  if (!t.has("layer_types")) return seq;
  const YAML::Node lt = t.at("layer_types");
  if (!lt.IsSequence() || lt.size() != std::size_t(layers))
    t.fail("layer_types", "'layer_types' must list every layer");
  for (std::size_t i = 0; i < lt.size(); ++i) {
    const std::string v = lt[i].Scalar();
    if (v != "sliding_attention" && v != "full_attention")
      t.fail("layer_types", "unknown layer type '" + v + "'");
    seq[i].first = v == "full_attention" ? "global" : "local";
  }
  return seq;
}

// Gemma 3's text model, from a gemma3 config's text_config (nested) or a gemma3_text config's own
// fields (Gemma-3-1B, which has no vision tower).
void gemma3_text(input& in, config& t, bool tied, bool nested) {
  spec_writer& w = in.w;
  const formats tf = text_formats(in, t, nested);
  const auto [hidden, hw] = text_field(t, "hidden_size", 2304);
  const auto [vocab, vw] = text_field(t, "vocab_size", 262208);
  const auto [ctx, cw] = text_field(t, "max_position_embeddings", 131072);
  const auto [layers, lw] = text_field(t, "num_hidden_layers", 26);
  const auto [heads, hdw] = text_field(t, "num_attention_heads", 8);
  const auto [kv, kw] = text_field(t, "num_key_value_heads", 4);
  const auto [dh, dw] = text_field(t, "head_dim", 256);
  const auto [ffn, fw] = text_field(t, "intermediate_size", 9216);
  const auto [window, ww] = text_field(t, "sliding_window", 4096);
  const auto [pattern, pw] = text_field(t, "sliding_window_pattern", 6);
  const std::string act = activation_name(t, "hidden_activation", "gelu_pytorch_tanh");
  refuse_gemma3_options(t);
  if (nested) {
    w.note(
        "Imported from a HuggingFace config.json (model_type gemma3, its text_config) by roofline's "
        "import_hf.");
    w.note("Not modelled: the vision tower (vision_config); this is the text model.");
  } else {
    w.note("Imported from a HuggingFace config.json (model_type gemma3_text) by roofline's import_hf.");
  }
  w.set("name", nested ? in.name + "_text" : in.name);
  w.set("d_model", hidden, hw);
  w.set("vocab_size", vocab, vw);
  w.set("tied_embeddings", tied, "tie_word_embeddings (default true)");
  t.skip({"tie_word_embeddings"});
  w.set("max_context", ctx, cw);
  w.set("post_norms", true, "Gemma 3: post_attention_layernorm and post_feedforward_layernorm");
  w.section("mixers");
  for (const auto& [name, width] : {std::pair{"local", window}, {"global", 0LL}}) {
    w.block(name);
    w.field("type", "attention");
    w.field("n_heads", heads, hdw);
    w.field("n_kv_heads", kv, kw);
    w.field("head_dim", dh, dw);
    w.field("qk_norm", true, "Gemma 3: q_norm and k_norm");
    if (width > 0) w.field("window", width, ww);
  }
  w.section("channels");
  w.entry("mlp", flow{{"type", "mlp"}, {"ffn_dim", ffn}, {"activation", act}}, fw + "; GeGLU");
  w.layers(gemma3_layers(t, layers, pattern),
           lw + fmt::format("; layer i global where (i + 1) % {} == 0 ({})", pattern, pw));
  write_dtypes(w, tf);
  t.finish("gemma3_text");
}

}  // namespace

void import_gemma2(input& in) {
  import_decoder(in, {.gemma = true,
                      .attention =
                          [](decoder& d) {
                            read_attention_bias(d, false, false);
                            d.attention.softcap = d.in.c.number_or("attn_logit_softcapping", 0, 0, 1e6);
                            d.attention.logit_cap = d.in.c.number_or("final_logit_softcapping", 0, 0, 1e6);
                          },
                      .windows = window_alternating,
                      .keys =
                          [](decoder& d) {
                            d.in.w.set("post_norms", true,
                                       "Gemma 2: post_attention_layernorm and post_feedforward_layernorm");
                            if (d.attention.logit_cap > 0)
                              d.in.w.set("logit_softcap", d.attention.logit_cap, "final_logit_softcapping");
                          }});
}

void import_gemma3(input& in) { import_text_config(in, {"vision_config"}, "gemma3_text", gemma3_text); }

void import_gemma3_text(input& in) {
  gemma3_text(in, in.c, in.c.boolean_or("tie_word_embeddings", true), false);
}

}  // namespace roofline::hf
