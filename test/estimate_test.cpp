// Estimate: totals, overheads, bounds and memory of whole workloads.
#include <doctest/doctest.h>

#include "helpers.hpp"
#include "roofline/estimate/estimate.hpp"
#include "roofline/io/io.hpp"

using namespace roofline;

namespace {

model_spec tiny_transformer() {
  return test::stack("tiny", 8, 32, attention_mixer{.n_heads = 2, .n_kv_heads = 1, .head_dim = 4},
                     mlp_channel{.ffn_dim = 16}, 3);
}

// Compute so fast that every op is memory-bound: time = bytes / bandwidth + overheads.
hardware memory_only() {
  hardware hw = test::toy_hardware("memory only", 1e30, 1e30, 1000);
  hw.capacity = 1e6 * byte;
  return hw;
}

}  // namespace

TEST_CASE("a memory-bound estimate is bytes over bandwidth plus the overheads") {
  const model_spec m = tiny_transformer();
  hardware hw = memory_only();
  for (op_class c : all_op_classes) hw.timing.of(c).overhead = 1 * second;
  hw.timing.overhead_per_forward = 10 * second;
  const workload w{.batch = 2, .prefill = 4, .generate = 3};
  const estimate_result r = estimate(m, hw, w);
  // 8 ops per layer x 3 layers + embedding + final norm + LM head = 27 ops, + 1 forward
  const double overhead = 27 * 1 + 10;
  CHECK(r.prefill.overhead.value() == overhead);
  CHECK(r.ttft.value() ==
        doctest::Approx(count(m, prefill_pass(w)).moved.total().value() / 1000 + overhead).epsilon(1e-12));
  CHECK(r.step_time.value() ==
        doctest::Approx(count(m, decode_pass(w)).moved.total().value() / 1000 + overhead).epsilon(1e-12));
  CHECK(r.throughput_tokens_per_s == doctest::Approx(2 / r.step_time.value()).epsilon(1e-12));
  CHECK(r.end_to_end_tokens_per_s ==
        doctest::Approx(2 * 3 / (r.ttft.value() + 3 * r.step_time.value())).epsilon(1e-12));
  CHECK(r.prefill.bound == bound::overhead);  // 37 s of overheads against well under 1 s of memory
}

TEST_CASE("a pass over more than one token pays the multi-token overhead once") {
  const model_spec m = tiny_transformer();
  hardware hw = memory_only();
  hw.timing.overhead_per_batched_forward = 7 * second;
  const auto overhead = [&](std::int64_t batch, std::int64_t prefill) {
    const estimate_result r = estimate(m, hw, {.batch = batch, .prefill = prefill, .generate = 1});
    return std::pair{r.prefill.overhead.value(), r.decode.overhead.value()};
  };
  CHECK(overhead(1, 1) == std::pair{0.0, 0.0});  // one token in every pass
  CHECK(overhead(1, 4) == std::pair{7.0, 0.0});  // a 4-token prompt; one token per step
  CHECK(overhead(2, 1) == std::pair{7.0, 7.0});  // two sequences: two tokens in every pass
}

TEST_CASE("perfect and no overlap bound the smooth estimate") {
  const model_spec m = load_model(test::source_dir + "/model_specs/xlstm_7b.yaml");
  const hardware hw = test::h100_calibrated();
  const workload w{.batch = 8, .prefill = 2048, .generate = 100};
  const estimate_result r = estimate(m, hw, w, overlap::smooth);
  CHECK(r.overlap == overlap::smooth);
  CHECK(r.prefill.time_perfect < r.ttft);
  CHECK(r.ttft < r.prefill.time_none);
  CHECK(r.decode.time_perfect < r.step_time);
  CHECK(r.step_time < r.decode.time_none);
  CHECK(estimate(m, hw, w).overlap == hw.timing.overlap);  // the profile's default
  SUBCASE("the bounds are the estimates under those policies, serial loops included") {
    for (const workload& v : {w, workload{.batch = 1, .prefill = 16384, .generate = 100}}) {
      const estimate_result s = estimate(m, hw, v, overlap::smooth);
      const estimate_result p = estimate(m, hw, v, overlap::perfect), n = estimate(m, hw, v, overlap::none);
      CHECK(s.prefill.time_perfect.value() == doctest::Approx(p.ttft.value()).epsilon(1e-12));
      CHECK(s.prefill.time_none.value() == doctest::Approx(n.ttft.value()).epsilon(1e-12));
      CHECK(s.decode.time_perfect.value() == doctest::Approx(p.step_time.value()).epsilon(1e-12));
      CHECK(s.decode.time_none.value() == doctest::Approx(n.step_time.value()).epsilon(1e-12));
    }
  }
}

TEST_CASE("Llama-2-7B decode on the pure H100 roofline is the weights and cache over 3.35 TB/s") {
  const model_spec m = load_model(test::source_dir + "/model_specs/llama2_7b.yaml");
  const hardware hw = test::h100_roofline();
  // Batch 1, P 1, G 1: weights read = (6,738,415,616 - 32000 x 4096) x 2 B = 13,214,687,232 B; every
  // op is memory-bound at batch 1, so the step takes at least 13.2147e9 / 3.35e12 = 3.9447 ms,
  // plus a cache of a few tokens and activations (under 0.1%).
  const estimate_result r = estimate(m, hw, {.batch = 1, .prefill = 1, .generate = 1});
  CHECK(r.step_time.value() == doctest::Approx(3.9447e-3).epsilon(1e-3));
  CHECK(r.decode.bound == bound::memory);
  // A prefill of 8 x 4096 tokens is compute-bound: 2 N per token at 989.4 TFLOP/s is at least
  // 2 x 6.74e9 x 32768 / 989.4e12 = 0.446 s.
  const estimate_result big = estimate(m, hw, {.batch = 8, .prefill = 4096, .generate = 1});
  CHECK(big.prefill.bound == bound::compute);
  CHECK(big.ttft.value() > 0.446);
  CHECK(r.ridge_point.value() == doctest::Approx(989.4e12 / 3.35e12).epsilon(1e-12));
}

TEST_CASE("the memory footprint decides whether a workload fits") {
  const model_spec m = load_model(test::source_dir + "/model_specs/llama3_70b.yaml");
  const hardware hw = test::h100_calibrated();
  // 70.55e9 parameters x 2 B = 141.1 GB of weights > 80 GB
  const estimate_result r = estimate(m, hw, {.batch = 1, .prefill = 128, .generate = 1});
  CHECK(r.memory.weights.value() == 70'553'706'496.0 * 2);
  CHECK_FALSE(r.fits);
  const hardware mi = test::shipped("mi300x", "datasheet");
  CHECK(estimate(m, mi, {.batch = 1, .prefill = 128, .generate = 1}).fits);  // 192 GB
}

TEST_CASE("an estimate rejects what the hardware or the workload cannot take") {
  const model_spec m = tiny_transformer();
  SUBCASE("a compute format without a matrix peak") {
    model_spec fp8 = m;
    fp8.dtypes.weights = plain(dtype::fp8);
    CHECK(estimate(fp8, memory_only(), {}).ttft.value() > 0);  // fp8 storage, bf16 compute (W8A16)
    fp8.dtypes.compute = dtype::fp8;                           // W8A8: the fp8 units
    CHECK_THROWS_WITH_AS(
        estimate(fp8, memory_only(), {}),
        "hardware 'memory only': no matrix peak for fp8: memory only has no fp8 tensor units, and "
        "model 'tiny' computes its mixer weights in fp8; use weight-only fp8 with bf16 compute "
        "('dtypes.compute: bf16') or add 'matrix_tflops.fp8'",
        input_error);
  }
  SUBCASE("a non-positive workload") {
    CHECK_THROWS_WITH_AS(estimate(m, memory_only(), {.batch = 0}),
                         "workload: batch (0), prefill (1) and generate (1) must be positive", input_error);
  }
  SUBCASE("a spec built in code with heads that do not divide") {
    model_spec bad = m;
    std::get<attention_mixer>(bad.kinds[0].mixer).n_kv_heads = 3;
    CHECK_THROWS_WITH_AS(estimate(bad, memory_only(), {}),
                         "model 'tiny': 'n_kv_heads' (3) must divide 'n_heads' (2)", input_error);
  }
  SUBCASE("a workload beyond the model's maximum context") {
    model_spec short_context = m;
    short_context.max_context = 4096;
    CHECK(estimate(short_context, memory_only(), {.batch = 1, .prefill = 4000, .generate = 96}).fits);
    CHECK_THROWS_WITH_AS(
        estimate(short_context, memory_only(), {.batch = 1, .prefill = 4000, .generate = 97}),
        "workload: prefill 4000 + generate 97 = 4097 tokens exceeds the maximum context of model "
        "'tiny', 4096 ('max_context')",
        input_error);
  }
}

TEST_CASE("every shipped model runs on every shipped accelerator") {
  for (const char* model : {"xlstm_7b", "llama2_7b", "llama3_8b", "llama3_70b", "mistral_7b", "qwen2.5_7b"})
    for (const char* hw : {"h100_sxm", "h100_pcie", "h200", "b200", "a100_80gb_sxm", "a100_40gb", "l40s",
                           "l4", "rtx_4090", "mi300x", "mi325x", "gaudi3"}) {
      CAPTURE(model);
      CAPTURE(hw);
      const auto r = estimate(load_model(test::source_dir + "/model_specs/" + model + ".yaml"),
                              test::shipped(hw, "datasheet"), {.batch = 4, .prefill = 1024, .generate = 64});
      CHECK(r.ttft.value() > 0);
      CHECK(r.step_time < r.ttft);
    }
}

TEST_CASE("a stack moves to another part by the transfer rule, and says so") {
  const stack s = load_stack(test::source_dir + "/stacks/hf_transformers_h100.yaml");
  const class_timing& fitted = s.timing.of(op_class::decode_attention);
  SUBCASE("on the part it was fitted on, as fitted") {
    const hardware h = drive(load_part(test::source_dir + "/hw_profiles/h100_sxm.yaml"), s);
    CHECK(h.stack_note == "fitted on this part");
    CHECK(h.timing.of(op_class::decode_attention).per_step.value() == fitted.per_step.value());
  }
  SUBCASE("on a part of another clock: per-unit times scaled by 1830 / 1620 MHz, the rest kept") {
    const hardware h = drive(load_part(test::source_dir + "/hw_profiles/h100_pcie.yaml"), s);
    const class_timing& moved = h.timing.of(op_class::decode_attention);
    CHECK(moved.per_step.value() == doctest::Approx(fitted.per_step.value() * 1830 / 1620).epsilon(1e-12));
    CHECK(moved.per_item.value() == doctest::Approx(fitted.per_item.value() * 1830 / 1620).epsilon(1e-12));
    CHECK(moved.compute == fitted.compute);                    // a fraction of the new part's peak
    CHECK(moved.overhead.value() == fitted.overhead.value());  // launches as measured
    CHECK(moved.half_parallel == fitted.half_parallel);
    CHECK(h.stack_note ==
          "transferred from NVIDIA H100 SXM5 80GB: per-unit times scaled by its clock over this one's, 1.13");
  }
  SUBCASE("on a part that states no clock: per-unit times kept") {
    const hardware h = drive(load_part(test::source_dir + "/hw_profiles/b200.yaml"), s);
    CHECK(h.timing.of(op_class::decode_attention).per_step.value() == fitted.per_step.value());
    CHECK(h.stack_note ==
          "transferred from NVIDIA H100 SXM5 80GB: per-unit times kept, not both parts state a clock");
  }
  SUBCASE("the report names the stack and the transfer") {
    const hardware h = drive(load_part(test::source_dir + "/hw_profiles/b200.yaml"), s);
    CHECK(h.stack == "hf_transformers_h100");
    CHECK(h.calibration.has_value());  // its errors are those measured on the H100
  }
}

TEST_CASE("energy: a GEMM's and a decode step's joules worked out by hand, never above TDP x time") {
  // A part of 1 PFLOP/s bf16, 1 TB/s, idle 100 W, 0.5 pJ per bf16 FLOP, 20 pJ per byte, TDP 700 W.
  hardware hw = test::toy_hardware("toy", 1e15, 1e13, 1e12);
  hw.capacity = 1e12 * byte;
  hw.tdp_watts = 700;
  hw.interconnect.scale_up =
      roofline::link{.name = "toy link", .bandwidth = 1e11 * byte_per_second, .latency = {}, .gpus = 8};
  energy_coefficients e{.idle_w = 100, .pj_per_byte = 20};
  e.pj_per_flop[std::size_t(dtype::bf16)] = 0.5;
  hw.energy = e;
  SUBCASE("one GEMM: qkv of 4,096 tokens, 4,096 -> 12,288") {
    const model_spec m =
        test::one_mixer(4096, 32, attention_mixer{.n_heads = 32, .n_kv_heads = 32, .head_dim = 128});
    const op qkv = test::find_op(m, prefill_pass({.batch = 1, .prefill = 4096, .generate = 1}), "qkv_proj");
    // 2 x 4096 x 4096 x 12288 FLOPs; 4096 x 12288 x 2 B of weights, 4096 x (4096 + 12288) x 2 B of rows
    const double fl = 2.0 * 4096 * 4096 * 12288, by = 4096.0 * 12288 * 2 + 4096.0 * 16384 * 2;
    REQUIRE(qkv.work.value() == fl);
    REQUIRE(qkv.moved.total().value() == by);
    const phase_estimate p = detail::time_ops(hw, overlap::perfect, true, [&](auto&& f) { f(qkv); });
    CHECK(p.dynamic_j == doctest::Approx(fl * 0.5e-12 + by * 20e-12).epsilon(1e-12));  // 0.2062 + 0.0047 J
    // compute-bound: 412.3 us at 1 PFLOP/s; 0.2109 J + 100 W x 412.3 us = 0.2521 J, 611 W
    const layout one{};
    const auto [joules, at_tdp] = phase_energy(hw, one, p.time, p.dynamic_j, 1);
    CHECK(joules == doctest::Approx(p.dynamic_j + 100 * p.time.value()).epsilon(1e-12));
    CHECK_FALSE(at_tdp);
    CHECK(p.time.value() == doctest::Approx(fl / 1e15).epsilon(1e-12));
    hardware low = hw;
    low.tdp_watts = 400;  // the counts ask 611 W: the energy is 400 W x the time
    const auto [capped, at] = phase_energy(low, one, p.time, p.dynamic_j, 1);
    CHECK(at);
    CHECK(capped == doctest::Approx(400 * p.time.value()).epsilon(1e-12));
  }
  SUBCASE("a decode step of 4 sequences, on one GPU and on tp 2") {
    const model_spec m =
        test::stack("tiny", 8, 32, attention_mixer{.n_heads = 2, .n_kv_heads = 2, .head_dim = 4},
                    mlp_channel{.ffn_dim = 16}, 2);
    const workload w{.batch = 4, .prefill = 10, .generate = 5};
    const estimate_result r = estimate(m, hw, w);
    REQUIRE(r.energy);
    double dyn = 0;  // every op of the step: its FLOPs x 0.5 pJ + its bytes x 20 pJ
    for_each_op(m, decode_pass(w), [&](const op& o) {
      dyn += o.layers.count * (o.work.value() * 0.5e-12 + o.moved.total().value() * 20e-12);
    });
    CHECK(r.energy->step_j == doctest::Approx(dyn + 100 * r.step_time.value()).epsilon(1e-12));
    CHECK(r.energy->j_per_output_token == doctest::Approx(r.energy->step_j / 4).epsilon(1e-12));
    CHECK(r.energy->output_tokens_per_kwh ==
          doctest::Approx(3.6e6 / r.energy->j_per_output_token).epsilon(1e-12));
    CHECK(r.energy->decode_w <= 700);
    workload tp = w;
    tp.parallel.tp = 2;
    const estimate_result two = estimate(m, hw, tp);
    REQUIRE(two.energy);
    // two GPUs idle over the step, each running its rank's ops
    CHECK(two.energy->step_j ==
          doctest::Approx(2 * 100 * two.step_time.value() + 2 * two.decode.dynamic_j).epsilon(1e-12));
  }
  SUBCASE("a part without energy coefficients states none") {
    hardware none = hw;
    none.energy.reset();
    CHECK_FALSE(
        estimate(test::one_mixer(8, 32, attention_mixer{.n_heads = 2, .n_kv_heads = 2, .head_dim = 4}), none,
                 {.batch = 1, .prefill = 4, .generate = 2})
            .energy);
  }
}
