// Timing: the roofline time of one op under each overlap policy, worked out by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "roofline/timing.hpp"

using namespace roofline;

namespace {

// 100 FLOP/s of bf16 matrix, 10 FLOP/s of fp32 vector, 10 B/s.
hardware toy_hardware() {
  hardware hw{.name = "toy"};
  hw.matrix[std::size_t(dtype::bf16)] = 100 * flop_per_second;
  hw.vector[std::size_t(dtype::fp32)] = 10 * flop_per_second;
  hw.bandwidth = 10 * byte_per_second;
  return hw;
}

// 1000 FLOPs and 50 bytes: t_c = 1000 / 100 = 10 s, t_m = 50 / 10 = 5 s.
const op gemm{"gemm", op_class::matrix, dtype::bf16, {0, 1}, 1000 * flop, {.weights = 30 * byte, .activations = 20 * byte}};

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
  SUBCASE("no overlap adds them") { CHECK(time_op(gemm, hw, overlap::none).total.value() == doctest::Approx(15).epsilon(1e-12)); }
  SUBCASE("smooth overlap is the p-norm: p = 2 gives sqrt(10^2 + 5^2)") {
    hw.timing.smooth_exponent = 2;
    CHECK(time_op(gemm, hw, overlap::smooth).total.value() == doctest::Approx(std::sqrt(125.0)).epsilon(1e-12));
  }
  SUBCASE("smooth overlap tends to none at p = 1 and to perfect for large p") {
    hw.timing.smooth_exponent = 1;
    CHECK(time_op(gemm, hw, overlap::smooth).total.value() == doctest::Approx(15).epsilon(1e-12));
    hw.timing.smooth_exponent = 200;  // 10 (1 + 2^-200)^(1/200)
    CHECK(time_op(gemm, hw, overlap::smooth).total.value() == doctest::Approx(10).epsilon(1e-12));
  }
  SUBCASE("efficiencies scale the peaks and the overhead is added once per op") {
    hw.timing.efficiency[std::size_t(op_class::matrix)] = {.compute = 0.5, .memory = 0.25};
    hw.timing.overhead_per_op = 2 * second;
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
