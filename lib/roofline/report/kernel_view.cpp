// report: the view of kernels timed one by one (report.hpp's kernel_view).
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "roofline/report/report.hpp"
#include "roofline/report/table.hpp"

namespace roofline {
namespace {

// A shape's columns as the kernel CSV writes them: the kind's own, the others empty.
std::string shape_fields(const kernel_shape& s) {
  const auto v = [](double x) { return x > 0 ? fmt::format("{}", x) : std::string(); };
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{}", name(s.kind), name(s.format), v(s.m),
                     v(s.n), v(s.k), v(s.batch), v(s.q_len), v(s.kv_len), v(s.heads), v(s.kv_heads),
                     v(s.head_dim), v(s.experts), v(s.tokens_per_expert), v(s.bytes));
}

// The same shape in words: "m 64 n 4096 k 4096".
std::string shape_words(const kernel_shape& s) {
  switch (s.kind) {
    case kernel_kind::gemm:
      return fmt::format("m {} n {} k {}", s.m, s.n, s.k);
    case kernel_kind::grouped_gemm:
      return fmt::format("{} x m {} n {} k {}", s.experts, s.tokens_per_expert, s.n, s.k);
    case kernel_kind::attention_prefill:
      return fmt::format("b {} q {} kv {} h {}/{} d {}", s.batch, s.q_len, s.kv_len, s.heads, s.kv_heads,
                         s.head_dim);
    case kernel_kind::attention_decode:
      return fmt::format("b {} kv {} h {}/{} d {}", s.batch, s.kv_len, s.heads, s.kv_heads, s.head_dim);
    default:
      return fmt::format("{} B", s.bytes);
  }
}

std::string number(double x) { return std::isnan(x) ? std::string() : fmt::format("{:.6g}", x); }

// Per kind and set: the absolute errors (percent) and how many measured times lie in the interval.
struct error_summary {
  std::vector<double> errors;
  int inside = 0, with_interval = 0;
};
using summaries = std::map<std::pair<std::string, std::string>, error_summary>;

summaries summarise(const kernel_view& v) {
  summaries out;
  for (std::size_t i = 0; i < v.rows.size(); ++i) {
    const kernel_row& r = v.rows[i];
    if (!r.measured_s) continue;
    const kernel_prediction& p = v.predicted[i];
    error_summary& e =
        out[{std::string(name(r.shape.kind)) + " " + std::string(name(r.shape.format)), r.set}];
    e.errors.push_back(100 * std::abs(p.seconds / *r.measured_s - 1));
    if (!std::isnan(p.lo)) ++e.with_interval, e.inside += *r.measured_s >= p.lo && *r.measured_s <= p.hi;
  }
  return out;
}

}  // namespace

std::string kernel_view::csv() const {
  std::string out =
      "kind,format,m,n,k,batch,q_len,kv_len,heads,kv_heads,head_dim,experts,tokens_per_expert,bytes,set,"
      "measured_s,predicted_s,lo_s,hi_s,timed_by,bound\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const kernel_prediction& p = predicted[i];
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{}\n", shape_fields(rows[i].shape),
                   rows[i].set, rows[i].measured_s ? number(*rows[i].measured_s) : "", number(p.seconds),
                   number(p.lo), number(p.hi), name(p.by), name(p.bound));
  }
  return out;
}

nlohmann::json kernel_view::json() const {
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const kernel_prediction& p = predicted[i];
    const kernel_row& r = rows[i];
    nlohmann::json j{{"kind", name(r.shape.kind)},    {"format", name(r.shape.format)},
                     {"shape", shape_words(r.shape)}, {"predicted_s", p.seconds},
                     {"timed_by", name(p.by)},        {"bound", name(p.bound)}};
    j["interval"] =
        std::isnan(p.lo) ? nlohmann::json(nullptr) : nlohmann::json{{"p10_s", p.lo}, {"p90_s", p.hi}};
    if (r.measured_s) j["measured_s"] = *r.measured_s;
    if (!r.set.empty()) j["set"] = r.set;
    list.push_back(j);
  }
  nlohmann::json cells = nlohmann::json::array();
  for (auto& [key, e] : summarise(*this))
    cells.push_back(
        nlohmann::json{{"kernel", key.first},
                       {"set", key.second},
                       {"n", e.errors.size()},
                       {"median_ape", quantile(e.errors, 0.5)},
                       {"p90_ape", quantile(e.errors, 0.9)},
                       {"coverage", e.with_interval ? nlohmann::json(double(e.inside) / e.with_interval)
                                                    : nlohmann::json(nullptr)}});
  const kernel_table* t = hw.timing.kernels.get();
  return {{"hardware", hw.name},
          {"stack", hw.stack},
          {"table", t ? nlohmann::json{{"file", t->file}, {"measured_on", t->measured_on.name}} : nullptr},
          {"kernels", list},
          {"errors", cells}};
}

std::string kernel_view::table(const table_style& style) const {
  const kernel_table* t = hw.timing.kernels.get();
  std::string out = detail::text_line(
      fmt::format("{} ({}){}", hw.name, hw.stack,
                  t ? fmt::format(", kernel table {} measured on {}", t->file, t->measured_on.name)
                    : std::string(", no kernel table: the analytic model times every kernel")),
      style);
  const auto us = [](double s) {
    return std::isnan(s) ? std::string("-") : fmt::format("{:.4g} us", s * 1e6);
  };
  detail::text_table k({{"kernel", true},
                        {"fmt", true},
                        {"shape", true},
                        {"predicted"},
                        {"p10 - p90", false, 1},
                        {"measured"},
                        {"error"},
                        {"timed by", true, 2}});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const kernel_row& r = rows[i];
    const kernel_prediction& p = predicted[i];
    k.row({std::string(name(r.shape.kind)), std::string(name(r.shape.format)), shape_words(r.shape),
           us(p.seconds), std::isnan(p.lo) ? std::string("-") : us(p.lo) + " - " + us(p.hi),
           r.measured_s ? us(*r.measured_s) : "-",
           r.measured_s ? fmt::format("{:+.1f} %", 100 * (p.seconds / *r.measured_s - 1)) : "-",
           fmt::format("{}{}", name(p.by), p.transferred ? " (transferred)" : "")});
  }
  out += k.render(style);
  const summaries s = summarise(*this);
  if (s.empty()) return out;
  detail::text_table e({{"errors", true}, {"set", true}, {"n"}, {"median %"}, {"p90 %"}, {"coverage"}});
  for (auto [key, c] : s)
    e.row({key.first, key.second.empty() ? "-" : key.second, fmt::format("{}", c.errors.size()),
           fmt::format("{:.1f}", quantile(c.errors, 0.5)), fmt::format("{:.1f}", quantile(c.errors, 0.9)),
           c.with_interval ? fmt::format("{:.0f} %", 100.0 * c.inside / c.with_interval) : "-"});
  if (!style.markdown) out += '\n';
  return out + e.render(style);
}

}  // namespace roofline
