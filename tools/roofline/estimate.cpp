// estimate: TTFT, decode step time, throughput, memory and bound of a model on an accelerator.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/io.hpp"
#include "roofline/report/plot.hpp"
#include "roofline/report/report.hpp"

int commands::estimate(int argc, char** argv) {
  CLI::App app{"Roofline estimate of prefill (time to first token) and decode (step time) of an LLM."};
  std::string model_path = examples::data_path("model_specs/xlstm_7b.yaml");
  std::string hw_path = examples::data_path("hw_profiles/h100_sxm.yaml");
  roofline::workload w = roofline::default_workload;
  std::string overlap, format = "table";
  bool layers = false;
  app.add_option(
         "--model", model_path,
         "model: a spec YAML, a config.json or its folder, or a shipped model's name or HuggingFace id")
      ->capture_default_str();
  std::string stack_path = examples::data_path("stacks/datasheet.yaml");
  examples::hardware_options(app, hw_path, stack_path);
  examples::number_option(app, "--batch", w.batch, "sequences in the batch (B)");
  examples::number_option(app, "--prefill", w.prefill, "prompt tokens per sequence (P)");
  examples::number_option(app, "--generate", w.generate, "generated tokens per sequence (G)");
  app.add_option("--images", w.images,
                 "images in each prompt (a model with a vision tower): encoded in the prefill, their image "
                 "tokens added to --prefill")
      ->check(examples::positive_integer);
  app.add_option("--overlap", overlap, "compute/memory overlap policy; default: the profile's")
      ->check(CLI::IsMember({"perfect", "none", "smooth"}));
  examples::format_option(app, format, {"table", "json", "csv"});
  app.add_flag("--layers", layers, "table: one row per op instead of per layer");
  std::string plot;
  app.add_option("--plot", plot, "draw the roofline chart of the ops to this SVG (or .png)");
  std::string plot_tp;
  int max_tp = 8;
  app.add_option("--plot-tp", plot_tp,
                 "draw where the prefill's and a decode step's time go at tp = 1, 2, 4, ... --max-tp to this "
                 "SVG (or .png)");
  examples::number_option(app, "--max-tp", max_tp, "largest tensor-parallel degree of --plot-tp");
  std::string report_path;
  examples::report_option(app, report_path);
  examples::add_layout(app, w.parallel);
  std::string kv;
  examples::kv_format_option(app, kv);
  roofline::speculation spec;
  std::string draft = "mtp";
  examples::speculation_options(app, spec, draft,
                                "prints TPOT against a plain step and the batch where it stops paying");
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;

  try {
    examples::output_file plot_file(plot, "--plot"), plot_tp_file(plot_tp, "--plot-tp"),
        report_file(report_path, "--report");
    auto model = examples::load_model_named(model_path);
    examples::apply_kv_format(model, kv);
    roofline::add_images(model, w, w.images, "--images");
    const auto hw = examples::load_hardware_named(hw_path, stack_path);
    const std::optional<roofline::overlap> policy = examples::overlap_option(overlap);
    const auto f = examples::report_format_of(format);
    const roofline::report report = roofline::make_report(model, hw, w, policy);
    if (plot_file.wanted()) roofline::plot_roofline(report, plot_file.temp());
    if (plot_tp_file.wanted())
      roofline::plot_tp_breakdown(roofline::tp_sweep(model, hw, w, max_tp),
                                  fmt::format("{} on {} ({}), batch {}, prompt {}, {} generated", model.name,
                                              hw.name, hw.stack, w.batch, w.prefill, w.generate),
                                  plot_tp_file.temp());
    std::string text = examples::render_as(roofline::estimate_view{report, layers}, format);
    examples::resolve_speculation(app, spec, draft, kv);
    roofline::html_page page{
        .title = fmt::format("{} on {} (stack {}): batch {}, prompt {}, {} generated", model.name, hw.name,
                             hw.stack, w.batch, w.prefill, w.generate),
        .command = examples::command_line(argc, argv),
        .markdown = roofline::estimate_view{report, layers}.table({.markdown = true}),
        .assumptions = roofline::estimate_assumptions(model, hw, policy),
        .json = roofline::json_text(roofline::estimate_view{report, layers}.json())};
    if (spec.k > 0) {
      if (f == roofline::report_format::csv)
        throw roofline::input_error("--speculate: not in the CSV report; use --format table or json");
      const auto e = roofline::speculate(model, hw, w, spec, policy);
      const auto even = roofline::break_even_batch(model, hw, w, spec, policy);
      const roofline::speculation_view v{spec, roofline::draft_name(model, spec), e, even};
      page.markdown += v.table({.markdown = true});
      nlohmann::json both = roofline::estimate_view{report, layers}.json();
      both["speculation"] = v.json();
      page.json = roofline::json_text(both);
      if (f == roofline::report_format::json) {
        text = page.json;
      } else {
        text += v.table(examples::table_style_of(format));
      }
    }
    if (report_file.wanted()) {
      page.charts.push_back(roofline::html_chart_of(
          "The roofline: the part's ceilings and each op of the prefill (circles) and of a decode step "
          "(squares) at its arithmetic intensity and attained FLOP/s, one layer of each group; hover a point "
          "for its ops' FLOPs, bytes, time and bound.",
          [&](const std::string& svg) { roofline::plot_roofline(report, svg); }));
      report_file.write(roofline::html_text(page));
    }
    plot_file.commit();
    plot_tp_file.commit();
    report_file.commit();
    std::cout << text;
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
