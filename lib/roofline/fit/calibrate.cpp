// calibrate: fitting with Ceres. The only library code that includes Ceres, with its internal
// sample_cost.hpp (test/calibrate_test.cpp fits with it directly, the reference the fit here
// must equal).
#include "roofline/fit/calibrate.hpp"
#include "roofline/fit/sample_cost.hpp"

#include <ceres/ceres.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace roofline {
namespace {
using fit_detail::parameter_reach;
using fit_detail::reach_of;
using fit_detail::sample_cost;
using fit_detail::set_clamped;

// Which class_timing a parameter belongs to: an op class's, or (no class) the long-prompt
// attention kernel's.
using class_ref = std::optional<op_class>;
constexpr class_ref attention_long_kernel = std::nullopt;
template <class Timing>  // timing_params or const timing_params
auto& pick(Timing& t, class_ref c) {
  return c ? t.of(*c) : t.attention_long;
}

// One class's parameters; with a mirror, each value is written to the mirror class too
// (the prompt and decode kernels of one kind share their parameters).
void add_class(std::vector<fit_parameter>& out, class_ref c, const char* compute, const char* memory,
               const char* half, const char* overhead, const char* item = nullptr,
               double compute_floor = 0.001, const char* step = nullptr,
               std::optional<op_class> mirror = std::nullopt) {
  const auto get = [c](auto field) {
    return [c, field](const timing_params& t) { return field(pick(t, c)); };
  };
  const auto both = [c, mirror](auto field) {
    return [c, mirror, field](timing_params& t, double v) {
      field(pick(t, c), v);
      if (mirror) field(t.of(*mirror), v);
    };
  };
  out.push_back({compute, compute_floor, 1, 0.5, get([](const class_timing& e) { return e.compute; }),
                 both([](class_timing& e, double v) { e.compute = v; })});
  out.push_back({memory, 0.001, 1, 0.5, get([](const class_timing& e) { return e.memory; }),
                 both([](class_timing& e, double v) { e.memory = v; })});
  if (half)  // log10 of the work items for half efficiency: 1 to 1e9
    out.push_back({half, 0, 9, 1, get([](const class_timing& e) { return std::log10(e.half_parallel); }),
                   both([](class_timing& e, double v) { e.half_parallel = std::pow(10, v); })});
  out.push_back({overhead, 0, 200, 5, get([](const class_timing& e) { return e.overhead.value() * 1e6; }),
                 both([](class_timing& e, double v) { e.overhead = v * 1e-6 * second; })});
  if (half)  // classes with work items also get a per-item time per wave, 0 to 1 ms
    out.push_back({item, 0, 1000, 1, get([](const class_timing& e) { return e.per_item.value() * 1e6; }),
                   both([](class_timing& e, double v) { e.per_item = v * 1e-6 * second; })});
  // Classes whose items run a serial loop: latency of one step, 0 to 200 us (a key of a decode
  // kernel takes tens of ns; a chunk of a recurrence written as a loop of kernels, tens of us).
  if (step)
    out.push_back({step, 0, 200, 0.01, get([](const class_timing& e) { return e.per_step.value() * 1e6; }),
                   both([](class_timing& e, double v) { e.per_step = v * 1e-6 * second; })});
}

// A serving sample's TTFT and TPOT by the closed form (predict_serving's), through `memo` where
// one is given; nothing when a request does not fit.
std::optional<prediction> closed_form(const serving_sample& s, const hardware& hw,
                                      serving_memo* memo = nullptr) {
  const serving_result r = serve(*s.model, hw, s.work, std::nullopt, memo);
  if (!r.fits) return std::nullopt;
  return prediction{r.ttft.value(), r.tpot.value()};
}

// Residuals log(predicted / measured) of one serving run's TTFT and TPOT.
// The closed form keeps what the fitted parameters do not change in a memo (serving_memo: the
// checks, the memory, the iterations' ops), built at the first evaluation.
struct serving_residuals {
  const serving_sample* s;
  hardware hw;
  const std::vector<fit_parameter>* params;
  bool simulated = false;
  mutable serving_memo memo{};
  bool operator()(double const* const* x, double* r) const {
    hardware& h = const_cast<hardware&>(hw);
    set_clamped(h, *params, x[0]);
    const std::optional<prediction> p = simulated ? predict_serving(*s, h, true) : closed_form(*s, h, &memo);
    if (!p) return false;
    r[0] = std::log(p->ttft_s / s->ttft_s);
    r[1] = std::log(p->step_s / s->tpot_s);
    return true;
  }
};

// The parameters' starting values: options.start's (clamped to their bounds), else their own.
std::vector<double> start_values(const std::vector<fit_parameter>& params, const fit_options& options) {
  std::vector<double> x;
  for (const fit_parameter& p : params) {
    const auto given = options.start.find(p.name);
    x.push_back(given == options.start.end() ? p.start : std::clamp(given->second, p.lower, p.upper));
  }
  return x;
}

// Bounds every parameter of x, solves with Levenberg-Marquardt (dense QR) and writes the
// result into `r` (its timing, costs, iterations, convergence).
void solve(ceres::Problem& problem, std::vector<double>& x, const std::vector<fit_parameter>& params,
           const fit_options& options, double tolerance, fit_report& r) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    problem.SetParameterLowerBound(x.data(), int(i), params[i].lower);
    problem.SetParameterUpperBound(x.data(), int(i), params[i].upper);
  }
  ceres::Solver::Options o;
  o.linear_solver_type = ceres::DENSE_QR;
  o.max_num_iterations = options.max_iterations;
  o.num_threads = options.threads;
  o.function_tolerance = tolerance;
  o.parameter_tolerance = tolerance;
  struct reporter : ceres::IterationCallback {
    const std::function<void(int, double, double)>* f;
    explicit reporter(const std::function<void(int, double, double)>* g) : f(g) {}
    ceres::CallbackReturnType operator()(const ceres::IterationSummary& s) override {
      (*f)(s.iteration, s.cost, s.cumulative_time_in_seconds);
      return ceres::SOLVER_CONTINUE;
    }
  } progress(&options.progress);
  if (options.progress) o.callbacks.push_back(&progress);
  ceres::Solver::Summary summary;
  ceres::Solve(o, &problem, &summary);
  for (std::size_t i = 0; i < params.size(); ++i) params[i].set(r.fitted.timing, x[i]);
  r.initial_cost = summary.initial_cost;
  r.final_cost = summary.final_cost;
  r.iterations = int(summary.iterations.size());
  r.converged = summary.termination_type == ceres::CONVERGENCE;
}

}  // namespace

std::optional<prediction> predict_serving(const serving_sample& s, const hardware& hw, bool simulated) {
  if (simulated) {
    try {
      const simulation_result r = simulate(*s.model, hw, s.work, benchmark_load(s.work, s.replay));
      return prediction{r.ttft.mean, r.tpot.mean};
    } catch (const input_error&) {
      return std::nullopt;
    }
  }
  return closed_form(s, hw);
}

namespace {
// The engine's own terms of a serving fit, which no kernel measures: the iteration's and the
// request's overheads, (closed form) the queueing terms, and the collectives.
void serving_engine_terms(std::vector<fit_parameter>& p, bool simulated) {
  p.push_back({"iteration_overhead_us", 0, 1e5, 500,
               [](const timing_params& t) { return t.serving.iteration_overhead.value() * 1e6; },
               [](timing_params& t, double v) { t.serving.iteration_overhead = v * 1e-6 * second; }});
  p.push_back({"request_overhead_ms", 0, 2000, 20,
               [](const timing_params& t) { return t.serving.request_overhead.value() * 1e3; },
               [](timing_params& t, double v) { t.serving.request_overhead = v * 1e-3 * second; }});
  if (!simulated) {
    p.push_back({"queued_requests", 0, 16, 1,
                 [](const timing_params& t) { return t.serving.queued_requests; },
                 [](timing_params& t, double v) { t.serving.queued_requests = v; }});
    p.push_back({"burst", 0, 1, 0.5, [](const timing_params& t) { return t.serving.burst; },
                 [](timing_params& t, double v) { t.serving.burst = v; }});
  }
  p.push_back({"collective_efficiency", 0.05, 1, 0.7,
               [](const timing_params& t) { return t.collectives.of(collective::all_reduce); },
               [](timing_params& t, double v) { t.collectives.efficiency.fill(v); }});
  p.push_back({"collective_overhead_us", 0, 500, 10,
               [](const timing_params& t) { return t.collectives.overhead.value() * 1e6; },
               [](timing_params& t, double v) { t.collectives.overhead = v * 1e-6 * second; }});
}
}  // namespace

std::vector<fit_parameter> serving_fit_parameters(bool simulated, bool kernel_base) {
  std::vector<fit_parameter> p;
  const auto classes = [](timing_params& t, auto f) {
    for (op_class c : all_op_classes)
      if (c != op_class::communication) f(t.of(c), c);
  };
  if (kernel_base) {
    serving_engine_terms(p, simulated);
    return p;
  }
  p.push_back({"compute", 0.05, 1, 0.6, [](const timing_params& t) { return t.of(op_class::matrix).compute; },
               [classes](timing_params& t, double v) {
                 classes(t, [v](class_timing& e, op_class c) {
                   if (c != op_class::vector) e.compute = v;
                 });
               }});
  p.push_back({"memory", 0.05, 1, 0.7, [](const timing_params& t) { return t.of(op_class::matrix).memory; },
               [classes](timing_params& t, double v) {
                 classes(t, [v](class_timing& e, op_class) { e.memory = v; });
               }});
  p.push_back({"overhead_per_op_us", 0, 100, 1,
               [](const timing_params& t) { return t.of(op_class::matrix).overhead.value() * 1e6; },
               [classes](timing_params& t, double v) {
                 classes(t, [v](class_timing& e, op_class) { e.overhead = v * 1e-6 * second; });
               }});
  serving_engine_terms(p, simulated);
  return p;
}

namespace {
fit_report fit_serving_from(const hardware& start, std::span<const serving_sample> samples,
                            const fit_options& options);
}

/// The fit from two starts, queued_requests 0 and 1 (one local minimum each: the waits of
/// a binding batch and a larger request overhead trade against each other), the better kept.
fit_report fit_serving(const hardware& start, std::span<const serving_sample> samples,
                       const fit_options& options) {
  if (options.simulated || options.start.count("queued_requests"))
    return fit_serving_from(start, samples, options);
  std::optional<fit_report> best;
  for (double q : {0.0, 1.0}) {
    fit_options o = options;
    o.start["queued_requests"] = q;
    fit_report r = fit_serving_from(start, samples, o);
    if (!best || r.final_cost < best->final_cost) best = std::move(r);
  }
  return *best;
}

namespace {
fit_report fit_serving_from(const hardware& start, std::span<const serving_sample> samples,
                            const fit_options& options) {
  const std::vector<fit_parameter> params =
      serving_fit_parameters(options.simulated, bool(start.timing.kernels));
  hardware base = start;
  base.timing.serving.stated = true;
  std::vector<double> x = start_values(params, options);
  ceres::Problem problem;
  std::vector<serving_residuals*> kept;
  for (const serving_sample& s : samples) {
    auto* f = new serving_residuals{&s, base, &params, options.simulated};
    double r[2];
    const double* block = x.data();
    if (!(*f)(&block, r)) {  // does not fit at the start: left out
      delete f;
      continue;
    }
    // a simulation's times move in steps where an event changes order: differences over 1 % of
    // a parameter, not 1e-6, see its slope
    ceres::NumericDiffOptions diff;
    diff.relative_step_size = options.simulated ? 1e-2 : 1e-6;
    auto* cost = new ceres::DynamicNumericDiffCostFunction<serving_residuals, ceres::CENTRAL>(
        f, ceres::TAKE_OWNERSHIP, diff);
    cost->AddParameterBlock(int(x.size()));
    cost->SetNumResiduals(2);
    problem.AddResidualBlock(cost, new ceres::HuberLoss(options.huber_delta), x.data());
  }
  fit_report r{base};
  if (problem.NumResidualBlocks() == 0) return r;
  solve(problem, x, params, options, 1e-8, r);
  return r;
}
}  // namespace

namespace {

// Leave one model out: for each model (a sample's `model` field), fit on the samples of the others
// and predict its own with that fit; `none` where a sample is not predicted (fewer than
// `min_models` models, or `predict` returns nothing). The folds run in parallel, `threads` of
// them at a time, each fit on `threads` threads as well (Ceres's sums depend on its thread count:
// so the folds give the numbers they give one after another); fit(train, alone) learns whether it
// runs alone (its per-iteration progress would interleave with another's). A fold's result does
// not depend on the others. `progress(fold, folds, model)` as each fold starts (from the thread
// that runs it, one call at a time).
template <class Sample, class Fit, class Predict>
std::vector<prediction> leave_one_model_out(
    std::span<const Sample> samples, std::string Sample::*model, std::size_t min_models, prediction none,
    int threads, Fit&& fit, Predict&& predict,
    const std::function<void(int, int, const std::string&)>& progress) {
  std::set<std::string> model_set;
  for (const Sample& s : samples) model_set.insert(s.*model);
  std::vector<prediction> out(samples.size(), none);
  if (model_set.size() < min_models) return out;
  const std::vector<std::string> models(model_set.begin(), model_set.end());
  const int workers = std::clamp(threads, 1, int(models.size()));
  std::atomic<std::size_t> next{0};
  std::mutex progress_lock;
  std::vector<std::exception_ptr> failed(models.size());
  const auto work = [&] {
    for (std::size_t fold = next++; fold < models.size(); fold = next++) {
      try {
        if (progress) {
          const std::lock_guard<std::mutex> lock(progress_lock);
          progress(int(fold), int(models.size()), models[fold]);
        }
        std::vector<Sample> train;
        for (const Sample& s : samples)
          if (s.*model != models[fold]) train.push_back(s);
        const hardware fitted = fit(train, workers == 1);
        for (std::size_t i = 0; i < samples.size(); ++i)  // each fold writes its own model's samples
          if (samples[i].*model == models[fold])
            if (const std::optional<prediction> p = predict(samples[i], fitted)) out[i] = *p;
      } catch (...) {
        failed[fold] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : failed)
    if (e) std::rethrow_exception(e);
  return out;
}

}  // namespace

std::vector<prediction> cross_validate_serving(const hardware& start, std::span<const serving_sample> samples,
                                               const fit_options& options) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return leave_one_model_out(
      samples, &serving_sample::model_name, 2, {nan, nan}, options.threads,
      [&](const std::vector<serving_sample>& train, bool alone) {
        fit_options o = options;
        if (!alone) o.progress = {};
        return fit_serving(start, train, o).fitted;
      },
      [&](const serving_sample& s, const hardware& fitted) {
        return predict_serving(s, fitted, options.simulated);
      },
      {});
}

std::vector<fit_parameter> fit_parameters(bool share_phases, bool long_attention) {
  std::vector<fit_parameter> p;
  add_class(p, op_class::matrix, "matrix.compute", "matrix.memory", nullptr, "matrix.overhead_us");
  // With share_phases the prompt kernels' values are written to the decode kernels too.
  add_class(p, op_class::attention, "attention.compute", "attention.memory", "attention.log10_half_parallel",
            "attention.overhead_us", "attention.per_item_us", 0.001, nullptr,
            share_phases ? class_ref(op_class::decode_attention) : std::nullopt);
  if (long_attention)
    add_class(p, attention_long_kernel, "attention_long.compute", "attention_long.memory",
              "attention_long.log10_half_parallel", "attention_long.overhead_us",
              "attention_long.per_item_us");
  // The mLSTM chunk recurrence's step latency; a recurrent step has no loop (share_phases
  // writes it to recurrent_step too, where no op reads it).
  add_class(p, op_class::recurrent, "recurrent.compute", "recurrent.memory", "recurrent.log10_half_parallel",
            "recurrent.overhead_us", "recurrent.per_item_us", 0.001, "recurrent.per_step_us",
            share_phases ? class_ref(op_class::recurrent_step) : std::nullopt);
  if (!share_phases) {
    add_class(p, op_class::decode_attention, "decode_attention.compute", "decode_attention.memory",
              "decode_attention.log10_half_parallel", "decode_attention.overhead_us",
              "decode_attention.per_item_us", 0.001, "decode_attention.per_step_us");
    add_class(p, op_class::recurrent_step, "recurrent_step.compute", "recurrent_step.memory",
              "recurrent_step.log10_half_parallel", "recurrent_step.overhead_us",
              "recurrent_step.per_item_us");
  }
  // Elementwise kernels on CUDA cores reach at least 5% of the vector peak: what slows the
  // measured norms and activations down is the traffic of unfused kernels, a memory effect.
  add_class(p, op_class::vector, "vector.compute", "vector.memory", nullptr, "vector.overhead_us", nullptr,
            0.05);
  p.push_back({"overhead_per_forward_us", 0, 1e5, 100,
               [](const timing_params& t) { return t.overhead_per_forward.value() * 1e6; },
               [](timing_params& t, double v) { t.overhead_per_forward = v * 1e-6 * second; }});
  p.push_back({"overhead_per_batched_forward_us", 0, 1e4, 100,
               [](const timing_params& t) { return t.overhead_per_batched_forward.value() * 1e6; },
               [](timing_params& t, double v) { t.overhead_per_batched_forward = v * 1e-6 * second; }});
  p.push_back({"smooth_exponent", 1, 20, 2, [](const timing_params& t) { return t.smooth_exponent; },
               [](timing_params& t, double v) { t.smooth_exponent = v; }});
  return p;
}

fit_report fit_timing(const hardware& start, std::span<const sample> samples, const fit_options& options) {
  const std::vector<fit_parameter> params =
      fit_parameters(options.share_phases, start.timing.attention_long_from_keys > 0);
  hardware base = start;
  if (options.share_phases)
    base.timing.of(op_class::decode_attention).per_step = 0 * second;  // not fitted: none
  base.timing.overlap = overlap::smooth;
  base.timing.gemm_tile_m = 128;  // the 128 x 128 output tiles of cuBLAS/CUTLASS bf16 GEMMs
  base.timing.gemm_tile_n = 128;
  base.timing.gemm_waves = options.gemm_waves;
  for (const sample& s : samples) check_supported(*s.model, base, s.work);
  std::vector<double> x = start_values(params, options);

  std::vector<parameter_reach> reach;
  for (const fit_parameter& p : params) reach.push_back(reach_of(p, base.timing));
  ceres::Problem problem;
  for (const sample& s : samples) {
    if (std::isnan(s.ttft_s) && std::isnan(s.step_s)) continue;
    problem.AddResidualBlock(new sample_cost(s, base, params, reach),
                             new ceres::HuberLoss(options.huber_delta), x.data());
  }
  fit_report r{base};
  solve(problem, x, params, options, 1e-10, r);
  return r;
}

namespace {

// Residual log(analytic time / measured) of one measured kernel.
struct kernel_residual {
  const kernel_row* row;
  hardware hw;
  const std::vector<fit_parameter>* params;
  bool operator()(double const* const* x, double* r) const {
    hardware& h = const_cast<hardware&>(hw);
    set_clamped(h, *params, x[0]);
    r[0] = std::log(analytic_time(op_of(row->shape), h, h.timing, h.timing.overlap).total.value() /
                    *row->measured_s);
    return true;
  }
};

}  // namespace

fit_report fit_kernel_timing(const hardware& start, std::span<const kernel_row> rows,
                             const fit_options& options) {
  std::set<std::string> classes{"smooth_exponent"};
  for (const kernel_row& r : rows)
    if (r.set != "held_out" && r.measured_s) classes.insert(std::string(name(op_of(r.shape).cls)));
  std::vector<fit_parameter> params;
  for (const fit_parameter& p : fit_parameters(false, false)) {
    const std::string n = p.name;
    if (classes.count(n.substr(0, n.find('.')))) params.push_back(p);
  }
  hardware base = start;
  base.timing.kernels = nullptr;
  base.timing.overlap = overlap::smooth;
  base.timing.gemm_tile_m = 128;  // the 128 x 128 output tiles of cuBLAS/CUTLASS bf16 GEMMs
  base.timing.gemm_tile_n = 128;
  base.timing.gemm_waves = options.gemm_waves;
  std::vector<double> x = start_values(params, options);
  ceres::Problem problem;
  for (const kernel_row& r : rows) {
    if (r.set == "held_out" || !r.measured_s) continue;
    auto* cost = new ceres::DynamicNumericDiffCostFunction<kernel_residual, ceres::CENTRAL>(
        new kernel_residual{&r, base, &params});
    cost->AddParameterBlock(int(x.size()));
    cost->SetNumResiduals(1);
    problem.AddResidualBlock(cost, new ceres::HuberLoss(options.huber_delta), x.data());
  }
  fit_report r{base};
  if (problem.NumResidualBlocks() > 0) solve(problem, x, params, options, 1e-10, r);
  return r;
}

std::vector<prediction> cross_validate(const hardware& start, std::span<const sample> samples,
                                       const fit_options& options,
                                       const std::function<void(int, int, const std::string&)>& progress) {
  return leave_one_model_out(
      samples, &sample::model_path, 1, {0, 0}, options.threads,
      [&](const std::vector<sample>& train, bool alone) {
        fit_options o = options;
        if (!alone) o.progress = {};
        return fit_timing(start, train, o).fitted;
      },
      [](const sample& s, const hardware& fitted) -> std::optional<prediction> {
        const estimate_result r = estimate(*s.model, fitted, s.work);
        return prediction{r.ttft.value(), r.step_time.value()};
      },
      progress);
}

}  // namespace roofline
