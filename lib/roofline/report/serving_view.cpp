// report: the views of serving (report.hpp): one deployment at a concurrency, and the deployments of
// a model on N GPUs with the best within the targets and the Pareto frontier.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "roofline/report/report.hpp"
#include "roofline/report/table.hpp"
#include "roofline/report/text.hpp"

namespace roofline {
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

nlohmann::json memory_json(const serving_memory& mm) {
  return {{"weights_gb", mm.gpu.weights.value() / 1e9},
          {"activations_gb", mm.gpu.activations.value() / 1e9},
          {"buffers_gb", mm.gpu.buffers.value() / 1e9},
          {"kv_cache_gb", mm.gpu.kv_cache.value() / 1e9},
          {"kv_pool_gb", mm.pool.value() / 1e9},
          {"per_request_gb", mm.per_request.value() / 1e9},
          {"admitted_per_rank", mm.admitted}};
}

double ms(seconds s) { return s.value() * 1e3; }

std::string deployment_text(const serving_workload& w) {
  return w.disaggregated ? fmt::format("prefill {}; decode {}", layout_text(w.prefill), layout_text(w.decode))
                         : layout_text(w.agg);
}

// Whether a point carries its interval (frontier_intervals), both ends served.
bool has_point_interval(const deployment_point& p) { return p.p10 && p.p90 && p.p10->fits && p.p90->fits; }

nlohmann::json point_json(const deployment_point& p) {
  nlohmann::json j = {{"mode", p.work.disaggregated ? "disagg" : "agg"},
                      {"deployment", deployment_text(p.work)},
                      {"concurrency", p.work.concurrency},
                      {"ttft_ms", p.result.ttft.value() * 1e3},
                      {"tpot_ms", p.result.tpot.value() * 1e3},
                      {"tokens_per_s_user", p.result.tokens_per_s_user},
                      {"tokens_per_s_gpu", p.result.tokens_per_s_gpu}};
  if (p.result.j_per_output_token) j["j_per_output_token"] = *p.result.j_per_output_token;
  if (has_point_interval(p))
    j["interval"] = {{"ttft_ms", {p.p10->ttft.value() * 1e3, p.p90->ttft.value() * 1e3}},
                     {"tpot_ms", {p.p10->tpot.value() * 1e3, p.p90->tpot.value() * 1e3}},
                     {"tokens_per_s_gpu", {p.p90->tokens_per_s_gpu, p.p10->tokens_per_s_gpu}}};
  return j;
}

// The deployments on the Pareto frontier, fastest per user first.
std::vector<const deployment_point*> frontier_of(const std::vector<deployment_point>& points) {
  std::vector<const deployment_point*> frontier;
  for (const deployment_point& p : points)
    if (p.frontier) frontier.push_back(&p);
  std::sort(frontier.begin(), frontier.end(), [](const deployment_point* a, const deployment_point* b) {
    return a->result.tokens_per_s_user > b->result.tokens_per_s_user;
  });
  return frontier;
}

}  // namespace

namespace {
// Requests that wait: a whole number as it is, a mean (the closed form's steady state) as one.
std::string waiting_text(double n) {
  if (n == std::floor(n)) return fmt::format("{:.0f} requests of", n);
  return fmt::format("on average {:.2f} requests of", n);
}
}  // namespace

std::string serving_view::note_text(const serving_note& n) const {
  const serving_params& sp = hw.timing.serving;
  switch (n.what) {
    case serving_note::kind::engine_defaults:
      return fmt::format(
          "stack '{}' states no serving parameters: engine defaults used (max_batch_tokens {}, max_batch {}, "
          "memory_fraction {}, block_tokens {}, no overheads, no queued requests)",
          hw.stack, sp.max_batch_tokens, sp.max_batch, sp.memory_fraction, sp.block_tokens);
    case serving_note::kind::request_too_large:
      if (r.memory.pool.value() <= 0)  // nothing left for the KV cache at all
        return fmt::format(
            "the weights, activations and buffers of a GPU ({:.3g} GB) leave no KV pool in the {:.3g} GB the "
            "engine may use (memory_fraction {} of {:.3g} GB)",
            (r.memory.gpu.weights + r.memory.gpu.activations + r.memory.gpu.buffers).value() / 1e9,
            sp.memory_fraction * hw.capacity.value() / 1e9, sp.memory_fraction, hw.capacity.value() / 1e9);
      return fmt::format(
          "one request of {} + {} tokens does not fit: {:.3g} GB of KV pool for {:.3g} GB a request", w.isl,
          w.osl, r.memory.pool.value() / 1e9, r.memory.per_request.value() / 1e9);
    case serving_note::kind::decode_slots_wait:
      return fmt::format("{} a decode rank wait for a slot (max_batch or KV memory)",
                         waiting_text(n.waiting));
    case serving_note::kind::slots_wait:
      return fmt::format("{} a rank wait for a slot: {}", waiting_text(n.waiting),
                         n.binding == serving_note::limit::kv_cache ? "the KV cache admits fewer"
                         : n.binding == serving_note::limit::token_budget
                             ? "the token budget (max_batch_tokens) runs fewer"
                             : "max_batch");
  }
  return {};
}

nlohmann::json serving_view::json() const {
  nlohmann::json notes = nlohmann::json::array();
  for (const serving_note& n : r.notes) notes.push_back(note_text(n));
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
                      {"power_w", r.power_w ? nlohmann::json(*r.power_w) : nlohmann::json(nullptr)},
                      {"j_per_output_token", r.j_per_output_token ? nlohmann::json(*r.j_per_output_token)
                                                                  : nlohmann::json(nullptr)},
                      {"at_tdp", r.at_tdp},
                      {"memory", memory_json(r.memory)},
                      {"iterations", iterations_json(r.iterations)},
                      {"notes", notes}};
  const auto pool = [](const worker_pool& p) {
    return nlohmann::json{
        {"workers", p.workers}, {"tp", p.L.tp}, {"pp", p.L.pp}, {"ep", p.L.ep}, {"dp", p.L.dp}};
  };
  j["speculation"] = w.speculative.k > 0 ? nlohmann::json{{"k", w.speculative.k},
                                                          {"draft", draft_name(m, w.speculative)},
                                                          {"tokens_per_step", tokens_per_step(w.speculative)}}
                                         : nlohmann::json(nullptr);
  if (w.disaggregated) {
    j["prefill"] = pool(w.prefill);
    j["decode"] = pool(w.decode);
    j["prefill_iterations"] =
        r.prefill_iterations ? iterations_json(*r.prefill_iterations) : nlohmann::json();
    j["prefill_memory"] = r.prefill_memory ? memory_json(*r.prefill_memory) : nlohmann::json();
  } else {
    j["agg"] = pool(w.agg);
  }
  j["interval"] = p10 && p90 && r.fits && p10->fits && p90->fits
                      ? nlohmann::json{{"ttft_ms", {ms(p10->ttft), ms(p90->ttft)}},
                                       {"tpot_ms", {ms(p10->tpot), ms(p90->tpot)}},
                                       {"tokens_per_s", {p90->tokens_per_s, p10->tokens_per_s}},
                                       {"from", interval_source(hw)}}
                      : nlohmann::json(nullptr);
  if (!r.fits)  // nothing is served: no times, no rates (null, not 0)
    for (const char* key :
         {"ttft_ms", "tpot_ms", "e2e_ms", "wait_ms", "transfer_ms", "tokens_per_s_user", "tokens_per_s_gpu",
          "tokens_per_s", "iterations", "prefill_iterations", "power_w", "j_per_output_token"})
      if (j.contains(key)) j[key] = nullptr;
  return j;
}

// The serving report's lines of what the iterations hold and where their time goes.
void iteration_lines(detail::summary_table& t, const serving_workload& w, const serving_result& r) {
  const serving_iterations& it = r.iterations;
  const auto line = [&](const char* what, const phase_estimate& e, seconds time) {
    t.line(fmt::format("  {}", what), "",
           fmt::format(
               "{:.2f} ms: compute-bound {:.2f}, memory-bound {:.2f}, overhead {:.2f}, communication {:.2f} "
               "ms; {}-bound",
               ms(time), ms(e.compute_bound_time), ms(e.memory_bound_time), ms(e.overhead),
               ms(e.communication), name(e.bound)));
  };
  t.line("iterations", "",
         fmt::format("{:.4g} requests running a rank ({:.4g} waiting), {:.4g} decoding (means over time){}",
                     it.running, it.waiting, it.decoding,
                     w.disaggregated ? ""
                                     : fmt::format("; a prompt in {:g} chunk{} of {:g} tokens; {:.3g}% of "
                                                   "iterations mixed ({:.0f} prompt tokens each)",
                                                   it.chunks, it.chunks == 1 ? "" : "s", it.chunk,
                                                   100 * it.mixed_share, it.prefill_tokens)));
  if (!w.disaggregated) line("mixed", it.mixed, it.mixed_time);
  line("decode", it.decode, it.decode_time);
  if (r.prefill_iterations) line("prefill", r.prefill_iterations->mixed, r.prefill_iterations->mixed_time);
}

std::string serving_view::table(const table_style& style) const {
  std::string out = detail::text_line(
      fmt::format("serving {} on {} (stack {}, {})", m.name, hw.name, hw.stack, hw.stack_note), style);
  detail::summary_table t(14, 0);
  const auto gpus = [](int n) { return fmt::format("{} GPU{}", n, n == 1 ? "" : "s"); };
  t.line("requests", "",
         fmt::format("{} prompt + {} generated tokens, {:g} in flight", w.isl, w.osl, w.concurrency));
  t.line("deployment", "",
         w.disaggregated ? fmt::format("disaggregated: prefill {}, decode {}; {}", layout_text(w.prefill),
                                       layout_text(w.decode), gpus(r.gpus))
                         : fmt::format("aggregated: {}; {}", layout_text(w.agg), gpus(r.gpus)));
  if (!r.fits) {
    for (const serving_note& n : r.notes) t.line("note", "", note_text(n));
    return out + t.render(style) + detail::text_line("does not fit", style);
  }
  t.line("TTFT", "",
         fmt::format("{:.1f} ms   (waiting {:.1f} ms{})", ms(r.ttft), ms(r.wait),
                     w.disaggregated ? fmt::format(", KV transfer {:.2f} ms", ms(r.transfer)) : ""));
  t.line("TPOT", "", fmt::format("{:.2f} ms   ({:.1f} tokens/s per user)", ms(r.tpot), r.tokens_per_s_user));
  t.line("end to end", "", fmt::format("{:.0f} ms", ms(r.e2e)));
  if (w.speculative.k > 0)
    t.line("speculation", "",
           fmt::format("{} draft tokens a step ({}): {:.4g} tokens a step", w.speculative.k,
                       draft_name(m, w.speculative), tokens_per_step(w.speculative)));
  if (p10 && p90 && p10->fits && p90->fits)
    t.line("interval", "",
           fmt::format(
               "p10-p90 ({}): TTFT {:.1f} - {:.1f} ms, TPOT {:.2f} - {:.2f} ms, {:.0f} - {:.0f} tokens/s",
               interval_source(hw), ms(p10->ttft), ms(p90->ttft), ms(p10->tpot), ms(p90->tpot),
               p90->tokens_per_s, p10->tokens_per_s));
  t.line("throughput", "",
         fmt::format("{:.0f} tokens/s, {:.1f} per GPU", r.tokens_per_s, r.tokens_per_s_gpu));
  t.line("energy", "",
         r.j_per_output_token
             ? fmt::format("{:.4g} J per output token ({} tokens per kWh), {:.0f} W over {}{}",
                           *r.j_per_output_token, detail::count_text(3.6e6 / *r.j_per_output_token),
                           *r.power_w, gpus(r.gpus), r.at_tdp ? " (a pool at its TDP)" : "")
             : fmt::format("not stated: {} states no energy coefficients", hw.name));
  const serving_memory& mm = r.memory;
  t.line("memory/GPU", "",
         fmt::format("weights {:.1f} GB, activations {:.1f} GB, KV pool {:.1f} GB: {:.4g} GB a request, {:g} "
                     "requests a rank; at most {:g} in flight",
                     mm.gpu.weights.value() / 1e9, mm.gpu.activations.value() / 1e9, mm.pool.value() / 1e9,
                     mm.per_request.value() / 1e9, mm.admitted, r.max_concurrency));
  iteration_lines(t, w, r);
  for (const serving_note& n : r.notes) t.line("note", "", note_text(n));
  return out + t.render(style);
}

nlohmann::json deployments_view::json() const {
  nlohmann::json fr = nlohmann::json::array();
  for (const deployment_point* p : frontier_of(points)) fr.push_back(point_json(*p));
  return {{"model", m.name},
          {"hardware", hw.name},
          {"stack", hw.stack},
          {"gpus", sp.gpus},
          {"isl", sp.isl},
          {"osl", sp.osl},
          {"ttft_target_ms", ttft_ms ? nlohmann::json(*ttft_ms) : nlohmann::json()},
          {"tpot_target_ms", tpot_ms ? nlohmann::json(*tpot_ms) : nlohmann::json()},
          {"j_per_token_target", j_per_token ? nlohmann::json(*j_per_token) : nlohmann::json()},
          {"points", points.size()},
          {"best", best ? point_json(*best) : nlohmann::json()},
          {"best_interval", best_interval()
                                ? nlohmann::json{{"ttft_ms", {ms(best_p10->ttft), ms(best_p90->ttft)}},
                                                 {"tpot_ms", {ms(best_p10->tpot), ms(best_p90->tpot)}},
                                                 {"tokens_per_s_gpu",
                                                  {best_p90->tokens_per_s_gpu, best_p10->tokens_per_s_gpu}},
                                                 {"from", interval_source(hw)}}
                                : nlohmann::json()},
          {"frontier", fr}};
}

// A table of deployment points: mode, concurrency, TTFT, TPOT, tokens/s per user and per GPU, the
// layout; under a point with an interval, its p10-p90 TTFT and TPOT.
detail::text_table deployment_table(const std::vector<const deployment_point*>& points) {
  detail::text_table t({{"mode", true},
                        {"conc"},
                        {"TTFT ms"},
                        {"TPOT ms"},
                        {"tok/s/user"},
                        {"tok/s/GPU"},
                        {"deployment", true}});
  for (const deployment_point* p : points) {
    t.row({p->work.disaggregated ? "disagg" : "agg", fmt::format("{:g}", p->work.concurrency),
           fmt::format("{:.1f}", p->result.ttft.value() * 1e3),
           fmt::format("{:.2f}", p->result.tpot.value() * 1e3),
           fmt::format("{:.1f}", p->result.tokens_per_s_user),
           fmt::format("{:.1f}", p->result.tokens_per_s_gpu), detail::short_deployment(p->work)});
    if (has_point_interval(*p))
      t.row({"", "", fmt::format("{:.1f}-{:.1f}", ms(p->p10->ttft), ms(p->p90->ttft)),
             fmt::format("{:.2f}-{:.2f}", ms(p->p10->tpot), ms(p->p90->tpot))});
  }
  return t;
}

std::string deployments_view::table(const table_style& style) const {
  const std::vector<const deployment_point*> frontier = frontier_of(points);
  std::string out = detail::text_line(
      fmt::format("deployments of {} on {} x {} (stack {}, {}), {} prompt + {} generated tokens{}: {} served",
                  m.name, sp.gpus, hw.name, hw.stack, hw.stack_note, sp.isl, sp.osl,
                  sp.speculative.k > 0 ? fmt::format(", speculating {} tokens a step ({:.4g} expected)",
                                                     sp.speculative.k, tokens_per_step(sp.speculative))
                                       : "",
                  points.size()),
      style);
  const std::string targets =
      fmt::format("TTFT {}, TPOT {}{}", ttft_ms ? fmt::format("<= {:g} ms", *ttft_ms) : "any",
                  tpot_ms ? fmt::format("<= {:g} ms", *tpot_ms) : "any",
                  j_per_token ? fmt::format(", energy <= {:g} J per output token", *j_per_token) : "");
  if (!best) out += detail::text_line(fmt::format("no deployment meets {}", targets), style);
  if (best) {
    detail::text_table t = deployment_table({&*best});
    if (best->result.j_per_output_token)
      t.note(fmt::format("energy: {:.4g} J per output token, {:.0f} W over its {} GPUs{}",
                         *best->result.j_per_output_token, *best->result.power_w, best->result.gpus,
                         best->result.at_tdp ? " (a pool at its TDP)" : ""));
    if (best_interval())
      t.note(fmt::format(
          "interval: p10-p90 ({}): TTFT {:.1f} - {:.1f} ms, TPOT {:.2f} - {:.2f} ms, {:.1f} - {:.1f} "
          "tokens/s per GPU",
          interval_source(hw), ms(best_p10->ttft), ms(best_p90->ttft), ms(best_p10->tpot), ms(best_p90->tpot),
          best_p90->tokens_per_s_gpu, best_p10->tokens_per_s_gpu));
    out += detail::text_line(fmt::format("best within {}:", targets), style, true) + t.render(style);
  }
  const bool intervals = std::any_of(frontier.begin(), frontier.end(),
                                     [](const deployment_point* p) { return has_point_interval(*p); });
  return out +
         detail::section(fmt::format("Pareto frontier (tokens/s per user against per GPU){}:",
                                     intervals ? "; under each point its p10-p90 TTFT and TPOT" : ""),
                         style) +
         deployment_table(frontier).render(style);
}

}  // namespace roofline
