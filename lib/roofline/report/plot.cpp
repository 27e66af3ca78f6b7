// plot: gnuplot scripts with inline data blocks, piped to gnuplot.
#include "roofline/report/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "roofline/base/error.hpp"
#include "roofline/report/text.hpp"

namespace roofline {
namespace {

// An SVG's <title> (gnuplot writes "Gnuplot"): the chart's caption, from the run that drew it, so
// that a document showing the chart can state what it shows from the chart itself (README's
// captions: tools/readme_images.py); a browser shows it as the chart's name.
void set_svg_title(const std::string& path, const std::string& caption) {
  std::string svg;
  {
    std::ifstream in(path, std::ios::binary);
    svg.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string gnuplot = "<title>Gnuplot</title>";
  const auto at = svg.find(gnuplot);
  if (at == std::string::npos) return;
  std::string text;
  for (char c : caption)
    text += c == '&'   ? std::string("&amp;")
            : c == '<' ? std::string("&lt;")
            : c == '>' ? std::string("&gt;")
                       : std::string(1, c);
  svg.replace(at, gnuplot.size(), "<title>" + text + "</title>");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!(out << svg) || !out.flush()) throw input_error(fmt::format("{}:1:1: writing failed", path));
}

// Runs a gnuplot script; the script writes its own output file, which must be writable first
// (gnuplot would otherwise draw to its standard output). Its messages go to standard error only
// when it fails. An SVG's title is set to `caption`.
void run_gnuplot(const std::string& script, const std::string& out, const std::string& caption) {
  {
    std::ofstream probe(out, std::ios::out | std::ios::trunc);
    if (!probe) throw input_error(fmt::format("{}:1:1: cannot write file", out));
  }
  if (out.find('\'') != std::string::npos)
    throw input_error(fmt::format("{}:1:1: a plot path cannot hold a quote", out));
  const std::string log =
      (std::filesystem::temp_directory_path() / fmt::format("roofline_gnuplot_{}.log", ::getpid())).string();
  FILE* p = popen(("gnuplot 2>'" + log + "'").c_str(), "w");
  if (!p) throw input_error(fmt::format("{}:1:1: cannot start gnuplot", out));
  std::fwrite(script.data(), 1, script.size(), p);
  const int status = pclose(p);
  std::string first;
  std::getline(std::ifstream(log) >> std::ws, first);
  std::filesystem::remove(log);
  if (status != 0)
    throw input_error(fmt::format("{}:1:1: gnuplot failed{} (is it installed? apt-get install gnuplot-nox)",
                                  out, first.empty() ? "" : ": " + first));
  if (!out.ends_with(".png")) set_svg_title(out, caption);
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

// An SVG carries gnuplot's script (mouse standalone): opened in a browser, hovering a point drawn
// `with labels hypertext` shows its text, a click on a legend entry hides its series. Where
// scripts do not run (an <img>, a PNG) the chart is the same, without the hover.
std::string terminal(const std::string& path, int width, int height) {
  return fmt::format("set terminal {} size {},{} noenhanced font 'sans,11'\nset output '{}'\n",
                     path.ends_with(".png") ? "pngcairo" : "svg dynamic mouse standalone", width, height,
                     path);
}

// The text a point shows on hover, as a quoted gnuplot string of a data block: lines joined by
// \n; quotes and backslashes, which would end the string or gnuplot's script call, dropped.
std::string hover_text(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\\n";
    for (char c : lines[i])
      if (c != '"' && c != '\'' && c != '\\') out += c;
  }
  return out + "\"";
}

// Milliseconds for people (detail::duration: "20.03 s", "1.25 ms", "830 us").
std::string ms_text(double ms) { return detail::duration(ms * 1e-3 * second); }

}  // namespace

void plot_comparison(const comparison& c, const std::string& path) {
  std::string g = terminal(path, 1400, 600);
  for (std::size_t j = 0; j < c.models.size(); ++j) {
    g += fmt::format("$m{} << EOD\n", j);
    for (std::size_t i = 0; i < c.grid.size(); ++i)
      g += fmt::format("{} {:.6g} {:.6g}\n", c.grid[i], c.results[i][j].ttft.value() * 1e3,
                       c.results[i][j].step_time.value() * 1e3);
    g += "EOD\n";
  }
  g += "set multiplot layout 1,2\nset logscale xy\nset grid\nset key left top\nset xlabel 'prompt length "
       "(tokens)'\n"
       "set ylabel 'time (ms)'\n";
  for (metric k : {metric::ttft, metric::step}) {
    g += fmt::format("set title '{} on {}, batch {}'\nunset label\n",
                     k == metric::ttft ? "time to first token" : "decode step", c.hw->name, c.work.batch);
    int n = 1;
    for (const crossover& x : c.crossovers)
      if (x.metric == k) {
        const double t = time_at(*c.models[x.faster], *c.hw, c.work, x.prefill, k) * 1e3;
        g += fmt::format("set label {} '{} < {} from {}' at {},{} point pt 6 ps 1.5 offset 1,-1 font ',9'\n",
                         n++, c.models[x.faster]->name, c.models[x.slower]->name, x.prefill, x.prefill, t);
      }
    g += "plot ";
    for (std::size_t j = 0; j < c.models.size(); ++j)
      g += fmt::format("$m{} using 1:{} with lines lw 2 lc {} title '{}'{}", j, k == metric::ttft ? 2 : 3,
                       colour(int(j)), c.models[j]->name, j + 1 < c.models.size() ? ", " : "\n");
  }
  g += "unset multiplot\n";
  std::string names;
  for (const model_spec* m : c.models) names += (names.empty() ? "" : ", ") + m->name;
  run_gnuplot(g, path,
              fmt::format("TTFT and decode step against prompt length on {} (stack {}), batch {}: {}",
                          c.hw->name, c.hw->stack, c.work.batch, names));
}

void plot_tp_breakdown(const std::vector<tp_point>& sweep, const std::string& title,
                       const std::string& path) {
  std::string g = terminal(path, 1400, 600);
  bool any = false;
  for (int ph = 0; ph < 2; ++ph) {
    g += fmt::format("$p{} << EOD\n", ph);
    for (const tp_point& t : sweep) {
      if (!t.result) continue;
      any = true;
      const phase_estimate& e = ph == 0 ? t.result->prefill : t.result->decode;
      const double k = ph == 0 ? 1 : 1e3;  // prefill in s, decode in ms
      g += fmt::format("\"tp {}{}\" {:.6g} {:.6g} {:.6g} {:.6g}\n", t.tp, t.result->fits ? "" : "*",
                       e.compute_bound_time.value() * k, e.memory_bound_time.value() * k,
                       e.overhead.value() * k, e.communication.value() * k);
    }
    g += "EOD\n";
  }
  if (!any)
    throw input_error(fmt::format("{}:1:1: no tensor-parallel degree of the sweep can run the model", path));
  g +=
      "set multiplot layout 1,2 title '" + title +
      " (* does not fit in memory)'\nset style data histograms\n"
      "set style histogram rowstacked\nset style fill solid 0.8 border -1\nset boxwidth 0.7\nset grid ytics\n"
      "set key outside bottom center horizontal\nset yrange [0:*]\n";
  for (int ph = 0; ph < 2; ++ph) {
    g += fmt::format("set title '{}'\nset ylabel '{}'\n", ph == 0 ? "time to first token" : "decode step",
                     ph == 0 ? "time (s)" : "time (ms)");
    g += fmt::format(
        "plot $p{0} using 2:xtic(1) title 'compute-bound' lc {1}, '' using 3 title 'memory-bound' lc {2}, "
        "'' using 4 title 'overheads' lc {3}, '' using 5 title 'communication' lc {4}\n",
        ph, colour(0), colour(1), colour(7), colour(3));
  }
  g += "unset multiplot\n";
  run_gnuplot(g, path, title);
}

void plot_roofline(const report& r, const std::string& path) {
  const hardware& hw = r.hw;
  const double bw = hw.bandwidth.value();
  std::string g = terminal(path, 1200, 800);
  // Ops with FLOPs and bytes: intensity (FLOP/B) and attained FLOP/s of one layer.
  const auto points = [&](const std::vector<op_row>& ops, const char* block) {
    g += fmt::format("${} << EOD\n", block);
    // an op within 0.15 decades (a factor 1.4) of a point already placed, in both coordinates,
    // joins its label ("qkv_proj, out_proj") instead of drawing its own: labels do not pile up
    // (hover: each op's numbers, one line an op)
    std::vector<std::tuple<double, double, std::string, std::vector<std::string>>> placed;
    for (const op_row& o : ops) {
      const double f = o.op.work.value(), b = o.op.moved.total().value(), t = o.time.total.value();
      if (!(f > 0 && b > 0 && t > 0)) continue;
      const std::string numbers =
          fmt::format("{}: {}, {}, {:.1f} FLOP/B, {} a layer ({}-bound), {}", o.op.name,
                      detail::si(f, "FLOP"), detail::si(b, "B"), f / b, detail::duration(o.time.total),
                      name(o.time.bound), detail::si(f / t, "FLOP/s"));
      const auto near = std::find_if(placed.begin(), placed.end(), [&](const auto& p) {
        return std::abs(std::log10(std::get<0>(p) * b / f)) < 0.15 &&
               std::abs(std::log10(std::get<1>(p) * t / f)) < 0.15;
      });
      if (near == placed.end()) {
        placed.emplace_back(f / b, f / t, std::string(o.op.name), std::vector{numbers});
        continue;
      }
      std::get<3>(*near).push_back(numbers);
      if (std::string& names = std::get<2>(*near);
          (", " + names + ",").find(", " + std::string(o.op.name) + ",") == std::string::npos)
        names += ", " + std::string(o.op.name);
    }
    for (const auto& [x, y, names, numbers] : placed)
      g += fmt::format("{:.6g} {:.6g} \"{}\" {}\n", x, y, names, hover_text(numbers));
    g += "EOD\n";
  };
  points(r.prefill_ops, "prefill");
  points(r.decode_ops, "decode");
  const std::string title =
      fmt::format("{} on {} (stack {}): batch {}, prefill {}, overlap {}", r.model.name, hw.name, hw.stack,
                  r.work.batch, r.work.prefill, name(r.result.overlap));
  g += "set title '" + title + "'\n";
  g += "min(a, b) = a < b ? a : b\nset samples 400\n";
  g += "set logscale xy\nset grid\nset key right bottom\nset xlabel 'arithmetic intensity (FLOP/B)'\n"
       "set ylabel 'attained (FLOP/s)'\nset xrange [0.1:100000]\nset format y '%.0e'\n";
  g += "plot ";
  int i = 0;
  std::map<double, std::string> ceilings;  // one line per distinct matrix peak, its dtypes named
  for (dtype d : all_dtypes)
    if (auto p = peak_of(hw.matrix, d))
      ceilings[p->value()] += (ceilings[p->value()].empty() ? "" : ", ") + std::string(name(d));
  for (const auto& [peak, dtypes] : ceilings)
    g += fmt::format("min(x * {:.6g}, {:.6g}) with lines lw 2 lc {} title 'matrix {} peak {:.4g} TFLOP/s', ",
                     bw, peak, colour(i++), dtypes, peak / 1e12);
  if (auto p = peak_of(hw.vector, dtype::fp32))
    g +=
        fmt::format("min(x * {:.6g}, {:.6g}) with lines lw 2 lc {} title 'vector fp32 peak {:.4g} TFLOP/s', ",
                    bw, p->value(), colour(i++), p->value() / 1e12);
  const class_timing& mt = hw.timing.of(op_class::matrix);
  if (auto p = peak_of(hw.matrix, default_compute(r.model)); p && (mt.compute < 1 || mt.memory < 1))
    g += fmt::format(
        "min(x * {:.6g}, {:.6g}) with lines dt 2 lc 'black' title 'matrix {} at stack {}: {:.0f}% of peak, "
        "{:.0f}% of bandwidth', ",
        bw * mt.memory, p->value() * mt.compute, name(default_compute(r.model)), hw.stack, 100 * mt.compute,
        100 * mt.memory);
  g += "$prefill using 1:2:4 with labels hypertext point pt 7 ps 1.2 lc rgb '#d62728' title 'prefill ops', "
       "$prefill using 1:2:3 with labels offset 0.8,0.6 left font ',8' tc rgb '#d62728' notitle, "
       "$decode using 1:2:4 with labels hypertext point pt 5 ps 1.2 lc rgb '#1f77b4' title 'decode ops', "
       "$decode using 1:2:3 with labels offset 0.8,-0.6 left font ',8' tc rgb '#1f77b4' notitle\n";
  run_gnuplot(g, path, "The roofline of " + title);
}

void plot_pareto(const std::vector<pareto_series>& series, const std::string& title,
                 const std::string& path) {
  std::string g = terminal(path, 1400, 600);
  const auto block = [&](const std::string& id, const std::vector<served_model>& ms) {
    g += fmt::format("${} << EOD\n", id);
    for (const served_model& m : ms)
      g += fmt::format("{:.6g} {:.6g} {:.6g}\n", m.inference.ttft.value() * 1e3,
                       m.inference.step_time.value() * 1e3, m.trained.loss);
    g += "EOD\n";
  };
  for (std::size_t i = 0; i < series.size(); ++i) {
    block(fmt::format("all{}", i), series[i].models);
    block(fmt::format("ttft{}", i),
          pareto_front(series[i].models, [](const served_model& m) { return m.inference.ttft.value(); }));
    block(fmt::format("step{}", i), pareto_front(series[i].models, [](const served_model& m) {
            return m.inference.step_time.value();
          }));
  }
  g += fmt::format(
      "set multiplot layout 1,2 title '{}'\nset logscale x\nset grid\nset key right top\nset ylabel 'loss'\n",
      title);
  for (int panel = 0; panel < 2; ++panel) {
    g += panel == 0 ? "set xlabel 'time to first token (ms)'\nplot " : "set xlabel 'decode step (ms)'\nplot ";
    for (std::size_t i = 0; i < series.size(); ++i)
      g += fmt::format(
          "$all{0} using {1}:3 with points pt 7 ps 0.5 lc {2} notitle, ${3}{0} using {1}:3 with lines lw 2 "
          "lc {2} "
          "title '{4}'{5}",
          i, panel + 1, colour(int(i)), panel == 0 ? "ttft" : "step", series[i].label,
          i + 1 < series.size() ? ", " : "\n");
  }
  g += "unset multiplot\n";
  run_gnuplot(g, path, title);
}

void plot_validation(std::span<const sample> samples, std::span<const prediction> predicted,
                     std::int64_t batch, const std::string& svg_path) {
  // Per model: scatter rows "measured predicted", and rows "prefill ttft_meas ttft_pred step_meas step_pred"
  std::map<std::string, std::string> scatter, lines;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const sample& s = samples[i];
    const std::string m = model_name(s.model_path);
    for (auto [meas, pred, what] : {std::tuple{s.ttft_s, predicted[i].ttft_s, "TTFT"},
                                    std::tuple{s.step_s, predicted[i].step_s, "decode step"}})
      if (!std::isnan(meas))
        scatter[m] += fmt::format(
            "{:.6g} {:.6g} {}\n", meas * 1e3, pred * 1e3,
            hover_text({fmt::format("{}, batch {}, prefill {}, generate {}", m, s.work.batch, s.work.prefill,
                                    s.work.generate),
                        fmt::format("{} measured {}, predicted {} ({:+.0f}%)", what, ms_text(meas * 1e3),
                                    ms_text(pred * 1e3), 100 * (pred / meas - 1))}));
    if (s.work.batch == batch)
      lines[m] += fmt::format(
          "{} {} {:.6g} {} {:.6g}\n", s.work.prefill,
          std::isnan(s.ttft_s) ? "NaN" : fmt::format("{:.6g}", s.ttft_s * 1e3), predicted[i].ttft_s * 1e3,
          std::isnan(s.step_s) ? "NaN" : fmt::format("{:.6g}", s.step_s * 1e3), predicted[i].step_s * 1e3);
  }
  std::string g = terminal(svg_path, 1800, 600);
  int k = 0;
  for (const auto& [m, rows] : scatter) g += fmt::format("$s{} << EOD\n{}EOD\n", k++, rows);
  k = 0;
  for (const auto& [m, rows] : lines) g += fmt::format("$l{} << EOD\n{}EOD\n", k++, rows);
  g += "set multiplot layout 1,3\nset logscale xy\nset grid\nset key left top font ',9'\n";
  g += "set title 'predicted against measured'\nset xlabel 'measured (ms)'\nset ylabel 'predicted "
       "(ms)'\nplot ";
  k = 0;
  for (const auto& entry : scatter) {
    g += fmt::format("$s{} using 1:2:3 with labels hypertext point pt 7 ps 0.4 lc {} title '{}', ", k,
                     colour(k), entry.first);
    ++k;
  }
  g += "x with lines lc 'black' dt 2 title 'y = x'\n";
  const auto panel = [&](const char* title, int meas, int pred) {
    g += fmt::format(
        "set title '{} at batch {}'\nset xlabel 'prefill length (tokens)'\nset ylabel 'time (ms)'\nplot ",
        title, batch);
    int j = 0;
    for (const auto& [m, rows] : lines) {
      const std::string lc = colour(int(std::distance(scatter.begin(), scatter.find(m))));
      g += fmt::format(
          "$l{0} using 1:{1} with points pt 7 ps 0.6 lc {3} notitle, $l{0} using 1:{2} with lines lc {3} "
          "title '{4}', ",
          j++, meas, pred, lc, m);
    }
    g.resize(g.size() - 2);
    g += "\n";
  };
  panel("time to first token", 2, 3);
  panel("decode step", 4, 5);
  g += "unset multiplot\n";
  std::string models;
  for (const auto& [m, rows] : scatter) models += (models.empty() ? "" : ", ") + m;
  run_gnuplot(
      g, svg_path,
      fmt::format("Predicted against measured time of {} runs ({}); TTFT and decode step against prefill "
                  "at batch {}",
                  samples.size(), models, batch));
}

void plot_serving_validation(const std::vector<engine_run>& runs, const std::vector<run_prediction>& pred,
                             const std::string& path) {
  std::set<std::string> engines;
  std::map<std::string, int> models;
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (pred[i].skip.empty())
      engines.insert(runs[i].engine), models.emplace(runs[i].model, int(models.size()));
  if (engines.empty()) throw input_error(path + ": no predicted run to draw");
  std::string g = terminal(path, 700 * int(engines.size()), 1300);
  // data blocks: one per engine, metric and model: "measured predicted"
  std::map<std::tuple<std::string, int, std::string>, std::string> rows;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!pred[i].skip.empty()) continue;
    const engine_run& r = runs[i];
    const std::string run = fmt::format("{} on {}, {} + {} tokens, concurrency {:g} (line {})", r.model,
                                        r.system, r.isl, r.osl, r.concurrency, r.line);
    rows[{r.engine, 0, r.model}] += fmt::format(
        "{:.6g} {:.6g} {}\n", r.ttft_ms, pred[i].ttft_ms,
        hover_text({run, fmt::format("TTFT measured {}, predicted {} ({:+.0f}%)", ms_text(r.ttft_ms),
                                     ms_text(pred[i].ttft_ms), 100 * (pred[i].ttft_ms / r.ttft_ms - 1))}));
    rows[{r.engine, 1, r.model}] += fmt::format(
        "{:.6g} {:.6g} {}\n", r.tpot_ms, pred[i].tpot_ms,
        hover_text({run, fmt::format("TPOT measured {}, predicted {} ({:+.0f}%)", ms_text(r.tpot_ms),
                                     ms_text(pred[i].tpot_ms), 100 * (pred[i].tpot_ms / r.tpot_ms - 1))}));
  }
  int k = 0;
  std::map<std::tuple<std::string, int, std::string>, int> block;
  for (const auto& [key, text] : rows) {
    g += fmt::format("$b{} << EOD\n{}EOD\n", k, text);
    block[key] = k++;
  }
  g += fmt::format("set multiplot layout 2,{}\nset logscale xy\nset grid\nset key left top font ',8'\n",
                   engines.size());
  for (int metric = 0; metric < 2; ++metric)
    for (const std::string& e : engines) {
      g += fmt::format("set title '{}: {}'\nset xlabel 'measured (ms)'\nset ylabel 'predicted (ms)'\nplot ",
                       e, metric ? "TPOT" : "TTFT");
      for (const auto& [key, b] : block)
        if (std::get<0>(key) == e && std::get<1>(key) == metric)
          g += fmt::format("$b{} using 1:2:3 with labels hypertext point pt 7 ps 0.4 lc {} title '{}', ", b,
                           colour(models[std::get<2>(key)]), model_name(std::get<2>(key)));
      g += "x with lines lc 'black' dt 2 title 'y = x', 1.3*x with lines lc 'gray' dt 3 title '±30%', "
           "x/1.3 with lines lc 'gray' dt 3 notitle\n";
    }
  g += "unset multiplot\n";
  std::string names;
  for (const std::string& e : engines) names += (names.empty() ? "" : ", ") + e;
  std::size_t drawn = 0;
  for (const run_prediction& p : pred) drawn += p.skip.empty();
  run_gnuplot(g, path,
              fmt::format("Predicted against measured TTFT and TPOT of {} serving runs ({})", drawn, names));
}

namespace {
// gnuplot's data block of a series: aggregated points, disaggregated points, the frontier with
// each point's concurrency, the best point with its label.
std::string frontier_data(const frontier_series& fs, int k) {
  std::string agg, dis, front, best;
  std::vector<const deployment_point*> f;
  for (const deployment_point& p : fs.points) {
    const serving_result& r = p.result;
    (p.work.disaggregated ? dis : agg) += fmt::format(
        "{:.6g} {:.6g} {}\n", r.tokens_per_s_user, r.tokens_per_s_gpu,
        hover_text({fmt::format("{} {}, {:g} in flight", p.work.disaggregated ? "disagg" : "agg",
                                detail::short_deployment(p.work), p.work.concurrency),
                    fmt::format("TTFT {}, TPOT {}", detail::duration(r.ttft), detail::duration(r.tpot)),
                    fmt::format("{:.4g} tokens/s a user, {:.4g} a GPU{}", r.tokens_per_s_user,
                                r.tokens_per_s_gpu, p.frontier ? " (on the frontier)" : "")}));
    if (p.frontier) f.push_back(&p);
  }
  std::sort(f.begin(), f.end(),
            [](auto* a, auto* b) { return a->result.tokens_per_s_user < b->result.tokens_per_s_user; });
  for (const deployment_point* p : f)
    front += fmt::format("{:.6g} {:.6g} \"{:g}\"\n", p->result.tokens_per_s_user, p->result.tokens_per_s_gpu,
                         p->work.concurrency);
  if (fs.best)
    best = fmt::format("{:.6g} {:.6g} \"best: {}, {:g} in flight\"\n", fs.best->result.tokens_per_s_user,
                       fs.best->result.tokens_per_s_gpu,
                       fmt::format("{} {}", fs.best->work.disaggregated ? "disagg" : "agg",
                                   detail::short_deployment(fs.best->work)),
                       fs.best->work.concurrency);
  const auto block = [&](const char* name, const std::string& rows, const char* none) {
    return fmt::format("${}{} << EOD\n{}EOD\n", name, k, rows.empty() ? none : rows);
  };
  return block("a", agg, "NaN NaN \"\"\n") + block("d", dis, "NaN NaN \"\"\n") +
         block("f", front, "NaN NaN \"\"\n") + block("b", best, "NaN NaN \"\"\n");
}
}  // namespace

void plot_frontier(const std::vector<frontier_series>& series, const std::string& title,
                   const std::string& path, const frontier_targets& targets) {
  std::string g = terminal(path, 1000, 700);
  for (std::size_t k = 0; k < series.size(); ++k) g += frontier_data(series[k], int(k));
  std::string target_text;
  if (targets.ttft_ms || targets.tpot_ms)
    target_text = fmt::format("\\ntargets: TTFT {}, TPOT {}",
                              targets.ttft_ms ? fmt::format("<= {:g} ms", *targets.ttft_ms) : "any",
                              targets.tpot_ms ? fmt::format("<= {:g} ms", *targets.tpot_ms) : "any");
  g += fmt::format(
      "set title \"{}{}\"\nset logscale x\nset grid\nset key right top font ',9'\n"
      "set xlabel 'tokens/s per user (1 / TPOT)'\nset ylabel 'output tokens/s per GPU'\n"
      "set offsets 0, 0, graph 0.1, 0\n",  // room above the highest point for its labels
      title, target_text);
  double lo = std::numeric_limits<double>::infinity(), hi = 0;  // the x range: every point and the target
  for (const frontier_series& fs : series)
    for (const deployment_point& p : fs.points)
      lo = std::min(lo, p.result.tokens_per_s_user), hi = std::max(hi, p.result.tokens_per_s_user);
  if (targets.tpot_ms) lo = std::min(lo, 1000 / *targets.tpot_ms), hi = std::max(hi, 1000 / *targets.tpot_ms);
  if (hi > 0) g += fmt::format("set xrange [{:.6g}:{:.6g}]\n", lo / 1.5, hi * 1.5);
  if (targets.tpot_ms)  // the TPOT target: deployments left of the line miss it
    g += fmt::format(
        "set arrow from {0:.6g}, graph 0 to {0:.6g}, graph 1 nohead dt 2 lw 1.5 lc rgb '#555555'\n"
        "set label 'TPOT <= {1:g} ms' at {0:.6g}, graph 0.04 offset 0.5,0 font ',9' tc rgb '#555555'\n",
        1000 / *targets.tpot_ms, *targets.tpot_ms);
  g += "plot ";
  for (std::size_t k = 0; k < series.size(); ++k)  // the frontiers and best points first
    g += fmt::format(
        "$f{0} using 1:2 with linespoints lw 2 pt 7 ps 0.6 lc {1} title '{2}: frontier (concurrency)', "
        "$f{0} using 1:2:3 with labels offset 0,0.8 font ',7' tc {1} notitle, "
        "$b{0} using 1:2 with points pt 3 ps 3 lw 2 lc {1} title '{2}: best within the targets', "
        "$b{0} using 1:2:3 with labels offset 0,-1.4 font ',8' tc {1} notitle, ",
        k, colour(int(k)), series[k].label);
  for (std::size_t k = 0; k < series.size(); ++k) {  // every deployment on top: nothing covers its hover
    bool agg = false, dis = false;
    for (const deployment_point& p : series[k].points) (p.work.disaggregated ? dis : agg) = true;
    // a set with no point drawn as plain points: gnuplot 5.4.4 crashes on hypertext labels that are all NaN
    for (const auto& [block, any, pt, ps, what] :
         {std::tuple{'a', agg, 7, 0.35, "aggregated"}, std::tuple{'d', dis, 9, 0.5, "disaggregated"}})
      g += fmt::format("${}{} using {} pt {} ps {} lc {} title '{}: {}', ", block, k,
                       any ? "1:2:3 with labels hypertext point" : "1:2 with points", pt, ps, colour(int(k)),
                       series[k].label, what);
  }
  g.resize(g.size() - 2);
  g += "\n";
  std::string labels;
  for (const frontier_series& fs : series) labels += (labels.empty() ? "" : ", ") + fs.label;
  run_gnuplot(g, path,
              "Deployments of " + labels + " on " + title +
                  (target_text.empty() ? "" : "; " + target_text.substr(2)));
}

void plot_timeline(const simulation_result& r, const std::string& title, const std::string& path) {
  if (r.timeline.empty())
    throw input_error(fmt::format("{}:1:1: no timeline was recorded (simulation_options::timeline)", path));
  std::string g = terminal(path, 1200, 900);
  g += "$t << EOD\n";
  // at most 2,000 points: longer timelines are thinned evenly (every k-th iteration drawn)
  const std::size_t step = std::max<std::size_t>(1, r.timeline.size() / 2000);
  for (std::size_t i = 0; i < r.timeline.size(); i += step) {
    const timeline_point& p = r.timeline[i];
    g += fmt::format("{:.9g} {:g} {:g} {:.6g} {:.6g} {:g} {:g}\n", p.start, p.running, p.waiting,
                     100 * p.kv_use, p.duration * 1e3, p.prefill_tokens, p.decode_tokens);
  }
  g += "EOD\n";
  g += fmt::format("set multiplot layout 3,1 title '{}'\nset grid\nset key outside right top\n", title);
  g += "set ylabel 'requests'\nplot $t using 1:2 with steps lw 1.5 lc " + colour(0) +
       " title 'running', '' using 1:3 with steps lw 1.5 lc " + colour(3) + " title 'waiting'\n";
  g += "set ylabel 'KV pool used (%)'\nset yrange [0:105]\nplot $t using 1:4 with steps lw 1.5 lc " +
       colour(1) + " title 'KV use'\nset yrange [*:*]\n";
  g += "set xlabel 'time (s)'\nset ylabel 'iteration (ms)'\nset y2label 'tokens'\nset y2tics\n"
       "plot $t using 1:5 with impulses lc " +
       colour(7) + " title 'iteration time', '' using 1:6 axes x1y2 with points pt 7 ps 0.3 lc " + colour(2) +
       " title 'prompt tokens', '' using 1:7 axes x1y2 with points pt 7 ps 0.3 lc " + colour(4) +
       " title 'decode tokens'\n";
  g += "unset multiplot\n";
  run_gnuplot(g, path, "Timeline of " + title);
}

}  // namespace roofline
