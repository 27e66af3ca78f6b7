/// Timing: the time of one op under an overlap policy, from a stack's measured kernel table where
/// it has the op's kind (kernels.hpp), else from the analytic model (analytic.hpp).
#pragma once

#include "roofline/timing/analytic.hpp"
#include "roofline/timing/kernels.hpp"

namespace roofline {

/// Time of one op for one layer: a collective by its link (time_comm); an op whose kernel the
/// stack's table measures by the table (time_kernel: its time includes the kernel's launch, so
/// the class's overhead is not added); any other op by analytic_time with the stack's parameters.
inline op_time time_op(const op& o, const hardware& hw, overlap policy) {
  if (o.cls == op_class::communication) return time_comm(o, hw);
  if (hw.timing.kernels)
    if (const auto s = shape_of(o))
      if (auto t = time_kernel(*s, hw, policy)) return *t;
  return analytic_time(o, hw, hw.timing, policy);
}

}  // namespace roofline
