/// Fits of scaling laws that io reads (scaling/*.yaml) and scaling/ uses: the parametric loss
/// L(N, D) and IsoFLOP power laws. Data only, so that io needs nothing of the estimator.
#pragma once

#include <cmath>
#include <optional>
#include <string>

namespace roofline {

/// L(N, D) = E + (A N^-alpha + B D^-beta)^gamma, N parameters, D training tokens.
struct loss_fit {
  std::string family;  ///< transformer | xlstm
  int context = 0;
  std::string name;  ///< which fit of that family and context
  std::string source;
  double log_a = 0, log_b = 0, log_e = 0, alpha = 0, beta = 0, gamma = 0;

  double loss(double n, double d) const {
    return std::exp(log_e) +
           std::pow(std::exp(log_a) * std::pow(n, -alpha) + std::exp(log_b) * std::pow(d, -beta), gamma);
  }
  /// Tokens D at which L(N, D) = target: (((target - E)^(1/gamma) - A N^-alpha) / B)^(-1/beta);
  /// nullopt when N alone cannot reach the target.
  std::optional<double> tokens_for(double n, double target) const {
    const double rest = std::pow(target - std::exp(log_e), 1 / gamma) - std::exp(log_a) * std::pow(n, -alpha);
    if (!(target > std::exp(log_e)) || !(rest > 0)) return std::nullopt;
    return std::pow(rest / std::exp(log_b), -1 / beta);
  }
};

/// Compute-optimal power laws N*(C) = a C^b, D*(C) = c C^d of an IsoFLOP analysis.
struct isoflop_fit {
  std::string family;
  int context = 0;
  std::string source;
  double params_coefficient = 0, params_exponent = 0, tokens_coefficient = 0, tokens_exponent = 0;

  double params(double flops) const { return params_coefficient * std::pow(flops, params_exponent); }
  double tokens(double flops) const { return tokens_coefficient * std::pow(flops, tokens_exponent); }
  /// The budget whose optimal size is N: C = (N / a)^(1/b).
  double flops_for_params(double n) const { return std::pow(n / params_coefficient, 1 / params_exponent); }
};

}  // namespace roofline
