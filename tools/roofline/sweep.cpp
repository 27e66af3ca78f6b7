// sweep: estimates over a grid of batches, prompts, generated lengths and layouts, at the speed
// of the batched evaluator (sweep.hpp); rows to CSV or JSON lines, or a summary of the run.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/io.hpp"
#include "roofline/report/report.hpp"
#include "roofline/sweep/sweep.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

}  // namespace

int commands::sweep(int argc, char** argv) {
  CLI::App app{
      "Estimates over a grid: every combination of the batches, prompts, generated lengths and layouts "
      "given, "
      "one row per point (CSV or JSON lines), or with --format json and no --out a summary of the run."};
  std::string model_path = examples::data_path("model_specs/xlstm_7b.yaml");
  std::string hw_path = examples::data_path("hw_profiles/h100_sxm.yaml");
  std::string stack_path = examples::data_path("stacks/datasheet.yaml");
  roofline::sweep_grid g{.batch = {1, 2, 4, 8, 16, 32, 64, 128, 256},
                         .prefill = {128, 1024, 8192},
                         .generate = {roofline::default_workload.generate}};
  std::vector<int> tps{1}, pps{1}, eps{1}, dps{1};
  int microbatches = 0;
  bool sequence_parallel = false;
  std::string overlap, format = "csv", out_path;
  int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  std::int64_t repeat = 1;
  app.add_option(
         "--model", model_path,
         "model: a spec YAML, a config.json or its folder, or a shipped model's name or HuggingFace id")
      ->capture_default_str();
  examples::hardware_options(app, hw_path, stack_path, "software stack");
  examples::range_option(app, "--batch", g.batch, "batches");
  examples::range_option(app, "--prefill", g.prefill, "prompt lengths");
  examples::range_option(app, "--generate", g.generate, "generated lengths");
  for (auto [flag, values, what] : {std::tuple{"--tp", &tps, "tensor-parallel degrees"},
                                    {"--pp", &pps, "pipeline stages"},
                                    {"--ep", &eps, "expert-parallel degrees"},
                                    {"--dp", &dps, "attention data-parallel ranks"}})
    examples::number_option(app, flag, *values, std::string(what) + ", comma-separated")
        ->delimiter(',')
        ->group("Several GPUs");
  app.add_option("--microbatches", microbatches,
                 "micro-batches of a pipelined prefill (default: as many as stages)")
      ->check(examples::positive_integer)
      ->group("Several GPUs");
  app.add_flag("--sequence-parallel", sequence_parallel, "reduce-scatter and all-gather around the norms")
      ->group("Several GPUs");
  app.add_option("--overlap", overlap, "compute/memory overlap policy; default: the stack's")
      ->check(CLI::IsMember({"perfect", "none", "smooth"}));
  examples::number_option(app, "--threads", threads, "worker threads");
  app.add_option("--repeat", repeat,
                 "evaluate the grid this many times (for timing; rows are written each time)")
      ->capture_default_str()
      ->check(examples::positive_integer);
  app.add_option("--format", format,
                 "rows as csv or JSON lines (json); json without --out: a summary of the run")
      ->capture_default_str()
      ->check(CLI::IsMember({"csv", "json"}));
  app.add_option("--out", out_path, "write the rows to this file (the summary then goes to standard error)");
  std::string kv;
  examples::kv_format_option(app, kv);
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;

  try {
    auto model = examples::load_model_named(model_path);
    examples::apply_kv_format(model, kv);
    const auto hw = examples::load_hardware_named(hw_path, stack_path);
    const std::optional<roofline::overlap> policy = examples::overlap_option(overlap);
    g.layouts.clear();
    for (int dp : dps)
      for (int ep : eps)
        for (int pp : pps)
          for (int tp : tps)
            g.layouts.push_back({.tp = tp,
                                 .pp = pp,
                                 .ep = ep,
                                 .dp = dp,
                                 .microbatches = microbatches,
                                 .sequence_parallel = sequence_parallel});
    const bool rows = !out_path.empty() || format == "csv";
    const auto f = format == "json" ? roofline::report_format::json : roofline::report_format::csv;
    roofline::sweep_engine engine(model, hw, policy);
    engine.check(g);                                    // every point, before a row is written
    examples::output_file out_file(out_path, "--out");  // rows go to a temporary file, renamed when whole
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(
        out_path.empty() ? nullptr : std::fopen(out_file.temp().c_str(), "wb"),
        [](std::FILE* fp) { return fp ? std::fclose(fp) : 0; });
    if (!out_path.empty() && !file)
      throw roofline::input_error(fmt::format("--out {}: cannot open it for writing", out_path));
    std::FILE* out = file ? file.get() : rows ? stdout : nullptr;
    // whole columns at a time, about 2^16 points (across repeats of a small grid): bounded
    // memory for grids of any size, the points in cache when summed or written
    const std::size_t nb = g.batch.size(), total = g.size() * std::size_t(repeat);
    const std::size_t slab = std::max<std::size_t>(1, (std::size_t(1) << 16) / nb) * nb;
    std::vector<roofline::estimate_point> points(std::min(slab, total));
    std::string text;
    roofline::sweep_summary s{.threads = threads, .made = {}, .policy = engine.policy()};
    double writing = 0;
    const bool progress = rows && out != stdout && isatty(2) && total >= (std::size_t(1) << 20);
    for (std::size_t first = 0; first < total; first += slab) {
      const std::span<roofline::estimate_point> span(points.data(), std::min(slab, total - first));
      const auto t0 = clock_type::now();
      engine.evaluate(g, first, span, threads);
      s.seconds += since(t0);
      for (const auto& p : span) {
        s.checksum_ttft_s += p.ttft_s;
        s.checksum_step_s += p.step_s;
      }
      s.estimates += span.size();
      if (rows) {
        const auto t1 = clock_type::now();
        text.clear();
        roofline::sweep_rows(text, g, first, span, f, true);
        if (std::fwrite(text.data(), 1, text.size(), out) != text.size())
          throw roofline::input_error(
              fmt::format("{}: writing failed", out_path.empty() ? "standard output" : out_path));
        writing += since(t1);
      }
      if (progress) {
        const int filled = int(40.0 * double(s.estimates) / double(total));
        std::fprintf(stderr, "\r[%s%s] %zu / %zu", std::string(std::size_t(filled), '#').c_str(),
                     std::string(std::size_t(40 - filled), ' ').c_str(), s.estimates, total);
      }
    }
    if (progress) std::fprintf(stderr, "\n");
    s.made = engine.made();
    if (file && std::fflush(file.get()) != 0)
      throw roofline::input_error(fmt::format("--out {}: writing failed", out_path));
    out_file.commit();
    if (!rows) {
      std::fputs(
          roofline::render(roofline::sweep_summary_view{model, hw, s}, roofline::report_format::json).c_str(),
          stdout);
    } else if (!out_path.empty()) {
      std::fputs(
          roofline::render(roofline::sweep_summary_view{model, hw, s}, roofline::report_format::json).c_str(),
          stderr);
      std::fprintf(stderr, "evaluating took %.3f s, writing the rows %.3f s: the sweep is bound by %s\n",
                   s.seconds, writing, writing > s.seconds ? "writing" : "evaluating");
    }
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
