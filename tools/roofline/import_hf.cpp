// import_hf: the model spec (YAML) equivalent to a HuggingFace config.json, each value with where it came
// from.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/io.hpp"

int commands::import_hf(int argc, char** argv) {
  CLI::App app{
      "Prints the model spec (YAML) that a HuggingFace config.json describes, with a comment for every "
      "value it derived; a field it cannot honour is an error naming its line and column."};
  std::string config;
  app.add_option("config", config, "config.json of a HuggingFace model (or a mamba_ssm config)")->required();
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  try {
    const std::string yaml = roofline::import_hf(roofline::read_text(config), config);
    roofline::parse_model(yaml, config + " (as imported)");  // the spec it prints reads back
    std::cout << yaml;
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
