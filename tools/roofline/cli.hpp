// Shared by the example programs: command-line validators and parsing with "error: ..." messages.
#pragma once

#include <unistd.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "roofline/io/catalog.hpp"
#include "roofline/io/io.hpp"
#include "roofline/io/io_reader.hpp"
#include "roofline/report/html.hpp"
#include "roofline/report/table.hpp"
#include "roofline/report/view.hpp"
#include "roofline/serving/engine_case.hpp"
#include "roofline/serving/serving.hpp"
#include "roofline/serving/speculative.hpp"
#include "roofline/spec/workload.hpp"

namespace examples {

/// Where the shipped specs, profiles, fits and measurements are: $ROOFLINE_DATA_DIR if set; else,
/// for an installed program, <prefix>/<datadir>/roofline (found from the program's own path, so
/// that a DESTDIR or relocated install works too); else the source tree it was built from.
inline std::string data_dir() {
  if (const char* e = std::getenv("ROOFLINE_DATA_DIR"); e && *e) return e;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = (exe.parent_path() / ROOFLINE_BIN_TO_DATA).lexically_normal();
    if (std::filesystem::is_directory(installed / "hw_profiles", ec)) return installed.string();
  }
  return ROOFLINE_SOURCE_DIR;
}

/// A shipped file, relative to data_dir().
inline std::string data_path(const std::string& relative) { return data_dir() + "/" + relative; }

/// What a numeric option takes: a decimal number as people write it (no hex, inf or nan).
enum class number_rule { positive_integer, positive, non_negative };

/// A validator of a numeric option; its message names the rule ("must be a positive integer, got 'x'").
inline CLI::Validator number_validator(number_rule rule) {
  static constexpr std::array<const char*, 3> what{"a positive integer", "a positive number",
                                                   "a number >= 0"};
  static constexpr std::array<const char*, 3> label{"POSITIVE INTEGER", "POSITIVE NUMBER", "NUMBER >= 0"};
  const auto check = [rule](std::string& s) -> std::string {
    std::size_t used = 0;
    double v = -1;
    try {
      v = rule == number_rule::positive_integer ? double(std::stoll(s, &used)) : std::stod(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    const bool in_range = rule == number_rule::non_negative ? v >= 0 : v > 0;
    if (used == 0 || used != s.size() || !in_range || !std::isfinite(v) ||
        s.find_first_of("xXnN") != std::string::npos)
      return fmt::format("must be {}, got '{}'", what[std::size_t(rule)], s);
    return {};
  };
  return {check, label[std::size_t(rule)]};
}
inline const CLI::Validator positive_integer = number_validator(number_rule::positive_integer);
inline const CLI::Validator positive_number = number_validator(number_rule::positive);
inline const CLI::Validator non_negative_number = number_validator(number_rule::non_negative);

/// A numeric option with its default shown and its value checked by `rule`.
template <class T>
CLI::Option* number_option(CLI::App& app, const std::string& flag, T& value, const std::string& what,
                           number_rule rule = number_rule::positive_integer) {
  return app.add_option(flag, value, what)->capture_default_str()->check(number_validator(rule));
}

/// A model by a spec or config.json, a folder holding a config.json (a HuggingFace snapshot), or
/// a shipped model's name or HuggingFace id (roofline::find_model in data_dir()).
inline roofline::model_spec load_model_named(const std::string& what, const std::string& option = "--model") {
  return roofline::load_model(roofline::find_model(what, data_dir(), option));
}

/// --engine: the engine whose stack times the part (hardware_options adds it; --stack's option, to
/// refuse both).
struct engine_choice {
  std::string engine{};
  CLI::Option* stack = nullptr;
};
inline engine_choice& engine_option() {
  static engine_choice e;
  return e;
}

/// The part --hw names (a file or a shipped part's name) driven by the stack --stack names, or by
/// --engine's stack for that part (roofline::find_engine_stack: fitted on it, else moved from the
/// nearest part, which the report says).
inline roofline::hardware load_hardware_named(const std::string& hw, const std::string& stack) {
  const std::string part = roofline::find_part(hw, data_dir());
  const engine_choice& e = engine_option();
  // --stack's default stands unless --engine is named; a --stack given beside --engine is refused
  const bool given = e.stack && e.stack->count() > 0;
  const std::optional<std::string> named =
      (e.engine.empty() && !stack.empty()) || given ? std::optional(stack) : std::nullopt;
  return roofline::load_hardware(
      part, roofline::find_stack_for(part, named, e.engine, data_dir(), "--stack", "--engine"));
}

/// --hw, --stack and --engine: the part (datasheet) and the software stack that times it, defaults
/// shown; each a file or a shipped one's name (roofline list parts, roofline list stacks).
inline void hardware_options(
    CLI::App& app, std::string& hw, std::string& stack,
    const std::string& stack_what =
        "software stack: the timing of the part (default: achievable datasheet fractions)") {
  app.add_option("--hw", hw, "part: a hardware profile YAML or a part's name (h100, b200, mi300x, ...)")
      ->capture_default_str();
  engine_option().stack =
      app.add_option("--stack", stack, stack_what + "; a YAML or a stack's name")->capture_default_str();
  app.add_option("--engine", engine_option().engine,
                 "time the part by this engine's stack for it (fitted on it, else moved from the nearest "
                 "part's): vllm, sglang, trtllm")
      ->check(CLI::IsMember({"vllm", "sglang", "trtllm"}));
}

/// A progress line on standard error for work that may take more than two seconds: on a terminal it
/// appears once two seconds have passed and is redrawn at most every half second, then erased;
/// ROOFLINE_PROGRESS=1 prints every update as a line of its own wherever standard error goes (logs,
/// tests); otherwise nothing.
class progress_line {
 public:
  explicit progress_line(std::string what)
      : what_(std::move(what)), start_(std::chrono::steady_clock::now()) {
    const char* e = std::getenv("ROOFLINE_PROGRESS");
    lines_ = e && std::string_view(e) == "1";
    terminal_ = !lines_ && ::isatty(2);
  }
  progress_line(const progress_line&) = delete;
  progress_line& operator=(const progress_line&) = delete;
  ~progress_line() {
    if (drawn_) std::fprintf(stderr, "\r%*s\r", int(width_), "");
  }
  /// `done` of `total` steps of `unit` (requests, concurrencies, runs).
  void update(std::size_t done, std::size_t total, const char* unit) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const std::string text = fmt::format("{}: {} of {} {}, {:.1f} s", what_, done, total, unit, s);
    if (lines_) {  // the first, the last, and at most one every half second between
      if (done != 0 && done != total && s - last_ < 0.5) return;
      std::fprintf(stderr, "%s\n", text.c_str());
      last_ = s;
    } else if (terminal_ && s >= 2 && s - last_ >= 0.5) {
      std::fprintf(stderr, "\r%-*s", int(width_), text.c_str());
      width_ = std::max(width_, text.size());
      drawn_ = true;
      last_ = s;
    }
  }

 private:
  std::string what_;
  std::chrono::steady_clock::time_point start_;
  bool lines_ = false, terminal_ = false, drawn_ = false;
  double last_ = 0;
  std::size_t width_ = 0;
};

/// --wide: plain tables with every column (format_option adds it).
inline bool& wide_option() {
  static bool wide = false;
  return wide;
}

/// The --format value format_option bound (null: the program has none), for parse() to refuse
/// --wide beside a format that has every column anyway.
inline const std::string*& format_value() {
  static const std::string* format = nullptr;
  return format;
}

/// --format, one of `formats` (table first, the default; markdown beside table: the same tables
/// as Markdown), and --wide beside a table.
inline CLI::Option* format_option(CLI::App& app, std::string& format, std::vector<std::string> formats) {
  wide_option() = false;  // a command run again in one process (the fuzz target) starts afresh
  format_value() = nullptr;
  if (std::find(formats.begin(), formats.end(), "table") != formats.end()) {
    formats.insert(formats.begin() + 1, "markdown");
    app.add_flag("--wide", wide_option(), "tables with every column (default: they fit 100 columns)");
    format_value() = &format;
  }
  return app.add_option("--format", format, "output format")
      ->capture_default_str()
      ->check(CLI::IsMember(formats));
}

/// The report format --format names.
inline roofline::report_format report_format_of(const std::string& format) {
  return format == "json"       ? roofline::report_format::json
         : format == "csv"      ? roofline::report_format::csv
         : format == "markdown" ? roofline::report_format::markdown
                                : roofline::report_format::table;
}

/// How tables are laid out for --format and --wide.
inline roofline::table_style table_style_of(const std::string& format) {
  return {.markdown = format == "markdown", .wide = wide_option()};
}

/// A view's text in the format --format names, --wide as given.
template <roofline::View V>
std::string render_as(const V& v, const std::string& format) {
  return roofline::render(v, report_format_of(format), wide_option());
}

/// --report FILE: the run as one self-contained HTML page (roofline/report/html.hpp).
inline void report_option(CLI::App& app, std::string& path) {
  app.add_option("--report", path,
                 "also write the run as one self-contained HTML page (its tables, charts whose points show "
                 "their numbers on hover, the assumptions, the JSON) to this file; it opens offline");
}

/// The command line as it was typed, for a report to say what made it: each argument in single
/// quotes where a shell would need them.
inline std::string command_line(int argc, char** argv) {
  static constexpr std::string_view safe =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%";
  std::string out;
  for (int i = 0; i < argc; ++i) {  // argv[0] ("roofline estimate") as it is
    const std::string a = argv[i];
    std::string word = a;
    if (i > 0 && (a.empty() || a.find_first_not_of(safe) != std::string::npos)) {
      word = "'";
      for (char c : a) word += c == '\'' ? std::string("'\\''") : std::string(1, c);
      word += "'";
    }
    out += (i ? " " : "") + word;
  }
  return out;
}

/// The whole numbers of a list option's items: N, A:B (A, 2A, 4A, ... up to B: 1:256 is 1, 2, 4,
/// ..., 256) or A:B:S (A, A + S, ... up to B: 1024:8192:1024). Throws CLI::ValidationError naming
/// `flag` and the item.
inline std::vector<std::int64_t> expand_ranges(const std::vector<std::string>& items,
                                               const std::string& flag) {
  std::vector<std::int64_t> out;
  const auto whole = [&](const std::string& item, const std::string& part) {
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size() || v < 1 || v > (1LL << 40))
      throw CLI::ValidationError(
          flag,
          fmt::format("'{}': each item N, A:B (doubling from A to B) or A:B:S (steps of S), whole numbers "
                      "from 1 to 2^40",
                      item));
    return std::int64_t(v);
  };
  for (const std::string& item : items) {
    const auto c1 = item.find(':');
    if (c1 == std::string::npos) {
      out.push_back(whole(item, item));
      continue;
    }
    const auto c2 = item.find(':', c1 + 1);
    const std::int64_t a = whole(item, item.substr(0, c1));
    const std::int64_t b =
        whole(item, item.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1));
    const std::int64_t step = c2 == std::string::npos ? 0 : whole(item, item.substr(c2 + 1));
    if (b < a) throw CLI::ValidationError(flag, fmt::format("'{}': the range ends below its start", item));
    for (std::int64_t v = a; v <= b; v = step > 0 ? v + step : 2 * v) {
      out.push_back(v);
      if (out.size() > 100000)
        throw CLI::ValidationError(flag, fmt::format("'{}': over 100,000 values", item));
    }
  }
  return out;
}

/// A list option of whole numbers that takes ranges (expand_ranges), comma-separated; the default
/// `values` stands where it is not given.
inline CLI::Option* range_option(CLI::App& app, const std::string& flag, std::vector<std::int64_t>& values,
                                 const std::string& what) {
  std::string shown;
  for (std::int64_t v : values) shown += (shown.empty() ? "" : ",") + std::to_string(v);
  return app
      .add_option_function<std::vector<std::string>>(
          flag,
          [&values, flag](const std::vector<std::string>& items) { values = expand_ranges(items, flag); },
          what +
              ": comma-separated, each N, A:B (doubling: 1:256) or A:B:S (steps: 1024:8192:1024); default " +
              shown)
      ->delimiter(',')
      ->type_name("LIST");
}

/// The layout options every estimating program takes: --tp, --pp, --ep, --dp, --microbatches,
/// --sequence-parallel (all 1, off: one GPU). estimate() checks them against the model and part.
inline void add_layout(CLI::App& app, roofline::layout& L) {
  number_option(app, "--tp", L.tp, "tensor-parallel GPUs: each layer's heads and widths split over them")
      ->group("Several GPUs");
  number_option(app, "--pp", L.pp, "pipeline stages of consecutive layers")->group("Several GPUs");
  number_option(app, "--ep", L.ep,
                "expert-parallel GPUs: a MoE layer's experts spread over ep of the tp x dp GPUs of a stage")
      ->group("Several GPUs");
  number_option(app, "--dp", L.dp,
                "attention data-parallel ranks: each its own sequences and KV cache, sharing the experts")
      ->group("Several GPUs");
  app.add_option("--microbatches", L.microbatches,
                 "micro-batches of a pipelined prefill (default: as many as stages)")
      ->check(positive_integer)
      ->group("Several GPUs");
  app.add_flag("--sequence-parallel", L.sequence_parallel,
               "reduce-scatter and all-gather around the norms instead of all-reduces")
      ->group("Several GPUs");
}

/// --kv-format: the KV cache's storage (roofline::kv_format); not given: the spec's own.
inline void kv_format_option(CLI::App& app, std::string& kv) {
  app.add_option("--kv-format", kv,
                 "KV-cache storage: bf16, fp8 (1 byte an element, per-tensor scales) or nvfp4 (4.5 bits); "
                 "default: the spec's dtypes.kv_cache")
      ->check(CLI::IsMember({"bf16", "fp8", "nvfp4"}));
}

/// The model with the KV-cache format --kv-format asked for (nothing asked: as it is).
inline void apply_kv_format(roofline::model_spec& m, const std::string& kv) {
  if (!kv.empty()) roofline::set_kv_format(m, kv, "--kv-format");
}

/// --speculate K, --acceptance A[,A2,...], --draft SPEC|mtp (what speculates: `spec`, the draft's
/// path in `draft`); `what` says what --speculate gives.
inline void speculation_options(CLI::App& app, roofline::speculation& spec, std::string& draft,
                                const std::string& what, const std::string& group = "Speculative decoding") {
  app.add_option("--speculate", spec.k, "speculative decoding: draft tokens k per step (1 to 16); " + what)
      ->group(group);
  app.add_option("--acceptance", spec.acceptance,
                 "with --speculate: the acceptance rate a of every draft position, or one per position "
                 "(a_1,a_2,...): each the chance that draft token i is accepted when those before it were")
      ->delimiter(',')
      ->group(group);
  app.add_option(
         "--draft", draft,
         "with --speculate: the draft, a model spec or config.json, or 'mtp' (default): an MTP head of "
         "the target, one layer of its last kind with a 2d -> d input projection")
      ->capture_default_str()
      ->group(group);
}

/// Checks the speculation options go together and loads the draft (in the KV format asked).
inline void resolve_speculation(const CLI::App& app, roofline::speculation& spec, const std::string& draft,
                                const std::string& kv) {
  if (spec.k == 0 && (!spec.acceptance.empty() || app.count("--draft") > 0))
    throw roofline::input_error("--acceptance and --draft go with --speculate K");
  if (spec.k == 0) return;
  if (spec.acceptance.empty()) throw roofline::input_error("--speculate: give --acceptance (0 to 1)");
  if (draft != "mtp") {
    spec.draft = load_model_named(draft, "--draft");
    apply_kv_format(*spec.draft, kv);
  }
}

/// The model in the formats of --quant GEMM[,MOE] (roofline::apply_quant_named).
inline std::string apply_quant_option(roofline::model_spec& m, const roofline::hardware& hw,
                                      const std::string& q) {
  return roofline::apply_quant_named(m, hw, q, "--quant");
}

/// The policy an --overlap option names; none (the stack's own) when it was not given.
inline std::optional<roofline::overlap> overlap_option(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return roofline::parse_overlap(value, "--overlap");
}

/// An output file written whole or not at all. The checks come first, before any work: a path
/// that is a folder, a folder that does not exist or cannot be written to are input_errors
/// naming the option. The content goes to a temporary file beside it (".NAME.partial.EXT", the
/// extension kept for plots that choose their format by it); commit() renames it to the path,
/// and a file never committed (an error, a kill) is removed or left under the temporary name,
/// never half-written under the final one.
class output_file {
 public:
  output_file() = default;
  output_file(const std::string& path, const std::string& flag) : path_(path) {
    namespace fs = std::filesystem;
    if (path.empty()) return;
    std::error_code ec;
    const fs::path p(path), dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
    if (fs::is_directory(p, ec))
      throw roofline::input_error(fmt::format("{} {}: is a folder; name a file", flag, path));
    if (!fs::is_directory(dir, ec))
      throw roofline::input_error(
          fmt::format("{} {}: the folder {} does not exist", flag, path, dir.string()));
    if (::access(dir.c_str(), W_OK) != 0)
      throw roofline::input_error(
          fmt::format("{} {}: the folder {} cannot be written to", flag, path, dir.string()));
    temp_ = (dir / ("." + p.stem().string() + ".partial" + p.extension().string())).string();
    flag_ = flag;
  }
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;
  ~output_file() {
    if (!temp_.empty() && !committed_) std::remove(temp_.c_str());
  }
  bool wanted() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  /// Where the content is written before commit().
  const std::string& temp() const { return temp_; }
  /// Writes the whole text to the temporary file.
  void write(std::string_view text) const {
    std::ofstream out(temp_, std::ios::binary);
    if (!(out << text) || !out.flush())
      throw roofline::input_error(fmt::format("{} {}: writing failed", flag_, path_));
  }
  /// Moves the finished file to its path.
  void commit() {
    if (temp_.empty() || committed_) return;
    if (std::rename(temp_.c_str(), path_.c_str()) != 0)
      throw roofline::input_error(
          fmt::format("{} {}: cannot be written: {}", flag_, path_, std::strerror(errno)));
    committed_ = true;
  }

 private:
  std::string path_, temp_, flag_;
  bool committed_ = false;
};

/// Parses the command line: help and version print as usual; a bad command line prints
/// one line "error: ..." to stderr. Returns the exit status if the program should stop.
/// The closest option of `app` to a mistyped one ("--promt": "--prefill"), or "" when none is
/// within a third of its length.
inline std::string closest_option(const CLI::App& app, const std::string& typed) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, typed.size() / 3) + 1;
  for (const CLI::Option* o : app.get_options())
    for (const std::string& name : o->get_lnames()) {
      const std::size_t d = roofline::io_detail::distance("--" + name, typed);
      if (d < best_d) best_d = d, best = "--" + name;
    }
  return best;
}

inline std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError& e) {
    // an unknown option: name it and the closest one
    for (const std::string& x : app.remaining())
      if (x.rfind("--", 0) == 0) {
        const std::string near = closest_option(app, x.substr(0, x.find('=')));
        std::fprintf(stderr, "error: unknown option %s%s; --help lists them\n", x.c_str(),
                     near.empty() ? "" : fmt::format(" (did you mean {}?)", near).c_str());
        return 2;
      }
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  const std::string* format = std::exchange(format_value(), nullptr);  // the command's own, not kept
  if (wide_option() && format && *format != "table") {
    std::fprintf(stderr, "error: --wide widens plain tables; --format %s has every column already\n",
                 format->c_str());
    return 2;
  }
  return std::nullopt;
}

}  // namespace examples
