// io, HuggingFace import: xLSTM-7B's config (NX-AI/xLSTM-7b, transformers' xLSTMConfig): mLSTM blocks
// with a gated MLP each, the MLP width ffn_proj_factor x embedding_dim rounded up.
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {
namespace {

// Options of xLSTMConfig that the spec's mLSTM block does not have: refused unless at the value
// xLSTM-7B uses.
void check_options(config& c) {
  for (const char* k : {"use_bias", "add_qk_norm"})
    if (c.boolean_or(k, false)) c.fail(k, fmt::format("'{}' true is not modelled for xlstm", k));
  if (!c.boolean_or("add_out_norm", true)) c.fail("add_out_norm", "'add_out_norm' false is not modelled");
  if (!c.boolean_or("add_post_blocks_norm", true))
    c.fail("add_post_blocks_norm", "'add_post_blocks_norm' false is not modelled");
  if (c.boolean_or("add_post_norm", false)) c.fail("add_post_norm", "'add_post_norm' true is not modelled");
}

}  // namespace

void import_xlstm(input& in) {
  config& c = in.c;
  spec_writer& w = in.w;
  const long long dm = c.integer("embedding_dim"), blocks = c.integer("num_blocks", 1, max_layers);
  const long long heads = c.integer("num_heads"), vocab = c.integer("vocab_size"),
                  chunk = c.integer_or("chunk_size", 64);
  const double qk = c.number("qk_dim_factor", 0.001, 1000), v = c.number_or("v_dim_factor", 1, 0.001, 1000);
  if (v != 1) c.fail("v_dim_factor", "'v_dim_factor' other than 1 is not modelled");
  const double proj = c.number("ffn_proj_factor", 0.001, 1000);
  const long long round = c.integer_or("ffn_round_up_to_multiple_of", 64);
  const long long ffn = (static_cast<long long>(std::ceil(proj * double(dm))) + round - 1) / round * round;
  check_options(c);
  const bool tied = c.boolean_or("tie_word_embeddings", false);
  const std::string state = c.text_or("inference_state_dtype", "float32");
  const double cap = c.number_or("output_logit_soft_cap", 0, 0, 1e6);
  for (const char* k : {"hidden_size", "num_hidden_layers"}) c.integer_or(k, 0, 0);
  c.skip({"qk_dim", "v_dim", "ffn_up_dim"});  // derived from the factors above
  write_head(in, {.d_model = dm,
                  .vocab = vocab,
                  .tied = tied,
                  .tied_why = "tie_word_embeddings",
                  .d_model_why = "embedding_dim"});
  if (cap > 0) w.set("logit_softcap", cap, "output_logit_soft_cap");
  w.section("mixers");
  w.entry(
      "mlstm", flow{{"type", "mlstm"}, {"n_heads", heads}, {"qk_dim_factor", qk}, {"chunk_size", chunk}},
      "num_heads, qk_dim_factor, chunk_size; gate soft-capping not counted (a few FLOPs a head and token)");
  w.section("channels");
  w.entry("mlp", flow{{"type", "mlp"}, {"ffn_dim", ffn}},
          fmt::format("ffn_proj_factor {} x {} rounded up to a multiple of {}", proj, dm, round));
  w.layers(layer_sequence(std::size_t(blocks), {"mlstm", "mlp"}), "num_blocks");
  write_dtypes(w, in.f);
  w.entry("state", state == "bfloat16" ? "bf16" : "fp32", "inference_state_dtype " + state);
  c.finish(in.type);
}

}  // namespace roofline::hf
