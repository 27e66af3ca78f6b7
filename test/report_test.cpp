// report and the estimate program: JSON/CSV that tools parse, tables, and bad command lines.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "roofline/io/io.hpp"
#include "roofline/report/html.hpp"
#include "roofline/report/report.hpp"
#include "roofline/report/table.hpp"

using namespace roofline;

namespace {

struct run_result {
  int status;
  std::string out;
};

// Runs the estimate program with `args` and shell redirections `redirect`; returns what it printed.
run_result run(const std::string& args, const std::string& redirect) {
  const std::string cmd = std::string(ROOFLINE_ESTIMATE) + " " + args + " " + redirect;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

run_result run_estimate(const std::string& args) { return run(args, "2>/dev/null"); }
std::string estimate_stderr(const std::string& args) { return run(args, "2>&1 >/dev/null").out; }

const std::string xlstm = test::source_dir + "/model_specs/xlstm_7b.yaml";
// the H100 SXM part on the pure roofline
const std::string h100 =
    test::source_dir + "/hw_profiles/h100_sxm.yaml --stack " + test::source_dir + "/stacks/roofline.yaml";

}  // namespace

TEST_CASE("the JSON report has the documented keys and its ops add up to the phase totals") {
  const run_result r = run_estimate("--model " + xlstm + " --hw " + h100 +
                                    " --batch 8 --prefill 4096 --generate 100 --overlap none --format json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["model"]["name"] == "xlstm_7b");
  CHECK(j["model"]["parameters"] == 6865424896.0);
  CHECK(j["hardware"]["name"] == "NVIDIA H100 SXM5 80GB");
  CHECK(j["workload"]["batch"] == 8);
  CHECK(j["workload"]["prefill"] == 4096);
  CHECK(j["workload"]["generate"] == 100);
  CHECK(j["overlap"] == "none");
  for (const char* phase : {"prefill", "decode"}) {
    CAPTURE(phase);
    const auto& p = j[phase];
    double flops = 0, bytes = 0, time = 0;
    for (const auto& op : p["ops"]) {
      for (const char* key : {"layer", "name", "class", "flops", "bytes", "intensity", "time_s", "bound"})
        CHECK(op.contains(key));
      flops += op["flops"].get<double>();
      bytes += op["bytes"].get<double>();
      time += op["time_s"].get<double>();
    }
    // 11 ops per block (norm, qkv, gates, cell, o gate, head norm, out proj, FFN norm, gate-up, act,
    // down), embedding, final norm, LM head
    CHECK(p["ops"].size() == 32 * 11 + 3);
    CHECK(flops == doctest::Approx(p["flops"].get<double>()).epsilon(1e-12));
    CHECK(bytes == doctest::Approx(p["bytes"].get<double>()).epsilon(1e-12));
    CHECK(time == doctest::Approx(p["time_s"].get<double>()).epsilon(1e-12));  // no overheads in this profile
    CHECK(p["time_s"] == p["time_s_no_overlap"]);
    CHECK(p["time_s_perfect_overlap"].get<double>() < p["time_s"].get<double>());
  }
  CHECK(j["ttft_s"] == j["prefill"]["time_s"]);
  CHECK(j["step_time_s"] == j["decode"]["time_s"]);
  CHECK(j["throughput_tokens_per_s"].get<double>() ==
        doctest::Approx(8 / j["step_time_s"].get<double>()).epsilon(1e-12));
  const auto& m = j["memory"];
  CHECK(m["weights_bytes"] == 6865424896.0 * 2);
  CHECK(m["kv_cache_bytes"] == 0);
  // 8 sequences x 32 layers x 8 heads x (256 x 512 + 256 + 1) x 4 B
  CHECK(m["state_bytes"] == 8.0 * 32 * 8 * (256 * 512 + 256 + 1) * 4);
  CHECK(m["capacity_bytes"] == 80e9);
  CHECK(m["fits"] == true);
}

TEST_CASE("the CSV report lists every op of every layer and the phase totals") {
  const run_result r = run_estimate("--model " + xlstm + " --hw " + h100 + " --format csv");
  REQUIRE(r.status == 0);
  const auto lines = std::count(r.out.begin(), r.out.end(), '\n');
  CHECK(lines == 1 + 2 * (32 * 11 + 3 + 1) + 3);  // header, ops and a total per phase, 3 summary rows
  CHECK(r.out.rfind("phase,layer,kind,op,class,flops,", 0) == 0);
  CHECK(r.out.find("\nprefill,31,mlstm+mlp,mlstm_cell,recurrent,") != std::string::npos);
  CHECK(r.out.find("\ndecode,all,,total,") != std::string::npos);
  // the summary rows: TTFT and step as the JSON report of the same run gives them; the memory by
  // kind, its weights 6,865,424,896 parameters x 2 B and its state 8 sequences x 32 layers x 8
  // heads x (256 x 512 + 256 + 1) x 4 B, as the JSON test above counts them
  const auto j =
      nlohmann::json::parse(run_estimate("--model " + xlstm + " --hw " + h100 + " --format json").out);
  CHECK(r.out.find(fmt::format("\nsummary,all,,ttft,,,,,,,,,,{:.6g},compute\n", j["ttft_s"].get<double>())) !=
        std::string::npos);
  CHECK(r.out.find(fmt::format("\nsummary,all,,step,,,,,,,,,,{:.6g},memory\n",
                               j["step_time_s"].get<double>())) != std::string::npos);
  CHECK(r.out.find(fmt::format("\nsummary,all,,memory,,,{:.10g},", 6865424896.0 * 2)) != std::string::npos);
  CHECK(r.out.find(fmt::format(",0,{:.10g},,,,,fits\n", 8.0 * 32 * 8 * (256 * 512 + 256 + 1) * 4)) !=
        std::string::npos);
}

TEST_CASE("the table names the overlap policy, both bounds and the ridge point") {
  const run_result r = run_estimate("--model " + xlstm + " --hw " + h100 + " --layers");
  REQUIRE(r.status == 0);
  CHECK(r.out.find("overlap perfect") != std::string::npos);
  CHECK(r.out.find("time to first token") != std::string::npos);
  CHECK(r.out.find("no overlap") != std::string::npos);
  CHECK(r.out.find("mlstm_cell (recurrent)") != std::string::npos);
  CHECK(r.out.find("ridge point") != std::string::npos);
  CHECK(r.out.find("295.3 FLOP/B") != std::string::npos);  // 989.4e12 / 3.35e12
}

TEST_CASE("bad command lines and bad files exit non-zero with nothing on stdout") {
  for (const std::string& args :
       std::vector<std::string>{"--batch 0", "--prefill -5", "--generate x", "--overlap partial",
                                "--format xml", "--model no_such.yaml", "--unknown-flag",
                                "--model " + test::test_dir + "/bad_inputs/model_zero_layers.yaml"}) {
    CAPTURE(args);
    const run_result r = run_estimate(args);
    CHECK(r.status != 0);
    CHECK(r.out.empty());
  }
  CHECK(estimate_stderr("--model no_such.yaml") ==
        "error: --model no_such.yaml: no such file, nor a model shipped in " + test::source_dir +
            "/model_specs; `roofline list models` lists them\n");
  CHECK(estimate_stderr("--batch 0") == "error: --batch: must be a positive integer, got '0'\n");
  CHECK(estimate_stderr("--generate 2.5") == "error: --generate: must be a positive integer, got '2.5'\n");
}

TEST_CASE("the tables match the golden reports (ROOFLINE_UPDATE_GOLDEN=1 rewrites them)") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"estimate_default.txt", ""},
      {"estimate_llama3_8b_layers.txt",
       "--model " + test::source_dir +
           "/model_specs/llama3_8b.yaml --batch 4 "
           "--prefill 2048 --generate 64 --overlap smooth --layers --stack " +
           test::source_dir + "/stacks/hf_transformers_h100.yaml"}};
  const bool update = std::getenv("ROOFLINE_UPDATE_GOLDEN") != nullptr;
  for (const auto& [file, args] : cases) {
    const std::string path = test::test_dir + "/golden/" + file;
    const run_result r = run_estimate(args);
    REQUIRE(r.status == 0);
    if (update) std::ofstream(path) << r.out;
    std::ifstream in(path);
    const std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CAPTURE(path);
    CHECK(r.out == golden);
  }
}

TEST_CASE("a table leaves its droppable columns out to fit, a whole rank at a time; Markdown keeps all") {
  // widths by hand: name 4 ("x|y" 3), a 1, b 2, c 3, total 5; two spaces apart: 15 + 8 = 23
  detail::text_table t({{"name", true}, {"a", false, 1}, {"b", false, 1}, {"c", false, 2}, {"total"}});
  t.row({"x|y", "1", "22", "333", "4444"});
  CHECK(t.render({.width = 23}) == "name  a   b    c  total\nx|y   1  22  333   4444\n");
  // 22: rank 1 (a and b) leaves; name, c and total take 4 + 3 + 5 + 4 = 16; the note wraps at 22
  CHECK(t.render({.width = 22}) ==
        "name    c  total\nx|y   333   4444\n(left out to fit 22\n  columns: a, b;\n  --wide shows them)\n");
  // 15: rank 2 (c) leaves too: 4 + 5 + 2 = 11
  CHECK(t.render({.width = 15}).rfind("name  total\nx|y    4444\n(left out to\n", 0) == 0);
  CHECK(t.render({.wide = true, .width = 10}) == "name  a   b    c  total\nx|y   1  22  333   4444\n");
  CHECK(t.render({.markdown = true, .width = 10}) ==
        "| name | a | b | c | total |\n| --- | ---: | ---: | ---: | ---: |\n| x\\|y | 1 | 22 | 333 | 4444 "
        "|\n\n");
}

TEST_CASE("long lines wrap at spaces under a hanging indent; leading spaces stay") {
  CHECK(detail::wrap("one two three", 7, 2) == "one two\n  three");
  CHECK(detail::wrap("  ab cd ef", 6, 4) == "  ab\n    cd\n    ef");
  CHECK(detail::wrap("a-very-long-word b", 5, 1) == "a-very-long-word\n b");
  CHECK(detail::wrap("fits", 0, 2) == "fits");
  detail::summary_table s(6, 4);
  s.line("TTFT", "1 s", "first note is long");
  // "TTFT  " + " 1 s" + "   " + note, wrapped at 20 under the note's column (13), its spaces kept
  CHECK(s.render({.width = 20}) == "TTFT   1 s   first\n             note is\n             long\n");
  CHECK(detail::wrap("a  b   c", 4, 0) == "a  b\nc");
  CHECK(s.render({.markdown = true}) ==
        "|  |  |  |\n| --- | ---: | --- |\n| TTFT | 1 s | first note is long |\n\n");
}

TEST_CASE(
    "an HTML page shows the Markdown tables as HTML, escapes its text and keeps charts and JSON apart") {
  const roofline::html_page page{
      .title = "a <b> & 'c'",
      .command = "roofline estimate --model 'x y'",
      .markdown = "### ops\n\n| op | time |\n| --- | ---: |\n| qkv | <2 ms> |\n",
      .charts =
          {{.caption = "the \"roofline\"",
            .svg = "<?xml version=\"1.0\"?>\n<svg viewBox=\"0 0 600 400\"><text>q &amp; r</text></svg>\n"}},
      .assumptions = {"one `x`", "two <i>"},
      .json = "{\"a\": \"</script>\"}\n"};
  const std::string h = roofline::html_text(page);
  CHECK(h.starts_with("<!DOCTYPE html>\n"));
  CHECK(h.find("<title>a &lt;b&gt; &amp; &#39;c&#39;</title>") != std::string::npos);
  CHECK(h.find("<code>roofline estimate --model &#39;x y&#39;</code>") != std::string::npos);
  // the pipe table as an HTML table, its alignment kept; raw HTML in a cell is text
  CHECK(h.find("<h3>ops</h3>") != std::string::npos);
  CHECK(h.find("<th>op</th>") != std::string::npos);
  CHECK(h.find("<th align=\"right\">time</th>") != std::string::npos);
  CHECK(h.find("<td align=\"right\">&lt;2 ms&gt;</td>") != std::string::npos);
  // the chart: its SVG (from <svg on, no XML prolog) in an iframe's srcdoc, escaped once; the
  // iframe as wide as the page and as tall as the viewBox's ratio says
  CHECK(h.find("style=\"aspect-ratio: 600 / 400\"") != std::string::npos);
  CHECK(h.find("&lt;svg viewBox=&quot;0 0 600 400&quot;&gt;&lt;text&gt;q &amp;amp; r&lt;/text&gt;") !=
        std::string::npos);
  CHECK(h.find("<svg") == std::string::npos);
  CHECK(h.find("&lt;?xml") == std::string::npos);
  CHECK(h.find("<figcaption>the &quot;roofline&quot;</figcaption>") != std::string::npos);
  CHECK(h.find("<li>one <code>x</code></li>") != std::string::npos);
  CHECK(h.find("<li>two <i></li>") == std::string::npos);  // raw HTML is not passed through
  // the JSON whole, but "</" written "<\/" so that it cannot end the script element
  CHECK(
      h.find("<script type=\"application/json\" id=\"report-json\">\n{\"a\": \"<\\/script>\"}\n</script>") !=
      std::string::npos);
  // nothing from elsewhere
  CHECK(h.find("http") == std::string::npos);
}
