// Properties every estimate has, over every shipped spec and part: finite and positive times, times
// that do not fall as the work grows, overlap bounds in order, faster parts never slower.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "helpers.hpp"
#include "roofline/estimate/estimate.hpp"
#include "roofline/io/io.hpp"

using namespace roofline;
namespace fs = std::filesystem;

namespace {

std::vector<model_spec> shipped_models() {
  std::vector<model_spec> out;
  for (const auto& e : fs::recursive_directory_iterator(test::source_dir + "/model_specs"))
    if (e.path().extension() == ".yaml") out.push_back(load_model(e.path().string()));
  return out;
}

// Every shipped part under every shipped stack (the fitted ones transferred to the other parts).
std::vector<hardware> shipped_parts() {
  std::vector<hardware> out;
  for (const auto& e : fs::directory_iterator(test::source_dir + "/hw_profiles"))
    for (const char* s : {"roofline", "datasheet", "hf_transformers_h100", "torch_harness_h200"})
      out.push_back(load_hardware(e.path().string(), test::source_dir + "/stacks/" + s + ".yaml"));
  return out;
}

// Whether a model has no attention: its decode step does not depend on the prompt.
bool recurrent_only(const model_spec& m) {
  for (const layer_kind& k : m.kinds)
    if (std::holds_alternative<attention_mixer>(k.mixer) || std::holds_alternative<mla_mixer>(k.mixer))
      return false;
  return true;
}

constexpr double slack = 1e-12;  // relative: sums in another order

// Whether the part has the units the model computes in (else estimate() says which are missing).
bool runs_on(const model_spec& m, const hardware& hw) {
  try {
    check_supported(m, hw, {});
    return true;
  } catch (const input_error&) {
    return false;
  }
}

}  // namespace

TEST_CASE("every shipped model on every shipped part: finite, positive, non-decreasing, bounded times") {
  const std::vector<model_spec> models = shipped_models();
  const std::vector<hardware> parts = shipped_parts();
  REQUIRE(models.size() >= 38);
  REQUIRE(parts.size() >= 13 * 4);
  const std::vector<std::int64_t> batches{1, 2, 4, 8, 16, 32, 64}, prompts{128, 512, 2048, 8192};
  long checked = 0;
  for (const model_spec& m : models)
    for (const hardware& hw : parts) {
      if (!runs_on(m, hw)) continue;  // fp8 models on parts without fp8 units
      CAPTURE(m.name);
      CAPTURE(hw.name);
      CAPTURE(hw.stack);
      std::vector<std::vector<estimate_result>> grid;  // [batch][prompt]
      for (std::int64_t b : batches) {
        grid.emplace_back();
        for (std::int64_t p : prompts) {
          if (m.max_context > 0 && p + 64 > m.max_context) continue;
          const workload w{.batch = b, .prefill = p, .generate = 64};
          CAPTURE(b);
          CAPTURE(p);
          const estimate_result r = estimate(m, hw, w);
          CHECK(std::isfinite(r.ttft.value()));
          CHECK(std::isfinite(r.step_time.value()));
          CHECK(r.ttft.value() > 0);
          CHECK(r.step_time.value() > 0);
          CHECK(std::isfinite(r.memory.total().value()));
          // the overlap policies in order: max <= p-norm <= sum
          const estimate_result lo = estimate(m, hw, w, overlap::perfect),
                                hi = estimate(m, hw, w, overlap::none);
          const estimate_result mid = estimate(m, hw, w, overlap::smooth);
          CHECK(lo.ttft.value() <= mid.ttft.value() * (1 + slack));
          CHECK(mid.ttft.value() <= hi.ttft.value() * (1 + slack));
          CHECK(lo.step_time.value() <= mid.step_time.value() * (1 + slack));
          CHECK(mid.step_time.value() <= hi.step_time.value() * (1 + slack));
          grid.back().push_back(r);
          ++checked;
        }
      }
      for (std::size_t i = 0; i < grid.size(); ++i)
        for (std::size_t j = 0; j < grid[i].size(); ++j) {
          CAPTURE(batches[i]);
          CAPTURE(prompts[j]);
          if (i > 0) {  // a larger batch at the same prompt
            CHECK(grid[i][j].ttft.value() >= grid[i - 1][j].ttft.value() * (1 - slack));
            CHECK(grid[i][j].step_time.value() >= grid[i - 1][j].step_time.value() * (1 - slack));
          }
          if (j > 0) {  // a longer prompt at the same batch
            CHECK(grid[i][j].ttft.value() >= grid[i][j - 1].ttft.value() * (1 - slack));
            if (recurrent_only(m))
              CHECK(grid[i][j].step_time.value() ==
                    doctest::Approx(grid[i][j - 1].step_time.value()).epsilon(1e-12));
            else
              CHECK(grid[i][j].step_time.value() >= grid[i][j - 1].step_time.value() * (1 - slack));
          }
        }
    }
  CHECK(checked > 10000);
}

TEST_CASE("more bandwidth or more FLOP/s is never slower") {
  const std::vector<model_spec> models = shipped_models();
  for (const hardware& base : shipped_parts()) {
    hardware fast_memory = base, fast_compute = base;
    fast_memory.bandwidth = base.bandwidth * 2.0;
    for (auto& p : fast_compute.matrix)
      if (p) *p = *p * 2.0;
    for (auto& p : fast_compute.vector)
      if (p) *p = *p * 2.0;
    for (const model_spec& m : models)
      for (const workload& w : {workload{.batch = 1, .prefill = 512, .generate = 32},
                                workload{.batch = 32, .prefill = 2048, .generate = 256}}) {
        if ((m.max_context > 0 && w.prefill + w.generate > m.max_context) || !runs_on(m, base)) continue;
        CAPTURE(m.name);
        CAPTURE(base.name);
        const estimate_result r = estimate(m, base, w);
        for (const hardware* faster : {&fast_memory, &fast_compute}) {
          const estimate_result f = estimate(m, *faster, w);
          CHECK(f.ttft.value() <= r.ttft.value() * (1 + slack));
          CHECK(f.step_time.value() <= r.step_time.value() * (1 + slack));
        }
      }
  }
}

TEST_CASE("for the same stack, a part faster in every datasheet number is never slower") {
  const std::vector<model_spec> models = shipped_models();
  std::vector<part> parts;
  for (const auto& e : fs::directory_iterator(test::source_dir + "/hw_profiles"))
    parts.push_back(load_part(e.path().string()));
  // b at least a in every number a states: each peak a has, bandwidth, units, and the clock where both state
  // one
  const auto at_least = [](const part& b, const part& a) {
    for (std::size_t d = 0; d < all_dtypes.size(); ++d) {
      if (a.matrix[d] && (!b.matrix[d] || *b.matrix[d] < *a.matrix[d])) return false;
      if (a.vector[d] && (!b.vector[d] || *b.vector[d] < *a.vector[d])) return false;
    }
    const bool clocks = a.clock_mhz == 0 || b.clock_mhz == 0 || b.clock_mhz >= a.clock_mhz;
    return b.bandwidth >= a.bandwidth && b.compute_units >= a.compute_units && clocks;
  };
  int pairs = 0;
  for (const char* stack_name : {"roofline", "datasheet", "hf_transformers_h100", "torch_harness_h200"}) {
    const stack s = load_stack(test::source_dir + "/stacks/" + stack_name + ".yaml");
    for (const part& a : parts)
      for (const part& b : parts) {
        if (&a == &b || !at_least(b, a)) continue;
        ++pairs;
        const hardware slow = drive(a, s), fast = drive(b, s);
        for (const model_spec& m : models) {
          if (!runs_on(m, slow) || !runs_on(m, fast)) continue;
          for (const workload& w : {workload{.batch = 1, .prefill = 128, .generate = 16},
                                    workload{.batch = 16, .prefill = 1024, .generate = 128},
                                    workload{.batch = 64, .prefill = 4096, .generate = 64}}) {
            if (m.max_context > 0 && w.prefill + w.generate > m.max_context) continue;
            CAPTURE(stack_name);
            CAPTURE(a.name);
            CAPTURE(b.name);
            CAPTURE(m.name);
            const estimate_result rs = estimate(m, slow, w), rf = estimate(m, fast, w);
            CHECK(rf.ttft.value() <= rs.ttft.value() * (1 + slack));
            CHECK(rf.step_time.value() <= rs.step_time.value() * (1 + slack));
          }
        }
      }
  }
  CHECK(pairs >= 4 * 4);  // H100 PCIe < SXM < H200, A100 40 < 80 GB, ... under each of 4 stacks
}
