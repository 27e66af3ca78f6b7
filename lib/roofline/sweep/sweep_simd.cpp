// The batched evaluator's inner loop: time_op() and time_ops() (timing.hpp, estimate.hpp) for
// many batches at once, one vector of lanes through every op of a pass. Compiled once per
// instruction set Highway targets (SSE2 .. AVX-512) and dispatched at run time to the widest
// the machine has; the shipped build is never -march=native.
// The formulas are time_op()'s, term for term; the equality test (test/sweep_test.cpp) holds
// the two to 1e-12 over every shipped spec, part, stack and overlap policy. Three rewrites keep
// the loop short: an op without work-item or tile effects divides by constants, so it
// multiplies by their reciprocals (its layer count folded in); under the perfect and none
// policies such ops come summed, a piecewise-linear function of the batch (sweep_plan.hpp);
// the smooth p-norm skips its exponentials where every lane's correction is below rounding,
// as combine() does per value.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "roofline/sweep/sweep_simd.cpp"
#include <hwy/foreach_target.h>  // must precede highway.h: includes this file once per target

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>

#include "roofline/sweep/sweep.hpp"
#include "roofline/sweep/sweep_plan.hpp"

HWY_BEFORE_NAMESPACE();
namespace roofline::batched::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D = hn::ScalableTag<double>;
using V = hn::Vec<D>;

/// combine(a, b) of timing.hpp, lane by lane.
template <overlap Policy>
HWY_INLINE V combine_v(D d, V a, V b, double p, double tiny_ratio) {
  if constexpr (Policy == overlap::perfect) return hn::Max(a, b);
  if constexpr (Policy == overlap::none) return hn::Add(a, b);
  if constexpr (Policy == overlap::smooth) {
    const V hi = hn::Max(a, b), lo = hn::Min(a, b);
    // the p-norm hi (1 + (lo/hi)^p)^(1/p), hi where lo = 0 or (lo/hi)^p < 1e-16 (log < -36.8)
    const auto need = hn::And(hn::Gt(lo, hn::Zero(d)), hn::Ge(lo, hn::Mul(hi, hn::Set(d, tiny_ratio))));
    if (hn::AllFalse(d, need)) return hi;
    const V safe_lo = hn::IfThenElse(need, lo, hn::Set(d, 1.0)),
            safe_hi = hn::IfThenElse(need, hi, hn::Set(d, 1.0));
    const V log_r = hn::Mul(hn::Set(d, p), hn::Log(d, hn::Div(safe_lo, safe_hi)));
    const auto keep = hn::And(need, hn::Ge(log_r, hn::Set(d, -36.8)));
    const V norm = hn::Mul(hi, hn::Exp(d, hn::Div(hn::Log1p(d, hn::Exp(d, log_r)), hn::Set(d, p))));
    return hn::IfThenElse(keep, norm, hi);
  }
  return hn::Zero(d);
}

struct accumulators {
  V time, overhead, compute;
};

/// An op with occupancy 1, utilisation 1, no steps and a constant overhead: t_c and t_m are
/// affine in the batch, their divisors constant (pure-roofline ops, vector ops of any stack).
template <overlap Policy>
HWY_INLINE void simple_op(D d, const op_plan& o, const machine& mc, V x, accumulators& acc, double tiny) {
  const V tc = o.zero_work ? hn::Zero(d) : hn::Add(hn::Set(d, o.c0), hn::Mul(hn::Set(d, o.c1), x));
  const V tm = hn::Add(hn::Set(d, o.m0), hn::Mul(hn::Set(d, o.m1), x));
  const V busy = combine_v<Policy>(d, tc, tm, mc.p, tiny);
  acc.time = hn::Add(acc.time, busy);
  acc.compute = hn::Add(acc.compute, hn::IfThenElseZero(hn::Ge(tc, tm), busy));
  if (o.extra != 0) {
    const V extra = hn::Set(d, o.extra);
    acc.time = hn::Add(acc.time, extra);
    acc.overhead = hn::Add(acc.overhead, extra);
  }
}

/// gemm_utilisation() of timing.hpp for rows m (lanes), n, k and groups of the op.
HWY_INLINE V utilisation(D d, const op_plan& o, const machine& mc, V m) {
  const double tm = mc.tile_m, tn = mc.tile_n, units = mc.units;
  if (o.gemm_n <= 0) return hn::Set(d, 1.0);
  const V rows = hn::Ceil(hn::Div(m, hn::Set(d, tm)));
  const double cols = std::ceil(o.gemm_n / tn);
  const V tiles = hn::Mul(hn::Mul(rows, hn::Set(d, cols)), hn::Set(d, std::max(1.0, o.groups)));
  const V padding =
      hn::Div(hn::Mul(m, hn::Set(d, o.gemm_n)),
              hn::Mul(hn::Mul(hn::Mul(rows, hn::Set(d, tm)), hn::Set(d, cols)), hn::Set(d, tn)));
  V util = padding;
  if (mc.waves && units > 0) {
    const V u = hn::Set(d, units);
    const V by_k = hn::Set(d, std::floor(o.gemm_k / 256));
    const V split = hn::Max(hn::Set(d, 1.0), hn::Min(hn::Floor(hn::Div(u, tiles)), by_k));
    const V splits = hn::IfThenElse(hn::Lt(tiles, u), split, hn::Set(d, 1.0));
    const V pieces = hn::Mul(tiles, splits);
    util = hn::Div(hn::Mul(padding, pieces), hn::Mul(hn::Ceil(hn::Div(pieces, u)), u));
  }
  return hn::IfThenElse(hn::Gt(m, hn::Zero(d)), util, hn::Set(d, 1.0));
}

/// time_op() of timing.hpp with every term: occupancy, splits of items' loops, waves, steps,
/// GEMM tiles.
template <overlap Policy>
HWY_INLINE void general_op(D d, const op_plan& o, const machine& mc, V x, accumulators& acc, double tiny) {
  const V work = hn::Add(hn::Set(d, o.work.at0), hn::Mul(hn::Set(d, o.work.per), x));
  const V bytes = hn::Add(hn::Set(d, o.bytes.at0), hn::Mul(hn::Set(d, o.bytes.per), x));
  const V one = hn::Set(d, 1.0), zero = hn::Zero(d);
  V occ = one, waves = zero, steps = hn::Set(d, o.steps);
  if (o.has_items) {
    const V par = hn::Add(hn::Set(d, o.items.at0), hn::Mul(hn::Set(d, o.items.per), x));
    V items = par;
    const double units = mc.units;
    if (o.split && units > 0) {  // items_of(): split-KV over idle units
      const auto split = hn::And(hn::Gt(par, zero), hn::Lt(par, hn::Set(d, units)));
      const V s = hn::Max(
          one, hn::Min(hn::Floor(hn::Div(hn::Set(d, units), par)), hn::Set(d, std::ceil(o.steps / 128))));
      items = hn::IfThenElse(split, hn::Mul(par, s), par);
      steps = hn::IfThenElse(split, hn::Div(steps, s), steps);
    }
    if (o.e.half_parallel > 0) occ = hn::Div(items, hn::Add(items, hn::Set(d, o.e.half_parallel)));
    if (units > 0) waves = hn::IfThenElseZero(hn::Gt(par, zero), hn::Ceil(hn::Div(items, hn::Set(d, units))));
  }
  const V util =
      o.tiles ? utilisation(d, o, mc, hn::Add(hn::Set(d, o.rows.at0), hn::Mul(hn::Set(d, o.rows.per), x)))
              : one;
  const V tc =
      o.zero_work
          ? zero
          : hn::Div(work, hn::Mul(hn::Set(d, o.peak), hn::Mul(hn::Mul(hn::Set(d, o.e.compute), occ), util)));
  const V tm = hn::Div(bytes, hn::Mul(hn::Set(d, mc.bandwidth), hn::Mul(hn::Set(d, o.e.memory), occ)));
  const V ts = hn::Mul(hn::Mul(waves, steps), hn::Set(d, o.e.per_step.value()));
  const V extra = hn::Add(hn::Set(d, o.e.overhead.value()),
                          hn::Mul(hn::Mul(waves, hn::Set(d, o.item_size)), hn::Set(d, o.e.per_item.value())));
  V busy = combine_v<Policy>(d, tc, tm, mc.p, tiny);
  if (o.steps_term) busy = combine_v<Policy>(d, busy, ts, mc.p, tiny);
  const V n = hn::Set(d, o.layers);
  const V total = hn::Mul(hn::Add(busy, extra), n);
  acc.time = hn::Add(acc.time, total);
  acc.overhead = hn::Add(acc.overhead, hn::Mul(extra, n));
  acc.compute = hn::Add(acc.compute,
                        hn::IfThenElseZero(hn::Ge(tc, hn::Max(tm, ts)), hn::Sub(total, hn::Mul(extra, n))));
}

/// One pass's sums for a vector of lanes (time_ops()).
struct pass_v {
  V time, overhead, compute, memory, comm;
};

template <overlap Policy>
HWY_INLINE pass_v pass_vector(D d, const machine& mc, const pass_plan& pp, V xb) {
  const double tiny = mc.tiny_ratio;
  accumulators acc{hn::Zero(d), hn::Zero(d), hn::Zero(d)};
  if (pp.summed) {  // the simple ops: their linear pieces, those of each break a lane is past added
    const piecewise& pw = *pp.summed;
    V busy = hn::Add(hn::Set(d, pw.t0), hn::Mul(hn::Set(d, pw.t1), xb));
    V compute = hn::Add(hn::Set(d, pw.c0), hn::Mul(hn::Set(d, pw.c1), xb));
    for (std::size_t k = 0; k < pw.breaks.size(); ++k) {
      const auto past = hn::Ge(xb, hn::Set(d, pw.breaks[k]));
      busy = hn::IfThenElse(
          past, hn::Add(busy, hn::Add(hn::Set(d, pw.dt0[k]), hn::Mul(hn::Set(d, pw.dt1[k]), xb))), busy);
      compute = hn::IfThenElse(
          past, hn::Add(compute, hn::Add(hn::Set(d, pw.dc0[k]), hn::Mul(hn::Set(d, pw.dc1[k]), xb))),
          compute);
    }
    const V extra = hn::Set(d, pw.extra);
    acc.time = hn::Add(busy, extra);
    acc.overhead = extra;
    acc.compute = compute;
  }
  for (std::size_t k = 0; k < pp.ops.size(); ++k) {
    if (pp.ops[k].simple)
      simple_op<Policy>(d, pp.ops[k], mc, xb, acc, tiny);
    else
      general_op<Policy>(d, pp.ops[k], mc, xb, acc, tiny);
  }
  // the forward's overheads (time_ops): the batched one when B T > 1
  const V fwd = hn::Add(hn::Set(d, mc.per_forward),
                        hn::IfThenElseZero(hn::Gt(hn::Mul(xb, hn::Set(d, pp.tokens)), hn::Set(d, 1.0)),
                                           hn::Set(d, mc.per_batched)));
  acc.time = hn::Add(acc.time, fwd);
  acc.overhead = hn::Add(acc.overhead, fwd);
  // memory-bound time: what the ops' busy time leaves (rest = compute + memory + overhead)
  pass_v r{acc.time, acc.overhead, acc.compute, hn::Sub(hn::Sub(acc.time, acc.overhead), acc.compute),
           hn::Zero(d)};
  if (pp.comms.empty()) return r;
  V comm = hn::Zero(d);
  for (const comm_plan& c : pp.comms) {
    if (c.rate <= 0) continue;
    const V msg = hn::Add(hn::Set(d, c.message.at0), hn::Mul(hn::Set(d, c.message.per), xb));
    const V t = hn::Add(hn::Set(d, c.fixed), hn::Div(hn::Mul(hn::Set(d, c.volume), msg), hn::Set(d, c.rate)));
    comm = hn::Add(comm, hn::Mul(t, hn::Set(d, c.layers)));
  }
  const auto any = hn::Gt(comm, hn::Zero(d));
  V merged = acc.time;
  switch (mc.comm_overlap) {
    case overlap::perfect:
      merged = combine_v<overlap::perfect>(d, acc.time, comm, mc.p, tiny);
      break;
    case overlap::none:
      merged = combine_v<overlap::none>(d, acc.time, comm, mc.p, tiny);
      break;
    case overlap::smooth:
      merged = combine_v<overlap::smooth>(d, acc.time, comm, mc.p, tiny);
      break;
  }
  r.time = hn::IfThenElse(any, merged, acc.time);
  r.comm = hn::IfThenElseZero(any, hn::Sub(r.time, acc.time));
  return r;
}

template <overlap Policy>
HWY_INLINE void eval_policy(const machine& mc, const pass_plan& pp, const double* x, std::size_t n,
                            const lane_sums& out) {
  const D d;
  for (std::size_t i = 0; i < n; i += hn::Lanes(d)) {
    const pass_v r = pass_vector<Policy>(d, mc, pp, hn::LoadU(d, x + i));
    hn::StoreU(r.time, d, out.time + i);
    hn::StoreU(r.overhead, d, out.overhead + i);
    hn::StoreU(r.compute, d, out.compute + i);
    hn::StoreU(r.memory, d, out.memory + i);
    hn::StoreU(r.comm, d, out.comm + i);
  }
}

void eval_pass_impl(const machine& mc, const pass_plan& pp, const double* x, std::size_t n,
                    const lane_sums& out) {
  switch (mc.policy) {
    case overlap::perfect:
      return eval_policy<overlap::perfect>(mc, pp, x, n, out);
    case overlap::none:
      return eval_policy<overlap::none>(mc, pp, x, n, out);
    case overlap::smooth:
      return eval_policy<overlap::smooth>(mc, pp, x, n, out);
  }
}

/// phase_estimate::bound_of() lane by lane: communication if it is the largest part and
/// positive, else overhead, compute, memory in that order of ties (the enum's values).
HWY_INLINE V bound_v(D d, V compute, V memory, V overhead, V comm) {
  const V top = hn::Max(hn::Max(compute, memory), hn::Max(overhead, comm));
  V code = hn::IfThenElse(hn::Eq(top, compute), hn::Set(d, double(bound::compute)),
                          hn::Set(d, double(bound::memory)));
  code = hn::IfThenElse(hn::Eq(top, overhead), hn::Set(d, double(bound::overhead)), code);
  return hn::IfThenElse(hn::And(hn::Eq(top, comm), hn::Gt(comm, hn::Zero(d))),
                        hn::Set(d, double(bound::communication)), code);
}

/// One GPU's estimates for a vector of lanes: both passes and the figures (estimate()).
template <overlap Policy>
HWY_INLINE void single_policy(const machine& mc, const pass_plan& pre, const pass_plan& dec,
                              const double* batch, std::size_t n, double g, double m0, double m1,
                              double capacity, double* out) {
  const D d;
  const V gv = hn::Set(d, g);
  for (std::size_t i = 0; i < n; i += hn::Lanes(d)) {
    const V b = hn::LoadU(d, batch + i);
    const pass_v p = pass_vector<Policy>(d, mc, pre, b), q = pass_vector<Policy>(d, mc, dec, b);
    const V memory = hn::Add(hn::Set(d, m0), hn::Mul(hn::Set(d, m1), b));
    hn::StoreU(p.time, d, out + i);
    hn::StoreU(q.time, d, out + n + i);
    hn::StoreU(hn::Div(b, q.time), d, out + 2 * n + i);
    hn::StoreU(hn::Div(hn::Mul(b, gv), hn::Add(p.time, hn::Mul(gv, q.time))), d, out + 3 * n + i);
    hn::StoreU(memory, d, out + 4 * n + i);
    hn::StoreU(hn::IfThenElseZero(hn::Le(memory, hn::Set(d, capacity)), hn::Set(d, 1.0)), d, out + 5 * n + i);
    hn::StoreU(bound_v(d, p.compute, p.memory, p.overhead, p.comm), d, out + 6 * n + i);
    hn::StoreU(bound_v(d, q.compute, q.memory, q.overhead, q.comm), d, out + 7 * n + i);
  }
}

void eval_single_impl(const machine& mc, const pass_plan& pre, const pass_plan& dec, const double* batch,
                      std::size_t n, double g, double m0, double m1, double capacity, double* out) {
  switch (mc.policy) {
    case overlap::perfect:
      return single_policy<overlap::perfect>(mc, pre, dec, batch, n, g, m0, m1, capacity, out);
    case overlap::none:
      return single_policy<overlap::none>(mc, pre, dec, batch, n, g, m0, m1, capacity, out);
    case overlap::smooth:
      return single_policy<overlap::smooth>(mc, pre, dec, batch, n, g, m0, m1, capacity, out);
  }
}

}  // namespace roofline::batched::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace roofline::batched {
HWY_EXPORT(eval_pass_impl);
HWY_EXPORT(eval_single_impl);

void eval_single(const machine& mc, const pass_plan& pre, const pass_plan& dec, const double* batch,
                 std::size_t n, double g, double m0, double m1, double capacity, double* out) {
  HWY_DYNAMIC_DISPATCH(eval_single_impl)(mc, pre, dec, batch, n, g, m0, m1, capacity, out);
}

void eval_pass(const machine& mc, const pass_plan& pp, const double* x, std::size_t n, const lane_sums& out) {
  HWY_DYNAMIC_DISPATCH(eval_pass_impl)(mc, pp, x, n, out);
}
}  // namespace roofline::batched

namespace roofline {
const char* simd_target() {
  // the targets compiled in that the CPU supports; the best is the lowest bit (Highway's order)
  const std::int64_t usable = hwy::SupportedTargets() & HWY_TARGETS;
  return hwy::TargetName(usable & -usable);
}
}  // namespace roofline
#endif
