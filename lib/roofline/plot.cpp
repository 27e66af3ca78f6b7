// plot: gnuplot scripts with inline data blocks, piped to gnuplot.
#include "roofline/plot.hpp"

#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "roofline/error.hpp"

namespace roofline {
namespace {

// Runs a gnuplot script; the script writes its own output file.
void run_gnuplot(const std::string& script, const std::string& out) {
  FILE* p = popen("gnuplot 2>&1", "w");
  if (!p) throw input_error(fmt::format("{}: cannot start gnuplot", out));
  std::fwrite(script.data(), 1, script.size(), p);
  if (pclose(p) != 0)
    throw input_error(fmt::format("{}: gnuplot failed (is it installed? apt-get install gnuplot-nox)", out));
}

// Twelve distinguishable colours (a colour per model; they repeat after twelve).
std::string colour(int i) {
  static constexpr const char* c[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                      "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8"};
  return fmt::format("rgb '{}'", c[i % 12]);
}

std::string model_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  auto base = path.substr(slash == std::string::npos ? 0 : slash + 1);
  if (base.size() > 5 && base.ends_with(".yaml")) base.resize(base.size() - 5);
  return base;
}

}  // namespace

void plot_validation(std::span<const sample> samples, std::span<const prediction> predicted, std::int64_t batch,
                     const std::string& svg_path) {
  // Per model: scatter rows "measured predicted", and rows "prefill ttft_meas ttft_pred step_meas step_pred"
  std::map<std::string, std::string> scatter, lines;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const sample& s = samples[i];
    const std::string m = model_name(s.model_path);
    for (auto [meas, pred] : {std::pair{s.ttft_s, predicted[i].ttft_s}, std::pair{s.step_s, predicted[i].step_s}})
      if (!std::isnan(meas)) scatter[m] += fmt::format("{:.6g} {:.6g}\n", meas * 1e3, pred * 1e3);
    if (s.work.batch == batch)
      lines[m] += fmt::format("{} {} {:.6g} {} {:.6g}\n", s.work.prefill,
                              std::isnan(s.ttft_s) ? "NaN" : fmt::format("{:.6g}", s.ttft_s * 1e3), predicted[i].ttft_s * 1e3,
                              std::isnan(s.step_s) ? "NaN" : fmt::format("{:.6g}", s.step_s * 1e3), predicted[i].step_s * 1e3);
  }
  const bool png = svg_path.ends_with(".png");
  std::string g = fmt::format("set terminal {} size 1800,600 noenhanced font 'sans,11'\nset output '{}'\n",
                              png ? "pngcairo" : "svg dynamic", svg_path);
  int k = 0;
  for (const auto& [m, rows] : scatter) g += fmt::format("$s{} << EOD\n{}EOD\n", k++, rows);
  k = 0;
  for (const auto& [m, rows] : lines) g += fmt::format("$l{} << EOD\n{}EOD\n", k++, rows);
  g += "set multiplot layout 1,3\nset logscale xy\nset grid\nset key left top font ',9'\n";
  g += "set title 'predicted against measured'\nset xlabel 'measured (ms)'\nset ylabel 'predicted (ms)'\nplot ";
  k = 0;
  for (const auto& entry : scatter) {
    g += fmt::format("$s{} using 1:2 with points pt 7 ps 0.4 lc {} title '{}', ", k, colour(k), entry.first);
    ++k;
  }
  g += "x with lines lc 'black' dt 2 title 'y = x'\n";
  const auto panel = [&](const char* title, int meas, int pred) {
    g += fmt::format("set title '{} at batch {}'\nset xlabel 'prefill length (tokens)'\nset ylabel 'time (ms)'\nplot ", title,
                     batch);
    int j = 0;
    for (const auto& [m, rows] : lines) {
      const std::string lc = colour(int(std::distance(scatter.begin(), scatter.find(m))));
      g += fmt::format("$l{0} using 1:{1} with points pt 7 ps 0.6 lc {3} notitle, $l{0} using 1:{2} with lines lc {3} title '{4}', ",
                       j++, meas, pred, lc, m);
    }
    g.resize(g.size() - 2);
    g += "\n";
  };
  panel("time to first token", 2, 3);
  panel("decode step", 4, 5);
  g += "unset multiplot\n";
  run_gnuplot(g, svg_path);
}

}  // namespace roofline
