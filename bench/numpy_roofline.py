"""The pure roofline of Llama-3-8B and xLSTM-7B on an H100 SXM, perfect overlap, in NumPy.

An implementation of its own of what `build/examples/sweep --stack stacks/roofline.yaml
--overlap perfect` computes for these two models (the op counts of lib/roofline/graph/, the
accounting constants of lib/roofline/spec/accounting.hpp), vectorised over the points of a grid:
the baseline that bench/sweep_vs_numpy.py measures the C++ sweep against. Every op's time is
max(FLOPs / peak, bytes / bandwidth), times its layers; TTFT is the prefill pass of B x P
tokens, the step the mean decode step over G steps after a P-token prompt.
"""
import numpy as np

# NVIDIA H100 SXM5 80GB (hw_profiles/h100_sxm.yaml): dense bf16 tensor peak, fp32 vector peak,
# HBM3 bandwidth, from NVIDIA's H100 datasheet and architecture whitepaper
MATRIX_PEAK = 989.4e12
VECTOR_PEAK = 66.9e12
BANDWIDTH = 3350e9

BA = 2.0  # bytes per activation element (bf16); weights, norm scales and the KV cache are bf16 too
BS = 4.0  # bytes per recurrent-state element (fp32)

# accounting (lib/roofline/spec/accounting.hpp: the values of Beck et al., arXiv 2510.02228, App. D)
CAUSAL = 0.65
MLSTM_CAUSAL = 0.75
SOFTMAX, NORM, SWISH, SKIP, SOFTCAP = 5.0, 3.0, 1.0, 1.0, 3.0
EXP = LOG = SIG = MAX = ABS = 1.0


def op(flops, nbytes, peak):
    """Time of one op under the pure roofline, perfect overlap."""
    return np.maximum(flops / peak, nbytes / BANDWIDTH)


def linear(rows, n_in, n_out):
    return op(2 * rows * n_in * n_out, n_in * n_out * BA + rows * (n_in + n_out) * BA, MATRIX_PEAK)


def norm(rows, d):  # pre-norm with the residual add
    return op(rows * d * (SKIP + NORM), rows * d * BA + d * BA, VECTOR_PEAK)


def mlp(rows, d, f):  # gated SiLU MLP: gate and up as one GEMM, the activation fused
    gate_up = op(2 * rows * d * 2 * f, d * 2 * f * BA + 2 * rows * (d + f) * BA, MATRIX_PEAK)
    act = op(rows * f * (1 + SWISH), 0.0 * rows, VECTOR_PEAK)
    return gate_up + act + linear(rows, f, d)


def head(b, d, vocab, decode, softcap):
    final = op(b * d * NORM if decode else 0.0 * b, b * d * BA + d * BA, VECTOR_PEAK)
    flops = 2 * b * d * vocab + (b * vocab * SOFTCAP if softcap else 0.0)
    return final + op(flops, d * vocab * BA + b * (d + vocab) * BA, MATRIX_PEAK)


def llama3_8b(b, t, decode, g):
    """One pass of Llama-3-8B: prefill of t tokens (decode=False) or the mean decode step after
    a t-token prompt over g steps."""
    d, layers, h, hkv, dh, f, vocab = 4096.0, 32, 32.0, 8.0, 128.0, 14336.0, 128256.0
    rows = b * (1.0 if decode else t)
    per_key = 2 * h * (2 * dh + 0.5 * SOFTMAX)
    kv_width = hkv * 2 * dh * BA
    if decode:
        keys = t + 1 + (g - 1) / 2  # mean keys over the steps: P + 1 .. P + G
        attn = op(b * keys * per_key, b * keys * kv_width, MATRIX_PEAK)
    else:
        attn = op(b * CAUSAL * t * t * per_key, rows * h * 2 * dh * BA + rows * kv_width, MATRIX_PEAK)
    layer = (norm(rows, d) + linear(rows, d, h * dh + 2 * hkv * dh) + attn + linear(rows, h * dh, d) +
             norm(rows, d) + mlp(rows, d, f))
    embedding = rows * d * BA / BANDWIDTH
    return embedding + layers * layer + head(b, d, vocab, decode, False)


def mlstm_chunk_flops(l, dqk, dv):
    c = MLSTM_CAUSAL
    recurrence = (2 * l + 0.5 * l * (l + 1) + l * (1 + EXP + LOG + SIG) + 3 + MAX + EXP + 2 * dqk * dv +
                  2 * l * dqk * dv + l * dqk + 2 * dqk + 2 * l * dqk)
    intra = (0.5 * l * (l + 1) + l * (LOG + SIG) + c * (l * l * (3 + EXP + MAX) + l * (1 + MAX)) +
             c * (2 * l * l * (dqk + dv) + 3 * l * l))
    inter = 2 * l * dqk * dv + 3 * l * dqk
    combine = 2 * l * dv + l * (1 + MAX + ABS + EXP)
    return recurrence + intra + inter + combine


def xlstm_7b(b, t, decode, g):
    """One pass of xLSTM-7B (Beck et al.'s counts): prefill of t tokens or a decode step."""
    d, layers, nh, f, vocab, chunk = 4096.0, 32, 8.0, 10944.0, 50304.0, 64.0
    dv = d / nh
    dqk = 0.5 * dv
    rows = b * (1.0 if decode else t)
    heads_b = b * nh
    state_io = 2 * (dqk * dv + dqk + 1) * BS
    if decode:
        step = (4 + 2 * EXP + LOG + SIG + MAX + 4 * dqk * dv + 6 * dqk + dv + 1 + ABS + MAX + 2 * dv * dqk + dqk)
        cell = op(heads_b * step, heads_b * ((2 * dqk + dv) + 2 + dv) * BA + heads_b * state_io, MATRIX_PEAK)
    else:  # prompts of more than one token: ceil(T / L) chunks
        n = np.ceil(t / chunk)
        l = chunk
        acts = (l * (dqk + dv) * BA + 2 * l * BA + l * (2 * dqk + dv) * BA + 2 * l * BA + l * dv * BA + 2 * l * BS)
        cell = op(heads_b * n * mlstm_chunk_flops(l, dqk, dv), heads_b * n * (acts + state_io), MATRIX_PEAK)
    hv = nh * dv
    gates = op(rows * (2 * d * nh + 2 * nh), 2 * d * nh * BA + 2 * nh * BA + 2 * rows * (d + nh) * BA, MATRIX_PEAK)
    out_norm = op(rows * hv * (NORM + SIG), rows * hv * BA + hv * BA, VECTOR_PEAK)
    layer = (norm(rows, d) + linear(rows, d, nh * (2 * dqk + dv)) + gates + cell + linear(rows, d, hv) + out_norm +
             linear(rows, hv, d) + norm(rows, d) + mlp(rows, d, f))
    embedding = rows * d * BA / BANDWIDTH
    return embedding + layers * layer + head(b, d, vocab, decode, True)


MODELS = {"llama3_8b": llama3_8b, "xlstm_7b": xlstm_7b}


def estimate(model, b, p, g):
    """TTFT and mean decode step (seconds) of every point: arrays of batch, prompt, generated."""
    f = MODELS[model]
    return f(b, p, False, g), f(b, p, True, g)
