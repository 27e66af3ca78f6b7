/// Timing by measured kernels: a stack's kernel table (spec/kernels.hpp) interpolated at an op's
/// shape, moved to other shapes and other parts by the analytic model's ratio.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>

#include "roofline/spec/kernels.hpp"
#include "roofline/timing/analytic.hpp"

namespace roofline {

/// Query-key pairs a tiled causal attention kernel computes for one sequence and head: t queries
/// after `cached` keys, in query tiles of `tile` rows, each tile reading whole key tiles of
/// `tile` keys from the first its rows see (a sliding window of w keys: the first row's oldest
/// key; 0: the first key) to the last (its last row's own key). The diagonal tiles are computed
/// whole and masked, so a prompt of T = n tile tokens costs T (T + tile) / 2 pairs where the
/// paper's accounting counts c T^2 (c = 0.65, Beck et al. App. D.2), and a 128-token prompt as
/// many as a full T^2: FlashAttention-2/3 schedule their causal loops so (tile 128).
inline double causal_tile_pairs(double t, double cached, double w, double tile = 128) {
  double pairs = 0;
  const double tiles = std::ceil(t / tile);
  for (double i = 0; i < tiles; ++i) {
    const double first = cached + i * tile, rows = std::min(tile, t - i * tile), last = first + rows - 1;
    const double from = w > 0 ? std::floor(std::max(0.0, first - w + 1) / tile) * tile : 0;
    const double to = std::min(std::ceil((last + 1) / tile) * tile, cached + t);
    pairs += rows * (to - from);
  }
  return pairs;
}

/// The op a measured kernel of shape s is, counted as the kernel runs it (not as a model's
/// accounting counts it): the analytic model times it for the ratios below.
///   gemm: 2 m n k FLOPs; reads m k + n k operands of the format, writes m n bf16.
///   grouped_gemm: experts such GEMMs of tokens_per_expert rows, one kernel.
///   attention_prefill: 4 heads head_dim causal_tile_pairs FLOPs a sequence; reads q, k, v and
///     writes o (k, v of the kv_len keys; q, o of the q_len queries); items per head and 128-query
///     tile, each reading its keys (item steps).
///   attention_decode: 4 heads head_dim kv_len FLOPs a sequence; reads the k, v cache; one item
///     per sequence and KV head, its keys split over idle units (split-KV).
///   norm: 4 FLOPs per element (square, sum, scale, weight); copy: none; both move their bytes.
inline op op_of(const kernel_shape& s) {
  const double b = size_bytes(s.format), act = 2;  // outputs and attention operands in bf16
  switch (s.kind) {
    case kernel_kind::gemm:
    case kernel_kind::grouped_gemm: {
      const bool grouped = s.kind == kernel_kind::grouped_gemm;
      const double g = grouped ? s.experts : 1, m = grouped ? s.tokens_per_expert : s.m;
      return op{"gemm",
                op_class::matrix,
                s.format,
                {},
                2 * g * m * s.n * s.k * flop,
                {.weights = g * s.n * s.k * b * byte, .activations = g * m * (s.k * b + s.n * act) * byte},
                {m, s.n, s.k, g},
                g * m};
    }
    case kernel_kind::attention_prefill: {
      const double pairs = causal_tile_pairs(s.q_len, s.kv_len - s.q_len, s.window);
      const double keys = s.window > 0 ? std::min(s.kv_len, s.window + 128) : s.kv_len;
      op o{"attention",
           op_class::attention,
           s.format,
           {},
           4 * s.batch * s.heads * s.head_dim * pairs * flop,
           {.activations = 2 * s.batch * s.q_len * s.heads * s.head_dim * act * byte,
            .kv_cache = 2 * s.batch * s.kv_len * s.kv_heads * s.head_dim * b * byte},
           {},
           s.batch * s.heads * std::ceil(s.q_len / 128),
           keys,
           head_item_size(s.head_dim, s.head_dim)};
      return o;
    }
    case kernel_kind::attention_decode: {
      op o{"attention",
           op_class::decode_attention,
           s.format,
           {},
           4 * s.batch * s.heads * s.head_dim * s.kv_len * flop,
           {.activations = 2 * s.batch * s.heads * s.head_dim * act * byte,
            .kv_cache = 2 * s.batch * s.kv_len * s.kv_heads * s.head_dim * b * byte},
           {},
           s.batch * s.kv_heads,
           std::max(s.kv_len, 128.0),
           head_item_size(s.head_dim, s.head_dim)};
      o.split_steps = true;
      return o;
    }
    case kernel_kind::norm:
    case kernel_kind::copy:
      return op{s.kind == kernel_kind::norm ? "norm" : "copy",
                op_class::vector,
                dtype::fp32,
                {},
                (s.kind == kernel_kind::norm ? 4 * s.bytes / (2 * b) : 0) * flop,
                {.activations = s.bytes * byte}};
  }
  return {};
}

/// The kernel an op of a model is, where a table can time it: a GEMM (a grouped one for the
/// experts of a MoE layer), softmax attention with its shape, and every vector op as a norm of
/// its bytes (a memory-bound elementwise kernel; the tables' norm reads and writes bf16). Other
/// ops (MLA, recurrent cells, collectives): none, the analytic model times them.
inline std::optional<kernel_shape> shape_of(const op& o) {
  kernel_shape s;
  s.format = o.compute;
  switch (o.cls) {
    case op_class::matrix:
      if (o.gemm.m <= 0 || o.gemm.n <= 0 || o.gemm.k <= 0) return std::nullopt;
      if (o.gemm.groups > 1) {
        s.kind = kernel_kind::grouped_gemm;
        s.experts = o.gemm.groups;
        s.tokens_per_expert = o.gemm.m;
      } else {
        s.m = o.gemm.m;
      }
      s.n = o.gemm.n;
      s.k = o.gemm.k;
      return s;
    case op_class::attention:
    case op_class::decode_attention: {
      const attention_shape& a = o.attn;
      if (a.heads <= 0 || a.kv_heads <= 0 || a.batch <= 0) return std::nullopt;
      s.kind = o.cls == op_class::attention ? kernel_kind::attention_prefill : kernel_kind::attention_decode;
      s.batch = a.batch, s.q_len = a.q_len, s.kv_len = a.kv_len, s.heads = a.heads;
      s.kv_heads = a.kv_heads, s.head_dim = a.head_dim, s.window = a.window;
      return s;
    }
    case op_class::vector:
      if (o.moved.total().value() <= 0) return std::nullopt;
      s.kind = kernel_kind::norm;
      s.format = dtype::bf16;
      s.bytes = o.moved.total().value();
      return s;
    default:
      return std::nullopt;
  }
}

namespace detail {

/// The grid that times shape s: of its kind, in its format if the table has one (else bf16's,
/// else the kind's first), of the key nearest in log space (sum of |log(key / grid key)|).
inline const kernel_grid* grid_for(const kernel_table& t, const kernel_shape& s, const kernel_coords& c) {
  const kernel_grid* best = nullptr;
  double best_cost = 0;
  for (const kernel_grid& g : t.grids) {
    if (g.kind != s.kind) continue;
    double cost = g.format == s.format ? 0 : g.format == dtype::bf16 ? 1e6 : 2e6;
    for (std::size_t i = 0; i < c.key.size(); ++i)
      if (c.key[i] > 0 && g.key[i] > 0) cost += std::abs(std::log(c.key[i] / g.key[i]));
    if (!best || cost < best_cost) best = &g, best_cost = cost;
  }
  return best;
}

/// Natural log of the grid's time at coordinates x (each clamped to its axis): multilinear in the
/// logs of the coordinates between the 2^d surrounding points. Exact at the grid's points; where
/// the times grow along every axis, so does the interpolation (a weighted mean of corners that
/// grow with each weight's axis).
inline double interpolate(const kernel_grid& g, const std::array<double, 3>& x) {
  const std::size_t d = g.axes.size();
  std::array<std::size_t, 3> lo{};
  std::array<double, 3> w{};
  for (std::size_t i = 0; i < d; ++i) {
    const std::vector<double>& a = g.axes[i];
    if (a.size() == 1) continue;
    const double v = std::clamp(x[i], a.front(), a.back());
    const std::size_t j =
        std::clamp<std::size_t>(std::upper_bound(a.begin(), a.end(), v) - a.begin(), 1, a.size() - 1);
    lo[i] = j - 1;
    w[i] = std::log(v / a[j - 1]) / std::log(a[j] / a[j - 1]);
  }
  double sum = 0;
  for (std::size_t corner = 0; corner < (std::size_t{1} << d); ++corner) {
    double weight = 1;
    std::size_t index = 0;
    for (std::size_t i = 0; i < d; ++i) {
      const bool up = corner >> i & 1;
      weight *= up ? w[i] : 1 - w[i];
      index = index * g.axes[i].size() + lo[i] + (up && g.axes[i].size() > 1 ? 1 : 0);
    }
    if (weight > 0) sum += weight * g.log_time[index];
  }
  return sum;
}

/// Shape s moved onto grid g: each axis clamped to the grid's range, the key and format the
/// grid's, and for prompt attention no cached keys and no window (what the tables measure).
/// The numbers a coordinate does not fix are kept: attention keeps the op's heads (prefill) or
/// KV heads (decode) and takes the batch that gives the grid's items.
inline kernel_shape project(kernel_shape s, const kernel_grid& g) {
  std::array<double, 3> x = coords_of(s).axes;
  for (std::size_t i = 0; i < g.axes.size(); ++i)
    x[i] = std::clamp(x[i], g.axes[i].front(), g.axes[i].back());
  s.format = g.format;
  switch (s.kind) {
    case kernel_kind::gemm:
      s.m = x[0], s.n = x[1], s.k = x[2];
      break;
    case kernel_kind::grouped_gemm:
      s.tokens_per_expert = x[0], s.n = x[1], s.k = x[2], s.experts = g.key[0];
      break;
    case kernel_kind::attention_prefill:
      s.kv_heads = s.heads / g.key[0], s.head_dim = g.key[1];
      s.batch = x[0] / s.heads, s.q_len = s.kv_len = x[1], s.window = 0;
      break;
    case kernel_kind::attention_decode:
      s.heads = s.kv_heads * g.key[0], s.head_dim = g.key[1];
      s.batch = x[0] / s.kv_heads, s.kv_len = x[1];
      break;
    case kernel_kind::norm:
    case kernel_kind::copy:
      s.bytes = x[0];
      break;
  }
  return s;
}

/// The coordinates a table is read at: those of the shape, except that the dimensions a kernel
/// cuts into fixed tiles of 128 (a prompt's queries: FlashAttention's query and key tiles; a
/// grouped GEMM's tokens per expert and outputs: CUTLASS's 128 x 128 output tiles) are rounded up
/// to whole tiles above one tile, as the kernel computes them: 138 queries cost about what 256
/// do, not the geometric mean of 128's and 256's (on the H100 table, held-out prompt attention
/// near 138-389 queries measured 35-49 % above that mean). The table's points (powers of two)
/// are whole tiles, or below one: read as they are. cuBLAS picks a GEMM's tile by its shape, and
/// decode kernels split their keys by the batch: those are read as they are (rounding their m, n
/// or keys to 128 measured worse on the H100's held-out shapes).
inline std::array<double, 3> tiled(kernel_kind kind, std::array<double, 3> x) {
  const auto up = [](double v) { return v > 128 ? std::ceil(v / 128) * 128 : v; };
  if (kind == kernel_kind::attention_prefill) x[1] = up(x[1]);
  if (kind == kernel_kind::grouped_gemm) x[0] = up(x[0]), x[1] = up(x[1]);
  return x;
}

inline bool same_shape(const kernel_shape& a, const kernel_shape& b) {
  const auto near = [](double x, double y) {
    return std::abs(x - y) <= 1e-9 * std::max(std::abs(x), std::abs(y));
  };
  const kernel_coords ca = coords_of(a), cb = coords_of(b);
  bool same = a.format == b.format && near(a.kv_len - a.q_len, b.kv_len - b.q_len) && a.window == b.window;
  for (std::size_t i = 0; i < 3; ++i) same = same && near(ca.axes[i], cb.axes[i]);
  for (std::size_t i = 0; i < 2; ++i) same = same && near(ca.key[i], cb.key[i]);
  return same;
}

}  // namespace detail

/// Time of a kernel of shape s on hardware hw from its stack's table, or nullopt where the table
/// has no grid of the kind. With Q the part the table was measured on and P = hw, s' the shape
/// moved onto the grid (detail::project) and a_X the analytic model's time on part X with the
/// stack's parameters:
///   t = T(s') a_P(s) / a_Q(s'),
/// T the interpolated table. On the table's own part and inside its grid, t = T(s). Outside it,
/// the table's time at the nearest measured shape is carried to s by the analytic model (its
/// tile and wave quantisation, split-K and split-KV, causal tiles, floors), and to another part
/// by the ratio of the analytic times: the kernel keeps its fraction of the part's peak and
/// bandwidth at the same shape, its fixed times stay as measured (the transfer rule of drive()).
inline std::optional<op_time> time_kernel(const kernel_shape& s, const hardware& hw, overlap policy) {
  if (!hw.timing.kernels) return std::nullopt;
  const kernel_table& t = *hw.timing.kernels;
  const kernel_coords c = coords_of(s);
  const kernel_grid* g = detail::grid_for(t, s, c);
  if (!g) return std::nullopt;
  const kernel_shape at = detail::project(s, *g);
  const double table = std::exp(detail::interpolate(*g, detail::tiled(s.kind, coords_of(at).axes)));
  const op_time here = analytic_time(op_of(s), hw, hw.timing, policy);
  const bool inside = detail::same_shape(s, at), home = t.measured_on.name == hw.name;
  double time = table * t.scale[std::size_t(s.kind)];
  if (!inside || !home) {
    // a_Q with the stack's parameters on Q: hw's per-unit times moved back from P's clock to Q's
    timing_params on_q = hw.timing;
    scale_per_unit(on_q, hw.clock_mhz, t.measured_on.clock_mhz);
    time *= here.total.value() / analytic_time(op_of(at), t.measured_on, on_q, policy).total.value();
  }
  const double k = here.total.value() > 0 ? time / here.total.value() : 0;
  op_time r{here.compute * k, here.memory * k, time * second, here.bound, 0 * second, here.steps * k};
  r.by = inside ? timed_by::table : timed_by::extrapolated;
  if (const kernel_spread sp = t.spread_on(s.kind, hw.name); sp.points > 0) r.p10 = sp.p10, r.p90 = sp.p90;
  return r;
}

/// The hardware with its kernel table's times at an end of their interval: each kind's p10 (or
/// p90, `high`) of its held-out spread (on another part, kernel_table::spread_on's), the kinds
/// moving together; nullopt where the stack states
/// no spread. A serving run (closed form or simulated) on it gives that end of the run's interval.
inline std::optional<hardware> at_spread(const hardware& hw, bool high) {
  if (!hw.timing.kernels || !hw.timing.kernels->has_spread()) return std::nullopt;
  auto t = std::make_shared<kernel_table>(*hw.timing.kernels);
  for (kernel_kind k : all_kernel_kinds)
    if (const kernel_spread sp = t->spread_on(k, hw.name); sp.points > 0)
      t->scale[std::size_t(k)] = high ? sp.p90 : sp.p10;
  hardware out = hw;
  out.timing.kernels = std::move(t);
  return out;
}

/// A kernel's predicted time with its interval: the table's time (time_kernel) or, for a kind the
/// table lacks, the analytic model's; lo and hi are the time scaled by the table's held-out spread
/// of the kind (its 10th and 90th percentiles of measured / predicted; on another part, widened
/// by the spread measured there where the stack states one: kernel_table::spread_on), or NaN
/// where the stack states none. The spread is measured inside the table's range; `transferred`
/// and an extrapolated `by` say where it may not hold.
struct kernel_prediction {
  double seconds = 0, lo = 0, hi = 0;
  timed_by by = timed_by::model;
  enum bound bound = bound::memory;
  bool transferred = false;  ///< the table was measured on another part
};

inline kernel_prediction predict_kernel(const kernel_shape& s, const hardware& hw, overlap policy) {
  const auto t = time_kernel(s, hw, policy);
  const op_time r = t ? *t : analytic_time(op_of(s), hw, hw.timing, policy);
  kernel_prediction p{r.total.value(), NAN, NAN, r.by, r.bound};
  if (t) {
    if (hw.timing.kernels->spread_of(s.kind).points > 0) p.lo = p.seconds * r.p10, p.hi = p.seconds * r.p90;
    p.transferred = hw.timing.kernels->measured_on.name != hw.name;
  }
  return p;
}

}  // namespace roofline
