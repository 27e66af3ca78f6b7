// Shared by the tests: paths and a CSV reader for test/data.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "roofline/graph/graph.hpp"
#include "roofline/io/io.hpp"

namespace test {

/// The op of a pass named `name` (the last one, for a model of several layer kinds).
inline roofline::op find_op(const roofline::model_spec& m, const roofline::pass& p, std::string_view name) {
  roofline::op found{};
  roofline::for_each_op(m, p, [&](const roofline::op& o) {
    if (o.name == name) found = o;
  });
  REQUIRE(found.name == name);
  return found;
}

/// A model of n identical layers built in code (as the tests' tiny models are).
inline roofline::model_spec stack(std::string name, int d_model, int vocab, roofline::mixer_spec mixer,
                                  roofline::channel_spec channel, int layers) {
  roofline::model_spec m{.name = std::move(name), .d_model = d_model, .vocab_size = vocab};
  const bool none = std::holds_alternative<roofline::no_channel>(channel);
  roofline::set_uniform_layers(m,
                               {.mixer_name = "mixer",
                                .channel_name = none ? "none" : "channel",
                                .mixer = std::move(mixer),
                                .channel = std::move(channel)},
                               layers);
  return m;
}

inline const std::string source_dir = ROOFLINE_SOURCE_DIR;
inline const std::string test_dir = ROOFLINE_TEST_DIR;

/// A shipped part and stack: hw_profiles/<part>.yaml driven by stacks/<stack>.yaml.
inline roofline::hardware shipped(const std::string& part, const std::string& stack) {
  return roofline::load_hardware(source_dir + "/hw_profiles/" + part + ".yaml",
                                 source_dir + "/stacks/" + stack + ".yaml");
}
/// The H100 SXM with the stack fitted to the paper's runs, and with the pure roofline.
inline roofline::hardware h100_calibrated() { return shipped("h100_sxm", "hf_transformers_h100"); }
inline roofline::hardware h100_roofline() { return shipped("h100_sxm", "roofline"); }

/// Rows of a CSV with a header and no quoted fields, as maps from column to text.
inline std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::map<std::string, std::string>> rows;
  std::string line;
  std::vector<std::string> header;
  const auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string cell;
    while (std::getline(ss, cell, ',')) out.push_back(cell);
    if (!s.empty() && s.back() == ',') out.emplace_back();
    return out;
  };
  if (std::getline(in, line)) header = split(line);
  while (std::getline(in, line)) {
    const auto cells = split(line);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = i < cells.size() ? cells[i] : "";
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace test
