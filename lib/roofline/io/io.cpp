// io: hardware profiles, measurements, scaling fits, and profiles written back (model specs: model_io.cpp).
#include "roofline/io/io.hpp"

#include <array>
#include <cctype>

#include "roofline/io/io_reader.hpp"

namespace roofline {
namespace {

using io_detail::parse;
using io_detail::reader;
using io_detail::slurp;

std::optional<overlap> overlap_of(std::string_view s) {
  for (auto o : all_overlaps)
    if (name(o) == s) return o;
  return std::nullopt;
}

peak_table read_peaks(reader r) {
  peak_table t{};
  for (dtype d : all_dtypes) {
    const std::string key(name(d));
    if (auto n = r.optional(key)) t[std::size_t(d)] = r.number(n, key, 0, true, 1e6) * 1e12 * flop_per_second;
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
    e.median_ape = c.number("median_ape", 0, false, 1e12);
    e.mean_ape = c.number("mean_ape", 0, false, 1e12);
    e.p90_ape = c.number("p90_ape", 0, false, 1e12);
    e.max_ape = c.number("max_ape", 0, false, 1e12);
    c.finish();
    cells.push_back(std::move(e));
  }
  return cells;
}

// One entry of timing.classes: every key required.
void read_class(reader& ec, class_timing& ct) {
  ct.compute = ec.number("compute", 0, true, 1);
  ct.memory = ec.number("memory", 0, true, 1);
  ct.half_parallel = ec.number("half_parallel", 0, false, 1e12);
  ct.overhead = ec.number("overhead_us", 0, false, 1e9) * 1e-6 * second;
  ct.per_item = ec.number("per_item_us", 0, false, 1e9) * 1e-6 * second;
  ct.per_step = ec.number("per_step_us", 0, false, 1e9) * 1e-6 * second;
  ec.finish();
}

// A list of sources: at least one document.
std::vector<std::string> read_sources(reader& r) {
  const auto sources = r.required("sources");
  if (!sources.IsSequence() || sources.size() == 0)
    r.fail(sources, "'sources' must be a list of the documents the numbers come from");
  std::vector<std::string> out;
  for (const auto& s : sources) out.push_back(r.text(s, "sources"));
  return out;
}

// One link of interconnect: name, bandwidth per GPU and direction, per-step latency, and for the
// scale-up domain its GPUs.
link read_link(reader l, bool domain) {
  link k;
  k.name = l.string("name");
  k.bandwidth = l.number("bandwidth_gb_s", 0, true, 1e6) * 1e9 * byte_per_second;
  k.latency = l.number("latency_us", 0, false, 1e6) * 1e-6 * second;
  if (domain) k.gpus = l.positive_int("gpus", 1 << 20);
  l.finish();
  return k;
}

part read_part(const YAML::Node& root, const std::string& file) {
  reader r(file, root, "",
           {"name", "names", "sources", "matrix_tflops", "vector_tflops", "memory_bandwidth_gb_s",
            "memory_capacity_gb", "tdp_w", "compute_units", "clock_mhz", "interconnect"});
  for (const char* moved : {"timing", "calibration"})
    if (r.has(moved))
      r.fail(r.key_node(moved), fmt::format("'{}' belongs to a stack, not a part: move it to a stack file "
                                            "(stacks/example.yaml documents one) and give it with --stack",
                                            moved));
  part p;
  p.file = file;
  p.name = r.string("name");
  if (auto n = r.optional("names")) {
    if (!n.IsSequence() || n.size() == 0)
      r.fail(n, "'names' must be a list of the part's short ids (h100_sxm, ...)");
    for (const auto& s : n) p.names.push_back(r.text(s, "names"));
  }
  p.sources = read_sources(r);
  p.matrix = read_peaks(r.child("matrix_tflops"));
  p.vector = read_peaks(r.child("vector_tflops"));
  p.bandwidth = r.number("memory_bandwidth_gb_s", 0, true, 1e6) * 1e9 * byte_per_second;
  p.capacity = r.number("memory_capacity_gb", 0, true, 1e6) * 1e9 * byte;
  p.tdp_watts = r.number("tdp_w", 0, true, 1e6);
  p.compute_units = r.positive_int("compute_units", 1'000'000);
  r.number_if("clock_mhz", p.clock_mhz, 0, true, 1e5);
  if (auto n = r.optional("interconnect")) {
    reader ic(file, n, "interconnect");
    if (auto u = ic.optional("scale_up"))
      p.interconnect.scale_up = read_link(reader(file, u, "interconnect.scale_up"), true);
    if (auto o = ic.optional("scale_out"))
      p.interconnect.scale_out = read_link(reader(file, o, "interconnect.scale_out"), false);
    if (!p.interconnect.scale_up && !p.interconnect.scale_out)
      ic.fail(n, "'interconnect' needs 'scale_up', 'scale_out' or both");
    ic.finish();
  }
  r.finish();
  return p;
}

timing_params read_timing(reader t) {
  timing_params tp;
  tp.overlap = t.choice<overlap>(t.required("overlap"), "overlap", "overlap policy", "perfect, none, smooth",
                                 overlap_of);
  tp.smooth_exponent = t.number("smooth_exponent", 1, false, 1e3);
  reader tile = t.child("gemm_tile");
  tp.gemm_tile_m = double(tile.integer(tile.required("m"), "m", 0, 65536));
  tp.gemm_tile_n = double(tile.integer(tile.required("n"), "n", 0, 65536));
  tp.gemm_waves = tile.boolean(tile.required("waves"), "waves");
  tile.finish();
  reader cls = t.child("classes");
  for (op_class c : all_op_classes) {
    reader ec = cls.child(std::string(name(c)));
    read_class(ec, tp.of(c));
  }
  if (auto n = cls.optional("attention_long")) {
    reader ec(t.file(), n, "timing.classes.attention_long");
    tp.attention_long_from_keys = double(ec.integer(ec.required("from_keys"), "from_keys", 1, max_tokens));
    read_class(ec, tp.attention_long);
  }
  cls.finish();
  tp.overhead_per_forward = t.number("overhead_per_forward_us", 0, false, 1e9) * 1e-6 * second;
  tp.overhead_per_batched_forward =
      t.number("overhead_per_batched_forward_us", 0, false, 1e9) * 1e-6 * second;
  reader col = t.child("collectives");
  reader eff = col.child("efficiency");
  for (collective c : all_collectives)
    tp.collectives.efficiency[std::size_t(c)] = eff.number(std::string(name(c)), 0, true, 2);
  eff.finish();
  tp.collectives.overhead = col.number("overhead_us", 0, false, 1e9) * 1e-6 * second;
  tp.collectives.overlap = col.choice<overlap>(col.required("overlap"), "overlap", "overlap policy",
                                               "perfect, none, smooth", overlap_of);
  col.finish();
  if (auto n = t.optional("serving")) {
    reader sv(t.file(), n, "timing.serving");
    serving_params& sp = tp.serving;
    sp.stated = true;
    sp.max_batch_tokens =
        double(sv.integer(sv.required("max_batch_tokens"), "max_batch_tokens", 1, max_tokens));
    sp.max_batch = double(sv.integer(sv.required("max_batch"), "max_batch", 1, max_tokens));
    sp.memory_fraction = sv.number("memory_fraction", 0, true, 1);
    sp.block_tokens = double(sv.integer(sv.required("block_tokens"), "block_tokens", 1, 1 << 20));
    sp.reserve_final_length = sv.boolean(sv.required("reserve_final_length"), "reserve_final_length");
    sp.iteration_overhead = sv.number("iteration_overhead_us", 0, false, 1e9) * 1e-6 * second;
    sp.request_overhead = sv.number("request_overhead_ms", 0, false, 1e9) * 1e-3 * second;
    sp.admission_wait = sv.number("admission_wait", 0, false, 1e6);
    sp.queued_requests = sv.number("queued_requests", 0, false, 1e6);
    sp.burst = sv.number("burst", 0, false, 1);
    sv.finish();
  }
  t.finish();
  return tp;
}

stack read_stack(const YAML::Node& root, const std::string& file) {
  reader r(file, root, "", {"name", "engine", "describes", "sources", "fitted_on", "timing", "calibration"});
  for (const char* moved : {"matrix_tflops", "vector_tflops", "memory_bandwidth_gb_s", "memory_capacity_gb",
                            "compute_units", "tdp_w"})
    if (r.has(moved))
      r.fail(r.key_node(moved),
             fmt::format("'{}' is a datasheet number: it belongs to a part (hw_profiles/), not "
                         "a stack",
                         moved));
  stack s;
  s.file = file;
  s.name = r.string("name");
  if (auto n = r.optional("engine")) s.engine = r.text(n, "engine");
  s.describes = r.string("describes");
  s.sources = read_sources(r);
  if (auto n = r.optional("fitted_on")) {
    reader f(file, n, "fitted_on");
    stack_origin o;
    o.part = f.string("part");
    o.compute_units = f.positive_int("compute_units", 1'000'000);
    f.number_if("clock_mhz", o.clock_mhz, 0, true, 1e5);
    f.finish();
    s.fitted_on = std::move(o);
  }
  s.timing = read_timing(r.child("timing"));
  if (auto n = r.optional("calibration")) {
    reader c(file, n, "calibration");
    calibration_record rec;
    rec.dataset = c.string("dataset");
    rec.date = c.string("date");
    rec.method = c.string("method");
    rec.in_sample = read_cells(c, c.required("in_sample"), "in_sample");
    if (auto h = c.optional("held_out")) rec.held_out = read_cells(c, h, "held_out");
    c.finish();
    s.calibration = std::move(rec);
  }
  r.finish();
  return s;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream ss(line);
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// The header of a CSV (its first line; a byte-order mark dropped) as fields.
std::vector<std::string> csv_header(std::istream& in, const std::string& path) {
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

}  // namespace

std::vector<measurement> load_measurements(const std::string& path) {
  return parse_measurements(slurp(path), path);
}

std::vector<measurement> parse_measurements(std::string_view text, const std::string& path) {
  std::istringstream in{std::string(text)};
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
      if (!v || !(*v > 0))
        throw input_error(
            fmt::format("{}:{}:{}: '{}' must be a positive number of milliseconds or empty, got '{}'", path,
                        n, at(col[k]), required[k], s));
      return *v;
    };
    if (f[col[0]].empty()) throw input_error(fmt::format("{}:{}:{}: 'model' is empty", path, n, at(col[0])));
    rows.push_back(
        {f[col[0]], {.batch = count(1), .prefill = count(2), .generate = count(3)}, time(4), time(5), n});
  });
  return rows;
}

std::vector<engine_run> load_engine_runs(const std::string& path) {
  return parse_engine_runs(slurp(path), path);
}

std::vector<engine_run> parse_engine_runs(std::string_view text, const std::string& path) {
  std::istringstream in{std::string(text)};
  const auto header = csv_header(in, path);
  const auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end())
      throw input_error(fmt::format(
          "{}:1:1: missing column '{}' of an engine-runs CSV (serving/README.md lists them)", path, name));
    return std::size_t(it - header.begin());
  };
  const std::size_t c_id = column("id"), c_source = column("silicon_data_source"),
                    c_engine = column("backend"), c_version = column("backend_version"),
                    c_model = column("model_path"), c_system = column("system"),
                    c_precision = column("precision"), c_mode = column("mode"), c_isl = column("isl"),
                    c_osl = column("osl"), c_gemm = column("gemm_quant_mode"),
                    c_moe = column("moe_quant_mode"), c_ttft = column("silicon_ttft_ms"),
                    c_tpot = column("silicon_tpot_ms");
  const auto pool_columns = [&](const std::string& prefix, bool workers) {
    std::array<std::size_t, 7> c{};
    c[0] = workers ? column(prefix + "num_workers") : header.size();
    c[1] = column(prefix + "batch_size");
    std::size_t i = 2;
    for (const char* k : {"tp_size", "pp_size", "attention_dp_size", "moe_tp_size", "moe_ep_size"})
      c[i++] = column(prefix + k);
    return c;
  };
  const auto agg_c = pool_columns("", false), pre_c = pool_columns("prefill_", true),
             dec_c = pool_columns("decode_", true);
  std::vector<engine_run> rows;
  for_each_row(in, header.size(), path, [&](int n, const std::vector<std::string>& f, const auto& at) {
    const auto fail = [&](std::size_t i, const std::string& what) {
      throw input_error(fmt::format("{}:{}:{}: '{}' {}, got '{}'", path, n, at(i), header[i], what, f[i]));
    };
    // sizes: an integer from `least`; an empty parallel field is 1 (the README's rule)
    const auto integer = [&](std::size_t i, bool empty_is_one, long long least = 1,
                             long long most = max_tokens) -> std::int64_t {
      if (i >= f.size()) return 1;
      if (f[i].empty()) {
        if (empty_is_one) return 1;
        fail(i, "must be given");
      }
      const auto v = io_detail::whole(f[i]);
      if (!v || *v < least || *v > most)
        fail(i, fmt::format("must be an integer from {} to {}", least, most));
      return std::int64_t(*v);
    };
    constexpr long long most_gpus = 1 << 16;  // max_parallel: GPUs in one dimension of a layout
    const auto time = [&](std::size_t i) {
      const auto v = io_detail::decimal(f[i]);
      if (!v || !(*v > 0) || !(*v < 1e12)) fail(i, "must be a positive number of milliseconds");
      return *v;
    };
    const auto pool = [&](const std::array<std::size_t, 7>& c) {
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
    };
    engine_run r;
    r.id = f[c_id];
    r.engine = f[c_engine];
    r.engine_version = f[c_version];
    r.model = f[c_model];
    r.system = f[c_system];
    r.precision = f[c_precision];
    r.gemm_quant = f[c_gemm];
    r.moe_quant = f[c_moe];
    for (std::size_t i : {c_engine, c_model, c_system})
      if (f[i].empty()) fail(i, "must be given");
    if (f[c_mode] != "agg" && f[c_mode] != "disagg") fail(c_mode, "must be agg or disagg");
    r.disaggregated = f[c_mode] == "disagg";
    r.isl = integer(c_isl, false);
    r.osl = integer(c_osl, false);
    const std::string key = "silicon_concurrency=";
    const std::size_t k = f[c_source].find(key);
    if (k != std::string::npos) {  // absent: concurrency 0, a run that cannot be reproduced
      std::size_t end = k + key.size();
      while (end < f[c_source].size() && std::isdigit(static_cast<unsigned char>(f[c_source][end]))) ++end;
      const auto conc = io_detail::whole(f[c_source].substr(k + key.size(), end - k - key.size()));
      if (!conc || *conc < 1 || *conc > 1'000'000'000)
        fail(c_source, "must hold a concurrency from 1 to 1e9");
      r.concurrency = double(*conc);
    }
    r.agg = pool(agg_c);
    if (r.disaggregated) {
      r.stages_stated =
          !f[pre_c[2]].empty() && !f[dec_c[2]].empty() && !f[pre_c[0]].empty() && !f[dec_c[0]].empty();
      if (r.stages_stated) {
        r.prefill = pool(pre_c);
        r.decode = pool(dec_c);
      }
    }
    r.ttft_ms = time(c_ttft);
    r.tpot_ms = time(c_tpot);
    r.line = n;
    rows.push_back(std::move(r));
  });
  return rows;
}

namespace {

// A list under `fits:`, each entry read by `read`.
template <class T, class Read>
std::vector<T> read_fits(std::string_view text, const std::string& path, Read read) {
  const std::string file = path;
  const YAML::Node root = parse(text, file);
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
    fit.context = e.positive_int("context", 1 << 30);
    fit.source = e.string("source");
    read(e, fit);
    e.finish();
    out.push_back(std::move(fit));
  }
  r.finish();
  return out;
}

}  // namespace

std::vector<loss_fit> load_loss_fits(const std::string& path) { return parse_loss_fits(slurp(path), path); }
std::vector<isoflop_fit> load_isoflop_fits(const std::string& path) {
  return parse_isoflop_fits(slurp(path), path);
}

std::vector<loss_fit> parse_loss_fits(std::string_view text, const std::string& path) {
  return read_fits<loss_fit>(text, path, [](reader& e, loss_fit& f) {
    f.name = e.string("name");
    f.log_a = e.number("log_a", -1e3, false, 1e3);
    f.log_b = e.number("log_b", -1e3, false, 1e3);
    f.log_e = e.number("log_e", -1e3, false, 1e3);
    f.alpha = e.number("alpha", 0, true, 100);
    f.beta = e.number("beta", 0, true, 100);
    f.gamma = e.number("gamma", 0, true, 100);
  });
}

std::vector<isoflop_fit> parse_isoflop_fits(std::string_view text, const std::string& path) {
  return read_fits<isoflop_fit>(text, path, [](reader& e, isoflop_fit& f) {
    f.params_coefficient = e.number("params_coefficient", 0, true, 1e30);
    f.params_exponent = e.number("params_exponent", 0, true, 10);
    f.tokens_coefficient = e.number("tokens_coefficient", 0, true, 1e30);
    f.tokens_exponent = e.number("tokens_exponent", 0, true, 10);
  });
}

namespace {

void emit_sources(YAML::Emitter& y, const std::vector<std::string>& sources) {
  y << YAML::Key << "sources" << YAML::Value << YAML::BeginSeq;
  for (const std::string& s : sources) y << s;
  y << YAML::EndSeq;
}

}  // namespace

std::string part_yaml(const part& p) {
  YAML::Emitter y;
  y.SetDoublePrecision(6);
  y << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << p.name;
  if (!p.names.empty()) {
    y << YAML::Key << "names" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const std::string& n : p.names) y << n;
    y << YAML::EndSeq;
  }
  emit_sources(y, p.sources);
  const auto peaks = [&](const char* key, const peak_table& t) {
    y << YAML::Key << key << YAML::Value << YAML::BeginMap;
    for (dtype d : all_dtypes)
      if (auto v = peak_of(t, d)) y << YAML::Key << std::string(name(d)) << YAML::Value << v->value() / 1e12;
    y << YAML::EndMap;
  };
  peaks("matrix_tflops", p.matrix);
  peaks("vector_tflops", p.vector);
  y << YAML::Key << "memory_bandwidth_gb_s" << YAML::Value << p.bandwidth.value() / 1e9;
  y << YAML::Key << "memory_capacity_gb" << YAML::Value << p.capacity.value() / 1e9;
  y << YAML::Key << "tdp_w" << YAML::Value << p.tdp_watts;
  y << YAML::Key << "compute_units" << YAML::Value << p.compute_units;
  if (p.clock_mhz > 0) y << YAML::Key << "clock_mhz" << YAML::Value << p.clock_mhz;
  if (p.interconnect.scale_up || p.interconnect.scale_out) {
    y << YAML::Key << "interconnect" << YAML::Value << YAML::BeginMap;
    const auto emit = [&](const char* key, const link& l, bool domain) {
      y << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "name"
        << YAML::Value << l.name << YAML::Key << "bandwidth_gb_s" << YAML::Value << l.bandwidth.value() / 1e9
        << YAML::Key << "latency_us" << YAML::Value << l.latency.value() * 1e6;
      if (domain) y << YAML::Key << "gpus" << YAML::Value << l.gpus;
      y << YAML::EndMap;
    };
    if (p.interconnect.scale_up) emit("scale_up", *p.interconnect.scale_up, true);
    if (p.interconnect.scale_out) emit("scale_out", *p.interconnect.scale_out, false);
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

std::string stack_yaml(const stack& s) {
  YAML::Emitter y;
  y.SetDoublePrecision(6);
  y << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << s.name;
  if (!s.engine.empty()) y << YAML::Key << "engine" << YAML::Value << s.engine;
  y << YAML::Key << "describes" << YAML::Value << s.describes;
  emit_sources(y, s.sources);
  if (s.fitted_on) {
    y << YAML::Key << "fitted_on" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "part"
      << YAML::Value << s.fitted_on->part << YAML::Key << "compute_units" << YAML::Value
      << s.fitted_on->compute_units;
    if (s.fitted_on->clock_mhz > 0) y << YAML::Key << "clock_mhz" << YAML::Value << s.fitted_on->clock_mhz;
    y << YAML::EndMap;
  }
  const timing_params& t = s.timing;
  y << YAML::Key << "timing" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "overlap" << YAML::Value << std::string(name(t.overlap));
  y << YAML::Key << "smooth_exponent" << YAML::Value << t.smooth_exponent;
  y << YAML::Key << "gemm_tile" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "m"
    << YAML::Value << int(t.gemm_tile_m) << YAML::Key << "n" << YAML::Value << int(t.gemm_tile_n) << YAML::Key
    << "waves" << YAML::Value << t.gemm_waves << YAML::EndMap;
  y << YAML::Key << "classes" << YAML::Value << YAML::BeginMap;
  const auto entry = [&](const std::string& key, const class_timing& ct, double from_keys) {
    y << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap;
    if (from_keys > 0) y << YAML::Key << "from_keys" << YAML::Value << std::int64_t(from_keys);
    y << YAML::Key << "compute" << YAML::Value << ct.compute << YAML::Key << "memory" << YAML::Value
      << ct.memory;
    y << YAML::Key << "half_parallel" << YAML::Value << ct.half_parallel;
    y << YAML::Key << "overhead_us" << YAML::Value << ct.overhead.value() * 1e6;
    y << YAML::Key << "per_item_us" << YAML::Value << ct.per_item.value() * 1e6;
    y << YAML::Key << "per_step_us" << YAML::Value << ct.per_step.value() * 1e6 << YAML::EndMap;
  };
  for (op_class c : all_op_classes) entry(std::string(name(c)), t.of(c), 0);
  if (t.attention_long_from_keys > 0) entry("attention_long", t.attention_long, t.attention_long_from_keys);
  y << YAML::EndMap;
  y << YAML::Key << "overhead_per_forward_us" << YAML::Value << t.overhead_per_forward.value() * 1e6;
  y << YAML::Key << "overhead_per_batched_forward_us" << YAML::Value
    << t.overhead_per_batched_forward.value() * 1e6;
  y << YAML::Key << "collectives" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "efficiency" << YAML::Value << YAML::Flow << YAML::BeginMap;
  for (collective c : all_collectives)
    y << YAML::Key << std::string(name(c)) << YAML::Value << t.collectives.of(c);
  y << YAML::EndMap;
  y << YAML::Key << "overhead_us" << YAML::Value << t.collectives.overhead.value() * 1e6;
  y << YAML::Key << "overlap" << YAML::Value << std::string(name(t.collectives.overlap));
  y << YAML::EndMap;
  if (t.serving.stated) {
    const serving_params& sp = t.serving;
    y << YAML::Key << "serving" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "max_batch_tokens" << YAML::Value << std::int64_t(sp.max_batch_tokens);
    y << YAML::Key << "max_batch" << YAML::Value << std::int64_t(sp.max_batch);
    y << YAML::Key << "memory_fraction" << YAML::Value << sp.memory_fraction;
    y << YAML::Key << "block_tokens" << YAML::Value << std::int64_t(sp.block_tokens);
    y << YAML::Key << "reserve_final_length" << YAML::Value << sp.reserve_final_length;
    y << YAML::Key << "iteration_overhead_us" << YAML::Value << sp.iteration_overhead.value() * 1e6;
    y << YAML::Key << "request_overhead_ms" << YAML::Value << sp.request_overhead.value() * 1e3;
    y << YAML::Key << "admission_wait" << YAML::Value << sp.admission_wait;
    y << YAML::Key << "queued_requests" << YAML::Value << sp.queued_requests;
    y << YAML::Key << "burst" << YAML::Value << sp.burst;
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
  if (s.calibration) {
    const calibration_record& c = *s.calibration;
    const auto cells = [&](const char* key, const std::vector<error_cell>& v) {
      y << YAML::Key << key << YAML::Value << YAML::BeginSeq;
      for (const error_cell& e : v)
        y << YAML::Flow << YAML::BeginMap << YAML::Key << "architecture" << YAML::Value << e.architecture
          << YAML::Key << "phase" << YAML::Value << e.phase << YAML::Key << "n" << YAML::Value << e.n
          << YAML::Key << "median_ape" << YAML::Value << e.median_ape << YAML::Key << "mean_ape"
          << YAML::Value << e.mean_ape << YAML::Key << "p90_ape" << YAML::Value << e.p90_ape << YAML::Key
          << "max_ape" << YAML::Value << e.max_ape << YAML::EndMap;
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

part parse_part(std::string_view yaml, const std::string& name) { return read_part(parse(yaml, name), name); }
stack parse_stack(std::string_view yaml, const std::string& name) {
  return read_stack(parse(yaml, name), name);
}
part load_part(const std::string& path) { return parse_part(slurp(path), path); }
stack load_stack(const std::string& path) { return parse_stack(slurp(path), path); }

std::string default_stack_path(const std::string& part_path) {
  const std::filesystem::path p(part_path);
  return ((p.has_parent_path() ? p.parent_path() : std::filesystem::path(".")) / ".." / "stacks" /
          "datasheet.yaml")
      .lexically_normal()
      .string();
}

hardware load_hardware(const std::string& part_path, const std::string& stack_path) {
  part p = load_part(part_path);  // the part's errors before the stack's
  return drive(std::move(p), load_stack(stack_path.empty() ? default_stack_path(part_path) : stack_path));
}

overlap parse_overlap(std::string_view s, std::string_view what) {
  if (auto o = overlap_of(s)) return *o;
  throw input_error(fmt::format("{}: unknown overlap policy '{}'; allowed: perfect, none, smooth", what, s));
}

}  // namespace roofline
