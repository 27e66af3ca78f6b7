/// report internals: tables for people, as aligned text that fits a width or as Markdown.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "roofline/report/view.hpp"

namespace roofline::detail {

/// `text` broken at spaces into lines of at most `width` characters (a word longer than that
/// stands alone); lines after the first start with `indent` spaces. width 0: one line.
std::string wrap(std::string_view text, std::size_t width, std::size_t indent);

/// A table: columns with a heading and an alignment; rows of cells. Plain text aligns the columns
/// two spaces apart; where that is wider than the style's width and the style is not wide, the
/// columns that may go leave in the order their `drop` ranks say (1 first; 0 never) and a line
/// under the table names them. Markdown: a pipe table, `|` in a cell escaped.
class text_table {
 public:
  struct column {
    std::string head;
    bool left = false;  ///< left-aligned (text), else right (numbers)
    int drop = 0;       ///< 0: always shown; else the rank in which it leaves a narrow table
  };
  explicit text_table(std::vector<column> columns) : columns_(std::move(columns)) {}
  void row(std::vector<std::string> cells);
  /// A line of text under the table (a total, a note): wrapped to the width in plain text, a
  /// paragraph after the table in Markdown.
  void note(std::string text) { notes_.push_back(std::move(text)); }
  std::string render(const table_style& style) const;

 private:
  std::vector<column> columns_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::string> notes_;
};

/// Lines of "what  value  note" (a summary): plain text in three aligned columns, the note
/// wrapped under itself at the width; Markdown a table of three columns. value_width 0: two
/// columns, "what  value note" (the value, if any, starts the text).
class summary_table {
 public:
  explicit summary_table(std::size_t what_width = 22, std::size_t value_width = 12)
      : what_width_(what_width), value_width_(value_width) {}
  void line(std::string what, std::string value, std::string note);
  std::string render(const table_style& style) const;

 private:
  std::size_t what_width_, value_width_;
  std::vector<std::array<std::string, 3>> lines_;
};

/// Lines of text (a title, a heading, a remark; a final newline is dropped): each wrapped to the
/// width in plain text; in Markdown one paragraph (lines kept by hard breaks), `heading` makes it
/// a level-3 heading.
std::string text_line(std::string_view text, const table_style& style, bool heading = false);

/// A heading of a later part of a report: after a blank line in plain text; a level-3 heading in
/// Markdown.
std::string section(std::string_view text, const table_style& style);

}  // namespace roofline::detail
