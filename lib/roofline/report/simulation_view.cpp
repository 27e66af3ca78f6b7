// report: the view of a simulated serving run (report.hpp).
#include <fmt/format.h>

#include "roofline/report/report.hpp"
#include "roofline/report/table.hpp"

namespace roofline {
namespace {

nlohmann::json stats_json(const latency_stats& s) {
  return {
      {"mean", s.mean * 1e3}, {"p50", s.p50 * 1e3}, {"p90", s.p90 * 1e3}, {"p99", s.p99 * 1e3}, {"n", s.n}};
}

std::string pool_text(const worker_pool& w) {
  return fmt::format("{} worker{} of tp {} pp {} ep {} dp {}", w.workers, w.workers == 1 ? "" : "s", w.L.tp,
                     w.L.pp, w.L.ep, w.L.dp);
}

std::string arrivals_text(const arrival_process& a) {
  switch (a.what) {
    case arrival_process::kind::closed:
      return fmt::format("closed loop, {:g} users{}", a.concurrency,
                         a.think_time > 0 ? fmt::format(" thinking {:g} s", a.think_time) : "");
    case arrival_process::kind::poisson:
      return fmt::format("Poisson at {:g} requests/s", a.rate);
    case arrival_process::kind::gamma:
      return fmt::format("gamma at {:g} requests/s, CV {:g}", a.rate, a.cv);
    case arrival_process::kind::trace:
      return fmt::format("trace '{}'", a.source);
  }
  return {};
}

std::string dist_text(const length_dist& d) {
  return d.what == length_dist::kind::fixed ? fmt::format("{:g}", d.a) : d.source;
}

}  // namespace

nlohmann::json simulation_view::json() const {
  nlohmann::json notes = nlohmann::json::array();
  const serving_result empty{};
  for (const serving_note& n : r.notes) notes.push_back(serving_view{m, hw, w, empty}.note_text(n));
  const serving_memory& mm = r.memory;
  return {
      {"model", m.name},
      {"hardware", hw.name},
      {"stack", hw.stack},
      {"stack_note", hw.stack_note},
      {"policy", std::string(name(hw.timing.serving.policy))},
      {"mode", w.disaggregated ? "disagg" : "agg"},
      {"gpus", r.gpus},
      {"load",
       {{"isl", dist_text(load.isl)},
        {"osl", dist_text(load.osl)},
        {"arrivals", arrivals_text(load.arrivals)},
        {"requests", r.requests},
        {"warmup", load.warmup},
        {"seed", load.seed},
        {"prefix_shared_tokens", load.prefix.shared},
        {"prefix_hit_rate", load.prefix.hit_rate}}},
      {"prefix_found", r.prefix_found},
      {"power_w", r.power_w ? nlohmann::json(*r.power_w) : nlohmann::json(nullptr)},
      {"j_per_output_token",
       r.j_per_output_token ? nlohmann::json(*r.j_per_output_token) : nlohmann::json(nullptr)},
      {"at_tdp", r.at_tdp},
      {"speculation", r.draft_tokens > 0
                          ? nlohmann::json{{"k", r.draft_tokens},
                                           {"draft", r.draft},
                                           {"expected_tokens_per_step", r.expected_tokens_per_step},
                                           {"tokens_per_step", r.tokens_per_step}}
                          : nlohmann::json(nullptr)},
      {"shared_prefix_gb", r.shared_prefix.value() / 1e9},
      {"ttft_ms", stats_json(r.ttft)},
      {"tpot_ms", stats_json(r.tpot)},
      {"itl_ms", stats_json(r.itl)},
      {"e2e_ms", stats_json(r.e2e)},
      {"requests_per_s", r.requests_per_s},
      {"tokens_per_s", r.tokens_per_s},
      {"input_tokens_per_s", r.input_tokens_per_s},
      {"tokens_per_s_gpu", r.tokens_per_s_gpu},
      {"tokens_per_s_user", r.tokens_per_s_user},
      {"goodput_requests_per_s", r.goodput},
      {"goodput_targets_ms",  // null: no target of that kind
       {{"ttft", r.targets.ttft > 0 ? nlohmann::json(r.targets.ttft * 1e3) : nlohmann::json()},
        {"tpot", r.targets.tpot > 0 ? nlohmann::json(r.targets.tpot * 1e3) : nlohmann::json()}}},
      {"duration_s", r.duration},
      {"mean_in_system", r.mean_in_system},
      {"mean_running", r.mean_running},
      {"mean_waiting", r.mean_waiting},
      {"max_waiting", r.max_waiting},
      {"mean_kv_use", r.mean_kv_use},
      {"max_kv_use", r.max_kv_use},
      {"preemptions", r.preemptions},
      {"iterations", r.iterations},
      {"busy_s", {{"prefill", r.busy_prefill}, {"decode", r.busy_decode}, {"mixed", r.busy_mixed}}},
      {"memory", {{"weights_gb", mm.gpu.weights.value() / 1e9}, {"kv_pool_gb", mm.pool.value() / 1e9}}},
      {"notes", notes},
      {"interval", p10 && p90 ? nlohmann::json{{"ttft_mean_ms", {p10->ttft.mean * 1e3, p90->ttft.mean * 1e3}},
                                               {"tpot_mean_ms", {p10->tpot.mean * 1e3, p90->tpot.mean * 1e3}},
                                               {"tokens_per_s", {p90->tokens_per_s, p10->tokens_per_s}},
                                               {"from", interval_source(hw)}}
                              : nlohmann::json(nullptr)}};
}

// The simulation report's lines under its latency table: rates, queue, KV cache, prefix cache,
// energy, speculation, where iterations' time went, notes.
void simulation_lines(detail::summary_table& t, const simulation_view& v) {
  const simulation_result& r = v.r;
  const auto add = [&](const char* what, std::string_view f, auto&&... a) {
    t.line(what, "", fmt::format(fmt::runtime(f), a...));
  };
  if (v.p10 && v.p90)
    add("interval",
        "p10-p90 ({}): mean TTFT {:.2f} - {:.2f} ms, mean TPOT {:.2f} - {:.2f} ms, {:.0f} - {:.0f} tokens/s",
        interval_source(v.hw), v.p10->ttft.mean * 1e3, v.p90->ttft.mean * 1e3, v.p10->tpot.mean * 1e3,
        v.p90->tpot.mean * 1e3, v.p90->tokens_per_s, v.p10->tokens_per_s);
  add("throughput",
      "{:.0f} output tokens/s ({:.1f} per GPU, {:.1f} per user), {:.0f} prompt tokens/s, {:.3g} requests/s "
      "over "
      "{:.3g} s",
      r.tokens_per_s, r.tokens_per_s_gpu, r.tokens_per_s_user, r.input_tokens_per_s, r.requests_per_s,
      r.duration);
  const latency_targets& g = r.targets;
  if (g.ttft <= 0 && g.tpot <= 0)
    add("goodput", "{:.3g} requests/s: no targets (--ttft-ms, --tpot-ms), every request counts", r.goodput);
  else
    add("goodput", "{:.3g} requests/s within TTFT <= {} and TPOT <= {}", r.goodput,
        g.ttft > 0 ? fmt::format("{:g} ms", g.ttft * 1e3) : "any",
        g.tpot > 0 ? fmt::format("{:g} ms", g.tpot * 1e3) : "any");
  add("queue",
      "{:.4g} in the system on average; a rank {:.4g} running and {:.4g} waiting on average, at most {:g} "
      "waiting",
      r.mean_in_system, r.mean_running, r.mean_waiting, r.max_waiting);
  add("KV cache",
      "{:.1f}% of the pool in use on average, {:.1f}% at most; {} preemptions; pool {:.1f} GB a GPU",
      100 * r.mean_kv_use, 100 * r.max_kv_use, r.preemptions, r.memory.pool.value() / 1e9);
  if (v.load.prefix.any())
    add("prefix cache",
        "{:.1f}% of prompt tokens found cached (a shared prefix of {} tokens, {:.3g} GB a rank held once; "
        "{:g} of "
        "the rest found)",
        100 * r.prefix_found, v.load.prefix.shared, r.shared_prefix.value() / 1e9, v.load.prefix.hit_rate);
  if (r.j_per_output_token)
    add("energy", "{:.4g} J per output token, {:.4g} W over its {} GPU{}{} (the part's coefficients)",
        *r.j_per_output_token, *r.power_w, r.gpus, r.gpus == 1 ? "" : "s",
        r.at_tdp ? ", some iterations at the TDP" : "");
  if (r.draft_tokens > 0)
    add("speculation", "{} draft tokens a step ({}): {:.4g} tokens a decode step emitted ({:.4g} expected)",
        r.draft_tokens, r.draft, r.tokens_per_step, r.expected_tokens_per_step);
  const double busy = r.busy_prefill + r.busy_decode + r.busy_mixed;
  const auto share = [&](double b) { return busy > 0 ? 100 * b / busy : 0.0; };
  add("iterations", "{}: {:.3g} s busy, {:.1f}% prompts only, {:.1f}% decodes only, {:.1f}% mixed",
      r.iterations, busy, share(r.busy_prefill), share(r.busy_decode), share(r.busy_mixed));
  const serving_result empty{};
  for (const serving_note& n : r.notes) t.line("note", "", serving_view{v.m, v.hw, v.w, empty}.note_text(n));
}

std::string simulation_view::table(const table_style& style) const {
  std::string out =
      detail::text_line(fmt::format("simulated serving of {} on {} (stack {}, {}; {} scheduler)", m.name,
                                    hw.name, hw.stack, hw.stack_note, name(hw.timing.serving.policy)),
                        style);
  const auto gpus = [](int n) { return fmt::format("{} GPU{}", n, n == 1 ? "" : "s"); };
  detail::summary_table head(14, 0);
  head.line("load", "",
            fmt::format("{} requests ({} warm-up): prompts {}, outputs {} tokens; {}", r.requests,
                        load.warmup, dist_text(load.isl), dist_text(load.osl), arrivals_text(load.arrivals)));
  head.line("deployment", "",
            w.disaggregated ? fmt::format("disaggregated: prefill {}, decode {}; {}", pool_text(w.prefill),
                                          pool_text(w.decode), gpus(r.gpus))
                            : fmt::format("aggregated: {}; {}", pool_text(w.agg), gpus(r.gpus)));
  detail::text_table latency({{"ms", true}, {"mean"}, {"p50"}, {"p90"}, {"p99"}});
  for (auto [what, s] :
       {std::pair{"TTFT", &r.ttft}, {"TPOT", &r.tpot}, {"ITL", &r.itl}, {"end to end", &r.e2e}})
    latency.row({what, fmt::format("{:.2f}", s->mean * 1e3), fmt::format("{:.2f}", s->p50 * 1e3),
                 fmt::format("{:.2f}", s->p90 * 1e3), fmt::format("{:.2f}", s->p99 * 1e3)});
  detail::summary_table rest(14, 0);
  simulation_lines(rest, *this);
  return out + head.render(style) + latency.render(style) + rest.render(style);
}

std::string simulation_view::csv() const {
  if (r.timeline.empty())
    throw input_error("report: no timeline was recorded (simulation_options::timeline)");
  std::string out = "start_s,duration_ms,prefill_tokens,decode_tokens,running,waiting,kv_use\n";
  for (const timeline_point& p : r.timeline)
    fmt::format_to(std::back_inserter(out), "{:.9g},{:.6g},{:g},{:g},{:g},{:g},{:.6g}\n", p.start,
                   p.duration * 1e3, p.prefill_tokens, p.decode_tokens, p.running, p.waiting, p.kv_use);
  return out;
}

}  // namespace roofline
