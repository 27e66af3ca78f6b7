/// report: the only code that formats output. Each result has a view (views.hpp): the values a
/// report shows of it, collected once, rendered as a JSON value, a table for people and, where
/// it has rows, CSV for tools. render() turns a view into the text of a format.
#pragma once

#include <concepts>
#include <string>

#include <nlohmann/json.hpp>

#include "roofline/base/error.hpp"

namespace roofline {

enum class report_format { table, json, csv };

/// What a view renders: JSON (a value, for tools and for other views to embed), a table;
/// optionally CSV rows.
template <class V>
concept View = requires(const V& v) {
  { v.json().dump() } -> std::same_as<std::string>;  // nlohmann::json, or ordered_json for a fixed key order
  { v.table() } -> std::same_as<std::string>;
};

/// JSON as every report writes it: indented by 2, invalid UTF-8 replaced, a final newline.
template <class Json>
std::string json_text(const Json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

/// The text of a view in a format; input_error for CSV of a view that has no rows.
template <View V>
std::string render(const V& v, report_format f) {
  if (f == report_format::json) return json_text(v.json());
  if (f == report_format::table) return v.table();
  if constexpr (requires {
                  { v.csv() } -> std::same_as<std::string>;
                })
    return v.csv();
  else
    throw input_error("report: this report has no CSV form; use table or json");
}

}  // namespace roofline
