// A consumer of the installed library: every public header included, a model and an accelerator
// built in code (no YAML), an estimate and its JSON report.
#include <cstdio>

#include <roofline/roofline.hpp>  // the umbrella first: it must stand on its own

#include <roofline/base/dtype.hpp>
#include <roofline/base/error.hpp>
#include <roofline/base/names.hpp>
#include <roofline/base/op.hpp>
#include <roofline/base/units.hpp>
#include <roofline/estimate/compare.hpp>
#include <roofline/estimate/estimate.hpp>
#include <roofline/fit/calibrate.hpp>
#include <roofline/fit/engine_runs.hpp>
#include <roofline/graph/attention.hpp>
#include <roofline/graph/common.hpp>
#include <roofline/graph/deltanet.hpp>
#include <roofline/graph/graph.hpp>
#include <roofline/graph/mamba.hpp>
#include <roofline/graph/mla.hpp>
#include <roofline/graph/mlp.hpp>
#include <roofline/graph/mlstm.hpp>
#include <roofline/graph/moe.hpp>
#include <roofline/io/io.hpp>
#include <roofline/report/plot.hpp>
#include <roofline/report/report.hpp>
#include <roofline/report/view.hpp>
#include <roofline/scaling/scaling.hpp>
#include <roofline/serving/deploy.hpp>
#include <roofline/serving/serving.hpp>
#include <roofline/spec/accounting.hpp>
#include <roofline/spec/hardware.hpp>
#include <roofline/spec/measurement.hpp>
#include <roofline/spec/model_spec.hpp>
#include <roofline/spec/scaling_fits.hpp>
#include <roofline/spec/workload.hpp>
#include <roofline/sweep/sweep.hpp>
#include <roofline/timing/timing.hpp>

int main() {
  using namespace roofline;
  // Llama-3-8B: 32 layers of grouped-query attention and a SwiGLU MLP, as in model_specs/llama3_8b.yaml
  model_spec llama{.name = "llama3_8b", .d_model = 4096, .vocab_size = 128256};
  set_uniform_layers(llama,
                     {.mixer_name = "attention",
                      .channel_name = "mlp",
                      .mixer = attention_mixer{.n_heads = 32, .n_kv_heads = 8, .head_dim = 128},
                      .channel = mlp_channel{.ffn_dim = 14336}},
                     32);
  // H100 SXM datasheet: 989.4 TFLOP/s dense bf16, 66.9 TFLOP/s fp32, 3.35 TB/s, 80 GB; pure roofline
  // (a hardware is a part, its datasheet, and the timing of a stack: the default, the pure roofline)
  hardware h100{part{.name = "H100 SXM", .bandwidth = 3.35e12 * byte_per_second, .capacity = 80e9 * byte}};
  h100.matrix[std::size_t(dtype::bf16)] = 989.4e12 * flop_per_second;
  h100.vector[std::size_t(dtype::fp32)] = 66.9e12 * flop_per_second;
  const workload w{.batch = 1, .prefill = 4096, .generate = 128};
  const estimate_result r = estimate(llama, h100, w);
  std::printf("%s on %s: TTFT %.3f ms, step %.3f ms, %s-bound decode, %.0f parameters\n", llama.name.c_str(),
              h100.name.c_str(), r.ttft.value() * 1e3, r.step_time.value() * 1e3,
              std::string(name(r.decode.bound)).c_str(), parameters(llama));
  const std::string json =
      render(estimate_view{make_report(llama, h100, w, std::nullopt)}, report_format::json);
  std::printf("JSON report of %zu bytes\n", json.size());
  return 0;
}
