// io, HuggingFace import (internal): what every family's importer shares. A config's fields are read
// through `config` (each read marks the field; at the end every field must have been read or be one
// that changes no count), and the spec is written through `spec_writer`, typed values with the field
// each comes from. importers.hpp lists the families; import.cpp maps model_type to them.
#pragma once

#include <initializer_list>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "roofline/io/io_reader.hpp"
#include "roofline/spec/model_spec.hpp"

namespace roofline::hf {

// One JSON object of the config: fields are read by name; finish() names any field neither read
// nor in no_effect as not modelled.
class config {
 public:
  config(const std::string& file, const YAML::Node& node, std::string path)
      : r_(file, node, std::move(path)), node_(node) {}

  bool has(const std::string& key) const { return node_[key] && !node_[key].IsNull(); }
  YAML::Node at(const std::string& key) {
    used_.insert(key);
    return node_[key];
  }
  // Marks fields as read whose values change nothing the project counts.
  void skip(std::initializer_list<const char*> keys) {
    for (const char* k : keys) used_.insert(k);
  }
  // At the field's value (or the object, for a missing field).
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    r_.fail(node_[key] ? node_[key] : node_, what);
  }
  long long integer(const std::string& key, long long lo = 1, long long hi = max_width);
  long long integer_or(const std::string& key, long long fallback, long long lo = 1,
                       long long hi = max_width);
  double number(const std::string& key, double lo, double hi);
  double number_or(const std::string& key, double fallback, double lo, double hi);
  bool boolean_or(const std::string& key, bool fallback);
  std::string text_or(const std::string& key, const std::string& fallback);
  const std::string& file() const { return r_.file(); }
  std::string dotted(const std::string& key) const { return r_.dotted(key); }
  // Throws for the first field neither read nor in no_effect.
  void finish(const std::string& model_type) const;

 private:
  io_detail::reader r_;
  YAML::Node node_;
  std::set<std::string> used_;
};

// A value of a spec key: a whole number, a decimal, a flag or a word.
using value = std::variant<long long, double, bool, std::string>;
// The fields of a YAML flow mapping, {type: moe, n_experts: 8}, in order.
using flow = std::vector<std::pair<std::string, value>>;
// The layers of a model, first to last: each layer's mixer and channel mixer by name.
using layer_sequence = std::vector<std::pair<std::string, std::string>>;

// A model spec as YAML, written key by key with a comment on each value that says which field of
// the config it comes from or how it was derived. Depth 0: the spec's keys and sections; depth 1:
// a section's entries (named mixers and channels, dtypes); depth 2: a block mixer's fields.
class spec_writer {
 public:
  void note(const std::string& text) { line(0, "# " + text, {}); }
  void set(const std::string& key, const value& v, const std::string& why = {}) {
    line(0, key + ": " + yaml(v), why);
  }
  void section(const std::string& key, const std::string& why = {}) { line(0, key + ":", why); }
  void entry(const std::string& key, const value& v, const std::string& why = {}) {
    line(2, key + ": " + yaml(v), why);
  }
  void entry(const std::string& key, const flow& fields, const std::string& why = {}) {
    line(2, key + ": " + yaml(fields), why);
  }
  void block(const std::string& name) { line(2, name + ":", {}); }
  void field(const std::string& key, const value& v, const std::string& why = {}) {
    line(4, key + ": " + yaml(v), why);
  }
  // "layers:" with the sequence as runs of equal layers, a repeated unit where there is one.
  void layers(const layer_sequence& seq, const std::string& why);
  const std::string& text() const { return out_; }

  static std::string yaml(const value& v);
  static std::string yaml(const flow& fields);

 private:
  void line(int indent, const std::string& text, const std::string& why);
  std::string out_;
};

// The spec's number formats from torch_dtype and quantization_config.
struct formats {
  std::string activations = "bf16", why = "bf16 (no torch_dtype)";
  struct line {
    std::string key, value, why;
  };
  std::vector<line> lines;    // dtypes keys, values and where they come from
  bool experts_only = false;  // the quantization is of the routed experts alone (mxfp4)
};
formats read_formats(config& c);
// "dtypes:" with the activations and the formats read (more entries may follow).
void write_dtypes(spec_writer& w, const formats& f);

// A gated (SwiGLU, GeGLU) or plain activation from hidden_act / hidden_activation /
// activation_function: silu or gelu (erf or tanh forms); anything else is not modelled.
std::string activation_name(config& c, const std::string& key, const std::string& fallback);

// What every importer is given: the config's top object, its path, the spec's name (the file's
// stem, or its folder's for config.json), the formats read and the writer.
struct input {
  config& c;
  const YAML::Node& root;
  const std::string& path;
  std::string type;  // model_type
  std::string name;
  formats f;
  spec_writer w{};
  bool moe = false;  // the importer wrote a MoE channel (only decoders have them)
};

// The two comment lines and the keys every spec opens with.
struct spec_head {
  long long d_model, vocab;
  bool tied;
  std::string tied_why;
  std::optional<long long> max_context{};
  std::string context_why{};
  std::string d_model_why = "hidden_size";
};
void write_head(input& in, const spec_head& h);

// A vision tower's keys (model_spec.hpp's vision_tower) as an importer derives them, each with the
// fields it comes from; write() adds them as the spec's `vision:` block.
struct vision_keys {
  std::vector<std::tuple<std::string, value, std::string>> fields{};
  std::string why{};
  vision_keys() = default;
  // The encoder's depth, width and heads from num_hidden_layers, hidden_size, num_attention_heads.
  vision_keys(std::string model, long long layers, long long d, long long heads)
      : why("vision_config: transformers' " + std::move(model)) {
    add("layers", layers, "num_hidden_layers");
    add("d_model", d, "hidden_size");
    add("n_heads", heads, "num_attention_heads");
  }
  void add(const std::string& key, const value& v, const std::string& from) {
    fields.emplace_back(key, v, from);
  }
  void write(spec_writer& w) const {
    if (fields.empty()) return;
    w.section("vision", why);
    for (const auto& [key, v, from] : fields) w.entry(key, v, from);
  }
};

// A multimodal config's text model: its text_config read by `text` (tied: the top object's
// tie_word_embeddings, default true; nested: true). The top object's `towers` fields (vision and
// audio configs, their token ids) are read and left out: the spec is the text model and says so.
// The formats of a text model: a nested text_config's own (torch_dtype or dtype, quantization),
// else the top object's; a text model's own config: the top object's.
formats text_formats(const input& in, config& t, bool nested);
using text_importer = void (*)(input& in, config& text, bool tied, bool nested);
void import_text_config(input& in, std::initializer_list<const char*> towers, const std::string& text_type,
                        text_importer text);

}  // namespace roofline::hf
