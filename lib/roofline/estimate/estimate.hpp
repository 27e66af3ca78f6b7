/// Estimate: TTFT, decode step time, throughput, memory footprint and bound of a workload.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "roofline/base/error.hpp"
#include "roofline/estimate/energy.hpp"
#include "roofline/graph/graph.hpp"
#include "roofline/timing/timing.hpp"

namespace roofline {

/// The layout's plan of a workload (parallel_plan, result.hpp).
constexpr parallel_plan plan_of(const workload& w) {
  const layout& L = w.parallel;
  parallel_plan p{.L = L};
  const double b = double(w.batch);
  p.rank_batch = std::ceil(b / L.dp);
  p.microbatches =
      L.pp > 1 ? int(std::min(double(L.microbatches > 0 ? L.microbatches : L.pp), p.rank_batch)) : 1;
  p.micro_batch = std::ceil(p.rank_batch / p.microbatches);
  p.groups = L.pp > 1 ? int(std::min(double(L.pp), p.rank_batch)) : 1;
  p.group_batch = std::ceil(p.rank_batch / p.groups);
  p.prefill_tokens_all = std::min(b, L.dp * p.micro_batch) * double(w.prefill);
  p.decode_tokens_all = std::min(b, L.dp * p.group_batch);
  return p;
}

/// The pass one GPU of stage s runs and what it sees: a micro-batch of the prefill, or one
/// decode group's step.
constexpr pass rank_pass(const workload& w, const parallel_plan& p, phase ph) {
  return ph == phase::prefill
             ? pass{phase::prefill, p.micro_batch, double(w.prefill), 0, 1, 1, double(w.images)}
             : pass{phase::decode, p.group_batch, 1, double(w.prefill), double(w.generate)};
}
inline rank_view rank_of(const model_spec& m, const parallel_plan& p, int s, phase ph) {
  return {p.L, stage_of(m, s, p.L.pp), ph == phase::prefill ? p.prefill_tokens_all : p.decode_tokens_all,
          false};
}

/// The format the model's GEMMs compute in by default (dtypes.compute, else the activations').
inline dtype default_compute(const model_spec& m) { return m.dtypes.compute.value_or(m.dtypes.activations); }

/// A workload whose prompts carry `images` images each (a model with a vision tower): their
/// images x vision.image_tokens tokens are added to the prompt's P text tokens; `option` names the
/// setting in messages. A model without a vision tower is refused, naming its spec.
inline void add_images(const model_spec& m, workload& w, std::int64_t images, std::string_view option) {
  w.images = images;
  if (images == 0) return;
  if (m.vision.layers == 0)
    throw input_error(fmt::format("{} {}: model '{}'{} has no vision tower (its spec's 'vision')", option,
                                  images, m.name, m.file.empty() ? "" : " (" + m.file + ")"));
  if (images < 0 || images > max_width)
    throw input_error(fmt::format("{} {}: from 0 to {} images a prompt", option, images, max_width));
  w.prefill += images * m.vision.image_tokens;
}

/// Throws input_error if the hardware lacks a peak the model needs, or the spec or workload
/// is invalid or beyond the model's maximum context (for specs built in code; io checks
/// files with positions).
inline void check_supported(const model_spec& m, const hardware& hw, const workload& w) {
  if (auto v = check(m)) throw input_error(fmt::format("model '{}': {}", m.name, v->message));
  if (w.batch < 1 || w.prefill < 1 || w.generate < 1)
    throw input_error(fmt::format("workload: batch ({}), prefill ({}) and generate ({}) must be positive",
                                  w.batch, w.prefill, w.generate));
  if (w.batch > max_tokens || w.prefill > max_tokens || w.generate > max_tokens ||
      w.prefill + w.generate > max_tokens)
    throw input_error(
        fmt::format("workload: batch ({}), prefill ({}), generate ({}) and prefill + generate must each "
                    "be at most {} (2^40)",
                    w.batch, w.prefill, w.generate, max_tokens));
  if (m.max_context > 0 && w.prefill + w.generate > m.max_context)
    throw input_error(
        fmt::format("workload: prefill {} + generate {} = {} tokens exceeds the maximum context of "
                    "model '{}', {} ('max_context'{})",
                    w.prefill, w.generate, w.prefill + w.generate, m.name, m.max_context,
                    m.file.empty() ? "" : " in " + m.file));
  if (w.images < 0 || w.images > max_width)
    throw input_error(fmt::format("workload: images ({}) must be from 0 to {}", w.images, max_width));
  if (w.images > 0 && m.vision.layers == 0)
    throw input_error(
        fmt::format("workload: {} images a prompt, but model '{}' has no vision tower (its "
                    "spec's 'vision')",
                    w.images, m.name));
  if (w.images > 0 && w.prefill < w.images * m.vision.image_tokens)
    throw input_error(
        fmt::format("workload: prefill {} holds fewer tokens than its {} images become ({} "
                    "each: 'vision.image_tokens' of model '{}')",
                    w.prefill, w.images, m.vision.image_tokens, m.name));
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
    const std::string fix = own && own->compute
                                ? fmt::format("'dtypes.{}: {{storage: {}, compute: {}}}'", name(k), s.name,
                                              name(m.dtypes.activations))
                                : fmt::format("'dtypes.compute: {}'", name(m.dtypes.activations));
    throw input_error(
        fmt::format("{}: no matrix peak for {}: {} has no {} tensor units, and model '{}' computes its "
                    "{} weights in {}; use weight-only {} with {} compute ({}) or add 'matrix_tflops.{}'",
                    where(), name(d), hw.name, name(d), m.name, name(k), name(d), s.name,
                    name(m.dtypes.activations), fix, name(d)));
  }
  if (!peak_of(hw.matrix, m.dtypes.activations))
    throw input_error(
        fmt::format("{}: no matrix peak for {} (model '{}' computes attention and recurrent cells in "
                    "it); add 'matrix_tflops.{}'",
                    where(), name(m.dtypes.activations), m.name, name(m.dtypes.activations)));
  if (!peak_of(hw.vector, dtype::fp32))
    throw input_error(fmt::format("{}: no vector peak for fp32; add 'vector_tflops.fp32'", where()));
}

namespace detail {

/// Times the ops `each` visits (each(f) calls f(op) for every op) and sums them into a pass's
/// totals, with the per-pass overheads (the batched one when `batched`). Collectives add their
/// time under the stack's communication overlap: none: compute + communication; perfect: the
/// larger; smooth: the p-norm (the bounds: perfect and none); `communication` is the part of
/// the time they add.
template <class Each>
inline phase_estimate time_ops(const hardware& hw, overlap policy, bool batched, Each&& each) {
  phase_estimate e{};
  seconds comm{};
  each([&](const op& o) {
    const double n = o.layers.count;
    const op_time t = time_op(o, hw, policy);
    if (o.cls == op_class::communication) {
      comm += t.total * n;
      return;
    }
    const seconds extra = t.overhead;
    e.work += o.work * n;
    e.moved += o.moved * n;
    if (hw.energy) {  // a GEMM's FLOPs padded to the matrix unit's tile (energy_coefficients::spent)
      const double fl =
          o.cls == op_class::matrix ? hw.energy->spent(o.work.value(), o.gemm.m) : o.work.value();
      e.dynamic_j += n * 1e-12 *
                     (fl * hw.energy->per_flop(o.compute) + o.moved.total().value() * hw.energy->pj_per_byte);
    }
    e.time += t.total * n;
    e.time_p10 += t.total * (t.p10 * n);
    e.time_p90 += t.total * (t.p90 * n);
    e.time_perfect += (max(max(t.compute, t.memory), t.steps) + extra) * n;
    e.time_none += (t.compute + t.memory + t.steps + extra) * n;
    // a branch, not a reference picked per op: summed through a pointer, the field went through
    // memory and stalled the loop on the next op's loads (store forwarding)
    if (t.bound == bound::compute)
      e.compute_bound_time += (t.total - extra) * n;
    else
      e.memory_bound_time += (t.total - extra) * n;
    e.overhead += extra * n;
  });
  const seconds fwd =
      hw.timing.overhead_per_forward + (batched ? hw.timing.overhead_per_batched_forward : 0 * second);
  e.time += fwd;
  e.time_p10 += fwd;
  e.time_p90 += fwd;
  e.time_perfect += fwd;
  e.time_none += fwd;
  e.overhead += fwd;
  if (comm.value() > 0) {
    const seconds rest = e.time;
    e.time = combine(rest, comm, hw.timing.collectives.overlap, hw.timing.smooth_exponent);
    e.time_p10 = combine(e.time_p10, comm, hw.timing.collectives.overlap, hw.timing.smooth_exponent);
    e.time_p90 = combine(e.time_p90, comm, hw.timing.collectives.overlap, hw.timing.smooth_exponent);
    e.time_perfect = max(e.time_perfect, comm);
    e.time_none += comm;
    e.communication = e.time - rest;
  }
  e.classify();
  return e;
}

}  // namespace detail

/// Totals of one pass (of one GPU of a layout). Allocates nothing: fitting and sweeps call it
/// in tight loops.
inline phase_estimate estimate_pass(const model_spec& m, const hardware& hw, const pass& p, overlap policy,
                                    const rank_view& r = {}) {
  return detail::time_ops(hw, policy, p.batch * p.tokens > 1, [&](auto&& f) { for_each_op(m, p, r, f); });
}

namespace detail {

/// The ops of one engine iteration that runs a prefill pass (chunks of new prompts, after
/// their cached context) and a decode pass (one token of each running sequence) together, as
/// continuous batching does (serving.hpp): one forward over the tokens of both.
/// Merged where the engines run one kernel over all the iteration's tokens: a GEMM of the
/// same name and layer in both passes is one GEMM over the rows of both, its weights read
/// once (the larger of the two counts: a MoE layer's experts are those the prefill's tokens
/// touch, which at hundreds of tokens are all of them); an elementwise op and a collective
/// likewise (their FLOPs, activations and messages add). Kept apart: attention (the prompt
/// kernel and the decode kernel are two launches), recurrent cells, and any op one pass has
/// and the other not. Writes them into `out`, with `dec` for the decode pass's ops (both cleared
/// first; their capacity is kept, so buffers reused allocate nothing once grown).
inline void mixed_ops(const model_spec& m, const pass& prefill, const pass& decode, const rank_view& rp,
                      const rank_view& rd, std::vector<op>& out, std::vector<op>& dec) {
  out.clear();
  dec.clear();
  for_each_op(m, decode, rd, [&](const op& o) { dec.push_back(o); });
  std::vector<bool> used(dec.size(), false);
  std::size_t cursor = 0;
  const auto mergeable = [](op_class c) {
    return c == op_class::matrix || c == op_class::vector || c == op_class::communication;
  };
  for_each_op(m, prefill, rp, [&](const op& o) {
    std::size_t j = cursor;
    while (j < dec.size() &&
           !(dec[j].name == o.name && dec[j].layers.kind == o.layers.kind && dec[j].cls == o.cls))
      ++j;
    if (j == dec.size() || !mergeable(o.cls)) {
      out.push_back(o);
      return;
    }
    for (; cursor < j; ++cursor)
      if (!used[cursor]) out.push_back(dec[cursor]), used[cursor] = true;  // decode-only ops before the match
    const op& d = dec[j];
    op x = o;
    x.work += d.work;
    x.moved.weights = max(o.moved.weights, d.moved.weights);
    x.moved.activations += d.moved.activations;
    x.moved.kv_cache += d.moved.kv_cache;
    x.moved.state += d.moved.state;
    x.parallel += d.parallel;
    if (o.cls == op_class::matrix) {
      // rows add; a grouped GEMM keeps its groups, its rows per group the mean over both
      x.gemm.m =
          (o.gemm.m * o.gemm.groups + d.gemm.m * d.gemm.groups) / std::max(o.gemm.groups, d.gemm.groups);
      x.gemm.groups = std::max(o.gemm.groups, d.gemm.groups);
    }
    if (o.cls == op_class::communication) x.comm.message += d.comm.message;
    out.push_back(x);
    used[j] = true;
    cursor = j + 1;
  });
  for (std::size_t j = 0; j < dec.size(); ++j)
    if (!used[j]) out.push_back(dec[j]);
}

/// mixed_ops into a vector of their own.
inline std::vector<op> mixed_ops(const model_spec& m, const pass& prefill, const pass& decode,
                                 const rank_view& rp = {}, const rank_view& rd = {}) {
  std::vector<op> out, dec;
  mixed_ops(m, prefill, decode, rp, rd, out, dec);
  return out;
}

}  // namespace detail

/// Totals of one iteration of continuous batching: a prefill pass and a decode pass run as one
/// forward (mixed_ops), each seen by one GPU as its rank view says (rp, rd: the distinct tokens
/// of each pass over the dp ranks); either may be empty (batch 0), and then it is the other alone.
inline phase_estimate estimate_mixed(const model_spec& m, const hardware& hw, const pass& prefill,
                                     const pass& decode, overlap policy, const rank_view& rp = {},
                                     const rank_view& rd = {}) {
  if (prefill.batch <= 0) return estimate_pass(m, hw, decode, policy, rd);
  if (decode.batch <= 0) return estimate_pass(m, hw, prefill, policy, rp);
  // the thread's buffers: serving fits and the simulator time iterations in tight loops
  thread_local std::vector<op> ops, dec;
  detail::mixed_ops(m, prefill, decode, rp, rd, ops, dec);
  return detail::time_ops(hw, policy, true, [&](auto&& f) {
    for (const op& o : ops) f(o);
  });
}

/// Largest tp, pp, ep, dp: 2^16 GPUs in one dimension.
inline constexpr int max_parallel = 1 << 16;

/// Throws input_error unless the layout can run the model on the part: every count positive
/// and at most max_parallel; tp divides the heads of every mixer (and the KV heads, or is a
/// multiple of them), the widths of every MLP and shared expert; ep divides the experts and
/// tp x dp, and moe_tp = tp dp / ep divides the experts' width; ep > 1 only with MoE layers;
/// pp at most the layers; the part has the links its collectives need (a group spanning more
/// GPUs than one scale-up domain needs the scale-out network).
inline void check_layout(const model_spec& m, const hardware& hw, const workload& w) {
  const layout& L = w.parallel;
  const auto fail = [&](const std::string& what) {
    throw input_error(fmt::format("layout tp {} pp {} ep {} dp {}: {}", L.tp, L.pp, L.ep, L.dp, what));
  };
  for (auto [key, v] : {std::pair{"tp", L.tp}, {"pp", L.pp}, {"ep", L.ep}, {"dp", L.dp}})
    if (v < 1 || v > max_parallel) fail(fmt::format("{} must be from 1 to {}, not {}", key, max_parallel, v));
  if (L.microbatches < 0 || L.microbatches > max_parallel)
    fail(fmt::format("microbatches must be from 0 (as many as stages) to {}, not {}", max_parallel,
                     L.microbatches));
  if (L.single()) return;
  check_layer_layouts(m, L);
  const std::string model = fmt::format("model '{}'{}", m.name, m.file.empty() ? "" : " (" + m.file + ")");
  const bool moe = std::any_of(m.kinds.begin(), m.kinds.end(), [](const layer_kind& k) {
    return std::holds_alternative<moe_channel>(k.channel);
  });
  if (L.ep > 1 && !moe) fail(fmt::format("ep {} spreads experts, but {} has no MoE layers", L.ep, model));
  if (L.pp > n_layers(m))
    fail(fmt::format("pp {} is more stages than the {} layers of {}", L.pp, n_layers(m), model));
  const auto where = [&] { return hw.file.empty() ? fmt::format("part '{}'", hw.name) : hw.file; };
  const auto& up = hw.interconnect.scale_up;
  const auto& out = hw.interconnect.scale_out;
  const int widest = std::max(L.tp, moe && L.dp > 1 ? L.tp * L.dp : 1);
  const int span = std::max(widest, L.pp > 1 ? L.gpus() : 1);
  if (span > 1 && !up && !out)
    throw input_error(
        fmt::format("{}: {} GPUs talk, but the part has no 'interconnect' (scale_up, scale_out) to "
                    "time their collectives; add it (hw_profiles/example.yaml shows one)",
                    where(), span));
  if (span > 1 && (!up || span > up->gpus) && !out)
    throw input_error(
        fmt::format("{}: the layout's collectives span {} GPUs, more than the {} of one scale-up domain "
                    "('interconnect.scale_up.gpus'), and the part has no 'interconnect.scale_out'",
                    where(), span, up ? up->gpus : 0));
}

namespace detail {
inline estimate_result estimate_parallel(const model_spec& m, const hardware& hw, const workload& w,
                                         overlap pol);
}

/// The end-to-end spread (TTFT, step) an estimate of model m takes from the stack's per-family
/// spreads (timing_params::spreads): its family's; for a family the stack was not fitted on
/// (`outside`), each end the farthest of every stated family's. That is an assumption, and
/// nothing measured here tests it: that a family new to the fit errs no more than the worst
/// fitted one. Nothing where the stack states no spread.
struct spread_choice {
  spread ttft{}, step{};
  bool outside = false;
};
inline std::optional<spread_choice> end_to_end_spread(const model_spec& m, const hardware& hw) {
  const std::vector<family_spread>& all = hw.timing.spreads;
  if (all.empty()) return std::nullopt;
  const std::string_view f = name(family(m));
  spread_choice c{all.front().ttft, all.front().step, true};
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].family == f) return spread_choice{all[i].ttft, all[i].step, false};
    if (i > 0)
      c.ttft = envelope(c.ttft, all[i].ttft, c.ttft.points + all[i].ttft.points),
      c.step = envelope(c.step, all[i].step, c.step.points + all[i].step.points);
  }
  return c;
}

namespace detail {
/// A result's p10-p90 intervals from the stack's end-to-end spread (end_to_end_spread) where
/// it states one: TTFT and step time times the spread's ends (in place of a kernel table's).
inline void apply_end_to_end_spread(const model_spec& m, const hardware& hw, estimate_result& r) {
  if (hw.timing.spreads.empty()) return;
  const std::optional<spread_choice> s = end_to_end_spread(m, hw);
  r.prefill.time_p10 = r.ttft * s->ttft.p10, r.prefill.time_p90 = r.ttft * s->ttft.p90;
  r.decode.time_p10 = r.step_time * s->step.p10, r.decode.time_p90 = r.step_time * s->step.p90;
}
}  // namespace detail

/// The estimate of a workload, under `policy` or else the profile's default.
/// One GPU: TTFT = time of the prefill pass; step time = time of the mean decode pass.
/// Several GPUs (w.parallel): each GPU runs the ops of its rank (graph.hpp) and the slowest
/// dp rank (ceil(B / dp) sequences) sets the times. With pp stages, stage s runs its prefill
/// micro-batches one after another, each after stage s - 1 is done with it (a GPipe-style
/// forward schedule):
///   TTFT = sum over stages of t_s + (m - 1) max_s t_s   (t_s: one micro-batch on stage s);
/// the bubble, TTFT - m max_s t_s, is the slowest stage's idle time, (pp - 1) / (pp + m - 1)
/// of the TTFT for equal stages. Decode keeps g = min(pp, rank batch) groups of sequences in
/// flight, one on each stage: a sequence's next token comes after
///   step = max(sum over stages of t_s, g max_s t_s)   (t_s: one group's step on stage s).
/// The phase totals are those of this critical path: the stages of the first micro-batch (or
/// group) and the slowest stage's further ones. Throughput: B / step of the deployment, and
/// per GPU over its tp pp dp GPUs. Memory: each stage's GPU (rank_footprint); fits when every
/// stage's does.
inline estimate_result estimate(const model_spec& m, const hardware& hw, const workload& w,
                                std::optional<overlap> policy = std::nullopt) {
  check_supported(m, hw, w);
  check_layout(m, hw, w);
  const overlap pol = policy.value_or(hw.timing.overlap);
  const double b = double(w.batch), g = double(w.generate);
  if (w.parallel.single()) {
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
    r.throughput_tokens_per_s = b / r.step_time.value();
    r.end_to_end_tokens_per_s = b * g / (r.ttft + g * r.step_time).value();
    r.fits = r.memory.total() <= hw.capacity;
    r.ridge_point = ridge_point(hw, default_compute(m));
    detail::apply_end_to_end_spread(m, hw, r);
    if (hw.energy) r.energy = energy_of(hw, w, r);
    return r;
  }
  estimate_result r = detail::estimate_parallel(m, hw, w, pol);
  detail::apply_end_to_end_spread(m, hw, r);
  if (hw.energy) r.energy = energy_of(hw, w, r);
  return r;
}

/// A pipeline's times from its stages' (one GPU of each; estimate() says the schedule):
/// TTFT: every stage's micro-batch, then the slowest stage's microbatches - 1 more; a decode
/// step: every stage's group step, or the slowest stage's groups of them if that is longer.
/// `slowest_prefill`: the stage whose prefill sets the pace (the first of equals).
struct pipeline_times {
  phase_estimate prefill, decode;
  std::size_t slowest_prefill = 0;
};
inline pipeline_times critical_path(std::span<const phase_estimate> prefill,
                                    std::span<const phase_estimate> decode, int microbatches, int groups) {
  pipeline_times t{};
  std::size_t slow_d = 0;
  for (std::size_t i = 0; i < prefill.size(); ++i) {
    t.prefill += prefill[i];
    t.decode += decode[i];
    if (prefill[i].time > prefill[t.slowest_prefill].time) t.slowest_prefill = i;
    if (decode[i].time > decode[slow_d].time) slow_d = i;
  }
  t.prefill += prefill[t.slowest_prefill] * double(microbatches - 1);
  if (t.decode.time < decode[slow_d].time * double(groups)) t.decode = decode[slow_d] * double(groups);
  t.prefill.classify();
  t.decode.classify();
  return t;
}

namespace detail {

/// estimate()'s path for several GPUs (any layout; checks nothing: estimate() checks first).
/// At the layout of one GPU it runs one stage of one rank and agrees with the one-GPU path.
inline estimate_result estimate_parallel(const model_spec& m, const hardware& hw, const workload& w,
                                         overlap pol) {
  const double b = double(w.batch), g = double(w.generate);
  const parallel_plan plan = plan_of(w);
  parallel_estimate par{.plan = plan, .gpus = w.parallel.gpus(), .stages = {}};
  const pass pf = rank_pass(w, plan, phase::prefill), dc = rank_pass(w, plan, phase::decode);
  std::size_t big = 0;
  std::vector<phase_estimate> pre, dec;
  for (int s = 0; s < w.parallel.pp; ++s) {
    stage_estimate st{.span = stage_of(m, s, w.parallel.pp),
                      .prefill = estimate_pass(m, hw, pf, pol, rank_of(m, plan, s, phase::prefill)),
                      .decode = estimate_pass(m, hw, dc, pol, rank_of(m, plan, s, phase::decode)),
                      .memory = {}};
    st.memory = rank_footprint(m, w, st.span, plan.rank_batch, plan.micro_batch);
    st.fits = st.memory.total() <= hw.capacity;
    par.stages.push_back(st);
    pre.push_back(st.prefill);
    dec.push_back(st.decode);
    if (st.memory.total() > par.stages[big].memory.total()) big = par.stages.size() - 1;
  }
  const pipeline_times path = critical_path(pre, dec, plan.microbatches, plan.groups);
  const phase_estimate &prefill = path.prefill, &decode = path.decode;
  par.bubble = prefill.time - pre[path.slowest_prefill].time * double(plan.microbatches);
  estimate_result r{.overlap = pol,
                    .prefill = prefill,
                    .decode = decode,
                    .throughput_tokens_per_s = 0,
                    .end_to_end_tokens_per_s = 0,
                    .memory = par.stages[big].memory,
                    .capacity = hw.capacity,
                    .fits = true};
  for (const stage_estimate& st : par.stages) r.fits = r.fits && st.fits;
  r.ttft = prefill.time;
  r.step_time = decode.time;
  r.throughput_tokens_per_s = b / r.step_time.value();
  r.end_to_end_tokens_per_s = b * g / (r.ttft + g * r.step_time).value();
  par.tokens_per_s_per_gpu = r.throughput_tokens_per_s / par.gpus;
  r.ridge_point = ridge_point(hw, default_compute(m));
  r.parallel = std::move(par);
  return r;
}

}  // namespace detail

/// One op with its time, for per-op reports; `stage`: the pipeline stage whose GPUs run it.
struct op_row {
  roofline::op op;
  op_time time;
  int stage = 0;
};

/// Every op of one pass with its time (one row per group of identical layers).
inline std::vector<op_row> op_rows(const model_spec& m, const hardware& hw, const pass& p, overlap policy) {
  std::vector<op_row> rows;
  for_each_op(m, p, [&](const op& o) { rows.push_back({o, time_op(o, hw, policy)}); });
  return rows;
}

/// Every op one GPU of each stage runs in a phase of the workload (its prefill micro-batch or
/// decode group; on one GPU, the whole pass), stage by stage.
inline std::vector<op_row> op_rows(const model_spec& m, const hardware& hw, const workload& w, phase ph,
                                   overlap policy) {
  if (w.parallel.single())
    return op_rows(m, hw, ph == phase::prefill ? prefill_pass(w) : decode_pass(w), policy);
  const parallel_plan plan = plan_of(w);
  const pass p = rank_pass(w, plan, ph);
  std::vector<op_row> rows;
  for (int s = 0; s < w.parallel.pp; ++s)
    for_each_op(m, p, rank_of(m, plan, s, ph), [&](const op& o) {
      rows.push_back({o, time_op(o, hw, policy), s});
    });
  return rows;
}

}  // namespace roofline
