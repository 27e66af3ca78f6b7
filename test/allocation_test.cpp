// Estimating totals allocates nothing, so that fits and sweeps can call it millions of times.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "helpers.hpp"
#include "roofline/estimate/estimate.hpp"
#include "roofline/io/io.hpp"

namespace {
std::atomic<long> allocations{0};
}

// Counts every allocation of this test program (replaceable global operator new).
void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

TEST_CASE("an estimate of totals allocates no memory") {
  using namespace roofline;
  const hardware hw = test::h100_calibrated();
  for (const char* name : {"xlstm_7b", "llama3_8b"}) {
    CAPTURE(name);
    const model_spec m = load_model(test::source_dir + "/model_specs/" + name + ".yaml");
    double sink = 0;
    const long before = allocations.load();
    for (int batch = 1; batch <= 64; batch *= 2)
      for (overlap o : all_overlaps)
        sink += estimate(m, hw, {.batch = batch, .prefill = 4096, .generate = 100}, o).ttft.value();
    const long after = allocations.load();
    CHECK(after - before == 0);
    CHECK(sink > 0);
  }
}
