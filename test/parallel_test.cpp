// Several GPUs: collectives, tensor, expert, data and pipeline parallelism, memory per GPU.
// Every expected value is worked by hand from the published configs and the parts' links.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "roofline/estimate/compare.hpp"
#include "roofline/estimate/estimate.hpp"
#include "roofline/io/io.hpp"
#include "roofline/report/report.hpp"

using namespace roofline;

namespace {

model_spec spec(const std::string& name) {
  return load_model(test::source_dir + "/model_specs/" + name + ".yaml");
}

// H100 SXM links (hw_profiles/h100_sxm.yaml): NVLink 450 GB/s a direction, 0.47 us a step,
// 8 GPUs a domain; ConnectX-7 50 GB/s, 2.7 us.
constexpr double nvlink = 450e9, nvlink_step = 0.47e-6, ib = 50e9, ib_step = 2.7e-6;

op collective_of(collective k, int group, double message, int span = 0) {
  op o{"c", op_class::communication, dtype::bf16, {}, 0 * flop, {}, {}, 0};
  o.comm = {k, group, span > 0 ? span : group, message * byte};
  return o;
}

// The ops a GPU of stage s runs in the phase of a workload.
std::vector<op> ops_of(const model_spec& m, const workload& w, phase ph, int s = 0) {
  const parallel_plan plan = plan_of(w);
  std::vector<op> out;
  for_each_op(m, rank_pass(w, plan, ph), rank_of(m, plan, s, ph), [&](const op& o) { out.push_back(o); });
  return out;
}

}  // namespace

TEST_CASE("each collective's time is its ring formula on the link its GPUs span") {
  const hardware hw = test::h100_roofline();
  const double S = 1e6;
  // all-reduce of 8 in one domain: 2 (n-1)/n S / bw + 2 (n-1) steps
  op_time t = time_op(collective_of(collective::all_reduce, 8, S), hw, overlap::perfect);
  CHECK(t.total.value() == doctest::Approx(2 * 7.0 / 8 * S / nvlink + 14 * nvlink_step).epsilon(1e-12));
  CHECK(t.link == link_kind::scale_up);
  CHECK(t.bound == bound::communication);
  CHECK(t.compute.value() == 0);
  // all-gather and reduce-scatter of 4: (n-1)/n S / bw + (n-1) steps
  for (collective k : {collective::all_gather, collective::reduce_scatter})
    CHECK(time_op(collective_of(k, 4, S), hw, overlap::perfect).total.value() ==
          doctest::Approx(3.0 / 4 * S / nvlink + 3 * nvlink_step).epsilon(1e-12));
  // all-to-all of 16 GPUs: beyond the 8 of a domain, on the network
  t = time_op(collective_of(collective::all_to_all, 16, S), hw, overlap::perfect);
  CHECK(t.link == link_kind::scale_out);
  CHECK(t.total.value() == doctest::Approx(15.0 / 16 * S / ib + 15 * ib_step).epsilon(1e-12));
  // a send between 2 GPUs of a 16-GPU pipeline: the whole message, one step, on the network
  t = time_op(collective_of(collective::send_recv, 2, S, 16), hw, overlap::perfect);
  CHECK(t.total.value() == doctest::Approx(S / ib + ib_step).epsilon(1e-12));
  // a stack's efficiency and per-call overhead
  hardware slow = hw;
  slow.timing.collectives.efficiency[std::size_t(collective::all_reduce)] = 0.8;
  slow.timing.collectives.overhead = 5e-6 * second;
  CHECK(time_op(collective_of(collective::all_reduce, 8, S), slow, overlap::perfect).total.value() ==
        doctest::Approx(5e-6 + 14 * nvlink_step + 2 * 7.0 / 8 * S / (0.8 * nvlink)).epsilon(1e-12));
}

TEST_CASE("Llama-3.1-70B at tp 8: an eighth of the weights, two all-reduces of B T d b_a a layer") {
  const model_spec m = spec("llama3.1_70b");
  const hardware hw = test::h100_roofline();
  workload w{.batch = 16, .prefill = 1024, .generate = 64};
  w.parallel.tp = 8;
  // config.json: d 8192, 64 heads and 8 KV heads of 128, SwiGLU 28672, 80 layers, vocabulary 128256
  const double d = 8192, f = 28672, v = 128256, L = 80;
  const double attention = d * 64 * 128 + 2 * d * 8 * 128 + 64 * 128 * d;  // q, k, v, o
  const double layer = (attention + 3 * d * f) / 8 + 2 * d;                // split over 8; two norms whole
  const double weights = 2 * (L * layer + 2 * v * d / 8 + d);  // bf16; embedding, head by vocabulary
  const estimate_result r = estimate(m, hw, w);
  REQUIRE(r.parallel);
  CHECK(r.parallel->gpus == 8);
  CHECK(r.memory.weights.value() == doctest::Approx(weights).epsilon(1e-12));
  // the KV cache: the rank's one KV head of 8, for B (P + G) tokens
  CHECK(r.memory.kv_cache.value() ==
        doctest::Approx(16 * (1024 + 64) * L * 1 * 2 * 128 * 2.0).epsilon(1e-12));

  for (phase ph : {phase::prefill, phase::decode}) {
    const double tokens = ph == phase::prefill ? 16 * 1024 : 16;
    const double S = tokens * d * 2;
    int reduces = 0;
    for (const op& o : ops_of(m, w, ph))
      if (o.layers.kind == 0 && o.cls == op_class::communication) {
        ++reduces;
        CHECK(o.comm.collective == collective::all_reduce);
        CHECK(o.comm.group == 8);
        CHECK(o.comm.message.value() == S);
      }
    CHECK(reduces == 2);
    // the communication of the pass on the pure roofline, not overlapped: 2 per layer, the
    // embedding's all-reduce (B T d) and the logits' all-gather (B V b_a, the last tokens)
    const double ar = 2 * 7.0 / 8 * S / nvlink + 14 * nvlink_step;
    const double logits = 7.0 / 8 * (16 * v * 2) / nvlink + 7 * nvlink_step;
    const phase_estimate& e = ph == phase::prefill ? r.prefill : r.decode;
    CHECK(e.communication.value() == doctest::Approx(2 * L * ar + ar + logits).epsilon(1e-9));
  }
  // the q/k/v projection of a rank: 8 query heads and 1 KV head of 128
  for (const op& o : ops_of(m, w, phase::decode))
    if (o.name == "qkv_proj") CHECK(o.gemm.n == (8 + 2) * 128);
}

TEST_CASE(
    "sequence parallelism trades each all-reduce for a reduce-scatter and an all-gather of the same time") {
  const model_spec m = spec("llama3.1_8b");
  const hardware hw = test::h100_roofline();
  workload w{.batch = 4, .prefill = 512, .generate = 16};
  w.parallel.tp = 4;
  workload sp = w;
  sp.parallel.sequence_parallel = true;
  std::map<std::string, double> bytes;
  for (const op& o : ops_of(m, sp, phase::prefill))
    if (o.layers.kind == 0 && o.cls == op_class::communication)
      bytes[std::string(o.name)] = o.comm.message.value();
  const double S = 4 * 512 * 4096 * 2.0;
  CHECK(bytes == std::map<std::string, double>{{"attn_all_gather", S},
                                               {"attn_reduce_scatter", S},
                                               {"ffn_all_gather", S},
                                               {"ffn_reduce_scatter", S}});
  // norms work on a quarter of the rows
  for (const op& o : ops_of(m, sp, phase::prefill))
    if (o.name == "attn_norm") CHECK(o.moved.activations.value() == doctest::Approx(S / 4).epsilon(1e-12));
  // RS + AG take what the all-reduce takes (2 (n-1)/n S / bw, 2 (n-1) steps)
  const estimate_result a = estimate(m, hw, w), b = estimate(m, hw, sp);
  const auto layer_comm = [&](const workload& x) {
    double t = 0;
    for (const op& o : ops_of(m, x, phase::prefill))
      if (o.layers.kind == 0 && o.cls == op_class::communication)
        t += time_op(o, hw, overlap::perfect).total.value();
    return t;
  };
  CHECK(layer_comm(sp) == doctest::Approx(layer_comm(w)).epsilon(1e-12));
  CHECK(b.ttft < a.ttft);  // the norms' share of the work is split too
}

TEST_CASE("DeepSeek-V3 experts over 8 GPUs: 32 each, tokens dispatched and combined by all-to-alls") {
  const model_spec m = spec("deepseek_v3");
  const hardware hw = test::shipped("h200", "roofline");
  workload w{.batch = 256, .prefill = 1024, .generate = 64};
  w.parallel.dp = 8;
  w.parallel.ep = 8;
  // config.json: d 7168, 256 routed experts of 2048, top 8, 1 shared of 2048, 58 MoE layers
  const double d = 7168, E = 256, k = 8, f = 2048,
               bpe = storage(m.dtypes, weight_kind::experts).bytes_per_element();
  // decode: each dp rank its 32 sequences; the experts see all 256 tokens
  int a2a = 0;
  for (const op& o : ops_of(m, w, phase::decode)) {
    if (o.layers.kind != 1) continue;
    if (o.cls == op_class::communication) {
      ++a2a;
      CHECK(o.comm.collective == collective::all_to_all);
      CHECK(o.comm.group == 8);
      CHECK(o.comm.message.value() == 32 * k * d * 2);  // its tokens' k copies of d, bf16, each way
    }
    if (o.name == "experts_gate_up") {
      const double touched = E * (1 - std::pow(1 - k / E, 256)) / 8;  // distinct experts touched, its eighth
      CHECK(o.moved.weights.value() == doctest::Approx(touched * d * 2 * f * bpe).epsilon(1e-12));
      CHECK(o.work.value() == doctest::Approx(2 * 256 * k / 8 * d * 2 * f).epsilon(1e-12));
    }
  }
  CHECK(a2a == 2);
  // weights per GPU: everything whole (dp replicates attention and the dense layers) but the
  // routed experts, of which it holds 32 of 256
  const double routed = 58 * E * 3 * d * f * bpe;
  CHECK(rank_weight_bytes(m, w.parallel, {}) ==
        doctest::Approx(weight_bytes(m) - routed * 7 / 8).epsilon(1e-12));
}

TEST_CASE("a 2-stage pipeline: TTFT is both stages and the slower one's second micro-batch") {
  const model_spec m = spec("llama3.1_8b");
  const hardware hw = test::h100_roofline();
  workload w{.batch = 4, .prefill = 2048, .generate = 32};
  w.parallel.pp = 2;
  // micro-batches of 2 sequences; on one GPU a 2-sequence prefill is embedding E, 32 identical
  // layers of time L each and the head H
  workload one{.batch = 2, .prefill = 2048, .generate = 32};
  double E = 0, layer = 0, H = 0;
  for (const op_row& o : op_rows(m, hw, prefill_pass(one), overlap::perfect))
    (o.op.layers.kind == layer_span::embedding ? E
     : o.op.layers.kind == layer_span::head    ? H
                                               : layer) += o.time.total.value();
  const double send = 2 * 2048 * 4096 * 2.0 / nvlink + nvlink_step;  // the activations to stage 1
  const double t0 = E + 16 * layer + send, t1 = 16 * layer + H;
  const estimate_result r = estimate(m, hw, w);
  REQUIRE(r.parallel);
  CHECK(r.parallel->plan.microbatches == 2);
  CHECK(r.parallel->stages[0].prefill.time.value() == doctest::Approx(t0).epsilon(1e-9));
  CHECK(r.parallel->stages[1].prefill.time.value() == doctest::Approx(t1).epsilon(1e-9));
  CHECK(r.ttft.value() == doctest::Approx(t0 + t1 + std::max(t0, t1)).epsilon(1e-9));
  CHECK(r.parallel->bubble.value() == doctest::Approx(t0 + t1 - std::max(t0, t1)).epsilon(1e-9));
  // nearly equal stages: the bubble is nearly (pp - 1) / (pp + m - 1) = 1/3 of the TTFT
  CHECK(r.parallel->bubble.value() / r.ttft.value() == doctest::Approx(1.0 / 3).epsilon(0.01));
  // decode: 2 groups of 2 in flight; a token comes after max(t0 + t1, 2 max t)
  const double d0 = r.parallel->stages[0].decode.time.value(), d1 = r.parallel->stages[1].decode.time.value();
  CHECK(r.step_time.value() == doctest::Approx(std::max(d0 + d1, 2 * std::max(d0, d1))).epsilon(1e-12));
  CHECK(r.parallel->tokens_per_s_per_gpu == doctest::Approx(4 / r.step_time.value() / 2).epsilon(1e-12));
  // stages split 32 layers 16 / 16, the embedding on the first and the head on the last
  CHECK(r.parallel->stages[0].span.first == 0);
  CHECK(r.parallel->stages[0].span.last == 16);
  CHECK(r.parallel->stages[1].span.last == 32);
}

TEST_CASE("the layout of one GPU through the several-GPU path is today's estimate") {
  const hardware hw = test::h100_calibrated();
  const workload w{.batch = 2, .prefill = 300, .generate = 20};
  for (const auto& f : std::filesystem::directory_iterator(test::source_dir + "/model_specs")) {
    if (f.path().extension() != ".yaml") continue;
    const model_spec m = load_model(f.path().string());
    CAPTURE(m.name);
    const estimate_result a = estimate(m, hw, w), b = detail::estimate_parallel(m, hw, w, hw.timing.overlap);
    CHECK(b.ttft.value() == doctest::Approx(a.ttft.value()).epsilon(1e-12));
    CHECK(b.step_time.value() == doctest::Approx(a.step_time.value()).epsilon(1e-12));
    CHECK(b.prefill.moved.total().value() == doctest::Approx(a.prefill.moved.total().value()).epsilon(1e-12));
    CHECK(b.memory.total().value() == a.memory.total().value());
    CHECK(b.parallel->bubble.value() == 0);
    CHECK(rank_weight_bytes(m, {}, {}) == doctest::Approx(weight_bytes(m)).epsilon(1e-12));
  }
}

TEST_CASE("what fits on 8 GPUs: Llama-3.1-405B and DeepSeek-V3") {
  const auto fits = [](const std::string& model, const std::string& part, int tp, int ep) {
    workload w{.batch = 1, .prefill = 4096, .generate = 256};
    w.parallel.tp = tp;
    w.parallel.ep = ep;
    return estimate(spec(model), test::shipped(part, "datasheet"), w).fits;
  };
  // 405B: fp8 blocks, 406 GB / 8 = 51 GB a GPU of 141; bf16, 812 GB / 8 = 101 GB a GPU of 80
  CHECK(fits("llama3.1_405b_fp8", "h200", 8, 1));
  CHECK_FALSE(fits("llama3.1_405b", "h100_sxm", 8, 1));
  // DeepSeek-V3 in its fp8 blocks: 673 GB / 8 = 84 GB a GPU
  CHECK(fits("deepseek_v3", "h200", 8, 8));
  CHECK_FALSE(fits("deepseek_v3", "h100_sxm", 8, 8));
  // what one GPU of the 405B fp8 at tp 8 holds: an eighth of every block matrix (fp8), both
  // norms whole, an eighth of the embedding and LM head (bf16), the final norm
  workload w{.batch = 1, .prefill = 4096, .generate = 256};
  w.parallel.tp = 8;
  const model_spec m = spec("llama3.1_405b_fp8");
  const double d = 16384, v = 128256, vec = storage(m.dtypes, weight_kind::vectors).bytes_per_element();
  const double block = 2 * d * d + 2 * d * 8 * 128 + 3 * d * 53248;
  const double weights = 126 * (block / 8 * 1 + 2 * d * vec) + 2 * v * d / 8 * 2 + d * vec;
  const estimate_result r = estimate(m, test::shipped("h200", "datasheet"), w);
  CHECK(r.memory.weights.value() == doctest::Approx(weights).epsilon(1e-12));
}

TEST_CASE("layouts a model or part cannot take are refused with the reason") {
  const hardware h100 = test::h100_roofline();
  const auto refuse = [](const model_spec& m, const hardware& hw, layout L, const std::string& says) {
    workload w{.batch = 8, .prefill = 128, .generate = 8};
    w.parallel = L;
    CAPTURE(says);
    try {
      (void)estimate(m, hw, w);
      FAIL("accepted");
    } catch (const input_error& e) {
      CHECK(std::string(e.what()).find(says) != std::string::npos);
    }
  };
  const model_spec llama = spec("llama3.1_70b");
  refuse(llama, h100, {.tp = 3}, "tp 3 does not divide the 64 query heads of layer kind 'attention+mlp'");
  refuse(llama, h100, {.tp = 16, .ep = 2}, "ep 2 spreads experts, but model 'llama3.1_70b'");
  refuse(llama, h100, {.pp = 81}, "pp 81 is more stages than the 80 layers");
  refuse(llama, h100, {.tp = 0}, "tp must be from 1 to 65536, not 0");
  refuse(spec("deepseek_v3"), h100, {.tp = 8, .ep = 3}, "ep 3 does not divide the 256 experts");
  refuse(spec("deepseek_v3"), h100, {.tp = 2, .ep = 4}, "ep 4 must divide the tp x dp = 2 GPUs");
  refuse(llama, test::shipped("l4", "roofline"), {.tp = 2}, "has no 'interconnect'");
  refuse(llama, test::shipped("mi300x", "roofline"), {.tp = 16},
         "span 16 GPUs, more than the 8 of one scale-up domain ('interconnect.scale_up.gpus'), and the part "
         "has no "
         "'interconnect.scale_out'");
}

TEST_CASE("the report of a layout: a parallel object, each op's stage and link, memory per GPU") {
  const model_spec m = spec("qwen3_30b_a3b");
  const hardware hw = test::shipped("h100_sxm", "datasheet");
  workload w{.batch = 8, .prefill = 512, .generate = 16};
  w.parallel = {.tp = 2, .pp = 2, .ep = 2};
  const report r = make_report(m, hw, w, std::nullopt);
  const auto j = nlohmann::json::parse(render(estimate_view{r}, report_format::json));
  CHECK(j["parallel"]["gpus"] == 4);
  CHECK(j["parallel"]["moe_tp"] == 1);
  CHECK(j["parallel"]["stages"].size() == 2);
  CHECK(j["parallel"]["stages"][1]["first_layer"] == 24);
  CHECK(j["parallel"]["microbatches"] == 2);
  int sends = 0, stage1 = 0;
  for (const auto& o : j["decode"]["ops"]) {
    if (o["class"] == "communication") {
      CHECK(o["link"] == "scale_up");
      CHECK(o["message_bytes"].get<double>() > 0);
    } else {
      CHECK(o["link"].is_null());
    }
    sends += o["name"] == "pp_send";
    stage1 += o["rank"]["stage"] == 1;
  }
  CHECK(sends == 1);
  CHECK(stage1 > 0);
  const std::string table = render(estimate_view{r, true}, report_format::table);
  CHECK(table.find("stage 1 (layers 24 to 47)") != std::string::npos);
  CHECK(table.find("memory per GPU, st. 1") != std::string::npos);
  CHECK(table.find("pipeline bubble") != std::string::npos);
  CHECK(table.find("moe_all_reduce (all_reduce, scale_up)") != std::string::npos);
  // one GPU: the layout of 1s, nothing more
  const auto one = nlohmann::json::parse(
      render(estimate_view{make_report(m, hw, {.batch = 1, .prefill = 64, .generate = 4}, std::nullopt)},
             report_format::json));
  CHECK(one["parallel"] == nlohmann::json{{"tp", 1},
                                          {"pp", 1},
                                          {"ep", 1},
                                          {"dp", 1},
                                          {"moe_tp", 1},
                                          {"sequence_parallel", false},
                                          {"gpus", 1}});
}

TEST_CASE("a tp sweep: weights and memory time shrink with tp, communication appears") {
  const model_spec m = spec("llama3.1_70b");
  const hardware hw = test::shipped("h100_sxm", "datasheet");
  const auto sweep = tp_sweep(m, hw, {.batch = 8, .prefill = 1024, .generate = 32}, 16);
  REQUIRE(sweep.size() == 5);
  CHECK(sweep[0].result->decode.communication.value() == 0);
  for (std::size_t i = 1; i < sweep.size(); ++i) {
    REQUIRE(sweep[i].result);
    CHECK(sweep[i].result->decode.communication.value() > 0);
    CHECK(sweep[i].result->memory.weights < sweep[i - 1].result->memory.weights);
    CHECK(sweep[i].result->decode.memory_bound_time < sweep[i - 1].result->decode.memory_bound_time);
  }
  // tp 16 leaves the NVLink domain: its all-reduces run at 50 GB/s and cost more than tp 8 saves
  CHECK(sweep[4].result->step_time > sweep[3].result->step_time);
  // a degree the model cannot take is kept with its reason
  const auto odd = tp_sweep(spec("phi3_mini"), hw, {.batch = 1, .prefill = 64, .generate = 4}, 64);
  CHECK_FALSE(odd.back().result);
  CHECK(odd.back().refused.find("does not divide") != std::string::npos);
}
