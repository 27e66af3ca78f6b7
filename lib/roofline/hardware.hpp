/// An accelerator: datasheet peaks, memory, and the timing parameters of the roofline.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "roofline/dtype.hpp"
#include "roofline/ops.hpp"
#include "roofline/units.hpp"

namespace roofline {

/// How an op's compute time t_c and memory time t_m combine.
enum class overlap {
  perfect,  ///< max(t_c, t_m): loads fully hidden behind compute or vice versa
  none,     ///< t_c + t_m: no overlap at all
  smooth,   ///< (t_c^p + t_m^p)^(1/p): p = 1 is `none`, p -> infinity is `perfect`
};

inline constexpr std::array all_overlaps{overlap::perfect, overlap::none, overlap::smooth};

constexpr std::string_view name(overlap o) {
  constexpr std::array<std::string_view, 3> names{"perfect", "none", "smooth"};
  return names[static_cast<std::size_t>(o)];
}

/// Achieved fraction of a peak, in (0, 1]: 1 is the pure roofline.
struct class_efficiency {
  double compute = 1;  ///< of the peak FLOP/s of the op's class and dtype
  double memory = 1;   ///< of the memory bandwidth
};

/// Parameters that turn counts into time; the pure roofline is efficiency 1, overhead 0.
struct timing_params {
  enum overlap overlap = overlap::perfect;  ///< the profile's default policy
  double smooth_exponent = 2;               ///< p of the smooth policy, >= 1
  std::array<class_efficiency, all_op_classes.size()> efficiency{};  ///< indexed by op_class
  seconds overhead_per_op{};       ///< added to every op of every layer (kernel launch)
  seconds overhead_per_forward{};  ///< added once per prefill and once per decode step

  constexpr const class_efficiency& of(op_class c) const { return efficiency[static_cast<std::size_t>(c)]; }
};

using peak_table = std::array<std::optional<flop_rate>, all_dtypes.size()>;

struct hardware {
  std::string name{};
  std::string file{};  ///< where it was read from (for messages); empty when built in code
  peak_table matrix{}; ///< dense tensor/matrix-unit peak per dtype (no sparsity)
  peak_table vector{}; ///< vector-unit (CUDA core, SIMD) peak per dtype
  byte_rate bandwidth{};
  bytes capacity{};
  double tdp_watts = 0;
  timing_params timing{};
};

constexpr std::optional<flop_rate> peak_of(const peak_table& t, dtype d) {
  return t[static_cast<std::size_t>(d)];
}

/// Peak FLOP/s that bounds an op: the vector table for vector ops, the matrix table
/// for matrix, attention and recurrent ops (all three run their inner products on the
/// tensor units). Missing entries are 0; estimate() checks them first.
constexpr flop_rate peak(const hardware& hw, op_class c, dtype d) {
  const auto p = peak_of(c == op_class::vector ? hw.vector : hw.matrix, d);
  return p ? *p : 0 * flop_per_second;
}

/// Ridge point: the intensity (FLOP/B) above which a matrix op in dtype d is compute-bound,
/// peak(matrix, d) / bandwidth.
constexpr intensity ridge_point(const hardware& hw, dtype d) { return peak(hw, op_class::matrix, d) / hw.bandwidth; }

}  // namespace roofline
