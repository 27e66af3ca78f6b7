"""Board power of one GPU while it runs kernels of known FLOPs and bytes, for the energy model
(measurements/energy/README.md). For each load: the kernel runs back to back for `seconds`, NVML
reads the board's power every 20 ms from a thread (the samples of the first second dropped, while
power and clocks settle), and the kernel's rate is taken from CUDA events over the same run.

Loads: idle (nothing launched); GEMMs in bf16 and fp8 (torch.matmul, torch._scaled_mm) of
8192^3 (compute-bound: 2 m n k FLOPs, (m k + k n) b + m n 2 bytes per call); a copy of 4 GiB
(memory-bound: 2 x 4 GiB moved, no FLOPs); and checks the model did not see: a GEMV of a
decode step (m 16, memory-bound with FLOPs), a 4096^3 bf16 GEMM, a 2 GiB copy.
With `clock` as the third argument, the loads are instead idle and GEMMs that stream their weights
as a decode step's do (m 64 to 512 rows, k 4096, n 28672 in bf16; m 64 to 512, k 8192, n 28672
in fp8): they run below the power cap at the full clock, where a FLOP costs more energy than in
the capped 8192^3 GEMMs (a higher voltage).
Writes CSV: load, format, flops_per_s, bytes_per_s, power_w, samples, clock_mhz, power_limit_w.
Usage: python3 measure_power.py OUT.csv [seconds] [clock]
"""
import csv
import sys
import threading
import time

import pynvml
import torch

SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0


def sample(handle, stop, out):
    while not stop.is_set():
        out.append((time.time(), pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
                    pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM)))
        time.sleep(0.02)


def run(handle, name, fmt, step, flops, moved):
    """step() launches one call; flops and moved: per call."""
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    samples, stop = [], threading.Event()
    t = threading.Thread(target=sample, args=(handle, stop, samples))
    start_wall = time.time()
    t.start()
    calls = 0
    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    begin.record()
    while time.time() - start_wall < SECONDS:
        for _ in range(8):
            step()
        calls += 8
        torch.cuda.synchronize()
    end.record()
    torch.cuda.synchronize()
    stop.set()
    t.join()
    elapsed = begin.elapsed_time(end) / 1e3
    kept = [(p, c) for (w, p, c) in samples if w - start_wall > 1.0]
    power = sum(p for p, _ in kept) / len(kept)
    clock = sum(c for _, c in kept) / len(kept)
    return [name, fmt, calls * flops / elapsed, calls * moved / elapsed, power, len(kept), clock]


def main():
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    limit = pynvml.nvmlDeviceGetPowerManagementLimit(h) / 1000.0
    dev = torch.device("cuda")
    rows = []
    torch.cuda.synchronize()
    time.sleep(2)
    samples, stop = [], threading.Event()
    t = threading.Thread(target=sample, args=(h, stop, samples))
    t.start()
    time.sleep(SECONDS)
    stop.set()
    t.join()
    rows.append(["idle", "", 0, 0, sum(p for _, p, _ in samples) / len(samples), len(samples),
                 sum(c for _, _, c in samples) / len(samples)])

    def gemm(n, m=None, dtype=torch.bfloat16):
        m = m or n
        a = torch.randn(m, n, device=dev, dtype=torch.bfloat16)
        b = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
        c = torch.empty(m, n, device=dev, dtype=torch.bfloat16)
        return (lambda: torch.matmul(a, b, out=c)), 2.0 * m * n * n, (m * n + n * n + m * n) * 2.0

    def gemm_fp8(n):
        a = torch.randn(n, n, device=dev).to(torch.float8_e4m3fn)
        b = torch.randn(n, n, device=dev).to(torch.float8_e4m3fn).t()
        one = torch.ones((), device=dev)
        return (lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16),
                2.0 * n ** 3, 2.0 * n * n + 2.0 * n * n)

    def stream(m, k, n, fp8=False):
        if fp8:
            a = torch.randn(m, k, device=dev).to(torch.float8_e4m3fn)
            b = torch.randn(n, k, device=dev).to(torch.float8_e4m3fn).t()
            one = torch.ones((), device=dev)
            return (lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16),
                    2.0 * m * k * n, 1.0 * (m * k + k * n) + 2.0 * m * n)
        a = torch.randn(m, k, device=dev, dtype=torch.bfloat16)
        b = torch.randn(k, n, device=dev, dtype=torch.bfloat16)
        c = torch.empty(m, n, device=dev, dtype=torch.bfloat16)
        return (lambda: torch.matmul(a, b, out=c)), 2.0 * m * k * n, 2.0 * (m * k + k * n + m * n)

    def copy(gib):
        n = int(gib * 2 ** 30)
        src = torch.empty(n, device=dev, dtype=torch.uint8)
        dst = torch.empty(n, device=dev, dtype=torch.uint8)
        src.fill_(1)
        return (lambda: dst.copy_(src)), 0.0, 2.0 * n

    loads = [
        ("gemm_8192", "bf16", gemm(8192)),
        ("gemm_8192", "fp8", gemm_fp8(8192)),
        ("copy_4gib", "", copy(4)),
        ("check_gemm_4096", "bf16", gemm(4096)),
        ("check_gemv_m16", "bf16", gemm(8192, m=16)),
        ("check_copy_2gib", "", copy(2)),
    ]
    if len(sys.argv) > 3 and sys.argv[3] == "clock":
        loads = [(f"stream_m{m}", "bf16", stream(m, 4096, 28672)) for m in (64, 128, 256, 512)]
        loads += [(f"stream_m{m}", "fp8", stream(m, 8192, 28672, True)) for m in (64, 128, 256, 512)]
    for name, fmt, (step, flops, moved) in loads:
        rows.append(run(h, name, fmt, step, flops, moved))
        torch.cuda.empty_cache()
    with open(sys.argv[1], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["load", "format", "flops_per_s", "bytes_per_s", "power_w", "samples", "clock_mhz",
                    "power_limit_w"])
        for r in rows:
            w.writerow(r + [limit])
    for r in rows:
        print(r)
    print("device:", torch.cuda.get_device_name(0), "limit W:", limit)


if __name__ == "__main__":
    main()
