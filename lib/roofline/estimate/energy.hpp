/// Estimate, energy: a workload's joules on every GPU of its layout, from its passes' counts and
/// the part's measured energy coefficients (spec/hardware.hpp, energy_coefficients).
#pragma once

#include <tuple>
#include <utility>

#include "roofline/estimate/result.hpp"
#include "roofline/spec/hardware.hpp"

namespace roofline {

/// Energy of a phase on all G GPUs of a layout (tp x pp x dp): each GPU draws the part's idle
/// power over the phase's time t, and its ops' FLOPs and bytes the part's energy per FLOP and
/// per byte (phase_estimate::dynamic_j): every stage's GPU runs `runs` of its passes (the
/// prefill's micro-batches, the decode's groups), on each of its tp x dp GPUs (dp ranks taken as
/// equal: the slowest rank's pass for all),
///   E = G idle t + tp dp sum over stages of runs dynamic_s,
/// capped at G TDP t: where the counts ask for more than the TDP the part would lower its
/// clocks, which is not modelled (the time stays; the energy is the TDP's). Links between GPUs
/// are counted at no energy (not measured).
inline std::pair<double, bool> phase_energy(const hardware& hw, const layout& L, seconds t, double dynamic_j,
                                            double runs) {
  const double gpus = L.gpus(), idle = gpus * hw.energy->idle_w * t.value();
  const double e = idle + double(L.tp) * L.dp * runs * dynamic_j, cap = gpus * hw.tdp_watts * t.value();
  return hw.tdp_watts > 0 && e > cap ? std::pair{cap, true} : std::pair{e, false};
}

/// A result's energy (energy_estimate), from its passes: the whole prefill and one decode step.
inline energy_estimate energy_of(const hardware& hw, const workload& w, const estimate_result& r) {
  energy_estimate e{};
  double pre = r.prefill.dynamic_j, dec = r.decode.dynamic_j, micro = 1, groups = 1;
  if (r.parallel) {  // every stage's passes, not the critical path's sum
    pre = dec = 0;
    for (const stage_estimate& st : r.parallel->stages)
      pre += st.prefill.dynamic_j, dec += st.decode.dynamic_j;
    micro = r.parallel->plan.microbatches, groups = r.parallel->plan.groups;
  }
  std::tie(e.prefill_j, e.prefill_at_tdp) = phase_energy(hw, w.parallel, r.ttft, pre, micro);
  std::tie(e.step_j, e.decode_at_tdp) = phase_energy(hw, w.parallel, r.step_time, dec, groups);
  const double gpus = w.parallel.gpus();
  e.prefill_w = e.prefill_j / (gpus * r.ttft.value());
  e.decode_w = e.step_j / (gpus * r.step_time.value());
  e.j_per_output_token = e.step_j / double(w.batch);
  e.output_tokens_per_kwh = 3.6e6 / e.j_per_output_token;
  e.j_per_prompt_token = e.prefill_j / (double(w.batch) * double(w.prefill));
  return e;
}

/// The mean board power of G GPUs whose ops draw `dynamic_w` together: G idle + dynamic_w, each
/// GPU at most the TDP (phase_energy's rules), and whether the TDP caps it.
inline std::pair<double, bool> gpus_power(const hardware& hw, double gpus, double dynamic_w) {
  const double p = gpus * hw.energy->idle_w + dynamic_w, cap = gpus * hw.tdp_watts;
  return hw.tdp_watts > 0 && p > cap ? std::pair{cap, true} : std::pair{p, false};
}

}  // namespace roofline
