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
      examples::output_file predictions_file(predictions_out, "--predictions"), plot_file(plot_out, "--plot");
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
      predictions_file.commit();
      plot_file.commit();
      const std::string title = fmt::format("{} ({} runs)", runs_csv, runs.size());
      std::cout << roofline::render(roofline::serving_cells_view{cells, skipped, title}, f,
                                    examples::wide_option());
    } catch (const roofline::input_error& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 1;
    }
    return 0;
  }
  const std::string stack_path =
      stack_paths.empty() ? examples::data_path("stacks/datasheet.yaml") : stack_paths[0];
  try {
    examples::output_file predictions_file(predictions_out, "--predictions"), plot_file(plot_out, "--plot");
    std::map<std::string, roofline::model_spec> specs;
    const auto hw = roofline::load_hardware(roofline::find_part(hw_path, examples::data_dir()),
                                            roofline::find_stack(stack_path, examples::data_dir()));
    const auto samples = examples::load_samples(csv, root, specs);
    const auto predicted = roofline::predict(hw, samples);
    const auto cells = roofline::error_cells(samples, predicted);
    if (predictions_file.wanted()) predictions_file.write(roofline::predictions_csv(samples, predicted));
    if (plot_file.wanted()) roofline::plot_validation(samples, predicted, plot_batch, plot_file.temp());
    predictions_file.commit();
    plot_file.commit();
    const std::string title = fmt::format("{}, stack {} ({}), on {} ({} points)", hw.name, hw.stack,
                                          hw.stack_note, csv, samples.size());
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
