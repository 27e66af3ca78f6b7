// bench_estimate: full-model estimates per second (totals of prefill and decode, no per-op table).
//   build/examples/bench_estimate [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include "roofline/estimate/estimate.hpp"
#include "roofline/io/io.hpp"

namespace {

void bench(benchmark::State& state, const char* model) {
  const auto m = roofline::load_model(std::string(ROOFLINE_SOURCE_DIR "/model_specs/") + model + ".yaml");
  const auto hw = roofline::load_hardware(ROOFLINE_SOURCE_DIR "/hw_profiles/h100_sxm.yaml");
  std::int64_t batch = 1;
  for (auto _ : state) {
    // a new workload each time, so nothing is hoisted out of the loop
    const auto r = roofline::estimate(m, hw, {.batch = batch, .prefill = 4096, .generate = 100});
    benchmark::DoNotOptimize(r.ttft);
    batch = batch % 256 + 1;
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK_CAPTURE(bench, xlstm_7b, "xlstm_7b");
BENCHMARK_CAPTURE(bench, llama3_8b, "llama3_8b");
BENCHMARK_MAIN();
