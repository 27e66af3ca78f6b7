// The Python package roofline's module roofline._core (its __init__.py re-exports it): the C++
// core behind a thin, typed layer (pybind11). Every figure is the C++ estimate's; a sweep runs in C++
// (sweep_engine) without a Python call per point. Errors raise roofline.InputError (a ValueError) with the
// C++ message, "file:line:col: what" for a file. Units are in the names: _s seconds, _bytes bytes, _gb 1e9
// bytes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "roofline/estimate/compare.hpp"
#include "roofline/estimate/estimate.hpp"
#include "roofline/io/catalog.hpp"
#include "roofline/io/io.hpp"
#include "roofline/report/report.hpp"
#include "roofline/scaling/scaling.hpp"
#include "roofline/serving/deploy.hpp"
#include "roofline/serving/serving.hpp"
#include "roofline/serving/simulate.hpp"
#include "roofline/sweep/sweep.hpp"

namespace py = pybind11;
using namespace roofline;

namespace {
// Where shipped files are found by name (see data_dir in the module): the package's own data/ is
// that of a wheel (pip install .), found from this module's file.
std::string data_dir() {
  if (const char* e = std::getenv("ROOFLINE_DATA_DIR"); e && *e) return e;
  std::error_code ec;
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&data_dir), &self) != 0 && self.dli_fname != nullptr) {
    const auto beside = std::filesystem::path(self.dli_fname).parent_path() / "data";
    if (std::filesystem::is_directory(beside / "hw_profiles", ec)) return beside.string();
  }
  if (std::filesystem::is_directory(std::string(ROOFLINE_SOURCE_DIR) + "/hw_profiles", ec))
    return ROOFLINE_SOURCE_DIR;
  return ROOFLINE_INSTALLED_DATA;
}
}  // namespace

namespace {

using model_ptr = std::shared_ptr<const model_spec>;
using hardware_ptr = std::shared_ptr<const hardware>;

std::optional<overlap> policy_of(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return parse_overlap(*s, "overlap");
}

layout layout_of(int tp, int pp, int ep, int dp, int microbatches, bool sequence_parallel) {
  return {.tp = tp,
          .pp = pp,
          .ep = ep,
          .dp = dp,
          .microbatches = microbatches,
          .sequence_parallel = sequence_parallel};
}

/// An estimate with what made it, so that to_dict() can render the full report.
struct result {
  estimate_result r;
  model_ptr model;
  hardware_ptr hw;
  workload work;
  std::optional<overlap> policy;
};

/// What one GPU holds.
struct memory_view {
  footprint f;
  double capacity;
  bool fits;
};

py::object json_loads(const std::string& text) { return py::module_::import("json").attr("loads")(text); }

/// int or sequence of ints -> vector (each checked by the C++ code that uses it).
template <class T>
std::vector<T> values(const py::object& o, const char* what) {
  if (py::isinstance<py::str>(o))
    throw py::type_error(std::string(what) + ": expected an int or a sequence of ints");
  if (!py::isinstance<py::iterable>(o)) return {o.cast<T>()};  // an int, numpy's included
  std::vector<T> out;
  for (const py::handle h : py::iter(o)) out.push_back(h.cast<T>());
  if (out.empty()) throw input_error(std::string(what) + ": no values");
  return out;
}

/// A dict of columns, or a pandas DataFrame of them when `frame` (None: when pandas is installed).
py::object table(py::dict columns, std::optional<bool> frame) {
  bool use = frame.value_or(false);
  if (!frame) {
    try {
      py::module_::import("pandas");
      use = true;
    } catch (const py::error_already_set&) {
      use = false;
    }
  }
  if (!use) return py::object(columns);
  return py::module_::import("pandas").attr("DataFrame")(columns);
}

template <class T>
py::array_t<T> column(std::size_t n, const std::function<T(std::size_t)>& f) {
  py::array_t<T> a(static_cast<py::ssize_t>(n));
  auto v = a.template mutable_unchecked<1>();
  for (std::size_t i = 0; i < n; ++i) v(static_cast<py::ssize_t>(i)) = f(i);
  return a;
}

/// Names of the bound codes, as a numpy array of str indexed by the codes.
py::object bound_names(const std::vector<std::uint8_t>& codes) {
  py::list names;
  for (bound b : {bound::compute, bound::memory, bound::overhead, bound::communication})
    names.append(std::string(name(b)));
  py::module_ np = py::module_::import("numpy");
  py::array_t<std::uint8_t> idx(static_cast<py::ssize_t>(codes.size()), codes.data());
  return np.attr("asarray")(names).attr("__getitem__")(idx);
}

}  // namespace

PYBIND11_MODULE(_core, mod) {
  mod.doc() =
      "Roofline estimates of LLM inference (TTFT, decode step, throughput, memory, bound) on the C++ core. "
      "Units are in the names: _s seconds, _bytes bytes, _gb 1e9 bytes, _per_s per second.";
  py::register_exception<input_error>(mod, "InputError", PyExc_ValueError);

  py::class_<model_spec, std::shared_ptr<model_spec>>(mod, "Model",
                                                      "A model: a stack of layers (load_model).")
      .def_readonly("name", &model_spec::name)
      .def_readonly("file", &model_spec::file, "where it was read from")
      .def_readonly("d_model", &model_spec::d_model)
      .def_readonly("vocab_size", &model_spec::vocab_size)
      .def_property_readonly("n_layers", [](const model_spec& m) { return n_layers(m); })
      .def_property_readonly(
          "parameters", [](const model_spec& m) { return parameters(m); }, "all parameters")
      .def_property_readonly(
          "active_parameters", [](const model_spec& m) { return active_parameters(m); },
          "parameters one token uses (MoE: the routed experts it does not use left out)")
      .def_property_readonly(
          "weight_bytes", [](const model_spec& m) { return weight_bytes(m); },
          "bytes of all weights in their storage formats")
      .def("__repr__", [](const model_spec& m) {
        return "<roofline.Model '" + m.name + "': " + std::to_string(n_layers(m)) + " layers, " +
               fmt::format("{:.4g}", parameters(m)) + " parameters>";
      });

  py::class_<hardware, std::shared_ptr<hardware>>(mod, "Hardware",
                                                  "A part driven by a software stack (load_hardware).")
      .def_readonly("name", &hardware::name)
      .def_readonly("file", &hardware::file)
      .def_readonly("stack", &hardware::stack, "the stack's name")
      .def_property_readonly("bandwidth_bytes_per_s", [](const hardware& h) { return h.bandwidth.value(); })
      .def_property_readonly("capacity_bytes", [](const hardware& h) { return h.capacity.value(); })
      .def_readonly("compute_units", &hardware::compute_units)
      .def("__repr__",
           [](const hardware& h) { return "<roofline.Hardware '" + h.name + "', stack '" + h.stack + "'>"; });

  py::class_<phase_estimate>(mod, "Phase",
                             "Totals of one pass of one GPU: the prefill, or the mean decode step.")
      .def_property_readonly("time_s", [](const phase_estimate& e) { return e.time.value(); })
      .def_property_readonly("flops", [](const phase_estimate& e) { return e.work.value(); })
      .def_property_readonly("bytes", [](const phase_estimate& e) { return e.moved.total().value(); })
      .def_property_readonly("compute_bound_s",
                             [](const phase_estimate& e) { return e.compute_bound_time.value(); })
      .def_property_readonly("memory_bound_s",
                             [](const phase_estimate& e) { return e.memory_bound_time.value(); })
      .def_property_readonly("overhead_s", [](const phase_estimate& e) { return e.overhead.value(); })
      .def_property_readonly("communication_s",
                             [](const phase_estimate& e) { return e.communication.value(); })
      .def_property_readonly(
          "bound", [](const phase_estimate& e) { return std::string(name(e.bound)); },
          "compute, memory, overhead or communication: the largest part of the time")
      .def_property_readonly(
          "time_p10_s", [](const phase_estimate& e) { return e.time_p10.value(); },
          "time with a kernel table's ops at the 10th percentile of their kind's held-out spread "
          "(time_s where the stack states none)")
      .def_property_readonly(
          "time_p90_s", [](const phase_estimate& e) { return e.time_p90.value(); },
          "the same at the 90th percentile");

  py::class_<memory_view>(mod, "Memory", "What the GPU that holds the most holds, in bytes.")
      .def_property_readonly("weights_bytes", [](const memory_view& v) { return v.f.weights.value(); })
      .def_property_readonly("kv_cache_bytes", [](const memory_view& v) { return v.f.kv_cache.value(); })
      .def_property_readonly("state_bytes", [](const memory_view& v) { return v.f.state.value(); })
      .def_property_readonly("activation_bytes", [](const memory_view& v) { return v.f.activations.value(); })
      .def_property_readonly("buffer_bytes", [](const memory_view& v) { return v.f.buffers.value(); })
      .def_property_readonly("total_bytes", [](const memory_view& v) { return v.f.total().value(); })
      .def_readonly("capacity_bytes", &memory_view::capacity)
      .def_readonly("fits", &memory_view::fits, "on every GPU");

  py::class_<result>(mod, "Result", "An estimate (estimate()).")
      .def_property_readonly(
          "ttft_s", [](const result& x) { return x.r.ttft.value(); }, "time to first token")
      .def_property_readonly(
          "step_time_s", [](const result& x) { return x.r.step_time.value(); },
          "mean decode step over the generated tokens")
      .def_property_readonly("throughput_tokens_per_s",
                             [](const result& x) { return x.r.throughput_tokens_per_s; })
      .def_property_readonly("end_to_end_tokens_per_s",
                             [](const result& x) { return x.r.end_to_end_tokens_per_s; })
      .def_property_readonly("fits", [](const result& x) { return x.r.fits; })
      .def_property_readonly("overlap", [](const result& x) { return std::string(name(x.r.overlap)); })
      .def_property_readonly("prefill", [](const result& x) { return x.r.prefill; })
      .def_property_readonly("decode", [](const result& x) { return x.r.decode; })
      .def_property_readonly("memory",
                             [](const result& x) {
                               return memory_view{x.r.memory, x.r.capacity.value(), x.r.fits};
                             })
      .def_property_readonly(
          "j_per_output_token",
          [](const result& x) {
            return x.r.energy ? py::object(py::float_(x.r.energy->j_per_output_token))
                              : py::object(py::none());
          },
          "joules per output token of the decode, every GPU of the layout (None: the part states no energy)")
      .def_property_readonly(
          "energy",
          [](const result& x) {
            return x.r.energy
                       ? json_loads(render(estimate_view{make_report(*x.model, *x.hw, x.work, x.policy)},
                                           report_format::json))["energy"]
                       : py::object(py::none());
          },
          "the estimate's energy as --format json gives it (None: the part states no energy)")
      .def(
          "to_dict",
          [](const result& x) {
            const report r = make_report(*x.model, *x.hw, x.work, x.policy);
            return json_loads(render(estimate_view{r}, report_format::json));
          },
          "the report as `estimate --format json` prints it (every op of every layer), as a dict")
      .def("__repr__", [](const result& x) {
        return fmt::format("<roofline.Result ttft {:.4g} s, step {:.4g} s, {} / {}>", x.r.ttft.value(),
                           x.r.step_time.value(), name(x.r.prefill.bound), name(x.r.decode.bound));
      });

  mod.def("data_dir", &data_dir,
          "Where shipped specs, parts and stacks are found by name: $ROOFLINE_DATA_DIR, else the package's "
          "own data (pip install), else the source tree the module was built from, else the installed data.");
  mod.def(
      "load_model",
      [](const std::string& path, const std::optional<std::string>& kv) {
        auto m = std::make_shared<model_spec>(load_model(find_model(path, data_dir(), "model")));
        if (kv) set_kv_format(*m, *kv, "kv_format");
        return m;
      },
      py::arg("path"), py::arg("kv_format") = py::none(),
      "A model: a spec YAML, a HuggingFace config.json or a folder holding one, or a shipped model's name "
      "or HuggingFace id (list_shipped('models')); kv_format ('bf16', 'fp8', 'nvfp4') sets the KV cache's "
      "storage (default: the spec's dtypes.kv_cache), as --kv-format does.");
  mod.def(
      "load_hardware",
      [](const std::string& part, const std::optional<std::string>& stack,
         const std::optional<std::string>& engine) {
        const std::string p = find_part(part, data_dir(), "part");
        return std::make_shared<hardware>(
            load_hardware(p, find_stack_for(p, stack, engine.value_or(""), data_dir(), "stack", "engine")));
      },
      py::arg("part"), py::arg("stack") = py::none(), py::arg("engine") = py::none(),
      "A part (a hw_profiles YAML or a part's name: 'h100', 'b200', ...) driven by a stack (a YAML or a "
      "stack's name; default: the part's default stack), or by engine's ('vllm', 'sglang', 'trtllm') stack "
      "for the part, as --engine picks it.");
  mod.def(
      "list_shipped",
      [](const std::string& what) {
        if (what != "models" && what != "parts" && what != "stacks")
          throw input_error(fmt::format("list_shipped: 'models', 'parts' or 'stacks', not '{}'", what));
        const auto all = what == "models"  ? list_models(data_dir())
                         : what == "parts" ? list_parts(data_dir())
                                           : list_stacks(data_dir());
        py::list out;
        for (const catalog_entry& e : all) {
          py::dict d;
          d["name"] = e.name;
          d["path"] = e.path;
          d["names"] = e.names;
          d["about"] = e.line;
          if (what == "stacks") d["engine"] = e.engine, d["fitted_on"] = e.fitted_part;
          out.append(d);
        }
        return out;
      },
      py::arg("what"),
      "The shipped 'models', 'parts' or 'stacks' as dicts: name, path, the names that find it, about (and "
      "a stack's engine and fitted_on part), as `roofline list` prints them.");

  mod.def(
      "estimate",
      [](model_ptr m, hardware_ptr hw, std::int64_t batch, std::int64_t prefill, std::int64_t generate,
         const std::optional<std::string>& overlap_, int tp, int pp, int ep, int dp, int microbatches,
         bool sequence_parallel, std::int64_t images) {
        workload w{.batch = batch,
                   .prefill = prefill,
                   .generate = generate,
                   .parallel = layout_of(tp, pp, ep, dp, microbatches, sequence_parallel)};
        add_images(*m, w, images, "images");
        const auto pol = policy_of(overlap_);
        return result{estimate(*m, *hw, w, pol), m, hw, w, pol};
      },
      py::arg("model"), py::arg("hardware"), py::arg("batch") = default_workload.batch,
      py::arg("prefill") = default_workload.prefill, py::arg("generate") = default_workload.generate,
      py::arg("overlap") = py::none(), py::arg("tp") = 1, py::arg("pp") = 1, py::arg("ep") = 1,
      py::arg("dp") = 1, py::arg("microbatches") = 0, py::arg("sequence_parallel") = false,
      py::arg("images") = 0,
      "TTFT and decode step of `batch` sequences of `prefill` prompt tokens and `generate` generated tokens; "
      "overlap: 'perfect', 'none' or 'smooth' (default: the stack's); tp, pp, ep, dp: a layout of several "
      "GPUs; images: images in each prompt (a model with a vision tower), encoded in the prefill, their "
      "tokens added to prefill (as estimate --images).");

  mod.def(
      "speculate",
      [](model_ptr m, hardware_ptr hw, int k, const py::object& acceptance, std::optional<model_ptr> draft,
         std::int64_t batch, std::int64_t prefill, std::int64_t generate,
         const std::optional<std::string>& overlap_, int tp, int ep, int dp) {
        speculation s{.k = k, .acceptance = values<double>(acceptance, "acceptance")};
        if (draft) s.draft = **draft;
        const workload w{.batch = batch,
                         .prefill = prefill,
                         .generate = generate,
                         .parallel = layout_of(tp, 1, ep, dp, 0, false)};
        const auto pol = policy_of(overlap_);
        const speculative_estimate e = roofline::speculate(*m, *hw, w, s, pol);
        const break_even even = break_even_batch(*m, *hw, w, s, pol);
        py::dict d;
        d["tokens_per_step"] = e.tokens_per_step;
        d["draft_s"] = e.draft.value();
        d["verify_s"] = e.verify.value();
        d["step_s"] = e.step.value();
        d["tpot_s"] = e.tpot.value();
        d["plain_step_s"] = e.plain_step.value();
        d["draft_prefill_s"] = e.draft_prefill.value();
        d["draft_memory_bytes"] = e.draft_memory.value();
        d["break_even_batch"] = even.batch ? py::object(py::int_(*even.batch)) : py::object(py::none());
        d["largest_batch_tried"] = even.largest;
        return d;
      },
      py::arg("model"), py::arg("hardware"), py::arg("k"), py::arg("acceptance"),
      py::arg("draft") = py::none(), py::arg("batch") = default_workload.batch,
      py::arg("prefill") = default_workload.prefill, py::arg("generate") = default_workload.generate,
      py::arg("overlap") = py::none(), py::arg("tp") = 1, py::arg("ep") = 1, py::arg("dp") = 1,
      "Speculative decoding as estimate --speculate runs it: k draft tokens a step accepted with chance "
      "`acceptance` (one value, or one per position), the draft a model (default: an MTP head of the "
      "target); "
      "a dict of tokens_per_step, draft_s, verify_s, step_s, tpot_s, plain_step_s, draft_prefill_s, "
      "draft_memory_bytes, break_even_batch (None: it pays at every batch that fits), largest_batch_tried.");

  mod.def(
      "sweep",
      [](model_ptr m, hardware_ptr hw, const py::object& batch, const py::object& prefill,
         const py::object& generate, const std::optional<std::string>& overlap_, const py::object& tp,
         const py::object& pp, const py::object& ep, const py::object& dp, int threads,
         std::optional<bool> frame) {
        sweep_grid g{.batch = values<std::int64_t>(batch, "batch"),
                     .prefill = values<std::int64_t>(prefill, "prefill"),
                     .generate = values<std::int64_t>(generate, "generate")};
        g.layouts.clear();
        for (int d : values<int>(dp, "dp"))
          for (int e : values<int>(ep, "ep"))
            for (int p : values<int>(pp, "pp"))
              for (int t : values<int>(tp, "tp")) g.layouts.push_back(layout_of(t, p, e, d, 0, false));
        sweep_engine engine(*m, *hw, policy_of(overlap_));
        std::vector<estimate_point> points(g.size());
        if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
        {
          py::gil_scoped_release free;
          engine.evaluate(g, 0, points, threads);
        }
        const std::size_t n = points.size();
        std::vector<workload> ws(n);
        for (std::size_t i = 0; i < n; ++i) ws[i] = g.at(i);
        std::vector<std::uint8_t> pb(n), db(n);
        for (std::size_t i = 0; i < n; ++i)
          pb[i] = std::uint8_t(points[i].prefill_bound), db[i] = std::uint8_t(points[i].decode_bound);
        py::dict c;
        c["batch"] = column<std::int64_t>(n, [&](std::size_t i) { return ws[i].batch; });
        c["prefill"] = column<std::int64_t>(n, [&](std::size_t i) { return ws[i].prefill; });
        c["generate"] = column<std::int64_t>(n, [&](std::size_t i) { return ws[i].generate; });
        c["tp"] = column<int>(n, [&](std::size_t i) { return ws[i].parallel.tp; });
        c["pp"] = column<int>(n, [&](std::size_t i) { return ws[i].parallel.pp; });
        c["ep"] = column<int>(n, [&](std::size_t i) { return ws[i].parallel.ep; });
        c["dp"] = column<int>(n, [&](std::size_t i) { return ws[i].parallel.dp; });
        c["ttft_s"] = column<double>(n, [&](std::size_t i) { return points[i].ttft_s; });
        c["step_s"] = column<double>(n, [&](std::size_t i) { return points[i].step_s; });
        c["tokens_per_s"] = column<double>(n, [&](std::size_t i) { return points[i].tokens_per_s; });
        c["e2e_tokens_per_s"] = column<double>(n, [&](std::size_t i) { return points[i].e2e_tokens_per_s; });
        c["memory_gb"] = column<double>(n, [&](std::size_t i) { return points[i].memory_bytes / 1e9; });
        c["fits"] = column<bool>(n, [&](std::size_t i) { return points[i].fits; });
        c["prefill_bound"] = bound_names(pb);
        c["decode_bound"] = bound_names(db);
        return table(c, frame);
      },
      py::arg("model"), py::arg("hardware"), py::arg("batch"), py::arg("prefill"),
      py::arg("generate") = default_workload.generate, py::arg("overlap") = py::none(), py::arg("tp") = 1,
      py::arg("pp") = 1, py::arg("ep") = 1, py::arg("dp") = 1, py::arg("threads") = 0,
      py::arg("frame") = py::none(),
      "Every combination of the values given (an int or a sequence each), evaluated in C++ by the batched "
      "engine "
      "(threads: 0 for every core): columns batch, prefill, generate, tp, pp, ep, dp, ttft_s, step_s, "
      "tokens_per_s, "
      "e2e_tokens_per_s, memory_gb, fits, prefill_bound, decode_bound, the batch fastest; a pandas DataFrame "
      "when "
      "pandas is installed (frame=None) or frame=True, else a dict of numpy arrays.");

  mod.def(
      "ops",
      [](model_ptr m, hardware_ptr hw, const std::string& phase_name, std::int64_t batch,
         std::int64_t prefill, std::int64_t generate, const std::optional<std::string>& overlap_, int tp,
         int pp, int ep, int dp, std::optional<bool> frame) {
        if (phase_name != "prefill" && phase_name != "decode")
          throw input_error("phase: 'prefill' or 'decode', not '" + phase_name + "'");
        const workload w{.batch = batch,
                         .prefill = prefill,
                         .generate = generate,
                         .parallel = layout_of(tp, pp, ep, dp, 0, false)};
        const auto pol = policy_of(overlap_);
        check_supported(*m, *hw, w);  // as estimate() checks them
        check_layout(*m, *hw, w);
        const auto rows = op_rows(*m, *hw, w, phase_name == "prefill" ? phase::prefill : phase::decode,
                                  pol.value_or(hw->timing.overlap));
        const std::size_t n = rows.size();
        const auto kind = [&](const op& o) -> std::string {
          if (o.layers.kind == layer_span::vision) return "vision";
          if (o.layers.kind == layer_span::embedding) return "embedding";
          if (o.layers.kind == layer_span::head) return "head";
          return m->kinds[std::size_t(o.layers.kind)].name();
        };
        py::list names, kinds, classes, bounds;
        for (const op_row& r : rows) {
          names.append(std::string(r.op.name));
          kinds.append(kind(r.op));
          classes.append(std::string(name(r.op.cls)));
          bounds.append(std::string(name(r.time.bound)));
        }
        py::dict c;
        c["name"] = names;
        c["kind"] = kinds;
        c["class"] = classes;
        c["layers"] = column<int>(n, [&](std::size_t i) { return rows[i].op.layers.count; });
        c["stage"] = column<int>(n, [&](std::size_t i) { return rows[i].stage; });
        c["flops"] = column<double>(n, [&](std::size_t i) { return rows[i].op.work.value(); });
        c["weight_bytes"] =
            column<double>(n, [&](std::size_t i) { return rows[i].op.moved.weights.value(); });
        c["activation_bytes"] =
            column<double>(n, [&](std::size_t i) { return rows[i].op.moved.activations.value(); });
        c["kv_cache_bytes"] =
            column<double>(n, [&](std::size_t i) { return rows[i].op.moved.kv_cache.value(); });
        c["state_bytes"] = column<double>(n, [&](std::size_t i) { return rows[i].op.moved.state.value(); });
        c["compute_s"] = column<double>(n, [&](std::size_t i) { return rows[i].time.compute.value(); });
        c["memory_s"] = column<double>(n, [&](std::size_t i) { return rows[i].time.memory.value(); });
        c["time_s"] = column<double>(n, [&](std::size_t i) { return rows[i].time.total.value(); });
        c["bound"] = bounds;
        return table(c, frame);
      },
      py::arg("model"), py::arg("hardware"), py::arg("phase") = "decode",
      py::arg("batch") = default_workload.batch, py::arg("prefill") = default_workload.prefill,
      py::arg("generate") = default_workload.generate, py::arg("overlap") = py::none(), py::arg("tp") = 1,
      py::arg("pp") = 1, py::arg("ep") = 1, py::arg("dp") = 1, py::arg("frame") = py::none(),
      "The ops of one pass, one row per op of a kind of layer (`layers`: how many identical layers it stands "
      "for; "
      "time_s is one layer's): name, kind, class, layers, stage, flops, weight_bytes, activation_bytes, "
      "kv_cache_bytes, state_bytes, compute_s, memory_s, time_s, bound.");

  mod.def(
      "compare",
      [](const std::vector<model_ptr>& models, hardware_ptr hw, const std::vector<std::int64_t>& prefill,
         std::int64_t batch, std::int64_t generate) {
        std::vector<const model_spec*> ms;
        for (const auto& p : models) ms.push_back(p.get());
        const comparison c = compare(ms, *hw, {.batch = batch, .prefill = 1, .generate = generate}, prefill);
        return json_loads(render(comparison_view{c}, report_format::json));
      },
      py::arg("models"), py::arg("hardware"), py::arg("prefill"), py::arg("batch") = 1,
      py::arg("generate") = 100,  // compare's: one sequence, 100 tokens generated
      "Several models across prompt lengths and where their TTFT and step times cross, as `compare --format "
      "json` "
      "prints it: {hardware, batch, generate, models, points: [{prefill, models: [{name, ttft_s, "
      "step_time_s, "
      "fits}]}], crossovers: [{metric, faster, slower, prefill}]}.");

  // a deployment from serve()'s and simulate()'s keyword arguments
  // speculate=K, acceptance=A or [A1, ...], draft=model (none: an MTP head) as one speculation
  const auto speculation_of = [](int k, const py::object& acceptance, const std::optional<model_ptr>& draft) {
    speculation sp{};
    if (k <= 0) {
      if (!acceptance.is_none() || draft) throw input_error("acceptance and draft go with speculate=K");
      return sp;
    }
    if (acceptance.is_none()) throw input_error("speculate: give acceptance (0 to 1)");
    sp = {.k = k, .acceptance = values<double>(acceptance, "acceptance")};
    if (draft) sp.draft = **draft;
    return sp;
  };
  const auto deployment = [](std::int64_t isl, std::int64_t osl, double concurrency, const std::string& mode,
                             int tp, int pp, int ep, int dp, int workers, std::optional<double> max_batch,
                             std::optional<double> max_batch_tokens, const std::optional<py::dict>& prefill,
                             const std::optional<py::dict>& decode) {
    if (mode != "agg" && mode != "disagg") throw input_error("mode: 'agg' or 'disagg', not '" + mode + "'");
    serving_workload s{.isl = isl, .osl = osl, .concurrency = concurrency};
    s.disaggregated = mode == "disagg";
    s.agg.L = layout_of(tp, pp, ep, dp, 0, false);
    s.agg.workers = workers;
    s.agg.max_batch = max_batch;
    s.agg.max_batch_tokens = max_batch_tokens;
    const auto pool = [&](const std::optional<py::dict>& d, worker_pool& w, const char* which) {
      if (!d) return;
      if (!s.disaggregated) throw input_error(std::string(which) + ": a disaggregated pool, and mode is agg");
      for (const auto& [k, v] : *d) {
        const std::string key = py::str(k);
        if (key == "tp")
          w.L.tp = v.cast<int>();
        else if (key == "pp")
          w.L.pp = v.cast<int>();
        else if (key == "ep")
          w.L.ep = v.cast<int>();
        else if (key == "dp")
          w.L.dp = v.cast<int>();
        else if (key == "workers")
          w.workers = v.cast<int>();
        else if (key == "max_batch")
          w.max_batch = v.cast<double>();
        else if (key == "max_batch_tokens")
          w.max_batch_tokens = v.cast<double>();
        else
          throw input_error(std::string(which) + ": unknown key '" + key +
                            "' (tp, pp, ep, dp, workers, max_batch, max_batch_tokens)");
      }
    };
    pool(prefill, s.prefill, "prefill");
    pool(decode, s.decode, "decode");
    return s;
  };

  mod.def(
      "serve",
      [deployment, speculation_of](
          model_ptr m, hardware_ptr hw, std::int64_t isl, std::int64_t osl, double concurrency,
          const std::string& mode, int tp, int pp, int ep, int dp, int workers,
          std::optional<double> max_batch, std::optional<double> max_batch_tokens,
          const std::optional<py::dict>& prefill, const std::optional<py::dict>& decode,
          const std::optional<std::string>& overlap_, int speculate_k, const py::object& acceptance,
          std::optional<model_ptr> draft) {
        serving_workload s = deployment(isl, osl, concurrency, mode, tp, pp, ep, dp, workers, max_batch,
                                        max_batch_tokens, prefill, decode);
        s.speculative = speculation_of(speculate_k, acceptance, draft);
        const std::optional<overlap> policy = policy_of(overlap_);
        const serving_result r = serve(*m, *hw, s, policy);
        // the interval, as `serve` gives it (interval_source)
        const auto [lo, hi] = interval_of(*hw, r, [&](const hardware& h) { return serve(*m, h, s, policy); });
        return json_loads(render(serving_view{*m, *hw, s, r, lo ? &*lo : nullptr, hi ? &*hi : nullptr},
                                 report_format::json));
      },
      py::arg("model"), py::arg("hardware"), py::arg("isl") = 4096, py::arg("osl") = 512,
      py::arg("concurrency") = 64, py::arg("mode") = "agg", py::arg("tp") = 1, py::arg("pp") = 1,
      py::arg("ep") = 1, py::arg("dp") = 1, py::arg("workers") = 1, py::arg("max_batch") = py::none(),
      py::arg("max_batch_tokens") = py::none(), py::arg("prefill") = py::none(),
      py::arg("decode") = py::none(), py::arg("overlap") = py::none(), py::arg("speculate") = 0,
      py::arg("acceptance") = py::none(), py::arg("draft") = py::none(),
      "TTFT, TPOT and throughput served by an engine (the stack's serving parameters) at a concurrency, as "
      "`serve --format json` prints it: aggregated workers (tp, pp, ep, dp, workers, max_batch, "
      "max_batch_tokens), "
      "or mode='disagg' with prefill= and decode= pools, dicts of the same keys; speculate=K with "
      "acceptance (and draft, default an MTP head) for speculative decoding.");

  mod.def(
      "simulate",
      [deployment, speculation_of](
          model_ptr m, hardware_ptr hw, std::int64_t isl, std::int64_t osl, double concurrency,
          std::optional<double> request_rate, const std::optional<std::string>& arrivals,
          const std::string& isl_dist, const std::string& osl_dist, std::int64_t requests,
          std::int64_t warmup, std::uint64_t seed, double think_time, double ttft_ms, double tpot_ms,
          bool timeline, const std::string& mode, int tp, int pp, int ep, int dp, int workers,
          std::optional<double> max_batch, std::optional<double> max_batch_tokens,
          const std::optional<py::dict>& prefill, const std::optional<py::dict>& decode,
          const std::optional<std::string>& overlap_, std::int64_t prefix_tokens, double prefix_hit_rate,
          int speculate_k, const py::object& acceptance, std::optional<model_ptr> draft) {
        serving_workload s = deployment(isl, osl, concurrency, mode, tp, pp, ep, dp, workers, max_batch,
                                        max_batch_tokens, prefill, decode);
        s.speculative = speculation_of(speculate_k, acceptance, draft);
        simulation_load l;
        l.prefix = {.shared = prefix_tokens, .hit_rate = prefix_hit_rate};
        std::vector<std::int64_t> trace_isl, trace_osl;
        if (request_rate || arrivals) {
          l.arrivals =
              parse_arrivals(arrivals.value_or("poisson"), request_rate.value_or(0), &trace_isl, &trace_osl);
          if (l.arrivals.what != arrival_process::kind::trace && !request_rate)
            throw input_error("arrivals '" + *arrivals + "': needs request_rate");
          if (think_time != 0)  // as serve refuses --think-time with an open loop
            throw input_error(
                "think_time is for a closed loop; with request_rate or arrivals the load is open");
        } else {
          l.arrivals = {.what = arrival_process::kind::closed,
                        .concurrency = concurrency,
                        .think_time = think_time,
                        .source = "closed"};
        }
        const auto lengths = [](const std::string& text, std::int64_t fixed, const char* column,
                                std::vector<std::int64_t>& from_trace) {
          if (from_trace.empty()) return parse_length_dist(text, fixed, column);
          return length_dist{.what = length_dist::kind::values,
                             .values = from_trace,
                             .source = std::string("the trace's ") + column};
        };
        l.isl = lengths(isl_dist, isl, "isl", trace_isl);
        l.osl = lengths(osl_dist, osl, "osl", trace_osl);
        l.requests = requests, l.warmup = warmup, l.seed = seed;
        const simulation_options opt{
            .policy = policy_of(overlap_), .timeline = timeline, .targets = {ttft_ms * 1e-3, tpot_ms * 1e-3}};
        simulation_result r;
        std::optional<simulation_result> lo, hi;  // the interval, as `serve --simulate` gives it
        {
          py::gil_scoped_release free;
          r = simulate(*m, *hw, s, l, opt);
          simulation_options quiet = opt;
          quiet.timeline = false;
          std::tie(lo, hi) =
              interval_of(*hw, r, [&](const hardware& h) { return simulate(*m, h, s, l, quiet); });
        }
        py::dict out =
            json_loads(render(simulation_view{*m, *hw, s, l, r, lo ? &*lo : nullptr, hi ? &*hi : nullptr},
                              report_format::json));
        if (timeline) {
          py::list rows;
          for (const timeline_point& p : r.timeline)
            rows.append(py::dict(py::arg("start_s") = p.start, py::arg("duration_ms") = p.duration * 1e3,
                                 py::arg("prefill_tokens") = p.prefill_tokens,
                                 py::arg("decode_tokens") = p.decode_tokens, py::arg("running") = p.running,
                                 py::arg("waiting") = p.waiting, py::arg("kv_use") = p.kv_use));
          out["timeline"] = rows;
        }
        return out;
      },
      py::arg("model"), py::arg("hardware"), py::arg("isl") = 4096, py::arg("osl") = 512,
      py::arg("concurrency") = 64, py::arg("request_rate") = py::none(), py::arg("arrivals") = py::none(),
      py::arg("isl_dist") = "fixed", py::arg("osl_dist") = "benchmark", py::arg("requests") = 0,
      py::arg("warmup") = 0, py::arg("seed") = 1, py::arg("think_time") = 0.0, py::arg("ttft_ms") = 0.0,
      py::arg("tpot_ms") = 0.0, py::arg("timeline") = false, py::arg("mode") = "agg", py::arg("tp") = 1,
      py::arg("pp") = 1, py::arg("ep") = 1, py::arg("dp") = 1, py::arg("workers") = 1,
      py::arg("max_batch") = py::none(), py::arg("max_batch_tokens") = py::none(),
      py::arg("prefill") = py::none(), py::arg("decode") = py::none(), py::arg("overlap") = py::none(),
      py::arg("prefix_tokens") = 0, py::arg("prefix_hit_rate") = 0.0, py::arg("speculate") = 0,
      py::arg("acceptance") = py::none(), py::arg("draft") = py::none(),
      "The engine's scheduler simulated iteration by iteration, as `serve --simulate --format json` prints "
      "it "
      "(ttft_ms, tpot_ms, itl_ms, e2e_ms as {mean, p50, p90, p99, n}, tokens_per_s, goodput, queue and KV "
      "use): a closed loop at `concurrency` (think_time seconds between a user's requests) or an open loop "
      "at `request_rate` (arrivals 'poisson', 'gamma:CV', or 'trace:FILE.csv'); lengths fixed, "
      "'benchmark' (within 5 % of the length; the default of outputs: equal requests out of lockstep), "
      "'uniform:LO:HI', 'normal:MEAN:SD', 'lognormal:MEAN:SD', 'file:F.csv'; timeline=True adds every "
      "iteration of the first worker. Prefix caching: prefix_tokens every prompt begins with (computed once "
      "a dp rank, its pages held once), prefix_hit_rate of the rest of each prompt found cached "
      "(prefix_found in the result). Speculative decoding: speculate=K draft tokens a step accepted with "
      "chance acceptance (one value or one per position), draft a model (default: an MTP head).");

  mod.def(
      "best_deployment",
      [speculation_of](model_ptr m, hardware_ptr hw, int gpus, std::int64_t isl, std::int64_t osl,
                       double max_concurrency, std::optional<double> ttft_ms, std::optional<double> tpot_ms,
                       const std::string& mode, bool simulate, int percentile, std::int64_t prefix_tokens,
                       double prefix_hit_rate, int speculate_k, const py::object& acceptance,
                       std::optional<model_ptr> draft, std::optional<double> joules_per_token,
                       const std::optional<std::string>& kv_format, const std::optional<std::string>& quant) {
        if (mode != "agg" && mode != "disagg" && mode != "both")
          throw input_error("mode: 'agg', 'disagg' or 'both', not '" + mode + "'");
        if (joules_per_token && !hw->energy)
          throw input_error(fmt::format(
              "joules_per_token: {} states no energy coefficients (energy: in its profile)", hw->name));
        if (joules_per_token && !(*joules_per_token > 0))
          throw input_error("joules_per_token: a positive number of joules per output token");
        if (kv_format || quant) {  // a copy in the formats asked, as the program's --kv-format and --quant
          auto copy = std::make_shared<model_spec>(*m);
          if (kv_format) set_kv_format(*copy, *kv_format, "kv_format");
          if (quant) apply_quant_named(*copy, *hw, *quant, "quant");
          m = copy;
        }
        const deployment_space sp{.gpus = gpus,
                                  .isl = isl,
                                  .osl = osl,
                                  .max_concurrency = max_concurrency,
                                  .aggregated = mode != "disagg",
                                  .disaggregated = mode != "agg",
                                  .simulated = simulate,
                                  .percentile = percentile,
                                  .prefix = {.shared = prefix_tokens, .hit_rate = prefix_hit_rate},
                                  .speculative = speculation_of(speculate_k, acceptance, draft)};
        std::vector<deployment_point> points;
        {
          py::gil_scoped_release free;
          points = enumerate_deployments(*m, *hw, sp);
        }
        const auto limit = [](std::optional<double> ms) {
          return ms ? std::optional(*ms * 1e-3 * second) : std::optional<seconds>{};
        };
        const auto best = best_within(points, limit(ttft_ms), limit(tpot_ms), joules_per_token);
        {
          py::gil_scoped_release free;
          frontier_intervals(*m, *hw, sp, points);  // after the best is taken, as best_deployment does
        }
        std::optional<serving_result> lo, hi;  // the best point's interval, as best_deployment's
        if (best)
          std::tie(lo, hi) = interval_of(
              *hw, best->result, [&](const hardware& h) { return deployment_result(*m, h, best->work, sp); });
        return json_loads(render(deployments_view{*m, *hw, sp, points, best, ttft_ms, tpot_ms,
                                                  lo ? &*lo : nullptr, hi ? &*hi : nullptr, joules_per_token},
                                 report_format::json));
      },
      py::arg("model"), py::arg("hardware"), py::arg("gpus") = 8, py::arg("isl") = 4096, py::arg("osl") = 512,
      py::arg("max_concurrency") = 1024, py::arg("ttft_ms") = py::none(), py::arg("tpot_ms") = py::none(),
      py::arg("mode") = "both", py::arg("simulate") = false, py::arg("percentile") = 0,
      py::arg("prefix_tokens") = 0, py::arg("prefix_hit_rate") = 0.0, py::arg("speculate") = 0,
      py::arg("acceptance") = py::none(), py::arg("draft") = py::none(),
      py::arg("joules_per_token") = py::none(), py::arg("kv_format") = py::none(),
      py::arg("quant") = py::none(),
      "Every aggregated and disaggregated layout of the model on `gpus` GPUs at concurrencies 1, 2, 4, ... "
      "max_concurrency, the best within the TTFT and TPOT targets and the Pareto frontier, as one model's "
      "entry "
      "of `best_deployment --format json`; simulate=True (percentile, prefix_tokens, prefix_hit_rate) serves "
      "each point in the simulator, speculate=K with acceptance (and draft) speculates; joules_per_token is "
      "an "
      "energy target, kv_format and quant the formats (as --joules-per-token, --kv-format, --quant).");

  mod.def(
      "forward_flops_per_token",
      [](const model_spec& m, double context) { return forward_flops_per_token(m, context); },
      py::arg("model"), py::arg("context"),
      "FLOPs of a forward pass per token at a context length, as the scaling-law fits count them.");
  mod.def(
      "training_flops_per_token",
      [](const model_spec& m, double context) { return training_flops_per_token(m, context); },
      py::arg("model"), py::arg("context"),
      "Training FLOPs per token (forward and backward) at a context length.");

  mod.def(
      "simd_target", [] { return std::string(simd_target()); },
      "The instruction set sweep() runs on here (Highway's name: AVX2, AVX3 for AVX-512, ...).");
}
