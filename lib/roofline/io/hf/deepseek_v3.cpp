// io, HuggingFace import: DeepSeek-V3 (and R1, Kimi-K2 and others with its config) and
// DeepSeek-V3.2 (deepseek_v32: the same with DeepSeek Sparse Attention's indexer): MLA on every
// layer, the first first_k_dense_replace layers dense, MoE with shared experts after them, the
// router's score-correction bias under topk_method noaux_tc. The multi-token-prediction module is
// not counted, as the published 671B total leaves it out (the spec says so).
#include "roofline/io/hf/decoder.hpp"
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {
namespace {

void deepseek_moe(decoder& d) {
  config& c = d.in.c;
  const long long e = c.integer("n_routed_experts"), k = c.integer("num_experts_per_tok"),
                  width = c.integer("moe_intermediate_size");
  const long long shared = c.integer_or("n_shared_experts", 0, 0),
                  first = c.integer_or("first_k_dense_replace", 0, 0, max_layers);
  if (c.integer_or("moe_layer_freq", 1) != 1)
    c.fail("moe_layer_freq", "'moe_layer_freq' other than 1 is not modelled");
  const bool bias = c.text_or("topk_method", "noaux_tc") == "noaux_tc";
  d.moe = {{"type", "moe"}, {"n_experts", e}, {"top_k", k}, {"expert_dim", width}};
  if (shared > 0) d.moe.insert(d.moe.end(), {{"n_shared", shared}, {"shared_dim", width}});
  if (bias) d.moe.push_back({"router_bias", true});
  d.channel_why = fmt::format(
      "n_routed_experts, num_experts_per_tok, moe_intermediate_size, n_shared_experts{}; "
      "first_k_dense_replace {} dense layers",
      bias ? ", topk_method noaux_tc: e_score_correction_bias" : "", first);
  for (long long i = 0; i < d.layers; ++i) d.channel[std::size_t(i)] = i < first ? "mlp" : "moe";
  d.moe_note = moe_layers_note::always;
}

void mla_block(decoder& d) {
  config& c = d.in.c;
  spec_writer& w = d.in.w;
  const long long q = c.has("q_lora_rank") ? c.integer("q_lora_rank") : (c.at("q_lora_rank"), 0LL);
  w.block("mla");
  w.field("type", "mla");
  w.field("n_heads", d.heads, "num_attention_heads (num_key_value_heads does not apply to MLA)");
  w.field("q_rank", q, "q_lora_rank");
  for (const auto& [key, field] : {std::pair{"kv_rank", "kv_lora_rank"},
                                   {"nope_dim", "qk_nope_head_dim"},
                                   {"rope_dim", "qk_rope_head_dim"},
                                   {"v_dim", "v_head_dim"}})
    w.field(key, c.integer(field), field);
  if (d.in.type == "deepseek_v32") {  // DeepSeek Sparse Attention: the lightning indexer and its top-k
    if (q == 0)
      c.fail("q_lora_rank", "deepseek_v32 without q_lora_rank: the indexer reads the compressed query");
    for (const auto& [key, field] : {std::pair{"index_heads", "index_n_heads"},
                                     {"index_head_dim", "index_head_dim"},
                                     {"index_topk", "index_topk"}})
      w.field(key, c.integer(field), field);
    c.skip({"indexer_rope_interleave"});  // positions: nothing counted
  }
  if (c.integer_or("num_nextn_predict_layers", 0, 0) > 0)
    w.note(
        "Not modelled: the multi-token-prediction module (num_nextn_predict_layers), as the published 671B "
        "count leaves it out.");
}

}  // namespace

void import_deepseek_v3(input& in) {
  import_decoder(in, {.head_width_from_heads = false,  // MLA's widths are its own (qk_*_head_dim, v_head_dim)
                      .attention = refuse_attention_bias,
                      .channels = deepseek_moe,
                      .mixers = [](decoder& d) { std::fill(d.mixer.begin(), d.mixer.end(), "mla"); },
                      .blocks = mla_block});
}

}  // namespace roofline::hf
