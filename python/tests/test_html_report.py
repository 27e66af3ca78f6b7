"""`--report out.html` of estimate, serve, best_deployment and validate, opened in a headless
Chromium (Selenium with chromedriver, Debian's chromium-driver and python3-selenium): the page
renders (a screenshot of it, saved under the build tree and checked not blank), logs no console
error, loads nothing from elsewhere, shows the report's tables and charts, and hovering a chart's
point shows that point's numbers, checked against the report's own JSON embedded in the page.

The test command installs the browser; elsewhere these tests are skipped without it unless
ROOFLINE_REQUIRE_BROWSER=1 (set by ./quickstart test), where its absence fails them.
"""
import html
import json
import os
import re
import shutil
import subprocess
import time
import zlib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ROOFLINE_BUILD_DIR", os.path.join(ROOT, "build"))
BUILD = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def browser_missing():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is not installed"
    if not os.path.exists(CHROMEDRIVER) or not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "chromium and chromium-driver are not installed"
    return None


def program(name):
    return os.path.join(BUILD, "examples", name)


@pytest.fixture(scope="module")
def browser():
    why = browser_missing()
    if why:
        if os.environ.get("ROOFLINE_REQUIRE_BROWSER") == "1":
            pytest.fail(why + " (./quickstart test installs them)")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,1000"]:
        options.add_argument(a)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def make_report(tmp_path, name, *args):
    """Writes the report page of `name ARGS` and returns it with the count of the tables the same
    command prints with --format markdown (each has one separator row, | --- | ...)."""
    out = tmp_path / f"{name}.html"
    run = subprocess.run([program(name), *args, "--report", str(out)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert out.exists()
    markdown = subprocess.run([program(name), *args, "--format", "markdown"], capture_output=True, text=True,
                              timeout=300)
    assert markdown.returncode == 0, markdown.stderr
    tables = sum(1 for line in markdown.stdout.splitlines() if re.fullmatch(r"\|( *-+:? *\|)+", line.strip()))
    assert tables >= 1
    return out, tables


def png_pixels(png):
    """The decompressed scanlines of a PNG (8-bit RGB or RGBA, as Chromium writes them) and its size."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        kind, body = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return zlib.decompress(idat), width, height


def open_page(browser, path, screenshot_name):
    """Loads the page, saves its screenshot (the whole page's height) and returns the console log."""
    browser.set_window_size(1400, 1000)
    browser.get("file://" + str(path))
    browser.execute_script("return document.readyState")
    time.sleep(0.3)  # the charts' documents (srcdoc) run their scripts
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1400, min(height + 150, 8000))
    shots = os.path.join(BUILD, "html_report_screenshots")
    os.makedirs(shots, exist_ok=True)
    shot = os.path.join(shots, screenshot_name + ".png")
    assert browser.save_screenshot(shot), shot
    pixels, width, h = png_pixels(open(shot, "rb").read())
    assert width >= 1000 and h >= 900, (width, h)
    # rendered: text, tables and charts make many shades; a blank or failed page has a few
    assert len(set(pixels[:: 7])) > 60, f"{shot} looks blank"
    return browser.get_log("browser")


def no_errors(log):
    return [e for e in log if e.get("level") == "SEVERE"]


def loads_nothing_from_elsewhere(browser, text):
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text), "the page links to a file elsewhere"
    assert "@import" not in text and "url(http" not in text
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(r.startswith(("about:", "data:")) for r in resources), resources


def embedded_json(browser):
    return json.loads(browser.execute_script("return document.getElementById('report-json').textContent"))


def hover_texts(browser, frame, count=None):
    """Hovers each point of a chart that has hover text (at most `count`) and returns how many there
    are and the lines each shows."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.execute_script("arguments[0].scrollIntoView()", frame)
    browser.switch_to.frame(frame)
    try:
        # gnuplot's script ran: it moved every point's hover text from its attribute to a listener
        assert browser.execute_script("return document.querySelectorAll('g[onmousemove]').length") == 0
        points = browser.execute_script(
            "return Array.from(document.querySelectorAll('g > title'))"
            ".filter(t => t.textContent === ' ').map(t => t.parentNode.querySelector('use, path, circle'))"
            ".filter(e => e && e.getBoundingClientRect().width > 0)")
        assert points, "the chart has no point with hover text"
        seen = []
        for p in points[:count] if count else points:
            ActionChains(browser).move_to_element(p).perform()
            box = browser.find_element(By.ID, "hypertextbox")
            if box.get_attribute("visibility") != "visible":
                continue  # a key entry's sample point under another element
            lines = browser.execute_script(
                "return Array.from(document.getElementById('hypertext').childNodes).map(n => n.textContent)")
            seen.append([line.strip() for line in lines if line.strip()])
        return len(points), seen
    finally:
        browser.switch_to.default_content()


def check_page(browser, path, name, tables, charts, command=None):
    from selenium.webdriver.common.by import By

    text = path.read_text(encoding="utf-8")
    log = open_page(browser, path, name)
    name = command or name
    assert no_errors(log) == [], log
    loads_nothing_from_elsewhere(browser, text)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#report table")) == tables
    frames = browser.find_elements(By.CSS_SELECTOR, "iframe.chart")
    assert len(frames) == charts
    assert browser.find_elements(By.CSS_SELECTOR, "#assumptions li"), "no assumption listed"
    command = browser.find_element(By.CSS_SELECTOR, "pre.command").text
    assert command.startswith(program(name)) and "--report" in command
    return frames


def test_estimate_report_renders_and_its_ops_show_their_numbers_on_hover(browser, tmp_path):
    path, tables = make_report(tmp_path, "estimate", "--model", "llama3.1-8b", "--batch", "4", "--prefill", "2048")
    frames = check_page(browser, path, "estimate", tables=tables, charts=1)
    report = embedded_json(browser)
    assert report["workload"]["batch"] == 4 and report["workload"]["prefill"] == 2048
    _, seen = hover_texts(browser, frames[0])
    assert len(seen) >= 4
    # each hovered line "op: FLOPs, bytes, FLOP/B, ...": the op is one of the report's, with the
    # intensity the JSON gives it
    ops = {}
    for ph in ("prefill", "decode"):
        for o in report[ph]["ops"]:
            ops.setdefault(o["name"], []).append(o["intensity"])
    checked = 0
    for lines in seen:
        for line in lines:
            m = re.match(r"(\w+): .*?, ([\d.]+) FLOP/B, .*\((compute|memory|overhead|communication)-bound\)", line)
            assert m, line
            assert m.group(1) in ops, line
            assert any(abs(float(m.group(2)) - x) <= 0.05 + 1e-3 * x for x in ops[m.group(1)]), (line, ops[m.group(1)])
            checked += 1
    assert checked >= 4


def test_simulated_serve_report_shows_the_timeline_and_the_closed_form_says_it_has_none(browser, tmp_path):
    path, tables = make_report(tmp_path, "serve", "--model", "llama3.1-8b", "--simulate", "--requests", "200",
                               "--concurrency", "16", "--isl", "1024", "--osl", "128")
    check_page(browser, path, "serve_simulated", tables=tables, charts=1, command="serve")
    report = embedded_json(browser)
    assert report["load"]["requests"] == 200
    from selenium.webdriver.common.by import By

    text = browser.find_element(By.ID, "report").text
    assert f"{report['ttft_ms']['p90']:.2f}" in text  # the table shows the JSON's p90 TTFT
    path, tables = make_report(tmp_path, "serve", "--model", "llama3.1-8b")
    check_page(browser, path, "serve", tables=tables, charts=0)
    assert "--simulate" in browser.find_element(By.ID, "charts").text


def test_best_deployment_report_shows_each_deployment_on_hover(browser, tmp_path):
    path, tables = make_report(tmp_path, "best_deployment", "--model", "llama3.1-8b", "--gpus", "2",
                               "--max-concurrency", "64", "--tpot-ms", "20")
    frames = check_page(browser, path, "best_deployment", tables=tables, charts=1)
    report = embedded_json(browser)["models"][0]
    drawn, seen = hover_texts(browser, frames[0])
    assert drawn == report["points"]  # every deployment searched is a point with its numbers
    frontier, checked = report["frontier"], 0
    for lines in seen:
        # "agg 1x tp 2, 8 in flight" / "TTFT 20.5 ms, TPOT 1.09 ms" / "916.3 tokens/s a user, 110.7 a GPU"
        m = re.match(r"(agg|disagg) .*, ([\d.]+) in flight", lines[0])
        g = re.match(r"([\d.]+) tokens/s a user, ([\d.]+) a GPU( \(on the frontier\))?", lines[2])
        assert m and g and lines[1].startswith("TTFT "), lines
        if not g.group(3):
            continue
        same = [p for p in frontier if p["mode"] == m.group(1) and p["concurrency"] == float(m.group(2))
                and abs(p["tokens_per_s_gpu"] - float(g.group(2))) <= 5e-4 * p["tokens_per_s_gpu"]
                and abs(p["tokens_per_s_user"] - float(g.group(1))) <= 5e-4 * p["tokens_per_s_user"]]
        assert same, lines
        checked += 1
    assert checked == len(frontier)


def test_validate_report_shows_each_run_on_hover(browser, tmp_path):
    runs = tmp_path / "runs.csv"
    lines = open(os.path.join(ROOT, "measurements", "serving", "engine_runs.csv"), encoding="utf-8").read().splitlines()
    header = lines[0].split(",")
    picked = [row for row in lines[1:] if ",vllm," in row and "h100_sxm" in row][:40]
    runs.write_text("\n".join([lines[0], *picked]) + "\n", encoding="utf-8")
    path, tables = make_report(tmp_path, "validate", "--engine-runs", str(runs))
    frames = check_page(browser, path, "validate", tables=tables, charts=1)
    cells = embedded_json(browser)["cells"]
    assert cells and all(c["engine"] == "vllm" for c in cells)
    measured = {}
    ttft, tpot = header.index("silicon_ttft_ms"), header.index("silicon_tpot_ms")
    for number, row in enumerate(picked, 2):
        fields = row.split(",")
        measured[number] = (float(fields[ttft]), float(fields[tpot]))
    drawn, seen = hover_texts(browser, frames[0], count=30)
    assert drawn == sum(c["n"] for c in cells)  # a cell per engine, part and metric: each run twice
    assert len(seen) >= 10
    unit = {"s": 1e3, "ms": 1, "us": 1e-3, "ns": 1e-6}
    for lines_ in seen:
        line = int(re.search(r"\(line (\d+)\)", lines_[0]).group(1))
        m = re.match(r"(TTFT|TPOT) measured ([\d.]+) (s|ms|us|ns)", lines_[1])
        assert m, lines_
        want = measured[line][0 if m.group(1) == "TTFT" else 1]
        assert abs(float(m.group(2)) * unit[m.group(3)] - want) <= 5e-4 * want, (lines_, want)


def test_a_report_escapes_what_it_shows(tmp_path):
    # no browser needed: the page's text as written
    path, _ = make_report(tmp_path, "estimate", "--model", "llama3.1-8b", "--batch", "2")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    title = re.search(r"<title>(.*?)</title>", text).group(1)
    assert html.unescape(title) == "llama3.1_8b on NVIDIA H100 SXM5 80GB (stack datasheet): batch 2, prompt 16384, 100 generated"
    # the chart's document is in the srcdoc attribute, escaped: no raw <svg in the page itself
    assert text.count("<svg") == 0 and text.count("&lt;svg") == 1
    data = re.search(r'<script type="application/json" id="report-json">\n(.*?)</script>', text, re.S).group(1)
    assert json.loads(data)["workload"]["batch"] == 2
