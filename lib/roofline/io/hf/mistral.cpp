// io, HuggingFace import: Mistral and Mixtral: Llama's layers with a sliding window on every layer
// where one is given; Mixtral's channels are MoE on every layer.
#include "roofline/io/hf/decoder.hpp"
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {

void import_mistral(input& in) {
  decoder_family family{.attention = [](decoder& d) { read_attention_bias(d, false, true); },
                        .windows = window_every_layer};
  if (in.type == "mixtral") {
    family.dense = false;
    family.channels = [](decoder& d) { moe_every_layer(d, {}, ""); };
  }
  import_decoder(in, family);
}

}  // namespace roofline::hf
