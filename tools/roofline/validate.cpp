// validate: predicts every measured point with a profile and reports the errors per
// architecture and phase.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/report/plot.hpp"
#include "roofline/report/report.hpp"
#include "samples.hpp"

int commands::validate(int argc, char** argv) {
  CLI::App app{"Predict measured TTFT and step times with a hardware profile and report the errors."};
  std::string hw_path, csv, predictions_out, format = "table", root = examples::data_dir();
  app.add_option("--hw", hw_path, "part (hardware profile) YAML (with --measurements)");
  std::vector<std::string> stack_paths;
  app.add_option(
      "--stack", stack_paths,
      "software stack YAML: the timing of the part (default: achievable datasheet fractions); with "
      "--engine-runs, engine stacks, repeatable (default: every stack of stacks/ that names an engine)");
  app.add_option("--measurements", csv,
                 "measurement CSV of fixed-batch runs (model paths relative to --root)");
  std::string runs_csv, fallback;
  app.add_option(
      "--engine-runs", runs_csv,
      "CSV of measured serving runs (serving/engine_runs.csv's columns): each run's spec found by hf_name "
      "in --root/model_specs, its part by name in --root/hw_profiles, its stack by engine and part");
  app.add_option("--fallback-stack", fallback,
                 "with --engine-runs: the stack of runs whose engine has none (default: skip them)");
  bool simulated = false;
  app.add_flag("--simulate", simulated,
               "with --engine-runs: replay each run in the serving simulator (default: the closed form)");
  app.add_option("--predictions", predictions_out, "write measured and predicted times to this CSV");
  std::string plot_out;
  std::int64_t plot_batch = 1;
  app.add_option("--plot", plot_out,
                 "draw predicted against measured, and time against prefill, to this SVG");
  app.add_option("--plot-batch", plot_batch, "batch of the time-against-prefill panels")
      ->capture_default_str();
  app.add_option("--root", root, "directory the model paths are relative to")->capture_default_str();
  examples::format_option(app, format, {"table", "json"});
  std::string report_path;
  examples::report_option(app, report_path);
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  if (runs_csv.empty() == csv.empty()) {
    std::fprintf(stderr, "error: give --measurements (with --hw) or --engine-runs\n");
    return 2;
  }
  if (!csv.empty() && hw_path.empty()) {
    std::fprintf(stderr, "error: --measurements needs --hw\n");
    return 2;
  }
  if (!csv.empty() && stack_paths.size() > 1) {
    std::fprintf(stderr, "error: --measurements takes one --stack\n");
    return 2;
  }
  const auto f = examples::report_format_of(format);
  if (!runs_csv.empty()) {
    try {
      examples::output_file predictions_file(predictions_out, "--predictions"), plot_file(plot_out, "--plot"),
          report_file(report_path, "--report");
      const auto cat = examples::load_catalogue(root, stack_paths, fallback);
      const auto runs = roofline::load_engine_runs(runs_csv);
      std::vector<roofline::run_prediction> pred;
      pred.reserve(runs.size());
      examples::progress_line progress(simulated ? "validate --simulate" : "validate");
      for (const auto& r : runs) {
        pred.push_back(roofline::predict_run(cat, r, simulated));
        progress.update(pred.size(), runs.size(), "runs");
      }
      if (predictions_file.wanted()) predictions_file.write(roofline::serving_predictions_csv(runs, pred));
      const auto [cells, skipped] = roofline::serving_error_cells(runs, pred);
      if (plot_file.wanted()) roofline::plot_serving_validation(runs, pred, plot_file.temp());
      const std::string title = fmt::format("{} ({} runs)", runs_csv, runs.size());
      const roofline::serving_cells_view view{cells, skipped, title};
      if (report_file.wanted())
        report_file.write(roofline::html_text(roofline::html_page{
            .title = fmt::format("Serving predictions against {} measured runs ({})", runs.size(),
                                 simulated ? "simulated" : "closed form"),
            .command = examples::command_line(argc, argv),
            .markdown = view.table({.markdown = true}),
            .charts = {roofline::html_chart_of(
                "Predicted against measured TTFT and TPOT, a panel per engine and metric, a colour per "
                "model, "
                "y = x and the lines of +-30%; hover a point for its run and both times.",
                [&](const std::string& svg) { roofline::plot_serving_validation(runs, pred, svg); })},
            .assumptions =
                {fmt::format("Measured runs: `{}`; each run's model found by its HuggingFace name, its part "
                             "by name, its stack by engine and part (fitted on it, else moved from the "
                             "nearest part, as the stack column says).",
                             runs_csv),
                 fmt::format("Each run replayed {}: its concurrency, prompt and output lengths and layout.",
                             simulated ? "in the scheduler simulator as a closed loop"
                                       : "through the closed-form steady state"),
                 "Errors: absolute percentage error |predicted / measured - 1| per run; a cell's median, "
                 "mean, "
                 "p90 and maximum over its runs; skipped runs are counted by reason, not predicted."},
            .json = roofline::json_text(view.json())}));
      predictions_file.commit();
      plot_file.commit();
      report_file.commit();
      std::cout << roofline::render(view, f, examples::wide_option());
    } catch (const roofline::input_error& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 1;
    }
    return 0;
  }
  const std::string stack_path =
      stack_paths.empty() ? examples::data_path("stacks/datasheet.yaml") : stack_paths[0];
  try {
    examples::output_file predictions_file(predictions_out, "--predictions"), plot_file(plot_out, "--plot"),
        report_file(report_path, "--report");
    std::map<std::string, roofline::model_spec> specs;
    const auto hw = roofline::load_hardware(roofline::find_part(hw_path, examples::data_dir()),
                                            roofline::find_stack(stack_path, examples::data_dir()));
    const auto samples = examples::load_samples(csv, root, specs);
    const auto predicted = roofline::predict(hw, samples);
    const auto cells = roofline::error_cells(samples, predicted);
    if (predictions_file.wanted()) predictions_file.write(roofline::predictions_csv(samples, predicted));
    if (plot_file.wanted()) roofline::plot_validation(samples, predicted, plot_batch, plot_file.temp());
    const std::string title = fmt::format("{}, stack {} ({}), on {} ({} points)", hw.name, hw.stack,
                                          hw.stack_note, csv, samples.size());
    if (report_file.wanted()) {
      roofline::html_page page{
          .title = fmt::format("Predictions against {} measured runs on {} (stack {})", samples.size(),
                               hw.name, hw.stack),
          .command = examples::command_line(argc, argv),
          .markdown = roofline::cells_view{cells, title}.table({.markdown = true}),
          .charts = {roofline::html_chart_of(
              fmt::format("Predicted against measured time, and TTFT and decode step time against the prompt "
                          "length at batch {} (points measured, lines predicted); hover a point for its run.",
                          plot_batch),
              [&](const std::string& svg) {
                roofline::plot_validation(samples, predicted, plot_batch, svg);
              })},
          .assumptions = {fmt::format("Measured runs: `{}`, each a fixed batch, prompt and generated length; "
                                      "models found relative to `{}`.",
                                      csv, root),
                          "Errors: absolute percentage error |predicted / measured - 1| per time; a cell's "
                          "median, mean, p90 and maximum over its architecture and phase."},
          .json = roofline::json_text(roofline::cells_view{cells, title}.json())};
      if (hw.timing.kernels || !hw.timing.spreads.empty())  // the interval's coverage, as the tables show it
        page.markdown +=
            roofline::coverage_view{roofline::interval_coverage(hw, samples)}.table({.markdown = true});
      for (std::string& a : roofline::hardware_assumptions(hw, std::nullopt))
        page.assumptions.push_back(std::move(a));
      report_file.write(roofline::html_text(page));
    }
    predictions_file.commit();
    plot_file.commit();
    report_file.commit();
    if (!hw.timing.kernels && hw.timing.spreads.empty()) {  // no interval to cover
      std::cout << roofline::render(roofline::cells_view{cells, title}, f, examples::wide_option());
    } else if (const auto cover = roofline::interval_coverage(hw, samples);
               f != roofline::report_format::json) {
      const roofline::table_style style = examples::table_style_of(format);
      std::cout << roofline::cells_view{cells, title}.table(style) << (style.markdown ? "" : "\n")
                << roofline::coverage_view{cover}.table(style);
    } else {  // the error cells' JSON with the coverage beside them
      nlohmann::json j = roofline::cells_view{cells, title}.json();
      j["coverage"] = roofline::coverage_view{cover}.json()["coverage"];
      std::cout << roofline::json_text(j);
    }
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
