/// roofline: the header users include. It brings the public calls of every stage (the stages and
/// what each holds: docs/architecture.md); internals are in namespace roofline::detail.
///
///   model_spec m = load_model("model_specs/llama3_8b.yaml");          // io: specs, parts, stacks
///   hardware hw = load_hardware("hw_profiles/h100_sxm.yaml");         //   (the datasheet stack)
///   const workload w{.batch = 8, .prefill = 4096, .generate = 256};
///   estimate_result r = estimate(m, hw, w);
///   serving_result s = serve(m, hw, {.isl = 4096, .osl = 512, .concurrency = 64});
///   const report rep = make_report(m, hw, w, std::nullopt);
///   std::string text = render(estimate_view{rep}, report_format::json);
///
/// Fitting stacks to measurements (fit/calibrate.hpp) links the library roofline_calibrate
/// (Ceres) besides; it is not included here.
#pragma once

#include "roofline/estimate/compare.hpp"     // several models across prompt lengths, crossovers
#include "roofline/estimate/estimate.hpp"    // TTFT, step time, memory, bound; several GPUs
#include "roofline/graph/graph.hpp"          // the ops of a pass, parameters, memory, checks
#include "roofline/io/io.hpp"                // model specs, HuggingFace configs, parts, stacks, CSVs
#include "roofline/report/plot.hpp"          // pictures (gnuplot)
#include "roofline/report/report.hpp"        // views: tables, JSON, CSV
#include "roofline/scaling/scaling.hpp"      // training FLOPs, loss fits, model choice
#include "roofline/serving/deploy.hpp"       // the best deployment on N GPUs
#include "roofline/serving/engine_case.hpp"  // a measured engine run as a serving case
#include "roofline/serving/serving.hpp"      // TTFT and TPOT at a concurrency
#include "roofline/serving/simulate.hpp"     // the engines' schedulers simulated: latency distributions
#include "roofline/sweep/sweep.hpp"          // many estimates at once, vectorised
