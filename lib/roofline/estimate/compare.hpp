/// compare: several models on one accelerator across prompt lengths, and where their times cross.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "roofline/estimate/estimate.hpp"

namespace roofline {

/// Prompt lengths from lo to hi (inclusive), four per doubling: round(lo 2^(i/4)), deduplicated.
inline std::vector<std::int64_t> prefill_grid(std::int64_t lo, std::int64_t hi) {
  std::vector<std::int64_t> g;
  for (int i = 0;; ++i) {
    const auto p = std::int64_t(std::llround(double(lo) * std::exp2(i / 4.0)));
    if (p >= hi) break;
    if (g.empty() || p != g.back()) g.push_back(p);
  }
  g.push_back(hi);
  return g;
}

enum class metric { ttft, step };

template <>
inline constexpr std::array<std::string_view, 2> enum_names<metric>{"ttft", "step"};

/// TTFT or step time of a model at prompt length p (the rest of the workload fixed).
inline double time_at(const model_spec& m, const hardware& hw, workload w, std::int64_t p, metric k) {
  w.prefill = p;
  const estimate_result r = estimate(m, hw, w);
  return (k == metric::ttft ? r.ttft : r.step_time).value();
}

/// From `prefill` on (to the next crossover or the end of the range), model `faster` takes
/// less time than model `slower` in `metric`.
struct crossover {
  enum metric metric;
  std::size_t faster, slower;  ///< indices into the models compared
  std::int64_t prefill;        ///< first prompt length at which `faster` is faster
};

/// Every crossover of every pair of models in both metrics over the grid: where the sign of
/// t_a - t_b changes between neighbouring grid points, bisection over whole prompt
/// lengths finds the first length of the new sign (exact for a single crossing inside the
/// interval, which a grid of four points per doubling resolves in practice).
inline std::vector<crossover> find_crossovers(const std::vector<const model_spec*>& models,
                                              const hardware& hw, const workload& w,
                                              const std::vector<std::int64_t>& grid) {
  std::vector<crossover> out;
  for (metric k : {metric::ttft, metric::step})
    for (std::size_t a = 0; a < models.size(); ++a)
      for (std::size_t b = a + 1; b < models.size(); ++b) {
        const auto diff = [&](std::int64_t p) {
          return time_at(*models[a], hw, w, p, k) - time_at(*models[b], hw, w, p, k);
        };
        double prev = diff(grid[0]);
        for (std::size_t i = 1; i < grid.size(); ++i) {
          const double cur = diff(grid[i]);
          if ((prev < 0) != (cur < 0) && prev != 0) {
            std::int64_t lo = grid[i - 1], hi = grid[i];  // sign(prev) at lo, sign(cur) at hi
            while (hi - lo > 1) {
              const std::int64_t mid = lo + (hi - lo) / 2;
              ((diff(mid) < 0) == (cur < 0) ? hi : lo) = mid;
            }
            out.push_back({k, cur < 0 ? a : b, cur < 0 ? b : a, hi});
          }
          prev = cur;
        }
      }
  return out;
}

/// Models across a range of prompt lengths: estimates at every grid point, and crossovers.
struct comparison {
  std::vector<const model_spec*> models;
  const hardware* hw;
  workload work;  ///< batch and generate; prefill varies over the grid
  std::vector<std::int64_t> grid;
  std::vector<std::vector<estimate_result>> results;  ///< [grid point][model]
  std::vector<crossover> crossovers;
};

/// progress(done, total) is called after each grid point.
inline comparison compare(const std::vector<const model_spec*>& models, const hardware& hw, const workload& w,
                          const std::vector<std::int64_t>& grid,
                          const std::function<void(std::size_t, std::size_t)>& progress = {}) {
  comparison c{models, &hw, w, grid, {}, {}};
  for (std::size_t i = 0; i < grid.size(); ++i) {
    workload at = w;
    at.prefill = grid[i];
    std::vector<estimate_result> row;
    for (const model_spec* m : models) row.push_back(estimate(*m, hw, at));
    c.results.push_back(std::move(row));
    if (progress) progress(i + 1, grid.size());
  }
  c.crossovers = find_crossovers(models, hw, w, grid);
  return c;
}

/// One tensor-parallel degree of a sweep: its estimate, or why the layout cannot run.
struct tp_point {
  int tp;
  std::optional<estimate_result> result;  ///< absent: check_layout refused it
  std::string refused;                    ///< the reason, when refused
};

/// The workload at tp = 1, 2, 4, ... up to max_tp (the rest of its layout kept): where the time
/// of a prefill and of a decode step goes (compute-bound, memory-bound, overheads, exposed
/// communication: phase_estimate) as tensor parallelism grows. Degrees the model or part
/// cannot take are kept with the reason.
inline std::vector<tp_point> tp_sweep(const model_spec& m, const hardware& hw, workload w, int max_tp) {
  std::vector<tp_point> out;
  for (int tp = 1; tp <= max_tp; tp *= 2) {
    w.parallel.tp = tp;
    try {
      out.push_back({tp, estimate(m, hw, w), {}});
    } catch (const input_error& e) {
      out.push_back({tp, std::nullopt, e.what()});
    }
  }
  return out;
}

}  // namespace roofline
