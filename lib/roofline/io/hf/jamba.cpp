// io, HuggingFace import: Jamba (AI21): Mamba-1 layers with attention every attn_layer_period layers,
// MoE every expert_layer_period layers (the experts as wide as the dense MLP).
#include "roofline/io/hf/decoder.hpp"
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {
namespace {

void jamba_moe(decoder& d) {
  config& c = d.in.c;
  const long long e = c.integer("num_experts"), k = c.integer("num_experts_per_tok");
  const long long period = c.integer("expert_layer_period"), offset = c.integer("expert_layer_offset", 0);
  d.moe = {{"type", "moe"}, {"n_experts", e}, {"top_k", k}, {"expert_dim", d.ffn}};
  d.channel_why = fmt::format(
      "num_experts, num_experts_per_tok, intermediate_size; MoE where i % {} == {} "
      "(expert_layer_period, expert_layer_offset)",
      period, offset);
  for (long long i = 0; i < d.layers; ++i) d.channel[std::size_t(i)] = i % period == offset ? "moe" : "mlp";
  d.moe_note = moe_layers_note::always;
}

void jamba_mixers(decoder& d) {
  config& c = d.in.c;
  const long long period = c.integer("attn_layer_period"), offset = c.integer("attn_layer_offset", 0);
  for (long long i = 0; i < d.layers; ++i)
    d.mixer[std::size_t(i)] = i % period == offset ? "attention" : "mamba";
  d.mixer_why = fmt::format(
      "attention where i % {} == {} (attn_layer_period, attn_layer_offset), Mamba elsewhere", period, offset);
}

void mamba_block(decoder& d) {
  config& c = d.in.c;
  spec_writer& w = d.in.w;
  const long long expand = c.integer("mamba_expand");
  w.block("mamba");
  w.field("type", "mamba1");
  w.field("d_state", c.integer("mamba_d_state"), "mamba_d_state");
  w.field("d_conv", c.integer("mamba_d_conv"), "mamba_d_conv");
  w.field("expand", expand, "mamba_expand");
  const bool rank_given = c.has("mamba_dt_rank") && d.in.root["mamba_dt_rank"].Scalar() != "auto";
  const long long rank =
      rank_given ? c.integer("mamba_dt_rank") : (c.at("mamba_dt_rank"), (d.hidden + 15) / 16);
  w.field("dt_rank", rank, rank_given ? "mamba_dt_rank" : "mamba_dt_rank auto: ceil(hidden_size / 16)");
  w.field("conv_bias", c.boolean_or("mamba_conv_bias", true), "mamba_conv_bias");
  w.field("proj_bias", c.boolean_or("mamba_proj_bias", false), "mamba_proj_bias");
  w.field("inner_norms", true, "Jamba: dt_layernorm, b_layernorm, c_layernorm");
}

}  // namespace

void import_jamba(input& in) {
  import_decoder(in, {.attention = refuse_attention_bias,
                      .channels = jamba_moe,
                      .mixers = jamba_mixers,
                      .blocks = mamba_block,
                      .last = [](decoder& d) {
                        d.in.w.entry("state", "bf16",
                                     "HF's and vLLM's Mamba caches hold the states in the model dtype");
                      }});
}

}  // namespace roofline::hf
