// The programs as functions: each example program and each subcommand of `roofline` runs one.
#pragma once

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace commands {

int estimate(int argc, char** argv);
int sweep(int argc, char** argv);
int serve(int argc, char** argv);
int best_deployment(int argc, char** argv);
int compare(int argc, char** argv);
int validate(int argc, char** argv);
int calibrate(int argc, char** argv);
int optimal_model(int argc, char** argv);
int pareto(int argc, char** argv);
int import_hf(int argc, char** argv);
int kernel(int argc, char** argv);
int list(int argc, char** argv);

/// Runs a command, then makes sure what it printed reached standard output: a write that failed
/// (a full disk, a closed pipe) is an error and a non-zero exit, not a silent success.
inline int run_checked(int (*run)(int, char**), int argc, char** argv) {
  const int status = run(argc, argv);
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "error: writing the output failed: %s\n", std::strerror(errno));
    return status == 0 ? 1 : status;
  }
  return status;
}

struct command {
  std::string_view name;
  int (*run)(int, char**);
  std::string_view what;
};

/// The subcommands of `roofline`, in the order its help lists them.
inline constexpr std::array all{
    command{"estimate", estimate,
            "TTFT, decode step, throughput, memory and bound of a model on an accelerator"},
    command{"sweep", sweep,
            "estimates over a grid of batches, prompts, generated lengths and layouts, vectorised"},
    command{"serve", serve,
            "TTFT, TPOT and throughput served by an engine at a concurrency (aggregated or disaggregated)"},
    command{"best_deployment", best_deployment,
            "the best layout on N GPUs within latency targets, and the Pareto frontier"},
    command{"compare", compare, "several models across prompt lengths, and where their times cross"},
    command{"list", list, "the shipped models, parts, stacks and engines, and the names that find them"},
    command{"import_hf", import_hf, "the model spec a HuggingFace config.json describes"},
    command{"kernel", kernel, "predicted time of single kernels by shape, from a stack's kernel table"},
    command{"validate", validate, "predict measured times with a profile and report the errors"},
    command{"calibrate", calibrate, "fit a profile's timing parameters to measured times"},
    command{"optimal_model", optimal_model,
            "compute-optimal model size for a training budget (scaling laws)"},
    command{"pareto", pareto, "loss against inference time for models trained on a budget"}};

}  // namespace commands
