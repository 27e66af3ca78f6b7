/// Number formats: the element types units compute in, and storage formats with their block scales.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "roofline/base/names.hpp"

namespace roofline {

/// Element types: what a tensor unit computes in, and what a stored element is.
enum class dtype { fp32, tf32, bf16, fp16, fp8, int8, fp4, int4 };

inline constexpr std::array all_dtypes{dtype::fp32, dtype::tf32, dtype::bf16, dtype::fp16,
                                       dtype::fp8,  dtype::int8, dtype::fp4,  dtype::int4};

/// Bytes per element. tf32 is stored as fp32 (4 B); fp4 and int4 pack two elements a byte.
constexpr double size_bytes(dtype t) {
  constexpr std::array<double, 8> bytes{4, 4, 2, 2, 1, 1, 0.5, 0.5};  // in the order of enum_names<dtype>
  return bytes[static_cast<std::size_t>(t)];
}

template <>
inline constexpr std::array<std::string_view, 8> enum_names<dtype>{"fp32", "tf32", "bf16", "fp16",
                                                                   "fp8",  "int8", "fp4",  "int4"};

constexpr std::optional<dtype> parse_dtype(std::string_view s) { return parse_name<dtype>(s); }

/// How a tensor is stored: elements of one type and, for block-scaled formats, one scale of
/// scale_bytes per block of `block` elements. Bytes per element: size(element) + scale_bytes / block.
/// Per-tensor and per-channel scales are a few bytes per row or tensor and are not counted.
struct number_format {
  dtype element = dtype::bf16;
  int block = 0;           ///< elements sharing one scale; 0: no block scales
  double scale_bytes = 0;  ///< bytes of one block's scale (and zero point)
  std::string_view name = "bf16";

  constexpr double bytes_per_element() const {
    return size_bytes(element) + (block > 0 ? scale_bytes / block : 0);
  }
  constexpr bool operator==(const number_format& o) const {
    return element == o.element && block == o.block && scale_bytes == o.scale_bytes;
  }
};

/// A plain format of one element type, no block scales.
constexpr number_format plain(dtype t) { return {t, 0, 0, name(t)}; }

/// Named storage formats, each with its source:
/// - the element types above, plain (per-tensor or per-channel scales, not counted);
/// - mxfp4: fp4 (E2M1) elements, one 1-byte E8M0 scale per 32 (OCP Microscaling Formats spec
///   v1.0, 2023; gpt-oss's released expert weights): 4.25 bits an element;
/// - mxfp8: fp8 (E4M3) elements, one E8M0 scale per 32 (same spec): 8.25 bits;
/// - nvfp4: fp4 (E2M1) elements, one 1-byte E4M3 scale per 16 (NVIDIA Blackwell NVFP4; the
///   per-tensor fp32 scale is not counted): 4.5 bits;
/// - fp8_block128: fp8 elements, one fp32 scale per 128 x 128 block (DeepSeek-V3's released
///   weights, quantization_config weight_block_size [128, 128]): 8 + 32/16384 bits;
/// - int4_g128: int4 elements, an fp16 scale and a 4-bit zero point per group of 128 (AWQ and
///   GPTQ checkpoints with group_size 128): 4 + 20/128 bits;
/// - int4_g32: int4 elements, a bf16 scale per group of 32, symmetric (compressed-tensors
///   pack-quantized checkpoints with group_size 32, as Kimi-K2's experts): 4 + 16/32 bits;
/// - int8_g128: the same with int8 elements (W8A16 group-wise): 8 + 20/128 bits.
inline constexpr std::array named_formats{plain(dtype::fp32),
                                          plain(dtype::bf16),
                                          plain(dtype::fp16),
                                          plain(dtype::fp8),
                                          plain(dtype::int8),
                                          plain(dtype::fp4),
                                          plain(dtype::int4),
                                          number_format{dtype::fp4, 32, 1, "mxfp4"},
                                          number_format{dtype::fp8, 32, 1, "mxfp8"},
                                          number_format{dtype::fp4, 16, 1, "nvfp4"},
                                          number_format{dtype::fp8, 128 * 128, 4, "fp8_block128"},
                                          number_format{dtype::int4, 128, 2.5, "int4_g128"},
                                          number_format{dtype::int4, 32, 2, "int4_g32"},
                                          number_format{dtype::int8, 128, 2.5, "int8_g128"}};

inline constexpr std::string_view format_names =
    "fp32, bf16, fp16, fp8, int8, fp4, int4, mxfp4, mxfp8, nvfp4, fp8_block128, int4_g128, int4_g32, "
    "int8_g128";

constexpr std::optional<number_format> parse_format(std::string_view s) {
  for (const number_format& f : named_formats)
    if (f.name == s) return f;
  return std::nullopt;
}

/// The KV-cache formats a workload may choose (--kv-format, Python load_model's kv_format), as
/// the engines store them: bf16; fp8 (E4M3 elements with per-tensor scales: vLLM's
/// kv_cache_dtype "fp8", SGLang's "fp8_e4m3", TensorRT-LLM's FP8 KV cache; 1 byte an element,
/// the scales not counted); nvfp4 (E2M1 elements, one E4M3 scale per 16: TensorRT-LLM's NVFP4
/// KV cache on Blackwell; 4.5 bits). Attention reads them and computes in the model's
/// activation format (a stated assumption: dequantised on load, as the engines' bf16 attention
/// kernels do).
inline constexpr std::array<std::string_view, 3> kv_format_names{"bf16", "fp8", "nvfp4"};
constexpr std::optional<number_format> kv_format(std::string_view s) {
  for (std::string_view n : kv_format_names)
    if (n == s) return parse_format(s);
  return std::nullopt;
}

}  // namespace roofline
