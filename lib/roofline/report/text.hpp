/// report internals: numbers in words for tables (SI prefixes, durations).
#pragma once

#include <array>
#include <cmath>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "roofline/base/units.hpp"
#include "roofline/serving/serving.hpp"

namespace roofline::detail {

/// A value with an SI prefix chosen for people: 1.23 TFLOP, 45.6 GB, 7.89 ms.
inline std::string si(double v, std::string_view unit) {
  static constexpr std::array<std::pair<double, const char*>, 7> big{
      {{1e18, "E"}, {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}}};
  if (v == 0) return fmt::format("0 {}", unit);
  for (auto [scale, prefix] : big)
    if (std::abs(v) >= scale) return fmt::format("{:.4g} {}{}", v / scale, prefix, unit);
  return fmt::format("{:.4g} {}", v, unit);
}

/// A count with an SI prefix and no unit: 39.98 M, 512.3 k, 12.5.
inline std::string count_text(double v) {
  std::string s = si(v, "");
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

/// A duration in s, ms, us or ns, four significant digits.
inline std::string duration(seconds t) {
  const double s = t.value();
  if (s >= 1) return fmt::format("{:.4g} s", s);
  if (s >= 1e-3) return fmt::format("{:.4g} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.4g} us", s * 1e6);
  return fmt::format("{:.4g} ns", s * 1e9);
}

/// A deployment in a few words for tables and charts: "1x tp 2" (aggregated: workers x layout)
/// or "prefill 4x tp 1, decode 1x tp 1 dp 4 ep 4"; pp, dp and ep only where above 1.
inline std::string short_deployment(const serving_workload& w) {
  const auto pool = [](const worker_pool& p) {
    return fmt::format("{}x tp {}{}{}{}", p.workers, p.L.tp, p.L.pp > 1 ? fmt::format(" pp {}", p.L.pp) : "",
                       p.L.dp > 1 ? fmt::format(" dp {}", p.L.dp) : "",
                       p.L.ep > 1 ? fmt::format(" ep {}", p.L.ep) : "");
  };
  return w.disaggregated ? fmt::format("prefill {}, decode {}", pool(w.prefill), pool(w.decode))
                         : pool(w.agg);
}

}  // namespace roofline::detail
