#!/usr/bin/env python3
"""README's charts and their captions, both from one run.

Each chart of README is drawn by the command IMAGES gives it; gnuplot's SVG carries the run's own
caption as its <title> (report/plot.cpp: model, part, stack, workload, targets). Under each image
README has one line, `<sub>Drawn by <code>COMMAND</code>: TITLE</sub>`, made from those two.

    tools/readme_images.py [--build build] regenerate   runs every command (the images in docs/),
                                                        then writes the caption lines into README
    tools/readme_images.py check                        README's caption lines against the images'
                                                        titles (no command runs); exit 1 if any differs

docs/python_sweep.svg is drawn by matplotlib (python/plot_sweep.py), not by these commands, and
has no such caption.
"""
import argparse
import html
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

IMAGES = {
    "docs/compare_7b_batch1.svg":
        "build/examples/compare --models model_specs/xlstm_7b.yaml model_specs/llama2_7b.yaml "
        "--hw hw_profiles/h100_sxm.yaml --stack stacks/hf_transformers_h100.yaml --batch 1 "
        "--prefill-range 512:131072 --generate 100 --plot docs/compare_7b_batch1.svg",
    "docs/roofline_xlstm_7b_prefill.svg":
        "build/examples/estimate --stack stacks/hf_transformers_h100.yaml --plot docs/roofline_xlstm_7b_prefill.svg",
    "docs/tp_llama3.1_70b_h100.svg":
        "build/examples/estimate --model model_specs/llama3.1_70b.yaml --batch 32 --prefill 2048 --generate 128 "
        "--plot-tp docs/tp_llama3.1_70b_h100.svg --max-tp 16",
    "docs/simulation_timeline_llama3.1_8b_h100.svg":
        "build/examples/serve --stack stacks/vllm_h100_sxm.yaml --isl 1024 --osl 512 --request-rate 12 "
        "--isl-dist lognormal:1024:800 --osl-dist uniform:64:1024 --requests 3000 "
        "--plot docs/simulation_timeline_llama3.1_8b_h100.svg",
    "docs/frontier_llama3.1_70b_8xh100.svg":
        "build/examples/best_deployment --model model_specs/llama3.1_70b.yaml --quant fp8 --engine trtllm --gpus 8 "
        "--isl 4096 --osl 512 --ttft-ms 1000 --tpot-ms 30 --plot docs/frontier_llama3.1_70b_8xh100.svg",
    "docs/frontier_qwen3_235b_a22b_8xh100.svg":
        "build/examples/best_deployment --model model_specs/qwen3_235b_a22b.yaml --quant fp8_block --engine trtllm "
        "--gpus 8 --isl 4096 --osl 512 --ttft-ms 1000 --tpot-ms 30 --plot docs/frontier_qwen3_235b_a22b_8xh100.svg",
    "docs/frontier_gpt_oss_120b_8xh100.svg":
        "build/examples/best_deployment --model model_specs/gpt_oss_120b.yaml --quant ,mxfp4 --engine trtllm "
        "--gpus 8 --isl 4096 --osl 512 --ttft-ms 1000 --tpot-ms 30 --plot docs/frontier_gpt_oss_120b_8xh100.svg",
    "docs/frontier_xlstm_llama_1xh100.svg":
        "build/examples/best_deployment --model model_specs/xlstm_7b.yaml --model model_specs/llama3_8b.yaml "
        "--engine trtllm --gpus 1 --isl 16384 --osl 1024 --max-concurrency 512 "
        "--plot docs/frontier_xlstm_llama_1xh100.svg",
    "docs/h100_validation.svg":
        "build/examples/validate --hw hw_profiles/h100_sxm.yaml --stack stacks/hf_transformers_h100.yaml "
        "--measurements measurements/h100_paper.csv --plot docs/h100_validation.svg --plot-batch 16",
    "docs/pareto_3e21_16k.svg":
        "build/examples/pareto --compute 3e21 --contexts 16384 --stack stacks/hf_transformers_h100.yaml "
        "--plot docs/pareto_3e21_16k.svg",
    "docs/serving_validation.svg":
        "build/examples/validate --engine-runs measurements/serving/engine_runs.csv --plot docs/serving_validation.svg",
}
CAPTION = re.compile(r"^<sub>Drawn by <code>.*</code>: .*</sub>$")
IMAGE = re.compile(r"!\[[^\]]*\]\((docs/[^)]+\.svg)\)")


def svg_title(path):
    """The <title> gnuplot's SVG holds (the run's caption), unescaped; None where it has none."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r"<title>([^<]*)</title>", text)
    return html.unescape(m.group(1)) if m and m.group(1) != "Gnuplot" else None


def caption_line(image, root=ROOT):
    title = svg_title(os.path.join(root, image))
    if title is None:
        raise SystemExit(f"{image}: the SVG has no caption in its <title>; regenerate it")
    return f"<sub>Drawn by <code>{html.escape(IMAGES[image], quote=False)}</code>: {html.escape(title, quote=False)}</sub>"


def readme_with_captions(text, root=ROOT):
    """README's text with the caption line under every image of IMAGES (added or replaced); an image
    README shows that IMAGES does not list (but the matplotlib one) is an error."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        images = [m for m in IMAGE.findall(line)]
        i += 1
        if not images:
            continue
        if i < len(lines) and CAPTION.match(lines[i]):
            i += 1  # the old caption, replaced below
        for image in images:
            if image == "docs/python_sweep.svg":
                continue
            if image not in IMAGES:
                raise SystemExit(f"README.md: {image} has no command in tools/readme_images.py's IMAGES")
            out.append(caption_line(image, root))
    return "\n".join(out)


def regenerate(build):
    for image, command in IMAGES.items():
        args = shlex.split(command)
        args[0] = os.path.join(build, "examples", os.path.basename(args[0]))
        print(image, file=sys.stderr)
        subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["regenerate", "check"])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = parser.parse_args()
    readme = os.path.join(ROOT, "README.md")
    text = open(readme, encoding="utf-8").read()
    if a.what == "regenerate":
        regenerate(a.build)
        open(readme, "w", encoding="utf-8").write(readme_with_captions(text))
        return 0
    want = readme_with_captions(text)
    if want != text:
        print("README.md: a chart's caption line differs from its image's title (tools/readme_images.py "
              "regenerate writes them)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
