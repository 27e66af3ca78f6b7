// io, HuggingFace import: Llama 4 (model_type llama4, its text_config; and llama4_text). MoE with
// one shared expert of intermediate_size and top-k routing on the layers moe_layers lists (by
// default every interleave_moe_layer_step-th, as Llama4TextConfig derives it), a SwiGLU MLP of
// intermediate_size_mlp on the others; chunked local attention of attention_chunk_size on the
// layers that use RoPE (no_rope_layers 1; by default all but every no_rope_layer_interval-th), with
// q and k heads L2-normed where use_qk_norm, and global attention without positions (NoPE) on the
// others; layer_types, where given, says which layers are chunked. Not modelled, and the spec says
// so: the vision tower (vision_config) and the NoPE layers' query temperature
// (attn_temperature_tuning: one multiply per query element, B T H d_h, not counted).
#include "roofline/io/hf/decoder.hpp"
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {
namespace {

// Per layer: 1 where a field lists the layer (a 0/1 list of every layer, or a list of indices).
std::vector<bool> read_flags(config& c, const char* key, long long layers, bool indices) {
  const YAML::Node n = c.at(key);
  if (!n.IsSequence()) c.fail(key, fmt::format("'{}' must be a list", c.dotted(key)));
  std::vector<bool> out(std::size_t(layers), false);
  if (!indices && n.size() != std::size_t(layers))
    c.fail(key, fmt::format("'{}' must list every layer ({}), got {}", c.dotted(key), layers, n.size()));
  for (std::size_t i = 0; i < n.size(); ++i) {
    const long long v = n[i].as<long long>(-1);
    if (indices ? v < 0 || v >= layers : v != 0 && v != 1)
      c.fail(key,
             fmt::format("'{}' holds '{}': {}", c.dotted(key), n[i].Scalar(),
                         indices ? fmt::format("a layer index 0 .. {}", layers - 1) : "0 or 1 per layer"));
    out[indices ? std::size_t(v) : i] = indices || v == 1;
  }
  return out;
}

struct llama4_layers {
  std::vector<bool> rope{}, chunked{}, moe{};
  std::string why{};
};

// Which layers use RoPE, which are chunked and which are MoE, with where each came from.
llama4_layers read_layers(decoder& d) {
  config& c = d.in.c;
  const long long n = d.layers;
  llama4_layers l{std::vector<bool>(std::size_t(n)), {}, {}, {}};
  // Llama4TextConfig: an absent or empty no_rope_layers falls back to the interval
  const bool listed = c.has("no_rope_layers") && c.at("no_rope_layers").size() > 0;
  const long long interval = c.integer_or("no_rope_layer_interval", 4, 1, max_layers);
  if (listed) {
    l.rope = read_flags(c, "no_rope_layers", n, false);
    l.why = "RoPE layers by no_rope_layers (1: RoPE)";
  } else {
    if (c.has("no_rope_layers")) c.at("no_rope_layers");
    for (long long i = 0; i < n; ++i) l.rope[std::size_t(i)] = (i + 1) % interval != 0;
    l.why = fmt::format("NoPE layer i where (i + 1) % {} == 0 (no_rope_layer_interval)", interval);
  }
  l.chunked = l.rope;
  if (c.has("layer_types")) {
    const YAML::Node lt = c.at("layer_types");
    if (!lt.IsSequence() || lt.size() != std::size_t(n))
      c.fail("layer_types", "'layer_types' must list every layer");
    for (std::size_t i = 0; i < lt.size(); ++i) {
      const std::string v = lt[i].Scalar();
      if (v != "chunked_attention" && v != "full_attention")
        c.fail("layer_types", fmt::format("layer type '{}' is not modelled for {}", v, d.in.type));
      l.chunked[i] = v == "chunked_attention";
    }
    l.why += "; chunked layers by layer_types";
  } else {
    l.why += "; the RoPE layers chunked";
  }
  if (c.has("moe_layers")) {
    l.moe = read_flags(c, "moe_layers", n, true);
    if (c.has("interleave_moe_layer_step")) c.at("interleave_moe_layer_step");
    l.why += "; MoE layers by moe_layers";
  } else {
    const long long step = c.integer_or("interleave_moe_layer_step", 1, 1, max_layers);
    l.moe.assign(std::size_t(n), false);
    for (long long i = step - 1; i < n; i += step) l.moe[std::size_t(i)] = true;
    l.why += fmt::format("; MoE layer i where (i + 1) % {} == 0 (interleave_moe_layer_step)", step);
  }
  return l;
}

// A mixer's name: chunked or global, marked where its q and k norm is not the usual one for
// its kind (chunked layers use RoPE and normalise where use_qk_norm; global ones are NoPE).
std::string mixer_name(bool chunked, bool qk, bool use_qk_norm) {
  const std::string base = chunked ? "chunked" : "global";
  if (qk == (chunked && use_qk_norm)) return base;
  return base + (qk ? "_qk_norm" : "_no_qk_norm");
}

struct llama4_state {
  llama4_layers l{};
  bool use_qk_norm = true, nested = false;
  std::string qk_why{};
  long long chunk = 0;
};

void llama4_channels(decoder& d, llama4_state& s) {
  config& c = d.in.c;
  s.l = read_layers(d);
  const long long e = c.integer("num_local_experts"), k = c.integer("num_experts_per_tok");
  const long long width = c.integer("intermediate_size");
  d.moe = {{"type", "moe"},       {"n_experts", e},  {"top_k", k},
           {"expert_dim", width}, {"n_shared", 1LL}, {"shared_dim", width}};
  d.channel_why =
      "num_local_experts, num_experts_per_tok, intermediate_size; a shared_expert of "
      "intermediate_size";
  bool dense = false;
  for (long long i = 0; i < d.layers; ++i) {
    const bool moe = s.l.moe[std::size_t(i)];
    d.channel[std::size_t(i)] = moe ? "moe" : "mlp";
    dense |= !moe;
  }
  d.ffn_key = "intermediate_size_mlp";
  if (dense)
    d.ffn = c.integer("intermediate_size_mlp");
  else if (c.has("intermediate_size_mlp"))
    c.at("intermediate_size_mlp");
  d.moe_note = moe_layers_note::none;
}

void llama4_mixers(decoder& d, llama4_state& s) {
  config& c = d.in.c;
  s.qk_why = c.has("use_qk_norm") ? "use_qk_norm" : "use_qk_norm absent: Llama4TextConfig's default true";
  s.use_qk_norm = c.boolean_or("use_qk_norm", true);
  if (std::count(s.l.chunked.begin(), s.l.chunked.end(), true) > 0)
    s.chunk = c.integer("attention_chunk_size", 1, max_tokens);
  else if (c.has("attention_chunk_size"))
    c.at("attention_chunk_size");
  for (long long i = 0; i < d.layers; ++i) {
    const auto at = std::size_t(i);
    d.mixer[at] = mixer_name(s.l.chunked[at], s.use_qk_norm && s.l.rope[at], s.use_qk_norm);
  }
  d.mixer_why = s.l.why;
  for (const char* k : {"attn_temperature_tuning", "floor_scale", "attn_scale"}) c.skip({k});
  c.skip({"for_llm_compressor", "router_jitter_noise"});  // a quantizer's flag; training noise
}

void llama4_blocks(decoder& d, const llama4_state& s) {
  spec_writer& w = d.in.w;
  for (const char* name : {"chunked", "chunked_no_qk_norm", "global", "global_qk_norm"}) {
    if (std::count(d.mixer.begin(), d.mixer.end(), name) == 0) continue;
    const std::string n = name;
    w.block(n);
    w.field("type", "attention");
    w.field("n_heads", d.heads, d.heads_why);
    w.field("n_kv_heads", d.kv);
    w.field("head_dim", d.head_dim);
    if (n.starts_with("chunked")) w.field("chunk", s.chunk, "attention_chunk_size");
    if (n == "chunked" ? s.use_qk_norm : n == "global_qk_norm")
      w.field("qk_l2_norm", true, s.qk_why + ": Llama4TextL2Norm of q and k on the RoPE layers");
  }
}

void llama4_notes(decoder& d, const llama4_state&) {
  d.in.w.note(
      "Not modelled: the NoPE layers' query temperature (attn_temperature_tuning), one multiply "
      "per query element.");
}

// Llama 4's vision tower from vision_config, as transformers' Llama4VisionModel builds it (what
// each part is: model_specs/llama4_scout.yaml): a tile of image_size^2 pixels in patch_size^2
// patches and a class token; the encoder; the patches pixel-shuffled by pixel_shuffle_ratio into
// tokens of hidden_size / ratio^2, which the adapter's fc1 reads as intermediate_size; fc1 to
// projector_input_dim, fc2 projector_output_dim to itself, the projector vision_output_dim to
// the text model's width. Sizes that do not chain are refused.
vision_keys llama4_vision(config& v, long long text_width) {
  const long long d = v.integer("hidden_size"), layers = v.integer("num_hidden_layers", 1, max_layers);
  const long long heads = v.integer("num_attention_heads"), ffn = v.integer("intermediate_size");
  const long long image = v.integer("image_size"), patch = v.integer("patch_size", 1, image);
  const long long channels = v.integer_or("num_channels", 3, 1, 64);
  const double ratio = v.number("pixel_shuffle_ratio", 0, 1);
  const long long in = v.integer("projector_input_dim"), out = v.integer("projector_output_dim");
  const long long vout = v.integer("vision_output_dim");
  const long long side = image / patch, grid = side * side;
  const double merged = d / (ratio * ratio), tokens = double(grid) * ratio * ratio;
  if (image % patch != 0) v.fail("patch_size", "'vision_config.patch_size' must divide 'image_size'");
  if (merged != double(ffn) || tokens != std::floor(tokens))
    v.fail("pixel_shuffle_ratio",
           fmt::format(
               "pixel shuffle by {} of {} patches of {} makes tokens of {}, which the adapter's fc1 reads "
               "as intermediate_size ({}): not modelled unless they match",
               ratio, grid, d, merged, ffn));
  if (in != out)
    v.fail("projector_output_dim",
           "'projector_output_dim' must equal 'projector_input_dim' (fc2 reads fc1's output)");
  if (vout != out) v.fail("vision_output_dim", "'vision_output_dim' must equal 'projector_output_dim'");
  if (v.boolean_or("multi_modal_projector_bias", false))
    v.fail("multi_modal_projector_bias", "'multi_modal_projector_bias' true is not modelled");
  if (v.integer_or("vision_feature_layer", -1, -1024, 1024) != -1)
    v.fail("vision_feature_layer", "'vision_feature_layer' other than -1 (the last layer) is not modelled");
  const std::string act = activation_name(v, "hidden_act", "gelu");
  v.skip({"vision_feature_select_strategy", "projector_dropout", "norm_eps", "attention_dropout"});
  v.finish("llama4_vision_model");
  vision_keys k("Llama4VisionModel", layers, d, heads);
  k.add("ffn_dim", ffn, "intermediate_size; fc1, GELU, fc2");
  k.add("activation", act, "hidden_act");
  k.add("bias", true, "q, k, v, o, fc1 and fc2 with biases");
  k.add("norm", std::string("layer"), "LayerNorm");
  k.add("outer_norms", 2LL, "layernorm_pre and layernorm_post");
  k.add("patch_inputs", channels * patch * patch, "num_channels x patch_size^2");
  k.add("patches", grid + 1, "(image_size / patch_size)^2 and the class token");
  k.add("positions", grid + 2, "positional_embedding_vlm and class_embedding");
  k.add("image_tokens", (long long)tokens, "the patches x pixel_shuffle_ratio^2");
  k.add("adapter", fmt::format("[{}, {}, {}, {}]", ffn, in, out, text_width),
        "intermediate_size -> projector_input_dim -> projector_output_dim -> the text hidden_size");
  return k;
}

}  // namespace

// The hooks are plain functions: what they share lives here, one import at a time per thread.
thread_local llama4_state state;

void import_text(input& in, bool nested) {
  state = llama4_state{};
  state.nested = nested;
  import_decoder(in, {.dense = false,
                      .attention_layer_types = false,
                      .attention = refuse_attention_bias,
                      .channels = [](decoder& d) { llama4_channels(d, state); },
                      .mixers = [](decoder& d) { llama4_mixers(d, state); },
                      .blocks = [](decoder& d) { llama4_blocks(d, state); },
                      .last = [](decoder& d) { llama4_notes(d, state); }});
}

void import_llama4_text(input& in) { import_text(in, false); }

void import_llama4(input& in) {
  config& c = in.c;
  if (!c.has("text_config")) c.fail("text_config", "missing field 'text_config'");
  YAML::Node text = c.at("text_config");
  vision_keys vision;
  if (c.has("vision_config")) {
    config v(in.path, c.at("vision_config"), "vision_config");
    vision = llama4_vision(v, text["hidden_size"].as<long long>(0));
  }
  // Llama4Config keeps tie_word_embeddings at the top; the text model reads it from there
  if (c.has("tie_word_embeddings") && !text["tie_word_embeddings"])
    text["tie_word_embeddings"] = c.boolean_or("tie_word_embeddings", false);
  config t(in.path, text, "text_config");
  c.finish(in.type);
  t.text_or("model_type", "llama4_text");
  input tin{
      .c = t, .root = in.root, .path = in.path, .type = "llama4", .name = in.name, .f = read_formats(t)};
  if (tin.f.lines.empty()) tin.f.lines = in.f.lines;
  if (!t.has("torch_dtype") && !t.has("dtype")) tin.f.activations = in.f.activations, tin.f.why = in.f.why;
  import_text(tin, true);
  vision.write(tin.w);
  in.w = tin.w;
  in.moe = tin.moe;
}

}  // namespace roofline::hf
