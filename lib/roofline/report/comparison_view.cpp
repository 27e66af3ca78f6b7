// report: the view of a comparison of models across prompt lengths (report.hpp).
#include <fmt/format.h>

#include "roofline/report/report.hpp"
#include "roofline/report/table.hpp"
#include "roofline/report/text.hpp"

namespace roofline {

using detail::duration;

nlohmann::json comparison_view::json() const {
  nlohmann::json names = nlohmann::json::array(), points = nlohmann::json::array(),
                 cross = nlohmann::json::array();
  for (const model_spec* m : c.models) names.push_back(m->name);
  for (std::size_t i = 0; i < c.grid.size(); ++i) {
    nlohmann::json ms = nlohmann::json::array();
    for (std::size_t j = 0; j < c.models.size(); ++j)
      ms.push_back({{"name", c.models[j]->name},
                    {"ttft_s", c.results[i][j].ttft.value()},
                    {"step_time_s", c.results[i][j].step_time.value()},
                    {"fits", c.results[i][j].fits}});
    points.push_back({{"prefill", c.grid[i]}, {"models", ms}});
  }
  for (const crossover& x : c.crossovers)
    cross.push_back({{"metric", name(x.metric)},
                     {"faster", c.models[x.faster]->name},
                     {"slower", c.models[x.slower]->name},
                     {"prefill", x.prefill}});
  return {{"hardware", c.hw->name},      {"stack", c.hw->stack}, {"batch", c.work.batch},
          {"generate", c.work.generate}, {"models", names},      {"points", points},
          {"crossovers", cross}};
}

std::string comparison_view::csv() const {
  std::string out = "prefill,model,ttft_s,step_time_s,fits\n";
  for (std::size_t i = 0; i < c.grid.size(); ++i)
    for (std::size_t j = 0; j < c.models.size(); ++j)
      fmt::format_to(std::back_inserter(out), "{},{},{:.6g},{:.6g},{}\n", c.grid[i], c.models[j]->name,
                     c.results[i][j].ttft.value(), c.results[i][j].step_time.value(), c.results[i][j].fits);
  return out;
}

std::string comparison_view::table(const table_style& style) const {
  std::string out = detail::text_line(
      fmt::format("{}{} at batch {}, {} generated tokens; TTFT / decode step (* does not fit in memory)",
                  c.hw->name, c.hw->stack.empty() ? "" : ", stack " + c.hw->stack, c.work.batch,
                  c.work.generate),
      style);
  std::vector<detail::text_table::column> columns{{"prefill"}};
  for (const model_spec* m : c.models) columns.push_back({m->name});
  detail::text_table t(std::move(columns));
  for (std::size_t i = 0; i < c.grid.size(); ++i) {
    std::vector<std::string> cells{fmt::format("{}", c.grid[i])};
    for (const estimate_result& r : c.results[i])
      cells.push_back(fmt::format("{}{} / {}", r.fits ? "" : "*", duration(r.ttft), duration(r.step_time)));
    t.row(std::move(cells));
  }
  out += t.render(style);
  std::string lead;
  for (metric k : {metric::ttft, metric::step}) {  // who leads where the range starts
    std::size_t best = 0;
    for (std::size_t j = 1; j < c.models.size(); ++j)
      if ((k == metric::ttft ? c.results[0][j].ttft < c.results[0][best].ttft
                             : c.results[0][j].step_time < c.results[0][best].step_time))
        best = j;
    lead += fmt::format("at {} tokens the fastest {} is {}\n", c.grid[0], name(k), c.models[best]->name);
  }
  if (!style.markdown) out += '\n';
  out += detail::text_line(lead, style);
  if (c.crossovers.empty()) return out + detail::text_line("no crossovers in this range", style);
  out += detail::text_line("crossovers", style, true);
  detail::text_table x({{"metric", true}, {"faster", true}, {"slower", true}, {"from a prompt of"}});
  for (const crossover& k : c.crossovers)
    x.row({std::string(name(k.metric)), c.models[k.faster]->name, c.models[k.slower]->name,
           fmt::format("{} tokens", k.prefill)});
  return out + x.render(style);
}

}  // namespace roofline
