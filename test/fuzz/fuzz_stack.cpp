// Fuzz target: a stack, written back and read again, and driving a part (the transfer rule).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "roofline/io/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const roofline::stack s = roofline::parse_stack(text, "fuzz.yaml");
    (void)roofline::parse_stack(roofline::stack_yaml(s), "again.yaml");  // what it writes, it reads
    roofline::part p{.name = "other", .compute_units = 100, .clock_mhz = 1000};
    const roofline::hardware h = roofline::drive(p, s);
    for (const auto& c : h.timing.classes)
      if (!std::isfinite(c.per_item.value()) || !std::isfinite(c.per_step.value())) std::abort();
  } catch (const roofline::input_error&) {}
  return 0;
}
