// io, HuggingFace import (internal): the decoder-only transformers whose configs share
// transformers' names (hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, ...).
// One import, import_decoder(), runs for all of them; a family (one file each) states what differs
// as a decoder_family: its attention's options, which layers slide, which are MoE, which mixer each
// layer has, and the blocks and keys it adds. The rules several families share are below.
#pragma once

#include <string>
#include <vector>

#include "roofline/io/hf/config.hpp"

namespace roofline::hf {

// What the spec's attention mixers carry besides their heads.
struct attention_options {
  bool qkv_bias = false, out_bias = false, qk_norm = false, sinks = false, output_gate = false;
  double softcap = 0;    // attention logits (Gemma 2)
  double logit_cap = 0;  // final logits (Gemma 2)
  std::string bias_why;
};

// Which part of the channels' comment the layers' comment repeats (where MoE layers are).
enum class moe_layers_note { none, always, with_dense };

// A decoder being imported: what has been read, per layer and per mixer.
struct decoder {
  input& in;
  long long hidden = 0, layers = 0, heads = 0, kv = 0, head_dim = 0;
  std::string heads_why{};
  std::string activation{};
  attention_options attention{};
  long long window = 0;  // sliding window of the layers marked in `local`
  std::string window_why{};
  std::vector<bool> local{};
  long long ffn = 0;                   // intermediate_size of the dense MLP (0: none read)
  std::vector<std::string> channel{};  // per layer: "mlp" or "moe"
  flow moe{};                          // the MoE channel's fields
  std::string channel_why{};
  moe_layers_note moe_note = moe_layers_note::none;
  std::vector<std::string> mixer{};  // per layer: "attention", "local", or the family's own
  std::string mixer_why{};
  std::string ffn_key{};  // the field `ffn` was read from (empty: intermediate_size)
};

// What a family of decoders does differently; a null hook keeps the common rule.
struct decoder_family {
  bool gemma = false;                 // tied embeddings by default; hidden_activation, GeLU (tanh) by default
  bool dense = true;                  // intermediate_size is the dense MLP's (false: every layer is MoE)
  bool attention_layer_types = true;  // layer_types lists sliding_attention and full_attention
  bool head_width_from_heads = true;  // no head_dim: hidden_size / heads, which must divide (not MLA's)
  void (*attention)(decoder&) = nullptr;  // options of the attention mixers (default: none)
  void (*windows)(decoder&) = nullptr;    // which layers slide (default: 'sliding_window' refused)
  void (*channels)(decoder&) = nullptr;   // which layers are MoE (default: none)
  void (*mixers)(decoder&) = nullptr;     // mixer of each layer (default: attention, local if sliding)
  void (*keys)(decoder&) = nullptr;       // spec keys after the head (Gemma 2's norms and cap)
  void (*blocks)(decoder&) = nullptr;     // mixer blocks besides attention (MLA, DeltaNet, Mamba)
  void (*last)(decoder&) = nullptr;       // after the dtypes: state formats, fields that change nothing
};

void import_decoder(input& in, const decoder_family& family);

// attention_bias (default `fallback`) on q, k, v, and on the output projection too when `out`.
void read_attention_bias(decoder& d, bool fallback, bool out);
// attention_bias true refused: the family's attention has no such biases.
void refuse_attention_bias(decoder& d);
// sliding_window, when given, on every layer (Mistral, Mixtral, Phi-3).
void window_every_layer(decoder& d);
// sliding_window on even layers, global attention on odd ones (Gemma 2, gpt-oss).
void window_alternating(decoder& d);
// MoE on every layer: num_local_experts, num_experts_per_tok, intermediate_size (Mixtral, gpt-oss);
// `extra` fields follow the widths.
void moe_every_layer(decoder& d, const flow& extra, const std::string& extra_why);

}  // namespace roofline::hf
