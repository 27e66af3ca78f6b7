// io: the shipped files of a data folder by name (catalog.hpp).
#include "roofline/io/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "roofline/base/error.hpp"
#include "roofline/io/io.hpp"
#include "roofline/io/io_reader.hpp"

namespace roofline {
namespace fs = std::filesystem;

std::string name_key(std::string_view name) {
  std::string k;
  for (char c : name)
    if (std::string_view("-_./ ").find(c) == std::string_view::npos)
      k.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  return k;
}

namespace {

// The YAML files of root/folder but example.yaml, sorted by stem.
std::vector<fs::path> yaml_files(const std::string& root, const char* folder) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(root) / folder, ec))
    if (e.path().extension() == ".yaml" && e.path().stem() != "example") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// A scalar or a list of scalars, as strings (nothing for anything else).
std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n && n.IsScalar()) out.push_back(n.Scalar());
  if (n && n.IsSequence())
    for (const auto& s : n)
      if (s.IsScalar()) out.push_back(s.Scalar());
  return out;
}

// Each file's entry; a file that does not parse is listed by its stem with the parse error as
// its line (loading it names the error with its position).
template <class Fill>
std::vector<catalog_entry> entries(const std::string& root, const char* folder, Fill&& fill) {
  std::vector<catalog_entry> out;
  for (const fs::path& p : yaml_files(root, folder)) {
    catalog_entry e{p.stem().string(), p.string(), {p.stem().string()}, {}};
    try {
      fill(e, YAML::LoadFile(p.string()));
    } catch (const YAML::Exception& x) {
      e.line = fmt::format("(does not parse: {})", x.what());
    }
    out.push_back(std::move(e));
  }
  return out;
}

// The entry `what` names (by any of its names), or the error that says what is near.
std::string find(const std::string& what, const std::string& root, const std::string& option,
                 const char* folder, const char* kind, const char* list,
                 const std::vector<catalog_entry>& all) {
  std::error_code ec;
  // a file (or a device: the loader says what is wrong with it) as given
  if (fs::exists(what, ec) && !fs::is_directory(what, ec)) return what;
  if (fs::is_directory(what, ec)) {
    if (fs::is_regular_file(fs::path(what) / "config.json", ec))
      return (fs::path(what) / "config.json").string();
    throw input_error(fmt::format("{} {}: a folder without a config.json", option, what));
  }
  if (const fs::path in_root = fs::path(root) / what; fs::is_regular_file(in_root, ec))
    return in_root.string();
  const std::string key = name_key(what);
  std::vector<const catalog_entry*> found;
  for (const catalog_entry& e : all)
    if (std::any_of(e.names.begin(), e.names.end(), [&](const std::string& n) { return name_key(n) == key; }))
      found.push_back(&e);
  if (found.size() == 1) return found.front()->path;
  if (found.size() > 1) {
    std::vector<std::string> names;
    for (const catalog_entry* e : found) names.push_back(e->name);
    throw input_error(fmt::format("{} {}: names {} {}s: {}; give one", option, what, found.size(), kind,
                                  io_detail::join(names)));
  }
  // the closest names: within a third of the name's length, at most three
  std::vector<std::pair<std::size_t, std::string>> near;
  for (const catalog_entry& e : all) {
    std::size_t best = std::numeric_limits<std::size_t>::max();
    for (const std::string& n : e.names) best = std::min(best, io_detail::distance(name_key(n), key));
    if (best <= std::max<std::size_t>(2, key.size() / 3)) near.emplace_back(best, e.name);
  }
  std::sort(near.begin(), near.end());
  if (near.size() > 3) near.resize(3);
  std::vector<std::string> names;
  for (const auto& [d, n] : near) names.push_back(n);
  throw input_error(fmt::format(
      "{} {}: no such file, nor a {} shipped in {}/{}{}; `roofline list {}` lists them", option, what, kind,
      root, folder, names.empty() ? "" : fmt::format(" (closest: {})", io_detail::join(names)), list));
}

}  // namespace

std::vector<catalog_entry> list_models(const std::string& root) {
  return entries(root, "model_specs", [](catalog_entry& e, const YAML::Node& y) {
    for (const std::string& n : strings(y["hf_name"])) e.names.push_back(n);
    if (y["name"] && y["name"].IsScalar() && y["name"].Scalar() != e.name)
      e.names.push_back(y["name"].Scalar());
    const auto hf = strings(y["hf_name"]);
    e.line = hf.empty() ? "" : hf.front();
  });
}

std::vector<catalog_entry> list_parts(const std::string& root) {
  return entries(root, "hw_profiles", [](catalog_entry& e, const YAML::Node& y) {
    for (const std::string& n : strings(y["names"])) e.names.push_back(n);
    if (y["name"] && y["name"].IsScalar()) e.names.push_back(e.line = y["name"].Scalar());
  });
}

std::vector<catalog_entry> list_stacks(const std::string& root) {
  return entries(root, "stacks", [](catalog_entry& e, const YAML::Node& y) {
    if (y["engine"] && y["engine"].IsScalar()) e.engine = y["engine"].Scalar();
    if (y["fitted_on"] && y["fitted_on"]["part"] && y["fitted_on"]["part"].IsScalar())
      e.fitted_part = y["fitted_on"]["part"].Scalar();
    if (y["describes"] && y["describes"].IsScalar()) e.line = y["describes"].Scalar();
  });
}

std::string find_model(const std::string& what, const std::string& root, const std::string& option) {
  return find(what, root, option, "model_specs", "model", "models", list_models(root));
}
std::string find_part(const std::string& what, const std::string& root, const std::string& option) {
  return find(what, root, option, "hw_profiles", "part", "parts", list_parts(root));
}
std::string find_stack(const std::string& what, const std::string& root, const std::string& option) {
  return find(what, root, option, "stacks", "stack", "stacks", list_stacks(root));
}

std::string find_engine_stack(const std::string& engine, const std::string& part_path,
                              const std::string& root) {
  const part target = load_part(part_path);
  if (engine == "trtllm" && target.name.find("NVIDIA") == std::string::npos)
    throw input_error(
        fmt::format("--engine trtllm: TensorRT-LLM runs on NVIDIA GPUs, not on {}", target.name));
  const auto scale = [](const part& p) {
    const auto bf16 = peak_of(p.matrix, dtype::bf16);
    return std::pair{p.bandwidth.value(), bf16 ? bf16->value() : 0.0};
  };
  const auto [bw, peak] = scale(target);
  std::string best;
  double best_gap = std::numeric_limits<double>::infinity();
  std::vector<std::string> engines;
  const std::vector<catalog_entry> parts = list_parts(root);
  for (const catalog_entry& s : list_stacks(root)) {
    if (s.engine.empty()) continue;
    if (std::find(engines.begin(), engines.end(), s.engine) == engines.end()) engines.push_back(s.engine);
    if (s.engine != engine || s.fitted_part.empty()) continue;
    if (s.fitted_part == target.name) return s.path;
    for (const catalog_entry& p : parts) {
      if (std::find(p.names.begin(), p.names.end(), s.fitted_part) == p.names.end()) continue;
      const auto [b, f] = scale(load_part(p.path));
      const double gap = std::abs(std::log(b / bw)) + (f > 0 && peak > 0 ? std::abs(std::log(f / peak)) : 0);
      if (gap < best_gap) best_gap = gap, best = s.path;
    }
  }
  if (best.empty())
    throw input_error(fmt::format("--engine {}: no stack of that engine in {}/stacks (engines: {})", engine,
                                  root, io_detail::join(engines)));
  return best;
}

std::string find_stack_for(const std::string& part_path, const std::optional<std::string>& stack,
                           const std::string& engine, const std::string& root, std::string_view stack_option,
                           std::string_view engine_option) {
  if (engine.empty()) return stack ? find_stack(*stack, root, std::string(stack_option)) : "";
  if (stack)
    throw input_error(fmt::format("{} and {}: give one ({} picks its engine's stack for the part)",
                                  engine_option, stack_option, engine_option));
  return find_engine_stack(engine, part_path, root);
}

}  // namespace roofline
