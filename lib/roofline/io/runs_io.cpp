// io: CSVs of measured runs: fixed-batch measurements (validate, calibrate) and engine runs (serving),
// each error at its line and column with the column's name.
#include <array>
#include <cctype>
#include <functional>
#include <map>
#include <sstream>

#include "roofline/io/io.hpp"
#include "roofline/io/io_reader.hpp"

namespace roofline {
namespace {

using io_detail::csv_header;
using io_detail::for_each_row;
using io_detail::slurp;
using io_detail::unix_lines;

// Measured times are from a nanosecond (1e-6 ms: shorter is no measurement, and its errors would
// overflow) to 1e12 ms.
constexpr double least_ms = 1e-6, most_ms = 1e12;

}  // namespace

std::vector<measurement> load_measurements(const std::string& path) {
  return parse_measurements(slurp(path, io_detail::max_csv_bytes), path);
}

std::vector<measurement> parse_measurements(std::string_view text, const std::string& path) {
  std::istringstream in{unix_lines(text)};
  const auto header = csv_header(in, path);
  static const std::array<std::string, 6> required{"model",    "batch",   "prefill",
                                                   "generate", "ttft_ms", "step_ms"};
  std::array<std::size_t, 6> col{};
  for (std::size_t i = 0; i < required.size(); ++i) {
    const auto it = std::find(header.begin(), header.end(), required[i]);
    if (it == header.end())
      throw input_error(
          fmt::format("{}:1:1: missing column '{}'; required: model, batch, prefill, generate, "
                      "ttft_ms, step_ms",
                      path, required[i]));
    col[i] = std::size_t(it - header.begin());
  }
  std::vector<measurement> rows;
  for_each_row(in, header.size(), path, [&](int n, const std::vector<std::string>& f, const auto& at) {
    const auto count = [&](std::size_t k) {
      const std::string& s = f[col[k]];
      const auto v = io_detail::whole(s);
      if (!v || *v < 1 || *v > max_tokens)
        throw input_error(fmt::format("{}:{}:{}: '{}' must be an integer from 1 to {}, got '{}'", path, n,
                                      at(col[k]), required[k], max_tokens, s));
      return std::int64_t(*v);
    };
    const auto time = [&](std::size_t k) -> std::optional<double> {
      const std::string& s = f[col[k]];
      if (s.empty()) return std::nullopt;
      const auto v = io_detail::decimal(s);
      if (!v || !(*v >= least_ms) || !(*v <= most_ms))
        throw input_error(
            fmt::format("{}:{}:{}: '{}' must be a positive number of milliseconds (1e-06 to 1e+12) or empty, "
                        "got '{}'",
                        path, n, at(col[k]), required[k], s));
      return *v;
    };
    if (f[col[0]].empty()) throw input_error(fmt::format("{}:{}:{}: 'model' is empty", path, n, at(col[0])));
    rows.push_back(
        {f[col[0]], {.batch = count(1), .prefill = count(2), .generate = count(3)}, time(4), time(5), n});
  });
  return rows;
}

std::vector<engine_run> load_engine_runs(const std::string& path) {
  return parse_engine_runs(slurp(path, io_detail::max_csv_bytes), path);
}

namespace {

// The columns of an engine-runs CSV, found by name in its header, and the reading of one row.
class engine_run_row {
 public:
  engine_run_row(const std::vector<std::string>& header, const std::string& path)
      : header_(header), path_(path) {
    for (const char* k :
         {"id", "silicon_data_source", "backend", "backend_version", "model_path", "system", "precision",
          "mode", "isl", "osl", "gemm_quant_mode", "moe_quant_mode", "silicon_ttft_ms", "silicon_tpot_ms"})
      col_[k] = column(k);
    agg_ = pool_columns("", false), prefill_ = pool_columns("prefill_", true),
    decode_ = pool_columns("decode_", true);
  }

  engine_run read(int n, const std::vector<std::string>& f,
                  const std::function<std::size_t(std::size_t)>& at) {
    n_ = n, f_ = &f, at_ = &at;
    engine_run r;
    r.id = text("id"), r.engine = text("backend"), r.engine_version = text("backend_version");
    r.model = text("model_path"), r.system = text("system"), r.precision = text("precision");
    r.gemm_quant = text("gemm_quant_mode"), r.moe_quant = text("moe_quant_mode");
    for (const char* k : {"backend", "model_path", "system"})
      if (text(k).empty()) fail(col_.at(k), "must be given");
    if (text("mode") != "agg" && text("mode") != "disagg") fail(col_.at("mode"), "must be agg or disagg");
    r.disaggregated = text("mode") == "disagg";
    r.isl = integer(col_.at("isl"), false);
    r.osl = integer(col_.at("osl"), false);
    r.concurrency = concurrency();
    r.agg = pool(agg_);
    if (r.disaggregated) {
      r.stages_stated = !f[prefill_[2]].empty() && !f[decode_[2]].empty() && !f[prefill_[0]].empty() &&
                        !f[decode_[0]].empty();
      if (r.stages_stated) r.prefill = pool(prefill_), r.decode = pool(decode_);
    }
    r.ttft_ms = time(col_.at("silicon_ttft_ms"));
    r.tpot_ms = time(col_.at("silicon_tpot_ms"));
    r.line = n;
    return r;
  }

 private:
  using pool_cols = std::array<std::size_t, 7>;    // workers, batch, tp, pp, dp, moe_tp, moe_ep
  static constexpr long long most_gpus = 1 << 16;  // max_parallel: GPUs in one dimension of a layout

  std::size_t column(const std::string& name) const {
    const auto it = std::find(header_.begin(), header_.end(), name);
    if (it == header_.end())
      throw input_error(fmt::format(
          "{}:1:1: missing column '{}' of an engine-runs CSV (serving/README.md lists them)", path_, name));
    return std::size_t(it - header_.begin());
  }
  pool_cols pool_columns(const std::string& prefix, bool workers) const {
    pool_cols c{};
    c[0] = workers ? column(prefix + "num_workers") : header_.size();
    c[1] = column(prefix + "batch_size");
    std::size_t i = 2;
    for (const char* k : {"tp_size", "pp_size", "attention_dp_size", "moe_tp_size", "moe_ep_size"})
      c[i++] = column(prefix + k);
    return c;
  }
  const std::string& text(const char* key) const { return (*f_)[col_.at(key)]; }
  [[noreturn]] void fail(std::size_t i, const std::string& what) const {
    throw input_error(
        fmt::format("{}:{}:{}: '{}' {}, got '{}'", path_, n_, (*at_)(i), header_[i], what, (*f_)[i]));
  }
  // A size: an integer from `least`; an empty parallel field is 1 (the README's rule).
  std::int64_t integer(std::size_t i, bool empty_is_one, long long least = 1,
                       long long most = max_tokens) const {
    const std::vector<std::string>& f = *f_;
    if (i >= f.size()) return 1;
    if (f[i].empty()) {
      if (empty_is_one) return 1;
      fail(i, "must be given");
    }
    const auto v = io_detail::whole(f[i]);
    if (!v || *v < least || *v > most) fail(i, fmt::format("must be an integer from {} to {}", least, most));
    return std::int64_t(*v);
  }
  double time(std::size_t i) const {
    const auto v = io_detail::decimal((*f_)[i]);
    if (!v || !(*v >= least_ms) || !(*v <= most_ms))
      fail(i, "must be a positive number of milliseconds (1e-06 to 1e+12)");
    return *v;
  }
  // "silicon_concurrency=N" in the source field; absent: 0, a run that cannot be reproduced.
  double concurrency() const {
    const std::string key = "silicon_concurrency=", &source = text("silicon_data_source");
    const std::size_t k = source.find(key);
    if (k == std::string::npos) return 0;
    std::size_t end = k + key.size();
    while (end < source.size() && std::isdigit(static_cast<unsigned char>(source[end]))) ++end;
    const auto conc = io_detail::whole(source.substr(k + key.size(), end - k - key.size()));
    if (!conc || *conc < 1 || *conc > 1'000'000'000)
      fail(col_.at("silicon_data_source"), "must hold a concurrency from 1 to 1e9");
    return double(*conc);
  }
  engine_run::pool pool(const pool_cols& c) const {
    const std::vector<std::string>& f = *f_;
    engine_run::pool p;
    p.workers = int(integer(c[0], true, 1, most_gpus));
    p.batch = c[1] < f.size() && !f[c[1]].empty() ? int(integer(c[1], true, 1, 1 << 30)) : 0;
    // a parallel size of 0 is read as given (some rows state it): such a run is skipped
    p.tp = int(integer(c[2], true, 0, most_gpus));
    p.pp = int(integer(c[3], true, 0, most_gpus));
    p.dp = int(integer(c[4], true, 0, most_gpus));
    p.moe_tp = int(integer(c[5], true, 0, most_gpus));
    p.moe_ep = int(integer(c[6], true, 0, most_gpus));
    return p;
  }

  const std::vector<std::string>& header_;
  const std::string& path_;
  std::map<std::string, std::size_t> col_;
  pool_cols agg_{}, prefill_{}, decode_{};
  int n_ = 0;
  const std::vector<std::string>* f_ = nullptr;
  const std::function<std::size_t(std::size_t)>* at_ = nullptr;
};

}  // namespace

std::vector<engine_run> parse_engine_runs(std::string_view text, const std::string& path) {
  std::istringstream in{unix_lines(text)};
  const auto header = csv_header(in, path);
  engine_run_row reader(header, path);
  std::vector<engine_run> rows;
  for_each_row(in, header.size(), path, [&](int n, const std::vector<std::string>& f, const auto& at) {
    rows.push_back(reader.read(n, f, at));
  });
  return rows;
}

namespace {

// The parts of "kind:a:b" after the kind.
std::vector<std::string> colon_parts(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == ':') out.push_back(text.substr(start, i - start)), start = i + 1;
  return out;
}

// Columns of a lengths or trace CSV: each named column's values, whole (lengths) or decimal (times).
struct load_columns {
  std::vector<std::int64_t> isl, osl, lengths;
  std::vector<double> times;
};

load_columns read_load_csv(const std::string& path, const std::vector<std::string>& wanted, bool need_time) {
  std::istringstream in{unix_lines(slurp(path, io_detail::max_csv_bytes))};
  const auto header = csv_header(in, path);
  const auto col = [&](const std::string& name) -> std::optional<std::size_t> {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) return std::nullopt;
    return std::size_t(it - header.begin());
  };
  load_columns out;
  const auto t = need_time ? col("arrival_s") : std::nullopt;
  if (need_time && !t) throw input_error(fmt::format("{}:1:1: missing column 'arrival_s' (seconds)", path));
  std::vector<std::pair<std::string, std::size_t>> lengths;
  for (const std::string& w : wanted)
    if (auto c = col(w)) lengths.emplace_back(w, *c);
  if (!need_time && lengths.empty())
    throw input_error(fmt::format("{}:1:1: missing column '{}' or 'length'", path, wanted.front()));
  for_each_row(in, header.size(), path, [&](int n, const std::vector<std::string>& f, const auto& at) {
    if (t) {
      const auto v = io_detail::decimal(f[*t]);
      if (!v || !(*v >= 0) || *v > 1e9)
        throw input_error(
            fmt::format("{}:{}:{}: 'arrival_s' must be a number of seconds from 0 to 1e9, got '{}'", path, n,
                        at(*t), f[*t]));
      if (!out.times.empty() && *v < out.times.back())
        throw input_error(
            fmt::format("{}:{}:{}: 'arrival_s' {} is before the row above ({}): arrivals must be "
                        "sorted",
                        path, n, at(*t), f[*t], out.times.back()));
      out.times.push_back(*v);
    }
    for (const auto& [name, c] : lengths) {
      const auto v = io_detail::whole(f[c]);
      if (!v || *v < 1 || *v > max_tokens)
        throw input_error(
            fmt::format("{}:{}:{}: '{}' must be a whole number of tokens from 1 to {}, got '{}'", path, n,
                        at(c), name, max_tokens, f[c]));
      (name == "isl" ? out.isl : name == "osl" ? out.osl : out.lengths).push_back(*v);
    }
  });
  if (out.times.empty() && out.isl.empty() && out.osl.empty() && out.lengths.empty())
    throw input_error(fmt::format("{}: no rows after the header", path));
  return out;
}

}  // namespace

length_dist parse_length_dist(const std::string& text, std::int64_t fixed, const std::string& column) {
  length_dist d{.source = text};
  const auto parts = colon_parts(text);
  const auto fail = [&](const std::string& form) {
    throw input_error(fmt::format("lengths '{}': expected {}", text, form));
  };
  const auto number = [&](const std::string& s, const std::string& form) {
    const auto v = io_detail::decimal(s);
    if (!v) fail(form);
    return *v;
  };
  const std::string& kind = parts[0];
  if (kind == "fixed") {
    if (parts.size() != 1) fail("'fixed' (the length option's value for every request)");
    d.a = double(fixed);
    d.source = std::to_string(fixed);
  } else if (kind == "benchmark") {
    if (parts.size() != 1) fail("'benchmark' (within 5 % of the length option's value)");
    d = benchmark_lengths(fixed);
  } else if (kind == "uniform" || kind == "normal" || kind == "lognormal") {
    const std::string form = kind + (kind == "uniform" ? ":LO:HI" : ":MEAN:SD");
    if (parts.size() != 3) fail(form);
    d.what = kind == "uniform"  ? length_dist::kind::uniform
             : kind == "normal" ? length_dist::kind::normal
                                : length_dist::kind::lognormal;
    d.a = number(parts[1], form), d.b = number(parts[2], form);
  } else if (kind == "file") {
    if (text.size() <= 5) fail("file:PATH");
    const std::string path = text.substr(5);
    load_columns c = read_load_csv(path, {column, "length"}, false);
    d.what = length_dist::kind::values;
    d.values = !(column == "isl" ? c.isl : c.osl).empty() ? (column == "isl" ? c.isl : c.osl) : c.lengths;
  } else {
    fail("fixed, benchmark, uniform:LO:HI, normal:MEAN:SD, lognormal:MEAN:SD or file:PATH");
  }
  return d;
}

arrival_process parse_arrivals(const std::string& text, double rate, std::vector<std::int64_t>* isl,
                               std::vector<std::int64_t>* osl) {
  arrival_process a{.rate = rate, .source = text};
  const auto parts = colon_parts(text);
  if (parts[0] == "poisson" && parts.size() == 1) {
    a.what = arrival_process::kind::poisson;
  } else if (parts[0] == "gamma" && parts.size() == 2) {
    a.what = arrival_process::kind::gamma;
    const auto cv = io_detail::decimal(parts[1]);
    if (!cv) throw input_error(fmt::format("arrivals '{}': expected gamma:CV, CV a number", text));
    a.cv = *cv;
  } else if (parts[0] == "trace" && text.size() > 6) {
    a.what = arrival_process::kind::trace;
    load_columns c = read_load_csv(text.substr(6), {"isl", "osl"}, true);
    a.times = std::move(c.times);
    if (isl) *isl = std::move(c.isl);
    if (osl) *osl = std::move(c.osl);
  } else {
    throw input_error(fmt::format("arrivals '{}': expected poisson, gamma:CV or trace:PATH", text));
  }
  return a;
}

}  // namespace roofline
