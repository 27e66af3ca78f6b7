#!/usr/bin/env python3
"""The C++ sweep against a vectorised NumPy implementation of the same pure roofline.

    python3 bench/sweep_vs_numpy.py [--build build] [--runs 5] [--estimates 10000000]

Grid: batch 1..256 in powers of two x 41 prompt lengths 128..131,072 (a quarter-octave apart),
generate 128: 369 workloads, repeated to about --estimates estimates. For each model
(llama3_8b, xlstm_7b) it runs, interleaved, --runs times each: NumPy (one thread: elementwise
ufuncs are single-threaded), `sweep --threads 1` and `sweep --threads 2` (pure roofline,
perfect overlap), and `sweep --threads 1` with the calibrated H100 stack at its own overlap
(smooth); prints the median rates and their ratios to NumPy's. Checks first that NumPy's and
the sweep's sums of TTFT and step time over the grid agree (the same computation).
A benchmark, not a test: rates depend on the machine.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy_roofline  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# glibc serves blocks above its mmap threshold (128 KiB at first) by mmap, a page fault per page
# of every NumPy temporary; freeing one large mmapped block raises the threshold to its size, so
# NumPy's temporaries come from the heap, as in any long-running NumPy process (measured here:
# 1.0-1.7 M/s before, 18-22 M/s after)
_warm = np.ones(1 << 21)  # 16 MiB: at most glibc's largest threshold, 32 MiB
del _warm
BATCHES = [2 ** i for i in range(9)]
PROMPTS = [int(round(128 * 2 ** (i / 4))) for i in range(41)]
GENERATE = 128


def numpy_rate(model, estimates):
    """Estimates per second of the NumPy implementation over the grid tiled to `estimates`
    points, in chunks of 128 grids (47,232 points: its arrays stay in cache and the ufuncs'
    per-call overhead is amortised; the fastest chunk size measured here, against a million
    points' 1.1 M/s)."""
    b, p = np.meshgrid(np.array(BATCHES, float), np.array(PROMPTS, float), indexing="xy")
    b, p = b.ravel(), p.ravel()
    tiles = 128
    bt, pt = np.tile(b, tiles), np.tile(p, tiles)
    g = np.full(bt.size, float(GENERATE))
    chunks = max(1, estimates // bt.size)
    start = time.perf_counter()
    total = 0.0
    for _ in range(chunks):
        ttft, step = numpy_roofline.estimate(model, bt, pt, g)
        total += ttft[0] + step[0]
    seconds = time.perf_counter() - start
    return chunks * bt.size / seconds


def sweep(build, model, threads, repeat, stack="roofline", overlap="perfect"):
    cmd = [os.path.join(build, "examples", "sweep"), "--model", os.path.join(ROOT, "model_specs", model + ".yaml"),
           "--hw", os.path.join(ROOT, "hw_profiles", "h100_sxm.yaml"),
           "--stack", os.path.join(ROOT, "stacks", stack + ".yaml"),
           "--batch", ",".join(map(str, BATCHES)), "--prefill", ",".join(map(str, PROMPTS)),
           "--generate", str(GENERATE), "--threads", str(threads), "--repeat", str(repeat), "--format", "json"]
    if overlap:
        cmd += ["--overlap", overlap]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--estimates", type=int, default=10_000_000)
    a = ap.parse_args()
    grid = len(BATCHES) * len(PROMPTS)
    repeat = max(1, a.estimates // grid)
    print(f"grid: {len(BATCHES)} batches x {len(PROMPTS)} prompts, generate {GENERATE}: {grid} workloads; "
          f"{repeat} repeats = {repeat * grid:,} estimates per run; {a.runs} interleaved runs")
    for model in numpy_roofline.MODELS:
        # the same computation: sums over one grid agree
        b, p = np.meshgrid(np.array(BATCHES, float), np.array(PROMPTS, float), indexing="xy")
        ttft, step = numpy_roofline.estimate(model, b.ravel(), p.ravel(), np.full(grid, float(GENERATE)))
        one = sweep(a.build, model, 1, 1)
        for key, mine in (("checksum_ttft_s", ttft.sum()), ("checksum_step_s", step.sum())):
            if abs(one[key] - mine) > 1e-9 * abs(mine):
                sys.exit(f"{model}: {key} of the sweep {one[key]!r} differs from NumPy's {mine!r}")
        rates = {"numpy": [], "sweep 1 thread": [], "sweep 2 threads": [], "sweep 1 thread, calibrated stack": []}
        for _ in range(a.runs):
            rates["numpy"].append(numpy_rate(model, repeat * grid))
            rates["sweep 1 thread"].append(sweep(a.build, model, 1, repeat)["estimates_per_s"])
            rates["sweep 2 threads"].append(sweep(a.build, model, 2, repeat)["estimates_per_s"])
            rates["sweep 1 thread, calibrated stack"].append(
                sweep(a.build, model, 1, repeat, "hf_transformers_h100", None)["estimates_per_s"])
        base = statistics.median(rates["numpy"])
        simd = one["simd"]
        print(f"\n{model} (checksums agree: TTFT {one['checksum_ttft_s']:.6g} s, step {one['checksum_step_s']:.6g} s; "
              f"sweep on {simd})")
        for name, r in rates.items():
            m = statistics.median(r)
            print(f"  {name:34s} {m / 1e6:8.2f} M estimates/s   {m / base:6.2f} x NumPy   "
                  f"(runs {min(r) / 1e6:.1f} to {max(r) / 1e6:.1f})")


if __name__ == "__main__":
    main()
