// Fuzz target: an engine-runs CSV, each run then mapped and served on a small catalogue (one MoE
// spec, the H100 part, the roofline stack as every engine's).
#include <cstdint>
#include <string>

#include "roofline/fit/engine_runs.hpp"
#include "roofline/io/io.hpp"

namespace {
const roofline::serving_catalogue& catalogue() {
  static const roofline::serving_catalogue c = [] {
    const std::string src = ROOFLINE_SOURCE_DIR;
    roofline::serving_catalogue k;
    k.specs.push_back(roofline::load_model(src + "/model_specs/qwen3_235b_a22b.yaml"));
    k.specs.push_back(roofline::load_model(src + "/model_specs/llama3.1_8b.yaml"));
    k.parts.push_back(roofline::load_part(src + "/hw_profiles/h100_sxm.yaml"));
    k.fallback = roofline::load_stack(src + "/stacks/roofline.yaml");
    return k;
  }();
  return c;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto runs =
        roofline::parse_engine_runs(std::string(reinterpret_cast<const char*>(data), size), "fuzz.csv");
    for (std::size_t i = 0; i < runs.size() && i < 4; ++i) (void)roofline::predict_run(catalogue(), runs[i]);
  } catch (const roofline::input_error&) {}
  return 0;
}
