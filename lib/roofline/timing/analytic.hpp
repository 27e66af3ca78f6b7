/// Timing by the analytic model: the roofline time of one op from its counts, a part and a stack's
/// timing parameters, under an overlap policy (timing.hpp adds measured kernel tables).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>

#include "roofline/base/op.hpp"
#include "roofline/spec/hardware.hpp"

namespace roofline {

/// Combines compute time t_c and memory time t_m under a policy (see overlap).
inline seconds combine(seconds tc, seconds tm, overlap policy, double p) {
  switch (policy) {
    case overlap::perfect:
      return max(tc, tm);
    case overlap::none:
      return tc + tm;
    case overlap::smooth: {
      const double c = tc.value(), m = tm.value(), hi = std::max(c, m), lo = std::min(c, m);
      if (lo == 0) return hi * second;
      // hi (1 + (lo/hi)^p)^(1/p): the p-norm without overflow for large p; below 1e-16 the
      // correction is lost in rounding, so the exponentials are skipped (estimates are hot)
      const double log_r = p * std::log(lo / hi);  // log((lo/hi)^p); -36.8 = log(1e-16)
      return (log_r < -36.8 ? hi : hi * std::exp(std::log1p(std::exp(log_r)) / p)) * second;
    }
  }
  return 0 * second;
}

/// What timed an op: the analytic model of this file, a stack's kernel table at a measured shape
/// (interpolated between its points), or the table at the nearest measured shape moved to the
/// op's by the analytic model's ratio (outside the table: timing/kernels.hpp).
enum class timed_by { model, table, extrapolated };
template <>
inline constexpr std::array<std::string_view, 3> enum_names<timed_by>{"model", "table", "extrapolated"};

struct op_time {
  seconds compute;   ///< t_c = FLOPs / (peak(class, dtype) e_c)
  seconds memory;    ///< t_m = bytes / (bandwidth e_m)
  seconds total;     ///< overlap(t_c, t_m) + overhead, for one layer
  enum bound bound;  ///< compute if t_c >= t_m, else memory
  seconds overhead;  ///< op_overhead, the part of `total` that is neither compute nor memory
  seconds steps;     ///< t_s = waves x item steps x per-step latency (the items' serial loops)
  link_kind link = link_kind::none;    ///< communication ops: the link they run on
  enum timed_by by = timed_by::model;  ///< the analytic model, or a kernel table (timing/kernels.hpp)
  /// The 10th and 90th percentiles of measured / predicted of the op's kernel kind (a kernel
  /// table's held-out spread); 1, 1: none stated (the analytic model's ops).
  double p10 = 1, p90 = 1;
  /// The analytic model's overlap(t_c, t_m, t_s), `total` less the overhead as it was added
  /// (total = busy + overhead to the bit: a fit that changes only overheads re-adds them to it).
  seconds busy{};
};

/// Fraction of the tensor units a GEMM keeps busy: its m x n outputs are cut into tiles of
/// t_m x t_n, padded (a 1-row GEMM still computes whole tiles):
///   padding = m n / (ceil(m/t_m) t_m ceil(n/t_n) t_n).
/// With gemm_waves, the tiles also run in waves of the U compute units: when there are fewer
/// tiles than units, the k dimension is split (split-K, as cuBLAS does for small GEMMs) into
/// s = min(floor(U / tiles), k / 256) parts; the tiles x s pieces run in waves of U, the last
/// wave partly idle: padding x pieces / (ceil(pieces / U) U). Without (stream-K kernels
/// share the last wave's work out), padding alone. 1 when the profile has no tile size.
inline double gemm_utilisation(const gemm_shape& g, const part& hw, const timing_params& t) {
  const double tm = t.gemm_tile_m, tn = t.gemm_tile_n, units = hw.compute_units;
  if (tm <= 0 || tn <= 0 || g.m <= 0 || g.n <= 0) return 1;
  const double rows = std::ceil(g.m / tm), cols = std::ceil(g.n / tn),
               tiles = rows * cols * std::max(1.0, g.groups);
  const double padding = g.m * g.n / (rows * tm * cols * tn);
  if (!t.gemm_waves || units <= 0) return padding;
  const double splits =
      tiles < units ? std::max(1.0, std::min(std::floor(units / tiles), std::floor(g.k / 256))) : 1;
  const double pieces = tiles * splits;
  return padding * pieces / (std::ceil(pieces / units) * units);
}

inline double gemm_utilisation(const gemm_shape& g, const hardware& hw) {
  return gemm_utilisation(g, hw, hw.timing);
}

/// Whether the op's class is timed by its parallel work items (occupancy, waves, per-item time).
constexpr bool has_work_items(op_class c) {
  return c == op_class::attention || c == op_class::decode_attention || c == op_class::recurrent ||
         c == op_class::recurrent_step;
}

/// Share of the efficiency an op with p parallel work items reaches: p / (p + p_half).
constexpr double occupancy(double p, double half) { return half > 0 ? p / (p + half) : 1; }

/// The work items an op runs as and the serial steps of each. As counted, except for a kernel
/// that splits its items' loops (op::split_steps): with fewer items than compute units U, each
/// loop is cut into s = min(floor(U / items), ceil(steps / 128)) parts of at least a 128-key
/// tile, items x s items of steps / s steps (split-KV decoding fills the idle units; the final
/// reduction of the parts is not counted).
struct work_items {
  double items, steps;
};
inline work_items items_of(const op& o, const part& hw) {
  if (!o.split_steps || hw.compute_units <= 0 || o.parallel <= 0 || o.parallel >= hw.compute_units)
    return {o.parallel, o.item_steps};
  const double s =
      std::max(1.0, std::min(std::floor(hw.compute_units / o.parallel), std::ceil(o.item_steps / 128)));
  return {o.parallel * s, o.item_steps / s};
}

/// Waves in which the work items of an op run on the compute units: ceil(items / units),
/// at least 1; 0 for ops without work items or a profile without a unit count.
inline double waves(const op& o, const part& hw) {
  if (!has_work_items(o.cls) || hw.compute_units <= 0 || o.parallel <= 0) return 0;
  return std::ceil(items_of(o, hw).items / hw.compute_units);
}

/// Overheads an op adds to its time: the overhead of its class and, for work-item classes,
/// waves x item size x per-item setup.
inline seconds op_overhead(const op& o, const part& hw, const timing_params& t) {
  const class_timing& e = t.of(o);
  return e.overhead + waves(o, hw) * o.item_size * e.per_item;
}

inline seconds op_overhead(const op& o, const hardware& hw) { return op_overhead(o, hw, hw.timing); }

/// The link a collective runs on: the scale-up link (NVLink/NVSwitch, xGMI) when the GPUs it
/// spans lie in one scale-up domain, else the scale-out network; none if the part lacks it
/// (check_layout refuses such layouts before anything is timed).
inline const link* link_of(const communication& c, const hardware& hw, link_kind* kind = nullptr) {
  const auto& up = hw.interconnect.scale_up;
  const bool in_domain = up && c.span <= up->gpus;
  if (kind)
    *kind = in_domain                   ? link_kind::scale_up
            : hw.interconnect.scale_out ? link_kind::scale_out
                                        : link_kind::none;
  if (in_domain) return &*up;
  return hw.interconnect.scale_out ? &*hw.interconnect.scale_out : nullptr;
}

/// Bandwidth terms and latency steps of a collective of n GPUs, as ring algorithms run them:
/// all-reduce 2 (n-1)/n of the message over 2 (n-1) steps (a reduce-scatter then an
/// all-gather); all-gather, reduce-scatter (n-1)/n over n-1 steps; all-to-all (n-1)/n over
/// n-1 steps (each GPU keeps 1/n of its message and exchanges the rest, one peer a step, as
/// pairwise exchange over a switch runs it); send/receive the whole message in one step.
struct collective_cost {
  double volume;  ///< fraction of the message that crosses a GPU's link each way
  double steps;
};
constexpr collective_cost cost_of(collective c, double n) {
  switch (c) {
    case collective::all_reduce:
      return {2 * (n - 1) / n, 2 * (n - 1)};
    case collective::all_gather:
    case collective::reduce_scatter:
    case collective::all_to_all:
      return {(n - 1) / n, n - 1};
    case collective::send_recv:
      return {1, 1};
  }
  return {0, 0};
}

/// Time of a communication op: t = overhead + steps x latency + volume S / (bw e), with the
/// link's bandwidth per direction and per-step latency, the stack's efficiency for the
/// collective and its overhead per call (collective_timing). A ring over a switch is bounded by
/// one GPU's link: the algorithm (ring) is what NCCL picks for large messages over NVLink;
/// switch-reduced all-reduces (NVLink SHARP) and trees are not modelled: a stack's efficiency
/// above 1 would stand for them. All of the time is communication, none compute or memory.
inline op_time time_comm(const op& o, const hardware& hw) {
  link_kind kind = link_kind::none;
  const link* l = link_of(o.comm, hw, &kind);
  const collective_timing& t = hw.timing.collectives;
  const collective_cost c = cost_of(o.comm.collective, o.comm.group);
  if (!l || l->bandwidth.value() <= 0)
    return {0 * second, 0 * second, 0 * second, bound::communication, 0 * second, 0 * second, kind};
  const seconds total = t.overhead + c.steps * l->latency +
                        c.volume * o.comm.message / (l->bandwidth * t.of(o.comm.collective));
  return {0 * second, 0 * second, total, bound::communication, 0 * second, 0 * second, kind};
}

/// Time of one op for one layer by the analytic model, on part hw with timing t:
///   t = overlap(t_c, t_m, t_s) + op_overhead,
///   t_c = FLOPs / (peak(class, dtype) e_c u),  t_m = bytes / (bandwidth e_m o),
///   t_s = waves x item steps x per-step latency (the serial loop of each work item),
/// u = gemm_utilisation (matrix ops), o = occupancy (work-item classes; it scales t_c too).
/// The three overlap as t_c and t_m do (max, sum or p-norm). With the pure roofline
/// (1, 1, 0, 0, no tiles) t = overlap(F/peak, B/bw). The parameters are those of the op's
/// class (timing_params::of: long prompts may take another attention kernel's).
/// Communication ops take the collectives' time of a hardware (time_comm): analytic_time times
/// the others.
inline op_time analytic_time(const op& o, const part& hw, const timing_params& t, overlap policy) {
  const class_timing& e = t.of(o);
  const work_items w = items_of(o, hw);
  const double occ = has_work_items(o.cls) ? occupancy(w.items, e.half_parallel) : 1;
  const double util = o.cls == op_class::matrix ? gemm_utilisation(o.gemm, hw, t) : 1;
  const seconds tc =
      o.work.value() == 0 ? 0 * second : o.work / (peak(hw, o.cls, o.compute) * (e.compute * occ * util));
  const seconds tm = o.moved.total() / (hw.bandwidth * (e.memory * occ));
  const seconds ts = waves(o, hw) * w.steps * e.per_step;
  const seconds extra = op_overhead(o, hw, t);
  const seconds busy = combine(combine(tc, tm, policy, t.smooth_exponent), ts, policy, t.smooth_exponent);
  return {.compute = tc,
          .memory = tm,
          .total = busy + extra,
          .bound = tc >= max(tm, ts) ? bound::compute : bound::memory,
          .overhead = extra,
          .steps = ts,
          .busy = busy};
}

}  // namespace roofline
