// io: the only code that includes yaml-cpp.
#include "roofline/io.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace roofline {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Edit distance, to suggest the key a typo meant.
std::size_t distance(std::string_view a, std::string_view b) {
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
      const auto key = kv.first.Scalar();
      if (auto [it, fresh] = seen.emplace(key, kv.first.Mark()); !fresh)
        fail(kv.first, fmt::format("duplicate key '{}' (first at line {})", dotted(key), it->second.line + 1));
      keys_.push_back({key, kv.first});
    }
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const { fail(at.Mark(), what); }
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& what) const {
    if (m.is_null()) throw input_error(fmt::format("{}:1:1: {}", file_, what));
    throw input_error(fmt::format("{}:{}:{}: {}", file_, m.line + 1, m.column + 1, what));
  }

  bool has(const std::string& key) const { return bool(node_[key]); }
  const std::string& file() const { return file_; }
  std::string dotted(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

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
  bool node_for(const std::string& k) const { return std::find(known_.begin(), known_.end(), k) != known_.end(); }
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

  long long integer(const YAML::Node& n, const std::string& key, long long lo) const {
    const auto s = text(n, key);
    long long v = 0;
    std::size_t used = 0;
    try { v = std::stoll(s, &used); } catch (const std::exception&) { used = 0; }
    if (used == 0 || used != s.size()) fail(n, fmt::format("'{}' must be an integer, got '{}'", dotted(key), s));
    if (lo == 1 && v < 1) fail(n, fmt::format("'{}' must be a positive integer, got {}", dotted(key), v));
    if (v < lo || v > std::numeric_limits<int>::max())
      fail(n, fmt::format("'{}' must be an integer from {} to {}, got {}", dotted(key), lo,
                          std::numeric_limits<int>::max(), v));
    return v;
  }
  int positive_int(const std::string& key) { return int(integer(required(key), key, 1)); }

  // A number in [lo, hi] (open at lo if lo_open).
  double number(const YAML::Node& n, const std::string& key, double lo, bool lo_open,
                double hi = std::numeric_limits<double>::infinity()) const {
    const auto s = text(n, key);
    double v = 0;
    std::size_t used = 0;
    try { v = std::stod(s, &used); } catch (const std::exception&) { used = 0; }
    if (used == 0 || used != s.size() || !std::isfinite(v))
      fail(n, fmt::format("'{}' must be a number, got '{}'", dotted(key), s));
    if (v < lo || (lo_open && v == lo) || v > hi) {
      const auto range = std::isinf(hi) ? fmt::format("{} {}", lo_open ? ">" : ">=", lo)
                                        : fmt::format("in {}{}, {}]", lo_open ? "(" : "[", lo, hi);
      fail(n, fmt::format("'{}' must be {}, got {}", dotted(key), range, s));
    }
    return v;
  }
  double number(const std::string& key, double lo, bool lo_open, double hi = std::numeric_limits<double>::infinity()) {
    return number(required(key), key, lo, lo_open, hi);
  }
  void number_if(const std::string& key, double& out, double lo, bool lo_open,
                 double hi = std::numeric_limits<double>::infinity()) {
    if (auto n = optional(key)) out = number(n, key, lo, lo_open, hi);
  }

  bool boolean(const YAML::Node& n, const std::string& key) const {
    const auto s = text(n, key);
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
  dtype dtype_of(const YAML::Node& n, const std::string& key) const {
    return choice<dtype>(n, key, "dtype", dtype_names, parse_dtype);
  }

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
  const std::string& file_;
  YAML::Node node_;
  std::string path_;
  std::vector<std::pair<std::string, YAML::Node>> keys_;
  std::vector<std::string> allowed_;
  std::vector<std::string> known_;
};

YAML::Node parse(std::string_view yaml, const std::string& name) {
  try {
    return YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    throw input_error(fmt::format("{}:{}:{}: YAML syntax error: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}: cannot open file", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<architecture> parse_architecture(std::string_view s) {
  for (auto a : {architecture::transformer, architecture::xlstm})
    if (name(a) == s) return a;
  return std::nullopt;
}

std::optional<overlap> overlap_of(std::string_view s) {
  for (auto o : all_overlaps)
    if (name(o) == s) return o;
  return std::nullopt;
}

std::optional<enum partial_chunk> partial_chunk_of(std::string_view s) {
  if (s == "pad") return partial_chunk::pad;
  if (s == "fraction") return partial_chunk::fraction;
  return std::nullopt;
}

void read_accounting(reader r, accounting& a) {
  r.number_if("attention_causal_factor", a.attention_causal_factor, 0, true, 1);
  r.number_if("mlstm_causal_factor", a.mlstm_causal_factor, 0, true, 1);
  for (auto [key, field] : {std::pair{"softmax_flops", &a.softmax_flops}, {"norm_flops", &a.norm_flops},
                            {"swish_flops", &a.swish_flops}, {"skip_flops", &a.skip_flops},
                            {"exp_flops", &a.exp_flops}, {"log_flops", &a.log_flops},
                            {"sigmoid_flops", &a.sigmoid_flops}, {"max_flops", &a.max_flops},
                            {"abs_flops", &a.abs_flops}})
    r.number_if(key, *field, 0, false);
  if (auto n = r.optional("partial_chunk"))
    a.partial_chunk = r.choice<enum partial_chunk>(n, "partial_chunk", "value", "pad, fraction", partial_chunk_of);
  r.boolean_if("final_norm_flops_prefill", a.final_norm_flops_prefill);
  r.boolean_if("final_norm_flops_decode", a.final_norm_flops_decode);
  r.finish();
}

model_spec read_model(const YAML::Node& root, const std::string& file) {
  reader r(file, root, "",
           {"name", "architecture", "d_model", "n_layers", "n_heads", "ffn_dim", "vocab_size", "tied_embeddings",
            "attention", "mlstm", "dtypes", "accounting"});
  model_spec m;
  m.name = r.string("name");
  const auto arch_node = r.required("architecture");
  m.architecture =
      r.choice<architecture>(arch_node, "architecture", "architecture", "transformer, xlstm", parse_architecture);
  m.d_model = r.positive_int("d_model");
  m.n_layers = r.positive_int("n_layers");
  m.n_heads = r.positive_int("n_heads");
  m.ffn_dim = r.positive_int("ffn_dim");
  m.vocab_size = r.positive_int("vocab_size");
  m.tied_embeddings = r.boolean(r.required("tied_embeddings"), "tied_embeddings");

  const bool transformer = m.architecture == architecture::transformer;
  const std::string section = transformer ? "attention" : "mlstm";
  const std::string other = transformer ? "mlstm" : "attention";
  if (r.has(other))
    r.fail(r.key_node(other), fmt::format("'{}' does not apply to architecture {}; use '{}'", other, name(m.architecture), section));
  reader s = r.child(section);
  if (transformer) {
    m.attention.n_kv_heads = s.positive_int("n_kv_heads");
    m.attention.head_dim = s.positive_int("head_dim");
    s.boolean_if("qkv_bias", m.attention.qkv_bias);
    if (m.n_heads % m.attention.n_kv_heads != 0)
      s.fail(s.required("n_kv_heads"), fmt::format("'attention.n_kv_heads' ({}) must divide 'n_heads' ({})",
                                                   m.attention.n_kv_heads, m.n_heads));
  } else {
    m.mlstm.qk_dim_factor = s.number("qk_dim_factor", 0, true);
    m.mlstm.chunk_size = s.positive_int("chunk_size");
    if (m.d_model % m.n_heads != 0)
      r.fail(r.required("n_heads"), fmt::format("'n_heads' ({}) must divide 'd_model' ({})", m.n_heads, m.d_model));
    const int head = m.d_model / m.n_heads;
    const double dqk = m.mlstm.qk_dim_factor * head;
    if (dqk != static_cast<int>(dqk))
      s.fail(s.required("qk_dim_factor"),
             fmt::format("'mlstm.qk_dim_factor' ({}) times the head width d_model / n_heads ({}) must be an integer",
                         m.mlstm.qk_dim_factor, head));
  }
  s.finish();

  if (auto n = r.optional("dtypes")) {
    reader d(file, n, "dtypes");
    for (auto [key, field] : {std::pair{"weights", &m.dtypes.weights}, {"activations", &m.dtypes.activations},
                              {"kv_cache", &m.dtypes.kv_cache}, {"state", &m.dtypes.state}})
      if (auto v = d.optional(key)) *field = d.dtype_of(v, key);
    d.finish();
  }
  if (auto n = r.optional("accounting")) read_accounting(reader(file, n, "accounting"), m.accounting);
  r.finish();
  if (auto v = check(m)) r.fail(root, v->message);  // rules not tied to one key above
  return m;
}

peak_table read_peaks(reader r) {
  peak_table t{};
  for (dtype d : all_dtypes) {
    const std::string key(name(d));
    if (auto n = r.optional(key)) t[std::size_t(d)] = r.number(n, key, 0, true) * 1e12 * flop_per_second;
  }
  r.finish();
  return t;
}

std::vector<error_cell> read_cells(const reader& r, const YAML::Node& list, const std::string& key) {
  if (!list.IsSequence()) r.fail(list, fmt::format("'{}' must be a list of error cells", r.dotted(key)));
  std::vector<error_cell> cells;
  for (std::size_t i = 0; i < list.size(); ++i) {
    reader c(r.file(), list[i], fmt::format("{}[{}]", r.dotted(key), i));
    error_cell e;
    e.architecture = c.string("architecture");
    e.phase = c.string("phase");
    e.n = int(c.integer(c.required("n"), "n", 0));
    e.median_ape = c.number("median_ape", 0, false);
    e.mean_ape = c.number("mean_ape", 0, false);
    e.p90_ape = c.number("p90_ape", 0, false);
    e.max_ape = c.number("max_ape", 0, false);
    c.finish();
    cells.push_back(std::move(e));
  }
  return cells;
}

// One entry of timing.classes: every key required.
void read_class(reader& ec, class_timing& ct) {
  ct.compute = ec.number("compute", 0, true, 1);
  ct.memory = ec.number("memory", 0, true, 1);
  ct.half_parallel = ec.number("half_parallel", 0, false);
  ct.overhead = ec.number("overhead_us", 0, false) * 1e-6 * second;
  ct.per_item = ec.number("per_item_us", 0, false) * 1e-6 * second;
  ct.per_step = ec.number("per_step_us", 0, false) * 1e-6 * second;
  ec.finish();
}

hardware read_hardware(const YAML::Node& root, const std::string& file) {
  reader r(file, root, "",
           {"name", "sources", "matrix_tflops", "vector_tflops", "memory_bandwidth_gb_s", "memory_capacity_gb",
            "tdp_w", "compute_units", "timing", "calibration"});
  hardware hw;
  hw.file = file;
  hw.name = r.string("name");
  const auto sources = r.required("sources");
  if (!sources.IsSequence() || sources.size() == 0)
    r.fail(sources, "'sources' must be a list of the documents the numbers come from");
  for (const auto& s : sources) hw.sources.push_back(r.text(s, "sources"));
  hw.matrix = read_peaks(r.child("matrix_tflops"));
  hw.vector = read_peaks(r.child("vector_tflops"));
  hw.bandwidth = r.number("memory_bandwidth_gb_s", 0, true) * 1e9 * byte_per_second;
  hw.capacity = r.number("memory_capacity_gb", 0, true) * 1e9 * byte;
  hw.tdp_watts = r.number("tdp_w", 0, true);
  hw.compute_units = r.positive_int("compute_units");

  reader t = r.child("timing");
  timing_params& tp = hw.timing;
  tp.overlap = t.choice<overlap>(t.required("overlap"), "overlap", "overlap policy", "perfect, none, smooth", overlap_of);
  tp.smooth_exponent = t.number("smooth_exponent", 1, false);
  reader tile = t.child("gemm_tile");
  tp.gemm_tile_m = double(tile.integer(tile.required("m"), "m", 0));
  tp.gemm_tile_n = double(tile.integer(tile.required("n"), "n", 0));
  tp.gemm_waves = tile.boolean(tile.required("waves"), "waves");
  tile.finish();
  reader cls = t.child("classes");
  for (op_class c : all_op_classes) {
    reader ec = cls.child(std::string(name(c)));
    read_class(ec, tp.of(c));
  }
  if (auto n = cls.optional("attention_long")) {
    reader ec(file, n, "timing.classes.attention_long");
    tp.attention_long_from_keys = double(ec.integer(ec.required("from_keys"), "from_keys", 1));
    read_class(ec, tp.attention_long);
  }
  cls.finish();
  tp.overhead_per_forward = t.number("overhead_per_forward_us", 0, false) * 1e-6 * second;
  tp.overhead_per_batched_forward = t.number("overhead_per_batched_forward_us", 0, false) * 1e-6 * second;
  t.finish();

  if (auto n = r.optional("calibration")) {
    reader c(file, n, "calibration");
    calibration_record rec;
    rec.dataset = c.string("dataset");
    rec.date = c.string("date");
    rec.method = c.string("method");
    rec.in_sample = read_cells(c, c.required("in_sample"), "in_sample");
    if (auto h = c.optional("held_out")) rec.held_out = read_cells(c, h, "held_out");
    c.finish();
    hw.calibration = std::move(rec);
  }
  r.finish();
  return hw;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream ss(line);
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

}  // namespace

std::vector<measurement> load_measurements(const std::string& path) {
  std::istringstream in(slurp(path));
  std::string line;
  if (!std::getline(in, line)) throw input_error(fmt::format("{}:1:1: empty file; expected a header line", path));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const auto header = split_fields(line);
  static const std::array<std::string, 6> required{"model", "batch", "prefill", "generate", "ttft_ms", "step_ms"};
  std::array<std::size_t, 6> col{};
  for (std::size_t i = 0; i < required.size(); ++i) {
    const auto it = std::find(header.begin(), header.end(), required[i]);
    if (it == header.end())
      throw input_error(fmt::format("{}:1:1: missing column '{}'; required: model, batch, prefill, generate, "
                                    "ttft_ms, step_ms",
                                    path, required[i]));
    col[i] = std::size_t(it - header.begin());
  }
  std::vector<measurement> rows;
  for (int n = 2; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto f = split_fields(line);
    if (f.size() != header.size())
      throw input_error(fmt::format("{}:{}:1: {} fields; the header has {}", path, n, f.size(), header.size()));
    // 1-based column of field i, for messages
    const auto at = [&](std::size_t i) {
      std::size_t c = 1;
      for (std::size_t j = 0; j < i; ++j) c += f[j].size() + 1;
      return c;
    };
    const auto count = [&](std::size_t k) {
      const std::string& s = f[col[k]];
      std::size_t used = 0;
      long long v = 0;
      try { v = std::stoll(s, &used); } catch (const std::exception&) { used = 0; }
      if (used == 0 || used != s.size() || v < 1)
        throw input_error(fmt::format("{}:{}:{}: '{}' must be a positive integer, got '{}'", path, n, at(col[k]),
                                      required[k], s));
      return std::int64_t(v);
    };
    const auto time = [&](std::size_t k) -> std::optional<double> {
      const std::string& s = f[col[k]];
      if (s.empty()) return std::nullopt;
      std::size_t used = 0;
      double v = 0;
      try { v = std::stod(s, &used); } catch (const std::exception&) { used = 0; }
      if (used == 0 || used != s.size() || !(v > 0) || !std::isfinite(v))
        throw input_error(fmt::format("{}:{}:{}: '{}' must be a positive number of milliseconds or empty, got '{}'",
                                      path, n, at(col[k]), required[k], s));
      return v;
    };
    if (f[col[0]].empty()) throw input_error(fmt::format("{}:{}:{}: 'model' is empty", path, n, at(col[0])));
    rows.push_back({f[col[0]], {.batch = count(1), .prefill = count(2), .generate = count(3)}, time(4), time(5), n});
  }
  return rows;
}

namespace {

// A list under `fits:`, each entry read by `read`.
template <class T, class Read>
std::vector<T> read_fits(const std::string& path, Read read) {
  const std::string file = path;
  const YAML::Node root = parse(slurp(path), file);
  reader r(file, root, "", {"fits"});
  const YAML::Node list = r.required("fits");
  if (!list.IsSequence() || list.size() == 0) r.fail(list, "'fits' must be a non-empty list");
  std::vector<T> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    reader e(file, list[i], fmt::format("fits[{}]", i));
    T fit;
    fit.family = e.choice<std::string>(e.required("family"), "family", "family", "transformer, xlstm",
                                       [](std::string_view s) -> std::optional<std::string> {
                                         if (s == "transformer" || s == "xlstm") return std::string(s);
                                         return std::nullopt;
                                       });
    fit.context = e.positive_int("context");
    fit.source = e.string("source");
    read(e, fit);
    e.finish();
    out.push_back(std::move(fit));
  }
  r.finish();
  return out;
}

}  // namespace

std::vector<loss_fit> load_loss_fits(const std::string& path) {
  return read_fits<loss_fit>(path, [](reader& e, loss_fit& f) {
    f.name = e.string("name");
    const double inf = std::numeric_limits<double>::infinity();
    f.log_a = e.number("log_a", -inf, false);
    f.log_b = e.number("log_b", -inf, false);
    f.log_e = e.number("log_e", -inf, false);
    f.alpha = e.number("alpha", 0, true);
    f.beta = e.number("beta", 0, true);
    f.gamma = e.number("gamma", 0, true);
  });
}

std::vector<isoflop_fit> load_isoflop_fits(const std::string& path) {
  return read_fits<isoflop_fit>(path, [](reader& e, isoflop_fit& f) {
    f.params_coefficient = e.number("params_coefficient", 0, true);
    f.params_exponent = e.number("params_exponent", 0, true);
    f.tokens_coefficient = e.number("tokens_coefficient", 0, true);
    f.tokens_exponent = e.number("tokens_exponent", 0, true);
  });
}

std::string hardware_yaml(const hardware& hw) {
  YAML::Emitter y;
  y.SetDoublePrecision(6);
  y << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << hw.name;
  y << YAML::Key << "sources" << YAML::Value << hw.sources;
  const auto peaks = [&](const char* key, const peak_table& t) {
    y << YAML::Key << key << YAML::Value << YAML::BeginMap;
    for (dtype d : all_dtypes)
      if (auto p = peak_of(t, d)) y << YAML::Key << std::string(name(d)) << YAML::Value << p->value() / 1e12;
    y << YAML::EndMap;
  };
  peaks("matrix_tflops", hw.matrix);
  peaks("vector_tflops", hw.vector);
  y << YAML::Key << "memory_bandwidth_gb_s" << YAML::Value << hw.bandwidth.value() / 1e9;
  y << YAML::Key << "memory_capacity_gb" << YAML::Value << hw.capacity.value() / 1e9;
  y << YAML::Key << "tdp_w" << YAML::Value << hw.tdp_watts;
  y << YAML::Key << "compute_units" << YAML::Value << hw.compute_units;
  const timing_params& t = hw.timing;
  y << YAML::Key << "timing" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "overlap" << YAML::Value << std::string(name(t.overlap));
  y << YAML::Key << "smooth_exponent" << YAML::Value << t.smooth_exponent;
  y << YAML::Key << "gemm_tile" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "m" << YAML::Value
    << int(t.gemm_tile_m) << YAML::Key << "n" << YAML::Value << int(t.gemm_tile_n) << YAML::Key << "waves"
    << YAML::Value << t.gemm_waves << YAML::EndMap;
  y << YAML::Key << "classes" << YAML::Value << YAML::BeginMap;
  const auto entry = [&](const std::string& key, const class_timing& ct, double from_keys) {
    y << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap;
    if (from_keys > 0) y << YAML::Key << "from_keys" << YAML::Value << std::int64_t(from_keys);
    y << YAML::Key << "compute" << YAML::Value << ct.compute << YAML::Key << "memory" << YAML::Value << ct.memory;
    y << YAML::Key << "half_parallel" << YAML::Value << ct.half_parallel;
    y << YAML::Key << "overhead_us" << YAML::Value << ct.overhead.value() * 1e6;
    y << YAML::Key << "per_item_us" << YAML::Value << ct.per_item.value() * 1e6;
    y << YAML::Key << "per_step_us" << YAML::Value << ct.per_step.value() * 1e6 << YAML::EndMap;
  };
  for (op_class c : all_op_classes) entry(std::string(name(c)), t.of(c), 0);
  if (t.attention_long_from_keys > 0) entry("attention_long", t.attention_long, t.attention_long_from_keys);
  y << YAML::EndMap;
  y << YAML::Key << "overhead_per_forward_us" << YAML::Value << t.overhead_per_forward.value() * 1e6;
  y << YAML::Key << "overhead_per_batched_forward_us" << YAML::Value << t.overhead_per_batched_forward.value() * 1e6;
  y << YAML::EndMap;
  if (hw.calibration) {
    const calibration_record& c = *hw.calibration;
    const auto cells = [&](const char* key, const std::vector<error_cell>& v) {
      y << YAML::Key << key << YAML::Value << YAML::BeginSeq;
      for (const error_cell& e : v)
        y << YAML::Flow << YAML::BeginMap << YAML::Key << "architecture" << YAML::Value << e.architecture
          << YAML::Key << "phase" << YAML::Value << e.phase << YAML::Key << "n" << YAML::Value << e.n << YAML::Key
          << "median_ape" << YAML::Value << e.median_ape << YAML::Key << "mean_ape" << YAML::Value << e.mean_ape
          << YAML::Key << "p90_ape" << YAML::Value << e.p90_ape << YAML::Key << "max_ape" << YAML::Value << e.max_ape
          << YAML::EndMap;
      y << YAML::EndSeq;
    };
    y << YAML::Key << "calibration" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "dataset" << YAML::Value << c.dataset << YAML::Key << "date" << YAML::Value << c.date;
    y << YAML::Key << "method" << YAML::Value << c.method;
    cells("in_sample", c.in_sample);
    if (!c.held_out.empty()) cells("held_out", c.held_out);
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

model_spec parse_model(std::string_view yaml, const std::string& name) { return read_model(parse(yaml, name), name); }
hardware parse_hardware(std::string_view yaml, const std::string& name) {
  return read_hardware(parse(yaml, name), name);
}
model_spec load_model(const std::string& path) { return parse_model(slurp(path), path); }
hardware load_hardware(const std::string& path) { return parse_hardware(slurp(path), path); }

overlap parse_overlap(std::string_view s, std::string_view what) {
  if (auto o = overlap_of(s)) return *o;
  throw input_error(fmt::format("{}: unknown overlap policy '{}'; allowed: perfect, none, smooth", what, s));
}

}  // namespace roofline
