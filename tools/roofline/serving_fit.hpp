// calibrate --engine-runs: fits an engine stack (timing and serving parameters) to the measured
// serving runs of one engine on one GPU, with leave-one-model-out errors.
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "roofline/fit/engine_runs.hpp"
#include "roofline/report/report.hpp"
#include "samples.hpp"

namespace examples {

/// Tokens of one KV page by engine, as each allocates by default: TensorRT-LLM's
/// tokens_per_block 32, vLLM's block_size 16, SGLang's page_size 1.
inline double engine_block_tokens(const std::string& engine) {
  return engine == "vllm" ? 16 : engine == "sglang" ? 1 : 32;
}

/// A path as a record shows it: relative to the working directory where it lies below it.
inline std::string shown_path(const std::string& path) {
  const auto rel = std::filesystem::absolute(path).lexically_relative(std::filesystem::current_path());
  return !rel.empty() && *rel.begin() != ".." ? rel.string() : path;
}

inline int calibrate_engine(const std::string& runs_csv, const std::string& engine, const std::string& system,
                            const std::string& root, const std::string& stack_path,
                            const std::string& out_path, std::string stack_name, bool cross,
                            roofline::fit_options options, roofline::report_format f) {
  try {
    examples::output_file out_file(out_path, "--out");  // checked before the fit
    const roofline::stack base = roofline::load_stack(stack_path);
    roofline::serving_catalogue cat = load_catalogue(root, {}, {});
    cat.stacks.clear();
    cat.fallback = base;
    const roofline::part* p = cat.part_of(system);
    if (!p)
      throw roofline::input_error(
          fmt::format("--system {}: no part in {}/hw_profiles names it", system, root));
    roofline::hardware start = roofline::drive(*p, base);
    roofline::serving_params& sp = start.timing.serving;
    sp.stated = true;
    sp.block_tokens = engine_block_tokens(engine);
    sp.reserve_final_length = engine == "trtllm";
    sp.policy = roofline::parse_name<roofline::serving_params::scheduler>(engine).value_or(sp.policy);
    sp.chunked_prefill = true;  // see source [2]
    const auto runs = roofline::load_engine_runs(runs_csv);
    std::deque<roofline::serving_case> cases;  // the samples point into them
    std::vector<roofline::serving_sample> samples;
    std::map<std::string, int> skipped;
    for (const roofline::engine_run& r : runs) {
      if (r.engine != engine || r.system != system) continue;
      roofline::run_setup s = roofline::setup_of(cat, r);
      if (!s.skip.empty()) {
        ++skipped[s.skip];
        continue;
      }
      cases.push_back(std::move(s.c));
      samples.push_back({&cases.back().model, r.model, cases.back().work, r.ttft_ms * 1e-3, r.tpot_ms * 1e-3,
                         roofline::replay_requests(r)});
    }
    const std::size_t n_params =
        roofline::serving_fit_parameters(options.simulated, bool(start.timing.kernels)).size();
    if (2 * samples.size() < n_params)
      throw roofline::input_error(
          fmt::format("{}: {} runs of {} on {}; fitting {} parameters needs at least {}", runs_csv,
                      samples.size(), engine, system, n_params, (n_params + 1) / 2));
    const auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "fitting %zu runs of %s on %s...\n", samples.size(), engine.c_str(), system.c_str());
    options.progress = [](int i, double cost, double s) {
      std::fprintf(stderr, "  iteration %d: cost %.6g, %.0f s\n", i, cost, s);
    };
    const roofline::fit_report fit = roofline::fit_serving(start, samples, options);
    std::fprintf(stderr, "fit: cost %.4g -> %.4g in %d iterations (%s), %.1f s\n", fit.initial_cost,
                 fit.final_cost, fit.iterations, fit.converged ? "converged" : "not converged",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const auto cells_of = [&](const std::vector<roofline::prediction>& pred) {
      std::vector<double> ttft, tpot;
      for (std::size_t i = 0; i < samples.size(); ++i) {
        if (std::isnan(pred[i].ttft_s)) continue;
        ttft.push_back(100 * std::abs(pred[i].ttft_s - samples[i].ttft_s) / samples[i].ttft_s);
        tpot.push_back(100 * std::abs(pred[i].step_s - samples[i].tpot_s) / samples[i].tpot_s);
      }
      return std::vector<roofline::error_cell>{roofline::summarise(engine, "ttft", ttft),
                                               roofline::summarise(engine, "tpot", tpot)};
    };
    std::vector<roofline::prediction> in_pred;
    for (const roofline::serving_sample& s : samples) {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      in_pred.push_back(roofline::predict_serving(s, fit.fitted, options.simulated)
                            .value_or(roofline::prediction{nan, nan}));
    }
    const auto in_sample = cells_of(in_pred);
    std::set<std::string> models;
    for (const auto& s : samples) models.insert(s.model_name);
    std::vector<roofline::error_cell> held_out;
    std::vector<roofline::prediction> out_pred;
    if (cross && models.size() > 1) {
      out_pred = roofline::cross_validate_serving(start, samples, options);
      held_out = cells_of(out_pred);
    }
    // the stack's end-to-end spread: measured / predicted TTFT and TPOT at their 10th and 90th
    // percentiles, held out where cross-validated (each model by a fit on the others), else in sample
    const auto spread_of = [&](bool tpot) {
      std::vector<double> ratios;
      const auto& pred = out_pred.empty() ? in_pred : out_pred;
      for (std::size_t i = 0; i < samples.size(); ++i) {
        const double p = tpot ? pred[i].step_s : pred[i].ttft_s;
        if (std::isfinite(p) && p > 0) ratios.push_back((tpot ? samples[i].tpot_s : samples[i].ttft_s) / p);
      }
      return ratios.empty() ? roofline::spread{}
                            : roofline::spread{roofline::quantile(ratios, 0.1),
                                               roofline::quantile(ratios, 0.9), int(ratios.size())};
    };
    std::string model_list;
    for (const std::string& m : models) model_list += (model_list.empty() ? "" : ", ") + m;
    const std::time_t now = std::time(nullptr);
    char date[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
    roofline::timing_params timing = fit.fitted.timing;
    timing.serving.ttft_spread = spread_of(false);
    timing.serving.tpot_spread = spread_of(true);
    if (timing.kernels) {  // the base's kernel table, named relative to the output stack's folder
      namespace fs = std::filesystem;
      const fs::path from = fs::absolute(stack_path).parent_path(), to = fs::absolute(out_path).parent_path();
      auto t = std::make_shared<roofline::kernel_table>(*timing.kernels);
      t->file = fs::relative((from / t->file).lexically_normal(), to).string();
      t->measured_file = fs::relative((from / t->measured_file).lexically_normal(), to).string();
      timing.kernels = t;
    }
    roofline::stack result{
        .name = stack_name.empty() ? std::filesystem::path(out_path).stem().string() : stack_name,
        .file = {},
        .engine = engine,
        .describes =
            fmt::format("{} serving on {} ({}), fitted by build/examples/calibrate on {} to its {} measured "
                        "runs in {} (models: {}); the rest of the timing from stack '{}'",
                        engine, p->name, system, date, samples.size(), runs_csv, model_list, base.name),
        .sources =
            {fmt::format("[1] {}: measured serving runs (NVIDIA AIConfigurator silicon data, Apache-2.0), "
                         "the data the serving parameters and efficiencies are fitted to",
                         runs_csv),
             "[2] engine defaults: max_batch_tokens 8192 (TensorRT-LLM max_num_tokens, vLLM "
             "max_num_batched_tokens, SGLang chunked_prefill_size), max_batch 256 (vLLM max_num_seqs; a "
             "run's "
             "batch_size overrides it), memory_fraction 0.9 (TensorRT-LLM free_gpu_memory_fraction, vLLM "
             "gpu_memory_utilization), block_tokens: TensorRT-LLM tokens_per_block 32, vLLM block_size 16, "
             "SGLang page_size 1; reserve_final_length: TensorRT-LLM's default capacity scheduler "
             "GUARANTEED_NO_EVICT reserves a request's final length, vLLM and SGLang allocate pages on "
             "demand; chunked_prefill: on for every engine (vLLM v1 and SGLang by default; the TensorRT-LLM "
             "runs of 8,192-token prompts under an 8,192-token budget show no waves of prompts waiting for "
             "every decode to finish, so those deployments chunk)",
             fmt::format("[3] stack '{}' ({}): every timing value the fit does not set", base.name,
                         shown_path(stack_path))},
        .fitted_on = roofline::stack_origin{p->name, p->compute_units, p->clock_mhz},
        .timing = timing,
        .calibration = roofline::calibration_record{
            runs_csv, date,
            fmt::format(
                "build/examples/calibrate --engine-runs {} --engine {} --system {} --stack {}{}: Huber({}) "
                "loss on "
                "log(predicted/measured) of every run's TTFT and TPOT{}, Ceres Levenberg-Marquardt with "
                "bounds; "
                "held_out: each model left out in turn; serving.spread: measured / predicted TTFT and "
                "TPOT at their 10th and 90th percentiles, {}; serving.spread.transferred: the same of the "
                "fitted stack on the engine's runs of the other parts of the data, moved there by the "
                "transfer rule{}",
                runs_csv, engine, system, shown_path(stack_path), options.simulated ? " --simulate" : "",
                options.huber_delta,
                options.simulated ? " (each run replayed in the serving simulator: a closed loop at its "
                                    "concurrency, outputs within 5 % of its osl, max(500, 10 x concurrency) "
                                    "requests, mean TTFT and TPOT)"
                                  : "",
                out_pred.empty() ? "in sample" : "held out",
                skipped.empty() ? std::string()
                                : fmt::format("; {} runs skipped",
                                              [&] {
                                                int n = 0;
                                                for (const auto& [k, v] : skipped) n += v;
                                                return n;
                                              }())),
            in_sample, held_out}};
    // the fitted stack on the engine's runs of every other part (moved there by drive()'s rule)
    const roofline::transfer_check moved = roofline::check_transfer(cat, result, runs, options.simulated);
    result.timing.serving.ttft_spread_transferred = moved.ttft;
    result.timing.serving.tpot_spread_transferred = moved.tpot;
    out_file.write(roofline::stack_yaml(result));
    out_file.commit();
    const std::string title = fmt::format("in sample ({} runs, {} models)", samples.size(), models.size());
    const roofline::table_style style{.markdown = f == roofline::report_format::markdown,
                                      .wide = examples::wide_option()};
    const bool text = f != roofline::report_format::json;
    std::cout << roofline::render(roofline::calibration_view{in_sample, held_out, title}, f, style.wide);
    if (cross && held_out.empty() && text)
      std::cout << roofline::detail::section("held out: one model only, none to hold out", style);
    if (text) {
      roofline::detail::text_table t({{"parameter", true}, {"fitted"}});
      for (const auto& prm : roofline::serving_fit_parameters(options.simulated, bool(start.timing.kernels)))
        t.row({prm.name, fmt::format("{:.5g}", prm.get(fit.fitted.timing))});
      for (const auto& [reason, n] : skipped) t.note(fmt::format("skipped {}: {}", n, reason));
      std::cout << roofline::detail::section("parameters:", style) << t.render(style);
    }
    if (!out_pred.empty() && text) {
      std::vector<roofline::sample> as_samples;  // the runs as samples: TPOT in the step column
      for (const roofline::serving_sample& s : samples)
        as_samples.push_back({s.model, s.model_name, {}, s.ttft_s, s.tpot_s});
      std::cout << (style.markdown ? "" : "\n")
                << roofline::coverage_view{roofline::spread_coverage(as_samples, out_pred),
                                           "the spread's coverage of a model it was not taken from (each "
                                           "model's held-out runs inside the p10-p90 of the other models' "
                                           "held-out ratios; step: TPOT):"}
                       .table(style);
    }
    if (!moved.cells.empty() && text)
      std::cout << (style.markdown ? "" : "\n")
                << roofline::render(
                       roofline::serving_cells_view{
                           moved.cells, moved.skipped,
                           fmt::format("the fitted stack moved to the {} runs of {} on other parts "
                                       "(spread TTFT {:.3g}-{:.3g}, TPOT {:.3g}-{:.3g})",
                                       moved.ttft.points, engine, moved.ttft.p10, moved.ttft.p90,
                                       moved.tpot.p10, moved.tpot.p90)},
                       f, style.wide);
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace examples
