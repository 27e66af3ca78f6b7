// The serving simulator's load, event loop and statistics (simulate.hpp).
#include "roofline/serving/simulate.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <queue>
#include <random>

#include "roofline/serving/sim_detail.hpp"

namespace roofline {

namespace {

using detail::sim_request;
using rng = std::mt19937_64;

/// Longest prompt plus output the model takes (its max_context; unstated: max_tokens).
std::int64_t context_of(const model_spec& m) { return m.max_context > 0 ? m.max_context : max_tokens; }

void check_dist(const length_dist& d, const char* what, std::int64_t cap) {
  const auto fail = [&](const std::string& why) {
    throw input_error(fmt::format("simulate: {} lengths '{}': {}", what, d.source, why));
  };
  const auto ok = [&](double v) { return std::isfinite(v) && v >= 1 && v <= double(cap); };
  switch (d.what) {
    case length_dist::kind::fixed:
      if (!ok(d.a) || d.a != std::floor(d.a))
        fail(fmt::format("a length must be a whole number from 1 to the model's context, {}", cap));
      break;
    case length_dist::kind::uniform:
      if (!ok(d.a) || !ok(d.b) || d.a > d.b)
        fail(fmt::format("uniform:LO:HI needs 1 <= LO <= HI <= the model's context, {}", cap));
      break;
    case length_dist::kind::normal:
    case length_dist::kind::lognormal:
      if (!ok(d.a) || !std::isfinite(d.b) || d.b < 0)
        fail(fmt::format("needs a mean from 1 to the model's context ({}) and a standard deviation >= 0",
                         cap));
      break;
    case length_dist::kind::values:
      if (d.values.empty()) fail("no lengths");
      for (std::int64_t v : d.values)
        if (v < 1 || v > cap) fail(fmt::format("length {} is outside 1 to the model's context, {}", v, cap));
      break;
  }
}

std::int64_t draw(const length_dist& d, rng& g, std::size_t i, std::int64_t cap) {
  if (d.what == length_dist::kind::fixed) return std::int64_t(d.a);
  if (d.what == length_dist::kind::values) return d.values[i % d.values.size()];
  for (int tries = 0; tries < 1000; ++tries) {
    double x = 0;
    if (d.what == length_dist::kind::uniform) {
      x = double(std::uniform_int_distribution<std::int64_t>(std::int64_t(d.a), std::int64_t(d.b))(g));
    } else if (d.what == length_dist::kind::normal) {
      x = std::normal_distribution<double>(d.a, d.b)(g);
    } else {  // lognormal of mean a and standard deviation b: sigma^2 = ln(1 + b^2 / a^2), mu = ln a -
              // sigma^2 / 2
      const double s2 = std::log1p(d.b * d.b / (d.a * d.a));
      x = std::lognormal_distribution<double>(std::log(d.a) - s2 / 2, std::sqrt(s2))(g);
    }
    const double v = std::round(x);
    if (v >= 1 && v <= double(cap)) return std::int64_t(v);
  }
  throw input_error(
      fmt::format("simulate: lengths '{}': 1000 draws in a row fell outside 1 to {} tokens", d.source, cap));
}

std::int64_t requests_of(const simulation_load& l) {
  if (l.requests > 0) return l.requests;
  if (l.arrivals.what == arrival_process::kind::trace) return std::int64_t(l.arrivals.times.size());
  if (l.arrivals.what == arrival_process::kind::closed)
    return std::min<std::int64_t>(100'000,
                                  std::max<std::int64_t>(1000, std::int64_t(10 * l.arrivals.concurrency)));
  return 1000;
}

}  // namespace

void check_load(const model_spec& m, const simulation_load& l) {
  const std::int64_t cap = context_of(m);
  check_dist(l.isl, "prompt", cap - 1);
  check_dist(l.osl, "output", cap - 1);
  const arrival_process& a = l.arrivals;
  const auto fail = [&](const std::string& why) {
    throw input_error(fmt::format("simulate: arrivals '{}': {}", a.source, why));
  };
  switch (a.what) {
    case arrival_process::kind::closed:
      if (!(a.concurrency >= 1 && a.concurrency <= 1e6) || a.concurrency != std::floor(a.concurrency))
        fail(fmt::format("a closed loop needs a whole concurrency from 1 to 1e6, not {}", a.concurrency));
      if (!(a.think_time >= 0 && a.think_time <= 1e6)) fail("think time must be from 0 to 1e6 s");
      break;
    case arrival_process::kind::gamma:
      if (!(a.cv > 0 && a.cv <= 100))
        fail(fmt::format("the coefficient of variation must be in (0, 100], not {}", a.cv));
      [[fallthrough]];
    case arrival_process::kind::poisson:
      if (!(a.rate > 0 && a.rate <= 1e9))
        fail(fmt::format("the request rate must be in (0, 1e9] a second, not {}", a.rate));
      break;
    case arrival_process::kind::trace:
      if (a.times.empty()) fail("no arrival times");
      for (std::size_t i = 0; i < a.times.size(); ++i) {
        if (!std::isfinite(a.times[i]) || a.times[i] < 0)
          fail(fmt::format("arrival {} at {} s: times must be finite and non-negative", i + 1, a.times[i]));
        if (i > 0 && a.times[i] < a.times[i - 1])
          fail(fmt::format("arrival {} at {} s is before the one above it ({} s): times must be sorted",
                           i + 1, a.times[i], a.times[i - 1]));
      }
      if (l.requests > std::int64_t(a.times.size()))
        fail(fmt::format("{} requests asked, the trace has {}", l.requests, a.times.size()));
      break;
  }
  if (l.prefix.shared < 0 || l.prefix.shared >= cap)
    throw input_error(
        fmt::format("simulate: a shared prefix of {} tokens: it must be from 0 to less than the "
                    "model's context, {}",
                    l.prefix.shared, cap));
  if (!(l.prefix.hit_rate >= 0 && l.prefix.hit_rate <= 1))
    throw input_error(
        fmt::format("simulate: a prefix hit rate is a fraction from 0 to 1, not {}", l.prefix.hit_rate));
  if (l.requests < 0 || l.requests > 10'000'000)
    throw input_error(fmt::format("simulate: requests must be from 1 to 1e7, not {}", l.requests));
  if (l.warmup < 0 || l.warmup >= requests_of(l))
    throw input_error(fmt::format("simulate: warm-up ({}) must leave requests to measure (of {})", l.warmup,
                                  requests_of(l)));
}

simulation_load fixed_load(const serving_workload& s, std::int64_t requests) {
  simulation_load l;
  l.isl = {.what = length_dist::kind::fixed, .a = double(s.isl), .source = std::to_string(s.isl)};
  l.osl = {.what = length_dist::kind::fixed, .a = double(s.osl), .source = std::to_string(s.osl)};
  l.arrivals = {.what = arrival_process::kind::closed,
                .concurrency = s.concurrency,
                .source = fmt::format("closed loop at {}", s.concurrency)};
  l.requests = requests;
  return l;
}

simulation_load benchmark_load(const serving_workload& s, std::int64_t requests) {
  simulation_load l = fixed_load(s, requests);
  l.osl = benchmark_lengths(s.osl);
  return l;
}

namespace detail {
// The requests of a load: lengths drawn in order (prompt, then output, per request), open-loop
// arrival times; closed-loop arrivals are set as the simulation runs.
std::vector<sim_request> requests_for(const model_spec& m, const simulation_load& l) {
  const std::int64_t n = requests_of(l), cap = context_of(m);
  rng g(l.seed);
  std::vector<sim_request> out(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].isl = draw(l.isl, g, i, cap - 1);
    out[i].osl = draw(l.osl, g, i, cap - out[i].isl);
    if (out[i].isl + out[i].osl > cap)
      throw input_error(
          fmt::format("simulate: request {}: a prompt of {} and an output of {} tokens exceed the "
                      "model's context, {}",
                      i + 1, out[i].isl, out[i].osl, cap));
    if (out[i].isl <= l.prefix.shared)
      throw input_error(fmt::format(
          "simulate: request {}: a prompt of {} tokens is not longer than the shared prefix of {} that every "
          "prompt begins with",
          i + 1, out[i].isl, l.prefix.shared));
  }
  const arrival_process& a = l.arrivals;
  double t = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (a.what == arrival_process::kind::trace) {
      out[i].arrival = a.times[i] - a.times[0];
      continue;
    }
    if (a.what == arrival_process::kind::closed) break;
    if (i > 0) {
      if (a.what == arrival_process::kind::poisson) {
        t += std::exponential_distribution<double>(a.rate)(g);
      } else {  // gamma of mean 1 / rate and coefficient of variation cv: shape 1 / cv^2
        const double k = 1 / (a.cv * a.cv);
        t += std::gamma_distribution<double>(k, 1 / (a.rate * k))(g);
      }
    }
    out[i].arrival = t;
  }
  return out;
}
}  // namespace detail

}  // namespace roofline
