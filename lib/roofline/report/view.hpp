/// report: the only code that formats output. Each result has a view (views.hpp): the values a
/// report shows of it, collected once, rendered as a JSON value, tables for people (plain text
/// that fits 100 columns, every column when wide, or Markdown) and, where it has rows, CSV for
/// tools. render() turns a view into the text of a format.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "roofline/base/error.hpp"

namespace roofline {

enum class report_format { table, json, csv, markdown };

/// How tables for people are laid out: plain text within `width` columns (a table wider than
/// that leaves out its least needed columns and says which; long lines wrap), every column
/// (`wide`), or Markdown.
struct table_style {
  bool markdown = false;
  bool wide = false;
  std::size_t width = 100;
};

/// What a view renders: JSON (a value, for tools and for other views to embed), tables in a
/// style; optionally CSV rows.
template <class V>
concept View = requires(const V& v, const table_style& s) {
  { v.json().dump() } -> std::same_as<std::string>;  // nlohmann::json, or ordered_json for a fixed key order
  { v.table(s) } -> std::same_as<std::string>;
};

/// JSON as every report writes it: indented by 2, invalid UTF-8 replaced, a final newline.
template <class Json>
std::string json_text(const Json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

/// The text of a view in a format (`wide`: plain tables with every column); input_error for CSV
/// of a view that has no rows.
template <View V>
std::string render(const V& v, report_format f, bool wide = false) {
  if (f == report_format::json) return json_text(v.json());
  if (f == report_format::table || f == report_format::markdown)
    return v.table(table_style{.markdown = f == report_format::markdown, .wide = wide});
  if constexpr (requires {
                  { v.csv() } -> std::same_as<std::string>;
                })
    return v.csv();
  else
    throw input_error("report: this report has no CSV form; use table or json");
}

}  // namespace roofline
