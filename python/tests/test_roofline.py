"""The Python module against the C++ programs and core it wraps.

Run by the test command: PYTHONPATH=build/python python3 -m pytest python/tests
(ROOFLINE_BUILD_DIR names the build whose programs are compared; default: build).
"""
import json
import math
import os
import subprocess

import numpy as np
import pytest

import roofline as rl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ROOFLINE_BUILD_DIR", os.path.join(ROOT, "build"))
H100 = os.path.join(ROOT, "hw_profiles", "h100_sxm.yaml")


def spec(name):
    return os.path.join(ROOT, "model_specs", name + ".yaml")


def stack(name):
    return os.path.join(ROOT, "stacks", name + ".yaml")


def program(name, *args):
    out = subprocess.run([os.path.join(BUILD, "examples", name), *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("model,stack_name,batch,prefill,generate,extra", [
    ("llama3.1_8b", "datasheet", 8, 4096, 256, []),
    ("xlstm_7b", "hf_transformers_h100", 4, 1000, 100, []),
    ("mixtral_8x7b", "datasheet", 16, 2048, 64, ["--tp", "2", "--ep", "2"]),
    ("llama3.1_70b", "trtllm_h100_sxm", 32, 4096, 128, ["--tp", "4", "--pp", "2"]),
    ("llama4_scout", "datasheet", 2, 300, 16, ["--images", "2", "--tp", "4"]),
])
def test_estimate_equals_the_estimate_program(model, stack_name, batch, prefill, generate, extra):
    want = program("estimate", "--model", spec(model), "--hw", H100, "--stack", stack(stack_name), "--batch", str(batch),
                   "--prefill", str(prefill), "--generate", str(generate), "--format", "json", *extra)
    layout = {k: int(v) for k, v in zip(extra[0::2], extra[1::2])}
    layout = {k.lstrip("-"): v for k, v in layout.items()}
    r = rl.estimate(rl.load_model(spec(model)), rl.load_hardware(H100, stack(stack_name)), batch=batch,
                    prefill=prefill, generate=generate, **layout)
    assert r.ttft_s == want["ttft_s"]
    assert r.step_time_s == want["step_time_s"]
    assert r.throughput_tokens_per_s == want["throughput_tokens_per_s"]
    assert r.memory.total_bytes == want["memory"]["total_bytes"]
    assert r.memory.fits == want["memory"]["fits"]
    assert r.prefill.bound == want["prefill"]["bound"]
    assert r.to_dict() == want


def test_speculate_equals_the_estimate_program():
    """a = 0.8, k = 3: 1 + 0.8 + 0.64 + 0.512 = 2.952 tokens a step; the rest as estimate --speculate prints it."""
    args = ["--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("vllm_h100_sxm"), "--batch", "4",
            "--prefill", "1024", "--generate", "128", "--speculate", "3", "--acceptance", "0.8", "--format", "json"]
    want = program("estimate", *args)["speculation"]
    got = rl.speculate(rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100, stack("vllm_h100_sxm")), k=3,
                       acceptance=0.8, batch=4, prefill=1024, generate=128)
    assert got["tokens_per_step"] == pytest.approx(2.952, rel=1e-12)
    for key in ["draft_s", "verify_s", "tpot_s", "plain_step_s", "draft_memory_bytes", "break_even_batch"]:
        assert got[key] == want[key]
    assert got["tpot_s"] < got["plain_step_s"]
    per_position = rl.speculate(rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100), k=2, acceptance=[0.9, 0.5])
    assert per_position["tokens_per_step"] == pytest.approx(1 + 0.9 + 0.45, rel=1e-12)
    with pytest.raises(rl.InputError, match="one per draft position"):
        rl.speculate(rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100), k=3, acceptance=[0.9, 0.5])


def test_energy_equals_the_estimate_program_and_stays_under_tdp():
    """The H100 states measured energy coefficients: joules per token as estimate --format json gives them."""
    args = ["--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("vllm_h100_sxm"), "--batch", "64",
            "--prefill", "1024", "--generate", "700", "--format", "json"]
    want = program("estimate", *args)["energy"]
    r = rl.estimate(rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100, stack("vllm_h100_sxm")), batch=64,
                    prefill=1024, generate=700)
    assert r.j_per_output_token == want["j_per_output_token"]
    assert r.energy == want
    assert want["j_per_output_token"] == pytest.approx(want["step_j"] / 64, rel=1e-12)
    assert want["decode_w_per_gpu"] <= 700 and want["prefill_w_per_gpu"] <= 700
    no_energy = rl.estimate(rl.load_model(spec("llama3.1_8b")), rl.load_hardware(os.path.join(ROOT, "hw_profiles", "b200.yaml")))
    assert no_energy.j_per_output_token is None and no_energy.energy is None


def test_a_huggingface_config_gives_the_estimate_of_its_spec():
    hw = rl.load_hardware(H100)
    a = rl.estimate(rl.load_model(spec("mixtral_8x7b")), hw, batch=4, prefill=512, generate=32)
    b = rl.estimate(rl.load_model(os.path.join(ROOT, "test", "data", "hf_configs", "mixtral_8x7b.json")), hw, batch=4,
                    prefill=512, generate=32)
    assert a.ttft_s == b.ttft_s
    assert a.step_time_s == b.step_time_s


def bad_inputs():
    folder = os.path.join(ROOT, "test", "bad_inputs")
    return sorted(os.path.join(folder, f) for f in os.listdir(folder))


@pytest.mark.parametrize("path", bad_inputs(), ids=os.path.basename)
def test_each_bad_input_raises_input_error_with_its_position(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline().rstrip("\n")
    assert first.startswith("# expect: ")
    expected = first[len("# expect: "):].replace("{file}", path)
    name = os.path.basename(path)
    with pytest.raises(rl.InputError) as e:
        if name.startswith(("model_", "hf_")):
            rl.load_model(path)
        elif name.startswith("stack_"):
            rl.load_hardware(H100, path)
        else:
            rl.load_hardware(path, stack("datasheet"))
    assert isinstance(e.value, ValueError)
    assert str(e.value) == expected


def test_workload_and_argument_errors_raise():
    m, hw = rl.load_model(spec("gpt2")), rl.load_hardware(H100)
    with pytest.raises(rl.InputError, match=r"^workload: prefill 1000 \+ generate 100 = 1100 tokens exceeds the maximum "
                                           r"context of model 'gpt2', 1024"):
        rl.estimate(m, hw, batch=1, prefill=1000, generate=100)
    with pytest.raises(rl.InputError, match="batch \\(0\\)"):
        rl.sweep(m, hw, batch=[1, 0], prefill=[128])
    with pytest.raises(rl.InputError, match="overlap"):
        rl.estimate(m, hw, prefill=128, generate=8, overlap="sometimes")
    with pytest.raises(rl.InputError, match="tp 5 does not divide the 12 query heads"):
        rl.estimate(m, hw, prefill=128, generate=8, tp=5)
    with pytest.raises(rl.InputError, match="phase"):
        rl.ops(m, hw, phase="train", prefill=128)


@pytest.mark.parametrize("stack_name", ["roofline", "hf_transformers_h100"])
def test_sweep_equals_estimates_point_by_point(stack_name):
    m, hw = rl.load_model(spec("llama3_8b")), rl.load_hardware(H100, stack(stack_name))
    s = rl.sweep(m, hw, batch=[1, 3, 8, 64], prefill=range(512, 8193, 1536), generate=[16, 256], frame=False)
    assert len(s["ttft_s"]) == 4 * 6 * 2
    for i in range(len(s["ttft_s"])):
        r = rl.estimate(m, hw, batch=int(s["batch"][i]), prefill=int(s["prefill"][i]), generate=int(s["generate"][i]))
        assert math.isclose(s["ttft_s"][i], r.ttft_s, rel_tol=1e-12)
        assert math.isclose(s["step_s"][i], r.step_time_s, rel_tol=1e-12)
        assert math.isclose(s["memory_gb"][i], r.memory.total_bytes / 1e9, rel_tol=1e-12)
        assert s["fits"][i] == r.fits
        assert s["prefill_bound"][i] == r.prefill.bound
        assert s["decode_bound"][i] == r.decode.bound
    # the batch fastest, then the prompt, then the generated length
    assert list(s["batch"][:5]) == [1, 3, 8, 64, 1]
    assert s["prefill"][4] == 2048
    assert isinstance(s["ttft_s"], np.ndarray)
    # numpy's integers are ints too
    one = rl.sweep(m, hw, batch=np.int64(3), prefill=np.int64(512), generate=16, frame=False)
    assert one["ttft_s"][0] == s["ttft_s"][1]


def test_ops_of_the_pure_roofline_add_up_to_the_pass():
    # pure roofline, perfect overlap, no overheads: the pass is the sum of its ops' times
    m, hw = rl.load_model(spec("llama3_8b")), rl.load_hardware(H100, stack("roofline"))
    for phase in ("prefill", "decode"):
        o = rl.ops(m, hw, phase=phase, batch=8, prefill=4096, generate=64, frame=False)
        r = rl.estimate(m, hw, batch=8, prefill=4096, generate=64)
        total = float(np.dot(np.asarray(o["layers"], float), o["time_s"]))
        assert math.isclose(total, getattr(r, phase).time_s, rel_tol=1e-12)
        assert "attention" in o["name"]
        # a decode step of Llama-3-8B reads its 32 layers' weights: 218,112,000 parameters a layer
        # (4096 x 6144 qkv, 4096 x 4096 out, 3 x 4096 x 14336 MLP, two norms), 2 bytes each
        if phase == "decode":
            layer_weights = sum(w * n for w, n, k in zip(o["weight_bytes"], o["layers"], o["kind"]) if k != "head"
                                and k != "embedding")
            assert layer_weights == 32 * 218112000 * 2


def test_compare_equals_the_compare_program():
    want = program("compare", "--models", spec("paper/xlstm_7b"), spec("paper/llama2_7b"), "--hw", H100,
                   "--batch", "1", "--generate", "100", "--prefill-range", "1024:65536", "--format", "json")
    got = rl.compare([rl.load_model(spec("paper/xlstm_7b")), rl.load_model(spec("paper/llama2_7b"))],
                     rl.load_hardware(H100), prefill=[p["prefill"] for p in want["points"]], batch=1, generate=100)
    assert got == want


def test_serve_equals_the_serve_program():
    want = program("serve", "--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("trtllm_h100_sxm"), "--isl",
                   "2048", "--osl", "256", "--concurrency", "32", "--tp", "2", "--format", "json")
    hw = rl.load_hardware(H100, stack("trtllm_h100_sxm"))
    got = rl.serve(rl.load_model(spec("llama3.1_8b")), hw, isl=2048, osl=256, concurrency=32, tp=2)
    assert got == want
    want = program("serve", "--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("trtllm_h100_sxm"), "--mode",
                   "disagg", "--prefill-tp", "2", "--decode-tp", "4", "--decode-workers", "2", "--format", "json")
    got = rl.serve(rl.load_model(spec("llama3.1_8b")), hw, mode="disagg", prefill={"tp": 2},
                   decode={"tp": 4, "workers": 2})
    assert got == want
    with pytest.raises(rl.InputError, match="unknown key 'tq'"):
        rl.serve(rl.load_model(spec("llama3.1_8b")), hw, mode="disagg", prefill={"tq": 2})


def test_simulate_equals_the_serve_program_simulating():
    hw = rl.load_hardware(H100, stack("vllm_h100_sxm"))
    model = rl.load_model(spec("llama3.1_8b"))
    want = program("serve", "--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("vllm_h100_sxm"), "--isl",
                   "1024", "--osl", "128", "--request-rate", "8", "--osl-dist", "uniform:64:256", "--requests", "300",
                   "--seed", "3", "--ttft-ms", "200", "--format", "json")
    got = rl.simulate(model, hw, isl=1024, osl=128, request_rate=8, osl_dist="uniform:64:256", requests=300, seed=3,
                      ttft_ms=200)
    assert got == want
    assert got["load"]["requests"] == 300
    # a closed loop of one user: every request alone, its decode steps alike (TPOT p50 = p99)
    one = rl.simulate(model, hw, isl=512, osl=32, osl_dist="fixed", concurrency=1, requests=20, timeline=True)
    assert one["tpot_ms"]["p50"] == pytest.approx(one["tpot_ms"]["p99"], rel=1e-9)
    assert len(one["timeline"]) == one["iterations"]
    # by default outputs are drawn within 5 % of osl (round(0.95 x 100) to round(1.05 x 100))
    assert rl.simulate(model, hw, isl=512, osl=100, concurrency=4, requests=40)["load"]["osl"] == \
        "benchmark: uniform:95:105"

    assert all(p["prefill_tokens"] + p["decode_tokens"] <= 8192 for p in one["timeline"])
    with pytest.raises(rl.InputError, match="think_time is for a closed loop"):
        rl.simulate(model, hw, request_rate=8, think_time=2)
    with pytest.raises(rl.InputError, match="needs request_rate"):
        rl.simulate(model, hw, arrivals="gamma:2")
    with pytest.raises(rl.InputError, match="uniform:LO:HI needs 1 <= LO <= HI"):
        rl.simulate(model, hw, isl_dist="uniform:9:3")


def test_best_deployment_equals_the_best_deployment_program():
    want = program("best_deployment", "--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("trtllm_h100_sxm"),
                   "--gpus", "2", "--isl", "1024", "--osl", "128", "--max-concurrency", "16", "--tpot-ms", "30",
                   "--format", "json")
    got = rl.best_deployment(rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100, stack("trtllm_h100_sxm")),
                             gpus=2, isl=1024, osl=128, max_concurrency=16, tpot_ms=30)
    assert got == want["models"][0]
    assert got["best"]["tpot_ms"] <= 30
    # an engine stack's interval: its end-to-end spread of TTFT and TPOT, around the best point
    assert got["best_interval"]["from"] == "the stack's end-to-end spread"
    lo, hi = got["best_interval"]["tpot_ms"]
    assert lo < got["best"]["tpot_ms"] < hi
    # every frontier point its own: its TPOT times the same factors of the stack's spread
    for p in got["frontier"]:
        assert p["interval"]["tpot_ms"][0] / p["tpot_ms"] == pytest.approx(lo / got["best"]["tpot_ms"])
        assert p["interval"]["tpot_ms"][1] / p["tpot_ms"] == pytest.approx(hi / got["best"]["tpot_ms"])
    args = ("--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("torch_kernels_h100"), "--gpus", "2",
            "--isl", "1024", "--osl", "128", "--max-concurrency", "16", "--format", "json")
    kernels = rl.best_deployment(rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100, stack("torch_kernels_h100")),
                                 gpus=2, isl=1024, osl=128, max_concurrency=16)
    assert kernels == program("best_deployment", *args)["models"][0]
    lo, hi = kernels["best_interval"]["tpot_ms"]
    assert lo < kernels["best"]["tpot_ms"] < hi
    assert kernels["best_interval"]["from"] == "the kernel table's spread"


def test_training_flops_of_llama2_7b_are_6_x_its_linear_weights_plus_attention():
    # linear layers: 6 x (6,738,415,616 parameters less the 32000 x 4096 embedding and 65 norms of
    # 4096); attention at T = 4096: 3 x 32 layers x 0.65 x T x 2 H (d_qk + d_v + 5/2), H = 32
    m = rl.load_model(spec("llama2_7b"))
    linear = 6 * (6_738_415_616 - 32000 * 4096 - 65 * 4096)
    attention = 3 * 32 * 0.65 * 4096 * 2 * 32 * 258.5
    assert rl.training_flops_per_token(m, 4096) == pytest.approx(linear + attention, rel=1e-9)


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_no_leak_over_a_hundred_thousand_calls():
    m, hw = rl.load_model(spec("llama3_8b")), rl.load_hardware(H100)
    for i in range(10_000):  # warm up: allocator pools, caches
        rl.estimate(m, hw, batch=1 + i % 64, prefill=512, generate=32)
    before = resident_bytes()
    for i in range(100_000):
        r = rl.estimate(m, hw, batch=1 + i % 64, prefill=512, generate=32)
        assert r.step_time_s > 0
    grown = resident_bytes() - before
    assert grown < 1 << 20, f"resident memory grew by {grown} bytes over 100,000 estimates"


def test_a_kernel_stack_gives_the_p10_p90_interval_the_estimate_program_prints(tmp_path):
    # the datasheet stack with the test's small GEMM table and a stated spread
    text = open(stack("datasheet")).read() + (
        "  kernels:\n    table: " + os.path.join(ROOT, "test", "data", "kernels", "small.csv") +
        "\n    measured_on: " + H100 + "\n    spread:\n      gemm: {p10: 0.9, p90: 1.2, points: 5}\n")
    path = tmp_path / "kernels.yaml"
    path.write_text(text)
    want = program("estimate", "--model", spec("llama3.1_8b"), "--hw", H100, "--stack", str(path), "--batch", "4",
                   "--prefill", "512", "--generate", "16", "--format", "json")
    r = rl.estimate(rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100, str(path)), batch=4, prefill=512,
                    generate=16)
    assert r.prefill.time_p10_s == want["interval"]["ttft_p10_s"]
    assert r.decode.time_p90_s == want["interval"]["step_p90_s"]
    assert r.prefill.time_p10_s < r.ttft_s < r.prefill.time_p90_s


def test_serve_and_simulate_give_a_kernel_stacks_interval_as_the_program_does():
    hw = rl.load_hardware(H100, stack("torch_kernels_h100"))
    model = rl.load_model(spec("llama3.1_8b"))
    args = ("--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("torch_kernels_h100"), "--isl", "1024",
            "--osl", "128", "--concurrency", "8", "--format", "json")
    got = rl.serve(model, hw, isl=1024, osl=128, concurrency=8)
    assert got == program("serve", *args)
    lo, hi = got["interval"]["ttft_ms"]
    assert lo < got["ttft_ms"] < hi
    sim = rl.simulate(model, hw, isl=1024, osl=128, concurrency=8, requests=200)
    assert sim == program("serve", *args, "--simulate", "--requests", "200")
    assert "interval" in sim


def test_an_fp8_kv_cache_holds_half_the_bytes_of_bf16():
    # Llama-3.1-8B, batch 8, 4,096 + 100 tokens: 32 x 8 x 128 x 2 elements a token, 2 B in bf16
    bf16 = rl.estimate(rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100), batch=8, prefill=4096,
                       generate=100)
    fp8 = rl.estimate(rl.load_model(spec("llama3.1_8b"), kv_format="fp8"), rl.load_hardware(H100), batch=8,
                      prefill=4096, generate=100)
    assert bf16.memory.kv_cache_bytes == 8 * 4196 * 32 * 8 * 128 * 2 * 2
    assert fp8.memory.kv_cache_bytes == bf16.memory.kv_cache_bytes / 2
    with pytest.raises(rl.InputError, match="kv_format: 'bf16', 'fp8' or 'nvfp4', not 'fp16'"):
        rl.load_model(spec("llama3.1_8b"), kv_format="fp16")


def test_simulate_with_prefix_caching_equals_the_program():
    hw = rl.load_hardware(H100, stack("vllm_h100_sxm"))
    model = rl.load_model(spec("llama3.1_8b"))
    args = ("--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("vllm_h100_sxm"), "--isl", "2048", "--osl",
            "128", "--concurrency", "16", "--requests", "200", "--format", "json")
    got = rl.simulate(model, hw, isl=2048, osl=128, concurrency=16, requests=200, prefix_tokens=1536,
                      prefix_hit_rate=0.5)
    assert got == program("serve", *args, "--prefix-tokens", "1536", "--prefix-hit-rate", "0.5")
    # all but the first iteration's 4 prompts (8,192 tokens, vLLM's budget) find 1,536 + 0.5 x 512 =
    # 1,792 tokens (112 pages of vLLM's 16): the prefix is cached once the first iteration ends
    assert got["prefix_found"] == pytest.approx(196 * 1792 / (200 * 2048), rel=1e-12)
    assert got["shared_prefix_gb"] == pytest.approx(1536 * 131072 / 1e9, rel=1e-12)
    plain = rl.simulate(model, hw, isl=2048, osl=128, concurrency=16, requests=200)
    assert got["ttft_ms"]["mean"] < plain["ttft_ms"]["mean"]
    with pytest.raises(rl.InputError, match="not longer than the shared prefix"):
        rl.simulate(model, hw, isl=1024, prefix_tokens=1024)


def test_simulate_with_speculation_equals_the_program():
    hw = rl.load_hardware(H100, stack("vllm_h100_sxm"))
    model = rl.load_model(spec("llama3.1_8b"))
    args = ("--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("vllm_h100_sxm"), "--isl", "1024", "--osl",
            "256", "--concurrency", "4", "--requests", "40", "--format", "json", "--simulate")
    got = rl.simulate(model, hw, isl=1024, osl=256, concurrency=4, requests=40, speculate=3, acceptance=0.8)
    assert got == program("serve", *args, "--speculate", "3", "--acceptance", "0.8")
    assert got["speculation"]["expected_tokens_per_step"] == pytest.approx(1 + 0.8 + 0.64 + 0.512, rel=1e-12)
    plain = rl.simulate(model, hw, isl=1024, osl=256, concurrency=4, requests=40)
    assert plain["speculation"] is None
    assert got["tpot_ms"]["mean"] < plain["tpot_ms"]["mean"]
    with pytest.raises(rl.InputError, match="give acceptance"):
        rl.simulate(model, hw, speculate=3)
    with pytest.raises(rl.InputError, match="go with speculate"):
        rl.simulate(model, hw, acceptance=0.5)


def test_serve_with_speculation_equals_the_program_and_the_simulator_nearly():
    hw = rl.load_hardware(H100, stack("vllm_h100_sxm"))
    model = rl.load_model(spec("llama3.1_8b"))
    args = ("--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("vllm_h100_sxm"), "--isl", "1024", "--osl",
            "256", "--concurrency", "8", "--format", "json", "--speculate", "3", "--acceptance", "0.8")
    got = rl.serve(model, hw, isl=1024, osl=256, concurrency=8, speculate=3, acceptance=0.8)
    assert got == program("serve", *args)
    assert got["speculation"]["tokens_per_step"] == pytest.approx(2.952, rel=1e-12)
    sim = rl.simulate(model, hw, isl=1024, osl=256, concurrency=8, requests=200, speculate=3, acceptance=0.8)
    # the closed form's steady state and the simulated scheduler: TPOT within 5 % (3.94 and 4.01 ms)
    assert got["tpot_ms"] == pytest.approx(sim["tpot_ms"]["mean"], rel=0.05)
    assert got["tpot_ms"] < rl.serve(model, hw, isl=1024, osl=256, concurrency=8)["tpot_ms"] / 2


def test_best_deployment_simulated_with_speculation_and_a_prefix_equals_the_program():
    args = ("--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("vllm_h100_sxm"), "--gpus", "2", "--isl",
            "1024", "--osl", "128", "--max-concurrency", "8", "--mode", "agg", "--tpot-ms", "10", "--format", "json")
    model, hw = rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100, stack("vllm_h100_sxm"))
    got = rl.best_deployment(model, hw, gpus=2, isl=1024, osl=128, max_concurrency=8, mode="agg", tpot_ms=10,
                             simulate=True, percentile=90, prefix_tokens=512, speculate=2, acceptance=0.7)
    want = program("best_deployment", *args, "--simulate", "--percentile", "90", "--prefix-tokens", "512",
                   "--speculate", "2", "--acceptance", "0.7")
    assert got == want["models"][0]
    assert got["best"]["tpot_ms"] <= 10
    with pytest.raises(rl.InputError, match="simulator only"):
        rl.best_deployment(model, hw, prefix_tokens=512)


def test_models_parts_and_engines_by_name_are_their_files():
    by_name = rl.estimate(rl.load_model("meta-llama/Llama-3.1-8B-Instruct"), rl.load_hardware("h100", engine="vllm"),
                          batch=4, prefill=512, generate=16)
    by_file = rl.estimate(rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100, stack("vllm_h100_sxm")),
                          batch=4, prefill=512, generate=16)
    assert by_name.to_dict() == by_file.to_dict()
    assert rl.load_hardware("b200", stack="sglang_b200_sxm").name == "NVIDIA B200 (HGX B200, 1000 W)"
    parts = {p["name"]: p for p in rl.list_shipped("parts")}
    assert "h100" in parts["h100_sxm"]["names"]
    assert {s["engine"] for s in rl.list_shipped("stacks")} >= {"vllm", "sglang", "trtllm"}
    with pytest.raises(rl.InputError, match=r"closest: llama3.1_8b, llama3_8b, llama3.1_70b"):
        rl.load_model("llama3.1-8c")
    with pytest.raises(rl.InputError, match="engine and stack: give one"):
        rl.load_hardware("h100", stack="datasheet", engine="vllm")


def test_best_deployment_takes_the_energy_target_and_formats_the_program_takes():
    args = ("--model", spec("llama3.1_8b"), "--hw", H100, "--stack", stack("trtllm_h100_sxm"), "--gpus", "2",
            "--isl", "1024", "--osl", "128", "--max-concurrency", "32", "--format", "json")
    model, hw = rl.load_model(spec("llama3.1_8b")), rl.load_hardware(H100, stack("trtllm_h100_sxm"))
    plain = rl.best_deployment(model, hw, gpus=2, isl=1024, osl=128, max_concurrency=32)
    # a target between the frontier's lowest and highest joules per token binds
    joules = sorted(p["j_per_output_token"] for p in plain["frontier"])
    target = (joules[0] + joules[-1]) / 2
    got = rl.best_deployment(model, hw, gpus=2, isl=1024, osl=128, max_concurrency=32, joules_per_token=target,
                             kv_format="fp8", quant="fp8")
    want = program("best_deployment", *args, "--joules-per-token", str(target), "--kv-format", "fp8", "--quant", "fp8")
    assert got == want["models"][0]
    assert got["best"]["j_per_output_token"] <= target
    # the model passed in keeps its formats
    assert rl.best_deployment(model, hw, gpus=2, isl=1024, osl=128, max_concurrency=32) == plain
    with pytest.raises(rl.InputError, match="quant 'fp9': not a modelled format"):
        rl.best_deployment(model, hw, quant="fp9")


def test_one_default_policy_and_workload_in_python_and_the_programs():
    """Nothing given but names: the programs' defaults (xLSTM-7B on an H100 SXM, the datasheet stack,
    8 x 16,384 + 100 tokens) and Python's are the same estimate and the same best deployment."""
    h100 = rl.load_hardware("h100")
    assert h100.stack == "datasheet"
    assert rl.estimate(rl.load_model("xlstm_7b"), h100).to_dict() == program("estimate", "--format", "json")
    r = rl.estimate(rl.load_model("xlstm_7b"), h100)
    assert (r.to_dict()["workload"]["batch"], r.to_dict()["workload"]["prefill"]) == (8, 16384)
    want = program("best_deployment", "--model", "llama3.1_8b", "--gpus", "1", "--isl", "1024", "--osl", "128",
                   "--max-concurrency", "8", "--format", "json")
    got = rl.best_deployment(rl.load_model("llama3.1_8b"), h100, gpus=1, isl=1024, osl=128, max_concurrency=8)
    assert got == want["models"][0]
    assert "datasheet" in json.dumps(want)
