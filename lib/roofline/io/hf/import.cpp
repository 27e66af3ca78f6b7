// io: HuggingFace config.json to a model spec. The config is read through yaml-cpp (JSON is YAML's
// flow style), so every error names the field's line and column. model_type selects the family's
// importer (importers.hpp) from the table below.
#include <array>
#include <filesystem>

#include "roofline/io/hf/importers.hpp"
#include "roofline/io/io.hpp"

namespace roofline {
namespace {

struct importer {
  std::string_view model_type;
  void (*run)(hf::input&);
  std::string_view shown = {};  // how errors name it, where not by its model_type
};

// Every model_type the import reads, in the order errors list them.
constexpr std::array importers{
    importer{"llama", hf::import_llama},
    importer{"llama4", hf::import_llama4},
    importer{"llama4_text", hf::import_llama4_text},
    importer{"mistral", hf::import_mistral},
    importer{"mixtral", hf::import_mistral},
    importer{"qwen2", hf::import_qwen},
    importer{"qwen3", hf::import_qwen},
    importer{"qwen3_moe", hf::import_qwen},
    importer{"qwen3_next", hf::import_qwen3_next},
    importer{"phi3", hf::import_phi3},
    importer{"gemma2", hf::import_gemma2},
    importer{"gemma3", hf::import_gemma3},
    importer{"gemma3_text", hf::import_gemma3_text},
    importer{"gemma4", hf::import_gemma4},
    importer{"gemma4_text", hf::import_gemma4_text},
    importer{"gpt2", hf::import_gpt2},
    importer{"gpt_oss", hf::import_gpt_oss},
    importer{"deepseek_v3", hf::import_deepseek_v3},
    importer{"deepseek_v32", hf::import_deepseek_v3},
    importer{"jamba", hf::import_jamba},
    importer{"xlstm", hf::import_xlstm},
    importer{"mamba_ssm", hf::import_mamba_ssm, "mamba_ssm's Mamba2"},
};

// The spec's name: the file's stem, or its folder's name for a config.json.
std::string spec_name(const std::string& path, hf::config& c) {
  std::filesystem::path p(path);
  std::string stem = p.stem().string();
  if (stem == "config" && p.has_parent_path()) stem = p.parent_path().filename().string();
  if (c.has("_name_or_path")) c.at("_name_or_path");
  return stem.empty() ? "imported" : stem;
}

std::string import_config(const YAML::Node& root, const std::string& path) {
  hf::config c(path, root, "");
  if (!root.IsMap()) throw input_error(fmt::format("{}:1:1: expected a JSON object", path));
  std::string type;
  if (c.has("model_type"))
    type = c.text_or("model_type", "");
  else if (c.has("ssm_cfg"))
    type = "mamba_ssm";  // mamba_ssm's MambaConfig has no model_type
  else
    c.fail("model_type", "missing field 'model_type'");
  hf::input in{.c = c, .root = root, .path = path, .type = type, .name = spec_name(path, c), .f = {}};
  in.f = hf::read_formats(c);
  for (const importer& i : importers)
    if (i.model_type == type) {
      i.run(in);
      if (in.f.experts_only && !in.moe)
        c.fail("quantization_config",
               fmt::format("quant_method mxfp4 quantizes the routed experts, and this {} model has none: it "
                           "would quantize nothing; not modelled",
                           type));
      return in.w.text();
    }
  std::string known;
  for (const importer& i : importers)
    known += fmt::format("{}{}", known.empty() ? "" : ", ", i.shown.empty() ? i.model_type : i.shown);
  c.fail("model_type", fmt::format("model_type '{}' is not modelled; modelled: {} (or write a spec: "
                                   "model_specs/example.yaml)",
                                   type, known));
}

}  // namespace

bool is_hf_config(std::string_view text) {
  // A JSON object, perhaps after comment lines (the bad-input catalogue heads its files with one).
  std::size_t first = text.find_first_not_of(" \t\r\n");
  while (first != std::string_view::npos && text[first] == '#') {
    const std::size_t eol = text.find('\n', first);
    first = eol == std::string_view::npos ? eol : text.find_first_not_of(" \t\r\n", eol);
  }
  if (first == std::string_view::npos || text[first] != '{') return false;
  return text.find("\"model_type\"") != std::string_view::npos ||
         text.find("\"architectures\"") != std::string_view::npos ||
         text.find("\"ssm_cfg\"") != std::string_view::npos;
}

std::string import_hf(std::string_view json, const std::string& path) {
  return import_config(io_detail::parse(json, path), path);
}

}  // namespace roofline
