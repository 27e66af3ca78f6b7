// io: fits of scaling laws (scaling/loss_fits.yaml, scaling/isoflop_fits.yaml), read strictly.
#include "roofline/io/io.hpp"
#include "roofline/io/io_reader.hpp"

namespace roofline {

using io_detail::parse;
using io_detail::reader;
using io_detail::slurp;

namespace {

// A list under `fits:`, each entry read by `read`.
template <class T, class Read>
std::vector<T> read_fits(std::string_view text, const std::string& path, Read read) {
  const std::string file = path;
  const YAML::Node root = parse(text, file);
  reader r(file, root, "", {"fits"});
  const YAML::Node list = r.required("fits");
  if (!list.IsSequence() || list.size() == 0) r.fail(list, "'fits' must be a non-empty list");
  std::vector<T> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    reader e(file, list[i], fmt::format("fits[{}]", i));
    T fit;
    fit.family = e.choice<std::string>(e.required("family"), "family", "family", "transformer, xlstm",
                                       [](std::string_view s) -> std::optional<std::string> {
                                         if (s == "transformer" || s == "xlstm") return std::string(s);
                                         return std::nullopt;
                                       });
    fit.context = e.positive_int("context", 1 << 30);
    fit.source = e.string("source");
    read(e, fit);
    e.finish();
    out.push_back(std::move(fit));
  }
  r.finish();
  return out;
}

}  // namespace

std::vector<loss_fit> load_loss_fits(const std::string& path) { return parse_loss_fits(slurp(path), path); }
std::vector<isoflop_fit> load_isoflop_fits(const std::string& path) {
  return parse_isoflop_fits(slurp(path), path);
}

std::vector<loss_fit> parse_loss_fits(std::string_view text, const std::string& path) {
  return read_fits<loss_fit>(text, path, [](reader& e, loss_fit& f) {
    f.name = e.string("name");
    f.log_a = e.number("log_a", -1e3, false, 1e3);
    f.log_b = e.number("log_b", -1e3, false, 1e3);
    f.log_e = e.number("log_e", -1e3, false, 1e3);
    f.alpha = e.number("alpha", 0, true, 100);
    f.beta = e.number("beta", 0, true, 100);
    f.gamma = e.number("gamma", 0, true, 100);
  });
}

std::vector<isoflop_fit> parse_isoflop_fits(std::string_view text, const std::string& path) {
  return read_fits<isoflop_fit>(text, path, [](reader& e, isoflop_fit& f) {
    f.params_coefficient = e.number("params_coefficient", 0, true, 1e30);
    f.params_exponent = e.number("params_exponent", 0, true, 10);
    f.tokens_coefficient = e.number("tokens_coefficient", 0, true, 1e30);
    f.tokens_exponent = e.number("tokens_exponent", 0, true, 10);
  });
}

}  // namespace roofline
