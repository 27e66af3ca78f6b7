// The batched evaluator (sweep.hpp) against estimate(), the scalar path it must equal.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "roofline/estimate/estimate.hpp"
#include "roofline/io/io.hpp"
#include "roofline/sweep/sweep.hpp"

using namespace roofline;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> files_in(const std::string& dir, bool recursive = false) {
  std::vector<std::string> out;
  if (recursive) {
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  } else {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-12 * std::max(std::abs(a), std::abs(b)); }

// Whether the parts of a pass's time are so close that rounding may pick either as the bound.
bool tie(const phase_estimate& e) {
  const std::array<double, 4> v{e.compute_bound_time.value(), e.memory_bound_time.value(), e.overhead.value(),
                                e.communication.value()};
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t j = i + 1; j < v.size(); ++j)
      if (v[i] > 0 && close(v[i], v[j]) && v[i] == std::max({v[0], v[1], v[2], v[3]})) return true;
  return false;
}

// Checks estimate_many over the workloads against estimate() one by one: equal figures, and an
// error for exactly the workloads estimate() refuses. Returns the points compared.
int compare(const model_spec& m, const hardware& hw, overlap pol, const std::vector<workload>& ws) {
  int compared = 0;
  std::vector<workload> ok;
  std::vector<estimate_result> expected;
  for (const workload& w : ws) {
    try {
      expected.push_back(estimate(m, hw, w, pol));
      ok.push_back(w);
    } catch (const input_error& e) {  // refused alone, so that it hides none of the others
      std::vector<estimate_point> out(1);
      CHECK_THROWS_WITH_AS(estimate_many(m, hw, {&w, 1}, out, pol), e.what(), input_error);
    }
  }
  std::vector<estimate_point> got(ok.size());
  estimate_many(m, hw, ok, got, pol, 2);
  for (std::size_t i = 0; i < ok.size(); ++i) {
    const estimate_point want = point_of(expected[i]);
    const estimate_point& p = got[i];
    INFO(m.name, " on ", hw.name, " (", hw.stack, ", ", name(pol), "): batch ", ok[i].batch, " prompt ",
         ok[i].prefill, " generate ", ok[i].generate, " tp ", ok[i].parallel.tp, " pp ", ok[i].parallel.pp,
         " ep ", ok[i].parallel.ep, " dp ", ok[i].parallel.dp);
    CHECK(close(p.ttft_s, want.ttft_s));
    CHECK(close(p.step_s, want.step_s));
    CHECK(close(p.tokens_per_s, want.tokens_per_s));
    CHECK(close(p.e2e_tokens_per_s, want.e2e_tokens_per_s));
    CHECK(close(p.memory_bytes, want.memory_bytes));
    CHECK(p.fits == want.fits);
    if (!tie(expected[i].prefill)) CHECK(p.prefill_bound == want.prefill_bound);
    if (!tie(expected[i].decode)) CHECK(p.decode_bound == want.decode_bound);
    ++compared;
  }
  return compared;
}

// Batches that cross the GEMM tiles (128 rows), the split-KV and wave limits of 132 units, the
// 1-token and many-token forwards; prompts from 1 token to past the attention-kernel switch.
std::vector<workload> grid(const layout& L = {}) {
  std::vector<workload> ws;
  for (std::int64_t p : {1, 100, 2049, 5000})
    for (std::int64_t g : {1, 300})
      for (std::int64_t b : {1, 2, 3, 7, 64, 133, 333})
        ws.push_back({.batch = b, .prefill = p, .generate = g, .parallel = L});
  return ws;
}

}  // namespace

TEST_CASE("the batched path equals estimate() on every shipped spec and part, under every overlap policy") {
  // every spec on every part with the datasheet stack, then every stack on the H100 and on its own part
  const auto specs = files_in(test::source_dir + "/model_specs", true);
  const auto parts = files_in(test::source_dir + "/hw_profiles");
  const auto stacks = files_in(test::source_dir + "/stacks");
  REQUIRE(specs.size() >= 30);
  REQUIRE(parts.size() >= 8);
  REQUIRE(stacks.size() >= 15);
  const auto ws = grid();
  int compared = 0;
  for (const auto& spec : specs) {
    const model_spec m = load_model(spec);
    for (const auto& part : parts) {
      const hardware hw = load_hardware(part, test::source_dir + "/stacks/datasheet.yaml");
      for (overlap pol : all_overlaps) compared += compare(m, hw, pol, ws);
    }
  }
  for (const auto& stack : stacks) {
    for (const char* part : {"h100_sxm", "b200"}) {
      const hardware hw = load_hardware(test::source_dir + "/hw_profiles/" + part + ".yaml", stack);
      for (const auto& spec : specs) {
        const model_spec m = load_model(spec);
        for (overlap pol : all_overlaps) compared += compare(m, hw, pol, ws);
      }
    }
  }
  CHECK(compared > 100000);
}

TEST_CASE("the batched path equals estimate() over layouts of several GPUs") {
  const hardware hw = test::shipped("h100_sxm", "trtllm_h100_sxm");
  const model_spec llama = load_model(test::source_dir + "/model_specs/llama3.1_70b.yaml");
  const model_spec mixtral = load_model(test::source_dir + "/model_specs/mixtral_8x7b.yaml");
  const model_spec dsv3 = load_model(test::source_dir + "/model_specs/deepseek_v3.yaml");
  for (overlap pol : all_overlaps) {
    for (const layout& L :
         {layout{.tp = 2}, layout{.tp = 8}, layout{.tp = 4, .sequence_parallel = true},
          layout{.tp = 4, .pp = 2}, layout{.tp = 2, .pp = 4, .microbatches = 8}, layout{.tp = 2, .dp = 4}})
      compare(llama, hw, pol, grid(L));
    for (const layout& L :
         {layout{.tp = 2, .ep = 2}, layout{.tp = 4, .pp = 2, .ep = 4}, layout{.tp = 2, .ep = 4, .dp = 2}})
      compare(mixtral, hw, pol, grid(L));
    compare(dsv3, hw, pol, grid(layout{.tp = 8, .ep = 8}));
  }
}

TEST_CASE(
    "a column is folded when its counts are affine in the batch, else estimated one workload at a time") {
  const hardware hw = test::h100_calibrated();
  std::vector<estimate_point> out(7);
  SUBCASE("a dense transformer: every column folded") {
    sweep_engine e(load_model(test::source_dir + "/model_specs/llama3_8b.yaml"), hw);
    const auto ws = grid();
    out.resize(ws.size());
    e.estimate_many(ws, out);
    CHECK(e.made().folded == ws.size());
    CHECK(e.made().scalar == 0);
  }
  SUBCASE("MoE: the experts 8 x 7 tokens touch are not affine in the batch, those of 7 x 4096 are all 8") {
    // Mixtral: 8 experts, top 2; 7 sequences of 1 token touch 8 (1 - 0.75^7) = 6.93 experts in
    // expectation, 1 sequence 2: a decode step's counts are not affine; a 4096-token prompt's are
    const model_spec m = load_model(test::source_dir + "/model_specs/mixtral_8x7b.yaml");
    CHECK(distinct_experts(std::get<moe_channel>(m.kinds[0].channel), 7) ==
          doctest::Approx(8 * (1 - std::pow(0.75, 7))).epsilon(1e-12));
    sweep_engine e(m, hw);
    std::vector<workload> ws;
    for (std::int64_t b = 1; b <= 7; ++b) ws.push_back({.batch = b, .prefill = 4096, .generate = 64});
    e.estimate_many(ws, out);
    // the prefill folds, the decode does not: the column is estimated one workload at a time
    CHECK(e.made().scalar == 7);
    for (std::size_t i = 0; i < ws.size(); ++i)
      CHECK(close(out[i].step_s, estimate(m, hw, ws[i]).step_time.value()));
  }
}

TEST_CASE("threads and repeated columns give the same figures, to the bit") {
  const model_spec m = load_model(test::source_dir + "/model_specs/paper/xlstm_7b.yaml");
  const hardware hw = test::h100_calibrated();
  sweep_grid g{
      .batch = {1, 2, 4, 8, 16, 32, 64, 128, 256}, .prefill = {128, 1024, 8192, 65536}, .generate = {128}};
  REQUIRE(g.size() == 36);
  CHECK(g.at(0).batch == 1);
  CHECK(g.at(10).batch == 2);  // batch fastest: point 10 is column 1 (prompt 1024), batch 2
  CHECK(g.at(10).prefill == 1024);
  CHECK(g.at(35).prefill == 65536);
  sweep_engine e(m, hw);
  std::vector<estimate_point> one(g.size()), three(g.size()), again(g.size());
  e.evaluate(g, 0, one, 1);
  e.evaluate(g, 0, three, 3);
  e.evaluate(g, 0, again, 1);
  for (std::size_t i = 0; i < g.size(); ++i) {
    CHECK(one[i].ttft_s == three[i].ttft_s);
    CHECK(one[i].step_s == again[i].step_s);
    CHECK(close(one[i].ttft_s, estimate(m, hw, g.at(i)).ttft.value()));
  }
}

TEST_CASE("a workload estimate() refuses is refused with its message") {
  const model_spec m = load_model(test::source_dir + "/model_specs/llama3_8b.yaml");
  const hardware hw = test::h100_roofline();
  std::vector<workload> ws{{.batch = 4, .prefill = 128, .generate = 8},
                           {.batch = 0, .prefill = 128, .generate = 8}};
  std::vector<estimate_point> out(2);
  CHECK_THROWS_WITH_AS(estimate_many(m, hw, ws, out, std::nullopt, 2),
                       "workload: batch (0), prefill (128) and generate (8) must be positive", input_error);
  const model_spec gpt2 = load_model(test::source_dir + "/model_specs/gpt2.yaml");
  ws[1] = {.batch = 1, .prefill = 1020, .generate = 8};  // beyond GPT-2's 1,024-token context
  CHECK_THROWS_WITH_AS(
      estimate_many(gpt2, hw, ws, out),
      doctest::Contains("prefill 1020 + generate 8 = 1028 tokens exceeds the maximum context"), input_error);
  ws[1] = {.batch = 1, .prefill = 128, .generate = 8, .parallel = {.tp = 3}};
  CHECK_THROWS_WITH_AS(estimate_many(m, hw, ws, out),
                       doctest::Contains("tp 3 does not divide the 32 query heads"), input_error);
}
