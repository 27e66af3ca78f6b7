// io, HuggingFace import: Llama 2 and 3 (model_type llama): attention_bias on every projection, no
// sliding window, a SwiGLU MLP without biases.
#include "roofline/io/hf/decoder.hpp"
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {

void import_llama(input& in) {
  import_decoder(in, {.attention = [](decoder& d) {
                   read_attention_bias(d, false, true);
                   if (d.in.c.boolean_or("mlp_bias", false))
                     d.in.c.fail("mlp_bias", "'mlp_bias' true is not modelled for llama");
                 }});
}

}  // namespace roofline::hf
