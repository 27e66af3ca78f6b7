// io: HuggingFace config.json to a model spec. The config is read through yaml-cpp (JSON is YAML's flow
// style), so every error names the field's line and column.
#include <set>

#include "roofline/io/io.hpp"
#include "roofline/io/io_reader.hpp"

namespace roofline {
namespace {

using io_detail::reader;

// Fields that do not change what the project counts (training, tokenizer, numerics, positions'
// frequencies): read and dropped, for every model type.
const std::set<std::string> no_effect{"_name_or_path",
                                      "architectures",
                                      "model_type",
                                      "transformers_version",
                                      "auto_map",
                                      "bos_token_id",
                                      "eos_token_id",
                                      "pad_token_id",
                                      "initializer_range",
                                      "rms_norm_eps",
                                      "layer_norm_eps",
                                      "layer_norm_epsilon",
                                      "norm_eps",
                                      "rope_theta",
                                      "rope_scaling",
                                      "rope_parameters",
                                      "rope_local_base_freq",
                                      "partial_rotary_factor",
                                      "attention_dropout",
                                      "hidden_dropout",
                                      "embd_pdrop",
                                      "resid_pdrop",
                                      "attn_pdrop",
                                      "summary_activation",
                                      "summary_first_dropout",
                                      "summary_proj_to_labels",
                                      "summary_type",
                                      "summary_use_proj",
                                      "task_specific_params",
                                      "use_cache",
                                      "output_router_logits",
                                      "router_aux_loss_coef",
                                      "aux_loss_alpha",
                                      "seq_aux",
                                      "norm_topk_prob",
                                      "routed_scaling_factor",
                                      "scoring_func",
                                      "topk_group",
                                      "n_group",
                                      "pretraining_tp",
                                      "query_pre_attn_scalar",
                                      "cache_implementation",
                                      "original_max_position_embeddings",
                                      "initial_context_length",
                                      "swiglu_limit",
                                      "use_mamba_kernels",
                                      "num_logits_to_keep",
                                      "residual_in_fp32",
                                      "fused_add_norm",
                                      "ep_size",
                                      "n_ctx",
                                      "scale_attn_weights",
                                      "reorder_and_upcast_attn",
                                      "scale_attn_by_inverse_layer_idx",
                                      "rope_interleave",
                                      "final_logit_softcapping_",
                                      "mrope_section",
                                      "use_mrope",
                                      "gate_soft_cap",
                                      "norm_reduction_force_float32",
                                      "cell_norm_eps",
                                      "chunkwise_kernel",
                                      "sequence_kernel",
                                      "step_kernel",
                                      "mode",
                                      "return_last_states",
                                      "max_inference_chunksize",
                                      "igate_bias_init_range",
                                      "force_bos_token_insert",
                                      "add_embedding_dropout",
                                      "add_forward_backend_padding",
                                      "weight_mode",
                                      "eps",
                                      "autocast_kernel_dtype",
                                      "dtype_",
                                      "topk_method",
                                      "image_token_index",
                                      "boi_token_index",
                                      "eoi_token_index",
                                      "mm_tokens_per_image",
                                      "initializer_factor",
                                      "attn_implementation",
                                      "tokenizer_class",
                                      "head_dim_",
                                      "moe_layer_freq_"};

// A YAML text with a comment per value, built line by line.
struct spec_text {
  std::string out;
  void line(int indent, const std::string& text, const std::string& why = {}) {
    std::string l = std::string(std::size_t(indent), ' ') + text;
    if (!why.empty()) l += std::string(l.size() < 40 ? 40 - l.size() : 1, ' ') + "# " + why;
    out += l + "\n";
  }
};

std::string yes(bool b) { return b ? "true" : "false"; }

// One JSON object of the config: fields are read by name; at the end every field must have
// been read or be one that changes no count (no_effect), else it is named as not modelled.
class config {
 public:
  config(const std::string& file, const YAML::Node& node, std::string path)
      : r_(file, node, std::move(path)), node_(node) {}

  bool has(const std::string& key) const { return node_[key] && !node_[key].IsNull(); }
  YAML::Node at(const std::string& key) {
    used_.insert(key);
    return node_[key];
  }
  // At the field's value (or the object, for a missing field).
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    r_.fail(node_[key] ? node_[key] : node_, what);
  }
  long long integer(const std::string& key, long long lo = 1, long long hi = max_width) {
    if (!has(key)) fail(key, fmt::format("missing field '{}'", r_.dotted(key)));
    return r_.integer(at(key), key, lo, hi);
  }
  long long integer_or(const std::string& key, long long fallback, long long lo = 1,
                       long long hi = max_width) {
    return has(key) ? r_.integer(at(key), key, lo, hi) : (used_.insert(key), fallback);
  }
  double number(const std::string& key, double lo, double hi) {
    if (!has(key)) fail(key, fmt::format("missing field '{}'", r_.dotted(key)));
    return r_.number(at(key), key, lo, false, hi);
  }
  bool boolean_or(const std::string& key, bool fallback) {
    return has(key) ? r_.boolean(at(key), key) : (used_.insert(key), fallback);
  }
  std::string text_or(const std::string& key, const std::string& fallback) {
    return has(key) ? r_.text(at(key), key) : (used_.insert(key), fallback);
  }
  const std::string& file() const { return r_.file(); }
  std::string dotted(const std::string& key) const { return r_.dotted(key); }

  // Every field read, or one that changes no count.
  void finish(const std::string& model_type) const {
    for (const std::string& key : r_.keys())
      if (!used_.count(key) && !no_effect.count(key))
        r_.fail(r_.key_node(key),
                fmt::format("field '{}' of model_type '{}' is not modelled: the import does not "
                            "know what it changes, so it will not guess",
                            r_.dotted(key), model_type));
  }

 private:
  reader r_;
  YAML::Node node_;
  std::set<std::string> used_;
};

// The spec's number formats from torch_dtype and quantization_config.
struct formats {
  std::string activations = "bf16", why = "bf16 (no torch_dtype)";
  struct line {
    std::string key, value, why;
  };
  std::vector<line> lines;  // dtypes keys, values and where they come from
};

formats read_formats(config& c) {
  formats f;
  const std::string key = c.has("torch_dtype") ? "torch_dtype" : "dtype";
  if (c.has(key)) {
    const std::string t = c.text_or(key, "");
    if (t == "bfloat16")
      f.activations = "bf16", f.why = key + " bfloat16";
    else if (t == "float16")
      f.activations = "fp16", f.why = key + " float16";
    else if (t == "float32")
      f.activations = "bf16",
      f.why = key + " float32: served in bf16, as vLLM's dtype=auto serves float32 checkpoints";
    else
      c.fail(key, fmt::format("'{}' is '{}'; modelled: bfloat16, float16, float32", c.dotted(key), t));
  }
  if (!c.has("quantization_config")) {
    c.at("quantization_config");
    return f;
  }
  config q(c.file(), c.at("quantization_config"), c.dotted("quantization_config"));
  const std::string method = q.text_or("quant_method", "");
  if (method == "fp8") {
    std::string storage = "fp8", why = "quant_method fp8, per-tensor scales";
    if (q.has("weight_block_size")) {
      const YAML::Node b = q.at("weight_block_size");
      if (!b.IsSequence() || b.size() != 2 || b[0].Scalar() != "128" || b[1].Scalar() != "128")
        q.fail("weight_block_size", "'weight_block_size' other than [128, 128] is not modelled");
      storage = "fp8_block128", why = "quant_method fp8, weight_block_size [128, 128]";
    }
    for (const char* k : {"activation_scheme", "fmt"}) q.text_or(k, "");
    f.lines.push_back({"weights", storage, why});
    f.lines.push_back({"compute", "fp8", "fp8 GEMMs (W8A8), activations quantized on the fly"});
  } else if (method == "mxfp4") {
    // gpt-oss: MXFP4 experts, every other module left out by modules_to_not_convert.
    if (q.has("modules_to_not_convert")) q.at("modules_to_not_convert");
    f.lines.push_back({"experts", "mxfp4", "quant_method mxfp4: the routed experts"});
    f.lines.push_back({"mixer", "bf16", "modules_to_not_convert: attention"});
    f.lines.push_back(
        {"router", "bf16", "modules_to_not_convert: router (embedding and head stay bf16 too)"});
  } else if (method == "awq" || method == "gptq") {
    const long long bits = q.integer("bits", 4, 8);
    const long long group = q.integer_or("group_size", 128, -1, 1 << 20);
    if ((bits != 4 && bits != 8) || group != 128)
      q.fail("bits",
             fmt::format(
                 "{} with bits {} and group_size {} is not modelled; modelled: bits 4 or 8, group_size 128",
                 method, bits, group));
    for (const char* k :
         {"zero_point", "version", "desc_act", "sym", "damp_percent", "true_sequential", "static_groups",
          "modules_to_not_convert", "checkpoint_format", "model_name_or_path", "model_file_base_name"})
      if (q.has(k)) q.at(k);
    f.lines.push_back(
        {"weights", bits == 4 ? "int4_g128" : "int8_g128",
         fmt::format("quant_method {}, bits {}, group_size 128 (weight-only: W{}A16)", method, bits, bits)});
  } else {
    q.fail("quant_method",
           fmt::format("quant_method '{}' is not modelled; modelled: fp8, mxfp4, awq, gptq", method));
  }
  q.finish("quantization_config");
  return f;
}

// The layers of a model as runs: a repeated unit and the rest, or plain runs.
struct layer_run {
  std::string mixer, channel;
  int count;
};
std::vector<layer_run> runs(const std::vector<std::pair<std::string, std::string>>& seq, std::size_t from,
                            std::size_t to) {
  std::vector<layer_run> out;
  for (std::size_t i = from; i < to; ++i) {
    if (!out.empty() && out.back().mixer == seq[i].first && out.back().channel == seq[i].second)
      ++out.back().count;
    else
      out.push_back({seq[i].first, seq[i].second, 1});
  }
  return out;
}

void write_layers(spec_text& s, const std::vector<std::pair<std::string, std::string>>& seq,
                  const std::string& why) {
  s.line(0, "layers:", why);
  const auto all = runs(seq, 0, seq.size());
  const auto entry = [&](int indent, const layer_run& r) {
    s.line(indent, fmt::format("- {{mixer: {}, channel: {}{}}}", r.mixer, r.channel,
                               r.count > 1 ? fmt::format(", count: {}", r.count) : ""));
  };
  std::size_t period = 0;
  if (all.size() > 3)
    for (std::size_t p = 2; p <= seq.size() / 2 && !period; ++p) {
      bool ok = true;
      for (std::size_t i = p; i < seq.size() && ok; ++i) ok = seq[i] == seq[i % p];
      if (ok) period = p;
    }
  if (!period) {
    for (const layer_run& r : all) entry(2, r);
    return;
  }
  const std::size_t times = seq.size() / period;
  s.line(2, fmt::format("- repeat: {}", times));
  s.line(4, "layers:");
  for (const layer_run& r : runs(seq, 0, period)) entry(6, r);
  for (const layer_run& r : runs(seq, 0, seq.size() - times * period)) entry(2, r);
}

std::string spec_name(const std::string& path, config& c) {
  std::filesystem::path p(path);
  std::string stem = p.stem().string();
  if (stem == "config" && p.has_parent_path()) stem = p.parent_path().filename().string();
  if (c.has("_name_or_path")) c.at("_name_or_path");
  return stem.empty() ? "imported" : stem;
}

// A gated (SwiGLU, GeGLU) or plain activation from hidden_act / hidden_activation / activation_function.
std::string activation_name(config& c, const std::string& key, const std::string& fallback) {
  const std::string a = c.text_or(key, fallback);
  if (a == "silu" || a == "swish") return "silu";
  if (a == "gelu" || a == "gelu_new" || a == "gelu_pytorch_tanh" || a == "gelu_fast" || a == "gelu_python")
    return "gelu";
  c.fail(key, fmt::format("'{}' is '{}'; modelled: silu, gelu (erf or tanh forms)", c.dotted(key), a));
}

// ---- attention models: llama, mistral, mixtral, qwen2, qwen3, qwen3_moe, phi3, gemma2, gemma3,
// gpt_oss, deepseek_v3, qwen3_next, jamba --------------------------------------------------------

struct decoder {
  std::string type;
  spec_text s{};
};

void write_common(decoder& d, config& c, const std::string& name, long long hidden, long long vocab,
                  bool tied, const std::string& tie_why, std::optional<long long> max_ctx,
                  const std::string& ctx_why) {
  d.s.line(0,
           fmt::format("# Imported from a HuggingFace config.json (model_type {}) by roofline's import_hf.",
                       d.type));
  d.s.line(0, "# Each value names the field it comes from, or says how it was derived.");
  d.s.line(0, "name: " + name);
  d.s.line(0, fmt::format("d_model: {}", hidden), "hidden_size");
  d.s.line(0, fmt::format("vocab_size: {}", vocab), "vocab_size");
  d.s.line(0, "tied_embeddings: " + yes(tied), tie_why);
  if (max_ctx) d.s.line(0, fmt::format("max_context: {}", *max_ctx), ctx_why);
  (void)c;
}

void write_dtypes(decoder& d, const formats& f) {
  d.s.line(0, "dtypes:");
  d.s.line(2, "activations: " + f.activations, f.why);
  for (const auto& l : f.lines) d.s.line(2, l.key + ": " + l.value, l.why);
}

std::string import_config(const YAML::Node& root, const std::string& path) {
  config c(path, root, "");
  if (!root.IsMap()) throw input_error(fmt::format("{}:1:1: expected a JSON object", path));
  std::string type;
  if (c.has("model_type"))
    type = c.text_or("model_type", "");
  else if (c.has("ssm_cfg"))
    type = "mamba_ssm";
  else
    c.fail("model_type", "missing field 'model_type'");

  decoder d{.type = type};
  const std::string name = spec_name(path, c);
  formats f = read_formats(c);

  if (type == "mamba_ssm") {
    // state-spaces/mamba* configs of the mamba_ssm package (MambaConfig): d_model, n_layer,
    // ssm_cfg, pad_vocab_size_multiple; Mamba2 defaults from mamba_ssm.modules.mamba2.Mamba2.
    const long long dm = c.integer("d_model"), layers = c.integer("n_layer", 1, max_layers);
    const long long vocab = c.integer("vocab_size"), pad = c.integer_or("pad_vocab_size_multiple", 8);
    const long long padded = (vocab + pad - 1) / pad * pad;
    config ssm(path, c.at("ssm_cfg"), "ssm_cfg");
    if (ssm.text_or("layer", "Mamba1") != "Mamba2")
      ssm.fail("layer", "'ssm_cfg.layer' other than Mamba2 is not modelled for mamba_ssm configs");
    if (c.integer_or("d_intermediate", 0, 0) != 0)
      c.fail("d_intermediate",
             "'d_intermediate' > 0 (an MLP after each mixer) is not modelled for mamba_ssm configs");
    const YAML::Node attn = c.at("attn_layer_idx");
    if (attn && attn.IsSequence() && attn.size() > 0)
      c.fail("attn_layer_idx",
             "attention layers in a mamba_ssm config are not modelled; write the stack as a spec");
    c.at("attn_cfg");
    d.s.line(0, "# Imported from a mamba_ssm config.json (ssm_cfg.layer Mamba2) by roofline's import_hf.");
    d.s.line(0, "# Each value names the field it comes from, or says how it was derived.");
    d.s.line(0, "name: " + name);
    d.s.line(0, fmt::format("d_model: {}", dm), "d_model");
    d.s.line(0, fmt::format("vocab_size: {}", padded),
             fmt::format("vocab_size {} padded to a multiple of {}", vocab, pad));
    d.s.line(0, "tied_embeddings: " + yes(c.boolean_or("tie_embeddings", true)), "tie_embeddings");
    d.s.line(0, std::string("norm: ") + (c.boolean_or("rms_norm", true) ? "rms" : "layer"), "rms_norm");
    d.s.line(0, "mixers:");
    d.s.line(2, "mamba2:");
    d.s.line(4, "type: mamba2");
    const auto field = [&](const char* key, const char* field, long long fallback) {
      const bool given = ssm.has(field);
      const long long v = ssm.integer_or(field, fallback);
      d.s.line(
          4, fmt::format("{}: {}", key, v),
          given ? fmt::format("ssm_cfg.{}", field) : fmt::format("mamba_ssm's Mamba2 default ({})", field));
    };
    field("d_state", "d_state", 128);
    field("d_conv", "d_conv", 4);
    field("expand", "expand", 2);
    field("head_dim", "headdim", 64);
    field("n_groups", "ngroups", 1);
    field("chunk_size", "chunk_size", 256);
    d.s.line(4, "conv_bias: " + yes(ssm.boolean_or("conv_bias", true)), "ssm_cfg.conv_bias (default true)");
    d.s.line(4, "proj_bias: " + yes(ssm.boolean_or("bias", false)), "ssm_cfg.bias (default false)");
    ssm.finish("mamba_ssm ssm_cfg");
    d.s.line(0, "layers:");
    d.s.line(2, fmt::format("- {{mixer: mamba2, channel: none, count: {}}}", layers),
             "n_layer; d_intermediate 0: no MLP");
    d.s.line(0, "dtypes:");
    d.s.line(2, "state: bf16", "mamba_ssm's inference cache holds the states in the weights' dtype");
    c.finish(type);
    return d.s.out;
  }

  // Gemma 3 nests its text model; the vision tower is not modelled (the name says so).
  if (type == "gemma3") {
    if (!c.has("text_config")) c.fail("text_config", "missing field 'text_config'");
    if (c.has("vision_config")) c.at("vision_config");
    const bool tied = c.boolean_or("tie_word_embeddings", true);
    config t(path, c.at("text_config"), "text_config");
    c.finish(type);
    t.text_or("model_type", "gemma3_text");
    formats tf = read_formats(t);
    if (tf.lines.empty()) tf.lines = f.lines;
    if (!t.has("torch_dtype") && !t.has("dtype")) tf.activations = f.activations, tf.why = f.why;
    d.type = "gemma3";
    const auto get = [&](const char* key, long long fallback) {
      const bool given = t.has(key);
      return std::pair{t.integer_or(key, fallback, 0, max_tokens),
                       given ? fmt::format("text_config.{}", key)
                             : fmt::format("not in text_config: Gemma3TextConfig's default ({})", key)};
    };
    const auto [hidden, hw] = get("hidden_size", 2304);
    const auto [vocab, vw] = get("vocab_size", 262208);
    const auto [ctx, cw] = get("max_position_embeddings", 131072);
    const auto [layers, lw] = get("num_hidden_layers", 26);
    const auto [heads, hdw] = get("num_attention_heads", 8);
    const auto [kv, kw] = get("num_key_value_heads", 4);
    const auto [dh, dw] = get("head_dim", 256);
    const auto [ffn, fw] = get("intermediate_size", 9216);
    const auto [window, ww] = get("sliding_window", 4096);
    const auto [pattern, pw] = get("sliding_window_pattern", 6);
    const std::string act = activation_name(t, "hidden_activation", "gelu_pytorch_tanh");
    if (t.boolean_or("attention_bias", false))
      t.fail("attention_bias", "'attention_bias' true is not modelled for gemma3");
    if (t.has("attn_logit_softcapping"))
      t.fail("attn_logit_softcapping", "attention soft-capping in gemma3 is not modelled");
    if (t.has("final_logit_softcapping"))
      t.fail("final_logit_softcapping", "logit soft-capping in gemma3 is not modelled");
    t.at("attn_logit_softcapping"), t.at("final_logit_softcapping"), t.at("hidden_act"),
        t.at("use_bidirectional_attention");
    d.s.line(0,
             "# Imported from a HuggingFace config.json (model_type gemma3, its text_config) by roofline's "
             "import_hf.");
    d.s.line(0, "# Not modelled: the vision tower (vision_config); this is the text model.");
    d.s.line(0, "name: " + name + "_text");
    d.s.line(0, fmt::format("d_model: {}", hidden), hw);
    d.s.line(0, fmt::format("vocab_size: {}", vocab), vw);
    d.s.line(0, "tied_embeddings: " + yes(tied), "tie_word_embeddings (default true)");
    d.s.line(0, fmt::format("max_context: {}", ctx), cw);
    d.s.line(0, "post_norms: true", "Gemma 3: post_attention_layernorm and post_feedforward_layernorm");
    d.s.line(0, "mixers:");
    for (const auto& [mname, w] : {std::pair{"local", window}, {"global", 0LL}}) {
      d.s.line(2, std::string(mname) + ":");
      d.s.line(4, "type: attention");
      d.s.line(4, fmt::format("n_heads: {}", heads), hdw);
      d.s.line(4, fmt::format("n_kv_heads: {}", kv), kw);
      d.s.line(4, fmt::format("head_dim: {}", dh), dw);
      d.s.line(4, "qk_norm: true", "Gemma 3: q_norm and k_norm");
      if (w > 0) d.s.line(4, fmt::format("window: {}", w), ww);
    }
    d.s.line(0, "channels:");
    d.s.line(2, "mlp: {type: mlp, ffn_dim: " + std::to_string(ffn) + ", activation: " + act + "}",
             fw + "; GeGLU");
    std::vector<std::pair<std::string, std::string>> seq;
    for (long long i = 0; i < layers; ++i)
      seq.push_back({(i + 1) % pattern == 0 ? "global" : "local", "mlp"});
    if (t.has("layer_types")) {
      const YAML::Node lt = t.at("layer_types");
      if (!lt.IsSequence() || lt.size() != std::size_t(layers))
        t.fail("layer_types", "'layer_types' must list every layer");
      for (std::size_t i = 0; i < lt.size(); ++i) {
        const std::string v = lt[i].Scalar();
        if (v != "sliding_attention" && v != "full_attention")
          t.fail("layer_types", "unknown layer type '" + v + "'");
        seq[i].first = v == "full_attention" ? "global" : "local";
      }
    }
    write_layers(d.s, seq, lw + fmt::format("; layer i global where (i + 1) % {} == 0 ({})", pattern, pw));
    write_dtypes(d, tf);
    t.finish("gemma3_text");
    return d.s.out;
  }

  // xLSTM-7B's config (NX-AI/xLSTM-7b, transformers' xLSTMConfig).
  if (type == "xlstm") {
    const long long dm = c.integer("embedding_dim"), blocks = c.integer("num_blocks", 1, max_layers);
    const long long heads = c.integer("num_heads"), vocab = c.integer("vocab_size"),
                    chunk = c.integer_or("chunk_size", 64);
    const double qk = c.number("qk_dim_factor", 0.001, 1000),
                 v = c.has("v_dim_factor") ? c.number("v_dim_factor", 0.001, 1000) : 1;
    if (v != 1) c.fail("v_dim_factor", "'v_dim_factor' other than 1 is not modelled");
    const double proj = c.number("ffn_proj_factor", 0.001, 1000);
    const long long round = c.integer_or("ffn_round_up_to_multiple_of", 64);
    const long long ffn = (static_cast<long long>(std::ceil(proj * double(dm))) + round - 1) / round * round;
    for (const char* k : {"use_bias", "add_qk_norm"})
      if (c.boolean_or(k, false)) c.fail(k, fmt::format("'{}' true is not modelled for xlstm", k));
    if (!c.boolean_or("add_out_norm", true)) c.fail("add_out_norm", "'add_out_norm' false is not modelled");
    if (!c.boolean_or("add_post_blocks_norm", true))
      c.fail("add_post_blocks_norm", "'add_post_blocks_norm' false is not modelled");
    if (c.boolean_or("add_post_norm", false)) c.fail("add_post_norm", "'add_post_norm' true is not modelled");
    const bool tied = c.boolean_or("tie_word_embeddings", false);
    const std::string state = c.text_or("inference_state_dtype", "float32");
    const double cap = c.has("output_logit_soft_cap") ? c.number("output_logit_soft_cap", 0, 1e6) : 0;
    for (const char* k : {"hidden_size", "num_hidden_layers"}) c.integer_or(k, 0, 0);
    for (const char* k : {"qk_dim", "v_dim", "ffn_up_dim"}) c.at(k);
    write_common(d, c, name, dm, vocab, tied, "tie_word_embeddings", std::nullopt, "");
    if (cap > 0) d.s.line(0, fmt::format("logit_softcap: {}", cap), "output_logit_soft_cap");
    d.s.line(0, "mixers:");
    d.s.line(
        2,
        fmt::format("mlstm: {{type: mlstm, n_heads: {}, qk_dim_factor: {}, chunk_size: {}}}", heads, qk,
                    chunk),
        "num_heads, qk_dim_factor, chunk_size; gate soft-capping not counted (a few FLOPs a head and token)");
    d.s.line(0, "channels:");
    d.s.line(2, fmt::format("mlp: {{type: mlp, ffn_dim: {}}}", ffn),
             fmt::format("ffn_proj_factor {} x {} rounded up to a multiple of {}", proj, dm, round));
    d.s.line(0, "layers:");
    d.s.line(2, fmt::format("- {{mixer: mlstm, channel: mlp, count: {}}}", blocks), "num_blocks");
    write_dtypes(d, f);
    d.s.line(2, std::string("state: ") + (state == "bfloat16" ? "bf16" : "fp32"),
             "inference_state_dtype " + state);
    c.finish(type);
    return d.s.out;
  }

  // GPT-2 (openai-community/gpt2): LayerNorm, learned positions, biases, plain GELU MLP.
  if (type == "gpt2") {
    const long long dm = c.integer("n_embd"), layers = c.integer("n_layer", 1, max_layers),
                    heads = c.integer("n_head");
    const long long pos = c.integer("n_positions", 1, max_tokens), vocab = c.integer("vocab_size");
    const bool inner_given = c.has("n_inner");
    const long long inner = c.integer_or("n_inner", 4 * dm);
    const std::string act = activation_name(c, "activation_function", "gelu_new");
    if (c.boolean_or("add_cross_attention", false))
      c.fail("add_cross_attention", "cross-attention is not modelled");
    write_common(d, c, name, dm, vocab, c.boolean_or("tie_word_embeddings", true),
                 "tie_word_embeddings (default true)", pos, "n_positions");
    d.s.line(0, "norm: layer", "GPT-2: LayerNorm with biases");
    d.s.line(0, fmt::format("learned_positions: {}", pos), "n_positions: the wpe table");
    d.s.line(0, "mixers:");
    d.s.line(
        2,
        fmt::format(
            "attention: {{type: attention, n_heads: {0}, n_kv_heads: {0}, head_dim: {1}, qkv_bias: true, "
            "out_bias: true}}",
            heads, dm / heads),
        "n_head; head_dim n_embd / n_head; c_attn and c_proj have biases");
    d.s.line(0, "channels:");
    d.s.line(
        2,
        fmt::format("mlp: {{type: mlp, ffn_dim: {}, gated: false, activation: {}, bias: true}}", inner, act),
        inner_given ? "n_inner" : "n_inner null: 4 n_embd");
    d.s.line(0, "layers:");
    d.s.line(2, fmt::format("- {{mixer: attention, channel: mlp, count: {}}}", layers), "n_layer");
    write_dtypes(d, f);
    c.finish(type);
    return d.s.out;
  }

  static const std::set<std::string> decoders{"llama",   "mistral",     "mixtral",    "qwen2",
                                              "qwen3",   "qwen3_moe",   "phi3",       "gemma2",
                                              "gpt_oss", "deepseek_v3", "qwen3_next", "jamba"};
  if (!decoders.count(type))
    c.fail("model_type",
           fmt::format("model_type '{}' is not modelled; modelled: llama, mistral, mixtral, qwen2, qwen3, "
                       "qwen3_moe, qwen3_next, phi3, gemma2, gemma3, gpt2, gpt_oss, deepseek_v3, jamba, "
                       "xlstm, mamba_ssm's Mamba2 (or write a spec: model_specs/example.yaml)",
                       type));

  const long long hidden = c.integer("hidden_size"), layers = c.integer("num_hidden_layers", 1, max_layers);
  const long long heads = c.integer("num_attention_heads");
  const bool kv_given = c.has("num_key_value_heads");
  const long long kv = c.integer_or("num_key_value_heads", heads);
  const bool dh_given = c.has("head_dim");
  const long long dh = c.integer_or("head_dim", hidden / heads);
  const long long vocab = c.integer("vocab_size");
  const bool gemma = type == "gemma2";
  const bool tied = c.boolean_or("tie_word_embeddings", gemma);
  const std::optional<long long> ctx =
      c.has("max_position_embeddings") ? std::optional(c.integer("max_position_embeddings", 1, max_tokens))
                                       : std::nullopt;
  write_common(d, c, name, hidden, vocab, tied, fmt::format("tie_word_embeddings (default {})", yes(gemma)),
               ctx, "max_position_embeddings");
  const std::string act =
      activation_name(c, gemma && c.has("hidden_activation") ? "hidden_activation" : "hidden_act",
                      gemma ? "gelu_pytorch_tanh" : "silu");
  if (gemma) c.at("hidden_act"), c.at("hidden_activation");

  // Attention mixers: options by model type.
  const std::string heads_why =
      fmt::format("num_attention_heads; num_key_value_heads{}; head_dim{}",
                  kv_given ? "" : " absent: = heads", dh_given ? "" : " absent: hidden_size / heads");
  bool qkv_bias = false, out_bias = false, qk_norm = false, sinks = false, gate = false;
  double softcap = 0, logit_cap = 0;
  std::string bias_why;
  if (type == "llama" || type == "mistral" || type == "mixtral" || type == "qwen3" || type == "qwen3_moe" ||
      type == "phi3" || type == "gpt_oss" || type == "qwen3_next" || type == "gemma2") {
    const bool b = c.boolean_or("attention_bias", type == "gpt_oss");
    qkv_bias = b;
    out_bias = b && (type == "llama" || type == "gpt_oss" || type == "mistral" || type == "mixtral" ||
                     type == "phi3");
    if (b) bias_why = "attention_bias";
  }
  if (type == "qwen2") qkv_bias = true, bias_why = "Qwen2: biases on q, k, v";
  if (type == "deepseek_v3" || type == "jamba" || type == "qwen2") {
    if (c.boolean_or("attention_bias", false))
      c.fail("attention_bias", fmt::format("'attention_bias' true is not modelled for {}", type));
  }
  if (type == "qwen3" || type == "qwen3_moe" || type == "qwen3_next") qk_norm = true;
  if (type == "gpt_oss") sinks = true;
  if (type == "qwen3_next") gate = true;
  if (gemma) {
    softcap = c.has("attn_logit_softcapping") ? c.number("attn_logit_softcapping", 0, 1e6)
                                              : (c.at("attn_logit_softcapping"), 0.0);
    logit_cap = c.has("final_logit_softcapping") ? c.number("final_logit_softcapping", 0, 1e6)
                                                 : (c.at("final_logit_softcapping"), 0.0);
  }
  if (type == "llama" && c.boolean_or("mlp_bias", false))
    c.fail("mlp_bias", "'mlp_bias' true is not modelled for llama");

  // Sliding windows: which layers, how wide.
  long long window = 0;
  std::string window_why;
  std::vector<bool> local(std::size_t(layers), false);
  if (type == "mistral" || type == "mixtral" || type == "phi3") {
    if (c.has("sliding_window")) {
      window = c.integer("sliding_window", 1, max_tokens);
      std::fill(local.begin(), local.end(), true);
      window_why = "sliding_window, every layer";
    } else {
      c.at("sliding_window");
    }
  } else if (type == "qwen2" || type == "qwen3" || type == "qwen3_moe") {
    const bool use = c.boolean_or("use_sliding_window", false);
    const long long from = c.integer_or("max_window_layers", layers, 0, max_layers);
    if (use) {
      window = c.integer("sliding_window", 1, max_tokens);
      for (long long i = from; i < layers; ++i) local[std::size_t(i)] = true;
      window_why = fmt::format("sliding_window, layers from max_window_layers {}", from);
    } else {
      c.at("sliding_window");  // not used by the model while use_sliding_window is false
    }
  } else if (type == "gemma2" || type == "gpt_oss") {
    window = c.integer("sliding_window", 1, max_tokens);
    for (long long i = 0; i < layers; ++i) local[std::size_t(i)] = i % 2 == 0;
    window_why = "sliding_window on even layers (Gemma 2 and gpt-oss alternate local and global)";
    if (c.has("sliding_window_size")) c.at("sliding_window_size");
  } else if (c.has("sliding_window")) {
    c.fail("sliding_window", fmt::format("'sliding_window' in a {} config is not modelled", type));
  } else {
    c.at("sliding_window");
  }
  if (c.has("layer_types")) {
    const YAML::Node lt = c.at("layer_types");
    if (!lt.IsSequence() || lt.size() != std::size_t(layers))
      c.fail("layer_types", "'layer_types' must list every layer");
    if (type != "qwen3_next")
      for (std::size_t i = 0; i < lt.size(); ++i) {
        const std::string v = lt[i].Scalar();
        if (v != "sliding_attention" && v != "full_attention")
          c.fail("layer_types", fmt::format("layer type '{}' is not modelled for {}", v, type));
        local[i] = v == "sliding_attention";
      }
    window_why += window_why.empty() ? "layer_types" : "; layers by layer_types";
  }

  const auto write_attention = [&](const std::string& mname, long long w) {
    d.s.line(2, mname + ":");
    d.s.line(4, "type: attention");
    d.s.line(4, fmt::format("n_heads: {}", heads), heads_why);
    d.s.line(4, fmt::format("n_kv_heads: {}", kv));
    d.s.line(4, fmt::format("head_dim: {}", dh));
    if (w > 0) d.s.line(4, fmt::format("window: {}", w), window_why);
    if (qkv_bias) d.s.line(4, "qkv_bias: true", bias_why);
    if (out_bias) d.s.line(4, "out_bias: true", bias_why);
    if (qk_norm) d.s.line(4, "qk_norm: true", type + ": q_norm and k_norm");
    if (sinks) d.s.line(4, "sinks: true", "gpt_oss: a learned sink per head");
    if (gate) d.s.line(4, "output_gate: true", "qwen3_next: gated attention output (q_proj doubled)");
    if (softcap > 0) d.s.line(4, fmt::format("softcap: {}", softcap), "attn_logit_softcapping");
  };

  // Channels, per layer: dense or MoE.
  std::vector<std::string> channel(std::size_t(layers), "mlp");
  std::string channel_why;
  long long ffn = 0;
  const bool has_dense = type != "mixtral" && type != "gpt_oss";
  if (has_dense && c.has("intermediate_size")) ffn = c.integer("intermediate_size");
  std::string moe_line;
  if (type == "mixtral" || type == "gpt_oss") {
    const long long e = c.integer("num_local_experts"), k = c.integer("num_experts_per_tok");
    if (c.has("experts_per_token") && c.integer("experts_per_token") != k)
      c.fail("experts_per_token", "'experts_per_token' differs from 'num_experts_per_tok'");
    const long long f2 = c.integer("intermediate_size");
    moe_line = fmt::format("moe: {{type: moe, n_experts: {}, top_k: {}, expert_dim: {}{}}}", e, k, f2,
                           type == "gpt_oss" ? ", expert_bias: true, router_bias: true" : "");
    channel_why = "num_local_experts, num_experts_per_tok, intermediate_size" +
                  std::string(type == "gpt_oss" ? "; gpt_oss: biases on experts and router" : "");
    std::fill(channel.begin(), channel.end(), "moe");
  } else if (type == "qwen3_moe" || type == "qwen3_next") {
    const long long e = c.integer("num_experts"), k = c.integer("num_experts_per_tok"),
                    f2 = c.integer("moe_intermediate_size");
    const long long step = c.integer_or("decoder_sparse_step", 1);
    std::set<long long> dense;
    if (c.has("mlp_only_layers")) {
      const YAML::Node l = c.at("mlp_only_layers");
      if (!l.IsSequence()) c.fail("mlp_only_layers", "'mlp_only_layers' must be a list");
      for (const auto& v : l) {
        const auto i = v.IsScalar() ? io_detail::whole(v.Scalar()) : std::nullopt;
        if (!i || *i < 0 || *i >= layers)
          c.fail("mlp_only_layers",
                 fmt::format("'mlp_only_layers' must list layer indices from 0 to {}", layers - 1));
        dense.insert(*i);
      }
    } else {
      c.at("mlp_only_layers");
    }
    std::string shared;
    if (type == "qwen3_next") {
      const long long s = c.integer("shared_expert_intermediate_size");
      shared = fmt::format(", n_shared: 1, shared_dim: {}, shared_gate: true", s);
    }
    moe_line =
        fmt::format("moe: {{type: moe, n_experts: {}, top_k: {}, expert_dim: {}{}}}", e, k, f2, shared);
    channel_why =
        "num_experts, num_experts_per_tok, moe_intermediate_size" +
        std::string(type == "qwen3_next"
                        ? ", shared_expert_intermediate_size (one shared expert with a sigmoid gate)"
                        : "") +
        fmt::format("; MoE where (i + 1) % decoder_sparse_step ({}) == 0 and i not in mlp_only_layers", step);
    for (long long i = 0; i < layers; ++i)
      channel[std::size_t(i)] = !dense.count(i) && (i + 1) % step == 0 ? "moe" : "mlp";
  } else if (type == "deepseek_v3") {
    const long long e = c.integer("n_routed_experts"), k = c.integer("num_experts_per_tok"),
                    f2 = c.integer("moe_intermediate_size");
    const long long s = c.integer_or("n_shared_experts", 0, 0),
                    first = c.integer_or("first_k_dense_replace", 0, 0, max_layers);
    if (c.integer_or("moe_layer_freq", 1) != 1)
      c.fail("moe_layer_freq", "'moe_layer_freq' other than 1 is not modelled");
    const std::string method = c.text_or("topk_method", "noaux_tc");
    const bool bias = method == "noaux_tc";
    moe_line = fmt::format(
        "moe: {{type: moe, n_experts: {}, top_k: {}, expert_dim: {}, n_shared: {}, shared_dim: {}{}}}", e, k,
        f2, s, f2, bias ? ", router_bias: true" : "");
    channel_why = fmt::format(
        "n_routed_experts, num_experts_per_tok, moe_intermediate_size, n_shared_experts{}; "
        "first_k_dense_replace {} dense layers",
        bias ? ", topk_method noaux_tc: e_score_correction_bias" : "", first);
    for (long long i = 0; i < layers; ++i) channel[std::size_t(i)] = i < first ? "mlp" : "moe";
  } else if (type == "jamba") {
    const long long e = c.integer("num_experts"), k = c.integer("num_experts_per_tok");
    const long long period = c.integer("expert_layer_period"), offset = c.integer("expert_layer_offset", 0);
    moe_line = fmt::format("moe: {{type: moe, n_experts: {}, top_k: {}, expert_dim: {}}}", e, k, ffn);
    channel_why = fmt::format(
        "num_experts, num_experts_per_tok, intermediate_size; MoE where i % {} == {} "
        "(expert_layer_period, expert_layer_offset)",
        period, offset);
    for (long long i = 0; i < layers; ++i) channel[std::size_t(i)] = i % period == offset ? "moe" : "mlp";
  }

  // Mixers per layer.
  std::vector<std::string> mixer(std::size_t(layers), "attention");
  std::string mixer_why;
  if (type == "deepseek_v3") {
    std::fill(mixer.begin(), mixer.end(), "mla");
  } else if (type == "qwen3_next") {
    const long long interval = c.integer_or("full_attention_interval", 4);
    for (long long i = 0; i < layers; ++i)
      mixer[std::size_t(i)] = (i + 1) % interval == 0 ? "attention" : "deltanet";
    mixer_why = fmt::format("full attention where (i + 1) % full_attention_interval ({}) == 0", interval);
    if (c.has("layer_types")) {
      const YAML::Node lt = root["layer_types"];
      for (std::size_t i = 0; i < lt.size(); ++i) {
        const std::string v = lt[i].Scalar();
        if (v != "linear_attention" && v != "full_attention")
          c.fail("layer_types", "unknown layer type '" + v + "'");
        mixer[i] = v == "full_attention" ? "attention" : "deltanet";
      }
      mixer_why = "layer_types";
    }
  } else if (type == "jamba") {
    const long long period = c.integer("attn_layer_period"), offset = c.integer("attn_layer_offset", 0);
    for (long long i = 0; i < layers; ++i)
      mixer[std::size_t(i)] = i % period == offset ? "attention" : "mamba";
    mixer_why =
        fmt::format("attention where i % {} == {} (attn_layer_period, attn_layer_offset), Mamba elsewhere",
                    period, offset);
  } else {
    for (long long i = 0; i < layers; ++i)
      if (local[std::size_t(i)]) mixer[std::size_t(i)] = "local";
  }

  if (gemma) {
    d.s.line(0, "post_norms: true", "Gemma 2: post_attention_layernorm and post_feedforward_layernorm");
    if (logit_cap > 0) d.s.line(0, fmt::format("logit_softcap: {}", logit_cap), "final_logit_softcapping");
  }
  d.s.line(0, "mixers:");
  const bool any_global = std::count(mixer.begin(), mixer.end(), "attention") > 0;
  const bool any_local = std::count(mixer.begin(), mixer.end(), "local") > 0;
  if (any_global) write_attention("attention", 0);
  if (any_local) write_attention("local", window);
  if (type == "deepseek_v3") {
    const long long q = c.has("q_lora_rank") ? c.integer("q_lora_rank") : (c.at("q_lora_rank"), 0LL);
    d.s.line(2, "mla:");
    d.s.line(4, "type: mla");
    d.s.line(4, fmt::format("n_heads: {}", heads),
             "num_attention_heads (num_key_value_heads does not apply to MLA)");
    d.s.line(4, fmt::format("q_rank: {}", q), "q_lora_rank");
    d.s.line(4, fmt::format("kv_rank: {}", c.integer("kv_lora_rank")), "kv_lora_rank");
    d.s.line(4, fmt::format("nope_dim: {}", c.integer("qk_nope_head_dim")), "qk_nope_head_dim");
    d.s.line(4, fmt::format("rope_dim: {}", c.integer("qk_rope_head_dim")), "qk_rope_head_dim");
    d.s.line(4, fmt::format("v_dim: {}", c.integer("v_head_dim")), "v_head_dim");
    if (c.integer_or("num_nextn_predict_layers", 0, 0) > 0)
      d.s.line(
          0,
          "# Not modelled: the multi-token-prediction module (num_nextn_predict_layers), as the published "
          "671B count leaves it out.");
  }
  if (type == "qwen3_next") {
    d.s.line(2, "deltanet:");
    d.s.line(4, "type: gated_deltanet");
    d.s.line(4, fmt::format("n_k_heads: {}", c.integer("linear_num_key_heads")), "linear_num_key_heads");
    d.s.line(4, fmt::format("n_v_heads: {}", c.integer("linear_num_value_heads")), "linear_num_value_heads");
    d.s.line(4, fmt::format("k_head_dim: {}", c.integer("linear_key_head_dim")), "linear_key_head_dim");
    d.s.line(4, fmt::format("v_head_dim: {}", c.integer("linear_value_head_dim")), "linear_value_head_dim");
    d.s.line(4, fmt::format("conv_size: {}", c.integer("linear_conv_kernel_dim")), "linear_conv_kernel_dim");
    d.s.line(4, "chunk_size: 64", "flash-linear-attention's chunk_gated_delta_rule chunk");
  }
  if (type == "jamba") {
    const long long expand = c.integer("mamba_expand");
    d.s.line(2, "mamba:");
    d.s.line(4, "type: mamba1");
    d.s.line(4, fmt::format("d_state: {}", c.integer("mamba_d_state")), "mamba_d_state");
    d.s.line(4, fmt::format("d_conv: {}", c.integer("mamba_d_conv")), "mamba_d_conv");
    d.s.line(4, fmt::format("expand: {}", expand), "mamba_expand");
    const bool rank_given = c.has("mamba_dt_rank") && root["mamba_dt_rank"].Scalar() != "auto";
    const long long rank =
        rank_given ? c.integer("mamba_dt_rank") : (c.at("mamba_dt_rank"), (hidden + 15) / 16);
    d.s.line(4, fmt::format("dt_rank: {}", rank),
             rank_given ? "mamba_dt_rank" : "mamba_dt_rank auto: ceil(hidden_size / 16)");
    d.s.line(4, "conv_bias: " + yes(c.boolean_or("mamba_conv_bias", true)), "mamba_conv_bias");
    d.s.line(4, "proj_bias: " + yes(c.boolean_or("mamba_proj_bias", false)), "mamba_proj_bias");
    d.s.line(4, "inner_norms: true", "Jamba: dt_layernorm, b_layernorm, c_layernorm");
  }
  const bool any_moe = std::count(channel.begin(), channel.end(), "moe") > 0;
  const bool any_mlp = std::count(channel.begin(), channel.end(), "mlp") > 0;
  d.s.line(0, "channels:");
  if (any_mlp) {
    if (ffn == 0) c.fail("intermediate_size", "missing field 'intermediate_size'");
    d.s.line(
        2, fmt::format("mlp: {{type: mlp, ffn_dim: {}{}}}", ffn, act == "silu" ? "" : ", activation: " + act),
        fmt::format("intermediate_size; hidden_act {}", act == "silu" ? "silu: SwiGLU" : "gelu: GeGLU"));
  } else if (c.has("intermediate_size") && has_dense) {
    c.at("intermediate_size");
  }
  if (any_moe) d.s.line(2, moe_line, channel_why);
  std::vector<std::pair<std::string, std::string>> seq;
  for (long long i = 0; i < layers; ++i) seq.push_back({mixer[std::size_t(i)], channel[std::size_t(i)]});
  std::string why = "num_hidden_layers";
  if (!mixer_why.empty()) why += "; " + mixer_why;
  if (any_local && window_why.size()) why += "; local: " + window_why;
  if (type == "deepseek_v3" || type == "jamba" || ((type == "qwen3_moe" || type == "qwen3_next") && any_mlp))
    why +=
        "; " + channel_why.substr(channel_why.find(';') == std::string::npos ? 0 : channel_why.find(';') + 2);
  write_layers(d.s, seq, why);
  write_dtypes(d, f);
  if (type == "qwen3_next")
    d.s.line(2, "state: fp32", "the delta-rule state as flash-linear-attention returns it");
  if (type == "jamba")
    d.s.line(2, "state: bf16", "HF's and vLLM's Mamba caches hold the states in the model dtype");
  if (type == "qwen3_next" && c.has("attn_output_gate")) c.at("attn_output_gate");
  for (const char* k : {"use_sliding_window", "max_window_layers", "decoder_sparse_step",
                        "num_experts_per_tok", "intermediate_size", "head_dim", "num_key_value_heads"})
    if (c.has(k)) c.at(k);
  c.finish(type);
  return d.s.out;
}

}  // namespace

bool is_hf_config(std::string_view text) {
  // A JSON object, perhaps after comment lines (the bad-input catalogue heads its files with one).
  std::size_t first = text.find_first_not_of(" \t\r\n");
  while (first != std::string_view::npos && text[first] == '#') {
    const std::size_t eol = text.find('\n', first);
    first = eol == std::string_view::npos ? eol : text.find_first_not_of(" \t\r\n", eol);
  }
  if (first == std::string_view::npos || text[first] != '{') return false;
  return text.find("\"model_type\"") != std::string_view::npos ||
         text.find("\"architectures\"") != std::string_view::npos ||
         text.find("\"ssm_cfg\"") != std::string_view::npos;
}

std::string import_hf(std::string_view json, const std::string& path) {
  return import_config(io_detail::parse(json, path), path);
}

}  // namespace roofline
