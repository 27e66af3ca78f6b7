// Fuzz target: a part (hardware profile), and the part written back and read again.
#include <cstdint>
#include <string>

#include "roofline/io/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const roofline::part p = roofline::parse_part(text, "fuzz.yaml");
    (void)roofline::parse_part(roofline::part_yaml(p), "again.yaml");  // what it writes, it reads
  } catch (const roofline::input_error&) {}
  return 0;
}
