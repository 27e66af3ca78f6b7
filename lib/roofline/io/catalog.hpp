/// The shipped models, parts and stacks of a data folder by name: what `--model llama3.1-8b`,
/// `--model meta-llama/Llama-3.1-8B-Instruct`, `--hw h100` and `--engine vllm` find, and what
/// `roofline list` prints.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roofline {

/// A shipped file and the names that find it.
struct catalog_entry {
  std::string name;                ///< the file's stem
  std::string path;                ///< the file
  std::vector<std::string> names;  ///< every name that finds it: the stem, then the file's own
  std::string line;                ///< one line that says what it is
  std::string engine{};            ///< stacks: the engine it was fitted for ("": none)
  std::string fitted_part{};       ///< stacks: the part it was fitted on ("": none)
};

/// What a data folder holds: model_specs/*.yaml (found by stem and hf_name), hw_profiles/*.yaml
/// (by stem, `names` and `name`), stacks/*.yaml (by stem); example.yaml files are documentation
/// and left out. Sorted by name.
std::vector<catalog_entry> list_models(const std::string& root);
std::vector<catalog_entry> list_parts(const std::string& root);
std::vector<catalog_entry> list_stacks(const std::string& root);

/// A name as names are compared: lower case, without the separators - _ . / and spaces
/// ("Llama-3.1-8B" and "llama3.1_8b" are the same name).
std::string name_key(std::string_view name);

/// The file `what` stands for: an existing file; a folder holding a config.json (a HuggingFace
/// snapshot); a path relative to `root`; else a shipped entry's name. Throws input_error naming
/// `option`, what is not found and the closest names (and where the full list is).
std::string find_model(const std::string& what, const std::string& root,
                       const std::string& option = "--model");
std::string find_part(const std::string& what, const std::string& root, const std::string& option = "--hw");
std::string find_stack(const std::string& what, const std::string& root,
                       const std::string& option = "--stack");

/// The stack of `engine` (vllm, sglang, trtllm) for the part of `part_path`: the one fitted on that
/// part, else the engine's stack fitted on the part nearest to it (the smallest
/// |log(bandwidth ratio)| + |log(bf16 peak ratio)|), which load_hardware then transfers, and the
/// report says so. Throws input_error for an engine with no stack.
std::string find_engine_stack(const std::string& engine, const std::string& part_path,
                              const std::string& root);

/// The stack that drives the part of `part_path`: the one `stack` names (none: the part's
/// default, ""), or `engine`'s (find_engine_stack) where one is named; both named is refused,
/// naming the two options.
std::string find_stack_for(const std::string& part_path, const std::optional<std::string>& stack,
                           const std::string& engine, const std::string& root, std::string_view stack_option,
                           std::string_view engine_option);

}  // namespace roofline
