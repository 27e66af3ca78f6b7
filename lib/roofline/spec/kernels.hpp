/// Kernel tables: measured times of single kernels by shape, which a stack may carry
/// (timing/kernels.hpp interpolates them; io reads them; calibrate --kernels fits the rest).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roofline/base/dtype.hpp"
#include "roofline/base/names.hpp"
#include "roofline/spec/hardware.hpp"

namespace roofline {

/// The kernels a table measures: a GEMM, a grouped (MoE) GEMM, fused causal prefill attention,
/// one-token decode attention over a KV cache, a normalisation and a device copy.
enum class kernel_kind { gemm, grouped_gemm, attention_prefill, attention_decode, norm, copy };
inline constexpr std::array all_kernel_kinds{kernel_kind::gemm,
                                             kernel_kind::grouped_gemm,
                                             kernel_kind::attention_prefill,
                                             kernel_kind::attention_decode,
                                             kernel_kind::norm,
                                             kernel_kind::copy};
template <>
inline constexpr std::array<std::string_view, 6> enum_names<kernel_kind>{
    "gemm", "grouped_gemm", "attention_prefill", "attention_decode", "norm", "copy"};

/// One kernel's shape, the columns of `roofline kernel --ops`; a kind uses some of them (0: unused).
///   gemm               m x n outputs over k inputs, in `format` (bf16, fp8, fp4 operands)
///   grouped_gemm       `experts` GEMMs of tokens_per_expert x n over k in one kernel
///   attention_prefill  batch sequences of q_len queries against kv_len keys each (kv_len - q_len
///                      cached before them), causal, heads query and kv_heads key/value heads of
///                      head_dim, a sliding window of `window` keys (0: none)
///   attention_decode   batch sequences of one query against kv_len cached keys
///   norm, copy         `bytes` read plus written
struct kernel_shape {
  kernel_kind kind = kernel_kind::gemm;
  dtype format = dtype::bf16;
  double m = 0, n = 0, k = 0;
  double batch = 0, q_len = 0, kv_len = 0, heads = 0, kv_heads = 0, head_dim = 0, window = 0;
  double experts = 0, tokens_per_expert = 0;
  double bytes = 0;
};

/// A row of a kernel CSV (roofline kernel --ops, a stack's table): a shape, its measured time in
/// seconds where the file has one, and the set it belongs to ("grid": a point of a table;
/// "held_out": a shape off the table's points, to check it; empty: no `set` column).
struct kernel_row {
  kernel_shape shape;
  std::optional<double> measured_s;
  std::string set;
  int line = 0;  ///< in its file
};

/// A kernel table's coordinates for one kind: up to three axes, interpolated in log space, and a
/// key of up to two numbers that must match or is taken from the nearest measured one.
///   gemm               axes m, n, k
///   grouped_gemm       axes tokens_per_expert, n, k; key experts
///   attention_prefill  axes batch x heads, q_len; key heads / kv_heads, head_dim
///   attention_decode   axes batch x kv_heads, kv_len; key heads / kv_heads, head_dim
///   norm, copy         axis bytes
/// (An attention kernel runs one work item per sequence and head: its time follows their
/// count, whichever of batch or heads makes it; rows that fall on one point are combined.)
struct kernel_coords {
  std::array<double, 3> axes{};
  int dims = 0;
  std::array<double, 2> key{};
};
constexpr kernel_coords coords_of(const kernel_shape& s) {
  switch (s.kind) {
    case kernel_kind::gemm:
      return {{s.m, s.n, s.k}, 3, {}};
    case kernel_kind::grouped_gemm:
      return {{s.tokens_per_expert, s.n, s.k}, 3, {s.experts, 0}};
    case kernel_kind::attention_prefill:
      return {{s.batch * s.heads, s.q_len, 0}, 2, {s.heads / s.kv_heads, s.head_dim}};
    case kernel_kind::attention_decode:
      return {{s.batch * s.kv_heads, s.kv_len, 0}, 2, {s.heads / s.kv_heads, s.head_dim}};
    case kernel_kind::norm:
    case kernel_kind::copy:
      return {{s.bytes, 0, 0}, 1, {}};
  }
  return {};
}

/// One measured grid: the times of a kind, format and key at every point of the product of its
/// axes (ascending), stored as natural logs, the last axis fastest.
struct kernel_grid {
  kernel_kind kind = kernel_kind::gemm;
  dtype format = dtype::bf16;
  std::array<double, 2> key{};
  std::vector<std::vector<double>> axes;
  std::vector<double> log_time;
};

/// The spread of a kind's prediction errors (spec/hardware.hpp's spread), from the held-out
/// shapes of the table's file.

/// A stack's kernel table: the grids read from a measured CSV (examples/measure/kernels.py),
/// the part they were measured on (their efficiencies move to another part: timing/kernels.hpp)
/// and the held-out spread of each kind.
struct kernel_table {
  std::string file;           ///< the CSV, as the stack names it
  std::string measured_file;  ///< the part's profile, as the stack names it
  part measured_on;           ///< read from that profile
  std::vector<kernel_grid> grids;
  std::array<kernel_spread, all_kernel_kinds.size()> spread{};
  /// Every time of a kind multiplied by this: 1, as measured; at_spread() (timing/kernels.hpp)
  /// sets a kind's p10 or p90 to time a whole run at an end of the interval.
  std::array<double, all_kernel_kinds.size()> scale{1, 1, 1, 1, 1, 1};

  /// Each kind's spread where the table is moved to another part: measured / predicted at the
  /// held-out shapes of a table measured on the part `moved_checked_on`, this one moved there
  /// (calibrate --moved-kernels); points 0: not measured.
  std::array<kernel_spread, all_kernel_kinds.size()> spread_moved{};
  std::string moved_checked_on;

  const kernel_spread& spread_of(kernel_kind k) const { return spread[static_cast<std::size_t>(k)]; }
  /// A kind's spread on the part named `on`: on the table's own part, its held-out spread; on
  /// another, each end the wider of that and spread_moved's where measured (a move never
  /// narrows it).
  kernel_spread spread_on(kernel_kind k, const std::string& on) const {
    const kernel_spread& own = spread_of(k);
    const kernel_spread& moved = spread_moved[static_cast<std::size_t>(k)];
    if (on == measured_on.name || own.points == 0 || moved.points == 0) return own;
    return envelope(own, moved, moved.points);
  }
  /// Whether some kind's spread on another part is measured.
  bool has_moved_spread() const {
    for (const kernel_spread& s : spread_moved)
      if (s.points > 0) return true;
    return false;
  }
  /// Whether some kind states its held-out spread (the table gives an interval).
  bool has_spread() const {
    for (const kernel_spread& s : spread)
      if (s.points > 0) return true;
    return false;
  }
};

}  // namespace roofline
