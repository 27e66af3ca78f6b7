// io, HuggingFace import: state-spaces/mamba* configs of the mamba_ssm package (MambaConfig: d_model,
// n_layer, ssm_cfg, pad_vocab_size_multiple), Mamba-2 layers without MLPs. The defaults of ssm_cfg
// are those of mamba_ssm.modules.mamba2.Mamba2.
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {
namespace {

void check_mamba2_only(input& in, config& ssm) {
  config& c = in.c;
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
}

void write_mixer(spec_writer& w, config& ssm) {
  w.section("mixers");
  w.block("mamba2");
  w.field("type", "mamba2");
  const auto field = [&](const char* key, const char* field, long long fallback) {
    const bool given = ssm.has(field);
    w.field(key, ssm.integer_or(field, fallback),
            given ? fmt::format("ssm_cfg.{}", field) : fmt::format("mamba_ssm's Mamba2 default ({})", field));
  };
  field("d_state", "d_state", 128);
  field("d_conv", "d_conv", 4);
  field("expand", "expand", 2);
  field("head_dim", "headdim", 64);
  field("n_groups", "ngroups", 1);
  field("chunk_size", "chunk_size", 256);
  w.field("conv_bias", ssm.boolean_or("conv_bias", true), "ssm_cfg.conv_bias (default true)");
  w.field("proj_bias", ssm.boolean_or("bias", false), "ssm_cfg.bias (default false)");
  ssm.finish("mamba_ssm ssm_cfg");
}

}  // namespace

void import_mamba_ssm(input& in) {
  config& c = in.c;
  spec_writer& w = in.w;
  const long long dm = c.integer("d_model"), layers = c.integer("n_layer", 1, max_layers);
  const long long vocab = c.integer("vocab_size"), pad = c.integer_or("pad_vocab_size_multiple", 8);
  config ssm(in.path, c.at("ssm_cfg"), "ssm_cfg");
  check_mamba2_only(in, ssm);
  w.note("Imported from a mamba_ssm config.json (ssm_cfg.layer Mamba2) by roofline's import_hf.");
  w.note("Each value names the field it comes from, or says how it was derived.");
  w.set("name", in.name);
  w.set("d_model", dm, "d_model");
  w.set("vocab_size", (vocab + pad - 1) / pad * pad,
        fmt::format("vocab_size {} padded to a multiple of {}", vocab, pad));
  w.set("tied_embeddings", c.boolean_or("tie_embeddings", true), "tie_embeddings");
  w.set("norm", c.boolean_or("rms_norm", true) ? "rms" : "layer", "rms_norm");
  write_mixer(w, ssm);
  w.layers(layer_sequence(std::size_t(layers), {"mamba2", "none"}), "n_layer; d_intermediate 0: no MLP");
  w.section("dtypes");
  w.entry("state", "bf16", "mamba_ssm's inference cache holds the states in the weights' dtype");
  c.finish(in.type);
}

}  // namespace roofline::hf
