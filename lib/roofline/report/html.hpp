/// report internals: one self-contained HTML page of a run (`roofline estimate|serve|best_deployment|
/// validate --report out.html`). The page holds the command line that made it, the report's
/// tables (its Markdown form, turned into HTML by cmark-gfm with the GitHub table extension), its
/// charts (gnuplot's SVG with its own script: hovering a point shows that op's, deployment's or
/// run's numbers), the assumptions the numbers rest on, and the report's JSON for tools. It loads
/// nothing from elsewhere (no font, style sheet or script), so it opens offline and can be mailed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "roofline/spec/hardware.hpp"
#include "roofline/spec/model_spec.hpp"

namespace roofline {

/// A chart of the page: its SVG document as gnuplot wrote it, and a caption saying what it shows.
struct html_chart {
  std::string caption;
  std::string svg;
};

/// What a page shows, in its order.
struct html_page {
  std::string title{};                     ///< the heading: what ran on what
  std::string command{};                   ///< the command line that made it
  std::string markdown{};                  ///< the report's tables (a view's Markdown)
  std::vector<html_chart> charts{};        ///< empty: no chart (`no_charts` says why)
  std::string no_charts{};                 ///< shown where there is no chart
  std::vector<std::string> assumptions{};  ///< sentences (Markdown), one a bullet
  std::string json{};                      ///< the report's JSON text; empty: none embedded
};

/// The page's HTML text: UTF-8, every chart in an iframe of its own (gnuplot's script and ids stay
/// apart per chart), the JSON in <script type="application/json" id="report-json">.
std::string html_text(const html_page& p);

/// A chart drawn by `draw` (a plot function of plot.hpp, called with a temporary path ending in
/// .svg, removed afterwards).
html_chart html_chart_of(std::string caption, const std::function<void(const std::string&)>& draw);

/// The model an estimate is of, in words: its source and parameter counts.
std::string model_assumption(const model_spec& m);

/// The assumptions every estimate on `hw` rests on, in words: the part's datasheet sources, the
/// stack (what it is, how it relates to the part, what it was fitted on), the overlap policy
/// (`policy`; none: the stack's) and what is counted rather than measured.
std::vector<std::string> hardware_assumptions(const hardware& hw, std::optional<overlap> policy);

/// An estimate's: model_assumption, then hardware_assumptions.
std::vector<std::string> estimate_assumptions(const model_spec& m, const hardware& hw,
                                              std::optional<overlap> policy);

/// The serving engine's scheduler as the stack states it (or the defaults, saying so): policy,
/// slots, token budget, KV pages and pool, overheads.
std::vector<std::string> serving_assumptions(const hardware& hw);

}  // namespace roofline
