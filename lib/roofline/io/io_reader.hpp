// io internals (not installed): a strict YAML mapping reader with file:line:col errors, shared by
// the readers of profiles, model specs and HuggingFace configs. The only header that includes yaml-cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "roofline/base/dtype.hpp"
#include "roofline/base/error.hpp"

namespace roofline::io_detail {

inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Edit distance, to suggest the key a typo meant.
inline std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

// A decimal number as people write it: [+-]digits[.digits][e[+-]digits] (no hex, inf or nan).
inline std::optional<double> decimal(const std::string& s) {
  std::size_t i = 0, digits = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp;
    if (exp == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const double v = std::strtod(s.c_str(), nullptr);
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

// A whole decimal number: [+-]digits, within long long.
inline std::optional<long long> whole(const std::string& s) {
  std::size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i == s.size() || s.size() - i > 18) return std::nullopt;
  for (std::size_t j = i; j < s.size(); ++j)
    if (!std::isdigit(static_cast<unsigned char>(s[j]))) return std::nullopt;
  return std::stoll(s);
}

// A YAML mapping read key by key: every key must be asked for once (else it is
// unknown), and every error names the file and the 1-based position.
class reader {
 public:
  // `known`: every key this mapping may hold, to tell a typo from a key read later.
  reader(const std::string& file, YAML::Node node, std::string path, std::vector<std::string> known = {})
      : file_(file), node_(std::move(node)), path_(std::move(path)), known_(std::move(known)) {
    if (!node_.IsMap())
      fail(node_, path_.empty() ? "expected a mapping of keys at the top level"
                                : fmt::format("'{}' must be a mapping of keys", path_));
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : node_) {
      if (!kv.first.IsScalar()) fail(kv.first, "a key must be a single value");
      const auto key = kv.first.Scalar();
      if (auto [it, fresh] = seen.emplace(key, kv.first.Mark()); !fresh)
        fail(kv.first,
             fmt::format("duplicate key '{}' (first at line {})", dotted(key), it->second.line + 1));
      keys_.push_back({key, kv.first});
    }
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const { fail(at.Mark(), what); }
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& what) const {
    if (m.is_null()) throw input_error(fmt::format("{}:1:1: {}", file_, what));
    throw input_error(fmt::format("{}:{}:{}: {}", file_, m.line + 1, m.column + 1, what));
  }

  bool has(const std::string& key) const { return bool(node_[key]); }
  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }
  std::string dotted(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    for (const auto& [key, at] : keys_) k.push_back(key);
    return k;
  }

  YAML::Node required(const std::string& key) {
    allowed_.push_back(key);
    YAML::Node n = node_[key];
    if (!n) {
      // A present key that nobody asks for and that is one or two edits away is the typo.
      for (const auto& [k, at] : keys_)
        if (distance(k, key) <= 2 && !node_for(k))
          fail(at, fmt::format("unknown key '{}' (did you mean '{}'?)", dotted(k), key));
    }
    if (!n)
      fail(node_, fmt::format("missing key '{}' in {}", dotted(key),
                              path_.empty() ? "the top level" : fmt::format("'{}'", path_)));
    return n;
  }
  // Whether some spec key of this mapping is spelt `k` (so `k` is no typo).
  bool node_for(const std::string& k) const {
    return std::find(known_.begin(), known_.end(), k) != known_.end();
  }
  // The key node of `key` (for errors about a key rather than its value).
  YAML::Node key_node(const std::string& key) const {
    for (const auto& [k, at] : keys_)
      if (k == key) return at;
    return node_;
  }
  YAML::Node optional(const std::string& key) {
    allowed_.push_back(key);
    return node_[key];
  }
  reader child(const std::string& key) { return {file_, required(key), dotted(key)}; }

  std::string text(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, fmt::format("'{}' must be a single value", dotted(key)));
    return n.Scalar();
  }
  std::string string(const std::string& key) { return text(required(key), key); }
  // The text of a number or a flag: a plain scalar. A quoted one ("4096", "true") is text, as YAML
  // and JSON read it, and is refused rather than read as what it spells (yaml-cpp tags a quoted
  // scalar "!", a plain one "?").
  std::string plain(const YAML::Node& n, const std::string& key, std::string_view what) const {
    const auto s = text(n, key);
    if (n.Tag() == "!")
      fail(n, fmt::format("'{}' must be {}, not the quoted text \"{}\"", dotted(key), what, s));
    return s;
  }

  // A whole number in [lo, hi].
  long long integer(const YAML::Node& n, const std::string& key, long long lo,
                    long long hi = std::numeric_limits<int>::max()) const {
    const auto s = plain(n, key, "an integer");
    const auto v = whole(s);
    if (!v) fail(n, fmt::format("'{}' must be an integer, got '{}'", dotted(key), s));
    if (lo == 1 && *v < 1) fail(n, fmt::format("'{}' must be a positive integer, got {}", dotted(key), *v));
    if (*v < lo || *v > hi)
      fail(n, fmt::format("'{}' must be an integer from {} to {}, got {}", dotted(key), lo, hi, *v));
    return *v;
  }
  int positive_int(const std::string& key, long long hi = std::numeric_limits<int>::max()) {
    return int(integer(required(key), key, 1, hi));
  }
  void int_if(const std::string& key, int& out, long long lo, long long hi) {
    if (auto n = optional(key)) out = int(integer(n, key, lo, hi));
  }

  // A decimal number in [lo, hi] (open at lo if lo_open).
  double number(const YAML::Node& n, const std::string& key, double lo, bool lo_open,
                double hi = std::numeric_limits<double>::infinity()) const {
    const auto s = plain(n, key, "a number");
    const auto v = decimal(s);
    if (!v) fail(n, fmt::format("'{}' must be a number, got '{}'", dotted(key), s));
    if (*v < lo || (lo_open && *v == lo) || *v > hi) {
      const auto range = std::isinf(hi) ? fmt::format("{} {}", lo_open ? ">" : ">=", lo)
                                        : fmt::format("in {}{}, {}]", lo_open ? "(" : "[", lo, hi);
      fail(n, fmt::format("'{}' must be {}, got {}", dotted(key), range, s));
    }
    return *v;
  }
  double number(const std::string& key, double lo, bool lo_open,
                double hi = std::numeric_limits<double>::infinity()) {
    return number(required(key), key, lo, lo_open, hi);
  }
  void number_if(const std::string& key, double& out, double lo, bool lo_open,
                 double hi = std::numeric_limits<double>::infinity()) {
    if (auto n = optional(key)) out = number(n, key, lo, lo_open, hi);
  }

  bool boolean(const YAML::Node& n, const std::string& key) const {
    const auto s = plain(n, key, "true or false");
    if (s == "true") return true;
    if (s == "false") return false;
    fail(n, fmt::format("'{}' must be true or false, got '{}'", dotted(key), s));
  }
  void boolean_if(const std::string& key, bool& out) {
    if (auto n = optional(key)) out = boolean(n, key);
  }

  template <class Enum, class Parse>
  Enum choice(const YAML::Node& n, const std::string& key, std::string_view what, std::string_view allowed,
              Parse parse) const {
    const auto s = text(n, key);
    if (auto v = parse(s)) return *v;
    fail(n, fmt::format("unknown {} '{}' for '{}'; allowed: {}", what, s, dotted(key), allowed));
  }
  // A named enum's value (base/names.hpp), its names listed as allowed.
  template <Named Enum>
  Enum choice(const YAML::Node& n, const std::string& key, std::string_view what) const {
    return choice<Enum>(n, key, what, names_list<Enum>(), parse_name<Enum>);
  }
  dtype dtype_of(const YAML::Node& n, const std::string& key) const { return choice<dtype>(n, key, "dtype"); }

  // Every key present must have been asked for.
  void finish() const {
    for (const auto& [key, at] : keys_) {
      if (std::find(allowed_.begin(), allowed_.end(), key) != allowed_.end()) continue;
      std::string hint;
      for (const auto& a : allowed_)
        if (distance(key, a) <= 2) hint = fmt::format(" (did you mean '{}'?)", a);
      fail(at, fmt::format("unknown key '{}'{}; allowed keys{}: {}", dotted(key), hint,
                           path_.empty() ? "" : fmt::format(" in '{}'", path_), join(allowed_)));
    }
  }

 private:
  std::string file_;
  YAML::Node node_;
  std::string path_;
  std::vector<std::pair<std::string, YAML::Node>> keys_;
  std::vector<std::string> allowed_;
  std::vector<std::string> known_;
};

// Where the documents of a YAML stream start (an event handler that only listens for them).
struct document_starts : YAML::EventHandler {
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}
};

// One YAML document; a second one in the file is an error (it would be ignored). yaml-cpp's
// LoadAll can loop forever on malformed text after a document, so the stream is walked for at
// most two documents.
inline YAML::Node parse(std::string_view yaml, const std::string& name) {
  try {
    const std::string text(yaml);
    YAML::Node root = YAML::Load(text);
    std::istringstream in(text);
    YAML::Parser parser(in);
    document_starts docs;
    if (parser.HandleNextDocument(docs) && parser.HandleNextDocument(docs) && docs.starts.size() > 1)
      throw input_error(
          fmt::format("{}:{}:1: a second YAML document (or text after the first); a file holds one", name,
                      docs.starts[1].line + 1));
    return root;
  } catch (const YAML::ParserException& e) {
    throw input_error(
        fmt::format("{}:{}:{}: YAML syntax error: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

// The bytes of a file; a UTF-8 byte-order mark is dropped.
// The largest file each reader takes. Specs, configs, parts, stacks and fits are kilobytes (the
// largest shipped, a HuggingFace config, is 2 KB): 16 MiB. CSVs of measured runs: 1 GiB (the
// shipped engine runs are 2 MB). A larger file, or an endless one (/dev/zero), is refused.
inline constexpr std::size_t max_text_bytes = std::size_t(16) << 20;
inline constexpr std::size_t max_csv_bytes = std::size_t(1) << 30;

inline std::string slurp(const std::string& path, std::size_t max_bytes = max_text_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw input_error(fmt::format("{}:1:1: is a directory, not a file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}:1:1: cannot open file", path));
  std::string text;
  std::array<char, 1 << 16> buf{};
  while (in.read(buf.data(), buf.size()) || in.gcount() > 0) {
    text.append(buf.data(), std::size_t(in.gcount()));
    if (text.size() > max_bytes)
      throw input_error(fmt::format("{}:1:1: larger than {} MiB, the most this kind of file may be", path,
                                    max_bytes >> 20));
  }
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  return text;
}

// CSVs (measured runs, loads, kernel tables): plain fields, no quotes.
// A CSV's text with every line ending a '\n': Windows' "\r\n" and old Macs' lone '\r' alike.
inline std::string unix_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] != '\r')
      out += text[i];
    else if (i + 1 == text.size() || text[i + 1] != '\n')
      out += '\n';
  return out;
}

inline std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream ss(line);
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// The header of a CSV (its first line; a byte-order mark dropped) as fields.
inline std::vector<std::string> csv_header(std::istream& in, const std::string& path) {
  std::string line;
  if (!std::getline(in, line))
    throw input_error(fmt::format("{}:1:1: empty file; expected a header line", path));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
  return split_fields(line);
}

// Calls row(n, fields, at) for each non-empty line after the header: n its 1-based line number,
// at(i) the 1-based column where field i starts (for messages). A line with another number of
// fields than the header's is an error.
template <class Row>
void for_each_row(std::istream& in, std::size_t fields, const std::string& path, Row&& row) {
  std::string line;
  for (int n = 2; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (const std::size_t q = line.find('"'); q != std::string::npos)
      throw input_error(fmt::format(
          "{}:{}:{}: a quoted field; fields are plain text, without quotes or commas", path, n, q + 1));
    const auto f = split_fields(line);
    if (f.size() != fields)
      throw input_error(fmt::format("{}:{}:1: {} fields; the header has {}", path, n, f.size(), fields));
    const auto at = [&](std::size_t i) {
      std::size_t c = 1;
      for (std::size_t j = 0; j < i; ++j) c += f[j].size() + 1;
      return c;
    };
    row(n, f, at);
  }
}

}  // namespace roofline::io_detail
