// Fuzz target: scaling-law fit files, both kinds.
#include <cstdint>
#include <string>

#include "roofline/io/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)roofline::parse_loss_fits(text, "fuzz.yaml");
  } catch (const roofline::input_error&) {}
  try {
    (void)roofline::parse_isoflop_fits(text, "fuzz.yaml");
  } catch (const roofline::input_error&) {}
  return 0;
}
