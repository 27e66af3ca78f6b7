// optimal_model: the compute-optimal model size and training tokens for a FLOP budget, from
// the paper's IsoFLOP power laws and from its parametric loss over real model shapes.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/io.hpp"
#include "roofline/scaling/scaling.hpp"

int commands::optimal_model(int argc, char** argv) {
  CLI::App app{"Compute-optimal model choice for a training budget (or the budget of a model size)."};
  std::string family, fits_dir = examples::data_path("scaling"), fit_name = "default", format = "table";
  double compute = 0, params = 0;
  int context = 8192;
  app.add_option("--family", family, "model family")
      ->required()
      ->check(CLI::IsMember({"transformer", "xlstm"}));
  auto* c =
      app.add_option("--compute", compute, "training budget C in FLOPs")->check(examples::positive_number);
  auto* n = app.add_option("--params", params, "instead: the budget for which N parameters are optimal")
                ->check(examples::positive_number);
  c->excludes(n);
  app.add_option("--context", context, "training context length T (power laws: 2048, 8192, 16384)")
      ->capture_default_str();
  app.add_option("--fit", fit_name, "parametric loss fit: default | huber_1e-3")->capture_default_str();
  app.add_option("--scaling-dir", fits_dir, "directory of loss_fits.yaml and isoflop_fits.yaml")
      ->capture_default_str();
  examples::format_option(app, format, {"table", "json"});
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  try {
    if (compute <= 0 && params <= 0) throw roofline::input_error("give --compute C or --params N");
    const auto isoflops = roofline::load_isoflop_fits(fits_dir + "/isoflop_fits.yaml");
    const auto losses = roofline::load_loss_fits(fits_dir + "/loss_fits.yaml");
    const roofline::isoflop_fit* power = nullptr;
    std::string contexts;
    for (const auto& f : isoflops)
      if (f.family == family) {
        contexts += (contexts.empty() ? "" : ", ") + std::to_string(f.context);
        if (f.context == context) power = &f;
      }
    if (!power)
      throw roofline::input_error(
          fmt::format("--context: no power law for {} at {}; the fits have {}", family, context, contexts));
    const roofline::loss_fit* loss = nullptr;
    for (const auto& f : losses)
      if (f.family == family && f.name == fit_name) loss = &f;
    if (!loss) throw roofline::input_error(fmt::format("--fit: no loss fit '{}' for {}", fit_name, family));
    if (params > 0) compute = power->flops_for_params(params);

    const auto arch = family == "xlstm" ? roofline::architecture::xlstm : roofline::architecture::transformer;
    const auto best = roofline::parametric_optimum(roofline::ladder(arch), *loss, compute, context);
    const roofline::ladder_dims s = roofline::dims(best.shape);
    if (format == "json") {
      const nlohmann::json j = {
          {"power_law",
           {{"params", power->params(compute)}, {"tokens", power->tokens(compute)}, {"flops", compute}}},
          {"parametric",
           {{"params", best.params},
            {"tokens", best.tokens},
            {"flops", compute},
            {"loss", best.loss},
            {"shape",
             {{"d_model", s.d_model},
              {"n_layers", s.n_layers},
              {"n_heads", s.n_heads},
              {"ffn_dim", s.ffn_dim}}}}}};
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      const roofline::table_style style = examples::table_style_of(format);
      roofline::detail::text_table t(
          {{"estimate", true}, {"source", true, 1}, {"parameters"}, {"tokens"}, {"shape", true}, {"loss"}});
      t.row({"power law", power->source, fmt::format("{:.4g}", power->params(compute)),
             fmt::format("{:.4g}", power->tokens(compute)), "-", "-"});
      t.row({"parametric loss", fmt::format("{} (fit at context {})", loss->source, loss->context),
             fmt::format("{:.4g}", best.params), fmt::format("{:.4g}", best.tokens),
             fmt::format("d_model {}, {} layers, {} heads, FFN {}", s.d_model, s.n_layers, s.n_heads,
                         s.ffn_dim),
             fmt::format("{:.4f}", best.loss)});
      t.note("the parametric loss is minimised over the shape ladder (scaling/)");
      std::cout << roofline::detail::text_line(
                       fmt::format("{} trained on C = {:.4g} FLOPs at context {}", family, compute, context),
                       style)
                << t.render(style);
    }
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
