// calibrate: fits a profile's timing parameters to measured times and writes the calibrated
// profile; --cross-validate also reports how well it predicts models it was not fitted on.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include <nlohmann/json.hpp>

#include "kernel_fit.hpp"
#include "roofline/report/report.hpp"
#include "samples.hpp"
#include "serving_fit.hpp"

int commands::calibrate(int argc, char** argv) {
  CLI::App app{"Fit the timing parameters of a hardware profile to measured TTFT and step times."};
  std::string hw_path, csv, out_path, format = "table", root = examples::data_dir();
  bool cross = false;
  roofline::fit_options options;
  app.add_option("--hw", hw_path, "the part the measurements ran on (hardware profile YAML)");
  std::string stack_path = examples::data_path("stacks/roofline.yaml"), stack_name, describes;
  app.add_option("--stack", stack_path,
                 "stack to start from: what is not fitted (a long-prompt attention kernel or not), and with "
                 "--warm-start its values")
      ->capture_default_str();
  app.add_option("--name", stack_name, "name of the fitted stack (default: the --out file's stem)");
  app.add_option("--describes", describes,
                 "what the stack is: engine, version, kernels (default: the fit's data)");
  app.add_option("--measurements", csv, "measurement CSV (model paths relative to --root)");
  std::string runs_csv, engine, system;
  app.add_option(
      "--engine-runs", runs_csv,
      "fit an engine stack to measured serving runs (serving/engine_runs.csv's columns) of --engine on "
      "--system instead: specs by hf_name from --root/model_specs, the part by name from --root/hw_profiles");
  std::string kernels_csv;
  app.add_option("--kernels", kernels_csv,
                 "make a kernel stack from a measured kernel table (examples/measure/kernels.py) of the part "
                 "--hw instead: the table, and the analytic model fitted to it for other shapes and parts");
  std::string moved_csv, moved_hw;
  app.add_option("--moved-kernels", moved_csv,
                 "with --kernels: another part's kernel table (its held-out shapes) that the stack, moved "
                 "there, predicts: its spread widens the interval where the stack drives another part");
  app.add_option("--moved-hw", moved_hw, "with --moved-kernels: the part that table was measured on");
  app.add_option("--engine", engine,
                 "with --engine-runs: the engine whose runs are fitted (trtllm, vllm, sglang)");
  app.add_option("--system", system,
                 "with --engine-runs: the GPU of the runs (a part's name: h100_sxm, b200_sxm, ...)");
  app.add_option("--out", out_path, "write the fitted stack here (YAML)")->required();
  app.add_option("--root", root, "directory the model paths are relative to")->capture_default_str();
  app.add_flag("--cross-validate", cross, "also hold out each model in turn, fit on the rest, predict it");
  examples::number_option(
      app, "--max-iterations", options.max_iterations,
      "Levenberg-Marquardt iterations at most (a simulated fit takes ~15 s an iteration on "
      "150 runs)");
  app.add_flag("--simulate", options.simulated,
               "with --engine-runs: predict each run by replaying it in the serving simulator (default: the "
               "closed form)");
  std::string env_json;
  app.add_option("--peaks", env_json,
                 "start from the achievable peaks in this JSON of examples/measure/measure.py");
  app.add_flag("--share-phases", options.share_phases,
               "decode kernels take the prompt kernels' parameters (for small measurement sets)");
  app.add_flag("--gemm-waves", options.gemm_waves,
               "GEMM tiles run in waves of the compute units, the last one partly idle (off: padding only)");
  bool warm = false;
  app.add_flag("--warm-start", warm, "start from the timing values of --stack (a stack fitted before)");
  examples::number_option(app, "--huber", options.huber_delta, "Huber threshold on log(predicted / measured)",
                          examples::number_rule::positive);
  examples::format_option(app, format, {"table", "json"});
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  const auto f = examples::report_format_of(format);
  const roofline::table_style style = examples::table_style_of(format);
  if (!runs_csv.empty()) {
    if (engine.empty() || system.empty()) {
      std::fprintf(stderr, "error: --engine-runs needs --engine and --system\n");
      return 2;
    }
    return examples::calibrate_engine(runs_csv, engine, system, root, stack_path, out_path, stack_name, cross,
                                      options, f);
  }
  if (!kernels_csv.empty()) {
    if (hw_path.empty()) {
      std::fprintf(stderr, "error: --kernels needs --hw, the part the kernels were measured on\n");
      return 2;
    }
    if (moved_csv.empty() != moved_hw.empty()) {
      std::fprintf(stderr, "error: --moved-kernels and --moved-hw go together: give both or neither\n");
      return 2;
    }
    return examples::calibrate_kernels(kernels_csv, hw_path, stack_path, out_path, stack_name, describes,
                                       options, f, {moved_csv, moved_hw});
  }
  if (csv.empty() || hw_path.empty()) {
    std::fprintf(stderr, "error: give --measurements and --hw (or --engine-runs)\n");
    return 2;
  }
  try {
    examples::output_file out_file(out_path, "--out");  // checked before the fit
    std::map<std::string, roofline::model_spec> specs;
    const roofline::part part = roofline::load_part(roofline::find_part(hw_path, examples::data_dir()));
    const roofline::stack start_stack = roofline::load_stack(stack_path);
    const auto start = roofline::drive(part, start_stack);
    const auto samples = examples::load_samples(csv, root, specs);
    if (!env_json.empty()) {
      const std::string text = roofline::read_text(env_json);  // a missing file is named as such
      nlohmann::json env;
      try {
        env = nlohmann::json::parse(text);
      } catch (const nlohmann::json::exception& e) {
        throw roofline::input_error(fmt::format("{}:1:1: not JSON: {}", env_json, e.what()));
      }
      // the measure harness writes {"peaks": {...}}, or several runs under "runs"
      const auto bad = [&](const char* what) {
        return roofline::input_error(
            fmt::format("{}:1:1: expected the environment JSON of examples/measure/measure.py "
                        "(an object with 'peaks', or 'runs'); {}",
                        env_json, what));
      };
      if (!env.is_object()) throw bad("got no object");
      const nlohmann::json* peaks_at = nullptr;
      if (env.contains("runs")) {
        const nlohmann::json& runs = env["runs"];
        if (!runs.is_array() || runs.empty() || !runs[0].is_object() || !runs[0].contains("environment") ||
            !runs[0]["environment"].is_object() || !runs[0]["environment"].contains("peaks"))
          throw bad("'runs[0].environment.peaks' is missing");
        peaks_at = &runs[0]["environment"]["peaks"];
      } else if (env.contains("peaks")) {
        peaks_at = &env["peaks"];
      }
      if (!peaks_at || !peaks_at->is_object()) throw bad("no 'peaks' object");
      const nlohmann::json& peaks = *peaks_at;
      for (const char* key : {"gemm_bf16_tflops", "copy_gb_s", "launch_us"})
        if (!peaks.contains(key) || !peaks[key].is_number() || !(peaks[key].get<double>() > 0) ||
            !std::isfinite(peaks[key].get<double>()))
          throw roofline::input_error(
              fmt::format("{}:1:1: 'peaks.{}' must be a positive number", env_json, key));
      options.start = roofline::starts_from_peaks(start, peaks["gemm_bf16_tflops"].get<double>() * 1e12,
                                                  peaks["copy_gb_s"].get<double>() * 1e9,
                                                  peaks["launch_us"].get<double>() * 1e-6);
    }
    if (warm) {
      if (!env_json.empty())
        throw roofline::input_error("--warm-start and --peaks choose different starts; give one");
      options.start = roofline::starts_from_profile(start, options.share_phases);  // the stack's values
    }
    // Ceres needs at least as many residuals as parameters; fewer would leave it undetermined.
    std::size_t measured = 0;
    for (const roofline::sample& smp : samples) measured += !std::isnan(smp.ttft_s) + !std::isnan(smp.step_s);
    const std::size_t fitted =
        roofline::fit_parameters(options.share_phases, start.timing.attention_long_from_keys > 0).size();
    if (measured < fitted)
      throw roofline::input_error(
          fmt::format("{}: {} measured times; fitting {} timing parameters needs at least as many", csv,
                      measured, fitted));
    const auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "fitting %zu measured workloads...\n", samples.size());
    const roofline::fit_report fit = roofline::fit_timing(start, samples, options);
    std::fprintf(stderr, "fit: cost %.4g -> %.4g in %d iterations (%s), %.1f s\n", fit.initial_cost,
                 fit.final_cost, fit.iterations, fit.converged ? "converged" : "not converged",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    roofline::hardware hw = fit.fitted;
    const auto in_pred = roofline::predict(hw, samples);
    const auto in_sample = roofline::error_cells(samples, in_pred);
    std::vector<roofline::error_cell> held_out;
    std::vector<roofline::prediction> out_pred;
    if (cross) {
      out_pred = roofline::cross_validate(start, samples, options, [](int i, int n, const std::string& m) {
        std::fprintf(stderr, "cross-validation %d/%d: holding out %s\n", i + 1, n, m.c_str());
      });
      held_out = roofline::error_cells(samples, out_pred);
    }
    // the end-to-end spread per family: held out where cross-validated, else in sample
    hw.timing.spreads = roofline::family_spreads(samples, cross ? out_pred : in_pred);
    const std::time_t now = std::time(nullptr);
    char date[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
    roofline::stack result{
        .name = stack_name.empty() ? std::filesystem::path(out_path).stem().string() : stack_name,
        .describes = describes.empty()
                         ? fmt::format("fitted by build/examples/calibrate on {} to {}", date, csv)
                         : describes,
        .sources = {fmt::format("[1] {}: the measured runs the timing is fitted to", csv)},
        .fitted_on = roofline::stack_origin{part.name, part.compute_units, part.clock_mhz},
        .timing = hw.timing,
        .calibration = roofline::calibration_record{
            csv, date,
            fmt::format(
                "build/examples/calibrate: Huber({}) loss on log(predicted/measured) of every measured TTFT "
                "and "
                "step time, Ceres Levenberg-Marquardt with bounds; held_out: each model left out in turn; "
                "spread: per model family, measured / predicted TTFT and step time at their 10th and 90th "
                "percentiles, {}",
                options.huber_delta, cross ? "held out" : "in sample"),
            in_sample, held_out}};
    out_file.write(roofline::stack_yaml(result));
    out_file.commit();
    std::cout << roofline::render(roofline::calibration_view{in_sample, held_out}, f, style.wide);
    if (cross && f != roofline::report_format::json)
      std::cout << (style.markdown ? "" : "\n")
                << roofline::coverage_view{roofline::spread_coverage(samples, out_pred),
                                           "the spread's coverage of a model it was not taken from (each "
                                           "model's held-out times inside the p10-p90 of the other models' "
                                           "held-out ratios):"}
                       .table(style);
    if (f != roofline::report_format::json) {
      roofline::detail::text_table t({{"parameter", true}, {"fitted"}});
      for (const auto& p :
           roofline::fit_parameters(options.share_phases, hw.timing.attention_long_from_keys > 0))
        t.row({p.name, fmt::format("{:.5g}", p.get(hw.timing))});
      std::cout << roofline::detail::section("parameters:", style) << t.render(style);
    }
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
