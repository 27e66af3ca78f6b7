#!/usr/bin/env python3
"""Measure single GPU kernels by shape, for `roofline calibrate --kernels` and `roofline kernel`.

Times the kernels an LLM's forward pass is made of, one shape at a time, on a CUDA GPU with
PyTorch alone: cuBLAS GEMMs in bf16 (F.linear) and fp8 (torch._scaled_mm, per-tensor scales,
bf16 output), grouped MoE GEMMs (torch._grouped_mm, bf16), fused causal prefill attention and
one-token decode attention with grouped KV heads (scaled_dot_product_attention on its flash
backend, cuDNN's where flash refuses a shape), RMSNorm (F.rms_norm) and device copies. Two sets of shapes:
  grid      full tensor-product grids in powers of two (the table roofline interpolates),
  held_out  shapes off the grid's points (drawn with --seed), to measure the interpolation.
Each time is the median of 7 timed replays of a CUDA graph holding n calls (n chosen so a replay
takes about a millisecond; one call for kernels over 2 ms), timed with CUDA events, divided by
n. The calls cycle through copies of their inputs so that at least 256 MB is read between two
reads of one copy (up to 256 copies; the 50 MB L2 never holds a kernel's operands across calls, as it does not
when a model's layers run one after another). Inputs are random normal (zeros run faster).

Writes the CSV that `roofline kernel --ops` reads, plus `set` and `measured_s` columns, and a
JSON of the environment (GPU, driver, clocks, PyTorch, CUDA, date).

  python3 examples/measure/kernels.py --out h100_kernels.csv --env h100_kernels_env.json
  python3 examples/measure/kernels.py --quick --out /tmp/k.csv --env /tmp/k.json   # small grids
"""
import argparse, csv, datetime, json, math, platform, random, statistics, subprocess, sys, time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

COLUMNS = ["kind", "format", "m", "n", "k", "batch", "q_len", "kv_len", "heads", "kv_heads",
           "head_dim", "experts", "tokens_per_expert", "bytes", "set", "measured_s"]
ROTATE_BYTES = 256 << 20  # bytes read between two reads of one input copy (5x the H100's L2)
DEV = "cuda"
BACKENDS = [SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION]  # flash; cuDNN where flash refuses


def pow2(lo, hi):
    return [1 << e for e in range(int(math.log2(lo)), int(math.log2(hi)) + 1)]


# ---------------------------------------------------------------- timing
def time_calls(calls, in_bytes, out_bytes):
    """Median seconds of one call; calls(i) runs the op on input copy i."""
    copies = max(1, min(256, math.ceil(ROTATE_BYTES / max(in_bytes, 1))))
    run = calls(copies)
    run(0)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    run(0)
    end.record()
    end.synchronize()
    once = start.elapsed_time(end) * 1e-3
    if once > 2e-3:  # long kernels: launch gaps are negligible, time them one by one
        samples = []
        for i in range(5):
            start.record()
            run(i % copies)
            end.record()
            end.synchronize()
            samples.append(start.elapsed_time(end) * 1e-3)
        return statistics.median(samples)
    n = max(1, min(256, max(copies, round(1e-3 / max(once, 1e-6))), (2 << 30) // max(out_bytes, 1)))
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up on a side stream, as graph capture asks
        for i in range(3):
            run(i % copies)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(n):
            run(i % copies)
    for _ in range(3):
        graph.replay()
    samples = []
    for _ in range(7):
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) * 1e-3 / n)
    del graph
    return statistics.median(samples)


def randn(*shape, dtype=torch.bfloat16):
    x = torch.randn(*shape, device=DEV, dtype=torch.bfloat16)
    return x if dtype == torch.bfloat16 else x.to(dtype)


# ---------------------------------------------------------------- kernels
def gemm(m, n, k, fmt):
    def calls(copies):
        if fmt == "bf16":
            a = [randn(m, k) for _ in range(copies)]
            w = [randn(n, k) for _ in range(copies)]
            return lambda i: F.linear(a[i], w[i])
        a = [randn(m, k).to(torch.float8_e4m3fn) for _ in range(copies)]
        w = [randn(n, k).to(torch.float8_e4m3fn) for _ in range(copies)]
        one = torch.ones((), device=DEV, dtype=torch.float32)
        return lambda i: torch._scaled_mm(a[i], w[i].t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)

    size = 1 if fmt == "fp8" else 2
    return time_calls(calls, (m * k + n * k) * size, m * n * 2)


def grouped_gemm(experts, t, n, k):
    def calls(copies):
        a = [randn(experts * t, k) for _ in range(copies)]
        w = [randn(experts, n, k) for _ in range(copies)]
        offs = torch.arange(1, experts + 1, device=DEV, dtype=torch.int32) * t
        return lambda i: torch._grouped_mm(a[i], w[i].transpose(-2, -1), offs=offs, out_dtype=torch.bfloat16)

    return time_calls(calls, (experts * t * k + experts * n * k) * 2, experts * t * n * 2)


def prefill(batch, t, heads, kv_heads, d):
    def calls(copies):
        q = [randn(batch, heads, t, d) for _ in range(copies)]
        kv = [(randn(batch, kv_heads, t, d), randn(batch, kv_heads, t, d)) for _ in range(copies)]

        def run(i):
            with sdpa_kernel(BACKENDS):
                return F.scaled_dot_product_attention(q[i], *kv[i], is_causal=True, enable_gqa=True)

        return run

    size = batch * t * d * 2
    return time_calls(calls, size * (heads + 2 * kv_heads), size * heads)


def decode(batch, kv_len, heads, kv_heads, d):
    def calls(copies):
        q = [randn(batch, heads, 1, d) for _ in range(copies)]
        kv = [(randn(batch, kv_heads, kv_len, d), randn(batch, kv_heads, kv_len, d)) for _ in range(copies)]

        def run(i):
            with sdpa_kernel(BACKENDS):
                return F.scaled_dot_product_attention(q[i], *kv[i], enable_gqa=True)

        return run

    return time_calls(calls, batch * kv_heads * kv_len * d * 4, batch * heads * d * 2)


def norm(rows, width):
    def calls(copies):
        x = [randn(rows, width) for _ in range(copies)]
        w = randn(width)
        return lambda i: F.rms_norm(x[i], (width,), w, 1e-6)

    return time_calls(calls, rows * width * 2, rows * width * 2)


def copy(elements):
    def calls(copies):  # sources and destinations both rotate: a copy writes memory no call just wrote
        src = [randn(elements) for _ in range(copies)]
        dst = [torch.empty(elements, device=DEV, dtype=torch.bfloat16) for _ in range(copies)]
        return lambda i: dst[i].copy_(src[i])

    return time_calls(calls, elements * 4, elements * 2)


# ---------------------------------------------------------------- shapes
# (heads, kv_heads, head_dim) of the attention tables: Llama-3.1-8B and Qwen3-8B (32, 8, 128),
# Llama-3.1-70B (64, 8, 128), gpt-oss (64, 8, 64), 8B at tp 4 (8, 2, 128).
ATTENTION_KEYS = [(32, 8, 128), (64, 8, 128), (64, 8, 64), (8, 2, 128)]
GROUPED_EXPERTS = [8, 32, 128]


def grids(quick):
    m_axis = pow2(1, 16384) if not quick else [1, 64, 4096]
    n_axis = pow2(256, 131072) if not quick else [256, 4096]
    k_axis = pow2(256, 32768) if not quick else [256, 4096]
    for fmt in ("bf16", "fp8"):
        for m in m_axis:
            for n in n_axis:
                for k in k_axis:
                    yield dict(kind="gemm", format=fmt, m=m, n=n, k=k)
    for e in GROUPED_EXPERTS if not quick else [8]:
        for t in (pow2(1, 4096) if not quick else [1, 64]):
            for n in (pow2(512, 8192) if not quick else [512, 2048]):
                for k in (pow2(512, 8192) if not quick else [512, 2048]):
                    yield dict(kind="grouped_gemm", format="bf16", experts=e, tokens_per_expert=t, n=n, k=k)
    for h, hkv, d in ATTENTION_KEYS if not quick else ATTENTION_KEYS[:1]:
        for b in (pow2(1, 32) if not quick else [1, 4]):
            for t in (pow2(64, 32768) if not quick else [128, 2048]):
                yield dict(kind="attention_prefill", format="bf16", batch=b, q_len=t, kv_len=t, heads=h,
                           kv_heads=hkv, head_dim=d)
        for b in (pow2(1, 256) if not quick else [1, 16]):
            for L in (pow2(128, 65536) if not quick else [128, 4096]):
                yield dict(kind="attention_decode", format="bf16", batch=b, kv_len=L, heads=h, kv_heads=hkv,
                           head_dim=d)
    for rows in (pow2(1, 65536) if not quick else [1, 1024]):
        yield dict(kind="norm", format="bf16", bytes=4 * rows * 4096)
    for e in (pow2(1 << 10, 1 << 28) if not quick else [1 << 10, 1 << 20]):
        yield dict(kind="copy", format="bf16", bytes=4 * e)


# (n, k) of dense GEMMs of shipped models at tensor parallelism 1, 2, 4, 8: Llama-3.1-8B and
# 70B (qkv, o, gate_up, down, lm head), Qwen3-32B (qkv, gate_up, down)
MODEL_NK = [(6144, 4096), (4096, 4096), (28672, 4096), (4096, 14336), (128256, 4096),
            (10240, 8192), (8192, 8192), (57344, 8192), (8192, 28672), (10240, 5120), (51200, 5120),
            (5120, 25600)]
# (experts, n, k) of MoE layers: gpt-oss-120b gate_up and down, Qwen3-30B-A3B, Mixtral 8x7B
MODEL_MOE = [(128, 5760, 2880), (128, 2880, 2880), (128, 1536, 2048), (128, 2048, 768),
             (8, 28672, 4096), (8, 4096, 14336), (32, 5760, 2880)]


def loguniform(rng, lo, hi, multiple=1):
    while True:
        v = int(round(math.exp(rng.uniform(math.log(lo), math.log(hi))) / multiple)) * multiple
        if lo <= v <= hi and v & (v - 1):  # off the powers of two
            return v


def held_out(rng, count):
    for i in range(count):
        fmt = "bf16" if i % 3 else "fp8"
        m = loguniform(rng, 3, 16000)
        if i % 2:
            n, k = rng.choice(MODEL_NK)
            tp = rng.choice([1, 2, 4, 8])
            n, k = (n // tp, k) if rng.random() < 0.5 else (n, k // tp)
        else:
            n, k = loguniform(rng, 300, 120000, 64), loguniform(rng, 300, 30000, 64)
        if 2 * m * n * k > 2e14:  # keep each point under ~0.3 s
            m = max(3, int(2e14 / (2 * n * k)))
        yield dict(kind="gemm", format=fmt, m=m, n=n, k=k)
    for i in range(count // 3):
        e, n, k = rng.choice(MODEL_MOE)
        t = loguniform(rng, 3, 4000)
        if e * t * n * k * 2 > 1e14:
            t = max(3, int(1e14 / (2 * e * n * k)))
        yield dict(kind="grouped_gemm", format="bf16", experts=e, tokens_per_expert=t, n=n, k=k)
    for i in range(count // 3):
        h, hkv, d = ATTENTION_KEYS[i % len(ATTENTION_KEYS)]
        t = loguniform(rng, 100, 30000)
        b = loguniform(rng, 1, 30) if rng.random() < 0.5 else rng.choice([1, 2, 4, 8, 16])
        b = max(1, min(b, 32768 // t * 4))
        yield dict(kind="attention_prefill", format="bf16", batch=b, q_len=t, kv_len=t, heads=h, kv_heads=hkv,
                   head_dim=d)
    for i in range(count // 3):
        h, hkv, d = ATTENTION_KEYS[i % len(ATTENTION_KEYS)]
        b = loguniform(rng, 3, 250) if rng.random() < 0.7 else rng.choice([1, 2, 4, 8, 16, 64])
        L = loguniform(rng, 130, 60000)
        yield dict(kind="attention_decode", format="bf16", batch=b, kv_len=L, heads=h, kv_heads=hkv, head_dim=d)
    for i in range(count // 10):
        rows = loguniform(rng, 3, 60000)
        yield dict(kind="norm", format="bf16", bytes=4 * rows * 4096)
        e = loguniform(rng, 1100, 250000000, 64)  # whole 128-byte lines, as a model's tensors are
        yield dict(kind="copy", format="bf16", bytes=4 * e)


def measure(s):
    k = s["kind"]
    if k == "gemm":
        return gemm(s["m"], s["n"], s["k"], s["format"])
    if k == "grouped_gemm":
        return grouped_gemm(s["experts"], s["tokens_per_expert"], s["n"], s["k"])
    if k == "attention_prefill":
        return prefill(s["batch"], s["q_len"], s["heads"], s["kv_heads"], s["head_dim"])
    if k == "attention_decode":
        return decode(s["batch"], s["kv_len"], s["heads"], s["kv_heads"], s["head_dim"])
    if k == "norm":  # rows of 4096 (Llama-3.1-8B's width): bytes = 4 rows 4096 (bf16 read and written)
        return norm(s["bytes"] // (4 * 4096), 4096)
    return copy(s["bytes"] // 4)


# ---------------------------------------------------------------- environment
def environment():
    def smi(query):
        try:
            out = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
            return out.splitlines()[0] if out else None
        except (OSError, subprocess.SubprocessError):
            return None

    p = torch.cuda.get_device_properties(0)
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "gpu": torch.cuda.get_device_name(0), "compute_units": p.multi_processor_count,
            "memory_bytes": p.total_memory, "driver": smi("driver_version"),
            "clocks_max": smi("clocks.max.sm,clocks.max.memory"), "power_limit": smi("power.limit"),
            "torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
            "python": platform.python_version(), "host": platform.node(),
            "method": "CUDA graph of n calls cycling input copies (>= 256 MB apart), median of 7 replays / n; "
                      "kernels over 2 ms: median of 5 single calls; random normal inputs"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--env", required=True)
    ap.add_argument("--quick", action="store_true", help="small grids, to check the script")
    ap.add_argument("--kinds", default="gemm,grouped_gemm,attention_prefill,attention_decode,norm,copy")
    ap.add_argument("--held-out", type=int, default=240, help="off-grid GEMM shapes; other kinds a third")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget-s", type=float, default=540, help="stop measuring (and write) after this")
    a = ap.parse_args()
    kinds = set(a.kinds.split(","))
    torch.manual_seed(a.seed)
    grid = [dict(s, set="grid") for s in grids(a.quick) if s["kind"] in kinds]
    held = [dict(s, set="held_out") for s in held_out(random.Random(a.seed), a.held_out // (8 if a.quick else 1))
            if s["kind"] in kinds]
    # cheap kinds first, fp8 GEMMs last: what the time budget leaves out is the least needed
    order = ["norm", "copy", "attention_decode", "attention_prefill", "gemm", "grouped_gemm"]
    rank = lambda s: (s["format"] == "fp8", order.index(s["kind"]))
    shapes = sorted([s for s in grid + held if s["format"] != "fp8"], key=lambda s: (s["set"] == "held_out", rank(s)))
    shapes += [s for s in grid + held if s["format"] == "fp8"]
    with open(a.env, "w") as f:  # written again at the end, with the failures and the time taken
        json.dump(environment(), f, indent=1)
    began, failures = time.time(), {}
    counts = {}
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, restval="")
        w.writeheader()
        for i, s in enumerate(shapes):
            if time.time() - began > a.budget_s:
                print(f"budget of {a.budget_s} s spent: {len(shapes) - i} shapes left unmeasured", file=sys.stderr)
                break
            try:
                t = measure(s)
            except (RuntimeError, ValueError) as e:  # unsupported shape or out of memory: recorded empty
                key = (s["kind"], s["format"], str(e).splitlines()[0][:160])
                failures[key] = failures.get(key, 0) + 1
                t = None
                torch.cuda.empty_cache()
            w.writerow(dict(s, measured_s="" if t is None else f"{t:.6e}"))
            f.flush()
            c = counts.setdefault((s["kind"], s["format"], s["set"]), [0, 0])
            c[t is None] += 1
            if i % 200 == 0:
                print(f"{i}/{len(shapes)} {time.time() - began:.0f} s", file=sys.stderr, flush=True)
    env = environment()
    env["failures"] = [f"{k[0]} {k[1]}: {n} shapes: {k[2]}" for k, n in failures.items()]
    env["seconds"] = round(time.time() - began, 1)
    with open(a.env, "w") as f:
        json.dump(env, f, indent=1)
    print(json.dumps(env, indent=1))
    for key, (ok, bad) in sorted(counts.items()):
        print(*key, ok, "measured", bad, "failed")


if __name__ == "__main__":
    main()
