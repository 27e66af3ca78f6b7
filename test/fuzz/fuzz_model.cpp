// Fuzz target: a model spec or a HuggingFace config.json, read as load_model reads a file.
// Only the documented error may come out: an input_error "file:line:col: ...".
#include <cstdint>
#include <string>

#include "roofline/graph/graph.hpp"
#include "roofline/io/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const roofline::model_spec m = roofline::is_hf_config(text)
                                       ? roofline::parse_model(roofline::import_hf(text, "fuzz.json"), "fuzz")
                                       : roofline::parse_model(text, "fuzz.yaml");
    (void)roofline::parameters(m);
  } catch (const roofline::input_error&) {}
  return 0;
}
