// report: speculative decoding beside plain decoding (report.hpp's speculation_view).
#include <fmt/format.h>

#include "roofline/report/report.hpp"
#include "roofline/report/table.hpp"
#include "roofline/report/text.hpp"

namespace roofline {

nlohmann::json speculation_view::json() const {
  return {{"draft", draft},
          {"k", s.k},
          {"acceptance", s.acceptance},
          {"tokens_per_step", e.tokens_per_step},
          {"draft_s", e.draft.value()},
          {"verify_s", e.verify.value()},
          {"step_s", e.step.value()},
          {"tpot_s", e.tpot.value()},
          {"plain_step_s", e.plain_step.value()},
          {"speedup", (e.plain_step / e.tpot).value()},
          {"draft_prefill_s", e.draft_prefill.value()},
          {"draft_memory_bytes", e.draft_memory.value()},
          {"break_even_batch", even.batch ? nlohmann::json(*even.batch) : nlohmann::json()},
          {"largest_batch_tried", even.largest}};
}

std::string speculation_view::table(const table_style& style) const {
  std::string acc;
  for (double a : s.acceptance) acc += fmt::format("{}{:g}", acc.empty() ? "" : ", ", a);
  std::string out = detail::section(
      fmt::format("speculative decoding: draft {}, k {}, acceptance {}", draft, s.k, acc), style);
  detail::summary_table t(26, 10);
  t.line("tokens per step", fmt::format("{:.4g}", e.tokens_per_step),
         "1 + sum of a_1 ... a_i over i = 1 .. k");
  t.line("draft", detail::duration(e.draft), fmt::format("{} passes of one token per sequence", s.k));
  t.line("verify", detail::duration(e.verify),
         fmt::format("the target over {} tokens per sequence", s.k + 1));
  t.line("time per output token", detail::duration(e.tpot),
         fmt::format("(draft + verify) / tokens per step; plain decode step {}: {:.3g}x",
                     detail::duration(e.plain_step), (e.plain_step / e.tpot).value()));
  t.line("draft prefill", detail::duration(e.draft_prefill), "added to the time to first token");
  t.line("draft memory", detail::si(e.draft_memory.value(), "B"),
         "weights (an MTP head: its layer) and KV cache a GPU");
  t.line("stops paying at batch", even.batch ? fmt::format("{}", *even.batch) : std::string("none"),
         even.batch ? "the smallest of 1, 2, 4, ... whose TPOT is no shorter than a plain step"
                    : fmt::format("it pays at every batch of 1, 2, 4, ... that fits the memory (up to {})",
                                  even.largest));
  return out + t.render(style);
}

std::string speculation_view::csv() const {
  throw input_error("speculative decoding: not in the CSV report; use --format table or json");
}

}  // namespace roofline
