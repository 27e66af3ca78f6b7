#!/usr/bin/env python3
"""Measure TTFT and decode step time of model specs on a CUDA GPU, for `calibrate`.

Reads the project's model spec YAMLs, builds each model with random bf16 weights in
PyTorch (Llama-style Transformer with fused scaled-dot-product attention; xLSTM with a
chunkwise-parallel mLSTM prefill and a recurrent decode on fp32 states), and times a grid
of (batch, prefill) with CUDA graphs and CUDA events, writing the measurement CSV of
measurements/README.md and a JSON of the environment. Dependencies: PyTorch only.

  python3 examples/measure/measure.py --models model_specs/paper/*.yaml \
      --batches 1,4,16,64,256 --prefills 512,2048,8192 --generate 32 --out OUT.csv --env OUT.json
  python3 examples/measure/measure.py --self-test      # chunkwise = recurrent, then exit
"""
import argparse, csv, gc, json, math, os, platform, statistics, subprocess, sys, time

import torch
import torch.nn.functional as F
from torch import nn


# ---------------------------------------------------------------- the spec files
def parse_scalar(s):
    s = s.strip()
    if s in ("true", "false"):
        return s == "true"
    for cast in (int, float):
        try:
            return cast(s)
        except ValueError:
            pass
    return s.strip("'\"")


def load_spec(path):
    """The subset of YAML the model specs use: nested mappings by indentation, flow maps."""
    root = {}
    stack = [(-1, root)]  # (indent, mapping) of the open blocks
    for raw in open(path):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        key, _, value = line.strip().partition(":")
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        value = value.strip()
        if not value:
            parent[key] = {}
            stack.append((indent, parent[key]))
        elif value.startswith("{"):
            parent[key] = {k.strip(): parse_scalar(v) for k, v in (p.split(":", 1) for p in value.strip("{}").split(","))}
        else:
            parent[key] = parse_scalar(value)
    return root


# ---------------------------------------------------------------- modules
class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6)).to(x.dtype) * self.weight


class SwiGLU(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.norm, self.gate_up, self.down = RMSNorm(d), nn.Linear(d, 2 * f, bias=False), nn.Linear(f, d, bias=False)

    def forward(self, x):
        g, u = self.gate_up(self.norm(x)).chunk(2, -1)
        return x + self.down(F.silu(g) * u)


def rope(x, cos, sin):  # x (B, H, T, dh); cos, sin (T, dh/2)
    x1, x2 = x[..., ::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), -1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, d, h, hkv, dh, bias):
        super().__init__()
        self.h, self.hkv, self.dh = h, hkv, dh
        self.norm = RMSNorm(d)
        self.qkv = nn.Linear(d, (h + 2 * hkv) * dh, bias=bias)
        self.o = nn.Linear(h * dh, d, bias=False)

    def project(self, x, cos, sin):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.norm(x)).split([self.h * self.dh, self.hkv * self.dh, self.hkv * self.dh], -1)
        q, k, v = (y.view(b, t, -1, self.dh).transpose(1, 2) for y in (q, k, v))
        return rope(q, cos, sin), rope(k, cos, sin), v

    def prefill(self, x, cache, cos, sin):
        q, k, v = self.project(x, cos, sin)
        t = x.shape[1]
        cache[0][:, :, :t], cache[1][:, :, :t] = k, v
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.h != self.hkv)
        return x + self.o(y.transpose(1, 2).flatten(2))

    def step(self, x, cache, cos, sin, pos, mask):  # the static cache, masked beyond pos
        q, k, v = self.project(x, cos, sin)
        cache[0].index_copy_(2, pos, k)
        cache[1].index_copy_(2, pos, v)
        y = F.scaled_dot_product_attention(q, cache[0], cache[1], attn_mask=mask, enable_gqa=self.h != self.hkv)
        return x + self.o(y.transpose(1, 2).flatten(2))


class MLSTM(nn.Module):
    """The mLSTM layer of xLSTM-7B: q, k (d_qk), v (d_v) per head, exponential input gate,
    sigmoid forget gate (in log space), output gate, per-head norm, output projection."""

    def __init__(self, d, h, dqk, chunk):
        super().__init__()
        self.h, self.dqk, self.dv, self.chunk = h, dqk, d // h, chunk
        self.norm = RMSNorm(d)
        self.qkv = nn.Linear(d, h * (2 * dqk + self.dv), bias=False)
        self.gates = nn.Linear(d, 2 * h, bias=True)
        self.ogate = nn.Linear(d, h * self.dv, bias=False)
        self.head_norm = nn.Parameter(torch.ones(h * self.dv))
        self.out = nn.Linear(h * self.dv, d, bias=False)

    def inputs(self, x):
        b, t, _ = x.shape
        xn = self.norm(x)
        q, k, v = self.qkv(xn).split([self.h * self.dqk, self.h * self.dqk, self.h * self.dv], -1)
        q, k, v = (y.view(b, t, self.h, -1).transpose(1, 2).float() for y in (q, k, v))
        ig, fg = self.gates(xn).float().view(b, t, 2, self.h).permute(2, 0, 3, 1)  # (B, H, T) each
        return xn, q, k / math.sqrt(self.dqk), v, ig, F.logsigmoid(fg)

    def output(self, x, xn, h):  # h (B, H, T, dv) fp32
        b, _, t, _ = h.shape
        hn = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6)
        hn = hn.transpose(1, 2).flatten(2).to(x.dtype) * self.head_norm
        return x + self.out(torch.sigmoid(self.ogate(xn)) * hn)

    def prefill(self, x, state):
        xn, q, k, v, ig, lf = self.inputs(x)
        h = chunkwise(q, k, v, ig, lf, self.chunk, state)
        return self.output(x, xn, h)

    def step(self, x, state):
        xn, q, k, v, ig, lf = self.inputs(x)
        h = recurrent_step(q[:, :, 0], k[:, :, 0], v[:, :, 0], ig[:, :, 0], lf[:, :, 0], state)
        return self.output(x, xn, h.unsqueeze(2))


def recurrent_step(q, k, v, ig, lf, state):
    """One token: q, k (B,H,dqk), v (B,H,dv), gates (B,H); state C (B,H,dqk,dv), n (B,H,dqk), m (B,H)."""
    C, n, m = state
    m_new = torch.maximum(lf + m, ig)
    fa, ia = torch.exp(lf + m - m_new), torch.exp(ig - m_new)
    C.mul_(fa[..., None, None]).add_(ia[..., None, None] * k[..., :, None] * v[..., None, :])
    n.mul_(fa[..., None]).add_(ia[..., None] * k)
    m.copy_(m_new)
    num = torch.einsum("bhk,bhkv->bhv", q, C)
    den = torch.maximum((q * n).sum(-1).abs(), torch.exp(-m_new))
    return num / den[..., None]


def chunkwise(q, k, v, ig, lf, L, state):
    """Chunkwise-parallel mLSTM over T = c L tokens (T padded up to whole chunks): outputs
    within a chunk in parallel, the state carried from chunk to chunk; leaves the final state."""
    C, n, m = state
    b, h, t, dqk = q.shape
    pad = (-t) % L
    if pad:  # padded tokens: zero inputs, closed input gate, open forget gate
        q, k, v = (F.pad(y, (0, 0, 0, pad)) for y in (q, k, v))
        ig, lf = F.pad(ig, (0, pad), value=-1e4), F.pad(lf, (0, pad), value=0.0)
    nc = q.shape[2] // L
    q, k, v = (y.view(b, h, nc, L, -1) for y in (q, k, v))
    ig, lf = ig.view(b, h, nc, L), lf.view(b, h, nc, L)
    bcum = lf.cumsum(-1)  # b_t within the chunk
    causal = torch.ones(L, L, dtype=torch.bool, device=q.device).tril()
    dmat = (bcum[..., :, None] - bcum[..., None, :] + ig[..., None, :]).masked_fill(~causal, float("-inf"))
    qk = q @ k.transpose(-1, -2)
    outs = []
    for c in range(nc):  # state recurrence over chunks
        inter = bcum[:, :, c] + m[..., None]  # (B,H,L)
        mt = torch.maximum(inter, dmat[:, :, c].amax(-1))
        w = torch.exp(dmat[:, :, c] - mt[..., None]) * qk[:, :, c]
        scale = torch.exp(inter - mt)
        num = scale[..., None] * (q[:, :, c] @ C) + w @ v[:, :, c]
        den = scale * (q[:, :, c] @ n[..., None])[..., 0] + w.sum(-1)
        outs.append(num / torch.maximum(den.abs(), torch.exp(-mt))[..., None])
        total = bcum[:, :, c, -1]
        ws = total[..., None] - bcum[:, :, c] + ig[:, :, c]  # log weight of each token's k v
        m_new = torch.maximum(total + m, ws.amax(-1))
        a, e = torch.exp(total + m - m_new), torch.exp(ws - m_new[..., None])
        C.mul_(a[..., None, None]).add_((k[:, :, c] * e[..., None]).transpose(-1, -2) @ v[:, :, c])
        n.mul_(a[..., None]).add_((k[:, :, c] * e[..., None]).sum(-2))
        m.copy_(m_new)
    return torch.cat(outs, 2)[:, :, :t]


class Model(nn.Module):
    def __init__(self, spec):
        super().__init__()
        d, H = spec["d_model"], spec["n_heads"]
        self.spec, self.xlstm = spec, spec["architecture"] == "xlstm"
        self.embed = nn.Embedding(spec["vocab_size"], d)
        if self.xlstm:
            dqk = int(spec["mlstm"]["qk_dim_factor"] * d // H)
            self.mixers = nn.ModuleList(MLSTM(d, H, dqk, spec["mlstm"]["chunk_size"]) for _ in range(spec["n_layers"]))
        else:
            a = spec["attention"]
            self.dh = a["head_dim"]
            self.mixers = nn.ModuleList(Attention(d, H, a["n_kv_heads"], a["head_dim"], a.get("qkv_bias", False))
                                        for _ in range(spec["n_layers"]))
        self.ffns = nn.ModuleList(SwiGLU(d, spec["ffn_dim"]) for _ in range(spec["n_layers"]))
        self.norm = RMSNorm(d)
        self.head = nn.Linear(d, spec["vocab_size"], bias=False)

    def new_cache(self, b, length, device):
        if self.xlstm:
            m = self.mixers[0]
            return [(torch.zeros(b, m.h, m.dqk, m.dv, device=device), torch.zeros(b, m.h, m.dqk, device=device),
                     torch.zeros(b, m.h, device=device)) for _ in self.mixers]
        a = self.mixers[0]
        return [(torch.zeros(b, a.hkv, length, a.dh, device=device, dtype=torch.bfloat16),
                 torch.zeros(b, a.hkv, length, a.dh, device=device, dtype=torch.bfloat16)) for _ in self.mixers]

    def rope_table(self, length, device):
        inv = 1.0 / (10000 ** (torch.arange(0, self.dh, 2, device=device).float() / self.dh))
        ang = torch.arange(length, device=device).float()[:, None] * inv
        return ang.cos().bfloat16(), ang.sin().bfloat16()

    def prefill(self, tokens, cache, rope_tab=None):  # logits of the last token
        x = self.embed(tokens)
        t = tokens.shape[1]
        for mix, ffn, c in zip(self.mixers, self.ffns, cache):
            x = mix.prefill(x, c) if self.xlstm else mix.prefill(x, c, rope_tab[0][:t], rope_tab[1][:t])
            x = ffn(x)
        return self.head(self.norm(x[:, -1]))

    def step(self, token, cache, pos=None, mask=None, rope_tab=None):
        x = self.embed(token)
        for mix, ffn, c in zip(self.mixers, self.ffns, cache):
            if self.xlstm:
                x = mix.step(x, c)
            else:
                x = mix.step(x, c, rope_tab[0][pos], rope_tab[1][pos], pos, mask)
            x = ffn(x)
        return self.head(self.norm(x[:, -1]))


# ---------------------------------------------------------------- timing
def graph(fn):
    """Captures fn in a CUDA graph after a warm-up on a side stream; returns its replay."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    return g.replay


def timed(fn, repeats):
    """Median over repeats of the time of fn(), by CUDA events, in ms."""
    times = []
    for _ in range(repeats):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


@torch.no_grad()
def measure_point(model, batch, prefill, generate, repeats):
    dev = "cuda"
    length = prefill + generate
    tokens = torch.randint(0, model.spec["vocab_size"], (batch, prefill), device=dev)
    cache = model.new_cache(batch, length, dev)
    rope_tab = None if model.xlstm else model.rope_table(length, dev)

    def reset():
        for c in cache:
            for t in c:
                t.zero_()

    ttft = timed(graph(lambda: model.prefill(tokens, cache, rope_tab)), repeats)
    token = torch.randint(0, model.spec["vocab_size"], (batch, 1), device=dev)
    if model.xlstm:
        step = graph(lambda: model.step(token, cache))
        advance = lambda: None
    else:
        pos = torch.tensor([prefill], device=dev)
        mask = torch.full((1, 1, 1, length), float("-inf"), device=dev, dtype=torch.bfloat16)

        def one():
            mask.index_fill_(3, pos, 0.0)  # this position becomes visible
            model.step(token, cache, pos, mask, rope_tab)
        step = graph(one)

        def advance():
            pos.add_(1)
    means = []
    for _ in range(max(1, repeats // 2)):
        reset()
        if not model.xlstm:
            pos.fill_(prefill)
            mask.fill_(float("-inf"))
            mask[..., :prefill] = 0
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(generate):
            step()
            advance()
        b.record()
        torch.cuda.synchronize()
        means.append(a.elapsed_time(b) / generate)
    return ttft, statistics.median(means)


def peaks():
    out = {}
    for name, dt in (("bf16", torch.bfloat16), ("fp16", torch.float16), ("tf32", torch.float32)):
        torch.backends.cuda.matmul.allow_tf32 = True
        a, b = torch.randn(8192, 8192, device="cuda", dtype=dt), torch.randn(8192, 8192, device="cuda", dtype=dt)
        ms = timed(lambda: a @ b, 20)
        out[f"gemm_{name}_tflops"] = 2 * 8192**3 / ms / 1e9
    x = torch.empty(2**30, device="cuda", dtype=torch.float32)  # 4 GiB
    y = torch.empty_like(x)
    ms = timed(lambda: y.copy_(x), 20)
    out["copy_gb_s"] = 2 * x.numel() * 4 / ms / 1e6
    z = torch.zeros(1, device="cuda")
    n = 1000
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(n):
        z.add_(1)
    b.record()
    torch.cuda.synchronize()
    out["launch_us"] = a.elapsed_time(b) / n * 1e3
    return out


def environment():
    p = torch.cuda.get_device_properties(0)
    env = {"gpu": p.name, "sm_count": p.multi_processor_count, "memory_gb": p.total_memory / 1e9,
           "torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
           "python": platform.python_version(), "host": platform.node()}
    try:
        env["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm,clocks.max.mem,power.limit", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception as e:  # nvidia-smi missing: say so
        env["nvidia_smi"] = f"unavailable: {e}"
    return env


def self_test():
    """The chunkwise prefill and the recurrent step agree on a small model (fp32, CPU or GPU)."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    b, h, dqk, dv, t, L = 2, 3, 8, 16, 37, 8
    q, k, v = torch.randn(b, h, t, dqk, device=dev), torch.randn(b, h, t, dqk, device=dev), torch.randn(b, h, t, dv, device=dev)
    ig, lf = torch.randn(b, h, t, device=dev) * 3, F.logsigmoid(torch.randn(b, h, t, device=dev) * 3)
    zeros = lambda: (torch.zeros(b, h, dqk, dv, device=dev), torch.zeros(b, h, dqk, device=dev), torch.zeros(b, h, device=dev))
    s1, s2 = zeros(), zeros()
    par = chunkwise(q, k, v, ig, lf, L, s1)
    rec = torch.stack([recurrent_step(q[:, :, i], k[:, :, i], v[:, :, i], ig[:, :, i], lf[:, :, i], s2) for i in range(t)], 2)
    err = (par - rec).abs().max().item() / rec.abs().max().item()
    state_err = max((a - c).abs().max().item() / c.abs().max().clamp_min(1e-30).item() for a, c in zip(s1, s2))
    print(f"self-test: chunkwise vs recurrent, max relative difference {err:.2e} (outputs), {state_err:.2e} (states)")
    return err < 1e-4 and state_err < 1e-4


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=[])
    ap.add_argument("--batches", default="1,4,16,64,256")
    ap.add_argument("--prefills", default="512,2048,8192")
    ap.add_argument("--generate", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="measurements.csv")
    ap.add_argument("--env", default="measurements_env.json")
    ap.add_argument("--root", default=".", help="model paths in the CSV are relative to this directory")
    ap.add_argument("--max-seconds", type=float, default=1e9, help="stop the sweep after this long")
    ap.add_argument("--max-tokens", type=int, default=131072, help="skip points of more than batch x prefill tokens")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    ok = self_test()
    if args.self_test or not ok:
        sys.exit(0 if ok else 1)
    env = environment()
    env["peaks"] = peaks()
    # fp32 matmuls of the mLSTM cell (states and its q k^T, as the Triton kernels accumulate
    # in fp32) run on the tensor units as TF32; the model's GEMMs are bf16.
    torch.backends.cuda.matmul.allow_tf32 = True
    env["tf32_matmul"] = True
    start = time.time()
    rows = []
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "batch", "prefill", "generate", "ttft_ms", "step_ms"])
        for path in args.models:
            spec = load_spec(path)
            torch.manual_seed(0)
            model = Model(spec).to("cuda", torch.bfloat16)
            for p in model.parameters():
                p.data.normal_(0, 0.02)
            rel = os.path.relpath(path, args.root)
            for batch in map(int, args.batches.split(",")):
                for prefill in map(int, args.prefills.split(",")):
                    if time.time() - start > args.max_seconds or batch * prefill > args.max_tokens:
                        continue
                    try:
                        ttft, step = measure_point(model, batch, prefill, args.generate, args.repeats)
                        row = [rel, batch, prefill, args.generate, f"{ttft:.6g}", f"{step:.6g}"]
                    except torch.cuda.OutOfMemoryError:
                        row = [rel, batch, prefill, args.generate, "", ""]
                    gc.collect()
                    torch.cuda.empty_cache()
                    w.writerow(row)
                    f.flush()
                    print(",".join(map(str, row)), f"({time.time() - start:.0f} s)", flush=True)
            del model
            gc.collect()
            torch.cuda.empty_cache()
    env["sweep_seconds"] = time.time() - start
    with open(args.env, "w") as f:
        json.dump(env, f, indent=2)


if __name__ == "__main__":
    main()
