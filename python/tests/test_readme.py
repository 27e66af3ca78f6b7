"""README's Python example, run as written from a folder outside the tree, and the values its
comments state (`expr  # value, value`) equal what the expressions give (4 significant digits);
every README command runs as written (synopses with placeholders and the listed slow ones aside).

Run by the test command on the build tree (PYTHONPATH=build/python) and on the pip-installed
package (the wheel step of ./quickstart test).
"""
import ast
import importlib.util
import math
import os
import re
import subprocess
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme_python_block():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    section = text[text.index("\n## From Python\n"):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's 'From Python' section has no ```python block"
    return match.group(1)


def stated_values(block):
    """(line number, expression, stated values) of each line whose comment is a literal."""
    out = []
    for number, line in enumerate(block.splitlines(), 1):
        code, _, comment = line.partition("#")
        if not comment.strip() or "=" in code:
            continue
        try:
            stated = ast.literal_eval("(" + comment.strip() + ",)")
        except (ValueError, SyntaxError):
            continue
        out.append((number, code.strip(), stated))
    return out


def same(got, stated):
    if isinstance(stated, bool) or isinstance(stated, str):
        return got == stated
    return math.isclose(got, stated, rel_tol=0, abs_tol=0.5 * 10 ** (math.floor(math.log10(abs(stated))) - 3))


def test_readme_python_example_runs_and_prints_what_it_says(tmp_path, monkeypatch):
    block = readme_python_block()
    checks = stated_values(block)
    assert len(checks) >= 2, "the example states its values in comments"
    monkeypatch.chdir(tmp_path)  # not the source tree: names and shipped paths resolve through data_dir()
    scope = {}
    exec(compile(block, "README.md (From Python)", "exec"), scope)
    for number, expr, stated in checks:
        got = eval(expr, scope)
        got = got if isinstance(got, tuple) else (got,)
        assert len(got) == len(stated), f"line {number}: {expr}"
        for g, s in zip(got, stated):
            assert same(g, s), f"line {number}: {expr} gives {g}, README says {s}"


# README commands not run here, each with its reason (a new command is run unless listed)
NOT_RUN = {
    "build/examples/validate --engine-runs measurements/serving/engine_runs.csv --simulate":
        "simulates every engine run (about two minutes); the simulator's validation is tested in test/",
    "build/examples/calibrate --engine-runs measurements/serving/engine_runs.csv --engine trtllm --system h100_sxm "
    "--stack stacks/torch_kernels_h100.yaml --simulate":
        "a refit through the simulator takes minutes; calibrate's fits are tested in test/calibrate_test.cpp",
    "build/examples/calibrate --hw hw_profiles/h100_sxm.yaml --stack stacks/roofline.yaml --measurements "
    "measurements/h100_paper.csv":
        "the paper stack's cross-validated fit takes 18 s; its fit is tested in test/command_test.cpp",
    "build/examples/sweep --model model_specs/llama3_8b.yaml --stack stacks/roofline.yaml --batch $(seq":
        "the README's benchmark of writing 1.33 GB of CSV",
    "build/examples/bench_estimate": "a benchmark",
    "build/examples/calibrate --engine-runs measurements/serving/engine_runs.csv --engine vllm --system b200_sxm":
        "an engine stack's fit with cross-validation takes 5 s; calibrate's fits are tested in test/",
}
OUTPUTS = ("--plot", "--plot-tp", "--out", "--timeline", "--predictions", "--report")


def readme_commands():
    """Every build/examples command in README, in code blocks (continued lines joined, optional
    [...] parts dropped) and inline code, with its line."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    found = []
    fence, current, start = None, "", 0
    for number, line in enumerate(text.split("\n"), 1):
        if line.startswith("```"):  # a fence opens a block (```python: not commands) or closes one
            fence = None if fence is not None else line[3:]
            continue
        if fence != "":
            continue
        if current:
            current += " " + line.strip()
        elif line.startswith("build/examples/"):
            current, start = line.strip(), number
        else:
            continue
        if current.endswith("\\"):
            current = current[:-1].strip()
            continue
        found.append((start, current))
        current = ""
    for inline in re.finditer(r"`(build/examples/[^`]*)`", text, re.S):
        found.append((text.count("\n", 0, inline.start()) + 1, re.sub(r"\s+", " ", inline.group(1))))
    out = []
    for line, cmd in found:
        cmd = re.sub(r"\s+#.*$", "", cmd)
        while re.search(r"\[[^\[\]]*\]", cmd):
            cmd = re.sub(r"\s*\[[^\[\]]*\]", "", cmd)
        out.append((line, cmd.strip()))
    return out


def placeholder(cmd):
    """Why a command is a synopsis, not a command (None: it runs as written)."""
    for token in cmd.split():
        if token in ("...", "|") or "<" in token or "(" in token or (token.isupper() and token.isalpha()):
            return f"placeholder {token!r}"
        if re.fullmatch(r"(my_gpu|config)\S*", os.path.basename(token)):
            return f"a file of the reader's own, {token}"
    return None


def programs():
    """How a README command's program runs here: build/examples/NAME of the build tree; in the wheel
    step the installed `roofline NAME`. None: neither is here."""
    build = os.environ.get("ROOFLINE_BUILD_DIR", os.path.join(ROOT, "build"))
    installed = os.path.join(sysconfig.get_path("scripts"), "roofline") if os.environ.get("ROOFLINE_WHEEL_TEST") else ""
    if not installed and not os.path.isdir(os.path.join(build, "examples")):
        return None
    return lambda name: [installed, name] if installed else [os.path.join(build, "examples", name)]


def command_args(cmd, tmp_path, program):
    """A README command's arguments, its outputs sent to a folder of the test's, not over docs/."""
    args = cmd.split()
    for i, a in enumerate(args[:-1]):
        if a in OUTPUTS:
            args[i + 1] = str(tmp_path / os.path.basename(args[i + 1]))
    return program(args[0][len("build/examples/"):]) + args[1:]


def test_every_readme_command_runs_as_written(tmp_path):
    program = programs()
    if program is None:
        pytest.skip("no build tree here: the installed command is tested in the wheel step")
    ran = 0
    for line, cmd in readme_commands():
        if any(cmd.startswith(k) for k in NOT_RUN) or placeholder(cmd):
            continue
        done = subprocess.run(command_args(cmd, tmp_path, program), cwd=ROOT, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, f"README.md:{line}: {cmd}\n{done.stderr}"
        assert done.stdout, f"README.md:{line}: {cmd} printed nothing"
        ran += 1
    assert ran >= 15  # the README's commands, not a handful


def test_readme_charts_are_drawn_by_their_commands_and_captioned_from_that_run(tmp_path):
    """tools/readme_images.py: README's caption under each chart is the chart's own title (the run's
    model, part, stack and workload, as report/plot.cpp writes it) beside its command; the command,
    run again, draws a chart with that title."""
    spec = importlib.util.spec_from_file_location("readme_images", os.path.join(ROOT, "tools", "readme_images.py"))
    images = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(images)
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert images.readme_with_captions(text) == text, "tools/readme_images.py regenerate rewrites the captions"
    shown = set(re.findall(r"!\[[^\]]*\]\((docs/[^)]+\.svg)\)", text)) - {"docs/python_sweep.svg"}
    assert shown <= set(images.IMAGES)
    program = programs()
    if program is None:
        pytest.skip("no build tree here: the installed command is tested in the wheel step")
    for image, cmd in images.IMAGES.items():
        done = subprocess.run(command_args(cmd, tmp_path, program), cwd=ROOT, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, f"{image}: {cmd}\n{done.stderr}"
        drawn = images.svg_title(str(tmp_path / os.path.basename(image)))
        assert drawn and drawn == images.svg_title(os.path.join(ROOT, image)), (image, drawn)
