/// Constants of the FLOP and byte accounting, with the values of "xLSTM Scaling Laws".
#pragma once

namespace roofline {

/// How a prefill whose length is not a multiple of the chunk size is counted.
enum class partial_chunk {
  pad,       ///< ceil(T / L) chunks, the last one padded to L: what chunkwise kernels compute
  fraction,  ///< T / L chunks as a real number: the paper's accounting (Beck et al., App. D)
};
template <>
inline constexpr std::array<std::string_view, 2> enum_names<partial_chunk>{"pad", "fraction"};

/// Every constant of the accounting in one place. Defaults are the values that
/// xlstm_scaling_laws/model_accounting substitutes (Beck et al., arXiv 2510.02228,
/// Appendix D); a model spec can override each under its `accounting:` key.
struct accounting {
  double attention_causal_factor = 0.65;  ///< share of the T x T score matrix computed in causal prefill
  double mlstm_causal_factor = 0.75;      ///< the same for the intra-chunk mLSTM matrix
  /// The same for the intra-chunk matrices of Mamba-2 (SSD) and Gated DeltaNet: not in the
  /// paper; its mLSTM value, as those kernels tile their chunks the same way.
  double ssm_causal_factor = 0.75;
  double softmax_flops = 5;  ///< FLOPs per attention score for the softmax
  double norm_flops = 3;     ///< FLOPs per element of an RMS/layer norm
  double swish_flops = 1;    ///< FLOPs per element of SiLU (plus 1 for the gate product)
  /// FLOPs per element of GELU (erf or tanh form): not in the paper; 1 like its SiLU, one
  /// activation function counting 1 FLOP.
  double gelu_flops = 1;
  /// FLOPs per score of logit soft-capping c tanh(x / c) (Gemma 2): divide, tanh, multiply.
  double softcap_flops = 3;
  double skip_flops = 1;  ///< FLOPs per element of a residual add
  double exp_flops = 1;
  double log_flops = 1;
  double sigmoid_flops = 1;
  double max_flops = 1;
  double abs_flops = 1;
  enum partial_chunk partial_chunk = partial_chunk::pad;
  // The published code leaves the final norm's FLOPs out of the last-token logits of a
  // prefill (both families) and of a Transformer decode step, and counts them in an
  // xLSTM decode step; its bytes are counted in all cases. These two switches reproduce it.
  bool final_norm_flops_prefill = false;
  bool final_norm_flops_decode = true;
};

}  // namespace roofline
