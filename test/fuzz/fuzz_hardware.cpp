// Fuzz target: a hardware profile, and the profile written back and read again.
#include <cstdint>
#include <string>

#include "roofline/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const roofline::hardware hw = roofline::parse_hardware(text, "fuzz.yaml");
    (void)roofline::parse_hardware(roofline::hardware_yaml(hw), "again.yaml");  // what it writes, it reads
  } catch (const roofline::input_error&) {
  }
  return 0;
}
