/// Number formats of tensors and their sizes in bytes.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace roofline {

enum class dtype { fp32, tf32, bf16, fp16, fp8, int8, fp4 };

inline constexpr std::array all_dtypes{dtype::fp32, dtype::tf32, dtype::bf16, dtype::fp16,
                                       dtype::fp8,  dtype::int8, dtype::fp4};

/// Bytes per element. tf32 is stored as fp32 (4 B); fp4 packs two elements a byte.
constexpr double size_bytes(dtype t) {
  switch (t) {
    case dtype::fp32: case dtype::tf32: return 4;
    case dtype::bf16: case dtype::fp16: return 2;
    case dtype::fp8: case dtype::int8: return 1;
    case dtype::fp4: return 0.5;
  }
  return 0;
}

constexpr std::string_view name(dtype t) {
  constexpr std::array<std::string_view, 7> names{"fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4"};
  return names[static_cast<std::size_t>(t)];
}

constexpr std::optional<dtype> parse_dtype(std::string_view s) {
  for (dtype t : all_dtypes)
    if (name(t) == s) return t;
  return std::nullopt;
}

inline constexpr std::string_view dtype_names = "fp32, tf32, bf16, fp16, fp8, int8, fp4";

}  // namespace roofline
