// pareto: which model to train and serve: for a training budget, every shape of each family's
// ladder trained on it (loss from the paper's fit) and served on an accelerator; the Pareto
// frontier of loss against TTFT and against decode step time, per family and context.
#include <cstdio>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include <fmt/format.h>
#include "cli.hpp"
#include "commands.hpp"

#include "roofline/io/io.hpp"
#include "roofline/report/plot.hpp"

int commands::pareto(int argc, char** argv) {
  CLI::App app{
      "Loss against inference time for models trained on a budget: Pareto frontiers per family and context."};
  std::string hw_path = examples::data_path("hw_profiles/h100_sxm.yaml"),
              fits = examples::data_path("scaling/loss_fits.yaml");
  std::string plot, fit_name = "default", format = "table";
  double compute = 0;
  std::vector<std::int64_t> contexts{2048, 8192, 16384};
  roofline::workload w{.batch = 1, .prefill = 1, .generate = 100};
  roofline::inference_limits limits;
  double ttft_ms = 0, step_ms = 0, memory_gb = 0, target_loss = 0, lifetime = 0;
  std::string stack_path = examples::data_path("stacks/datasheet.yaml");
  examples::hardware_options(app, hw_path, stack_path);
  app.add_option("--compute", compute, "training budget C in FLOPs")
      ->required()
      ->check(examples::positive_number);
  app.add_option("--contexts", contexts, "prompt lengths to serve (each also the training context)")
      ->delimiter(',')
      ->capture_default_str();
  examples::number_option(app, "--batch", w.batch, "sequences in the batch");
  examples::number_option(app, "--generate", w.generate, "generated tokens");
  app.add_option("--ttft-ms", ttft_ms, "limit: time to first token")->check(examples::positive_number);
  app.add_option("--step-ms", step_ms, "limit: decode step time")->check(examples::positive_number);
  app.add_option("--memory-gb", memory_gb, "limit: device memory held")->check(examples::positive_number);
  app.add_option("--target-loss", target_loss, "also: the cheapest model reaching this loss")
      ->check(examples::positive_number);
  examples::number_option(app, "--lifetime-tokens", lifetime,
                          "inference tokens served in the model's life (for --target-loss)",
                          examples::number_rule::non_negative);
  app.add_option("--fit", fit_name, "parametric loss fit: default | huber_1e-3")->capture_default_str();
  app.add_option("--plot", plot, "draw the frontiers to this SVG (or .png)");
  examples::format_option(app, format, {"table"});
  if (const auto stop = examples::parse(app, argc, argv)) return *stop;
  if (ttft_ms > 0) limits.ttft_s = ttft_ms * 1e-3;
  if (step_ms > 0) limits.step_s = step_ms * 1e-3;
  if (memory_gb > 0) limits.memory_bytes = memory_gb * 1e9;
  try {
    examples::output_file plot_file(plot, "--plot");
    const auto hw = examples::load_hardware_named(hw_path, stack_path);
    const auto loss_fits = roofline::load_loss_fits(fits);
    std::vector<roofline::pareto_series> series;
    const roofline::table_style style = examples::table_style_of(format);
    std::ostringstream out;
    out << roofline::detail::text_line(
        fmt::format(
            "trained on {:.3g} FLOPs, served on {} (stack {}) at batch {} with {} generated tokens; loss "
            "from the paper's fit at context 8192; only models that fit in memory",
            compute, hw.name, hw.stack, w.batch, w.generate),
        style);
    for (std::int64_t t : contexts) {
      w.prefill = t;
      for (auto arch : {roofline::architecture::transformer, roofline::architecture::xlstm}) {
        const roofline::loss_fit* fit = nullptr;
        for (const auto& f : loss_fits)
          if (f.family == name(arch) && f.name == fit_name) fit = &f;
        if (!fit)
          throw roofline::input_error(fmt::format("--fit: no loss fit '{}' for {}", fit_name, name(arch)));
        auto served = roofline::serve(
            roofline::train_on_budget(roofline::ladder(arch), *fit, compute, double(t)), hw, w);
        std::erase_if(served, [](const roofline::served_model& m) { return !m.inference.fits; });
        const auto front = roofline::pareto_front(
            served, [](const roofline::served_model& m) { return m.inference.ttft.value(); });
        roofline::detail::text_table table({{"d_model"}, {"params"}, {"loss"}, {"TTFT ms"}, {"step ms"}});
        for (const auto& m : front)
          table.row({fmt::format("{}", m.trained.shape.d_model), fmt::format("{:.3g}", m.trained.params),
                     fmt::format("{:.4f}", m.trained.loss),
                     fmt::format("{:.2f}", m.inference.ttft.value() * 1e3),
                     fmt::format("{:.3f}", m.inference.step_time.value() * 1e3)});
        if (target_loss > 0) {
          const auto c =
              roofline::cheapest_for_loss(roofline::ladder(arch), *fit, target_loss, double(t), lifetime);
          table.note(
              c ? fmt::format("cheapest to reach loss {}: d_model {} ({:.3g} parameters, {:.3g} tokens): "
                              "{:.3g} training + {:.3g} inference FLOPs",
                              target_loss, c->trained.shape.d_model, c->trained.params, c->trained.tokens,
                              c->training_flops, c->inference_flops)
                : fmt::format("no model of the ladder reaches loss {}", target_loss));
        }
        if (limits.ttft_s || limits.step_s || limits.memory_bytes) {
          const auto best = roofline::best_within(served, limits);
          table.note(
              best ? fmt::format("lowest loss within the limits: d_model {} ({:.3g} parameters), loss {:.4f}",
                                 best->trained.shape.d_model, best->trained.params, best->trained.loss)
                   : std::string("no model meets the limits"));
        }
        out << roofline::detail::section(
                   fmt::format("{} at context {}: frontier of loss against TTFT", name(arch), t), style)
            << table.render(style);
        series.push_back({fmt::format("{}, {}", name(arch), t), std::move(served)});
      }
    }
    if (plot_file.wanted())
      roofline::plot_pareto(
          series, fmt::format("trained on {:.3g} FLOPs, served on {}, batch {}", compute, hw.name, w.batch),
          plot_file.temp());
    plot_file.commit();
    std::cout << out.str();
  } catch (const roofline::input_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
