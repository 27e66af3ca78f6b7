// report: the views of a sweep (report.hpp): its rows as CSV or JSON lines, and what it took.
#include <fmt/format.h>

#include "roofline/report/report.hpp"

namespace roofline {

void sweep_rows(std::string& out, const sweep_grid& g, std::size_t first,
                std::span<const estimate_point> points, report_format f, bool header) {
  auto it = std::back_inserter(out);
  if (f == report_format::csv && header && first == 0)
    out +=
        "batch,prefill,generate,tp,pp,ep,dp,ttft_s,step_s,tokens_per_s,e2e_tokens_per_s,memory_gb,fits,"
        "prefill_bound,decode_bound\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const workload w = g.at((first + i) % g.size());
    const estimate_point& p = points[i];
    const layout& L = w.parallel;
    if (f == report_format::csv)
      fmt::format_to(it, "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", w.batch, w.prefill, w.generate,
                     L.tp, L.pp, L.ep, L.dp, p.ttft_s, p.step_s, p.tokens_per_s, p.e2e_tokens_per_s,
                     p.memory_bytes / 1e9, p.fits, name(p.prefill_bound), name(p.decode_bound));
    else
      fmt::format_to(
          it,
          "{{\"batch\":{},\"prefill\":{},\"generate\":{},\"tp\":{},\"pp\":{},\"ep\":{},\"dp\":{},"
          "\"ttft_s\":{},\"step_s\":{},\"tokens_per_s\":{},\"e2e_tokens_per_s\":{},\"memory_gb\":{},"
          "\"fits\":{},\"prefill_bound\":\"{}\",\"decode_bound\":\"{}\"}}\n",
          w.batch, w.prefill, w.generate, L.tp, L.pp, L.ep, L.dp, p.ttft_s, p.step_s, p.tokens_per_s,
          p.e2e_tokens_per_s, p.memory_bytes / 1e9, p.fits, name(p.prefill_bound), name(p.decode_bound));
  }
}

nlohmann::ordered_json sweep_summary_view::json() const {
  nlohmann::ordered_json j;
  j["estimates"] = s.estimates;
  j["seconds"] = s.seconds;
  j["estimates_per_s"] = s.seconds > 0 ? double(s.estimates) / s.seconds : 0.0;
  j["threads"] = s.threads;
  j["checksum_ttft_s"] = s.checksum_ttft_s;
  j["checksum_step_s"] = s.checksum_step_s;
  j["folded"] = s.made.folded;
  j["scalar"] = s.made.scalar;
  j["simd"] = simd_target();
  j["model"] = m.name;
  j["hardware"] = hw.name;
  j["stack"] = hw.stack;
  j["overlap"] = name(s.policy);
  return j;
}

}  // namespace roofline
