/// Measured serving runs against predictions: the spec, part and stack a run takes, its
/// predicted TTFT and TPOT, and the error cells per engine, GPU and metric.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "roofline/fit/calibrate.hpp"
#include "roofline/serving/engine_case.hpp"
#include "roofline/serving/interval.hpp"
#include "roofline/serving/serving.hpp"
#include "roofline/serving/simulate.hpp"
#include "roofline/spec/measurement.hpp"

namespace roofline {

/// The specs, parts and stacks runs are matched against: a run's model_path is a spec's
/// hf_name, its system one of a part's names, its engine a stack's engine.
struct serving_catalogue {
  std::vector<model_spec> specs;
  std::vector<part> parts;
  std::vector<stack> stacks;        ///< engine stacks (stack::engine set)
  std::optional<stack> fallback{};  ///< for engines without a stack; absent: such runs are skipped

  const model_spec* spec_of(const std::string& hf) const {
    for (const model_spec& m : specs)
      if (std::find(m.hf_names.begin(), m.hf_names.end(), hf) != m.hf_names.end()) return &m;
    return nullptr;
  }
  const part* part_of(const std::string& system) const {
    for (const part& p : parts)
      if (std::find(p.names.begin(), p.names.end(), system) != p.names.end()) return &p;
    return nullptr;
  }
  /// The stack of `engine` fitted on part p; else the engine's stack fitted on another part
  /// (transferred by drive's rule: the first in the catalogue's order); else the fallback.
  const stack* stack_of(const std::string& engine, const part& p) const {
    const stack* other = nullptr;
    for (const stack& s : stacks) {
      if (s.engine != engine) continue;
      if (s.fitted_on && s.fitted_on->part == p.name) return &s;
      if (!other) other = &s;
    }
    return other ? other : fallback ? &*fallback : nullptr;
  }
};

/// Errors of one engine on one GPU for one metric (ttft | tpot), over `models` models, with the
/// stacks used and how (fitted on the part, transferred).
struct serving_cell {
  std::string engine, system, metric, stack;
  int n = 0, models = 0;
  double median_ape = 0, mean_ape = 0, p90_ape = 0, max_ape = 0;
  /// Of the runs whose stack states an end-to-end spread (serving_params::ttft_spread, tpot_spread),
  /// the share measured inside [p10, p90] x the prediction, and how many; 0 runs: no coverage.
  double coverage = 0;
  int coverage_n = 0;
};
/// Runs left out for one reason.
struct skipped_rows {
  std::string reason;
  int n = 0;
};

/// A run's prediction, or why it has none.
struct run_prediction {
  double ttft_ms = std::numeric_limits<double>::quiet_NaN();
  double tpot_ms = std::numeric_limits<double>::quiet_NaN();
  spread ttft_spread{}, tpot_spread{};  ///< the end-to-end spread serving_spreads picks (points 0: none)
  std::string stack;  ///< the stack's name and how it relates to the part (fitted on it, transferred)
  std::string skip;   ///< empty: predicted
};

/// The serving case of a run on the catalogue: its spec, part and stack, checked (check_layout,
/// check_serving), or why not.
struct run_setup {
  serving_case c;
  hardware hw;
  std::string skip;
};

inline run_setup setup_of(const serving_catalogue& cat, const engine_run& r) {
  run_setup s{{}, {}, {}};
  if (r.concurrency <= 0) {
    s.skip = "concurrency not stated (no silicon_concurrency=N)";
    return s;
  }
  const model_spec* m = cat.spec_of(r.model);
  const part* p = cat.part_of(r.system);
  if (!m) {
    s.skip = "no spec names this model (hf_name): " + r.model;
    return s;
  }
  if (!p) {
    s.skip = "no part names this system: " + r.system;
    return s;
  }
  const stack* st = cat.stack_of(r.engine, *p);
  if (!st) {
    s.skip = "no stack for engine " + r.engine;
    return s;
  }
  s.hw = drive(*p, *st);
  s.c = serving_case_of(r, *m, s.hw);
  s.skip = s.c.skip;
  if (!s.skip.empty()) return s;
  // a layout the model does not take is one reason; any other refusal says what it is
  const serving_workload& w = s.c.work;
  try {
    for (const worker_pool* pool : w.disaggregated ? std::vector{&w.prefill, &w.decode} : std::vector{&w.agg})
      check_layout(s.c.model, s.hw, workload{1, w.isl, w.osl, pool->L});
  } catch (const input_error&) {
    s.skip = "layout does not divide the model";
    return s;
  }
  try {
    check_serving(s.c.model, s.hw, w);
  } catch (const input_error& e) {
    s.skip = std::string("not modelled: ") + e.what();
  }
  return s;
}

/// The requests a replayed run simulates: the run's concurrency ten times over, at least 500
/// (a benchmark client sends a fixed number of requests; the runs do not state theirs).
inline std::int64_t replay_requests(const engine_run& r) {
  return std::max<std::int64_t>(500, std::int64_t(10 * r.concurrency));
}

/// Predicts one run (under the stack's overlap); a run the model cannot take (its layout does
/// not divide the model, a request does not fit) is skipped with the reason. `simulated`: by
/// the simulator, the run replayed as it was measured (a closed loop at its concurrency, its
/// lengths, replay_requests() requests, every one measured), its mean TTFT and TPOT.
inline run_prediction predict_run(const serving_catalogue& cat, const engine_run& r, bool simulated = false) {
  run_prediction out;
  run_setup s = setup_of(cat, r);
  if (!s.skip.empty()) {
    out.skip = s.skip;
    return out;
  }
  out.stack = fmt::format("{} ({})", s.hw.stack, s.hw.stack_note);
  if (const auto sp = serving_spreads(s.hw)) std::tie(out.ttft_spread, out.tpot_spread) = *sp;
  if (simulated) {
    try {
      const simulation_result res =
          simulate(s.c.model, s.hw, s.c.work, benchmark_load(s.c.work, replay_requests(r)));
      out.ttft_ms = res.ttft.mean * 1e3;
      out.tpot_ms = res.tpot.mean * 1e3;
    } catch (const input_error& e) {
      out.skip = std::string("not simulated: ") + e.what();
    }
    return out;
  }
  const serving_result res = serve(s.c.model, s.hw, s.c.work);  // checked by setup_of
  if (!res.fits) {
    out.skip = "a request does not fit in the KV memory the model leaves";
    return out;
  }
  out.ttft_ms = res.ttft.value() * 1e3;
  out.tpot_ms = res.tpot.value() * 1e3;
  return out;
}

/// Error cells per engine, system and metric (ttft, tpot) over the predicted runs, in that
/// order, each with its count of models and the stacks used; the skipped runs by reason.
inline std::pair<std::vector<serving_cell>, std::vector<skipped_rows>> serving_error_cells(
    const std::vector<engine_run>& runs, const std::vector<run_prediction>& pred) {
  struct acc {
    std::vector<double> ape;
    std::set<std::string> models, stacks;
    int inside = 0, spread_n = 0;
  };
  std::map<std::tuple<std::string, std::string, int>, acc> cells;
  std::map<std::string, int> skipped;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!pred[i].skip.empty()) {
      ++skipped[pred[i].skip];
      continue;
    }
    for (int k = 0; k < 2; ++k) {
      acc& a = cells[{runs[i].engine, runs[i].system, k}];
      const double measured = k ? runs[i].tpot_ms : runs[i].ttft_ms,
                   p = k ? pred[i].tpot_ms : pred[i].ttft_ms;
      a.ape.push_back(100 * std::abs(p - measured) / measured);
      if (const spread& sp = k ? pred[i].tpot_spread : pred[i].ttft_spread; sp.points > 0) {
        a.inside += measured >= sp.p10 * p && measured <= sp.p90 * p;
        ++a.spread_n;
      }
      a.models.insert(runs[i].model);
      a.stacks.insert(pred[i].stack);
    }
  }
  std::vector<serving_cell> out;
  for (const auto& [key, a] : cells) {
    const error_cell e = summarise("", std::get<2>(key) ? "tpot" : "ttft", a.ape);
    std::string stacks;
    for (const std::string& s : a.stacks) stacks += (stacks.empty() ? "" : "; ") + s;
    out.push_back({std::get<0>(key), std::get<1>(key), e.phase, stacks, e.n, int(a.models.size()),
                   e.median_ape, e.mean_ape, e.p90_ape, e.max_ape,
                   a.spread_n ? double(a.inside) / a.spread_n : 0.0, a.spread_n});
  }
  std::vector<skipped_rows> skips;
  for (const auto& [reason, n] : skipped) skips.push_back({reason, n});
  std::sort(skips.begin(), skips.end(),
            [](const skipped_rows& a, const skipped_rows& b) { return a.n > b.n; });
  return {out, skips};
}

/// A stack on its engine's runs of the parts it was not fitted on: each run predicted with the
/// stack moved to the run's part (drive()'s rule), every run's own model.
struct transfer_check {
  spread ttft{}, tpot{};  ///< measured / predicted at the 10th and 90th percentiles (0 points: none)
  std::vector<serving_cell> cells;  ///< errors per part and metric
  std::vector<skipped_rows> skipped;
};

/// The transfer_check of stack s (an engine stack fitted on a part) over `runs`, with the specs
/// and parts of `cat` (its stacks are not used); `simulated` as predict_run.
inline transfer_check check_transfer(const serving_catalogue& cat, const stack& s,
                                     const std::vector<engine_run>& runs, bool simulated = false) {
  serving_catalogue one{cat.specs, cat.parts, {s}, std::nullopt};
  std::vector<engine_run> other;
  std::vector<run_prediction> pred;
  std::vector<double> ttft, tpot;
  for (const engine_run& r : runs) {
    const part* p = cat.part_of(r.system);
    if (r.engine != s.engine || !p || (s.fitted_on && p->name == s.fitted_on->part)) continue;
    other.push_back(r);
    pred.push_back(predict_run(one, r, simulated));
    const run_prediction& x = pred.back();
    if (!x.skip.empty() || !(x.ttft_ms > 0) || !(x.tpot_ms > 0)) continue;
    ttft.push_back(r.ttft_ms / x.ttft_ms);
    tpot.push_back(r.tpot_ms / x.tpot_ms);
  }
  transfer_check out;
  std::tie(out.cells, out.skipped) = serving_error_cells(other, pred);
  if (!ttft.empty())
    out.ttft = {quantile(ttft, 0.1), quantile(ttft, 0.9), int(ttft.size())},
    out.tpot = {quantile(tpot, 0.1), quantile(tpot, 0.9), int(tpot.size())};
  return out;
}

}  // namespace roofline
