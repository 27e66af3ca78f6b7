// calibrate --kernels: a kernel stack from a measured kernel table (examples/measure/kernels.py).
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli.hpp"
#include "roofline/fit/calibrate.hpp"
#include "roofline/report/report.hpp"

namespace examples {

/// Per kind and set (grid: in sample, held_out), the errors of `hw`'s predictions of the rows.
inline std::vector<roofline::error_cell> kernel_cells(const roofline::hardware& hw,
                                                      std::span<const roofline::kernel_row> rows,
                                                      const std::string& set) {
  std::map<std::string, std::vector<double>> ape;
  for (const roofline::kernel_row& r : rows)
    if (r.set == set && r.measured_s)
      ape[fmt::format("{} {}", name(r.shape.kind), name(r.shape.format))].push_back(
          100 *
          std::abs(roofline::predict_kernel(r.shape, hw, hw.timing.overlap).seconds / *r.measured_s - 1));
  std::vector<roofline::error_cell> cells;
  for (const auto& [kernel, v] : ape) cells.push_back(roofline::summarise(kernel, "kernel", v));
  return cells;
}

/// Fits the analytic model of `stack_path` on `hw_path` to the table's grid (fit_kernel_timing),
/// attaches the table (named relative to the output stack's folder, as is the part), measures the
/// held-out spread of each kind, writes the stack and prints the errors in and out of the grid.
/// Another part's kernel table (its CSV and part) that the fitted stack predicts moved there.
struct moved_table {
  std::string csv, hw_path;  ///< both empty: none
};

inline int calibrate_kernels(const std::string& csv, const std::string& hw_path,
                             const std::string& stack_path, const std::string& out_path,
                             const std::string& stack_name, const std::string& describes,
                             const roofline::fit_options& options, roofline::report_format f,
                             const moved_table& moved = {}) {
  namespace fs = std::filesystem;
  try {
    output_file out_file(out_path, "--out");
    const roofline::part part = roofline::load_part(roofline::find_part(hw_path, examples::data_dir()));
    const auto rows = roofline::load_kernel_rows(csv);
    const std::optional<roofline::part> moved_part =  // read before the fit: bad input stops it
        moved.csv.empty()
            ? std::nullopt
            : std::optional(roofline::load_part(roofline::find_part(moved.hw_path, examples::data_dir())));
    const auto moved_rows =
        moved.csv.empty() ? std::vector<roofline::kernel_row>{} : roofline::load_kernel_rows(moved.csv);
    auto table = std::make_shared<roofline::kernel_table>();
    table->grids = roofline::kernel_grids(rows, csv);  // the table's errors before the fit
    const fs::path out_dir = fs::absolute(out_path).parent_path();
    table->file = fs::relative(fs::absolute(csv), out_dir).string();
    table->measured_file = fs::relative(fs::absolute(hw_path), out_dir).string();
    table->measured_on = part;
    const auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "fitting the analytic model to %zu kernels...\n", rows.size());
    const roofline::fit_report fit =
        roofline::fit_kernel_timing(roofline::drive(part, roofline::load_stack(stack_path)), rows, options);
    std::fprintf(stderr, "fit: cost %.4g -> %.4g in %d iterations (%s), %.1f s\n", fit.initial_cost,
                 fit.final_cost, fit.iterations, fit.converged ? "converged" : "not converged",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    roofline::hardware hw = fit.fitted;
    hw.timing.kernels = table;
    table->spread = roofline::kernel_spreads(hw, rows);
    const auto in_sample = kernel_cells(hw, rows, "grid"), held_out = kernel_cells(hw, rows, "held_out");
    const std::time_t now = std::time(nullptr);
    char date[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
    const fs::path env = fs::path(csv).replace_extension().string() + "_env.json";
    roofline::stack result{
        .name = stack_name.empty() ? fs::path(out_path).stem().string() : stack_name,
        .describes = describes.empty() ? fmt::format("kernel table {} with the analytic model fitted to it "
                                                     "by roofline calibrate --kernels on {}",
                                                     csv, date)
                                       : describes,
        .sources = {fmt::format("[1] {}: the measured kernels{}", csv,
                                fs::exists(env) ? fmt::format(" (environment: {})", env.string()) : "")},
        .fitted_on = roofline::stack_origin{part.name, part.compute_units, part.clock_mhz},
        .timing = hw.timing,
        .calibration = roofline::calibration_record{
            csv, date,
            fmt::format("roofline calibrate --kernels: the table's grid timed by interpolation; the analytic "
                        "model fitted to the grid (Huber({}) on log(predicted/measured), Ceres); errors per "
                        "kernel kind (architecture) in the grid (in_sample) and at the held-out shapes "
                        "(held_out); spread: measured / predicted at the held-out shapes, p10 and p90",
                        options.huber_delta),
            in_sample, held_out}};
    std::vector<roofline::error_cell> moved_cells;
    if (moved_part) {  // the stack moved to the other part, on that part's held-out shapes
      const roofline::hardware there = roofline::drive(*moved_part, result);
      table->spread_moved = roofline::kernel_spreads(there, moved_rows);
      table->moved_checked_on = moved_part->name;
      moved_cells = kernel_cells(there, moved_rows, "held_out");
      result.calibration->method +=
          fmt::format("; spread_moved: the same at the held-out shapes of {} ({}), the stack moved there",
                      moved.csv, moved_part->name);
    }
    out_file.write(roofline::stack_yaml(result));
    out_file.commit();
    const roofline::table_style style{.markdown = f == roofline::report_format::markdown,
                                      .wide = examples::wide_option()};
    const char* gap = style.markdown ? "" : "\n";
    if (f == roofline::report_format::json)
      std::cout << roofline::render(roofline::calibration_view{in_sample, held_out}, f);
    else
      std::cout
          << roofline::cells_view{in_sample, "in the table's grid (interpolated: exact up to noise)"}.table(
                 style)
          << gap << roofline::cells_view{held_out, "held-out shapes (off the grid's points)"}.table(style)
          << (moved_cells.empty() ? "" : gap)
          << (moved_cells.empty()
                  ? ""
                  : roofline::cells_view{moved_cells,
                                         fmt::format("moved to {}: its held-out shapes", moved_part->name)}
                        .table(style));
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace examples
