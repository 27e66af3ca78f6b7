// io, HuggingFace import: gpt-oss: attention with biases and a learned sink per head, sliding and
// global layers alternating, MoE on every layer with biases on the experts and the router.
#include "roofline/io/hf/decoder.hpp"
#include "roofline/io/hf/importers.hpp"

namespace roofline::hf {

void import_gpt_oss(input& in) {
  import_decoder(in, {.dense = false,
                      .attention =
                          [](decoder& d) {
                            read_attention_bias(d, true, true);
                            d.attention.sinks = true;
                          },
                      .windows = window_alternating,
                      .channels =
                          [](decoder& d) {
                            moe_every_layer(d, {{"expert_bias", true}, {"router_bias", true}},
                                            "; gpt_oss: biases on experts and router");
                          }});
}

}  // namespace roofline::hf
