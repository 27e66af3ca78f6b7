/// io: reads model specs, parts, stacks, measurements and fits, strictly, with file:line:col errors.
#pragma once

#include <string>
#include <string_view>

#include <vector>
#include "roofline/base/error.hpp"

#include "roofline/spec/hardware.hpp"
#include "roofline/spec/kernels.hpp"
#include "roofline/spec/load.hpp"
#include "roofline/spec/measurement.hpp"
#include "roofline/spec/model_spec.hpp"
#include "roofline/spec/scaling_fits.hpp"

namespace roofline {

/// Reads a model spec, or a HuggingFace config.json (recognised by its content: a JSON object
/// with a "model_type" or an "architectures" key), which it imports first (import_hf). Throws
/// input_error "file:line:col: ..." for a file that does not open or parse, a missing,
/// unknown, duplicate, mistyped or out-of-range key, or a config field it cannot honour.
model_spec load_model(const std::string& path);

/// The text of a file (a UTF-8 byte-order mark dropped); input_error "file:1:1: ..." if it
/// cannot be read or is a directory.
std::string read_text(const std::string& path);

/// Whether a file's text is a HuggingFace config.json rather than a model spec.
bool is_hf_config(std::string_view text);

/// The model spec (YAML, with a comment for every value derived) equivalent to a HuggingFace
/// config.json of a supported model_type; `path` names the config in errors, which point at
/// the field (file:line:col) that is missing, malformed or not modelled.
std::string import_hf(std::string_view json, const std::string& path);

/// Reads a part (hw_profiles/: the datasheet) or a stack (stacks/: the timing a software stack
/// gives a part, fitted or from published fractions); errors as load_model. A part with a
/// timing section, or a stack with datasheet numbers, is an error that says where they belong.
part load_part(const std::string& path);
stack load_stack(const std::string& path);

/// The hardware an estimate runs on: the part driven by the stack (drive(), with its transfer
/// rule). Without a stack path, the datasheet stack next to the parts:
/// <part's folder>/../stacks/datasheet.yaml (as the source tree and an installed copy have it).
hardware load_hardware(const std::string& part_path, const std::string& stack_path = {});

/// Where load_hardware looks for the default stack of a part file.
std::string default_stack_path(const std::string& part_path);

/// The same from YAML text; `name` stands for the file in messages.
model_spec parse_model(std::string_view yaml, const std::string& name);
part parse_part(std::string_view yaml, const std::string& name);
stack parse_stack(std::string_view yaml, const std::string& name);

/// Reads a measurement CSV: a header naming at least model, batch, prefill, generate,
/// ttft_ms and step_ms (in any order; other columns are ignored), then one run a line;
/// fields hold no commas or quotes. Throws input_error "file:line:col: ..." for a missing
/// column, a non-positive size, a time that is not a positive number.
std::vector<measurement> load_measurements(const std::string& path);
std::vector<measurement> parse_measurements(std::string_view csv, const std::string& name);

/// Reads measured serving runs (the columns of serving/engine_runs.csv: backend, model_path,
/// system, mode, isl, osl, the quant modes, the parallel sizes of the workers and of the
/// prefill_* and decode_* pools, silicon_ttft_ms, silicon_tpot_ms, and the concurrency as
/// "silicon_concurrency=N" in silicon_data_source). Throws input_error "file:line:col: ..."
/// naming the column for a missing column or a malformed number; a run without
/// "silicon_concurrency=N" has concurrency 0 (it cannot be reproduced).
std::vector<engine_run> load_engine_runs(const std::string& path);
std::vector<engine_run> parse_engine_runs(std::string_view csv, const std::string& name);

/// Reads a kernel CSV (examples/measure/kernels.py writes them; `roofline kernel --ops` reads
/// them): a header with the columns kind and format and the shape columns its kinds use (m, n, k,
/// batch, q_len, kv_len, heads, kv_heads, head_dim, experts, tokens_per_expert, bytes; an
/// optional window), optional measured_s and set (grid or held_out). A kind's columns hold whole
/// numbers from 1, the others are empty. Throws input_error "file:line:col: ..." naming the
/// column for an unknown kind or format, a missing or malformed size, a value in a column the
/// kind does not use, a time that is not positive.
std::vector<kernel_row> load_kernel_rows(const std::string& path);
std::vector<kernel_row> parse_kernel_rows(std::string_view csv, const std::string& path);

/// The grids of a kernel table from the rows of set grid (or all rows without a set column):
/// one per kind, format and key (spec/kernels.hpp), every combination of its axes' values
/// measured (rows on one point combined by their geometric mean), no time falling by more than
/// 2/3 (to less than a third) from the point before it along an axis (smaller falls, a library's choice of
/// kernel by shape, are kept as measured). Throws input_error for a missing shape, a row without a time, a
/// larger fall.
std::vector<kernel_grid> kernel_grids(const std::vector<kernel_row>& rows, const std::string& path);

/// A length distribution as a command line writes it: fixed (every request `fixed` tokens),
/// uniform:LO:HI, normal:MEAN:SD, lognormal:MEAN:SD, or file:PATH (a CSV whose header names a
/// column `column` or `length`, one whole length a line, used in order and cycled). Throws
/// input_error naming the text (or the file, line and column).
length_dist parse_length_dist(const std::string& text, std::int64_t fixed, const std::string& column);

/// Arrivals as a command line writes them: poisson or gamma:CV at `rate` requests a second, or
/// trace:PATH (a CSV whose header names `arrival_s`, seconds, sorted, non-negative; optional
/// `isl` and `osl` columns give each request's lengths, returned in isl and osl when present).
arrival_process parse_arrivals(const std::string& text, double rate, std::vector<std::int64_t>* isl = nullptr,
                               std::vector<std::int64_t>* osl = nullptr);

/// Reads parametric loss fits (scaling/loss_fits.yaml) or IsoFLOP power laws
/// (scaling/isoflop_fits.yaml); errors as load_model.
std::vector<loss_fit> load_loss_fits(const std::string& path);
std::vector<isoflop_fit> load_isoflop_fits(const std::string& path);
std::vector<loss_fit> parse_loss_fits(std::string_view yaml, const std::string& name);
std::vector<isoflop_fit> parse_isoflop_fits(std::string_view yaml, const std::string& name);

/// A part or a stack as YAML, in the format load_part and load_stack read (calibrate writes stacks).
std::string part_yaml(const part& p);
std::string stack_yaml(const stack& s);

/// Parses "perfect", "none" or "smooth"; throws input_error naming `what` otherwise.
overlap parse_overlap(std::string_view s, std::string_view what);

}  // namespace roofline
