/// A measured engine run as a serving case: its number formats (apply_quant), its deployment,
/// or why it cannot be modelled.
#pragma once

#include <string>
#include <string_view>

#include "roofline/serving/serving.hpp"

namespace roofline {

/// A measured run as a serving case: the spec with the run's number formats, the deployment,
/// or why it cannot be modelled.
struct serving_case {
  model_spec model;
  serving_workload work;
  std::string skip;  ///< empty: modelled
};

/// The number formats of a run's quant modes (AIConfigurator's gemm_quant_mode for the
/// projections, dense MLPs and shared experts, moe_quant_mode for the routed experts):
/// empty: bf16; fp8: fp8 per tensor, fp8 GEMMs; fp8_block: fp8_block128, fp8 GEMMs; nvfp4:
/// nvfp4, fp4 GEMMs; mxfp4 or fp4: mxfp4, fp4 GEMMs; int4_wo: int4 weight-only (the spec's own
/// int4 format where it has one, else int4_g128), bf16 GEMMs. Where the part has no fp4 tensor
/// units (Hopper), fp4 weights compute in fp8 (TensorRT-LLM's W4A8 MoE kernels on Hopper).
/// Embedding, LM head, router, norms: bf16; the KV cache: kept as the model states it (the
/// specs' bf16 unless --kv-format set another: the engines' default kv_cache_dtype auto; the
/// measured rows do not state an fp8 cache). Returns false for a mode not modelled.
inline bool apply_quant(model_spec& m, const hardware& hw, std::string_view gemm, std::string_view moe) {
  const auto format = [&](std::string_view q,
                          std::optional<number_format> own) -> std::optional<weight_format> {
    if (q.empty() || q == "bf16") return weight_format{plain(dtype::bf16), dtype::bf16};
    const dtype fp4 = peak_of(hw.matrix, dtype::fp4) ? dtype::fp4 : dtype::fp8;
    if (q == "fp8") return weight_format{plain(dtype::fp8), dtype::fp8};
    if (q == "fp8_block") return weight_format{*parse_format("fp8_block128"), dtype::fp8};
    if (q == "nvfp4") return weight_format{*parse_format("nvfp4"), fp4};
    if (q == "mxfp4" || q == "fp4") return weight_format{*parse_format("mxfp4"), fp4};
    if (q == "int4_wo")
      return weight_format{own && own->element == dtype::int4 ? *own : *parse_format("int4_g128"),
                           dtype::bf16};
    return std::nullopt;
  };
  const auto own = [&](weight_kind k) { return std::optional<number_format>(storage(m.dtypes, k)); };
  const auto g = format(gemm, own(weight_kind::mixer)), e = format(moe, own(weight_kind::experts));
  if (!g || !e) return false;
  tensor_dtypes t{};
  t.weights = g->storage;
  t.compute = g->compute;
  t.activations = dtype::bf16;
  t.kv_cache = m.dtypes.kv_cache;  // the KV cache's format is the workload's (--kv-format), not the weights'
  t.state = m.dtypes.state;
  t.kinds[std::size_t(weight_kind::experts)] = *e;
  for (weight_kind k : {weight_kind::router, weight_kind::embedding, weight_kind::lm_head})
    t.kinds[std::size_t(k)] = weight_format{plain(dtype::bf16), dtype::bf16};
  m.dtypes = t;
  return true;
}

namespace detail {
inline bool has_moe(const model_spec& m) {
  for (const layer_kind& k : m.kinds)
    if (std::holds_alternative<moe_channel>(k.channel)) return true;
  return false;
}
}  // namespace detail

/// The model in the formats `q` names, "GEMM[,MOE]" (apply_quant; empty: bf16; one format: the
/// experts' too); throws input_error naming `option` for a format not modelled or an MoE format
/// for a model without MoE layers. Returns the label's suffix, " (GEMM[,MOE])" (an empty format
/// named bf16), empty for bf16.
inline std::string apply_quant_named(model_spec& m, const hardware& hw, const std::string& q,
                                     std::string_view option) {
  const auto comma = q.find(',');
  const std::string g = q.substr(0, comma), e = comma == std::string::npos ? g : q.substr(comma + 1);
  if (!apply_quant(m, hw, g, e))
    throw input_error(fmt::format(
        "{} '{}': not a modelled format (fp8, fp8_block, nvfp4, mxfp4, fp4, int4_wo, or empty for bf16)",
        option, q));
  if (comma != std::string::npos && !e.empty() && e != "bf16" && e != g && !detail::has_moe(m))
    throw input_error(
        fmt::format("{} '{}': a format for MoE experts ('{}'), but model '{}' has no MoE layers; "
                    "give one format",
                    option, q, e, m.name));
  if (q.empty()) return "";
  // bf16 named where left empty: ",mxfp4" is bf16 GEMMs with MXFP4 experts
  return " (" + (g.empty() ? std::string("bf16") : g) + (comma == std::string::npos ? "" : "," + e) + ")";
}

/// The serving case of a measured run on its model's spec and its part: the row's formats
/// (apply_quant), its pools as layouts (tp, pp, attention dp as dp, moe_ep as ep; the row's
/// moe_tp must be tp dp / moe_ep, the split the layout implies), its batch as max_batch (never
/// below the concurrency a rank sees: see below), and
/// for disaggregated runs the prefill and decode pools with their worker counts. Skipped, with
/// the reason: disaggregated rows without per-pool fields, quant modes not modelled, layouts
/// whose expert split is not tp dp / ep.
inline serving_case serving_case_of(const engine_run& r, const model_spec& spec, const hardware& hw) {
  serving_case c{spec, {}, {}};
  if (!apply_quant(c.model, hw, r.gemm_quant, r.moe_quant)) {
    c.skip = fmt::format("quant mode not modelled ({} / {})", r.gemm_quant, r.moe_quant);
    return c;
  }
  const bool moe = detail::has_moe(spec);
  const auto pool = [&](const engine_run::pool& p, worker_pool& w) {
    if (std::min({p.tp, p.pp, p.dp, p.moe_tp, p.moe_ep}) <
        1) {  // sizes are at most 2^16 (the reader's bound)
      c.skip = "a parallel size of 0";
      return;
    }
    w.L = layout{.tp = p.tp, .pp = p.pp, .ep = moe ? p.moe_ep : 1, .dp = p.dp};
    w.workers = p.workers;
    // The row's batch_size is the engine's running-batch limit per dp rank, except where the
    // concurrency exceeds it while the measured TTFT shows no queue (rows of the gap-analysis
    // source give batch_size per GPU, batch_size x tp = concurrency): there it does not bind.
    if (p.batch > 0)
      w.max_batch =
          std::max(double(p.batch), std::ceil(r.concurrency / double(std::max(1, p.dp * p.workers))));
    if (moe && std::int64_t(p.moe_tp) * p.moe_ep != std::int64_t(p.tp) * p.dp) {
      c.skip = "expert split moe_tp x moe_ep differs from tp x attention_dp";
      return;
    }
  };
  c.work.isl = r.isl;
  c.work.osl = r.osl;
  c.work.concurrency = r.concurrency;
  c.work.disaggregated = r.disaggregated;
  if (r.disaggregated) {
    if (!r.stages_stated) {
      c.skip = "disaggregated run without its prefill_* and decode_* fields";
      return c;
    }
    pool(r.prefill, c.work.prefill);
    pool(r.decode, c.work.decode);
    // prefill_batch_size is the prompts a prefill iteration takes: the model runs one a rank
    c.work.prefill.max_batch.reset();
  } else {
    pool(r.agg, c.work.agg);
  }
  return c;
}

}  // namespace roofline
