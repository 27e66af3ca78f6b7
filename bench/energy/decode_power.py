"""Board power and time of a Llama-3.1-8B decode step in PyTorch, for checking energy per token
end to end (measurements/energy/README.md). Random bf16 weights of the model's shapes (32 layers:
RMSNorm, qkv 4096 -> 6144, GQA attention over a KV cache of `context` tokens with 32 query and 8
KV heads of 128 (scaled_dot_product_attention), o 4096 -> 4096, RMSNorm, gate and up 4096 ->
2 x 14336, SiLU, down 14336 -> 4096; final norm and the LM head 4096 -> 128256), one new token for
each of `batch` sequences, captured in a CUDA graph and replayed back to back for `seconds`;
NVML board power every 20 ms (the first second dropped).
Writes CSV: batch, context, step_s, power_w, j_per_token, samples, clock_mhz.
Usage: python3 decode_power.py OUT.csv [seconds]
"""
import csv
import sys
import threading
import time

import pynvml
import torch
import torch.nn.functional as F

SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0
D, LAYERS, H, HKV, DH, FFN, VOCAB = 4096, 32, 32, 8, 128, 14336, 128256


def rms(x, w):
    return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5).to(x.dtype) * w


def build(batch, context, dev):
    t = dict(dtype=torch.bfloat16, device=dev)
    layers = []
    for _ in range(LAYERS):
        layers.append(dict(n1=torch.ones(D, **t), qkv=torch.randn(D, (H + 2 * HKV) * DH, **t) * 0.02,
                           o=torch.randn(H * DH, D, **t) * 0.02, n2=torch.ones(D, **t),
                           gu=torch.randn(D, 2 * FFN, **t) * 0.02, down=torch.randn(FFN, D, **t) * 0.02,
                           k=torch.randn(batch, HKV, context, DH, **t), v=torch.randn(batch, HKV, context, DH, **t)))
    head = dict(n=torch.ones(D, **t), w=torch.randn(D, VOCAB, **t) * 0.02)
    x = torch.randn(batch, D, **t)
    return layers, head, x


def step(layers, head, x):
    b = x.shape[0]
    for L in layers:
        h = rms(x, L["n1"]) @ L["qkv"]
        q = h[:, :H * DH].view(b, H, 1, DH)
        o = F.scaled_dot_product_attention(q, L["k"], L["v"], enable_gqa=True)
        x = x + o.reshape(b, H * DH) @ L["o"]
        g, u = (rms(x, L["n2"]) @ L["gu"]).chunk(2, dim=-1)
        x = x + (F.silu(g) * u) @ L["down"]
    return rms(x, head["n"]) @ head["w"]


def measure(handle, batch, context):
    dev = torch.device("cuda")
    layers, head, x = build(batch, context, dev)
    for _ in range(3):
        step(layers, head, x)
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        step(layers, head, x)
    for _ in range(3):
        g.replay()
    torch.cuda.synchronize()
    samples, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            samples.append((time.time(), pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
                            pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM)))
            time.sleep(0.02)

    th = threading.Thread(target=sample)
    start = time.time()
    th.start()
    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    begin.record()
    steps = 0
    while time.time() - start < SECONDS:
        for _ in range(10):
            g.replay()
        steps += 10
        torch.cuda.synchronize()
    end.record()
    torch.cuda.synchronize()
    stop.set()
    th.join()
    step_s = begin.elapsed_time(end) / 1e3 / steps
    kept = [(p, c) for (w, p, c) in samples if w - start > 1.0]
    power = sum(p for p, _ in kept) / len(kept)
    clock = sum(c for _, c in kept) / len(kept)
    del layers, head, x, g
    torch.cuda.empty_cache()
    return [batch, context, step_s, power, power * step_s / batch, len(kept), clock]


def main():
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    rows = [measure(h, b, c) for b, c in [(1, 1024), (16, 1024), (64, 1024), (256, 1024)]]
    with open(sys.argv[1], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["batch", "context", "step_s", "power_w", "j_per_token", "samples", "clock_mhz"])
        w.writerows(rows)
    for r in rows:
        print(r)
    print("device:", torch.cuda.get_device_name(0))


if __name__ == "__main__":
    main()
