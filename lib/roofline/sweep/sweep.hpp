/// Many estimates at once: a batched, vectorised, multithreaded evaluator of estimate().
///
/// A pass's ops depend on the batch only through counts that are affine in it (for a given
/// prompt, generated length and layout: rows, items and the bytes of activations, KV cache and
/// state grow with the batch, weights do not). So the ops of a *column* (prompt, generate,
/// layout) are built once, probed at a few batches, and kept as constants: time_op()'s terms
/// for every batch of the column are then a few vector operations per op (sweep_simd.cpp,
/// Highway, dispatched at run time). A column whose counts are not affine in the batch (the
/// experts a MoE layer's tokens touch, before they touch them all; MoE with attention data
/// parallelism) is evaluated by estimate(), one workload at a time: same numbers, scalar speed.
/// The batched figures equal estimate()'s to 1e-12 relative (test/sweep_test.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "roofline/estimate/estimate.hpp"

namespace roofline {

/// What a sweep keeps of one estimate (estimate_result without the per-pass detail).
struct estimate_point {
  double ttft_s = 0;            ///< time to first token
  double step_s = 0;            ///< mean decode step
  double tokens_per_s = 0;      ///< decode throughput, B / step
  double e2e_tokens_per_s = 0;  ///< B G / (TTFT + G step)
  double memory_bytes = 0;      ///< of the GPU that holds the most
  bool fits = false;            ///< on every GPU
  bound prefill_bound = bound::memory;
  bound decode_bound = bound::memory;
};

inline estimate_point point_of(const estimate_result& r) {
  return {r.ttft.value(),
          r.step_time.value(),
          r.throughput_tokens_per_s,
          r.end_to_end_tokens_per_s,
          r.memory.total().value(),
          r.fits,
          r.prefill.bound,
          r.decode.bound};
}

/// A grid: every combination of its values. Points are numbered with the batch fastest, then
/// the prompt, the generated length and the layout: point i of column c = i / |batch| is
/// batch[i % |batch|].
struct sweep_grid {
  std::vector<std::int64_t> batch{1};
  std::vector<std::int64_t> prefill{1};
  std::vector<std::int64_t> generate{1};
  std::vector<layout> layouts{layout{}};

  std::size_t columns() const { return prefill.size() * generate.size() * layouts.size(); }
  std::size_t size() const { return batch.size() * columns(); }
  /// The workload of point i.
  workload at(std::size_t i) const {
    std::size_t c = i / batch.size();
    workload w{.batch = batch[i % batch.size()]};
    w.prefill = prefill[c % prefill.size()];
    c /= prefill.size();
    w.generate = generate[c % generate.size()];
    w.parallel = layouts[c / generate.size()];
    return w;
  }
};

/// Estimates of one model on one part (and stack) under one overlap policy, many at a time.
/// Keeps the folded ops of every column it has seen, so that evaluating a column again (a
/// repeated grid, a fit's next iterate) builds nothing. Safe to use from one thread at a time;
/// it runs its own threads.
class sweep_engine {
 public:
  /// policy: the overlap policy; default: the stack's. Copies the model and the part.
  sweep_engine(const model_spec& m, const hardware& hw, std::optional<overlap> policy = std::nullopt);
  ~sweep_engine();
  sweep_engine(const sweep_engine&) = delete;
  sweep_engine& operator=(const sweep_engine&) = delete;

  /// out[i] = point_of(estimate(m, hw, in[i], policy)) to 1e-12 relative, for any workloads
  /// (consecutive ones of the same column share their folded ops); `threads` >= 1. Throws
  /// input_error as estimate() does for a workload it refuses (with several refused, any one).
  void estimate_many(std::span<const workload> in, std::span<estimate_point> out, int threads = 1);

  /// Points [first, first + out.size()) of a grid, on `threads` threads: whole columns (first
  /// and out.size() multiples of |batch|); points past the grid's end wrap around to its start
  /// (point i is the grid's point i mod size(): a grid repeated).
  void evaluate(const sweep_grid& g, std::size_t first, std::span<estimate_point> out, int threads = 1);

  /// Throws input_error as estimate() would for some point of the grid, if it would for any
  /// (checks every batch, prompt and generated length, and every layout; evaluates nothing):
  /// a program checks the whole grid before it writes a row.
  void check(const sweep_grid& g) const;

  /// Estimates made by the folded, vectorised path and by estimate() one at a time, so far.
  struct counts {
    std::size_t folded = 0, scalar = 0;
  };
  counts made() const;

  overlap policy() const;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

/// The instruction set the vectorised path runs on here, as Highway names it (AVX2, AVX3
/// for AVX-512, SSE4, ...): the widest of those compiled in that this machine has.
const char* simd_target();

/// estimate_many with an engine of its own (nothing kept between calls).
inline void estimate_many(const model_spec& m, const hardware& hw, std::span<const workload> in,
                          std::span<estimate_point> out, std::optional<overlap> policy = std::nullopt,
                          int threads = 1) {
  sweep_engine(m, hw, policy).estimate_many(in, out, threads);
}

}  // namespace roofline
