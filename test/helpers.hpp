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

/// A tiny model of one layer: `mixer` without a channel mixer, d_model d and a vocabulary of v.
inline roofline::model_spec one_mixer(int d, int v, roofline::mixer_spec mixer);

/// Hardware built in code: a bf16 matrix peak and an fp32 vector peak (FLOP/s) and a memory
/// bandwidth (B/s); nothing else (no capacity, the pure roofline's timing).
inline roofline::hardware toy_hardware(std::string name, double matrix, double vector, double bandwidth) {
  roofline::hardware hw{};
  hw.name = std::move(name);
  hw.matrix[std::size_t(roofline::dtype::bf16)] = matrix * roofline::flop_per_second;
  hw.vector[std::size_t(roofline::dtype::fp32)] = vector * roofline::flop_per_second;
  hw.bandwidth = bandwidth * roofline::byte_per_second;
  return hw;
}

/// The parameters of a tiny model's layer kind k: in its mixer's matrices and in its vectors
/// (norms, biases, gates), each checked against the count worked out by hand.
inline void check_layer_params(const roofline::model_spec& m, double mixer, double vectors,
                               std::size_t k = 0) {
  const roofline::param_count p = roofline::layer_params(m, m.kinds[k]);
  CHECK(p[roofline::weight_kind::mixer] == mixer);
  CHECK(p[roofline::weight_kind::vectors] == vectors);
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

inline roofline::model_spec one_mixer(int d, int v, roofline::mixer_spec mixer) {
  return stack("tiny", d, v, std::move(mixer), roofline::no_channel{}, 1);
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
