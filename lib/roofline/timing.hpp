/// Timing: the roofline time of one op under an overlap policy.
#pragma once

#include <cmath>

#include "roofline/hardware.hpp"
#include "roofline/ops.hpp"

namespace roofline {

enum class bound { compute, memory, overhead };

constexpr std::string_view name(bound b) {
  return b == bound::compute ? "compute" : b == bound::memory ? "memory" : "overhead";
}

/// Combines compute time t_c and memory time t_m under a policy (see overlap).
inline seconds combine(seconds tc, seconds tm, overlap policy, double p) {
  switch (policy) {
    case overlap::perfect: return max(tc, tm);
    case overlap::none: return tc + tm;
    case overlap::smooth: {
      const double c = tc.value(), m = tm.value(), hi = std::max(c, m);
      if (hi == 0) return 0 * second;
      // hi (1 + (lo/hi)^p)^(1/p), which is the p-norm without overflow for large p
      return hi * std::pow(1 + std::pow(std::min(c, m) / hi, p), 1 / p) * second;
    }
  }
  return 0 * second;
}

struct op_time {
  seconds compute;  ///< t_c = FLOPs / (peak(class, dtype) e_c)
  seconds memory;   ///< t_m = bytes / (bandwidth e_m)
  seconds total;    ///< overlap(t_c, t_m) + overhead per op, for one layer
  enum bound bound; ///< compute if t_c >= t_m, else memory
};

/// Time of one op for one layer: t = overlap(t_c, t_m) + overhead_per_op.
inline op_time time_op(const op& o, const hardware& hw, overlap policy) {
  const class_efficiency& e = hw.timing.of(o.cls);
  const seconds tc = o.work.value() == 0 ? 0 * second : o.work / (peak(hw, o.cls, o.compute) * e.compute);
  const seconds tm = o.moved.total() / (hw.bandwidth * e.memory);
  return {tc, tm, combine(tc, tm, policy, hw.timing.smooth_exponent) + hw.timing.overhead_per_op,
          tc >= tm ? bound::compute : bound::memory};
}

}  // namespace roofline
