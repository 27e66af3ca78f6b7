// io, HuggingFace import: GPT-2 (openai-community/gpt2): LayerNorm, learned positions, biases on every
// projection, a plain (ungated) GELU MLP.
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {

void import_gpt2(input& in) {
  config& c = in.c;
  spec_writer& w = in.w;
  const long long dm = c.integer("n_embd"), layers = c.integer("n_layer", 1, max_layers),
                  heads = c.integer("n_head");
  if (dm % heads != 0) c.fail("n_head", fmt::format("'n_head' ({}) must divide 'n_embd' ({})", heads, dm));
  const long long pos = c.integer("n_positions", 1, max_tokens), vocab = c.integer("vocab_size");
  const bool inner_given = c.has("n_inner");
  const long long inner = c.integer_or("n_inner", 4 * dm);
  const std::string act = activation_name(c, "activation_function", "gelu_new");
  if (c.boolean_or("add_cross_attention", false))
    c.fail("add_cross_attention", "cross-attention is not modelled");
  write_head(in, {.d_model = dm,
                  .vocab = vocab,
                  .tied = c.boolean_or("tie_word_embeddings", true),
                  .tied_why = "tie_word_embeddings (default true)",
                  .max_context = pos,
                  .context_why = "n_positions",
                  .d_model_why = "n_embd"});
  w.set("norm", "layer", "GPT-2: LayerNorm with biases");
  w.set("learned_positions", pos, "n_positions: the wpe table");
  w.section("mixers");
  w.entry("attention",
          flow{{"type", "attention"},
               {"n_heads", heads},
               {"n_kv_heads", heads},
               {"head_dim", dm / heads},
               {"qkv_bias", true},
               {"out_bias", true}},
          "n_head; head_dim n_embd / n_head; c_attn and c_proj have biases");
  w.section("channels");
  w.entry("mlp",
          flow{{"type", "mlp"}, {"ffn_dim", inner}, {"gated", false}, {"activation", act}, {"bias", true}},
          inner_given ? "n_inner" : "n_inner null: 4 n_embd");
  w.layers(layer_sequence(std::size_t(layers), {"attention", "mlp"}), "n_layer");
  write_dtypes(w, in.f);
  c.finish(in.type);
}

}  // namespace roofline::hf
