/// calibrate: predictions of measured workloads, their errors, and fitting a profile's timing to them.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "roofline/estimate/estimate.hpp"
#include "roofline/serving/serving.hpp"
#include "roofline/serving/simulate.hpp"
#include "roofline/spec/measurement.hpp"

namespace roofline {

/// A measured workload of a loaded model; times in seconds, NaN where not measured.
struct sample {
  const model_spec* model;
  std::string model_path;
  workload work;
  double ttft_s = std::numeric_limits<double>::quiet_NaN();
  double step_s = std::numeric_limits<double>::quiet_NaN();
};

struct prediction {
  double ttft_s;
  double step_s;
};

/// Predicted TTFT and step time of each sample under the profile's default overlap.
inline std::vector<prediction> predict(const hardware& hw, std::span<const sample> samples) {
  std::vector<prediction> out;
  out.reserve(samples.size());
  for (const sample& s : samples) {
    const estimate_result r = estimate(*s.model, hw, s.work);
    out.push_back({r.ttft.value(), r.step_time.value()});
  }
  return out;
}

/// Per architecture family and phase (as error_cells), the share of measured times inside the
/// p10-p90 interval of their estimate (phase_estimate::time_p10, time_p90: the stack's end-to-end
/// spread, or its kernel table's), and the points counted.
struct coverage_cell {
  std::string architecture, phase;
  double share = 0;
  int n = 0;
};
inline std::vector<coverage_cell> interval_coverage(const hardware& hw, std::span<const sample> samples) {
  std::map<std::pair<architecture, int>, std::pair<int, int>> in;  // inside, measured
  for (const sample& s : samples) {
    const estimate_result r = estimate(*s.model, hw, s.work);
    const auto add = [&](int ph, double measured, const phase_estimate& e) {
      if (std::isnan(measured)) return;
      auto& [inside, n] = in[{family(*s.model), ph}];
      inside += measured >= e.time_p10.value() && measured <= e.time_p90.value();
      ++n;
    };
    add(0, s.ttft_s, r.prefill);
    add(1, s.step_s, r.decode);
  }
  std::vector<coverage_cell> out;
  for (const auto& [key, v] : in)
    out.push_back(
        {std::string(name(key.first)), key.second ? "step" : "ttft", double(v.first) / v.second, v.second});
  return out;
}

/// The q-quantile (q in [0, 1]) of values, interpolating linearly between order statistics:
/// sorted x at position q (n - 1) (numpy's default).
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const auto lo = std::size_t(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

/// Summary of absolute percentage errors 100 |predicted - measured| / measured.
inline error_cell summarise(std::string architecture, std::string phase, const std::vector<double>& ape) {
  error_cell c{std::move(architecture), std::move(phase), int(ape.size())};
  if (ape.empty()) return c;
  double sum = 0;
  for (double e : ape) sum += e;
  c.median_ape = quantile(ape, 0.5);
  c.mean_ape = sum / double(ape.size());
  c.p90_ape = quantile(ape, 0.9);
  c.max_ape = *std::max_element(ape.begin(), ape.end());
  return c;
}

/// Errors per architecture (family: transformer, xlstm, ssm, hybrid) and phase (ttft, step), in that order;
/// cells without measurements are left out.
inline std::vector<error_cell> error_cells(std::span<const sample> samples,
                                           std::span<const prediction> predicted) {
  std::map<std::pair<architecture, int>, std::vector<double>> ape;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const sample& s = samples[i];
    const auto add = [&](int ph, double measured, double pred) {
      if (!std::isnan(measured))
        ape[{family(*s.model), ph}].push_back(100 * std::abs(pred - measured) / measured);
    };
    add(0, s.ttft_s, predicted[i].ttft_s);
    add(1, s.step_s, predicted[i].step_s);
  }
  std::vector<error_cell> cells;
  for (const auto& [key, v] : ape)
    cells.push_back(summarise(std::string(name(key.first)), key.second ? "step" : "ttft", v));
  return cells;
}

/// Per model family, the spread of measured / predicted TTFT and step times over the samples
/// (timing_params::spreads: what estimate() gives its interval from); a family needs both
/// phases measured to have one.
inline std::vector<family_spread> family_spreads(std::span<const sample> samples,
                                                 std::span<const prediction> predicted) {
  std::map<architecture, std::array<std::vector<double>, 2>> ratios;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    auto& r = ratios[family(*samples[i].model)];
    if (!std::isnan(samples[i].ttft_s) && predicted[i].ttft_s > 0)
      r[0].push_back(samples[i].ttft_s / predicted[i].ttft_s);
    if (!std::isnan(samples[i].step_s) && predicted[i].step_s > 0)
      r[1].push_back(samples[i].step_s / predicted[i].step_s);
  }
  const auto of = [](const std::vector<double>& v) {
    return spread{quantile(v, 0.1), quantile(v, 0.9), int(v.size())};
  };
  std::vector<family_spread> out;
  for (const auto& [a, r] : ratios)
    if (!r[0].empty() && !r[1].empty()) out.push_back({std::string(name(a)), of(r[0]), of(r[1])});
  return out;
}

/// How well a spread taken from other models covers a model it was not taken from: per family
/// and phase, the share of each model's measured / held-out-predicted ratios inside [p10, p90]
/// of the other models' ratios of that family and phase (a model alone in its family is not
/// counted). The held-out predictions of those other models come from fits that saw this
/// model, so it approximates a nested cross-validation; it costs no fit.
inline std::vector<coverage_cell> spread_coverage(std::span<const sample> samples,
                                                  std::span<const prediction> held_out) {
  std::map<std::pair<architecture, int>, std::map<std::string, std::vector<double>>> ratios;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto add = [&](int ph, double measured, double predicted) {
      if (!std::isnan(measured) && predicted > 0)
        ratios[{family(*samples[i].model), ph}][samples[i].model_path].push_back(measured / predicted);
    };
    add(0, samples[i].ttft_s, held_out[i].ttft_s);
    add(1, samples[i].step_s, held_out[i].step_s);
  }
  std::vector<coverage_cell> out;
  for (const auto& [key, by_model] : ratios) {
    int inside = 0, n = 0;
    for (const auto& [m, own] : by_model) {
      std::vector<double> others;
      for (const auto& [o, r] : by_model)
        if (o != m) others.insert(others.end(), r.begin(), r.end());
      if (others.empty()) continue;
      const double lo = quantile(others, 0.1), hi = quantile(others, 0.9);
      for (double r : own) inside += r >= lo && r <= hi, ++n;
    }
    if (n > 0)
      out.push_back({std::string(name(key.first)), key.second ? "step" : "ttft", double(inside) / n, n});
  }
  return out;
}

/// One timing parameter that a fit adjusts, within bounds that keep it physical.
struct fit_parameter {
  const char* name;
  double lower, upper;  ///< in the fitted scale (log10 for half_parallel)
  double start;
  std::function<double(const timing_params&)> get;
  std::function<void(timing_params&, double)> set;
};

/// The parameters calibrate fits (see calibrate.cpp for the list, bounds and starting values).
/// share_phases: the decode kernels (decode_attention, recurrent_step) take the parameters of
/// the prompt kernels (attention, recurrent) and the key-loop latency is 0: fewer parameters,
/// for measurements too few to tell the kernels apart. long_attention: the long-prompt
/// attention kernel's parameters too (profiles with timing.classes.attention_long).
std::vector<fit_parameter> fit_parameters(bool share_phases = false, bool long_attention = false);

struct fit_options {
  double huber_delta = 0.1;  ///< Huber threshold on log(predicted / measured)
  int max_iterations = 500;
  int threads = 2;
  std::map<std::string, double> start{};  ///< starting values by parameter name, clamped to its bounds
  bool share_phases = false;              ///< see fit_parameters
  bool gemm_waves = false;  ///< GEMM tiles in waves of the compute units (timing_params::gemm_waves)
  /// Serving fits: each run predicted by replaying it in the simulator (serving/simulate.hpp:
  /// a closed loop at its concurrency, its lengths, serving_sample::replay requests) instead of
  /// the closed form; the closed form's own terms (queued_requests, burst) are then not fitted.
  bool simulated = false;
  /// Called after each solver iteration with its number, cost and seconds since the start
  /// (calibrate prints it: a simulated fit takes minutes).
  std::function<void(int, double, double)> progress{};
};

/// Starting values from achievable peaks measured on the part (examples/measure writes them):
/// a large bf16 GEMM's FLOP/s over the matrix peak starts matrix.compute, a device copy's
/// bandwidth over the datasheet's starts every memory efficiency, and the launch latency
/// every per-op overhead.
inline std::map<std::string, double> starts_from_peaks(const hardware& hw, double gemm_bf16_flops,
                                                       double copy_bytes_per_s, double launch_s) {
  std::map<std::string, double> s;
  if (const auto p = peak_of(hw.matrix, dtype::bf16); p && gemm_bf16_flops > 0)
    s["matrix.compute"] = gemm_bf16_flops / p->value();
  for (op_class c : all_op_classes) {
    if (copy_bytes_per_s > 0) s[std::string(name(c)) + ".memory"] = copy_bytes_per_s / hw.bandwidth.value();
    if (launch_s > 0) s[std::string(name(c)) + ".overhead_us"] = launch_s * 1e6;
  }
  return s;
}

/// Starting values from a profile's own timing parameters (a warm start from an earlier fit).
inline std::map<std::string, double> starts_from_profile(const hardware& hw, bool share_phases = false) {
  std::map<std::string, double> s;
  for (const fit_parameter& p : fit_parameters(share_phases, hw.timing.attention_long_from_keys > 0))
    s[p.name] = p.get(hw.timing);
  return s;
}

struct fit_report {
  hardware fitted;
  double initial_cost = 0, final_cost = 0;
  int iterations = 0;
  bool converged = false;
};

/// Fits the timing parameters of `start` to the samples: minimises the sum over measured
/// times of Huber(log(predicted / measured)) with Ceres (Levenberg-Marquardt, numeric
/// derivatives, bounds). The fitted profile uses the smooth overlap policy, whose exponent
/// is fitted too, and 128 x 128 GEMM tiles (in waves if options.gemm_waves). The long-prompt attention kernel
/// is fitted where `start` has one, from the same key count.
fit_report fit_timing(const hardware& start, std::span<const sample> samples,
                      const fit_options& options = {});

/// Fits the analytic model of `start` to measured kernels (the rows of set grid, or all without
/// a set): per class of their ops (timing/kernels.hpp's op_of: matrix, attention,
/// decode_attention, vector) its fractions of the peaks, overhead, and for attention its
/// occupancy, per-item and per-step times, and the smooth exponent; minimises Huber(log(analytic
/// / measured)) as fit_timing does (128 x 128 tiles, smooth overlap). The fitted analytic model
/// times the kernels a table lacks and carries the table to other shapes and parts; the table
/// itself is not used here.
fit_report fit_kernel_timing(const hardware& start, std::span<const kernel_row> rows,
                             const fit_options& options = {});

/// The spread of each kind's held-out errors (rows of set held_out with a time): the 10th and
/// 90th percentiles of measured / predicted, predicted by `hw` (with its kernel table).
inline std::array<kernel_spread, all_kernel_kinds.size()> kernel_spreads(const hardware& hw,
                                                                         std::span<const kernel_row> rows) {
  std::array<std::vector<double>, all_kernel_kinds.size()> ratios;
  for (const kernel_row& r : rows)
    if (r.set == "held_out" && r.measured_s)
      ratios[std::size_t(r.shape.kind)].push_back(*r.measured_s /
                                                  predict_kernel(r.shape, hw, hw.timing.overlap).seconds);
  std::array<kernel_spread, all_kernel_kinds.size()> out{};
  for (std::size_t k = 0; k < out.size(); ++k)
    if (!ratios[k].empty())
      out[k] = {quantile(ratios[k], 0.1), quantile(ratios[k], 0.9), int(ratios[k].size())};
  return out;
}

/// Leave-one-model-out: for each model, fits on the others and predicts it. Returns the
/// held-out predictions in the order of `samples`. progress(i, n) is called before fold i.
std::vector<prediction> cross_validate(const hardware& start, std::span<const sample> samples,
                                       const fit_options& options,
                                       const std::function<void(int, int, const std::string&)>& progress);

/// A measured serving run, ready to predict: its model (with the run's formats), deployment,
/// measured TTFT and TPOT, and the name of its model (for leave-one-model-out).
struct serving_sample {
  const model_spec* model;
  std::string model_name;
  serving_workload work;
  double ttft_s = 0, tpot_s = 0;
  std::int64_t replay = 500;  ///< requests a simulated replay runs (fit_options::simulated)
};

/// A serving sample's TTFT and TPOT on `hw`: the closed form's, or the means of its simulated
/// replay; nothing when a request does not fit or the simulator refuses the case.
std::optional<prediction> predict_serving(const serving_sample& s, const hardware& hw, bool simulated);

/// The parameters a serving fit adjusts, each one number for the whole engine on the part:
/// compute (every class's fraction of the matrix peak but the vector units'), memory (every
/// class's fraction of the bandwidth), overhead_per_op_us (every op of every class: launches
/// that CUDA graphs do not hide), iteration_overhead_us, request_overhead_ms,
/// queued_requests, burst, collective_efficiency (every collective) and collective_overhead_us.
/// Simulated (fit_options::simulated): all but queued_requests and burst. kernel_base (the
/// base stack times ops from a measured kernel table, timing_params::kernels): the kernels'
/// timing is kept, and only the engine's own terms are fitted, what no kernel measures:
/// iteration_overhead_us, request_overhead_ms, (closed form) queued_requests and burst, and
/// the collectives, which the tables do not hold.
std::vector<fit_parameter> serving_fit_parameters(bool simulated = false, bool kernel_base = false);

/// Fits the serving parameters of `start` (a part driven by a base stack: its other timing is
/// kept) to the runs: minimises the sum of Huber(log(predicted / measured)) over TTFT and TPOT
/// with Ceres (as fit_timing). Runs the model cannot take are left out.
fit_report fit_serving(const hardware& start, std::span<const serving_sample> samples,
                       const fit_options& options = {});

/// Leave-one-model-out for serving: each model's runs predicted by a fit on the other models'.
/// Returns {ttft_s, tpot_s} per sample (NaN where a model is alone).
std::vector<prediction> cross_validate_serving(const hardware& start, std::span<const serving_sample> samples,
                                               const fit_options& options);

}  // namespace roofline
