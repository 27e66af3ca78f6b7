// roofline: one command with the example programs as subcommands (roofline estimate, roofline compare, ...).
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "commands.hpp"

namespace {

void usage(std::FILE* to) {
  std::fprintf(
      to, "usage: roofline <command> [options]   (roofline <command> --help for its options)\n\ncommands:\n");
  for (const commands::command& c : commands::all)
    std::fprintf(to, "  %-15s %.*s\n", std::string(c.name).c_str(), int(c.what.size()), c.what.data());
  std::fprintf(to,
               "\nSpecs, profiles and fits are read from %s unless given; ROOFLINE_DATA_DIR overrides it.\n",
               examples::data_dir().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  for (const commands::command& c : commands::all)
    if (c.name == name) {
      // The subcommand sees "roofline <command>" as its program name and the rest as its options.
      std::string program = std::string(argv[0]) + " " + name;
      argv[1] = program.data();
      return commands::run_checked(c.run, argc - 1, argv + 1);
    }
  std::string near;
  std::size_t best = std::max<std::size_t>(2, name.size() / 3) + 1;
  for (const commands::command& c : commands::all)
    if (const std::size_t d = roofline::io_detail::distance(c.name, name); d < best) best = d, near = c.name;
  std::fprintf(stderr, "error: unknown command '%s'%s; roofline --help lists the commands\n", name.c_str(),
               near.empty() ? "" : (" (did you mean '" + near + "'?)").c_str());
  return 2;
}
