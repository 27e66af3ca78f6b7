// The batched evaluator (sweep.hpp): columns' ops folded into constants, lanes of batches timed
// by the vectorised kernel (sweep_simd.cpp), threads over columns.
#include "roofline/sweep/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "roofline/sweep/sweep_plan.hpp"

namespace roofline {

namespace {

using batched::affine;

/// What a column is: the workload without its batch.
struct column_key {
  std::int64_t prefill, generate;
  layout L;
  bool operator==(const column_key&) const = default;
};
struct column_hash {
  std::size_t operator()(const column_key& k) const {
    std::size_t h = std::hash<std::int64_t>{}(k.prefill) * 1000003u ^ std::hash<std::int64_t>{}(k.generate);
    for (int v : {k.L.tp, k.L.pp, k.L.ep, k.L.dp, k.L.microbatches, int(k.L.sequence_parallel)})
      h = h * 31 + std::size_t(v);
    return h;
  }
};
column_key key_of(const workload& w) { return {w.prefill, w.generate, w.parallel}; }

/// One stage's passes and memory, folded.
struct stage_plan {
  batched::pass_plan prefill, decode;
  /// memory of one GPU of the stage: at0 + per_batch x (its dp rank's sequences) + per_micro y
  /// (a prefill micro-batch's); one GPU: at0 + per_batch B
  double mem0 = 0, mem_batch = 0, mem_micro = 0;
};

struct column_plan {
  bool folded = false;  ///< false: estimate() per workload
  std::vector<stage_plan> stages;
};

// Probes: the counts are built at batches 1 and 2 (the affine form) and checked at the others.
constexpr std::array<double, 3> checks{3, 1000, 1 << 20};
constexpr double tolerance = 1e-13;

bool near(double value, double predicted) {
  return std::abs(value - predicted) <= tolerance * std::max(std::abs(value), std::abs(predicted));
}
affine fit(double f1, double f2) { return {2 * f1 - f2, f2 - f1}; }
double at(const affine& a, double x) { return a.at0 + a.per * x; }

/// The ops of a pass at batch x (as for_each_op emits them for one GPU of a stage).
std::vector<op> ops_at(const model_spec& m, phase ph, double x, const workload& w, const rank_view& r) {
  const pass p = ph == phase::prefill ? pass{phase::prefill, x, double(w.prefill), 0, 1, 1, double(w.images)}
                                      : pass{phase::decode, x, 1, double(w.prefill), double(w.generate)};
  std::vector<op> ops;
  for_each_op(m, p, r, [&](const op& o) { ops.push_back(o); });
  return ops;
}

/// Whether two ops are the same op at two batches: all but the batch-dependent counts agree.
bool same_op(const op& a, const op& b) {
  return a.name == b.name && a.cls == b.cls && a.compute == b.compute && a.layers.kind == b.layers.kind &&
         a.layers.count == b.layers.count && a.gemm.n == b.gemm.n && a.gemm.k == b.gemm.k &&
         a.gemm.groups == b.gemm.groups && a.item_steps == b.item_steps && a.item_size == b.item_size &&
         a.split_steps == b.split_steps && a.comm.collective == b.comm.collective &&
         a.comm.group == b.comm.group && a.comm.span == b.comm.span;
}

/// The batch-dependent counts of an op, in a fixed order.
std::array<double, 5> counts_of(const op& o) {
  return {o.work.value(), o.moved.total().value(), o.gemm.m, o.parallel, o.comm.message.value()};
}

/// Folds a pass, or returns false if its counts are not affine in the batch.
bool fold_pass(const model_spec& m, const hardware& hw, phase ph, const workload& w, const rank_view& r,
               batched::pass_plan& out) {
  const std::vector<op> one = ops_at(m, ph, 1, w, r), two = ops_at(m, ph, 2, w, r);
  std::vector<std::vector<op>> probes;
  for (double x : checks) probes.push_back(ops_at(m, ph, x, w, r));
  for (const auto& p : probes)
    if (p.size() != one.size()) return false;
  if (two.size() != one.size()) return false;
  out = {};
  out.tokens = ph == phase::prefill ? double(w.prefill) : 1;
  for (std::size_t i = 0; i < one.size(); ++i) {
    const op& o = one[i];
    if (!same_op(o, two[i])) return false;
    const auto c1 = counts_of(o), c2 = counts_of(two[i]);
    std::array<affine, 5> a;
    for (std::size_t k = 0; k < a.size(); ++k) a[k] = fit(c1[k], c2[k]);
    for (std::size_t j = 0; j < checks.size(); ++j) {
      if (!same_op(o, probes[j][i])) return false;
      const auto cj = counts_of(probes[j][i]);
      for (std::size_t k = 0; k < a.size(); ++k)
        if (!near(cj[k], at(a[k], checks[j]))) return false;
    }
    const double n = o.layers.count;
    if (o.cls == op_class::communication) {
      const link* l = link_of(o.comm, hw);
      const collective_cost cost = cost_of(o.comm.collective, o.comm.group);
      batched::comm_plan c{.layers = n, .message = a[4]};
      if (l && l->bandwidth.value() > 0) {
        const collective_timing& t = hw.timing.collectives;
        c.fixed = (t.overhead + cost.steps * l->latency).value();
        c.volume = cost.volume;
        c.rate = (l->bandwidth * t.of(o.comm.collective)).value();
      }
      out.comms.push_back(c);
      continue;
    }
    batched::op_plan p{.layers = n, .work = a[0], .bytes = a[1], .rows = a[2], .items = a[3]};
    p.gemm_n = o.gemm.n;
    p.gemm_k = o.gemm.k;
    p.groups = o.gemm.groups;
    p.steps = o.item_steps;
    p.item_size = o.item_size;
    p.peak = peak(hw, o.cls, o.compute).value();
    p.e = hw.timing.of(o);
    p.tiles = o.cls == op_class::matrix && hw.timing.gemm_tile_m > 0 && hw.timing.gemm_tile_n > 0;
    p.has_items = has_work_items(o.cls);
    p.split = o.split_steps;
    p.zero_work = c1[0] == 0 && c2[0] == 0;
    p.simple = batched::simple(p);
    p.steps_term = p.has_items && p.e.per_step.value() != 0;
    if (p.simple) {  // time_op()'s divisors e_c peak and e_m bandwidth, occupancy and utilisation 1
      const double inv_c = n / (p.peak * p.e.compute), inv_m = n / (hw.bandwidth.value() * p.e.memory);
      p.c0 = p.work.at0 * inv_c;
      p.c1 = p.work.per * inv_c;
      p.m0 = p.bytes.at0 * inv_m;
      p.m1 = p.bytes.per * inv_m;
      p.extra = p.e.overhead.value() * n;
    }
    out.ops.push_back(p);
  }
  return true;
}

}  // namespace

void batched::sum_simple_ops(pass_plan& pp, overlap policy) {
  if (policy == overlap::smooth) return;
  std::vector<op_plan> simple, rest;
  for (const op_plan& o : pp.ops) (o.simple ? simple : rest).push_back(o);
  if (simple.empty()) return;
  piecewise pw;
  for (const op_plan& o : simple) {
    pw.extra += o.extra;
    if (o.c1 == o.m1) continue;
    const double x = (o.m0 - o.c0) / (o.c1 - o.m1);  // where t_c = t_m
    if (x > 0 && std::isfinite(x)) pw.breaks.push_back(x);
  }
  std::sort(pw.breaks.begin(), pw.breaks.end());
  pw.breaks.erase(std::unique(pw.breaks.begin(), pw.breaks.end()), pw.breaks.end());
  const std::size_t segments = pw.breaks.size() + 1;
  std::vector<double> t0s, t1s, c0s, c1s;
  for (std::size_t k = 0; k < segments; ++k) {
    // a point inside the segment decides which side of its break each op is on
    const double lo = k == 0 ? 0 : pw.breaks[k - 1], hi = k + 1 < segments ? pw.breaks[k] : 2 * lo + 2;
    const double x = 0.5 * (lo + hi);
    double t0 = 0, t1 = 0, c0 = 0, c1 = 0;
    for (const op_plan& o : simple) {
      const bool compute = (o.zero_work ? 0.0 : o.c0 + o.c1 * x) >= o.m0 + o.m1 * x;  // time_op(): t_c >= t_m
      const double a = policy == overlap::none ? o.c0 + o.m0 : compute ? o.c0 : o.m0;
      const double b = policy == overlap::none ? o.c1 + o.m1 : compute ? o.c1 : o.m1;
      t0 += a;
      t1 += b;
      if (compute) c0 += a, c1 += b;
    }
    t0s.push_back(t0);
    t1s.push_back(t1);
    c0s.push_back(c0);
    c1s.push_back(c1);
  }
  pw.t0 = t0s[0], pw.t1 = t1s[0], pw.c0 = c0s[0], pw.c1 = c1s[0];
  for (std::size_t k = 1; k < segments; ++k) {
    pw.dt0.push_back(t0s[k] - t0s[k - 1]);
    pw.dt1.push_back(t1s[k] - t1s[k - 1]);
    pw.dc0.push_back(c0s[k] - c0s[k - 1]);
    pw.dc1.push_back(c1s[k] - c1s[k - 1]);
  }
  pp.ops = std::move(rest);
  pp.summed = std::move(pw);
}

namespace {

bool has_moe(const model_spec& m) {
  return std::any_of(m.kinds.begin(), m.kinds.end(),
                     [](const layer_kind& k) { return std::holds_alternative<moe_channel>(k.channel); });
}

/// Folds the memory of a workload's GPUs: one GPU, memory_footprint in B; several, each
/// stage's rank_footprint in its rank's sequences and its micro-batch.
bool fold_memory(const model_spec& m, const workload& w, const stage_span& span, stage_plan& s) {
  const auto total = [](const footprint& f) { return f.total().value(); };
  if (w.parallel.single()) {
    const auto mem = [&](double b) {
      workload v = w;
      v.batch = std::int64_t(b);
      return total(memory_footprint(m, v));
    };
    const affine a = fit(mem(1), mem(2));
    for (double x : checks)
      if (!near(mem(x), at(a, x))) return false;
    s.mem0 = a.at0;
    s.mem_batch = a.per;
    return true;
  }
  const auto mem = [&](double b, double micro) { return total(rank_footprint(m, w, span, b, micro)); };
  const double f11 = mem(1, 1), f21 = mem(2, 1), f12 = mem(1, 2);
  s.mem_batch = f21 - f11;
  s.mem_micro = f12 - f11;
  s.mem0 = f11 - s.mem_batch - s.mem_micro;
  for (double x : checks)
    if (!near(mem(x, 7), s.mem0 + s.mem_batch * x + s.mem_micro * 7)) return false;
  return true;
}

/// Lanes padded to whole vectors of the widest target.
std::size_t padded_size(std::size_t n) {
  return (n + batched::lane_multiple - 1) / batched::lane_multiple * batched::lane_multiple;
}

/// Per-thread buffers of the lanes of one block.
struct scratch {
  std::vector<double> x_prefill, x_decode, batch, figures;
  std::vector<std::vector<double>> pre, dec;  // per stage: time, overhead, compute, memory, comm (5 n each)
  std::vector<parallel_plan> plans;
  std::vector<phase_estimate> lane_pre, lane_dec;  // one lane's stages
  std::size_t folded = 0, scalar = 0;              ///< estimates made by each path in this call
  void size(std::size_t n, std::size_t stages) {
    x_prefill.resize(n);
    x_decode.resize(n);
    batch.resize(n);
    plans.resize(n);
    pre.resize(stages);
    dec.resize(stages);
    for (std::size_t s = 0; s < stages; ++s) {
      pre[s].resize(5 * n);
      dec[s].resize(5 * n);
    }
  }
};

batched::lane_sums sums_of(std::vector<double>& v, std::size_t n) {
  return {v.data(), v.data() + n, v.data() + 2 * n, v.data() + 3 * n, v.data() + 4 * n};
}
/// Lane j of a pass's sums, as the phase_estimate time_ops() would have made (its times).
phase_estimate lane(const std::vector<double>& v, std::size_t n, std::size_t j) {
  phase_estimate e{};
  e.time = v[j] * second;
  e.overhead = v[n + j] * second;
  e.compute_bound_time = v[2 * n + j] * second;
  e.memory_bound_time = v[3 * n + j] * second;
  e.communication = v[4 * n + j] * second;
  return e;
}

/// Worker threads kept between calls: each call hands them one job and waits for them. A
/// worker between jobs, and the caller waiting for the workers, spin for up to 1 ms (a
/// sweep's calls follow each other closely) before they sleep on a condition variable.
class pool {
 public:
  ~pool() { resize(0); }
  /// Runs job() on `threads` threads (this one among them) and waits for all.
  void run(std::size_t threads, const std::function<void()>& job) {
    if (threads <= 1) {
      job();
      return;
    }
    if (workers_.size() != threads - 1) resize(threads - 1);
    {
      std::lock_guard g(m_);
      job_ = &job;
      running_.store(workers_.size());
      generation_.fetch_add(1);
    }
    start_.notify_all();
    job();
    spin([&] { return running_.load() == 0; });
    std::unique_lock lk(m_);
    done_.wait(lk, [&] { return running_.load() == 0; });
  }

 private:
  /// Waits up to 1 ms for ready() to hold, yielding.
  template <class Ready>
  static void spin(Ready&& ready) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(1000);
    while (!ready() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  }
  void resize(std::size_t n) {
    {
      std::lock_guard g(m_);
      stop_.store(true);
    }
    start_.notify_all();
    workers_.clear();  // joins
    stop_.store(false);
    for (std::size_t i = 0; i < n; ++i)
      workers_.emplace_back([this, seen = generation_.load()] { loop(seen); });
  }
  /// seen: the job generation when the worker was made (it waits for the next one)
  void loop(std::size_t seen) {
    for (;;) {
      spin([&] { return stop_.load() || generation_.load() != seen; });
      const std::function<void()>* job = nullptr;
      {
        std::unique_lock lk(m_);
        start_.wait(lk, [&] { return stop_.load() || generation_.load() != seen; });
        if (stop_.load()) return;
        seen = generation_.load();
        job = job_;
      }
      (*job)();
      if (running_.fetch_sub(1) == 1) {
        std::lock_guard g(m_);  // the caller checks running_ under the lock: no lost wake-up
        done_.notify_one();
      }
    }
  }
  std::vector<std::jthread> workers_;
  std::mutex m_;
  std::condition_variable start_, done_;
  const std::function<void()>* job_ = nullptr;
  std::atomic<std::size_t> generation_{0}, running_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace

struct sweep_engine::impl {
  model_spec m;
  hardware hw;
  overlap pol;
  batched::machine mc;
  bool moe;
  std::mutex lock;
  std::unordered_map<column_key, std::unique_ptr<column_plan>, column_hash> plans;
  std::atomic<std::size_t> folded{0}, scalar{0};
  pool workers;

  impl(const model_spec& m_, const hardware& hw_, std::optional<overlap> policy)
      : m(m_), hw(hw_), pol(policy.value_or(hw_.timing.overlap)), moe(has_moe(m_)) {
    mc.units = hw.compute_units;
    mc.tile_m = hw.timing.gemm_tile_m;
    mc.tile_n = hw.timing.gemm_tile_n;
    mc.bandwidth = hw.bandwidth.value();
    mc.waves = hw.timing.gemm_waves;
    mc.policy = pol;
    mc.p = hw.timing.smooth_exponent;
    mc.comm_overlap = hw.timing.collectives.overlap;
    mc.per_forward = hw.timing.overhead_per_forward.value();
    mc.per_batched = hw.timing.overhead_per_batched_forward.value();
    // (lo / hi)^p < 1e-16 where lo / hi < e^(-36.8 / p): combine() skips its exponentials there
    mc.tiny_ratio = std::exp(-36.8 / mc.p);
  }

  /// The plan of a workload's column, built (and its workload checked as estimate() checks it)
  /// the first time.
  const column_plan& plan(const workload& w) {
    const column_key key = key_of(w);
    {
      std::lock_guard g(lock);
      if (auto it = plans.find(key); it != plans.end()) return *it->second;
    }
    workload probe = w;
    probe.batch = 1;
    check_supported(m, hw, probe);
    check_layout(m, hw, probe);
    auto c = std::make_unique<column_plan>();
    const layout& L = w.parallel;
    // the experts see every dp rank's tokens: not one pass batch; a kernel table's times are not
    // linear in the batch as the folded terms are: estimate() per workload
    c->folded = !(moe && L.dp > 1) && !hw.timing.kernels;
    for (int s = 0; s < L.pp && c->folded; ++s) {
      stage_plan st;
      const stage_span span = stage_of(m, s, L.pp);
      const rank_view r = L.single() ? rank_view{} : rank_view{L, span, 0, false};
      c->folded = fold_pass(m, hw, phase::prefill, w, r, st.prefill) &&
                  fold_pass(m, hw, phase::decode, w, r, st.decode) && fold_memory(m, w, span, st);
      batched::sum_simple_ops(st.prefill, pol);
      batched::sum_simple_ops(st.decode, pol);
      c->stages.push_back(std::move(st));
    }
    std::lock_guard g(lock);  // another thread may have built it meanwhile: the first one stays
    return *plans.emplace(key, std::move(c)).first->second;
  }

  /// Estimates of one column (its plan c, its workload w but for the batch) at the n batches
  /// `batches` (each from 1 to max_tokens), into out; `padded`: the batches as doubles, padded
  /// to a multiple of lane_multiple with the last (made here when null).
  void run(const column_plan& c, const workload& w, const std::int64_t* batches, const double* padded_batches,
           std::size_t n, estimate_point* out, scratch& s) {
    if (!c.folded) {
      workload v = w;
      for (std::size_t j = 0; j < n; ++j) {
        v.batch = batches[j];
        out[j] = point_of(estimate(m, hw, v, pol));
      }
      s.scalar += n;
      return;
    }
    s.folded += n;
    const layout& L = w.parallel;
    const std::size_t padded = padded_size(n);
    const double g = double(w.generate), capacity = hw.capacity.value();
    if (L.single()) {  // estimate(): one pass each, memory_footprint
      if (!padded_batches) {
        s.batch.resize(padded);
        for (std::size_t j = 0; j < padded; ++j)
          s.batch[j] = double(batches[std::min(j, n - 1)]);  // padding: the last
        padded_batches = s.batch.data();
      }
      s.figures.resize(8 * padded);
      double* f = s.figures.data();
      const stage_plan& st = c.stages[0];
      batched::eval_single(mc, st.prefill, st.decode, padded_batches, padded, g, st.mem0, st.mem_batch,
                           capacity, f);
      for (std::size_t j = 0; j < n; ++j)
        out[j] = {f[j],
                  f[padded + j],
                  f[2 * padded + j],
                  f[3 * padded + j],
                  f[4 * padded + j],
                  f[5 * padded + j] != 0,
                  bound(int(f[6 * padded + j])),
                  bound(int(f[7 * padded + j]))};
      return;
    }
    s.size(padded, c.stages.size());
    workload v = w;
    for (std::size_t j = 0; j < padded; ++j) {
      v.batch = batches[std::min(j, n - 1)];  // padding lanes repeat the last
      s.batch[j] = double(v.batch);
      s.plans[j] = plan_of(v);
      s.x_prefill[j] = s.plans[j].micro_batch;
      s.x_decode[j] = s.plans[j].group_batch;
    }
    for (std::size_t st = 0; st < c.stages.size(); ++st) {
      batched::eval_pass(mc, c.stages[st].prefill, s.x_prefill.data(), padded, sums_of(s.pre[st], padded));
      batched::eval_pass(mc, c.stages[st].decode, s.x_decode.data(), padded, sums_of(s.dec[st], padded));
    }
    const std::size_t stages = c.stages.size();
    s.lane_pre.resize(stages);
    s.lane_dec.resize(stages);
    for (std::size_t j = 0; j < n; ++j) {  // estimate_parallel(): the critical path through the stages
      const double b = s.batch[j];
      const parallel_plan& pl = s.plans[j];
      double memory = 0;
      bool fits = true;
      for (std::size_t st = 0; st < stages; ++st) {
        s.lane_pre[st] = lane(s.pre[st], padded, j);
        s.lane_dec[st] = lane(s.dec[st], padded, j);
        const stage_plan& sg = c.stages[st];
        const double mem = sg.mem0 + sg.mem_batch * pl.rank_batch + sg.mem_micro * pl.micro_batch;
        fits = fits && mem <= capacity;
        memory = std::max(memory, mem);
      }
      const pipeline_times t = critical_path(s.lane_pre, s.lane_dec, pl.microbatches, pl.groups);
      const double ttft = t.prefill.time.value(), step = t.decode.time.value();
      out[j] = {ttft,   step, b / step,        b * g / (ttft + g * step),
                memory, fits, t.prefill.bound, t.decode.bound};
    }
  }

  /// Runs tasks 0 .. count-1 (task(i, scratch&)) on `threads` threads, `chunk` tasks at a
  /// time; rethrows the first error.
  template <class Task>
  void parallel(std::size_t count, int threads, std::size_t chunk, Task&& task) {
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_lock;
    const std::function<void()> work = [&] {
      thread_local scratch s;
      s.folded = s.scalar = 0;
      for (std::size_t i; (i = next.fetch_add(chunk)) < count;) {
        try {
          for (std::size_t t = i; t < std::min(count, i + chunk); ++t) task(t, s);
        } catch (...) {
          std::lock_guard g(error_lock);
          if (!error) error = std::current_exception();
          next = count;
        }
      }
      folded += s.folded;
      scalar += s.scalar;
    };
    const std::size_t useful = (count + chunk - 1) / chunk;
    workers.run(std::max<std::size_t>(1, std::min<std::size_t>(std::size_t(std::max(threads, 1)), useful)),
                work);
    if (error) std::rethrow_exception(error);
  }
};

sweep_engine::sweep_engine(const model_spec& m, const hardware& hw, std::optional<overlap> policy)
    : p_(std::make_unique<impl>(m, hw, policy)) {}
sweep_engine::~sweep_engine() = default;

overlap sweep_engine::policy() const { return p_->pol; }

sweep_engine::counts sweep_engine::made() const { return {p_->folded.load(), p_->scalar.load()}; }

namespace {
/// Lanes of one task: at most this many (a block of a long column).
constexpr std::size_t block = 512;
}  // namespace

void sweep_engine::estimate_many(std::span<const workload> in, std::span<estimate_point> out, int threads) {
  if (out.size() != in.size())
    throw std::invalid_argument("estimate_many: out must have as many points as in");
  // runs of consecutive workloads of one column, cut into blocks
  std::vector<std::pair<std::size_t, std::size_t>> tasks;
  for (std::size_t i = 0; i < in.size();) {
    std::size_t j = i + 1;
    const column_key k = key_of(in[i]);
    while (j < in.size() && j - i < block && key_of(in[j]) == k) ++j;
    tasks.emplace_back(i, j - i);
    i = j;
  }
  p_->parallel(tasks.size(), threads, 1, [&](std::size_t t, scratch& s) {
    const auto [first, n] = tasks[t];
    std::vector<std::int64_t> batches(n);
    for (std::size_t j = 0; j < n; ++j) {
      if (in[first + j].batch < 1 || in[first + j].batch > max_tokens)
        check_supported(p_->m, p_->hw, in[first + j]);
      batches[j] = in[first + j].batch;
    }
    p_->run(p_->plan(in[first]), in[first], batches.data(), nullptr, n, out.data() + first, s);
  });
}

void sweep_engine::check(const sweep_grid& g) const {
  if (g.size() == 0) return;
  const auto [lo, hi] = std::minmax_element(g.batch.begin(), g.batch.end());
  for (std::int64_t p : g.prefill)
    for (std::int64_t n : g.generate)
      for (std::int64_t b : {*lo, *hi})
        check_supported(p_->m, p_->hw, {.batch = b, .prefill = p, .generate = n});
  for (const layout& L : g.layouts) check_layout(p_->m, p_->hw, {.parallel = L});
}

void sweep_engine::evaluate(const sweep_grid& g, std::size_t first, std::span<estimate_point> out,
                            int threads) {
  const std::size_t nb = g.batch.size(), columns = g.columns();
  if (nb == 0 || columns == 0 || first % nb != 0 || out.size() % nb != 0)
    throw std::invalid_argument("sweep_engine::evaluate: whole columns of the grid");
  for (std::int64_t b : g.batch)  // as estimate() checks a batch, with its message
    if (b < 1 || b > max_tokens)
      check_supported(p_->m, p_->hw, workload{.batch = b, .prefill = 1, .generate = 1});
  const std::size_t parts = (nb + block - 1) / block, count = out.size() / nb, base = first / nb;
  // the workloads and plans of the grid's columns, looked up once per call
  std::vector<workload> protos(columns);
  for (std::size_t c = 0; c < columns; ++c) protos[c] = g.at(c * nb);
  std::vector<std::atomic<const column_plan*>> plans(columns);
  // the batches of every column, as doubles padded to whole vectors, per block of lanes
  std::vector<std::vector<double>> padded(parts);
  for (std::size_t part = 0; part < parts; ++part) {
    const std::size_t begin = part * block, n = std::min(block, nb - begin);
    padded[part].resize(padded_size(n));
    for (std::size_t j = 0; j < padded[part].size(); ++j)
      padded[part][j] = double(g.batch[begin + std::min(j, n - 1)]);
  }
  // tasks of about 256 lanes at least: few atomic operations per estimate
  const std::size_t chunk = std::max<std::size_t>(1, 256 / nb);
  p_->parallel(count * parts, threads, chunk, [&](std::size_t t, scratch& s) {
    const std::size_t column = parts == 1 ? t : t / parts, part = parts == 1 ? 0 : t % parts;
    const std::size_t begin = part * block, n = std::min(block, nb - begin);
    const std::size_t c = (base + column) % columns;
    const column_plan* plan = plans[c].load(std::memory_order_acquire);
    if (!plan) {
      plan = &p_->plan(protos[c]);
      plans[c].store(plan, std::memory_order_release);
    }
    p_->run(*plan, protos[c], g.batch.data() + begin, padded[part].data(), n,
            out.data() + column * nb + begin, s);
  });
}

}  // namespace roofline
