// Fuzz target: the command lines of serve, best_deployment and sweep, as argument vectors. The
// first byte picks the command; the rest, split at newlines, are its arguments. A run must end in
// an exit status: a crash, a sanitizer report or an exception escaping the command fails it.
// Output goes to /dev/null. Left out, so that a run stays short and writes no file: arguments that
// name output files (--out, --plot*, --predictions, --timeline) or input files of the simulator's
// loads (file:, trace:), or set threads and repeats, more than 24 arguments or one over 200
// bytes, and numbers above 9,999 (above 999 for a simulated serve, above 64 for best_deployment, whose
// space grows with its GPUs and concurrency; a simulated best_deployment altogether); the loaders' own
// targets and the tests cover those.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"

namespace {

// Whether an argument is one the target leaves out (see above).
bool left_out(std::string_view a, double most) {
  for (std::string_view flag : {"--out", "--plot", "--predictions", "--timeline", "--threads", "--repeat"})
    if (a.substr(0, flag.size()) == flag) return true;
  for (std::string_view file : {"file:", "trace:"})
    if (a.find(file) != std::string_view::npos) return true;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] >= '0' && a[i] <= '9') {
      const double v = std::strtod(std::string(a.substr(i)).c_str(), nullptr);
      if (!(v <= most)) return true;
      while (i < a.size() && a[i] != ',') ++i;
    }
  return a.size() > 200;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!std::freopen("/dev/null", "w", stdout)) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int pick = data[0] % 3;
  const auto run = pick == 0 ? commands::serve : pick == 1 ? commands::best_deployment : commands::sweep;
  std::vector<std::string> args{"roofline"};
  std::string arg;
  for (std::size_t i = 1; i <= size; ++i)
    if (i == size || data[i] == '\n') {
      if (args.size() > 24) return 0;
      args.push_back(arg);
      arg.clear();
    } else {
      arg += char(data[i]);
    }
  // A simulated serve keeps its numbers below 1,000 (its requests and users set its run time); a
  // simulated best_deployment (a simulation per point of its search) is left to the tests.
  bool simulated = false;
  for (std::string_view a : {"--simulate", "--request-rate", "--arrivals", "--isl-dist", "--osl-dist",
                             "--requests", "--warmup", "--seed", "--think-time", "--ttft-ms", "--tpot-ms"})
    for (const std::string& x : args) simulated = simulated || x.rfind(a, 0) == 0;
  if (pick == 1 && simulated && std::find(args.begin(), args.end(), "--simulate") != args.end()) return 0;
  const double most = pick == 1 ? 64 : pick == 0 && simulated ? 999 : 9999;
  for (std::size_t i = 1; i < args.size(); ++i)
    if (left_out(args[i], most)) return 0;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  (void)run(int(args.size()), argv.data());
  return 0;
}
