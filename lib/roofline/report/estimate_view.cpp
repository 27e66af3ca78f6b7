// report: the view of an estimate (report.hpp): its table (per layer group or per op), JSON and CSV.
#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "roofline/report/report.hpp"
#include "roofline/report/table.hpp"
#include "roofline/report/text.hpp"
#include "roofline/serving/interval.hpp"

namespace roofline {
namespace {

using detail::duration;
using detail::si;

// Arithmetic intensity, FLOP/B; undefined (nullopt) for an op that moves no bytes.
std::optional<double> ratio(flops f, bytes b) {
  if (b.value() == 0) return std::nullopt;
  return f.value() / b.value();
}
std::string ratio_text(flops f, bytes b, std::string_view none) {
  const auto r = ratio(f, b);
  return r ? fmt::format("{:.1f}", *r) : std::string(none);
}

// A layer group: the embedding, the head, or a kind of layer with its count.
std::string layer_label(const layer_span& l, const model_spec& m) {
  if (l.kind == layer_span::vision) return l.count > 1 ? fmt::format("vision (x{})", l.count) : "vision";
  if (l.kind == layer_span::embedding) return "embedding";
  if (l.kind == layer_span::head) return "head";
  return fmt::format("{} (x{})", m.kinds[std::size_t(l.kind)].name(), l.count);
}

// The kind name an op belongs to, for JSON and CSV.
std::string kind_name(const layer_span& l, const model_spec& m) {
  if (l.kind == layer_span::vision) return "vision";
  if (l.kind == layer_span::embedding) return "embedding";
  if (l.kind == layer_span::head) return "head";
  return m.kinds[std::size_t(l.kind)].name();
}

// One table row: a layer group (per layer) or an op.
struct row {
  std::string layer, name, cls;
  flops work{};
  traffic moved{};
  seconds compute{}, memory{}, time{}, comm{};
  bytes message{};  ///< communication ops: bytes of their collectives
  int count = 1;
  int ops = 0;
  int stage = 0;
};

std::vector<row> table_rows(const report& r, const std::vector<op_row>& ops, bool per_op) {
  std::vector<row> rows;
  for (const op_row& o : ops) {
    const auto label = layer_label(o.op.layers, r.model);
    if (per_op || rows.empty() || rows.back().layer != label || rows.back().stage != o.stage) {
      std::string cls = per_op ? std::string(name(o.op.cls)) : "";
      if (per_op && o.op.cls == op_class::communication)
        cls = fmt::format("{}, {}", name(o.op.comm.collective), name(o.time.link));
      rows.push_back({label,
                      per_op ? std::string(o.op.name) : std::string(),
                      cls,
                      {},
                      {},
                      {},
                      {},
                      {},
                      {},
                      {},
                      o.op.layers.count,
                      0,
                      o.stage});
    }
    row& w = rows.back();
    if (!per_op) {
      ++w.ops;
      w.name = fmt::format("{} op{}", w.ops, w.ops > 1 ? "s" : "");
    }
    w.work += o.op.work;
    w.moved += o.op.moved;
    w.compute += o.time.compute;
    w.memory += o.time.memory;
    w.time += o.time.total;
    if (o.op.cls == op_class::communication) {
      w.comm += o.time.total;
      w.message += o.op.comm.message;
    }
  }
  return rows;
}

// The time of the pass a row's stage runs (its share's denominator): the phase's on one GPU,
// else the stage's micro-batch or decode group.
seconds stage_time(const report& r, bool prefill, int stage, const phase_estimate& e) {
  if (!r.result.parallel) return e.time;
  const stage_estimate& s = r.result.parallel->stages[std::size_t(stage)];
  return prefill ? s.prefill.time : s.decode.time;
}

// Whether the stack states an interval: an end-to-end spread, or a kernel table with the
// held-out spread of some kind.
bool has_interval(const hardware& hw) {
  return !hw.timing.spreads.empty() || (hw.timing.kernels && hw.timing.kernels->has_spread());
}

// Where the estimate's interval comes from, and what it does not cover; empty: no interval.
std::string interval_from(const model_spec& m, const hardware& hw) {
  const std::string moved =
      hw.transferred_from.empty()
          ? ""
          : fmt::format("; the stack is moved from {}: the interval does not cover the move",
                        hw.transferred_from);
  if (const auto s = end_to_end_spread(m, hw)) {
    if (!s->outside)
      return fmt::format(
          "the stack's end-to-end spread of {} models ({} TTFT and {} step times, measured / "
          "predicted at their 10th and 90th percentiles){}",
          name(family(m)), s->ttft.points, s->step.points, moved);
    std::string fams;
    for (const family_spread& f : hw.timing.spreads) fams += (fams.empty() ? "" : ", ") + f.family;
    return fmt::format(
        "the stack was not fitted on {} models: each end the widest of its families' ({}); it "
        "does not cover what is new in the family{}",
        name(family(m)), fams, moved);
  }
  if (has_interval(hw))
    return "the kernel table's ops at their kind's end of " + kernel_interval_source(hw) +
           "; it does not cover the other ops' errors";
  return "";
}

// The summary's energy lines: joules per output token, the power of a GPU in each phase, tokens
// per kWh; or that the part states no energy.
void energy_line(detail::summary_table& out, const hardware& hw, const std::optional<energy_estimate>& e) {
  if (!e) {
    out.line("energy", "not stated",
             fmt::format("{} states no energy coefficients (energy: in its profile)", hw.name));
    return;
  }
  out.line("energy per token", fmt::format("{:.4g} J", e->j_per_output_token),
           fmt::format("decode {:.4g} W a GPU{}, {} output tokens per kWh", e->decode_w,
                       e->decode_at_tdp ? " (at TDP)" : "", detail::count_text(e->output_tokens_per_kwh)));
  out.line("prefill energy", fmt::format("{:.4g} J", e->prefill_j),
           fmt::format("{:.3g} J a prompt token, at {:.4g} W a GPU{}", e->j_per_prompt_token, e->prefill_w,
                       e->prefill_at_tdp ? " (at TDP)" : ""));
}

// A pass's line of the summary: its time, the interval where the stack states one, its bounds.
void summary_line(detail::summary_table& out, const hardware& hw, std::string_view what,
                  const phase_estimate& p) {
  out.line(std::string(what), duration(p.time),
           fmt::format("{}perfect overlap {}, no overlap {}; {}-bound",
                       has_interval(hw)
                           ? fmt::format("p10-p90 {} - {}; ", duration(p.time_p10), duration(p.time_p90))
                           : "",
                       duration(p.time_perfect), duration(p.time_none), name(p.bound)));
}

// With a kernel table: how many ops it timed at measured shapes, and which it extrapolated
// (outside its shapes, or from another part) or left to the analytic model.
std::string kernel_note(const kernel_table& t, const hardware& hw, const std::vector<op_row>& ops) {
  int table = 0;
  std::string extrapolated, model;
  for (const op_row& o : ops) {
    if (o.op.cls == op_class::communication) continue;
    std::string& list = o.time.by == timed_by::extrapolated ? extrapolated : model;
    if (o.time.by == timed_by::table)
      ++table;
    else if (list.find(std::string(o.op.name)) == std::string::npos)
      list += (list.empty() ? "" : ", ") + std::string(o.op.name);
  }
  return fmt::format("kernel table {} (measured on {}{}): {} ops inside its shapes (interpolated){}{}",
                     t.file, t.measured_on.name, t.measured_on.name == hw.name ? "" : ", moved to this part",
                     table, extrapolated.empty() ? "" : "; extrapolated outside them: " + extrapolated,
                     model.empty() ? "" : "; by the analytic model (no table of their kind): " + model);
}

// The columns of a pass's table; the bytes by kind and the ops leave a table narrower than the
// width first, then the collectives' messages.
// The columns of a pass's table: per layer group, or (per_op) a group's heading row and its ops
// under it. The bytes by kind and the ops' count leave a table narrower than the width first, then
// the collectives' messages, the compute and memory times, the intensity, the share.
detail::text_table phase_columns(bool several, bool per_op) {
  std::vector<detail::text_table::column> c{{per_op ? "layer / op (class)" : "layer", true}};
  if (!per_op) c.push_back({"ops", true, 2});
  for (const char* h : {"FLOPs", "bytes"}) c.push_back({h});
  for (const char* h : {"weights", "activations", "KV cache", "state"}) c.push_back({h, false, 1});
  if (several) c.push_back({"collective", false, 3});
  c.push_back({"FLOP/B", false, 5});
  c.push_back({"compute", false, 4});
  c.push_back({"memory", false, 4});
  c.push_back({"time"});
  c.push_back({"share", false, 6});
  c.push_back({"bound", true});
  return detail::text_table(std::move(c));
}

void phase_table(std::string& out, const report& r, std::string_view title, const phase_estimate& e,
                 const std::vector<op_row>& ops, bool per_op, const table_style& style) {
  const bool several = r.result.parallel.has_value();
  const bool prefill = &e == &r.result.prefill;
  out += detail::section(
      fmt::format("{}; a row of identical layers (xN) shows one layer, its share all N{}{}", title,
                  several ? " of its stage's time" : "", per_op ? "" : " (--layers lists the ops)"),
      style);
  detail::text_table t = phase_columns(several, per_op);
  const std::size_t n_columns = (per_op ? 13 : 14) + (several ? 1 : 0);
  const auto heading = [&](std::string label, std::string time) {  // a row of its own: a stage, a group
    std::vector<std::string> cells(n_columns);
    cells[0] = std::move(label);
    cells[n_columns - 3] = std::move(time);
    t.row(std::move(cells));
  };
  int stage = -1;
  std::string group;
  for (const row& w : table_rows(r, ops, per_op)) {
    if (several && r.work.parallel.pp > 1 && w.stage != stage) {
      stage = w.stage;
      const stage_span& sp = r.result.parallel->stages[std::size_t(stage)].span;
      heading(fmt::format("stage {} (layers {} to {})", stage, sp.first,
                          std::min(sp.last, n_layers(r.model)) - 1),
              duration(stage_time(r, prefill, stage, e)));
      group.clear();
    }
    if (per_op && w.layer != group) heading(group = w.layer, "");
    const std::string_view bound = w.comm > max(w.compute, w.memory) ? "communication"
                                   : w.compute >= w.memory           ? "compute"
                                                                     : "memory";
    std::vector<std::string> cells{per_op ? fmt::format("  {} ({})", w.name, w.cls) : w.layer};
    if (!per_op) cells.push_back(w.name);
    cells.push_back(si(w.work.value(), "FLOP"));
    for (double b : {w.moved.total().value(), w.moved.weights.value(), w.moved.activations.value(),
                     w.moved.kv_cache.value(), w.moved.state.value()})
      cells.push_back(si(b, "B"));
    if (several) cells.push_back(si(w.message.value(), "B"));
    for (std::string c :
         {ratio_text(w.work, w.moved.total(), "-"), duration(w.compute), duration(w.memory), duration(w.time),
          fmt::format("{:.1f}%",
                      100 * (w.time * double(w.count)).value() / stage_time(r, prefill, w.stage, e).value()),
          std::string(bound)})
      cells.push_back(std::move(c));
    t.row(std::move(cells));
  }
  t.note(fmt::format(
      "total: {}, {} ({} weights, {} activations, {} KV cache, {} state), {} FLOP/B; "
      "{} with overlap {} [perfect {}, none {}], {} of it overheads{}; {}-bound",
      si(e.work.value(), "FLOP"), si(e.moved.total().value(), "B"), si(e.moved.weights.value(), "B"),
      si(e.moved.activations.value(), "B"), si(e.moved.kv_cache.value(), "B"), si(e.moved.state.value(), "B"),
      ratio_text(e.work, e.moved.total(), "-"), duration(e.time), name(r.result.overlap),
      duration(e.time_perfect), duration(e.time_none), duration(e.overhead),
      several ? fmt::format(", {} communication (not hidden; stack overlap {})", duration(e.communication),
                            name(r.hw.timing.collectives.overlap))
              : "",
      name(e.bound)));
  if (r.hw.timing.kernels) t.note(kernel_note(*r.hw.timing.kernels, r.hw, ops));
  out += t.render(style);
}

// The layout in words: "tp 8 x pp 2 x dp 1 = 16 GPUs; experts over ep 8, each split over moe_tp 1".
std::string layout_text(const layout& L, const model_spec& m) {
  const bool moe = std::any_of(m.kinds.begin(), m.kinds.end(), [](const layer_kind& k) {
    return std::holds_alternative<moe_channel>(k.channel);
  });
  return fmt::format(
      "tp {} x pp {} x dp {} = {} GPUs{}{}", L.tp, L.pp, L.dp, L.gpus(),
      moe ? fmt::format("; experts over ep {}, each split over moe_tp {}", L.ep, L.moe_tp()) : "",
      L.sequence_parallel ? "; sequence parallel" : "");
}

// The report's first two lines: the model and its parameters, the part and stack, the workload.
std::string estimate_heading(const report& r) {
  const double total = parameters(r.model), active = active_parameters(r.model);
  return fmt::format(
      "{} ({}, {:.3f} billion parameters{}{}) on {}{}\nbatch {}, prefill {} tokens{}, generate {} tokens, "
      "overlap {}\n",
      r.model.name, name(family(r.model)), total / 1e9,
      active < total ? fmt::format(", {:.3f} billion active", active / 1e9) : "",
      r.model.vision.layers > 0
          ? fmt::format(", vision tower {:.3f} billion", vision_parameters(r.model) / 1e9)
          : "",
      r.hw.name, r.hw.stack.empty() ? "" : fmt::format(", stack {} ({})", r.hw.stack, r.hw.stack_note),
      r.work.batch, r.work.prefill,
      r.work.images > 0
          ? fmt::format(" ({} image{} of {} tokens among them, encoded in the prefill)", r.work.images,
                        r.work.images > 1 ? "s" : "", r.model.vision.image_tokens)
          : "",
      r.work.generate, name(r.result.overlap));
}

// The tables of both passes: per layer group (or op) of the one GPU, or of one GPU of each stage.
void pass_tables(std::string& out, const report& r, bool per_op, const table_style& style) {
  const estimate_result& e = r.result;
  if (!e.parallel) {
    phase_table(out, r, "prefill of the batch", e.prefill, r.prefill_ops, per_op, style);
    phase_table(out, r, "decode step of the batch (mean over the generated tokens)", e.decode, r.decode_ops,
                per_op, style);
    return;
  }
  const parallel_plan& p = e.parallel->plan;
  out += detail::text_line(fmt::format("layout {}; each dp rank serves {} of the {} sequences",
                                       layout_text(r.work.parallel, r.model), p.rank_batch, r.work.batch),
                           style);
  phase_table(
      out, r,
      p.microbatches > 1
          ? fmt::format(
                "prefill: the ops of one GPU of each stage for one micro-batch of {} sequences (of {})",
                p.micro_batch, p.microbatches)
          : fmt::format("prefill: the ops of one GPU of each stage for its {} sequences", p.micro_batch),
      e.prefill, r.prefill_ops, per_op, style);
  phase_table(
      out, r,
      p.groups > 1
          ? fmt::format("decode step: the ops of one GPU of each stage for a group of {} sequences ({} "
                        "groups in flight; mean over the generated tokens)",
                        p.group_batch, p.groups)
          : fmt::format("decode step: the ops of one GPU of each stage for its {} sequences (mean over "
                        "the generated tokens)",
                        p.group_batch),
      e.decode, r.decode_ops, per_op, style);
}

// The memory lines of the summary: the footprint (per GPU of each stage on several GPUs) and
// whether it fits.
void memory_lines(detail::summary_table& t, const report& r) {
  const estimate_result& e = r.result;
  if (!e.parallel) {
    const footprint& m = e.memory;
    t.line(
        "memory", si(m.total().value(), "B"),
        fmt::format("capacity {}: {}; weights {}, KV cache {}, state {}, activations {}",
                    si(e.capacity.value(), "B"), e.fits ? "fits" : "DOES NOT FIT", si(m.weights.value(), "B"),
                    si(m.kv_cache.value(), "B"), si(m.state.value(), "B"), si(m.activations.value(), "B")));
    return;
  }
  const parallel_estimate& p = *e.parallel;
  if (r.work.parallel.pp > 1)
    t.line("pipeline bubble", duration(p.bubble),
           fmt::format("the slowest stage idles this long in the prefill ({:.1f}% of TTFT)",
                       100 * p.bubble.value() / e.ttft.value()));
  t.line("per GPU", fmt::format("{:.5g}", p.tokens_per_s_per_gpu),
         fmt::format("tokens/s per GPU ({} GPUs)", p.gpus));
  for (std::size_t s = 0; s < p.stages.size(); ++s) {
    const footprint& f = p.stages[s].memory;
    t.line(p.stages.size() > 1 ? fmt::format("memory per GPU, st. {}", s) : "memory per GPU",
           si(f.total().value(), "B"),
           fmt::format("capacity {}: {}; weights {}, KV cache {}, state {}, activations {}, buffers {}",
                       si(e.capacity.value(), "B"), p.stages[s].fits ? "fits" : "DOES NOT FIT",
                       si(f.weights.value(), "B"), si(f.kv_cache.value(), "B"), si(f.state.value(), "B"),
                       si(f.activations.value(), "B"), si(f.buffers.value(), "B")));
  }
}

std::string estimate_table(const report& r, bool per_op, const table_style& style) {
  const estimate_result& e = r.result;
  std::string out = detail::text_line(estimate_heading(r), style);
  pass_tables(out, r, per_op, style);
  out += detail::section("summary", style);
  detail::summary_table t;
  summary_line(t, r.hw, "time to first token", e.prefill);
  summary_line(t, r.hw, "decode step", e.decode);
  if (const std::string from = interval_from(r.model, r.hw); !from.empty())
    t.line("p10-p90 interval", "", from);
  t.line("decode throughput", fmt::format("{:.5g}", e.throughput_tokens_per_s),
         fmt::format("tokens/s of the batch; end to end (TTFT + G steps) {:.5g} tokens/s",
                     e.end_to_end_tokens_per_s));
  memory_lines(t, r);
  energy_line(t, r.hw, e.energy);
  t.line("ridge point", fmt::format("{:.1f} FLOP/B", e.ridge_point.value()),
         fmt::format("{} matrix peak / memory bandwidth", name(default_compute(r.model))));
  return out + t.render(style);
}

// Calls f(layer index, op_row) for every op of every layer, in order: the vision tower's (-2, once
// for each of the layers an op stands for), the embedding (-1), each layer's ops (those of its
// kind), the head (n_layers).
template <class F>
void each_layer_op(const model_spec& m, const std::vector<op_row>& ops, F&& f) {
  for (const op_row& o : ops)
    if (o.op.layers.kind == layer_span::vision)
      for (int i = 0; i < o.op.layers.count; ++i) f(-2, o);
  for (const op_row& o : ops)
    if (o.op.layers.kind == layer_span::embedding) f(-1, o);
  for (int i = 0; i < n_layers(m); ++i)
    for (const op_row& o : ops)
      if (o.op.layers.kind == m.layers[std::size_t(i)]) f(i, o);
  for (const op_row& o : ops)
    if (o.op.layers.kind == layer_span::head) f(n_layers(m), o);
}

nlohmann::json phase_json(const model_spec& m, const phase_estimate& e, const std::vector<op_row>& ops) {
  nlohmann::json list = nlohmann::json::array();
  each_layer_op(m, ops, [&](int layer, const op_row& o) {
    list.push_back({{"layer", layer},
                    {"kind", kind_name(o.op.layers, m)},
                    {"name", o.op.name},
                    {"class", name(o.op.cls)},
                    {"flops", o.op.work.value()},
                    {"bytes", o.op.moved.total().value()},
                    {"weight_bytes", o.op.moved.weights.value()},
                    {"activation_bytes", o.op.moved.activations.value()},
                    {"kv_cache_bytes", o.op.moved.kv_cache.value()},
                    {"state_bytes", o.op.moved.state.value()},
                    {"intensity", ratio(o.op.work, o.op.moved.total())
                                      ? nlohmann::json(*ratio(o.op.work, o.op.moved.total()))
                                      : nlohmann::json()},
                    {"compute_s", o.time.compute.value()},
                    {"memory_s", o.time.memory.value()},
                    {"time_s", o.time.total.value()},
                    {"bound", name(o.time.bound)},
                    {"timed_by", name(o.time.by)},
                    {"rank", {{"stage", o.stage}}},
                    {"link", o.op.cls == op_class::communication ? nlohmann::json(name(o.time.link))
                                                                 : nlohmann::json()}});
    if (o.op.cls == op_class::communication)
      list.back().update({{"collective", name(o.op.comm.collective)},
                          {"group", o.op.comm.group},
                          {"message_bytes", o.op.comm.message.value()}});
  });
  return {{"flops", e.work.value()},
          {"bytes", e.moved.total().value()},
          {"weight_bytes", e.moved.weights.value()},
          {"activation_bytes", e.moved.activations.value()},
          {"kv_cache_bytes", e.moved.kv_cache.value()},
          {"state_bytes", e.moved.state.value()},
          {"time_s", e.time.value()},
          {"time_s_perfect_overlap", e.time_perfect.value()},
          {"time_s_no_overlap", e.time_none.value()},
          {"overhead_s", e.overhead.value()},
          {"communication_s", e.communication.value()},
          {"bound", name(e.bound)},
          {"ops", std::move(list)}};
}

// The model: name, family, parameters (total and active), and its layer kinds with the layers of each.
nlohmann::json model_json(const model_spec& m) {
  nlohmann::json kinds = nlohmann::json::array();
  for (std::size_t k = 0; k < m.kinds.size(); ++k) {
    nlohmann::json layers = nlohmann::json::array();
    for (int i = 0; i < n_layers(m); ++i)
      if (m.layers[std::size_t(i)] == int(k)) layers.push_back(i);
    kinds.push_back({{"name", m.kinds[k].name()},
                     {"mixer", m.kinds[k].mixer_name},
                     {"channel", m.kinds[k].channel_name},
                     {"parameters_per_layer", layer_params(m, m.kinds[k]).total()},
                     {"layers", std::move(layers)}});
  }
  return {{"name", m.name},
          {"architecture", name(family(m))},
          {"parameters", parameters(m)},
          {"active_parameters", active_parameters(m)},
          {"vision_parameters", vision_parameters(m)},
          {"n_layers", n_layers(m)},
          {"layer_kinds", std::move(kinds)}};
}

// The layout and what it adds: GPUs, micro-batches, decode groups, the bubble, per-GPU
// throughput and each stage's times and memory per GPU. One GPU: the layout of 1s.
nlohmann::json parallel_json(const report& r) {
  const layout& L = r.work.parallel;
  nlohmann::json j = {{"tp", L.tp},      {"pp", L.pp},           {"ep", L.ep},
                      {"dp", L.dp},      {"moe_tp", L.moe_tp()}, {"sequence_parallel", L.sequence_parallel},
                      {"gpus", L.gpus()}};
  if (!r.result.parallel) return j;
  const parallel_estimate& p = *r.result.parallel;
  nlohmann::json stages = nlohmann::json::array();
  for (const stage_estimate& s : p.stages)
    stages.push_back({{"first_layer", s.span.first},
                      {"last_layer", std::min(s.span.last, n_layers(r.model)) - 1},
                      {"prefill_microbatch_s", s.prefill.time.value()},
                      {"prefill_communication_s", s.prefill.communication.value()},
                      {"decode_group_step_s", s.decode.time.value()},
                      {"decode_communication_s", s.decode.communication.value()},
                      {"memory_per_gpu",
                       {{"weights_bytes", s.memory.weights.value()},
                        {"kv_cache_bytes", s.memory.kv_cache.value()},
                        {"state_bytes", s.memory.state.value()},
                        {"activation_bytes", s.memory.activations.value()},
                        {"buffer_bytes", s.memory.buffers.value()},
                        {"total_bytes", s.memory.total().value()},
                        {"fits", s.fits}}}});
  j.update({{"rank_batch", p.plan.rank_batch},
            {"microbatches", p.plan.microbatches},
            {"microbatch_sequences", p.plan.micro_batch},
            {"decode_groups", p.plan.groups},
            {"decode_group_sequences", p.plan.group_batch},
            {"bubble_s", p.bubble.value()},
            {"throughput_tokens_per_s_per_gpu", p.tokens_per_s_per_gpu},
            {"stages", std::move(stages)}});
  return j;
}

nlohmann::json estimate_json(const report& r) {
  const estimate_result& e = r.result;
  const footprint& m = e.memory;
  nlohmann::json j = {
      {"model", model_json(r.model)},
      {"hardware", {{"name", r.hw.name}, {"stack", r.hw.stack}, {"stack_note", r.hw.stack_note}}},
      {"workload",
       {{"batch", r.work.batch},
        {"prefill", r.work.prefill},
        {"generate", r.work.generate},
        {"images", r.work.images}}},
      {"overlap", name(e.overlap)},
      {"prefill", phase_json(r.model, e.prefill, r.prefill_ops)},
      {"decode", phase_json(r.model, e.decode, r.decode_ops)},
      {"ttft_s", e.ttft.value()},
      {"step_time_s", e.step_time.value()},
      {"interval", has_interval(r.hw) ? nlohmann::json{{"ttft_p10_s", e.prefill.time_p10.value()},
                                                       {"ttft_p90_s", e.prefill.time_p90.value()},
                                                       {"step_p10_s", e.decode.time_p10.value()},
                                                       {"step_p90_s", e.decode.time_p90.value()},
                                                       {"from", interval_from(r.model, r.hw)}}
                                      : nlohmann::json(nullptr)},
      {"throughput_tokens_per_s", e.throughput_tokens_per_s},
      {"end_to_end_tokens_per_s", e.end_to_end_tokens_per_s},
      {"ridge_point_flop_per_byte", e.ridge_point.value()},
      {"memory",
       {{"weights_bytes", m.weights.value()},
        {"kv_cache_bytes", m.kv_cache.value()},
        {"state_bytes", m.state.value()},
        {"activation_bytes", m.activations.value()},
        {"total_bytes", m.total().value()},
        {"capacity_bytes", e.capacity.value()},
        {"fits", e.fits}}},
      {"parallel", parallel_json(r)},
      {"energy", e.energy ? nlohmann::json{{"prefill_j", e.energy->prefill_j},
                                           {"step_j", e.energy->step_j},
                                           {"prefill_w_per_gpu", e.energy->prefill_w},
                                           {"decode_w_per_gpu", e.energy->decode_w},
                                           {"prefill_at_tdp", e.energy->prefill_at_tdp},
                                           {"decode_at_tdp", e.energy->decode_at_tdp},
                                           {"j_per_output_token", e.energy->j_per_output_token},
                                           {"output_tokens_per_kwh", e.energy->output_tokens_per_kwh},
                                           {"j_per_prompt_token", e.energy->j_per_prompt_token}}
                          : nlohmann::json(nullptr)}};
  return j;
}

std::string estimate_csv(const report& r) {
  std::string out =
      "phase,layer,kind,op,class,flops,weight_bytes,activation_bytes,kv_cache_bytes,state_bytes,intensity,"
      "compute_s,"
      "memory_s,time_s,bound\n";
  const auto phase = [&](std::string_view ph, const phase_estimate& e, const std::vector<op_row>& ops) {
    each_layer_op(r.model, ops, [&](int layer, const op_row& o) {
      fmt::format_to(std::back_inserter(out),
                     "{},{},{},{},{},{:.10g},{:.10g},{:.10g},{:.10g},{:.10g},{},{:.6g},{:.6g},{:.6g},{}\n",
                     ph, layer, kind_name(o.op.layers, r.model), o.op.name, name(o.op.cls), o.op.work.value(),
                     o.op.moved.weights.value(), o.op.moved.activations.value(), o.op.moved.kv_cache.value(),
                     o.op.moved.state.value(), ratio_text(o.op.work, o.op.moved.total(), ""),
                     o.time.compute.value(), o.time.memory.value(), o.time.total.value(), name(o.time.bound));
    });
    fmt::format_to(
        std::back_inserter(out), "{},all,,total,,{:.10g},{:.10g},{:.10g},{:.10g},{:.10g},{},,,{:.6g},{}\n",
        ph, e.work.value(), e.moved.weights.value(), e.moved.activations.value(), e.moved.kv_cache.value(),
        e.moved.state.value(), ratio_text(e.work, e.moved.total(), ""), e.time.value(), name(e.bound));
  };
  phase("prefill", r.result.prefill, r.prefill_ops);
  phase("decode", r.result.decode, r.decode_ops);
  // the summary: TTFT and the decode step (time_s, with their bounds), and the memory of a GPU
  // (of the first stage on several) by kind in the byte columns, bound "fits" or "does_not_fit"
  const estimate_result& e = r.result;
  fmt::format_to(std::back_inserter(out), "summary,all,,ttft,,,,,,,,,,{:.6g},{}\n", e.ttft.value(),
                 name(e.prefill.bound));
  fmt::format_to(std::back_inserter(out), "summary,all,,step,,,,,,,,,,{:.6g},{}\n", e.step_time.value(),
                 name(e.decode.bound));
  const footprint& m = e.parallel ? e.parallel->stages.front().memory : e.memory;
  const bool fits = e.parallel ? e.parallel->stages.front().fits : e.fits;
  fmt::format_to(std::back_inserter(out), "summary,all,,memory,,,{:.10g},{:.10g},{:.10g},{:.10g},,,,,{}\n",
                 m.weights.value(), m.activations.value() + m.buffers.value(), m.kv_cache.value(),
                 m.state.value(), fits ? "fits" : "does_not_fit");
  return out;
}

}  // namespace

report make_report(const model_spec& m, const hardware& hw, const workload& w,
                   std::optional<overlap> policy) {
  estimate_result e = estimate(m, hw, w, policy);
  return {
      m, hw, w, e, op_rows(m, hw, w, phase::prefill, e.overlap), op_rows(m, hw, w, phase::decode, e.overlap)};
}

nlohmann::json estimate_view::json() const { return estimate_json(r); }
std::string estimate_view::table(const table_style& style) const { return estimate_table(r, per_op, style); }
std::string estimate_view::csv() const { return estimate_csv(r); }

}  // namespace roofline
