// The roofline command: subcommands, its help, and every bad command line or file it is given:
// one line "error: ..." on stderr, a non-zero exit, nothing on stdout.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "helpers.hpp"
#include "roofline/fit/calibrate.hpp"
#include "roofline/report/text.hpp"

namespace {

struct result {
  int status;
  std::string out, err;
};

// Runs `roofline ARGS`, capturing stdout and stderr apart.
result run_roofline(const std::string& args) {
  const std::string err_file =
      (std::filesystem::temp_directory_path() / ("roofline_err_" + std::to_string(::getpid()))).string();
  FILE* p = popen((std::string(ROOFLINE_COMMAND) + " " + args + " 2>" + err_file).c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  std::ifstream in(err_file);
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(err_file);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, err};
}

std::string write(const std::string& name, const std::string& text) {
  const std::string path =
      (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_" + name)).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const std::string h100 = test::source_dir + "/hw_profiles/h100_sxm.yaml";
const std::string llama = test::source_dir + "/model_specs/llama3_8b.yaml";

}  // namespace

TEST_CASE("roofline lists its subcommands and runs them") {
  const result help = run_roofline("--help");
  CHECK(help.status == 0);
  for (const char* c : {"estimate", "sweep", "serve", "best_deployment", "compare", "import_hf", "validate",
                        "calibrate", "optimal_model", "pareto", "kernel"})
    CHECK(help.out.find(std::string("  ") + c + " ") != std::string::npos);
  const result none = run_roofline("");
  CHECK(none.status == 2);
  CHECK(none.out.empty());
  CHECK(none.err.rfind("usage: roofline <command>", 0) == 0);
  const result est = run_roofline("estimate --batch 1 --prefill 128 --generate 8");
  CHECK(est.status == 0);
  CHECK(est.out.rfind("xlstm_7b (xlstm", 0) == 0);
  const result imp = run_roofline("import_hf " + test::test_dir + "/data/hf_configs/mixtral_8x7b.json");
  CHECK(imp.status == 0);
  CHECK(imp.out.find("moe: {type: moe, n_experts: 8, top_k: 2, expert_dim: 14336}") != std::string::npos);
  // serve: one deployment as JSON; best_deployment: the frontier of a small space
  const result srv = run_roofline("serve --isl 1024 --osl 128 --concurrency 8 --format json");
  CHECK(srv.status == 0);
  const auto sj = nlohmann::json::parse(srv.out);
  CHECK(sj["mode"] == "agg");
  CHECK(sj["gpus"] == 1);
  CHECK(sj["ttft_ms"].get<double>() > 0);
  CHECK(sj["iterations"]["running"] == 8);
  const result best = run_roofline("best_deployment --model " + llama +
                                   " --gpus 2 --isl 512 --osl 64 "
                                   "--max-concurrency 4 --tpot-ms 100 --format json");
  CHECK(best.status == 0);
  const auto bj = nlohmann::json::parse(best.out);
  REQUIRE(bj["models"].size() == 1);
  CHECK(bj["models"][0]["frontier"].size() >= 1);
  CHECK(bj["models"][0]["best"]["tpot_ms"].get<double>() <= 100);
  // an energy target: the best point within it, each frontier point with its joules per token
  const auto frontier_j = [](const nlohmann::json& m) {
    double least = 1e300;
    for (const auto& p : m["frontier"]) least = std::min(least, p["j_per_output_token"].get<double>());
    return least;
  };
  const double least = frontier_j(bj["models"][0]);
  const result within = run_roofline("best_deployment --model " + llama +
                                     " --gpus 2 --isl 512 --osl 64 --max-concurrency 4 --format json "
                                     "--joules-per-token " +
                                     fmt::format("{}", least * 1.0001));
  REQUIRE(within.status == 0);
  const auto ej0 = nlohmann::json::parse(within.out)["models"][0];
  CHECK(ej0["best"]["j_per_output_token"].get<double>() <= least * 1.0001);
  CHECK(ej0["j_per_token_target"].get<double>() == doctest::Approx(least * 1.0001));
  const result no_energy = run_roofline("best_deployment --model " + llama + " --hw " + test::source_dir +
                                        "/hw_profiles/b200.yaml --gpus 1 --joules-per-token 0.1");
  CHECK(no_energy.status == 1);
  CHECK(no_energy.err.find("--joules-per-token: NVIDIA B200") != std::string::npos);
  // sweep: rows equal to estimate's figures; the summary counts and sums every estimate
  const result est_json =
      run_roofline("estimate --model " + llama + " --batch 2 --prefill 128 --generate 8 --format json");
  REQUIRE(est_json.status == 0);
  const auto ej = nlohmann::json::parse(est_json.out);
  const result rows =
      run_roofline("sweep --model " + llama + " --batch 1,2 --prefill 128 --generate 8 --threads 2");
  CHECK(rows.status == 0);
  CHECK(rows.out.rfind("batch,prefill,generate,tp,pp,ep,dp,ttft_s,step_s,", 0) == 0);
  const std::size_t second = rows.out.find("\n2,128,8,1,1,1,1,");
  REQUIRE(second != std::string::npos);
  const double ttft = std::stod(rows.out.substr(second + std::string("\n2,128,8,1,1,1,1,").size()));
  CHECK(ttft == doctest::Approx(ej["ttft_s"].get<double>()).epsilon(1e-12));
  const result summary = run_roofline("sweep --model " + llama +
                                      " --batch 1,2 --prefill 128 --generate 8 --repeat 3 "
                                      "--format json --threads 1");
  CHECK(summary.status == 0);
  const auto wj = nlohmann::json::parse(summary.out);
  CHECK(wj["estimates"] == 6);
  CHECK(wj["folded"] == 6);
  CHECK(wj["scalar"] == 0);
  CHECK(wj["threads"] == 1);
  // three times the batch-1 and the batch-2 point
  const result one =
      run_roofline("estimate --model " + llama + " --batch 1 --prefill 128 --generate 8 --format json");
  const auto oj = nlohmann::json::parse(one.out);
  CHECK(wj["checksum_ttft_s"].get<double>() ==
        doctest::Approx(3 * (oj["ttft_s"].get<double>() + ej["ttft_s"].get<double>())).epsilon(1e-12));
  CHECK(wj["checksum_step_s"].get<double>() ==
        doctest::Approx(3 * (oj["step_time_s"].get<double>() + ej["step_time_s"].get<double>()))
            .epsilon(1e-12));
  const result sub_help = run_roofline("compare --help");
  CHECK(sub_help.status == 0);
  CHECK(sub_help.out.find("--prefill-range") != std::string::npos);
  // options shared by several commands appear in each one's help (an empty group would hide them)
  for (const char* command : {"estimate", "serve", "best_deployment"}) {
    const result h = run_roofline(std::string(command) + " --help");
    CHECK(h.out.find("--speculate") != std::string::npos);
    CHECK(h.out.find("--acceptance") != std::string::npos);
  }
  CHECK(run_roofline("serve --help").out.find("--prefix-tokens") != std::string::npos);
}

TEST_CASE("every bad command line gets one error line, a non-zero exit and no output") {
  const std::string one_row = write("one_row.csv",
                                    "model,batch,prefill,generate,ttft_ms,step_ms\n"
                                    "model_specs/paper/llama2_160m.yaml,1,128,100,5.0,4.0\n");
  const std::string array_peaks = write("peaks_array.json", "[1, 2, 3]");
  const std::string no_peaks = write("no_peaks.json", "{\"gpu\": \"x\"}");
  const std::string not_json = write("not.json", "{gpu: ");
  const std::string measurements = test::source_dir + "/measurements/h200_measured.csv";
  const std::string calibrate = "calibrate --hw " + h100 + " --out /tmp/never_written.yaml --measurements ";
  const std::string never_written =
      (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_never_written.csv")).string();
  struct bad {
    std::string args, error;
  };
  for (
      const bad& b : std::vector<bad>{
          {"nope", "error: unknown command 'nope'; roofline --help lists the commands\n"},
          {"estimat",
           "error: unknown command 'estimat' (did you mean 'estimate'?); roofline --help lists the "
           "commands\n"},
          {"estimate --prefil 5",
           "error: unknown option --prefil (did you mean --prefill?); --help lists them\n"},
          {"serve --concurency=8",
           "error: unknown option --concurency=8 (did you mean --concurrency?); --help lists them\n"},
          {"estimate --zzzzzzzz", "error: unknown option --zzzzzzzz; --help lists them\n"},
          {"estimate --generate 9223372036854775807",
           "error: workload: batch (8), prefill (16384), generate (9223372036854775807) and prefill + "
           "generate must "
           "each be at most 1099511627776 (2^40)\n"},
          {"estimate --batch 0x10", "error: --batch: must be a positive integer, got '0x10'\n"},
          {"estimate --wide --format json",
           "error: --wide widens plain tables; --format json has every column already\n"},
          {"serve --format markdown --wide",
           "error: --wide widens plain tables; --format markdown has every column already\n"},
          {"estimate --plot /nonexistent_dir/x.svg",
           "error: --plot /nonexistent_dir/x.svg: the folder /nonexistent_dir does not exist\n"},
          // output paths are checked before any work: nothing printed, nothing written
          {"best_deployment --model " + llama + " --gpus 2 --max-concurrency 2 --plot /tmp",
           "error: --plot /tmp: is a folder; name a file\n"},
          {"serve --report /nonexistent_dir/r.html",
           "error: --report /nonexistent_dir/r.html: the folder /nonexistent_dir does not exist\n"},
          {"validate --engine-runs " + test::source_dir +
               "/measurements/serving/engine_runs.csv --report /tmp",
           "error: --report /tmp: is a folder; name a file\n"},
          {"calibrate --hw " + h100 + " --out /tmp --measurements " + measurements,
           "error: --out /tmp: is a folder; name a file\n"},
          // nothing served: why, and a non-zero exit, instead of an empty table
          {"best_deployment --model " + test::source_dir +
               "/model_specs/llama3.1_70b.yaml --gpus 1 "
               "--max-concurrency 2",
           "error: best deployment: no deployment of llama3.1_70b on 1 x NVIDIA H100 SXM5 80GB serves 4096 + "
           "512 "
           "tokens: the weights, activations and buffers of a GPU (142 GB) leave no KV pool in the 72 GB the "
           "engine may use (memory_fraction 0.9 of 80 GB)\n"},
          {"best_deployment --model " + llama + " --osl 1 --gpus 1 --max-concurrency 2",
           "error: best deployment: no deployment of llama3_8b on 1 x NVIDIA H100 SXM5 80GB serves 4096 + 1 "
           "tokens: serving: isl (4096) must be at least 1 and osl (1) at least 2 (a TPOT needs a second "
           "token), each at most 1099511627776\n"},
          // decimal numbers only, as the README says
          {"serve --concurrency 0x10", "error: --concurrency: must be a positive number, got '0x10'\n"},
          {"serve --concurrency 0", "error: --concurrency: must be a positive number, got '0'\n"},
          {"best_deployment --ttft-ms nan", "error: --ttft-ms: must be a positive number, got 'nan'\n"},
          {"best_deployment --max-concurrency 0x10",
           "error: --max-concurrency: must be a positive number, got '0x10'\n"},
          // a file that never ends is refused at the size a spec may have
          {"estimate --model /dev/zero",
           "error: /dev/zero:1:1: larger than 16 MiB, the most this kind of file may be\n"},
          // a pool option that would change nothing is refused
          {"serve --mode disagg --prefill-max-batch 4",
           "error: serving: not modelled: a prefill pool's max batch and max batch tokens (a prefill worker "
           "runs each prompt whole, one per dp rank at a time)\n"},
          {"serve --mode disagg --prefill-max-batch-tokens 100",
           "error: serving: not modelled: a prefill pool's max batch and max batch tokens (a prefill worker "
           "runs each prompt whole, one per dp rank at a time)\n"},
          {"estimate --model " + test::source_dir + "/model_specs",
           "error: --model " + test::source_dir + "/model_specs: a folder without a config.json\n"},
          {"estimate --model " + test::source_dir + "/model_specs/gpt2.yaml --prefill 1000 --generate 100",
           "error: workload: prefill 1000 + generate 100 = 1100 tokens exceeds the maximum context of model "
           "'gpt2', "
           "1024 ('max_context' in " +
               test::source_dir + "/model_specs/gpt2.yaml)\n"},
          {"compare --models " + llama + " --prefill-range 1:9223372036854775807",
           "error: --prefill-range: expected LO:HI with 1 <= LO < HI <= 1099511627776 (2^40), got "
           "'1:9223372036854775807'\n"},
          {calibrate + one_row,
           "error: " + one_row + ": 2 measured times; fitting 36 timing parameters needs at least as many\n"},
          {calibrate + measurements + " --peaks " + array_peaks,
           "error: " + array_peaks +
               ":1:1: expected the environment JSON of examples/measure/measure.py (an object "
               "with 'peaks', or 'runs'); got no object\n"},
          {calibrate + measurements + " --peaks " + no_peaks,
           "error: " + no_peaks +
               ":1:1: expected the environment JSON of examples/measure/measure.py (an object with "
               "'peaks', or 'runs'); no 'peaks' object\n"},
          {calibrate + measurements + " --peaks /no/such/env.json",
           "error: /no/such/env.json:1:1: cannot open file\n"},
          {calibrate + measurements + " --huber nan",
           "error: --huber: must be a positive number, got 'nan'\n"},
          {calibrate + measurements + " --huber -1", "error: --huber: must be a positive number, got '-1'\n"},
          {"pareto --compute 1e21 --lifetime-tokens nan",
           "error: --lifetime-tokens: must be a number >= 0, got 'nan'\n"},
          {"pareto --compute inf", "error: --compute: must be a positive number, got 'inf'\n"},
          {"serve --osl 1",
           "error: serving: isl (4096) must be at least 1 and osl (1) at least 2 (a TPOT needs a second "
           "token), each "
           "at most 1099511627776\n"},
          {"sweep --batch 1,0",
           "error: --batch: '0': each item N, A:B (doubling from A to B) or A:B:S (steps of S), whole "
           "numbers from 1 "
           "to 2^40\n"},
          {"sweep --prefill 4096:1024", "error: --prefill: '4096:1024': the range ends below its start\n"},
          {"sweep --out /nonexistent_dir/x.csv",
           "error: --out /nonexistent_dir/x.csv: the folder /nonexistent_dir does not exist\n"},
          // the whole grid is checked before the file is made: no partial output
          {"sweep --model " + test::source_dir +
               "/model_specs/gpt2.yaml --prefill 128,1000 --generate 100 --out " + never_written,
           "error: workload: prefill 1000 + generate 100 = 1100 tokens exceeds the maximum context of model "
           "'gpt2', "
           "1024 ('max_context' in " +
               test::source_dir + "/model_specs/gpt2.yaml)\n"},
          {"sweep --model " + llama + " --tp 3",
           "error: layout tp 3 pp 1 ep 1 dp 1: tp 3 does not divide the 32 query "
           "heads of layer kind 'attention+mlp' of model 'llama3_8b' (" +
               llama + ")\n"},
          {"best_deployment --model " + llama + " --quant 'fp8;fp8'",
           "error: --quant: give one for all models or one per --model (1 models, 2 formats)\n"},
          {"best_deployment --model " + llama + " --quant fp8,mxfp4",
           "error: --quant 'fp8,mxfp4': a format for MoE experts ('mxfp4'), but model 'llama3_8b' has no MoE "
           "layers; give one format\n"},
          {"best_deployment --model " + llama + " --quant w3a8",
           "error: --quant 'w3a8': not a modelled format (fp8, fp8_block, nvfp4, mxfp4, fp4, int4_wo, or "
           "empty for "
           "bf16)\n"},
          {"serve --prefill-tp 2", "error: --prefill-tp: a disaggregated pool option, and --mode is agg\n"},
          {"serve --mode disagg --tp 2", "error: --tp: an aggregated worker option, and --mode is disagg\n"},
          {"validate", "error: give --measurements (with --hw) or --engine-runs\n"},
          {"calibrate --engine-runs " + measurements + " --out /tmp/never_written.yaml",
           "error: --engine-runs needs --engine and --system\n"},
      }) {
    CAPTURE(b.args);
    const result r = run_roofline(b.args);
    CHECK(r.status != 0);
    CHECK(r.out.empty());
    CHECK(r.err == b.error);
  }
  CHECK_FALSE(std::filesystem::exists(never_written));
  CHECK_FALSE(std::filesystem::exists("/tmp/never_written.yaml"));
  const result nj = run_roofline(calibrate + measurements + " --peaks " + not_json);
  CHECK(nj.status != 0);
  CHECK(nj.out.empty());
  CHECK(nj.err.rfind("error: " + not_json + ":1:1: not JSON: ", 0) == 0);
}

TEST_CASE("a program whose output cannot be written says so and fails") {
  // /dev/full: every write fails with ENOSPC; the programs flush and check before they exit
  for (const char* args : {"estimate --batch 1 --prefill 128 --generate 8", "serve --isl 128 --osl 8",
                           "import_hf " ROOFLINE_TEST_DIR "/data/hf_configs/gpt2.json"}) {
    CAPTURE(args);
    const result r = run_roofline(std::string(args) + " > /dev/full");
    CHECK(r.status == 1);
    CHECK(r.err == "error: writing the output failed: No space left on device\n");
  }
}

TEST_CASE("an output file is whole or absent: a failing plot leaves no predictions behind") {
  namespace fs = std::filesystem;
  const std::string predictions =
      (fs::temp_directory_path() / (std::to_string(::getpid()) + "_predictions.csv")).string();
  const result r =
      run_roofline("validate --hw " + test::source_dir + "/hw_profiles/h100_sxm.yaml --measurements " +
                   test::source_dir + "/measurements/h100_paper.csv --predictions " + predictions +
                   " --plot /proc/roofline_cannot_be_here.svg");
  CHECK(r.status != 0);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK_FALSE(fs::exists(predictions));
  // the same run with a plot that can be written leaves both, whole
  const std::string plot = (fs::temp_directory_path() / (std::to_string(::getpid()) + "_plot.svg")).string();
  const result ok = run_roofline(
      "validate --hw " + test::source_dir + "/hw_profiles/h100_sxm.yaml --measurements " + test::source_dir +
      "/measurements/h100_paper.csv --predictions " + predictions + " --plot " + plot);
  CHECK(ok.status == 0);
  CHECK(fs::exists(predictions));
  CHECK(fs::exists(plot));
  const std::string partial = std::to_string(::getpid()) + "_plot.partial.svg";
  CHECK_FALSE(fs::exists(fs::temp_directory_path() / fs::path(".").concat(partial)));
  fs::remove(predictions);
  fs::remove(plot);
}

TEST_CASE("a name that is not UTF-8 is written as JSON with replacement characters") {
  // "caf\xe9" is Latin-1, not UTF-8; nlohmann/json would throw while writing it
  const std::string spec =
      write("latin1.yaml", std::string("name: caf\xe9\n") +
                               "architecture: transformer\nd_model: 64\nn_layers: 2\nn_heads: 4\n"
                               "ffn_dim: 128\nvocab_size: 100\ntied_embeddings: false\n"
                               "attention: {n_kv_heads: 2, head_dim: 16}\n");
  const result r = run_roofline("estimate --format json --model " + spec);
  REQUIRE(r.status == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["model"]["name"] == "caf\xef\xbf\xbd");  // U+FFFD
}

TEST_CASE("every pool option of serve changes the result or is refused, closed form and simulated") {
  // A MoE model on H100s under the vLLM H100 stack: each option moved from its base value must
  // change TTFT, TPOT, throughput or memory, or end in one error line; never be ignored.
  const std::string base = "serve --model " + test::source_dir + "/model_specs/qwen3_30b_a3b.yaml --hw " +
                           h100 + " --stack " + test::source_dir +
                           "/stacks/vllm_h100_sxm.yaml --isl 2048 --osl 128 --concurrency 64 --format json ";
  const auto outcome = [](const result& r) -> std::string {
    if (r.status != 0) {
      CHECK(r.out.empty());
      CHECK(r.err.rfind("error: ", 0) == 0);
      return "refused";
    }
    const auto j = nlohmann::json::parse(r.out);
    return j["ttft_ms"].dump() + j["tpot_ms"].dump() + j["tokens_per_s"].dump() + j["memory"].dump();
  };
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
      {"--tp 2",
       {"--tp 4", "--pp 2", "--ep 2", "--dp 2", "--workers 2", "--max-batch 8", "--max-batch-tokens 256"}},
      {"--mode disagg --prefill-tp 2 --decode-tp 2",
       {"--prefill-tp 4", "--prefill-ep 2", "--prefill-dp 2", "--prefill-workers 2", "--prefill-max-batch 2",
        "--prefill-max-batch-tokens 512", "--decode-tp 4", "--decode-ep 2", "--decode-dp 2",
        "--decode-workers 2", "--decode-max-batch 8", "--decode-max-batch-tokens 16"}}};
  for (const std::string sim : {"", "--simulate --requests 200 "})
    for (const auto& entry : cases) {
      const std::string& pool = entry.first;  // named, not a structured binding: CAPTURE takes it in a lambda
      const std::vector<std::string>& flags = entry.second;
      const std::string before = outcome(run_roofline(base + sim + pool));
      REQUIRE(before != "refused");
      for (const std::string& flag : flags) {
        CAPTURE(sim + pool + " " + flag);
        CHECK(outcome(run_roofline(base + sim + pool + " " + flag)) != before);
      }
    }
}

TEST_CASE("best_deployment --simulate: the targets bound the percentile asked; --percentile needs it") {
  const std::string base = "best_deployment --model " + test::source_dir +
                           "/model_specs/llama3.1_8b.yaml --hw " + h100 + " --stack " + test::source_dir +
                           "/stacks/vllm_h100_sxm.yaml --gpus 2 --isl 1024 --osl 128 --max-concurrency 32 "
                           "--tpot-ms 12 --format json ";
  const result r = run_roofline(base + "--simulate --percentile 90");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out)["models"][0];
  REQUIRE(!j["best"].is_null());
  CHECK(j["best"]["tpot_ms"].get<double>() <= 12);
  const result refused = run_roofline(base + "--percentile 90");
  CHECK(refused.status == 2);
  CHECK(refused.out.empty());
  CHECK(refused.err == "error: --percentile: the closed form gives means only; add --simulate\n");
}

TEST_CASE("roofline kernel times each row of a CSV; without a table by the analytic model") {
  const std::string ops = write("ops.csv",
                                "kind,format,m,n,k,batch,q_len,kv_len,heads,kv_heads,head_dim,experts,"
                                "tokens_per_expert,bytes,measured_s\n"
                                "gemm,bf16,4096,4096,4096,,,,,,,,,,2e-4\n"
                                "copy,bf16,,,,,,,,,,,,1000000000,\n");
  const result r = run_roofline("kernel --ops " + ops + " --format json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["kernels"].size() == 2);
  // the datasheet stack: 2 x 4096^3 FLOPs at 0.80 of 989.4 TFLOP/s, compute-bound (its 100.7 MB at
  // 0.885 of 3.35 TB/s take 34 us)
  CHECK(j["kernels"][0]["predicted_s"].get<double>() ==
        doctest::Approx(2.0 * 4096 * 4096 * 4096 / (0.80 * 989.4e12)).epsilon(1e-9));
  CHECK(j["kernels"][0]["timed_by"] == "model");
  CHECK(j["kernels"][0]["interval"].is_null());
  // a copy of 1 GB (read plus written) at 0.885 of 3.35 TB/s
  CHECK(j["kernels"][1]["predicted_s"].get<double>() ==
        doctest::Approx(1e9 / (0.885 * 3.35e12)).epsilon(1e-9));
  // the error of the measured row: 173.6 us predicted against 200 us
  CHECK(j["errors"][0]["median_ape"].get<double>() ==
        doctest::Approx(100 * (1 - 2.0 * 4096 * 4096 * 4096 / (0.80 * 989.4e12) / 2e-4)).epsilon(1e-9));
  const result bad = run_roofline("kernel --ops " + write("bad_ops.csv", "kind,format,m\ngemm,bf16,1\n"));
  CHECK(bad.status == 1);
  CHECK(bad.out.empty());
  CHECK(bad.err.find("bad_ops.csv:2:1: gemm kernels need the column 'n'\n") != std::string::npos);
}

TEST_CASE("calibrate --kernels writes a stack that names its table and part relative to itself") {
  const std::string dir =
      (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_kstack")).string();
  std::filesystem::create_directories(dir);
  const std::string out = dir + "/k.yaml", table = test::source_dir + "/test/data/kernels/small.csv";
  const result r = run_roofline("calibrate --hw " + h100 + " --kernels " + table + " --out " + out);
  REQUIRE(r.status == 0);
  const roofline::stack s = roofline::load_stack(out);
  REQUIRE(s.timing.kernels);
  CHECK(s.timing.kernels->grids.size() == 3);  // gemm, attention_decode, copy
  CHECK(s.timing.kernels->measured_on.name == "NVIDIA H100 SXM5 80GB");
  CHECK(std::filesystem::path(s.timing.kernels->file).is_relative());
  // the spread of the 5 held-out GEMMs: their measured / predicted at the 10th and 90th percentiles
  const roofline::hardware hw = roofline::drive(roofline::load_part(h100), s);
  std::vector<double> ratios;
  for (const roofline::kernel_row& k : roofline::load_kernel_rows(table))
    if (k.set == "held_out")
      ratios.push_back(*k.measured_s / roofline::predict_kernel(k.shape, hw, hw.timing.overlap).seconds);
  REQUIRE(ratios.size() == 5);
  const roofline::kernel_spread& g = s.timing.kernels->spread_of(roofline::kernel_kind::gemm);
  CHECK(g.points == 5);
  CHECK(g.p10 == doctest::Approx(roofline::quantile(ratios, 0.1)).epsilon(1e-5));
  CHECK(g.p90 == doctest::Approx(roofline::quantile(ratios, 0.9)).epsilon(1e-5));
  std::filesystem::remove_all(dir);
}

TEST_CASE("calibrate on the paper's runs writes the shipped H100 stack's fitted values, digit for digit") {
  // stacks/hf_transformers_h100.yaml states that this command reproduces it (--cross-validate
  // adds the spreads, not tested here: ten times as long)
  const std::string dir =
      (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_pstack")).string();
  std::filesystem::create_directories(dir);
  const std::string out = dir + "/h100.yaml";
  const result r = run_roofline("calibrate --hw " + h100 + " --stack " + test::source_dir +
                                "/stacks/roofline.yaml --measurements " + test::source_dir +
                                "/measurements/h100_paper.csv --out " + out);
  REQUIRE(r.status == 0);
  const roofline::part part = roofline::load_part(h100);
  const roofline::hardware got = roofline::drive(part, roofline::load_stack(out));
  const roofline::hardware shipped =
      roofline::drive(part, roofline::load_stack(test::source_dir + "/stacks/hf_transformers_h100.yaml"));
  for (const roofline::fit_parameter& p : roofline::fit_parameters(false, true)) {
    CAPTURE(std::string(p.name));
    CHECK(p.get(got.timing) == p.get(shipped.timing));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("validate with a kernel stack gives each cell's interval coverage, in its table and JSON") {
  // Llama-3-8B on the H100 kernel stack: a step measured at the middle of its p10-p90 interval
  // is inside, one at 3x its point outside; TTFT at 3x its point and at its point x 0.2, outside.
  const roofline::hardware hw =
      roofline::load_hardware(h100, test::source_dir + "/stacks/torch_kernels_h100.yaml");
  const roofline::model_spec m = roofline::load_model(llama);
  std::string csv = "model,batch,prefill,generate,ttft_ms,step_ms\n";
  for (const auto& [batch, inside] : std::vector<std::pair<std::int64_t, bool>>{{1, true}, {8, false}}) {
    const roofline::estimate_result e = roofline::estimate(m, hw, roofline::workload{batch, 1024, 64});
    const double step =
        inside ? (e.decode.time_p10 + e.decode.time_p90).value() / 2 : 3 * e.step_time.value();
    csv += fmt::format("model_specs/llama3_8b.yaml,{},1024,64,{:.9g},{:.9g}\n", batch,
                       (inside ? 3 : 0.2) * e.ttft.value() * 1e3, step * 1e3);
  }
  const std::string path = write("coverage.csv", csv);
  const std::string args = "validate --hw " + h100 + " --stack " + test::source_dir +
                           "/stacks/torch_kernels_h100.yaml --measurements " + path + " --root " +
                           test::source_dir;
  const result t = run_roofline(args);
  REQUIRE(t.status == 0);
  CHECK(t.out.find("transformer   step   2            50 %") != std::string::npos);
  CHECK(t.out.find("transformer   ttft   2             0 %") != std::string::npos);
  const result j = run_roofline(args + " --format json");
  REQUIRE(j.status == 0);
  const nlohmann::json doc = nlohmann::json::parse(j.out);
  REQUIRE(doc["coverage"].size() == 2);
  for (const nlohmann::json& c : doc["coverage"]) {
    CHECK(c["n"] == 2);
    CHECK(c["share"].get<double>() == (c["phase"] == "step" ? 0.5 : 0.0));
  }
  CHECK(doc["cells"].size() == 2);
}

TEST_CASE("best_deployment gives its best point's interval on a kernel stack, as serve gives it there") {
  const std::string kstack = test::source_dir + "/stacks/torch_kernels_h100.yaml";
  const std::string model = test::source_dir + "/model_specs/llama3.1_8b.yaml";
  const result b = run_roofline("best_deployment --model " + model + " --hw " + h100 + " --stack " + kstack +
                                " --gpus 2 --max-concurrency 64 --ttft-ms 500 --tpot-ms 20 --format json");
  REQUIRE(b.status == 0);
  const nlohmann::json best = nlohmann::json::parse(b.out)["models"][0];
  REQUIRE(best["best"].is_object());
  REQUIRE(best["best_interval"].is_object());
  // serve at the same point: 1 worker of tp 2, the best's concurrency
  const result s =
      run_roofline("serve --model " + model + " --hw " + h100 + " --stack " + kstack +
                   " --tp 2 --isl 4096 --osl 512 --concurrency " +
                   fmt::format("{}", best["best"]["concurrency"].get<double>()) + " --format json");
  REQUIRE(s.status == 0);
  REQUIRE(best["best"]["deployment"] == "1 worker of tp 2 pp 1 ep 1 dp 1");
  const nlohmann::json served = nlohmann::json::parse(s.out)["interval"];
  for (int k = 0; k < 2; ++k) {
    CHECK(best["best_interval"]["ttft_ms"][k].get<double>() ==
          doctest::Approx(served["ttft_ms"][k].get<double>()));
    CHECK(best["best_interval"]["tpot_ms"][k].get<double>() ==
          doctest::Approx(served["tpot_ms"][k].get<double>()));
  }
  CHECK(best["best_interval"]["ttft_ms"][0].get<double>() < best["best"]["ttft_ms"].get<double>());
  // every frontier point has its interval, made the same way: the best point's where it is one
  const nlohmann::json frontier = best["frontier"];  // kept: the loop reads it
  REQUIRE(frontier.size() > 1);
  int matched = 0;
  for (const nlohmann::json& p : frontier) {
    REQUIRE(p["interval"].is_object());
    CHECK(p["interval"]["ttft_ms"][0].get<double>() < p["ttft_ms"].get<double>());
    CHECK(p["interval"]["ttft_ms"][1].get<double>() > p["ttft_ms"].get<double>());
    if (p["deployment"] != best["best"]["deployment"] || p["concurrency"] != best["best"]["concurrency"])
      continue;
    ++matched;
    CHECK(p["interval"]["tpot_ms"][1].get<double>() ==
          doctest::Approx(best["best_interval"]["tpot_ms"][1].get<double>()));
  }
  CHECK(matched == 1);
}

TEST_CASE("serve gives an engine stack's end-to-end spread as its interval, and validate its coverage") {
  const std::string vstack = test::source_dir + "/stacks/vllm_h100_sxm.yaml";
  const roofline::stack st = roofline::load_stack(vstack);
  const roofline::serving_params& sp = st.timing.serving;
  REQUIRE(sp.ttft_spread.points > 0);
  const result s = run_roofline("serve --hw " + h100 + " --stack " + vstack +
                                " --isl 1024 --osl 128 --concurrency 8 --format json");
  REQUIRE(s.status == 0);
  const nlohmann::json j = nlohmann::json::parse(s.out);
  CHECK(j["interval"]["from"] == "the stack's end-to-end spread");
  CHECK(j["interval"]["ttft_ms"][0].get<double>() ==
        doctest::Approx(sp.ttft_spread.p10 * j["ttft_ms"].get<double>()));
  CHECK(j["interval"]["ttft_ms"][1].get<double>() ==
        doctest::Approx(sp.ttft_spread.p90 * j["ttft_ms"].get<double>()));
  CHECK(j["interval"]["tpot_ms"][1].get<double>() ==
        doctest::Approx(sp.tpot_spread.p90 * j["tpot_ms"].get<double>()));
  // the stack's own runs, closed form: the spread is held out, so in sample about 80 % or more lie inside
  const result v = run_roofline("validate --engine-runs " + test::source_dir +
                                "/measurements/serving/engine_runs.csv --stack " + vstack + " --format json");
  REQUIRE(v.status == 0);
  const nlohmann::json cells = nlohmann::json::parse(v.out)["cells"];  // kept: the loop reads it
  for (const nlohmann::json& c : cells) {
    if (c["system"] != "h100_sxm") continue;
    CHECK(c["coverage_n"] == c["n"]);
    CHECK(c["coverage"].get<double>() >= 0.7);
  }
}

TEST_CASE("an engine stack moved to another part takes the wider spread it measured there") {
  const std::string vstack = test::source_dir + "/stacks/vllm_h100_sxm.yaml";
  const roofline::serving_params sp = roofline::load_stack(vstack).timing.serving;
  REQUIRE(sp.ttft_spread_transferred.points > 0);
  const result s = run_roofline("serve --hw " + test::source_dir + "/hw_profiles/b200.yaml --stack " +
                                vstack + " --isl 1024 --osl 128 --concurrency 8 --format json");
  REQUIRE(s.status == 0);
  const nlohmann::json j = nlohmann::json::parse(s.out);
  CHECK(j["interval"]["from"].get<std::string>().find("runs of other parts (moved from NVIDIA H100") !=
        std::string::npos);
  CHECK(j["interval"]["ttft_ms"][0].get<double>() ==
        doctest::Approx(std::min(sp.ttft_spread.p10, sp.ttft_spread_transferred.p10) *
                        j["ttft_ms"].get<double>()));
  CHECK(j["interval"]["tpot_ms"][1].get<double>() ==
        doctest::Approx(std::max(sp.tpot_spread.p90, sp.tpot_spread_transferred.p90) *
                        j["tpot_ms"].get<double>()));
}

TEST_CASE(
    "the paper's stack gives each estimate its family's end-to-end interval, and validate its coverage") {
  const std::string pstack = test::source_dir + "/stacks/hf_transformers_h100.yaml";
  const roofline::stack st = roofline::load_stack(pstack);
  REQUIRE(st.timing.spreads.size() == 2);
  const roofline::family_spread& tf = st.timing.spreads[0];
  REQUIRE(tf.family == "transformer");
  const result e = run_roofline("estimate --model " + llama + " --hw " + h100 + " --stack " + pstack +
                                " --batch 8 --prefill 2048 --format json");
  REQUIRE(e.status == 0);
  const nlohmann::json j = nlohmann::json::parse(e.out);
  CHECK(j["interval"]["ttft_p10_s"].get<double>() ==
        doctest::Approx(tf.ttft.p10 * j["ttft_s"].get<double>()));
  CHECK(j["interval"]["step_p90_s"].get<double>() ==
        doctest::Approx(tf.step.p90 * j["step_time_s"].get<double>()));
  CHECK(j["interval"]["from"].get<std::string>().find("transformer models") != std::string::npos);
  // the paper's 1,560 runs: the spread is held out, so in sample 80 % or a little more lie inside
  const result v =
      run_roofline("validate --hw " + h100 + " --stack " + pstack + " --measurements " + test::source_dir +
                   "/measurements/h100_paper.csv --root " + test::source_dir + " --format json");
  REQUIRE(v.status == 0);
  const nlohmann::json cover = nlohmann::json::parse(v.out)["coverage"];  // kept: the loop reads it
  REQUIRE(cover.size() == 4);
  for (const nlohmann::json& c : cover) {
    CHECK(c["share"].get<double>() >= 0.75);
    CHECK(c["share"].get<double>() <= 0.97);
  }
}

TEST_CASE("--kv-format: an fp8 KV cache is half of bf16's, nvfp4's 4.5 / 16 of it, and admits what follows") {
  // Llama-3.1-8B, batch 8, 4,096 + 100 tokens: 32 layers x 8 KV heads x 128 x 2 (K, V) = 65,536
  // elements a token; bf16 8 x 4,196 x 65,536 x 2 B = 4,399,824,896 B
  const std::string m8 = test::source_dir + "/model_specs/llama3.1_8b.yaml";
  const auto kv_bytes = [&](const std::string& kv) {
    const result r = run_roofline("estimate --model " + m8 + " --hw " + h100 +
                                  " --batch 8 --prefill 4096 --generate 100 --format json" + kv);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out)["memory"]["kv_cache_bytes"].get<double>();
  };
  CHECK(kv_bytes("") == 4399824896.0);
  CHECK(kv_bytes(" --kv-format fp8") == 4399824896.0 / 2);  // per-tensor scales: not counted
  CHECK(kv_bytes(" --kv-format nvfp4") == doctest::Approx(4399824896.0 * 4.5 / 16));  // a 1-byte scale per 16
  // Llama-3.1-70B in fp8 on 2 H100 (tp 2), 1,024 + 1,024 tokens: a request's pages per GPU are
  // 2,048 x 80 layers x 8 x 128 x 2 x 2 B / 2 = 335,544,320 B in bf16, half in fp8; the pool
  // (unchanged) admits floor(pool / that) requests
  const auto served = [&](const std::string& kv) {
    const result r =
        run_roofline("serve --model " + test::source_dir + "/model_specs/llama3.1_70b.yaml --hw " + h100 +
                     " --stack " + test::source_dir +
                     "/stacks/trtllm_h100_sxm.yaml --quant fp8 --tp 2 --isl 1024 --osl 1024 "
                     "--concurrency 128 --format json --kv-format " +
                     kv);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out)["memory"];
  };
  const nlohmann::json bf16 = served("bf16"), fp8 = served("fp8");
  CHECK(bf16["per_request_gb"].get<double>() == doctest::Approx(0.33554432));
  CHECK(fp8["per_request_gb"].get<double>() == doctest::Approx(0.33554432 / 2));
  CHECK(fp8["kv_pool_gb"].get<double>() == bf16["kv_pool_gb"].get<double>());
  CHECK(fp8["admitted_per_rank"].get<double>() ==
        std::floor(fp8["kv_pool_gb"].get<double>() / fp8["per_request_gb"].get<double>()));
  CHECK(fp8["admitted_per_rank"].get<double>() >= 2 * bf16["admitted_per_rank"].get<double>());
  // a format that is not one: one error line naming the option
  const result bad = run_roofline("serve --kv-format fp16");
  CHECK(bad.status != 0);
  CHECK(bad.err.find("--kv-format: fp16 not in {bf16,fp8,nvfp4}") != std::string::npos);
  // a model without a KV cache: the setting would change nothing, so it is refused
  const result none = run_roofline("estimate --model " + test::source_dir +
                                   "/model_specs/xlstm_7b.yaml --hw " + h100 + " --kv-format fp8");
  CHECK(none.status == 1);
  CHECK(none.err ==
        "error: --kv-format fp8: model 'xlstm_7b' keeps no KV cache (no attention layers); its recurrent "
        "state's format is dtypes.state\n");
  // sweep: the same halving in its memory column (8 x 4,196 tokens of KV in bf16: 4.3998 GB)
  const auto swept = [&](const std::string& kv) {
    const result r = run_roofline("sweep --model " + m8 + " --hw " + h100 +
                                  " --batch 8 --prefill 4096 --generate 100 --format csv" + kv);
    REQUIRE(r.status == 0);
    const std::string path = (std::filesystem::temp_directory_path() / "roofline_kv_sweep.csv").string();
    std::ofstream(path) << r.out;
    const auto rows = test::read_csv(path);
    REQUIRE(rows.size() == 1);
    return std::stod(rows[0].at("memory_gb")) * 1e9;
  };
  CHECK(swept("") - swept(" --kv-format fp8") == doctest::Approx(4399824896.0 / 2).epsilon(1e-6));
  // compare: the models that keep a KV cache take it, xLSTM keeps its state
  const result cmp =
      run_roofline("compare --models " + test::source_dir + "/model_specs/xlstm_7b.yaml " + m8 + " --hw " +
                   h100 + " --prefill-range 1024:2048 --format json --kv-format fp8");
  CHECK(cmp.status == 0);
  const result only =
      run_roofline("compare --models " + test::source_dir + "/model_specs/xlstm_7b.yaml --hw " + h100 +
                   " --prefill-range 1024:2048 --kv-format fp8");
  CHECK(only.status == 1);
  CHECK(only.err == "error: --kv-format: none of the models keeps a KV cache\n");
}

TEST_CASE("estimate --images: the vision tower runs in the prefill and its tokens join the prompt") {
  const std::string h100 = test::source_dir + "/hw_profiles/h100_sxm.yaml";
  const std::string gemma = test::source_dir + "/model_specs/gemma4_31b.yaml";
  const auto run = [&](const std::string& images) {
    const result r = run_roofline("estimate --model " + gemma + " --hw " + h100 +
                                  " --batch 2 --prefill 100 --generate 4 --format json" + images);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out);
  };
  const auto plain = run(""), with = run(" --images 2");
  // 100 text tokens and 2 images of 280 tokens each
  CHECK(with["workload"]["prefill"] == 660);
  CHECK(with["workload"]["images"] == 2);
  CHECK(with["model"]["vision_parameters"] == 575'743'536.0);
  // the encoder's ops (kind "vision", once per encoder layer) add up to the prefill's extra FLOPs
  // over a prompt of the same 660 tokens without images
  const result same = run_roofline("estimate --model " + gemma + " --hw " + h100 +
                                   " --batch 2 --prefill 660 --generate 4 --format json");
  REQUIRE(same.status == 0);
  const auto text = nlohmann::json::parse(same.out);
  double vision = 0;
  int layers = 0;
  for (const auto& o : with["prefill"]["ops"])
    if (o["kind"] == "vision") {
      vision += o["flops"].get<double>();
      layers += o["name"] == "vision_attention";
    }
  CHECK(layers == 27);
  CHECK(vision > 0);
  CHECK(with["prefill"]["flops"].get<double>() - text["prefill"]["flops"].get<double>() ==
        doctest::Approx(vision).epsilon(1e-9));
  CHECK(with["decode"]["flops"] == text["decode"]["flops"]);
  CHECK(plain["workload"]["images"] == 0);
  // a model without a vision tower is refused, naming its spec
  const std::string llama = test::source_dir + "/model_specs/llama3.1_8b.yaml";
  const result none = run_roofline("estimate --model " + llama + " --hw " + h100 + " --images 1");
  CHECK(none.status == 1);
  CHECK(none.err ==
        "error: --images 1: model 'llama3.1_8b' (" + llama + ") has no vision tower (its spec's 'vision')\n");
}

TEST_CASE("models, parts and engines by name give what their files give; roofline list names them") {
  const result named = run_roofline(
      "estimate --model meta-llama/Llama-3.1-8B-Instruct --hw h100 --engine vllm --batch 4 --prefill 512 "
      "--generate 16 --format json");
  const result files =
      run_roofline("estimate --model " + test::source_dir + "/model_specs/llama3.1_8b.yaml --hw " +
                   test::source_dir + "/hw_profiles/h100_sxm.yaml --stack " + test::source_dir +
                   "/stacks/vllm_h100_sxm.yaml --batch 4 --prefill 512 --generate 16 --format json");
  REQUIRE(named.status == 0);
  REQUIRE(files.status == 0);
  CHECK(named.out == files.out);
  const result parts = run_roofline("list parts");
  CHECK(parts.status == 0);
  CHECK(parts.out.find("h100_sxm       NVIDIA H100 SXM5 80GB (also h100)\n") != std::string::npos);
  const result engines = run_roofline("list engines");
  CHECK(engines.out.find("vllm    stacks: vllm_b200_sxm, vllm_b300_sxm, vllm_gb200, vllm_h100_sxm\n") !=
        std::string::npos);
  const result both = run_roofline("estimate --hw h100 --engine vllm --stack datasheet");
  CHECK(both.status == 1);
  CHECK(both.err ==
        "error: --engine and --stack: give one (--engine picks its engine's stack for the part)\n");
  const result bad = run_roofline("list gpus");
  CHECK(bad.status != 0);
  // --model repeated and --models with several: the same, in compare and best_deployment alike
  for (const char* cmd :
       {"compare --prefill-range 1024:2048", "best_deployment --gpus 1 --max-concurrency 4"}) {
    CAPTURE(cmd);
    const result repeated = run_roofline(std::string(cmd) + " --model llama3_8b --model xlstm_7b");
    const result listed = run_roofline(std::string(cmd) + " --models llama3_8b xlstm_7b");
    REQUIRE(repeated.status == 0);
    CHECK(repeated.out == listed.out);
    CHECK(repeated.out.find("xlstm_7b") != std::string::npos);
  }
}

TEST_CASE("sweep's lists take ranges: A:B doubles, A:B:S steps") {
  const result r = run_roofline(
      "sweep --model llama3_8b --hw h100 --batch 1:16,24 --prefill 1024:4096:1024 "
      "--generate 8 --format csv");
  REQUIRE(r.status == 0);
  const std::string path = (std::filesystem::temp_directory_path() / "roofline_range_sweep.csv").string();
  std::ofstream(path) << r.out;
  const auto rows = test::read_csv(path);
  // batches 1, 2, 4, 8, 16 and 24; prompts 1,024, 2,048, 3,072, 4,096
  REQUIRE(rows.size() == 6 * 4);
  std::set<std::string> batches, prompts;
  for (const auto& row : rows) batches.insert(row.at("batch")), prompts.insert(row.at("prefill"));
  CHECK(batches == std::set<std::string>{"1", "2", "4", "8", "16", "24"});
  CHECK(prompts == std::set<std::string>{"1024", "2048", "3072", "4096"});
}

TEST_CASE("tables fit 100 columns unless --wide; --format markdown gives every column as pipe tables") {
  const auto widest = [](const std::string& text) {
    std::size_t w = 0, at = 0;
    while (at < text.size()) {
      const std::size_t end = std::min(text.find('\n', at), text.size());
      w = std::max(w, end - at);
      at = end + 1;
    }
    return w;
  };
  const std::string runs = test::source_dir + "/measurements/serving/engine_runs.csv";
  for (const std::string& cmd : std::vector<std::string>{
           "estimate", "estimate --model llama3_8b --tp 2 --pp 2 --layers",
           "estimate --model mixtral_8x7b --ep 2 --tp 2",
           "estimate --model llama3.1_8b --speculate 3 --acceptance 0.8", "serve --model llama3.1_8b",
           "serve --model llama3.1_8b --simulate --requests 50",
           "best_deployment --model llama3.1_8b --gpus 2 "
           "--max-concurrency 8 --engine trtllm",
           "compare --models llama3_8b xlstm_7b mamba2_2.7b --prefill-range 512:1024",
           "validate --engine-runs " + runs, "optimal_model --family xlstm --compute 1e22",
           "pareto --compute 3e21 --contexts 16384 --target-loss 2.5 --ttft-ms 100"}) {
    CAPTURE(cmd);
    const result plain = run_roofline(cmd);
    REQUIRE(plain.status == 0);
    CHECK(widest(plain.out) <= 100);
    const result markdown = run_roofline(cmd + " --format markdown");
    REQUIRE(markdown.status == 0);
    CHECK(markdown.out.find("| ---") != std::string::npos);
    CHECK(markdown.out.find("left out to fit") == std::string::npos);  // Markdown keeps every column
  }
  // the estimate's pass tables: narrow leaves the bytes by kind out and says so; --wide and
  // Markdown hold them
  const result narrow = run_roofline("estimate");
  CHECK(narrow.out.find(
            "(left out to fit 100 columns: weights, activations, KV cache, state, ops; --wide shows them)") !=
        std::string::npos);
  const result wide = run_roofline("estimate --wide");
  CHECK(wide.out.find("left out") == std::string::npos);
  CHECK(widest(wide.out) > 100);
  const std::string head = "bytes   weights  activations  KV cache     state  FLOP/B   compute    memory";
  CHECK(wide.out.find(head) != std::string::npos);
  const result md = run_roofline("estimate --format markdown");
  CHECK(md.out.find(
            "| layer | ops | FLOPs | bytes | weights | activations | KV cache | state | FLOP/B | compute | "
            "memory | time | share | bound |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
            "---: | ---: | ---: | ---: | --- |\n") != std::string::npos);
  // xLSTM-7B's prefill: 3 rows (embedding, the 32 mLSTM blocks, the head), as in the plain table
  CHECK(md.out.find("| mlstm+mlp (x32) | 11 ops | 53.5 TFLOP | 47.18 GB |") != std::string::npos);
  CHECK(
      md.out.find(
          "| time to first token | 2.434 s | perfect overlap 2.434 s, no overlap 2.685 s; compute-bound |") !=
      std::string::npos);
  // a format a program does not have is refused as before
  CHECK(run_roofline("sweep --format markdown").status != 0);
}

TEST_CASE("long work says how far it is on standard error (ROOFLINE_PROGRESS=1 off a terminal)") {
  const std::string args = "best_deployment --model llama3_8b --gpus 2 --max-concurrency 8";
  const result quiet = run_roofline(args);
  REQUIRE(quiet.status == 0);
  CHECK(quiet.err.empty());  // off a terminal, nothing unless asked
  ::setenv("ROOFLINE_PROGRESS", "1", 1);
  const result told = run_roofline(args);
  ::unsetenv("ROOFLINE_PROGRESS");
  REQUIRE(told.status == 0);
  CHECK(told.out == quiet.out);  // the report is the same
  // concurrencies 1, 2, 4, 8: the first line and the last at least
  CHECK(told.err.rfind("best_deployment llama3_8b: 0 of 4 concurrencies, ", 0) == 0);
  CHECK(told.err.find("best_deployment llama3_8b: 4 of 4 concurrencies, ") != std::string::npos);
}

TEST_CASE(
    "the frontier chart draws the targets, marks the best and labels the frontier; the roofline chart names "
    "its stack") {
  namespace fs = std::filesystem;
  const std::string svg =
      (fs::temp_directory_path() / (std::to_string(::getpid()) + "_frontier.svg")).string();
  const result r = run_roofline(
      "best_deployment --model llama3_8b --gpus 1 --max-concurrency 8 --tpot-ms 20 --ttft-ms 900 "
      "--format json --plot " +
      svg);
  REQUIRE(r.status == 0);
  const nlohmann::json best = nlohmann::json::parse(r.out)["models"][0]["best"];
  std::ifstream in(svg);
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(s.find("(stack datasheet)") != std::string::npos);
  CHECK(s.find("targets: TTFT &lt;= 900 ms, TPOT &lt;= 20 ms") != std::string::npos);
  CHECK(s.find("TPOT &lt;= 20 ms</text>") != std::string::npos);  // the line's own label
  CHECK(s.find(fmt::format("best: agg 1x tp 1, {:g} in flight", best["concurrency"].get<double>())) !=
        std::string::npos);
  CHECK(s.find("llama3_8b: frontier (concurrency)") != std::string::npos);
  CHECK(s.find("llama3_8b: disaggregated") != std::string::npos);
  // hovering the best deployment's point shows its layout, concurrency and numbers (gnuplot's script)
  CHECK(s.find(fmt::format(
            "showHypertext(evt,'agg 1x tp 1, {:g} in flight\\nTTFT {}, TPOT {}\\n",
            best["concurrency"].get<double>(),
            roofline::detail::duration(best["ttft_ms"].get<double>() * 1e-3 * roofline::second),
            roofline::detail::duration(best["tpot_ms"].get<double>() * 1e-3 * roofline::second))) !=
        std::string::npos);
  // the roofline chart: the stack in the title and on its ceiling; xLSTM-7B's prefill GEMMs at one point
  const std::string chart =
      (fs::temp_directory_path() / (std::to_string(::getpid()) + "_roofline.svg")).string();
  REQUIRE(run_roofline("estimate --stack hf_transformers_h100 --plot " + chart).status == 0);
  std::ifstream cin(chart);
  const std::string c((std::istreambuf_iterator<char>(cin)), std::istreambuf_iterator<char>());
  CHECK(c.find("(stack hf_transformers_h100): batch 8, prefill 16384, overlap smooth") != std::string::npos);
  CHECK(c.find("matrix bf16 at stack hf_transformers_h100") != std::string::npos);
  CHECK(c.find("qkv_proj, o_gate, out_proj, ffn_gate_up, ffn_down") != std::string::npos);
  CHECK(c.find("showHypertext(evt,'qkv_proj: ") != std::string::npos);  // each op's numbers on hover
  fs::remove(svg);
  fs::remove(chart);
}

TEST_CASE("a simulated report says what its goodput counted against") {
  // no targets: every measured request counts, so goodput equals the request rate
  const result none = run_roofline("serve --simulate --requests 100 --format json");
  REQUIRE(none.status == 0);
  const nlohmann::json a = nlohmann::json::parse(none.out);
  CHECK(a["goodput_targets_ms"]["ttft"].is_null());
  CHECK(a["goodput_targets_ms"]["tpot"].is_null());
  CHECK(a["goodput_requests_per_s"].get<double>() ==
        doctest::Approx(a["requests_per_s"].get<double>()).epsilon(1e-12));
  CHECK(run_roofline("serve --simulate --requests 100")
            .out.find("requests/s: no targets (--ttft-ms, --tpot-ms), every request counts") !=
        std::string::npos);
  // a TTFT target below every request's TTFT: none counts; the target is stated
  const result tight = run_roofline("serve --simulate --requests 100 --ttft-ms 0.001 --format json");
  REQUIRE(tight.status == 0);
  const nlohmann::json b = nlohmann::json::parse(tight.out);
  CHECK(b["goodput_targets_ms"]["ttft"].get<double>() == doctest::Approx(0.001).epsilon(1e-9));
  CHECK(b["goodput_targets_ms"]["tpot"].is_null());
  CHECK(b["goodput_requests_per_s"].get<double>() == 0);
  CHECK(run_roofline("serve --simulate --requests 100 --ttft-ms 0.001")
            .out.find("within TTFT <= 0.001 ms and TPOT <= any") != std::string::npos);
}
