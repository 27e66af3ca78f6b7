// compare: TTFT and decode step time of several models across prompt lengths on one
// accelerator, with the prompt lengths where one model overtakes another.
#include <chrono>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/io.hpp"
#include "roofline/report/plot.hpp"
#include "roofline/report/report.hpp"

int commands::compare(int argc, char** argv) {
  CLI::App app{"Compare models across prompt lengths: TTFT, step time and their crossovers."};
  std::vector<std::string> model_paths;
  std::string hw_path = examples::data_path("hw_profiles/h100_sxm.yaml"), range = "512:131072", plot,
              format = "table";
  roofline::workload w{.batch = 1, .prefill = 1, .generate = 100};
  app.add_option(
         "--models,--model", model_paths,
         "models (specs, config.json files or shipped names): several after --models, or --model repeated")
      ->required();
  std::string stack_path = examples::data_path("stacks/datasheet.yaml");
  examples::hardware_options(app, hw_path, stack_path);
  examples::number_option(app, "--batch", w.batch, "sequences in the batch");
  app.add_option("--prefill-range", range, "prompt lengths LO:HI (four per doubling)")->capture_default_str();
  examples::number_option(app, "--generate", w.generate, "generated tokens");
  app.add_option("--plot", plot, "draw TTFT and step time against prompt length to this SVG (or .png)");
  examples::format_option(app, format, {"table", "csv", "json"});
  examples::add_layout(app, w.parallel);
  std::string kv;
  app.add_option("--kv-format", kv,
                 "the KV cache's storage of the models that keep one: bf16, fp8 or nvfp4 (default: each "
                 "spec's); recurrent models keep their state's format");
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  try {
    examples::output_file plot_file(plot, "--plot");
    const auto colon = range.find(':');
    long long lo = 0, hi = 0;
    std::size_t a = 0, b = 0;
    try {
      lo = std::stoll(range.substr(0, colon), &a);
      hi = std::stoll(range.substr(colon + 1), &b);
    } catch (const std::exception&) {
      a = 0;
    }
    if (colon == std::string::npos || a != colon || b != range.size() - colon - 1 || lo < 1 || hi <= lo ||
        hi > roofline::max_tokens)
      throw roofline::input_error(
          fmt::format("--prefill-range: expected LO:HI with 1 <= LO < HI <= {} (2^40), got '{}'",
                      roofline::max_tokens, range));
    std::vector<roofline::model_spec> specs;
    for (const auto& p : model_paths) specs.push_back(examples::load_model_named(p, "--models"));
    if (!kv.empty()) {  // the models with a KV cache take it; at least one must have one
      bool any = false;
      for (auto& m : specs)
        if (const auto a = roofline::family(m);
            a != roofline::architecture::xlstm && a != roofline::architecture::ssm)
          roofline::set_kv_format(m, kv, "--kv-format"), any = true;
      if (!any) throw roofline::input_error("--kv-format: none of the models keeps a KV cache");
    }
    std::vector<const roofline::model_spec*> models;
    for (const auto& m : specs) models.push_back(&m);
    const auto hw = examples::load_hardware_named(hw_path, stack_path);
    const auto start = std::chrono::steady_clock::now();
    const auto c = roofline::compare(models, hw, w, roofline::prefill_grid(lo, hi),
                                     [&](std::size_t done, std::size_t n) {
                                       if (std::chrono::steady_clock::now() - start > std::chrono::seconds(1))
                                         std::fprintf(stderr, "\r%zu/%zu prompt lengths", done, n);
                                     });
    if (plot_file.wanted()) roofline::plot_comparison(c, plot_file.temp());
    plot_file.commit();
    const auto f = examples::report_format_of(format);
    std::cout << roofline::render(roofline::comparison_view{c}, f, examples::wide_option());
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
