/// Estimate, its results: the totals of a pass, of a layout's stages, of a workload and its energy.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "roofline/graph/graph.hpp"
#include "roofline/spec/hardware.hpp"

namespace roofline {

/// Totals of one forward pass (the whole prefill, or one mean decode step) of the batch.
struct phase_estimate {
  flops work{};
  traffic moved{};
  seconds time{};                ///< under the chosen policy, with overheads
  seconds time_perfect{};        ///< under `perfect` (the lower bound), with overheads
  seconds time_none{};           ///< under `none` (the upper bound), with overheads
  seconds compute_bound_time{};  ///< part of `time` spent in compute-bound ops
  seconds memory_bound_time{};   ///< part of `time` spent in memory-bound ops
  seconds overhead{};            ///< per-op and per-forward overheads in `time`
  seconds communication{};       ///< collectives between GPUs: the part of `time` not hidden behind the rest
  /// `time` with each op a kernel table timed at the 10th and 90th percentiles of its kind's
  /// held-out spread (op_time::p10, p90), the other ops and the overheads at their point: the
  /// p10-p90 interval of the pass (the spreads of the kinds taken as moving together). Where the
  /// stack states an end-to-end spread (timing_params::spreads), estimate() sets the result's
  /// TTFT and step interval from it instead (end_to_end_spread).
  seconds time_p10{}, time_p90{};
  /// Joules of the ops' FLOPs and memory traffic on the part's energy coefficients (0 where the
  /// part states none); the board's idle power over the time comes on top (energy_of()).
  double dynamic_j = 0;
  enum bound bound = bound::memory;  ///< the largest of the four parts above

  /// The times above, for the sums and multiples below (`bound` is not summed: classify() sets it).
  static constexpr std::array<seconds phase_estimate::*, 9> times() {
    return {&phase_estimate::time,
            &phase_estimate::time_p10,
            &phase_estimate::time_p90,
            &phase_estimate::time_perfect,
            &phase_estimate::time_none,
            &phase_estimate::compute_bound_time,
            &phase_estimate::memory_bound_time,
            &phase_estimate::overhead,
            &phase_estimate::communication};
  }
  constexpr phase_estimate& operator+=(const phase_estimate& o) {
    work += o.work;
    moved += o.moved;
    dynamic_j += o.dynamic_j;
    for (seconds phase_estimate::*t : times()) this->*t += o.*t;
    return *this;
  }
  constexpr phase_estimate operator*(double k) const {
    phase_estimate r = *this;
    r.work = work * k;
    r.moved = moved * k;
    r.dynamic_j = dynamic_j * k;
    for (seconds phase_estimate::*t : times()) r.*t = this->*t * k;
    return r;
  }
  /// Sets `bound` to the largest of the four parts.
  constexpr void classify() {
    bound = bound_of(compute_bound_time.value(), memory_bound_time.value(), overhead.value(),
                     communication.value());
  }
  /// The largest of the four parts of a pass's time (seconds); ties go to communication, then
  /// overhead, then compute.
  static constexpr enum bound bound_of(double compute, double memory, double overhead, double communication) {
    const double top = std::max(std::max(compute, memory), std::max(overhead, communication));
    return top == communication && communication > 0 ? bound::communication
           : top == overhead                         ? bound::overhead
           : top == compute                          ? bound::compute
                                                     : bound::memory;
  }
};

/// How a layout runs a workload: each GPU's share of the batch, the pipeline's micro-batches
/// and the decode groups in flight (see estimate()).
struct parallel_plan {
  layout L{};
  double rank_batch = 0;   ///< sequences of one dp rank, ceil(B / dp)
  int microbatches = 1;    ///< of the prefill: min(microbatches (default pp), rank batch); 1 without pp
  double micro_batch = 0;  ///< sequences of one micro-batch, ceil(rank batch / microbatches)
  int groups = 1;          ///< decode: groups of sequences in flight through the stages, min(pp, rank batch)
  double group_batch = 0;  ///< sequences of one group, ceil(rank batch / groups)
  double prefill_tokens_all =
      0;  ///< distinct tokens of one micro-batch over all dp ranks (the experts see them)
  double decode_tokens_all = 0;  ///< distinct tokens of one decode group over all dp ranks
};

/// One pipeline stage of a layout: its layers, the times of one GPU of it (a prefill
/// micro-batch, a decode group's step) and the memory it holds.
struct stage_estimate {
  stage_span span;
  phase_estimate prefill;
  phase_estimate decode;
  footprint memory;
  bool fits = false;
};

/// What a layout adds to an estimate.
struct parallel_estimate {
  parallel_plan plan;
  int gpus = 1;
  std::vector<stage_estimate> stages;
  seconds bubble{};  ///< prefill: the time the slowest stage idles, TTFT - microbatches x its time
  double tokens_per_s_per_gpu = 0;  ///< decode throughput / GPUs
};

/// Energy of a workload on every GPU of its layout (energy_of()), where the part states its
/// energy coefficients.
struct energy_estimate {
  double prefill_j = 0;         ///< the whole prefill of the batch
  double step_j = 0;            ///< one decode step of the batch (every sequence one token)
  double prefill_w = 0;         ///< mean board power of one GPU in the prefill
  double decode_w = 0;          ///< and in the decode
  bool prefill_at_tdp = false;  ///< the counts ask for more than the TDP: energy TDP x time
  bool decode_at_tdp = false;
  double j_per_output_token = 0;     ///< step_j / B
  double output_tokens_per_kwh = 0;  ///< 3.6e6 / j_per_output_token
  double j_per_prompt_token = 0;     ///< prefill_j / (B P)
};

struct estimate_result {
  enum overlap overlap;
  phase_estimate prefill;
  phase_estimate decode;
  seconds ttft{};                               ///< prefill of P tokens plus last-token logits
  seconds step_time{};                          ///< mean over the G decode steps
  double throughput_tokens_per_s;               ///< decode: B / step time
  double end_to_end_tokens_per_s;               ///< B G / (TTFT + G step time)
  footprint memory;                             ///< several GPUs: of the GPU that holds the most
  bytes capacity{};                             ///< of one GPU
  bool fits;                                    ///< memory.total() <= capacity (several GPUs: on every GPU)
  intensity ridge_point{};                      ///< of the matrix units in the model's default compute format
  std::optional<parallel_estimate> parallel{};  ///< several GPUs: stages, micro-batches, per-GPU figures
  std::optional<struct energy_estimate> energy{};  ///< where the part states its energy (part::energy)
};

}  // namespace roofline
