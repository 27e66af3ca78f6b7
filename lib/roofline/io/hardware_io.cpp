// io: parts (hw_profiles/) and stacks (stacks/), read strictly and written back as YAML; the hardware
// an estimate runs on. Model specs: model_io.cpp; CSVs of measured runs: runs_io.cpp; fits: fits_io.cpp.
#include "roofline/io/io.hpp"

#include <array>
#include <cctype>

#include "roofline/io/io_reader.hpp"

namespace roofline {
namespace {

using io_detail::parse;
using io_detail::reader;
using io_detail::slurp;

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

// A part's measured energy: idle_w (below the TDP), pj_per_byte, pj_per_flop by format (bf16 at
// least), sources.
energy_coefficients read_energy(reader r, double tdp) {
  energy_coefficients e;
  e.idle_w = r.number("idle_w", 0, false, 1e6);
  if (tdp > 0 && e.idle_w >= tdp)
    r.fail(r.key_node("idle_w"), fmt::format("'{}' ({} W) must be below the part's tdp_w ({} W)",
                                             r.dotted("idle_w"), e.idle_w, tdp));
  e.pj_per_byte = r.number("pj_per_byte", 0, true, 1e4);
  reader f(r.file(), r.required("pj_per_flop"), r.dotted("pj_per_flop"));
  for (dtype d : all_dtypes) {
    const std::string key(name(d));
    if (auto n = f.optional(key)) e.pj_per_flop[std::size_t(d)] = f.number(n, key, 0, true, 1e4);
  }
  f.finish();
  if (e.pj_per_flop[std::size_t(dtype::bf16)] <= 0)
    r.fail(r.key_node("pj_per_flop"),
           fmt::format("'{}' needs bf16 (the value formats without one take)", r.dotted("pj_per_flop")));
  r.int_if("matrix_rows", e.matrix_rows, 0, 1 << 16);
  e.sources = read_sources(r);
  r.finish();
  return e;
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
            "memory_capacity_gb", "tdp_w", "compute_units", "clock_mhz", "interconnect", "energy"});
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
  if (auto n = r.optional("energy")) p.energy = read_energy(reader(file, n, "energy"), p.tdp_watts);
  r.finish();
  return p;
}

// The scheduler an engine's stack follows by default: its engine's where it names one the simulator
// knows (vllm, sglang, trtllm), else vLLM's.
serving_params::scheduler engine_scheduler(const std::string& engine) {
  return parse_name<serving_params::scheduler>(engine).value_or(serving_params::scheduler::vllm);
}

// A spread entry {p10, p90, points}: positive factors, p10 <= p90, points >= 1.
spread read_spread(reader r) {
  spread s;
  s.p10 = r.number("p10", 0, true, 1e3);
  s.p90 = r.number("p90", 0, true, 1e3);
  if (s.p90 < s.p10)
    r.fail(r.key_node("p90"), fmt::format("'{}' must be at least p10 ({})", r.dotted("p90"), s.p10));
  s.points = r.positive_int("points");
  r.finish();
  return s;
}

// timing.kernels: a kernel table (a CSV) and the part it was measured on (a profile), both named
// relative to the stack's file, and the held-out spread of each kind. An error in either file
// names the stack's key before it.
std::shared_ptr<const kernel_table> read_kernels(reader k) {
  auto t = std::make_shared<kernel_table>();
  const auto dir = std::filesystem::path(k.file()).parent_path();
  const auto load = [&](const char* key, std::string& text, auto&& read) {
    const YAML::Node n = k.required(key);
    text = k.text(n, key);
    try {
      read((dir / text).lexically_normal().string());
    } catch (const input_error& e) {
      k.fail(n, fmt::format("'{}': {}", k.dotted(key), e.what()));
    }
  };
  load("measured_on", t->measured_file, [&](const std::string& path) { t->measured_on = load_part(path); });
  load("table", t->file,
       [&](const std::string& path) { t->grids = kernel_grids(load_kernel_rows(path), path); });
  if (auto n = k.optional("spread")) {
    reader sp(k.file(), n, k.dotted("spread"));
    for (kernel_kind kind : all_kernel_kinds)
      if (auto e = sp.optional(std::string(name(kind)))) {
        t->spread[std::size_t(kind)] = read_spread(reader(k.file(), e, sp.dotted(std::string(name(kind)))));
      }
    sp.finish();
  }
  if (auto n = k.optional("spread_moved")) {  // the same of the table moved to another part
    reader sp(k.file(), n, k.dotted("spread_moved"));
    t->moved_checked_on = sp.text(sp.required("on"), "on");
    for (kernel_kind kind : all_kernel_kinds)
      if (auto e = sp.optional(std::string(name(kind))))
        t->spread_moved[std::size_t(kind)] =
            read_spread(reader(k.file(), e, sp.dotted(std::string(name(kind)))));
    sp.finish();
  }
  k.finish();
  return t;
}

// timing.spread: an end-to-end spread per model family, {ttft, step} each.
std::vector<family_spread> read_family_spreads(reader sp) {
  std::vector<family_spread> out;
  for (architecture a : all_architectures)
    if (auto e = sp.optional(std::string(name(a)))) {
      reader f(sp.file(), e, sp.dotted(std::string(name(a))));
      family_spread fs{std::string(name(a))};
      fs.ttft = read_spread(reader(sp.file(), f.required("ttft"), f.dotted("ttft")));
      fs.step = read_spread(reader(sp.file(), f.required("step"), f.dotted("step")));
      f.finish();
      out.push_back(fs);
    }
  sp.finish();
  return out;
}

timing_params read_timing(reader t, const std::string& engine) {
  timing_params tp;
  tp.serving.policy = engine_scheduler(engine);
  tp.serving.chunked_prefill = tp.serving.policy != serving_params::scheduler::trtllm;
  tp.overlap = t.choice<overlap>(t.required("overlap"), "overlap", "overlap policy");
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
  tp.collectives.overlap = col.choice<overlap>(col.required("overlap"), "overlap", "overlap policy");
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
    sp.policy = engine_scheduler(engine);
    if (auto p = sv.optional("policy"))
      sp.policy = sv.choice<serving_params::scheduler>(p, "policy", "scheduler policy");
    sp.chunked_prefill = sp.policy != serving_params::scheduler::trtllm;
    if (auto c = sv.optional("chunked_prefill")) sp.chunked_prefill = sv.boolean(c, "chunked_prefill");
    sv.number_if("conservativeness", sp.conservativeness, 0, true, 100);
    if (auto e = sv.optional("spread")) {  // measured / predicted TTFT and TPOT of the fit's runs
      reader m(t.file(), e, sv.dotted("spread"));
      if (auto a = m.optional("ttft")) sp.ttft_spread = read_spread(reader(t.file(), a, m.dotted("ttft")));
      if (auto a = m.optional("tpot")) sp.tpot_spread = read_spread(reader(t.file(), a, m.dotted("tpot")));
      if (auto o = m.optional("transferred")) {  // the same on the engine's runs of other parts
        reader x(t.file(), o, m.dotted("transferred"));
        if (auto a = x.optional("ttft"))
          sp.ttft_spread_transferred = read_spread(reader(t.file(), a, x.dotted("ttft")));
        if (auto a = x.optional("tpot"))
          sp.tpot_spread_transferred = read_spread(reader(t.file(), a, x.dotted("tpot")));
        x.finish();
      }
      m.finish();
    }
    sv.finish();
  }
  if (auto n = t.optional("kernels")) tp.kernels = read_kernels(reader(t.file(), n, "timing.kernels"));
  if (auto n = t.optional("spread"))
    tp.spreads = read_family_spreads(reader(t.file(), n, t.dotted("spread")));
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
  s.timing = read_timing(r.child("timing"), s.engine);
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

}  // namespace

void emit_sources(YAML::Emitter& y, const std::vector<std::string>& sources) {
  y << YAML::Key << "sources" << YAML::Value << YAML::BeginSeq;
  for (const std::string& s : sources) y << s;
  y << YAML::EndSeq;
}

namespace {

void emit_spread(YAML::Emitter& y, const std::string& key, const spread& s) {
  y << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "p10" << YAML::Value
    << s.p10 << YAML::Key << "p90" << YAML::Value << s.p90 << YAML::Key << "points" << YAML::Value << s.points
    << YAML::EndMap;
}

void emit_serving(YAML::Emitter& y, const serving_params& sp) {
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
  y << YAML::Key << "policy" << YAML::Value << std::string(name(sp.policy));
  y << YAML::Key << "chunked_prefill" << YAML::Value << sp.chunked_prefill;
  y << YAML::Key << "conservativeness" << YAML::Value << sp.conservativeness;
  if (sp.ttft_spread.points > 0 || sp.tpot_spread.points > 0 || sp.ttft_spread_transferred.points > 0 ||
      sp.tpot_spread_transferred.points > 0) {
    y << YAML::Key << "spread" << YAML::Value << YAML::BeginMap;
    if (sp.ttft_spread.points > 0) emit_spread(y, "ttft", sp.ttft_spread);
    if (sp.tpot_spread.points > 0) emit_spread(y, "tpot", sp.tpot_spread);
    if (sp.ttft_spread_transferred.points > 0 || sp.tpot_spread_transferred.points > 0) {
      y << YAML::Key << "transferred" << YAML::Value << YAML::BeginMap;
      if (sp.ttft_spread_transferred.points > 0) emit_spread(y, "ttft", sp.ttft_spread_transferred);
      if (sp.tpot_spread_transferred.points > 0) emit_spread(y, "tpot", sp.tpot_spread_transferred);
      y << YAML::EndMap;
    }
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
}

void emit_kernels(YAML::Emitter& y, const kernel_table& t) {
  y << YAML::Key << "kernels" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "table" << YAML::Value << t.file;
  y << YAML::Key << "measured_on" << YAML::Value << t.measured_file;
  bool any = false;
  for (kernel_kind k : all_kernel_kinds) {
    const kernel_spread& s = t.spread_of(k);
    if (s.points == 0) continue;
    if (!any) y << YAML::Key << "spread" << YAML::Value << YAML::BeginMap, any = true;
    emit_spread(y, std::string(name(k)), s);
  }
  if (any) y << YAML::EndMap;
  if (t.has_moved_spread()) {
    y << YAML::Key << "spread_moved" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "on" << YAML::Value << t.moved_checked_on;
    for (kernel_kind k : all_kernel_kinds)
      if (const kernel_spread& s = t.spread_moved[std::size_t(k)]; s.points > 0)
        emit_spread(y, std::string(name(k)), s);
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
}

void emit_calibration(YAML::Emitter& y, const calibration_record& c) {
  const auto cells = [&](const char* key, const std::vector<error_cell>& v) {
    y << YAML::Key << key << YAML::Value << YAML::BeginSeq;
    for (const error_cell& e : v)
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "architecture" << YAML::Value << e.architecture
        << YAML::Key << "phase" << YAML::Value << e.phase << YAML::Key << "n" << YAML::Value << e.n
        << YAML::Key << "median_ape" << YAML::Value << e.median_ape << YAML::Key << "mean_ape" << YAML::Value
        << e.mean_ape << YAML::Key << "p90_ape" << YAML::Value << e.p90_ape << YAML::Key << "max_ape"
        << YAML::Value << e.max_ape << YAML::EndMap;
    y << YAML::EndSeq;
  };
  y << YAML::Key << "calibration" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "dataset" << YAML::Value << c.dataset << YAML::Key << "date" << YAML::Value << c.date;
  y << YAML::Key << "method" << YAML::Value << c.method;
  cells("in_sample", c.in_sample);
  if (!c.held_out.empty()) cells("held_out", c.held_out);
  y << YAML::EndMap;
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
  if (p.energy) {
    y << YAML::Key << "energy" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "idle_w" << YAML::Value << p.energy->idle_w;
    y << YAML::Key << "pj_per_byte" << YAML::Value << p.energy->pj_per_byte;
    y << YAML::Key << "pj_per_flop" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (dtype d : all_dtypes)
      if (p.energy->pj_per_flop[std::size_t(d)] > 0)
        y << YAML::Key << std::string(name(d)) << YAML::Value << p.energy->pj_per_flop[std::size_t(d)];
    y << YAML::EndMap;
    if (p.energy->matrix_rows > 0) y << YAML::Key << "matrix_rows" << YAML::Value << p.energy->matrix_rows;
    emit_sources(y, p.energy->sources);
    y << YAML::EndMap;
  }
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
  if (t.serving.stated) emit_serving(y, t.serving);
  if (t.kernels) emit_kernels(y, *t.kernels);
  if (!t.spreads.empty()) {
    y << YAML::Key << "spread" << YAML::Value << YAML::BeginMap;
    for (const family_spread& f : t.spreads) {
      y << YAML::Key << f.family << YAML::Value << YAML::BeginMap;
      emit_spread(y, "ttft", f.ttft);
      emit_spread(y, "step", f.step);
      y << YAML::EndMap;
    }
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
  if (s.calibration) emit_calibration(y, *s.calibration);
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
  if (auto o = parse_name<overlap>(s)) return *o;
  throw input_error(
      fmt::format("{}: unknown overlap policy '{}'; allowed: {}", what, s, names_list<overlap>()));
}

}  // namespace roofline
