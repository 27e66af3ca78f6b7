// compare: prompt-length grids, crossovers, and the comparison and roofline charts.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "helpers.hpp"
#include "roofline/estimate/compare.hpp"
#include "roofline/io/io.hpp"
#include "roofline/report/plot.hpp"
#include "roofline/report/report.hpp"

using namespace roofline;

TEST_CASE("prompt-length grids have four points per doubling and both ends") {
  // 512 x 2^(i/4): 512, 609, 724, 861, 1024
  CHECK(prefill_grid(512, 1024) == std::vector<std::int64_t>{512, 609, 724, 861, 1024});
  CHECK(prefill_grid(1, 2) == std::vector<std::int64_t>{1, 2});
}

TEST_CASE("a crossover is the first prompt length at which the faster model is faster") {
  const model_spec xlstm = load_model(test::source_dir + "/model_specs/xlstm_7b.yaml");
  const model_spec llama = load_model(test::source_dir + "/model_specs/llama2_7b.yaml");
  const hardware hw = test::h100_calibrated();
  const workload w{.batch = 1, .prefill = 1, .generate = 100};
  const comparison c = compare({&xlstm, &llama}, hw, w, prefill_grid(512, 131072));
  int ttft = 0;
  for (const crossover& x : c.crossovers) {
    CAPTURE(x.prefill);
    const model_spec* fast = c.models[x.faster];
    const model_spec* slow = c.models[x.slower];
    CHECK(time_at(*fast, hw, w, x.prefill, x.metric) < time_at(*slow, hw, w, x.prefill, x.metric));
    CHECK(time_at(*fast, hw, w, x.prefill - 1, x.metric) >= time_at(*slow, hw, w, x.prefill - 1, x.metric));
    if (x.metric == metric::ttft) {
      ++ttft;
      CHECK(fast == &xlstm);  // attention's quadratic cost overtakes the mLSTM's linear one
    }
  }
  CHECK(ttft == 1);
  // xLSTM's step does not depend on the context; Llama's grows with it
  CHECK(c.results.front()[0].step_time.value() ==
        doctest::Approx(c.results.back()[0].step_time.value()).epsilon(1e-9));
  CHECK(c.results.back()[1].step_time > 10.0 * c.results.front()[1].step_time);
}

TEST_CASE("the comparison and roofline charts are SVGs with their labels") {
  const model_spec xlstm = load_model(test::source_dir + "/model_specs/xlstm_7b.yaml");
  const model_spec llama = load_model(test::source_dir + "/model_specs/llama2_7b.yaml");
  const hardware hw = test::h100_calibrated();
  const auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const auto dir = std::filesystem::temp_directory_path();
  SUBCASE("comparison") {
    const auto path = (dir / "roofline_compare.svg").string();
    plot_comparison(
        compare({&xlstm, &llama}, hw, {.batch = 1, .prefill = 1, .generate = 100}, prefill_grid(512, 65536)),
        path);
    const std::string svg = read(path);
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.find("time to first token on NVIDIA H100 SXM5 80GB, batch 1") != std::string::npos);
    CHECK(svg.find("xlstm_7b &lt; llama2_7b from") != std::string::npos);
  }
  SUBCASE("pareto") {
    const auto fits = load_loss_fits(test::source_dir + "/scaling/loss_fits.yaml");
    const auto path = (dir / "roofline_pareto.svg").string();
    std::vector<pareto_series> series;
    for (auto arch : {architecture::transformer, architecture::xlstm}) {
      const loss_fit* fit = nullptr;
      for (const auto& f : fits)
        if (f.family == name(arch) && f.name == "default") fit = &f;
      REQUIRE(fit != nullptr);
      series.push_back(
          {std::string(name(arch)) + ", 16384", serve(train_on_budget(ladder(arch), *fit, 1e21, 16384), hw,
                                                      {.batch = 1, .prefill = 16384, .generate = 100})});
    }
    plot_pareto(series, "trained on 1e21 FLOPs", path);
    const std::string svg = read(path);
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.find("xlstm, 16384") != std::string::npos);
    CHECK(svg.find("time to first token (ms)") != std::string::npos);
    CHECK(svg.find("decode step (ms)") != std::string::npos);
  }
  SUBCASE("roofline") {
    const auto path = (dir / "roofline_chart.svg").string();
    plot_roofline(make_report(xlstm, hw, {.batch = 1, .prefill = 8192, .generate = 10}, std::nullopt), path);
    const std::string svg = read(path);
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.find("matrix bf16, fp16 peak 989.4 TFLOP/s") != std::string::npos);
    CHECK(svg.find("vector fp32 peak 66.9 TFLOP/s") != std::string::npos);
    CHECK(svg.find("mlstm_cell") != std::string::npos);
    CHECK(svg.find("decode ops") != std::string::npos);
  }
}
