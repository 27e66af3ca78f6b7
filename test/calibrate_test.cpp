// calibrate: error statistics, measurement files, the profile writer, the fit on synthetic data, and
// the fit against Ceres's own numeric differentiation of estimate_pass.
#include <ceres/ceres.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "helpers.hpp"
#include "roofline/fit/calibrate.hpp"
#include "roofline/io/io.hpp"
#include "roofline/report/plot.hpp"

using namespace roofline;

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << text;
  return path;
}

// A measurement CSV of these rows (after the header) fails to load with "<path>:<message>".
void check_bad_csv(const std::string& name, const std::string& rows, const std::string& message) {
  const auto path = write_temp(name, "model,batch,prefill,generate,ttft_ms,step_ms\n" + rows);
  CHECK_THROWS_WITH_AS(load_measurements(path), (path + ":" + message).c_str(), input_error);
}

}  // namespace

TEST_CASE("error statistics of a hand-computed case") {
  // measured 100 ms each; predicted 110, 80, 130, 60 -> APE 10, 20, 30, 40
  const model_spec m = test::stack("t", 8, 32, mlstm_mixer{.n_heads = 2}, mlp_channel{.ffn_dim = 16}, 1);
  std::vector<sample> s;
  std::vector<prediction> p;
  for (double pred : {0.110, 0.080, 0.130, 0.060}) {
    s.push_back({&m, "t.yaml", {}, 0.1, std::numeric_limits<double>::quiet_NaN()});
    p.push_back({pred, 1.0});
  }
  const auto cells = error_cells(s, p);
  REQUIRE(cells.size() == 1);  // no step measured: no step cell
  CHECK(cells[0].architecture == "xlstm");
  CHECK(cells[0].phase == "ttft");
  CHECK(cells[0].n == 4);
  CHECK(cells[0].median_ape == doctest::Approx(25).epsilon(1e-9));  // (20 + 30) / 2
  CHECK(cells[0].mean_ape == doctest::Approx(25).epsilon(1e-9));
  CHECK(cells[0].p90_ape == doctest::Approx(37).epsilon(1e-9));  // position 0.9 x 3 = 2.7: 30 + 0.7 x 10
  CHECK(cells[0].max_ape == doctest::Approx(40).epsilon(1e-9));
}

TEST_CASE("measurement files are read strictly") {
  SUBCASE("columns in any order, extra columns ignored, empty times not measured") {
    const auto path = write_temp("m_ok.csv",
                                 "step_ms,model,gpu,batch,prefill,generate,ttft_ms\n"
                                 "2.5,a.yaml,h100,4,128,100,\n");
    const auto rows = load_measurements(path);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].model == "a.yaml");
    CHECK(rows[0].work.batch == 4);
    CHECK(rows[0].work.prefill == 128);
    CHECK(rows[0].work.generate == 100);
    CHECK_FALSE(rows[0].ttft_ms.has_value());
    CHECK(*rows[0].step_ms == 2.5);
    CHECK(rows[0].line == 2);
  }
  SUBCASE("a UTF-8 byte-order mark before the header is not part of its first column") {
    const auto path = write_temp(
        "m_bom.csv", "\xEF\xBB\xBFmodel,batch,prefill,generate,ttft_ms,step_ms\na.yaml,2,3,4,5,6\n");
    const auto rows = load_measurements(path);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].model == "a.yaml");
    CHECK(rows[0].work.batch == 2);
  }
  SUBCASE("lines that end in a lone carriage return (old Mac files) are lines") {
    const auto rows = load_measurements(write_temp(
        "m_cr.csv", "model,batch,prefill,generate,ttft_ms,step_ms\ra.yaml,2,3,4,5,6\rb.yaml,1,1,1,,7\r"));
    // the second run: its model, its line, no TTFT, a step of 7 ms
    CHECK((rows.size() == 2 && rows[1].model == "b.yaml" && rows[1].line == 3 && !rows[1].ttft_ms &&
           rows[1].step_ms == 7.0));
  }
  SUBCASE("a quoted field is named as such, not counted as extra fields") {
    check_bad_csv("m_quoted.csv", "\"a,b.yaml\",1,1,1,1,1\n",
                  "2:1: a quoted field; fields are plain text, without quotes or commas");
  }
  SUBCASE("a time below a nanosecond is no measurement") {
    check_bad_csv(
        "m_tiny.csv", "a.yaml,1,1,1,1e-320,1\n",
        "2:14: 'ttft_ms' must be a positive number of milliseconds (1e-06 to 1e+12) or empty, got '1e-320'");
  }
  SUBCASE("a missing column") {
    const auto path = write_temp("m_col.csv", "model,batch,prefill,ttft_ms,step_ms\na.yaml,1,1,1,1\n");
    CHECK_THROWS_WITH_AS(
        load_measurements(path),
        (path +
         ":1:1: missing column 'generate'; required: model, batch, prefill, generate, ttft_ms, step_ms")
            .c_str(),
        input_error);
  }
  SUBCASE("a batch of zero") {
    check_bad_csv("m_batch.csv", "a.yaml,0,1,1,1,1\n",
                  "2:8: 'batch' must be an integer from 1 to 1099511627776, got '0'");
  }
  SUBCASE("a time that is not a number") {
    check_bad_csv(
        "m_time.csv", "a.yaml,1,1,1,fast,1\n",
        "2:14: 'ttft_ms' must be a positive number of milliseconds (1e-06 to 1e+12) or empty, got 'fast'");
  }
  SUBCASE("the shipped H100 measurements: 1,560 runs, 909 TTFT and 890 step times") {
    const auto rows = load_measurements(test::source_dir + "/measurements/h100_paper.csv");
    CHECK(rows.size() == 1560);
    CHECK(std::count_if(rows.begin(), rows.end(),
                        [](const measurement& m) { return m.ttft_ms.has_value(); }) == 909);
    CHECK(std::count_if(rows.begin(), rows.end(),
                        [](const measurement& m) { return m.step_ms.has_value(); }) == 890);
  }
}

TEST_CASE("a written stack reads back the same") {
  stack s = load_stack(test::source_dir + "/stacks/hf_transformers_h100.yaml");
  s.timing.of(op_class::attention).per_item = 3e-6 * second;
  s.calibration =
      calibration_record{"measurements/x.csv", "2026-11-27", "test", {{"xlstm", "ttft", 3, 1, 2, 3, 4}}, {}};
  const stack back = parse_stack(stack_yaml(s), "written.yaml");
  CHECK(back.name == s.name);
  CHECK(back.describes == s.describes);
  CHECK(back.sources == s.sources);
  CHECK(back.fitted_on->part == s.fitted_on->part);
  CHECK(back.fitted_on->clock_mhz == 1830);
  CHECK(back.timing.of(op_class::attention).per_item.value() == doctest::Approx(3e-6).epsilon(1e-6));
  REQUIRE(back.calibration.has_value());
  CHECK(back.calibration->in_sample.at(0).max_ape == 4);
}

TEST_CASE("the fit recovers timing parameters from data they generated") {
  // Synthetic times from known parameters, on 6 paper models (12, 24, 32 layers) x 4 batches x
  // 4 prompt lengths.
  std::vector<model_spec> models;
  for (const char* m :
       {"xlstm_160m", "xlstm_400m", "xlstm_2.7b", "llama2_160m", "llama2_400m", "llama2_2.7b"})
    models.push_back(load_model(test::source_dir + "/model_specs/paper/" + m + ".yaml"));
  hardware truth = test::h100_calibrated();
  const std::vector<fit_parameter> params = fit_parameters();
  truth.timing.overlap = overlap::smooth;
  truth.timing.gemm_tile_m = truth.timing.gemm_tile_n = 128;
  // Identified one by one: efficiencies and the overlap exponent. The overheads are constants
  // of a forward pass of each layer count, so only their sums per pass are identified (below).
  std::map<std::string, double> value{
      {"matrix.compute", 0.6}, {"matrix.memory", 0.8}, {"attention.memory", 0.4}, {"smooth_exponent", 4}};
  for (const fit_parameter& p : params) p.set(truth.timing, value.count(p.name) ? value[p.name] : p.start);
  truth.timing.overhead_per_forward = 300e-6 * second;
  truth.timing.of(op_class::matrix).overhead = 2e-6 * second;
  std::vector<sample> samples;
  for (const model_spec& m : models)
    for (std::int64_t b : {1, 4, 16, 64})
      for (std::int64_t pre : {1, 128, 1024, 4096}) {
        const workload w{.batch = b, .prefill = pre, .generate = 100};
        const estimate_result r = estimate(m, truth, w);
        samples.push_back({&m, m.name, w, r.ttft.value(), r.step_time.value()});
      }
  const fit_report fit = fit_timing(test::h100_calibrated(), samples);
  for (const error_cell& c : error_cells(samples, predict(fit.fitted, samples))) {
    CAPTURE(c.architecture);
    CAPTURE(c.phase);
    CHECK(c.max_ape < 0.5);
  }
  for (const fit_parameter& p : params)
    if (value.count(p.name)) {
      CAPTURE(p.name);
      CHECK(p.get(fit.fitted.timing) == doctest::Approx(value[p.name]).epsilon(0.02));
    }
  // The overheads of a pass that does not depend on the layer count: the per-forward one and
  // those of the LM head (a matrix op) and of the embedding and final norm (vector ops).
  const auto fixed = [](const timing_params& t) {
    return (t.overhead_per_forward + t.of(op_class::matrix).overhead + 2.0 * t.of(op_class::vector).overhead)
        .value();
  };
  CHECK(fixed(fit.fitted.timing) == doctest::Approx(fixed(truth.timing)).epsilon(0.02));
}

namespace {
// The fit as its definition states it: Ceres's numeric central differences of estimate_pass
// (the graph built at every evaluation, every op re-timed for every parameter), with the solver
// settings fit_timing states (calibrate.hpp: Levenberg-Marquardt, dense QR, bounds, Huber,
// tolerance 1e-10).
struct reference_residuals {
  const sample* s;
  hardware* hw;
  const std::vector<fit_parameter>* params;
  bool operator()(double const* const* x, double* r) const {
    for (std::size_t i = 0; i < params->size(); ++i)
      (*params)[i].set(hw->timing, std::clamp(x[0][i], (*params)[i].lower, (*params)[i].upper));
    int k = 0;
    if (!std::isnan(s->ttft_s))
      r[k++] = std::log(estimate_pass(*s->model, *hw, prefill_pass(s->work), overlap::smooth).time.value() /
                        s->ttft_s);
    if (!std::isnan(s->step_s))
      r[k++] = std::log(estimate_pass(*s->model, *hw, decode_pass(s->work), overlap::smooth).time.value() /
                        s->step_s);
    return true;
  }
};

std::vector<double> reference_fit(const hardware& start, std::span<const sample> samples, int iterations) {
  const std::vector<fit_parameter> params = fit_parameters(false, start.timing.attention_long_from_keys > 0);
  std::vector<hardware> copies(samples.size(), start);
  for (hardware& h : copies) {
    h.timing.overlap = overlap::smooth;
    h.timing.gemm_tile_m = h.timing.gemm_tile_n = 128;
    h.timing.gemm_waves = false;
  }
  std::vector<double> x;
  for (const fit_parameter& p : params) x.push_back(p.start);
  ceres::Problem problem;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    auto* cost = new ceres::DynamicNumericDiffCostFunction<reference_residuals, ceres::CENTRAL>(
        new reference_residuals{&samples[i], &copies[i], &params});
    cost->AddParameterBlock(int(x.size()));
    cost->SetNumResiduals(int(!std::isnan(samples[i].ttft_s)) + int(!std::isnan(samples[i].step_s)));
    problem.AddResidualBlock(cost, new ceres::HuberLoss(0.1), x.data());
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    problem.SetParameterLowerBound(x.data(), int(i), params[i].lower);
    problem.SetParameterUpperBound(x.data(), int(i), params[i].upper);
  }
  ceres::Solver::Options o;
  o.linear_solver_type = ceres::DENSE_QR;
  o.max_num_iterations = iterations;
  o.num_threads = 1;
  o.function_tolerance = o.parameter_tolerance = 1e-10;
  ceres::Solver::Summary summary;
  ceres::Solve(o, &problem, &summary);
  return x;
}
}  // namespace

TEST_CASE("the fit's cached ops and sparse differences give Ceres's numeric differentiation to the bit") {
  // Measured runs of a Transformer (prompts past the long-prompt kernel's 2,048 keys too) and an
  // xLSTM, one of them with only a TTFT; the start is the shipped stack, which has that kernel.
  std::vector<model_spec> models;
  for (const char* m : {"llama2_160m", "xlstm_400m"})
    models.push_back(load_model(test::source_dir + "/model_specs/paper/" + m + ".yaml"));
  const hardware start = test::h100_calibrated();
  REQUIRE(start.timing.attention_long_from_keys > 0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<sample> samples;
  for (const model_spec& m : models)
    for (std::int64_t b : {1, 8, 32})
      for (std::int64_t pre : {256, 1024, 4096}) {
        const estimate_result r = estimate(m, start, {.batch = b, .prefill = pre, .generate = 100});
        // measured: the stack's times, off by a factor that varies, so that the fit has work to do
        const double f = 1 + 0.1 * double((b + pre / 256) % 5);
        samples.push_back({&m,
                           m.name,
                           {.batch = b, .prefill = pre, .generate = 100},
                           r.ttft.value() * f,
                           b == 32 && pre == 4096 ? nan : r.step_time.value() / f});
      }
  for (int iterations : {1, 6}) {
    CAPTURE(iterations);
    const std::vector<double> want = reference_fit(start, samples, iterations);
    const fit_report got = fit_timing(start, samples, {.max_iterations = iterations, .threads = 1});
    const std::vector<fit_parameter> params = fit_parameters(false, true);
    REQUIRE(want.size() == params.size());
    int moved = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
      CAPTURE(std::string(params[i].name));
      timing_params t = got.fitted.timing;  // the reference's value, written as the fit writes it
      params[i].set(t, std::clamp(want[i], params[i].lower, params[i].upper));
      CHECK(params[i].get(got.fitted.timing) == params[i].get(t));
      moved += want[i] != params[i].start;
    }
    CHECK(moved > 10);  // the steps moved most parameters: the comparison covers their columns
  }
}

TEST_CASE("cross-validation's folds in parallel give what each fit on the other models predicts") {
  std::vector<model_spec> models;
  for (const char* m : {"llama2_160m", "xlstm_160m", "llama2_400m"})
    models.push_back(load_model(test::source_dir + "/model_specs/paper/" + m + ".yaml"));
  const hardware start = test::h100_calibrated();
  std::vector<sample> samples;
  for (const model_spec& m : models)
    for (std::int64_t b : {1, 16})
      for (std::int64_t pre : {128, 2048}) {
        const workload w{.batch = b, .prefill = pre, .generate = 50};
        const estimate_result r = estimate(m, start, w);
        const double f = 1 + 0.05 * double((b + pre / 128) % 7);
        samples.push_back({&m, m.name, w, r.ttft.value() * f, r.step_time.value() * f});
      }
  const fit_options options{.max_iterations = 20, .threads = 2};
  const std::vector<prediction> got = cross_validate(start, samples, options, {});
  REQUIRE(got.size() == samples.size());
  for (const model_spec& held : models) {
    std::vector<sample> train;
    for (const sample& s : samples)
      if (s.model_path != held.name) train.push_back(s);
    const hardware fitted = fit_timing(start, train, options).fitted;
    for (std::size_t i = 0; i < samples.size(); ++i)
      if (samples[i].model_path == held.name) {
        const estimate_result r = estimate(held, fitted, samples[i].work);
        CHECK(got[i].ttft_s == r.ttft.value());
        CHECK(got[i].step_s == r.step_time.value());
      }
  }
}

TEST_CASE("the validation plot is an SVG with the models and panel titles") {
  const model_spec m = load_model(test::source_dir + "/model_specs/paper/xlstm_400m.yaml");
  const hardware hw = test::h100_calibrated();
  std::vector<sample> s;
  for (std::int64_t pre : {128, 1024})
    s.push_back({&m,
                 "model_specs/paper/xlstm_400m.yaml",
                 {.batch = 1, .prefill = pre, .generate = 100},
                 0.01,
                 0.005});
  const auto path = (std::filesystem::temp_directory_path() / "roofline_validation.svg").string();
  std::filesystem::remove(path);
  plot_validation(s, predict(hw, s), 1, path);
  std::ifstream in(path);
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("xlstm_400m") != std::string::npos);
  CHECK(svg.find("predicted against measured") != std::string::npos);
  CHECK(svg.find("decode step at batch 1") != std::string::npos);
}

TEST_CASE("the H200 measurements cover the 12 paper models over the harness's grid") {
  const auto rows = load_measurements(test::source_dir + "/measurements/h200_measured.csv");
  CHECK(rows.size() == 144);
  std::map<std::string, int> per_model;
  for (const measurement& m : rows) {
    ++per_model[m.model];
    CHECK(m.work.generate == 32);
    CHECK(m.work.batch * m.work.prefill <= 131072);
    CHECK(m.ttft_ms.has_value());
    CHECK(m.step_ms.has_value());
  }
  CHECK(per_model.size() == 12);
  for (const auto& entry : per_model) CHECK(entry.second == 12);
}

TEST_CASE("a fit can start from measured peaks") {
  const hardware hw = test::h100_roofline();
  // 775 TFLOP/s of 989.4; 4,244 GB/s of 3,350 (above 1: clamped to the bound by the fit); 9.9 us
  const auto s = starts_from_peaks(hw, 775e12, 4244e9, 9.9e-6);
  CHECK(s.at("matrix.compute") == doctest::Approx(775 / 989.4).epsilon(1e-12));
  CHECK(s.at("attention.memory") == doctest::Approx(4244 / 3350.0).epsilon(1e-12));
  CHECK(s.at("vector.overhead_us") == doctest::Approx(9.9).epsilon(1e-12));
  const model_spec m = load_model(test::source_dir + "/model_specs/paper/xlstm_160m.yaml");
  const std::vector<sample> one{{&m, "m", {.batch = 1, .prefill = 512, .generate = 10}, 0.01, 0.001}};
  const fit_report r = fit_timing(hw, one, {.max_iterations = 0, .start = s});  // no step: the start itself
  CHECK(r.fitted.timing.of(op_class::matrix).compute == doctest::Approx(775 / 989.4).epsilon(1e-12));
  CHECK(r.fitted.timing.of(op_class::attention).memory == 1);  // clamped to its upper bound
  CHECK(r.fitted.timing.of(op_class::vector).overhead.value() == doctest::Approx(9.9e-6).epsilon(1e-9));
}

TEST_CASE("a fit can start from a profile's own timing (--warm-start)") {
  const hardware hw = test::h100_calibrated();
  const auto s = starts_from_profile(hw);
  const std::vector<fit_parameter> params = fit_parameters(false, true);  // with the long-prompt kernel
  CHECK(s.size() == params.size());
  CHECK(s.size() == fit_parameters().size() + 5);  // its compute, memory, half point, overhead, per item
  CHECK(s.at("decode_attention.per_step_us") ==
        doctest::Approx(hw.timing.of(op_class::decode_attention).per_step.value() * 1e6).epsilon(1e-12));
  CHECK(s.at("attention_long.per_item_us") ==
        doctest::Approx(hw.timing.attention_long.per_item.value() * 1e6).epsilon(1e-12));
  CHECK(s.at("smooth_exponent") == hw.timing.smooth_exponent);
  const model_spec m = load_model(test::source_dir + "/model_specs/paper/llama2_160m.yaml");
  const std::vector<sample> one{{&m, "m", {.batch = 2, .prefill = 512, .generate = 10}, 0.01, 0.001}};
  const fit_report r = fit_timing(hw, one, {.max_iterations = 0, .start = s});  // no step: the start itself
  for (const fit_parameter& p : params) {
    CAPTURE(p.name);
    CHECK(p.get(r.fitted.timing) == doctest::Approx(p.get(hw.timing)).epsilon(1e-12));
  }
}

TEST_CASE("--share-phases: the decode kernels take the prompt kernels' parameters") {
  const auto shared = fit_parameters(true);
  CHECK(shared.size() + 11 == fit_parameters().size());  // decode_attention's 6, recurrent_step's 5
  timing_params t;
  for (const fit_parameter& p : shared) {
    CHECK(std::string(p.name).find("decode_attention") == std::string::npos);
    CHECK(std::string(p.name).find("recurrent_step") == std::string::npos);
    if (std::string(p.name) == "attention.compute") p.set(t, 0.3);
    if (std::string(p.name) == "recurrent.overhead_us") p.set(t, 7);
  }
  CHECK(t.of(op_class::decode_attention).compute == 0.3);
  CHECK(t.of(op_class::recurrent_step).overhead.value() == doctest::Approx(7e-6).epsilon(1e-12));
}

TEST_CASE("on a kernel stack, a serving fit keeps the kernels' timing and recovers the engine's own terms") {
  CHECK(std::vector<std::string>{"iteration_overhead_us", "request_overhead_ms", "collective_efficiency",
                                 "collective_overhead_us"} == [] {
    std::vector<std::string> names;
    for (const fit_parameter& p : serving_fit_parameters(true, true)) names.push_back(p.name);
    return names;
  }());
  // Synthetic runs of Llama-3.1-8B on one H100 timed by the measured H100 kernel table, replayed
  // by the simulator with known overheads; the fit starts from its own starting values.
  const model_spec m = load_model(test::source_dir + "/model_specs/llama3.1_8b.yaml");
  hardware start = load_hardware(test::source_dir + "/hw_profiles/h100_sxm.yaml",
                                 test::source_dir + "/stacks/torch_kernels_h100.yaml");
  start.timing.serving.stated = true;
  hardware truth = start;
  truth.timing.serving.iteration_overhead = 400e-6 * second;
  truth.timing.serving.request_overhead = 20e-3 * second;
  std::vector<serving_sample> samples;
  for (const auto& [isl, osl, users] : std::vector<std::tuple<std::int64_t, std::int64_t, double>>{
           {1024, 128, 1}, {1024, 128, 8}, {4096, 256, 4}, {512, 512, 16}, {2048, 64, 2}, {256, 1024, 32}}) {
    serving_sample s{&m, m.name, serving_workload{.isl = isl, .osl = osl, .concurrency = users}, 0, 0, 100};
    const std::optional<prediction> p = predict_serving(s, truth, true);
    REQUIRE(p);
    s.ttft_s = p->ttft_s, s.tpot_s = p->step_s;
    samples.push_back(s);
  }
  fit_options options;
  options.simulated = true;
  const fit_report fit = fit_serving(start, samples, options);
  CHECK(fit.fitted.timing.kernels == start.timing.kernels);  // the same table, untouched
  CHECK(fit.fitted.timing.of(op_class::matrix).compute == start.timing.of(op_class::matrix).compute);
  CHECK(fit.fitted.timing.serving.iteration_overhead.value() == doctest::Approx(400e-6).epsilon(0.03));
  CHECK(fit.fitted.timing.serving.request_overhead.value() == doctest::Approx(20e-3).epsilon(0.03));
}

TEST_CASE("end-to-end spreads per model family: from measured runs, into the estimate's interval") {
  const model_spec tf = test::stack("t", 8, 32, attention_mixer{.n_heads = 2, .n_kv_heads = 1, .head_dim = 4},
                                    mlp_channel{.ffn_dim = 16}, 1);
  const model_spec xl = test::stack("x", 8, 32, mlstm_mixer{.n_heads = 2}, mlp_channel{.ffn_dim = 16}, 1);
  // measured / predicted: transformer TTFT 0.8, 1.0, 1.2, step 1 each; xLSTM TTFT 2 and step 0.5 once; a run
  // without a step time counts its TTFT only
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<sample> s{
      {&tf, "t", {}, 0.8, 1}, {&tf, "t", {}, 1.0, 1}, {&tf, "t", {}, 1.2, nan}, {&xl, "x", {}, 2, 0.5}};
  const std::vector<prediction> p(4, prediction{1, 1});
  const std::vector<family_spread> f = family_spreads(s, p);
  REQUIRE(f.size() == 2);
  CHECK(f[0].family == "transformer");
  CHECK(f[0].ttft.p10 == doctest::Approx(0.84));  // sorted 0.8, 1.0, 1.2 at position 0.2
  CHECK(f[0].ttft.p90 == doctest::Approx(1.16));  // at position 1.8
  CHECK(f[0].ttft.points == 3);
  CHECK(f[0].step.points == 2);
  CHECK(f[1].family == "xlstm");
  CHECK(f[1].ttft.p10 == 2);
  CHECK(f[1].step.p90 == 0.5);
  // an estimate takes its family's spread: TTFT x [0.84, 1.16], step x [1, 1]
  hardware hw = test::h100_roofline();
  hw.timing.spreads = f;
  const workload w{4, 64, 8};
  const estimate_result r = estimate(tf, hw, w);
  CHECK(r.prefill.time_p10.value() == doctest::Approx(0.84 * r.ttft.value()));
  CHECK(r.prefill.time_p90.value() == doctest::Approx(1.16 * r.ttft.value()));
  CHECK(r.decode.time_p10.value() == doctest::Approx(r.step_time.value()));
  CHECK_FALSE(end_to_end_spread(tf, hw)->outside);
  // a family the stack was not fitted on (Mamba-2: ssm): each end the widest of both families'
  // (TTFT [0.84, 2], step [0.5, 1])
  const model_spec ssm = test::stack(
      "m", 8, 32,
      mamba2_mixer{.d_state = 2, .d_conv = 2, .expand = 2, .head_dim = 4, .n_groups = 1, .chunk_size = 2},
      mlp_channel{.ffn_dim = 16}, 1);
  const auto wide = end_to_end_spread(ssm, hw);
  REQUIRE(wide);
  CHECK(wide->outside);
  CHECK(wide->ttft.p10 == doctest::Approx(0.84));
  CHECK(wide->ttft.p90 == 2);
  CHECK(wide->step.p10 == 0.5);
  CHECK(wide->step.p90 == 1);
  const estimate_result rs = estimate(ssm, hw, w);
  CHECK(rs.decode.time_p10.value() == doctest::Approx(0.5 * rs.step_time.value()));
  // written and read back; a family that is not one is refused with its key
  stack st = load_stack(test::source_dir + "/stacks/datasheet.yaml");
  st.timing.spreads = f;
  const std::string path = write_temp("family_spread.yaml", stack_yaml(st));
  const stack back = load_stack(path);
  REQUIRE(back.timing.spreads.size() == 2);
  CHECK(back.timing.spreads[1].family == "xlstm");
  CHECK(back.timing.spreads[0].ttft.p90 == doctest::Approx(1.16));
  std::string text = stack_yaml(st);
  text.replace(text.find("    xlstm:"), 10, "    mamba:");
  const std::string bad = write_temp("family_spread_bad.yaml", text);
  CHECK_THROWS_WITH_AS(load_stack(bad), doctest::Contains("unknown key 'timing.spread.mamba'"), input_error);
}

TEST_CASE("a spread's coverage of a model it was not taken from") {
  const model_spec tf = test::stack("t", 8, 32, attention_mixer{.n_heads = 2, .n_kv_heads = 1, .head_dim = 4},
                                    mlp_channel{.ffn_dim = 16}, 1);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // measured / predicted TTFT: model a 1.0, 1.1; b 0.5, 2.0; c 1.0, 1.0 (no step times). By hand:
  // a against b and c ([0.5, 1, 1, 2]: p10 0.65, p90 1.7): both inside; b against a and c
  // ([1, 1, 1, 1.1]: 1 - 1.07): neither; c against a and b ([0.5, 1, 1.1, 2]: 0.65 - 1.73): both
  std::vector<sample> s;
  for (const auto& [m, t] : std::vector<std::pair<std::string, double>>{
           {"a", 1.0}, {"a", 1.1}, {"b", 0.5}, {"b", 2.0}, {"c", 1.0}, {"c", 1.0}})
    s.push_back({&tf, m, {}, t, nan});
  const std::vector<prediction> p(s.size(), prediction{1, 1});
  const auto c = spread_coverage(s, p);
  REQUIRE(c.size() == 1);
  CHECK(c[0].architecture == "transformer");
  CHECK(c[0].phase == "ttft");
  CHECK(c[0].n == 6);
  CHECK(c[0].share == doctest::Approx(4.0 / 6));
}
