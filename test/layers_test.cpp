// Layer stacks: each mixer and channel mixer of a tiny model counted by hand; patterns, formats, limits.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "helpers.hpp"
#include "roofline/estimate/estimate.hpp"
#include "roofline/io/io.hpp"
#include "roofline/serving/speculative.hpp"

using namespace roofline;

namespace {

bool has_op(const model_spec& m, const pass& p, std::string_view name) {
  bool found = false;
  for_each_op(m, p, [&](const op& o) { found |= o.name == name; });
  return found;
}

constexpr auto approx = [](double v) { return doctest::Approx(v).epsilon(1e-12); };

}  // namespace

TEST_CASE("windowed decode steps attend to the mean of min(P + i + 1, W) keys") {
  // P = 1, G = 4, W = 3: keys min(2, 3), min(3, 3), 3, 3 -> 11 / 4
  const pass p = decode_pass({.batch = 1, .prefill = 1, .generate = 4});
  CHECK(mean_keys(p, 3) == approx(2.75));
  CHECK(mean_cache_read(p, 3) == approx(1.75));
  CHECK(mean_keys(p, 0) == approx(1 + 2.5));  // global: P + (G + 1) / 2
  // a window wider than the context changes nothing; one narrower than P caps every step
  CHECK(mean_keys(p, 100) == approx(3.5));
  CHECK(mean_keys(decode_pass({.batch = 1, .prefill = 50, .generate = 7}), 8) == approx(8));
}

TEST_CASE("an attention layer with every option is counted as worked out by hand") {
  // d 8, 2 query heads and 1 KV head of 4, window 3, biases, QK-norm, sinks, an output gate,
  // soft-capping; one layer, a gated MLP of 16.
  const attention_mixer x{.n_heads = 2,
                          .n_kv_heads = 1,
                          .head_dim = 4,
                          .window = 3,
                          .qkv_bias = true,
                          .out_bias = true,
                          .qk_norm = true,
                          .sinks = true,
                          .output_gate = true,
                          .softcap = 50};
  const model_spec m = test::stack("tiny", 8, 32, x, mlp_channel{.ffn_dim = 16}, 1);
  SUBCASE("parameters") {
    // q doubled by the gate 8 x 16, k and v 8 x 8, o 8 x 8: 256 in matrices;
    // biases 16 + 8 (q, k, v) + 8 (o), QK-norm 2 x 4, sinks 2: 42; pre-norms 2 x 8
    test::check_layer_params(m, 256, 42 + 16);
  }
  SUBCASE("prefill of 5 tokens") {
    const pass p = prefill_pass({.batch = 1, .prefill = 5, .generate = 2});
    // qkv: 2 x 5 x 8 x 24 + the bias, 5 x 24
    CHECK(test::find_op(m, p, "qkv_proj").work.value() == 1920 + 120);
    // QK-norm: 5 tokens x (2 + 1) heads x 4 x 3 FLOPs; its weights 2 x 4 x 2 B
    CHECK(test::find_op(m, p, "qk_norm").work.value() == 180);
    CHECK(test::find_op(m, p, "qk_norm").moved.weights.value() == 16);
    // scores: within the window 0.65 x 3^2, then 3 keys for each of the 2 later queries: 11.85;
    // per key 2 x 2 (4 + 4 + 5/2 + 3/2) = 48; sinks 5 x 2 x 5
    const op att = test::find_op(m, p, "attention");
    CHECK(att.work.value() == approx(11.85 * 48 + 50));
    CHECK(att.item_steps == 3);  // the last tile reads the window
    // gate: 5 x 8 x (sigmoid + 1); g and o read, o written
    CHECK(test::find_op(m, p, "attn_gate").work.value() == 80);
    CHECK(test::find_op(m, p, "attn_gate").moved.activations.value() == 3 * 5 * 8 * 2);
  }
  SUBCASE("decode after 5 tokens, 2 steps") {
    const pass p = decode_pass({.batch = 1, .prefill = 5, .generate = 2});
    const op att = test::find_op(m, p, "attention");
    // keys min(6, 3) and min(7, 3): 3; per key 48, sinks 2 x 5
    CHECK(att.work.value() == approx(3 * 48 + 10));
    // cache read 2 tokens + 1 written, 1 KV head x (4 + 4) x 2 B
    CHECK(att.moved.kv_cache.value() == approx(3 * 8 * 2));
    CHECK(att.parallel == 1);  // one item per sequence and KV head
  }
  SUBCASE("the cache holds at most the window") {
    CHECK(memory_footprint(m, {.batch = 2, .prefill = 5, .generate = 2}).kv_cache.value() == 2 * 3 * 8 * 2);
    CHECK(memory_footprint(m, {.batch = 2, .prefill = 1, .generate = 1}).kv_cache.value() == 2 * 2 * 8 * 2);
  }
}

TEST_CASE("chunked local attention (Llama 4) is counted as worked out by hand") {
  // d 8, 2 query heads and 1 KV head of 4, chunks of 3 tokens, q and k L2-normed (no weights)
  const attention_mixer x{.n_heads = 2, .n_kv_heads = 1, .head_dim = 4, .chunk = 3, .qk_l2_norm = true};
  const model_spec m = test::stack("tiny", 8, 32, x, mlp_channel{.ffn_dim = 16}, 1);
  const double per_key = 2 * 2 * (4 + 4 + 2.5);  // 2 H (d_qk + d_v + softmax / 2) = 42
  SUBCASE("parameters: the L2 norm has none") { test::check_layer_params(m, 8 * 16 + 8 * 8, 16); }
  SUBCASE("a prompt of 5 tokens: a chunk of 3, then one of 2") {
    const pass p = prefill_pass({.batch = 1, .prefill = 5, .generate = 2});
    const op att = test::find_op(m, p, "attention");
    // causal triangles 0.65 (3^2 + 2^2) = 8.45 scores
    CHECK(att.work.value() == approx(8.45 * per_key));
    CHECK(att.item_steps == 3);                      // no tile reads more than a chunk
    CHECK(att.moved.kv_cache.value() == 5 * 8 * 2);  // k and v of 5 tokens written, none read
    // the L2 norm: 5 tokens x 3 heads x 4 x 3 FLOPs, no weights read
    CHECK(test::find_op(m, p, "qk_norm").work.value() == 180);
    CHECK(test::find_op(m, p, "qk_norm").moved.weights.value() == 0);
  }
  SUBCASE("a prefill chunk of 4 tokens after 4 cached: positions 4 .. 7") {
    // 4 and 5 share the chunk 3 .. 5 with cached position 3 (one cached key each), 6 and 7 open
    // the chunk 6 .. 8: triangles 0.65 (2^2 + 2^2) = 5.2, cached 2 x 1
    CHECK(detail::chunked_scores(4, 4, 3, 0.65) == approx(7.2));
    CHECK(detail::chunk_pieces(4, 4, 3) == 2);
    // a whole prompt of 7: chunks of 3, 3 and 1
    CHECK(detail::chunked_scores(7, 0, 3, 1) == approx(19));
    CHECK(detail::chunk_pieces(7, 0, 3) == 3);
  }
  SUBCASE("decode after 5 tokens, 4 steps: positions 5 .. 8 see 3, 1, 2, 3 keys") {
    const pass p = decode_pass({.batch = 1, .prefill = 5, .generate = 4});
    CHECK(mean_chunk_keys(p, 3) == approx(2.25));
    const op att = test::find_op(m, p, "attention");
    CHECK(att.work.value() == approx(2.25 * per_key));
    CHECK(att.moved.kv_cache.value() == approx(2.25 * 8 * 2));  // 1.25 cached read + 1 written
  }
  SUBCASE("the cache holds at most a chunk") {
    CHECK(memory_footprint(m, {.batch = 2, .prefill = 5, .generate = 2}).kv_cache.value() == 2 * 3 * 8 * 2);
    CHECK(memory_footprint(m, {.batch = 2, .prefill = 1, .generate = 1}).kv_cache.value() == 2 * 2 * 8 * 2);
  }
}

TEST_CASE("attention whose values are the keys' projection (k_eq_v, Gemma 4) is counted by hand") {
  // d 8, 2 query heads and 2 KV heads of 4, k_eq_v: q 8 x 8, k 8 x 8 and no v, o 8 x 8; q and k
  // biases 8 + 8
  const attention_mixer x{.n_heads = 2, .n_kv_heads = 2, .head_dim = 4, .qkv_bias = true, .k_eq_v = true};
  const model_spec m = test::stack("tiny", 8, 32, x, mlp_channel{.ffn_dim = 16}, 1);
  test::check_layer_params(m, 8 * 8 + 8 * 8 + 8 * 8, 16 + 16);  // vectors: biases and the two norms
  // a prompt of 5 tokens: the qkv projection 8 -> 16, 2 x 5 x 8 x 16 FLOPs and its 5 x 16 bias adds;
  // the cache keeps keys and values: 5 + 1 tokens x 2 heads x 4 x 2 x 2 B
  const pass p = prefill_pass({.batch = 1, .prefill = 5, .generate = 2});
  CHECK(test::find_op(m, p, "qkv_proj").work.value() == 2 * 5 * 8 * 16 + 5 * 16);
  CHECK(memory_footprint(m, {.batch = 1, .prefill = 5, .generate = 1}).kv_cache.value() == 6 * 2 * 4 * 2 * 2);
  // without it: v's 8 x 8 more, and 2 x 5 x 8 x 8 more FLOPs
  attention_mixer y = x;
  y.k_eq_v = false;
  const model_spec plain = test::stack("tiny", 8, 32, y, mlp_channel{.ffn_dim = 16}, 1);
  test::check_layer_params(plain, 4 * 8 * 8, 24 + 16);
  CHECK(test::find_op(plain, p, "qkv_proj").work.value() == 2 * 5 * 8 * 24 + 5 * 24);
}

TEST_CASE("a vision tower is counted as worked out by hand") {
  // text: d 8, one attention layer; vision: 2 layers of d 8, 2 heads (d_h 4), plain GELU MLP of 16
  // with biases, LayerNorms (2 d each), 2 outer norms, patches of 12 inputs, 5 patches an image,
  // 6 position rows, 2 image tokens through an adapter 16 -> 8 -> 8
  const attention_mixer x{.n_heads = 2, .n_kv_heads = 1, .head_dim = 4};
  model_spec m = test::stack("tiny", 8, 32, x, mlp_channel{.ffn_dim = 16}, 1);
  m.vision = {.layers = 2,
              .d_model = 8,
              .n_heads = 2,
              .ffn_dim = 16,
              .bias = true,
              .outer_norms = 2,
              .patch_inputs = 12,
              .patches = 5,
              .positions = 6,
              .image_tokens = 2,
              .adapter = {16, 8, 8}};
  SUBCASE("parameters") {
    // patch 12 x 8; positions 6 x 8; outer norms 2 x 16; per layer q, k, v, o 4 x 64, MLP 2 x 8 x 16,
    // norms 2 x 16, biases 3 x 8 + 8 + 16 + 8; adapter 16 x 8 + 8 x 8
    const double layer = 256 + 256 + 32 + 56;
    CHECK(vision_parameters(m) == 96 + 48 + 32 + 2 * layer + 128 + 64);
    CHECK(weight_bytes(m) == bytes_of(m, parameter_counts(m)) + vision_parameters(m) * 2);
  }
  SUBCASE("a prefill of 3 sequences with 2 images each: 30 patch rows, 12 image-token rows") {
    const workload with{.batch = 3, .prefill = 10, .generate = 1, .images = 2};
    workload without = with;
    without.images = 0;
    const double n = 30, per_key = 2 * 2 * (4 + 4 + 2.5), norm = n * 8 * 3, pre_norm = n * 8 * (3 + 1);
    const double layer = pre_norm + (2 * n * 8 * 24 + n * 24) + 6 * 25 * per_key + (2 * n * 8 * 8 + n * 8) +
                         pre_norm + (2 * n * 8 * 16 + n * 16) + n * 16 * 1 + (2 * n * 16 * 8 + n * 8);
    const double adapter = 2 * 12 * 16 * 8 + 12 * 8 * 1 + 2 * 12 * 8 * 8;
    const double vision = 2 * n * 12 * 8 + 2 * norm + 2 * layer + adapter;
    CHECK(count(m, prefill_pass(with)).work.value() - count(m, prefill_pass(without)).work.value() ==
          approx(vision));
    // the encoder's attention: no cache, q, k, v read and o written
    const op att = test::find_op(m, prefill_pass(with), "vision_attention");
    CHECK(att.moved.kv_cache.value() == 0);
    CHECK(att.moved.activations.value() == n * 2 * 4 * 4 * 2);
    // decode steps never run it
    CHECK(count(m, decode_pass(with)).work.value() == count(m, decode_pass(without)).work.value());
    // an MTP head drafts from the target's hidden states: it holds no tower of its own
    CHECK(mtp_head(m).vision.layers == 0);
    CHECK(weight_bytes(mtp_head(m)) == bytes_of(m, parameter_counts(mtp_head(m))));
    // the activation peak: the encoder's, 6 images x 5 patches x (8 + max(24, 16)) x 2 B, when larger
    CHECK(memory_footprint(m, with).activations.value() >= 6 * 5 * (8 + 24) * 2);
  }
  SUBCASE("a workload with images needs a tower, and a prompt that holds their tokens") {
    const hardware hw = test::h100_roofline();
    model_spec text = m;
    text.vision = {};
    CHECK_THROWS_WITH_AS(
        estimate(text, hw, {.batch = 1, .prefill = 10, .generate = 1, .images = 1}),
        "workload: 1 images a prompt, but model 'tiny' has no vision tower (its spec's 'vision')",
        input_error);
    CHECK_THROWS_WITH_AS(estimate(m, hw, {.batch = 1, .prefill = 3, .generate = 1, .images = 2}),
                         "workload: prefill 3 holds fewer tokens than its 2 images become (2 each: "
                         "'vision.image_tokens' of model 'tiny')",
                         input_error);
  }
}

TEST_CASE("Llama 4, Gemma 3 1B and 4, DeepSeek-V3.2, GLM-5: parameters derived from their configs by hand") {
  const auto load = [](const char* f) {
    return load_model(test::source_dir + "/model_specs/" + f + ".yaml");
  };
  // Per layer: attention q and o 5120 x 5120, k and v 5120 x 1024: 62,914,560; two RMSNorms 10,240;
  // an expert or the shared expert 3 x 5120 x 8192 = 125,829,120; a router 5120 x E; a dense MLP
  // 3 x 5120 x 16384 = 251,658,240. Embedding and LM head 2 x 202,048 x 5120, the final norm 5120.
  const double attn = 62'914'560 + 10'240, expert = 125'829'120, ends = 2 * 202'048.0 * 5120 + 5120;
  SUBCASE("Scout: 48 MoE layers of 16 experts") {
    const model_spec m = load("llama4_scout");
    CHECK(parameters(m) == 48 * (attn + 16 * expert + 5120 * 16 + expert) + ends);
    CHECK(parameters(m) == 107'769'861'120.0);
    CHECK(active_parameters(m) == 48 * (attn + 2 * expert + 5120 * 16) + ends);
    // the vision tower (model_specs/llama4_scout.yaml): patch embedding 588 x 1408, position and
    // class rows 578 x 1408, LayerNorms before and after 4 x 1408, 34 layers of q, k, v, o with
    // biases 4 (1408^2 + 1408), fc1 and fc2 with biases 2 x 1408 x 5632 + 5632 + 1408, two
    // LayerNorms 4 x 1408; the adapter 5632 x 4096 + 4096 x 4096 and the projector 4096 x 5120
    const double vit_layer = 4 * (1408.0 * 1408 + 1408) + 2 * 1408.0 * 5632 + 5632 + 1408 + 4 * 1408;
    const double vision = 588 * 1408.0 + 578 * 1408.0 + 4 * 1408 + 34 * vit_layer + 5632 * 4096.0 +
                          4096 * 4096.0 + 4096 * 5120.0;
    CHECK(vision_parameters(m) == vision);
    CHECK(vision_parameters(m) == 871'932'416.0);
    // published "109B" total (with the vision tower) and "17B" active
    CHECK(parameters(m) + vision_parameters(m) == doctest::Approx(109e9).epsilon(0.005));
    CHECK(active_parameters(m) == doctest::Approx(17e9).epsilon(0.015));
    // 36 chunked layers (three of every four) hold at most 8,192 tokens of KV cache
    const double kv = memory_footprint(m, {.batch = 1, .prefill = 100'000, .generate = 1}).kv_cache.value();
    CHECK(kv == (12 * 100'001.0 + 36 * 8192) * 8 * 2 * 128 * 2);
  }
  SUBCASE("Maverick: 24 MoE layers of 128 experts, 24 dense") {
    const model_spec m = load("llama4_maverick");
    CHECK(parameters(m) ==
          24 * (attn + 128 * expert + 5120 * 128 + expert) + 24 * (attn + 251'658'240) + ends);
    CHECK(parameters(m) == 400'711'848'960.0);
    CHECK(active_parameters(m) == 24 * (attn + 2 * expert + 5120 * 128) + 24 * (attn + 251'658'240) + ends);
    CHECK(parameters(m) == doctest::Approx(400e9).epsilon(0.005));
    CHECK(active_parameters(m) == doctest::Approx(17e9).epsilon(0.015));
  }
  SUBCASE("DeepSeek-V3.2: V3 and an indexer in each of its 61 layers") {
    // index_q 1,536 x 64 x 128, index_k 7,168 x 128, weights 7,168 x 64, the key's LayerNorm 2 x 128
    const double indexer = 1536.0 * 64 * 128 + 7168.0 * 128 + 7168.0 * 64 + 2 * 128;
    const model_spec v32 = load("deepseek_v32"), v3 = load("deepseek_v3");
    CHECK(parameters(v32) == parameters(v3) + 61 * indexer);
    CHECK(parameters(v32) == 671'877'944'064.0);
    CHECK(active_parameters(v32) == active_parameters(v3) + 61 * indexer);
    // a decode step at 100,000 tokens: attention over the top 2,048 keys, the indexer over all
    const pass p = decode_pass({.batch = 1, .prefill = 100'000, .generate = 1});
    const auto per_key = [](const op& o) { return o.work.value(); };
    CHECK(per_key(test::find_op(v32, p, "attention")) ==
          doctest::Approx(per_key(test::find_op(v3, p, "attention")) * 2048 / 100'001).epsilon(1e-12));
    CHECK(test::find_op(v32, p, "indexer").work.value() ==
          doctest::Approx(100'001.0 * 64 * 258).epsilon(1e-12));
  }
  SUBCASE("GLM-5: its 78 MLA layers each with an indexer of 32 heads of 128") {
    // index_q 2,048 x 32 x 128, index_k 6,144 x 128, weights 6,144 x 32, the key's LayerNorm 2 x 128
    const double indexer = 2048.0 * 32 * 128 + 6144.0 * 128 + 6144.0 * 32 + 2 * 128;
    CHECK(indexer == 9'371'904);
    const model_spec m = load("glm5");
    CHECK(parameters(m) == 743'911'218'432.0);  // published "744B" total, "40B" active (Z.ai)
    CHECK(parameters(m) == doctest::Approx(744e9).epsilon(0.001));
    const pass p = decode_pass({.batch = 1, .prefill = 100'000, .generate = 1});
    CHECK(test::find_op(m, p, "indexer").work.value() ==
          doctest::Approx(100'001.0 * 32 * 258).epsilon(1e-12));
  }
  SUBCASE("Gemma 4 31B: the checkpoint's 31,273,088,876 from its weights, by hand") {
    // sliding layer: q 5,376 x 8,192, k and v 5,376 x 4,096, o 8,192 x 5,376, q and k norms of 256;
    // global layer: q 5,376 x 16,384, k 5,376 x 2,048 and no v (k_eq_v), o 16,384 x 5,376, norms of
    // 512; both: GeGLU 3 x 5,376 x 21,504 and four norms of 5,376
    const double mlp = 3 * 5376.0 * 21504 + 4 * 5376;
    const double sliding = 5376.0 * 8192 * 2 + 5376.0 * 4096 * 2 + 2 * 256 + mlp;
    const double global = 5376.0 * 16384 * 2 + 5376.0 * 2048 + 2 * 512 + mlp;
    const model_spec m = load("gemma4_31b");
    CHECK(parameters(m) == 50 * sliding + 10 * global + 262'144.0 * 5376 + 5376);
    CHECK(parameters(m) == 30'697'345'280.0);
    // the checkpoint (its safetensors, 31,273,088,876) adds 60 layer_scalar values and the vision
    // tower: 27 layers of 4 x 1,152^2 + 3 x 1,152 x 4,304 + 4 x 1,152 + 2 x 72, the patch
    // projection 768 x 1,152, the position table 2 x 10,240 x 1,152, two standardising vectors of
    // 1,152, and the projection 1,152 x 5,376 into the text model
    const double vision = 27 * (4 * 1152.0 * 1152 + 3 * 1152.0 * 4304 + 4 * 1152 + 2 * 72) + 768 * 1152.0 +
                          2 * 10240 * 1152.0 + 2 * 1152 + 1152 * 5376.0;
    CHECK(parameters(m) + 60 + vision == 31'273'088'876.0);
    CHECK(vision_parameters(m) == vision);  // the spec's vision block
    // KV cache at 100,000 tokens: 50 sliding layers hold 1,024 tokens of 16 x 256 keys and values,
    // 10 global layers 100,001 tokens of 4 x 512 keys and values
    const double kv = memory_footprint(m, {.batch = 1, .prefill = 100'000, .generate = 1}).kv_cache.value();
    CHECK(kv == (50 * 1024 * 16 * 256 + 10 * 100'001.0 * 4 * 512) * 2 * 2);
  }
  SUBCASE("Gemma 4 26B-A4B: 128 experts of 704 beside a 2,112 MLP in each of 30 layers") {
    const double mlp = 3 * 2816.0 * 2112 + 4 * 2816, expert = 3 * 2816.0 * 704, router = 2816.0 * 128;
    const double sliding = 2816.0 * 4096 * 2 + 2816.0 * 2048 * 2 + 2 * 256 + mlp + router;
    const double global = 2816.0 * 8192 * 2 + 2816.0 * 1024 + 2 * 512 + mlp + router;
    const double ends = 262'144.0 * 2816 + 2816;
    const model_spec m = load("gemma4_26b_a4b");
    CHECK(parameters(m) == 25 * sliding + 5 * global + 30 * 128 * expert + ends);
    CHECK(parameters(m) == 25'232'800'000.0);
    CHECK(active_parameters(m) == 25 * sliding + 5 * global + 30 * 8 * expert + ends);
    CHECK(active_parameters(m) == 3'822'188'800.0);
    // published (model card): 25.2B total, 3.8B active
    CHECK(parameters(m) == doctest::Approx(25.2e9).epsilon(0.002));
    CHECK(active_parameters(m) == doctest::Approx(3.8e9).epsilon(0.01));
  }
  SUBCASE("Gemma 3 1B: 26 layers, tied vocabulary") {
    // q 1152 x 1024, k and v 1152 x 256, o 1024 x 1152; QK-norms 2 x 256; GeGLU 3 x 1152 x 6912;
    // four norms of 1152 (pre and post, attention and MLP); embedding 262,144 x 1152; final norm
    const double layer = 1152.0 * 1536 + 1024 * 1152 + 512 + 3 * 1152.0 * 6912 + 4 * 1152;
    CHECK(parameters(load("gemma3_1b")) == 26 * layer + 262'144.0 * 1152 + 1152);
    CHECK(parameters(load("gemma3_1b")) == 999'885'952.0);
  }
}

TEST_CASE("a multi-head latent attention layer is counted as worked out by hand") {
  // d 8, 2 heads, q_rank 4, kv_rank 4, nope 2, rope 2, v 3
  const model_spec m = test::one_mixer(
      8, 32, mla_mixer{.n_heads = 2, .q_rank = 4, .kv_rank = 4, .nope_dim = 2, .rope_dim = 2, .v_dim = 3});
  SUBCASE("parameters") {
    // q_a 8 x 4, q_b 4 x 2 x 4, kv_a 8 x 6, kv_b 4 x 2 x 5, o 6 x 8 = 32 + 32 + 48 + 40 + 48;
    // norms of q (4) and the latent (4), and the layer's pre-norm 8
    test::check_layer_params(m, 200, 16);
  }
  SUBCASE("prefill: decompressed keys and values, multi-head attention of d_qk 4 and d_v 3") {
    const pass p = prefill_pass({.batch = 1, .prefill = 4, .generate = 1});
    const op att = test::find_op(m, p, "attention");
    CHECK(att.work.value() == approx(0.65 * 16 * 2 * 2 * (4 + 3 + 2.5)));
    CHECK(att.moved.kv_cache.value() == 4 * 6 * 2);  // the latent and RoPE key of 4 tokens written
    CHECK(test::find_op(m, p, "kv_b_proj").work.value() == 2 * 4 * 4 * 10);
    CHECK_FALSE(has_op(m, p, "q_absorb"));
  }
  SUBCASE("decode: absorbed, one latent head read once for all query heads") {
    const pass p = decode_pass({.batch = 1, .prefill = 4, .generate = 1});
    const op att = test::find_op(m, p, "attention");
    // 5 keys x 2 heads x 2 (d_qk 6 + d_v 4 + 5/2)
    CHECK(att.work.value() == approx(5 * 2 * 2 * 12.5));
    CHECK(att.moved.kv_cache.value() == 5 * 6 * 2);  // 4 cached + 1 written, (4 + 2) x 2 B
    CHECK(att.parallel == 1);                        // one sequence, one group of up to 64 heads
    CHECK(att.split_steps);
    CHECK(test::find_op(m, p, "q_absorb").work.value() == 2 * 2 * 2 * 4);  // B H nope kv_rank
    CHECK(test::find_op(m, p, "v_absorb").work.value() == 2 * 2 * 4 * 3);  // B H kv_rank v
    CHECK_FALSE(has_op(m, p, "kv_b_proj"));
  }
  SUBCASE("the cache: the latent and the RoPE key per token") {
    CHECK(memory_footprint(m, {.batch = 3, .prefill = 4, .generate = 1}).kv_cache.value() == 3 * 5 * 6 * 2);
  }
}

TEST_CASE("DeepSeek Sparse Attention: the indexer over every key, MLA over the top k, by hand") {
  // the MLA of the test above (d 8, 2 heads, q_rank 4, kv_rank 4, nope 2, rope 2, v 3) with an
  // indexer of 2 heads of 4 that keeps the best 3 keys per query
  const model_spec m = test::one_mixer(8, 32,
                                       mla_mixer{.n_heads = 2,
                                                 .q_rank = 4,
                                                 .kv_rank = 4,
                                                 .nope_dim = 2,
                                                 .rope_dim = 2,
                                                 .v_dim = 3,
                                                 .index_heads = 2,
                                                 .index_head_dim = 4,
                                                 .index_topk = 3});
  SUBCASE("parameters: the MLA's 200 + index_q 4 x 8, index_k 8 x 4, weights 8 x 2; the key norm 2 x 4") {
    test::check_layer_params(m, 200 + 32 + 32 + 16, 16 + 8);
  }
  SUBCASE("prefill of 5 tokens") {
    const pass p = prefill_pass({.batch = 1, .prefill = 5, .generate = 1});
    // indexer: 0.65 x 5^2 causal pairs x 2 heads x (2 x 4 + 2); its fp32 scores written and read
    const op idx = test::find_op(m, p, "indexer");
    CHECK(idx.work.value() == approx(16.25 * 2 * 10));
    CHECK(idx.moved.kv_cache.value() == 5 * 8);  // 5 index keys written, 4 fp8 values + an fp32 scale
    CHECK(test::find_op(m, p, "index_topk").work.value() == approx(16.25));
    // attention: queries see 1, 2, 3, 3, 3 keys (12), absorbed, per key 2 x 2 (6 + 4 + 2.5)
    const op att = test::find_op(m, p, "attention");
    CHECK(detail::sparse_keys(5, 0, 3) == 12);
    CHECK(att.work.value() == approx(12 * 50));
    CHECK(att.moved.kv_cache.value() == (5 + 12) * 6 * 2);  // latents written, the selected ones read
    CHECK_FALSE(has_op(m, p, "kv_b_proj"));                 // no decompression: the absorbed form
    CHECK(has_op(m, p, "q_absorb"));
  }
  SUBCASE("a chunk of 4 after 2 cached: queries see 3 keys each") {
    CHECK(detail::sparse_keys(4, 2, 3) == 12);
    CHECK(detail::sparse_keys(4, 0, 10) == 1 + 2 + 3 + 4);
  }
  SUBCASE("decode after 5 tokens: the indexer scores 6 keys, attention reads 3") {
    const pass p = decode_pass({.batch = 1, .prefill = 5, .generate = 1});
    CHECK(test::find_op(m, p, "indexer").work.value() == approx(6 * 2 * 10));
    CHECK(test::find_op(m, p, "indexer").moved.kv_cache.value() == 6 * 8);  // 5 read, 1 written
    const op att = test::find_op(m, p, "attention");
    CHECK(att.work.value() == approx(3 * 50));
    CHECK(att.moved.kv_cache.value() == 3 * 6 * 2);
  }
  SUBCASE("the cache: latent, RoPE key and index key per token") {
    CHECK(memory_footprint(m, {.batch = 2, .prefill = 4, .generate = 1}).kv_cache.value() ==
          2 * 5 * (12 + 8));
  }
}

TEST_CASE("a Mamba-2 layer is counted as worked out by hand") {
  // d 4, expand 2: d_inner 8 in 2 heads of 4, state 2, 1 group, conv 2, chunks of 2
  const model_spec m = test::one_mixer(
      4, 16,
      mamba2_mixer{.d_state = 2, .d_conv = 2, .expand = 2, .head_dim = 4, .n_groups = 1, .chunk_size = 2});
  SUBCASE("parameters") {
    // in_proj 4 x (16 + 4 + 2) = 88, out_proj 8 x 4 = 32; conv (8 + 4) x (2 + 1) = 36, dt bias, A, D
    // 2 each, gated norm 8, pre-norm 4
    test::check_layer_params(m, 120, 36 + 6 + 8 + 4);
  }
  SUBCASE("the chunked prefill") {
    // per chunk (Q 2, P 4, N 2, c 0.75): group c 2 Q^2 N = 12; per head c Q^2 (2P + 2 + exp) = 33,
    // 4 Q N P = 64, 4 Q P = 32, 2 N P = 16, exp 1, Q (3 + exp + log) = 10: 156; 12 + 2 x 156 = 324
    const op ssd = test::find_op(m, prefill_pass({.batch = 1, .prefill = 4, .generate = 1}), "ssd");
    CHECK(ssd.cls == op_class::recurrent);
    CHECK(ssd.work.value() == approx(2 * 324));
    CHECK(ssd.moved.state.value() == 2 * 2 * 2 * 4 * 2 * 4);  // each chunk's state written and read, fp32
    CHECK(ssd.parallel == 2);
    CHECK(ssd.item_steps == 2);
  }
  SUBCASE("a recurrent step") {
    // per head 3 + 2 exp + log + 5 N P + 3 P = 6 + 40 + 12
    const op ssd = test::find_op(m, decode_pass({.batch = 1, .prefill = 4, .generate = 1}), "ssd");
    CHECK(ssd.cls == op_class::recurrent_step);
    CHECK(ssd.work.value() == approx(2 * 58));
    CHECK(ssd.moved.state.value() == 2 * 2 * 4 * 2 * 4);
    // the conv window: 12 channels x (2 - 1) read and written, bf16
    CHECK(test::find_op(m, decode_pass({.batch = 1, .prefill = 4, .generate = 1}), "conv1d")
              .moved.state.value() == 2 * 12 * 2);
  }
  SUBCASE("state held: H P N x 4 B + the conv window, independent of context") {
    CHECK(memory_footprint(m, {.batch = 1, .prefill = 4, .generate = 1}).state.value() == 64 + 24);
    CHECK(memory_footprint(m, {.batch = 1, .prefill = 4000, .generate = 100}).state.value() == 64 + 24);
    CHECK(memory_footprint(m, {.batch = 1, .prefill = 4000, .generate = 100}).kv_cache.value() == 0);
  }
}

TEST_CASE("a Mamba-1 layer is counted as worked out by hand") {
  // d 4, expand 2: d_inner 8, state 2, conv 2, dt_rank 1, Jamba's inner norms
  const model_spec m = test::one_mixer(4, 16,
                                       mamba1_mixer{.d_state = 2,
                                                    .d_conv = 2,
                                                    .expand = 2,
                                                    .dt_rank = 1,
                                                    .conv_bias = true,
                                                    .proj_bias = false,
                                                    .inner_norms = true});
  // in_proj 4 x 16, x_proj 8 x 5, dt_proj 1 x 8, out_proj 8 x 4; conv 8 x 3, dt bias 8, A 8 x 2, D 8,
  // inner norms 1 + 2 x 2, pre-norm 4
  test::check_layer_params(m, 64 + 40 + 8 + 32, 24 + 8 + 16 + 8 + 5 + 4);
  // per token and channel: N (7 + exp) + (1 + exp + log) + 2 + (swish + 1) = 16 + 3 + 2 + 2 = 23
  const op scan = test::find_op(m, prefill_pass({.batch = 1, .prefill = 3, .generate = 1}), "selective_scan");
  CHECK(scan.cls == op_class::vector);
  CHECK(scan.work.value() == 3 * 8 * 23);
  CHECK(test::find_op(m, decode_pass({.batch = 1, .prefill = 3, .generate = 1}), "selective_scan")
            .moved.state.value() == 2 * 8 * 2 * 4);
}

TEST_CASE("a Gated DeltaNet layer is counted as worked out by hand") {
  // d 4, 1 key head and 2 value heads of 2, conv 2, chunks of 2
  const model_spec m = test::one_mixer(
      4, 16,
      deltanet_mixer{
          .n_k_heads = 1, .n_v_heads = 2, .k_head_dim = 2, .v_head_dim = 2, .conv_size = 2, .chunk_size = 2});
  // in_proj_qkvz 4 x (4 + 8), in_proj_ba 4 x 4, out_proj 4 x 4; conv (2 + 2 + 4) x 2, dt bias and A 2 each,
  // the norm 2, pre-norm 4
  test::check_layer_params(m, 48 + 16 + 16, 16 + 4 + 2 + 4);
  // per chunk and value head (C 2, d_k 2, d_v 2, c 0.75): 6 + 12 + 8/3 + 32 + 48 + 4 + 4 + 24 + 36
  const op rule = test::find_op(m, prefill_pass({.batch = 1, .prefill = 4, .generate = 1}), "delta_rule");
  CHECK(rule.work.value() == approx(2 * 2 * (170 + 8.0 / 3 - 4)));
  // per value head 7 d_k d_v + 2 d_v + 1 + 2 d_k norm + sigmoid + 3 + exp + log = 28 + 4 + 1 + 12 + 6
  const op step = test::find_op(m, decode_pass({.batch = 1, .prefill = 4, .generate = 1}), "delta_rule");
  CHECK(step.work.value() == 2 * 51);
  CHECK(step.moved.state.value() == 2 * 2 * 2 * 2 * 4);
  CHECK(memory_footprint(m, {.batch = 1, .prefill = 9, .generate = 9}).state.value() ==
        2 * 2 * 2 * 4 + 8 * 1 * 2);
}

TEST_CASE("a mixture of experts reads the experts its tokens touch") {
  // d 4, 4 experts of 3, 2 per token, one shared expert of 2; biases on experts and router
  const moe_channel x{.n_experts = 4,
                      .top_k = 2,
                      .expert_dim = 3,
                      .n_shared = 1,
                      .shared_dim = 2,
                      .expert_bias = true,
                      .router_bias = true};
  const model_spec m =
      test::stack("tiny", 4, 16, attention_mixer{.n_heads = 1, .n_kv_heads = 1, .head_dim = 4}, x, 1);
  SUBCASE("distinct experts: k at one token, all E in the limit, E (1 - (1 - k/E)^n) between") {
    CHECK(distinct_experts(x, 1) == approx(2));
    CHECK(distinct_experts(x, 3) == approx(4 * (1 - 0.125)));
    CHECK(distinct_experts(x, 1e6) == approx(4));
    moe_channel skewed = x;
    skewed.load_imbalance = 2;  // a hot half: still k at one token, at most E / 2
    CHECK(distinct_experts(skewed, 1) == approx(2));
    CHECK(distinct_experts(skewed, 1e6) == approx(2));
  }
  SUBCASE("parameters, total and active") {
    // router 4 x 4 (+ 4 bias); experts 4 x 3 x 4 x 3 = 144 (+ 4 x (6 + 4) biases); shared 3 x 4 x 2
    const param_count p = layer_params(m, m.kinds[0]);
    CHECK(p[weight_kind::router] == 16);
    CHECK(p[weight_kind::experts] == 144);
    CHECK(p[weight_kind::shared_experts] == 24);
    CHECK(p.inactive == 2 * (36 + 10));
    CHECK(active_parameters(m) == parameters(m) - 92);
  }
  SUBCASE("one token reads k experts, as grouped GEMMs of one row each") {
    const op up = test::find_op(m, decode_pass({.batch = 1, .prefill = 4, .generate = 1}), "experts_gate_up");
    CHECK(up.work.value() == 2 * 2 * 4 * 6 + 2 * 6);             // 2 rows through d -> 2f, + bias
    CHECK(up.moved.weights.value() == 2 * (4 * 6 * 2 + 6 * 2));  // 2 experts' matrices and biases
    CHECK(up.gemm.groups == approx(2));
    CHECK(up.gemm.m == approx(1));
  }
  SUBCASE("three tokens touch 3.5 experts in expectation") {
    const op down = test::find_op(m, prefill_pass({.batch = 1, .prefill = 3, .generate = 1}), "experts_down");
    CHECK(down.work.value() == 2 * 6 * 3 * 4 + 6 * 4);
    CHECK(down.moved.weights.value() == approx(3.5 * (3 * 4 * 2 + 4 * 2)));
    CHECK(down.gemm.m == approx(6 / 3.5));
    CHECK(test::find_op(m, prefill_pass({.batch = 1, .prefill = 3, .generate = 1}), "shared_gate_up")
              .work.value() == 2 * 3 * 4 * 4);
  }
}

TEST_CASE("GPT-2's plain MLP, LayerNorm, biases and learned positions are counted") {
  model_spec m = test::stack(
      "tiny", 4, 10,
      attention_mixer{.n_heads = 2, .n_kv_heads = 2, .head_dim = 2, .qkv_bias = true, .out_bias = true},
      mlp_channel{.ffn_dim = 8, .gated = false, .activation = activation::gelu, .bias = true}, 1);
  m.norm = norm_kind::layer;
  m.learned_positions = 16;
  m.tied_embeddings = true;
  // embedding 10 x 4 + positions 16 x 4; final LayerNorm 8; layer: attention 4 x 12 + 4 x 4 with
  // biases 12 + 4, MLP 2 x 4 x 8 with biases 8 + 4, two LayerNorms 2 x 8
  CHECK(parameters(m) == 104 + 8 + 64 + 16 + 64 + 12 + 16);
  const pass p = prefill_pass({.batch = 1, .prefill = 3, .generate = 1});
  CHECK(test::find_op(m, p, "ffn_gate_up").work.value() == 2 * 3 * 4 * 8 + 3 * 8);  // up d -> f with bias
  CHECK(test::find_op(m, p, "ffn_act").work.value() == 3 * 8);                      // GELU, no gate product
  CHECK(test::find_op(m, p, "position_embedding").work.value() == 3 * 4);
  CHECK(test::find_op(m, p, "attn_norm").moved.weights.value() == 8 * 2);  // scale and bias
}

TEST_CASE("storage formats count their block scales; compute formats pick the peak") {
  CHECK(parse_format("mxfp4")->bytes_per_element() == 0.53125);  // 4 bits + 8 per 32
  CHECK(parse_format("nvfp4")->bytes_per_element() == 0.5625);   // 4 bits + 8 per 16
  CHECK(parse_format("fp8_block128")->bytes_per_element() == 1 + 4.0 / 16384);
  CHECK(parse_format("int4_g128")->bytes_per_element() == 0.5 + 2.5 / 128);
  const model_spec oss = load_model(test::source_dir + "/model_specs/gpt_oss_120b.yaml");
  // 36 x 128 experts x 3 x 2880 x 2880 = 114,661,785,600 expert weights at 4.25 bits, the other
  // 2,167,371,072 parameters (biases of the experts among them) in bf16
  CHECK(weight_bytes(oss) == approx(114'661'785'600.0 * 0.53125 + 2'167'371'072.0 * 2));
  const hardware h100 = test::h100_calibrated();
  SUBCASE("weight-only fp4 runs the bf16 units; fp4 compute needs fp4 units") {
    CHECK(estimate(oss, h100, {.batch = 1, .prefill = 128, .generate = 8}).ttft.value() > 0);
    model_spec fp4 = oss;
    fp4.dtypes.kinds[std::size_t(weight_kind::experts)] = weight_format{*parse_format("mxfp4"), dtype::fp4};
    CHECK_THROWS_WITH_AS(
        estimate(fp4, h100, {.batch = 1, .prefill = 128, .generate = 8}),
        (test::source_dir + "/hw_profiles/h100_sxm.yaml: no matrix peak for fp4: NVIDIA H100 SXM5 80GB "
                            "has no fp4 tensor units, and model 'gpt_oss_120b' computes its experts "
                            "weights in fp4; use weight-only mxfp4 with bf16 compute ('dtypes.experts: "
                            "{storage: mxfp4, compute: bf16}') or add 'matrix_tflops.fp4'")
            .c_str(),
        input_error);
    CHECK(estimate(fp4, test::shipped("b200", "datasheet"), {.batch = 1, .prefill = 128, .generate = 8})
              .ttft.value() > 0);
  }
  SUBCASE("an fp8 KV cache halves the cache") {
    model_spec m = load_model(test::source_dir + "/model_specs/llama3.1_8b.yaml");
    const double bf16 = memory_footprint(m, {.batch = 1, .prefill = 1000, .generate = 24}).kv_cache.value();
    m.dtypes.kv_cache = plain(dtype::fp8);
    CHECK(memory_footprint(m, {.batch = 1, .prefill = 1000, .generate = 24}).kv_cache.value() == bf16 / 2);
    CHECK(bf16 == 1024.0 * 32 * 8 * 256 * 2);
  }
}

TEST_CASE("the released models' parameters equal their published totals") {
  struct published {
    const char* file;
    double total, active;
  };
  // Totals of the released checkpoints (safetensors metadata, model cards); DeepSeek-V3 without its
  // multi-token-prediction module, as its 671B; those counted from the config say so in the spec.
  for (const published& p : {published{"llama3.1_8b", 8'030'261'248, 0},
                             {"llama3.1_70b", 70'553'706'496, 0},
                             {"llama3.1_405b", 405'853'388'800, 0},
                             {"qwen2.5_72b", 72'706'203'648, 0},
                             {"qwen3_8b", 8'190'735'360, 0},
                             {"qwen3_32b", 32'762'123'264, 0},
                             {"qwen3_30b_a3b", 30'532'122'624, 3'353'032'704},
                             {"qwen3_235b_a22b", 235'093'634'560, 22'190'763'520},
                             {"mistral_7b_v0.3", 7'248'023'552, 0},
                             {"mixtral_8x7b", 46'702'792'704, 12'879'925'248},
                             {"deepseek_v3", 671'026'419'200, 37'552'297'472},
                             {"gpt_oss_120b", 116'829'156'672, 5'711'982'912},
                             {"gemma2_9b", 9'241'705'984, 0},
                             {"phi3_mini", 3'821'079'552, 0},
                             {"gpt2", 124'439'808, 0},
                             {"mamba2_2.7b", 2'702'599'680, 0},
                             {"xlstm_7b", 6'865'424'896, 0}}) {
    CAPTURE(p.file);
    const model_spec m = load_model(test::source_dir + "/model_specs/" + p.file + ".yaml");
    CHECK(parameters(m) == p.total);
    CHECK(active_parameters(m) == (p.active > 0 ? p.active : p.total));
  }
  SUBCASE("the models whose totals are published only rounded") {
    // Jamba 1.5 Mini "52B total, 12B active" (AI21); Qwen3-Next "80B, 3B active" (its checkpoint's 81.3B
    // holds the MTP layer too); Gemma 3 27B's text model without its 0.4B vision tower.
    const model_spec jamba = load_model(test::source_dir + "/model_specs/jamba1.5_mini.yaml");
    CHECK(parameters(jamba) == doctest::Approx(51.6e9).epsilon(0.002));
    CHECK(active_parameters(jamba) == doctest::Approx(12.1e9).epsilon(0.002));
    const model_spec next = load_model(test::source_dir + "/model_specs/qwen3_next_80b_a3b.yaml");
    CHECK(parameters(next) == doctest::Approx(79.7e9).epsilon(0.001));
    CHECK(active_parameters(next) - 2 * 151936.0 * 2048 == doctest::Approx(3.25e9).epsilon(0.01));
    CHECK(parameters(load_model(test::source_dir + "/model_specs/gemma3_27b.yaml")) ==
          doctest::Approx(27.0e9).epsilon(0.001));
  }
}

TEST_CASE("KV caches at long contexts: windows, latents") {
  const hardware h100 = test::h100_calibrated();
  const auto kv = [&](const char* file, std::int64_t tokens) {
    const model_spec m = load_model(test::source_dir + "/model_specs/" + file + ".yaml");
    return estimate(m, h100, {.batch = 1, .prefill = tokens - 256, .generate = 256}).memory.kv_cache.value();
  };
  // Gemma 3 27B: 10 global layers x 131,072 tokens + 52 local x 1,024, x 16 KV heads x 2 x 128 x 2 B
  CHECK(kv("gemma3_27b", 131072) == (10 * 131072.0 + 52 * 1024.0) * 16 * 2 * 128 * 2);
  CHECK(kv("gemma3_27b", 131072) == 11'173'625'856.0);
  // gpt-oss-120b: 18 full layers x 131,072 + 18 with a 128-token window, x 8 x 2 x 64 x 2 B
  CHECK(kv("gpt_oss_120b", 131072) == 4'836'556'800.0);
  // DeepSeek-V3 at 32,768 tokens: 61 layers x (512 + 64) x 2 B
  CHECK(kv("deepseek_v3", 32768) == 61.0 * 576 * 2 * 32768);
  CHECK(kv("deepseek_v3", 32768) == 2'302'672'896.0);
}

TEST_CASE("gpt-oss-120b fits on one H100 in its released formats; Llama-3.1-70B in bf16 does not") {
  const hardware h100 = test::h100_calibrated();
  const workload w{.batch = 1, .prefill = 4096, .generate = 256};
  const estimate_result oss =
      estimate(load_model(test::source_dir + "/model_specs/gpt_oss_120b.yaml"), h100, w);
  CHECK(oss.fits);
  CHECK(oss.memory.weights.value() < 66e9);  // 60.9 GB of MXFP4 experts + 4.3 GB in bf16
  const estimate_result llama =
      estimate(load_model(test::source_dir + "/model_specs/llama3.1_70b.yaml"), h100, w);
  CHECK_FALSE(llama.fits);
  CHECK(llama.memory.weights.value() == 70'553'706'496.0 * 2);
  // Mixtral's 46.7B parameters in bf16 (93.4 GB) do not fit either, whatever its 12.9B active
  CHECK_FALSE(estimate(load_model(test::source_dir + "/model_specs/mixtral_8x7b.yaml"), h100, w).fits);
}

TEST_CASE("layer patterns place every layer kind where the model has it") {
  const model_spec gemma = load_model(test::source_dir + "/model_specs/gemma3_27b.yaml");
  REQUIRE(n_layers(gemma) == 62);
  int global = 0;
  for (int i = 0; i < 62; ++i) {
    const bool is_global = gemma.kinds[std::size_t(gemma.layers[std::size_t(i)])].mixer_name == "global";
    CHECK(is_global == ((i + 1) % 6 == 0));
    global += is_global;
  }
  CHECK(global == 10);
  const model_spec jamba = load_model(test::source_dir + "/model_specs/jamba1.5_mini.yaml");
  for (int i = 0; i < 32; ++i) {
    const layer_kind& k = jamba.kinds[std::size_t(jamba.layers[std::size_t(i)])];
    CAPTURE(i);
    CHECK((k.mixer_name == "attention") == (i % 8 == 4));
    CHECK((k.channel_name == "moe") == (i % 2 == 1));
  }
  // identical layers are one kind, counted once: Mamba with an MLP or MoE, attention (at even
  // layers 4, 12, 20, 28) only with an MLP
  CHECK(jamba.kinds.size() == 3);
  CHECK(family(jamba) == architecture::hybrid);
  const model_spec ds = load_model(test::source_dir + "/model_specs/deepseek_v3.yaml");
  CHECK(layer_count(ds, 0) == 3);
  CHECK(layer_count(ds, 1) == 58);
}

TEST_CASE("each HuggingFace config imports to the spec shipped for it: the same estimate") {
  const hardware h100 = test::h100_calibrated();
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::test_dir + "/data/hf_configs")) {
    if (e.path().extension() != ".json") continue;
    const std::string name = e.path().stem().string();
    CAPTURE(name);
    const model_spec imported = load_model(e.path().string());
    const model_spec spec = load_model(test::source_dir + "/model_specs/" + name + ".yaml");
    CHECK(parameters(imported) == parameters(spec));
    CHECK(active_parameters(imported) == active_parameters(spec));
    CHECK(n_layers(imported) == n_layers(spec));
    CHECK(imported.max_context == spec.max_context);
    for (const workload& w : {workload{.batch = 1, .prefill = 512, .generate = 64},
                              workload{.batch = 16, .prefill = 700, .generate = 300}}) {
      const estimate_result a = estimate(imported, h100, w), b = estimate(spec, h100, w);
      CHECK(a.ttft.value() == approx(b.ttft.value()));
      CHECK(a.step_time.value() == approx(b.step_time.value()));
      CHECK(a.memory.total().value() == approx(b.memory.total().value()));
      CHECK(a.prefill.work.value() == approx(b.prefill.work.value()));
      CHECK(a.decode.moved.total().value() == approx(b.decode.moved.total().value()));
    }
    // the printed spec reads back to the same model
    const model_spec again = parse_model(import_hf(read_text(e.path().string()), e.path().string()), "again");
    CHECK(parameters(again) == parameters(spec));
    ++checked;
  }
  CHECK(checked == 26);
}
