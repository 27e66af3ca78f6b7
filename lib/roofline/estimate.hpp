/// Estimate: TTFT, decode step time, throughput, memory footprint and bound of a workload.
#pragma once

#include <optional>
#include <vector>

#include <fmt/format.h>

#include "roofline/error.hpp"
#include "roofline/graph.hpp"
#include "roofline/timing.hpp"

namespace roofline {

/// Totals of one forward pass (the whole prefill, or one mean decode step) of the batch.
struct phase_estimate {
  flops work{};
  traffic moved{};
  seconds time{};          ///< under the chosen policy, with overheads
  seconds time_perfect{};  ///< under `perfect` (the lower bound), with overheads
  seconds time_none{};     ///< under `none` (the upper bound), with overheads
  seconds compute_bound_time{};  ///< part of `time` spent in compute-bound ops
  seconds memory_bound_time{};   ///< part of `time` spent in memory-bound ops
  seconds overhead{};            ///< per-op and per-forward overheads in `time`
  enum bound bound = bound::memory;  ///< the largest of the three parts above
};

struct estimate_result {
  enum overlap overlap;
  phase_estimate prefill;
  phase_estimate decode;
  seconds ttft{};                  ///< prefill of P tokens plus last-token logits
  seconds step_time{};             ///< mean over the G decode steps
  double throughput_tokens_per_s;  ///< decode: B / step time
  double end_to_end_tokens_per_s;  ///< B G / (TTFT + G step time)
  footprint memory;
  bytes capacity{};
  bool fits;               ///< memory.total() <= capacity
  intensity ridge_point{}; ///< of the matrix units in the model's default compute format
};

/// The format the model's GEMMs compute in by default (dtypes.compute, else the activations').
inline dtype default_compute(const model_spec& m) { return m.dtypes.compute.value_or(m.dtypes.activations); }

/// Throws input_error if the hardware lacks a peak the model needs, or the spec or workload
/// is invalid or beyond the model's maximum context (for specs built in code; io checks
/// files with positions).
inline void check_supported(const model_spec& m, const hardware& hw, const workload& w) {
  if (auto v = check(m)) throw input_error(fmt::format("model '{}': {}", m.name, v->message));
  if (w.batch < 1 || w.prefill < 1 || w.generate < 1)
    throw input_error(fmt::format("workload: batch ({}), prefill ({}) and generate ({}) must be positive",
                                  w.batch, w.prefill, w.generate));
  if (w.batch > max_tokens || w.prefill > max_tokens || w.generate > max_tokens || w.prefill + w.generate > max_tokens)
    throw input_error(fmt::format("workload: batch ({}), prefill ({}), generate ({}) and prefill + generate must each "
                                  "be at most {} (2^40)", w.batch, w.prefill, w.generate, max_tokens));
  if (m.max_context > 0 && w.prefill + w.generate > m.max_context)
    throw input_error(fmt::format("workload: prefill {} + generate {} = {} tokens exceeds the maximum context of "
                                  "model '{}', {} ('max_context'{})",
                                  w.prefill, w.generate, w.prefill + w.generate, m.name, m.max_context,
                                  m.file.empty() ? "" : " in " + m.file));
  const auto where = [&] { return hw.file.empty() ? fmt::format("hardware '{}'", hw.name) : hw.file; };
  // The kinds of weight that GEMMs read: the mixers', the LM head's and the channels'.
  std::array<bool, all_weight_kinds.size()> used{};
  used[std::size_t(weight_kind::mixer)] = true;
  used[std::size_t(m.tied_embeddings ? weight_kind::embedding : weight_kind::lm_head)] = true;
  for (const layer_kind& k : m.kinds) {
    used[std::size_t(weight_kind::mlp)] |= std::holds_alternative<mlp_channel>(k.channel);
    if (const auto* e = std::get_if<moe_channel>(&k.channel)) {
      used[std::size_t(weight_kind::experts)] = used[std::size_t(weight_kind::router)] = true;
      used[std::size_t(weight_kind::shared_experts)] |= e->n_shared > 0;
    }
  }
  for (weight_kind k : all_weight_kinds) {
    if (!used[std::size_t(k)]) continue;
    const dtype d = compute_dtype(m.dtypes, k);
    if (peak_of(hw.matrix, d)) continue;
    const number_format s = storage(m.dtypes, k);
    const auto& own = m.dtypes.kinds[std::size_t(k)];
    const std::string fix = own && own->compute ? fmt::format("'dtypes.{}: {{storage: {}, compute: {}}}'", name(k), s.name,
                                                              name(m.dtypes.activations))
                                                : fmt::format("'dtypes.compute: {}'", name(m.dtypes.activations));
    throw input_error(fmt::format("{}: no matrix peak for {}: {} has no {} tensor units, and model '{}' computes its "
                                  "{} weights in {}; use weight-only {} with {} compute ({}) or add 'matrix_tflops.{}'",
                                  where(), name(d), hw.name, name(d), m.name, name(k), name(d), s.name,
                                  name(m.dtypes.activations), fix, name(d)));
  }
  if (!peak_of(hw.matrix, m.dtypes.activations))
    throw input_error(fmt::format("{}: no matrix peak for {} (model '{}' computes attention and recurrent cells in "
                                  "it); add 'matrix_tflops.{}'",
                                  where(), name(m.dtypes.activations), m.name, name(m.dtypes.activations)));
  if (!peak_of(hw.vector, dtype::fp32))
    throw input_error(fmt::format("{}: no vector peak for fp32; add 'vector_tflops.fp32'", where()));
}

/// Totals of one pass. Allocates nothing: fitting and sweeps call it in tight loops.
inline phase_estimate estimate_pass(const model_spec& m, const hardware& hw, const pass& p, overlap policy) {
  phase_estimate e{};
  for_each_op(m, p, [&](const op& o) {
    const double n = o.layers.count;
    const op_time t = time_op(o, hw, policy);
    const seconds extra = t.overhead;
    e.work += o.work * n;
    e.moved += o.moved * n;
    e.time += t.total * n;
    e.time_perfect += (max(max(t.compute, t.memory), t.steps) + extra) * n;
    e.time_none += (t.compute + t.memory + t.steps + extra) * n;
    (t.bound == bound::compute ? e.compute_bound_time : e.memory_bound_time) += (t.total - extra) * n;
    e.overhead += extra * n;
  });
  const seconds fwd = hw.timing.overhead_per_forward + (p.batch * p.tokens > 1 ? hw.timing.overhead_per_batched_forward : 0 * second);
  e.time += fwd;
  e.time_perfect += fwd;
  e.time_none += fwd;
  e.overhead += fwd;
  const seconds top = max(max(e.compute_bound_time, e.memory_bound_time), e.overhead);
  e.bound = top == e.overhead ? bound::overhead : top == e.compute_bound_time ? bound::compute : bound::memory;
  return e;
}

/// The estimate of a workload, under `policy` or else the profile's default.
/// TTFT = time of the prefill pass; step time = time of the mean decode pass.
inline estimate_result estimate(const model_spec& m, const hardware& hw, const workload& w,
                                std::optional<overlap> policy = std::nullopt) {
  check_supported(m, hw, w);
  const overlap pol = policy.value_or(hw.timing.overlap);
  estimate_result r{.overlap = pol,
                    .prefill = estimate_pass(m, hw, prefill_pass(w), pol),
                    .decode = estimate_pass(m, hw, decode_pass(w), pol),
                    .throughput_tokens_per_s = 0,
                    .end_to_end_tokens_per_s = 0,
                    .memory = memory_footprint(m, w),
                    .capacity = hw.capacity,
                    .fits = false};
  r.ttft = r.prefill.time;
  r.step_time = r.decode.time;
  const double b = double(w.batch), g = double(w.generate);
  r.throughput_tokens_per_s = b / r.step_time.value();
  r.end_to_end_tokens_per_s = b * g / (r.ttft + g * r.step_time).value();
  r.fits = r.memory.total() <= hw.capacity;
  r.ridge_point = ridge_point(hw, default_compute(m));
  return r;
}

/// One op with its time, for per-op reports.
struct op_row {
  roofline::op op;
  op_time time;
};

/// Every op of one pass with its time (one row per group of identical layers).
inline std::vector<op_row> op_rows(const model_spec& m, const hardware& hw, const pass& p, overlap policy) {
  std::vector<op_row> rows;
  for_each_op(m, p, [&](const op& o) { rows.push_back({o, time_op(o, hw, policy)}); });
  return rows;
}

}  // namespace roofline
