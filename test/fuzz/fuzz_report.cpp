// Fuzz target: load, then report. A model spec that reads is estimated on the calibrated H100
// at a workload and layout taken from the input's last bytes, and rendered in every format; every number a
// report prints must be finite, or the input refused with an input_error.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "roofline/io/io.hpp"
#include "roofline/report/report.hpp"

namespace {
const roofline::hardware& h100() {
  static const roofline::hardware hw =
      roofline::load_hardware(ROOFLINE_SOURCE_DIR "/hw_profiles/h100_sxm.yaml",
                              ROOFLINE_SOURCE_DIR "/stacks/hf_transformers_h100.yaml");
  return hw;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // batch 1..64, prompt 1..65536, generate 1..1024 from the last three bytes
  const auto byte = [&](std::size_t back) { return size > back ? data[size - 1 - back] : 0; };
  roofline::workload w{.batch = 1 + byte(0) % 64,
                       .prefill = 1 + (std::int64_t(1) << (byte(1) % 17)) - 1,
                       .generate = 1 + byte(2) * 4};
  // and a layout from the byte before: tp, ep, dp in 1, 2, 4, 8 and pp in 1..4 (one GPU when 0)
  if (const std::uint8_t l = byte(3); l % 4 != 0)
    w.parallel = {.tp = 1 << (l % 4),
                  .pp = 1 + (l >> 2) % 4,
                  .ep = 1 << ((l >> 4) % 4),
                  .dp = 1 << ((l >> 6) % 4),
                  .microbatches = 0,
                  .sequence_parallel = (l & 16) != 0};
  try {
    const roofline::model_spec m = roofline::is_hf_config(text)
                                       ? roofline::parse_model(roofline::import_hf(text, "fuzz.json"), "fuzz")
                                       : roofline::parse_model(text, "fuzz.yaml");
    const roofline::report r = roofline::make_report(m, h100(), w, std::nullopt);
    if (!std::isfinite(r.result.ttft.value()) || !std::isfinite(r.result.step_time.value()) ||
        !std::isfinite(r.result.memory.total().value()) || !(r.result.ttft.value() > 0))
      std::abort();  // a report would print a number that is not one
    for (auto f :
         {roofline::report_format::table, roofline::report_format::json, roofline::report_format::csv})
      (void)roofline::render(roofline::estimate_view{r, true}, f);
  } catch (const roofline::input_error&) {}
  return 0;
}
