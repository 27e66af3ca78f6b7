// serve: TTFT, TPOT and throughput of a model served by an engine at a concurrency, aggregated
// (continuous batching with chunked prefill) or disaggregated (prefill and decode workers).
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/io.hpp"
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
  app.add_option("--model", model_path, "model spec YAML or config.json")->capture_default_str();
  examples::hardware_options(app, hw_path, stack_path,
                             "software stack YAML: the engine's timing and serving parameters");
  examples::number_option(app, "--isl", s.isl, "prompt tokens of every request");
  examples::number_option(app, "--osl", s.osl, "generated tokens of every request (at least 2)");
  examples::number_option(app, "--concurrency", s.concurrency, "requests in flight over the deployment",
                          examples::number_rule::positive);
  app.add_option("--mode", mode, "agg: prefill and decode share the workers; disagg: separate pools")
      ->capture_default_str()
      ->check(CLI::IsMember({"agg", "disagg"}));
  std::optional<double> b, t, pb, pt, db, dt;
  add_pool(app, s.agg, b, t, "", "Aggregated workers");
  add_pool(app, s.prefill, pb, pt, "prefill", "Disaggregated: prefill workers");
  add_pool(app, s.decode, db, dt, "decode", "Disaggregated: decode workers");
  app.add_option("--overlap", overlap, "compute/memory overlap policy; default: the stack's")
      ->check(CLI::IsMember({"perfect", "none", "smooth"}));
  examples::format_option(app, format, {"table", "json"});
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
    const auto model = roofline::load_model(model_path);
    const auto hw = roofline::load_hardware(hw_path, stack_path);
    const std::optional<roofline::overlap> policy = examples::overlap_option(overlap);
    const auto r = roofline::serve(model, hw, s, policy);
    std::cout << roofline::render(
        roofline::serving_view{model, hw, s, r},
        format == "json" ? roofline::report_format::json : roofline::report_format::table);
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
