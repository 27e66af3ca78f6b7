/// Parts (what the datasheet says), stacks (what software makes of a part) and the hardware an
/// estimate runs on: a part driven by a stack.
#pragma once

#include <array>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "roofline/base/dtype.hpp"
#include "roofline/base/op.hpp"
#include "roofline/base/units.hpp"

namespace roofline {

/// How an op's compute time t_c and memory time t_m combine.
enum class overlap {
  perfect,  ///< max(t_c, t_m): loads fully hidden behind compute or vice versa
  none,     ///< t_c + t_m: no overlap at all
  smooth,   ///< (t_c^p + t_m^p)^(1/p): p = 1 is `none`, p -> infinity is `perfect`
};

inline constexpr std::array all_overlaps{overlap::perfect, overlap::none, overlap::smooth};

template <>
inline constexpr std::array<std::string_view, 3> enum_names<overlap>{"perfect", "none", "smooth"};

/// How the ops of one class reach the peaks. Pure roofline: 1, 1, 0, 0, 0, 0.
struct class_timing {
  double compute = 1;        ///< achieved fraction of the peak FLOP/s, (0, 1]
  double memory = 1;         ///< achieved fraction of the bandwidth, (0, 1]
  double half_parallel = 0;  ///< attention, recurrent: work items at which half of both is reached; 0: off
  seconds overhead{};        ///< added to every op of the class in every layer (kernel launches)
  seconds per_item{};        ///< work-item classes: setup of one work item (a thread block) on a compute
                             ///< unit, beyond its bytes and FLOPs; items run in waves of the units:
                             ///< ceil(items / units) x item size x this
  seconds per_step{};        ///< work-item classes: latency of one step of an item's serial loop (a key an
                             ///< attention item reads, a chunk an mLSTM item walks); ceil(items / units) x
                             ///< steps x this, overlapped with the op's compute and memory time
  constexpr bool operator==(const class_timing&) const = default;
};

/// How a stack's collectives use the links: the fraction of a link's bandwidth each collective
/// reaches, a fixed time per call (the library's launch and synchronisation, e.g. NCCL's base
/// latency) and how a pass's communication overlaps its computation. The link bound: 1, 0, none.
struct collective_timing {
  std::array<double, all_collectives.size()> efficiency{1, 1, 1, 1, 1};  ///< indexed by collective, (0, 1]
  seconds overhead{};                                                    ///< per call of a collective
  enum overlap overlap = overlap::none;  ///< of a pass's communication with its computation

  constexpr double of(collective c) const { return efficiency[static_cast<std::size_t>(c)]; }
  constexpr bool operator==(const collective_timing&) const = default;
};

/// The spread of prediction errors, measured / predicted at the 10th and 90th percentiles over
/// the points counted (1, 1 and 0 points: none measured): a p10-p90 interval is the prediction
/// times [p10, p90].
struct spread {
  double p10 = 1, p90 = 1;
  int points = 0;
};
using kernel_spread = spread;

/// The envelope of two spreads: each end the farther of the two (an interval that must cover
/// both), counted over `points`.
constexpr spread envelope(const spread& a, const spread& b, int points) {
  return {a.p10 < b.p10 ? a.p10 : b.p10, a.p90 > b.p90 ? a.p90 : b.p90, points};
}

/// How a serving engine schedules its iterations and holds its memory (serving.hpp). A stack
/// of an engine states them (`timing.serving`); without, `stated` is false and serving uses
/// these values, each an engine default, and says so.
struct serving_params {
  bool stated = false;  ///< read from the stack; false: the defaults below
  /// Whose scheduler the simulator (serving/simulate.hpp) follows: vllm (v1: one token budget,
  /// running requests first, then waiting ones, prompts chunked; pages on demand, preemption by
  /// recompute), sglang (prefill batches before decode batches, never mixed; admission against
  /// a new-token ratio; retraction by recompute), trtllm (inflight batching: decodes and contexts
  /// in one batch within max_num_tokens; the capacity scheduler reserves final lengths or not,
  /// reserve_final_length). A stack of an engine (`engine:`) takes that engine's; else vllm.
  enum class scheduler { vllm, sglang, trtllm } policy = scheduler::vllm;
  /// Prompts split over iterations by what the budget leaves (vLLM v1: on by default; SGLang:
  /// chunked_prefill_size; TensorRT-LLM: enable_chunked_prefill, off by default in its LLM API
  /// arguments). Off: a prompt runs whole in one iteration, and waits until one has room.
  bool chunked_prefill = true;
  /// SGLang's schedule_conservativeness (1 by default): its new-token ratio starts at
  /// min(0.7 x this, 1) and decays to 0.14 x that over 600 decode batches (server_args.py).
  double conservativeness = 1;
  /// Tokens one iteration may run (prefill chunks + decode tokens): TensorRT-LLM's
  /// max_num_tokens (8,192 by default), vLLM's max_num_batched_tokens (8,192 for online
  /// serving on large GPUs), SGLang's chunked_prefill_size (8,192 on 80 GB+ GPUs).
  double max_batch_tokens = 8192;
  double max_batch = 256;  ///< running requests per attention dp rank (vLLM max_num_seqs, 256 by default)
  double memory_fraction = 0.9;  ///< of a GPU's memory the engine takes for weights, activations and KV pool
  double block_tokens = 32;      ///< tokens of one KV page (TensorRT-LLM tokens_per_block, 32 by default)
  /// How the engine admits a request against its KV pool: true, reserving the pages of its
  /// final length isl + osl (TensorRT-LLM's GUARANTEED_NO_EVICT capacity scheduler); false,
  /// allocating pages as the request grows, so that requests at every stage of their decode
  /// hold isl + osl / 2 tokens on average (vLLM, SGLang: on-demand pages, preempting when full).
  bool reserve_final_length = true;
  seconds iteration_overhead{};  ///< per engine iteration, beyond the forward: scheduling, sampling, output
  seconds request_overhead{};    ///< added to every TTFT: the HTTP hop, tokenization, detokenization
  /// TTFT: share of an iteration a new request waits before the engine schedules it (it
  /// arrives while one runs: 0.5 for arrivals spread over the iteration).
  double admission_wait = 0.5;
  /// Requests of a dp rank that wait for a slot when its slots bind (as many requests as
  /// max_batch or as the KV cache admits): a finished request's slot is freed after its
  /// successor arrives, which then waits for the next request to finish, q / X with X the
  /// rank's requests a second. Measured closed-loop runs whose batch equals the concurrency
  /// show one (their TTFT grows by e2e / concurrency: measurements/README.md).
  double queued_requests = 0;
  /// How synchronised arrivals are, 0 to 1: a fixed concurrency of equal requests starts them
  /// together and they finish together, so the prompts of one cycle arrive at once and are
  /// prefilled in H mixed iterations one after another; a prompt then waits for the
  /// (H - 1) / 2 iterations before its own on average. 0: arrivals spread out (no such wait),
  /// 1: all at once; TTFT adds burst (H - 1) / 2 mixed iterations.
  double burst = 0;
  /// Measured / predicted TTFT and TPOT over the engine runs the stack was fitted to (held out,
  /// each model predicted by a fit on the others, where calibrate cross-validated; else in
  /// sample): serve and best_deployment give [p10, p90] x their point as the interval.
  spread ttft_spread{}, tpot_spread{};
  /// The same of the fitted stack on its engine's runs on every other part of the data (driven
  /// there by drive()'s transfer rule, each run's own model): where the stack drives another part,
  /// serve and best_deployment take this interval instead (serving/interval.hpp).
  spread ttft_spread_transferred{}, tpot_spread_transferred{};
};

template <>
inline constexpr std::array<std::string_view, 3> enum_names<serving_params::scheduler>{"vllm", "sglang",
                                                                                       "trtllm"};

struct kernel_table;  // spec/kernels.hpp

/// A stack's end-to-end spread of one model family's estimates (family: transformer, xlstm, ssm,
/// hybrid, as model_spec.hpp's family()): measured / predicted TTFT and step time over the runs
/// its timing was fitted to, held out (each model predicted by a fit on the others) where
/// calibrate cross-validated, else in sample.
struct family_spread {
  std::string family;
  spread ttft{}, step{};
};

/// Parameters that turn counts into time; the pure roofline is efficiency 1, overheads 0.
struct timing_params {
  enum overlap overlap = overlap::perfect;                    ///< the profile's default policy
  double smooth_exponent = 2;                                 ///< p of the smooth policy, >= 1
  std::array<class_timing, all_op_classes.size()> classes{};  ///< indexed by op_class
  seconds overhead_per_forward{};          ///< added once per prefill and once per decode step
  seconds overhead_per_batched_forward{};  ///< added too when the pass has more than one token (B T > 1)
  class_timing attention_long{};           ///< prompt attention over at least attention_long_from_keys keys
  double attention_long_from_keys = 0;  ///< where the stack switches prompt-attention kernels; 0: no switch
  double gemm_tile_m = 0;               ///< GEMM output tile rows for padding and wave quantization; 0: off
  double gemm_tile_n = 0;               ///< GEMM output tile columns
  bool gemm_waves = false;              ///< tiles run in waves of the compute units, the last one partly idle
  collective_timing collectives{};      ///< communication between GPUs (several-GPU layouts)
  serving_params serving{};             ///< the engine's scheduler and memory (serving.hpp)
  /// Measured kernel times by shape (spec/kernels.hpp): the ops they cover are timed from them
  /// (timing/kernels.hpp), the rest by the parameters above; null: none.
  std::shared_ptr<const kernel_table> kernels{};
  /// End-to-end spreads per model family (calibrate --measurements); estimate() gives each
  /// pass's p10-p90 interval from them (estimate.hpp's end_to_end_spread); empty: none.
  std::vector<family_spread> spreads{};

  constexpr const class_timing& of(op_class c) const { return classes[static_cast<std::size_t>(c)]; }
  constexpr class_timing& of(op_class c) { return classes[static_cast<std::size_t>(c)]; }
  /// Whether two timings give every op the same time (time_op and time_ops read these), the
  /// serving parameters and spreads aside.
  bool times_ops_as(const timing_params& o) const {
    return overlap == o.overlap && smooth_exponent == o.smooth_exponent && classes == o.classes &&
           overhead_per_forward == o.overhead_per_forward &&
           overhead_per_batched_forward == o.overhead_per_batched_forward &&
           attention_long == o.attention_long && attention_long_from_keys == o.attention_long_from_keys &&
           gemm_tile_m == o.gemm_tile_m && gemm_tile_n == o.gemm_tile_n && gemm_waves == o.gemm_waves &&
           collectives == o.collectives && kernels == o.kernels;
  }
  /// The parameters that time op o: those of its class, except that prompt attention whose
  /// items read at least attention_long_from_keys keys takes attention_long's (another kernel).
  constexpr const class_timing& of(const op& o) const {
    const bool long_prompt = o.cls == op_class::attention && attention_long_from_keys > 0 &&
                             o.item_steps >= attention_long_from_keys;
    return long_prompt ? attention_long : of(o.cls);
  }
};

using peak_table = std::array<std::optional<flop_rate>, all_dtypes.size()>;

/// Prediction errors of one architecture and phase, in percent (absolute percentage error).
struct error_cell {
  std::string architecture;  ///< transformer | xlstm
  std::string phase;         ///< ttft | step
  int n = 0;                 ///< measured points
  double median_ape = 0, mean_ape = 0, p90_ape = 0, max_ape = 0;
};

/// Where a profile's timing parameters come from, as `calibrate` records it.
struct calibration_record {
  std::string dataset;  ///< measurement file, relative to the repository root
  std::string date;     ///< of the fit, YYYY-MM-DD
  std::string method;   ///< loss, optimiser, what was fitted
  std::vector<error_cell> in_sample;
  std::vector<error_cell> held_out;  ///< leave-one-model-out; empty if not run
};

/// A link between GPUs: its bandwidth per GPU and direction, the latency of one step of a
/// collective over it, and for the scale-up domain (NVLink/NVSwitch, xGMI, PCIe) how many GPUs
/// it joins.
struct link {
  std::string name{};
  byte_rate bandwidth{};  ///< per GPU, per direction
  seconds latency{};      ///< of one step (one hop of a ring) of a collective
  int gpus = 0;           ///< GPUs of one scale-up domain (8 for HGX, 72 for NVL72); scale-out: 0
};

/// How a part's GPUs talk: within a scale-up domain, and between domains (the NICs).
struct interconnect {
  std::optional<link> scale_up{};
  std::optional<link> scale_out{};
};

/// What a part draws (energy per token): its board power with nothing running, and the energy
/// of a FLOP on its matrix units (by compute format) and of a byte of memory traffic on top of
/// it. Measured once on the part, from NVML's board power under kernels of known FLOPs and bytes
/// (bench/energy/measure_power.py, measurements/energy/): the one measured block of a part, since
/// it is the silicon's, the same under any stack. A GEMM's on-chip traffic (shared memory, L2) is
/// in its energy per FLOP; a copy's in its energy per byte. Not measured, and assumed: vector and
/// recurrent FLOPs at the bf16 matrix energy (a small share of any pass), formats of 8 bits and
/// fewer without a value at the fp8 one, the others at bf16's; links between GPUs at none; a
/// GEMM's FLOPs padded to whole tiles of matrix_rows (a decode GEMM of 16 rows costs a 64-row
/// tile's energy: measured, measurements/energy/README.md).
struct energy_coefficients {
  double idle_w = 0;                                    ///< board power, nothing running
  double pj_per_byte = 0;                               ///< memory traffic
  std::array<double, all_dtypes.size()> pj_per_flop{};  ///< matrix units by compute format; 0: not measured
  /// Rows a matrix unit computes at least: a GEMM of m rows spends the energy of
  /// ceil(m / matrix_rows) matrix_rows (Hopper's wgmma tile is m64); 0: none.
  int matrix_rows = 0;
  std::vector<std::string> sources{};  ///< where the numbers were measured

  /// The FLOPs a GEMM of m rows spends energy on: its own, padded to whole matrix_rows.
  constexpr double spent(double flops, double m) const {
    return matrix_rows > 0 && m > 0 ? flops * std::ceil(m / matrix_rows) * matrix_rows / m : flops;
  }

  /// pJ per FLOP of an op computing in `d` (the rules above).
  constexpr double per_flop(dtype d) const {
    if (const double v = pj_per_flop[static_cast<std::size_t>(d)]; v > 0) return v;
    const double fp8 = pj_per_flop[static_cast<std::size_t>(dtype::fp8)];
    return size_bytes(d) <= 1 && fp8 > 0 ? fp8 : pj_per_flop[static_cast<std::size_t>(dtype::bf16)];
  }
};

/// A part: what its datasheet says, every number with its source. No fitted numbers (but its
/// measured energy coefficients, energy_coefficients).
struct part {
  std::string name{};
  std::string file{};  ///< where it was read from (for messages); empty when built in code
  /// Short ids the part goes by in measured data (AIConfigurator's `system`: h100_sxm, b200_sxm, ...).
  std::vector<std::string> names{};
  std::vector<std::string> sources{};  ///< documents the numbers come from
  peak_table matrix{};                 ///< dense tensor/matrix-unit peak per dtype (no sparsity)
  peak_table vector{};                 ///< vector-unit (CUDA core, SIMD) peak per dtype
  byte_rate bandwidth{};
  bytes capacity{};
  int compute_units =
      0;  ///< SMs (NVIDIA), CUs (AMD), matrix engines (Gaudi): GEMM tiles run in waves of these
  double clock_mhz =
      0;  ///< the clock the peaks are stated at; 0: not stated (per-unit times do not transfer)
  double tdp_watts = 0;
  struct interconnect interconnect {};
  std::optional<energy_coefficients> energy{};  ///< absent: energy not stated for the part
};

/// The part a stack's timing was fitted on (what a transfer to another part compares with).
struct stack_origin {
  std::string part;  ///< its name
  int compute_units = 0;
  double clock_mhz = 0;  ///< 0: not stated
};

/// A software stack: how one engine, version and set of kernels drives a part, as timing
/// parameters fitted to measurements (with their errors), or taken from published fractions
/// of peak. No datasheet numbers.
struct stack {
  std::string name{};
  std::string file{};
  /// The serving engine it times, as measured runs name it (trtllm, vllm, sglang); empty: none
  /// (a stack of a research harness or a generic one).
  std::string engine{};
  std::string describes{};  ///< engine, version, kernels, what it was fitted on, with which command
  std::vector<std::string> sources{};
  std::optional<stack_origin> fitted_on{};  ///< absent: a generic stack, for any part (roofline, datasheet)
  timing_params timing{};
  std::optional<calibration_record> calibration{};  ///< absent: timing not fitted to measurements
};

/// The hardware an estimate runs on: a part (its datasheet numbers, inherited as they are) and
/// the timing a stack gives it (see drive()). Built in code, it is a part with the pure
/// roofline's timing unless set.
struct hardware : part {
  timing_params timing{};
  std::optional<calibration_record>
      calibration{};    ///< the stack's; absent: timing not fitted to measurements
  std::string stack{};  ///< the stack's name; empty: built in code
  /// How the stack relates to the part: "fitted on it", "generic", "transferred from ...".
  std::string stack_note{};
  /// The part the stack was fitted on where drive() moved it to this one; empty: not moved.
  std::string transferred_from{};
  std::string stack_describes{};  ///< the stack's `describes` (engine, kernels, what it was fitted on)
};

/// Per-item and per-step times (times on one compute unit) moved from a part of clock c_from to
/// one of clock c_to: multiplied by c_from / c_to where both are stated (> 0), else kept.
inline void scale_per_unit(timing_params& t, double clock_from, double clock_to) {
  const double k = clock_from > 0 && clock_to > 0 ? clock_from / clock_to : 1;
  if (k == 1) return;
  const auto move = [k](class_timing& c) {
    c.per_item = c.per_item * k;
    c.per_step = c.per_step * k;
  };
  for (class_timing& c : t.classes) move(c);
  move(t.attention_long);
}

/// The part driven by the stack: the part's datasheet numbers and the stack's timing, moved to
/// the part where the stack was fitted on another one. The transfer rule:
/// - compute and memory efficiencies are fractions of the new part's peaks and bandwidth, kept;
/// - overheads per op and per pass (launches, the engine's bookkeeping) are kept as measured;
/// - per-item and per-step times (a thread block's setup, one step of its serial loop) are
///   times on one compute unit: scaled by clock_fitted / clock_new where both parts state their
///   clock, else kept;
/// - half-occupancy points (work items) are kept: scaled by the units' count they would make a
///   part with more units slower at low parallelism, and a part faster in every datasheet number
///   must never be slower;
/// - the GEMM tile and the overlap policy are the software's, kept.
inline hardware drive(const part& p, const stack& s) {
  hardware h{p, s.timing, s.calibration, s.name, "generic: for any part"};
  h.stack_describes = s.describes;
  if (!s.fitted_on) return h;
  if (s.fitted_on->part == p.name) {
    h.stack_note = "fitted on this part";
    return h;
  }
  const bool clocks = s.fitted_on->clock_mhz > 0 && p.clock_mhz > 0;
  const double scale = clocks ? s.fitted_on->clock_mhz / p.clock_mhz : 1;
  scale_per_unit(h.timing, s.fitted_on->clock_mhz, p.clock_mhz);
  h.transferred_from = s.fitted_on->part;
  h.stack_note = fmt::format("transferred from {}: per-unit times {}", s.fitted_on->part,
                             clocks ? fmt::format("scaled by its clock over this one's, {:.3g}", scale)
                                    : "kept, not both parts state a clock");
  return h;
}

constexpr std::optional<flop_rate> peak_of(const peak_table& t, dtype d) {
  return t[static_cast<std::size_t>(d)];
}

/// Peak FLOP/s that bounds an op: the vector table for vector ops, the matrix table
/// for matrix, attention and recurrent ops (all three run their inner products on the
/// tensor units). Missing entries are 0; estimate() checks them first.
inline flop_rate peak(const part& hw, op_class c, dtype d) {
  const auto p = peak_of(c == op_class::vector ? hw.vector : hw.matrix, d);
  return p ? *p : 0 * flop_per_second;
}

/// Ridge point: the intensity (FLOP/B) above which a matrix op in dtype d is compute-bound,
/// peak(matrix, d) / bandwidth.
inline intensity ridge_point(const part& hw, dtype d) { return peak(hw, op_class::matrix, d) / hw.bandwidth; }

}  // namespace roofline
