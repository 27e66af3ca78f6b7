// serve: TTFT, TPOT and throughput of a model served by an engine at a concurrency, aggregated
// (continuous batching with chunked prefill) or disaggregated (prefill and decode workers).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <tuple>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/io.hpp"
#include "roofline/report/plot.hpp"
#include "roofline/report/report.hpp"

namespace {

void add_pool(CLI::App& app, roofline::worker_pool& w, std::optional<double>& batch,
              std::optional<double>& tokens, const std::string& prefix, const std::string& group) {
  const std::string p = prefix.empty() ? "--" : "--" + prefix + "-";
  examples::number_option(app, p + "tp", w.L.tp, "tensor-parallel GPUs of a worker")->group(group);
  examples::number_option(app, p + "pp", w.L.pp, "pipeline stages of a worker")->group(group);
  examples::number_option(app, p + "ep", w.L.ep, "expert-parallel GPUs of a worker")->group(group);
  examples::number_option(app, p + "dp", w.L.dp, "attention data-parallel ranks of a worker")->group(group);
  examples::number_option(app, p + "workers", w.workers, "workers (engine instances) of this layout")
      ->group(group);
  app.add_option(p + "max-batch", batch, "running requests per dp rank (default: the stack's)")
      ->check(examples::positive_integer)
      ->group(group);
  app.add_option(p + "max-batch-tokens", tokens, "tokens one iteration runs (default: the stack's)")
      ->check(examples::positive_integer)
      ->group(group);
}

struct sim_options {
  bool simulate = false;
  double rate = 0, think = 0, ttft_ms = 0, tpot_ms = 0;
  std::string arrivals, isl_dist = "fixed", osl_dist = "benchmark", timeline, plot;
  std::int64_t requests = 0, warmup = 0, prefix = 0;
  double hit_rate = 0;
  std::uint64_t seed = 1;
};

// Options that only the simulator reads: each one given runs the simulator.
const std::vector<const char*> sim_flags{"--isl-dist", "--osl-dist",      "--requests",       "--warmup",
                                         "--seed",     "--think-time",    "--timeline",       "--ttft-ms",
                                         "--tpot-ms",  "--prefix-tokens", "--prefix-hit-rate"};

void add_simulation(CLI::App& app, sim_options& o) {
  const std::string g = "Simulation (any of these runs the simulator)";
  app.add_flag(
         "--simulate", o.simulate,
         "simulate the engine's scheduler iteration by iteration (default: the closed-form steady state)")
      ->group(g);
  examples::number_option(app, "--request-rate", o.rate,
                          "open loop: requests a second (Poisson unless --arrivals)",
                          examples::number_rule::positive)
      ->group(g);
  app.add_option(
         "--arrivals", o.arrivals,
         "poisson | gamma:CV (with --request-rate) | trace:FILE.csv (column arrival_s; optional isl, osl)")
      ->group(g);
  app.add_option(
         "--isl-dist", o.isl_dist,
         "prompt lengths: fixed (--isl) | benchmark | uniform:LO:HI | normal:MEAN:SD | lognormal:MEAN:SD | "
         "file:F.csv")
      ->group(g);
  app.add_option("--osl-dist", o.osl_dist,
                 "output lengths, as --isl-dist, or benchmark: uniform within 5 % of --osl, which keeps "
                 "equal requests out of lockstep as in measured engines (README, Lockstep)")
      ->capture_default_str()
      ->group(g);
  examples::number_option(app, "--requests", o.requests,
                          "requests simulated (default: max(1000, 10 x concurrency) closed loop, 1000 open)")
      ->group(g);
  examples::number_option(app, "--warmup", o.warmup, "first requests run but left out of the statistics",
                          examples::number_rule::non_negative)
      ->group(g);
  examples::number_option(app, "--seed", o.seed, "seed of the length and arrival draws",
                          examples::number_rule::non_negative)
      ->group(g);
  for (auto [flag, value, what] :
       {std::tuple{"--think-time", &o.think, "closed loop: seconds a user waits before its next request"},
        {"--ttft-ms", &o.ttft_ms, "goodput: TTFT target, ms (0: none)"},
        {"--tpot-ms", &o.tpot_ms, "goodput: TPOT target, ms (0: none)"}})
    examples::number_option(app, flag, *value, what, examples::number_rule::non_negative)->group(g);
  examples::number_option(app, "--prefix-tokens", o.prefix,
                          "prefix caching: tokens every prompt begins with (a system prompt), computed once "
                          "a dp rank and their KV pages held once",
                          examples::number_rule::non_negative)
      ->group(g);
  examples::number_option(app, "--prefix-hit-rate", o.hit_rate,
                          "prefix caching: fraction of the rest of each prompt found cached (earlier turns)",
                          examples::number_rule::non_negative)
      ->group(g);
  app.add_option("--timeline", o.timeline, "CSV of every iteration of the first worker")->group(g);
  app.add_option("--plot", o.plot,
                 "draw the timeline (running, waiting, KV use, iteration times) to this SVG (or .png)")
      ->group(g);
}

roofline::simulation_load load_of(const CLI::App& app, const sim_options& o,
                                  const roofline::serving_workload& s) {
  roofline::simulation_load l;
  std::vector<std::int64_t> trace_isl, trace_osl;
  if (!o.arrivals.empty() || app.count("--request-rate") > 0) {
    const std::string kind = o.arrivals.empty() ? "poisson" : o.arrivals;
    l.arrivals = roofline::parse_arrivals(kind, o.rate, &trace_isl, &trace_osl);
    if (l.arrivals.what != roofline::arrival_process::kind::trace && app.count("--request-rate") == 0)
      throw roofline::input_error(fmt::format("--arrivals {}: needs --request-rate", kind));
    if (l.arrivals.what == roofline::arrival_process::kind::trace && app.count("--request-rate") > 0)
      throw roofline::input_error("--request-rate: a trace's arrivals are its own; give one or the other");
    if (app.count("--concurrency") > 0 || app.count("--think-time") > 0)
      throw roofline::input_error(
          "--concurrency and --think-time are for a closed loop; with --request-rate or "
          "--arrivals the load is open");
  } else {
    l.arrivals = {.what = roofline::arrival_process::kind::closed,
                  .concurrency = s.concurrency,
                  .think_time = o.think,
                  .source = "closed"};
  }
  const auto lengths = [&](const std::string& text, std::int64_t fixed, const char* column,
                           std::vector<std::int64_t>& from_trace, const char* flag) {
    if (!from_trace.empty()) {
      if (app.count(flag) > 0)
        throw roofline::input_error(fmt::format("{}: the trace gives each request's {}", flag, column));
      return roofline::length_dist{.what = roofline::length_dist::kind::values,
                                   .values = from_trace,
                                   .source = fmt::format("the trace's {}", column)};
    }
    return roofline::parse_length_dist(text, fixed, column);
  };
  l.isl = lengths(o.isl_dist, s.isl, "isl", trace_isl, "--isl-dist");
  l.osl = lengths(o.osl_dist, s.osl, "osl", trace_osl, "--osl-dist");
  l.requests = o.requests;
  l.warmup = o.warmup;
  l.seed = o.seed;
  l.prefix = {.shared = o.prefix, .hit_rate = o.hit_rate};
  return l;
}

}  // namespace

int commands::serve(int argc, char** argv) {
  CLI::App app{
      "TTFT, TPOT and throughput of a model served at a concurrency by an engine (continuous batching, "
      "chunked prefill, or disaggregated prefill and decode)."};
  std::string model_path = examples::data_path("model_specs/llama3.1_8b.yaml");
  std::string hw_path = examples::data_path("hw_profiles/h100_sxm.yaml");
  std::string stack_path = examples::data_path("stacks/datasheet.yaml");
  roofline::serving_workload s{.isl = 4096, .osl = 512, .concurrency = 64};
  std::string mode = "agg", overlap, format = "table";
  app.add_option(
         "--model", model_path,
         "model: a spec YAML, a config.json or its folder, or a shipped model's name or HuggingFace id")
      ->capture_default_str();
  examples::hardware_options(app, hw_path, stack_path,
                             "software stack: the engine's timing and serving parameters");
  examples::number_option(app, "--isl", s.isl, "prompt tokens of every request");
  examples::number_option(app, "--osl", s.osl, "generated tokens of every request (at least 2)");
  examples::number_option(app, "--concurrency", s.concurrency, "requests in flight over the deployment",
                          examples::number_rule::positive);
  app.add_option("--mode", mode, "agg: prefill and decode share the workers; disagg: separate pools")
      ->capture_default_str()
      ->check(CLI::IsMember({"agg", "disagg"}));
  std::string kv, quant;
  examples::kv_format_option(app, kv);
  app.add_option("--quant", quant,
                 "number formats as a measured run states them, GEMM[,MOE] (fp8, fp8_block, nvfp4, mxfp4, "
                 "int4_wo; empty: bf16); default: the spec's own");
  std::optional<double> b, t, pb, pt, db, dt;
  add_pool(app, s.agg, b, t, "", "Aggregated workers");
  add_pool(app, s.prefill, pb, pt, "prefill", "Disaggregated: prefill workers");
  add_pool(app, s.decode, db, dt, "decode", "Disaggregated: decode workers");
  app.add_option("--overlap", overlap, "compute/memory overlap policy; default: the stack's")
      ->check(CLI::IsMember({"perfect", "none", "smooth"}));
  examples::format_option(app, format, {"table", "json"});
  std::string report_path;
  examples::report_option(app, report_path);
  sim_options sim;
  add_simulation(app, sim);
  roofline::speculation spec;
  std::string draft = "mtp";
  examples::speculation_options(app, spec, draft, "TPOT and throughput with it");
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  // a pool's options belong to its mode: given in the other, they would be ignored
  for (const char* pool : {"", "prefill-", "decode-"}) {
    const bool agg_pool = std::string(pool).empty();
    if (agg_pool == (mode == "agg")) continue;
    for (const char* key : {"tp", "pp", "ep", "dp", "workers", "max-batch", "max-batch-tokens"}) {
      const std::string flag = std::string("--") + pool + key;
      if (app.count(flag) > 0) {
        std::fprintf(stderr, "error: %s: %s option, and --mode is %s\n", flag.c_str(),
                     agg_pool ? "an aggregated worker" : "a disaggregated pool", mode.c_str());
        return 2;
      }
    }
  }
  s.agg.max_batch = b;
  s.agg.max_batch_tokens = t;
  s.prefill.max_batch = pb;
  s.prefill.max_batch_tokens = pt;
  s.decode.max_batch = db;
  s.decode.max_batch_tokens = dt;
  s.disaggregated = mode == "disagg";
  try {
    const bool simulated =
        sim.simulate || app.count("--request-rate") || app.count("--arrivals") ||
        std::any_of(sim_flags.begin(), sim_flags.end(), [&](const char* f) { return app.count(f) > 0; });
    examples::output_file timeline(sim.timeline, "--timeline"), plot(sim.plot, "--plot"),
        report_file(report_path, "--report");
    auto model = examples::load_model_named(model_path);
    const auto hw = examples::load_hardware_named(hw_path, stack_path);
    if (app.count("--quant") > 0) examples::apply_quant_option(model, hw, quant);
    examples::apply_kv_format(model, kv);
    const std::optional<roofline::overlap> policy = examples::overlap_option(overlap);
    examples::resolve_speculation(app, spec, draft, kv);
    s.speculative = spec;
    roofline::html_page page{
        .title = fmt::format("{} served on {} x {} (stack {}): {} + {} tokens", model.name,
                             s.disaggregated ? s.prefill.gpus() + s.decode.gpus() : s.agg.gpus(), hw.name,
                             hw.stack, s.isl, s.osl),
        .command = examples::command_line(argc, argv),
        .no_charts = "The closed form draws no chart; with --simulate the page shows the run's timeline.",
        .assumptions = roofline::estimate_assumptions(model, hw, policy)};
    for (std::string& a : roofline::serving_assumptions(hw)) page.assumptions.push_back(std::move(a));
    if (simulated) {
      const roofline::simulation_load load = load_of(app, sim, s);
      const roofline::simulation_options opt{
          .policy = policy,
          .timeline = timeline.wanted() || plot.wanted() || report_file.wanted(),
          .targets = {sim.ttft_ms / 1e3, sim.tpot_ms / 1e3}};
      const auto r = roofline::simulate(model, hw, s, load, opt);
      // the interval (interval_source): the stack's end-to-end spread, or the same run with the
      // kernel table at the p10 and p90 of its spread
      roofline::simulation_options quiet = opt;
      quiet.timeline = false;
      const auto [lo, hi] = roofline::interval_of(
          hw, r, [&](const roofline::hardware& h) { return roofline::simulate(model, h, s, load, quiet); });
      const roofline::simulation_view v{model, hw, s, load, r, lo ? &*lo : nullptr, hi ? &*hi : nullptr};
      if (timeline.wanted()) timeline.write(roofline::render(v, roofline::report_format::csv));
      const roofline::arrival_process& a = load.arrivals;  // the load in words: who sends what, how often
      const std::string arrivals = a.what == roofline::arrival_process::kind::closed
                                       ? fmt::format("closed loop of {:g} users", a.concurrency)
                                   : a.what == roofline::arrival_process::kind::trace
                                       ? a.source
                                       : fmt::format("{} at {:g} requests/s", a.source, a.rate);
      const std::string title = fmt::format("{} on {} ({}), {}; prompts {}, outputs {}", model.name, hw.name,
                                            hw.stack, arrivals, load.isl.source, load.osl.source);
      if (plot.wanted()) roofline::plot_timeline(r, title, plot.temp());
      if (report_file.wanted()) {
        page.markdown = v.table({.markdown = true});
        page.json = roofline::json_text(v.json());
        page.charts.push_back(
            roofline::html_chart_of("The run's timeline (the first worker): running and waiting requests, "
                                    "the KV pool's use, and each "
                                    "iteration's time with its prompt and decode tokens.",
                                    [&](const std::string& svg) { roofline::plot_timeline(r, title, svg); }));
        page.assumptions.push_back(
            "Simulated: the engine's scheduler iteration by iteration; each iteration lasts the roofline of "
            "exactly the prompt chunks and decode tokens it runs, plus the iteration overhead; the latencies "
            "are of the requests after the warm-up.");
        report_file.write(roofline::html_text(page));
      }
      std::cout << examples::render_as(v, format);
      if (timeline.wanted()) timeline.commit();
      if (plot.wanted()) plot.commit();
      report_file.commit();
      return 0;
    }
    const auto r = roofline::serve(model, hw, s, policy);
    const auto [lo, hi] = roofline::interval_of(  // the interval, as the simulated run's
        hw, r, [&](const roofline::hardware& h) { return roofline::serve(model, h, s, policy); });
    const roofline::serving_view v{model, hw, s, r, lo ? &*lo : nullptr, hi ? &*hi : nullptr};
    if (report_file.wanted()) {
      page.markdown = v.table({.markdown = true});
      page.json = roofline::json_text(v.json());
      page.assumptions.push_back(
          "Closed form: the steady state of a closed loop of equal requests; TPOT is the mean iteration a "
          "request sees while decoding (mixed iterations while prompts run beside it), TTFT the request "
          "overhead, the wait for admission and a slot, the burst of prompts and its own chunks; end to end "
          "and throughput by Little's law; means only (--simulate gives percentiles).");
      report_file.write(roofline::html_text(page));
    }
    std::cout << examples::render_as(v, format);
    report_file.commit();
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
