"""The pip-installed package (pip install . into a fresh venv): the module, the `roofline`
command and `python3 -m roofline` find the shipped data inside the package, by name.

Run by the wheel step of ./quickstart test with the venv's python and ROOFLINE_WHEEL_TEST=1;
skipped in the build tree's run (the package there is the build tree's).
"""
import os
import subprocess
import sys
import sysconfig

import pytest

pytestmark = pytest.mark.skipif(not os.environ.get("ROOFLINE_WHEEL_TEST"),
                                reason="the installed package is tested by the wheel step")

import roofline as rl  # noqa: E402

COMMAND = os.path.join(sysconfig.get_path("scripts"), "roofline")


def run(*args, cwd):
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, check=False)


def test_the_module_and_its_data_are_the_installed_package():
    package = os.path.dirname(os.path.abspath(rl.__file__))
    assert package.startswith(os.path.abspath(sys.prefix))  # the venv's site directory, not the tree
    assert rl.data_dir() == os.path.join(package, "data")
    assert os.path.isfile(os.path.join(rl.data_dir(), "hw_profiles", "h100_sxm.yaml"))
    assert os.path.isfile(os.path.join(rl.data_dir(), "measurements", "serving", "engine_runs.csv"))


def test_the_command_estimates_by_name(tmp_path):
    out = run(COMMAND, "estimate", "--model", "llama3.1-8b", "--hw", "h100", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("llama3.1_8b (")
    by_hf = run(COMMAND, "estimate", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--hw", "h100", cwd=tmp_path)
    assert by_hf.returncode == 0, by_hf.stderr
    assert by_hf.stdout == out.stdout  # the same spec, found by its HuggingFace id
    engine = run(COMMAND, "estimate", "--model", "llama3.1-8b", "--hw", "h100", "--engine", "vllm", cwd=tmp_path)
    assert engine.returncode == 0, engine.stderr
    assert "vllm_h100_sxm" in engine.stdout


def test_python_m_roofline_is_the_command(tmp_path):
    listed = run(sys.executable, "-m", "roofline", "list", "parts", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == run(COMMAND, "list", "parts", cwd=tmp_path).stdout
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == [p["name"] for p in rl.list_shipped("parts")]
    helped = run(COMMAND, "--help", cwd=tmp_path)
    assert helped.returncode == 0
    assert rl.data_dir() in helped.stdout  # it reads the package's data


def test_an_unknown_name_lists_the_closest(tmp_path):
    out = run(COMMAND, "estimate", "--model", "llama3.1-8c", "--hw", "h100", cwd=tmp_path)
    assert out.returncode != 0 and out.stdout == ""
    assert "closest: llama3.1_8b" in out.stderr
    with pytest.raises(rl.InputError, match="closest: llama3.1_8b"):
        rl.load_model("llama3.1-8c")
