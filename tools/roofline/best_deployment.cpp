// best_deployment: every layout of a model on a number of GPUs (aggregated and disaggregated)
// at concurrencies from 1 up; the best within latency targets and the Pareto frontier.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/io.hpp"
#include "roofline/report/plot.hpp"
#include "roofline/report/report.hpp"

int commands::best_deployment(int argc, char** argv) {
  CLI::App app{
      "The best deployment of a model on a number of GPUs: layouts, aggregated and disaggregated, at "
      "concurrencies from 1 up, within TTFT and TPOT targets, and the Pareto frontier of tokens/s per user "
      "against tokens/s per GPU."};
  std::vector<std::string> model_paths;
  std::string hw_path = examples::data_path("hw_profiles/h100_sxm.yaml");
  std::string stack_path = examples::data_path("stacks/datasheet.yaml");
  roofline::deployment_space sp;
  std::optional<double> ttft_ms, tpot_ms;
  std::string plot, format = "table", mode = "both";
  std::vector<std::string> quant;
  app.add_option(
         "--model,--models", model_paths,
         "model (a spec, a config.json or a shipped name); repeat --model, or give several after --models, "
         "to compare models")
      ->required();
  app.add_option(
         "--quant", quant,
         "number formats as a measured run states them, GEMM[,MOE] (fp8, fp8_block, nvfp4, mxfp4, int4_wo; "
         "empty: bf16), one per --model or one for all")
      ->delimiter(';');
  examples::hardware_options(app, hw_path, stack_path,
                             "software stack: timing and serving parameters (default: datasheet fractions; "
                             "--engine for an engine's)");
  std::string kv;
  examples::kv_format_option(app, kv);
  examples::number_option(app, "--gpus", sp.gpus, "GPUs of the deployment");
  examples::number_option(app, "--isl", sp.isl, "prompt tokens of every request");
  examples::number_option(app, "--osl", sp.osl, "generated tokens of every request (at least 2)");
  examples::number_option(app, "--max-concurrency", sp.max_concurrency,
                          "largest concurrency tried (powers of two from 1)",
                          examples::number_rule::positive);
  app.add_option("--ttft-ms", ttft_ms, "TTFT target")->check(examples::positive_number);
  app.add_option("--tpot-ms", tpot_ms, "TPOT target")->check(examples::positive_number);
  std::optional<double> j_per_token;
  app.add_option("--joules-per-token", j_per_token,
                 "energy target: joules per output token of the deployment (the part's energy coefficients)")
      ->check(examples::positive_number);
  app.add_option("--mode", mode, "which deployments: agg, disagg or both")
      ->capture_default_str()
      ->check(CLI::IsMember({"agg", "disagg", "both"}));
  app.add_option("--plot", plot, "draw the frontiers to this SVG (or .png)");
  app.add_flag("--simulate", sp.simulated,
               "serve every point in the scheduler simulator (a closed loop of max(500, 10 x concurrency) "
               "requests) instead of the closed form");
  app.add_option("--percentile", sp.percentile,
                 "with --simulate: the targets bound this percentile of TTFT and TPOT, not the mean")
      ->check(CLI::IsMember({50, 90, 99}));
  examples::number_option(app, "--prefix-tokens", sp.prefix.shared,
                          "with --simulate: tokens every prompt begins with, cached once a dp rank",
                          examples::number_rule::non_negative);
  examples::number_option(app, "--prefix-hit-rate", sp.prefix.hit_rate,
                          "with --simulate: fraction of the rest of each prompt found cached",
                          examples::number_rule::non_negative);
  std::string draft = "mtp";
  examples::speculation_options(app, sp.speculative, draft, "every deployment speculates");
  examples::format_option(app, format, {"table", "json"});
  std::string report_path;
  examples::report_option(app, report_path);
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  for (const char* flag : {"--percentile", "--prefix-tokens", "--prefix-hit-rate"})
    if (app.count(flag) > 0 && !sp.simulated) {
      std::fprintf(stderr, "error: %s: %s; add --simulate\n", flag,
                   std::string(flag) == "--percentile" ? "the closed form gives means only"
                                                       : "prefix caching is modelled in the simulator only");
      return 2;
    }
  sp.aggregated = mode != "disagg";
  sp.disaggregated = mode != "agg";
  if (quant.size() > 1 && quant.size() != model_paths.size()) {
    std::fprintf(stderr,
                 "error: --quant: give one for all models or one per --model (%zu models, %zu formats)\n",
                 model_paths.size(), quant.size());
    return 2;
  }
  try {
    examples::output_file plot_file(plot, "--plot"), report_file(report_path, "--report");
    const auto hw = examples::load_hardware_named(hw_path, stack_path);
    examples::resolve_speculation(app, sp.speculative, draft, kv);
    if (j_per_token && !hw.energy)
      throw roofline::input_error(fmt::format(
          "--joules-per-token: {} states no energy coefficients (energy: in its profile)", hw.name));
    const auto f = examples::report_format_of(format);
    std::vector<roofline::frontier_series> series;
    nlohmann::json all = nlohmann::json::array();
    std::string text, markdown;
    std::vector<std::string> assumptions;
    for (std::size_t i = 0; i < model_paths.size(); ++i) {
      roofline::model_spec m = examples::load_model_named(model_paths[i]);
      std::string label = m.name;
      examples::apply_kv_format(m, kv);
      if (!quant.empty())
        label += examples::apply_quant_option(m, hw, quant.size() == 1 ? quant[0] : quant[i]);
      roofline::deployment_refusal why;
      examples::progress_line progress(fmt::format("best_deployment {}", m.name));
      sp.progress = [&](int done, int all) {
        progress.update(std::size_t(done), std::size_t(all), "concurrencies");
      };
      auto points = roofline::enumerate_deployments(m, hw, sp, &why);
      sp.progress = nullptr;
      if (points.empty()) {  // nothing to print but why
        std::string reason = why.error.empty() ? "no layout of the GPUs splits the model" : why.error;
        if (why.unfit && !why.unfit->result.notes.empty())
          reason = roofline::serving_view{m, hw, why.unfit->work, why.unfit->result}.note_text(
              why.unfit->result.notes.back());
        throw roofline::input_error(
            fmt::format("best deployment: no deployment of {}{} on {} x {} serves {} + {} "
                        "tokens: {}",
                        m.name, label.substr(m.name.size()), sp.gpus, hw.name, sp.isl, sp.osl, reason));
      }
      const std::optional<roofline::seconds> tt =
          ttft_ms ? std::optional(*ttft_ms * 1e-3 * roofline::second) : std::nullopt;
      const std::optional<roofline::seconds> tp =
          tpot_ms ? std::optional(*tpot_ms * 1e-3 * roofline::second) : std::nullopt;
      const auto best = roofline::best_within(points, tt, tp, j_per_token);
      std::optional<roofline::serving_result> lo, hi;  // the best point's interval (interval_source)
      if (best)
        std::tie(lo, hi) = roofline::interval_of(hw, best->result, [&](const roofline::hardware& h) {
          return roofline::deployment_result(m, h, best->work, sp);
        });
      roofline::frontier_intervals(m, hw, sp, points);  // each frontier point's (the best's is above)
      const roofline::deployments_view view{
          m, hw, sp, points, best, ttft_ms, tpot_ms, lo ? &*lo : nullptr, hi ? &*hi : nullptr, j_per_token};
      if (f == roofline::report_format::json)
        all.push_back(view.json());
      else
        text += i && f == roofline::report_format::table ? "\n" : "";
      text += view.table(examples::table_style_of(format));
      if (report_file.wanted()) {
        markdown += view.table({.markdown = true});
        if (f != roofline::report_format::json) all.push_back(view.json());
        assumptions.push_back(roofline::model_assumption(m));
      }
      series.push_back({label, points, best});
    }
    const std::string chart_title =
        fmt::format("{} x {} (stack {}), {} + {} tokens", sp.gpus, hw.name, hw.stack, sp.isl, sp.osl);
    const roofline::frontier_targets targets{.ttft_ms = ttft_ms, .tpot_ms = tpot_ms};
    if (f == roofline::report_format::json) text = roofline::json_text(nlohmann::json{{"models", all}});
    if (plot_file.wanted()) roofline::plot_frontier(series, chart_title, plot_file.temp(), targets);
    if (report_file.wanted()) {
      for (std::string& a : roofline::hardware_assumptions(hw, std::nullopt))
        assumptions.push_back(std::move(a));
      for (std::string& a : roofline::serving_assumptions(hw)) assumptions.push_back(std::move(a));
      assumptions.push_back(fmt::format(
          "Searched: every layout of {} GPUs ({}), tp, dp and the pools in powers of two, pp 1 or 2, ep 1 or "
          "tp x dp for MoE models, at concurrencies 1, 2, 4, ... up to {:g}; each point served by {}; the "
          "best is the most tokens/s per GPU within the targets.",
          sp.gpus,
          mode == "both"  ? "aggregated and disaggregated"
          : mode == "agg" ? "aggregated"
                          : "disaggregated",
          sp.max_concurrency,
          sp.simulated ? "the scheduler simulator (a closed loop of max(500, 10 x concurrency) requests)"
                       : "the closed form"));
      const roofline::html_page page{
          .title = fmt::format("Best deployment on {} x {} (stack {}): {} + {} tokens", sp.gpus, hw.name,
                               hw.stack, sp.isl, sp.osl),
          .command = examples::command_line(argc, argv),
          .markdown = markdown,
          .charts = {roofline::html_chart_of(
              "Tokens/s per GPU against tokens/s per user: every deployment a point (aggregated circles, "
              "disaggregated triangles), the Pareto frontier a line with each point's concurrency, the TPOT "
              "target dashed, the best within the targets a star; hover a point for its layout, concurrency, "
              "TTFT, TPOT and throughput.",
              [&](const std::string& svg) { roofline::plot_frontier(series, chart_title, svg, targets); })},
          .assumptions = assumptions,
          .json = roofline::json_text(nlohmann::json{{"models", all}})};
      report_file.write(roofline::html_text(page));
    }
    plot_file.commit();
    report_file.commit();
    std::cout << text;  // only when everything succeeded
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
