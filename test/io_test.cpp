// io: shipped files load; every file of the bad-input catalogue fails with its exact message.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "helpers.hpp"
#include "roofline/io/catalog.hpp"
#include "roofline/io/io.hpp"

using namespace roofline;
namespace fs = std::filesystem;

TEST_CASE("each bad input fails with the message its first line expects") {
  // test/bad_inputs/{model,hw,stack}_*.yaml (specs, parts, stacks) and hf_*.json (HuggingFace configs);
  // line 1: "# expect: MESSAGE",
  // {file} standing for the path.
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(test::test_dir + "/bad_inputs")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 30);
  for (const fs::path& f : files) {
    std::ifstream in(f);
    std::string first;
    std::getline(in, first);
    const std::string prefix = "# expect: ";
    REQUIRE(first.rfind(prefix, 0) == 0);
    std::string expected = first.substr(prefix.size());
    const auto at = expected.find("{file}");
    REQUIRE(at != std::string::npos);
    expected.replace(at, 6, f.string());
    const std::string file = f.filename().string();
    CAPTURE(file);
    if (file.rfind("model_", 0) == 0 || file.rfind("hf_", 0) == 0)
      CHECK_THROWS_WITH_AS(load_model(f.string()), expected.c_str(), input_error);
    else if (file.rfind("stack_", 0) == 0)
      CHECK_THROWS_WITH_AS(load_stack(f.string()), expected.c_str(), input_error);
    else
      CHECK_THROWS_WITH_AS(load_part(f.string()), expected.c_str(), input_error);
  }
}

TEST_CASE("a DeepSeek-V3 config without shared experts imports as routed experts only") {
  // n_shared_experts 0, or null (transformers' DeepseekV3Config allows None): no shared expert, no
  // shared width written (the spec refuses a shared_dim without shared experts)
  const std::string path = test::test_dir + "/data/hf_configs/deepseek_v3.json";
  const std::string text = read_text(path);
  const std::string key = "\"n_shared_experts\": 1";
  REQUIRE(text.find(key) != std::string::npos);
  for (const char* value : {"0", "null"}) {
    CAPTURE(value);
    std::string edited = text;
    edited.replace(edited.find(key), key.size(), std::string("\"n_shared_experts\": ") + value);
    const model_spec m = parse_model(import_hf(edited, path), "edited");
    const model_spec published = parse_model(import_hf(text, path), "published");
    const auto& moe = std::get<moe_channel>(m.kinds.back().channel);
    CHECK(moe.n_shared == 0);
    CHECK(moe.n_experts == 256);
    // one shared expert of 2,048 wide less in each of the 58 MoE layers: 3 x 7,168 x 2,048 x 58
    CHECK(parameters(published) - parameters(m) == doctest::Approx(3.0 * 7168 * 2048 * 58).epsilon(1e-12));
  }
}

TEST_CASE("Gemma 4's MoE config imports as its spec: the MLP beside the experts is their shared expert") {
  // the 31B's published config with 26B-A4B's text fields (the model card's: 30 layers, 2,816 wide,
  // 16 heads, 8 sliding and 2 global KV heads, MLP 2,112, 128 experts of 704, top 8)
  const std::string path = test::test_dir + "/data/hf_configs/gemma4_31b.json";
  std::string text = read_text(path);
  const auto set = [&](const std::string& key, const std::string& from, const std::string& to) {
    const std::string a = "\"" + key + "\": " + from;
    REQUIRE(text.find(a) != std::string::npos);
    text.replace(text.find(a), a.size(), "\"" + key + "\": " + to);
  };
  set("hidden_size", "5376", "2816");
  set("intermediate_size", "21504", "2112");
  set("num_attention_heads", "32", "16");
  set("num_key_value_heads", "16", "8");
  set("num_global_key_value_heads", "4", "2");
  set("num_hidden_layers", "60", "30");
  set("enable_moe_block", "false", "true");
  set("num_experts", "null", "128");
  set("top_k_experts", "null", "8");
  set("moe_intermediate_size", "null", "704");
  // layer_types: the first 30 of the 60 (five sliding, then one full, five times)
  const std::string full = "\"full_attention\"";
  std::size_t at = 0;
  for (int i = 0; i < 5; ++i) at = text.find(full, at) + full.size();
  const std::size_t end = text.find(']', at);
  text.erase(at, end - at);
  text.insert(at, "\n    ");
  const model_spec m = parse_model(import_hf(text, path), "gemma4_moe");
  const model_spec spec = load_model(test::source_dir + "/model_specs/gemma4_26b_a4b.yaml");
  CHECK(n_layers(m) == 30);
  CHECK(parameters(m) == parameters(spec));
  CHECK(active_parameters(m) == parameters(spec) - 30 * 120 * 3 * 2816.0 * 704);
  const auto& moe = std::get<moe_channel>(m.kinds.front().channel);
  CHECK(moe.shared_dim == 2112);
  CHECK(moe.n_shared == 1);
  CHECK(moe.activation == activation::gelu);
}

TEST_CASE("quantization configs: what they change is honoured, what changes nothing is accepted") {
  const std::string llama = read_text(test::test_dir + "/data/hf_configs/llama3.1_8b.json");
  const auto with_quant = [&](const std::string& q) {
    std::string text = llama;
    text.insert(text.find('{') + 1, "\n  \"quantization_config\": " + q + ",");
    return text;
  };
  const auto weights = [](const model_spec& m) { return storage(m.dtypes, weight_kind::mlp); };
  // the storage format of the MLP weights a quantization_config imports to
  const auto imported = [&](const std::string& q) {
    return std::string(weights(parse_model(import_hf(with_quant(q), "q.json"), "q")).name);
  };
  SUBCASE("AWQ with modules_to_not_convert null: 4-bit weights in groups of 128") {
    CHECK(imported("{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 128, \"zero_point\": true, "
                   "\"version\": \"gemm\", \"modules_to_not_convert\": null}") == "int4_g128");
  }
  SUBCASE("AutoGPTQ's fields, some null") {
    CHECK(imported("{\"quant_method\": \"gptq\", \"bits\": 8, \"group_size\": 128, \"desc_act\": false, "
                   "\"model_name_or_path\": null, \"model_file_base_name\": \"model\"}") == "int8_g128");
  }
  SUBCASE("fp8 with weight_block_size null: per-tensor scales") {
    CHECK(imported("{\"quant_method\": \"fp8\", \"activation_scheme\": \"dynamic\", \"weight_block_size\": "
                   "null}") == "fp8");
  }
  SUBCASE("AWQ leaving modules other than the LM head unquantized is not modelled") {
    CHECK_THROWS_WITH_AS(
        import_hf(with_quant("{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 128, "
                             "\"modules_to_not_convert\": [\"mlp\"]}"),
                  "awq.json"),
        "awq.json:2:106: 'modules_to_not_convert' other than lm_head is not modelled for awq", input_error);
  }
  SUBCASE("mxfp4 on a model without experts would quantize nothing: refused") {
    CHECK_THROWS_WITH_AS(
        import_hf(with_quant("{\"quant_method\": \"mxfp4\"}"), "mxfp4.json"),
        "mxfp4.json:2:26: quant_method mxfp4 quantizes the routed experts, and this llama model "
        "has none: it would quantize nothing; not modelled",
        input_error);
  }
  SUBCASE("gpt-oss with its experts among modules_to_not_convert keeps them in bf16") {
    const std::string path = test::test_dir + "/data/hf_configs/gpt_oss_120b.json";
    std::string text = read_text(path);
    const std::string head = "\"lm_head\"";
    REQUIRE(text.find(head) != std::string::npos);
    text.replace(text.find(head), head.size(), head + ", \"model.layers.*.mlp.experts\"");
    const model_spec kept = parse_model(import_hf(text, path), "kept");
    const model_spec published = parse_model(import_hf(read_text(path), path), "published");
    CHECK(storage(published.dtypes, weight_kind::experts).name == "mxfp4");
    CHECK(storage(kept.dtypes, weight_kind::experts).name == "bf16");
    CHECK(parameters(kept) == parameters(published));
  }
}

TEST_CASE("a file that does not exist is named in the error") {
  CHECK_THROWS_WITH_AS(load_model("no/such/model.yaml"), "no/such/model.yaml:1:1: cannot open file",
                       input_error);
  CHECK_THROWS_WITH_AS(load_part("no/such/hw.yaml"), "no/such/hw.yaml:1:1: cannot open file", input_error);
  CHECK_THROWS_WITH_AS(load_stack("no/such/stack.yaml"), "no/such/stack.yaml:1:1: cannot open file",
                       input_error);
}

TEST_CASE("every shipped spec, part and stack loads") {
  int models = 0, profiles = 0;
  for (const auto& e : fs::recursive_directory_iterator(test::source_dir + "/model_specs")) {
    if (e.path().extension() != ".yaml") continue;
    CAPTURE(e.path().string());
    const model_spec m = load_model(e.path().string());
    CHECK(m.name == (e.path().stem() == "example" ? "example_gqa_transformer" : e.path().stem().string()));
    ++models;
  }
  for (const auto& e : fs::directory_iterator(test::source_dir + "/hw_profiles")) {
    CAPTURE(e.path().string());
    const hardware hw = load_hardware(e.path().string());  // with the default stack found next to it
    CHECK(hw.bandwidth.value() > 0);
    CHECK(hw.vector[std::size_t(dtype::fp32)].has_value());
    CHECK(hw.stack == "datasheet");
    ++profiles;
  }
  int stacks = 0;
  for (const auto& e : fs::directory_iterator(test::source_dir + "/stacks")) {
    if (e.path().extension() != ".yaml") continue;  // stacks/kernels/: the tables stacks name
    CAPTURE(e.path().string());
    const stack s = load_stack(e.path().string());
    CHECK(s.name == (e.path().stem() == "example" ? "example" : e.path().stem().string()));
    CHECK_FALSE(s.sources.empty());
    ++stacks;
  }
  CHECK(models >= 12 + 6 + 1);
  CHECK(profiles >= 12 + 1);
  CHECK(stacks >= 5);
}

TEST_CASE("a model spec's values reach the struct") {
  const model_spec m = parse_model(R"(name: gqa
architecture: transformer
d_model: 4096
n_layers: 32
n_heads: 32
ffn_dim: 14336
vocab_size: 128256
tied_embeddings: true
attention: {n_kv_heads: 8, head_dim: 128, qkv_bias: true}
dtypes: {weights: fp8, kv_cache: fp8}
accounting: {attention_causal_factor: 0.5, partial_chunk: fraction, final_norm_flops_prefill: true}
)",
                                   "inline.yaml");
  REQUIRE(m.kinds.size() == 1);
  CHECK(m.layers.size() == 32);
  const auto& a = std::get<attention_mixer>(m.kinds[0].mixer);
  CHECK(a.n_heads == 32);
  CHECK(a.n_kv_heads == 8);
  CHECK(a.qkv_bias);
  CHECK(std::get<mlp_channel>(m.kinds[0].channel).ffn_dim == 14336);
  CHECK(m.tied_embeddings);
  CHECK(m.dtypes.weights == plain(dtype::fp8));
  CHECK(m.dtypes.activations == dtype::bf16);  // documented default
  CHECK(m.dtypes.kv_cache == plain(dtype::fp8));
  CHECK(m.accounting.attention_causal_factor == 0.5);
  CHECK(m.accounting.mlstm_causal_factor == 0.75);  // the paper's default
  CHECK(m.accounting.partial_chunk == partial_chunk::fraction);
  CHECK(m.accounting.final_norm_flops_prefill);
}

TEST_CASE("a part's values reach the struct in SI units") {
  const part p = load_part(test::source_dir + "/hw_profiles/h100_sxm.yaml");
  CHECK(p.matrix[std::size_t(dtype::bf16)]->value() == doctest::Approx(989.4e12).epsilon(1e-12));
  CHECK_FALSE(p.matrix[std::size_t(dtype::fp4)].has_value());
  CHECK(p.vector[std::size_t(dtype::fp32)]->value() == doctest::Approx(66.9e12).epsilon(1e-12));
  CHECK(p.bandwidth.value() == doctest::Approx(3.35e12).epsilon(1e-12));
  CHECK(p.capacity.value() == doctest::Approx(80e9).epsilon(1e-12));
  CHECK(p.tdp_watts == 700);
  CHECK(p.compute_units == 132);
  CHECK(p.clock_mhz == 1830);
  SUBCASE("written back as YAML, it reads the same") {
    const part again = parse_part(part_yaml(p), "again");
    CHECK(again.matrix == p.matrix);
    CHECK(again.bandwidth.value() == p.bandwidth.value());
    CHECK(again.clock_mhz == 1830);
  }
}

TEST_CASE("a stack's values reach the struct, and say where they were fitted") {
  const stack s = load_stack(test::source_dir + "/stacks/hf_transformers_h100.yaml");
  CHECK(s.name == "hf_transformers_h100");
  REQUIRE(s.fitted_on.has_value());
  CHECK(s.fitted_on->part == "NVIDIA H100 SXM5 80GB");
  CHECK(s.timing.gemm_tile_m == 128);  // calibrated: smooth overlap and a calibration record
  CHECK_FALSE(s.timing.gemm_waves);    // padded tiles, not waves (the fit says so)
  CHECK(s.timing.overlap == overlap::smooth);
  REQUIRE(s.calibration.has_value());
  CHECK(s.calibration->dataset == "measurements/h100_paper.csv");
  CHECK(s.calibration->held_out.size() == 4);
  SUBCASE("the long-prompt attention kernel, and a stack without one") {
    CHECK(s.timing.attention_long_from_keys == 2048);
    CHECK(s.timing.attention_long.per_item.value() == doctest::Approx(127.083e-6).epsilon(1e-9));
    CHECK(load_stack(test::source_dir + "/stacks/torch_harness_h200.yaml").timing.attention_long_from_keys ==
          0);
  }
  SUBCASE("written back as YAML, it reads the same") {
    const stack again = parse_stack(stack_yaml(s), "again");
    CHECK(again.fitted_on->compute_units == 132);
    CHECK(again.timing.attention_long_from_keys == 2048);
    CHECK(again.timing.attention_long.per_item.value() ==
          doctest::Approx(s.timing.attention_long.per_item.value()).epsilon(1e-9));
    CHECK(again.timing.of(op_class::recurrent).per_step.value() ==
          doctest::Approx(s.timing.of(op_class::recurrent).per_step.value()).epsilon(1e-9));
    CHECK(again.calibration->in_sample.size() == 4);
  }
  SUBCASE("the generic stacks name no part") {
    CHECK_FALSE(load_stack(test::source_dir + "/stacks/roofline.yaml").fitted_on.has_value());
    CHECK_FALSE(load_stack(test::source_dir + "/stacks/datasheet.yaml").fitted_on.has_value());
  }
}

TEST_CASE("shipped models, parts and stacks are found by name; an unknown name gets the closest") {
  const std::string root = test::source_dir;
  const std::string m8 = root + "/model_specs/llama3.1_8b.yaml";
  // a spec by its stem, written with dashes or in capitals, or by any of its HuggingFace ids
  for (const char* name : {"llama3.1_8b", "llama3.1-8b", "LLAMA3.1-8B", "meta-llama/Llama-3.1-8B-Instruct",
                           "meta-llama/Llama-3.1-8B"}) {
    CAPTURE(name);
    CHECK(find_model(name, root) == m8);
  }
  // a file as given, a path relative to the data folder, a HuggingFace snapshot folder's config.json
  CHECK(find_model(m8, "/nonexistent") == m8);
  CHECK(std::filesystem::equivalent(find_model("model_specs/llama3.1_8b.yaml", root), m8));
  const std::filesystem::path snapshot = std::filesystem::temp_directory_path() / "roofline_snapshot_test";
  std::filesystem::create_directories(snapshot);
  std::filesystem::copy_file(test::test_dir + "/data/hf_configs/llama3.1_8b.json", snapshot / "config.json",
                             std::filesystem::copy_options::overwrite_existing);
  CHECK(find_model(snapshot.string(), root) == (snapshot / "config.json").string());
  CHECK(parameters(load_model(find_model(snapshot.string(), root))) == parameters(load_model(m8)));
  std::filesystem::remove(snapshot / "config.json");
  CHECK_THROWS_WITH_AS(find_model(snapshot.string(), root),
                       (snapshot.string() + ": a folder without a config.json").insert(0, "--model ").c_str(),
                       input_error);
  // parts by stem, by their names (engine runs' system ids, the short h100) and their full name
  for (const char* name : {"h100", "H100 SXM", "h100_sxm", "NVIDIA H100 SXM5 80GB"})
    CHECK(find_part(name, root) == root + "/hw_profiles/h100_sxm.yaml");
  CHECK(find_part("b200_sxm", root) == root + "/hw_profiles/b200.yaml");
  CHECK(find_stack("vllm_h100_sxm", root) == root + "/stacks/vllm_h100_sxm.yaml");
  // unknown names: the closest three, and where the list is
  CHECK_THROWS_WITH_AS(find_part("h20", root, "--hw"),
                       ("--hw h20: no such file, nor a part shipped in " + root +
                        "/hw_profiles (closest: h200, b200, h100_sxm); `roofline list parts` lists them")
                           .c_str(),
                       input_error);
  CHECK_THROWS_WITH_AS(
      find_model("llama3.1-8c", root),
      ("--model llama3.1-8c: no such file, nor a model shipped in " + root +
       "/model_specs (closest: llama3.1_8b, llama3_8b, llama3.1_70b); `roofline list models` "
       "lists them")
          .c_str(),
      input_error);
  // every shipped spec, part and stack is listed and found by its own name
  for (const auto& e : list_models(root)) CHECK(find_model(e.name, root) == e.path);
  for (const auto& e : list_parts(root)) CHECK(find_part(e.name, root) == e.path);
  CHECK(list_models(root).size() == 36);
}

TEST_CASE("an engine's stack for a part: the one fitted on it, else the nearest part's") {
  const std::string root = test::source_dir;
  const auto part = [&](const char* p) { return root + "/hw_profiles/" + p + ".yaml"; };
  CHECK(find_engine_stack("vllm", part("h100_sxm"), root) == root + "/stacks/vllm_h100_sxm.yaml");
  CHECK(find_engine_stack("sglang", part("b300"), root) == root + "/stacks/sglang_b300_sxm.yaml");
  // H200 has no vLLM stack: H100's is nearest (the same bf16 peak; 4.8 against 3.35 TB/s), not
  // B200's (2.25 PFLOP/s bf16, 8 TB/s)
  CHECK(find_engine_stack("vllm", part("h200"), root) == root + "/stacks/vllm_h100_sxm.yaml");
  CHECK_THROWS_WITH_AS(find_engine_stack("trtllm", part("mi300x"), root),
                       "--engine trtllm: TensorRT-LLM runs on NVIDIA GPUs, not on AMD Instinct MI300X",
                       input_error);
  CHECK_THROWS_WITH_AS(
      find_engine_stack("tgi", part("h100_sxm"), root),
      ("--engine tgi: no stack of that engine in " + root + "/stacks (engines: sglang, trtllm, vllm)")
          .c_str(),
      input_error);
}
