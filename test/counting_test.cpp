// Counting: parameters, FLOPs and bytes against the paper's published numbers and hand arithmetic.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "helpers.hpp"
#include "roofline/graph/graph.hpp"
#include "roofline/io/io.hpp"

using namespace roofline;

namespace {

const model_spec& paper_model(const std::string& tag) {
  static std::map<std::string, model_spec> cache;
  auto it = cache.find(tag);
  if (it == cache.end())
    it = cache.emplace(tag, load_model(test::source_dir + "/model_specs/paper/" + tag + ".yaml")).first;
  return it->second;
}

// A tiny GQA Transformer whose counts are worked out by hand below.
model_spec tiny_transformer() {
  return test::stack("tiny", 8, 32, attention_mixer{.n_heads = 2, .n_kv_heads = 1, .head_dim = 4},
                     mlp_channel{.ffn_dim = 16}, 1);
}

// A tiny xLSTM: d 8, 2 heads of d_v 4 and d_qk 2, chunk 4.
model_spec tiny_xlstm() {
  return test::stack("tiny", 8, 32, mlstm_mixer{.n_heads = 2, .qk_dim_factor = 0.5, .chunk_size = 4},
                     mlp_channel{.ffn_dim = 16}, 1);
}

double rel(double got, double want) { return std::abs(got - want) / std::abs(want); }

}  // namespace

TEST_CASE("the parameter count of each paper model equals its measured num_params") {
  std::map<std::string, double> measured;
  for (const auto& row : test::read_csv(test::test_dir + "/data/h100_paper_inference.csv"))
    measured[row.at("model_tag")] = std::stod(row.at("num_params"));
  REQUIRE(measured.size() == 12);
  for (const auto& entry : measured) {
    const std::string& tag = entry.first;  // clang 14 cannot capture structured bindings
    CAPTURE(tag);
    CHECK(parameters(paper_model(tag)) == entry.second);
  }
}

TEST_CASE("the parameter counts of the released models equal their published totals") {
  // Totals of the released checkpoints (safetensors metadata on their model cards).
  const std::map<std::string, double> published{{"xlstm_7b", 6'865'424'896},   {"llama2_7b", 6'738'415'616},
                                                {"llama3_8b", 8'030'261'248},  {"llama3_70b", 70'553'706'496},
                                                {"mistral_7b", 7'241'732'096}, {"qwen2.5_7b", 7'615'616'512}};
  for (const auto& entry : published) {
    const std::string& name = entry.first;
    CAPTURE(name);
    CHECK(parameters(load_model(test::source_dir + "/model_specs/" + name + ".yaml")) == entry.second);
  }
}

TEST_CASE("TTFT and step FLOPs and bytes match the paper's accounting on every reference row") {
  const auto rows = test::read_csv(test::test_dir + "/data/h100_paper_reference_counts.csv");
  REQUIRE(rows.size() == 1560);
  const auto check_rows = [&](bool fraction) {
    int compared = 0;
    for (const auto& row : rows) {
      model_spec m = paper_model(row.at("model_tag"));
      const workload w{.batch = std::stoll(row.at("batch_size")),
                       .prefill = std::stoll(row.at("prefill_tokens")),
                       .generate = 100};
      if (fraction)
        m.accounting.partial_chunk = partial_chunk::fraction;
      else if (family(m) == architecture::xlstm && w.prefill % 64 != 0)  // the paper's chunk size
        continue;
      CAPTURE(row.at("model_tag"));
      CAPTURE(w.batch);
      CAPTURE(w.prefill);
      const pass_counts pre = count(m, prefill_pass(w)), dec = count(m, decode_pass(w));
      CHECK(rel(pre.work.value(), std::stod(row.at("ttft_flops"))) < 1e-6);
      CHECK(rel(pre.moved.total().value(), std::stod(row.at("ttft_bytes"))) < 1e-6);
      CHECK(rel(dec.work.value(), std::stod(row.at("step_flops"))) < 1e-6);
      CHECK(rel(dec.moved.total().value(), std::stod(row.at("step_bytes"))) < 1e-6);
      // The weights a decode step reads are every weight but the embedding table.
      CHECK(rel(dec.moved.weights.value(), std::stod(row.at("weight_bytes"))) < 1e-6);
      ++compared;
    }
    return compared;
  };
  SUBCASE("with the default accounting, on every row whose prefill is whole chunks") {
    // every Llama row (780) and the xLSTM rows whose P is a multiple of 128 (9 of 10 lengths)
    CHECK(check_rows(false) == 780 + 702);
  }
  SUBCASE("with the paper's fractional chunk count, on every row") { CHECK(check_rows(true) == 1560); }
}

TEST_CASE("a tiny grouped-query Transformer is counted as worked out by hand") {
  const model_spec m = tiny_transformer();
  const workload w{.batch = 1, .prefill = 4, .generate = 2};
  // blocks: 2 d norms 16 + q,k,v 8 x (2*4 + 2*1*4) = 128 + out 8 x 8 = 64 + FFN 3 x 8 x 16 = 384 -> 592;
  // + final norm 8 + embedding and LM head 2 x 32 x 8 = 512 -> 1112.
  CHECK(parameters(m) == 1112);

  SUBCASE("prefill of 4 tokens") {
    const pass p = prefill_pass(w);
    const op qkv = test::find_op(m, p, "qkv_proj");  // 2 T d (H + 2 H_kv) d_h = 2 x 4 x 8 x 16
    CHECK(qkv.work.value() == 1024);
    CHECK(qkv.moved.activations.value() == 4 * (8 + 16) * 2);
    CHECK(qkv.moved.weights.value() == 8 * 16 * 2);
    // 0.65 x T^2 x 2 H (d_qk + d_v + 5/2) = 0.65 x 16 x 4 x 10.5
    const op att = test::find_op(m, p, "attention");
    CHECK(att.work.value() == doctest::Approx(436.8).epsilon(1e-12));
    CHECK(att.moved.activations.value() == 4 * 2 * 8 * 2);  // q and o: T H (d_qk + d_v) b
    CHECK(att.moved.kv_cache.value() == 4 * 1 * 8 * 2);     // k and v: T H_kv (d_qk + d_v) b
    const op head = test::find_op(m, p, "lm_head");         // last token only: 2 d V
    CHECK(head.work.value() == 2 * 8 * 32);
    CHECK(head.moved.total().value() == 8 * 32 * 2 + (8 + 32) * 2);
    CHECK(test::find_op(m, p, "final_norm").work.value() == 0);  // the paper leaves it out of prefill
    CHECK(att.cls == op_class::attention);  // a prompt's kernel: one item per 128-row query tile
    CHECK(att.parallel == 1 * 2 * 1);       // B H ceil(T / 128)
    CHECK(att.item_steps == 4);             // the last tile reads all T keys
  }
  SUBCASE("decode: the mean of 2 steps after a 4-token prompt") {
    const pass p = decode_pass(w);
    // keys attended: 5 and 6, mean 5.5 -> 5.5 x 2 H (d_qk + d_v + 2.5) = 5.5 x 4 x 10.5
    const op att = test::find_op(m, p, "attention");
    CHECK(att.work.value() == doctest::Approx(231).epsilon(1e-12));
    // cache read: 4 and 5 tokens, mean 4.5, plus 1 written: 5.5 x H_kv (d_qk + d_v) x 2 B
    CHECK(att.moved.kv_cache.value() == doctest::Approx(88).epsilon(1e-12));
    CHECK(test::find_op(m, p, "final_norm").work.value() == 8 * 3);
    // the decode kernel: one item per sequence and KV head (B H_kv = 1: both query heads share
    // it), each reading the 5.5 keys one after another in tiles of 128, at least one whole
    // tile: 128 steps; head width (d_qk + d_v) / 256 = 8 / 256
    CHECK(att.cls == op_class::decode_attention);
    CHECK(att.parallel == 1);
    CHECK(att.item_steps == 128);
    CHECK(att.item_size == doctest::Approx(8.0 / 256).epsilon(1e-12));
    // after a 300-token prompt: keys 301 and 302, mean 301.5 steps, more than a tile
    CHECK(
        test::find_op(m, decode_pass({.batch = 1, .prefill = 300, .generate = 2}), "attention").item_steps ==
        doctest::Approx(301.5).epsilon(1e-12));
  }
  SUBCASE("memory held after 4 + 2 tokens") {
    const footprint f = memory_footprint(m, w);
    CHECK(f.weights.value() == 1112 * 2);
    CHECK(f.kv_cache.value() == 6 * 1 * 8 * 2);  // (P + G) layers H_kv (d_qk + d_v) b
    CHECK(f.state.value() == 0);
    // P (d + max(mixer d + H d_qk + H_kv (d_qk + d_v) = 24, FFN d + 2f = 40)) b + V b
    CHECK(f.activations.value() == 4 * (8 + 40) * 2 + 32 * 2);
  }
}

TEST_CASE("a tiny xLSTM's mLSTM cell is counted as worked out by hand") {
  model_spec m = tiny_xlstm();
  // One head, one chunk of L = 4, d_qk = 2, d_v = 4, causal factor 0.75:
  //   recurrence 8 + 10 + 16 + 5 + 16 + 64 + 8 + 4 + 16 = 147
  //   intra      10 + 8 + 0.75 (16 x 5 + 4 x 2) + 0.75 (2 x 16 x 6 + 3 x 16) = 264
  //   inter      64 + 24 = 88;  combination 32 + 16 = 48;  total 547
  SUBCASE("chunkwise prefill of whole chunks") {
    const op cell = test::find_op(m, prefill_pass({.batch = 1, .prefill = 8, .generate = 1}), "mlstm_cell");
    CHECK(cell.work.value() == 2 * 2 * 547);  // heads x chunks x 547
    // state in and out per head and chunk: 2 (d_qk d_v + d_qk + 1) x 4 B = 88
    CHECK(cell.moved.state.value() == 2 * 2 * 88);
    // one work item per sequence and head (B H = 2), walking its 2 chunks in turn
    CHECK(cell.parallel == 2);
    CHECK(cell.item_steps == 2);
  }
  SUBCASE("a partial chunk is padded, or counted as a fraction") {
    const workload w{.batch = 1, .prefill = 6, .generate = 1};
    CHECK(test::find_op(m, prefill_pass(w), "mlstm_cell").work.value() == 2 * 2 * 547);
    m.accounting.partial_chunk = partial_chunk::fraction;
    CHECK(test::find_op(m, prefill_pass(w), "mlstm_cell").work.value() ==
          doctest::Approx(2 * 1.5 * 547).epsilon(1e-12));
  }
  SUBCASE("a recurrent step") {
    // gates 4 + 2 + 1 + 1 + 1 = 9; C update 4 x 2 x 4 = 32; denominator 12 + 4 + 3 = 19;
    // output 2 x 4 x 2 + 2 = 18; total 78 per head
    const op cell = test::find_op(m, decode_pass({.batch = 3, .prefill = 8, .generate = 5}), "mlstm_cell");
    CHECK(cell.work.value() == 3 * 2 * 78);
    CHECK(cell.moved.state.value() == 3 * 2 * 88);
    CHECK(cell.cls == op_class::recurrent_step);  // the step's kernel, not the chunkwise one
    CHECK(test::find_op(m, prefill_pass({.batch = 3, .prefill = 8, .generate = 5}), "mlstm_cell").cls ==
          op_class::recurrent);
  }
  SUBCASE("state held: B layers H (d_qk d_v + d_qk + 1) x 4 B, independent of context") {
    CHECK(memory_footprint(m, {.batch = 3, .prefill = 8, .generate = 5}).state.value() == 3 * 2 * 11 * 4);
    CHECK(memory_footprint(m, {.batch = 3, .prefill = 800, .generate = 500}).state.value() == 3 * 2 * 11 * 4);
  }
}

TEST_CASE("the closed-form decode step equals the mean of the steps counted one by one") {
  const model_spec& m = paper_model("llama2_160m");
  const workload w{.batch = 4, .prefill = 100, .generate = 10};
  double flops_sum = 0, bytes_sum = 0;
  for (int i = 0; i < w.generate; ++i) {  // step i reads P + i cached tokens, attends to P + i + 1
    const pass step{phase::decode, 4, 1, 100.0 + i, 1};
    const pass_counts c = count(m, step);
    flops_sum += c.work.value();
    bytes_sum += c.moved.total().value();
  }
  const pass_counts mean = count(m, decode_pass(w));
  CHECK(mean.work.value() == doctest::Approx(flops_sum / 10).epsilon(1e-12));
  CHECK(mean.moved.total().value() == doctest::Approx(bytes_sum / 10).epsilon(1e-12));
}
