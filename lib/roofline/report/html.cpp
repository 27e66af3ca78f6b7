// html: a run's report as one self-contained page; Markdown to HTML by cmark-gfm.
#include "roofline/report/html.hpp"

#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <fmt/format.h>

#include "roofline/base/error.hpp"
#include "roofline/graph/graph.hpp"
#include "roofline/report/text.hpp"

namespace roofline {
namespace {

// Text for HTML: the five characters with a meaning there escaped (element content and quoted
// attributes both).
std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  return out;
}

// GitHub-flavoured Markdown (pipe tables) to HTML; raw HTML in the text is not passed through
// (cmark-gfm's default, safe mode).
std::string markdown_html(const std::string& md) {
  cmark_gfm_core_extensions_ensure_registered();
  const std::unique_ptr<cmark_parser, decltype(&cmark_parser_free)> parser(
      cmark_parser_new(CMARK_OPT_DEFAULT), cmark_parser_free);
  if (cmark_syntax_extension* table = cmark_find_syntax_extension("table"))
    cmark_parser_attach_syntax_extension(parser.get(), table);
  cmark_parser_feed(parser.get(), md.data(), md.size());
  const std::unique_ptr<cmark_node, decltype(&cmark_node_free)> doc(cmark_parser_finish(parser.get()),
                                                                    cmark_node_free);
  char* html =
      cmark_render_html(doc.get(), CMARK_OPT_DEFAULT, cmark_parser_get_syntax_extensions(parser.get()));
  std::string out = html ? html : "";
  std::free(html);
  return out;
}

// The width over the height of an SVG from its viewBox ("0 0 W H"); 16/10 when it states none.
std::string aspect_ratio(const std::string& svg) {
  const auto at = svg.find("viewBox=\"");
  double x = 0, y = 0, w = 0, h = 0;
  if (at != std::string::npos) std::istringstream(svg.substr(at + 9, 80)) >> x >> y >> w >> h;
  return w > 0 && h > 0 ? fmt::format("{:g} / {:g}", w, h) : "16 / 10";
}

// A chart in an iframe of its own: the SVG inline in a small HTML document (srcdoc), so that
// gnuplot's script and element ids stay apart from another chart's.
std::string chart_html(const html_chart& c, std::size_t i) {
  const auto start = c.svg.find("<svg");
  const std::string svg = start == std::string::npos ? c.svg : c.svg.substr(start);
  const std::string doc =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>html,body{margin:0}svg{display:block;"
      "width:100%;height:100%}</style></head><body>" +
      svg + "</body></html>";
  return fmt::format(
      "<figure id=\"chart-{0}\">\n<iframe class=\"chart\" title=\"{1}\" style=\"aspect-ratio: {2}\" "
      "srcdoc=\"{3}\"></iframe>\n<figcaption>{1}</figcaption>\n</figure>\n",
      i + 1, escape(c.caption), aspect_ratio(svg), escape(doc));
}

constexpr const char* style = R"(body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;
max-width:1500px;padding:1rem 2rem;color:#1b1b1b;line-height:1.4}
h1{font-size:1.5rem;margin-bottom:.3rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;margin-top:2rem}
h3{font-size:1rem;margin-top:1.5rem}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85rem}
.command{background:#f4f4f4;padding:.5rem .8rem;border-radius:4px;overflow-x:auto;white-space:pre-wrap}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
th,td{border:1px solid #d0d0d0;padding:.2rem .5rem}th{background:#f0f0f0}
thead:not(:has(th:not(:empty))){display:none}
tbody tr:nth-child(even){background:#fafafa}
figure{margin:1rem 0}iframe.chart{width:100%;border:1px solid #ddd;display:block}
figcaption{font-size:.9rem;color:#444;margin-top:.3rem}
footer{margin-top:2rem;font-size:.8rem;color:#666})";

}  // namespace

std::string html_text(const html_page& p) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{0}</title>\n"
      "<style>\n{1}\n</style>\n</head>\n<body>\n<header>\n<h1>{0}</h1>\n<pre class=\"command\"><code>{2}"
      "</code></pre>\n</header>\n<main>\n<section id=\"report\">\n<h2>Report</h2>\n{3}</section>\n"
      "<section id=\"charts\">\n<h2>Charts</h2>\n",
      escape(p.title), style, escape(p.command), markdown_html(p.markdown));
  if (p.charts.empty()) out += "<p>" + escape(p.no_charts) + "</p>\n";
  for (std::size_t i = 0; i < p.charts.size(); ++i) out += chart_html(p.charts[i], i);
  out += "</section>\n<section id=\"assumptions\">\n<h2>Assumptions</h2>\n";
  std::string list;
  for (const std::string& a : p.assumptions) list += "- " + a + "\n";
  out += markdown_html(list) + "</section>\n</main>\n";
  if (!p.json.empty()) {
    // "</" would end the script element early: written "<\/", the same JSON string
    std::string json;
    std::size_t from = 0;
    for (auto at = p.json.find("</"); at != std::string::npos; from = at + 1, at = p.json.find("</", from)) {
      json.append(p.json, from, at + 1 - from);
      json += '\\';
    }
    json.append(p.json, from);
    out += "<script type=\"application/json\" id=\"report-json\">\n" + json + "</script>\n";
  }
  out += "<footer>Made by roofline " ROOFLINE_VERSION
         ". Hover a chart's points for their numbers; click a legend entry to hide its series. The report's "
         "JSON is in the page (the script element report-json).</footer>\n</body>\n</html>\n";
  return out;
}

html_chart html_chart_of(std::string caption, const std::function<void(const std::string&)>& draw) {
  static std::atomic<int> charts{0};  // a path of its own for each chart of the process
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / fmt::format("roofline_chart_{}_{}.svg", ::getpid(), charts++);
  struct remove_at_end {
    const std::filesystem::path& p;
    ~remove_at_end() {
      std::error_code ec;
      std::filesystem::remove(p, ec);
    }
  } guard{path};
  draw(path.string());
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find("<svg") == std::string::npos)
    throw input_error(fmt::format("{}:1:1: the chart was not drawn as SVG", path.string()));
  return {std::move(caption), text.str()};
}

std::string model_assumption(const model_spec& m) {
  return fmt::format("Model {}{}: {} parameters, {} active a token; read from `{}`.", m.name,
                     m.hf_names.empty() ? "" : " (" + m.hf_names.front() + ")",
                     detail::count_text(parameters(m)), detail::count_text(active_parameters(m)),
                     m.file.empty() ? "built in code" : m.file);
}

std::vector<std::string> estimate_assumptions(const model_spec& m, const hardware& hw,
                                              std::optional<overlap> policy) {
  std::vector<std::string> a = hardware_assumptions(hw, policy);
  a.insert(a.begin(), model_assumption(m));
  return a;
}

std::vector<std::string> hardware_assumptions(const hardware& hw, std::optional<overlap> policy) {
  std::vector<std::string> a;
  std::string sources;
  for (const std::string& s : hw.sources) sources += (sources.empty() ? "" : "; ") + s;
  a.push_back(fmt::format("Part {}: its datasheet numbers (peaks, {} of memory, {}/s), from {}.", hw.name,
                          detail::si(hw.capacity.value(), "B"), detail::si(hw.bandwidth.value(), "B"),
                          sources.empty() ? "no source stated" : sources));
  a.push_back(fmt::format("Stack {} ({}){}.{}", hw.stack.empty() ? "(built in code)" : hw.stack,
                          hw.stack_note, hw.stack_describes.empty() ? "" : ": " + hw.stack_describes,
                          hw.calibration ? fmt::format(" Fitted on {} ({}): {}.", hw.calibration->dataset,
                                                       hw.calibration->date, hw.calibration->method)
                                         : " Not fitted to measurements."));
  const overlap o = policy.value_or(hw.timing.overlap);
  a.push_back(fmt::format(
      "Overlap {}{}: each op's time is {} of its compute time (FLOPs over the peak of its class and format, "
      "times the stack's efficiency) and its memory time (bytes over the bandwidth, times the stack's "
      "efficiency), plus the stack's overheads.",
      name(o), policy ? " (asked for)" : " (the stack's)",
      o == overlap::perfect ? "the larger"
      : o == overlap::none  ? "the sum"
                            : fmt::format("the {:g}-norm", hw.timing.smooth_exponent)));
  a.push_back(
      "Counted, not measured: FLOPs and bytes of every op come from the model's shapes (weights read once a "
      "pass, the KV cache and recurrent state read and written as the pass needs them); a prefill is the "
      "whole prompt of the batch in one pass, a decode step one token of each sequence at the mean "
      "context.");
  return a;
}

std::vector<std::string> serving_assumptions(const hardware& hw) {
  const serving_params& s = hw.timing.serving;
  std::vector<std::string> a;
  a.push_back(fmt::format(
      "Scheduler {} ({}): at most {:g} running requests a rank, {:g} tokens an iteration, prompts {}; KV "
      "pages of {:g} tokens in {:g}% of each GPU's memory less the weights and activations, {}.",
      name(s.policy), s.stated ? "as the stack states it" : "not stated by the stack: the defaults",
      s.max_batch, s.max_batch_tokens, s.chunked_prefill ? "chunked by what the budget leaves" : "run whole",
      s.block_tokens, 100 * s.memory_fraction,
      s.reserve_final_length ? "a request admitted with the pages of its final length reserved"
                             : "pages allocated as requests grow"));
  a.push_back(fmt::format(
      "Overheads: {} an iteration beyond the forward pass (scheduling, sampling, output), {} added to each "
      "TTFT (the HTTP hop, tokenization).",
      detail::duration(s.iteration_overhead), detail::duration(s.request_overhead)));
  return a;
}

}  // namespace roofline
