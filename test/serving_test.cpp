// Serving: the mixed iteration of continuous batching, the steady state, KV memory, the
// disaggregated KV transfer, measured runs read and mapped. Expected values are worked by hand
// from the published configs and the parts' datasheets.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "helpers.hpp"
#include "roofline/fit/engine_runs.hpp"
#include "roofline/io/io.hpp"
#include "roofline/report/report.hpp"
#include "roofline/serving/deploy.hpp"
#include "roofline/serving/serving.hpp"

using namespace roofline;

namespace {

model_spec spec(const std::string& name) {
  return load_model(test::source_dir + "/model_specs/" + name + ".yaml");
}

// The H100 SXM under the pure roofline with serving parameters set by hand: 8,192 tokens an
// iteration, 256 requests, 0.9 of memory, 32-token pages reserved at the final length, 0.1 ms
// an iteration, no other waits.
hardware h100() {
  hardware hw = test::h100_roofline();
  hw.timing.serving = {.stated = true,
                       .max_batch_tokens = 8192,
                       .max_batch = 256,
                       .memory_fraction = 0.9,
                       .block_tokens = 32,
                       .reserve_final_length = true,
                       .iteration_overhead = 0.1e-3 * second,
                       .request_overhead = 0 * second,
                       .admission_wait = 0,
                       .queued_requests = 0,
                       .burst = 0};
  return hw;
}

// Llama-3.1-8B (model_specs/llama3.1_8b.yaml): 8,030,261,248 parameters in bf16; KV cache per
// token 32 layers x 8 KV heads x 128 x 2 (k, v) x 2 bytes = 131,072 B.
constexpr double llama8_weights = 8'030'261'248.0 * 2, llama8_kv_token = 131072;

}  // namespace

TEST_CASE("a prefill chunk after cached tokens counts the cached keys it reads") {
  // T = 4 new tokens after Q = 6 cached, causal factor 0.5: own triangle 0.5 x 16 = 8, and each
  // of the 4 queries sees all 6 cached keys: 24; 32 in all.
  CHECK(detail::chunk_scores(4, 6, 0, 0.5) == doctest::Approx(32).epsilon(1e-12));
  // With a window of 8: query i (position 6 + i) sees min(7 + i, 8) keys, of which 6, 6, 5, 4
  // are cached: 21, plus the own triangle's 8: 29.
  CHECK(detail::chunk_scores(4, 6, 8, 0.5) == doctest::Approx(29).epsilon(1e-12));
  // Q = 0 is the whole-prompt count.
  CHECK(detail::chunk_scores(100, 0, 0, 0.65) == doctest::Approx(0.65 * 100 * 100).epsilon(1e-12));
  // An attention layer's chunk reads the cache of its Q tokens: Llama-3.1-8B, 1 sequence, 512
  // new tokens after 1,024: k and v written for 512 tokens and read for 1,024, 8 KV heads x 128
  // x 2 x 2 B = 4,096 B a token and layer.
  const model_spec m = spec("llama3.1_8b");
  const op a = test::find_op(m, pass{phase::prefill, 1, 512, 1024, 1}, "attention");
  CHECK(a.moved.kv_cache.value() == doctest::Approx((512 + 1024) * 4096.0).epsilon(1e-12));
  CHECK(a.item_steps == doctest::Approx(1536).epsilon(1e-12));
}

TEST_CASE("a mixed iteration reads each weight once and adds the FLOPs of both passes") {
  const model_spec m = spec("llama3.1_8b");
  const hardware hw = h100();
  const pass pf{phase::prefill, 1, 512, 0, 1}, dc{phase::decode, 8, 1, 1024, 64};
  const phase_estimate p = estimate_pass(m, hw, pf, overlap::perfect),
                       d = estimate_pass(m, hw, dc, overlap::perfect);
  const phase_estimate x = estimate_mixed(m, hw, pf, dc, overlap::perfect);
  // A dense model: every GEMM of both passes is merged, so the weights are the prefill's alone
  // (the decode pass reads the same 15.01 GB: every weight but the embedding table, whose rows
  // a gather reads, 128,256 x 4,096 x 2 B), and every FLOP of both passes is counted.
  CHECK(x.moved.weights.value() == doctest::Approx(p.moved.weights.value()).epsilon(1e-12));
  CHECK(p.moved.weights.value() == doctest::Approx(llama8_weights - 128256.0 * 4096 * 2).epsilon(1e-9));
  CHECK(x.work.value() == doctest::Approx(p.work.value() + d.work.value()).epsilon(1e-12));
  CHECK(x.moved.kv_cache.value() ==
        doctest::Approx(p.moved.kv_cache.value() + d.moved.kv_cache.value()).epsilon(1e-12));
  // so the iteration costs less than the two passes apart, by about one read of the weights
  const double weights_s = llama8_weights / 3.35e12;
  CHECK(x.time.value() < p.time.value() + d.time.value());
  CHECK(p.time.value() + d.time.value() - x.time.value() > 0.5 * weights_s);
  // an empty side is the other pass alone
  CHECK(estimate_mixed(m, hw, pass{phase::prefill, 0, 512, 0, 1}, dc, overlap::perfect).time.value() ==
        doctest::Approx(d.time.value()).epsilon(1e-15));
}

TEST_CASE(
    "one request alone: TTFT is its prefill, TPOT a step at batch 1, each with the iteration overhead") {
  const model_spec m = spec("llama3.1_8b");
  const hardware hw = h100();
  const serving_workload s{.isl = 4096, .osl = 512, .concurrency = 1};
  const serving_result r = serve(m, hw, s);
  REQUIRE(r.fits);
  const double prefill =
      estimate_pass(m, hw, pass{phase::prefill, 1, 4096, 0, 1}, hw.timing.overlap).time.value();
  const double step =
      estimate_pass(m, hw, pass{phase::decode, 1, 1, 4096, 511}, hw.timing.overlap).time.value();
  CHECK(r.ttft.value() == doctest::Approx(prefill + 0.1e-3).epsilon(1e-12));
  CHECK(r.tpot.value() == doctest::Approx(step + 0.1e-3).epsilon(1e-12));
  // The step is the weights and the mean cache, 4,096 + 255 tokens, read at 3.35 TB/s: 4.965 ms.
  CHECK(step == doctest::Approx((llama8_weights + 4351 * llama8_kv_token) / 3.35e12).epsilon(0.01));
  // The prefill: at least the GEMMs of the layers, 2 x (8.03e9 - 2 x 525,336,576 of the
  // embedding and LM head) x 4,096 FLOPs at 989.4 TFLOP/s, 57.8 ms; at most twice that.
  const double gemms = 2 * (8'030'261'248.0 - 2 * 525'336'576.0) * 4096 / 989.4e12;
  CHECK(prefill > gemms);
  CHECK(prefill < 2 * gemms);
  CHECK(r.e2e.value() == doctest::Approx(r.ttft.value() + 511 * r.tpot.value()).epsilon(1e-12));
  CHECK(r.tokens_per_s_user == doctest::Approx(1 / r.tpot.value()).epsilon(1e-12));
  CHECK(r.tokens_per_s == doctest::Approx(512 / r.e2e.value()).epsilon(1e-12));
}

TEST_CASE("the steady state of 16 requests of 1,024 + 64 tokens") {
  // n = 16 run; n_d = 16 x 63 / 64 = 15.75 decode tokens leave C = 8,192 - 15.75 = 8,176.25;
  // a prompt takes k_p = ceil(1,024 / C) = 1 iteration; the 16,384 prompt tokens of a cycle fill
  // H = ceil(16,384 / C) = 3 mixed iterations of 5,461.3 tokens (5.33 prompts, so 10.67 decode
  // tokens); the cycle is Λ = max(63 + 1, 3) = 64 iterations; the 61 others decode
  // (16 x 63 - 3 x 10.67) / 61 = 16 tokens. A request sees H - k_p = 2 mixed iterations among
  // its 63 decode steps.
  const model_spec m = spec("llama3.1_8b");
  const hardware hw = h100();
  const serving_result r = serve(m, hw, serving_workload{.isl = 1024, .osl = 64, .concurrency = 16});
  const serving_iterations& it = r.iterations;
  CHECK(it.running == 16);
  CHECK(it.waiting == 0);
  CHECK(it.chunks == 1);
  CHECK(it.chunk == 1024);
  CHECK(it.cycle == 64);
  CHECK(it.mixed_share == doctest::Approx(3.0 / 64).epsilon(1e-12));
  CHECK(it.prefill_tokens == doctest::Approx(16384.0 / 3).epsilon(1e-12));
  CHECK(it.decoding_mixed == doctest::Approx(16 - 16.0 / 3).epsilon(1e-12));
  CHECK(it.decoding_light == doctest::Approx(16).epsilon(1e-12));
  CHECK(r.tpot.value() ==
        doctest::Approx((2 * it.mixed_time.value() + 61 * it.decode_time.value()) / 63).epsilon(1e-12));
  CHECK(r.ttft.value() == doctest::Approx(it.mixed_time.value()).epsilon(1e-12));
  // the light iteration is a decode step of 16 at the mean context, plus the overhead
  const double step =
      estimate_pass(m, hw, pass{phase::decode, 16, 1, 1024, 63}, hw.timing.overlap).time.value();
  CHECK(it.decode_time.value() == doctest::Approx(step + 0.1e-3).epsilon(1e-12));
  // a synchronised burst adds burst (H - k_p) / 2 mixed iterations to the TTFT
  hardware bursty = hw;
  bursty.timing.serving.burst = 1;
  const serving_result b = serve(m, bursty, serving_workload{.isl = 1024, .osl = 64, .concurrency = 16});
  CHECK(b.ttft.value() == doctest::Approx(2 * it.mixed_time.value()).epsilon(1e-12));
}

TEST_CASE("the KV cache bounds the concurrency a GPU admits") {
  // Llama-3.1-8B on an H100 SXM (80 GB), 0.9 of it: 72 GB, less the weights (16,060,522,496 B)
  // and the activations of an 8,192-token iteration: the residual stream and the MLP's normed
  // input and gate and up outputs, 8,192 x (4,096 + 4,096 + 2 x 14,336) x 2 B, and the logits of
  // one sequence, 128,256 x 2 B: 604,236,288 B. The pool: 55,335,241,216 B.
  const model_spec m = spec("llama3.1_8b");
  hardware hw = h100();
  const double pool = 72e9 - llama8_weights - (8192.0 * (4096 + 4096 + 2 * 14336) * 2 + 128256 * 2);
  const serving_result r = serve(m, hw, serving_workload{.isl = 4096, .osl = 512, .concurrency = 128});
  CHECK(r.memory.pool.value() == doctest::Approx(pool).epsilon(1e-9));
  // reserved at the final length: 4,608 tokens (144 pages of 32) x 131,072 B = 603,979,776 B;
  // 91 requests (91.6)
  CHECK(r.memory.per_request.value() == doctest::Approx(4608 * llama8_kv_token).epsilon(1e-12));
  CHECK(r.memory.admitted == 91);
  CHECK(r.max_concurrency == 91);
  CHECK(r.iterations.running == 91);
  CHECK(r.iterations.waiting == 37);
  CHECK(r.notes.back().what == serving_note::kind::slots_wait);
  CHECK(r.notes.back().binding == serving_note::limit::kv_cache);
  CHECK(r.notes.back().waiting == 37);
  const serving_workload w128{.isl = 4096, .osl = 512, .concurrency = 128};
  CHECK(serving_view{m, hw, w128, r}.note_text(r.notes.back()) ==
        "37 requests of a rank wait for a slot: the KV cache admits fewer");
  // pages allocated as the request grows: 4,096 + 256 = 4,352 tokens (136 pages): 97 requests
  hw.timing.serving.reserve_final_length = false;
  CHECK(serve(m, hw, serving_workload{.isl = 4096, .osl = 512, .concurrency = 128}).memory.admitted == 97);
  // Llama-3.1-70B in bf16 (141 GB of weights) leaves no pool on one 80 GB GPU: reported
  const serving_result big = serve(spec("llama3.1_70b"), hw, serving_workload{.isl = 1024, .osl = 128});
  CHECK_FALSE(big.fits);
  CHECK(big.notes.back().what == serving_note::kind::request_too_large);
  const serving_workload w1024{.isl = 1024, .osl = 128};
  // 70,553,706,496 bf16 parameters: 141 GB of weights, more than the 0.9 x 80 GB the engine may use
  CHECK(serving_view{spec("llama3.1_70b"), hw, w1024, big}.note_text(big.notes.back()) ==
        "the weights, activations and buffers of a GPU (142 GB) leave no KV pool in the 72 GB the engine may "
        "use (memory_fraction 0.9 of 80 GB)");
}

TEST_CASE("a disaggregated request sends its KV cache over NVLink and waits for the prefill worker") {
  const model_spec m = spec("llama3.1_8b");
  const hardware hw = h100();
  serving_workload s{.isl = 4096, .osl = 256, .concurrency = 1, .disaggregated = true};
  // 4,096 tokens x 131,072 B = 536,870,912 B from one prefill GPU, over NVLink (2 GPUs in one
  // 8-GPU domain) at 450 GB/s, plus one 0.47 us step: 1.19349 ms
  CHECK(kv_transfer(m, hw, s).value() == doctest::Approx(536870912.0 / 450e9 + 0.47e-6).epsilon(1e-12));
  const serving_result r = serve(m, hw, s);
  const double prefill =
      estimate_pass(m, hw, pass{phase::prefill, 1, 4096, 0, 1}, hw.timing.overlap).time.value() + 0.1e-3;
  const double step =
      estimate_pass(m, hw, pass{phase::decode, 1, 1, 4096, 255}, hw.timing.overlap).time.value() + 0.1e-3;
  CHECK(r.tpot.value() == doctest::Approx(step).epsilon(1e-12));
  // one request in the loop: it arrives every e2e, so the prefill worker is busy
  // rho = t_p / e2e of the time, and the M/D/1 wait rho t_p / (2 (1 - rho)) adds to TTFT
  const double e2e = r.e2e.value(), rho = prefill / e2e;
  CHECK(r.ttft.value() ==
        doctest::Approx(prefill * (1 + rho / (2 * (1 - rho))) + r.transfer.value()).epsilon(1e-6));
  CHECK(r.gpus == 2);
  // 16 GPUs across two 8-GPU domains: the transfer takes the 50 GB/s network, 2.7 us a step
  s.prefill.L.tp = 8;
  s.decode.L.tp = 8;
  CHECK(kv_transfer(m, hw, s).value() == doctest::Approx(536870912.0 / (8 * 50e9) + 2.7e-6).epsilon(1e-12));
}

TEST_CASE("measured serving runs are read with their pools, and a run's formats set the spec's") {
  const std::string header =
      "id,silicon_data_source,backend,backend_version,model_path,system,precision,mode,isl,osl,gemm_quant_"
      "mode,"
      "moe_quant_mode,batch_size,tp_size,pp_size,attention_dp_size,moe_tp_size,moe_ep_size,prefill_batch_"
      "size,"
      "prefill_num_workers,prefill_tp_size,prefill_pp_size,prefill_attention_dp_size,prefill_moe_tp_size,"
      "prefill_moe_ep_size,decode_batch_size,decode_num_workers,decode_tp_size,decode_pp_size,"
      "decode_attention_dp_size,decode_moe_tp_size,decode_moe_ep_size,silicon_ttft_ms,silicon_tpot_ms\n";
  const std::string csv =
      header +
      "a,dump; silicon_concurrency=64; "
      "x,trtllm,1.0,Qwen/Qwen3-235B-A22B-FP8,h100_sxm,fp8,agg,1024,512,fp8_block,"
      "fp8_block,64,4,1,2,1,8,,,,,,,,,,,,,,,250.5,20.25\n"
      "b,dump; "
      "silicon_concurrency=32,sglang,0.5,deepseek-ai/DeepSeek-R1,b200_sxm,fp4,disagg,8192,1024,nvfp4,nvfp4,"
      ",,,,,,1,2,4,1,1,1,4,32,1,8,1,1,1,8,900,30\n";
  const auto runs = parse_engine_runs(csv, "runs.csv");
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].concurrency == 64);
  CHECK(runs[0].agg.tp == 4);
  CHECK(runs[0].agg.dp == 2);
  CHECK(runs[0].agg.moe_ep == 8);
  CHECK(runs[0].ttft_ms == 250.5);
  CHECK(runs[1].disaggregated);
  CHECK(runs[1].prefill.workers == 2);
  CHECK(runs[1].prefill.tp == 4);
  CHECK(runs[1].decode.tp == 8);
  CHECK(runs[1].decode.moe_ep == 8);
  CHECK(runs[1].line == 3);
  CHECK_THROWS_WITH_AS(
      parse_engine_runs("id,backend\n", "r.csv"),
      "r.csv:1:1: missing column 'silicon_data_source' of an engine-runs CSV (serving/README.md lists "
      "them)",
      input_error);
  CHECK_THROWS_WITH_AS(
      parse_engine_runs(header + "a,silicon_concurrency=8,vllm,1,m,h100_sxm,,agg,-3,8,,,,,,,,,,,,,,,,"
                                 ",,,,,,,1,1\n",
                        "r.csv"),
      "r.csv:2:48: 'isl' must be an integer from 1 to 1099511627776, got '-3'", input_error);
  // The Qwen run on its spec: fp8 with block scales and fp8 GEMMs; tp 4 dp 2 ep 8 (moe_tp 1)
  const hardware hw = h100();
  const serving_case c = serving_case_of(runs[0], spec("qwen3_235b_a22b"), hw);
  REQUIRE(c.skip.empty());
  CHECK(storage(c.model.dtypes, weight_kind::experts).name == "fp8_block128");
  CHECK(compute_dtype(c.model.dtypes, weight_kind::mixer) == dtype::fp8);
  CHECK(storage(c.model.dtypes, weight_kind::lm_head).name == "bf16");
  CHECK(c.work.agg.L.ep == 8);
  CHECK(c.work.agg.L.moe_tp() == 1);
  CHECK(*c.work.agg.max_batch == 64);
  // nvfp4 on a part without fp4 tensor units computes in fp8; int4 weight-only keeps the
  // spec's own int4 format (Kimi-K2.5's groups of 32) and computes in bf16
  model_spec ds = spec("deepseek_v3");
  REQUIRE(apply_quant(ds, hw, "nvfp4", "nvfp4"));
  CHECK(compute_dtype(ds.dtypes, weight_kind::experts) == dtype::fp8);
  model_spec kimi = spec("kimi_k2.5");
  REQUIRE(apply_quant(kimi, hw, "", "int4_wo"));
  CHECK(storage(kimi.dtypes, weight_kind::experts).name == "int4_g32");
  CHECK(compute_dtype(kimi.dtypes, weight_kind::experts) == dtype::bf16);
  CHECK_FALSE(apply_quant(kimi, hw, "w3a8", ""));
  // a catalogue finds the spec by hf_name and the part by its short name
  serving_catalogue cat{.specs = {spec("qwen3_235b_a22b")},
                        .parts = {load_part(test::source_dir + "/hw_profiles/h100_sxm.yaml")},
                        .stacks = {},
                        .fallback = load_stack(test::source_dir + "/stacks/roofline.yaml")};
  CHECK(cat.spec_of("Qwen/Qwen3-235B-A22B-FP8") != nullptr);
  CHECK(cat.part_of("h100_sxm") != nullptr);
  CHECK(predict_run(cat, runs[0]).skip.empty());
  CHECK(predict_run(cat, runs[1]).skip == "no spec names this model (hf_name): deepseek-ai/DeepSeek-R1");
}

TEST_CASE("the deployments of a model on two GPUs, their frontier and the best within targets") {
  // Llama-3.1-8B on 2 H100s, concurrency 1 and 2. Layouts: tp 1 (two workers), tp 1 pp 2,
  // tp 1 dp 2, tp 2; aggregated each needs a request per rank (two workers of one GPU or dp 2:
  // at least 2), and disaggregated one prefill GPU and one decode GPU: 3 deployments at 1,
  // 5 at 2.
  const model_spec m = spec("llama3.1_8b");
  const hardware hw = h100();
  const auto points = enumerate_deployments(
      m, hw, deployment_space{.gpus = 2, .isl = 1024, .osl = 128, .max_concurrency = 2});
  REQUIRE(points.size() == 8);
  int disagg = 0, at_one = 0;
  for (const deployment_point& p : points) {
    disagg += p.work.disaggregated;
    at_one += p.work.concurrency == 1;
    CHECK(p.result.gpus == 2);
  }
  CHECK(disagg == 2);
  CHECK(at_one == 3);
  // the frontier: no point is better in both, and every other point is beaten by one on it
  const auto beats = [](const deployment_point& a, const deployment_point& b) {
    return a.result.tokens_per_s_user >= b.result.tokens_per_s_user &&
           a.result.tokens_per_s_gpu >= b.result.tokens_per_s_gpu &&
           (a.result.tokens_per_s_user > b.result.tokens_per_s_user ||
            a.result.tokens_per_s_gpu > b.result.tokens_per_s_gpu);
  };
  for (const deployment_point& p : points) {
    bool beaten = false;
    for (const deployment_point& q : points) beaten = beaten || (q.frontier && beats(q, p));
    CHECK(p.frontier != beaten);
  }
  // the best: the most tokens/s per GPU among the points within the targets
  const seconds tpot = 1.0 * second;
  const auto best = best_within(points, std::nullopt, tpot);
  REQUIRE(best);
  for (const deployment_point& p : points) CHECK(p.result.tokens_per_s_gpu <= best->result.tokens_per_s_gpu);
  CHECK_FALSE(best_within(points, 1e-6 * second, std::nullopt));
}

TEST_CASE("a token budget below the running requests binds: only as many run as the budget has tokens") {
  // Every running request decodes a token an iteration, decodes first within the budget (vLLM
  // refuses max_num_batched_tokens < max_num_seqs): at most B requests run on a rank.
  // Llama-3.1-8B on one H100, 64 requests of 1,024 + 128 tokens: the KV cache admits more than
  // 64 (91 at 4,096 + 512, above), max_batch 256, so a budget of B < 64 runs B and queues 64 - B
  // (the stack queues no further requests).
  const model_spec m = spec("llama3.1_8b");
  const hardware hw = h100();
  for (double budget : {1.0, 16.0, 63.0, 64.0, 8192.0}) {
    CAPTURE(budget);
    serving_workload w{.isl = 1024, .osl = 128, .concurrency = 64};
    w.agg.max_batch_tokens = budget;
    const serving_result r = serve(m, hw, w);
    REQUIRE(r.fits);
    const serving_iterations& it = r.iterations;
    CHECK(it.running == std::min(budget, 64.0));
    CHECK(it.waiting == 64 - std::min(budget, 64.0));
    // decode tokens of an iteration never exceed the budget, and the output rate never exceeds
    // a budget's worth of tokens every (shortest) iteration
    CHECK(it.decoding_light <= budget);
    CHECK(it.decoding <= budget);
    CHECK(r.tokens_per_s <= budget / std::min(it.mixed_time, it.decode_time).value() * (1 + 1e-9));
    if (budget < 64) {
      CHECK(r.notes.back().what == serving_note::kind::slots_wait);
      CHECK(r.notes.back().binding == serving_note::limit::token_budget);
      CHECK(
          serving_view{m, hw, w, r}.note_text(r.notes.back()) ==
          fmt::format("{} requests of a rank wait for a slot: the token budget (max_batch_tokens) runs fewer",
                      64 - budget));
    }
  }
  // the decode pool of a disaggregated deployment too: 1 token an iteration, 1 request running
  serving_workload d{.isl = 1024, .osl = 128, .concurrency = 8, .disaggregated = true};
  d.decode.max_batch_tokens = 1;
  const serving_result r = serve(m, hw, d);
  CHECK(r.iterations.running == 1);
  CHECK(r.iterations.waiting == 7);
}

TEST_CASE("an engine stack's end-to-end spread: the interval, its round trip, and validate's coverage") {
  hardware hw = test::h100_roofline();
  hw.timing.serving.ttft_spread = {0.5, 2, 10};
  hw.timing.serving.tpot_spread = {0.9, 1.25, 10};
  REQUIRE(has_serving_spread(hw));
  CHECK(interval_source(hw) == "the stack's end-to-end spread");
  // by hand: TTFT x 0.5 and x 2; TPOT and end to end x 0.9 and x 1.25; rates / those
  serving_result r;
  r.ttft = 0.2 * second, r.tpot = 0.01 * second, r.e2e = 1.5 * second;
  r.tokens_per_s = 1000, r.tokens_per_s_gpu = 500, r.tokens_per_s_user = 100;
  const auto [lo, hi] = interval_of(hw, r, [](const hardware&) -> serving_result {
    FAIL("the end-to-end spread needs no second run");
    return {};
  });
  REQUIRE((lo && hi));
  CHECK(lo->ttft.value() == doctest::Approx(0.1));
  CHECK(hi->ttft.value() == doctest::Approx(0.4));
  CHECK(lo->tpot.value() == doctest::Approx(0.009));
  CHECK(hi->e2e.value() == doctest::Approx(1.875));
  CHECK(lo->tokens_per_s_gpu == doctest::Approx(500 / 0.9));
  CHECK(hi->tokens_per_s == doctest::Approx(800));
  // a stack without one has no interval from it
  CHECK_FALSE(at_serving_spread(test::h100_roofline(), r, false));
  // written and read back
  const std::string dir = std::string(ROOFLINE_BUILD_DIR) + "/spread_stack";
  std::filesystem::create_directories(dir);
  stack s = load_stack(test::source_dir + "/stacks/datasheet.yaml");
  s.engine = "vllm";
  s.timing.serving = hw.timing.serving;
  s.timing.serving.stated = true;
  std::ofstream(dir + "/s.yaml") << stack_yaml(s);
  const stack back = load_stack(dir + "/s.yaml");
  CHECK(back.timing.serving.ttft_spread.p10 == 0.5);
  CHECK(back.timing.serving.tpot_spread.p90 == 1.25);
  CHECK(back.timing.serving.tpot_spread.points == 10);
  // validate's coverage: of four runs with the spread, measured at 0.4, 1, 1.9 and 3 x the
  // predicted TTFT (inside [0.5, 2]: two) and at 0.8, 0.95, 1.2, 1.3 x the TPOT (inside [0.9, 1.25]: two)
  std::vector<engine_run> runs(4);
  std::vector<run_prediction> pred(4);
  const double t[] = {0.4, 1, 1.9, 3}, p[] = {0.8, 0.95, 1.2, 1.3};
  for (int i = 0; i < 4; ++i) {
    runs[i].engine = "vllm", runs[i].system = "h100_sxm", runs[i].model = "m";
    runs[i].ttft_ms = 100 * t[i], runs[i].tpot_ms = 10 * p[i];
    pred[i].ttft_ms = 100, pred[i].tpot_ms = 10, pred[i].stack = "s";
    pred[i].ttft_spread = hw.timing.serving.ttft_spread, pred[i].tpot_spread = hw.timing.serving.tpot_spread;
  }
  const auto [cells, skipped] = serving_error_cells(runs, pred);
  REQUIRE(cells.size() == 2);
  for (const serving_cell& c : cells) {
    CHECK(c.coverage_n == 4);
    CHECK(c.coverage == 0.5);
  }
}

TEST_CASE("a moved engine stack takes the wider of its own spread and its spread on other parts") {
  stack s = load_stack(test::source_dir + "/stacks/datasheet.yaml");
  s.engine = "vllm";
  s.fitted_on = stack_origin{"NVIDIA B200", 148, 1965};
  serving_params& sp = s.timing.serving;
  sp.stated = true;
  sp.ttft_spread = {0.5, 2, 10}, sp.tpot_spread = {0.9, 1.25, 10};
  sp.ttft_spread_transferred = {0.4, 1.5, 30}, sp.tpot_spread_transferred = {0.7, 1.4, 30};
  const part h100 = load_part(test::source_dir + "/hw_profiles/h100_sxm.yaml");
  const hardware moved = drive(h100, s);
  CHECK(moved.transferred_from == "NVIDIA B200");
  // by hand: TTFT [min(0.5, 0.4), max(2, 1.5)] = [0.4, 2]; TPOT [0.7, 1.4]
  const auto lo = serving_spread_factors(moved, false), hi = serving_spread_factors(moved, true);
  REQUIRE((lo && hi));
  CHECK(lo->first == 0.4);
  CHECK(hi->first == 2);
  CHECK(lo->second == 0.7);
  CHECK(hi->second == 1.4);
  CHECK(interval_source(moved).find("other parts (moved from NVIDIA B200)") != std::string::npos);
  // on the part it was fitted on: its own spread
  part b200 = h100;
  b200.name = "NVIDIA B200";
  const hardware home = drive(b200, s);
  CHECK(home.transferred_from.empty());
  CHECK(serving_spread_factors(home, false)->first == 0.5);
  CHECK(serving_spread_factors(home, true)->second == 1.25);
  // moved without a spread on other parts: its own, and the source says the move is not covered
  stack bare = s;
  bare.timing.serving.ttft_spread_transferred = bare.timing.serving.tpot_spread_transferred = {};
  const hardware moved_bare = drive(h100, bare);
  CHECK(serving_spread_factors(moved_bare, false)->first == 0.5);
  CHECK(interval_source(moved_bare).find("does not cover the move") != std::string::npos);
  // written and read back
  const std::string dir = std::string(ROOFLINE_BUILD_DIR) + "/spread_stack";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/moved.yaml") << stack_yaml(s);
  const stack back = load_stack(dir + "/moved.yaml");
  CHECK(back.timing.serving.ttft_spread_transferred.p10 == 0.4);
  CHECK(back.timing.serving.tpot_spread_transferred.p90 == 1.4);
  CHECK(back.timing.serving.tpot_spread_transferred.points == 30);
}

TEST_CASE("speculative decoding: tokens per step, the verify pass, and the batch where it stops paying") {
  SUBCASE("tokens per step: 1 + a_1 + a_1 a_2 + ...") {
    CHECK(tokens_per_step({.k = 3, .acceptance = {0.8}}) == doctest::Approx(2.952).epsilon(1e-12));
    // (1 - 0.8^4) / (1 - 0.8) = 0.5904 / 0.2
    CHECK(tokens_per_step({.k = 3, .acceptance = {0.8}}) == doctest::Approx(0.5904 / 0.2).epsilon(1e-12));
    CHECK(tokens_per_step({.k = 3, .acceptance = {0.9, 0.8, 0.5}}) ==
          doctest::Approx(1 + 0.9 + 0.72 + 0.36).epsilon(1e-12));
    CHECK(tokens_per_step({.k = 4, .acceptance = {0}}) == 1);
  }
  const model_spec m = spec("llama3.1_8b");
  SUBCASE("the verify pass runs the LM head on every one of its tokens") {
    // 2 sequences x 4 tokens after 100 cached: 2 x 8 x 4096 x 128,256 FLOPs
    const op head = test::find_op(m, pass{phase::prefill, 2, 4, 100, 1, 4}, "lm_head");
    CHECK(head.work.value() == 2.0 * 8 * 4096 * 128256);
    CHECK(test::find_op(m, pass{phase::prefill, 2, 4, 100, 1}, "lm_head").work.value() ==
          2.0 * 2 * 4096 * 128256);
  }
  SUBCASE("an MTP head: one layer, the 2d -> d projection, the shared embedding and head") {
    // layer: q, o 4096^2, k, v 4096 x 1024, SwiGLU 3 x 4096 x 14,336, two norms: 218,112,000;
    // embedding and LM head 2 x 128,256 x 4096; final norm 4096; projection 2 x 4096^2
    const model_spec h = mtp_head(m);
    CHECK(n_layers(h) == 1);
    CHECK(parameters(h) == 218'112'000.0 + 2 * 128'256.0 * 4096 + 4096 + 2 * 4096.0 * 4096);
    CHECK(test::find_op(h, decode_pass({.batch = 3, .prefill = 10, .generate = 1}), "input_proj")
              .work.value() == 2.0 * 3 * 8192 * 4096);
  }
  const hardware hw = test::h100_roofline();
  const workload w{.batch = 1, .prefill = 128, .generate = 128};
  SUBCASE("TPOT is (k draft passes + the verify pass) / tokens per step") {
    const speculation s{.k = 3, .acceptance = {0.8}};
    const speculative_estimate e = speculate(m, hw, w, s);
    const model_spec h = mtp_head(m);
    const double c = 128 + 127 / 2.0;  // the mean context of the decode
    const overlap pol = hw.timing.overlap;
    CHECK(e.draft.value() ==
          doctest::Approx(3 * estimate_pass(h, hw, pass{phase::decode, 1, 1, c, 1}, pol).time.value())
              .epsilon(1e-12));
    CHECK(e.verify.value() ==
          doctest::Approx(estimate_pass(m, hw, pass{phase::prefill, 1, 4, c, 1, 4}, pol).time.value())
              .epsilon(1e-12));
    CHECK(e.tpot.value() == doctest::Approx((e.draft + e.verify).value() / 2.952).epsilon(1e-12));
    CHECK(e.plain_step.value() == estimate(m, hw, w).step_time.value());
    // at batch 1 the step reads the weights whatever its tokens: speculation pays
    CHECK(e.tpot < e.plain_step);
  }
  SUBCASE("at large batches the verify pass's compute makes it cost more than it brings") {
    const speculation s{.k = 3, .acceptance = {0.6}};  // 1.0 + 0.6 + 0.36 + 0.216 = 2.176 tokens a step
    const break_even even = break_even_batch(m, hw, w, s);
    REQUIRE(even.batch);
    CHECK(*even.batch > 1);
    workload at = w;
    at.batch = *even.batch;
    const speculative_estimate e = speculate(m, hw, at, s);
    CHECK(e.tpot >= e.plain_step);
    at.batch /= 2;
    const speculative_estimate before = speculate(m, hw, at, s);
    CHECK(before.tpot < before.plain_step);
  }
  SUBCASE("bad speculations are refused") {
    const auto refused = [&](const speculation& s, const workload& at, const char* what) {
      CHECK_THROWS_WITH_AS(speculate(m, hw, at, s), what, input_error);
    };
    refused({.k = 0, .acceptance = {0.8}}, w, "speculation: draft tokens k must be from 1 to 16, not 0");
    refused({.k = 3, .acceptance = {0.8, 0.7}}, w,
            "speculation: give one acceptance rate, or one per draft position (3), not 2");
    refused({.k = 2, .acceptance = {1.5}}, w,
            "speculation: an acceptance rate is a chance from 0 to 1, not 1.5");
    workload pp = w;
    pp.parallel.pp = 2;
    refused({.k = 2, .acceptance = {0.5}}, pp, "speculation: not modelled with pipeline stages (pp > 1)");
  }
}

TEST_CASE("speculative decoding in the closed form: one request alone by hand, the memory, the budget") {
  const hardware hw = h100();
  const overlap pol = hw.timing.overlap;
  const model_spec m = spec("llama3.1_8b"), mtp = mtp_head(m);
  // one request of 1,024 + 201 tokens, k 3 drafts accepted with chance 0.8 (E = 2.952): every decode
  // iteration a verify of 4 tokens at the mean context 1,024 + 199 / 2, three MTP passes of one token
  // (their decode averaged over the 200 steps after 1,024) and 0.1 ms; TPOT = that / E
  serving_workload w{.isl = 1024, .osl = 201, .concurrency = 1};
  w.speculative = {.k = 3, .acceptance = {0.8}};
  const serving_result r = serve(m, hw, w);
  const double verify = estimate_pass(m, hw, pass{phase::prefill, 1, 4, 1024 + 99.5, 1, 4}, pol).time.value();
  const double draft = estimate_pass(mtp, hw, pass{phase::decode, 1, 1, 1024, 200}, pol).time.value();
  CHECK(r.tpot.value() == doctest::Approx((verify + 3 * draft + 0.1e-3) / 2.952).epsilon(1e-9));
  // its prompt: the target's and the MTP head's passes over it
  const double prompt = estimate_pass(m, hw, pass{phase::prefill, 1, 1024, 0, 1}, pol).time.value() +
                        estimate_pass(mtp, hw, pass{phase::prefill, 1, 1024, 0, 1}, pol).time.value();
  CHECK(r.ttft.value() == doctest::Approx(prompt + 0.1e-3).epsilon(1e-9));
  // the head's weights out of the pool (its layer and 2 d -> d projection in bf16), its KV cache of
  // one layer (8 x 128 x 2 x 2 B a token) beside the target's 32 in each request's pages
  const serving_result plain = serve(m, hw, serving_workload{.isl = 1024, .osl = 201, .concurrency = 1});
  const double head = 2.0 * (41'943'040 + 176'160'768 + 8'192 + 2 * 4096 * 4096);
  CHECK(plain.memory.pool.value() - r.memory.pool.value() == doctest::Approx(head).epsilon(1e-12));
  CHECK(r.memory.per_request.value() == doctest::Approx((1225 + 31) / 32 * 32 * (llama8_kv_token + 4096)));
  // a decode takes k + 1 tokens of the budget: prompts of 8,192 are chunked by what the decodes leave
  serving_workload many = w;
  many.concurrency = 64;
  many.isl = 8192;
  const serving_result b = serve(m, hw, many);
  REQUIRE(b.iterations.decoding > 1);
  CHECK(b.iterations.chunk == doctest::Approx(8192 - 4 * b.iterations.decoding).epsilon(1e-12));
  // with pipeline stages: refused
  serving_workload staged = w;
  staged.agg.L.pp = 2;
  CHECK_THROWS_WITH_AS(serve(m, hw, staged), "speculation: not modelled with pipeline stages (pp > 1)",
                       input_error);
}

TEST_CASE("serve with a memo re-times what it built and gives serve's numbers at every timing") {
  // Every deployment of a dense and a MoE model on 4 H100s (tp, pp, dp, expert parallel,
  // disaggregated), each served with one memo at four timing parameter sets in turn (what a
  // serving fit does; two of them differ in the engine's overheads and queue alone): each result
  // equals serve's without a memo to the bit.
  hardware a = h100(), b = h100(), c = h100();
  b.timing.overlap = c.timing.overlap = overlap::smooth;
  b.timing.smooth_exponent = 3;
  for (class_timing& e : b.timing.classes) e.compute = 0.6, e.memory = 0.8, e.overhead = 4e-6 * second;
  b.timing.collectives.efficiency.fill(0.7);
  b.timing.collectives.overhead = 12e-6 * second;
  b.timing.serving.iteration_overhead = 2e-3 * second;
  b.timing.serving.request_overhead = 30e-3 * second;
  b.timing.serving.queued_requests = 2;
  b.timing.serving.burst = 0.5;
  hardware d = b;  // b's op timing, other engine terms: the memo's times at b are taken again
  d.timing.serving.iteration_overhead = 5e-3 * second;
  d.timing.serving.request_overhead = 1e-3 * second;
  d.timing.serving.queued_requests = 0.5;
  c.timing.smooth_exponent = 1.5;
  for (class_timing& e : c.timing.classes) e.compute = 0.3, e.memory = 0.5;
  int compared = 0, disaggregated = 0, mixed_pools = 0;
  for (const char* name : {"llama3.1_8b", "qwen3_30b_a3b"}) {
    const model_spec m = spec(name);
    for (const deployment_point& p : enumerate_deployments(
             m, a, deployment_space{.gpus = 4, .isl = 2048, .osl = 128, .max_concurrency = 64})) {
      serving_memo memo;
      for (const hardware* hw : {&a, &b, &d, &c, &a}) {
        const serving_result want = serve(m, *hw, p.work), got = serve(m, *hw, p.work, std::nullopt, &memo);
        CAPTURE(name);
        CAPTURE(p.work.concurrency);
        REQUIRE(got.fits == want.fits);
        CHECK(got.ttft == want.ttft);
        CHECK(got.tpot == want.tpot);
        CHECK(got.wait == want.wait);
        CHECK(got.transfer == want.transfer);
        CHECK(got.tokens_per_s == want.tokens_per_s);
        CHECK(got.iterations.mixed.time == want.iterations.mixed.time);
        CHECK(got.iterations.decode.time == want.iterations.decode.time);
        CHECK(got.iterations.decode.communication == want.iterations.decode.communication);
        CHECK(got.memory.admitted == want.memory.admitted);
        ++compared;
      }
      disaggregated += p.work.disaggregated;
      mixed_pools += memo.iterations.size() == 2;
    }
  }
  CHECK(compared > 100);
  CHECK(disaggregated > 0);
  CHECK(mixed_pools > 0);  // a memo kept a mixed and a decode iteration
}
