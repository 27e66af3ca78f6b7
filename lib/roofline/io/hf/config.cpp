// io, HuggingFace import: the reader of config fields, the spec writer and the formats, shared by
// every family's importer (config.hpp).
#include "roofline/io/hf/config.hpp"

#include <cmath>

namespace roofline::hf {
namespace {

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
                                      "_attn_implementation_autoset",
                                      "tokenizer_class",
                                      "head_dim_",
                                      "moe_layer_freq_"};

// The layers of a model as runs of equal layers.
struct layer_run {
  std::string mixer, channel;
  int count;
};
std::vector<layer_run> runs(const layer_sequence& seq, std::size_t from, std::size_t to) {
  std::vector<layer_run> out;
  for (std::size_t i = from; i < to; ++i) {
    if (!out.empty() && out.back().mixer == seq[i].first && out.back().channel == seq[i].second)
      ++out.back().count;
    else
      out.push_back({seq[i].first, seq[i].second, 1});
  }
  return out;
}

}  // namespace

long long config::integer(const std::string& key, long long lo, long long hi) {
  if (!has(key)) fail(key, fmt::format("missing field '{}'", r_.dotted(key)));
  return r_.integer(at(key), key, lo, hi);
}
long long config::integer_or(const std::string& key, long long fallback, long long lo, long long hi) {
  return has(key) ? r_.integer(at(key), key, lo, hi) : (used_.insert(key), fallback);
}
double config::number(const std::string& key, double lo, double hi) {
  if (!has(key)) fail(key, fmt::format("missing field '{}'", r_.dotted(key)));
  return r_.number(at(key), key, lo, false, hi);
}
double config::number_or(const std::string& key, double fallback, double lo, double hi) {
  return has(key) ? number(key, lo, hi) : (used_.insert(key), fallback);
}
bool config::boolean_or(const std::string& key, bool fallback) {
  return has(key) ? r_.boolean(at(key), key) : (used_.insert(key), fallback);
}
std::string config::text_or(const std::string& key, const std::string& fallback) {
  return has(key) ? r_.text(at(key), key) : (used_.insert(key), fallback);
}
namespace {
// The RoPE scalings transformers knows (modeling_rope_utils.py's ROPE_INIT_FUNCTIONS, with the
// older names su and mrope, and transformers 5's proportional of Gemma 4): they change positions'
// frequencies, nothing the project counts, but a value that is none of them, or a factor that is no positive
// number, is a broken config.
const std::set<std::string> rope_types{"default", "linear", "dynamic", "yarn",        "longrope",
                                       "llama3",  "su",     "mrope",   "proportional"};

void check_rope(const io_detail::reader& parent, const std::string& key, const YAML::Node& n) {
  io_detail::reader r(parent.file(), n, parent.dotted(key));
  for (const char* type_key : {"rope_type", "type"})
    if (r.has(type_key)) {
      const YAML::Node t = r.node()[type_key];
      const std::string type = r.text(t, type_key);
      if (!rope_types.count(type))
        r.fail(t, fmt::format("unknown RoPE scaling '{}' for '{}'; known: default, linear, dynamic, yarn, "
                              "longrope, llama3, su, mrope, proportional",
                              type, r.dotted(type_key)));
    }
  if (r.has("factor") && !r.node()["factor"].IsNull()) r.number(r.node()["factor"], "factor", 0, true, 1e6);
  for (const std::string& k : r.keys())  // per layer type (transformers 5's rope_parameters)
    if (r.node()[k].IsMap()) check_rope(r, k, r.node()[k]);
}
}  // namespace

void config::finish(const std::string& model_type) const {
  for (const char* key : {"rope_scaling", "rope_parameters"})
    if (has(key)) check_rope(r_, key, node_[key]);
  for (const std::string& key : r_.keys())
    if (!used_.count(key) && !no_effect.count(key))
      r_.fail(r_.key_node(key),
              fmt::format("field '{}' of model_type '{}' is not modelled: the import does not "
                          "know what it changes, so it will not guess",
                          r_.dotted(key), model_type));
}

std::string spec_writer::yaml(const value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>)
          return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string>)
          return x;
        else
          return fmt::format("{}", x);
      },
      v);
}
std::string spec_writer::yaml(const flow& fields) {
  std::string s;
  for (const auto& [key, v] : fields) s += (s.empty() ? "{" : ", ") + key + ": " + yaml(v);
  return s + "}";
}
void spec_writer::line(int indent, const std::string& text, const std::string& why) {
  std::string l = std::string(std::size_t(indent), ' ') + text;
  if (!why.empty()) l += std::string(l.size() < 40 ? 40 - l.size() : 1, ' ') + "# " + why;
  out_ += l + "\n";
}

void spec_writer::layers(const layer_sequence& seq, const std::string& why) {
  section("layers", why);
  const auto all = runs(seq, 0, seq.size());
  const auto entry = [&](int indent, const layer_run& r) {
    line(indent,
         fmt::format("- {{mixer: {}, channel: {}{}}}", r.mixer, r.channel,
                     r.count > 1 ? fmt::format(", count: {}", r.count) : ""),
         {});
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
  line(2, fmt::format("- repeat: {}", times), {});
  line(4, "layers:", {});
  for (const layer_run& r : runs(seq, 0, period)) entry(6, r);
  for (const layer_run& r : runs(seq, 0, seq.size() - times * period)) entry(2, r);
}

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
    q.at("weight_block_size");  // null: per-tensor scales, as when absent
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
    // gpt-oss: MXFP4 experts, every other module left out by modules_to_not_convert; a list that
    // names the experts leaves them out too (nothing is quantized then).
    const YAML::Node skipped = q.at("modules_to_not_convert");
    bool experts_kept = false;
    if (skipped && skipped.IsSequence())
      for (const auto& m : skipped)
        experts_kept |= m.IsScalar() && m.Scalar().find("experts") != std::string::npos;
    f.experts_only = !experts_kept;
    if (experts_kept) {
      q.finish("quantization_config");
      return f;
    }
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
    // how the weights were quantized, not what they are (null or absent alike)
    q.skip({"zero_point", "version", "desc_act", "sym", "damp_percent", "true_sequential", "static_groups",
            "checkpoint_format", "model_name_or_path", "model_file_base_name"});
    // modules left in bf16: only the LM head (never quantized here) is modelled
    const YAML::Node skipped = q.at("modules_to_not_convert");
    if (skipped && skipped.IsSequence())
      for (const auto& m : skipped)
        if (!m.IsScalar() || m.Scalar() != "lm_head")
          q.fail("modules_to_not_convert",
                 fmt::format("'modules_to_not_convert' other than lm_head is not modelled for {}", method));
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

void write_dtypes(spec_writer& w, const formats& f) {
  w.section("dtypes");
  w.entry("activations", f.activations, f.why);
  for (const auto& l : f.lines) w.entry(l.key, l.value, l.why);
}

// A gated (SwiGLU, GeGLU) or plain activation from hidden_act / hidden_activation / activation_function.
std::string activation_name(config& c, const std::string& key, const std::string& fallback) {
  const std::string a = c.text_or(key, fallback);
  if (a == "silu" || a == "swish") return "silu";
  if (a == "gelu" || a == "gelu_new" || a == "gelu_pytorch_tanh" || a == "gelu_fast" || a == "gelu_python")
    return "gelu";
  c.fail(key, fmt::format("'{}' is '{}'; modelled: silu, gelu (erf or tanh forms)", c.dotted(key), a));
}

void write_head(input& in, const spec_head& h) {
  in.w.note(fmt::format("Imported from a HuggingFace config.json (model_type {}) by roofline's import_hf.",
                        in.type));
  in.w.note("Each value names the field it comes from, or says how it was derived.");
  in.w.set("name", in.name);
  in.w.set("d_model", h.d_model, h.d_model_why);
  in.w.set("vocab_size", h.vocab, "vocab_size");
  in.w.set("tied_embeddings", h.tied, h.tied_why);
  if (h.max_context) in.w.set("max_context", *h.max_context, h.context_why);
}

formats text_formats(const input& in, config& t, bool nested) {
  if (!nested) return in.f;
  formats tf = read_formats(t);
  if (tf.lines.empty()) tf.lines = in.f.lines;
  if (!t.has("torch_dtype") && !t.has("dtype")) tf.activations = in.f.activations, tf.why = in.f.why;
  return tf;
}

void import_text_config(input& in, std::initializer_list<const char*> towers, const std::string& text_type,
                        text_importer text) {
  config& c = in.c;
  if (!c.has("text_config")) c.fail("text_config", "missing field 'text_config'");
  c.skip(towers);
  const bool tied = c.boolean_or("tie_word_embeddings", true);
  config t(in.path, c.at("text_config"), "text_config");
  c.finish(in.type);
  t.text_or("model_type", text_type);
  text(in, t, tied, true);
}

}  // namespace roofline::hf
