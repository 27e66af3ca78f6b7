// io: CSVs of kernel shapes and measured kernel times (roofline kernel --ops; the tables a stack
// names), and the grids of a kernel table built from them.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "roofline/io/io.hpp"
#include "roofline/io/io_reader.hpp"

namespace roofline {
namespace {

using io_detail::csv_header;
using io_detail::for_each_row;
using io_detail::unix_lines;

// The shape columns, in kernel_shape's order, and the kinds that use each.
struct shape_column {
  const char* name;
  double kernel_shape::*field;
  std::vector<kernel_kind> used_by;
};
const std::vector<shape_column>& shape_columns() {
  using K = kernel_kind;
  static const std::vector<shape_column> c{
      {"m", &kernel_shape::m, {K::gemm}},
      {"n", &kernel_shape::n, {K::gemm, K::grouped_gemm}},
      {"k", &kernel_shape::k, {K::gemm, K::grouped_gemm}},
      {"batch", &kernel_shape::batch, {K::attention_prefill, K::attention_decode}},
      {"q_len", &kernel_shape::q_len, {K::attention_prefill}},
      {"kv_len", &kernel_shape::kv_len, {K::attention_prefill, K::attention_decode}},
      {"heads", &kernel_shape::heads, {K::attention_prefill, K::attention_decode}},
      {"kv_heads", &kernel_shape::kv_heads, {K::attention_prefill, K::attention_decode}},
      {"head_dim", &kernel_shape::head_dim, {K::attention_prefill, K::attention_decode}},
      {"experts", &kernel_shape::experts, {K::grouped_gemm}},
      {"tokens_per_expert", &kernel_shape::tokens_per_expert, {K::grouped_gemm}},
      {"bytes", &kernel_shape::bytes, {K::norm, K::copy}},
  };
  return c;
}

constexpr double largest_shape = 1e15;  // a dimension or a byte count

// The columns of a row beside its sizes (the window, the measured time, the set) and the rules
// between sizes.
struct extra_columns {
  std::optional<std::size_t> window, time, set, kv_len, kv_heads;
};
template <class Fail>
void read_extras(kernel_row& r, const std::vector<std::string>& f, const extra_columns& c, Fail&& fail) {
  if (c.window && !f[*c.window].empty()) {
    const auto v = io_detail::whole(f[*c.window]);
    if (r.shape.kind != kernel_kind::attention_prefill)
      fail(*c.window, "'window' is a column of attention_prefill kernels only: leave it empty");
    if (!v || *v < 0 || double(*v) > largest_shape)
      fail(*c.window,
           fmt::format("'window' must be a whole number of keys (0: none), got '{}'", f[*c.window]));
    r.shape.window = double(*v);
  }
  const kernel_shape& s = r.shape;
  if (s.kind == kernel_kind::attention_prefill && s.kv_len < s.q_len)
    fail(*c.kv_len,
         fmt::format("'kv_len' ({}) must be at least 'q_len' ({}): the keys include the queries' own",
                     s.kv_len, s.q_len));
  if ((s.kind == kernel_kind::attention_prefill || s.kind == kernel_kind::attention_decode) &&
      std::fmod(s.heads, s.kv_heads) != 0)
    fail(*c.kv_heads, fmt::format("'kv_heads' ({}) must divide 'heads' ({})", s.kv_heads, s.heads));
  if (c.time && !f[*c.time].empty()) {
    const auto v = io_detail::decimal(f[*c.time]);
    if (!v || !(*v >= 1e-9) || !(*v <= 1e3))
      fail(*c.time,
           fmt::format("'measured_s' must be a time in seconds from 1e-09 to 1000, or empty, got '{}'",
                       f[*c.time]));
    r.measured_s = *v;
  }
  if (c.set) {
    r.set = f[*c.set];
    if (r.set != "grid" && r.set != "held_out")
      fail(*c.set, fmt::format("'set' must be grid or held_out, got '{}'", r.set));
  }
}

}  // namespace

std::vector<kernel_row> parse_kernel_rows(std::string_view text, const std::string& path) {
  std::istringstream in{unix_lines(text)};
  const auto header = csv_header(in, path);
  const auto find = [&](const std::string& name) -> std::optional<std::size_t> {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? std::nullopt : std::optional<std::size_t>(it - header.begin());
  };
  std::vector<std::optional<std::size_t>> col;
  for (const shape_column& c : shape_columns()) col.push_back(find(c.name));
  const auto kind_col = find("kind"), format_col = find("format"), window_col = find("window"),
             time_col = find("measured_s"), set_col = find("set");
  for (const char* needed : {"kind", "format"})
    if (!find(needed))
      throw input_error(
          fmt::format("{}:1:1: missing column '{}'; a kernel CSV has the columns kind, format, "
                      "m, n, k, batch, q_len, kv_len, heads, kv_heads, head_dim, experts, "
                      "tokens_per_expert, bytes (unused ones empty)",
                      path, needed));
  std::vector<kernel_row> rows;
  for_each_row(in, header.size(), path, [&](int n, const std::vector<std::string>& f, const auto& at) {
    const auto fail = [&](std::size_t c, const std::string& what) {
      throw input_error(fmt::format("{}:{}:{}: {}", path, n, at(c), what));
    };
    kernel_row r;
    r.line = n;
    const auto kind = parse_name<kernel_kind>(f[*kind_col]);
    if (!kind)
      fail(*kind_col,
           fmt::format("unknown kernel kind '{}'; allowed: {}", f[*kind_col], names_list<kernel_kind>()));
    r.shape.kind = *kind;
    const auto format = parse_name<dtype>(f[*format_col]);
    if (!format)
      fail(*format_col, fmt::format("unknown format '{}'; allowed: {}", f[*format_col], names_list<dtype>()));
    r.shape.format = *format;
    for (std::size_t i = 0; i < col.size(); ++i) {
      const shape_column& c = shape_columns()[i];
      const bool used = std::find(c.used_by.begin(), c.used_by.end(), *kind) != c.used_by.end();
      const std::string cell = col[i] ? f[*col[i]] : std::string();
      if (!used) {
        if (!cell.empty())
          fail(*col[i],
               fmt::format("'{}' is not a column of {} kernels: leave it empty", c.name, f[*kind_col]));
        continue;
      }
      if (!col[i])
        throw input_error(
            fmt::format("{}:{}:1: {} kernels need the column '{}'", path, n, f[*kind_col], c.name));
      const auto v = io_detail::whole(cell);
      if (!v || *v < 1 || double(*v) > largest_shape)
        fail(*col[i], fmt::format("'{}' of {} kernels must be a whole number from 1 to 1e15, got '{}'",
                                  c.name, f[*kind_col], cell));
      r.shape.*c.field = double(*v);
    }
    read_extras(r, f, {window_col, time_col, set_col, col[5], col[7]}, fail);
    rows.push_back(r);
  });
  if (rows.empty()) throw input_error(fmt::format("{}: no rows after the header", path));
  return rows;
}

std::vector<kernel_row> load_kernel_rows(const std::string& path) {
  return parse_kernel_rows(io_detail::slurp(path, io_detail::max_csv_bytes), path);
}

namespace {

// The names of a kind's table axes.
const std::array<const char*, 3>& axis_names(kernel_kind kind) {
  static const std::array<std::array<const char*, 3>, 6> names{{{"m", "n", "k"},
                                                                {"tokens_per_expert", "n", "k"},
                                                                {"batch x heads", "q_len", ""},
                                                                {"batch x kv_heads", "kv_len", ""},
                                                                {"bytes", "", ""},
                                                                {"bytes", "", ""}}};
  return names[std::size_t(kind)];
}

// The coordinates of a point as text, for messages: "m 64, n 4096, k 512".
std::string point_text(kernel_kind kind, const std::array<double, 3>& x) {
  std::string s;
  for (std::size_t i = 0; i < 3; ++i)
    if (*axis_names(kind)[i]) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", axis_names(kind)[i], x[i]);
  return s;
}

// A time may fall as a shape grows along an axis: a library picks its kernel by shape (cuBLAS's
// heuristics: in the H100 table, stacks/kernels/torch_h100.csv, by up to 18 % from one power of
// two to the next; in the H200's, a 1 x 1024 x 2048 GEMM takes 12.9 us and a 1 x 2048 x 2048 one
// 6.1 us, 52 % less), and times vary by a few percent from run to run. Such falls are kept as
// measured (the interpolation falls between such points as the measurements do); a fall to less
// than a third, beyond any the tables show, is taken for a bad measurement (a unit slipped, a
// kernel that did not run) and refused.
constexpr double largest_fall = 2.0 / 3;

// Checks that no time falls by more than largest_fall from the point before it along an axis.
void check_falls(const kernel_grid& g, const std::vector<int>& lines, const std::string& path) {
  const std::size_t d = g.axes.size();
  std::array<std::size_t, 3> stride{1, 1, 1};
  for (std::size_t i = d - 1; i-- > 0;) stride[i] = stride[i + 1] * g.axes[i + 1].size();
  for (std::size_t axis = 0; axis < d; ++axis)
    for (std::size_t index = 0; index < g.log_time.size(); ++index) {
      if ((index / stride[axis]) % g.axes[axis].size() == 0) continue;
      const std::size_t before = index - stride[axis];
      const double fall = g.log_time[before] - g.log_time[index];
      if (fall > -std::log1p(-largest_fall))
        throw input_error(fmt::format(
            "{}:{}:1: the {} {} table's time falls by {:.0f} % from line {} as {} grows; a table's times "
            "may fall by at most {:.0f} % (a library's choice of kernel, noise): a bad measurement?",
            path, lines[index], name(g.kind), name(g.format), 100 * (1 - std::exp(-fall)), lines[before],
            axis_names(g.kind)[axis], 100 * largest_fall));
    }
}

}  // namespace

std::vector<kernel_grid> kernel_grids(const std::vector<kernel_row>& rows, const std::string& path) {
  struct point {
    double log_sum = 0;
    int count = 0, line = 0;
  };
  struct group {
    kernel_grid grid;
    std::map<std::array<double, 3>, point> points;
  };
  std::map<std::tuple<int, int, double, double>, group> groups;
  for (const kernel_row& r : rows) {
    if (r.set == "held_out") continue;
    if (!r.measured_s)
      throw input_error(
          fmt::format("{}:{}:1: a table's shape without a time ('measured_s' empty): measure it "
                      "or mark the row held_out",
                      path, r.line));
    const kernel_shape& s = r.shape;
    if (s.kind == kernel_kind::attention_prefill && (s.kv_len != s.q_len || s.window > 0))
      throw input_error(
          fmt::format("{}:{}:1: a table's prompt attention has no cached keys and no window "
                      "(kv_len = q_len, window 0); other shapes are derived from it",
                      path, r.line));
    const kernel_coords c = coords_of(s);
    group& g = groups[{int(s.kind), int(s.format), c.key[0], c.key[1]}];
    g.grid.kind = s.kind, g.grid.format = s.format, g.grid.key = c.key;
    g.grid.axes.resize(std::size_t(c.dims));
    point& p = g.points[c.axes];
    p.log_sum += std::log(*r.measured_s), ++p.count, p.line = r.line;
  }
  std::vector<kernel_grid> out;
  std::vector<int> lines;  // of each point's (last) row
  for (auto& [key, g] : groups) {
    kernel_grid& grid = g.grid;
    for (const auto& [x, p] : g.points)
      for (std::size_t i = 0; i < grid.axes.size(); ++i) grid.axes[i].push_back(x[i]);
    for (auto& a : grid.axes) {
      std::sort(a.begin(), a.end());
      a.erase(std::unique(a.begin(), a.end()), a.end());
    }
    // every point of the product of the axes, the last axis fastest
    std::size_t total = 1;
    for (const auto& a : grid.axes) total *= a.size();
    for (std::size_t index = 0; index < total; ++index) {
      std::array<double, 3> x{};
      for (std::size_t i = grid.axes.size(), rest = index; i-- > 0; rest /= grid.axes[i].size())
        x[i] = grid.axes[i][rest % grid.axes[i].size()];
      const auto it = g.points.find(x);
      if (it == g.points.end())
        throw input_error(
            fmt::format("{}: the {} {} table lacks the shape {}: a table holds every combination "
                        "of its axes' values",
                        path, name(grid.kind), name(grid.format), point_text(grid.kind, x)));
      grid.log_time.push_back(it->second.log_sum / it->second.count);
      lines.push_back(it->second.line);
    }
    check_falls(grid, lines, path);
    lines.clear();
    out.push_back(std::move(grid));
  }
  if (out.empty()) throw input_error(fmt::format("{}: no measured shapes for a table (set grid)", path));
  return out;
}

}  // namespace roofline
