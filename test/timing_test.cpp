// Timing: the roofline time of one op under each overlap policy, worked out by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "helpers.hpp"
#include "roofline/timing/timing.hpp"

using namespace roofline;

namespace {

// 100 FLOP/s of bf16 matrix, 10 FLOP/s of fp32 vector, 10 B/s.
hardware toy_hardware() { return test::toy_hardware("toy", 100, 10, 10); }

// 1000 FLOPs and 50 bytes: t_c = 1000 / 100 = 10 s, t_m = 50 / 10 = 5 s.
const op gemm{"gemm", op_class::matrix, dtype::bf16,
              {0, 1}, 1000 * flop,      {.weights = 30 * byte, .activations = 20 * byte}};

}  // namespace

TEST_CASE("an op's time under each overlap policy") {
  hardware hw = toy_hardware();
  SUBCASE("perfect overlap takes the larger of compute and memory time") {
    const op_time t = time_op(gemm, hw, overlap::perfect);
    CHECK(t.compute.value() == doctest::Approx(10).epsilon(1e-12));
    CHECK(t.memory.value() == doctest::Approx(5).epsilon(1e-12));
    CHECK(t.total.value() == doctest::Approx(10).epsilon(1e-12));
    CHECK(t.bound == bound::compute);
  }
  SUBCASE("no overlap adds them") {
    CHECK(time_op(gemm, hw, overlap::none).total.value() == doctest::Approx(15).epsilon(1e-12));
  }
  SUBCASE("smooth overlap is the p-norm: p = 2 gives sqrt(10^2 + 5^2)") {
    hw.timing.smooth_exponent = 2;
    CHECK(time_op(gemm, hw, overlap::smooth).total.value() ==
          doctest::Approx(std::sqrt(125.0)).epsilon(1e-12));
  }
  SUBCASE("smooth overlap tends to none at p = 1 and to perfect for large p") {
    hw.timing.smooth_exponent = 1;
    CHECK(time_op(gemm, hw, overlap::smooth).total.value() == doctest::Approx(15).epsilon(1e-12));
    hw.timing.smooth_exponent = 200;  // 10 (1 + 2^-200)^(1/200)
    CHECK(time_op(gemm, hw, overlap::smooth).total.value() == doctest::Approx(10).epsilon(1e-12));
  }
  SUBCASE("efficiencies scale the peaks and the overhead is added once per op") {
    hw.timing.of(op_class::matrix) = {.compute = 0.5, .memory = 0.25, .overhead = 2 * second};
    const op_time t = time_op(gemm, hw, overlap::perfect);
    CHECK(t.compute.value() == doctest::Approx(20).epsilon(1e-12));  // 1000 / (100 x 0.5)
    CHECK(t.memory.value() == doctest::Approx(20).epsilon(1e-12));   // 50 / (10 x 0.25)
    CHECK(t.total.value() == doctest::Approx(22).epsilon(1e-12));
  }
  SUBCASE("a vector op is timed on the vector peak") {
    const op norm{"norm", op_class::vector, dtype::fp32, {0, 1}, 100 * flop, {.activations = 10 * byte}};
    const op_time t = time_op(norm, hw, overlap::perfect);
    CHECK(t.compute.value() == doctest::Approx(10).epsilon(1e-12));  // 100 / 10, not 100 / 100
    CHECK(t.memory.value() == doctest::Approx(1).epsilon(1e-12));
  }
  SUBCASE("a memory-bound op") {
    const op gemv{"gemv", op_class::matrix, dtype::bf16, {0, 1}, 100 * flop, {.weights = 100 * byte}};
    const op_time t = time_op(gemv, hw, overlap::perfect);
    CHECK(t.total.value() == doctest::Approx(10).epsilon(1e-12));
    CHECK(t.bound == bound::memory);
  }
}

TEST_CASE("the ridge point is the matrix peak over the bandwidth") {
  CHECK(ridge_point(toy_hardware(), dtype::bf16).value() == doctest::Approx(10).epsilon(1e-12));
}

TEST_CASE("GEMM tiles are padded and, with waves, run in waves over the compute units") {
  hardware hw = toy_hardware();
  hw.compute_units = 132;
  const gemm_shape full{256, 128 * 132, 4096};
  SUBCASE("no tile size: no padding, no waves") { CHECK(gemm_utilisation({1, 256, 4096}, hw) == 1); }
  hw.timing.gemm_tile_m = 128;
  hw.timing.gemm_tile_n = 128;
  SUBCASE("without waves, padding alone: one row of 128, 100 columns of 128; 266 whole tiles") {
    CHECK(gemm_utilisation({1, 256, 4096}, hw) == doctest::Approx(1.0 / 128).epsilon(1e-12));
    CHECK(gemm_utilisation({256, 100, 4096}, hw) == doctest::Approx(100.0 / 128).epsilon(1e-12));
    CHECK(gemm_utilisation({256, 128 * 133, 4096}, hw) == doctest::Approx(1).epsilon(1e-12));
  }
  hw.timing.gemm_waves = true;
  SUBCASE("2 x 132 whole tiles fill exactly two waves") {
    CHECK(gemm_utilisation(full, hw) == doctest::Approx(1).epsilon(1e-12));
  }
  SUBCASE("2 x 133 tiles need a third, nearly empty wave: 266 / 396") {
    CHECK(gemm_utilisation({256, 128 * 133, 4096}, hw) == doctest::Approx(266.0 / 396).epsilon(1e-12));
  }
  SUBCASE("one row pads its tiles to 128 rows; 2 tiles split k 16 ways (4096 / 256) onto 32 of 132 units") {
    CHECK(gemm_utilisation({1, 256, 4096}, hw) == doctest::Approx(1.0 / 128 * 32.0 / 132).epsilon(1e-12));
  }
  SUBCASE("split-K stops at what fills the units: 48 tiles split 2 ways, 96 of 132 units") {
    CHECK(gemm_utilisation({8, 6144, 4096}, hw) == doctest::Approx(8.0 / 128 * 96.0 / 132).epsilon(1e-12));
  }
  SUBCASE("utilisation slows the compute time of a matrix op, not its memory time") {
    const op g{"gemm",
               op_class::matrix,
               dtype::bf16,
               {0, 1},
               1000 * flop,
               {.weights = 50 * byte},
               {256, 128 * 133, 4096},
               256};
    const op_time t = time_op(g, hw, overlap::none);
    CHECK(t.compute.value() == doctest::Approx(10 * 396.0 / 266).epsilon(1e-12));
    CHECK(t.memory.value() == doctest::Approx(5).epsilon(1e-12));
  }
}

TEST_CASE("scarce parallel work slows attention and recurrent ops: p / (p + p_half)") {
  CHECK(occupancy(100, 300) == doctest::Approx(0.25).epsilon(1e-12));
  CHECK(occupancy(100, 0) == 1);
  hardware hw = toy_hardware();
  hw.timing.of(op_class::attention) = {.compute = 1, .memory = 0.5, .half_parallel = 300};
  // 1000 FLOP at 100 x 0.25 FLOP/s = 40 s; 50 B at 10 x 0.5 x 0.25 B/s = 40 s
  const op att{"attention", op_class::attention,     dtype::bf16, {0, 1},
               1000 * flop, {.kv_cache = 50 * byte}, {},          100};
  const op_time t = time_op(att, hw, overlap::none);
  CHECK(t.compute.value() == doctest::Approx(40).epsilon(1e-12));
  CHECK(t.memory.value() == doctest::Approx(40).epsilon(1e-12));
  CHECK(t.total.value() == doctest::Approx(80).epsilon(1e-12));
}

TEST_CASE("long prompts take the long-prompt attention kernel's parameters from its key count on") {
  hardware hw = toy_hardware();
  hw.timing.of(op_class::attention).compute = 0.5;
  hw.timing.attention_long.compute = 0.25;
  hw.timing.attention_long.memory = 1;
  hw.timing.attention_long_from_keys = 2048;
  // 1000 FLOP at 100 x 0.5 FLOP/s = 20 s; at 100 x 0.25 FLOP/s = 40 s
  op att{"attention", op_class::attention, dtype::bf16, {0, 1}, 1000 * flop, {}, {}, 0, 2047};
  CHECK(time_op(att, hw, overlap::perfect).total.value() == doctest::Approx(20).epsilon(1e-12));
  att.item_steps = 2048;
  CHECK(time_op(att, hw, overlap::perfect).total.value() == doctest::Approx(40).epsilon(1e-12));
  SUBCASE("decode attention never does; no switch without a key count") {
    att.cls = op_class::decode_attention;  // efficiency 1 in the toy: 10 s
    CHECK(time_op(att, hw, overlap::perfect).total.value() == doctest::Approx(10).epsilon(1e-12));
    att.cls = op_class::attention;
    hw.timing.attention_long_from_keys = 0;
    CHECK(time_op(att, hw, overlap::perfect).total.value() == doctest::Approx(20).epsilon(1e-12));
  }
}

TEST_CASE("an mLSTM prefill item walks its chunks one after another") {
  hardware hw = toy_hardware();
  hw.compute_units = 4;
  hw.timing.of(op_class::recurrent).per_step = 0.5 * second;
  // 6 items (B H) on 4 units: 2 waves x 8 chunks x 0.5 s = 8 s, against 1000 FLOP / 100 = 10 s
  op cell{"mlstm_cell", op_class::recurrent, dtype::bf16, {0, 1}, 1000 * flop, {}, {}, 6, 8};
  CHECK(time_op(cell, hw, overlap::perfect).total.value() == doctest::Approx(10).epsilon(1e-12));
  CHECK(time_op(cell, hw, overlap::none).total.value() == doctest::Approx(18).epsilon(1e-12));
  cell.item_steps = 32;  // a 4x longer prompt on as many items: the loop bounds it, 2 x 32 x 0.5
  CHECK(time_op(cell, hw, overlap::perfect).total.value() == doctest::Approx(32).epsilon(1e-12));
}

TEST_CASE("work items run in waves over the compute units; a decode item reads its keys one by one") {
  hardware hw = toy_hardware();
  hw.compute_units = 4;
  class_timing& e = hw.timing.of(op_class::decode_attention);
  e.per_item = 2 * second;
  e.per_step = 0.25 * second;
  // 9 items (B H) on 4 units: 3 waves; each item reads 10 keys; head width 256 (item size 1).
  // 1000 FLOP at 100 FLOP/s = 10 s; 50 B at 10 B/s = 5 s; keys: 3 waves x 10 x 0.25 s = 7.5 s.
  op att{"attention", op_class::decode_attention,
         dtype::bf16, {0, 1},
         1000 * flop, {.kv_cache = 50 * byte},
         {},          9,
         10,          1};
  CHECK(waves(att, hw) == 3);
  SUBCASE("the key loop overlaps compute and memory like they overlap each other") {
    CHECK(time_op(att, hw, overlap::perfect).total.value() == doctest::Approx(10 + 3 * 2).epsilon(1e-12));
    CHECK(time_op(att, hw, overlap::none).total.value() == doctest::Approx(10 + 5 + 7.5 + 6).epsilon(1e-12));
    const double pnorm = std::sqrt(10 * 10 + 5 * 5 + 7.5 * 7.5);
    hw.timing.smooth_exponent = 2;
    CHECK(time_op(att, hw, overlap::smooth).total.value() == doctest::Approx(pnorm + 6).epsilon(1e-12));
  }
  SUBCASE("long contexts: the key loop bounds the op, reported as memory-bound") {
    att.item_steps = 100;  // 3 x 100 x 0.25 = 75 s
    const op_time t = time_op(att, hw, overlap::perfect);
    CHECK(t.total.value() == doctest::Approx(75 + 6).epsilon(1e-12));
    CHECK(t.bound == bound::memory);
  }
  SUBCASE("a 64-wide head (item size 0.5) halves the setup, not the key loop") {
    att.item_size = 0.5;
    CHECK(op_overhead(att, hw).value() == doctest::Approx(3).epsilon(1e-12));
  }
  SUBCASE("8 items fill exactly 2 waves; 1 item needs a whole one") {
    att.parallel = 8;
    CHECK(waves(att, hw) == 2);
    att.parallel = 1;
    CHECK(waves(att, hw) == 1);
  }
  SUBCASE("no unit count: no waves, no per-item time") {
    hw.compute_units = 0;
    CHECK(waves(att, hw) == 0);
    CHECK(time_op(att, hw, overlap::perfect).total.value() == doctest::Approx(10).epsilon(1e-12));
  }
}
