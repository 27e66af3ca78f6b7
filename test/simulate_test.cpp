// The serving simulator: one request alone against the single estimate, a budget that binds,
// a KV pool that fills, Little's law, low-rate open loops, the engines' policies, determinism,
// bad loads. Expected values come from the single estimate (another code path) or by hand.
#include <cstdio>
#include <fstream>
#include <random>

#include <doctest/doctest.h>

#include "helpers.hpp"
#include "roofline/io/io.hpp"
#include "roofline/serving/sim_detail.hpp"
#include "roofline/serving/simulate.hpp"

using namespace roofline;

namespace {

const model_spec& llama8() {
  static const model_spec m = load_model(test::source_dir + "/model_specs/llama3.1_8b.yaml");
  return m;
}

// The H100 SXM under the pure roofline with the serving parameters set by hand: 0.1 ms an
// iteration, no request overhead (`overhead` sets its mean: each request draws its own),
// vLLM's scheduler with 16-token pages allocated on demand.
hardware h100(serving_params::scheduler policy = serving_params::scheduler::vllm, double budget = 8192,
              double overhead = 0) {
  hardware hw = test::h100_roofline();
  hw.timing.serving = {.stated = true,
                       .policy = policy,
                       .chunked_prefill = true,
                       .max_batch_tokens = budget,
                       .max_batch = 256,
                       .memory_fraction = 0.9,
                       .block_tokens = 16,
                       .reserve_final_length = policy == serving_params::scheduler::trtllm,
                       .iteration_overhead = 0.1e-3 * second,
                       .request_overhead = overhead * second};
  return hw;
}

serving_workload one_gpu() { return serving_workload{.isl = 1024, .osl = 64, .concurrency = 1}; }

simulation_load closed(std::int64_t isl, std::int64_t osl, double users, std::int64_t requests) {
  simulation_load l = fixed_load(serving_workload{.isl = isl, .osl = osl, .concurrency = users}, requests);
  return l;
}

}  // namespace

TEST_CASE("one request alone: TTFT is its prefill and the overheads, TPOT the mean decode step") {
  const hardware hw = h100();
  const simulation_result r = simulate(llama8(), hw, one_gpu(), closed(1024, 64, 1, 3));
  // the single estimate of a batch of 1: a 1,024-token prefill, then 63 steps after 1,024 ..
  // 1,086 cached tokens (the decode time is linear in the context: the mean step is the step at
  // the mean context, which the estimate's closed form gives)
  const estimate_result e = roofline::estimate(llama8(), hw, workload{1, 1024, 63});
  CHECK(r.ttft.mean == doctest::Approx(e.ttft.value() + 0.1e-3).epsilon(1e-9));
  CHECK(r.ttft.p99 == doctest::Approx(r.ttft.mean).epsilon(1e-12));  // every request alike
  CHECK(r.tpot.mean == doctest::Approx(e.step_time.value() + 0.1e-3).epsilon(2e-4));
  // end to end: TTFT + 63 TPOT; 3 requests one after another
  CHECK(r.e2e.mean == doctest::Approx(r.ttft.mean + 63 * r.tpot.mean).epsilon(1e-9));
  CHECK(r.duration == doctest::Approx(3 * r.e2e.mean).epsilon(1e-9));
  CHECK(r.preemptions == 0);
  CHECK(r.iterations == 3 * 64);
}

TEST_CASE("a budget that binds: running requests first, then prompts chunked by what is left") {
  // budget 100, prompts of 60, outputs of 3, 8 requests at once (vLLM v1):
  // 1: r0 60 + r1 40 (chunk);  2: r0's decode 1, r1's last 20, r2 60, r3 19 (chunk);
  // 3: decodes r0 r1 r2 (3), r3's last 41, r4 56 (chunk)
  const hardware hw = h100(serving_params::scheduler::vllm, 100);
  const simulation_result r =
      simulate(llama8(), hw, one_gpu(), closed(60, 3, 8, 8), simulation_options{.timeline = true});
  REQUIRE(r.timeline.size() >= 3);
  CHECK(r.timeline[0].prefill_tokens == 100);
  CHECK(r.timeline[0].decode_tokens == 0);
  CHECK(r.timeline[1].decode_tokens == 1);
  CHECK(r.timeline[1].prefill_tokens == 99);
  CHECK(r.timeline[2].decode_tokens == 3);
  CHECK(r.timeline[2].prefill_tokens == 97);
  for (const timeline_point& p : r.timeline) CHECK(p.prefill_tokens + p.decode_tokens <= 100);
  // all 8 x 60 prompt tokens and 8 x 2 decode tokens run
  double prompt = 0, decode = 0;
  for (const timeline_point& p : r.timeline) prompt += p.prefill_tokens, decode += p.decode_tokens;
  CHECK(prompt == 480);
  CHECK(decode == 16);
}

TEST_CASE("a KV pool that fills: reserved admission stops at what it holds, on-demand pages preempt") {
  // A quarter of the H100's memory: the pool after the weights holds a few requests of 2,048 + 512.
  hardware trt = h100(serving_params::scheduler::trtllm);
  trt.timing.serving.memory_fraction = 0.25;
  const serving_workload w{.isl = 2048, .osl = 512, .concurrency = 64};
  const serving_memory mem = detail::memory_of(llama8(), trt, w.agg, 2048, 512);
  // 2,560 tokens in 16-token pages x 131,072 B a token = 0.3355 GB a request
  CHECK(mem.per_request.value() == doctest::Approx(2560 * 131072.0).epsilon(1e-12));
  REQUIRE(mem.admitted >= 4);
  REQUIRE(mem.admitted <= 30);
  const simulation_result a = simulate(llama8(), trt, w, closed(2048, 512, 64, 128), {.timeline = true});
  double most = 0;
  for (const timeline_point& p : a.timeline) most = std::max(most, p.running);
  CHECK(most == mem.admitted);  // reserving final lengths admits exactly what the pool holds
  CHECK(a.preemptions == 0);
  CHECK(a.max_kv_use <= 1);
  hardware vllm = trt;
  vllm.timing.serving.policy = serving_params::scheduler::vllm;
  vllm.timing.serving.reserve_final_length = false;
  const simulation_result b = simulate(llama8(), vllm, w, closed(2048, 512, 64, 128), {.timeline = true});
  double most_b = 0;
  for (const timeline_point& p : b.timeline) most_b = std::max(most_b, p.running);
  CHECK(most_b > mem.admitted);  // pages on demand admit by the prompt ...
  CHECK(b.preemptions > 0);      // ... and preempt when they run out
  CHECK(b.max_kv_use <= 1);
}

TEST_CASE("Little's law on the simulator's own output, open and closed loop") {
  const hardware hw = h100();
  simulation_load open = closed(512, 128, 1, 2000);
  open.arrivals = {.what = arrival_process::kind::poisson, .rate = 20, .source = "poisson"};
  const simulation_result o = simulate(llama8(), hw, one_gpu(), open);
  CHECK(o.mean_in_system == doctest::Approx(o.requests_per_s * o.e2e.mean).epsilon(0.01));
  // closed loop of 32 users, no think time: 32 in flight but for the start and the drain
  const simulation_result c = simulate(llama8(), hw, one_gpu(), closed(512, 128, 32, 3200));
  CHECK(c.mean_in_system == doctest::Approx(c.requests_per_s * c.e2e.mean).epsilon(0.01));
  CHECK(c.requests_per_s * c.e2e.mean == doctest::Approx(32).epsilon(0.02));
}

TEST_CASE("an open loop at a low rate: TTFT is the prefill of one request and its client's overhead") {
  // requests 2 s apart on average, each done in ~0.2 s: each alone. Its client's side is drawn
  // around 5 ms (exponential): over 2,000 requests the mean is within 0.12 ms of it (1 sigma).
  const hardware hw = h100(serving_params::scheduler::vllm, 8192, 5e-3);
  simulation_load l = closed(1024, 16, 1, 2000);
  l.arrivals = {.what = arrival_process::kind::poisson, .rate = 0.5, .source = "poisson"};
  const simulation_result r = simulate(llama8(), hw, one_gpu(), l);
  const estimate_result e = roofline::estimate(llama8(), hw, workload{1, 1024, 15});
  CHECK(r.ttft.mean == doctest::Approx(e.ttft.value() + 0.1e-3 + 5e-3).epsilon(0.01));
  CHECK(r.ttft.p50 < r.ttft.mean);  // an exponential's median is below its mean
  CHECK(r.tpot.p99 == doctest::Approx(r.tpot.p50).epsilon(1e-3));  // the decode alone, every time
}

TEST_CASE("limits hold under every policy: tokens, slots, KV pool; SGLang never mixes") {
  for (auto policy : {serving_params::scheduler::vllm, serving_params::scheduler::sglang,
                      serving_params::scheduler::trtllm}) {
    CAPTURE(name(policy));
    hardware hw = h100(policy, 2048);
    hw.timing.serving.max_batch = 24;
    hw.timing.serving.memory_fraction = 0.3;
    simulation_load l = closed(1, 1, 1, 400);
    l.isl = {.what = length_dist::kind::lognormal, .a = 1500, .b = 1200, .source = "lognormal:1500:1200"};
    l.osl = {.what = length_dist::kind::uniform, .a = 16, .b = 600, .source = "uniform:16:600"};
    l.arrivals = {.what = arrival_process::kind::gamma, .rate = 30, .cv = 2, .source = "gamma:2"};
    const simulation_result r = simulate(llama8(), hw, one_gpu(), l, {.timeline = true});
    CHECK(r.measured == 400);
    for (const timeline_point& p : r.timeline) {
      CHECK(p.prefill_tokens + p.decode_tokens <= 2048);
      CHECK(p.running <= 24);
      CHECK(p.kv_use <= 1);
      if (policy == serving_params::scheduler::sglang) CHECK((p.prefill_tokens == 0 || p.decode_tokens == 0));
    }
    // output tokens a second never exceed a budget's worth every (shortest) iteration
    double shortest = 1e9;
    for (const timeline_point& p : r.timeline) shortest = std::min(shortest, p.duration);
    CHECK(r.tokens_per_s <= 2048 / shortest);
  }
}

TEST_CASE("the same seed gives the same result, another seed another") {
  const hardware hw = h100();
  simulation_load l = closed(1, 1, 1, 300);
  l.isl = {.what = length_dist::kind::normal, .a = 800, .b = 300, .source = "normal:800:300"};
  l.osl = {.what = length_dist::kind::fixed, .a = 100, .source = "100"};
  l.arrivals = {.what = arrival_process::kind::poisson, .rate = 10, .source = "poisson"};
  const simulation_result a = simulate(llama8(), hw, one_gpu(), l), b = simulate(llama8(), hw, one_gpu(), l);
  CHECK(a.ttft.mean == b.ttft.mean);
  CHECK(a.tpot.p99 == b.tpot.p99);
  CHECK(a.duration == b.duration);
  l.seed = 2;
  const simulation_result c = simulate(llama8(), hw, one_gpu(), l);
  CHECK(c.ttft.mean != a.ttft.mean);
}

TEST_CASE("a disaggregated request: prefill, KV transfer, then decode iterations only") {
  const hardware hw = h100();
  serving_workload w{.isl = 1024, .osl = 64, .concurrency = 1, .disaggregated = true};
  const simulation_result r = simulate(llama8(), hw, w, closed(1024, 64, 1, 2));
  const estimate_result e = roofline::estimate(llama8(), hw, workload{1, 1024, 63});
  CHECK(r.gpus == 2);
  // TTFT: the prefill, the iteration overhead, the KV cache over NVLink
  const double transfer = kv_transfer(llama8(), hw, w).value();
  CHECK(r.ttft.mean == doctest::Approx(e.ttft.value() + 0.1e-3 + transfer).epsilon(1e-9));
  CHECK(r.tpot.mean == doctest::Approx(e.step_time.value() + 0.1e-3).epsilon(2e-4));
}

TEST_CASE("bad loads: one error line each") {
  const model_spec& m = llama8();  // max_context 131,072
  const auto refused = [&](simulation_load l, const std::string& first) {
    CHECK_THROWS_WITH_AS(check_load(m, l), doctest::Contains(first.c_str()), input_error);
  };
  simulation_load l = closed(1024, 64, 4, 100);
  simulation_load bad = l;
  bad.isl = parse_length_dist("uniform:10:5", 1, "isl");
  refused(bad, "simulate: prompt lengths 'uniform:10:5': uniform:LO:HI needs 1 <= LO <= HI");
  bad = l;
  bad.osl = parse_length_dist("normal:-5:1", 1, "osl");
  refused(bad, "simulate: output lengths 'normal:-5:1': needs a mean from 1");
  bad = l;
  bad.isl = parse_length_dist("fixed", 200'000, "isl");
  refused(bad, "a length must be a whole number from 1 to the model's context, 131071");
  CHECK_THROWS_WITH_AS(parse_length_dist("normal:5", 1, "isl"), "lengths 'normal:5': expected normal:MEAN:SD",
                       input_error);
  CHECK_THROWS_WITH_AS(parse_arrivals("gamma", 1),
                       "arrivals 'gamma': expected poisson, gamma:CV or trace:PATH", input_error);
  bad = l;
  bad.arrivals = {.what = arrival_process::kind::gamma, .rate = 1, .cv = 0, .source = "gamma:0"};
  refused(bad, "simulate: arrivals 'gamma:0': the coefficient of variation must be in (0, 100], not 0");
  const std::string unsorted = "/tmp/roofline_test_trace_unsorted.csv",
                    negative = "/tmp/roofline_test_trace_neg.csv";
  std::ofstream(unsorted) << "arrival_s,isl\n0,10\n2.5,10\n1.5,10\n";
  std::ofstream(negative) << "arrival_s\n-1\n";
  CHECK_THROWS_WITH_AS(
      parse_arrivals("trace:" + unsorted, 0),
      (unsorted + ":4:1: 'arrival_s' 1.5 is before the row above (2.5): arrivals must be sorted").c_str(),
      input_error);
  CHECK_THROWS_WITH_AS(
      parse_arrivals("trace:" + negative, 0),
      (negative + ":2:1: 'arrival_s' must be a number of seconds from 0 to 1e9, got '-1'").c_str(),
      input_error);
  std::remove(unsorted.c_str());
  std::remove(negative.c_str());
  // a prompt and output beyond the context together
  bad = closed(100'000, 40'000, 1, 10);
  CHECK_THROWS_WITH_AS(
      simulate(m, h100(), one_gpu(), bad),
      "simulate: request 1: a prompt of 100000 and an output of 40000 tokens exceed the model's "
      "context, 131072",
      input_error);
}

TEST_CASE("the iteration clock's grid: interpolated times within 0.5 % of the exact roofline") {
  // 2,000 compositions drawn over a wide range (0-64 prompt chunks of up to 8,192 tokens after
  // up to 100,000 cached, 0-512 decodes at contexts up to 100,000), Llama-3.1-8B and
  // Qwen3-30B-A3B (MoE) on the H100 under the vLLM H100 stack: the grid's linear interpolation
  // against the roofline of the exact composition.
  const hardware hw = test::shipped("h100_sxm", "vllm_h100_sxm");
  std::mt19937_64 g(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (const char* name : {"llama3.1_8b", "qwen3_30b_a3b"}) {
    const model_spec m = load_model(test::source_dir + "/model_specs/" + name + ".yaml");
    detail::iteration_clock clock(m, hw, layout{}, hw.timing.overlap);
    double worst = 0;
    for (int i = 0; i < 1000; ++i) {
      detail::iteration_clock::shape s;
      s.seqs = std::floor(u(g) * 4) * (u(g) < 0.5 ? 1 : 0);
      s.tokens = s.seqs > 0 ? s.seqs * std::floor(1 + u(g) * 2048) : 0;
      s.context = s.seqs > 0 ? std::floor(u(g) * 100'000) : 0;
      s.decodes = std::floor(u(g) * 512);
      s.decode_context = s.decodes > 0 ? 1 + u(g) * 100'000 : 0;
      if (s.seqs + s.decodes == 0) continue;
      worst = std::max(worst, std::abs(clock.time(s) / clock.exact(s) - 1));
    }
    CAPTURE(name);
    MESSAGE(std::string(name) << ": worst interpolation error " << worst);
    CHECK(worst < 0.005);
  }
}

TEST_CASE(
    "a benchmark client's load: outputs spread +-5 % around osl, which breaks the lockstep of equal "
    "requests") {
  const serving_workload w{.isl = 1024, .osl = 1024, .concurrency = 16};
  const simulation_load b = benchmark_load(w, 4000);
  CHECK(b.osl.what == length_dist::kind::uniform);
  CHECK(b.osl.a == 973);   // round(0.95 x 1024)
  CHECK(b.osl.b == 1075);  // round(1.05 x 1024)
  CHECK(b.isl.what == length_dist::kind::fixed);
  const std::vector<detail::sim_request> reqs = detail::requests_for(llama8(), b);
  double sum = 0;
  for (const detail::sim_request& r : reqs) {
    CHECK(r.isl == 1024);
    CHECK((r.osl >= 973 && r.osl <= 1075));
    sum += double(r.osl);
  }
  // mean 1024, standard deviation 29.7 (uniform over 103 values): the mean of 4,000 within 3 sigma
  CHECK(sum / double(reqs.size()) == doctest::Approx(1024).epsilon(3 * 29.7 / std::sqrt(4000.0) / 1024));
  // two output tokens at least: 2 x [0.95, 1.05] rounds to 2, a fixed length
  CHECK(benchmark_load(serving_workload{.isl = 8, .osl = 2, .concurrency = 1}).osl.what ==
        length_dist::kind::fixed);
  // 16 users of equal requests under an 8,192-token budget: with outputs of exactly 1,024 tokens
  // every cycle's prompts arrive in two groups of 8 and wait for an iteration of about 8,192
  // prompt tokens (the batch-8 prefill; the iteration holds the other group's 8 decodes and
  // defers one prompt's last 8 tokens, so at least 0.8 of it); spread, a prompt mostly joins the
  // decodes alone
  const hardware hw = h100();
  const double wave = roofline::estimate(llama8(), hw, workload{8, 1024, 1}).ttft.value();
  const simulation_result lockstep = simulate(llama8(), hw, one_gpu(), fixed_load(w, 160));
  const simulation_result spread = simulate(llama8(), hw, one_gpu(), benchmark_load(w, 160));
  CHECK(lockstep.ttft.p50 >= 0.8 * wave);
  CHECK(spread.ttft.p50 < 0.5 * wave);
}

TEST_CASE("prefix caching: a shared prefix computed once a rank and held once; a hit rate skips compute") {
  const hardware hw = h100();
  const overlap pol = hw.timing.overlap;
  const auto prompt = [&](double tokens, double cached) {
    return estimate_pass(llama8(), hw, pass{phase::prefill, 1, tokens, cached, 1}, pol).time.value() + 0.1e-3;
  };
  for (auto policy : {serving_params::scheduler::vllm, serving_params::scheduler::sglang}) {
    CAPTURE(int(policy));
    // one user, three requests of 1,536 + 8 tokens beginning with the same 1,024: the first computes
    // all of its prompt, the next two find the 1,024 (64 whole pages of 16) and compute 512 after them
    simulation_load l = closed(1536, 8, 1, 3);
    l.prefix.shared = 1024;
    const simulation_result r = simulate(llama8(), h100(policy), one_gpu(), l, {.timeline = true});
    REQUIRE(r.timeline.size() == 3 * 8);
    CHECK(r.timeline[0].prefill_tokens == 1536);
    CHECK(r.timeline[8].prefill_tokens == 512);
    CHECK(r.timeline[16].prefill_tokens == 512);
    CHECK(r.timeline[0].duration == doctest::Approx(prompt(1536, 0)).epsilon(1e-9));
    CHECK(r.timeline[8].duration == doctest::Approx(prompt(512, 1024)).epsilon(1e-9));
    CHECK(r.prefix_found == doctest::Approx(2.0 * 1024 / (3 * 1536)).epsilon(1e-12));
    CHECK(r.shared_prefix.value() == 1024 * 131072.0);  // 1,024 tokens x 131,072 B of KV a token
  }
  // a hit rate of 0.4 of a 1,000-token prompt finds 400 tokens, cut to whole pages: 25 x 16 = 400;
  // of 0.5 of 1,000: 500 -> 496 (31 pages)
  for (auto [rate, found] : {std::pair{0.4, 400.0}, {0.5, 496.0}}) {
    simulation_load l = closed(1000, 8, 1, 2);
    l.prefix.hit_rate = rate;
    const simulation_result r = simulate(llama8(), hw, one_gpu(), l, {.timeline = true});
    CHECK(r.timeline[0].prefill_tokens == 1000 - found);
    CHECK(r.timeline[0].duration == doctest::Approx(prompt(1000 - found, found)).epsilon(2e-3));
    CHECK(r.prefix_found == doctest::Approx(found / 1000).epsilon(1e-12));
  }
  // a prefix shorter than a page (vLLM's 16 tokens) has nothing whole to share or find
  simulation_load tiny = closed(1000, 8, 1, 2);
  tiny.prefix.shared = 10;
  const simulation_result none = simulate(llama8(), hw, one_gpu(), tiny);
  CHECK(none.prefix_found == 0);
  CHECK(none.shared_prefix.value() == 0);
  // a prompt wholly found still computes its last token (for its logits)
  simulation_load all = closed(64, 8, 1, 2);
  all.prefix.hit_rate = 1;
  CHECK(simulate(llama8(), hw, one_gpu(), all, {.timeline = true}).timeline[0].prefill_tokens == 1);
}

TEST_CASE("prefix caching: the capacity a shared prefix buys under reserved admission") {
  // TensorRT-LLM's reservation of final lengths in a quarter of the H100: without a shared prefix
  // a rank runs what its pool holds of 2,560-token requests; with 1,536 of them shared, a request
  // reserves its own 1,024 tokens and the rank the prefix once: floor((pool - prefix) / own)
  hardware trt = h100(serving_params::scheduler::trtllm);
  trt.timing.serving.memory_fraction = 0.25;
  const serving_workload w{.isl = 2048, .osl = 512, .concurrency = 64};
  const serving_memory mem = detail::memory_of(llama8(), trt, w.agg, 2048, 512);
  simulation_load l = closed(2048, 512, 64, 256);
  l.prefix.shared = 1536;
  const simulation_result r = simulate(llama8(), trt, w, l, {.timeline = true});
  double most = 0;
  for (const timeline_point& p : r.timeline) most = std::max(most, p.running);
  const double token = 131072, pool = mem.pool.value();
  CHECK(most == std::floor((pool - 1536 * token) / (1024 * token)));
  CHECK(most > 2 * mem.admitted);
  CHECK(r.preemptions == 0);
  CHECK(r.max_kv_use <= 1);
}

TEST_CASE("prefix caching: bad prefixes and models whose pages cannot be shared are refused") {
  simulation_load l = closed(1024, 64, 4, 100);
  l.prefix.shared = 1024;
  CHECK_THROWS_WITH_AS(simulate(llama8(), h100(), one_gpu(), l),
                       "simulate: request 1: a prompt of 1024 tokens is not longer than the shared prefix "
                       "of 1024 that every prompt begins with",
                       input_error);
  l.prefix = {.hit_rate = 1.5};
  CHECK_THROWS_WITH_AS(check_load(llama8(), l),
                       "simulate: a prefix hit rate is a fraction from 0 to 1, not 1.5", input_error);
  // Gemma 2's sliding windows of 4,096: prompts of 6,144 outgrow them (within them pages are alike)
  const model_spec gemma = load_model(test::source_dir + "/model_specs/gemma2_9b.yaml");
  l = closed(6144, 64, 4, 20);
  l.prefix = {.shared = 512};
  CHECK_THROWS_WITH_AS(
      simulate(gemma, h100(), one_gpu(), l),
      doctest::Contains("simulate: a shared prefix: gemma2_9b's KV cache is not whole pages"), input_error);
  l.prefix = {.hit_rate = 0.5};  // a hit rate's pages are each request's own: any model
  CHECK(simulate(gemma, h100(), one_gpu(), l).prefix_found == doctest::Approx(0.5).epsilon(1e-12));
  l = closed(2048, 64, 4, 20);
  l.prefix = {.shared = 512};
  CHECK(simulate(gemma, h100(), one_gpu(), l).shared_prefix.value() > 0);
}

TEST_CASE("speculative decoding in the simulator: one request alone, by hand") {
  const hardware hw = h100();
  const overlap pol = hw.timing.overlap;
  const model_spec mtp = mtp_head(llama8());
  // k 3 drafts, every one accepted: a request of 1,024 + 65 tokens emits its first token with its
  // prompt and the other 64 in 16 steps of 4, each a verify of 4 tokens after 1,024 + 4 j cached
  // and 3 MTP passes of one token, plus the iteration's 0.1 ms
  serving_workload w = one_gpu();
  w.speculative = {.k = 3, .acceptance = {1.0}};
  const simulation_result r = simulate(llama8(), hw, w, closed(1024, 65, 1, 2));
  double steps = 0;
  for (int j = 0; j < 16; ++j) {
    const double c = 1024 + 4 * j;
    steps += estimate_pass(llama8(), hw, pass{phase::prefill, 1, 4, c, 1, 4}, pol).time.value() +
             3 * estimate_pass(mtp, hw, pass{phase::decode, 1, 1, c, 1}, pol).time.value() + 0.1e-3;
  }
  CHECK(r.tpot.mean == doctest::Approx(steps / 64).epsilon(1e-4));
  CHECK(r.tokens_per_step == 4);
  CHECK(r.expected_tokens_per_step == 4);
  CHECK(r.iterations == 2 * (1 + 16));
  // the MTP head's prompt pass beside the target's
  const double prompt = estimate_pass(llama8(), hw, pass{phase::prefill, 1, 1024, 0, 1}, pol).time.value() +
                        estimate_pass(mtp, hw, pass{phase::prefill, 1, 1024, 0, 1}, pol).time.value();
  CHECK(r.ttft.mean == doctest::Approx(prompt + 0.1e-3).epsilon(1e-9));
  // nothing accepted: a step emits one token and costs the verify and the drafts: slower than plain
  w.speculative.acceptance = {0.0};
  const simulation_result none = simulate(llama8(), hw, w, closed(1024, 65, 1, 2));
  const simulation_result plain = simulate(llama8(), hw, one_gpu(), closed(1024, 65, 1, 2));
  CHECK(none.tokens_per_step == 1);
  // the MTP head's weights come out of the KV pool: its layer (q 4,096^2, k and v 4,096 x 1,024
  // each, o 4,096^2, gate, up and down 3 x 4,096 x 14,336, two norms of 4,096) and its 2 d -> d
  // projection, in bf16
  const double head = 2.0 * (41'943'040 + 176'160'768 + 8'192 + 2 * 4096 * 4096);
  CHECK(plain.memory.pool.value() - none.memory.pool.value() == doctest::Approx(head).epsilon(1e-12));
  CHECK(none.tpot.mean > plain.tpot.mean);
  CHECK(r.tpot.mean < plain.tpot.mean / 2);
}

TEST_CASE("speculative decoding in the simulator: drawn acceptance, the budget it takes, refusals") {
  const hardware hw = h100(serving_params::scheduler::vllm, 200);
  // a = 0.8, k = 3: E = 1 + 0.8 + 0.64 + 0.512 = 2.952 tokens a step; 40 requests of 2,000 outputs
  // (about 27,000 steps, the per-step spread about 1.1 tokens: the mean within 1 %)
  serving_workload w = one_gpu();
  w.speculative = {.k = 3, .acceptance = {0.8}};
  const simulation_result r = simulate(llama8(), hw, w, closed(128, 2000, 16, 40), {.timeline = true});
  CHECK(r.expected_tokens_per_step == doctest::Approx(2.952).epsilon(1e-12));
  CHECK(r.tokens_per_step == doctest::Approx(2.952).epsilon(0.01));
  // a decode takes k + 1 = 4 tokens of the budget of 200
  for (const timeline_point& p : r.timeline) CHECK(p.prefill_tokens + 4 * p.decode_tokens <= 200);
  // per position: 0.9 then 0.5 then 0.2: E = 1 + 0.9 + 0.45 + 0.09 = 2.44
  w.speculative.acceptance = {0.9, 0.5, 0.2};
  CHECK(simulate(llama8(), hw, w, closed(128, 2000, 16, 40)).tokens_per_step ==
        doctest::Approx(2.44).epsilon(0.01));
  w.speculative.acceptance = {0.8};
  CHECK(simulate(llama8(), hw, w, closed(128, 64, 4, 8)).tokens_per_step ==
        simulate(llama8(), hw, w, closed(128, 64, 4, 8)).tokens_per_step);  // seeded
  serving_workload two_stages = w;
  two_stages.agg.L.pp = 2;
  CHECK_THROWS_WITH_AS(simulate(llama8(), hw, two_stages, closed(128, 64, 4, 8)),
                       "speculation: not modelled with pipeline stages (pp > 1)", input_error);
  w.speculative.acceptance = {0.8, 0.5};
  CHECK_THROWS_WITH_AS(simulate(llama8(), hw, w, closed(128, 64, 4, 8)),
                       "speculation: give one acceptance rate, or one per draft position (3), not 2",
                       input_error);
}

TEST_CASE("energy in the simulator: one request alone, by hand; against the closed form") {
  const hardware hw = h100();
  REQUIRE(hw.energy);
  const overlap pol = hw.timing.overlap;
  // one request of 1,024 + 64 tokens: its prompt's pass and 63 decode steps after 1,024 .. 1,086
  // cached tokens, each 0.1 ms longer for the iteration; the GPU idles from 0 to the last step's end
  // and each iteration's ops draw their joules, at most (TDP - idle) over the iteration
  const simulation_result r = simulate(llama8(), hw, one_gpu(), closed(1024, 64, 1, 1));
  const double idle = hw.energy->idle_w, room = hw.tdp_watts - idle;
  const auto spent = [&](const phase_estimate& e) {
    return std::min(e.dynamic_j, room * (e.time.value() + 0.1e-3));
  };
  double j = spent(estimate_pass(llama8(), hw, pass{phase::prefill, 1, 1024, 0, 1}, pol));
  for (int i = 0; i < 63; ++i)
    j += spent(estimate_pass(llama8(), hw, pass{phase::decode, 1, 1, 1024.0 + i, 1}, pol));
  j += idle * r.e2e.mean;
  REQUIRE(r.j_per_output_token);
  CHECK(*r.j_per_output_token == doctest::Approx(j / 64).epsilon(1e-6));
  CHECK(*r.power_w == doctest::Approx(j / r.e2e.mean).epsilon(1e-6));
  CHECK(*r.power_w <= hw.tdp_watts);
  // a loaded deployment: the closed form's steady state and the simulation within 10 %
  const serving_workload w{.isl = 1024, .osl = 700, .concurrency = 64};
  const serving_result closed_form = serve(llama8(), hw, w);
  const simulation_result sim = simulate(llama8(), hw, w, benchmark_load(w, 640));
  CHECK(*sim.j_per_output_token == doctest::Approx(*closed_form.j_per_output_token).epsilon(0.10));
}
