/// One operation of a forward pass: what it computes and moves, no time.
#pragma once

#include <array>
#include <string_view>

#include "roofline/base/dtype.hpp"
#include "roofline/base/units.hpp"

namespace roofline {

/// Which unit of the accelerator an op runs on, and so which peak and efficiency time it.
enum class op_class {
  matrix,            ///< GEMMs on the tensor/matrix units
  attention,         ///< fused softmax attention of a prompt (flash): tensor units, KV traffic
  decode_attention,  ///< one new query per sequence against the KV cache (decode kernels)
  recurrent,       ///< a chunkwise recurrent cell (prefill: mLSTM, Mamba-2 SSD, Gated DeltaNet): chunk states
  recurrent_step,  ///< such a cell's recurrent step (decode, one-token prompts): state traffic
  vector,          ///< norms, gates, activations, embedding gather, Mamba-1's selective scan: vector units
  communication,   ///< collectives between GPUs (not in all_op_classes: timed by the stack's collectives)
};

inline constexpr std::array all_op_classes{op_class::matrix,           op_class::attention,
                                           op_class::decode_attention, op_class::recurrent,
                                           op_class::recurrent_step,   op_class::vector};

template <>
inline constexpr std::array<std::string_view, 7> enum_names<op_class>{
    "matrix", "attention", "decode_attention", "recurrent", "recurrent_step", "vector", "communication"};

/// What limits an op or a pass: its compute, its memory traffic, fixed overheads (launches), or
/// communication between GPUs (timing/ decides which).
enum class bound { compute, memory, overhead, communication };

template <>
inline constexpr std::array<std::string_view, 4> enum_names<bound>{"compute", "memory", "overhead",
                                                                   "communication"};

/// Bytes an op moves to or from device memory, by kind of tensor.
struct traffic {
  bytes weights{};
  bytes activations{};
  bytes kv_cache{};
  bytes state{};  ///< recurrent state (mLSTM C, n, m; SSM and DeltaNet states; conv windows)

  constexpr bytes total() const { return weights + activations + kv_cache + state; }
  constexpr traffic& operator+=(const traffic& o) {
    return *this = {weights + o.weights, activations + o.activations, kv_cache + o.kv_cache, state + o.state};
  }
  constexpr traffic operator*(double k) const {
    return {weights * k, activations * k, kv_cache * k, state * k};
  }
};

/// Size of a work item that handles one head, for its per-item time: the head width
/// (d_qk + d_v) against a 128-wide head's 256.
constexpr double head_item_size(double d_qk, double d_v) { return (d_qk + d_v) / 256; }

/// Where in the model an op sits: a kind of layer (index into model_spec::kinds), the
/// embedding or the head (final norm and LM head). Identical layers are emitted once, with
/// the number of layers of that kind.
struct layer_span {
  static constexpr int embedding = -1;
  static constexpr int head = -2;
  static constexpr int vision = -3;  ///< a vision tower's ops (graph/vision.hpp)
  int kind = embedding;
  int count = 1;  ///< how many identical layers this op stands for
};

/// Shape of a GEMM: m rows (tokens) times n outputs, summed over k inputs; a grouped GEMM
/// (the experts of a MoE layer) is `groups` such GEMMs in one kernel.
struct gemm_shape {
  double m = 0, n = 0, k = 0;
  double groups = 1;
};

/// Collectives between GPUs (communication ops), and the link they run on.
enum class collective { all_reduce, all_gather, reduce_scatter, all_to_all, send_recv };
inline constexpr std::array all_collectives{collective::all_reduce, collective::all_gather,
                                            collective::reduce_scatter, collective::all_to_all,
                                            collective::send_recv};
template <>
inline constexpr std::array<std::string_view, 5> enum_names<collective>{
    "all_reduce", "all_gather", "reduce_scatter", "all_to_all", "send_recv"};
enum class link_kind { none, scale_up, scale_out };
template <>  // none: no link (an op of one GPU), printed empty
inline constexpr std::array<std::string_view, 3> enum_names<link_kind>{"", "scale_up", "scale_out"};

/// What a communication op moves: a collective over a group of GPUs, of a message of S bytes
/// per GPU (the full buffer of an all-reduce, the gathered result of an all-gather, the input
/// of a reduce-scatter, what one GPU sends and receives in an all-to-all or a send), and the
/// GPUs the group is spread over (which decides its link: timing.hpp).
struct communication {
  enum collective collective = collective::all_reduce;
  int group = 0;  ///< GPUs in the collective; 0: not a communication op
  int span = 0;   ///< consecutive GPUs the collective's members lie in (>= group)
  bytes message{};
};

/// Shape of a softmax attention op, for timing by measured kernels (timing/kernels.hpp): batch
/// sequences of q_len queries (1 in decode) against kv_len keys each (the cached ones and their
/// own), heads query and kv_heads key/value heads of head_dim (of one rank), a sliding window of
/// `window` keys (0: none). All 0 for other ops and attention the tables do not cover (MLA).
struct attention_shape {
  double batch = 0, q_len = 0, kv_len = 0, heads = 0, kv_heads = 0, head_dim = 0, window = 0;
};

/// One op of one layer, for the whole batch: its FLOPs and bytes per layer.
/// The last four fields describe how the work can be spread, for timing models that
/// go beyond the pure roofline; they never change the counts.
struct op {
  std::string_view name;  ///< static string, e.g. "qkv_proj"
  op_class cls;
  dtype compute;  ///< format of its arithmetic (selects the peak)
  layer_span layers;
  flops work;
  traffic moved;
  gemm_shape gemm{};         ///< matrix ops: the GEMM it is
  double parallel = 0;       ///< independent work items (attention: sequences x heads x query tiles)
  double item_steps = 0;     ///< steps the longest work item runs one after another (keys an attention item
                             ///< reads, chunks an mLSTM recurrence walks)
  double item_size = 1;      ///< per-item time multiplier: for attention and mLSTM items the head width
                             ///< against a 128-wide head, (d_qk + d_v) / 256 (head_item_size)
  bool split_steps = false;  ///< the kernel splits an item's serial loop over idle compute units
                             ///< (split-KV decoding, as FlashMLA does): see timing's work_items
  communication comm{};      ///< communication ops (class communication): the collective
  attention_shape attn{};    ///< softmax attention ops: their shape
};

}  // namespace roofline
