// validate: predicts every measured point with a profile and reports the errors per
// architecture and phase.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/plot.hpp"
#include "roofline/report.hpp"
#include "samples.hpp"

int commands::validate(int argc, char** argv) {
  CLI::App app{"Predict measured TTFT and step times with a hardware profile and report the errors."};
  std::string hw_path, csv, predictions_out, format = "table", root = examples::data_dir();
  app.add_option("--hw", hw_path, "part (hardware profile) YAML")->required();
  std::string stack_path = examples::data_path("stacks/datasheet.yaml");
  app.add_option("--stack", stack_path, "software stack YAML: the timing of the part (default: achievable datasheet fractions)")->capture_default_str();
  app.add_option("--measurements", csv, "measurement CSV (model paths relative to --root)")->required();
  app.add_option("--predictions", predictions_out, "write measured and predicted times to this CSV");
  std::string plot_out;
  std::int64_t plot_batch = 1;
  app.add_option("--plot", plot_out, "draw predicted against measured, and time against prefill, to this SVG");
  app.add_option("--plot-batch", plot_batch, "batch of the time-against-prefill panels")->capture_default_str();
  app.add_option("--root", root, "directory the model paths are relative to")->capture_default_str();
  app.add_option("--format", format, "output format")->capture_default_str()->check(CLI::IsMember({"table", "json"}));
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  try {
    std::map<std::string, roofline::model_spec> specs;
    const auto hw = roofline::load_hardware(hw_path, stack_path);
    const auto samples = examples::load_samples(csv, root, specs);
    const auto predicted = roofline::predict(hw, samples);
    const auto cells = roofline::error_cells(samples, predicted);
    if (!predictions_out.empty()) {
      std::ofstream out(predictions_out);
      if (!(out << roofline::predictions_csv(samples, predicted)))
        throw roofline::input_error(predictions_out + ": cannot write file");
    }
    if (!plot_out.empty()) roofline::plot_validation(samples, predicted, plot_batch, plot_out);
    std::cout << roofline::render_cells(cells, format == "json" ? roofline::report_format::json : roofline::report_format::table,
                                        fmt::format("{}, stack {} ({}), on {} ({} points)", hw.name, hw.stack, hw.stack_note, csv, samples.size()));
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
