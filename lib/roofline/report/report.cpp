// report: tables, JSON and CSV of an estimate.
#include "roofline/report/report.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace roofline {
namespace {

// A value with an SI prefix chosen for people: 1.23 TFLOP, 45.6 GB, 7.89 ms.
std::string si(double v, std::string_view unit) {
  static constexpr std::array<std::pair<double, const char*>, 7> big{
      {{1e18, "E"}, {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}}};
  if (v == 0) return fmt::format("0 {}", unit);
  for (auto [scale, prefix] : big)
    if (std::abs(v) >= scale) return fmt::format("{:.4g} {}{}", v / scale, prefix, unit);
  return fmt::format("{:.4g} {}", v, unit);
}

std::string duration(seconds t) {
  const double s = t.value();
  if (s >= 1) return fmt::format("{:.4g} s", s);
  if (s >= 1e-3) return fmt::format("{:.4g} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.4g} us", s * 1e6);
  return fmt::format("{:.4g} ns", s * 1e9);
}

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
  if (l.kind == layer_span::embedding) return "embedding";
  if (l.kind == layer_span::head) return "head";
  return fmt::format("{} (x{})", m.kinds[std::size_t(l.kind)].name(), l.count);
}

// The kind name an op belongs to, for JSON and CSV.
std::string kind_name(const layer_span& l, const model_spec& m) {
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

void phase_table(std::string& out, const report& r, std::string_view title, const phase_estimate& e,
                 const std::vector<op_row>& ops, bool per_op) {
  const bool several = r.result.parallel.has_value();
  const bool prefill = &e == &r.result.prefill;
  fmt::format_to(std::back_inserter(out),
                 "\n{}; a row of identical layers (xN) shows one layer, its share all N{}\n", title,
                 several ? " of its stage's time" : "");
  const std::string comm_head = several ? fmt::format(" {:>11}", "collective") : "";
  const std::size_t op_width = several && per_op ? 40 : 28;  // room for "name (collective, link)"
  const auto header = fmt::format(
      "{:<28} {:<{}} {:>12} {:>11} {:>11} {:>11} {:>11}{} {:>10} {:>10} {:>10} {:>10} {:>6} {:<7}\n", "layer",
      per_op ? "op (class)" : "ops (--layers lists them)", op_width, "FLOPs", "weights", "activations",
      "KV cache", "state", comm_head, "FLOP/B", "compute", "memory", "time", "share", "bound");
  out += header;
  out += std::string(header.size() - 1, '-') + "\n";
  int stage = -1;
  for (const row& w : table_rows(r, ops, per_op)) {
    if (several && r.work.parallel.pp > 1 && w.stage != stage) {
      stage = w.stage;
      const stage_span& sp = r.result.parallel->stages[std::size_t(stage)].span;
      fmt::format_to(std::back_inserter(out), "stage {} (layers {} to {}): {}\n", stage, sp.first,
                     std::min(sp.last, n_layers(r.model)) - 1, duration(stage_time(r, prefill, stage, e)));
    }
    auto label = per_op ? fmt::format("{} ({})", w.name, w.cls) : w.name;
    if (label.size() > op_width) label = label.substr(0, op_width - 3) + "...";
    const std::string comm = several ? fmt::format(" {:>11}", si(w.message.value(), "B")) : "";
    const std::string_view bound = w.comm > max(w.compute, w.memory) ? "communication"
                                   : w.compute >= w.memory           ? "compute"
                                                                     : "memory";
    fmt::format_to(
        std::back_inserter(out),
        "{:<28} {:<{}} {:>12} {:>11} {:>11} {:>11} {:>11}{} {:>10} {:>10} {:>10} {:>10} {:>5.1f}% {:<7}\n",
        w.layer, label, op_width, si(w.work.value(), "FLOP"), si(w.moved.weights.value(), "B"),
        si(w.moved.activations.value(), "B"), si(w.moved.kv_cache.value(), "B"),
        si(w.moved.state.value(), "B"), comm, ratio_text(w.work, w.moved.total(), "-"), duration(w.compute),
        duration(w.memory), duration(w.time),
        100 * (w.time * double(w.count)).value() / stage_time(r, prefill, w.stage, e).value(), bound);
  }
  fmt::format_to(std::back_inserter(out),
                 "total: {}, {} ({} weights, {} activations, {} KV cache, {} state), {} FLOP/B; "
                 "{} with overlap {} [perfect {}, none {}], {} of it overheads{}; {}-bound\n",
                 si(e.work.value(), "FLOP"), si(e.moved.total().value(), "B"),
                 si(e.moved.weights.value(), "B"), si(e.moved.activations.value(), "B"),
                 si(e.moved.kv_cache.value(), "B"), si(e.moved.state.value(), "B"),
                 ratio_text(e.work, e.moved.total(), "-"), duration(e.time), name(r.result.overlap),
                 duration(e.time_perfect), duration(e.time_none), duration(e.overhead),
                 several ? fmt::format(", {} communication (not hidden; stack overlap {})",
                                       duration(e.communication), name(r.hw.timing.collectives.overlap))
                         : "",
                 name(e.bound));
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

std::string table(const report& r, bool per_op) {
  const estimate_result& e = r.result;
  const double total = parameters(r.model), active = active_parameters(r.model);
  std::string out = fmt::format(
      "{} ({}, {:.3f} billion parameters{}) on {}{}\nbatch {}, prefill {} tokens, generate {} tokens, "
      "overlap {}\n",
      r.model.name, name(family(r.model)), total / 1e9,
      active < total ? fmt::format(", {:.3f} billion active", active / 1e9) : "", r.hw.name,
      r.hw.stack.empty() ? "" : fmt::format(", stack {} ({})", r.hw.stack, r.hw.stack_note), r.work.batch,
      r.work.prefill, r.work.generate, name(e.overlap));
  if (!e.parallel) {
    phase_table(out, r, "prefill of the batch", e.prefill, r.prefill_ops, per_op);
    phase_table(out, r, "decode step of the batch (mean over the generated tokens)", e.decode, r.decode_ops,
                per_op);
  } else {
    const parallel_plan& p = e.parallel->plan;
    fmt::format_to(std::back_inserter(out), "layout {}; each dp rank serves {} of the {} sequences\n",
                   layout_text(r.work.parallel, r.model), p.rank_batch, r.work.batch);
    phase_table(
        out, r,
        p.microbatches > 1
            ? fmt::format(
                  "prefill: the ops of one GPU of each stage for one micro-batch of {} sequences (of {})",
                  p.micro_batch, p.microbatches)
            : fmt::format("prefill: the ops of one GPU of each stage for its {} sequences", p.micro_batch),
        e.prefill, r.prefill_ops, per_op);
    phase_table(
        out, r,
        p.groups > 1
            ? fmt::format("decode step: the ops of one GPU of each stage for a group of {} sequences ({} "
                          "groups in flight; mean over the generated tokens)",
                          p.group_batch, p.groups)
            : fmt::format("decode step: the ops of one GPU of each stage for its {} sequences (mean over "
                          "the generated tokens)",
                          p.group_batch),
        e.decode, r.decode_ops, per_op);
  }
  const auto line = [&](std::string_view what, const phase_estimate& p) {
    fmt::format_to(std::back_inserter(out), "{:<22}{:>12}   perfect overlap {}, no overlap {}; {}-bound\n",
                   what, duration(p.time), duration(p.time_perfect), duration(p.time_none), name(p.bound));
  };
  out += "\nsummary\n";
  line("time to first token", e.prefill);
  line("decode step", e.decode);
  fmt::format_to(std::back_inserter(out),
                 "{:<22}{:>12}   tokens/s of the batch; end to end (TTFT + G steps) {:.5g} tokens/s\n",
                 "decode throughput", fmt::format("{:.5g}", e.throughput_tokens_per_s),
                 e.end_to_end_tokens_per_s);
  const footprint& m = e.memory;
  if (!e.parallel) {
    fmt::format_to(std::back_inserter(out),
                   "{:<22}{:>12}   weights {}, KV cache {}, state {}, activations {}; capacity {}: {}\n",
                   "memory", si(m.total().value(), "B"), si(m.weights.value(), "B"),
                   si(m.kv_cache.value(), "B"), si(m.state.value(), "B"), si(m.activations.value(), "B"),
                   si(e.capacity.value(), "B"), e.fits ? "fits" : "DOES NOT FIT");
  } else {
    const parallel_estimate& p = *e.parallel;
    if (r.work.parallel.pp > 1)
      fmt::format_to(std::back_inserter(out),
                     "{:<22}{:>12}   the slowest stage idles this long in the prefill ({:.1f}% of TTFT)\n",
                     "pipeline bubble", duration(p.bubble), 100 * p.bubble.value() / e.ttft.value());
    fmt::format_to(std::back_inserter(out), "{:<22}{:>12}   tokens/s per GPU ({} GPUs)\n", "per GPU",
                   fmt::format("{:.5g}", p.tokens_per_s_per_gpu), p.gpus);
    for (std::size_t s = 0; s < p.stages.size(); ++s) {
      const footprint& f = p.stages[s].memory;
      fmt::format_to(
          std::back_inserter(out),
          "{:<22}{:>12}   weights {}, KV cache {}, state {}, activations {}, buffers {}; capacity {}: {}\n",
          p.stages.size() > 1 ? fmt::format("memory per GPU, st. {}", s) : "memory per GPU",
          si(f.total().value(), "B"), si(f.weights.value(), "B"), si(f.kv_cache.value(), "B"),
          si(f.state.value(), "B"), si(f.activations.value(), "B"), si(f.buffers.value(), "B"),
          si(e.capacity.value(), "B"), p.stages[s].fits ? "fits" : "DOES NOT FIT");
    }
  }
  fmt::format_to(std::back_inserter(out), "{:<22}{:>12}   {} matrix peak / memory bandwidth\n", "ridge point",
                 fmt::format("{:.1f} FLOP/B", e.ridge_point.value()), name(default_compute(r.model)));
  return out;
}

// Calls f(layer index, op_row) for every op of every layer, in order: the embedding (-1), each
// layer's ops (those of its kind), the head (n_layers).
template <class F>
void each_layer_op(const model_spec& m, const std::vector<op_row>& ops, F&& f) {
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

std::string json(const report& r) {
  const estimate_result& e = r.result;
  const footprint& m = e.memory;
  const nlohmann::json j = {
      {"model", model_json(r.model)},
      {"hardware", {{"name", r.hw.name}, {"stack", r.hw.stack}, {"stack_note", r.hw.stack_note}}},
      {"workload", {{"batch", r.work.batch}, {"prefill", r.work.prefill}, {"generate", r.work.generate}}},
      {"overlap", name(e.overlap)},
      {"prefill", phase_json(r.model, e.prefill, r.prefill_ops)},
      {"decode", phase_json(r.model, e.decode, r.decode_ops)},
      {"ttft_s", e.ttft.value()},
      {"step_time_s", e.step_time.value()},
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
      {"parallel", parallel_json(r)}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string csv(const report& r) {
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
  return out;
}

}  // namespace

report make_report(const model_spec& m, const hardware& hw, const workload& w,
                   std::optional<overlap> policy) {
  estimate_result e = estimate(m, hw, w, policy);
  return {
      m, hw, w, e, op_rows(m, hw, w, phase::prefill, e.overlap), op_rows(m, hw, w, phase::decode, e.overlap)};
}

std::string render(const report& r, report_format f, bool per_op) {
  switch (f) {
    case report_format::table:
      return table(r, per_op);
    case report_format::json:
      return json(r);
    case report_format::csv:
      return csv(r);
  }
  return {};
}

std::string render_comparison(const comparison& c, report_format f) {
  if (f == report_format::json) {
    nlohmann::json names = nlohmann::json::array(), points = nlohmann::json::array(),
                   cross = nlohmann::json::array();
    for (const model_spec* m : c.models) names.push_back(m->name);
    for (std::size_t i = 0; i < c.grid.size(); ++i) {
      nlohmann::json ms = nlohmann::json::array();
      for (std::size_t j = 0; j < c.models.size(); ++j)
        ms.push_back({{"name", c.models[j]->name},
                      {"ttft_s", c.results[i][j].ttft.value()},
                      {"step_time_s", c.results[i][j].step_time.value()},
                      {"fits", c.results[i][j].fits}});
      points.push_back({{"prefill", c.grid[i]}, {"models", ms}});
    }
    for (const crossover& x : c.crossovers)
      cross.push_back({{"metric", name(x.metric)},
                       {"faster", c.models[x.faster]->name},
                       {"slower", c.models[x.slower]->name},
                       {"prefill", x.prefill}});
    return nlohmann::json{{"hardware", c.hw->name},      {"stack", c.hw->stack}, {"batch", c.work.batch},
                          {"generate", c.work.generate}, {"models", names},      {"points", points},
                          {"crossovers", cross}}
               .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  }
  if (f == report_format::csv) {
    std::string out = "prefill,model,ttft_s,step_time_s,fits\n";
    for (std::size_t i = 0; i < c.grid.size(); ++i)
      for (std::size_t j = 0; j < c.models.size(); ++j)
        fmt::format_to(std::back_inserter(out), "{},{},{:.6g},{:.6g},{}\n", c.grid[i], c.models[j]->name,
                       c.results[i][j].ttft.value(), c.results[i][j].step_time.value(), c.results[i][j].fits);
    return out;
  }
  std::string out = fmt::format(
      "{}{} at batch {}, {} generated tokens; TTFT / decode step (* does not fit in memory)\n", c.hw->name,
      c.hw->stack.empty() ? "" : ", stack " + c.hw->stack, c.work.batch, c.work.generate);
  fmt::format_to(std::back_inserter(out), "{:>9}", "prefill");
  for (const model_spec* m : c.models) fmt::format_to(std::back_inserter(out), "  {:>25}", m->name);
  out += "\n";
  for (std::size_t i = 0; i < c.grid.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "{:>9}", c.grid[i]);
    for (const estimate_result& r : c.results[i])
      fmt::format_to(std::back_inserter(out), "  {:>25}",
                     fmt::format("{}{} / {}", r.fits ? "" : "*", duration(r.ttft), duration(r.step_time)));
    out += "\n";
  }
  for (metric k : {metric::ttft, metric::step}) {  // who leads where the range starts
    std::size_t best = 0;
    for (std::size_t j = 1; j < c.models.size(); ++j)
      if ((k == metric::ttft ? c.results[0][j].ttft < c.results[0][best].ttft
                             : c.results[0][j].step_time < c.results[0][best].step_time))
        best = j;
    fmt::format_to(std::back_inserter(out), "{}at {} tokens the fastest {} is {}\n",
                   k == metric::ttft ? "\n" : "", c.grid[0], name(k), c.models[best]->name);
  }
  out += c.crossovers.empty() ? "no crossovers in this range\n" : "crossovers\n";
  for (const crossover& x : c.crossovers)
    fmt::format_to(std::back_inserter(out), "  {:<5} {} is faster than {} from a prompt of {} tokens\n",
                   name(x.metric), c.models[x.faster]->name, c.models[x.slower]->name, x.prefill);
  return out;
}

std::string render_cells(const std::vector<error_cell>& cells, report_format f, std::string_view title) {
  if (f == report_format::json) {
    nlohmann::json list = nlohmann::json::array();
    for (const error_cell& c : cells)
      list.push_back({{"architecture", c.architecture},
                      {"phase", c.phase},
                      {"n", c.n},
                      {"median_ape", c.median_ape},
                      {"mean_ape", c.mean_ape},
                      {"p90_ape", c.p90_ape},
                      {"max_ape", c.max_ape}});
    return nlohmann::json{{"cells", list}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  }
  if (f == report_format::csv) {
    std::string out = "architecture,phase,n,median_ape,mean_ape,p90_ape,max_ape\n";
    for (const error_cell& c : cells)
      fmt::format_to(std::back_inserter(out), "{},{},{},{:.4g},{:.4g},{:.4g},{:.4g}\n", c.architecture,
                     c.phase, c.n, c.median_ape, c.mean_ape, c.p90_ape, c.max_ape);
    return out;
  }
  std::string out = fmt::format("{}\n{:<12} {:<6} {:>5} {:>9} {:>9} {:>9} {:>9}\n", title, "architecture",
                                "phase", "n", "median %", "mean %", "p90 %", "max %");
  for (const error_cell& c : cells)
    fmt::format_to(std::back_inserter(out), "{:<12} {:<6} {:>5} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f}\n",
                   c.architecture, c.phase, c.n, c.median_ape, c.mean_ape, c.p90_ape, c.max_ape);
  return out;
}

std::string predictions_csv(std::span<const sample> samples, std::span<const prediction> predicted) {
  std::string out = "model,batch,prefill,generate,ttft_ms,step_ms,predicted_ttft_ms,predicted_step_ms\n";
  const auto ms = [](double s) { return std::isnan(s) ? std::string() : fmt::format("{:.6g}", s * 1e3); };
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const sample& s = samples[i];
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{}\n", s.model_path, s.work.batch,
                   s.work.prefill, s.work.generate, ms(s.ttft_s), ms(s.step_s), ms(predicted[i].ttft_s),
                   ms(predicted[i].step_s));
  }
  return out;
}

namespace {

nlohmann::json iterations_json(const serving_iterations& it) {
  const auto phase = [](const phase_estimate& e) {
    return nlohmann::json{{"time_ms", e.time.value() * 1e3},
                          {"compute_bound_ms", e.compute_bound_time.value() * 1e3},
                          {"memory_bound_ms", e.memory_bound_time.value() * 1e3},
                          {"overhead_ms", e.overhead.value() * 1e3},
                          {"communication_ms", e.communication.value() * 1e3},
                          {"bound", std::string(name(e.bound))}};
  };
  return {{"running", it.running},
          {"waiting", it.waiting},
          {"decoding", it.decoding},
          {"decoding_mixed", it.decoding_mixed},
          {"decoding_light", it.decoding_light},
          {"chunk_tokens", it.chunk},
          {"chunks", it.chunks},
          {"prefill_tokens", it.prefill_tokens},
          {"mixed_share", it.mixed_share},
          {"cycle", it.cycle},
          {"mixed_ms", it.mixed_time.value() * 1e3},
          {"decode_ms", it.decode_time.value() * 1e3},
          {"mixed", phase(it.mixed)},
          {"decode", phase(it.decode)}};
}

std::string layout_text(const worker_pool& w) {
  return fmt::format("{} worker{} of tp {} pp {} ep {} dp {}", w.workers, w.workers == 1 ? "" : "s", w.L.tp,
                     w.L.pp, w.L.ep, w.L.dp);
}

}  // namespace

std::string render_serving(const model_spec& m, const hardware& hw, const serving_workload& w,
                           const serving_result& r, report_format f) {
  const auto ms = [](seconds s) { return s.value() * 1e3; };
  const auto mem_json = [](const serving_memory& mm) {
    return nlohmann::json{{"weights_gb", mm.gpu.weights.value() / 1e9},
                          {"activations_gb", mm.gpu.activations.value() / 1e9},
                          {"buffers_gb", mm.gpu.buffers.value() / 1e9},
                          {"kv_cache_gb", mm.gpu.kv_cache.value() / 1e9},
                          {"kv_pool_gb", mm.pool.value() / 1e9},
                          {"per_request_gb", mm.per_request.value() / 1e9},
                          {"admitted_per_rank", mm.admitted}};
  };
  if (f == report_format::json) {
    nlohmann::json j = {{"model", m.name},
                        {"hardware", hw.name},
                        {"stack", hw.stack},
                        {"stack_note", hw.stack_note},
                        {"isl", w.isl},
                        {"osl", w.osl},
                        {"concurrency", w.concurrency},
                        {"mode", w.disaggregated ? "disagg" : "agg"},
                        {"gpus", r.gpus},
                        {"fits", r.fits},
                        {"ttft_ms", ms(r.ttft)},
                        {"tpot_ms", ms(r.tpot)},
                        {"e2e_ms", ms(r.e2e)},
                        {"wait_ms", ms(r.wait)},
                        {"transfer_ms", ms(r.transfer)},
                        {"tokens_per_s_user", r.tokens_per_s_user},
                        {"tokens_per_s_gpu", r.tokens_per_s_gpu},
                        {"tokens_per_s", r.tokens_per_s},
                        {"max_concurrency", r.max_concurrency},
                        {"memory", mem_json(r.memory)},
                        {"iterations", iterations_json(r.iterations)},
                        {"notes", r.notes}};
    const auto pool = [](const worker_pool& p) {
      return nlohmann::json{
          {"workers", p.workers}, {"tp", p.L.tp}, {"pp", p.L.pp}, {"ep", p.L.ep}, {"dp", p.L.dp}};
    };
    if (w.disaggregated) {
      j["prefill"] = pool(w.prefill);
      j["decode"] = pool(w.decode);
      j["prefill_iterations"] = iterations_json(*r.prefill_iterations);
      j["prefill_memory"] = mem_json(*r.prefill_memory);
    } else {
      j["agg"] = pool(w.agg);
    }
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string out =
      fmt::format("serving {} on {} (stack {}, {})\n", m.name, hw.name, hw.stack, hw.stack_note);
  fmt::format_to(std::back_inserter(out), "requests      {} prompt + {} generated tokens, {:g} in flight\n",
                 w.isl, w.osl, w.concurrency);
  if (w.disaggregated)
    fmt::format_to(std::back_inserter(out), "deployment    disaggregated: prefill {}, decode {}; {} GPUs\n",
                   layout_text(w.prefill), layout_text(w.decode), r.gpus);
  else
    fmt::format_to(std::back_inserter(out), "deployment    aggregated: {}; {} GPUs\n", layout_text(w.agg),
                   r.gpus);
  if (!r.fits) {
    for (const std::string& n : r.notes) fmt::format_to(std::back_inserter(out), "note          {}\n", n);
    return out + "does not fit\n";
  }
  fmt::format_to(std::back_inserter(out), "TTFT          {:.1f} ms   (waiting {:.1f} ms{})\n", ms(r.ttft),
                 ms(r.wait), w.disaggregated ? fmt::format(", KV transfer {:.2f} ms", ms(r.transfer)) : "");
  fmt::format_to(std::back_inserter(out), "TPOT          {:.2f} ms   ({:.1f} tokens/s per user)\n",
                 ms(r.tpot), r.tokens_per_s_user);
  fmt::format_to(std::back_inserter(out), "end to end    {:.0f} ms\n", ms(r.e2e));
  fmt::format_to(std::back_inserter(out), "throughput    {:.0f} tokens/s, {:.1f} per GPU\n", r.tokens_per_s,
                 r.tokens_per_s_gpu);
  const serving_memory& mm = r.memory;
  fmt::format_to(
      std::back_inserter(out),
      "memory/GPU    weights {:.1f} GB, activations {:.1f} GB, KV pool {:.1f} GB: {:.4g} GB a request, "
      "{:g} requests a rank; at most {:g} in flight\n",
      mm.gpu.weights.value() / 1e9, mm.gpu.activations.value() / 1e9, mm.pool.value() / 1e9,
      mm.per_request.value() / 1e9, mm.admitted, r.max_concurrency);
  const serving_iterations& it = r.iterations;
  const auto line = [&](const char* what, const phase_estimate& e, seconds t) {
    fmt::format_to(std::back_inserter(out),
                   "  {:<11} {:>8.2f} ms: compute-bound {:.2f}, memory-bound {:.2f}, overhead {:.2f}, "
                   "communication {:.2f} ms; {}-bound\n",
                   what, ms(t), ms(e.compute_bound_time), ms(e.memory_bound_time), ms(e.overhead),
                   ms(e.communication), name(e.bound));
  };
  fmt::format_to(std::back_inserter(out),
                 "iterations    {:.4g} requests running a rank ({:.4g} waiting), {:.4g} decoding", it.running,
                 it.waiting, it.decoding);
  if (!w.disaggregated)
    fmt::format_to(std::back_inserter(out),
                   "; a prompt in {:g} chunk{} of {:g} tokens; {:.3g}% of iterations mixed "
                   "({:.0f} prompt tokens each)\n",
                   it.chunks, it.chunks == 1 ? "" : "s", it.chunk, 100 * it.mixed_share, it.prefill_tokens);
  else
    out += "\n";
  if (!w.disaggregated) line("mixed", it.mixed, it.mixed_time);
  line("decode", it.decode, it.decode_time);
  if (r.prefill_iterations) line("prefill", r.prefill_iterations->mixed, r.prefill_iterations->mixed_time);
  for (const std::string& n : r.notes) fmt::format_to(std::back_inserter(out), "note          {}\n", n);
  return out;
}

std::string serving_predictions_csv(const std::vector<engine_run>& runs,
                                    const std::vector<run_prediction>& pred) {
  std::string out =
      "line,id,engine,system,model,ttft_ms,tpot_ms,predicted_ttft_ms,predicted_tpot_ms,stack,skipped\n";
  const auto ms = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6g}", v); };
  for (std::size_t i = 0; i < runs.size(); ++i)
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{},{},{},{}\n", runs[i].line, runs[i].id,
                   runs[i].engine, runs[i].system, runs[i].model, runs[i].ttft_ms, runs[i].tpot_ms,
                   ms(pred[i].ttft_ms), ms(pred[i].tpot_ms), pred[i].stack, pred[i].skip);
  return out;
}

std::string render_serving_cells(const std::vector<serving_cell>& cells,
                                 const std::vector<skipped_rows>& skipped, report_format f,
                                 std::string_view title) {
  if (f == report_format::json) {
    nlohmann::json list = nlohmann::json::array(), skips = nlohmann::json::array();
    for (const serving_cell& c : cells)
      list.push_back({{"engine", c.engine},
                      {"system", c.system},
                      {"metric", c.metric},
                      {"n", c.n},
                      {"models", c.models},
                      {"median_ape", c.median_ape},
                      {"mean_ape", c.mean_ape},
                      {"p90_ape", c.p90_ape},
                      {"max_ape", c.max_ape},
                      {"stack", c.stack}});
    for (const skipped_rows& s : skipped) skips.push_back({{"reason", s.reason}, {"n", s.n}});
    return nlohmann::json{{"cells", list}, {"skipped", skips}}.dump(
               2, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  }
  std::string out =
      fmt::format("{}\n{:<7} {:<9} {:<5} {:>5} {:>6} {:>9} {:>9} {:>9} {:>9}  {}\n", title, "engine",
                  "system", "what", "n", "models", "median %", "mean %", "p90 %", "max %", "stack");
  for (const serving_cell& c : cells)
    fmt::format_to(
        std::back_inserter(out), "{:<7} {:<9} {:<5} {:>5} {:>6} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f}  {}\n",
        c.engine, c.system, c.metric, c.n, c.models, c.median_ape, c.mean_ape, c.p90_ape, c.max_ape, c.stack);
  for (const skipped_rows& s : skipped)
    fmt::format_to(std::back_inserter(out), "skipped {:>5}: {}\n", s.n, s.reason);
  return out;
}

namespace {

std::string deployment_text(const serving_workload& w) {
  return w.disaggregated ? fmt::format("prefill {}; decode {}", layout_text(w.prefill), layout_text(w.decode))
                         : layout_text(w.agg);
}

nlohmann::json point_json(const deployment_point& p) {
  return {{"mode", p.work.disaggregated ? "disagg" : "agg"},
          {"deployment", deployment_text(p.work)},
          {"concurrency", p.work.concurrency},
          {"ttft_ms", p.result.ttft.value() * 1e3},
          {"tpot_ms", p.result.tpot.value() * 1e3},
          {"tokens_per_s_user", p.result.tokens_per_s_user},
          {"tokens_per_s_gpu", p.result.tokens_per_s_gpu}};
}

}  // namespace

std::string render_deployments(const model_spec& m, const hardware& hw, const deployment_space& sp,
                               const std::vector<deployment_point>& points,
                               const std::optional<deployment_point>& best, std::optional<double> ttft_ms,
                               std::optional<double> tpot_ms, report_format f) {
  std::vector<const deployment_point*> frontier;
  for (const deployment_point& p : points)
    if (p.frontier) frontier.push_back(&p);
  std::sort(frontier.begin(), frontier.end(), [](const deployment_point* a, const deployment_point* b) {
    return a->result.tokens_per_s_user > b->result.tokens_per_s_user;
  });
  if (f == report_format::json) {
    nlohmann::json fr = nlohmann::json::array();
    for (const deployment_point* p : frontier) fr.push_back(point_json(*p));
    return nlohmann::json{{"model", m.name},
                          {"hardware", hw.name},
                          {"stack", hw.stack},
                          {"gpus", sp.gpus},
                          {"isl", sp.isl},
                          {"osl", sp.osl},
                          {"ttft_target_ms", ttft_ms ? nlohmann::json(*ttft_ms) : nlohmann::json()},
                          {"tpot_target_ms", tpot_ms ? nlohmann::json(*tpot_ms) : nlohmann::json()},
                          {"points", points.size()},
                          {"best", best ? point_json(*best) : nlohmann::json()},
                          {"frontier", fr}}
               .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  }
  std::string out = fmt::format(
      "deployments of {} on {} x {} (stack {}, {}), {} prompt + {} generated tokens: {} "
      "served\n",
      m.name, sp.gpus, hw.name, hw.stack, hw.stack_note, sp.isl, sp.osl, points.size());
  const std::string targets =
      fmt::format("TTFT {}, TPOT {}", ttft_ms ? fmt::format("<= {:g} ms", *ttft_ms) : "any",
                  tpot_ms ? fmt::format("<= {:g} ms", *tpot_ms) : "any");
  const auto row = [&](const deployment_point& p) {
    return fmt::format("{:<7} {:>6g} {:>10.1f} {:>9.2f} {:>11.1f} {:>10.1f}  {}\n",
                       p.work.disaggregated ? "disagg" : "agg", p.work.concurrency,
                       p.result.ttft.value() * 1e3, p.result.tpot.value() * 1e3, p.result.tokens_per_s_user,
                       p.result.tokens_per_s_gpu, deployment_text(p.work));
  };
  const std::string head = fmt::format("{:<7} {:>6} {:>10} {:>9} {:>11} {:>10}  {}\n", "mode", "conc",
                                       "TTFT ms", "TPOT ms", "tok/s/user", "tok/s/GPU", "deployment");
  if (best)
    out += fmt::format("best within {}:\n", targets) + head + row(*best);
  else
    out += fmt::format("no deployment meets {}\n", targets);
  out += "\nPareto frontier (tokens/s per user against per GPU):\n" + head;
  for (const deployment_point* p : frontier) out += row(*p);
  return out;
}

void sweep_rows(std::string& out, const sweep_grid& g, std::size_t first,
                std::span<const estimate_point> points, report_format f, bool header) {
  auto it = std::back_inserter(out);
  if (f == report_format::csv && header && first == 0)
    out +=
        "batch,prefill,generate,tp,pp,ep,dp,ttft_s,step_s,tokens_per_s,e2e_tokens_per_s,memory_gb,fits,"
        "prefill_bound,decode_bound\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const workload w = g.at((first + i) % g.size());
    const estimate_point& p = points[i];
    const layout& L = w.parallel;
    if (f == report_format::csv)
      fmt::format_to(it, "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", w.batch, w.prefill, w.generate,
                     L.tp, L.pp, L.ep, L.dp, p.ttft_s, p.step_s, p.tokens_per_s, p.e2e_tokens_per_s,
                     p.memory_bytes / 1e9, p.fits, name(p.prefill_bound), name(p.decode_bound));
    else
      fmt::format_to(
          it,
          "{{\"batch\":{},\"prefill\":{},\"generate\":{},\"tp\":{},\"pp\":{},\"ep\":{},\"dp\":{},"
          "\"ttft_s\":{},\"step_s\":{},\"tokens_per_s\":{},\"e2e_tokens_per_s\":{},\"memory_gb\":{},"
          "\"fits\":{},\"prefill_bound\":\"{}\",\"decode_bound\":\"{}\"}}\n",
          w.batch, w.prefill, w.generate, L.tp, L.pp, L.ep, L.dp, p.ttft_s, p.step_s, p.tokens_per_s,
          p.e2e_tokens_per_s, p.memory_bytes / 1e9, p.fits, name(p.prefill_bound), name(p.decode_bound));
  }
}

std::string render_sweep_summary(const model_spec& m, const hardware& hw, const sweep_summary& s) {
  nlohmann::ordered_json j;
  j["estimates"] = s.estimates;
  j["seconds"] = s.seconds;
  j["estimates_per_s"] = s.seconds > 0 ? double(s.estimates) / s.seconds : 0.0;
  j["threads"] = s.threads;
  j["checksum_ttft_s"] = s.checksum_ttft_s;
  j["checksum_step_s"] = s.checksum_step_s;
  j["folded"] = s.made.folded;
  j["scalar"] = s.made.scalar;
  j["simd"] = simd_target();
  j["model"] = m.name;
  j["hardware"] = hw.name;
  j["stack"] = hw.stack;
  j["overlap"] = name(s.policy);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace roofline
