// One example program: a thin main over the command it is named after (meson sets ROOFLINE_COMMAND).
#include "commands.hpp"

int main(int argc, char** argv) { return commands::run_checked(commands::ROOFLINE_COMMAND, argc, argv); }
