// A consumer of the installed library: a model and an accelerator built in code, no YAML.
#include <cstdio>

#include <roofline/estimate.hpp>

int main() {
  using namespace roofline;
  // Llama-3-8B (grouped-query attention), as in model_specs/llama3_8b.yaml
  const model_spec llama{.name = "llama3_8b", .architecture = architecture::transformer, .d_model = 4096,
                         .n_layers = 32, .n_heads = 32, .ffn_dim = 14336, .vocab_size = 128256,
                         .attention = {.n_kv_heads = 8, .head_dim = 128}};
  // H100 SXM datasheet: 989.4 TFLOP/s dense bf16, 66.9 TFLOP/s fp32, 3.35 TB/s, 80 GB; pure roofline
  hardware h100{.name = "H100 SXM"};
  h100.matrix[std::size_t(dtype::bf16)] = 989.4e12 * flop_per_second;
  h100.vector[std::size_t(dtype::fp32)] = 66.9e12 * flop_per_second;
  h100.bandwidth = 3.35e12 * byte_per_second;
  h100.capacity = 80e9 * byte;
  const estimate_result r = estimate(llama, h100, {.batch = 1, .prefill = 4096, .generate = 128});
  std::printf("%s on %s: TTFT %.3f ms, step %.3f ms, %s-bound decode\n", llama.name.c_str(), h100.name.c_str(),
              r.ttft.value() * 1e3, r.step_time.value() * 1e3, std::string(name(r.decode.bound)).c_str());
  return 0;
}
