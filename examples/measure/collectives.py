#!/usr/bin/env python3
"""Time NCCL collectives between the GPUs of one host, for fitting the interconnect of a part.

One process per GPU (torch.multiprocessing), PyTorch's NCCL backend: all-reduce, all-gather,
reduce-scatter and all-to-all of messages from 1 KiB to 1 GiB (powers of two), each the
median of --repeat timed runs after --warmup untimed ones, timed with CUDA events on rank 0
after a barrier. Message: the bytes of one GPU's buffer, as roofline's collectives count them
(lib/roofline/base/op.hpp: the full buffer of an all-reduce, the gathered result of an all-gather,
the input of a reduce-scatter, what one GPU sends in an all-to-all). Writes a CSV with the
columns collective, gpus, message_bytes, time_us (the median), runs, and with --env a JSON of
the environment (driver, CUDA, NCCL and PyTorch versions, GPU, and `nvidia-smi topo -m`).
Checked on one H200 (NCCL, 1 process) and with gloo on CPU (2 processes); the runs on 2, 4
and 8 GPUs that issue 18 asks for need a host with that many GPUs.

  python3 examples/measure/collectives.py --gpus 2,4,8 --out collectives.csv --env env.json
  python3 examples/measure/collectives.py --backend gloo --gpus 2 --max-bytes 1048576   # CPU check
Dependencies: PyTorch only.
"""
import argparse
import csv
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

COLLECTIVES = ("all_reduce", "all_gather", "reduce_scatter", "all_to_all")


def sizes(lo, hi):
    s = lo
    while s <= hi:
        yield s
        s *= 2


def run_once(name, buf, out, world):
    if name == "all_reduce":
        dist.all_reduce(buf)
    elif name == "all_gather":  # buf: one GPU's share; out: the gathered message
        dist.all_gather_into_tensor(out, buf)
    elif name == "reduce_scatter":  # buf: the message; out: one GPU's share
        dist.reduce_scatter_tensor(out, buf)
    else:
        dist.all_to_all_single(out, buf)


def worker(rank, world, args, queue):
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(args.port + world))
    cuda = args.backend == "nccl"
    if cuda:
        torch.cuda.set_device(rank)
    dist.init_process_group(args.backend, rank=rank, world_size=world)
    device = torch.device("cuda", rank) if cuda else torch.device("cpu")
    rows = []
    for name in COLLECTIVES:
        for message in sizes(args.min_bytes, args.max_bytes):
            elements = message // 2  # bf16
            if elements % world:
                continue
            share = elements // world
            if name == "all_gather":
                buf = torch.ones(share, dtype=torch.bfloat16, device=device)
                out = torch.empty(elements, dtype=torch.bfloat16, device=device)
            elif name == "reduce_scatter":
                buf = torch.ones(elements, dtype=torch.bfloat16, device=device)
                out = torch.empty(share, dtype=torch.bfloat16, device=device)
            else:
                buf = torch.ones(elements, dtype=torch.bfloat16, device=device)
                out = torch.empty_like(buf)
            try:
                run_once(name, buf, out, world)
            except RuntimeError:  # gloo lacks some collectives (reduce-scatter); every rank skips it
                if args.backend == "nccl":
                    raise
                break
            for _ in range(args.warmup):
                run_once(name, buf, out, world)
            times = []
            for _ in range(args.repeat):
                dist.barrier()
                if cuda:
                    torch.cuda.synchronize()
                    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    start.record()
                    run_once(name, buf, out, world)
                    end.record()
                    end.synchronize()
                    times.append(start.elapsed_time(end) * 1e3)  # us
                else:
                    t = time.perf_counter()
                    run_once(name, buf, out, world)
                    times.append((time.perf_counter() - t) * 1e6)
            if rank == 0:
                rows.append({"collective": name, "gpus": world, "message_bytes": message,
                             "time_us": statistics.median(times), "runs": args.repeat})
    dist.destroy_process_group()
    if rank == 0:
        queue.put(rows)


def environment(backend):
    env = {"python": platform.python_version(), "torch": torch.__version__, "backend": backend}
    if backend == "nccl" and torch.cuda.is_available():
        env["cuda"] = torch.version.cuda
        env["nccl"] = ".".join(map(str, torch.cuda.nccl.version()))
        env["gpu"] = torch.cuda.get_device_name(0)
        env["gpus_on_host"] = torch.cuda.device_count()
        for key, cmd in (("driver", ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]),
                         ("topology", ["nvidia-smi", "topo", "-m"])):
            try:
                text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
                env[key] = re.sub(r"\x1b\[[0-9;]*m", "", text)  # nvidia-smi's terminal underlines
            except (OSError, subprocess.CalledProcessError) as e:
                env[key] = f"not available: {e}"
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gpus", default="2,4,8", help="group sizes, comma-separated (processes per run)")
    ap.add_argument("--backend", default="nccl", choices=["nccl", "gloo"])
    ap.add_argument("--min-bytes", type=int, default=1 << 10)
    ap.add_argument("--max-bytes", type=int, default=1 << 30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--port", type=int, default=29500)
    ap.add_argument("--out", required=True)
    ap.add_argument("--env")
    a = ap.parse_args()
    groups = [int(g) for g in a.gpus.split(",")]
    if a.backend == "nccl":
        have = torch.cuda.device_count()
        missing = [g for g in groups if g > have]
        if missing:
            sys.exit(f"--gpus {a.gpus}: this host has {have} GPU(s)")
    rows = []
    ctx = mp.get_context("spawn")
    for world in groups:
        queue = ctx.SimpleQueue()
        procs = [ctx.Process(target=worker, args=(r, world, a, queue)) for r in range(world)]
        for p in procs:
            p.start()
        got = queue.get()
        for p in procs:
            p.join()
            if p.exitcode != 0:
                sys.exit(f"a worker of the {world}-process run failed (exit {p.exitcode})")
        rows += got
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["collective", "gpus", "message_bytes", "time_us", "runs"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    if a.env:
        with open(a.env, "w") as f:
            json.dump(environment(a.backend), f, indent=2)
    print(f"{len(rows)} rows to {a.out}")


if __name__ == "__main__":
    main()
