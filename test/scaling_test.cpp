// scaling: training FLOPs, the parametric loss, power laws, and the frontier, against hand values.
#include <doctest/doctest.h>

#include "helpers.hpp"
#include "roofline/io/io.hpp"
#include "roofline/scaling/scaling.hpp"

using namespace roofline;

namespace {

template <class Fit>
const Fit& find(const std::vector<Fit>& fits, const std::string& family, int context) {
  for (const Fit& f : fits)
    if (f.family == family && f.context == context) return f;
  FAIL("no fit for " << family << " at " << context);
  return fits.front();
}

}  // namespace

TEST_CASE("the compute-optimal budget of a 400M model from the power laws at context 8192") {
  const auto fits = load_isoflop_fits(test::source_dir + "/scaling/isoflop_fits.yaml");
  REQUIRE(fits.size() == 6);
  SUBCASE("Transformer: 3.61e19 FLOPs and 11.6B tokens") {
    // C = (4e8 / 0.002281)^(1 / 0.5749) = exp(25.890 / 0.5749) = 3.61e19; D = 58.46 C^0.4243
    const isoflop_fit& t = find(fits, "transformer", 8192);
    const double c = t.flops_for_params(4e8);
    CHECK(c == doctest::Approx(3.61e19).epsilon(0.01));
    CHECK(t.tokens(c) == doctest::Approx(11.6e9).epsilon(0.01));
    CHECK(t.params(c) == doctest::Approx(4e8).epsilon(1e-9));
  }
  SUBCASE("xLSTM: 1.68e19 FLOPs and 8.15B tokens") {
    const isoflop_fit& x = find(fits, "xlstm", 8192);
    const double c = x.flops_for_params(4e8);
    CHECK(c == doctest::Approx(1.68e19).epsilon(0.01));
    CHECK(x.tokens(c) == doctest::Approx(8.15e9).epsilon(0.01));
  }
}

TEST_CASE("the parametric loss at hand-computed points") {
  const auto fits = load_loss_fits(test::source_dir + "/scaling/loss_fits.yaml");
  REQUIRE(fits.size() == 4);
  const loss_fit& t = find(fits, "transformer", 8192);
  const loss_fit& x = find(fits, "xlstm", 8192);
  REQUIRE(t.name == "default");
  // N = 1e9, D = 2e10. Transformer: e^14.45 N^-0.645 = 2.95498, e^16.33 D^-0.626 = 4.40133,
  // e^0.090 + (7.35631)^0.253 = 2.750955
  CHECK(t.loss(1e9, 2e10) == doctest::Approx(2.750955).epsilon(1e-6));
  // xLSTM: e^15.46 N^-0.706 = 2.29188, e^16.53 D^-0.653 = 2.83345; e^0.177 + 5.12533^0.258 = 2.718064
  CHECK(x.loss(1e9, 2e10) == doctest::Approx(2.718064).epsilon(1e-6));
  SUBCASE("tokens_for inverts the loss in D") {
    const auto d = x.tokens_for(1e9, 2.7);
    REQUIRE(d.has_value());
    CHECK(x.loss(1e9, *d) == doctest::Approx(2.7).epsilon(1e-9));
    CHECK_FALSE(x.tokens_for(1e9, 1.0).has_value());  // below E + (A N^-alpha)^gamma: out of reach
  }
}

TEST_CASE("training FLOPs per token of a tiny Transformer, worked out by hand") {
  const model_spec m =
      test::stack("tiny", 8, 32, attention_mixer{.n_heads = 2, .n_kv_heads = 1, .head_dim = 4},
                  mlp_channel{.ffn_dim = 16}, 1);
  // T = 4 tokens: q,k,v 2 x 4 x 8 x 16 = 1024; attention 0.65 x 16 x 2 x 2 x 10.5 = 436.8;
  // out 2 x 4 x 8 x 8 = 512; gate and up 4 x 4 x 8 x 16 = 2048; down 1024 -> 5044.8 / 4 = 1261.2
  // per token, + logits 2 x 8 x 32 = 512 -> forward 1773.2; training 3 x 1773.2 = 5319.6
  CHECK(forward_flops_per_token(m, 4) == doctest::Approx(1773.2).epsilon(1e-12));
  CHECK(training_flops_per_token(m, 4) == doctest::Approx(5319.6).epsilon(1e-12));
}

TEST_CASE("training FLOPs of Llama-2-7B are 6 x its linear weights per token plus attention") {
  const model_spec m = load_model(test::source_dir + "/model_specs/llama2_7b.yaml");
  // Linear layers: 6 x their weights, which are N less the embedding table (32000 x 4096) and
  // the norm weights (2 x 32 layers + 1 final, x 4096): 6 x 6,607,077,376 = 3.9642e10.
  // Attention at T = 4096: 3 x 32 layers x 0.65 x T x 2 H (d_qk + d_v + 5/2) = 4.23e9 per token.
  const double linear = 6 * (6'738'415'616.0 - 32000.0 * 4096 - 65.0 * 4096);
  const double attention = 3 * 32 * 0.65 * 4096 * 2 * 32 * 258.5;
  CHECK(training_flops_per_token(m, 4096) == doctest::Approx(linear + attention).epsilon(1e-9));
}

TEST_CASE("a Pareto frontier keeps the models no other beats in both time and loss") {
  const model_spec m{.name = "x"};
  std::vector<served_model> ms;
  for (auto [t, loss] : {std::pair{3.0, 2.7}, {1.0, 3.0}, {4.0, 2.0}, {2.0, 2.5}}) {
    served_model s{{m, 0, 0, 0, loss}, {}};
    s.inference.ttft = t * second;
    ms.push_back(s);
  }
  const auto front = pareto_front(ms, [](const served_model& s) { return s.inference.ttft.value(); });
  REQUIRE(front.size() == 3);  // (1, 3.0), (2, 2.5), (4, 2.0); (3, 2.7) is beaten by (2, 2.5)
  CHECK(front[0].trained.loss == 3.0);
  CHECK(front[1].trained.loss == 2.5);
  CHECK(front[2].trained.loss == 2.0);
}

TEST_CASE("the shape ladder has the documented shapes") {
  const ladder_dims x = dims(ladder_shape(architecture::xlstm, 4096));  // xLSTM-7B's width
  CHECK(x.n_layers == 32);
  CHECK(x.n_heads == 8);
  CHECK(x.ffn_dim == 10944);  // 8/3 x 4096 = 10922.7, up to a multiple of 64
  const model_spec t = ladder_shape(architecture::transformer, 4096);
  CHECK(dims(t).ffn_dim == 11008);  // Llama-2-7B's: up to a multiple of 256
  CHECK(std::get<attention_mixer>(t.kinds[0].mixer).head_dim == 128);
  CHECK(parameters(t) == doctest::Approx(6.738e9 + 2 * 4096.0 * (50304 - 32000)).epsilon(1e-3));
}

TEST_CASE("the cheapest model for a target loss shrinks as it serves more tokens") {
  const auto fits = load_loss_fits(test::source_dir + "/scaling/loss_fits.yaml");
  const loss_fit& x = find(fits, "xlstm", 8192);
  const auto shapes = ladder(architecture::xlstm);
  const auto train_only = cheapest_for_loss(shapes, x, 2.5, 8192, 0);
  const auto served = cheapest_for_loss(shapes, x, 2.5, 8192, 1e13);
  REQUIRE(train_only.has_value());
  REQUIRE(served.has_value());
  CHECK(train_only->inference_flops == 0);
  CHECK(x.loss(train_only->trained.params, train_only->trained.tokens) == doctest::Approx(2.5).epsilon(1e-9));
  // serving 1e13 tokens makes every parameter cost more: a smaller model trained longer wins
  CHECK(served->trained.params < train_only->trained.params);
  CHECK(served->trained.tokens > train_only->trained.tokens);
  CHECK_FALSE(cheapest_for_loss(shapes, x, 1.0, 8192, 0).has_value());  // below the fit's floor
}
