// list: the shipped models, parts, stacks and engines, one line each, with the names that find them.
#include <cstdio>
#include <iostream>
#include <set>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/catalog.hpp"

namespace {

// "name  the other names  what it is", the names column as wide as the widest.
void print(const std::vector<roofline::catalog_entry>& all, bool names) {
  std::size_t width = 0;
  for (const auto& e : all) width = std::max(width, e.name.size());
  for (const auto& e : all) {
    std::string other;
    if (names)
      for (std::size_t i = 1; i < e.names.size(); ++i)
        if (e.names[i] != e.line && e.names[i] != e.name) other += (other.empty() ? "" : ", ") + e.names[i];
    std::string line = e.line;
    if (!other.empty()) line = line.empty() ? "also " + other : line + " (also " + other + ")";
    std::cout << fmt::format("{:<{}}  {}\n", e.name, width, line);
  }
}

}  // namespace

int commands::list(int argc, char** argv) {
  CLI::App app{
      "Lists what the data folder ships, one line each: models (by spec name, with their HuggingFace "
      "ids), parts (with the names that find them), stacks (what each times) or engines (their "
      "stacks). Any of these names goes where a file does: --model, --hw, --stack, --engine."};
  std::string what;
  app.add_option("what", what, "models, parts, stacks or engines")
      ->required()
      ->check(CLI::IsMember({"models", "parts", "stacks", "engines"}));
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  const std::string root = examples::data_dir();
  if (what == "models") print(roofline::list_models(root), true);
  if (what == "parts") print(roofline::list_parts(root), true);
  if (what == "stacks") print(roofline::list_stacks(root), false);
  if (what == "engines") {
    std::set<std::string> engines;
    const auto stacks = roofline::list_stacks(root);
    for (const auto& s : stacks)
      if (!s.engine.empty()) engines.insert(s.engine);
    for (const std::string& e : engines) {
      std::string fitted;
      for (const auto& s : stacks)
        if (s.engine == e) fitted += (fitted.empty() ? "" : ", ") + s.name;
      std::cout << fmt::format("{:<7} stacks: {}\n", e, fitted);
    }
  }
  return 0;
}
