"""The README's Python example: TTFT and decode step of Llama-3.1-8B and xLSTM-7B on an H100 SXM
over prompt lengths, from roofline.sweep, drawn with matplotlib (docs/python_sweep.svg); a line
ends where the batch's KV cache no longer fits in the GPU's memory.

    PYTHONPATH=build/python python3 python/plot_sweep.py [OUT.svg]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import roofline as rl  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "python_sweep.svg")
hw = rl.load_hardware(os.path.join(ROOT, "hw_profiles", "h100_sxm.yaml"))
fig, (ttft, step) = plt.subplots(1, 2, figsize=(10, 4))
for name, style in (("llama3.1_8b", "-"), ("xlstm_7b", "--")):
    m = rl.load_model(os.path.join(ROOT, "model_specs", name + ".yaml"))
    s = rl.sweep(m, hw, batch=[1, 8, 64], prefill=range(512, 130000, 512), generate=256, frame=False)
    for b in (1, 8, 64):
        pick = (s["batch"] == b) & s["fits"]  # only where the weights and KV cache fit in 80 GB
        ttft.plot(s["prefill"][pick], s["ttft_s"][pick], style, label=f"{name}, batch {b}")
        step.plot(s["prefill"][pick], 1e3 * s["step_s"][pick], style, label=f"{name}, batch {b}")
ttft.set(xscale="log", yscale="log", xlabel="prompt tokens", ylabel="TTFT (s)", title="time to first token")
step.set(xscale="log", yscale="log", xlabel="prompt tokens", ylabel="decode step (ms)", title="decode step")
step.legend(fontsize=7)
fig.suptitle(f"{hw.name}, stack {hw.stack}: roofline.sweep")
fig.tight_layout()
fig.savefig(out)
print(out)
