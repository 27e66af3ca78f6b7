#!/usr/bin/env python3
"""Checks the shape of the source tree that docs/architecture.md promises; run by the test command.

- every C++ file is formatted as .clang-format says (clang-format --dry-run --Werror);
- no line over 110 characters in lib/, tools/, examples/, test/ and python/;
- no file over 600 lines and no function body over 80 lines in lib/;
- stages: an include in lib/roofline/<stage>/ names only its own stage or a lower one (STAGES);
- every header of lib/roofline is installed (lib/roofline/meson.build's list), but the internal ones.

Prints one line per problem, then `tree: passed` or `tree: failed (N problems)`; exit 0 or 1.
Usage: tools/check_tree.py [--no-format] (from anywhere; it works on its own checkout).
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The stages of lib/roofline, lowest first: a stage may include its own and lower stages only.
STAGES = ["base", "spec", "graph", "io", "timing", "estimate", "sweep", "serving", "scaling", "fit", "report"]
INTERNAL = ("io/io_reader.hpp", "io/hf/", "sweep/sweep_plan.hpp", "serving/sim_detail.hpp", "report/text.hpp",
            "report/table.hpp", "report/html.hpp", "fit/sample_cost.hpp")  # used by the .cpp files and the programs only, not installed
MAX_LINE, MAX_FILE, MAX_FUNCTION = 110, 600, 80
UMBRELLA = "roofline.hpp"  # lib/roofline/roofline.hpp: the one header users include
CONTROL = re.compile(r"^\s*(if|for|while|switch|catch|do|else|try)\b|\b(return|=)\s*$")


def cpp_files(*folders):
    for folder in folders:
        yield from sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in (".cpp", ".hpp"))


def strip_code(text):
    """The text with comments, string and character literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c in "\"'" and not (c == "'" and i > 0 and text[i - 1].isalnum()):  # 1'000 digit separators
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def long_functions(path):
    """(name line, length) of every function body at namespace or class scope longer than MAX_FUNCTION."""
    code = strip_code(path.read_text())
    scopes, head_start, found = [], 0, []  # scopes: (kind, line of its head)
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c in ";{}":
            if c == "{":
                head = code[head_start:i]
                outer = scopes[-1][0] if scopes else "namespace"
                if outer in ("function", "other"):
                    kind = "other"
                elif re.search(r"\bnamespace\b", head) or re.search(r'extern\s+"', head):
                    kind = "namespace"
                elif re.search(r"\b(struct|class|union|enum)\b[^()]*$", head):
                    kind = "class"
                elif ")" in head and not CONTROL.search(head):
                    kind = "function"
                else:
                    kind = "other"
                first = line - head.lstrip().count("\n") if head.strip() else line
                scopes.append((kind, first))
            elif c == "}" and scopes:
                kind, first = scopes.pop()
                if kind == "function" and line - first + 1 > MAX_FUNCTION:
                    found.append((first, line - first + 1))
            head_start = i + 1
    return found


def includes_of(path):
    return re.findall(r'^\s*#\s*include\s+[<"]roofline/([^">]+)[">]', path.read_text(), re.M)


def main():
    problems = []
    check_format = "--no-format" not in sys.argv[1:]
    for path in cpp_files("lib", "tools", "examples", "test", "python"):
        rel = path.relative_to(ROOT)
        for no, text in enumerate(path.read_text().splitlines(), 1):
            if len(text) > MAX_LINE:
                problems.append(f"{rel}:{no}: line of {len(text)} characters (at most {MAX_LINE})")
    lib = ROOT / "lib" / "roofline"
    for path in cpp_files("lib"):
        rel = path.relative_to(ROOT)
        lines = path.read_text().count("\n")
        if lines > MAX_FILE:
            problems.append(f"{rel}:1: {lines} lines (at most {MAX_FILE}): split it by what it holds")
        for first, length in long_functions(path):
            problems.append(f"{rel}:{first}: a function of {length} lines (at most {MAX_FUNCTION})")
        stage = path.relative_to(lib).parts[0]
        if path.name == UMBRELLA and path.parent == lib:
            continue  # the umbrella header includes every stage
        if stage not in STAGES:
            problems.append(f"{rel}:1: '{stage}' is not a stage of lib/roofline ({', '.join(STAGES)})")
            continue
        for inc in includes_of(path):
            other = inc.split("/")[0]
            if other not in STAGES:
                problems.append(f"{rel}: includes roofline/{inc}, which is in no stage")
            elif STAGES.index(other) > STAGES.index(stage):
                problems.append(f"{rel}: stage '{stage}' includes roofline/{inc} of the higher stage '{other}'")
    meson = (lib / "meson.build").read_text()
    for path in sorted(lib.rglob("*.hpp")):
        rel = path.relative_to(lib).as_posix()
        internal = any(rel.startswith(i) for i in INTERNAL)
        if internal == (f"'{rel}'" in meson):
            problems.append(f"lib/roofline/meson.build: the header {rel} is {'' if internal else 'not '}installed"
                            f"{' but internal' if internal else ''}")
    if check_format:
        clang_format = shutil.which("clang-format")
        if not clang_format:
            problems.append("clang-format is not installed: the formatting is not checked")
        else:
            files = [str(p) for p in cpp_files("lib", "tools", "examples", "test", "python")]
            res = subprocess.run([clang_format, "--dry-run", "--Werror", *files], capture_output=True, text=True)
            for text in res.stderr.splitlines():
                if ": error: code should be clang-formatted" in text:
                    where = text.split(" error:")[0].replace(str(ROOT) + "/", "")
                    problems.append(where + " not formatted as .clang-format says")
    for p in problems:
        print(p)
    print("tree: passed" if not problems else f"tree: failed ({len(problems)} problems)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
