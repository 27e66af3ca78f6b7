/// calibrate internals (internal, not installed, included by calibrate.cpp alone): the residuals
/// of a fit to measured passes (fit_timing) and their Jacobian, as a Ceres cost function.
#pragma once

#include <ceres/ceres.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "roofline/fit/calibrate.hpp"

namespace roofline::fit_detail {

// Writes the parameters x into the timing of h, each clamped to its bounds: central differences
// step just outside them, and clamped, a latency never goes negative.
inline void set_clamped(hardware& h, const std::vector<fit_parameter>& params, const double* x) {
  for (std::size_t i = 0; i < params.size(); ++i)
    params[i].set(h.timing, std::clamp(x[i], params[i].lower, params[i].upper));
}

// Which timing fields a fit parameter writes: the class_timing slots (timing_params::classes by
// op class, then attention_long) and whether it writes the smooth exponent (read by every op)
// or something else no op's slot holds (then every op is taken as reading it). Found by setting
// the parameter to its two bounds and comparing.
constexpr std::size_t slots = all_op_classes.size() + 1;  // + attention_long
struct parameter_reach {
  std::array<bool, slots> slot{};
  bool every_op = false;
  bool overheads_only = false;  // writes a class's overhead and per-item time, nothing else
};

inline const class_timing& slot_of(const timing_params& t, std::size_t i) {
  return i < all_op_classes.size() ? t.classes[i] : t.attention_long;
}

inline parameter_reach reach_of(const fit_parameter& p, const timing_params& base) {
  timing_params lo = base, hi = base;
  p.set(lo, p.lower);
  p.set(hi, p.upper);
  parameter_reach r;
  bool found = false;
  for (std::size_t i = 0; i < slots; ++i) found |= r.slot[i] = slot_of(lo, i) != slot_of(hi, i);
  r.every_op = lo.smooth_exponent != hi.smooth_exponent;
  found |= r.every_op || lo.overhead_per_forward != hi.overhead_per_forward ||
           lo.overhead_per_batched_forward != hi.overhead_per_batched_forward;
  if (!found) r.every_op = true;  // writes a field not compared here: every op may read it
  r.overheads_only = !r.every_op && lo.overhead_per_forward == hi.overhead_per_forward &&
                     lo.overhead_per_batched_forward == hi.overhead_per_batched_forward;
  for (std::size_t i = 0; i < slots; ++i) {
    class_timing a = slot_of(lo, i), b = slot_of(hi, i);
    a.overhead = b.overhead;
    a.per_item = b.per_item;
    r.overheads_only = r.overheads_only && a == b;
  }
  return r;
}

// One measured pass of a sample: its ops, built once (their counts do not depend on the timing
// parameters), and each op's last time (time x layers). residual() sums them as estimate_pass's
// time_ops does, in the same order and arithmetic, so that the time is the same to the bit.
struct measured_pass {
  std::vector<op> ops;
  std::vector<std::uint8_t> slot;  // the class_timing slot each op reads (slots: a kernel table's op)
  std::vector<seconds> times;
  std::vector<seconds> busy;  // op_time::busy at x (analytic ops; a table's op is re-timed whole)
  bool batched = false;
  double measured_s = 0;

  measured_pass(const model_spec& m, const pass& p, const hardware& hw, double measured)
      : batched(p.batch * p.tokens > 1), measured_s(measured) {
    for_each_op(m, p, rank_view{}, [&](const op& o) {
      ops.push_back(o);
      const bool table = hw.timing.kernels && shape_of(o);  // may be timed by the table, which may
                                                            // move its time by the analytic model's
      const bool long_kernel = &hw.timing.of(o) == &hw.timing.attention_long;
      slot.push_back(std::uint8_t(table || o.cls == op_class::communication ? slots
                                  : long_kernel                             ? all_op_classes.size()
                                                                            : std::size_t(o.cls)));
    });
    times.resize(ops.size());
    busy.resize(ops.size());
  }
  bool reads(std::size_t i, const parameter_reach& r) const {
    return r.every_op || slot[i] == slots || r.slot[slot[i]];
  }
  // time x layers of op i, keeping its busy time
  seconds time_of(std::size_t i, const hardware& hw) {
    const op_time t = time_op(ops[i], hw, hw.timing.overlap);
    busy[i] = t.busy;
    return t.total * double(ops[i].layers.count);
  }
  // time x layers of op i at hw, whose timing differs from the one it was timed at by `r`
  seconds retime(std::size_t i, const hardware& hw, const parameter_reach& r) const {
    if (r.overheads_only && slot[i] < slots)  // analytic: busy + op_overhead, as analytic_time adds them
      return (busy[i] + op_overhead(ops[i], hw, hw.timing)) * double(ops[i].layers.count);
    return time_op(ops[i], hw, hw.timing.overlap).total * double(ops[i].layers.count);
  }
  // log(predicted / measured), the ops' times given by time(i)
  template <class Time>
  double residual(const hardware& hw, Time&& time) const {
    seconds total{}, comm{};
    for (std::size_t i = 0; i < ops.size(); ++i)
      (ops[i].cls == op_class::communication ? comm : total) += time(i);
    const seconds fwd =
        hw.timing.overhead_per_forward + (batched ? hw.timing.overhead_per_batched_forward : 0 * second);
    total += fwd;
    if (comm.value() > 0)
      total = combine(total, comm, hw.timing.collectives.overlap, hw.timing.smooth_exponent);
    return std::log(total.value() / measured_s);
  }
};

// Residuals log(predicted / measured) of one sample's measured phases, with their Jacobian by
// central differences as Ceres's numeric differentiation takes them (the same step, the same
// arithmetic: the same numbers to the bit), except that a parameter's two steps re-time only
// the ops that read what it writes (parameter_reach); the others keep their time at x.
class sample_cost final : public ceres::CostFunction {
 public:
  sample_cost(const sample& s, const hardware& base, const std::vector<fit_parameter>& params,
              const std::vector<parameter_reach>& reach)
      : hw_(base), params_(&params), reach_(&reach) {
    if (!std::isnan(s.ttft_s)) passes_.emplace_back(*s.model, prefill_pass(s.work), base, s.ttft_s);
    if (!std::isnan(s.step_s)) passes_.emplace_back(*s.model, decode_pass(s.work), base, s.step_s);
    set_num_residuals(int(passes_.size()));
    mutable_parameter_block_sizes()->push_back(int(params.size()));
  }
  bool Evaluate(double const* const* x, double* r, double** jacobians) const override {
    hardware& h = hw_;
    const std::vector<fit_parameter>& params = *params_;
    set_clamped(h, params, x[0]);
    for (std::size_t k = 0; k < passes_.size(); ++k) {
      measured_pass& p = passes_[k];
      for (std::size_t i = 0; i < p.ops.size(); ++i) p.times[i] = p.time_of(i, h);
      r[k] = p.residual(h, [&](std::size_t i) { return p.times[i]; });
    }
    if (!jacobians || !jacobians[0]) return true;
    const std::size_t n = params.size();
    const double min_step = std::sqrt(std::numeric_limits<double>::epsilon());
    for (std::size_t j = 0; j < n; ++j) {
      const fit_parameter& q = params[j];
      const double delta = std::max(min_step, std::abs(x[0][j]) * 1e-6);
      const auto residual_at = [&](const measured_pass& p, double v) {
        q.set(h.timing, std::clamp(v, q.lower, q.upper));
        const parameter_reach& r = (*reach_)[j];
        return p.residual(h, [&](std::size_t i) { return p.reads(i, r) ? p.retime(i, h, r) : p.times[i]; });
      };
      for (std::size_t k = 0; k < passes_.size(); ++k) {
        const double plus = residual_at(passes_[k], x[0][j] + delta);
        const double minus = residual_at(passes_[k], x[0][j] - delta);
        double one_over_delta = 1.0 / delta;
        one_over_delta /= 2;
        jacobians[0][k * n + j] = (plus - minus) * one_over_delta;
      }
      q.set(h.timing, std::clamp(x[0][j], q.lower, q.upper));
    }
    return true;
  }

 private:
  mutable hardware hw_;  // own copy: the parameters are written into it
  const std::vector<fit_parameter>* params_;
  const std::vector<parameter_reach>* reach_;
  mutable std::vector<measured_pass> passes_;
};

}  // namespace roofline::fit_detail
