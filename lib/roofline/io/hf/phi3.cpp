// io, HuggingFace import: Phi-3 (model_type phi3): attention_bias on every projection, a sliding
// window on every layer where one is given.
#include "roofline/io/hf/decoder.hpp"
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {

void import_phi3(input& in) {
  import_decoder(in, {.attention = [](decoder& d) { read_attention_bias(d, false, true); },
                      .windows = window_every_layer});
}

}  // namespace roofline::hf
