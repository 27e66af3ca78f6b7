// Fuzz target: a kernel CSV, read, built into a table where it is one, and each row predicted.
#include <cstdint>
#include <memory>
#include <string>

#include "roofline/io/io.hpp"
#include "roofline/timing/timing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto rows =
        roofline::parse_kernel_rows(std::string(reinterpret_cast<const char*>(data), size), "fuzz.csv");
    roofline::hardware hw{};
    hw.name = "fuzz";
    hw.matrix[std::size_t(roofline::dtype::bf16)] = 1e15 * roofline::flop_per_second;
    hw.matrix[std::size_t(roofline::dtype::fp8)] = 2e15 * roofline::flop_per_second;
    hw.vector[std::size_t(roofline::dtype::fp32)] = 6e13 * roofline::flop_per_second;
    hw.bandwidth = 3e12 * roofline::byte_per_second;
    hw.compute_units = 132;
    for (const auto& r : rows) (void)roofline::predict_kernel(r.shape, hw, roofline::overlap::perfect);
    auto t = std::make_shared<roofline::kernel_table>();
    t->measured_on = hw;
    t->grids = roofline::kernel_grids(rows, "fuzz.csv");
    hw.timing.kernels = t;
    for (const auto& r : rows) (void)roofline::predict_kernel(r.shape, hw, roofline::overlap::perfect);
  } catch (const roofline::input_error&) {}
  return 0;
}
