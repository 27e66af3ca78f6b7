/// Internal to the library (sweep.cpp, sweep_simd.cpp): a pass's ops with their constants
/// folded, as the batched evaluator times them for many batches at once. Not installed.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "roofline/spec/hardware.hpp"

namespace roofline::batched {

/// A count as a function of the pass's batch x (sequences of one GPU's pass): at0 + per x.
/// The graph's counts are affine in the batch for a given prompt, context and layout (rows,
/// items and bytes of activations, KV cache and state grow with it, weights do not); sweep.cpp
/// checks this at probe batches and evaluates a pass whose counts are not (the experts a MoE
/// layer touches) one workload at a time, with the scalar code.
struct affine {
  double at0 = 0, per = 0;
};

/// One non-communication op, everything time_op() needs, per layer.
struct op_plan {
  double layers = 1;                ///< identical layers it stands for (op::layers.count)
  affine work, bytes, rows, items;  ///< FLOPs, bytes moved, GEMM rows (gemm.m), work items (op::parallel)
  double gemm_n = 0, gemm_k = 0, groups = 1;
  double steps = 0, item_size = 1;  ///< op::item_steps, op::item_size
  double peak = 0;                  ///< peak(hw, class, compute format), FLOP/s
  class_timing e{};                 ///< the parameters that time it (timing_params::of(op))
  bool tiles = false;               ///< a matrix op on a part with GEMM tiles: gemm_utilisation applies
  bool has_items = false;           ///< a work-item class (has_work_items)
  bool split = false;               ///< op::split_steps
  bool zero_work = false;           ///< FLOPs 0 at every batch (t_c = 0)
  /// Occupancy 1, utilisation 1, no item steps or setup: time_op() is overlap(F / peak e_c,
  /// bytes / bw e_m) + overhead, its divisors constant (set by sweep.cpp: simple()).
  bool simple = false;
  /// The simple form's constants (set with `simple`), the layer count folded in: t_c n = c0 +
  /// c1 x, t_m n = m0 + m1 x, overhead n = extra.
  double c0 = 0, c1 = 0, m0 = 0, m1 = 0, extra = 0;
  bool steps_term = false;  ///< t_s can be non-zero: a work-item class with a per-step latency
};

/// Whether time_op() reduces to its simple form for an op.
inline bool simple(const op_plan& o) {
  const bool items =
      o.has_items && (o.e.half_parallel > 0 || o.e.per_item.value() != 0 || o.e.per_step.value() != 0);
  return !items && !o.tiles;
}

/// One collective: t = fixed + volume message / rate (time_comm), per layer.
struct comm_plan {
  double layers = 1;
  affine message;
  double fixed = 0, volume = 0, rate = 0;  ///< rate 0: no link, time 0
};

/// The simple ops of a pass summed in closed form, under the perfect or the none policy: each
/// one's busy time is max(t_c, t_m) or t_c + t_m of two affine functions of x, so their sum,
/// and the part of it in compute-bound ops, are piecewise linear in x, with a break where an op
/// turns from memory- to compute-bound (t_c = t_m). Below the first break the busy time is
/// t0 + t1 x and the compute-bound time c0 + c1 x; past break k each gains the k-th of dt0 +
/// dt1 x and dc0 + dc1 x (a lane adds the pieces of the breaks it is past: no table lookups).
struct piecewise {
  std::vector<double> breaks;  ///< ascending, positive
  double t0 = 0, t1 = 0, c0 = 0, c1 = 0;
  std::vector<double> dt0, dt1, dc0, dc1;  ///< per break
  double extra = 0;                        ///< the ops' overheads, layer counts folded in
};

/// A pass of one GPU (one stage) for a column of the grid: its ops and collectives.
struct pass_plan {
  std::vector<op_plan> ops;  ///< with `summed`: the ops not in it
  std::vector<comm_plan> comms;
  double tokens = 1;                ///< T, new tokens per sequence (B T > 1: the batched forward's overhead)
  std::optional<piecewise> summed;  ///< the simple ops, summed (perfect and none policies)
};

/// Sums the simple ops of a pass into its piecewise form (perfect or none policy), leaving the
/// others in pp.ops (sweep.cpp).
void sum_simple_ops(pass_plan& pp, overlap policy);

/// What the evaluator needs of the part and stack.
struct machine {
  double units = 0, tile_m = 0, tile_n = 0, bandwidth = 0;
  bool waves = false;
  overlap policy = overlap::perfect;
  double p = 2;  ///< the smooth policy's exponent
  overlap comm_overlap = overlap::none;
  double per_forward = 0, per_batched = 0;  ///< seconds
  double tiny_ratio = 0;  ///< e^(-36.8 / p): below it, (lo / hi)^p < 1e-16 and the smooth p-norm is hi
};

/// Per-lane sums of one pass, as time_ops() keeps them (seconds).
struct lane_sums {
  double* time;
  double* overhead;
  double* compute;  ///< time of compute-bound ops
  double* memory;   ///< time of memory-bound ops
  double* comm;     ///< the part of `time` collectives add
};

/// Lanes are evaluated in blocks whose length is a multiple of this (the widest vector of
/// doubles, AVX-512's 8); callers pad the batch array.
inline constexpr std::size_t lane_multiple = 8;

/// Times a pass for n lanes (n a multiple of lane_multiple) of pass batches x: the sums
/// time_ops() makes, written to out. Vectorised with Highway, dispatched at run time to the
/// widest instruction set the machine has (sweep_simd.cpp).
void eval_pass(const machine& mc, const pass_plan& pp, const double* x, std::size_t n, const lane_sums& out);

/// One GPU's estimates for n lanes (a multiple of lane_multiple) of batches: both passes
/// (eval_pass) and the figures, written to out as 8 arrays of n: TTFT, step, tokens/s
/// B / step, end to end B G / (TTFT + G step), memory m0 + m1 B, whether it fits (0/1), and
/// each pass's bound (phase_estimate::bound_of, the enum's value).
void eval_single(const machine& mc, const pass_plan& pre, const pass_plan& dec, const double* batch,
                 std::size_t n, double g, double m0, double m1, double capacity, double* out);

}  // namespace roofline::batched
