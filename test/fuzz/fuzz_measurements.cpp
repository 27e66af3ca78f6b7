// Fuzz target: a measurement CSV.
#include <cstdint>
#include <string>

#include "roofline/io/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)roofline::parse_measurements(std::string(reinterpret_cast<const char*>(data), size), "fuzz.csv");
  } catch (const roofline::input_error&) {}
  return 0;
}
