// kernel: the predicted time of each kernel of a CSV of shapes, from a stack's kernel table or the
// analytic model, with its interval, and the errors where the CSV holds measured times.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/io.hpp"
#include "roofline/report/report.hpp"

int commands::kernel(int argc, char** argv) {
  CLI::App app{
      "Predicted time of single kernels (GEMMs, grouped GEMMs, prefill and decode attention, norms, copies) "
      "by shape, from the stack's measured kernel table where it has one (interpolated; moved to other "
      "shapes and parts by the analytic model), else from the analytic model."};
  std::string hw_path = examples::data_path("hw_profiles/h100_sxm.yaml");
  std::string stack_path = examples::data_path("stacks/datasheet.yaml");
  std::string ops, overlap, format = "table";
  examples::hardware_options(app, hw_path, stack_path);
  app.add_option("--ops", ops,
                 "CSV of kernel shapes: kind,format,m,n,k,batch,q_len,kv_len,heads,kv_heads,head_dim,experts,"
                 "tokens_per_expert,bytes (unused columns empty; optional measured_s and set)")
      ->required();
  app.add_option("--overlap", overlap, "compute/memory overlap policy; default: the profile's")
      ->check(CLI::IsMember({"perfect", "none", "smooth"}));
  examples::format_option(app, format, {"table", "json", "csv"});
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  try {
    const auto rows = roofline::load_kernel_rows(ops);
    const auto hw = examples::load_hardware_named(hw_path, stack_path);
    const roofline::overlap policy = examples::overlap_option(overlap).value_or(hw.timing.overlap);
    std::vector<roofline::kernel_prediction> predicted;
    for (const roofline::kernel_row& r : rows)
      predicted.push_back(roofline::predict_kernel(r.shape, hw, policy));
    const auto f = examples::report_format_of(format);
    std::cout << roofline::render(roofline::kernel_view{hw, rows, predicted}, f, examples::wide_option());
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
