// Tables for people: aligned plain text within a width, or Markdown (table.hpp).
#include "roofline/report/table.hpp"

#include <iterator>

#include <fmt/format.h>

#include "roofline/io/io_reader.hpp"

namespace roofline::detail {

namespace {

// A cell as Markdown takes it: `|` escaped, no line breaks.
std::string markdown_cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string markdown_row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const std::string& c : cells) {
    out += ' ';
    out += markdown_cell(c);
    out += " |";
  }
  out += '\n';
  return out;
}

}  // namespace

std::string wrap(std::string_view text, std::size_t width, std::size_t indent) {
  if (width == 0 || text.size() <= width) return std::string(text);
  const std::size_t lead = std::min(text.find_first_not_of(' '), text.size());  // kept as it is
  std::string out, line(text.substr(0, lead));
  bool empty = true;  // no word on the line yet
  for (std::size_t start = lead; start < text.size();) {
    const std::size_t word_at = std::min(text.find_first_not_of(' ', start), text.size());
    const std::size_t end = std::min(text.find(' ', word_at), text.size());
    const std::string_view spaces = text.substr(start, word_at - start),
                           word = text.substr(word_at, end - word_at);
    start = end;
    if (word.empty()) break;
    if (!empty && line.size() + spaces.size() + word.size() > width) {  // the spaces at a break go
      out += line;
      out += '\n';
      line.assign(indent, ' ');
      empty = true;
    }
    if (!empty) line += spaces;
    line += word;
    empty = false;
  }
  out += line;
  return out;
}

void text_table::row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string text_table::render(const table_style& style) const {
  std::string out;
  if (style.markdown) {
    std::vector<std::string> heads, rule;
    for (const column& c : columns_) {
      heads.push_back(c.head);
      rule.push_back(c.left ? "---" : "---:");
    }
    out = markdown_row(heads) + markdown_row(rule);
    for (const auto& r : rows_) out += markdown_row(r);
    for (const std::string& n : notes_) {
      out += '\n';
      out += markdown_cell(n);
      out += '\n';
    }
    out += '\n';
    return out;
  }
  std::vector<std::size_t> widths(columns_.size());
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    widths[i] = columns_[i].head.size();
    for (const auto& r : rows_) widths[i] = std::max(widths[i], r[i].size());
  }
  std::vector<bool> shown(columns_.size(), true);
  const auto total = [&] {
    std::size_t w = 0, n = 0;
    for (std::size_t i = 0; i < widths.size(); ++i)
      if (shown[i]) w += widths[i], ++n;
    return w + (n > 0 ? 2 * (n - 1) : 0);
  };
  std::vector<std::string> left_out;
  if (!style.wide) {
    int rank = 1, last = 0;
    for (const column& c : columns_) last = std::max(last, c.drop);
    for (; rank <= last && total() > style.width; ++rank)  // a rank leaves whole
      for (std::size_t i = 0; i < columns_.size(); ++i)
        if (columns_[i].drop == rank) shown[i] = false, left_out.push_back(columns_[i].head);
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (!shown[i]) continue;
      if (!l.empty()) l += "  ";
      l += columns_[i].left ? fmt::format("{:<{}}", cells[i], widths[i])
                            : fmt::format("{:>{}}", cells[i], widths[i]);
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    return l + "\n";
  };
  std::vector<std::string> heads;
  for (const column& c : columns_) heads.push_back(c.head);
  out = line(heads);
  for (const auto& r : rows_) out += line(r);
  const std::size_t width = style.wide ? 0 : style.width;
  for (const std::string& n : notes_) out += wrap(n, width, 2) + "\n";
  if (!left_out.empty())
    out += wrap(fmt::format("(left out to fit {} columns: {}; --wide shows them)", style.width,
                            io_detail::join(left_out)),
                width, 2) +
           "\n";
  return out;
}

void summary_table::line(std::string what, std::string value, std::string note) {
  lines_.push_back({std::move(what), std::move(value), std::move(note)});
}

std::string summary_table::render(const table_style& style) const {
  const bool values = value_width_ > 0;
  if (style.markdown) {
    std::string out = values ? markdown_row({"", "", ""}) + markdown_row({"---", "---:", "---"})
                             : markdown_row({"", ""}) + markdown_row({"---", "---"});
    for (const auto& l : lines_)
      out += values ? markdown_row({l[0], l[1], l[2]}) : markdown_row({l[0], l[1] + l[2]});
    return out + "\n";
  }
  std::string out;
  const std::size_t indent = values ? what_width_ + value_width_ + 3 : what_width_;
  for (const auto& l : lines_) {
    std::string s = values ? fmt::format("{:<{}}{:>{}}   {}", l[0], what_width_, l[1], value_width_, l[2])
                           : fmt::format("{:<{}}{}{}", l[0], what_width_, l[1], l[2]);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out += wrap(s, style.wide ? 0 : style.width, indent) + "\n";
  }
  return out;
}

std::string text_line(std::string_view text, const table_style& style, bool heading) {
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::string out;
  for (std::size_t at = 0; at <= text.size();) {  // each line of it (Markdown: hard line breaks)
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    if (style.markdown) {
      out += line;
      if (end < text.size()) out += "  \n";
    } else {
      out += wrap(line, style.wide ? 0 : style.width, 2);
      out += '\n';
    }
    at = end + 1;
  }
  if (!style.markdown) return out;
  std::string md = heading ? "### " : "";
  md += out;
  md += "\n\n";
  return md;
}

std::string section(std::string_view text, const table_style& style) {
  std::string out = style.markdown ? "" : "\n";
  out += text_line(text, style, true);
  return out;
}

}  // namespace roofline::detail
