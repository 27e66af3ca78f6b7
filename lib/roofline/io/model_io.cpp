// io: model specs (the layer-stack form and the single-block shorthand), and HuggingFace configs by content.
#include <set>

#include "roofline/graph/graph.hpp"
#include "roofline/io/io.hpp"
#include "roofline/io/io_reader.hpp"

namespace roofline {
namespace {

using io_detail::reader;

void read_accounting(reader r, accounting& a) {
  r.number_if("attention_causal_factor", a.attention_causal_factor, 0, true, 1);
  r.number_if("mlstm_causal_factor", a.mlstm_causal_factor, 0, true, 1);
  r.number_if("ssm_causal_factor", a.ssm_causal_factor, 0, true, 1);
  for (auto [key, field] : {std::pair{"softmax_flops", &a.softmax_flops},
                            {"norm_flops", &a.norm_flops},
                            {"swish_flops", &a.swish_flops},
                            {"gelu_flops", &a.gelu_flops},
                            {"softcap_flops", &a.softcap_flops},
                            {"skip_flops", &a.skip_flops},
                            {"exp_flops", &a.exp_flops},
                            {"log_flops", &a.log_flops},
                            {"sigmoid_flops", &a.sigmoid_flops},
                            {"max_flops", &a.max_flops},
                            {"abs_flops", &a.abs_flops}})
    r.number_if(key, *field, 0, false, 1e6);
  if (auto n = r.optional("partial_chunk"))
    a.partial_chunk = r.choice<enum partial_chunk>(n, "partial_chunk", "value");
  r.boolean_if("final_norm_flops_prefill", a.final_norm_flops_prefill);
  r.boolean_if("final_norm_flops_decode", a.final_norm_flops_decode);
  r.finish();
}

// A storage format: a name (dtype.hpp's named_formats) or {element, block, scale_bytes}.
number_format format_of(const reader& r, const YAML::Node& n, const std::string& key) {
  if (n.IsScalar()) return r.choice<number_format>(n, key, "format", format_names, parse_format);
  reader f(r.file(), n, r.dotted(key));
  number_format out{f.dtype_of(f.required("element"), "element"), 0, 0, "custom"};
  out.block = int(f.integer(f.required("block"), "block", 1, max_width));
  out.scale_bytes = f.number("scale_bytes", 0, false, 64);
  f.finish();
  return out;
}

void read_dtypes(reader d, tensor_dtypes& t) {
  if (auto v = d.optional("weights")) t.weights = format_of(d, v, "weights");
  if (auto v = d.optional("activations")) t.activations = d.dtype_of(v, "activations");
  if (auto v = d.optional("kv_cache")) t.kv_cache = format_of(d, v, "kv_cache");
  if (auto v = d.optional("state")) t.state = d.dtype_of(v, "state");
  if (auto v = d.optional("compute")) t.compute = d.dtype_of(v, "compute");
  for (weight_kind k : all_weight_kinds) {
    const std::string key(name(k));
    const YAML::Node v = d.optional(key);
    if (!v) continue;
    weight_format w;
    if (v.IsMap() && v["storage"]) {
      reader f(d.file(), v, d.dotted(key));
      w.storage = format_of(f, f.required("storage"), "storage");
      if (auto c = f.optional("compute")) w.compute = f.dtype_of(c, "compute");
      f.finish();
    } else {
      w.storage = format_of(d, v, key);
    }
    t.kinds[static_cast<std::size_t>(k)] = w;
  }
  d.finish();
}

constexpr long long max_int = max_width;

// ---- the single-block shorthand: architecture, n_layers, n_heads, ffn_dim, attention | mlstm ----

std::optional<std::string> shorthand_architecture(std::string_view s) {
  if (s == "transformer" || s == "xlstm") return std::string(s);
  return std::nullopt;
}

model_spec read_shorthand(reader& r, model_spec m) {
  const auto arch = r.choice<std::string>(r.required("architecture"), "architecture", "architecture",
                                          "transformer, xlstm (other models: a layer stack, see "
                                          "model_specs/example.yaml)",
                                          shorthand_architecture);
  m.d_model = r.positive_int("d_model", max_int);
  const int layers = r.positive_int("n_layers", max_layers);
  const int n_heads = r.positive_int("n_heads", max_int);
  const int ffn = r.positive_int("ffn_dim", max_int);
  m.vocab_size = r.positive_int("vocab_size", max_int);
  m.tied_embeddings = r.boolean(r.required("tied_embeddings"), "tied_embeddings");
  const bool transformer = arch == "transformer";
  const std::string section = transformer ? "attention" : "mlstm";
  const std::string other = transformer ? "mlstm" : "attention";
  if (r.has(other))
    r.fail(r.key_node(other),
           fmt::format("'{}' does not apply to architecture {}; use '{}'", other, arch, section));
  reader s = r.child(section);
  layer_kind kind{
      .mixer_name = section, .channel_name = "mlp", .mixer = {}, .channel = mlp_channel{.ffn_dim = ffn}};
  if (transformer) {
    attention_mixer a{.n_heads = n_heads};
    a.n_kv_heads = s.positive_int("n_kv_heads", max_int);
    a.head_dim = s.positive_int("head_dim", max_int);
    s.boolean_if("qkv_bias", a.qkv_bias);
    if (n_heads % a.n_kv_heads != 0)
      s.fail(s.required("n_kv_heads"),
             fmt::format("'attention.n_kv_heads' ({}) must divide 'n_heads' ({})", a.n_kv_heads, n_heads));
    kind.mixer = a;
  } else {
    mlstm_mixer x{.n_heads = n_heads};
    x.qk_dim_factor = s.number("qk_dim_factor", 0, true, 1e3);
    x.chunk_size = s.positive_int("chunk_size", max_int);
    if (m.d_model % n_heads != 0)
      r.fail(r.required("n_heads"),
             fmt::format("'n_heads' ({}) must divide 'd_model' ({})", n_heads, m.d_model));
    const int head = m.d_model / n_heads;
    const double dqk = x.qk_dim_factor * head;
    if (dqk != static_cast<int>(dqk) || dqk < 1)
      s.fail(s.required("qk_dim_factor"),
             fmt::format(
                 "'mlstm.qk_dim_factor' ({}) times the head width d_model / n_heads ({}) must be an integer",
                 x.qk_dim_factor, head));
    kind.mixer = x;
  }
  s.finish();
  set_uniform_layers(m, std::move(kind), layers);
  return m;
}

// ---- the layer stack: mixers, channels, layers ------------------------------------------------

std::optional<std::string> mixer_type(std::string_view s) {
  for (const char* t : {"attention", "mla", "mlstm", "mamba1", "mamba2", "gated_deltanet"})
    if (s == t) return std::string(s);
  return std::nullopt;
}

// An MLA mixer: its widths, and DeepSeek Sparse Attention's indexer where given (all three keys).
mla_mixer read_mla(reader& x) {
  const auto pos = [&](const char* key) { return x.positive_int(key, max_int); };
  mla_mixer l{.n_heads = pos("n_heads")};
  l.q_rank = int(x.integer(x.required("q_rank"), "q_rank", 0, max_int));
  l.kv_rank = pos("kv_rank");
  l.nope_dim = pos("nope_dim");
  l.rope_dim = pos("rope_dim");
  l.v_dim = pos("v_dim");
  const int given = x.has("index_heads") + x.has("index_head_dim") + x.has("index_topk");
  if (given > 0) {  // sparse attention: all three, and a low-rank query the indexer reads
    l.index_heads = pos("index_heads");
    l.index_head_dim = pos("index_head_dim");
    l.index_topk = pos("index_topk");
    if (l.q_rank == 0)
      x.fail(x.required("index_heads"),
             fmt::format("'{}': DeepSeek Sparse Attention's indexer reads the compressed query; not "
                         "modelled with q_rank 0",
                         x.dotted("index_heads")));
  }
  return l;
}

mixer_spec read_mixer(reader x) {
  const auto type =
      x.choice<std::string>(x.required("type"), "type", "mixer type",
                            "attention, mla, mlstm, mamba1, mamba2, gated_deltanet", mixer_type);
  const auto pos = [&](const char* key) { return x.positive_int(key, max_int); };
  mixer_spec out;
  if (type == "attention") {
    attention_mixer a{
        .n_heads = pos("n_heads"), .n_kv_heads = pos("n_kv_heads"), .head_dim = pos("head_dim")};
    x.int_if("window", a.window, 0, std::numeric_limits<int>::max());
    x.int_if("chunk", a.chunk, 0, std::numeric_limits<int>::max());
    if (a.window > 0 && a.chunk > 0)
      x.fail(x.required("chunk"), fmt::format("'{}' and '{}' both set: a layer attends over a sliding "
                                              "window or within chunks, not both",
                                              x.dotted("window"), x.dotted("chunk")));
    x.boolean_if("qkv_bias", a.qkv_bias);
    x.boolean_if("out_bias", a.out_bias);
    x.boolean_if("qk_norm", a.qk_norm);
    x.boolean_if("qk_l2_norm", a.qk_l2_norm);
    if (a.qk_norm && a.qk_l2_norm)
      x.fail(x.required("qk_l2_norm"), fmt::format("'{}' and '{}' both set: a head is normalised once",
                                                   x.dotted("qk_norm"), x.dotted("qk_l2_norm")));
    x.boolean_if("sinks", a.sinks);
    x.boolean_if("output_gate", a.output_gate);
    x.boolean_if("k_eq_v", a.k_eq_v);
    x.number_if("softcap", a.softcap, 0, false, 1e6);
    if (a.n_heads % a.n_kv_heads != 0)
      x.fail(x.required("n_kv_heads"), fmt::format("'{}' ({}) must divide 'n_heads' ({})",
                                                   x.dotted("n_kv_heads"), a.n_kv_heads, a.n_heads));
    out = a;
  } else if (type == "mla") {
    out = read_mla(x);
  } else if (type == "mlstm") {
    mlstm_mixer m{.n_heads = pos("n_heads")};
    m.qk_dim_factor = x.number("qk_dim_factor", 0, true, 1e3);
    m.chunk_size = pos("chunk_size");
    out = m;
  } else if (type == "mamba1") {
    mamba1_mixer s{.d_state = pos("d_state"),
                   .d_conv = pos("d_conv"),
                   .expand = pos("expand"),
                   .dt_rank = pos("dt_rank")};
    x.boolean_if("conv_bias", s.conv_bias);
    x.boolean_if("proj_bias", s.proj_bias);
    x.boolean_if("inner_norms", s.inner_norms);
    out = s;
  } else if (type == "mamba2") {
    mamba2_mixer s{.d_state = pos("d_state"),
                   .d_conv = pos("d_conv"),
                   .expand = pos("expand"),
                   .head_dim = pos("head_dim"),
                   .n_groups = pos("n_groups"),
                   .chunk_size = pos("chunk_size")};
    x.boolean_if("conv_bias", s.conv_bias);
    x.boolean_if("proj_bias", s.proj_bias);
    out = s;
  } else {
    deltanet_mixer g{.n_k_heads = pos("n_k_heads"),
                     .n_v_heads = pos("n_v_heads"),
                     .k_head_dim = pos("k_head_dim"),
                     .v_head_dim = pos("v_head_dim"),
                     .conv_size = pos("conv_size"),
                     .chunk_size = pos("chunk_size")};
    if (g.n_v_heads % g.n_k_heads != 0)
      x.fail(x.required("n_k_heads"), fmt::format("'{}' ({}) must divide 'n_v_heads' ({})",
                                                  x.dotted("n_k_heads"), g.n_k_heads, g.n_v_heads));
    out = g;
  }
  x.finish();
  return out;
}

std::optional<std::string> channel_type(std::string_view s) {
  if (s == "mlp" || s == "moe") return std::string(s);
  return std::nullopt;
}

channel_spec read_channel(reader x) {
  const auto type =
      x.choice<std::string>(x.required("type"), "type", "channel type", "mlp, moe", channel_type);
  const auto act = [&](activation& a) {
    if (auto n = x.optional("activation")) a = x.choice<activation>(n, "activation", "activation");
  };
  channel_spec out;
  if (type == "mlp") {
    mlp_channel f{.ffn_dim = x.positive_int("ffn_dim", max_int)};
    x.boolean_if("gated", f.gated);
    act(f.activation);
    x.boolean_if("bias", f.bias);
    out = f;
  } else {
    moe_channel e{.n_experts = x.positive_int("n_experts", max_experts),
                  .top_k = x.positive_int("top_k", max_experts),
                  .expert_dim = x.positive_int("expert_dim", max_int)};
    if (e.top_k > e.n_experts)
      x.fail(x.required("top_k"), fmt::format("'{}' ({}) must not exceed 'n_experts' ({})", x.dotted("top_k"),
                                              e.top_k, e.n_experts));
    x.int_if("n_shared", e.n_shared, 0, max_experts);
    if (e.n_shared > 0) e.shared_dim = x.positive_int("shared_dim", max_int);
    x.boolean_if("gated", e.gated);
    act(e.activation);
    x.boolean_if("expert_bias", e.expert_bias);
    x.boolean_if("router_bias", e.router_bias);
    x.boolean_if("shared_gate", e.shared_gate);
    if (auto n = x.optional("load_imbalance"))
      e.load_imbalance = x.number(n, "load_imbalance", 1, false, double(e.n_experts) / e.top_k);
    out = e;
  }
  x.finish();
  return out;
}

// Reads `vision:`, a vision tower (model_spec.hpp's vision_tower).
vision_tower read_vision(reader x) {
  const auto pos = [&](const char* key) { return x.positive_int(key, max_int); };
  vision_tower v{
      .layers = x.positive_int("layers", max_layers), .d_model = pos("d_model"), .n_heads = pos("n_heads")};
  x.int_if("head_dim", v.head_dim, 0, max_int);
  v.ffn_dim = pos("ffn_dim");
  x.boolean_if("gated", v.gated);
  if (auto n = x.optional("activation")) v.activation = x.choice<activation>(n, "activation", "activation");
  x.boolean_if("bias", v.bias);
  if (auto n = x.optional("norm")) v.norm = x.choice<norm_kind>(n, "norm", "norm");
  x.boolean_if("post_norms", v.post_norms);
  x.boolean_if("qk_norm", v.qk_norm);
  x.int_if("outer_norms", v.outer_norms, 0, 16);
  v.patch_inputs = pos("patch_inputs");
  v.patches = pos("patches");
  x.int_if("positions", v.positions, 0, max_int);
  v.image_tokens = pos("image_tokens");
  const YAML::Node a = x.required("adapter");
  if (!a.IsSequence() || a.size() < 2)
    x.fail(a, fmt::format("'{}' must list at least two widths, from a merged image token to d_model",
                          x.dotted("adapter")));
  for (const auto& w : a) v.adapter.push_back(int(x.integer(w, "adapter", 1, max_int)));
  if (v.head_dim == 0 && v.d_model % v.n_heads != 0)
    x.fail(x.required("n_heads"),
           fmt::format("'{}' ({}) must divide '{}' ({}) when no head_dim is given", x.dotted("n_heads"),
                       v.n_heads, x.dotted("d_model"), v.d_model));
  x.finish();
  return v;
}

// Reads the named definitions of `mixers:` or `channels:`.
template <class Spec, class Read>
std::vector<std::pair<std::string, Spec>> read_named(reader& r, const std::string& key, Read read,
                                                     bool required) {
  std::vector<std::pair<std::string, Spec>> out;
  const YAML::Node n = required ? r.required(key) : r.optional(key);
  if (!n) return out;
  reader defs(r.file(), n, key);
  for (const std::string& name : defs.keys()) {
    if (name == "none")
      defs.fail(defs.key_node(name), fmt::format("'{}.none' is reserved for no channel mixer", key));
    out.emplace_back(name, read(reader(r.file(), defs.required(name), defs.dotted(name))));
  }
  defs.finish();
  if (required && out.empty()) r.fail(n, fmt::format("'{}' must define at least one", key));
  return out;
}

struct stack_builder {
  const std::vector<std::pair<std::string, mixer_spec>>& mixers;
  const std::vector<std::pair<std::string, channel_spec>>& channels;
  model_spec& m;
  std::set<std::string> used_mixers{}, used_channels{};
  std::string parent_file{};

  // Appends the layers of a list of entries ({mixer, channel, count} or {repeat, layers}).
  void entries(reader& parent, const YAML::Node& list, const std::string& path) {
    if (!list.IsSequence() || list.size() == 0)
      parent.fail(list, fmt::format("'{}' must be a non-empty list of layers ({{mixer, channel, count}} or "
                                    "{{repeat, layers}})",
                                    path));
    for (std::size_t i = 0; i < list.size(); ++i) entry(list[i], fmt::format("{}[{}]", path, i));
  }

  void entry(const YAML::Node& n, const std::string& path) {
    reader e(parent_file, n, path);
    if (e.has("repeat")) {
      const int times = int(e.integer(e.required("repeat"), "repeat", 1, max_layers));
      const std::size_t first = m.layers.size();
      entries(e, e.required("layers"), e.dotted("layers"));
      e.finish();
      const std::vector<int> once(m.layers.begin() + std::ptrdiff_t(first), m.layers.end());
      if (once.size() * std::size_t(times) + first > std::size_t(max_layers))
        e.fail(n, fmt::format("{} layers; at most {} are allowed", once.size() * std::size_t(times) + first,
                              max_layers));
      for (int t = 1; t < times; ++t) m.layers.insert(m.layers.end(), once.begin(), once.end());
      return;
    }
    const YAML::Node mx = e.required("mixer"), ch = e.required("channel");
    const std::string mixer = e.text(mx, "mixer"), channel = e.text(ch, "channel");
    const int times = e.optional("count") ? int(e.integer(e.optional("count"), "count", 1, max_layers)) : 1;
    e.finish();
    const auto mi =
        std::find_if(mixers.begin(), mixers.end(), [&](const auto& p) { return p.first == mixer; });
    if (mi == mixers.end())
      e.fail(mx, fmt::format("unknown mixer '{}' for '{}'; defined: {}", mixer, e.dotted("mixer"),
                             names(mixers)));
    const auto ci =
        std::find_if(channels.begin(), channels.end(), [&](const auto& p) { return p.first == channel; });
    if (channel != "none" && ci == channels.end())
      e.fail(ch, fmt::format("unknown channel mixer '{}' for '{}'; defined: {}", channel, e.dotted("channel"),
                             names(channels) + (channels.empty() ? "none" : ", none")));
    used_mixers.insert(mixer);
    used_channels.insert(channel);
    if (m.layers.size() + std::size_t(times) > std::size_t(max_layers))
      e.fail(n, fmt::format("{} layers; at most {} are allowed", m.layers.size() + std::size_t(times),
                            max_layers));
    std::size_t kind = 0;
    while (kind < m.kinds.size() &&
           !(m.kinds[kind].mixer_name == mixer && m.kinds[kind].channel_name == channel))
      ++kind;
    if (kind == m.kinds.size())
      m.kinds.push_back(
          {mixer, channel, mi->second, channel == "none" ? channel_spec{no_channel{}} : ci->second});
    m.layers.insert(m.layers.end(), std::size_t(times), int(kind));
  }

  template <class V>
  static std::string names(const V& v) {
    std::vector<std::string> n;
    for (const auto& p : v) n.push_back(p.first);
    return io_detail::join(n);
  }
};

model_spec read_stack(reader& r, model_spec m) {
  m.d_model = r.positive_int("d_model", max_int);
  m.vocab_size = r.positive_int("vocab_size", max_int);
  m.tied_embeddings = r.boolean(r.required("tied_embeddings"), "tied_embeddings");
  if (auto n = r.optional("norm")) m.norm = r.choice<norm_kind>(n, "norm", "norm");
  r.boolean_if("post_norms", m.post_norms);
  r.int_if("learned_positions", m.learned_positions, 0, max_int);
  r.int_if("input_projection", m.input_projection, 0, 16);
  r.number_if("logit_softcap", m.logit_softcap, 0, false, 1e6);
  const auto mixers = read_named<mixer_spec>(r, "mixers", read_mixer, true);
  const auto channels = read_named<channel_spec>(r, "channels", read_channel, false);
  stack_builder b{mixers, channels, m, {}, {}, r.file()};
  b.entries(r, r.required("layers"), "layers");
  for (const auto& [n, x] : mixers)
    if (!b.used_mixers.count(n))
      r.fail(r.child("mixers").key_node(n), fmt::format("mixer '{}' is defined but no layer uses it", n));
  for (const auto& [n, x] : channels)
    if (!b.used_channels.count(n))
      r.fail(r.child("channels").key_node(n),
             fmt::format("channel mixer '{}' is defined but no layer uses it", n));
  return m;
}

model_spec read_model(const YAML::Node& root, const std::string& file) {
  reader r(file, root, "",
           {"name",
            "hf_name",
            "architecture",
            "d_model",
            "n_layers",
            "n_heads",
            "ffn_dim",
            "vocab_size",
            "tied_embeddings",
            "attention",
            "mlstm",
            "dtypes",
            "accounting",
            "max_context",
            "norm",
            "post_norms",
            "learned_positions",
            "input_projection",
            "logit_softcap",
            "vision",
            "mixers",
            "channels",
            "layers"});
  model_spec m{.name = r.string("name"), .file = file};
  if (auto n = r.optional("hf_name")) {
    if (n.IsSequence() && n.size() > 0)
      for (const auto& s : n) m.hf_names.push_back(r.text(s, "hf_name"));
    else if (n.IsScalar())
      m.hf_names.push_back(r.text(n, "hf_name"));
    else
      r.fail(n, "'hf_name' must be a HuggingFace repository name (org/model) or a list of them");
  }
  if (auto n = r.optional("max_context")) m.max_context = r.integer(n, "max_context", 1, max_tokens);
  m = r.has("architecture") ? read_shorthand(r, std::move(m)) : read_stack(r, std::move(m));
  if (auto n = r.optional("dtypes")) read_dtypes(reader(file, n, "dtypes"), m.dtypes);
  if (auto n = r.optional("accounting")) read_accounting(reader(file, n, "accounting"), m.accounting);
  if (auto n = r.optional("vision")) {
    m.vision = read_vision(reader(file, n, "vision"));
    if (m.vision.adapter.back() != m.d_model)
      r.fail(n["adapter"], fmt::format("'vision.adapter' must end at the text model's d_model ({}), got {}",
                                       m.d_model, m.vision.adapter.back()));
  }
  r.finish();
  if (auto v = check(m))
    r.fail(root, fmt::format("'{}': {}", v->key, v->message));  // rules not tied to one key above
  return m;
}

}  // namespace

model_spec parse_model(std::string_view yaml, const std::string& name) {
  return read_model(io_detail::parse(yaml, name), name);
}

std::string read_text(const std::string& path) { return io_detail::slurp(path); }

model_spec load_model(const std::string& path) {
  const std::string text = io_detail::slurp(path);
  if (!is_hf_config(text)) return parse_model(text, path);
  // Errors are found in the config itself; the spec it becomes is read as any other.
  model_spec m = parse_model(import_hf(text, path), path + " (as imported)");
  m.file = path;
  return m;
}

}  // namespace roofline
