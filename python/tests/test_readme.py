"""README's Python example, run as written from a folder outside the tree, and the values its
comments state (`expr  # value, value`) equal what the expressions give (4 significant digits).

Run by the test command on the build tree (PYTHONPATH=build/python) and on the pip-installed
package (the wheel step of ./quickstart test).
"""
import ast
import math
import os
import re

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
