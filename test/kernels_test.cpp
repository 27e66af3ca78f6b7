// Kernel tables: reading, the grids, interpolation, the causal tile count, moving to other shapes
// and parts, and the ops of a model timed from a table; each number worked by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "helpers.hpp"
#include "roofline/estimate/estimate.hpp"
#include "roofline/io/io.hpp"
#include "roofline/timing/timing.hpp"

using namespace roofline;

namespace {

const std::string header =
    "kind,format,m,n,k,batch,q_len,kv_len,heads,kv_heads,head_dim,experts,tokens_per_expert,bytes,measured_"
    "s\n";

// A GEMM's time in the synthetic table: a 5 us floor plus a work term, growing along every axis.
double gemm_time(double m, double n, double k) {
  return 5e-6 + 2 * m * n * k / 400e12 + (m * k + n * k) * 2 / 2e12;
}

// A bf16 GEMM table over m {1, 16, 256, 4096}, n {1024, 4096}, k {1024, 4096}.
std::string gemm_csv() {
  std::string s = header;
  for (double m : {1, 16, 256, 4096})
    for (double n : {1024, 4096})
      for (double k : {1024, 4096})
        s += fmt::format("gemm,bf16,{},{},{},,,,,,,,,,{:.17g}\n", m, n, k, gemm_time(m, n, k));
  return s;
}

// The hardware of `part` driven by the datasheet stack and the table of `csv`, measured on the H100.
hardware with_table(const std::string& part_file, const std::string& csv) {
  hardware hw = load_hardware(test::source_dir + "/hw_profiles/" + part_file,
                              test::source_dir + "/stacks/datasheet.yaml");
  auto t = std::make_shared<kernel_table>();
  t->file = "synthetic";
  t->measured_on = load_part(test::source_dir + "/hw_profiles/h100_sxm.yaml");
  t->grids = kernel_grids(parse_kernel_rows(csv, "synthetic.csv"), "synthetic.csv");
  hw.timing.kernels = t;
  return hw;
}

kernel_shape gemm(double m, double n, double k) {
  return {.kind = kernel_kind::gemm, .m = m, .n = n, .k = k};
}

}  // namespace

TEST_CASE("a tiled causal kernel computes T (T + 128) / 2 pairs for T = 128 n, whole diagonal tiles") {
  // one 128-query tile against its 128 keys: the whole tile, 128^2 (the accounting's 0.65 T^2: 10,650)
  CHECK(causal_tile_pairs(128, 0, 0) == 128.0 * 128);
  // two tiles: 128 x 128 + 128 x 256 = 49,152 = 256 x 384 / 2
  CHECK(causal_tile_pairs(256, 0, 0) == 256.0 * 384 / 2);
  CHECK(causal_tile_pairs(8192, 0, 0) == 8192.0 * (8192 + 128) / 2);
  // a short last tile: 200 queries, tiles of 128 and 72 rows: 128 x 128 + 72 x 200 (its keys end at the last
  // row's)
  CHECK(causal_tile_pairs(200, 0, 0) == 128.0 * 128 + 72 * 200);
  // after 100 cached keys, 128 queries at positions 100..227: key tiles up to 256, cut at the 228 keys there
  // are
  CHECK(causal_tile_pairs(128, 100, 0) == 128.0 * 228);
  // a window of 128 keys over 512 queries: tile i reads key tiles from floor((128 i - 127) / 128) to i:
  // tile 0: 0..128, tiles 1..3: 2 tiles each (256 keys)
  CHECK(causal_tile_pairs(512, 0, 128) == 128.0 * 128 + 3 * 128 * 256);
}

TEST_CASE("a kernel table is exact at its points, log-linear and growing between them") {
  const hardware hw = with_table("h100_sxm.yaml", gemm_csv());
  for (double m : {1, 16, 256, 4096})
    for (double n : {1024, 4096}) {
      const auto t = time_kernel(gemm(m, n, 1024), hw, overlap::perfect);
      REQUIRE(t);
      CHECK(t->total.value() == doctest::Approx(gemm_time(m, n, 1024)).epsilon(1e-12));
      CHECK(t->by == timed_by::table);
    }
  // m = 4 lies halfway between 1 and 16 in log m: the geometric mean of their times
  CHECK(time_kernel(gemm(4, 4096, 4096), hw, overlap::perfect)->total.value() ==
        doctest::Approx(std::sqrt(gemm_time(1, 4096, 4096) * gemm_time(16, 4096, 4096))).epsilon(1e-12));
  // n = 2048, k = 2048, m = 64: halfway on all three axes: the geometric mean of the 8 corners
  double log_sum = 0;
  for (double m : {16, 256})
    for (double n : {1024, 4096})
      for (double k : {1024, 4096}) log_sum += std::log(gemm_time(m, n, k));
  CHECK(time_kernel(gemm(64, 2048, 2048), hw, overlap::perfect)->total.value() ==
        doctest::Approx(std::exp(log_sum / 8)).epsilon(1e-12));
  // monotone: along m from 1 to 4096 in 1,000 steps, never falling
  double before = 0;
  for (int i = 0; i <= 1000; ++i) {
    const double m = std::pow(4096.0, i / 1000.0);
    const double t = time_kernel(gemm(m, 3000, 1500), hw, overlap::perfect)->total.value();
    CHECK(t >= before);
    before = t;
  }
}

TEST_CASE("outside its table, a kernel takes the nearest measured time times the analytic ratio") {
  const hardware hw = with_table("h100_sxm.yaml", gemm_csv());
  // m = 8192 is past the table's 4096: T(4096) x a(8192) / a(4096), a the datasheet stack's analytic
  // time (both compute-bound at 0.80 of 989.4 TFLOP/s: the ratio of FLOPs, 2)
  const auto t = time_kernel(gemm(8192, 4096, 4096), hw, overlap::perfect);
  REQUIRE(t);
  CHECK(t->by == timed_by::extrapolated);
  const double a8192 =
      analytic_time(op_of(gemm(8192, 4096, 4096)), hw, hw.timing, overlap::perfect).total.value();
  const double a4096 =
      analytic_time(op_of(gemm(4096, 4096, 4096)), hw, hw.timing, overlap::perfect).total.value();
  CHECK(a8192 / a4096 == doctest::Approx(2).epsilon(1e-12));
  CHECK(t->total.value() == doctest::Approx(gemm_time(4096, 4096, 4096) * 2).epsilon(1e-12));
  // a format the table lacks (fp8) takes bf16's table, moved by the analytic ratio, and says so
  kernel_shape fp8 = gemm(4096, 4096, 4096);
  fp8.format = dtype::fp8;
  CHECK(time_kernel(fp8, hw, overlap::perfect)->by == timed_by::extrapolated);
  // a kind the table lacks: none, the analytic model times it
  CHECK_FALSE(time_kernel({.kind = kernel_kind::norm, .bytes = 1e6}, hw, overlap::perfect));
}

TEST_CASE(
    "a table moves to another part by the analytic ratio: peaks and bandwidth change, efficiency stays") {
  const hardware h100 = with_table("h100_sxm.yaml", gemm_csv()), h200 = with_table("h200.yaml", gemm_csv());
  // m = 1: memory-bound on both (2 x 4096 x 4096 B of weights at 0.885 of 3,350 and 4,800 GB/s):
  // the H200's time is the H100's times 3350 / 4800
  const double t100 = time_kernel(gemm(1, 4096, 4096), h100, overlap::perfect)->total.value();
  const auto t200 = time_kernel(gemm(1, 4096, 4096), h200, overlap::perfect);
  CHECK(t100 == doctest::Approx(gemm_time(1, 4096, 4096)).epsilon(1e-12));
  CHECK(t200->total.value() == doctest::Approx(t100 * 3350 / 4800).epsilon(1e-12));
  CHECK(t200->by == timed_by::table);  // a point of the table: only the part differs
  // m = 4096: compute-bound on both, the same 989.4 TFLOP/s bf16 peak: the same time
  CHECK(time_kernel(gemm(4096, 4096, 4096), h200, overlap::perfect)->total.value() ==
        doctest::Approx(gemm_time(4096, 4096, 4096)).epsilon(1e-12));
  // what predict_kernel reports: transferred, and no interval where the stack states no spread
  const kernel_prediction p = predict_kernel(gemm(1, 4096, 4096), h200, overlap::perfect);
  CHECK(p.transferred);
  CHECK(std::isnan(p.lo));
}

TEST_CASE("a table's spread gives the interval: the time times its p10 and p90") {
  hardware hw = with_table("h100_sxm.yaml", gemm_csv());
  auto t = std::make_shared<kernel_table>(*hw.timing.kernels);
  t->spread[std::size_t(kernel_kind::gemm)] = {0.9, 1.2, 40};
  hw.timing.kernels = t;
  const kernel_prediction p = predict_kernel(gemm(16, 1024, 1024), hw, overlap::perfect);
  CHECK(p.seconds == doctest::Approx(gemm_time(16, 1024, 1024)).epsilon(1e-12));
  CHECK(p.lo == doctest::Approx(0.9 * p.seconds).epsilon(1e-12));
  CHECK(p.hi == doctest::Approx(1.2 * p.seconds).epsilon(1e-12));
  CHECK_FALSE(p.transferred);
}

TEST_CASE("attention tables: items from batch and heads alike, other shapes by the analytic ratio") {
  // decode: (32, 8, 128) at batch 1, 2 and (8, 2, 128) at batch 4, 8 lie on one grid of batch x
  // kv_heads {2, 4, 8, 16} (items) and kv_len {1024, 4096}; time = 4 us + items kv_len 2 ns
  std::string csv = header;
  const auto row = [&](int b, int h, int kv, int len) {
    csv += fmt::format("attention_decode,bf16,,,,{},,{},{},{},128,,,,{:.17g}\n", b, len, h, kv,
                       4e-6 + b * kv * len * 2e-9);
  };
  for (int len : {1024, 4096}) row(1, 8, 2, len), row(2, 8, 2, len), row(1, 32, 8, len), row(2, 32, 8, len);
  const hardware hw = with_table("h100_sxm.yaml", csv);
  REQUIRE(hw.timing.kernels->grids.size() == 1);
  CHECK(hw.timing.kernels->grids[0].axes[0] == std::vector<double>{2, 4, 8, 16});
  // batch 1 of (16, 4, 128) (8B at tp 2): 4 items, a point of the grid
  const kernel_shape d{.kind = kernel_kind::attention_decode,
                       .batch = 1,
                       .kv_len = 4096,
                       .heads = 16,
                       .kv_heads = 4,
                       .head_dim = 128};
  const auto t = time_kernel(d, hw, overlap::perfect);
  CHECK(t->by == timed_by::table);
  CHECK(t->total.value() == doctest::Approx(4e-6 + 4 * 4096 * 2e-9).epsilon(1e-12));
  // head_dim 64 is not measured: the nearest key's (128) grid, moved by the analytic ratio
  kernel_shape d64 = d;
  d64.head_dim = 64;
  CHECK(time_kernel(d64, hw, overlap::perfect)->by == timed_by::extrapolated);
}

TEST_CASE("a model's ops take the table's times where it has their kernel") {
  const model_spec m = load_model(test::source_dir + "/model_specs/llama3.1_8b.yaml");
  // a table of the q/k/v projection's shape at m = 1 and 4,096: 6,144 x 4,096
  std::string csv = header;
  for (double rows : {1, 4096})
    for (double n : {4096, 6144})
      for (double k : {4096, 8192})
        csv += fmt::format("gemm,bf16,{},{},{},,,,,,,,,,{:.17g}\n", rows, n, k, gemm_time(rows, n, k));
  const hardware hw = with_table("h100_sxm.yaml", csv);
  const op qkv = test::find_op(m, pass{phase::prefill, 1, 4096, 0, 1}, "qkv_proj");
  REQUIRE(qkv.gemm.n == 6144);
  const op_time t = time_op(qkv, hw, overlap::perfect);
  CHECK(t.by == timed_by::table);
  CHECK(t.total.value() == doctest::Approx(gemm_time(4096, 6144, 4096)).epsilon(1e-12));
  // a norm: no norm table, the analytic model as before
  const op norm_op = test::find_op(m, pass{phase::prefill, 1, 4096, 0, 1}, "ffn_norm");
  CHECK(time_op(norm_op, hw, overlap::perfect).by == timed_by::model);
}

TEST_CASE("bad kernel tables fail with one line naming the file, line and column") {
  const auto fails = [](const std::string& csv, const std::string& message) {
    CAPTURE(csv);
    CHECK_THROWS_WITH_AS(kernel_grids(parse_kernel_rows(csv, "t.csv"), "t.csv"), message.c_str(),
                         input_error);
  };
  fails(header + "gemv,bf16,1,2,3,,,,,,,,,,1e-5\n",
        "t.csv:2:1: unknown kernel kind 'gemv'; allowed: gemm, grouped_gemm, attention_prefill, "
        "attention_decode, norm, copy");
  fails(header + "gemm,bf16,1,2,3,,,,,,,,,,-1e-5\n",
        "t.csv:2:26: 'measured_s' must be a time in seconds from 1e-09 to 1000, or empty, got '-1e-5'");
  fails(header + "gemm,bf16,1,2,,,,,,,,,,,1e-5\n",
        "t.csv:2:15: 'k' of gemm kernels must be a whole number from 1 to 1e15, got ''");
  fails(header + "gemm,bf16,1,2,3,4,,,,,,,,,1e-5\n",
        "t.csv:2:17: 'batch' is not a column of gemm kernels: leave it empty");
  fails(header +
            "gemm,bf16,1,2,3,,,,,,,,,,1e-5\ngemm,bf16,2,2,3,,,,,,,,,,1e-5\ngemm,bf16,1,4,3,,,,,,,,,,1e-5\n",
        "t.csv: the gemm bf16 table lacks the shape m 2, n 4, k 3: a table holds every combination of its "
        "axes' values");
  fails(header + "gemm,bf16,1,2,3,,,,,,,,,,1e-5\ngemm,bf16,2,2,3,,,,,,,,,,0.3e-5\n",
        "t.csv:3:1: the gemm bf16 table's time falls by 70 % from line 2 as m grows; a table's times may "
        "fall by at most 67 % (a library's choice of kernel, noise): a bad measurement?");
  fails(header + "attention_decode,bf16,,,,1,,128,32,6,128,,,,1e-5\n",
        "t.csv:2:36: 'kv_heads' (6) must divide 'heads' (32)");
  fails("kind,m,n,k\ngemm,1,2,3\n",
        "t.csv:1:1: missing column 'format'; a kernel CSV has the columns kind, format, m, n, "
        "k, batch, q_len, kv_len, heads, kv_heads, head_dim, experts, tokens_per_expert, bytes (unused ones "
        "empty)");
  // a smaller fall is kept as measured
  const auto grids = kernel_grids(
      parse_kernel_rows(header + "gemm,bf16,1,2,3,,,,,,,,,,1e-5\ngemm,bf16,2,2,3,,,,,,,,,,0.8e-5\n", "t.csv"),
      "t.csv");
  CHECK(std::exp(grids[0].log_time[1]) == doctest::Approx(0.8e-5).epsilon(1e-12));
}

TEST_CASE("a stack names its kernel table and part; both round-trip through its YAML") {
  const std::string dir = std::string(ROOFLINE_BUILD_DIR) + "/kernel_stack";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/table.csv") << gemm_csv();
  std::string stack = read_text(test::source_dir + "/stacks/datasheet.yaml");
  stack += "  kernels:\n    table: table.csv\n    measured_on: " + test::source_dir +
           "/hw_profiles/h100_sxm.yaml\n    spread:\n      gemm: {p10: 0.9, p90: 1.1, points: 12}\n";
  std::ofstream(dir + "/stack.yaml") << stack;
  const roofline::stack s = load_stack(dir + "/stack.yaml");
  REQUIRE(s.timing.kernels);
  CHECK(s.timing.kernels->grids.size() == 1);
  CHECK(s.timing.kernels->measured_on.name == "NVIDIA H100 SXM5 80GB");
  CHECK(s.timing.kernels->spread_of(kernel_kind::gemm).p90 == 1.1);
  std::ofstream(dir + "/again.yaml") << stack_yaml(s);
  const roofline::stack again = load_stack(dir + "/again.yaml");
  CHECK(again.timing.kernels->grids[0].log_time == s.timing.kernels->grids[0].log_time);
  CHECK(again.timing.kernels->spread_of(kernel_kind::gemm).points == 12);
  // an error in the table names the stack's key first
  std::ofstream(dir + "/bad.csv") << header << "gemm,bf16,1,2,3,,,,,,,,,,\n";
  std::string bad = stack;
  bad.replace(bad.find("table: table.csv"), 16, "table: bad.csv");
  std::ofstream(dir + "/bad.yaml") << bad;
  CHECK_THROWS_WITH_AS(load_stack(dir + "/bad.yaml"),
                       (dir + "/bad.yaml:40:12: 'timing.kernels.table': " + dir +
                        "/bad.csv:2:1: a table's shape without a time ('measured_s' empty): measure it or "
                        "mark the row held_out")
                           .c_str(),
                       input_error);
}

TEST_CASE("a pass's p10-p90 interval moves the table's ops by their kind's spread, the others not") {
  const model_spec m = load_model(test::source_dir + "/model_specs/llama3.1_8b.yaml");
  hardware hw = with_table("h100_sxm.yaml", gemm_csv());
  auto t = std::make_shared<kernel_table>(*hw.timing.kernels);
  t->spread[std::size_t(kernel_kind::gemm)] = {0.9, 1.2, 40};
  hw.timing.kernels = t;
  const pass p{phase::prefill, 2, 1024, 0, 1};
  double table_time = 0;  // the GEMMs, all timed from the table (inside it or extrapolated)
  for_each_op(m, p, [&](const op& o) {
    const op_time ot = time_op(o, hw, overlap::perfect);
    if (ot.by != timed_by::model) table_time += ot.total.value() * o.layers.count;
    CHECK((ot.by != timed_by::model) == (o.cls == op_class::matrix));
  });
  const phase_estimate e = estimate_pass(m, hw, p, overlap::perfect);
  REQUIRE(table_time > 0);
  CHECK(e.time_p10.value() == doctest::Approx(e.time.value() - 0.1 * table_time).epsilon(1e-12));
  CHECK(e.time_p90.value() == doctest::Approx(e.time.value() + 0.2 * table_time).epsilon(1e-12));
}

TEST_CASE("at_spread times a whole run at an end of the interval: each kind's time times its p10 or p90") {
  hardware hw = with_table("h100_sxm.yaml", gemm_csv());
  CHECK_FALSE(at_spread(hw, false));  // no spread stated: no interval
  auto t = std::make_shared<kernel_table>(*hw.timing.kernels);
  t->spread[std::size_t(kernel_kind::gemm)] = {0.9, 1.2, 40};
  hw.timing.kernels = t;
  const auto lo = at_spread(hw, false), hi = at_spread(hw, true);
  REQUIRE(lo);
  REQUIRE(hi);
  const kernel_shape s = gemm(64, 2048, 2048);
  const double base = time_kernel(s, hw, overlap::perfect)->total.value();
  CHECK(time_kernel(s, *lo, overlap::perfect)->total.value() == doctest::Approx(0.9 * base).epsilon(1e-12));
  CHECK(time_kernel(s, *hi, overlap::perfect)->total.value() == doctest::Approx(1.2 * base).epsilon(1e-12));
  // a pass at the ends equals the pass's own p10 and p90 (the same assumption: the kinds move together)
  const model_spec m = load_model(test::source_dir + "/model_specs/llama3.1_8b.yaml");
  const pass p{phase::decode, 8, 1, 1000, 16};
  const phase_estimate e = estimate_pass(m, hw, p, overlap::perfect);
  CHECK(estimate_pass(m, *lo, p, overlap::perfect).time.value() ==
        doctest::Approx(e.time_p10.value()).epsilon(1e-12));
  CHECK(estimate_pass(m, *hi, p, overlap::perfect).time.value() ==
        doctest::Approx(e.time_p90.value()).epsilon(1e-12));
}

TEST_CASE(
    "moved to a part of another clock, the table's own analytic time keeps the per-unit times fitted on it") {
  // a decode table; the stack's decode items take 1 us each on the H100 (1,830 MHz); the other part
  // is the H100 at half the clock, where drive() doubles that per-item time
  std::string csv = header;
  for (int b : {1, 2})
    for (int len : {1024, 4096})
      csv += fmt::format("attention_decode,bf16,,,,{},,{},32,8,128,,,,{:.17g}\n", b, len,
                         4e-6 + b * 8 * len * 2e-9);
  hardware q = with_table("h100_sxm.yaml", csv);
  q.timing.of(op_class::decode_attention).per_item = 1e-6 * second;
  hardware p = q;
  p.name = "H100 at half clock";
  p.clock_mhz = q.clock_mhz / 2;
  scale_per_unit(p.timing, q.clock_mhz, p.clock_mhz);
  CHECK(p.timing.of(op_class::decode_attention).per_item.value() == doctest::Approx(2e-6).epsilon(1e-12));
  const kernel_shape d{.kind = kernel_kind::attention_decode,
                       .batch = 2,
                       .kv_len = 4096,
                       .heads = 32,
                       .kv_heads = 8,
                       .head_dim = 128};
  const double a_p = analytic_time(op_of(d), p, p.timing, overlap::perfect).total.value();
  const double a_q = analytic_time(op_of(d), q, q.timing, overlap::perfect).total.value();
  REQUIRE(a_p > a_q);
  CHECK(time_kernel(d, p, overlap::perfect)->total.value() ==
        doctest::Approx((4e-6 + 2 * 8 * 4096 * 2e-9) * a_p / a_q).epsilon(1e-12));
}
